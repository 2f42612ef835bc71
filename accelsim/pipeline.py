"""``simulate(hw, trace)``: one trace on one accelerator, layer by layer.

For every layer: a mapping (fixed by the user or found by the mapper), the nest analysis'
access counts, the per-tile schedule timed by the SimPy engine, and the energy of the
counted actions. Dense and sparse runs take this same path; a dense workload is a trace
with all-ones masks.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingType
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from math import ceil
from typing import Any

from accelsim import resources
from accelsim.analysis.analyze import analyze
from accelsim.analysis.counts import NestAnalysis
from accelsim.arch.loader import load_architecture
from accelsim.arch.spec import Architecture, Tensor
from accelsim.bundled import find_trace
from accelsim.children import die_with_parent
from accelsim.config.keys import did_you_mean
from accelsim.energy import EnergyBreakdown, energy
from accelsim.errors import AccelsimError
from accelsim.mapping.mapper import MapperResult, search, search_by_key, search_key, seed
from accelsim.mapping.mapper_proxy import Occupancy
from accelsim.mapping.model import Mapping
from accelsim.sim.engine import DramChannel, Timing, simulate_tiles
from accelsim.sim.phases import PhaseClock, laps
from accelsim.sim.schedule import BOUNDARY_LEVEL, build_schedule, compute_skips
from accelsim.sparsity.actions import MacTotals, SparseCount, energy_actions, sparse_counts
from accelsim.sparsity.tile_sizes import whole_tensor_bits_per_word
from accelsim.sparsity.work import TileWorkCounts, tile_work
from accelsim.sparsity.work_nest import LoopLayout
from accelsim.workload.trace import LayerTrace, Trace, load_trace

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class LayerResult:
    """Everything reported for one layer."""

    name: str
    geometry: str
    dense_macs: int
    effectual_macs: int
    mapping: Mapping
    analysis: NestAnalysis
    timing: Timing
    energy: EnergyBreakdown
    dram_read_bytes: MappingType[Tensor, int]
    dram_write_bytes: MappingType[Tensor, int]
    peak_macs_per_cycle: int
    sparse_counts: tuple[SparseCount, ...]
    imbalance: float

    @property
    def occupied_mac_slots(self) -> int:
        """MAC slots the array spent: every MAC it performed or gated (a skipped one takes
        no slot)."""
        compute = next(c for c in self.sparse_counts if c.access == "compute")
        return compute.actual + compute.gated

    @property
    def utilization(self) -> float:
        """Occupied MAC slots over what the array could do in the layer's total cycles."""
        capacity = self.timing.total_cycles * self.peak_macs_per_cycle
        return self.occupied_mac_slots / capacity if capacity else 0.0

    @property
    def dram_bytes(self) -> int:
        return sum(self.dram_read_bytes.values()) + sum(self.dram_write_bytes.values())


@dataclass(frozen=True, slots=True)
class RunResult:
    """One trace on one architecture: per-layer results in trace order."""

    arch: Architecture
    trace: Trace
    layers: tuple[LayerResult, ...]

    @property
    def total_cycles(self) -> int:
        return sum(layer.timing.total_cycles for layer in self.layers)

    @property
    def compute_cycles(self) -> int:
        return sum(layer.timing.compute_cycles for layer in self.layers)

    @property
    def stall_cycles(self) -> int:
        return sum(layer.timing.stall_cycles for layer in self.layers)

    @property
    def dense_macs(self) -> int:
        return sum(layer.dense_macs for layer in self.layers)

    @property
    def effectual_macs(self) -> int:
        return sum(layer.effectual_macs for layer in self.layers)

    @property
    def energy_pj(self) -> float:
        return sum(layer.energy.total_pj for layer in self.layers)

    @property
    def dram_bytes(self) -> int:
        return sum(layer.dram_bytes for layer in self.layers)

    @property
    def utilization(self) -> float:
        peak = self.layers[0].peak_macs_per_cycle if self.layers else 0
        capacity = self.total_cycles * peak
        slots = sum(layer.occupied_mac_slots for layer in self.layers)
        return slots / capacity if capacity else 0.0

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        from accelsim.report.run_report import write_layers_csv

        write_layers_csv(self, path)

    def to_json(self, path: str | os.PathLike[str]) -> None:
        from accelsim.report.run_report import write_summary_json

        write_summary_json(self, path)


def _resolve_arch(hw: str | os.PathLike[str] | Architecture) -> Architecture:
    return hw if isinstance(hw, Architecture) else load_architecture(hw)


def _resolve_trace(trace: str | os.PathLike[str] | Trace) -> Trace:
    """A Trace, a trace file, or a bundled trace's name (``resnet18``)."""
    return trace if isinstance(trace, Trace) else load_trace(find_trace(trace).path)


def select_layers(trace: Trace, names: Sequence[str] | None) -> tuple[LayerTrace, ...]:
    """The trace's layers, or those named (in trace order); an unknown name is an error."""
    if not names:
        return trace.layers
    known = [lt.layer.name for lt in trace.layers]
    for name in names:
        if name not in known:
            raise AccelsimError(f"no layer named {name!r}{did_you_mean(name, known)}",
                                file=trace.path, key="--layers")
    wanted = set(names)
    return tuple(lt for lt in trace.layers if lt.layer.name in wanted)


def expected_occupancy(layer_trace: LayerTrace, arch: Architecture) -> Occupancy:
    """For each on-chip level that stores a tensor compressed: buffer words per data word of
    this layer's tensor (its whole-tensor compressed size, rounded up to 1/64), so that the
    mapper sizes tiles for the actual data. Per-tile sizes can exceed the estimate; the
    engine then splits the tile (docs/model.md §4)."""
    entries = []
    for level in arch.levels[1:]:
        for tensor, spec in level.compression:
            bits = whole_tensor_bits_per_word(layer_trace, tensor, spec, level.word_bits)
            entries.append((level.name, tensor, ceil(64 * bits / level.word_bits) / 64))
    return tuple(entries)


MAP_JOBS_ENV = "ACCELSIM_MAP_JOBS"
"""Environment variable: processes ``simulate`` maps a network's layer shapes in (1: none)."""
_MAX_MAP_JOBS = 8


def resolve_map_jobs(requested: int | None = None) -> int:
    """How many processes map layers: ``requested``, else ``$ACCELSIM_MAP_JOBS``, else one
    per usable core (at most 8) — but 1 inside a worker process (a sweep's ``-j`` pool
    already uses the cores) and where processes cannot be forked (the workers inherit the
    loaded trace and the mapper's caches instead of pickling them)."""
    if requested is None:
        text = os.environ.get(MAP_JOBS_ENV, "").strip()
        if text:
            try:
                requested = int(text)
            except ValueError:
                raise AccelsimError(f"expected a whole number of processes, got {text!r}",
                                    key=MAP_JOBS_ENV) from None
    if requested is None:
        if multiprocessing.parent_process() is not None:
            return 1
        requested = min(_MAX_MAP_JOBS, len(os.sched_getaffinity(0))
                        if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if not sys.platform.startswith("linux") or \
            "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, requested)


_GROUP_NAME = "layer"
_WORKER_NICENESS = 10
_AHEAD: list[tuple[Architecture, Sequence[LayerTrace]]] = []   # a worker's inputs


def _ahead_init(arch: Architecture, chosen: Sequence[LayerTrace], parent_pid: int) -> None:
    die_with_parent(parent_pid)   # a SIGKILLed run leaves no worker waiting forever
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # and ``close`` terminates them quietly
    # Lower priority: the layer loop is the critical path, so it should not wait on a core
    # while the workers map shapes it needs later; when it waits for a mapping, they
    # have every core.
    os.nice(_WORKER_NICENESS)
    _AHEAD[:] = [(arch, chosen)]


def _ahead_group(indices: Sequence[int]) -> list[tuple[Occupancy, MapperResult | None]]:
    """In a worker: the occupancy and the mapper's result (canonical name; ``None`` on an
    error, which the layer loop then meets and reports in the usual place) of each layer."""
    ((arch, chosen),) = _AHEAD
    out: list[tuple[Occupancy, MapperResult | None]] = []
    for index in indices:
        layer_trace = chosen[index]
        occupancy = expected_occupancy(layer_trace, arch)
        result: MapperResult | None
        try:
            result = search_by_key(search_key(layer_trace.layer, arch, occupancy=occupancy))
        except AccelsimError:
            result = None
        out.append((occupancy, result))
    return out


class MapAhead:
    """The mapper running ahead of the layer loop in forked worker processes, one task per
    layer shape (its layers share the mapper's memos), submitted in the order the loop needs
    them: the loop simulates layer i while the workers map the shapes after it. ``wait``
    seeds the mapper's cache with a layer's result, so that the loop's own ``search`` finds
    it. Each search is a pure function of its key (``mapper.search_key``), so the results
    are those of a serial run."""

    def __init__(self, chosen: Sequence[LayerTrace], arch: Architecture, jobs: int) -> None:
        self.arch = arch
        self.chosen = chosen
        groups: dict[Any, list[int]] = {}
        for index, layer_trace in enumerate(chosen):
            groups.setdefault(replace(layer_trace.layer, name=_GROUP_NAME), []).append(index)
        # Forked workers inherit the trace (initargs are not pickled under fork).
        self.pool = ProcessPoolExecutor(min(jobs, len(groups)),
                                        multiprocessing.get_context("fork"),
                                        initializer=_ahead_init,
                                        initargs=(arch, chosen, os.getpid()))
        self.futures: dict[int, Future[list[tuple[Occupancy, MapperResult | None]]]] = {}
        self.tasks: dict[int, list[int]] = {}
        self.broken = False
        for task in groups.values():   # in order of first use
            future = self.pool.submit(_ahead_group, task)
            for index in task:
                self.futures[id(chosen[index])] = future
                self.tasks[id(chosen[index])] = task

    @classmethod
    def start(cls, chosen: Sequence[LayerTrace], arch: Architecture, jobs: int
              ) -> MapAhead | None:
        """None where it would not pay: one process, or fewer than two layer shapes."""
        shapes = {replace(lt.layer, name=_GROUP_NAME) for lt in chosen}
        if jobs <= 1 or len(shapes) < 2:
            return None
        return cls(chosen, arch, jobs)

    def wait(self, layer_trace: LayerTrace) -> Occupancy | None:
        """Block until ``layer_trace``'s shape is mapped; seed the cache with its result and
        return its occupancy (None: the loop maps it itself — not submitted, or a worker
        died)."""
        future = self.futures.pop(id(layer_trace), None)
        if future is None or self.broken:
            return None
        try:
            done = future.result()
        except BrokenProcessPool:   # a worker was killed: the loop maps what is left itself
            self.broken = True
            return None
        mine = None
        for index, (occupancy, result) in zip(self.tasks[id(layer_trace)], done, strict=True):
            if self.chosen[index] is layer_trace:
                mine = occupancy
                if result is not None:
                    seed(search_key(layer_trace.layer, self.arch, occupancy=occupancy),
                         result)
        return mine

    def close(self) -> None:
        """Stop the workers; on an error or Ctrl-C, also the tasks still running."""
        finished = not self.futures or self.broken
        running = [] if finished else list((getattr(self.pool, "_processes", None)
                                            or {}).values())
        self.pool.shutdown(wait=finished, cancel_futures=True)
        for process in running:
            process.terminate()


def simulate_layer(layer_trace: LayerTrace, arch: Architecture,
                   mapping: Mapping | None = None, *, max_memory: int | None = None,
                   resident_bytes: int = 0, clock: PhaseClock | None = None,
                   occupancy: Occupancy | None = None) -> LayerResult:
    """Map (unless ``mapping`` is given), analyse, time and price one layer.

    Before the per-tile arrays are allocated, their estimated size plus ``resident_bytes``
    (the masks already in memory) is checked against ``max_memory`` (``accelsim.resources``;
    ``None``: no check). ``clock`` accumulates each phase's wall time (benchmarks/run.py).
    ``occupancy``: ``expected_occupancy`` if already known (``MapAhead``)."""
    lap = laps(clock)
    layer = layer_trace.layer
    if mapping is None:
        if occupancy is None:
            occupancy = expected_occupancy(layer_trace, arch)
        found = search(layer, arch, occupancy=occupancy)
        mapping, analysis = found.mapping, found.analysis
    else:
        analysis = analyze(layer, arch, mapping)
    lap("map")
    if max_memory is not None:
        layout = LoopLayout.build(layer, mapping, BOUNDARY_LEVEL)
        resources.check(layer.name, resident_bytes + resources.simulate_estimate(
            layer, layout, arch), max_memory, "simulating it with its mapping")
    work = tile_work(layer_trace, arch, mapping)
    lap("work")
    schedule = build_schedule(layer_trace, arch, mapping, analysis, work)
    lap("schedule")
    dram = arch.dram
    channel = DramChannel.of(dram.bandwidth_bytes_per_cycle, dram.latency_cycles,
                             dram.burst_bytes)
    timing = simulate_tiles(schedule.tiles, channel,
                            arch.levels[BOUNDARY_LEVEL].capacity_bytes)
    lap("engine")
    totals = MacTotals(dense=int(work.dense_macs.sum()),
                       input_nonzero=int(work.input_nonzero_macs.sum()),
                       weight_nonzero=int(work.weight_nonzero_macs.sum()),
                       effectual=int(work.effectual_macs.sum()))
    densities = {Tensor.INPUTS: layer_trace.input_density,
                 Tensor.WEIGHTS: layer_trace.weight_density}
    if layer_trace.output_mask is not None:
        densities[Tensor.OUTPUTS] = layer_trace.output_density
    counts = sparse_counts(analysis, arch, totals, densities)
    breakdown = energy(energy_actions(counts, analysis, timing.total_cycles), arch.energy)
    _check_finite(layer.name, breakdown)
    imbalance = _imbalance(work, arch)
    lap("energy")
    return LayerResult(
        name=layer.name,
        geometry=layer.describe(),
        dense_macs=layer.macs,
        effectual_macs=totals.effectual,
        mapping=mapping,
        analysis=analysis,
        timing=timing,
        energy=breakdown,
        dram_read_bytes=schedule.dram_read_bytes,
        dram_write_bytes=schedule.dram_write_bytes,
        peak_macs_per_cycle=arch.num_macs * arch.compute.macs_per_cycle,
        sparse_counts=counts,
        imbalance=imbalance,
    )


def _check_finite(name: str, breakdown: EnergyBreakdown) -> None:
    """Counts are exact integers, but energies are floats: an overflow (inf) or a NaN would
    otherwise flow silently into every total and report."""
    values = [breakdown.total_pj, *breakdown.by_component.values()]
    bad = next((value for value in values if not math.isfinite(value)), None)
    if bad is not None:
        raise AccelsimError(f"energy is not finite ({bad} pJ): a count × pJ per count "
                            "overflowed; check the energy table's values", key=f"layer {name!r}")


def _imbalance(work: TileWorkCounts, arch: Architecture) -> float:
    """Busiest unit over mean unit, weighted by tile: Σ_t max_u / Σ_t mean_u of the work the
    MACs spend cycles on (1.0 = perfectly balanced)."""
    per_unit = work.work(*compute_skips(arch))
    if per_unit.size == 0 or not per_unit.any():
        return 1.0
    return float(per_unit.max(axis=1).sum() * per_unit.shape[1] / per_unit.sum())


def simulate(hw: str | os.PathLike[str] | Architecture, trace: str | os.PathLike[str] | Trace,
             *, mappings: MappingType[str, Mapping] | None = None,
             layers: Sequence[str] | None = None, progress: Progress | None = None,
             max_memory: int | None = None, clock: PhaseClock | None = None,
             map_jobs: int | None = None) -> RunResult:
    """Simulate ``trace`` on ``hw`` (a config path, a bundled name, or an Architecture).

    ``mappings`` fixes the mapping of named layers; the mapper chooses the others.
    ``progress(done, total, layer_name)`` is called after each layer. A layer whose
    estimated memory exceeds ``max_memory`` bytes (default: a share of the machine's,
    ``accelsim.resources``) is refused with one line before anything is allocated for it.
    ``clock`` (a ``PhaseClock``) accumulates the wall time of each phase. The mapper runs
    ahead over ``map_jobs`` processes (default: ``resolve_map_jobs()``; 1 maps in the layer loop).
    """
    arch = _resolve_arch(hw)
    loaded = _resolve_trace(trace)
    chosen = select_layers(loaded, layers)
    fixed = dict(mappings or {})
    known = {lt.layer.name for lt in loaded.layers}
    for name in fixed:
        if name not in known:
            raise AccelsimError(f"a mapping is given for layer {name!r}, which the trace does "
                                f"not have{did_you_mean(name, sorted(known))}",
                                file=loaded.path, key="--mapping")
    limit = resources.resolve_limit(max_memory)
    resident = sum(resources.mask_elements(lt.layer) for lt in loaded.layers)
    for layer_trace in chosen:  # fail fast, before the mapper or any layer's work
        resources.check(layer_trace.layer.name, resident + resources.simulate_lower_bound(
            layer_trace.layer), limit, "simulating it")
    lap = laps(clock)
    ahead = MapAhead.start([lt for lt in chosen if lt.layer.name not in fixed], arch,
                           resolve_map_jobs(map_jobs))
    lap("map")
    results = []
    try:
        for done, layer_trace in enumerate(chosen, start=1):
            lap = laps(clock)
            occupancy = None if ahead is None else ahead.wait(layer_trace)
            lap("map")
            try:
                results.append(simulate_layer(
                    layer_trace, arch, fixed.get(layer_trace.layer.name), max_memory=limit,
                    resident_bytes=resident, clock=clock, occupancy=occupancy))
            except AccelsimError as err:
                if err.key is None and err.file is None:
                    raise type(err)(err.message,
                                    key=f"layer {layer_trace.layer.name!r}") from None
                raise
            if progress is not None:
                progress(done, len(chosen), layer_trace.layer.name)
    finally:
        if ahead is not None:
            ahead.close()
    return RunResult(arch=arch, trace=loaded, layers=tuple(results))


def result_summary(result: RunResult) -> dict[str, Any]:
    """Network totals as plain data (used by reports and comparisons)."""
    return {
        "layers": len(result.layers),
        "total_cycles": result.total_cycles,
        "compute_cycles": result.compute_cycles,
        "stall_cycles": result.stall_cycles,
        "utilization": result.utilization,
        "dense_macs": result.dense_macs,
        "effectual_macs": result.effectual_macs,
        "energy_pj": result.energy_pj,
        "dram_bytes": result.dram_bytes,
    }
