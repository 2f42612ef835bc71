"""Compressed sizes of the engine's tiles: bits per word of each tile's actual data.

A tile of the boundary level is a box in the seven loop dimensions (``TileWorkCounts``
``tile_start``/``tile_extent``); each tensor's data in it is a box of that tensor. Its size
in a format is ``compressed_bits_boxes`` of the tensor's mask over that box — padding is not
stored, so input boxes are clipped to the unpadded image. The schedule multiplies the words a
tile moves by the tile's bits per word, so a sparser tile costs fewer DRAM bytes and less
buffer space; a tensor whose mask the trace lacks (outputs, usually) stays uncompressed.
"""

from __future__ import annotations

import numpy as np

from accelsim.arch.spec import Tensor
from accelsim.mapping.model import DIMS
from accelsim.sparsity.formats import CompressionSpec
from accelsim.sparsity.sizes import clip_boxes, compressed_bits_boxes
from accelsim.sparsity.work import TileWorkCounts
from accelsim.workload.trace import LayerTrace

_COLUMN = {dim: index for index, dim in enumerate(DIMS)}


def tensor_boxes(layer_trace: LayerTrace, work: TileWorkCounts, tensor: Tensor
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per tile, the [lo, hi) box of ``tensor`` in its own (unpadded) coordinates, with the
    group's channel offset applied."""
    layer = layer_trace.layer
    start, extent = work.tile_start, work.tile_extent
    group = np.arange(work.tiles) // max(work.tiles_per_group, 1)

    def span(dim: str, offset: np.ndarray | int = 0) -> tuple[np.ndarray, np.ndarray]:
        lo = start[:, _COLUMN[dim]] + offset
        return lo, lo + extent[:, _COLUMN[dim]]

    def window(out_dim: str, kernel_dim: str, axis: int) -> tuple[np.ndarray, np.ndarray]:
        step, dilation, pad = layer.stride[axis], layer.dilation[axis], layer.padding[axis]
        lo = start[:, _COLUMN[out_dim]] * step + start[:, _COLUMN[kernel_dim]] * dilation - pad
        hi = lo + (extent[:, _COLUMN[out_dim]] - 1) * step + \
            (extent[:, _COLUMN[kernel_dim]] - 1) * dilation + 1
        return lo, hi

    if tensor is Tensor.WEIGHTS:
        spans = [span("M", group * layer.M_per_group), span("C"), span("R"), span("S")]
    elif tensor is Tensor.INPUTS:
        spans = [span("N"), span("C", group * layer.C_per_group), window("P", "R", 0),
                 window("Q", "S", 1)]
    else:
        spans = [span("N"), span("M", group * layer.M_per_group), span("P"), span("Q")]
    lo = np.stack([s[0] for s in spans], axis=1)
    hi = np.stack([s[1] for s in spans], axis=1)
    return lo, hi


def _mask(layer_trace: LayerTrace, tensor: Tensor) -> np.ndarray | None:
    return {Tensor.WEIGHTS: layer_trace.weight_mask, Tensor.INPUTS: layer_trace.input_mask,
            Tensor.OUTPUTS: layer_trace.output_mask}[tensor]


def bits_per_word(layer_trace: LayerTrace, work: TileWorkCounts, tensor: Tensor,
                  spec: CompressionSpec, word_bits: int) -> np.ndarray:
    """Per tile, the bits one word of ``tensor``'s tile costs in ``spec`` (``word_bits``
    when uncompressed or when the trace has no mask for ``tensor``)."""
    mask = _mask(layer_trace, tensor)
    if not spec.is_compressed or mask is None:
        return np.full(work.tiles, float(word_bits))
    lo, hi = tensor_boxes(layer_trace, work, tensor)
    bits = compressed_bits_boxes(mask, lo, hi, spec).astype(np.float64)
    clipped_lo, clipped_hi = clip_boxes(mask.shape, lo, hi)
    words = np.prod(clipped_hi - clipped_lo, axis=1)
    return np.divide(bits, words, out=np.full(work.tiles, float(spec.value_bits)),
                     where=words > 0)


def whole_tensor_bits_per_word(layer_trace: LayerTrace, tensor: Tensor, spec: CompressionSpec,
                               word_bits: int) -> float:
    """Bits per word of the whole tensor in ``spec`` (for tensors that stream past the
    boundary level, whose per-tile share is an even split)."""
    mask = _mask(layer_trace, tensor)
    if not spec.is_compressed or mask is None:
        return float(word_bits)
    lo = np.zeros((1, mask.ndim), dtype=np.int64)
    hi = np.array([mask.shape], dtype=np.int64)
    return float(compressed_bits_boxes(mask, lo, hi, spec)[0]) / mask.size
