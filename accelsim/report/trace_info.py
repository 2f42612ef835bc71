"""``accelsim trace info``: a trace's provenance, per-layer table and network totals."""

from __future__ import annotations

import json
from typing import Any

from accelsim.report.table import render_table
from accelsim.workload.stats import TraceStats
from accelsim.workload.trace import Trace

_HEADERS = ("layer", "geometry", "act dens", "wgt dens", "dense MACs", "effectual MACs",
            "MACs·da·dw", "reduction")


def _percent(fraction: float) -> str:
    return f"{100.0 * fraction:.1f}%"


def _source_line(trace: Trace) -> str:
    source = trace.info.source
    kind = source.get("kind", "?")
    detail = source.get("generator") or source.get("importer") or source.get("checkpoint")
    if isinstance(detail, dict):
        detail = ", ".join(f"{k}={v}" for k, v in detail.items())
    return f"{kind} ({detail})" if detail else str(kind)


def format_trace_info(trace: Trace, stats: TraceStats) -> str:
    info = trace.info
    batch = trace.layers[0].layer.N
    head = [
        f"trace    {trace.path}",
        f"model    {info.model}" + (f"   dataset {info.dataset}" if info.dataset else ""),
        f"source   {_source_line(trace)}",
        f"layers   {len(trace)}   batch {batch}",
    ]
    if info.recipe:
        head.append("recipe   " + ", ".join(f"{k}={v}" for k, v in info.recipe.items()))
    rows = [
        (s.name, s.geometry, f"{s.input_density:.3f}", f"{s.weight_density:.3f}",
         f"{s.macs.dense:,}", f"{s.macs.effectual:,}", f"{s.macs.estimated:,.0f}",
         _percent(s.macs.reduction))
        for s in stats.layers
    ]
    footer = [("total", "", f"{stats.input_density:.3f}", f"{stats.weight_density:.3f}",
               f"{stats.dense_macs:,}", f"{stats.effectual_macs:,}",
               f"{stats.estimated_macs:,.0f}", _percent(stats.effectual_reduction))]
    table = render_table(_HEADERS, rows, footer)
    tail = (
        f"effectual-MAC reduction {_percent(stats.effectual_reduction)}: "
        f"{stats.effectual_macs / 1e6:,.1f} M effectual of {stats.dense_macs / 1e6:,.1f} M dense "
        f"MACs (density product predicts {stats.estimated_macs / 1e6:,.1f} M); densities are "
        f"element-weighted over all layer inputs / weights")
    return "\n".join([*head, "", table, "", tail])


def trace_info_json(trace: Trace, stats: TraceStats) -> str:
    document: dict[str, Any] = {"trace": trace.path, "manifest": trace.manifest(),
                                **stats.to_dict()}
    return json.dumps(document, indent=2, allow_nan=False)
