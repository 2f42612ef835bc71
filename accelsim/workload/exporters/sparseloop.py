"""Trace → Timeloop/Sparseloop workloads: one problem YAML and mask files per layer.

Each ``NN_<layer>.yaml`` is a Timeloop v0.4 problem in the convolution shape of the
Timeloop/Accelergy exercises (a G dimension with Cgroup/Mgroup coefficients for grouped
layers, as pytorch2timeloop writes them), with ``densities`` measured from the masks.
Released Timeloop/Sparseloop has no density model that reads actual data (NVlabs/timeloop
issue #240: "not exposed yet"), so each density is written as ``hypergeometric`` — an
exact number of non-zeros at unknown positions — and the masks themselves go beside it as
``NN_<layer>.<Tensor>.txt`` for tools that can use them. Layout: docs/import-export.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from accelsim.atomic import atomic_output
from accelsim.errors import AccelsimError
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace

COEFFICIENTS = ("Wstride", "Hstride", "Wdilation", "Hdilation")
DISTRIBUTION = "hypergeometric"


@dataclass(frozen=True, slots=True)
class TensorView:
    """One data space as Timeloop indexes it: rank names (first outermost) and the mask."""

    space: str
    ranks: tuple[str, ...]
    mask: np.ndarray

    @property
    def density(self) -> float:
        return timeloop_density(int(np.count_nonzero(self.mask)), self.mask.size)


def export_sparseloop(trace: Trace, out_dir: str | os.PathLike[str], *,
                      layers: Sequence[str] | None = None) -> list[Path]:
    """Write the chosen layers (all by default) into ``out_dir``; returns the files written.

    Every file is written atomically, and the selection and directory are checked before
    the first one, so a bad argument leaves nothing behind.
    """
    chosen = _select(trace, layers)
    directory = _directory(out_dir)
    width = max(2, len(str(len(trace) - 1)))
    written: list[Path] = []
    for index, layer_trace in chosen:
        stem = f"{index:0{width}d}_{_safe(layer_trace.layer.name)}"
        views = timeloop_views(layer_trace)
        text = _problem_text(trace, layer_trace, views, stem)
        written.append(_write(directory / f"{stem}.yaml", text.encode("utf-8")))
        for view in views:
            written.append(_write(directory / f"{stem}.{view.space}.txt", _mask_text(view)))
    return written


def timeloop_density(nonzeros: int, size: int) -> float:
    """``nonzeros/size``, nudged down so that Timeloop's ``ceil(density·size)`` gives back
    exactly ``nonzeros`` (e.g. 3/10·10 is 3.0000000000000004 in floating point)."""
    density = nonzeros / size
    while density * size > nonzeros:
        density = float(np.nextafter(density, 0.0))
    return density


def timeloop_views(layer_trace: LayerTrace) -> list[TensorView]:
    """Inputs, Weights (and Outputs when recorded) in Timeloop's projection order.

    Timeloop runs R and P along the width, so its Inputs rank order is N C W H and its
    Weights C M R S hold our (C, M, kernel width, kernel height). Inputs cover the padded
    extent Timeloop reads, ``(P−1)·stride + (R−1)·dilation + 1`` per axis, with the
    padding as zeros.
    """
    layer = layer_trace.layer
    inputs = np.transpose(_padded_extent(layer, layer_trace.input_mask), (0, 1, 3, 2))
    weights = layer_trace.weight_mask
    if layer.groups > 1:
        grouped = weights.reshape(layer.groups, layer.M_per_group, *weights.shape[1:])
        weight_view = TensorView("Weights", ("G", "C", "M", "R", "S"),
                                 np.transpose(grouped, (0, 2, 1, 4, 3)))
    else:
        weight_view = TensorView("Weights", ("C", "M", "R", "S"),
                                 np.transpose(weights, (1, 0, 3, 2)))
    views = [TensorView("Inputs", ("N", "C", "W", "H"), inputs), weight_view]
    if layer_trace.output_mask is not None:
        views.append(TensorView("Outputs", ("N", "M", "Q", "P"), layer_trace.output_mask))
    return views


def problem_document(layer: Layer, views: Sequence[TensorView]) -> dict[str, Any]:
    """The ``problem:`` mapping (shape and instance) of one layer."""
    grouped = layer.groups > 1
    instance: dict[str, Any] = {
        "C": layer.C_per_group, "M": layer.M_per_group, "R": layer.S, "S": layer.R,
        "N": layer.N, "P": layer.Q, "Q": layer.P,
        **({"G": layer.groups} if grouped else {}),
        "Wstride": layer.stride[1], "Hstride": layer.stride[0],
        "Wdilation": layer.dilation[1], "Hdilation": layer.dilation[0],
        "H": layer.H, "W": layer.W, "Hpad": layer.padding[0], "Wpad": layer.padding[1],
        "densities": {view.space: {"distribution": DISTRIBUTION, "density": view.density}
                      for view in views},
    }
    return {"problem": {"version": 0.4, "shape": _shape(layer), "instance": instance}}


def _shape(layer: Layer) -> dict[str, Any]:
    grouped = layer.groups > 1
    coefficients = [{"name": name, "default": 1} for name in COEFFICIENTS]
    group = [[["G"]]] if grouped else []
    in_channel = [["G", "Cgroup"], ["C"]] if grouped else [["C"]]
    out_channel = [["G", "Mgroup"], ["M"]] if grouped else [["M"]]
    if grouped:
        coefficients += [{"name": "Cgroup", "default": layer.C_per_group},
                         {"name": "Mgroup", "default": layer.M_per_group}]
    return {
        "name": "CNN_Layer",
        "dimensions": ["C", "M", "R", "S", "N", "P", "Q", *(["G"] if grouped else [])],
        "coefficients": coefficients,
        "data_spaces": [
            {"name": "Weights", "projection": [*group, [["C"]], [["M"]], [["R"]], [["S"]]]},
            {"name": "Inputs", "projection": [[["N"]], in_channel,
                                              [["R", "Wdilation"], ["P", "Wstride"]],
                                              [["S", "Hdilation"], ["Q", "Hstride"]]]},
            {"name": "Outputs", "projection": [[["N"]], out_channel, [["Q"]], [["P"]]],
             "read_write": True},
        ],
    }


def _padded_extent(layer: Layer, mask: np.ndarray) -> np.ndarray:
    (pad_h, pad_w), extent = layer.padding, []
    for size, kernel, stride, dilation in ((layer.P, layer.R, layer.stride[0],
                                            layer.dilation[0]),
                                           (layer.Q, layer.S, layer.stride[1],
                                            layer.dilation[1])):
        extent.append((size - 1) * stride + (kernel - 1) * dilation + 1)
    padded = np.pad(mask, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))
    return padded[:, :, :extent[0], :extent[1]]


def _problem_text(trace: Trace, layer_trace: LayerTrace, views: Sequence[TensorView],
                  stem: str) -> str:
    layer = layer_trace.layer
    files = "".join(f"#   {stem}.{view.space}.txt\n" for view in views)
    header = (
        f"# Exported by accelsim from trace {trace.info.model!r}, layer {layer.name!r}\n"
        f"# ({layer.describe()}). Densities are measured from the trace's masks, Inputs\n"
        "# over the padded extent Timeloop reads; H, W, Hpad, Wpad (ignored by Timeloop)\n"
        "# are the unpadded input and its padding. The masks, as described in accelsim's\n"
        f"# docs/import-export.md:\n{files}"
    )
    body = yaml.safe_dump(problem_document(layer, views), sort_keys=False)
    return header + body


def _mask_text(view: TensorView) -> bytes:
    """A header, then one line of '0'/'1' characters per index of all ranks but the last."""
    shape = " ".join(f"{rank}={size}" for rank, size in zip(view.ranks, view.mask.shape,
                                                             strict=True))
    header = (f"# accelsim mask: {view.space}; ranks in Timeloop projection order, first "
              f"outermost: {shape}\n"
              f"# {int(np.count_nonzero(view.mask))} non-zeros of {view.mask.size}; one line "
              f"per {' '.join(view.ranks[:-1])} index, one character per {view.ranks[-1]}\n")
    rows = np.ascontiguousarray(view.mask).reshape(-1, view.mask.shape[-1])
    digits = rows.astype(np.uint8) + ord("0")
    newline = np.full((rows.shape[0], 1), ord("\n"), dtype=np.uint8)
    return header.encode("ascii") + np.concatenate([digits, newline], axis=1).tobytes()


def _select(trace: Trace, names: Sequence[str] | None) -> list[tuple[int, LayerTrace]]:
    if names is None:
        return list(enumerate(trace.layers))
    if isinstance(names, str) or not names:
        raise AccelsimError(f"layers: expected a non-empty list of layer names, got {names!r}")
    wanted = {trace.layer(name).layer.name for name in names}  # unknown names raise here
    return [(i, lt) for i, lt in enumerate(trace.layers) if lt.layer.name in wanted]


def _directory(out_dir: str | os.PathLike[str]) -> Path:
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise AccelsimError("exists and is not a directory", file=directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AccelsimError(f"cannot create the output directory: {exc.strerror}",
                            file=directory) from None
    return directory


def _safe(name: str) -> str:
    """A layer name as a file-name part (``layer1.0/conv1`` → ``layer1.0_conv1``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "layer"


def _write(path: Path, data: bytes) -> Path:
    with atomic_output(path, "wb") as handle:
        handle.write(data)
    return path
