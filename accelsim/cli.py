"""The ``accelsim`` command: parses arguments, calls the library, prints, exits.

Exit status: 0 success, 2 a user error (one line on stderr, never a traceback),
130 interrupted (SIGINT), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
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


def _cmd_trace_synth(args: argparse.Namespace) -> int:
    from accelsim.workload.synth import load_profile, synthesize

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
                            seed=args.seed)
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
    synth.set_defaults(handler=_cmd_trace_synth)

    imp = sub.add_parser("import", help="a SCALE-Sim topology CSV or a Timeloop problem YAML")
    imp.add_argument("file", type=Path, help="topology .csv or problem .yaml")
    imp.add_argument("--format", choices=("scalesim", "timeloop"), default=None,
                     help="input format (default: from the file extension)")
    imp.add_argument("--batch", type=_positive_int, default=None,
                     help="batch size (default: 1, or the problem's N)")
    imp.add_argument("--seed", type=int, default=0, help="seed for masks drawn from densities")
    imp.add_argument("-o", "--output", type=Path, required=True, help="trace file to write")
    imp.set_defaults(handler=_cmd_trace_import)

    exp = sub.add_parser("export", help="Sparseloop workload YAMLs and real-data mask files")
    exp.add_argument("file", type=Path, help="trace file (.npz)")
    exp.add_argument("--sparseloop", type=Path, required=True, metavar="DIR",
                     help="output directory")
    exp.add_argument("--layers", default=None, help="comma-separated layer names (default all)")
    exp.set_defaults(handler=_cmd_trace_export)


def build_parser() -> argparse.ArgumentParser:
    from accelsim import __version__

    parser = _Parser(prog="accelsim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"accelsim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)
    _add_trace_commands(commands)
    return parser


def _on_sigterm(signum: int, frame: object) -> NoReturn:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.handler(args)
    except AccelsimError as err:
        print(f"accelsim: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("accelsim: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except _Terminated:
        print("accelsim: terminated", file=sys.stderr)
        return EXIT_SIGTERM
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
