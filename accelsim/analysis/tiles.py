"""The sequence of tiles at one storage level, iteration by iteration of the loops above it.

The timing engine and the per-tile sparse work iterate over tiles at the DRAM / global-buffer
boundary; this gives them, as arrays, each tile's box in the seven loop dimensions and the
words each tensor moves at that step — the same counts the closed form sums (a test checks
that the sums agree). Arrays have one row per iteration, so use it at outer levels, where the
iterations are few (``max_iterations`` guards against an inner level by mistake).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from accelsim.analysis.nest import Nest, NestLoop
from accelsim.analysis.problem import AXES, REDUCTION_DIMS, RELEVANT, Problem
from accelsim.arch.spec import Architecture, Tensor
from accelsim.errors import AccelsimError
from accelsim.mapping.model import DIMS, Mapping, check_mapping
from accelsim.workload.layer import Layer


@dataclass(frozen=True, slots=True)
class TileSequence:
    """Tiles of ``level`` in execution order (read-only arrays, one row per iteration).

    ``start`` and ``extent`` (iterations × 7, columns in ``DIMS`` order N M C P Q R S) give
    the box of instance 0 (every spatial index 0); at a level with one instance that is the
    whole tile. ``fills[t]`` and ``updates[t]`` are words moved into the level (from its
    parent) and out of it (partial sums back to the parent) at each iteration, summed over
    all instances. ``parent_accesses[t]`` is what the parent sees: reads, with a multicast
    word counted once, or (outputs) updates after the spatial reduction. ``words[t]`` is
    the tile size of instance 0.
    """

    level: str
    loops: tuple[str, ...]
    index: np.ndarray
    start: np.ndarray
    extent: np.ndarray
    instances: int
    words: dict[Tensor, np.ndarray]
    fills: dict[Tensor, np.ndarray]
    updates: dict[Tensor, np.ndarray]
    parent_accesses: dict[Tensor, np.ndarray]

    def __len__(self) -> int:
        return len(self.start)


def tile_sequence(layer: Layer, arch: Architecture, mapping: Mapping, level: str,
                  max_iterations: int = 1_000_000) -> TileSequence:
    check_mapping(mapping, layer, arch)
    nest = Nest.build(Problem.from_layer(layer), arch, mapping)
    index = arch.level_index(level)
    temporal = tuple(loop for loop in nest.above(index) if not loop.spatial)
    spatial = tuple(loop for loop in nest.above(index) if loop.spatial)
    count = prod(loop.bound for loop in temporal) * prod(loop.bound for loop in spatial)
    if count > max_iterations:
        raise AccelsimError(f"level {level!r} has {count} tile positions, more than "
                            f"max_iterations={max_iterations}; use an outer level")
    grid = _grid(temporal)                                  # (iterations, loops)
    inst = _grid(spatial)                                   # (instances, loops)
    start = _starts(nest, temporal, grid)[:, None, :] + _starts(nest, spatial, inst)[None]
    sizes = np.array(nest.problem.bounds)
    full = np.array([nest.table(index, d).full_extent for d in DIMS])
    valid = (start < sizes).all(axis=2)                     # (iterations, instances)
    keep = valid.any(axis=1)
    grid, start, valid = grid[keep], start[keep], valid[keep]
    extent = np.where(valid[..., None], np.minimum(full, sizes - start), 0)
    words, fills, updates, reads = {}, {}, {}, {}
    for tensor in Tensor:
        if tensor not in nest.keeps[index]:
            continue
        box_lo, box_hi = _boxes(nest.problem, tensor, start, extent)
        size = np.prod(box_hi - box_lo, axis=2) * valid
        delta = _deltas(nest, temporal, grid, valid, box_lo, box_hi, size, tensor)
        if tensor is Tensor.OUTPUTS:
            reduction = [i for i, loop in enumerate(temporal) if loop.dim in REDUCTION_DIMS]
            first = (grid[:, reduction] == 0).all(axis=1) if reduction else \
                np.ones(len(grid), dtype=bool)
            incoming = delta * ~first[:, None]
            updates[tensor] = _readonly(delta.sum(axis=1))
        else:
            incoming = delta
            updates[tensor] = _readonly(np.zeros(len(grid), dtype=np.int64))
        has_parent = nest.tensor_chain(tensor).index(index) > 0
        if not has_parent:
            incoming = np.zeros_like(incoming)
            updates[tensor] = _readonly(np.zeros(len(grid), dtype=np.int64))
        parent = nest.tensor_chain(tensor)[max(nest.tensor_chain(tensor).index(index) - 1, 0)]
        shared = np.ones(inst.shape[0], dtype=bool)
        for column, loop in enumerate(spatial):
            if loop.level >= parent and loop.dim not in RELEVANT[tensor]:
                shared &= inst[:, column] == 0
        words[tensor] = _readonly(size[:, 0])
        fills[tensor] = _readonly(incoming.sum(axis=1))
        outgoing = delta if tensor is Tensor.OUTPUTS and has_parent else incoming
        reads[tensor] = _readonly(outgoing[:, shared].sum(axis=1))
    return TileSequence(level, tuple(f"{loop.dim}{loop.bound}" for loop in temporal),
                        _readonly(grid), _readonly(start[:, 0]), _readonly(extent[:, 0]),
                        int(valid.any(axis=0).sum()), words, fills, updates, reads)


def _grid(loops: tuple[NestLoop, ...]) -> np.ndarray:
    bounds = [loop.bound for loop in loops]
    if not bounds:
        return np.zeros((1, 0), dtype=np.int64)
    return np.indices(bounds, dtype=np.int64).reshape(len(bounds), -1).T


def _starts(nest: Nest, loops: tuple[NestLoop, ...], grid: np.ndarray) -> np.ndarray:
    weights = np.zeros((len(loops), len(DIMS)), dtype=np.int64)
    for row, loop in enumerate(loops):
        weights[row, DIMS.index(loop.dim)] = loop.stride
    return grid @ weights


def _boxes(problem: Problem, tensor: Tensor, start: np.ndarray,
           extent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis [lo, hi) of the tensor's bounding box for each (iteration, instance)."""
    lows, highs = [], []
    for axis in AXES[tensor]:
        columns = [DIMS.index(d) for d in axis]
        if len(axis) == 1:
            lo = start[..., columns[0]]
            hi = lo + extent[..., columns[0]]
        else:
            step, dil = problem.pair_coefficients(axis)  # type: ignore[arg-type]
            lo = start[..., columns[0]] * step + start[..., columns[1]] * dil
            hi = lo + (extent[..., columns[0]] - 1) * step + \
                (extent[..., columns[1]] - 1) * dil + 1
        lows.append(lo)
        highs.append(hi)
    return np.stack(lows, axis=-1), np.stack(highs, axis=-1)


def _deltas(nest: Nest, temporal: tuple[NestLoop, ...], grid: np.ndarray, valid: np.ndarray,
            lo: np.ndarray, hi: np.ndarray, size: np.ndarray, tensor: Tensor) -> np.ndarray:
    """Words new to each instance's tile at each iteration (the rule in the module doc)."""
    moving = [i for i, loop in enumerate(temporal) if loop.bound > 1]
    delta = size.copy()
    if len(grid) < 2:
        return delta
    # Previous valid iteration of each instance (validity only ever ends a run early).
    order = np.arange(len(grid))[:, None].repeat(valid.shape[1], axis=1)
    last = np.maximum.accumulate(np.where(valid, order, -1), axis=0)
    prev = np.vstack([np.full((1, valid.shape[1]), -1), last[:-1]])
    cols = np.arange(valid.shape[1])[None, :].repeat(len(grid), axis=0)
    has_prev = prev >= 0
    p = np.where(has_prev, prev, 0)
    p_lo, p_hi = lo[p, cols], hi[p, cols]
    inter = np.prod(np.maximum(np.minimum(hi, p_hi) - np.maximum(lo, p_lo), 0), axis=2)
    identical = (lo == p_lo).all(axis=2) & (hi == p_hi).all(axis=2)
    innermost_step = np.zeros(len(grid), dtype=bool)
    if moving:
        innermost_step = grid[:, moving[-1]] > 0
    keep_overlap = innermost_step[:, None]
    delta = np.where(has_prev & keep_overlap, size - inter, delta)
    delta = np.where(has_prev & ~keep_overlap & identical, 0, delta)
    return delta * valid


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array
