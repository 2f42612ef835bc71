"""`accelsim sweep`: a 32-point sweep of the bundled ResNet-18 on eyeriss_v1 (GLB depth ×
DRAM bandwidth × array width), run through the CLI with -j 1 and with -j 2.

Targets (issue 6): -j 2 in ≤ 60 s on a 2-core machine, and a speed-up of -j 2 over -j 1 of
at least 1.7×. Both CSVs must be identical apart from the wall-time column.

    python benchmarks/bench_sweep.py [--jobs 2] [--hw eyeriss_v1] [--trace resnet18]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = ("levels.shared_glb.depth=4096,8192,13824,16384",
        "dram.bandwidth_bytes_per_cycle=4,8,16,32",
        "levels.shared_glb.fanout.x=7,14")
TARGET_SECONDS = 60.0
TARGET_SPEEDUP = 1.7


def sweep(hw: str, trace: str, jobs: int, output: Path) -> float:
    """Seconds of one ``accelsim sweep`` (a fresh CSV each time)."""
    args = [sys.executable, "-m", "accelsim.cli", "sweep", "--hw", hw, "--trace", trace,
            *(f"--set={setting}" for setting in GRID), "-j", str(jobs), "-o", str(output)]
    start = time.perf_counter()
    subprocess.run(args, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def without_wall(path: Path) -> list[list[str]]:
    return [row[:-1] for row in csv.reader(io.StringIO(path.read_text()))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--hw", default="eyeriss_v1")
    parser.add_argument("--trace", default="resnet18")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        one, many = Path(folder) / "j1.csv", Path(folder) / f"j{args.jobs}.csv"
        serial = sweep(args.hw, args.trace, 1, one)
        parallel = sweep(args.hw, args.trace, args.jobs, many)
        points = len(without_wall(one)) - 1
        same = without_wall(one) == without_wall(many)
    speedup = serial / parallel
    print(f"sweep of {points} points, {args.trace} on {args.hw}, {os.cpu_count()} cores")
    print(f"  -j 1: {serial:7.1f} s")
    print(f"  -j {args.jobs}: {parallel:7.1f} s  (target ≤ {TARGET_SECONDS:.0f} s: "
          f"{'ok' if parallel <= TARGET_SECONDS else 'MISSED'})")
    print(f"  speed-up: {speedup:.2f}×  (target ≥ {TARGET_SPEEDUP}: "
          f"{'ok' if speedup >= TARGET_SPEEDUP else 'MISSED'})")
    print(f"  CSVs identical apart from wall_s: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
