#!/usr/bin/env python3
"""Reproduce the shipped real traces traces/resnet20_cifar10_{dense,tl1,tl1_pruned,pruned}.npz.

Each variant is one ``accelsim train`` run from the pretrained akamaster ResNet-20 on the
CIFAR-10 JPEG test images (index mod 10 in 0-7; 8-9 held out), then one ``accelsim trace
record`` of 8 held-out images. Checkpoints and JSON logs go to build/real_traces/. Runs on
one CPU thread: the same seed and thread count give the same bytes (on the same kind of
CPU; ~10-15 minutes per variant). ``--table`` prints the comparison of docs/
dual-sparse-training.md from the files already made.

    python scripts/make_real_traces.py                 # all four variants, in order
    python scripts/make_real_traces.py --only tl1      # one variant
    python scripts/make_real_traces.py --table         # the table, from existing files
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL = "resnet20_cifar10"
EPOCHS = 15
IMAGES = 8

# The recipes (what the recipe search of docs/dual-sparse-training.md settled on).
VARIANTS = {
    "dense": ["--recipe", "dense"],
    "tl1": ["--recipe", "tl1", "--a", "0.1", "--lam", "0.2", "--lam-warmup", "5"],
    "tl1_pruned": ["--recipe", "tl1_prune", "--a", "0.1", "--lam", "0.1", "--lam-warmup", "5",
                   "--prune", "0.65"],
    "pruned": ["--recipe", "prune", "--prune", "0.7"],
}
STAGES = ("conv1", "layer1", "layer2", "layer3")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(VARIANTS),
                        help="comma-separated variants (default: all four)")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                        help="the shared data folder (default ../shared)")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "real_traces",
                        help="checkpoints and logs (default build/real_traces)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=argparse.SUPPRESS)
    parser.add_argument("--table", action="store_true",
                        help="only print the comparison table from existing files")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; expected {', '.join(VARIANTS)}")
    if not args.table:
        data = args.shared / "data" / "cifar10_test" / "cifar10_test_jpeg.zip"
        init = args.shared / "data" / "weights" / "cifar10_resnet_akamaster" / \
            "resnet20_cifar10.npz"
        for path in (data, init):
            if not path.is_file():
                parser.error(f"missing {path} (see --shared)")
        args.work.mkdir(parents=True, exist_ok=True)
        for name in names:
            make_variant(name, data, init, args.work, args.epochs)
    made = [n for n in VARIANTS if trace_path(n).is_file() and (args.work / f"{n}.json").is_file()]
    print(table(args.work, made))
    return 0


def trace_path(name: str) -> Path:
    return REPO / "traces" / f"{MODEL}_{name}.npz"


def accelsim(*arguments: str) -> None:
    command = [sys.executable, "-m", "accelsim.cli", *arguments]
    print("+ accelsim " + " ".join(arguments), file=sys.stderr, flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def make_variant(name: str, data: Path, init: Path, work: Path, epochs: int) -> None:
    checkpoint = work / f"{name}.npz"
    accelsim("train", "--model", MODEL, "--weights", str(init), "--data", str(data),
             *VARIANTS[name], "--epochs", str(epochs), "--seed", "0", "--threads", "1",
             "-o", str(checkpoint))
    accelsim("trace", "record", "--model", MODEL, "--weights", str(checkpoint), "--data",
             str(data), "--images", str(IMAGES), "-o", str(trace_path(name)))


def row(name: str, work: Path) -> dict[str, float]:
    from accelsim.workload.stats import trace_stats
    from accelsim.workload.trace import load_trace

    trace = load_trace(trace_path(name))
    log = json.loads((work / f"{name}.json").read_text())
    stats = trace_stats(trace)
    convs = [lt for lt in trace.layers if lt.layer.kind.value == "conv"]

    def sparsity(layers) -> float:
        return 1 - sum(lt.input_nonzeros for lt in layers) / sum(lt.input_mask.size
                                                                 for lt in layers)
    result = {"accuracy": trace.info.accuracy["top1"],
              "heldout_act": log["heldout_act_sparsity"],
              "act": sparsity(convs),
              "weight": 1 - stats.weight_density,
              "reduction": stats.effectual_reduction}
    for stage in STAGES:
        result[stage] = sparsity([lt for lt in convs if lt.layer.name.split(".")[0] == stage])
    return result


def table(work: Path, names: list[str]) -> str:
    if not names:
        return "no traces yet"
    rows = {n: row(n, work) for n in names}
    base = rows.get("dense")
    head = ("| variant | held-out top-1 | Δ top-1 (points) | act. sparsity, 2,000 held-out | "
            "Δ sparsity (points) | act. sparsity, trace | " + " | ".join(STAGES) +
            " | weight sparsity | effectual-MAC reduction |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in rows.items():
        delta = f"{100 * (r['accuracy'] - base['accuracy']):+.2f}" if base else "n/a"
        gain = f"{100 * (r['heldout_act'] - base['heldout_act']):+.1f}" if base else "n/a"
        lines.append(
            f"| {name} | {100 * r['accuracy']:.2f} % | {delta} | {100 * r['heldout_act']:.1f} % | "
            f"{gain} | {100 * r['act']:.1f} % | "
            + " | ".join(f"{100 * r[s]:.1f} %" for s in STAGES)
            + f" | {100 * r['weight']:.1f} % | {100 * r['reduction']:.1f} % |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
