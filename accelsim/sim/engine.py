"""The timing engine: tiles and transfers as SimPy processes, never MACs or cycles.

A layer reaches the engine as a sequence of ``TileWork`` — per tile of the outermost
on-chip buffer: the bytes it must fetch from DRAM, the buffer space they occupy, the cycles
the PE array needs once they are there, and the bytes it writes back. Where those numbers
come from (dense nest analysis, or per-tile sparse work and compressed sizes) is not the
engine's business: the same engine times dense and sparse runs.

Three processes share one DRAM channel (a SimPy resource of capacity 1):

- the *loader* fetches tile after tile as soon as the buffer has room for it (so the next
  tile prefetches while the array computes — double buffering wherever two tiles fit);
- the *array* computes each tile once its data has arrived, for ``compute_cycles``;
- the *writer* writes each tile's outputs back after the array has finished it, and only
  then frees the outputs' buffer space.

A transfer of ``b`` bytes holds the channel for ``ceil(ceil(b / burst) · burst / bandwidth)``
cycles (whole bursts) and completes ``latency_cycles`` after it started moving, so
latencies of back-to-back transfers overlap while their bandwidth does not (docs/model.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import simpy

from accelsim.errors import AccelsimError


@dataclass(frozen=True, slots=True)
class TileWork:
    """What one tile costs: an input to the engine, computed elsewhere."""

    fill_bytes: int
    compute_cycles: int
    writeback_bytes: int = 0
    buffer_bytes: int = 0  # space held from the start of its fill until its compute ends
    output_buffer_bytes: int = 0  # space held from the start of its fill until written back


@dataclass(frozen=True, slots=True)
class DramChannel:
    """``bandwidth_bytes_per_cycle`` is exact (a Fraction) or ``None`` for unbounded."""

    bandwidth_bytes_per_cycle: Fraction | None
    latency_cycles: int
    burst_bytes: int

    @classmethod
    def of(cls, bandwidth_bytes_per_cycle: float | Fraction, latency_cycles: int,
           burst_bytes: int) -> DramChannel:
        if burst_bytes < 1 or latency_cycles < 0 or not bandwidth_bytes_per_cycle > 0:
            raise AccelsimError(
                f"DRAM needs bandwidth > 0, burst >= 1 byte and latency >= 0, got "
                f"{bandwidth_bytes_per_cycle} B/cycle, {burst_bytes} B, {latency_cycles} cycles")
        if isinstance(bandwidth_bytes_per_cycle, Fraction):
            bandwidth: Fraction | None = bandwidth_bytes_per_cycle
        elif math.isinf(bandwidth_bytes_per_cycle):
            bandwidth = None
        else:
            bandwidth = Fraction(str(bandwidth_bytes_per_cycle))
        return cls(bandwidth, latency_cycles, burst_bytes)

    def occupancy_cycles(self, num_bytes: int) -> int:
        """Cycles the channel is busy moving ``num_bytes`` (rounded up to whole bursts)."""
        if num_bytes <= 0 or self.bandwidth_bytes_per_cycle is None:
            return 0
        bursts = -(-num_bytes // self.burst_bytes)
        return math.ceil(Fraction(bursts * self.burst_bytes) / self.bandwidth_bytes_per_cycle)


@dataclass(frozen=True, slots=True)
class Timing:
    """The engine's answer for one layer."""

    total_cycles: int
    compute_cycles: int
    dram_busy_cycles: int
    tiles: int
    events: int
    split_tiles: int = 0  # tiles whose data overflowed the buffer and streamed in parts

    @property
    def stall_cycles(self) -> int:
        """Cycles the array waited for data or for write-back (total − compute)."""
        return self.total_cycles - self.compute_cycles


def simulate_tiles(tiles: Sequence[TileWork], channel: DramChannel,
                   buffer_capacity_bytes: int | None) -> Timing:
    """Time a layer's tiles through DRAM, the buffer and the array (see module docstring)."""
    if not tiles:
        return Timing(0, 0, 0, 0, 0)
    capacity = buffer_capacity_bytes
    split = 0
    if capacity is not None:
        tiles, split = split_oversized(tiles, capacity)
    env = simpy.Environment()
    dram = simpy.Resource(env, capacity=1)
    if capacity is None:  # unbounded: room for every tile at once
        capacity = sum(t.buffer_bytes + t.output_buffer_bytes for t in tiles) + 1
    space = simpy.Container(env, capacity=max(1, capacity), init=max(1, capacity))
    arrived = [env.event() for _ in tiles]
    computed = [env.event() for _ in tiles]
    counters = {"dram_busy": 0, "events": 0}

    def send(num_bytes: int):
        """Hold the channel while the bytes move; the caller adds the latency."""
        if num_bytes <= 0:
            return
        with dram.request() as slot:
            yield slot
            busy = channel.occupancy_cycles(num_bytes)
            counters["dram_busy"] += busy
            counters["events"] += 1
            yield env.timeout(busy)

    def land(event: simpy.Event | None, release_bytes: int = 0) -> None:
        """The last byte lands ``latency`` after it was sent (the channel is already free):
        then ``event`` succeeds, or ``release_bytes`` go back to the buffer. A timeout with
        a callback, not a process per transfer: the same steps in the same order, without
        a process's start and end events."""
        def done(_: object) -> None:
            if release_bytes:
                space.put(release_bytes)
            if event is not None:
                event.succeed()

        if channel.latency_cycles:
            env.timeout(channel.latency_cycles).callbacks.append(done)
        else:   # no latency: at once, but after what this step still does (as a process)
            env.process(_at_once(done))

    def loader():
        for index, tile in enumerate(tiles):
            held = tile.buffer_bytes + tile.output_buffer_bytes
            if held:
                yield space.get(held)
            yield from send(tile.fill_bytes)
            land(arrived[index] if tile.fill_bytes else None)
            if not tile.fill_bytes:
                arrived[index].succeed()

    def array():
        for index, tile in enumerate(tiles):
            yield arrived[index]
            yield env.timeout(tile.compute_cycles)
            counters["events"] += 1
            if tile.buffer_bytes:
                yield space.put(tile.buffer_bytes)
            computed[index].succeed()

    def writer():
        for index, tile in enumerate(tiles):
            yield computed[index]
            if tile.writeback_bytes:
                yield from send(tile.writeback_bytes)
                land(None, tile.output_buffer_bytes)
            elif tile.output_buffer_bytes:
                yield space.put(tile.output_buffer_bytes)

    env.process(loader())
    env.process(array())
    env.process(writer())
    env.run()
    return Timing(
        total_cycles=int(env.now),
        compute_cycles=sum(t.compute_cycles for t in tiles),
        dram_busy_cycles=counters["dram_busy"],
        tiles=len(tiles),
        events=counters["events"],
        split_tiles=split,
    )


def _at_once(action: Callable[[object], None]):
    """A process that only runs ``action``: it starts as an urgent event, after the step
    that created it."""
    action(None)
    yield from ()


def _parts(value: int, count: int) -> list[int]:
    base, extra = divmod(value, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def split_oversized(tiles: Sequence[TileWork], capacity: int
                    ) -> tuple[list[TileWork], int]:
    """Split every tile whose data exceeds the buffer into the fewest equal parts that fit,
    processed one after another (it streams through the buffer); how many were split.

    A part gets an equal share (±1) of the tile's bytes and cycles, so totals are kept.
    A buffer too small for even one byte of a tile's data is an error.
    """
    result: list[TileWork] = []
    split = 0
    for tile in tiles:
        held = tile.buffer_bytes + tile.output_buffer_bytes
        if held <= capacity:
            result.append(tile)
            continue
        if capacity < 1:
            raise AccelsimError(f"the buffer holds {capacity} bytes; no tile can fit")
        split += 1
        count = -(-held // capacity)
        columns = [_parts(v, count) for v in (tile.fill_bytes, tile.compute_cycles,
                                              tile.writeback_bytes, tile.buffer_bytes,
                                              tile.output_buffer_bytes)]
        result.extend(TileWork(*values) for values in zip(*columns, strict=True))
    return result, split
