"""The performance suite (issue 7): ResNet-18/50 at batch 1 and 4 on every bundled config,
dense and with the trace's masks, each run in a fresh process.

Per run: wall time of loading, mapping, per-tile work, schedule, engine and energy (the
pipeline's ``PhaseClock`` seam), the mapper's cache cleared first; the same run again with
the cache warm; peak memory (``ru_maxrss`` of the fresh process: interpreter, trace, floor
and the cold run); engine events and tiles; and the floor — exact effectual-MAC counting of
the same loaded trace in the same process — with our ratio to it.

Targets: ResNet-50 ≤ 5 s per config (load + run) and ≤ 10× the floor; cost linear in tiles,
shown by a scaling plot over batch size (1, 2, 4, 8) and PE-array size.

    python benchmarks/run.py [--net resnet50] [--batch 1] [--hw eyeriss_v1] [--quick]
                             [--no-scaling] [--out benchmarks/results] [--plot PNG]

"dense" is the same trace with all-ones masks (``LayerTrace.dense``), the project's one
code path for dense workloads. Batches other than 1 are synthesised with the bundled
trace's own density profile and seed into a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NETS = ("resnet18", "resnet50")
BATCHES = (1, 4)
SCALING_BATCHES = (1, 2, 4, 8)
SCALING_ARRAYS = ((7, 6), (14, 12), (28, 24))    # eyeriss_v1's GLB fanout (x, y)
SCALING_NET, SCALING_HW = "resnet50", "eyeriss_v1"
PHASE_COLUMNS = ("map", "work", "schedule", "engine", "energy")
COLUMNS = ("net", "batch", "hw", "masks", "array", "tiles", "events", "load_s",
           *(f"{p}_s" for p in PHASE_COLUMNS), "run_s", "run_cpu_s", "total_s", "warm_run_s",
           "floor_s",
           "ratio_to_floor", "peak_rss_mib")


# --------------------------------------------------------------------------- one run


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished children (the mapper's workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    """One measured run in this (fresh) process; returns the row as plain data."""
    import resource

    from accelsim.mapping.mapper import clear_cache
    from accelsim.pipeline import simulate
    from accelsim.sim.phases import PhaseClock
    from accelsim.workload.effectual import effectual_macs
    from accelsim.workload.trace import LayerTrace, Trace, load_trace

    arch = _architecture(spec["hw"], spec.get("array"))
    start = time.perf_counter()
    trace = load_trace(spec["trace"])
    if spec["dense"]:
        trace = Trace(trace.info, tuple(LayerTrace.dense(lt.layer) for lt in trace.layers),
                      trace.path)
    load_s = time.perf_counter() - start

    start = time.perf_counter()
    floor_macs = sum(effectual_macs(lt) for lt in trace.layers)
    floor_s = time.perf_counter() - start

    clear_cache()
    clock = PhaseClock()
    start, cpu = time.perf_counter(), _cpu_with_children()
    result = simulate(arch, trace, clock=clock)
    run_s, cpu_s = time.perf_counter() - start, _cpu_with_children() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux
    if result.effectual_macs != floor_macs:
        raise SystemExit(f"effectual MACs differ: run {result.effectual_macs}, "
                         f"floor {floor_macs}")
    warm_s = None
    if spec["warm"]:
        start = time.perf_counter()
        warm = simulate(arch, trace)
        warm_s = time.perf_counter() - start
        if warm.total_cycles != result.total_cycles or warm.energy_pj != result.energy_pj:
            raise SystemExit("the warm-cache run differs from the cold one")
    return {"load_s": load_s, "floor_s": floor_s, "run_s": run_s, "run_cpu_s": cpu_s,
            "warm_run_s": warm_s,
            "phases": clock.seconds, "peak_rss_mib": peak_kib / 1024,
            "tiles": sum(layer.timing.tiles for layer in result.layers),
            "events": sum(layer.timing.events for layer in result.layers),
            "total_cycles": result.total_cycles}


def _architecture(hw: str, array: Sequence[int] | None):
    """The bundled config, or with its first fanned-out level's array resized (x, y)."""
    from accelsim.arch.loader import architecture_from_yaml, load_architecture

    if array is None:
        return load_architecture(hw)
    from accelsim.sweep.grid import load_base
    from accelsim.sweep.keys import apply_overrides

    _, file, base = load_base(hw)
    level = next(entry["name"] for entry in base["levels"] if "fanout" in entry)
    overrides = ((f"levels.{level}.fanout.x", int(array[0])),
                 (f"levels.{level}.fanout.y", int(array[1])))
    return architecture_from_yaml(apply_overrides(base, overrides), file)


def measure(trace: Path, hw: str, *, dense: bool, warm: bool,
            array: Sequence[int] | None = None) -> dict[str, Any]:
    """``_child`` in a fresh interpreter (so peak memory is this run's alone)."""
    spec = {"trace": str(trace), "hw": hw, "dense": dense, "warm": warm,
            "array": list(array) if array else None}
    done = subprocess.run([sys.executable, __file__, "_child", json.dumps(spec)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"{hw} on {trace.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def row_of(net: str, batch: int, hw: str, masks: str, array: str,
           raw: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"net": net, "batch": batch, "hw": hw, "masks": masks,
                           "array": array, "tiles": raw["tiles"], "events": raw["events"],
                           "load_s": raw["load_s"]}
    for name in PHASE_COLUMNS:
        row[f"{name}_s"] = raw["phases"].get(name, 0.0)
    row.update(run_s=raw["run_s"], run_cpu_s=raw["run_cpu_s"],
               total_s=raw["load_s"] + raw["run_s"],
               warm_run_s=raw["warm_run_s"], floor_s=raw["floor_s"],
               ratio_to_floor=raw["run_s"] / raw["floor_s"],
               peak_rss_mib=raw["peak_rss_mib"])
    return row


# --------------------------------------------------------------------------- traces


def trace_file(net: str, batch: int, directory: Path) -> Path:
    """The bundled trace at batch 1; otherwise the same model, density profile, generator
    and seed synthesised at ``batch`` (written once per invocation)."""
    from accelsim.bundled import find_trace
    from accelsim.workload.synth import synthesize
    from accelsim.workload.trace import load_trace

    bundled = Path(find_trace(net).path)
    if batch == 1:
        return bundled
    path = directory / f"{net}_b{batch}.npz"
    if not path.exists():
        params = load_trace(bundled).info.source["params"]
        synthesize(net, batch=batch, act_density=params["act_density"],
                   act_generator=params["act_generator"], seed=params["seed"]).save(path)
    return path


# --------------------------------------------------------------------------- output


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:.0f}"
    return str(value)


def write_table(rows: list[dict[str, Any]], stem: Path) -> None:
    """``stem``.csv (every column, full precision) and ``stem``.md (the same, rounded)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    with stem.with_suffix(".csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |" for row in rows]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def scaling_plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Run time against tiles over the batch sweep and the array sweep, with the per-tile
    part (the run less the mapper, whose work is per layer shape) and its least-squares
    line; saved with ``save_figure`` (same data, same bytes)."""
    import numpy as np

    from accelsim.report.plots import colour, new_figure, save_figure

    figure = new_figure(6.4, 4.0)
    axes = figure.add_subplot()
    tiles = np.array([row["tiles"] for row in rows], dtype=float)
    per_tile = np.array([row["run_s"] - row["map_s"] for row in rows])
    for index, (sweep, marker) in enumerate((("batch", "o"), ("array", "s"))):
        chosen = [i for i, row in enumerate(rows) if row["sweep"] == sweep]
        label = ("batch 1, 2, 4, 8 (14×12 array)" if sweep == "batch"
                 else "array 7×6, 14×12, 28×24 (batch 1)")
        axes.plot(tiles[chosen], [rows[i]["run_s"] for i in chosen], marker, color=colour(index),
                  label=f"run, {label}")
        axes.plot(tiles[chosen], per_tile[chosen], marker, color=colour(index),
                  fillstyle="none", label=f"run less mapper, {label}")
    fitted = [i for i, row in enumerate(rows) if not row.get("repeat")]   # each run once
    slope, intercept = np.polyfit(tiles[fitted], per_tile[fitted], 1)
    span = np.linspace(0, tiles.max() * 1.05, 50)
    axes.plot(span, intercept + slope * span, "-", color=colour(7), linewidth=0.8,
              label=f"fit: {round(intercept, 2) + 0.0:.2f} s + {slope * 1e6:.0f} µs/tile")
    axes.set_xlabel("tiles (boundary-level tiles over all layers)")
    axes.set_ylabel("wall time (s)")
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    axes.set_title(f"{SCALING_NET} with masks on {SCALING_HW}: cost against tiles")
    axes.legend(loc="upper left")
    save_figure(figure, path)


# --------------------------------------------------------------------------- main


def _print_row(row: dict[str, Any]) -> None:
    phases = " ".join(f"{p} {row[f'{p}_s']:5.2f}" for p in PHASE_COLUMNS)
    warm = f" | warm {row['warm_run_s']:5.2f}" if row["warm_run_s"] is not None else ""
    print(f"{row['net']:8s} b{row['batch']} {row['hw']:15s} {row['masks']:5s} "
          f"{row['array']:>6s} | load {row['load_s']:5.2f} | {phases} | run "
          f"{row['run_s']:5.2f} (cpu {row['run_cpu_s']:5.2f}) total {row['total_s']:5.2f}"
          f"{warm} | floor "
          f"{row['floor_s']:5.3f} ({row['ratio_to_floor']:5.1f}x) | {row['tiles']} tiles "
          f"{row['events']} events | {row['peak_rss_mib']:4.0f} MiB", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    from accelsim.arch.bundled import HW_CONFIGS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", action="append", choices=NETS, help="repeatable")
    parser.add_argument("--batch", action="append", type=int, help="repeatable")
    parser.add_argument("--hw", action="append", help="bundled config (repeatable)")
    parser.add_argument("--masks", action="append", choices=("dense", "masks"))
    parser.add_argument("--quick", action="store_true",
                        help="ResNet-18 batch 1 with masks, no warm runs, no scaling plot")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm-cache runs")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling sweep")
    parser.add_argument("--only-scaling", action="store_true",
                        help="only the scaling sweep and its plot")
    parser.add_argument("--replot", action="store_true",
                        help="redraw the scaling plot from OUT/scaling.csv, run nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" /
                        "performance_scaling.png")
    args = parser.parse_args(argv)
    if args.replot:
        _replot(args.out, args.plot)
        return
    nets = args.net or (["resnet18"] if args.quick else list(NETS))
    batches = args.batch or ([1] if args.quick else list(BATCHES))
    masks = args.masks or (["masks"] if args.quick else ["dense", "masks"])
    configs = args.hw or list(HW_CONFIGS.names())
    warm = not (args.no_warm or args.quick)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="accelsim-bench-") as scratch:
        for net in nets if not args.only_scaling else ():
            for batch in batches:
                path = trace_file(net, batch, Path(scratch))
                for hw in configs:
                    for variant in masks:
                        raw = measure(path, hw, dense=variant == "dense", warm=warm)
                        rows.append(row_of(net, batch, hw, variant, "", raw))
                        _print_row(rows[-1])
        if rows:
            write_table(rows, args.out / "run")
            print(f"wrote {args.out / 'run.csv'} and {args.out / 'run.md'}")
        if args.no_scaling or args.quick:
            return
        scaling: list[dict[str, Any]] = []
        for batch in SCALING_BATCHES:
            raw = measure(trace_file(SCALING_NET, batch, Path(scratch)), SCALING_HW,
                          dense=False, warm=False)
            scaling.append({**row_of(SCALING_NET, batch, SCALING_HW, "masks", "14x12", raw),
                            "sweep": "batch"})
            _print_row(scaling[-1])
        for array in SCALING_ARRAYS:
            if array == (14, 12):
                continue   # the batch sweep's batch-1 point
            raw = measure(trace_file(SCALING_NET, 1, Path(scratch)), SCALING_HW,
                          dense=False, warm=False, array=array)
            scaling.append({**row_of(SCALING_NET, 1, SCALING_HW, "masks",
                                     f"{array[0]}x{array[1]}", raw), "sweep": "array"})
            _print_row(scaling[-1])
    write_table(scaling, args.out / "scaling")
    _plot_scaling(scaling, args.plot)


def _plot_scaling(scaling: list[dict[str, Any]], plot: Path) -> None:
    batch_one = dict(scaling[0], sweep="array", repeat=True)   # the array sweep's 14×12 point
    scaling_plot([*scaling, batch_one], plot)
    print(f"wrote {plot}")


def _replot(out: Path, plot: Path) -> None:
    """The scaling plot again from ``out``/scaling.csv (no runs)."""
    with (out / "scaling.csv").open(newline="", encoding="utf-8") as handle:
        rows = [{key: value if key in ("net", "hw", "masks", "array") else float(value or 0)
                 for key, value in row.items()} for row in csv.DictReader(handle)]
    for row in rows:
        row["sweep"] = "batch" if row["array"] == "14x12" else "array"
    _plot_scaling(rows, plot)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "_child":
        print(json.dumps(_child(json.loads(sys.argv[2]))))
    else:
        main()
