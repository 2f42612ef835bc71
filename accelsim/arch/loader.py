"""Architecture YAML → a validated ``Architecture``.

The schema (``accelsim.arch.schema``) checks keys, types and ranges; this module adds the
checks that span keys (unique names, whole blocks, a level keeping nothing) and builds the
typed values. Every error is one line ``file:line: key: expected …, got …``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accelsim.arch.bundled import find_config
from accelsim.arch.energy_section import energy_table
from accelsim.arch.schema import TOP
from accelsim.arch.sparse_section import compression_specs, compute_sparse, level_sparse
from accelsim.arch.spec import (
    ALL_TENSORS,
    Architecture,
    ComputeSpec,
    DramSpec,
    Fanout,
    StorageLevel,
    Tensor,
)
from accelsim.config.schema import expect_mapping
from accelsim.config.yaml_loader import YamlMap, YamlSeq, from_plain, load_yaml
from accelsim.errors import ConfigError


def load_architecture(path_or_name: str | os.PathLike[str]) -> Architecture:
    """Load a YAML file, or a bundled config by bare name (``eyeriss_like``)."""
    location = find_config(path_or_name)
    return architecture_from_yaml(load_yaml(location.path), str(location.path))


def architecture_from_yaml(document: Any, file: str) -> Architecture:
    """Check a parsed YAML document (from ``load_yaml``, or plain dicts and lists such as
    ``architecture_to_dict`` gives) and build the architecture; ``file`` names it in errors."""
    if document is None:
        raise ConfigError("empty file: expected an architecture mapping with 'version: 1'",
                          file=file, line=1)
    node = expect_mapping(from_plain(document, file), "", file=file, line=1)
    values = TOP.read(node, "")
    word_bits = values["word_bits"]
    dram_level = _level(values["dram"], node["dram"], "dram", word_bits, keeps=ALL_TENSORS)
    levels_node: YamlSeq = node["levels"]
    if not values["levels"]:
        raise node.error("levels", "expected at least one on-chip level, got none", "")
    levels = [dram_level, *(
        _level(level_values, levels_node[index], f"levels[{index}]", word_bits)
        for index, level_values in enumerate(values["levels"]))]
    compute = _compute(values["compute"], node["compute"], word_bits)
    _check_unique_names(levels, compute, node)
    return Architecture(
        name=values["name"] or Path(file).name.removesuffix(".yaml"),
        clock_mhz=values["clock_mhz"],
        levels=tuple(levels),
        dram=DramSpec(values["dram"]["bandwidth_bytes_per_cycle"],
                      values["dram"]["latency_cycles"], values["dram"]["burst_bytes"]),
        compute=compute,
        energy=energy_table(values["energy"], node["energy"], levels, compute),
        dataflow=values["dataflow"],
        source=file,
    )


def _word_bits(values: Mapping[str, Any], node: YamlMap, where: str, default: int | None
               ) -> int:
    if values["word_bits"] is not None:
        return values["word_bits"]
    if default is None:
        raise node.error(None, "missing required key 'word_bits' (and no top-level "
                               "'word_bits' to default to)", where)
    return default


def _level(values: Mapping[str, Any], node: YamlMap, where: str, default_word_bits: int | None,
           *, keeps: frozenset[Tensor] | None = None) -> StorageLevel:
    """A storage level; ``keeps`` given means DRAM (its section has no level-only keys)."""
    word_bits = _word_bits(values, node, where, default_word_bits)
    width_bits = values["width_bits"] or word_bits
    if width_bits % word_bits:
        raise node.error("width_bits", f"expected a multiple of word_bits ({word_bits}), got "
                                       f"{width_bits}", where)
    if keeps is None and not values["keeps"]:
        raise node.error("keeps", "expected at least one of weights, inputs, outputs, got []",
                         where)
    fanout = values.get("fanout") or {"x": 1, "y": 1}
    kept = keeps if keeps is not None else frozenset(Tensor(t) for t in values["keeps"])
    depth = values.get("depth")
    if depth is not None and depth * width_bits // word_bits < len(kept):
        raise node.error("depth", f"expected room for one word of each of the {len(kept)} "
                                  f"tensors kept here (no tile fits otherwise), got depth "
                                  f"{depth} × {width_bits} bits = "
                                  f"{depth * width_bits // word_bits} words of {word_bits} bits",
                         where)
    return StorageLevel(
        name=values["name"],
        keeps=kept,
        word_bits=word_bits,
        width_bits=width_bits,
        depth=depth,
        banks=values.get("banks", 1),
        read_bandwidth_words_per_cycle=_finite_or_none(
            values.get("read_bandwidth_words_per_cycle")),
        write_bandwidth_words_per_cycle=_finite_or_none(
            values.get("write_bandwidth_words_per_cycle")),
        fanout=Fanout(fanout["x"], fanout["y"], fanout.get("fill_drain_cycles", 0)),
        is_dram=keeps is not None,
        compression=compression_specs(values["compression"], node, where, kept, word_bits,
                                      width_bits),
        sparse=level_sparse(values["sparse"], node, where, kept),
    )


def _finite_or_none(value: float | None) -> float | None:
    """``.inf`` and an absent bandwidth both mean unbounded: ``None`` in ``StorageLevel``."""
    return None if value is None or value == float("inf") else value


def _compute(values: Mapping[str, Any], node: YamlMap, default_word_bits: int | None
             ) -> ComputeSpec:
    return ComputeSpec(values["macs_per_cycle"],
                       _word_bits(values, node, "compute", default_word_bits), values["name"],
                       compute_sparse(values["sparse"], node, "compute"))


def _check_unique_names(levels: list[StorageLevel], compute: ComputeSpec, node: YamlMap
                        ) -> None:
    """Names key the energy table and the mapping: one component, one name."""
    owners = [("dram", levels[0].name, node["dram"])]
    owners += [(f"levels[{index}]", level.name, node["levels"][index])
               for index, level in enumerate(levels[1:])]
    owners.append(("compute", compute.name, node.get("compute")))
    seen: dict[str, str] = {}
    for place, name, raw in owners:
        if name in seen:
            raise raw.error("name", f"expected a name not used elsewhere, got {name!r} "
                                    f"(also the name of {seen[name]})", place)
        seen[name] = place
