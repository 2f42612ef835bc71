"""Reports of ``accelsim run``: the console table, ``layers.csv`` and ``summary.json``.

Files are written atomically (temp file + rename) and deterministically: the same run gives
the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import Any

from accelsim import __version__
from accelsim.arch.echo import architecture_to_dict
from accelsim.arch.spec import Tensor
from accelsim.atomic import write_text_atomic
from accelsim.mapping.model import Mapping
from accelsim.pipeline import LayerResult, RunResult, result_summary
from accelsim.report.table import render_table

_TENSORS = (Tensor.WEIGHTS, Tensor.INPUTS, Tensor.OUTPUTS)


def _components(result: RunResult) -> list[str]:
    """Energy components in architecture order (levels, then the MAC), as reported."""
    seen: list[str] = []
    for layer in result.layers:
        for name in layer.energy.by_component:
            if name not in seen:
                seen.append(name)
    order = [level.name for level in result.arch.levels] + [result.arch.compute.name]
    return sorted(seen, key=lambda n: (order.index(n) if n in order else len(order), n))


def layer_row(layer: LayerResult, components: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "layer": layer.name,
        "geometry": layer.geometry,
        "mapping": layer.mapping.describe(),
        "dense_macs": layer.dense_macs,
        "effectual_macs": layer.effectual_macs,
        "computes": layer.analysis.computes,
        "total_cycles": layer.timing.total_cycles,
        "compute_cycles": layer.timing.compute_cycles,
        "stall_cycles": layer.timing.stall_cycles,
        "utilization": layer.utilization,
        "imbalance": layer.imbalance,
        "tiles": layer.timing.tiles,
        "split_tiles": layer.timing.split_tiles,
        "energy_pj": layer.energy.total_pj,
    }
    for name in components:
        row[f"energy_pj.{name}"] = layer.energy.by_component.get(name, 0.0)
    for tensor in _TENSORS:
        row[f"dram_read_bytes.{tensor.value}"] = layer.dram_read_bytes.get(tensor, 0)
    for tensor in _TENSORS:
        row[f"dram_write_bytes.{tensor.value}"] = layer.dram_write_bytes.get(tensor, 0)
    row["dram_bytes"] = layer.dram_bytes
    (compute,) = [c for c in layer.sparse_counts if c.access == "compute"]
    row["computes_actual"] = compute.actual
    row["computes_gated"] = compute.gated
    row["computes_skipped"] = compute.skipped
    return row


def mapping_to_plain(mapping: Mapping) -> list[dict[str, Any]]:
    """The mapping as the ``levels`` list of its YAML form (docs/mapping), for JSON."""
    levels = []
    for entry in mapping.levels:
        plain: dict[str, Any] = {"level": entry.level}
        if entry.keeps is not None:
            plain["keeps"] = [t.value for t in Tensor if t in entry.keeps]
        for field in ("temporal", "spatial_x", "spatial_y"):
            loops = getattr(entry, field)
            if loops:
                plain[field] = [str(loop) for loop in loops]
        levels.append(plain)
    return levels


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def layers_csv_text(result: RunResult) -> str:
    components = _components(result)
    rows = [layer_row(layer, components) for layer in result.layers]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if rows:
        writer.writerow(rows[0].keys())
        for row in rows:
            writer.writerow(_cell(v) for v in row.values())
    return buffer.getvalue()


def write_layers_csv(result: RunResult, path: str | os.PathLike[str]) -> None:
    write_text_atomic(path, layers_csv_text(result))


def _plain(value: Any) -> Any:
    """JSON-safe: infinities become the string "inf" (unbounded bandwidth)."""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def summary_document(result: RunResult) -> dict[str, Any]:
    components = _components(result)
    return _plain({
        "accelsim_version": __version__,
        "hardware": architecture_to_dict(result.arch),
        "energy_table": result.arch.energy.to_dict() if result.arch.energy else None,
        "trace": {"path": result.trace.path, "manifest": result.trace.manifest()},
        "totals": result_summary(result),
        "layers": [
            {**layer_row(layer, components),
             "mapping": mapping_to_plain(layer.mapping),
             "energy": layer.energy.to_dict(),
             "actions": [count.to_dict() for count in layer.sparse_counts]}
            for layer in result.layers
        ],
    })


def write_summary_json(result: RunResult, path: str | os.PathLike[str]) -> None:
    text = json.dumps(summary_document(result), indent=1, allow_nan=False, ensure_ascii=False)
    write_text_atomic(path, text + "\n")


def _si(value: float) -> str:
    return f"{value:,.0f}"


def format_run_table(result: RunResult) -> str:
    headers = ("layer", "cycles", "compute", "stall", "util", "dense MACs", "eff MACs",
               "energy µJ", "DRAM W kB", "DRAM I kB", "DRAM O kB")

    def row(name: str, cycles: int, compute: int, stall: int, util: float, dense: int,
            eff: int, pj: float, reads: dict, writes: dict) -> list[str]:
        outputs = reads.get(Tensor.OUTPUTS, 0) + writes.get(Tensor.OUTPUTS, 0)
        return [name, _si(cycles), _si(compute), _si(stall), f"{100 * util:.1f}%", _si(dense),
                _si(eff), f"{pj / 1e6:,.2f}", f"{reads.get(Tensor.WEIGHTS, 0) / 1e3:,.1f}",
                f"{reads.get(Tensor.INPUTS, 0) / 1e3:,.1f}", f"{outputs / 1e3:,.1f}"]

    rows = [row(layer.name, layer.timing.total_cycles, layer.timing.compute_cycles,
                layer.timing.stall_cycles, layer.utilization, layer.dense_macs,
                layer.effectual_macs, layer.energy.total_pj, dict(layer.dram_read_bytes),
                dict(layer.dram_write_bytes)) for layer in result.layers]
    reads: dict[Tensor, int] = {}
    writes: dict[Tensor, int] = {}
    for layer in result.layers:
        for tensor, value in layer.dram_read_bytes.items():
            reads[tensor] = reads.get(tensor, 0) + value
        for tensor, value in layer.dram_write_bytes.items():
            writes[tensor] = writes.get(tensor, 0) + value
    footer = [row("total", result.total_cycles, result.compute_cycles, result.stall_cycles,
                  result.utilization, result.dense_macs, result.effectual_macs,
                  result.energy_pj, reads, writes)]
    arch, trace = result.arch, result.trace
    head = (f"{arch.name} ({arch.num_macs} MACs @ {arch.clock_mhz:g} MHz) running "
            f"{trace.info.model} from {trace.path}")
    table = render_table(headers, rows, footer)
    seconds = result.total_cycles / (arch.clock_mhz * 1e6)
    tail = (f"{result.total_cycles:,} cycles = {seconds * 1e3:,.3f} ms at {arch.clock_mhz:g} MHz; "
            f"{result.energy_pj / 1e6:,.2f} µJ; {result.dram_bytes / 1e6:,.3f} MB of DRAM traffic")
    return "\n".join([head, "", table, "", tail])
