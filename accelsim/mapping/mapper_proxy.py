"""The mapper's cheap cost model: cycles exactly, accesses and energy approximately, for
thousands of candidate mappings at once (numpy arrays, one row per candidate).

Why a proxy: ``accelsim.analysis.analyze`` is exact but costs milliseconds per mapping; the
mapper ranks thousands per layer, then runs ``analyze`` on the best few only
(docs/mapper.md). A candidate is four arrays of shape (rows, levels, 7), dimensions in
``DIMS`` order: temporal factors ``T`` (the DRAM row is recomputed here as the ceil-division
of what the inner factors leave), spatial factors ``SX`` and ``SY``, and ``perm``, each
level's loop order as dimension indices, innermost first.

Exact here (tests check equality with ``analyze``): cycles — per dimension, the count of
temporal index tuples whose start lies inside the bound, spatial indices held at 0, plus each
fan-out's fill/drain cycles per pass (the same count over the loops at and above it) — and
utilized instances of every level. Approximate: fills, reads and updates follow Timeloop's
rules (a tile is refetched once per iteration of the loops above its level, except for the
innermost run of loops irrelevant to its tensor; an input window sliding along the innermost
loop refetches only the new rows; multicast divides the parent's reads) but treat every tile
as full-sized, so partial tiles of ceil-div splits are overcounted, and they miss the rare
identical input tile after a wrapping loop (a P loop wrapping an R loop). On the mapper's
finalists the energy is within 1 % of the analysis in 9 cases out of 10 (docs/mapper.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import inf

import numpy as np

from accelsim.arch.spec import Architecture, Tensor
from accelsim.energy.table import Action
from accelsim.mapping.model import DIMS, Mapping, layer_bounds
from accelsim.workload.layer import Layer

N_, M_, C_, P_, Q_, R_, S_ = range(7)
TENSORS = (Tensor.WEIGHTS, Tensor.INPUTS, Tensor.OUTPUTS)
RELEVANT = {
    Tensor.WEIGHTS: np.array([d in "MCRS" for d in DIMS]),
    Tensor.INPUTS: np.array([d in "NCPQRS" for d in DIMS]),
    Tensor.OUTPUTS: np.array([d in "NMPQ" for d in DIMS]),
}


@dataclass(frozen=True, slots=True)
class ProblemInfo:
    """One group of a layer as the proxy needs it."""

    bounds: tuple[int, ...]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    groups: int

    @classmethod
    def from_layer(cls, layer: Layer) -> ProblemInfo:
        sizes = layer_bounds(layer)
        return cls(tuple(sizes[d] for d in DIMS), layer.stride, layer.dilation, layer.groups)

    @property
    def macs(self) -> int:
        """MACs of one group."""
        total = 1
        for bound in self.bounds:
            total *= bound
        return total


@dataclass(frozen=True, slots=True)
class HardwareInfo:
    """Per-level numbers of an architecture: capacity, keeps, energy per word and action."""

    names: tuple[str, ...]
    capacity: tuple[float, ...]
    keeps: tuple[frozenset[Tensor], ...]
    pj: tuple[tuple[tuple[float, float, float], ...], ...]  # [level][tensor] read/write/update
    leak_pj: tuple[float, ...]
    compute_pj: float
    dram_bytes_per_word: float
    dram_bytes_per_cycle: float
    occupancy: tuple[tuple[float, float, float], ...] = ()  # [level][tensor]; () = all 1
    fill_drain: tuple[int, ...] = ()  # [level] fan-out fill/drain cycles per pass; () = none

    @classmethod
    def from_arch(cls, arch: Architecture, occupancy: Occupancy = ()) -> HardwareInfo:
        table = arch.energy
        pj, leak = [], []
        for level in arch.levels:
            entry = table.component(level.name) if table and level.name in table.names else None
            pj.append(tuple(
                tuple(entry.pj_per_count(action, tensor) if entry else 0.0
                      for action in (Action.READ, Action.WRITE, Action.UPDATE))
                for tensor in TENSORS))
            leak.append(entry.pj.leak_pj_per_cycle if entry else 0.0)
        compute = table.component(arch.compute.name).pj.compute_pj \
            if table and arch.compute.name in table.names else 0.0
        return cls(
            names=tuple(level.name for level in arch.levels),
            capacity=tuple(inf if level.capacity_words is None else float(level.capacity_words)
                           for level in arch.levels),
            keeps=tuple(level.keeps for level in arch.levels),
            pj=tuple(pj), leak_pj=tuple(leak), compute_pj=compute,
            dram_bytes_per_word=arch.levels[0].word_bits / 8,
            dram_bytes_per_cycle=arch.dram.bandwidth_bytes_per_cycle,
            occupancy=occupancy_table(arch, occupancy),
            fill_drain=tuple(level.fanout.fill_drain_cycles for level in arch.levels))

    @property
    def num_levels(self) -> int:
        return len(self.names)


@dataclass(frozen=True, slots=True)
class Estimate:
    """Per-candidate results (arrays of one value per row)."""

    fits: np.ndarray
    cycles: np.ndarray
    bound_cycles: np.ndarray
    energy_pj: np.ndarray
    dram_words: np.ndarray
    utilized: np.ndarray


def candidate_arrays(mapping: Mapping, arch: Architecture
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A valid ``Mapping`` as one proxy candidate (T, SX, SY, perm), for tests and for
    pricing a given mapping. (Recomputing DRAM's factors leaves a valid mapping's as they
    are: its outermost factor of each dimension is already the ceil-division.)"""
    levels = len(arch.levels)
    T, SX, SY = (np.ones((1, levels, 7), dtype=np.int64) for _ in range(3))
    perm = np.zeros((1, levels, 7), dtype=np.int64)
    for index, entry in enumerate(mapping.levels):
        if entry.keeps is not None and entry.keeps != arch.levels[index].keeps:
            raise ValueError(f"{entry.level}: the proxy models the architecture's keeps only")
        order = [DIMS.index(loop.dim) for loop in reversed(entry.temporal)]
        if len(set(order)) < len(order):
            raise ValueError(f"{entry.level}: a dimension loops twice at one level")
        for array, loops in ((T, entry.temporal), (SX, entry.spatial_x),
                             (SY, entry.spatial_y)):
            for loop in loops:
                array[0, index, DIMS.index(loop.dim)] *= loop.bound
        perm[0, index] = order + [d for d in range(7) if d not in order]
    return T, SX, SY, perm


def with_dram_factors(prob: ProblemInfo, T: np.ndarray, SX: np.ndarray,
                      SY: np.ndarray) -> np.ndarray:
    """``T`` with its DRAM row set to ceil(bound / product of every other factor)."""
    inner = (SX * SY).prod(axis=1) * T[:, 1:].prod(axis=1)
    out = T.copy()
    out[:, 0] = -(-np.asarray(prob.bounds) // inner)
    return out


@dataclass(frozen=True, slots=True)
class _Chain:
    """Every dimension's loops, outermost first (rows, 7, loops), without the loop positions
    that are 1 in every row (they change no count), and their strides."""

    bounds: np.ndarray
    stride: np.ndarray
    level: np.ndarray       # (loops,) level of each kept position
    spatial: np.ndarray     # (loops,) whether it is a spatial loop
    memo: dict[bytes, np.ndarray] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, T: np.ndarray, SX: np.ndarray, SY: np.ndarray) -> _Chain:
        levels = T.shape[1]
        full = np.stack((T, SX, SY), axis=2).transpose(0, 3, 1, 2).reshape(len(T), 7, -1)
        keep = (full > 1).any(axis=(0, 1))
        chain = full[..., keep]
        stride = np.ones_like(chain)
        if chain.shape[2] > 1:
            stride[..., :-1] = np.flip(np.cumprod(np.flip(chain[..., 1:], axis=2), axis=2),
                                       axis=2)
        kinds = np.tile([False, True, True], levels)[keep]
        return cls(chain, stride, np.repeat(np.arange(levels), 3)[keep], kinds)

    def count(self, counted: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Index tuples of the ``counted`` loops (others at 0) whose start is below the
        bound, per row and dimension. Counting every loop gives the bound itself (a
        mixed-radix bijection); otherwise indices whose whole sub-block fits count every
        inner tuple, at most one index is cut by the bound, and counting goes on inside it."""
        key = counted.tobytes()
        if key not in self.memo:
            self.memo[key] = np.broadcast_to(B, (len(self.bounds), 7)) if counted.all() \
                else self._count(counted, B)
        return self.memo[key]

    def _count(self, counted: np.ndarray, B: np.ndarray) -> np.ndarray:
        rows = self.bounds.shape[0]
        positions = np.flatnonzero(counted)
        room = np.broadcast_to(B, (rows, 7)).astype(np.int64)
        total = np.zeros((rows, 7), dtype=np.int64)
        if not len(positions):
            return total + 1
        # total = Σ_k [alive_k] full_k · Π_{j>k} bound_j, accumulated Horner-style (no
        # per-call cumprod of the inner bounds: the mapper's hottest array operation).
        alive = np.ones((rows, 7), dtype=bool)
        for position in positions:
            bound, step = self.bounds[..., position], self.stride[..., position]
            full = np.minimum(bound, room // step)
            total *= bound
            total += full * alive
            room -= full * step
            alive &= (full < bound) & (room > 0)
        return total + alive


@dataclass(frozen=True, slots=True)
class _Nest:
    """The arrays every estimate shares, computed once per batch of candidates."""

    prob: ProblemInfo
    hw: HardwareInfo
    bounds: np.ndarray        # (7,)
    ext: np.ndarray           # (rows, levels, 7): tile extents, clipped to the bounds
    chain: _Chain
    ordered: np.ndarray       # (rows, levels, 7): temporal factors in loop order, innermost first
    perm: np.ndarray          # (rows, levels, 7): the dimensions of ``ordered``
    counts: list[np.ndarray]  # per level (and the MACs): utilized instances per dimension
    active: np.ndarray        # (levels, 7): loop positions above 1 in some row

    def instances(self, level: int) -> np.ndarray:
        return self.counts[level].prod(axis=1)


def evaluate(prob: ProblemInfo, hw: HardwareInfo, T: np.ndarray, SX: np.ndarray,
             SY: np.ndarray, perm: np.ndarray) -> Estimate:
    """Estimate every candidate (see the module doc for what is exact)."""
    nest, tiles, fits, cycles = _prepare(prob, hw, T, SX, SY, perm)
    counts = [c for tensor in TENSORS for c in _tensor_counts(nest, tensor, tiles[tensor])]
    access_pj, dram = _energy(nest, counts)
    groups = prob.groups
    energy = access_pj + float(prob.macs) * hw.compute_pj
    for level in range(hw.num_levels):
        energy += nest.instances(level) * cycles * groups * hw.leak_pj[level]
    return Estimate(fits, cycles * groups, _bound(hw, cycles * groups, dram * groups),
                    energy * groups, dram * groups, nest.instances(hw.num_levels))


def fit_mask(prob: ProblemInfo, hw: HardwareInfo, T: np.ndarray, SX: np.ndarray,
             SY: np.ndarray) -> np.ndarray:
    """Whether every level's tiles fit its capacity — the cheap first filter."""
    return _fits(hw, tile_words(prob, T, SX, SY))


def tile_words(prob: ProblemInfo, T: np.ndarray, SX: np.ndarray, SY: np.ndarray
               ) -> dict[Tensor, np.ndarray]:
    """Words of each tensor's tile at every level, (rows, levels): what ``fits_of`` checks
    (the mapper keeps them to re-check candidates under another occupancy)."""
    T = with_dram_factors(prob, T, SX, SY)
    cum = np.flip(np.cumprod(np.flip(T * SX * SY, axis=1), axis=1), axis=1)
    return _tiles(prob, np.minimum(cum, np.asarray(prob.bounds)))


def fits_of(hw: HardwareInfo, tiles: dict[Tensor, np.ndarray]) -> np.ndarray:
    """``fit_mask`` from ``tile_words``."""
    return _fits(hw, tiles)


def estimate_counts(prob: ProblemInfo, hw: HardwareInfo, T: np.ndarray, SX: np.ndarray,
                    SY: np.ndarray, perm: np.ndarray) -> list[LevelCounts]:
    """The estimated reads, fills and updates behind ``evaluate`` (one group), for tests
    and for seeing where the proxy differs from the analysis."""
    nest, tiles, _, _ = _prepare(prob, hw, T, SX, SY, perm)
    return [c for tensor in TENSORS for c in _tensor_counts(nest, tensor, tiles[tensor])]


def _prepare(prob: ProblemInfo, hw: HardwareInfo, T: np.ndarray, SX: np.ndarray,
             SY: np.ndarray, perm: np.ndarray):
    T = with_dram_factors(prob, T, SX, SY)
    B = np.asarray(prob.bounds, dtype=np.int64)
    own = T * SX * SY
    cum = np.flip(np.cumprod(np.flip(own, axis=1), axis=1), axis=1)   # levels ≥ ℓ
    ext = np.minimum(cum, B)
    tiles = _tiles(prob, ext)
    chain = _Chain.build(T, SX, SY)
    cycles = chain.count(~chain.spatial, B).prod(axis=1)
    for level, fill in enumerate(hw.fill_drain):
        if fill:  # passes over the fan-out: temporal iterations at this level and above
            cycles = cycles + fill * chain.count(~chain.spatial & (chain.level <= level),
                                                 B).prod(axis=1)
    counts = [chain.count(chain.spatial & (chain.level < level), B)
              for level in range(hw.num_levels + 1)]
    ordered = np.take_along_axis(T, perm, axis=2)
    nest = _Nest(prob, hw, B, ext, chain, ordered, perm, counts, (ordered > 1).any(axis=0))
    return nest, tiles, _fits(hw, tiles), cycles


def _bound(hw: HardwareInfo, cycles: np.ndarray, dram_words: np.ndarray) -> np.ndarray:
    """max(cycles, DRAM bytes / DRAM bandwidth): the DRAM-bandwidth floor on a layer."""
    if not np.isfinite(hw.dram_bytes_per_cycle):
        return cycles.astype(np.float64)
    return np.maximum(cycles, np.ceil(dram_words * hw.dram_bytes_per_word /
                                      hw.dram_bytes_per_cycle))


def _tiles(prob: ProblemInfo, ext: np.ndarray) -> dict[Tensor, np.ndarray]:
    """Words of each tensor's tile at every level: (rows, levels)."""
    (sh, sw), (dh, dw) = prob.stride, prob.dilation
    h = (ext[..., P_] - 1) * sh + (ext[..., R_] - 1) * dh + 1
    w = (ext[..., Q_] - 1) * sw + (ext[..., S_] - 1) * dw + 1
    return {
        Tensor.WEIGHTS: ext[..., M_] * ext[..., C_] * ext[..., R_] * ext[..., S_],
        Tensor.INPUTS: ext[..., N_] * ext[..., C_] * h * w,
        Tensor.OUTPUTS: ext[..., N_] * ext[..., M_] * ext[..., P_] * ext[..., Q_],
    }


def _fits(hw: HardwareInfo, tiles: dict[Tensor, np.ndarray]) -> np.ndarray:
    rows = len(next(iter(tiles.values())))
    fits = np.ones(rows, dtype=bool)
    for level in range(1, hw.num_levels):
        scale = hw.occupancy[level] if hw.occupancy else (1.0, 1.0, 1.0)
        used = sum(tiles[t][:, level] * scale[TENSORS.index(t)] for t in hw.keeps[level])
        fits &= used <= hw.capacity[level]
    return fits


Occupancy = tuple[tuple[str, Tensor, float], ...]
"""(level name, tensor, words of buffer per word of data): how much room a tensor's tile
takes at a level that stores it compressed, estimated from the layer's masks — < 1 lets a
sparser trace use larger tiles. Tensors not listed take one word per word."""


def occupancy_table(arch: Architecture, occupancy: Occupancy
                    ) -> tuple[tuple[float, float, float], ...]:
    """``occupancy`` as a [level][tensor] table (empty when nothing is scaled)."""
    if not occupancy:
        return ()
    scale = {(level, tensor): value for level, tensor, value in occupancy}
    return tuple(tuple(scale.get((level.name, tensor), 1.0) for tensor in TENSORS)
                 for level in arch.levels)


@dataclass(frozen=True, slots=True)
class LevelCounts:
    """Estimated words of one tensor at one level, summed over instances (one group)."""

    level: int
    tensor: Tensor
    reads: np.ndarray
    fills: np.ndarray
    updates: np.ndarray


def _tensor_counts(nest: _Nest, tensor: Tensor, tile: np.ndarray) -> list[LevelCounts]:
    """Reads, fills and updates of one tensor at every level keeping it (Timeloop's rules,
    as in the module doc)."""
    relevant = RELEVANT[tensor]
    levels = nest.hw.num_levels
    kept = [level for level in range(levels) if tensor in nest.hw.keeps[level]]
    # words each instance of a level receives over the layer
    own = {level: tile[:, level] * _refetch(nest, tensor, level, tile[:, level])
           for level in kept[1:]}
    zero = np.zeros(len(tile))
    result = []
    for position, level in enumerate(kept):
        child = kept[position + 1] if position + 1 < len(kept) else levels
        if child == levels:   # the MACs: one word per iteration, multicast spatially
            served = _macs_served(nest, level, relevant)
        else:                 # instances differing only in irrelevant spatial loops share
            served = own[child] * nest.counts[child][:, relevant].prod(axis=1) * \
                nest.counts[level][:, ~relevant].prod(axis=1)
        fills = own[level] * nest.instances(level) if position else zero
        if tensor is Tensor.OUTPUTS:   # Timeloop: a partial sum's first write needs no read
            partition = nest.bounds[relevant].prod() * \
                nest.counts[level][:, ~relevant].prod(axis=1)
            result.append(LevelCounts(level, tensor, np.maximum(served - partition, 0),
                                      np.maximum(fills - partition, 0) if position else zero,
                                      served))
        else:
            result.append(LevelCounts(level, tensor, served, fills, zero))
    return result


def _energy(nest: _Nest, counts: list[LevelCounts]) -> tuple[np.ndarray, np.ndarray]:
    """Energy of the counted accesses, and the words moved at DRAM (one group)."""
    energy = np.zeros(len(nest.ext))
    dram = np.zeros(len(nest.ext))
    for c in counts:
        read_pj, write_pj, update_pj = nest.hw.pj[c.level][TENSORS.index(c.tensor)]
        energy += c.reads * read_pj + c.fills * write_pj + c.updates * update_pj
        if c.level == 0:
            dram += c.reads + c.fills + c.updates
    return energy, dram


def _macs_served(nest: _Nest, level: int, relevant: np.ndarray) -> np.ndarray:
    """Words ``level`` sends to the MACs: every iteration of the nest, with the spatial loops
    below ``level`` over irrelevant dimensions held at 0 (those MACs share a word). Counting
    every loop gives each dimension's bound exactly (a mixed-radix bijection)."""
    chain = nest.chain
    shared = chain.count(~(chain.spatial & (chain.level >= level)), nest.bounds)
    return np.where(relevant, nest.bounds, shared).prod(axis=1)


def _refetch(nest: _Nest, tensor: Tensor, level: int, tile: np.ndarray) -> np.ndarray:
    """Times a level's tile is (re)loaded: Timeloop's rule, walked inner → outer over the
    temporal loops above the level (see the module doc)."""
    relevant = RELEVANT[tensor]
    factor = np.ones(len(tile))
    still = np.ones(len(tile), dtype=bool)       # no relevant loop > 1 seen yet
    innermost = np.ones(len(tile), dtype=bool)   # no loop > 1 seen yet
    window = _window_steps(nest.prob, nest.ext[:, level]) \
        if tensor is Tensor.INPUTS else None
    for above in range(level - 1, -1, -1):
        for k in np.flatnonzero(nest.active[above]):   # positions that are 1 change nothing
            bound = nest.ordered[:, above, k]
            dims = nest.perm[:, above, k]
            moving = bound > 1
            is_relevant = relevant[dims]
            relevant_step = bound
            if window is not None:   # an input window sliding along the innermost loop
                fraction = np.choose(dims, window)
                relevant_step = np.where(innermost & moving, 1.0 + (bound - 1) * fraction,
                                         bound)
            factor *= np.where(is_relevant, relevant_step, np.where(still, 1, bound))
            still &= ~(is_relevant & moving)
            innermost &= ~moving
    return factor


def _window_steps(prob: ProblemInfo, ext: np.ndarray) -> list[np.ndarray]:
    """Per dimension, the fraction of an input tile that is new when the innermost loop
    advances it by one step (1 for dimensions that do not slide the window)."""
    (sh, sw), (dh, dw) = prob.stride, prob.dilation
    h = (ext[:, P_] - 1) * sh + (ext[:, R_] - 1) * dh + 1
    w = (ext[:, Q_] - 1) * sw + (ext[:, S_] - 1) * dw + 1
    ones = np.ones(len(ext))
    steps = [ones] * 7
    steps[P_] = np.minimum(ext[:, P_] * sh, h) / h
    steps[R_] = np.minimum(ext[:, R_] * dh, h) / h
    steps[Q_] = np.minimum(ext[:, Q_] * sw, w) / w
    steps[S_] = np.minimum(ext[:, S_] * dw, w) / w
    return steps
