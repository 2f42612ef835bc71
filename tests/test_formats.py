"""Compressed sizes on small hand-worked tiles: every format's bits written out in the
comments, so each expected number can be checked with pencil and paper."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.sparsity import (
    CompressionSpec,
    Format,
    compressed_bits,
    compressed_bits_batch,
    dense_bits,
    ratio,
    run_entries,
)

# A 12-element tile: zeros, non-zeros (positions 2, 4, 5, 11).
#   index  0 1 2 3 4 5 6 7 8 9 10 11
LINE = np.array([0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1], dtype=bool)  # n = 12, nnz = 4

# The same 12 elements as a 3 × 4 matrix (rows = axis 0):
#   [0 0 1 0]    row 0: 1 non-zero
#   [1 1 0 0]    row 1: 2
#   [0 0 0 1]    row 2: 1          columns hold 1, 1, 1, 1
MATRIX = LINE.reshape(3, 4)


def spec(name: str, value_bits: int = 8, **widths) -> CompressionSpec:
    return CompressionSpec(Format(name), value_bits, **widths)


def test_none_stores_every_element():
    # 12 elements × 8 bits = 96, whatever the mask
    assert compressed_bits(LINE, spec("none")) == 96
    assert compressed_bits(np.zeros(12, bool), spec("none")) == 96


def test_bitmask():
    # 12 presence bits + 4 values × 8 bits = 12 + 32 = 44
    assert compressed_bits(LINE, spec("bitmask")) == 44
    # all ones: n + n·value_bits = 12 + 96 = 108; all zeros: the mask alone, 12
    assert compressed_bits(np.ones(12, bool), spec("bitmask")) == 12 + 12 * 8
    assert compressed_bits(np.zeros(12, bool), spec("bitmask")) == 12


def test_rle_unpacked_with_an_overflowing_run():
    # run_bits 2: runs up to 3. Zeros before each non-zero: 2, 1, 0, 5.
    # The run of 5 overflows: pair (3, 0) covers zeros 6, 7, 8 and stores position 9 as an
    # explicit zero; zero 10 is the run of the pair (1, value@11).
    # Pairs: (2, v2) (1, v4) (0, v5) (3, 0) (1, v11) = 5 = nnz 4 + floor(5 / 4)
    # Bits: 5 × (2 + 8) = 50
    rle = spec("rle", run_bits=2)
    assert run_entries(LINE[None], 2).tolist() == [5]
    assert compressed_bits(LINE, rle) == 50


def test_rle_packed_into_words():
    # The 5 pairs above, 2 pairs of 10 bits per 24-bit word: ceil(5 / 2) = 3 words = 72 bits
    packed = spec("rle", run_bits=2, pairs_per_word=2, packed_word_bits=24)
    assert compressed_bits(LINE, packed) == 72


def test_rle_eyeriss_word():
    # Eyeriss v1: 5-bit run + 16-bit value, 3 pairs per 64-bit word.
    # 4 non-zeros, no run reaches 32: 4 pairs -> ceil(4 / 3) = 2 words = 128 bits
    eyeriss = spec("rle", 16, run_bits=5, pairs_per_word=3, packed_word_bits=64)
    assert compressed_bits(LINE, eyeriss) == 128
    # 40 zeros then one non-zero: 1 + floor(40 / 32) = 2 pairs -> 1 word
    tile = np.zeros(41, bool)
    tile[40] = True
    assert compressed_bits(tile, eyeriss) == 64
    # 64 zeros then one non-zero: 1 + floor(64 / 32) = 3 pairs -> 1 word; 96 zeros: 4 -> 2
    assert compressed_bits(np.r_[np.zeros(64, bool), True], eyeriss) == 64
    assert compressed_bits(np.r_[np.zeros(96, bool), True], eyeriss) == 128


def test_rle_trailing_zeros_cost_nothing():
    # [1 0 0 0 0 0 0 0]: one pair (0, v); the seven trailing zeros are implied by n
    tile = np.r_[True, np.zeros(7, bool)]
    assert compressed_bits(tile, spec("rle", run_bits=2)) == 1 * (2 + 8)
    # all zeros: no pairs at all
    assert compressed_bits(np.zeros(8, bool), spec("rle", run_bits=2)) == 0


def test_zero_run():
    # SCNN: a run_bits index per non-zero, a padding zero when a run exceeds 2^b − 1.
    # Same entries as the rle example: 5 × (2 + 8) = 50 bits; with SCNN's 4-bit runs no run
    # of LINE overflows: 4 × (4 + 8) = 48 bits
    assert compressed_bits(LINE, spec("zero_run", run_bits=2)) == 50
    assert compressed_bits(LINE, spec("zero_run", run_bits=4)) == 48
    # 16 zeros then a non-zero: 1 + floor(16 / 16) = 2 entries = 24 bits (4-bit runs)
    assert compressed_bits(np.r_[np.zeros(16, bool), True], spec("zero_run", run_bits=4)) == 24
    assert compressed_bits(np.r_[np.zeros(15, bool), True], spec("zero_run", run_bits=4)) == 12


def test_csr_and_csc():
    widths = {"index_bits": 2, "pointer_bits": 4, "row_axes": 1}
    # csr: 3 rows -> 4 pointers × 4 bits = 16, plus 4 non-zeros × (2 + 8) = 40: 56
    assert compressed_bits(MATRIX, spec("csr", **widths)) == 56
    # csc: 4 columns -> 5 pointers × 4 = 20, plus 40: 60
    assert compressed_bits(MATRIX, spec("csc", **widths)) == 60


def test_csr_row_axes_on_a_4d_tile():
    tile = np.zeros((2, 3, 2, 2), bool)        # weights M=2, C=3, R=S=2: 24 elements
    tile[0, 1, 0, 1] = tile[1, 2, 1, 1] = tile[1, 0, 0, 0] = True   # nnz = 3
    csr = {"index_bits": 4, "pointer_bits": 5}
    # row_axes 1 (M × C·R·S): 2 rows -> 3 pointers × 5 = 15, + 3 × (4 + 8) = 36: 51
    assert compressed_bits(tile, spec("csr", row_axes=1, **csr)) == 51
    # row_axes 2 (M·C × R·S): 6 rows -> 7 × 5 = 35, + 36: 71
    assert compressed_bits(tile, spec("csr", row_axes=2, **csr)) == 71
    # csc with row_axes 2: 4 columns -> 5 × 5 = 25, + 36: 61
    assert compressed_bits(tile, spec("csc", row_axes=2, **csr)) == 61
    # row_axes 3 on a 4-axis tile: columns = S only (2) -> csc 3 × 5 + 36 = 51
    assert compressed_bits(tile, spec("csc", row_axes=3, **csr)) == 51


def test_empty_tiles_cost_nothing():
    for name, widths in (("none", {}), ("bitmask", {}), ("rle", {"run_bits": 5}),
                         ("zero_run", {"run_bits": 4}),
                         ("csr", {"index_bits": 4, "pointer_bits": 4, "row_axes": 1}),
                         ("csc", {"index_bits": 4, "pointer_bits": 4, "row_axes": 1})):
        assert compressed_bits(np.zeros((0, 4), bool), spec(name, **widths)) == 0


def test_batch_is_tile_by_tile():
    # three 12-element tiles: LINE, all ones, all zeros
    tiles = np.stack([LINE, np.ones(12, bool), np.zeros(12, bool)])
    assert compressed_bits_batch(tiles, spec("bitmask")).tolist() == [44, 108, 12]
    # rle run_bits 2: LINE 5 pairs; all ones 12 pairs; all zeros 0 -> × 10 bits
    assert compressed_bits_batch(tiles, spec("rle", run_bits=2)).tolist() == [50, 120, 0]
    assert compressed_bits_batch(tiles, spec("rle", run_bits=2)).dtype == np.int64


def test_dense_bits_and_ratio():
    assert dense_bits(12, spec("bitmask")) == 96
    assert dense_bits(np.array([12, 4]), spec("none", 16)).tolist() == [192, 64]
    assert ratio(96, 44) == pytest.approx(96 / 44)
    assert ratio(96, 0) == float("inf")          # an all-zero rle tile
    assert ratio(0, 0) == 1.0                     # an empty tile
    assert ratio(np.array([96, 0]), np.array([48, 0])).tolist() == [2.0, 1.0]


@pytest.mark.parametrize(("name", "widths", "message"), [
    ("bitmask", {"run_bits": 4}, "bitmask: run_bits applies only to rle and zero_run"),
    ("rle", {}, "rle: run_bits is required"),
    ("csr", {"index_bits": 4, "pointer_bits": 4}, "csr: row_axes is required"),
    ("rle", {"run_bits": 0}, "rle: run_bits must be an integer > 0, got 0"),
    ("rle", {"run_bits": 5, "pairs_per_word": 3},
     "rle: pairs_per_word and packed_word_bits go together"),
    ("rle", {"run_bits": 5, "pairs_per_word": 4, "packed_word_bits": 64},
     "rle: 4 pairs of 21 bits need 84 bits, more than packed_word_bits=64"),
    ("zero_run", {"run_bits": 4, "index_bits": 4}, "zero_run: index_bits applies only to csr "
                                                   "and csc"),
])
def test_invalid_specs_are_programming_errors(name, widths, message):
    with pytest.raises(ValueError) as info:
        CompressionSpec(Format(name), 16, **widths)
    assert str(info.value) == message


def test_value_bits_must_be_positive():
    with pytest.raises(ValueError, match="value_bits must be an integer > 0, got 0"):
        CompressionSpec(Format.NONE, 0)
