"""One point → one row of numbers. Runs in a pool process or on a Dask worker, so it takes
and returns plain data only; a point that fails returns its one-line error instead."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

from accelsim.errors import AccelsimError


@dataclass(frozen=True, slots=True)
class Task:
    """What a worker needs: the config's YAML form with this point's overrides applied."""

    index: int
    document: dict[str, Any]
    hw_file: str
    trace_source: str
    layers: tuple[str, ...] | None
    max_memory: int | None = None  # bytes; None: this machine's default


@dataclass(frozen=True, slots=True)
class Outcome:
    """A point's totals (``None`` when it failed), its error line and its wall time."""

    index: int
    totals: dict[str, Any] | None
    energy_pj_by_component: tuple[tuple[str, float], ...]
    error: str
    wall_s: float


@functools.lru_cache(maxsize=4)
def _trace(source: str):
    from accelsim.bundled import find_trace
    from accelsim.workload.trace import load_trace

    return load_trace(find_trace(source).path)


def run_task(task: Task) -> Outcome:
    """Simulate one point; never raises for a problem of the point itself."""
    from accelsim.arch.loader import architecture_from_yaml
    from accelsim.bundled import find_trace
    from accelsim.pipeline import result_summary, simulate
    from accelsim.resources import check_trace_file, resolve_limit

    start = time.perf_counter()
    try:
        arch = architecture_from_yaml(task.document, task.hw_file)
        check_trace_file(find_trace(task.trace_source).path, resolve_limit(task.max_memory))
        result = simulate(arch, _trace(task.trace_source), layers=task.layers,
                          max_memory=task.max_memory)
    except AccelsimError as err:
        return Outcome(task.index, None, (), str(err), time.perf_counter() - start)
    except Exception as err:  # a bug, but one point must not end the sweep
        message = " ".join(f"internal error: {type(err).__name__}: {err}".split())
        return Outcome(task.index, None, (), message, time.perf_counter() - start)
    order = [level.name for level in arch.levels] + [arch.compute.name]
    by_component: dict[str, float] = {}
    for layer in result.layers:
        for name, value in layer.energy.by_component.items():
            by_component[name] = by_component.get(name, 0.0) + value
    ranked = sorted(by_component, key=lambda n: (order.index(n) if n in order else len(order),
                                                 n))
    return Outcome(task.index, result_summary(result),
                   tuple((name, by_component[name]) for name in ranked), "",
                   time.perf_counter() - start)
