"""`accelsim run` speed: ResNet-18 and ResNet-50 (batch 1, bundled traces) on a config,
split into trace loading, the mapper alone, and the rest (analysis, schedule, SimPy engine,
energy) — with the exact effectual-MAC count as the floor any mask-driven simulator pays.

Targets (issue 3): ResNet-50 on eyeriss_v1, mapper included, ≤ 10 s; ResNet-18 ≤ 3 s.

    python benchmarks/bench_run.py [--hw eyeriss_v1] [--repeat 2]
"""

from __future__ import annotations

import argparse
import time

from accelsim.arch.loader import load_architecture
from accelsim.bundled import find_trace
from accelsim.mapping.mapper import clear_cache, search
from accelsim.pipeline import simulate
from accelsim.workload.effectual import effectual_macs
from accelsim.workload.trace import load_trace


def timed(action):
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def bench(hw: str, trace_name: str) -> str:
    arch = load_architecture(hw)
    path = find_trace(trace_name).path
    trace, load_s = timed(lambda: load_trace(path))
    _, floor_s = timed(lambda: [effectual_macs(lt) for lt in trace.layers])
    clear_cache()
    _, mapper_s = timed(lambda: [search(lt.layer, arch) for lt in trace.layers])
    clear_cache()
    result, run_s = timed(lambda: simulate(arch, trace))
    events = sum(layer.timing.events for layer in result.layers)
    tiles = sum(layer.timing.tiles for layer in result.layers)
    return (f"{trace_name:10s} on {hw:12s}: load {load_s:6.3f} s | effectual-MAC floor "
            f"{floor_s:6.3f} s | mapper alone {mapper_s:6.3f} s | run (mapper + analysis + "
            f"engine + energy) {run_s:6.3f} s, of which not mapper ≈ {run_s - mapper_s:6.3f} s"
            f" | {tiles} tiles, {events} engine events | total {load_s + run_s:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hw", action="append", default=None,
                        help="config name (repeatable; default eyeriss_v1)")
    args = parser.parse_args()
    for hw in args.hw or ["eyeriss_v1"]:
        for trace_name in ("resnet18", "resnet50"):
            print(bench(hw, trace_name), flush=True)


if __name__ == "__main__":
    main()
