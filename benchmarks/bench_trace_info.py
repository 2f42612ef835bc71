"""`accelsim trace info` on ResNet-50 at batch 4: load + validation + exact effectual MACs.

Target (issue 2): ≤ 5 s on a 2-core machine. Baseline printed beside it: a plain `np.load`
of every member of the same file (what any reader must pay to get the bytes off disk).

    python benchmarks/bench_trace_info.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from accelsim.workload.stats import trace_stats
from accelsim.workload.synth import synthesize
from accelsim.workload.trace import load_trace


def best_of(repeat: int, action) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet50_b4.npz"
        start = time.perf_counter()
        trace = synthesize("resnet50", batch=args.batch, act_density=0.5, weight_density=0.5,
                           seed=0)
        trace.save(path)
        synth_s = time.perf_counter() - start

        def plain_load() -> None:
            with np.load(path) as archive:
                for name in archive.files:
                    archive[name]

        baseline = best_of(args.repeat, plain_load)
        library = best_of(args.repeat, lambda: trace_stats(load_trace(path)))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "accelsim.cli", "trace", "info", str(path)],
                       check=True, stdout=subprocess.DEVNULL)
        cli = time.perf_counter() - start
        stats = trace_stats(load_trace(path))
        size = path.stat().st_size
    print(f"ResNet-50 batch {args.batch}: {len(trace)} layers, {stats.dense_macs / 1e9:.2f} G "
          f"dense MACs, {stats.effectual_macs / 1e9:.3f} G effectual; file "
          f"{size:,} B (synthesised in {synth_s:.2f} s)")
    print(f"np.load of every member (baseline): {baseline:8.3f} s")
    print(f"load + validate + effectual MACs:   {library:8.3f} s  "
          f"({library / baseline:.1f}x baseline)")
    print(f"accelsim trace info (process):      {cli:8.3f} s  (target <= 5 s)")


if __name__ == "__main__":
    main()
