"""The sparse designs' speed (issue 4, item 8): ResNet-50, batch 1, with its masks (bundled
trace ``resnet50``) on ``scnn_like`` and ``eyeriss_v2_like`` — the whole ``simulate`` call,
mapper included (its cache cleared first) — beside the floor measured in the same run: the
exact whole-layer effectual-MAC count (``effectual_macs``).

Targets: ≤ 10 s per design on a 2-core machine; peak memory ≤ 2 GiB. Peak memory is
measured two ways: tracemalloc's peak over a second, traced ``simulate`` (numpy and Python
allocations; not timed, tracing slows it down), and the process's maximum resident set
size (``resource.getrusage``; the whole process, trace and every earlier run included).

    python benchmarks/bench_sparse_designs.py [--hw scnn_like] [--trace resnet50] [--repeat 1]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

from accelsim.arch.loader import load_architecture
from accelsim.bundled import find_trace
from accelsim.mapping.mapper import clear_cache, search
from accelsim.pipeline import expected_occupancy, simulate
from accelsim.workload.effectual import effectual_macs
from accelsim.workload.trace import load_trace

T = TypeVar("T")
DESIGNS = ("scnn_like", "eyeriss_v2_like")
TARGET_S, TARGET_BYTES = 10.0, 2 * 2**30


def best_of(repeat: int, action: Callable[[], T], before: Callable[[], None] = lambda: None
            ) -> tuple[T, float]:
    """The value and the fastest of ``repeat`` timings; ``before`` runs untimed each time."""
    best, value = float("inf"), None
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - start)
    return value, best  # type: ignore[return-value]


def traced_peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def max_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024   # Linux reports KiB


def bench(hw: str, trace_name: str, repeat: int) -> bool:
    arch = load_architecture(hw)
    trace, load_s = best_of(1, lambda: load_trace(find_trace(trace_name).path))
    floor, floor_s = best_of(repeat, lambda: [effectual_macs(lt) for lt in trace.layers])
    _, mapper_s = best_of(
        repeat, lambda: [search(lt.layer, arch, occupancy=expected_occupancy(lt, arch))
                         for lt in trace.layers], before=clear_cache)
    result, run_s = best_of(repeat, lambda: simulate(arch, trace), before=clear_cache)
    clear_cache()
    peak = traced_peak(lambda: simulate(arch, trace))
    rss = max_rss_bytes()
    assert result.effectual_macs == sum(floor), "the run's effectual MACs are the exact count"
    tiles = sum(layer.timing.tiles for layer in result.layers)
    ok = run_s <= TARGET_S and peak <= TARGET_BYTES and rss <= TARGET_BYTES
    print(f"{trace_name} on {hw}: {len(result.layers)} layers, {tiles} tiles; "
          f"load {load_s:.2f} s (not in the run)")
    print(f"  simulate, mapper included: {run_s:6.2f} s (target ≤ {TARGET_S:g} s)   "
          f"mapper alone {mapper_s:5.2f} s   effectual-MAC floor {floor_s:5.2f} s "
          f"({run_s / floor_s:.0f}x the floor)")
    print(f"  peak memory: traced {peak / 2**20:7.1f} MiB, process max RSS "
          f"{rss / 2**20:7.1f} MiB (target ≤ {TARGET_BYTES / 2**30:g} GiB)")
    print(f"  effectual MACs {result.effectual_macs:,} of {result.dense_macs:,} dense; "
          f"{result.total_cycles:,} cycles ({result.stall_cycles:,} stalls), "
          f"{result.energy_pj / 1e6:,.1f} µJ, {result.dram_bytes / 1e6:,.2f} MB of DRAM "
          f"traffic  [{'ok' if ok else 'OVER TARGET'}]", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hw", action="append", default=None,
                        help=f"config name (repeatable; default {', '.join(DESIGNS)})")
    parser.add_argument("--trace", default="resnet50")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    results = [bench(hw, args.trace, args.repeat) for hw in args.hw or DESIGNS]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
