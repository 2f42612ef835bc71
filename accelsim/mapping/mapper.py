"""The mapper: the best mapping of a layer on an architecture under a dataflow template,
ranked by cycles then energy, deterministically (design.md §4, docs/mapper.md).

Search, in four steps:

1. spatial: unroll the fan-outs over the template's X and Y dimensions, keeping the
   unrollings with the fewest ideal cycles (``mapper_space.spatial_options``);
2. temporal, level by level from the innermost buffer outwards (a beam search): each level
   takes factors of what its inner levels and the array leave — per-PE buffers over the
   template's stationary dimensions, shared buffers over any — and DRAM takes the rest as
   ceil-divisions; candidates whose tiles overflow a buffer are rejected;
3. loop orders of the shared buffers and DRAM, over the template's orders;
4. the best few by the proxy (``mapper_proxy``) are analysed exactly with ``analyze`` and
   the best of those by (bandwidth-bound cycles, energy) is returned.

Work is bounded by counted candidates (``SearchOptions.max_candidates``), so the result is
reproducible; ``time_budget_s`` is a safety net only, and a result cut by it says so.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from math import ceil, isfinite
from typing import Any

import numpy as np

from accelsim.analysis import analyze
from accelsim.analysis.counts import NestAnalysis
from accelsim.arch.spec import Architecture
from accelsim.mapping.action_counts import analysis_energy, dram_words
from accelsim.mapping.dataflows import DATAFLOWS, Dataflow, get_dataflow
from accelsim.mapping.mapper_proxy import (
    TENSORS,
    Estimate,
    HardwareInfo,
    Occupancy,
    ProblemInfo,
    evaluate,
    fit_mask,
    fits_of,
    tile_words,
)
from accelsim.mapping.mapper_space import (
    SearchOptions,
    SpatialOption,
    clear_space_cache,
    level_choices,
    spatial_options,
)
from accelsim.mapping.model import DIMS, LevelMapping, Loop, Mapping, MappingError
from accelsim.workload.layer import Layer

OBJECTIVES = (("cycles", "energy"), ("energy", "cycles"))
DEFAULT_TIME_BUDGET_S = 10.0
_CHUNK_ROWS = 8192
_CANONICAL_NAME = "layer"
_ESTIMATE_MEMO_CHUNKS = 32
"""Chunks of proxy estimates kept (at most ``_CHUNK_ROWS`` rows each, ~1 MB): enough for
the layers of one shape that follow each other in a ResNet stage."""
_ESTIMATES: dict[tuple[Any, ...], tuple[Estimate, dict[Any, np.ndarray]]] = {}
_SEEDED: dict[tuple[Any, ...], MapperResult] = {}
"""Results computed in worker processes (``seed``), taken by the next search of their key."""


@dataclass(frozen=True, slots=True)
class MapperResult:
    """The chosen mapping with its exact analysis and how the search went.

    ``cycles`` assume unconstrained bandwidth (the nest analysis); ``bound_cycles`` is
    max(cycles, DRAM bytes / DRAM bandwidth), the key the mapper ranked by. Of the
    ``candidates_evaluated``, ``candidates_rejected`` overflowed a buffer and ``analyzed``
    went through the exact analysis. ``budget_exhausted`` says which budget cut the search
    short, if any ("candidates": still reproducible; "time": the safety net, not).
    """

    layer: str
    dataflow: str
    mapping: Mapping
    analysis: NestAnalysis
    cycles: int
    bound_cycles: int
    energy_pj: float | None
    dram_words: int
    candidates_evaluated: int
    candidates_rejected: int
    analyzed: int
    budget_exhausted: str | None = None   # None, "candidates" or "time"

    @property
    def utilization(self) -> float:
        return self.analysis.utilization


def search(layer: Layer, arch: Architecture, *, dataflow: str | None = None,
           time_budget_s: float = DEFAULT_TIME_BUDGET_S,
           objective: tuple[str, str] = ("cycles", "energy"),
           options: SearchOptions | None = None,
           occupancy: Occupancy = ()) -> MapperResult:
    """Map ``layer`` on ``arch``; ``dataflow`` defaults to the architecture's, else every
    template is tried. ``occupancy`` sizes tiles of compressed tensors by their expected
    compressed size (a sparser trace can take larger tiles). Results are cached on the
    layer's geometry (not its name), the architecture and ``occupancy``."""
    key = search_key(layer, arch, dataflow=dataflow, time_budget_s=time_budget_s,
                     objective=objective, options=options, occupancy=occupancy)
    result = _search_cached(*key)
    _SEEDED.pop(key, None)   # a seed for a key already cached (a warm run) is not needed
    return _renamed(result, layer.name)


SearchKey = tuple[Any, ...]
"""What a search's result depends on (the layer's geometry, not its name): the cache key."""


def search_key(layer: Layer, arch: Architecture, *, dataflow: str | None = None,
               time_budget_s: float = DEFAULT_TIME_BUDGET_S,
               objective: tuple[str, str] = ("cycles", "energy"),
               options: SearchOptions | None = None,
               occupancy: Occupancy = ()) -> SearchKey:
    """``search``'s arguments, checked, as its cache key (for ``search_by_key``/``seed``)."""
    objective = tuple(objective)  # type: ignore[assignment]
    if objective not in OBJECTIVES:
        raise MappingError(f"expected one of {', '.join(map(str, OBJECTIVES))}, "
                           f"got {objective!r}", key="objective")
    names = _dataflow_names(dataflow, arch)
    _check_mappable(layer, arch)
    geometry = replace(layer, name=_CANONICAL_NAME)
    return (geometry, arch, names, objective, float(time_budget_s),
            options or SearchOptions(), tuple(occupancy))


def search_by_key(key: SearchKey) -> MapperResult:
    """The (cached) result of ``search_key``'s search, under the canonical layer name:
    what a worker process sends back for ``seed``."""
    return _search_cached(*key)


def seed(key: SearchKey, result: MapperResult) -> None:
    """Give the cache a result computed elsewhere (``search_by_key`` in a worker process,
    ``accelsim.pipeline.MapAhead``): the next search of ``key`` takes it instead of searching.
    The search is a pure function of ``key``, so this changes no result."""
    _SEEDED[key] = result


def map_layers(layers: Sequence[Layer], arch: Architecture, **kwargs: Any
               ) -> tuple[MapperResult, ...]:
    """``search`` every layer; repeated shapes are mapped once (the cache)."""
    return tuple(search(layer, arch, **kwargs) for layer in layers)


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int
    misses: int
    size: int


def clear_cache() -> None:
    """Forget every cached result (results never depend on the cache; tests use this)."""
    _search_cached.cache_clear()
    _SEEDED.clear()
    _analyzed.cache_clear()
    _ESTIMATES.clear()
    clear_space_cache()


def cache_info() -> CacheStats:
    info = _search_cached.cache_info()
    return CacheStats(info.hits, info.misses, info.currsize)


def _dataflow_names(dataflow: str | None, arch: Architecture) -> tuple[str, ...]:
    if dataflow is not None:
        return (get_dataflow(dataflow).name,)
    if arch.dataflow is not None:
        return (get_dataflow(arch.dataflow).name,)
    return tuple(DATAFLOWS)


def _renamed(result: MapperResult, name: str) -> MapperResult:
    mapping = replace(result.mapping, layer=name)
    return replace(result, layer=name, mapping=mapping,
                   analysis=replace(result.analysis, layer=name, mapping=mapping))


def _check_mappable(layer: Layer, arch: Architecture) -> None:
    """One-line error when even one word per tensor overflows a level."""
    for level in arch.levels:
        capacity = level.capacity_words
        if capacity is not None and capacity < len(level.keeps):
            kept = ", ".join(sorted(t.value for t in level.keeps))
            raise MappingError(
                f"nothing fits level {level.name!r}: it holds {capacity} words, the smallest "
                f"tiles of {kept} need {len(level.keeps)}", key=f"layer {layer.name}")


@functools.lru_cache(maxsize=1024)
def _search_cached(layer: Layer, arch: Architecture, dataflows: tuple[str, ...],
                   objective: tuple[str, str], time_budget_s: float,
                   options: SearchOptions, occupancy: Occupancy) -> MapperResult:
    seeded = _SEEDED.pop((layer, arch, dataflows, objective, time_budget_s, options,
                          occupancy), None)
    if seeded is not None:
        return seeded
    deadline = time.perf_counter() + time_budget_s   # one safety net for the whole layer
    results = [_Search(layer, arch, DATAFLOWS[name], objective, deadline, options,
                       occupancy).run()
               for name in dataflows]
    return min(results, key=lambda r: _exact_key(r, objective))


def _exact_key(result: MapperResult, objective: tuple[str, str]) -> tuple[float, float]:
    energy = result.energy_pj if result.energy_pj is not None else 0.0
    if objective[0] == "cycles":
        return (result.bound_cycles, energy)
    return (energy, result.bound_cycles)


@functools.lru_cache(maxsize=64)
def _hardware(arch: Architecture, occupancy: Occupancy) -> HardwareInfo:
    return HardwareInfo.from_arch(arch, occupancy)


@dataclass(frozen=True, slots=True)
class _Beam:
    """Complete candidates as arrays, one row each; DRAM's factors (row 0 of ``temporal``)
    are recomputed as what the inner levels leave, so outer levels may still take loops."""

    spatial: np.ndarray        # (rows,) index into the spatial options
    temporal: np.ndarray       # (rows, levels, 7) temporal factors
    perm: np.ndarray           # (rows, levels, 7) loop orders, innermost first

    def __len__(self) -> int:
        return len(self.spatial)

    def take(self, rows: np.ndarray) -> _Beam:
        return _Beam(self.spatial[rows], self.temporal[rows], self.perm[rows])


class _Search:
    """One layer, one template: the steps of the module doc. Internal and short-lived."""

    def __init__(self, layer: Layer, arch: Architecture, flow: Dataflow,
                 objective: tuple[str, str], deadline: float,
                 options: SearchOptions, occupancy: Occupancy = ()) -> None:
        self.layer, self.arch, self.flow = layer, arch, flow
        self.occupancy = occupancy
        self.objective, self.options = objective, options
        self.prob = ProblemInfo.from_layer(layer)
        self.hw = _hardware(arch, occupancy)
        self.levels = len(arch.levels)
        self.deadline = deadline
        self.evaluated = 0   # every candidate considered (the result reports it)
        self.rejected = 0    # of those, the ones whose tiles overflow a buffer
        self.estimated = 0   # of those, the ones the proxy costed (the budget counts these)
        self.exhausted: str | None = None
        self.spatials = spatial_options(self.prob.bounds, arch, flow, options)
        arrays = [option.arrays() for option in self.spatials]
        self.sx = np.stack([x for x, _ in arrays])
        self.sy = np.stack([y for _, y in arrays])

    def run(self) -> MapperResult:
        count = len(self.spatials)
        beam = _Beam(np.arange(count), np.ones((count, self.levels, 7), dtype=np.int64),
                     np.broadcast_to(self._default_perm(), (count, self.levels, 7)).copy())
        beam = self._keep_best(beam, self.options.beam_per_spatial, final=self.levels == 1)
        for level in range(self.levels - 1, 0, -1):
            beam = self._keep_best(self._expand(beam, level), self.options.beam_per_spatial,
                                   final=level == 1)
        beam = self._keep_best(self._reorder(beam), self.options.beam_width, final=True)
        return self._refine(beam.take(np.arange(min(len(beam), self.options.refine_top))))

    # -- candidates ---------------------------------------------------------------------

    def _default_perm(self) -> np.ndarray:
        return np.array([[DIMS.index(d) for d in self._level_order(level)]
                         for level in range(self.levels)])

    def _per_pe(self, level: int) -> bool:
        return level > 0 and self.arch.instances(level) > 1

    def _level_order(self, level: int) -> tuple[str, ...]:
        buffer_order = self.flow.buffer_orders[0].dims
        if not self._per_pe(level):
            return buffer_order
        dims = self.flow.pe_dims(self.arch.levels[level].keeps)
        return (*dims, *(d for d in buffer_order if d not in dims))

    def _level_dims(self, level: int) -> tuple[str, ...]:
        if self._per_pe(level):
            return self.flow.pe_dims(self.arch.levels[level].keeps)
        return self.flow.buffer_orders[0].dims

    def _expand(self, beam: _Beam, level: int) -> _Beam:
        """Every beam row × the factors ``level`` may take that fit the buffers (within the
        budget; the all-ones choice of each row always fits, as the row itself does)."""
        bounds = np.asarray(self.prob.bounds)
        done = (self.sx[beam.spatial] * self.sy[beam.spatial]).prod(axis=1) * \
            beam.temporal[:, level + 1:].prod(axis=1)
        remaining = -(-bounds // done)
        blocks = [level_choices(remaining[row], self._level_dims(level),
                                self.options.max_level_dims, self._factor_options(level))
                  for row in range(len(beam))]
        owners = np.repeat(np.arange(len(beam)), [len(block) for block in blocks])
        grown = beam.take(owners)
        grown.temporal[:, level] = np.concatenate(blocks)
        ok = fit_mask(self.prob, self.hw, grown.temporal, self.sx[grown.spatial],
                      self.sy[grown.spatial])
        self.evaluated += int((~ok).sum())
        self.rejected += int((~ok).sum())
        keep = np.flatnonzero(ok)
        allowed = self._allowance(len(keep))
        if allowed < len(keep):   # the budget: a deterministic prefix, plus each row's ones
            first = np.r_[0, np.cumsum([len(block) for block in blocks])[:-1]]
            keep = np.union1d(keep[:allowed], first)
        return grown.take(keep)

    def _factor_options(self, level: int) -> int:
        if self._per_pe(level):
            return self.options.max_factor_options
        return self.options.max_buffer_factor_options

    def _allowance(self, wanted: int) -> int:
        """How many more candidates the budget allows the proxy to estimate."""
        if self.exhausted is None and time.perf_counter() > self.deadline:
            self.exhausted = "time"
        if self.exhausted == "time":
            return 0
        left = max(0, self.options.max_candidates - self.estimated)
        if left < wanted and self.exhausted is None:
            self.exhausted = "candidates"
        return left

    def _reorder(self, beam: _Beam) -> _Beam:
        """Every row × the template's loop orders at each shared buffer and at DRAM."""
        shared = [level for level in range(self.levels) if not self._per_pe(level)]
        orders = [[DIMS.index(d) for d in order.dims] for order in self.flow.buffer_orders]
        combos = list(itertools.product(orders, repeat=len(shared)))
        grown = beam.take(np.repeat(np.arange(len(beam)), len(combos)))
        for index, combo in enumerate(combos):
            for level, order in zip(shared, combo, strict=True):
                grown.perm[index::len(combos), level] = order
        return grown

    # -- ranking --------------------------------------------------------------------------

    def _estimate(self, beam: _Beam) -> Estimate:
        parts = [self._estimate_rows(np.arange(start, min(start + _CHUNK_ROWS, len(beam))),
                                     beam)
                 for start in range(0, len(beam), _CHUNK_ROWS)]
        merged = Estimate(*(np.concatenate([getattr(p, f.name) for p in parts])
                            for f in fields(Estimate)))
        self.estimated += len(beam)
        self.evaluated += len(beam)
        self.rejected += int((~merged.fits).sum())
        return merged

    def _estimate_rows(self, rows: np.ndarray, beam: _Beam) -> Estimate:
        """The proxy's estimate of ``rows``. With an occupancy, everything but ``fits`` is
        taken from (or stored in) a memo shared by the layers of this shape: a sparse run
        maps each such layer again, and most of its candidates are the same rows."""
        spatial = beam.spatial[rows]
        T, SX, SY, perm = beam.temporal[rows], self.sx[spatial], self.sy[spatial], \
            beam.perm[rows]
        if not self.occupancy:
            return evaluate(self.prob, self.hw, T, SX, SY, perm)
        key = (self.prob, self.arch, self.flow.name, self.options, spatial.tobytes(),
               T.tobytes(), perm.tobytes())
        memo = _ESTIMATES.get(key)
        if memo is None:
            memo = (evaluate(self.prob, _hardware(self.arch, ()), T, SX, SY, perm),
                    tile_words(self.prob, T, SX, SY))
            _ESTIMATES[key] = memo
            while len(_ESTIMATES) > _ESTIMATE_MEMO_CHUNKS:
                del _ESTIMATES[next(iter(_ESTIMATES))]   # oldest first
        shared, tiles = memo
        return replace(shared, fits=fits_of(self.hw, tiles))

    def _order(self, est: Estimate, final: bool) -> np.ndarray:
        """Fitting rows, best first; ties keep enumeration order (determinism).

        Before the outermost buffer is tiled, DRAM still holds everything above, so the
        DRAM-bandwidth bound is provisional: the best rows by compute cycles and the best by
        bound cycles are interleaved, so the outer levels get to improve either kind.
        """
        index = np.arange(len(est.fits))
        bound = self._ranked(est, est.bound_cycles, index)
        if final or np.array_equal(est.bound_cycles, est.cycles):
            return bound
        compute = self._ranked(est, est.cycles, index)
        mixed = np.empty(2 * len(bound), dtype=np.int64)
        mixed[0::2], mixed[1::2] = compute, bound
        _, first = np.unique(mixed, return_index=True)
        return mixed[np.sort(first)]

    def _ranked(self, est: Estimate, cycles: np.ndarray, index: np.ndarray) -> np.ndarray:
        keys = (cycles, est.energy_pj)
        if self.objective[0] == "energy":
            keys = keys[::-1]
        order = np.lexsort((index, keys[1], keys[0]))
        return order[est.fits[order]]

    def _keep_best(self, beam: _Beam, per_spatial: int, final: bool) -> _Beam:
        """The best ``beam_width`` rows, at most ``per_spatial`` per spatial option (so the
        beam keeps several unrollings alive)."""
        kept: list[int] = []
        taken: dict[int, int] = {}
        for row in self._order(self._estimate(beam), final):
            option = int(beam.spatial[row])
            if taken.get(option, 0) < per_spatial:
                taken[option] = taken.get(option, 0) + 1
                kept.append(int(row))
                if len(kept) == self.options.beam_width:
                    break
        return beam.take(np.array(kept, dtype=np.int64))

    # -- exact refinement -------------------------------------------------------------------

    def _refine(self, finalists: _Beam) -> MapperResult:
        results = []
        for row in range(len(finalists)):
            mapping = self._mapping(finalists.take(np.array([row])))
            analysis = _analyzed(self.layer, self.arch, mapping)
            if _fits(analysis, self.arch, self.hw):
                results.append(self._result(mapping, analysis, len(finalists)))
        if not results:
            raise MappingError("no candidate mapping fits the buffers",
                               key=f"layer {self.layer.name}")
        return min(results, key=lambda r: _exact_key(r, self.objective))

    def _result(self, mapping: Mapping, analysis: NestAnalysis, analyzed: int) -> MapperResult:
        breakdown = analysis_energy(analysis, self.arch)
        words = dram_words(analysis, self.arch)
        return MapperResult(
            layer=self.layer.name, dataflow=self.flow.name, mapping=mapping,
            analysis=analysis, cycles=analysis.cycles,
            bound_cycles=_bound_cycles(analysis.cycles, words, self.arch),
            energy_pj=None if breakdown is None else breakdown.total_pj, dram_words=words,
            candidates_evaluated=self.evaluated, candidates_rejected=self.rejected,
            analyzed=analyzed, budget_exhausted=self.exhausted)

    def _mapping(self, row: _Beam) -> Mapping:
        option: SpatialOption = self.spatials[int(row.spatial[0])]
        temporal, perm = row.temporal[0].copy(), row.perm[0]
        inner = (self.sx[row.spatial[0]] * self.sy[row.spatial[0]]).prod(axis=0) * \
            temporal[1:].prod(axis=0)
        bounds = np.asarray(self.prob.bounds)
        temporal[0] = -(-bounds // inner)
        # A split that overshoots its bound writes its outermost (DRAM) factor even when 1.
        explicit = inner > bounds
        entries = []
        for level, spec in enumerate(self.arch.levels):
            loops = tuple(Loop(DIMS[d], int(temporal[level, d])) for d in reversed(perm[level])
                          if temporal[level, d] > 1 or (level == 0 and explicit[d]))
            entries.append(LevelMapping(
                level=spec.name, temporal=loops,
                spatial_x=tuple(Loop(d, f) for d, f in reversed(option.x[level])),
                spatial_y=tuple(Loop(d, f) for d, f in reversed(option.y[level])),
                keeps=spec.keeps))
        return Mapping(tuple(entries), layer=self.layer.name)


@functools.lru_cache(maxsize=4096)
def _analyzed(layer: Layer, arch: Architecture, mapping: Mapping) -> NestAnalysis:
    """``analyze``, cached: layers of one shape whose masks differ (a sparse run's
    occupancy) are searched again, and their finalists are mostly the same mappings."""
    return analyze(layer, arch, mapping)


def _fits(analysis: NestAnalysis, arch: Architecture, hw: HardwareInfo) -> bool:
    """Every level's tiles within its capacity (the analysis's utilized capacity, each
    tensor's words scaled by its expected occupancy)."""
    for index, level in enumerate(arch.levels):
        capacity = level.capacity_words
        if capacity is None:
            continue
        scale = hw.occupancy[index] if hw.occupancy else (1.0, 1.0, 1.0)
        used = sum(c.tile_words * scale[TENSORS.index(c.tensor)]
                   for c in analysis.at_level(level.name))
        if used > capacity:
            return False
    return True


def _bound_cycles(cycles: int, words: int, arch: Architecture) -> int:
    bandwidth = arch.dram.bandwidth_bytes_per_cycle
    if not isfinite(bandwidth):
        return cycles
    return max(cycles, ceil(words * arch.levels[0].word_bits / 8 / bandwidth))
