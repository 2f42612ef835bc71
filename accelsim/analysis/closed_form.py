"""Closed-form nest analysis: fills, reads, updates and cycles as sums of per-dimension
products (docs/model.md §3 gives every formula).

A level's fills are a sum over the iterations of the loops above it of the words its tile
gains. Timeloop's rule, reproduced here: an iteration that advances the innermost loop above
the level keeps whatever overlaps the previous tile (a sliding input window keeps its halo);
an iteration that wraps that loop (an outer loop advanced) reloads the whole tile unless it is
identical to the previous one. Each class of iteration is a condition on loop indices, one
dimension at a time, so every sum factorises over the tensor's axes.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from collections.abc import Sequence

import numpy as np

from accelsim.analysis.nest import DimTable, Nest, NestLoop
from accelsim.analysis.problem import AXES, RELEVANT, Problem
from accelsim.arch.spec import Tensor

# loop id -> True: index > 0, False: index == 0
Conditions = MappingType[int, bool]
# A wrap: the loop that advanced and the inner loops (above the level) that reset to 0.
Wrap = tuple[NestLoop, tuple[NestLoop, ...]]


def _mask(table: DimTable, conds: Conditions) -> np.ndarray:
    """Rows of ``table`` meeting ``conds`` (cached on the table: the same few recur)."""
    key = tuple(sorted((i, p) for i, p in conds.items() if i in table.loop_ids))
    cached = table.masks.get(key)
    if cached is not None:
        return cached
    keep = np.ones(len(table.start), dtype=bool)
    for loop_id, positive in key:
        column = table.column(loop_id)
        keep &= (column > 0) if positive else (column == 0)
    keep.setflags(write=False)
    table.masks[key] = keep
    return keep


def _previous(table: DimTable, dim: str, wrapped: NestLoop, inner: tuple[NestLoop, ...],
              size: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and extent, per row, of the tile one iteration earlier than a wrap of ``wrapped``.

    That iteration had ``wrapped`` one index lower and every loop in ``inner`` (reset to 0
    now) on its last valid index.
    """
    base = table.start - (wrapped.stride if wrapped.dim == dim else 0)
    for loop in inner:
        if loop.dim == dim:
            last = np.minimum(loop.bound - 1, (size - 1 - base) // loop.stride)
            base = base + last * loop.stride
    return base, np.minimum(table.full_extent, size - base)


def _pair_extent(first: np.ndarray, second: np.ndarray, step: int, dil: int) -> np.ndarray:
    return (first - 1) * step + (second - 1) * dil + 1


class _Sums:
    """Sums over the tile positions of one (level, tensor) under index conditions."""

    def __init__(self, nest: Nest, level: int, tensor: Tensor) -> None:
        self.nest, self.level, self.tensor = nest, level, tensor
        self.problem: Problem = nest.problem

    def _rows(self, dim: str, conds: Conditions) -> tuple[DimTable, np.ndarray]:
        table = self.nest.table(self.level, dim)
        return table, _mask(table, conds)

    def tile(self, conds: Conditions, *, overlap: NestLoop | None = None,
             unchanged: Wrap | None = None) -> int:
        """Σ |tile| over matching rows; with ``overlap``, Σ |tile ∩ tile one step back along
        that loop|; with ``unchanged``, only rows whose tile equals the one before the wrap."""
        total = 1
        for axis in AXES[self.tensor]:
            total *= self._axis(axis, conds, overlap, unchanged)
            if total == 0:
                return 0
        for dim in self.nest.problem_dims:
            if dim not in RELEVANT[self.tensor]:
                _, keep = self._rows(dim, conds)
                total *= int(keep.sum())
        return total

    def _previous(self, table: DimTable, keep: np.ndarray, dim: str,
                  wrap: Wrap) -> tuple[np.ndarray, np.ndarray]:
        start, extent = _previous(table, dim, wrap[0], wrap[1], self.problem.size(dim))
        return start[keep], extent[keep]

    def _axis(self, axis: tuple[str, ...], conds: Conditions, overlap: NestLoop | None,
              unchanged: Wrap | None) -> int:
        if len(axis) == 1:
            table, keep = self._rows(axis[0], conds)
            start, extent = table.start[keep], table.extent[keep]
            if unchanged is not None:
                p_start, p_extent = self._previous(table, keep, axis[0], unchanged)
                return int(extent[(p_start == start) & (p_extent == extent)].sum())
            if overlap is None or overlap.dim != axis[0]:
                return int(extent.sum())
            size = self.problem.size(axis[0])
            prev = start - overlap.stride
            prev_extent = np.minimum(table.full_extent, size - prev)
            inter = np.minimum(start + extent, prev + prev_extent) - np.maximum(start, prev)
            return int(np.maximum(inter, 0).sum())
        first_table, first_keep = self._rows(axis[0], conds)
        second_table, second_keep = self._rows(axis[1], conds)
        step, dil = self.problem.pair_coefficients(axis)  # type: ignore[arg-type]
        s1, e1 = first_table.start[first_keep][:, None], first_table.extent[first_keep][:, None]
        s2, e2 = second_table.start[second_keep][None, :], \
            second_table.extent[second_keep][None, :]
        length = _pair_extent(e1, e2, step, dil)
        if unchanged is not None:
            p1, pe1 = (a[:, None] for a in self._previous(first_table, first_keep, axis[0],
                                                           unchanged))
            p2, pe2 = (a[None, :] for a in self._previous(second_table, second_keep, axis[1],
                                                           unchanged))
            same = (s1 * step + s2 * dil == p1 * step + p2 * dil) & \
                (length == _pair_extent(pe1, pe2, step, dil))
            return int(length[same].sum())
        if overlap is None or overlap.dim not in axis:
            return int(length.sum())
        size = self.problem.size(overlap.dim)
        if overlap.dim == axis[0]:
            p1 = s1 - overlap.stride
            pe1 = np.minimum(first_table.full_extent, size - p1)
            p2, pe2 = s2, e2
        else:
            p2 = s2 - overlap.stride
            pe2 = np.minimum(second_table.full_extent, size - p2)
            p1, pe1 = s1, e1
        begin, prev_begin = s1 * step + s2 * dil, p1 * step + p2 * dil
        prev_length = _pair_extent(pe1, pe2, step, dil)
        inter = np.minimum(begin + length, prev_begin + prev_length) - \
            np.maximum(begin, prev_begin)
        return int(np.maximum(inter, 0).sum())


def delivered(nest: Nest, level: int, tensor: Tensor, collapse: tuple[int, ...] = ()) -> int:
    """Words ``level`` receives over the layer, summed over its instances.

    ``collapse`` lists spatial loops held at index 0: instances differing only there receive
    the same words at the same time, so counting one of them counts the parent's reads.
    At the compute level (``level == nest.num_levels``) every MAC takes one word.
    """
    key = (level, tensor, tuple(sorted(collapse)))
    if key not in nest.delivered_cache:
        nest.delivered_cache[key] = _delivered(nest, level, tensor, collapse)
    return nest.delivered_cache[key]


def _delivered(nest: Nest, level: int, tensor: Tensor, collapse: tuple[int, ...]) -> int:
    base = {loop_id: False for loop_id in collapse}
    if level == nest.num_levels:
        return iterations(nest, base)
    sums = _Sums(nest, level, tensor)
    loops = nest.temporal_above(level)
    if not loops:
        return sums.tile(base)
    relevant = RELEVANT[tensor]
    total = sums.tile({**base, **{loop.id: False for loop in loops}})
    innermost = loops[-1]
    if innermost.dim in relevant:
        advanced = {**base, innermost.id: True}
        total += sums.tile(advanced) - sums.tile(advanced, overlap=innermost)
    for position, loop in enumerate(loops[:-1]):
        inner = loops[position + 1:]
        wrapped = {**base, loop.id: True, **{other.id: False for other in inner}}
        total += sums.tile(wrapped) - sums.tile(wrapped, unchanged=(loop, inner))
    return total


def iterations(nest: Nest, conds: Conditions, level: int | None = None) -> int:
    """Index tuples of all loops (or of the loops above ``level``) that meet ``conds``."""
    level = nest.num_levels if level is None else level
    total = 1
    for dim in nest.problem_dims:
        total *= int(_mask(nest.table(level, dim), conds).sum())
    return total


def instances(nest: Nest, level: int) -> int:
    """Instances of ``level`` that get any work (all temporal loops above at index 0)."""
    return iterations(nest, {loop.id: False for loop in nest.above(level) if not loop.spatial},
                      level)


def cycles(nest: Nest) -> int:
    """Temporal iterations of the whole nest: one MAC per unit per cycle, no stalls."""
    return iterations(nest, {loop.id: False for loop in nest.loops if loop.spatial})


def passes(nest: Nest, level: int) -> int:
    """Passes over ``level``'s fan-out: iterations of the temporal loops at ``level`` and
    above (spatial indices held at 0), each running the loops below it once."""
    return iterations(nest, {loop.id: False for loop in nest.loops if loop.spatial}, level + 1)


def fill_drain(nest: Nest, fill_drain_cycles: Sequence[int]) -> int:
    """Σ over levels of ``fill_drain_cycles[ℓ]`` × passes over ℓ's fan-out (docs/model.md §3)."""
    return sum(cycles * passes(nest, level)
               for level, cycles in enumerate(fill_drain_cycles) if cycles)


def tile_words(nest: Nest, level: int, tensor: Tensor) -> int:
    """The largest tile of ``tensor`` at ``level`` (Timeloop's 'utilized capacity')."""
    total = 1
    for axis in AXES[tensor]:
        extents = [nest.table(level, dim).full_extent for dim in axis]
        if len(axis) == 1:
            total *= extents[0]
        else:
            step, dil = nest.problem.pair_coefficients(axis)  # type: ignore[arg-type]
            total *= (extents[0] - 1) * step + (extents[1] - 1) * dil + 1
    return total


def output_partition(nest: Nest, level: int) -> int:
    """Distinct outputs the instances of ``level`` touch, summed over instances."""
    total = 1
    temporal = {loop.id: False for loop in nest.above(level) if not loop.spatial}
    for dim in nest.problem_dims:
        if dim in RELEVANT[Tensor.OUTPUTS]:
            total *= nest.problem.size(dim)
        else:
            total *= int(_mask(nest.table(level, dim), temporal).sum())
    return total
