"""A mapping printed the way Timeloop prints ``timeloop-mapper.map.txt``: each level with the
tile it keeps per tensor, then its loops, indented one step per loop, down to the compute.

An imperfectly split dimension shows ``[0:bound,residual)`` on the loops whose last run is
shorter, as Timeloop does.
"""

from __future__ import annotations

from math import ceil

from accelsim.arch.spec import Architecture, Tensor
from accelsim.mapping.model import Loop, Mapping, check_mapping, layer_bounds
from accelsim.workload.layer import Layer

TIMELOOP_NAMES = {Tensor.WEIGHTS: "Weights", Tensor.INPUTS: "Inputs", Tensor.OUTPUTS: "Outputs"}


def format_mapping(mapping: Mapping, layer: Layer, arch: Architecture) -> str:
    """The map.txt text of ``mapping`` for ``layer`` on ``arch``."""
    # Tile sizes come from the analysis, which builds on this package: import it late.
    from accelsim.analysis import closed_form
    from accelsim.analysis.nest import Nest
    from accelsim.analysis.problem import Problem

    check_mapping(mapping, layer, arch)
    nest = Nest.build(Problem.from_layer(layer), arch, mapping)
    residuals = _residuals(mapping, layer)
    lines: list[str] = []
    depth = 0
    position = 0
    for index, entry in enumerate(mapping.levels):
        kept = [f"{TIMELOOP_NAMES[t]}:{w} ({w})" for t in Tensor if t in nest.keeps[index]
                for w in [closed_form.tile_words(nest, index, t)]]
        header = f"{entry.level} [ {' '.join(kept)} ] " if kept else f"{entry.level} [ ] "
        lines.append(header)
        if not entry.loops:
            continue
        lines.append("-" * len(header.rstrip()))
        for kind, loops in (("", entry.temporal), (" (Spatial-X)", entry.spatial_x),
                            (" (Spatial-Y)", entry.spatial_y)):
            for loop in loops:
                bound = f"{loop.bound},{residuals[position]}" \
                    if residuals[position] != loop.bound else str(loop.bound)
                lines.append(f"|{'  ' * depth} for {loop.dim} in [0:{bound}){kind}")
                depth += 1
                position += 1
        lines.append("")
    if lines[-1] == "":
        lines.pop()
    else:  # the innermost level has no loops: its rule still separates it from the MACs
        lines.append("-" * len(lines[-1].rstrip()))
    lines.append(f"|{'  ' * depth} << Compute >>")
    return "\n".join(lines) + "\n"


def _residuals(mapping: Mapping, layer: Layer) -> list[int]:
    """Iterations of each loop when every outer loop of its dimension is on its last run."""
    loops: list[Loop] = [loop for entry in mapping.levels for loop in entry.loops]
    remaining = dict(layer_bounds(layer))
    result = []
    for position, loop in enumerate(loops):
        stride = 1
        for inner in loops[position + 1:]:
            if inner.dim == loop.dim:
                stride *= inner.bound
        count = min(loop.bound, ceil(remaining[loop.dim] / stride))
        remaining[loop.dim] -= (count - 1) * stride
        result.append(count)
    return result
