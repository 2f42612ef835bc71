"""SCALE-Sim 3.0.0 side by side with accelsim on AlexNet CONV1-5 and ResNet-18's convs.

Both tools see the same layers (generated from accelsim's model zoo, batch 1) on the same
arrays (32×32 ``os`` and ``ws``, 12×14 ``ws``). SCALE-Sim runs in its own venv (it needs
``numpy<2.4``) as a child process of this script; accelsim is timed live in this process.

SCALE-Sim is run with ``InterfaceBandwidth: CALC``: its read buffers are then stall-free
(``read_buffer_estimate_bw.service_reads`` returns every request at its issue cycle) and its
ofmap buffer drains ``ArrayWidth`` words per cycle, as fast as the array writes, so its
cycles are the array's compute cycles — the quantity compared, against accelsim with the
same mapping, the array's fill/drain skew, and DRAM bandwidth that does not bind. ``USER``
mode would add stalls from a bandwidth that its code takes from the ``[layout]``
``*SRAMBankBandwidth`` keys for ifmap/filter and ``Bandwidth`` only for the ofmap port.

    python benchmarks/scalesim_compare.py                      # table from recorded runs
    python benchmarks/scalesim_compare.py --run-scalesim       # rerun SCALE-Sim first
    python benchmarks/scalesim_compare.py scalesim CASE ...    # only the SCALE-Sim runs
    (--cases CASE ... picks cases; --venv DIR uses or creates SCALE-Sim's venv there,
     default benchmarks/.scalesim-venv; CASE is e.g. resnet18_12x14_ws)

SCALE-Sim takes minutes per case (about 5 for AlexNet and 12-36 for ResNet-18 here, two at a
time on 2 cores): start ``scalesim`` runs in the background with ``nohup``. The table goes to
``benchmarks/results/scalesim_compare.{md,csv}`` and ``scalesim_compare_totals.csv``.

Recorded runs live in ``benchmarks/results/scalesim/<net>_<array>/`` (inputs, SCALE-Sim's
CSV reports, ``run.json`` with the command, version, wall times and machine load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SCALESIM_RESULTS = RESULTS / "scalesim"
DEFAULT_VENV = HERE / ".scalesim-venv"
SCALESIM_PIN = ("scalesim==3.0.0", "numpy<2.4")
SRAM_KB = 64  # ifmap / filter / ofmap SRAMs, as hw_configs/systolic_*.yaml

# Only stdlib above: the child half of this script runs in SCALE-Sim's venv, without accelsim.


# (tag, ArrayHeight = rows, ArrayWidth = cols, dataflow); as accelsim.validate_scalesim.ARRAYS
ARRAYS = (("32x32_os", 32, 32, "os"), ("32x32_ws", 32, 32, "ws"), ("12x14_ws", 12, 14, "ws"))
NETS = ("alexnet", "resnet18")
CASES = tuple(f"{net}_{tag}" for net in NETS for tag, *_ in ARRAYS)


def split_case(case: str) -> tuple[str, tuple[str, int, int, str]]:
    net, _, tag = case.partition("_")
    for array in ARRAYS:
        if array[0] == tag and net in NETS:
            return net, array
    raise SystemExit(f"scalesim_compare: unknown case {case!r}; expected one of "
                     f"{', '.join(CASES)}")


# --- SCALE-Sim inputs (parent side, needs accelsim) ----------------------------------------


def scalesim_config(case: str, rows: int, cols: int, dataflow: str) -> str:
    """Every section and key SCALE-Sim 3.0.0's ``scale_config.read_conf_file`` reads."""
    return f"""[general]
run_name = {case}

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = {SRAM_KB}
FilterSramSzkB = {SRAM_KB}
OfmapSramSzkB = {SRAM_KB}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Bandwidth = 10
Dataflow = {dataflow}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False
"""


def write_inputs(case: str) -> Path:
    """Config, topology (rows from accelsim's model zoo), header-only layout and
    ``layers.json`` (groups per row) into the case's folder."""
    from accelsim.validate_scalesim import conv_layers, topo_row

    net, (_, rows, cols, dataflow) = split_case(case)
    topo = [topo_row(layer) for layer in conv_layers(net)]
    folder = SCALESIM_RESULTS / case
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scale.cfg").write_text(scalesim_config(case, rows, cols, dataflow))
    (folder / "topology.csv").write_text(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,\n" + "".join(row.csv() + "\n" for row in topo))
    (folder / "layout.csv").write_text(
        "Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, "
        "Filter Height Intraline Factor, Filter Width Intraline Factor, Channel Intraline "
        "Factor, Num Filter Intraline Factor, IFMAP Height Intraline Order,\n")
    (folder / "layers.json").write_text(json.dumps(
        [{"name": row.name, "groups": row.groups} for row in topo], indent=1) + "\n")
    return folder


# --- SCALE-Sim's venv and runs ---------------------------------------------------------------


def ensure_venv(venv: Path) -> Path:
    """SCALE-Sim's interpreter, creating its venv (pinned, ``numpy<2.4``) when absent:
    scalesim 3.0.0 fails under numpy 2.4 in ``double_buffered_scratchpad_mem.py``."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating SCALE-Sim venv in {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *SCALESIM_PIN],
                       check=True)
    return python


def run_scalesim(case: str, venv: Path) -> dict:
    """Write the inputs and run SCALE-Sim on them in a child process; returns ``run.json``."""
    folder = write_inputs(case)
    python = ensure_venv(venv)
    child = [str(python), str(Path(__file__).resolve()), "_child", str(folder)]
    parent = [sys.executable, *sys.argv]
    load_before = os.getloadavg()
    started = time.perf_counter()
    subprocess.run(child, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    wall = time.perf_counter() - started
    record = json.loads((folder / "run.json").read_text())
    record.update(command=shlex.join(parent), child_command=shlex.join(child),
                  process_wall_s=round(wall, 2), loadavg_before=load_before,
                  loadavg_after=os.getloadavg(), machine=platform.node(),
                  cpus=os.cpu_count())
    (folder / "run.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def child_main(folder: Path) -> None:
    """Runs inside SCALE-Sim's venv: the ``scalesim`` class with ``save_disk_space=True``
    (no traces on disk), each layer's ``run`` timed, and its big matrices dropped once its
    report items are computed (they are kept for all layers otherwise: gigabytes)."""
    from importlib.metadata import version

    from scalesim.scale_sim import scalesim
    from scalesim.single_layer_sim import single_layer_sim

    layer_walls: list[float] = []
    original_run = single_layer_sim.run

    def timed_run(self):
        start = time.perf_counter()
        original_run(self)
        self.calc_report_data()
        layer_walls.append(time.perf_counter() - start)
        self.memory_system = self.compute_system = self.op_mat_obj = None
        print(f"{folder.name} layer {self.layer_id}: {self.total_cycles} cycles "
              f"({self.stall_cycles} stall) in {layer_walls[-1]:.1f} s", flush=True)

    single_layer_sim.run = timed_run
    sim = scalesim(save_disk_space=True, verbose=False, config=str(folder / "scale.cfg"),
                   topology=str(folder / "topology.csv"), layout=str(folder / "layout.csv"))
    start = time.perf_counter()
    sim.run_scale(top_path=str(folder.parent))
    wall = time.perf_counter() - start
    import resource

    record = {"scalesim_version": version("scalesim"), "numpy_version": version("numpy"),
              "python": platform.python_version(), "wall_s": round(wall, 2),
              "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
              "layer_wall_s": [round(w, 2) for w in layer_walls]}
    (folder / "run.json").write_text(json.dumps(record, indent=1) + "\n")


# --- the comparison (parent side) ------------------------------------------------------------


def ours_live(net: str, rows: int, cols: int, dataflow: str) -> list[dict]:
    """accelsim on every layer of ``net``, timed twice: the nest analysis alone (dense
    cycles and every access count) and the whole pipeline (analysis, per-tile work from
    all-ones masks, tile schedule, SimPy engine, energy). Both run the layer's im2col GEMM,
    as SCALE-Sim computes it, with SCALE-Sim's mapping on ``scalesim_arch``. Untimed, for
    information: the cycles of our mapper's own mapping of the conv on the same array."""
    from accelsim.analysis import analyze
    from accelsim.mapping.mapper import search
    from accelsim.pipeline import simulate_layer
    from accelsim.validate_scalesim import (
        conv_layers,
        gemm_view,
        scalesim_arch,
        scalesim_mapping,
    )
    from accelsim.workload.trace import LayerTrace

    arch = scalesim_arch(rows, cols, dataflow)
    out = []
    for layer in conv_layers(net):
        start = time.perf_counter()
        gemm = gemm_view(layer)
        analysis = analyze(gemm, arch, scalesim_mapping(gemm, arch))
        analysis_wall = time.perf_counter() - start
        start = time.perf_counter()
        gemm = gemm_view(layer)
        result = simulate_layer(LayerTrace.dense(gemm), arch, scalesim_mapping(gemm, arch))
        pipeline_wall = time.perf_counter() - start
        mapper = search(layer, arch)  # our mapper's own mapping of the conv itself
        if result.timing.compute_cycles != analysis.cycles:
            raise SystemExit(f"{layer.name}: engine {result.timing.compute_cycles} cycles, "
                             f"analysis {analysis.cycles}")
        out.append({"layer": layer.name, "groups": layer.groups,
                    "total": result.timing.total_cycles,
                    "compute": result.timing.compute_cycles,
                    "stall": result.timing.stall_cycles, "mapper": mapper.cycles,
                    "mapper_mapping": mapper.mapping.describe(), "analysis_s": analysis_wall,
                    "pipeline_s": pipeline_wall})
    return out


def compare(cases: list[str]) -> tuple[list[dict], list[dict]]:
    """Per-layer rows and per-case totals for the cases that have recorded SCALE-Sim runs."""
    from accelsim.validate_scalesim import read_recorded, read_run

    rows_out, totals = [], []
    for case in cases:
        net, (_, rows, cols, dataflow) = split_case(case)
        folder = SCALESIM_RESULTS / case
        recorded, run = read_recorded(folder), read_run(folder)
        if not recorded or "wall_s" not in run:
            print(f"{case}: no finished SCALE-Sim run in {folder} (run it with "
                  f"'scalesim {case}' or --run-scalesim)", flush=True)
            continue
        ours = ours_live(net, rows, cols, dataflow)
        walls = run.get("layer_wall_s", [])
        for index, (mine, theirs) in enumerate(zip(ours, recorded, strict=True)):
            groups = mine["groups"]
            ref = theirs.compute_cycles * groups
            rows_out.append({
                "case": case, "layer": mine["layer"], "groups": groups,
                "scalesim_total": theirs.total_cycles * groups,
                "scalesim_stall": theirs.stall_cycles * groups, "scalesim_compute": ref,
                "ours_compute": mine["compute"], "ours_total": mine["total"],
                "diff_pct": 100 * (mine["compute"] / ref - 1), "ours_mapper": mine["mapper"],
                "ours_mapper_mapping": mine["mapper_mapping"],
                "scalesim_wall_s": walls[index] if index < len(walls) else None,
                "ours_analysis_s": mine["analysis_s"], "ours_pipeline_s": mine["pipeline_s"]})
        case_rows = [r for r in rows_out if r["case"] == case]
        analysis_wall = sum(r["ours_analysis_s"] for r in case_rows)
        pipeline_wall = sum(r["ours_pipeline_s"] for r in case_rows)
        ref_total = sum(r["scalesim_compute"] for r in case_rows)
        ours_total = sum(r["ours_compute"] for r in case_rows)
        totals.append({
            "case": case, "layers": len(case_rows),
            "scalesim_total": sum(r["scalesim_total"] for r in case_rows),
            "scalesim_stall": sum(r["scalesim_stall"] for r in case_rows),
            "scalesim_compute": ref_total, "ours_compute": ours_total,
            "diff_pct": 100 * (ours_total / ref_total - 1),
            "ours_mapper": sum(r["ours_mapper"] for r in case_rows),
            "max_abs_diff_pct": max(abs(r["diff_pct"]) for r in case_rows),
            "scalesim_wall_s": run["wall_s"], "ours_analysis_s": analysis_wall,
            "ours_pipeline_s": pipeline_wall, "speedup_analysis": run["wall_s"] / analysis_wall,
            "speedup_pipeline": run["wall_s"] / pipeline_wall,
            "scalesim_loadavg": " ".join(f"{x:.2f}" for x in run.get("loadavg_after", ())),
            "scalesim_command": run.get("command", "")})
    return rows_out, totals


def _wall(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def markdown(rows: list[dict], totals: list[dict], command: str) -> str:
    """The per-layer table and the per-network totals. A grouped layer's SCALE-Sim cycles
    are its one row's × groups (its wall time is that row's, run once)."""
    lines = [f"Made by `{command}`. SCALE-Sim: its recorded runs "
             "(`benchmarks/results/scalesim/<case>/`, command and machine load in `run.json`); "
             "ours timed live: *analysis* = the nest analysis (cycles and access counts), "
             "*pipeline* = the whole `simulate_layer` (all-ones masks, tile schedule, SimPy "
             "engine, energy). Cycles are deterministic; wall times are not.", "",
             "*Ours, mapper* (not timed): our mapper's own mapping of the conv itself on the "
             "same array and fill/drain, for information.", "",
             "| case | layer | SCALE-Sim total | SCALE-Sim stall | SCALE-Sim compute | ours "
             "compute | diff | ours, mapper | SCALE-Sim s | ours analysis s | ours pipeline s |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['layer']} | {r['scalesim_total']:,} | "
                     f"{r['scalesim_stall']:,} | {r['scalesim_compute']:,} | "
                     f"{r['ours_compute']:,} | {r['diff_pct']:+.4f} % | {r['ours_mapper']:,} | "
                     f"{_wall(r['scalesim_wall_s'])} | {_wall(r['ours_analysis_s'])} | "
                     f"{_wall(r['ours_pipeline_s'])} |")
    lines += ["", "| case | layers | SCALE-Sim compute | ours compute | diff | max layer "
              "\\|diff\\| | ours, mapper | SCALE-Sim s | ours analysis s | ours pipeline s | "
              "speed-up (analysis) | speed-up (pipeline) |",
              "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for t in totals:
        lines.append(f"| {t['case']} | {t['layers']} | {t['scalesim_compute']:,} | "
                     f"{t['ours_compute']:,} | {t['diff_pct']:+.4f} % | "
                     f"{t['max_abs_diff_pct']:.4f} % | {t['ours_mapper']:,} | "
                     f"{t['scalesim_wall_s']:.1f} | "
                     f"{t['ours_analysis_s']:.3f} | {t['ours_pipeline_s']:.3f} | "
                     f"{t['speedup_analysis']:,.0f}× | {t['speedup_pipeline']:,.0f}× |")
    return "\n".join(lines) + "\n"


def write_csv(path: Path, rows: list[dict]) -> None:
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v)
                             for k, v in row.items()})


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        child_main(Path(argv[1]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help="SCALE-Sim's venv (created with pip when absent)")
    parser.add_argument("--run-scalesim", action="store_true",
                        help="rerun SCALE-Sim on the cases first (minutes each)")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    sub = parser.add_subparsers(dest="command")
    only = sub.add_parser("scalesim", help="only run SCALE-Sim on the given cases")
    only.add_argument("cases", nargs="+", choices=CASES)
    args = parser.parse_args(argv)
    if args.command == "scalesim":
        for case in args.cases:
            record = run_scalesim(case, args.venv)
            print(f"{case}: SCALE-Sim {record['wall_s']} s", flush=True)
        return
    if args.run_scalesim:
        for case in args.cases:
            run_scalesim(case, args.venv)
    rows, totals = compare(args.cases)
    if not rows:
        raise SystemExit("scalesim_compare: no recorded SCALE-Sim run to compare with")
    command = shlex.join(["python", "benchmarks/scalesim_compare.py", *argv])
    text = markdown(rows, totals, command)
    print(text, end="")
    (RESULTS / "scalesim_compare.md").write_text(text)
    write_csv(RESULTS / "scalesim_compare.csv", rows)
    write_csv(RESULTS / "scalesim_compare_totals.csv", totals)


if __name__ == "__main__":
    main()
