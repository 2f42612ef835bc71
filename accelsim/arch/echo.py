"""``Architecture`` → plain data in the YAML schema, for reports (``summary.json`` echoes the
config) and for tools that edit a config in code (sweeps): ``architecture_from_yaml`` of
the result gives back the same levels, DRAM, compute units and energy entries. An unbounded
DRAM bandwidth stays ``math.inf`` (JSON writers need ``allow_nan`` or a substitute).
"""

from __future__ import annotations

from typing import Any

from accelsim.arch.schema import SCHEMA_VERSION
from accelsim.arch.spec import Architecture, SparseFeatures, StorageLevel, Tensor
from accelsim.energy.table import ACCESS_FIELDS, ComponentEnergy
from accelsim.sparsity.formats import OPTIONAL_PARAMETERS


def architecture_to_dict(arch: Architecture) -> dict[str, Any]:
    """The YAML form of ``arch``; the energy table as explicit components."""
    dram, *levels = arch.levels
    data: dict[str, Any] = {"version": SCHEMA_VERSION, "name": arch.name,
                            "clock_mhz": arch.clock_mhz}
    if arch.dataflow is not None:
        data["dataflow"] = arch.dataflow
    data["dram"] = {"name": dram.name, "word_bits": dram.word_bits,
                    "width_bits": dram.width_bits,
                    "bandwidth_bytes_per_cycle": arch.dram.bandwidth_bytes_per_cycle,
                    "latency_cycles": arch.dram.latency_cycles,
                    "burst_bytes": arch.dram.burst_bytes, **_sparse_keys(dram)}
    data["levels"] = [_level(level) for level in levels]
    data["compute"] = {"name": arch.compute.name, "macs_per_cycle": arch.compute.macs_per_cycle,
                       "word_bits": arch.compute.word_bits}
    if arch.compute.sparse:
        data["compute"]["sparse"] = _actions(arch.compute.sparse)
    if arch.energy is not None:
        data["energy"] = {"components": {entry.name: _component(entry)
                                         for entry in arch.energy.components}}
    return data


def _level(level: StorageLevel) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": level.name,
        "keeps": [tensor.value for tensor in Tensor if tensor in level.keeps],
        "word_bits": level.word_bits, "width_bits": level.width_bits, "depth": level.depth,
        "banks": level.banks,
        "fanout": {"x": level.fanout.x, "y": level.fanout.y},
    }
    if level.fanout.fill_drain_cycles:  # absent = 0, Timeloop's model
        data["fanout"]["fill_drain_cycles"] = level.fanout.fill_drain_cycles
    for key in ("read_bandwidth_words_per_cycle", "write_bandwidth_words_per_cycle"):
        if getattr(level, key) is not None:  # absent = unbounded
            data[key] = getattr(level, key)
    data.update(_sparse_keys(level))
    return data


def _sparse_keys(level: StorageLevel) -> dict[str, Any]:
    """``compression`` and ``sparse`` when the level has them (every width explicit)."""
    data: dict[str, Any] = {}
    if level.compression:
        data["compression"] = {
            tensor.value: {"format": spec.format.value, "value_bits": spec.value_bits,
                           **{name: getattr(spec, name) for name in OPTIONAL_PARAMETERS
                              if getattr(spec, name) is not None}}
            for tensor, spec in level.compression}
    if level.sparse:
        data["sparse"] = _actions(level.sparse)
    return data


def _actions(features: SparseFeatures) -> list[dict[str, Any]]:
    out = []
    for action in features.actions:
        entry: dict[str, Any] = {"kind": action.kind.value}
        if action.target is not None:
            entry["target"] = action.target.value
        entry["condition_on"] = [t.value for t in Tensor if t in action.condition_on]
        out.append(entry)
    return out


def _component(entry: ComponentEnergy) -> dict[str, Any]:
    data: dict[str, Any] = {"pj_per": "word" if entry.block_words == 1 else "block",
                            **entry.pj.nonzero()}
    if entry.per_tensor:
        data["per_tensor"] = {tensor.value: {key: getattr(energies, key) for key in ACCESS_FIELDS}
                              for tensor, energies in entry.per_tensor}
    return data
