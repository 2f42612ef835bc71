"""The mapping flattened into one loop nest, and per-dimension tables of tile positions.

Every count of the analysis is a sum over iterations of a product of per-axis terms, so it
factorises into per-dimension sums: the ``DimTable`` of a dimension at a level lists every
position (start, clipped extent) that the level's tile takes along that dimension, over all
instances and all iterations of the loops above the level. Its length is the product of those
loops' bounds over one dimension only — small — never the number of iterations of the nest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

import numpy as np

from accelsim.analysis.problem import Problem
from accelsim.arch.spec import Architecture, Tensor
from accelsim.mapping.model import DIMS, Mapping


@dataclass(frozen=True, slots=True)
class NestLoop:
    """One loop of the flattened nest; ``stride`` is the step of its dimension per index."""

    id: int
    dim: str
    bound: int
    level: int
    spatial: bool
    stride: int


@dataclass(frozen=True, slots=True)
class DimTable:
    """Positions of a level's tile along one dimension (valid ones only, i.e. start < bound).

    ``index[:, j]`` is the index of loop ``loop_ids[j]``; rows enumerate the loops above the
    level, outermost loop slowest.
    """

    loop_ids: tuple[int, ...]
    index: np.ndarray
    start: np.ndarray
    extent: np.ndarray
    full_extent: int
    masks: dict[tuple[tuple[int, bool], ...], np.ndarray] = field(default_factory=dict,
                                                                 compare=False, repr=False)

    def column(self, loop_id: int) -> np.ndarray:
        return self.index[:, self.loop_ids.index(loop_id)]


@dataclass(slots=True)
class Nest:
    """The flattened nest of (problem, architecture, mapping), with cached dimension tables.

    Loops are ordered outermost first; a level's temporal loops come before its spatial ones,
    and the spatial loops of level ℓ sit above every loop of level ℓ+1.
    """

    problem: Problem
    keeps: tuple[frozenset[Tensor], ...]
    loops: tuple[NestLoop, ...]
    _tables: dict[tuple[int, str], DimTable] = field(default_factory=dict)
    delivered_cache: dict[tuple, int] = field(default_factory=dict)

    @classmethod
    def build(cls, problem: Problem, arch: Architecture, mapping: Mapping) -> Nest:
        raw = [(loop.dim, loop.bound, index, spatial)
               for index, entry in enumerate(mapping.levels)
               for loops, spatial in ((entry.temporal, False), (entry.spatial_x, True),
                                      (entry.spatial_y, True))
               for loop in loops]
        loops = []
        for position, (dim, bound, level, spatial) in enumerate(raw):
            stride = prod(b for d, b, _, _ in raw[position + 1:] if d == dim)
            loops.append(NestLoop(position, dim, bound, level, spatial, stride))
        keeps = tuple(mapping.keeps(arch, i) for i in range(len(mapping.levels)))
        return cls(problem, keeps, tuple(loops))

    @property
    def problem_dims(self) -> tuple[str, ...]:
        return DIMS

    @property
    def num_levels(self) -> int:
        """Storage levels; ``num_levels`` itself stands for the compute units below them."""
        return len(self.keeps)

    def above(self, level: int) -> tuple[NestLoop, ...]:
        """Loops of the levels outside ``level`` (they move its tile)."""
        return tuple(loop for loop in self.loops if loop.level < level)

    def temporal_above(self, level: int) -> tuple[NestLoop, ...]:
        """Temporal loops above ``level`` with more than one iteration, outermost first."""
        return tuple(loop for loop in self.above(level) if not loop.spatial and loop.bound > 1)

    def spatial_between(self, outer: int, inner: int) -> tuple[NestLoop, ...]:
        """Spatial loops that fan data out from ``outer`` to ``inner``."""
        return tuple(loop for loop in self.loops
                     if loop.spatial and outer <= loop.level < inner)

    def table(self, level: int, dim: str) -> DimTable:
        key = (level, dim)
        if key not in self._tables:
            self._tables[key] = self._make_table(level, dim)
        return self._tables[key]

    def _make_table(self, level: int, dim: str) -> DimTable:
        size = self.problem.size(dim)
        above = [loop for loop in self.above(level) if loop.dim == dim]
        full = prod(loop.bound for loop in self.loops
                    if loop.dim == dim and loop.level >= level)
        bounds = [loop.bound for loop in above]
        index = np.indices(bounds, dtype=np.int64).reshape(len(bounds), -1).T \
            if bounds else np.zeros((1, 0), dtype=np.int64)
        start = index @ np.array([loop.stride for loop in above], dtype=np.int64)
        keep = start < size
        index, start = index[keep], start[keep]
        extent = np.minimum(full, size - start)
        return DimTable(tuple(loop.id for loop in above), index, start, extent, min(full, size))

    def tensor_chain(self, tensor: Tensor) -> tuple[int, ...]:
        """The levels keeping ``tensor``, outermost first."""
        return tuple(i for i, keeps in enumerate(self.keeps) if tensor in keeps)
