"""Invariants of the compressed sizes over hypothesis-generated masks and formats, and the
run formats against a literal encoder/decoder that emits the pairs one by one.

The statement that holds for run formats when one non-zero is cleared (docs/model.md,
*Compression formats*): the two zero runs around it, a before and b after, merge into one
of a + 1 + b. If a non-zero follows, entries drop by
1 − floor(((a mod K) + (b mod K) + 1) / K) ∈ {0, 1} with K = 2^run_bits (0 exactly when
the merged run overflows once more than the two did); if it was the last non-zero, its
1 + floor(a / K) entries vanish with it. Clearing never splits a run, so it never adds an
entry, and packed words ceil(entries / pairs_per_word) never grow either.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.sparsity import (
    CompressionSpec,
    Format,
    compressed_bits,
    compressed_bits_batch,
    compressed_bits_boxes,
    run_entries,
)

SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def specs(draw) -> CompressionSpec:
    name = draw(st.sampled_from(list(Format)))
    value_bits = draw(st.integers(1, 16))
    widths: dict[str, int] = {}
    if name in (Format.RLE, Format.ZERO_RUN):
        widths["run_bits"] = draw(st.integers(1, 5))
    if name is Format.RLE and draw(st.booleans()):
        widths["pairs_per_word"] = draw(st.integers(1, 4))
        entry = widths["run_bits"] + value_bits
        widths["packed_word_bits"] = widths["pairs_per_word"] * entry + draw(st.integers(0, 8))
    if name in (Format.CSR, Format.CSC):
        widths.update(index_bits=draw(st.integers(1, 8)), pointer_bits=draw(st.integers(1, 8)),
                      row_axes=draw(st.integers(1, 3)))
    return CompressionSpec(name, value_bits, **widths)


@st.composite
def masks(draw, max_side: int = 5, min_ndim: int = 1, max_ndim: int = 4) -> np.ndarray:
    shape = draw(st.lists(st.integers(1, max_side), min_size=min_ndim, max_size=max_ndim))
    density = draw(st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).random(shape) < density


def encode(flat: np.ndarray, run_bits: int) -> list[tuple[int, bool]]:
    """The hardware's encoder, one element at a time: (run, non-zero?) pairs; a run that
    reaches 2^b − 1 zeros is closed by a pair whose value is the next zero."""
    longest = 2**run_bits - 1
    last = np.flatnonzero(flat)
    pairs: list[tuple[int, bool]] = []
    run = 0
    for bit in flat[: last[-1] + 1 if last.size else 0]:   # trailing zeros are implied
        if bit:
            pairs.append((run, True))
            run = 0
        elif run == longest:
            pairs.append((longest, False))
            run = 0
        else:
            run += 1
    return pairs


def decode(pairs: list[tuple[int, bool]], n: int) -> np.ndarray:
    out: list[bool] = []
    for run, value in pairs:
        out += [False] * run + [value]
    return np.array(out + [False] * (n - len(out)), dtype=bool)


@SETTINGS
@given(masks(max_side=40, max_ndim=2), st.integers(1, 5))
def test_run_entries_equal_a_literal_encoder(mask, run_bits):
    flat = mask.reshape(-1)
    pairs = encode(flat, run_bits)
    assert all(run < 2**run_bits for run, _ in pairs)
    assert np.array_equal(decode(pairs, flat.size), flat)
    assert run_entries(flat[None], run_bits).tolist() == [len(pairs)]


@SETTINGS
@given(masks(), specs(), st.data())
def test_clearing_a_bit_never_adds_bits(mask, spec, data):
    if not mask.any():
        return
    position = data.draw(st.sampled_from(np.flatnonzero(mask).tolist()))
    cleared = mask.copy().reshape(-1)
    cleared[position] = False
    assert compressed_bits(cleared.reshape(mask.shape), spec) <= compressed_bits(mask, spec)


@SETTINGS
@given(masks(max_side=60, max_ndim=1), st.integers(1, 4), st.data())
def test_exact_change_of_run_entries_when_a_bit_is_cleared(mask, run_bits, data):
    ones = np.flatnonzero(mask)
    if not ones.size:
        return
    k = data.draw(st.integers(0, ones.size - 1))
    position = ones[k]
    before = ones[k - 1] if k else -1
    a = position - before - 1                       # zeros before the cleared non-zero
    cleared = mask.copy()
    cleared[position] = False
    drop = int(run_entries(mask[None], run_bits)[0] - run_entries(cleared[None], run_bits)[0])
    K = 2**run_bits
    if k + 1 < ones.size:
        b = ones[k + 1] - position - 1              # zeros after it, up to the next non-zero
        assert drop == 1 - ((a % K) + (b % K) + 1) // K
        assert drop in (0, 1)
    else:
        assert drop == 1 + a // K


@SETTINGS
@given(masks(), specs())
def test_bits_cover_the_values_and_none_ignores_the_mask(mask, spec):
    bits = compressed_bits(mask, spec)
    assert bits >= int(mask.sum()) * spec.value_bits
    none = CompressionSpec(Format.NONE, spec.value_bits)
    assert compressed_bits(mask, none) == mask.size * spec.value_bits
    assert compressed_bits(np.ones_like(mask), none) == compressed_bits(mask, none)


@SETTINGS
@given(masks(), st.integers(1, 32))
def test_all_ones_bitmask_is_n_plus_n_words(mask, value_bits):
    n = mask.size
    ones = np.ones_like(mask)
    assert compressed_bits(ones, CompressionSpec(Format.BITMASK, value_bits)) == \
        n + n * value_bits


@SETTINGS
@given(masks(max_ndim=3), specs(), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_batch_equals_a_loop_over_tiles(tile, spec, count, seed):
    rng = np.random.default_rng(seed)
    tiles = rng.random((count, *tile.shape)) < rng.random()
    tiles[0] = tile
    expected = [compressed_bits(one, spec) for one in tiles]
    assert compressed_bits_batch(tiles, spec).tolist() == expected


@SETTINGS
@given(masks(max_side=7, min_ndim=2), specs(), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_boxes_equal_a_loop_over_slices(mask, spec, count, seed):
    """Boxes may stick out of the array (clipped: nothing stored there), be empty, or repeat."""
    rng = np.random.default_rng(seed)
    shape = np.array(mask.shape)
    lo = rng.integers(-2, shape + 1, size=(count, mask.ndim))
    hi = lo + rng.integers(0, shape + 2, size=(count, mask.ndim))
    lo[-1], hi[-1] = lo[0], hi[0]
    expected = []
    for low, high in zip(lo, hi, strict=True):
        box = tuple(slice(max(a, 0), max(b, 0)) for a, b in zip(low, high, strict=True))
        expected.append(compressed_bits(mask[box], spec))
    assert compressed_bits_boxes(mask, lo, hi, spec).tolist() == expected
