"""What each level must hold: the largest tile of every kept tensor, and whether the level's
capacity allows it — cheap (no access counts), so a mapper can reject candidates first."""

from __future__ import annotations

from accelsim.analysis import closed_form
from accelsim.analysis.nest import Nest
from accelsim.analysis.problem import Problem
from accelsim.arch.spec import Architecture, Tensor
from accelsim.mapping.model import Mapping
from accelsim.workload.layer import Layer


def footprints(layer: Layer, arch: Architecture,
               mapping: Mapping) -> dict[str, dict[Tensor, int]]:
    """Per level, the words of each kept tensor's largest tile (Timeloop's capacity use)."""
    nest = Nest.build(Problem.from_layer(layer), arch, mapping)
    return {level.name: {t: closed_form.tile_words(nest, index, t)
                         for t in Tensor if t in nest.keeps[index]}
            for index, level in enumerate(arch.levels)}


def overflowing_levels(layer: Layer, arch: Architecture, mapping: Mapping) -> tuple[str, ...]:
    """Levels whose kept tiles, summed, exceed their capacity in words (none: it fits)."""
    used = footprints(layer, arch, mapping)
    return tuple(level.name for level in arch.levels
                 if level.capacity_words is not None
                 and sum(used[level.name].values()) > level.capacity_words)
