"""The mapping's loops seen from one boundary level: which loops pick the tile, which pick
the MAC unit, and which a unit runs through inside a tile.

Along a dimension ``d`` with loops ``l₁ … l_k`` (nest order, outermost first) a position is
``x = Σ_j i_j·σ_j`` with ``σ_j = Π_{i>j} b_i`` — a mixed-radix number. So a length-``D_d``
axis, zero-padded to ``F_d = Π_j b_j`` (``> D_d`` only for a ceil-div split), reshapes into
one axis per loop, and "the positions a unit visits within a tile" becomes "the sum over the
axes of its inner loops" — no index lists, no gathers. Positions ``≥ D_d`` are the invalid
iterations of an imperfect split (docs/model.md §3); being zeros, they contribute nothing.

Roles of a loop, for the boundary level ``k`` (the engine's tiles are its iterations):

- ``TILE``: temporal loops above ``k`` — their indices number the tile;
- ``UNIT``: spatial loops (at any level) — their indices number the MAC unit;
- ``INNER``: temporal loops at or below ``k`` — a unit runs through them within a tile.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from math import prod

import numpy as np

from accelsim.mapping.model import DIMS, Mapping, layer_bounds
from accelsim.workload.layer import Layer


class Role(str, Enum):
    TILE = "tile"
    UNIT = "unit"
    INNER = "inner"


@dataclass(frozen=True, slots=True)
class WorkLoop:
    """One loop of the flattened nest (same order as ``analysis.nest.Nest.build``).

    ``axis`` is ``"t"`` for a temporal loop, ``"x"``/``"y"`` for a spatial one; ``stride`` is
    the step of its dimension per index.
    """

    id: int
    dim: str
    bound: int
    level: int
    level_name: str
    axis: str
    role: Role
    stride: int


@dataclass(frozen=True, slots=True)
class LoopLayout:
    """The nest of one group of a layer, classified for ``boundary``."""

    loops: tuple[WorkLoop, ...]
    sizes: tuple[int, ...]          # D_d per group, DIMS order
    boundary: int

    @classmethod
    def build(cls, layer: Layer, mapping: Mapping, boundary: int) -> LoopLayout:
        raw = [(loop.dim, loop.bound, index, entry.level, axis)
               for index, entry in enumerate(mapping.levels)
               for loops, axis in ((entry.temporal, "t"), (entry.spatial_x, "x"),
                                   (entry.spatial_y, "y"))
               for loop in loops]
        loops = []
        for position, (dim, bound, level, name, axis) in enumerate(raw):
            stride = prod(b for d, b, *_ in raw[position + 1:] if d == dim)
            role = Role.UNIT if axis != "t" else Role.TILE if level < boundary else Role.INNER
            loops.append(WorkLoop(position, dim, bound, level, name, axis, role, stride))
        sizes = layer_bounds(layer)
        return cls(tuple(loops), tuple(sizes[d] for d in DIMS), boundary)

    def size(self, dim: str) -> int:
        return self.sizes[DIMS.index(dim)]

    def of_dim(self, dim: str) -> tuple[WorkLoop, ...]:
        return tuple(loop for loop in self.loops if loop.dim == dim)

    def padded(self, dim: str) -> int:
        """``F_d``: the product of the dimension's bounds (≥ its size for a ceil-div split)."""
        return prod(loop.bound for loop in self.of_dim(dim))

    def with_role(self, *roles: Role) -> tuple[WorkLoop, ...]:
        return tuple(loop for loop in self.loops if loop.role in roles)

    @property
    def tile_loops(self) -> tuple[WorkLoop, ...]:
        return self.with_role(Role.TILE)

    @property
    def unit_loops(self) -> tuple[WorkLoop, ...]:
        return self.with_role(Role.UNIT)

    def box_extent(self, dim: str) -> int:
        """Nominal extent of the boundary level's tile along ``dim`` (loops at or below it)."""
        return prod(loop.bound for loop in self.of_dim(dim) if loop.level >= self.boundary)


def grid(loops: tuple[WorkLoop, ...]) -> np.ndarray:
    """All index tuples of ``loops``, row-major (the first loop slowest): (count, len)."""
    bounds = [loop.bound for loop in loops]
    if not bounds:
        return np.zeros((1, 0), dtype=np.int64)
    return np.indices(bounds, dtype=np.int64).reshape(len(bounds), -1).T


def starts(loops: tuple[WorkLoop, ...], index: np.ndarray) -> np.ndarray:
    """Positions (rows × 7, DIMS order) that the index tuples of ``loops`` put a box at."""
    weights = np.zeros((len(loops), len(DIMS)), dtype=np.int64)
    for row, loop in enumerate(loops):
        weights[row, DIMS.index(loop.dim)] = loop.stride
    return index @ weights
