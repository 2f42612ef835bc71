"""``accelsim plot sweep OUT.csv --x KEY --y METRIC [--hue KEY]``.

Reads the CSV of ``accelsim sweep``: one row per point, the varied keys as columns, then the
totals (``total_cycles``, ``energy_pj``, ``energy_pj.<component>``, ``dram_bytes``,
``utilization``), ``wall_s`` and ``error``. Points with an error are left out. Left panel:
the metric against ``KEY``, one line per ``--hue`` value (and per combination of the other
varied keys); right panel: every point in the cycles–energy plane and its Pareto front
(no other point is at least as good in both and better in one).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from accelsim.errors import AccelsimError
from accelsim.report.plots import (
    MARKERS,
    colour,
    new_figure,
    number,
    read_csv,
    require_columns,
    spans_decades,
)

METRICS = {"cycles": ("total_cycles", "cycles", 1.0),
           "energy": ("energy_pj", "energy (µJ)", 1e-6),
           "dram_bytes": ("dram_bytes", "DRAM traffic (MB)", 1e-6),
           "utilization": ("utilization", "MAC utilisation (fraction)", 1.0)}
"""--y name -> (CSV column, axis label with unit, scale from the column's unit)."""

_RESULT_COLUMNS = {"total_cycles", "compute_cycles", "stall_cycles", "energy_pj",
                   "dram_bytes", "utilization", "dense_macs", "effectual_macs", "layers",
                   "wall_s", "error"}
_TITLE_KEYS = (("hw", "hardware", "arch"), ("trace",))
_LINESTYLES = ("-", "--", ":", "-.")


def key_columns(header: Sequence[str]) -> list[str]:
    """The varied keys: every column that is not a result."""
    return [c for c in header if c not in _RESULT_COLUMNS
            and not c.startswith(("energy_pj.", "dram_"))]


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point dominates (both coordinates minimised), by the first."""
    front: list[tuple[float, float]] = []
    for x, y in sorted(set(points)):
        if not front or y < front[-1][1]:
            front.append((x, y))
    return front


def _as_numbers(values: Sequence[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _title(rows: Sequence[dict[str, str]], path: Path) -> str:
    parts = []
    for names in _TITLE_KEYS:
        for name in names:
            if name in rows[0]:
                parts.append(", ".join(dict.fromkeys(Path(r[name]).stem for r in rows)))
                break
    return " running ".join(parts) if parts else path.name


def sweep_figure(csv_path: str | os.PathLike[str], x: str, y: str,
                 hue: str | None = None) -> Figure:
    path = Path(csv_path)
    if y not in METRICS:
        raise AccelsimError(f"unknown metric {y!r}; expected one of {', '.join(METRICS)}",
                            key="--y")
    column, label, scale = METRICS[y]
    rows = read_csv(path)
    require_columns(rows, [x] + ([hue] if hue else []), path, what="sweep key")
    require_columns(rows, [column, "total_cycles", "energy_pj"], path)
    ok = [r for r in rows if not r.get("error") and r[column] != ""]
    if not ok:
        raise AccelsimError("every point of the sweep failed; nothing to plot", file=path)
    others = [k for k in key_columns(list(rows[0]))
              if k not in (x, hue) and len({r[k] for r in ok}) > 1]

    figure = new_figure(11.0, 4.6)
    lines, pareto = figure.subplots(1, 2)
    xs_all = [r[x] for r in ok]
    numeric = _as_numbers(xs_all)
    categories = list(dict.fromkeys(xs_all))
    hues = list(dict.fromkeys(r[hue] for r in ok)) if hue else [None]
    groups = list(dict.fromkeys(tuple(r[k] for k in others) for r in ok))
    plotted_x: list[float] = []
    plotted_y: list[float] = []
    for h_index, h in enumerate(hues):
        for g_index, group in enumerate(groups):
            members = [r for r in ok if (hue is None or r[hue] == h)
                       and tuple(r[k] for k in others) == group]
            if not members:
                continue
            if numeric is not None:
                pairs = sorted((float(r[x]), r) for r in members)
            else:
                pairs = sorted(((categories.index(r[x]), r) for r in members),
                               key=lambda p: p[0])
            px = [p[0] for p in pairs]
            py = [number(p[1][column], path, column) * scale for p in pairs]
            name = [f"{hue}={h}"] if hue else []
            name += [f"{k}={v}" for k, v in zip(others, group, strict=True)]
            lines.plot(px, py, marker=MARKERS[g_index % len(MARKERS)],
                       linestyle=_LINESTYLES[g_index % len(_LINESTYLES)],
                       color=colour(h_index if hue else g_index),
                       label=", ".join(name) or None)
            plotted_x += px
            plotted_y += py
    if numeric is None:
        lines.set_xticks(range(len(categories)), [Path(c).stem for c in categories],
                         rotation=30, ha="right", rotation_mode="anchor")
    elif spans_decades(plotted_x):
        lines.set_xscale("log")
    if spans_decades(plotted_y):
        lines.set_yscale("log")
    lines.set_xlabel(x)
    lines.set_ylabel(label)
    lines.set_title(f"{label.split(' (')[0]} against {x}")
    lines.grid(alpha=0.3)
    if hue or others:
        lines.legend(frameon=False)
    _pareto_panel(pareto, ok, path)
    figure.suptitle(f"Sweep: {_title(rows, path)}")
    return figure


def _pareto_panel(axes, ok: Sequence[dict[str, str]], path: Path) -> None:
    points = [(number(r["total_cycles"], path, "total_cycles"),
               number(r["energy_pj"], path, "energy_pj") / 1e6) for r in ok]
    axes.scatter([p[0] for p in points], [p[1] for p in points], color=colour(1),
                 label="sweep point", zorder=2)
    front = pareto_front(points)
    axes.plot([p[0] for p in front], [p[1] for p in front], color=colour(5), marker="D",
              drawstyle="steps-post", label="Pareto front", zorder=3)
    if spans_decades([p[0] for p in points]):
        axes.set_xscale("log")
    if spans_decades([p[1] for p in points]):
        axes.set_yscale("log")
    axes.set_xlabel("cycles")
    axes.set_ylabel("energy (µJ)")
    axes.set_title("cycles–energy trade-off")
    axes.grid(alpha=0.3)
    axes.legend(frameon=False)
