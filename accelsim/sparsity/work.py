"""Effectual work per tile and per MAC unit, from the zero masks (design.md §3, §5).

For every tile of the boundary level (the engine's tiles: the iterations of the loops above
``arch.levels[1]``, in ``sim/schedule.py``'s order) and every MAC unit of the array (the
instances the mapping's spatial loops create), ``tile_work`` counts the MACs the mapping
assigns to that unit within that tile, and how many of them have a non-zero input, a
non-zero weight, and both — exactly, from the masks, without visiting MACs (``work_macs``).
A padding position is a zero input.

**Synchronisation.** Units are taken to synchronise at tile boundaries: a tile ends when its
busiest unit ends, so under a policy that skips the zeros of some operands a tile lasts
``max over units`` of the matching count (``TileWorkCounts.tile_cycles``), and its load
imbalance is ``max / mean`` over the units the mapping uses. A dataflow could synchronise
more finely — every row of the array after each pass of its inner loops (a row-stationary
array passes partial sums between neighbours), or every iteration of the spatial loops'
level — which only makes imbalance worse; a finer barrier needs counts per inner iteration
and is not modelled here. Idle PEs that the mapping leaves unused are not imbalance: they are
the mapping's utilisation, already in the dense cycles.

**Unit order.** Units are numbered by the indices of the mapping's spatial loops in nest
order (level by level from the outermost; within a level the X loops, then the Y loops, each
as listed), row-major: the first spatial loop varies slowest. ``unit_index[u]`` gives unit
``u``'s loop indices and ``unit_loops`` the loops. For ``shared_glb[| X:Q14 Y:M4 C3]`` unit
``u = (q·4 + m)·3 + c``.

**Grouped layers** run their groups one after another with one group's mapping, as the
nest analysis and the schedule do: the tiles are group 0's tiles, then group 1's, …
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from accelsim.arch.spec import Architecture, Tensor
from accelsim.mapping.model import DIMS, Mapping, check_mapping
from accelsim.sparsity.work_boxes import box_nonzeros, box_words
from accelsim.sparsity.work_macs import unit_work
from accelsim.sparsity.work_nest import LoopLayout, grid, starts
from accelsim.workload.trace import LayerTrace

BOUNDARY_LEVEL = 1  # the engine's tiles; equal to accelsim.sim.schedule.BOUNDARY_LEVEL


@dataclass(frozen=True, slots=True)
class UnitLoop:
    """A spatial loop: the ``axis`` ("x" or "y") of ``level``'s fan-out, over ``dim``."""

    level: str
    axis: str
    dim: str
    bound: int

    def __str__(self) -> str:
        return f"{self.level}.{self.axis.upper()}:{self.dim}{self.bound}"


@dataclass(frozen=True, slots=True, eq=False)
class TileWorkCounts:
    """Work per (tile, unit) of one layer; read-only arrays.

    Per tile and unit, shape (tiles, units), int64: ``dense_macs`` (the MACs assigned),
    ``input_nonzero_macs`` (of those, with a non-zero input activation),
    ``weight_nonzero_macs`` (with a non-zero weight), ``effectual_macs`` (both).

    Per tile, shape (tiles,): ``tile_words[t]`` / ``tile_nonzeros[t]`` are the words and the
    non-zeros of tensor ``t``'s box at the boundary level (all three tensors in
    ``tile_words``; outputs in ``tile_nonzeros`` only when the trace has an output mask).
    ``tile_start`` / ``tile_extent`` (tiles × 7, DIMS order N M C P Q R S, per-group
    coordinates) are the boxes, as ``analysis.tile_sequence`` gives them. Tile ``t``
    belongs to group ``t // tiles_per_group``.
    """

    layer: str
    groups: int
    tiles_per_group: int
    unit_loops: tuple[UnitLoop, ...]
    unit_index: np.ndarray
    tile_start: np.ndarray
    tile_extent: np.ndarray
    dense_macs: np.ndarray
    input_nonzero_macs: np.ndarray
    weight_nonzero_macs: np.ndarray
    effectual_macs: np.ndarray
    tile_words: MappingType[Tensor, np.ndarray]
    tile_nonzeros: MappingType[Tensor, np.ndarray]

    @property
    def tiles(self) -> int:
        return self.dense_macs.shape[0]

    @property
    def units(self) -> int:
        return self.dense_macs.shape[1]

    def work(self, skip_inputs: bool, skip_weights: bool) -> np.ndarray:
        """MACs each unit must spend a cycle on when it skips the zeros of the named
        operands (gating saves energy, not cycles: pass ``False`` for a gated operand)."""
        if skip_inputs and skip_weights:
            return self.effectual_macs
        if skip_inputs:
            return self.input_nonzero_macs
        if skip_weights:
            return self.weight_nonzero_macs
        return self.dense_macs

    def tile_cycles(self, skip_inputs: bool, skip_weights: bool) -> np.ndarray:
        """Per tile, the busiest unit's work: units wait for each other at tile boundaries
        (one MAC per unit per cycle)."""
        return busiest(self.work(skip_inputs, skip_weights))

    def imbalance(self, skip_inputs: bool, skip_weights: bool) -> np.ndarray:
        """Per tile, max / mean of that work over the units (``load_imbalance``)."""
        return load_imbalance(self.work(skip_inputs, skip_weights))


def busiest(per_unit: np.ndarray) -> np.ndarray:
    """Max over units, per tile: how long a tile lasts when units synchronise at its end."""
    return per_unit.max(axis=1) if per_unit.shape[1] else np.zeros(len(per_unit), np.int64)


def load_imbalance(per_unit: np.ndarray) -> np.ndarray:
    """Per tile, max / mean over units (1.0 for a tile without work): the factor by which
    the busiest unit stretches the tile beyond a perfectly balanced one."""
    total = per_unit.sum(axis=1)
    peak = busiest(per_unit) * per_unit.shape[1]
    return np.divide(peak, total, out=np.ones(len(per_unit)), where=total > 0)


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


def _frozen(arrays: dict[Tensor, np.ndarray]) -> MappingType[Tensor, np.ndarray]:
    return MappingProxyType({tensor: _readonly(a) for tensor, a in arrays.items()})


def _boundary_tiles(layout: LoopLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which positions of the tile loops exist (``tile_sequence`` drops the others: their
    box starts past the layer), and the boxes of those that do."""
    start = starts(layout.tile_loops, grid(layout.tile_loops))
    sizes = np.array(layout.sizes, dtype=np.int64)
    valid = (start < sizes).all(axis=1)
    nominal = np.array([layout.box_extent(d) for d in DIMS], dtype=np.int64)
    start = start[valid]
    return valid, start, np.minimum(nominal, sizes - start)


def tile_work(layer_trace: LayerTrace, arch: Architecture, mapping: Mapping,
              boundary_level: int = BOUNDARY_LEVEL) -> TileWorkCounts:
    """Exact per-(tile, unit) work of ``layer_trace`` under ``mapping`` (module doc)."""
    layer = layer_trace.layer
    check_mapping(mapping, layer, arch)
    layout = LoopLayout.build(layer, mapping, boundary_level)
    valid, start, extent = _boundary_tiles(layout)
    work = unit_work(layer_trace, layout)
    groups = layer.groups
    group = np.repeat(np.arange(groups), len(start))
    start, extent = np.tile(start, (groups, 1)), np.tile(extent, (groups, 1))

    every = bool(valid.all())   # then no copy: ``array`` is already this layer's own

    def per_tile(array: np.ndarray) -> np.ndarray:
        kept = array if every else array[:, valid]
        return _readonly(kept.reshape(-1, array.shape[2]))

    return TileWorkCounts(
        layer=layer.name, groups=groups, tiles_per_group=int(valid.sum()),
        unit_loops=tuple(UnitLoop(loop.level_name, loop.axis, loop.dim, loop.bound)
                         for loop in layout.unit_loops),
        unit_index=_readonly(grid(layout.unit_loops)),
        tile_start=_readonly(start), tile_extent=_readonly(extent),
        dense_macs=per_tile(work.dense), input_nonzero_macs=per_tile(work.input_nonzero),
        weight_nonzero_macs=per_tile(work.weight_nonzero),
        effectual_macs=per_tile(work.effectual),
        tile_words=_frozen(box_words(layer, start, extent)),
        tile_nonzeros=_frozen(box_nonzeros(layer_trace, layout, start, extent, group)),
    )
