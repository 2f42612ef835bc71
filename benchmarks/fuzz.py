"""Fuzz the loaders for longer than CI does: the checks of tests/test_fuzz_loaders.py with a
larger, random budget, printing every failure (a crash, or an error that is not one line
naming the file). Fix a crash in the loader, then add its input to tests/bad_inputs/.

    python benchmarks/fuzz.py [--examples 2000] [--seconds 600] [--only arch_yaml,npz_trace]

``--examples`` is per check and per round; rounds repeat (with new random seeds) until
``--seconds`` is spent. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_fuzz_loaders import CHECKS


def run_check(name: str, examples: int) -> str | None:
    """One hypothesis run of ``name``; the failure's report, or None."""
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        CHECKS[name](data)

    try:
        run()
    except Exception:  # report whatever escaped, then go on
        return traceback.format_exc()
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000,
                        help="examples per check per round (default 2000)")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="keep running rounds until this many seconds have passed "
                             "(default: one round)")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated checks (default all: {', '.join(CHECKS)})")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] if args.only else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        parser.error(f"unknown check {unknown[0]!r}; expected one of {', '.join(CHECKS)}")
    start = time.monotonic()
    failures: dict[str, str] = {}
    rounds = 0
    while True:
        rounds += 1
        for name in names:
            if name in failures:
                continue
            began = time.monotonic()
            report = run_check(name, args.examples)
            status = "FAILED" if report else "ok"
            print(f"round {rounds} {name:<16} {args.examples} examples  "
                  f"{time.monotonic() - began:6.1f} s  {status}", flush=True)
            if report:
                failures[name] = report
                print(report, flush=True)
        if time.monotonic() - start >= args.seconds or len(failures) == len(names):
            break
    print(f"\n{rounds} round(s) in {time.monotonic() - start:.0f} s: "
          f"{len(failures)} of {len(names)} checks failed"
          + (f" ({', '.join(failures)})" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
