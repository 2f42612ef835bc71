"""Per-(tile, unit) effectual work (``accelsim.sparsity.work.tile_work``) on ResNet-50,
batch 1 (bundled trace ``resnet50``), with mapper-chosen mappings — beside the floor measured
in the same run: the exact whole-layer effectual-MAC count (``effectual_macs``).

Target (issue 4, item 4): ≤ 5 s for the work computation over the network on eyeriss_v1,
peak memory < 1 GiB. The mapper's time is reported apart (it is cached per shape and is not
part of the work computation).

    python benchmarks/bench_sparse_work.py [--hw eyeriss_v1] [--trace resnet50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from accelsim.arch.loader import load_architecture
from accelsim.bundled import find_trace
from accelsim.mapping.mapper import search
from accelsim.sparsity.work import tile_work
from accelsim.workload.effectual import effectual_macs
from accelsim.workload.trace import load_trace

T = TypeVar("T")


def best_of(repeat: int, action: Callable[[], T]) -> tuple[T, float]:
    """The value and the fastest of ``repeat`` timings (the least disturbed run)."""
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - start)
    return value, best  # type: ignore[return-value]


def peak_bytes(action: Callable[[], object]) -> int:
    """Peak memory numpy and Python allocate during ``action`` (tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def bench(hw: str, trace_name: str, repeat: int) -> None:
    arch = load_architecture(hw)
    trace = load_trace(find_trace(trace_name).path)
    layers = trace.layers
    mappings, mapper_s = best_of(1, lambda: [search(lt.layer, arch).mapping for lt in layers])
    floor, floor_s = best_of(repeat, lambda: [effectual_macs(lt) for lt in layers])
    pairs = list(zip(layers, mappings, strict=True))
    work, work_s = best_of(repeat, lambda: [tile_work(lt, arch, m) for lt, m in pairs])
    peak = peak_bytes(lambda: [tile_work(lt, arch, m) for lt, m in pairs])
    exact = sum(int(w.effectual_macs.sum()) for w in work)
    assert exact == sum(floor), "per-(tile, unit) work must add up to the exact count"
    tiles = sum(w.tiles for w in work)
    cells = sum(w.tiles * w.units for w in work)
    dense = sum(int(w.tile_cycles(False, False).sum()) for w in work)
    skip = sum(int(w.tile_cycles(True, True).sum()) for w in work)
    imbalance = np.concatenate([w.imbalance(True, True) for w in work])
    print(f"{trace_name} on {hw}: {len(layers)} layers, {tiles} tiles, {cells} (tile, unit) "
          f"cells")
    print(f"  floor (effectual_macs, whole layers) {floor_s:7.3f} s   "
          f"tile_work {work_s:7.3f} s  ({work_s / floor_s:4.1f}x the floor; target ≤ 5 s)")
    print(f"  peak traced memory of tile_work {peak / 2**20:7.1f} MiB (target < 1024 MiB); "
          f"mapper, not timed above: {mapper_s:.2f} s")
    print(f"  effectual MACs {exact:,} (= floor); cycles if both operands are skipped, units "
          f"synchronised per tile: {skip:,} of {dense:,} dense; per-tile imbalance "
          f"max/mean: median {np.median(imbalance):.2f}, max {imbalance.max():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hw", action="append", default=None,
                        help="config name (repeatable; default eyeriss_v1)")
    parser.add_argument("--trace", default="resnet50")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for hw in args.hw or ["eyeriss_v1"]:
        bench(hw, args.trace, args.repeat)


if __name__ == "__main__":
    main()
