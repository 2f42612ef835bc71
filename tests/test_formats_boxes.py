"""Sizing every tile of a layer at once: the boxes of ``tile_sequence`` at DRAM and at the
global buffer of the sparse Eyeriss fixture, mapped by the mapper, sized in one call per
tensor and format — equal to slicing each tile out and sizing it alone, and, uncompressed,
to the nest analysis's own tile words."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.analysis.tiles import tile_sequence
from accelsim.arch import Tensor, load_architecture
from accelsim.mapping.mapper import search
from accelsim.mapping.model import DIMS
from accelsim.sparsity import CompressionSpec, Format, compressed_bits, compressed_bits_boxes
from accelsim.workload.layer import Layer
from tests.conftest import REPO

ARCH = load_architecture(REPO / "tests" / "data" / "arch" / "sparse_eyeriss_v1.yaml")
LAYER = Layer("conv", N=2, C=16, H=14, W=14, M=32, R=3, S=3, padding=(1, 1))
FORMATS = [
    CompressionSpec(Format.NONE, 16),
    CompressionSpec(Format.BITMASK, 16),
    CompressionSpec(Format.RLE, 16, run_bits=5, pairs_per_word=3, packed_word_bits=64),
    CompressionSpec(Format.RLE, 16, run_bits=2),
    CompressionSpec(Format.ZERO_RUN, 16, run_bits=4),
    CompressionSpec(Format.CSR, 16, index_bits=8, pointer_bits=12, row_axes=2),
    CompressionSpec(Format.CSC, 16, index_bits=8, pointer_bits=12, row_axes=1),
]


def tensor_boxes(layer: Layer, tensor: Tensor, start: np.ndarray, extent: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) of each tile in the tensor's own axes (docs/model.md, nest analysis): weights
    M C R S, outputs N M P Q, inputs N C h w with h = P·stride + R·dilation in padded
    coordinates (the box of the projection)."""
    col = {dim: index for index, dim in enumerate(DIMS)}
    if tensor is not Tensor.INPUTS:
        axes = "MCRS" if tensor is Tensor.WEIGHTS else "NMPQ"
        lo = start[:, [col[a] for a in axes]]
        return lo, lo + extent[:, [col[a] for a in axes]]
    lo = [start[:, col["N"]], start[:, col["C"]]]
    hi = [lo[0] + extent[:, col["N"]], lo[1] + extent[:, col["C"]]]
    for out, kernel, axis in (("P", "R", 0), ("Q", "S", 1)):
        stride, dilation = layer.stride[axis], layer.dilation[axis]
        low = start[:, col[out]] * stride + start[:, col[kernel]] * dilation
        lo.append(low)
        hi.append(low + (extent[:, col[out]] - 1) * stride
                  + (extent[:, col[kernel]] - 1) * dilation + 1)
    return np.stack(lo, axis=1), np.stack(hi, axis=1)


def masks(seed: int = 0) -> dict[Tensor, np.ndarray]:
    """Random masks; the input padded with zeros so that boxes in padded coordinates index
    it directly (padding is then counted as stored zeros)."""
    rng = np.random.default_rng(seed)
    inputs = rng.random(LAYER.input_shape) < 0.35
    pad = [(0, 0), (0, 0), (LAYER.padding[0],) * 2, (LAYER.padding[1],) * 2]
    return {Tensor.WEIGHTS: rng.random(LAYER.weight_shape) < 0.5,
            Tensor.INPUTS: np.pad(inputs, pad),
            Tensor.OUTPUTS: rng.random(LAYER.output_shape) < 0.2}


@pytest.fixture(scope="module")
def sequences():
    mapping = search(LAYER, ARCH).mapping
    return {level: tile_sequence(LAYER, ARCH, mapping, level) for level in ("DRAM", "shared_glb")}


@pytest.mark.parametrize("level", ["DRAM", "shared_glb"])
def test_every_tile_sized_at_once_equals_tile_by_tile(sequences, level):
    sequence = sequences[level]
    data = masks()
    for tensor in sequence.words:
        lo, hi = tensor_boxes(LAYER, tensor, sequence.start, sequence.extent)
        for spec in FORMATS:
            bits = compressed_bits_boxes(data[tensor], lo, hi, spec)
            alone = [compressed_bits(data[tensor][tuple(map(slice, a, b))], spec)
                     for a, b in zip(lo, hi, strict=True)]
            assert bits.tolist() == alone, (level, tensor, spec.format)


@pytest.mark.parametrize("level", ["DRAM", "shared_glb"])
def test_uncompressed_tiles_are_the_nest_analysis_words(sequences, level):
    sequence = sequences[level]
    data = masks()
    for tensor, words in sequence.words.items():
        lo, hi = tensor_boxes(LAYER, tensor, sequence.start, sequence.extent)
        bits = compressed_bits_boxes(data[tensor], lo, hi, FORMATS[0])
        assert bits.tolist() == (words * 16).tolist()


def test_a_sparser_trace_never_takes_more_bits(sequences):
    sequence = sequences["shared_glb"]
    data = masks()
    lo, hi = tensor_boxes(LAYER, Tensor.INPUTS, sequence.start, sequence.extent)
    sparser = data[Tensor.INPUTS] & (np.random.default_rng(1).random(
        data[Tensor.INPUTS].shape) < 0.5)
    for spec in FORMATS:
        assert (compressed_bits_boxes(sparser, lo, hi, spec)
                <= compressed_bits_boxes(data[Tensor.INPUTS], lo, hi, spec)).all()
