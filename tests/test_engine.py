"""The SimPy timing engine against the closed forms of docs/model.md."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import AccelsimError
from accelsim.sim.engine import DramChannel, TileWork, simulate_tiles


def test_occupancy_rounds_to_whole_bursts():
    channel = DramChannel.of(8, latency_cycles=0, burst_bytes=64)
    assert channel.occupancy_cycles(1) == 8          # one 64-byte burst at 8 B/cycle
    assert channel.occupancy_cycles(64) == 8
    assert channel.occupancy_cycles(65) == 16
    assert channel.occupancy_cycles(0) == 0
    odd = DramChannel.of(Fraction(3, 2), latency_cycles=0, burst_bytes=1)
    assert odd.occupancy_cycles(4) == 3              # ceil(4 / 1.5)


def test_compute_bound_layer_has_zero_stalls_beyond_fill_and_drain():
    # Fill f = 100/4 = 25 cycles, write-back w = 40/4 = 10, compute C = 50 >= f + w:
    # total = (f + L) + n·C + (w + L), the first fill and the last drain.
    n, C, L = 12, 50, 7
    channel = DramChannel.of(4, latency_cycles=L, burst_bytes=1)
    tiles = [TileWork(fill_bytes=100, compute_cycles=C, writeback_bytes=40, buffer_bytes=100,
                      output_buffer_bytes=40)] * n
    timing = simulate_tiles(tiles, channel, buffer_capacity_bytes=10_000)
    assert timing.compute_cycles == n * C
    assert timing.total_cycles == (25 + L) + n * C + (10 + L)
    assert timing.stall_cycles == 25 + L + 10 + L


def test_dram_bound_layer_follows_bytes_over_bandwidth():
    # Fill f = 1000/8 = 125 cycles per tile > C = 20: the channel never rests, so the last
    # tile arrives at n·f + L and computes for C.
    n, C, L = 9, 20, 30
    channel = DramChannel.of(8, latency_cycles=L, burst_bytes=1)
    tiles = [TileWork(fill_bytes=1000, compute_cycles=C, buffer_bytes=1000)] * n
    timing = simulate_tiles(tiles, channel, buffer_capacity_bytes=None)
    assert timing.total_cycles == n * 125 + L + C
    assert timing.dram_busy_cycles == n * 125


def test_single_buffer_serialises_fill_and_compute():
    # Room for one tile only: no prefetch, so each tile costs f + L + C in sequence.
    n, C, L = 5, 40, 3
    channel = DramChannel.of(10, latency_cycles=L, burst_bytes=1)
    tiles = [TileWork(fill_bytes=200, compute_cycles=C, buffer_bytes=200)] * n
    timing = simulate_tiles(tiles, channel, buffer_capacity_bytes=399)
    assert timing.total_cycles == n * (20 + L + C)
    double = simulate_tiles(tiles, channel, buffer_capacity_bytes=400)
    assert double.total_cycles == 20 + L + n * C  # two fit: prefetch hides every later fill


def test_tile_larger_than_buffer_streams_in_parts():
    # 500 bytes of data in a 200-byte buffer: 3 parts of 167/167/166 bytes, each fetched and
    # computed in turn; totals are kept. Fill 10 B at 1 B/cycle: parts 4+3+3 cycles, compute
    # 40 = 14+13+13; with one part of room at a time nothing overlaps.
    channel = DramChannel.of(1, latency_cycles=0, burst_bytes=1)
    timing = simulate_tiles([TileWork(10, 40, buffer_bytes=500)], channel, 200)
    assert timing.split_tiles == 1
    assert timing.tiles == 3
    assert timing.compute_cycles == 40
    assert timing.total_cycles == (4 + 14) + (3 + 13) + (3 + 13)
    with pytest.raises(AccelsimError, match="holds 0 bytes"):
        simulate_tiles([TileWork(10, 10, buffer_bytes=5)], channel, 0)


def test_infinite_bandwidth_gives_the_compute_cycles():
    channel = DramChannel.of(10**12, latency_cycles=0, burst_bytes=1)
    tiles = [TileWork(fill_bytes=64, compute_cycles=c, writeback_bytes=8) for c in (5, 9, 3)]
    timing = simulate_tiles(tiles, channel, None)
    assert timing.total_cycles == 1 + 17 + 1  # one cycle each to fill the first / drain the last


def test_unbounded_bandwidth_adds_nothing():
    channel = DramChannel.of(float("inf"), latency_cycles=0, burst_bytes=64)
    tiles = [TileWork(fill_bytes=640, compute_cycles=c, writeback_bytes=64) for c in (5, 9, 3)]
    timing = simulate_tiles(tiles, channel, None)
    assert timing.total_cycles == timing.compute_cycles == 17
    assert timing.stall_cycles == 0


tile_lists = st.lists(
    st.builds(TileWork, fill_bytes=st.integers(0, 5000), compute_cycles=st.integers(0, 500),
              writeback_bytes=st.integers(0, 2000), buffer_bytes=st.integers(0, 3000),
              output_buffer_bytes=st.integers(0, 1000)),
    min_size=1, max_size=25)


@given(tiles=tile_lists, bandwidth=st.integers(1, 64), latency=st.integers(0, 100),
       burst=st.sampled_from([1, 8, 32, 64]), spare=st.integers(0, 10_000))
@settings(max_examples=80, deadline=None)
def test_invariants(tiles, bandwidth, latency, burst, spare):
    capacity = max(t.buffer_bytes + t.output_buffer_bytes for t in tiles) + spare
    fast = DramChannel.of(2 * bandwidth, latency, burst)
    slow = DramChannel.of(bandwidth, latency, burst)
    timing = simulate_tiles(tiles, slow, capacity)
    # Never faster than the array alone or than the channel alone.
    assert timing.total_cycles >= timing.compute_cycles
    assert timing.total_cycles >= timing.dram_busy_cycles
    assert timing.stall_cycles >= 0
    # Halving the bandwidth never reduces cycles; more buffer never adds cycles.
    assert simulate_tiles(tiles, fast, capacity).total_cycles <= timing.total_cycles
    assert simulate_tiles(tiles, slow, capacity + 5000).total_cycles <= timing.total_cycles
