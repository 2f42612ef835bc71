"""Wall time per phase of a run, summed over layers: the seam ``benchmarks/run.py`` reads
to split a run into mapping, per-tile work, schedule, engine and energy without patching
the pipeline. Off (``None``) by default: a no-op call per phase."""

from __future__ import annotations

import time
from collections.abc import Callable

PHASES = ("map", "work", "schedule", "engine", "energy")
"""The phases ``simulate_layer`` reports, in pipeline order."""

Lap = Callable[[str], None]


class PhaseClock:
    """Seconds spent in each named phase (``perf_counter``), accumulated across layers."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)

    def laps(self) -> Lap:
        """A stopwatch: each ``lap(name)`` adds the time since the previous lap (or since
        this call) to ``name``."""
        last = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal last
            now = time.perf_counter()
            self.seconds[name] = self.seconds.get(name, 0.0) + now - last
            last = now

        return lap


def _no_lap(name: str) -> None:
    del name


def laps(clock: PhaseClock | None) -> Lap:
    """``clock.laps()``, or a no-op when no clock is given."""
    return _no_lap if clock is None else clock.laps()
