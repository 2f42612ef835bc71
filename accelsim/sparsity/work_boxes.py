"""Non-zeros of each tensor's tile at the boundary level, per tile — what a compression
format is sized on.

The box is the one ``analysis.tile_sequence`` reports (instance 0; the whole tile when the
boundary has one instance): per dimension ``[start, start + extent)``, and for the input rows
the bounding box ``[p₀·sh + r₀·dh, … + (e_P − 1)·sh + (e_R − 1)·dh + 1)`` in padded
coordinates — padding rows and rows a stride skips are inside it, as in the tile's word
count, and count as zeros.

Along a single dimension the boxes of all tiles are aligned chunks of the box's nominal
extent (the loops above the boundary step in multiples of it), so weights and outputs need
only chunk sums (``np.add.reduceat``, one pass). Input rows and columns of neighbouring
tiles overlap (halos), so they are read from a 2-D prefix sum over the padded map.
"""

from __future__ import annotations

import numpy as np

from accelsim.arch.spec import Tensor
from accelsim.mapping.model import DIMS
from accelsim.sparsity.work_nest import LoopLayout
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace


def _chunk_sums(array: np.ndarray, axes_dims: dict[int, str], layout: LoopLayout
                ) -> np.ndarray:
    """Sums over aligned chunks of the box extent along each ``axis → dimension``: pad each
    axis to whole chunks, split it into (chunk, offset) and sum the offsets in one pass."""
    lengths = {axis: layout.box_extent(dim) for axis, dim in axes_dims.items()}
    padded_shape, split_shape, offsets = [], [], []
    for axis, size in enumerate(array.shape):
        length = lengths.get(axis)
        if length is None:
            padded_shape.append(size)
            split_shape.append(size)
            continue
        chunks = -(-size // length)
        padded_shape.append(chunks * length)
        split_shape += [chunks, length]
        offsets.append(len(split_shape) - 1)
    padded = np.zeros(padded_shape, dtype=np.int8)
    padded[tuple(slice(0, n) for n in array.shape)] = array
    return padded.reshape(split_shape).sum(axis=tuple(offsets), dtype=np.int64)


def _chunk(layout: LoopLayout, start: np.ndarray, dim: str) -> np.ndarray:
    return start[:, DIMS.index(dim)] // layout.box_extent(dim)


def _input_rows(layer: Layer, start: np.ndarray, extent: np.ndarray, pair: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) of the input box along rows (``"PR"``) or columns (``"QS"``), padded."""
    out_dim, kernel_dim = (DIMS.index(d) for d in pair)
    step, dilation = (layer.stride[0], layer.dilation[0]) if pair == "PR" else \
        (layer.stride[1], layer.dilation[1])
    lo = start[:, out_dim] * step + start[:, kernel_dim] * dilation
    hi = lo + (extent[:, out_dim] - 1) * step + (extent[:, kernel_dim] - 1) * dilation + 1
    return lo, hi


def _prefix_2d(array: np.ndarray) -> np.ndarray:
    """Summed-area table over the last two axes, with a leading zero row and column."""
    table = np.zeros((*array.shape[:-2], array.shape[-2] + 1, array.shape[-1] + 1),
                     dtype=np.int64)
    np.cumsum(array, axis=-2, out=table[..., 1:, 1:])
    np.cumsum(table[..., 1:, 1:], axis=-1, out=table[..., 1:, 1:])
    return table


def _input_nonzeros(layer_trace: LayerTrace, layout: LoopLayout, start: np.ndarray,
                    extent: np.ndarray, group: np.ndarray) -> np.ndarray:
    layer = layer_trace.layer
    (ph, pw) = layer.padding
    grouped = layer_trace.input_mask.reshape(layer.N, layer.groups, layer.C_per_group,
                                             layer.H, layer.W)
    chunks = _chunk_sums(grouped, {0: "N", 2: "C"}, layout)
    table = _prefix_2d(np.pad(chunks, ((0, 0),) * 3 + ((ph, ph), (pw, pw))))
    y0, y1 = _input_rows(layer, start, extent, "PR")
    x0, x1 = _input_rows(layer, start, extent, "QS")
    head = (_chunk(layout, start, "N"), group, _chunk(layout, start, "C"))
    return table[(*head, y1, x1)] - table[(*head, y0, x1)] - table[(*head, y1, x0)] + \
        table[(*head, y0, x0)]


def _weight_nonzeros(layer_trace: LayerTrace, layout: LoopLayout, start: np.ndarray,
                     group: np.ndarray) -> np.ndarray:
    layer = layer_trace.layer
    grouped = layer_trace.weight_mask.reshape(layer.groups, layer.M_per_group,
                                              layer.C_per_group, layer.R, layer.S)
    chunks = _chunk_sums(grouped, {1: "M", 2: "C", 3: "R", 4: "S"}, layout)
    return chunks[(group, *(_chunk(layout, start, d) for d in "MCRS"))]


def _output_nonzeros(output_mask: np.ndarray, layer: Layer, layout: LoopLayout,
                     start: np.ndarray, group: np.ndarray) -> np.ndarray:
    grouped = output_mask.reshape(layer.N, layer.groups, layer.M_per_group, layer.P, layer.Q)
    chunks = _chunk_sums(grouped, {0: "N", 2: "M", 3: "P", 4: "Q"}, layout)
    n, m, p, q = (_chunk(layout, start, d) for d in "NMPQ")
    return chunks[n, group, m, p, q]


def box_words(layer: Layer, start: np.ndarray, extent: np.ndarray) -> dict[Tensor, np.ndarray]:
    """Words of each tensor's box (dense): the sizes the non-zeros are a part of."""
    e = {d: extent[:, DIMS.index(d)] for d in DIMS}
    (y0, y1), (x0, x1) = (_input_rows(layer, start, extent, pair) for pair in ("PR", "QS"))
    return {Tensor.WEIGHTS: e["M"] * e["C"] * e["R"] * e["S"],
            Tensor.INPUTS: e["N"] * e["C"] * (y1 - y0) * (x1 - x0),
            Tensor.OUTPUTS: e["N"] * e["M"] * e["P"] * e["Q"]}


def box_nonzeros(layer_trace: LayerTrace, layout: LoopLayout, start: np.ndarray,
                 extent: np.ndarray, group: np.ndarray) -> dict[Tensor, np.ndarray]:
    """Non-zeros per tile (rows of ``start``/``extent``, per-group coordinates, ``group``
    the tile's group); outputs only when the trace has an output mask."""
    counts = {
        Tensor.WEIGHTS: _weight_nonzeros(layer_trace, layout, start, group),
        Tensor.INPUTS: _input_nonzeros(layer_trace, layout, start, extent, group),
    }
    if layer_trace.output_mask is not None:
        counts[Tensor.OUTPUTS] = _output_nonzeros(layer_trace.output_mask, layer_trace.layer,
                                                  layout, start, group)
    return counts
