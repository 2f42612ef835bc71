"""SCALE-Sim topology CSV → trace.

SCALE-Sim (v2/v3, ``scalesim/topology_utils.py``) reads two forms, told apart here by the
header line:

* conv: ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
  Num Filter, Strides,`` — the IFMAP size already includes any padding, so layers are
  imported with padding 0 and the IFMAP size as given. SCALE-Sim v2 also accepts a
  separate stride height and width (9 fields).
* GEMM: ``Layer, M, N, K,`` — SCALE-Sim runs it as an M×K IFMAP with one channel and N
  filters of 1×K; we import the equivalent 1×1 convolution (H=M, W=1, C=K, N filters),
  which has the same im2col matrices and M·N·K MACs.

v3 adds an optional last ``Sparsity`` column ``N:M``: the weights become N:M structured
along the input channels (seeded), activations stay dense. Without it all masks are
ones. A conv layer whose name contains ``DP`` is depthwise in SCALE-Sim (one channel
per copy); it is imported as a grouped convolution with groups = Channels.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from accelsim.errors import AccelsimError, GeometryError, ImportFormatError
from accelsim.resources import check_synth, resolve_limit
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo, check_tensor_sizes

CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
               "Channels, Num Filter, Strides[, Sparsity],")
GEMM_HEADER = "Layer, M, N, K[, Sparsity],"
PADDING_NOTE = ("SCALE-Sim IFMAP sizes already include padding: imported as given, with "
                "padding 0 except where the stride leaves a last window hanging past the "
                "edge (SCALE-Sim's output is ceil((IFMAP - filter) / stride) + 1); there the "
                "smallest symmetric padding giving that output size, listed in edge_padding")
GEMM_NOTE = ("SCALE-Sim runs an M×N×K GEMM as an M×K IFMAP with N filters of 1×K; imported "
             "as the equivalent 1×1 convolution H=M, W=1, C=K with N filters")
_CONV_NUMBERS = ("IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
                 "Num Filter", "Strides")
_GEMM_NUMBERS = ("M", "N", "K")
_NM = re.compile(r"^(\d+)\s*:\s*(\d+)$")


@dataclass(frozen=True, slots=True)
class _Row:
    """One data line: its geometry, optional N:M weight pattern and where it came from."""

    line: int
    layer: Layer
    nm: tuple[int, int] | None


def import_scalesim_csv(path: str | os.PathLike[str], *, batch: int = 1,
                        seed: int = 0, max_memory: int | None = None) -> Trace:
    """Read a SCALE-Sim topology CSV (conv or GEMM form) as a trace of ``batch`` images;
    refused before any mask is drawn when the masks would exceed ``max_memory`` bytes
    (None: the machine's default, ``accelsim.resources``)."""
    file = os.fspath(path)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ImportFormatError(f"batch must be a positive integer, got {batch!r}", file=file)
    lines = list(_numbered_lines(_read_text(file)))
    if not lines:
        raise ImportFormatError("empty file: expected a SCALE-Sim topology header "
                                f"({CONV_HEADER} or {GEMM_HEADER})", file=file)
    header_line, header = lines[0]
    form = _form_of(header, file, header_line)
    rows = [_parse_row(fields, form, batch, file, number) for number, fields in lines[1:]]
    if not rows:
        raise ImportFormatError("no layers after the header", file=file, line=header_line)
    rows = _unique_names(rows)
    check_synth([row.layer for row in rows], resolve_limit(max_memory))
    rng = np.random.default_rng(seed)
    layers = tuple(_layer_trace(row, rng, file) for row in rows)
    sparsity = {row.layer.name: f"{row.nm[0]}:{row.nm[1]}" for row in rows if row.nm}
    source = {"kind": "imported", "importer": "scalesim", "file": Path(file).name,
              "form": form, "batch": batch, "seed": seed}
    notes = {"geometry": PADDING_NOTE if form == "conv" else GEMM_NOTE,
             "masks": "weights N:M structured along input channels where a Sparsity "
                      "column is given (seeded); everything else all ones",
             "weight_sparsity": sparsity,
             "edge_padding": {row.layer.name: list(row.layer.padding) for row in rows
                              if row.layer.padding != (0, 0)}}
    return Trace(TraceInfo(model=Path(file).stem, source=source, notes=notes), layers)


def _read_text(file: str) -> str:
    """The text of a foreign workload file; a missing or binary file is one error line."""
    target = Path(file)
    if not target.exists():
        raise ImportFormatError("no such file", file=file)
    if target.is_dir():
        raise ImportFormatError("is a directory, expected a file", file=file)
    try:
        return target.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                file=file) from None
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror}", file=file) from None


def _numbered_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """(1-based line number, stripped fields) of each line with content.

    ``#`` starts a comment (SCALE-Sim's own files put ``#dw`` after the last comma, which
    it ignores); one trailing comma is optional, as some of its files omit it.
    """
    for number, raw in enumerate(text.split("\n"), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        fields = [field.strip() for field in content.split(",")]
        if len(fields) > 1 and fields[-1] == "":
            fields.pop()
        yield number, fields


def _form_of(header: list[str], file: str, line: int) -> str:
    words = [field.lower() for field in header]
    if len(words) >= 4 and words[1:4] == ["m", "n", "k"]:
        return "gemm"
    if len(words) >= 2 and words[1].startswith("ifmap"):
        return "conv"
    raise ImportFormatError(
        f"expected a SCALE-Sim header ({CONV_HEADER} or {GEMM_HEADER}), got "
        f"{', '.join(header)!r}", file=file, line=line)


def _parse_row(fields: list[str], form: str, batch: int, file: str, line: int) -> _Row:
    name = fields[0]
    if not name:
        raise ImportFormatError("empty layer name", file=file, line=line)
    nm = None
    if len(fields) > 1 and ":" in fields[-1]:
        nm = _parse_nm(fields.pop(), file, line, name)
    numbers = _CONV_NUMBERS if form == "conv" else _GEMM_NUMBERS
    allowed = (len(numbers) + 1, len(numbers) + 2) if form == "conv" else (len(numbers) + 1,)
    if len(fields) not in allowed:
        expected = CONV_HEADER if form == "conv" else GEMM_HEADER
        raise ImportFormatError(
            f"expected {' or '.join(str(n) for n in allowed)} fields before the optional "
            f"sparsity ({expected}), got {len(fields)}", file=file, line=line, key=name)
    labels = (*numbers, "Stride Width") if len(fields) > len(numbers) + 1 else numbers
    values = [_positive_int(text, label, file, line, name)
              for text, label in zip(fields[1:], labels, strict=True)]
    try:
        layer = _conv_layer(name, values, batch) if form == "conv" else \
            _gemm_layer(name, values, batch)
        check_tensor_sizes(layer)
    except GeometryError as exc:
        raise ImportFormatError(exc.message, file=file, line=line, key=name) from None
    return _Row(line, layer, nm)


def _conv_layer(name: str, values: list[int], batch: int) -> Layer:
    height, width, kernel_h, kernel_w, channels, filters, stride_h = values[:7]
    if kernel_h > height or kernel_w > width:
        raise GeometryError(f"filter {kernel_h}x{kernel_w} is larger than the IFMAP "
                            f"{height}x{width}")
    stride = (stride_h, values[7] if len(values) > 7 else stride_h)
    padding = (edge_padding(height, kernel_h, stride[0]), edge_padding(width, kernel_w,
                                                                       stride[1]))
    depthwise = "DP" in name  # SCALE-Sim: one copy per channel, each with `filters` filters
    return Layer(name, N=batch, C=channels, H=height, W=width,
                 M=channels * filters if depthwise else filters, R=kernel_h, S=kernel_w,
                 stride=stride, padding=padding, groups=channels if depthwise else 1)


def edge_padding(size: int, kernel: int, stride: int) -> int:
    """The smallest symmetric padding giving SCALE-Sim's output size.

    SCALE-Sim sizes the output ``ceil((size - kernel) / stride) + 1``: when the stride does
    not divide ``size - kernel`` a last window hangs past the bottom/right edge and reads
    nothing there. accelsim's floor convention needs ``ceil(deficit / 2)`` padding rows for
    the same count (stride 1, or a stride that divides, needs none).
    """
    deficit = -(size - kernel) % stride
    return (deficit + 1) // 2


def _gemm_layer(name: str, values: list[int], batch: int) -> Layer:
    rows, cols, depth = values  # M, N, K
    return Layer(name, N=batch, C=depth, H=rows, W=1, M=cols)


def _positive_int(text: str, label: str, file: str, line: int, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ImportFormatError(f"{label}: expected a positive integer, got {text!r}",
                                file=file, line=line, key=name) from None
    if value < 1:
        raise ImportFormatError(f"{label}: expected a positive integer, got {value}",
                                file=file, line=line, key=name)
    return value


def _parse_nm(text: str, file: str, line: int, name: str) -> tuple[int, int]:
    from accelsim.workload.generators import check_nm

    match = _NM.match(text)
    try:
        if match is None:
            raise AccelsimError("expected N:M with integers, e.g. 2:4")
        n, m = int(match.group(1)), int(match.group(2))
        check_nm(n, m)
    except AccelsimError as exc:
        raise ImportFormatError(f"Sparsity {text!r}: {exc.message}", file=file, line=line,
                                key=name) from None
    return n, m


def _unique_names(rows: list[_Row]) -> list[_Row]:
    """SCALE-Sim allows repeated layer names; a trace does not, so repeats get ``@line``."""
    seen: set[str] = set()
    unique = []
    for row in rows:
        name = row.layer.name
        if name in seen:
            name = f"{name}@{row.line}"
            row = _Row(row.line, replace(row.layer, name=name, input_tensor=name), row.nm)
        seen.add(name)
        unique.append(row)
    return unique


def _layer_trace(row: _Row, rng: np.random.Generator, file: str) -> LayerTrace:
    dense = LayerTrace.dense(row.layer)
    if row.nm is None:
        return dense
    from accelsim.workload.generators import nm_mask

    n, m = row.nm
    try:
        weights = nm_mask(row.layer.weight_shape, n, m, rng)
    except AccelsimError as exc:
        raise ImportFormatError(exc.message, file=file, line=row.line,
                                key=row.layer.name) from None
    return LayerTrace(row.layer, dense.input_mask, weights)
