"""``accelsim plot compare COMPARE.csv``: what sparsity promises against what hardware delivers.

Reads the CSV of ``accelsim compare``. One panel per variant other than the baseline; for
each layer (and the network total, last) three bars side by side: the effectual-MAC
reduction, the speed-up and the energy saving, all ``baseline / variant`` (1 = no change).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from matplotlib.figure import Figure

from accelsim.compare import TOTAL
from accelsim.errors import AccelsimError
from accelsim.report.plots import new_figure, number, read_csv, require_columns, spans_decades

MEASURES = (("mac_reduction", "effectual-MAC reduction", "#999999"),
            ("speedup", "speed-up", "#0072B2"),
            ("energy_saving", "energy saving", "#E69F00"))
"""CSV column, legend label, colour (grey, then Okabe–Ito blue and orange)."""


def compare_figure(csv_path: str | os.PathLike[str]) -> Figure:
    path = Path(csv_path)
    rows = read_csv(path)
    require_columns(rows, ["hardware", "layer", "variant", *(m[0] for m in MEASURES)], path)
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    if len(variants) < 2:
        raise AccelsimError("the comparison has a single variant; nothing to compare",
                            file=path)
    layers = [*dict.fromkeys(r["layer"] for r in rows if r["layer"] != TOTAL), TOTAL]
    value = {(r["layer"], r["variant"], m): number(r[m], path, m)
             for r in rows for m, _, _ in MEASURES}
    shown = variants[1:]
    width = max(8.0, 2.5 + 0.5 * len(layers))
    figure = new_figure(width, 1.0 + 3.0 * len(shown))
    panels = figure.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    bar = 0.27
    for axes, variant in zip(panels, shown, strict=True):
        heights_all = []
        for index, (measure, label, hue) in enumerate(MEASURES):
            xs = [i + (index - 1) * bar for i in range(len(layers))]
            heights = [_finite(value.get((layer, variant, measure), math.nan))
                       for layer in layers]
            axes.bar(xs, heights, width=bar, color=hue, label=label)
            heights_all += heights
        axes.axhline(1.0, color="black", linewidth=0.8)
        if spans_decades(heights_all, decades=1.5):
            axes.set_yscale("log")
        axes.set_ylabel(f"× vs {variants[0]}")
        axes.set_title(variant)
        axes.grid(axis="y", alpha=0.3)
        axes.axvline(len(layers) - 1.5, color="black", linewidth=0.5, linestyle=":")
    panels[0].legend(loc="upper left", frameon=False, ncols=3)
    panels[-1].set_xticks(range(len(layers)), layers, rotation=60, ha="right",
                          rotation_mode="anchor")
    panels[-1].set_xlabel("layer")
    hardware = ", ".join(dict.fromkeys(r["hardware"] for r in rows))
    figure.suptitle(f"{hardware}: per-layer gains of each variant over {variants[0]} "
                    f"(baseline / variant)")
    return figure


def _finite(value: float) -> float:
    """Bars cannot be infinite: an inf factor (the variant needs none) is drawn as 0."""
    return value if math.isfinite(value) else 0.0
