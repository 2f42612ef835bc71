"""The ``accelsim`` command: parses arguments, calls the library, prints, exits.

Exit status: 0 success, 2 a user error (one line on stderr, never a traceback),
130 interrupted (SIGINT), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from accelsim.errors import AccelsimError

EXIT_USER_ERROR = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class _Terminated(BaseException):
    """Raised from the SIGTERM handler so that atomic writers clean up on the way out."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (usage is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ----------------------------------------------------------------------------- trace


def _cmd_trace_info(args: argparse.Namespace) -> int:
    from accelsim.report.trace_info import format_trace_info, trace_info_json
    from accelsim.workload.stats import trace_stats
    from accelsim.workload.trace import load_trace

    trace = load_trace(args.file)
    stats = trace_stats(trace)
    if args.json:
        print(trace_info_json(trace, stats))
    else:
        print(format_trace_info(trace, stats))
    return 0


def _parse_nm(text: str) -> tuple[int, int]:
    parts = text.split(":")
    try:
        n, m = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N:M such as 2:4, got {text!r}") from None
    if not 1 <= n <= m:
        raise argparse.ArgumentTypeError(f"expected 1 <= N <= M in N:M, got {text!r}")
    return n, m


def _density(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _max_memory(text: str) -> int:
    from accelsim.resources import parse_size

    return parse_size(text)


def _add_max_memory(parser: argparse.ArgumentParser, extra: str = "") -> None:
    parser.add_argument("--max-memory", type=_max_memory, default=None, metavar="SIZE",
                        help="refuse, with one line naming the layer, work estimated to need "
                        "more memory than SIZE (e.g. 8G, 512M; default: 80%% of the "
                        f"machine's){extra}")


def _cmd_trace_synth(args: argparse.Namespace) -> int:
    from accelsim.resources import check_synth, resolve_limit
    from accelsim.workload.synth import load_profile, synthesize
    from accelsim.workload.zoo import get_model

    check_synth(get_model(args.model, args.batch), resolve_limit(args.max_memory))
    act_density = load_profile(args.act_profile) if args.act_profile else args.act_density
    trace = synthesize(
        args.model, batch=args.batch, act_density=act_density,
        weight_density=args.weight_density, nm=args.nm, act_generator=args.act_generator,
        seed=args.seed)
    trace.save(args.output)
    print(f"wrote {args.output}: {len(trace)} layers of {args.model}, batch {args.batch}, "
          f"seed {args.seed}", file=sys.stderr)
    return 0


def _cmd_trace_import(args: argparse.Namespace) -> int:
    from accelsim.workload.importers import import_workload

    trace = import_workload(args.file, file_format=args.format, batch=args.batch,
                            seed=args.seed, max_memory=args.max_memory)
    trace.save(args.output)
    print(f"wrote {args.output}: {len(trace)} layers imported from {args.file}",
          file=sys.stderr)
    return 0


def _cmd_trace_export(args: argparse.Namespace) -> int:
    from accelsim.workload.exporters.sparseloop import export_sparseloop
    from accelsim.workload.trace import load_trace

    trace = load_trace(args.file)
    layers = [name for name in args.layers.split(",") if name] if args.layers else None
    written = export_sparseloop(trace, args.sparseloop, layers=layers)
    print(f"wrote {len(written)} files to {args.sparseloop}", file=sys.stderr)
    return 0


def _cmd_trace_record(args: argparse.Namespace) -> int:
    from accelsim.record import require_torch

    require_torch()
    from accelsim.record.data import Split
    from accelsim.record.files import RecordRequest, record_from_files

    trace = record_from_files(RecordRequest(
        model=args.model, weights=args.weights, data=args.data, images=args.images,
        split=Split(args.split), dataset=args.dataset, output_masks=not args.no_output_masks,
        threads=args.threads))
    trace.save(args.output)
    print(f"wrote {args.output}: {len(trace)} layers of {args.model}, {args.images} images "
          f"({args.split} split)", file=sys.stderr)
    return 0


def _add_record_command(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("record", help="record a trace from a PyTorch model on real images "
                         "(needs the torch extra)")
    rec.add_argument("--model", required=True, help="model name, e.g. resnet20_cifar10")
    rec.add_argument("--weights", type=Path, required=True,
                     help="state dict: .npz (accelsim checkpoint or array file) or .th/.pt/.pth")
    rec.add_argument("--data", type=Path, required=True,
                     help="image directory or .zip laid out as <class>/<image>")
    rec.add_argument("--images", type=_positive_int, default=8,
                     help="images to record, taken from each class in turn (default 8)")
    rec.add_argument("--split", choices=("heldout", "train", "all"), default="heldout",
                     help="which images by index mod 10: 8-9 heldout (default), 0-7 train")
    rec.add_argument("--dataset", default=None, help="dataset name for the manifest "
                     "(default: the model's, e.g. cifar10)")
    rec.add_argument("--no-output-masks", action="store_true",
                     help="do not record masks after each layer's activation")
    rec.add_argument("--threads", type=_positive_int, default=1,
                     help="PyTorch CPU threads (default 1)")
    rec.add_argument("-o", "--output", type=Path, required=True, help="trace file to write")
    rec.set_defaults(handler=_cmd_trace_record)


def _add_trace_commands(commands: argparse._SubParsersAction) -> None:
    trace = commands.add_parser("trace", help="make, inspect, import and export traces")
    sub = trace.add_subparsers(dest="trace_command", required=True, metavar="COMMAND",
                               parser_class=_Parser)

    info = sub.add_parser("info", help="per-layer geometry, densities and exact effectual MACs")
    info.add_argument("file", help="trace file (.npz)")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.set_defaults(handler=_cmd_trace_info)

    synth = sub.add_parser("synth", help="a model-zoo geometry with seeded synthetic masks")
    synth.add_argument("--model", required=True, help="zoo model name (see docs/model-zoo.md)")
    synth.add_argument("--batch", type=_positive_int, default=1, help="batch size N (default 1)")
    act = synth.add_mutually_exclusive_group()
    act.add_argument("--act-density", type=_density, default=None,
                     help="activation density for every layer but the stem (default 1)")
    act.add_argument("--act-profile", type=Path, default=None,
                     help="YAML/JSON file: layer name -> activation density")
    wgt = synth.add_mutually_exclusive_group()
    wgt.add_argument("--weight-density", type=_density, default=None,
                     help="exact-density uniform weight masks (default 1)")
    wgt.add_argument("--nm", type=_parse_nm, default=None,
                     help="N:M structured weights, e.g. 2:4")
    synth.add_argument("--act-generator", choices=("clustered", "uniform"),
                       default="clustered", help="activation mask generator")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("-o", "--output", type=Path, required=True, help="trace file to write")
    _add_max_memory(synth)
    synth.set_defaults(handler=_cmd_trace_synth)

    imp = sub.add_parser("import", help="a SCALE-Sim topology CSV or a Timeloop problem YAML")
    imp.add_argument("file", type=Path, help="topology .csv or problem .yaml")
    imp.add_argument("--format", choices=("scalesim", "timeloop"), default=None,
                     help="input format (default: from the file extension)")
    imp.add_argument("--batch", type=_positive_int, default=None,
                     help="batch size (default: 1, or the problem's N)")
    imp.add_argument("--seed", type=int, default=0, help="seed for masks drawn from densities")
    imp.add_argument("-o", "--output", type=Path, required=True, help="trace file to write")
    _add_max_memory(imp)
    imp.set_defaults(handler=_cmd_trace_import)

    exp = sub.add_parser("export", help="Sparseloop workload YAMLs and real-data mask files")
    exp.add_argument("file", type=Path, help="trace file (.npz)")
    exp.add_argument("--sparseloop", type=Path, required=True, metavar="DIR",
                     help="output directory")
    exp.add_argument("--layers", default=None, help="comma-separated layer names (default all)")
    exp.set_defaults(handler=_cmd_trace_export)

    _add_record_command(sub)


# ----------------------------------------------------------------------------- train


def _cmd_train(args: argparse.Namespace) -> int:
    from accelsim.record import require_torch

    require_torch()
    from accelsim.train.progress import ProgressBar
    from accelsim.train.recipe import Recipe
    from accelsim.train.run import TrainConfig, run_training

    recipe = Recipe(
        kind=args.recipe, epochs=args.epochs, seed=args.seed, lr=args.lr,
        batch_size=args.batch_size, a=args.a, lam=args.lam, lam_warmup_epochs=args.lam_warmup,
        normalisation=args.normalisation, weight_l1=args.weight_l1, prune_ratio=args.prune,
        prune_scope=args.prune_scope, prune_schedule=args.prune_schedule,
        prune_start_epoch=args.prune_start, prune_end_epoch=args.prune_end,
        prune_first_conv=args.prune_first_conv)
    bar = ProgressBar(recipe.epochs)
    result = run_training(
        TrainConfig(model=args.model, data=args.data, output=args.output, recipe=recipe,
                    weights=args.weights, log=args.log, threads=args.threads,
                    device=args.device), on_step=bar.step, on_epoch=bar.epoch)
    print(f"wrote {result.checkpoint} and {result.log}", file=sys.stderr)
    return 0


def _add_train_command(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train", help="dual sparse training: TL1 on activations, magnitude pruning "
        "(needs the torch extra)")
    train.add_argument("--model", required=True, help="model name, e.g. resnet20_cifar10")
    train.add_argument("--weights", type=Path, default=None,
                       help="initial state dict (default: the seeded random initialisation)")
    train.add_argument("--data", type=Path, required=True,
                       help="image directory or .zip as <class>/<image>; index mod 10 in 0-7 "
                       "trains, 8-9 is held out")
    train.add_argument("--recipe", choices=("dense", "tl1", "tl1_prune", "prune"),
                       default="dense", help="what to train (default dense: the lam=0 control)")
    train.add_argument("--epochs", type=_positive_int, default=10, help="epochs (default 10)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--lr", type=float, default=0.01,
                       help="peak SGD learning rate, cosine to 0 (default 0.01)")
    train.add_argument("--batch-size", type=_positive_int, default=128, help="default 128")
    train.add_argument("--a", type=float, default=1.0, help="TL1 shape parameter a (default 1)")
    train.add_argument("--lam", type=float, default=0.0, help="TL1 weight lambda (default 0)")
    train.add_argument("--lam-warmup", type=float, default=0.0, metavar="EPOCHS",
                       help="ramp lambda linearly from 0 over this many epochs (default 0)")
    train.add_argument("--normalisation", choices=("mean", "elements"), default="mean",
                       help="TL1 per tensor mean summed over layers (default), or over all "
                       "elements")
    train.add_argument("--weight-l1", type=float, default=0.0,
                       help="l1 on prunable weights until the pruning masks freeze (default 0)")
    train.add_argument("--prune", type=float, default=0.0, metavar="RATIO",
                       help="fraction of weights to prune (default 0)")
    train.add_argument("--prune-scope", choices=("layer", "global"), default="layer",
                       help="ratio per layer (default) or one global threshold")
    train.add_argument("--prune-schedule", choices=("oneshot", "cubic"), default="oneshot",
                       help="at --prune-start (default), or Zhu & Gupta's cubic ramp to "
                       "--prune-end")
    train.add_argument("--prune-start", type=float, default=0.0, metavar="EPOCH",
                       help="epoch at which pruning starts (default 0)")
    train.add_argument("--prune-end", type=float, default=0.0, metavar="EPOCH",
                       help="epoch at which the cubic schedule ends and masks freeze")
    train.add_argument("--prune-first-conv", action="store_true",
                       help="prune the first conv too (default: kept dense)")
    train.add_argument("--threads", type=_positive_int, default=1,
                       help="PyTorch CPU threads (default 1; results depend on it)")
    train.add_argument("--device", default="cpu", help="torch device (default cpu)")
    train.add_argument("--log", type=Path, default=None,
                       help="JSON log (default: the checkpoint path with .json)")
    train.add_argument("-o", "--output", type=Path, required=True,
                       help="checkpoint to write (.npz)")
    train.set_defaults(handler=_cmd_train)


# ----------------------------------------------------------------------------- run


def _locate(argument: str, finder) -> str:
    """Resolve a path or bundled name; a missing path that names a bundled file falls back
    to it, saying so in one line on stderr."""
    location = finder(argument, fallback=True)
    if location.fallback:
        print(f"accelsim: {argument} does not exist; using the bundled {location.path.name}",
              file=sys.stderr)
    return str(location.path)


def _cmd_run(args: argparse.Namespace) -> int:
    from accelsim.arch.bundled import find_config
    from accelsim.arch.loader import load_architecture
    from accelsim.bundled import find_trace
    from accelsim.mapping.yaml_io import load_mapping
    from accelsim.pipeline import simulate
    from accelsim.report.progress import ProgressBar
    from accelsim.report.run_report import format_run_table
    from accelsim.resources import check_trace_file, resolve_limit
    from accelsim.workload.trace import load_trace

    if args.output is not None and args.output.exists() and not args.output.is_dir():
        raise AccelsimError("is not a directory; -o names a folder for layers.csv and "
                            "summary.json", file=args.output)
    arch = load_architecture(_locate(args.hw, find_config))
    trace_file = _locate(args.trace, find_trace)
    check_trace_file(trace_file, resolve_limit(args.max_memory))
    trace = load_trace(trace_file)
    mappings = {}
    for path in args.mapping or ():
        mapping = load_mapping(path)
        name = trace.layers[0].layer.name if len(trace) == 1 else mapping.layer
        if name is None:
            raise AccelsimError("a mapping file for a multi-layer trace must name its "
                                "'layer'", file=path, key="layer")
        layer = next((lt.layer for lt in trace.layers if lt.layer.name == name), None)
        if layer is None:
            trace_name = Path(trace.path or args.trace).name
            raise AccelsimError(f"names layer {name!r}, which {trace_name} does not have",
                                file=path, key="layer")
        mappings[name] = load_mapping(path, layer, arch)  # errors name this file and line
    layers = [n for n in args.layers.split(",") if n] if args.layers else None
    result = simulate(arch, trace, mappings=mappings, layers=layers, progress=ProgressBar(),
                      max_memory=args.max_memory)
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        result.to_csv(args.output / "layers.csv")
        result.to_json(args.output / "summary.json")
    print(format_run_table(result))
    if args.show_mappings:
        from accelsim.mapping.printout import format_mapping

        geometry = {lt.layer.name: lt.layer for lt in trace.layers}
        for layer_result in result.layers:
            print(f"\n=== {layer_result.name} ({layer_result.geometry})\n")
            print(format_mapping(layer_result.mapping, geometry[layer_result.name],
                                 result.arch))
    if args.output is not None:
        print(f"wrote {args.output / 'layers.csv'} and {args.output / 'summary.json'}",
              file=sys.stderr)
    return 0


def _add_run_command(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="simulate a trace on an accelerator, layer by layer")
    run.add_argument("--hw", required=True,
                     help="architecture YAML, or a bundled name (eyeriss_like, eyeriss_v1, ...)")
    run.add_argument("--trace", required=True, help="trace file (.npz) or a bundled trace name")
    run.add_argument("-o", "--output", type=Path, default=None, metavar="DIR",
                     help="write DIR/layers.csv and DIR/summary.json")
    run.add_argument("--mapping", type=Path, action="append", metavar="FILE",
                     help="fix the mapping of the layer the file names (repeatable)")
    run.add_argument("--layers", default=None,
                     help="comma-separated layer names to simulate (default all)")
    run.add_argument("--show-mappings", action="store_true",
                     help="print each layer's mapping as a loop nest (like Timeloop's map.txt)")
    _add_max_memory(run)
    run.set_defaults(handler=_cmd_run)


# ----------------------------------------------------------------------------- compare, plot


def _cmd_compare(args: argparse.Namespace) -> int:
    from accelsim.arch.bundled import find_config
    from accelsim.bundled import find_trace
    from accelsim.compare import compare

    if len(args.traces) < 2:
        raise AccelsimError(f"compare needs at least two traces, got {len(args.traces)}")
    hw = _locate(args.hw, find_config)
    traces = [_locate(t, find_trace) for t in args.traces]
    layers = [n for n in args.layers.split(",") if n] if args.layers else None
    comparison = compare(hw, traces, layers=layers)
    print(comparison.format_table())
    for path, write in ((args.output, comparison.to_csv), (args.json, comparison.to_json)):
        if path is not None:
            write(path)
            print(f"wrote {path}", file=sys.stderr)
    return 0


def _add_compare_command(commands: argparse._SubParsersAction) -> None:
    cmp = commands.add_parser("compare", help="model variants side by side on one "
                              "accelerator, relative to the first")
    cmp.add_argument("--hw", required=True, help="architecture YAML or a bundled name")
    cmp.add_argument("traces", nargs="+", metavar="TRACE",
                     help="trace files or bundled names; the first is the baseline")
    cmp.add_argument("-o", "--output", type=Path, default=None, metavar="OUT.csv",
                     help="write the comparison as CSV")
    cmp.add_argument("--json", type=Path, default=None, metavar="OUT.json",
                     help="write the comparison as JSON")
    cmp.add_argument("--layers", default=None,
                     help="comma-separated layer names to compare (default all)")
    cmp.set_defaults(handler=_cmd_compare)


def _cmd_plot(args: argparse.Namespace) -> int:
    from accelsim.report.plots import output_format, save_figure

    output_format(args.output)  # an unknown extension fails before any work
    if args.plot_command == "energy":
        from accelsim.report.plot_energy import energy_figure

        figure = energy_figure(args.run_dir)
    elif args.plot_command == "sweep":
        from accelsim.report.plot_sweep import sweep_figure

        figure = sweep_figure(args.csv, x=args.x, y=args.y, hue=args.hue)
    else:
        from accelsim.report.plot_compare import compare_figure

        figure = compare_figure(args.csv)
    save_figure(figure, args.output)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _add_plot_command(commands: argparse._SubParsersAction) -> None:
    plot = commands.add_parser("plot", help="figures (PNG, SVG or PDF by the output's "
                               "extension) of runs, sweeps and comparisons")
    sub = plot.add_subparsers(dest="plot_command", required=True, metavar="COMMAND",
                              parser_class=_Parser)
    energy = sub.add_parser("energy", help="energy per layer by component, from "
                            "'accelsim run -o RUN_DIR'")
    energy.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    sweep = sub.add_parser("sweep", help="a metric against a swept key, and the "
                           "cycles-energy Pareto front, from 'accelsim sweep -o OUT.csv'")
    sweep.add_argument("csv", type=Path, metavar="OUT.csv")
    sweep.add_argument("--x", required=True, metavar="KEY", help="swept key on the x axis")
    sweep.add_argument("--y", default="cycles",
                       choices=("cycles", "energy", "dram_bytes", "utilization"),
                       help="metric on the y axis (default cycles)")
    sweep.add_argument("--hue", default=None, metavar="KEY", help="one line per value of KEY")
    cmp = sub.add_parser("compare", help="per-layer speed-up and energy saving next to the "
                         "effectual-MAC reduction, from 'accelsim compare -o COMPARE.csv'")
    cmp.add_argument("csv", type=Path, metavar="COMPARE.csv")
    for parser in (energy, sweep, cmp):
        parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                            help="figure to write: .png, .svg or .pdf")
        parser.set_defaults(handler=_cmd_plot)


# ----------------------------------------------------------------------------- sweep


def _cmd_sweep(args: argparse.Namespace) -> int:
    from accelsim.sweep import ProgressBar, build_spec, run_sweep

    layers = [n for n in args.layers.split(",") if n] if args.layers else None
    spec = build_spec(args.hw, args.trace, args.set or (), args.set_from, layers)
    summary = run_sweep(spec, args.output, executor=args.executor, jobs=args.jobs,
                        scheduler=args.scheduler, retry_failed=args.retry_failed,
                        progress=ProgressBar(), max_memory=args.max_memory)
    print(f"wrote {args.output}: {summary.points} points ({summary.skipped} already there, "
          f"{summary.ran} run, {summary.failed} failed)", file=sys.stderr)
    return 0


def _add_sweep_command(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser("sweep", help="simulate a grid of config variations and "
                                "traces into one CSV (resumable)")
    sweep.add_argument("--hw", required=True, help="architecture YAML, or a bundled name")
    sweep.add_argument("--trace", action="append", required=True,
                       help="trace file or bundled name (repeatable: traces are a grid axis)")
    sweep.add_argument("--set", action="append", metavar="KEY=V1,V2,...",
                       help="a dotted config key and its values, e.g. "
                       "levels.shared_glb.depth=4096,8192 (repeatable: the grid is the "
                       "product)")
    sweep.add_argument("--set-from", default=None, metavar="FILE.yaml",
                       help="a YAML list of {key: value, ...} variations, taken row by row")
    sweep.add_argument("--layers", default=None,
                       help="comma-separated layer names to simulate (default all)")
    sweep.add_argument("-j", "--jobs", type=_positive_int, default=os.cpu_count() or 1,
                       help="worker processes (default: the number of cores)")
    sweep.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="local process pool (default) or a Dask cluster")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="Dask scheduler address (tcp://host:8786), with --executor dask")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="rerun points an earlier run recorded as failed")
    sweep.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.csv",
                       help="CSV to write; points already in it are skipped")
    _add_max_memory(sweep, " (per sweep: shared by the -j local workers; each Dask worker "
                           "defaults to its own machine's)")
    sweep.set_defaults(handler=_cmd_sweep)


def _cmd_report(args: argparse.Namespace) -> int:
    from accelsim.report.html import write_report

    write_report(args.run_dir, args.output)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _add_report_command(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="one self-contained HTML page (summary, "
                                 "sortable layer table, energy plot, config) of a run")
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                        help="folder written by 'accelsim run -o RUN_DIR'")
    report.add_argument("-o", "--output", type=Path, required=True, metavar="report.html",
                        help="HTML file to write")
    report.set_defaults(handler=_cmd_report)


def _cmd_validate(args: argparse.Namespace) -> int:
    from accelsim.atomic import write_text_atomic
    from accelsim.validate import DEFAULT_REPORT, summary, validate

    checks, text = validate(args.repo, args.shared)
    output = args.repo / DEFAULT_REPORT if args.output is None else args.output
    if str(output) == "-":
        sys.stdout.write(text)
    else:
        write_text_atomic(output, text)
        print(f"wrote {output}", file=sys.stderr)
    print(summary(checks), file=sys.stderr)
    return 0


def _add_validate_command(commands: argparse._SubParsersAction) -> None:
    validate = commands.add_parser("validate", help="run the reference comparisons "
                                   "(Timeloop, Sparseloop, Eyeriss, SCALE-Sim, closed "
                                   "forms) into one Markdown report")
    validate.add_argument("-o", "--output", type=Path, metavar="REPORT.md",
                          help="Markdown file to write, '-' for standard output (default: "
                          "DIR/docs/validation.md)")
    validate.add_argument("--repo", type=Path, default=Path("."), metavar="DIR",
                          help="accelsim checkout with the fixtures (default: .)")
    validate.add_argument("--shared", type=Path, metavar="DIR",
                          help="reference folder (default: DIR/../shared)")
    validate.set_defaults(handler=_cmd_validate)


def build_parser() -> argparse.ArgumentParser:
    from accelsim import __version__

    parser = _Parser(prog="accelsim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"accelsim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)
    _add_trace_commands(commands)
    _add_run_command(commands)
    _add_sweep_command(commands)
    _add_compare_command(commands)
    _add_plot_command(commands)
    _add_report_command(commands)
    _add_train_command(commands)
    _add_validate_command(commands)
    return parser


def _on_sigterm(signum: int, frame: object) -> NoReturn:
    raise _Terminated


def _fail(line: str, status: int) -> int:
    """Print the one line, first clearing a progress bar a terminal may show."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    print(line, file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.handler(args)
    except AccelsimError as err:
        return _fail(f"accelsim: {err}", EXIT_USER_ERROR)
    except KeyboardInterrupt:
        return _fail("accelsim: interrupted", EXIT_SIGINT)
    except _Terminated:
        return _fail("accelsim: terminated", EXIT_SIGTERM)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def entry() -> NoReturn:
    """The console script: ``main``'s status as the process's. An interrupted or terminated
    command ends without the interpreter's exit hooks — concurrent.futures' hook may write to
    the wake-up pipe of a pool stopped mid-task and print an "Exception ignored" traceback
    after the one line; everything was written or removed while unwinding."""
    status = main()
    if status in (EXIT_SIGINT, EXIT_SIGTERM):
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    entry()
