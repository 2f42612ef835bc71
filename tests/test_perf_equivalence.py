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
