"""``accelsim plot energy RUN_DIR``: energy per layer by component, and the network's share.

Reads ``RUN_DIR/layers.csv`` (the ``energy_pj.<component>`` columns written by
``accelsim run -o RUN_DIR``) and, for the title, ``RUN_DIR/summary.json`` when present.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from matplotlib.figure import Figure

from accelsim.errors import AccelsimError
from accelsim.report.plots import colour, new_figure, number, read_csv

PREFIX = "energy_pj."


def run_title(run_dir: Path) -> str:
    """``hardware running model (trace file)`` from summary.json, else the folder's name."""
    summary = run_dir / "summary.json"
    try:
        document = json.loads(summary.read_text(encoding="utf-8"))
        hardware = document["hardware"]["name"]
        trace = document["trace"]
        model = trace["manifest"]["model"]
        name = Path(trace["path"]).name if trace.get("path") else model
    except (OSError, ValueError, KeyError, TypeError):
        return run_dir.name
    return f"{hardware} running {model} ({name})"


def energy_figure(run_dir: str | os.PathLike[str]) -> Figure:
    """Left: stacked bars of µJ per layer by component; right: the network's total per
    component (µJ and share)."""
    folder = Path(run_dir)
    if not folder.is_dir():
        raise AccelsimError("no such run directory (write one with 'accelsim run -o DIR')",
                            file=folder)
    path = folder / "layers.csv"
    rows = read_csv(path)
    components = [c[len(PREFIX):] for c in rows[0] if c.startswith(PREFIX)]
    if not components or "layer" not in rows[0]:
        raise AccelsimError("expected the columns 'layer' and 'energy_pj.<component>' of "
                            "'accelsim run -o'", file=path)
    layers = [row["layer"] for row in rows]
    micro = {c: [number(row[PREFIX + c], path, PREFIX + c) / 1e6 for row in rows]
             for c in components}

    figure = new_figure(max(8.0, 3.5 + 0.45 * len(layers)), 4.8)
    per_layer, network = figure.subplots(1, 2, width_ratios=(3, 1))
    positions = list(range(len(layers)))
    bottom = [0.0] * len(layers)
    for index, component in enumerate(components):
        per_layer.bar(positions, micro[component], bottom=bottom, label=component,
                      color=colour(index), edgecolor="white", linewidth=0.5)
        bottom = [b + v for b, v in zip(bottom, micro[component], strict=True)]
    per_layer.set_xticks(positions, layers, rotation=60, ha="right", rotation_mode="anchor")
    per_layer.set_xlabel("layer")
    per_layer.set_ylabel("energy (µJ)")
    per_layer.set_title("per layer, by component")
    per_layer.set_ylim(0, max(max(bottom), 1e-12) * 1.3)  # room for the legend
    per_layer.legend(loc="upper left", frameon=False, ncols=3)
    per_layer.grid(axis="y", alpha=0.3)

    totals = [sum(micro[c]) for c in components]
    grand = sum(totals) or 1.0
    ys = list(range(len(components)))
    network.barh(ys, totals, color=[colour(i) for i in range(len(components))])
    network.set_yticks(ys, components)
    network.invert_yaxis()
    network.set_xlabel("energy (µJ)")
    network.set_title(f"network: {sum(totals):,.1f} µJ")
    for y, total in zip(ys, totals, strict=True):
        network.annotate(f"{100 * total / grand:.1f}%", (total, y), xytext=(3, 0),
                         textcoords="offset points", va="center", fontsize=8)
    network.set_xlim(0, max(totals) * 1.3 if max(totals) > 0 else 1)
    network.grid(axis="x", alpha=0.3)
    figure.suptitle(f"Energy by component: {run_title(folder)}")
    return figure
