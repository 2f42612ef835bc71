"""Figures of ``accelsim plot``: shared pieces (palette, CSV reading, deterministic saving).

Each ``*_figure`` function (``plot_energy``, ``plot_sweep``, ``plot_compare``) reads files,
returns a matplotlib ``Figure`` (Agg canvas, no pyplot state) and never writes; ``save_figure``
writes PNG, SVG or PDF by the file's extension, atomically and with the same bytes for the
same figure (no dates, no software versions, a fixed SVG hash salt).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from accelsim.atomic import atomic_output
from accelsim.errors import AccelsimError

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000")
"""Okabe & Ito's colour-blind-safe palette (orange, sky blue, bluish green, yellow, blue,
vermillion, reddish purple, black)."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
             "pdf": {"CreationDate": None, "Producer": None, "Creator": None}}
_RC = {"svg.hashsalt": "accelsim", "font.size": 10, "axes.titlesize": 11,
       "axes.labelsize": 10, "legend.fontsize": 9, "xtick.labelsize": 9, "ytick.labelsize": 9}


def colour(index: int) -> str:
    return OKABE_ITO[index % len(OKABE_ITO)]


def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas, independent of pyplot and of the user's backend."""
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def output_format(path: str | os.PathLike[str]) -> str:
    """``png``, ``svg`` or ``pdf`` from the extension; anything else is a user error."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise AccelsimError(f"unknown plot format {suffix or '(no extension)'!r}; expected "
                            f"one of {', '.join(FORMATS)}", file=path)
    return FORMATS[suffix]


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> None:
    """Render to memory, then replace ``path`` atomically; same figure, same bytes."""
    fmt = output_format(path)
    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(buffer, format=fmt, metadata=_METADATA[fmt])
    with atomic_output(path, "wb") as handle:
        handle.write(buffer.getvalue())


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a CSV with a header; a missing, empty or header-only file is an error."""
    file = Path(path)
    if not file.is_file():
        raise AccelsimError("no such file", file=file)
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as err:
        raise AccelsimError(f"not a readable CSV file: {err}", file=file) from None
    if not rows:
        raise AccelsimError("the CSV has no rows", file=file)
    return rows


def require_columns(rows: Sequence[dict[str, str]], columns: Sequence[str],
                    path: str | os.PathLike[str], what: str = "column") -> None:
    header = list(rows[0])
    for column in columns:
        if column not in header:
            raise AccelsimError(f"no {what} {column!r} in the CSV; it has "
                                f"{', '.join(header)}", file=path)


def number(text: str, path: str | os.PathLike[str], column: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise AccelsimError(f"expected a number, got {text!r}", file=path,
                            key=column) from None


def spans_decades(values: Sequence[float], decades: float = 2.0) -> bool:
    """Positive values whose largest is more than 10**decades times the smallest."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite or min(finite) <= 0:
        return False
    return max(finite) / min(finite) > 10 ** decades
