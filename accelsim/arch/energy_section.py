"""The YAML ``energy:`` section → the ``EnergyTable`` of one architecture.

A preset's entries are per block (Accelergy's vector access); binding gives each entry its
level's block size (``width_bits / word_bits`` words), so that per-word counts are priced
as Timeloop prices them. Explicit entries say their unit with ``pj_per``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from accelsim.arch.spec import ComputeSpec, StorageLevel, Tensor
from accelsim.config.keys import did_you_mean
from accelsim.config.yaml_loader import YamlMap
from accelsim.energy.presets import EnergyPreset, energy_preset
from accelsim.energy.table import ACCESS_FIELDS, ActionEnergies, ComponentEnergy, EnergyTable
from accelsim.errors import ConfigError


def energy_table(values: Mapping[str, Any], node: YamlMap, levels: Sequence[StorageLevel],
                 compute: ComputeSpec) -> EnergyTable:
    """Build the table from the checked ``energy`` values; ``node`` is its raw YAML (for
    line numbers); every level and the compute units must get an entry."""
    preset = energy_preset(values["preset"]) if values["preset"] is not None else None
    explicit = values["components"] or {}
    if preset is None and not explicit:
        raise node.error(None, "expected a 'preset' or 'components' (or both), got neither",
                         "energy")
    blocks = {level.name: level.block_words for level in levels}
    known = [*blocks, compute.name]
    components_node = node.get("components")
    for name in explicit:
        if name not in known:
            raise ConfigError(f"no component {name!r} in this architecture"
                              f"{did_you_mean(name, known)}; expected one of {', '.join(known)}",
                              file=node.file, line=components_node.line_of(name),
                              key="energy.components")
    entries = []
    for name in known:
        block = blocks.get(name, 1)
        if name in explicit:
            entries.append(_explicit(name, explicit[name], block, components_node[name]))
        elif preset is not None and preset.entry(name) is not None:
            entries.append(ComponentEnergy(name, preset.entry(name), block))
        else:
            raise node.error(None, _missing(name, preset), "energy")
    return EnergyTable(_table_name(preset, explicit), tuple(entries),
                       _table_source(preset, explicit, node.file))


def _explicit(name: str, values: Mapping[str, Any], block: int, node: YamlMap
              ) -> ComponentEnergy:
    where = f"energy.components.{name}"
    gives_access = any(key in node for key in ACCESS_FIELDS) or bool(values["per_tensor"])
    if gives_access and values["pj_per"] is None:
        raise node.error(None, "missing required key 'pj_per' (block: per access of "
                               "width_bits, as Accelergy's ERT; word: per word)", where)
    base = ActionEnergies(**{key: values[key] for key in _energy_keys()})
    per_tensor = tuple(
        (Tensor(tensor), replace(base, **{key: override[key] for key in ACCESS_FIELDS
                                          if key in node["per_tensor"][tensor]}))
        for tensor, override in (values["per_tensor"] or {}).items())
    return ComponentEnergy(name, base, block if values["pj_per"] == "block" else 1, per_tensor)


def _energy_keys() -> tuple[str, ...]:
    return tuple(ActionEnergies.__dataclass_fields__)


def _missing(name: str, preset: EnergyPreset | None) -> str:
    if preset is None:
        return f"no energy for component {name!r}: add energy.components.{name}"
    return (f"no energy for component {name!r}: preset {preset.name!r} has "
            f"{', '.join(preset.names)}; add energy.components.{name}")


def _table_name(preset: EnergyPreset | None, explicit: Mapping[str, Any]) -> str:
    if preset is None:
        return "custom"
    return f"{preset.name}+custom" if explicit else preset.name


def _table_source(preset: EnergyPreset | None, explicit: Mapping[str, Any], file: str) -> str:
    parts = [preset.source] if preset is not None else []
    if explicit:
        parts.append(f"explicit entries ({', '.join(explicit)}) in {file}")
    return "; ".join(parts)
