"""The speed-ups of issue 7 change no result: each fast path against the path it shortcuts."""

from __future__ import annotations

import numpy as np

from accelsim.arch import load_architecture
from accelsim.mapping import mapper
from accelsim.mapping.mapper import clear_cache, search
from accelsim.sim.phases import PHASES, PhaseClock
from accelsim.sparsity.sizes import _DIRECT_BOXES, box_sums
from accelsim.workload.layer import Layer


def _table_sums(mask: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Box sums by brute force, one slice per box."""
    return np.array([mask[tuple(map(slice, a, b))].sum() for a, b in zip(lo, hi, strict=True)])


def test_box_sums_direct_and_summed_area_paths_agree():
    rng = np.random.default_rng(7)
    mask = rng.random((2, 5, 9, 8)) < 0.4
    for count in (1, _DIRECT_BOXES, _DIRECT_BOXES + 1, 200):   # both sides of the switch
        lo = rng.integers(0, np.array(mask.shape), size=(count, 4))
        hi = np.minimum(lo + rng.integers(0, 6, size=(count, 4)), mask.shape)
        np.testing.assert_array_equal(box_sums(mask, lo, hi), _table_sums(mask, lo, hi))
    whole = (np.zeros((1, 4), dtype=np.int64), np.array([mask.shape]))
    assert box_sums(mask, *whole)[0] == mask.sum()


def test_mapper_memos_give_the_cold_result():
    """The estimate memo and the cached analyses (shared by layers of one shape with other
    occupancies) and the cached unrollings: a warm search equals a cold one."""
    arch = load_architecture("scnn_like")
    layer = Layer("a", N=1, C=64, M=64, H=14, W=14, R=3, S=3, padding=(1, 1))
    occupancies = [tuple((entry[0], entry[1], value) for entry in _occupancy(arch))
                   for value in (0.5, 0.53125, 0.5)]
    clear_cache()
    warm = [search(layer, arch, occupancy=occ) for occ in occupancies]
    assert mapper._ESTIMATES   # the memo was used
    for occ, found in zip(occupancies, warm, strict=True):
        clear_cache()
        cold = search(layer, arch, occupancy=occ)
        assert cold.mapping == found.mapping
        assert (cold.bound_cycles, cold.energy_pj) == (found.bound_cycles, found.energy_pj)


def _occupancy(arch):
    return [(level.name, tensor, 1.0) for level in arch.levels[1:]
            for tensor, _ in level.compression]


def test_phase_clock_adds_up_the_laps():
    clock = PhaseClock()
    lap = clock.laps()
    for name in PHASES:
        lap(name)
    lap("map")
    assert set(clock.seconds) == set(PHASES)
    assert all(seconds >= 0 for seconds in clock.seconds.values())


def _layer_fingerprints(result):
    return [(r.name, r.mapping, r.timing, r.energy.total_pj, dict(r.dram_read_bytes),
             dict(r.dram_write_bytes), r.sparse_counts) for r in result.layers]


def test_mapping_ahead_in_processes_gives_the_serial_result():
    """``map_ahead`` (forked workers seed the mapper's cache) against the layer loop's own
    searches, on a sparse design, where every layer has its own occupancy."""
    from accelsim.bundled import find_trace
    from accelsim.pipeline import simulate
    from accelsim.workload.trace import load_trace

    trace = load_trace(find_trace("resnet18").path)
    names = [lt.layer.name for lt in trace.layers[:6]]
    clear_cache()
    serial = simulate("scnn_like", trace, layers=names, map_jobs=1)
    assert not mapper._SEEDED
    clear_cache()
    ahead = simulate("scnn_like", trace, layers=names, map_jobs=2)
    assert not mapper._SEEDED   # every seeded result was taken by the layer loop
    assert _layer_fingerprints(ahead) == _layer_fingerprints(serial)


def test_map_jobs_resolution(monkeypatch):
    from accelsim.errors import AccelsimError
    from accelsim.pipeline import MAP_JOBS_ENV, resolve_map_jobs

    monkeypatch.setenv(MAP_JOBS_ENV, "1")
    assert resolve_map_jobs() == 1
    assert resolve_map_jobs(3) in (1, 3)   # 1 where processes cannot be forked
    monkeypatch.setenv(MAP_JOBS_ENV, "two")
    try:
        resolve_map_jobs()
    except AccelsimError as err:
        assert MAP_JOBS_ENV in str(err)
    else:
        raise AssertionError("a malformed $ACCELSIM_MAP_JOBS was accepted")
