"""Exact bits of actual data per tile, metadata included, for every ``Format``.

Three entry points, one formula (``_bits``):

- ``compressed_bits(tile, spec)``          one tile (a bool array, True = non-zero) → int;
- ``compressed_bits_batch(tiles, spec)``   tiles of one shape stacked on axis 0 → (T,) ints;
- ``compressed_bits_boxes(mask, lo, hi, spec)`` boxes [lo, hi) of one tensor's mask → (T,)
  ints: how the simulator sizes every tile of a layer at once.

Everything is vectorised over tiles: only ``rle``/``zero_run`` look at the order of the
elements (one ``np.flatnonzero`` per batch); the other formats need the tile's extent and its
non-zero count, which box sums over a summed-area table give for all boxes in one go.
"""

from __future__ import annotations

from math import prod

import numpy as np

from accelsim.sparsity.formats import POINTER_FORMATS, RUN_FORMATS, CompressionSpec, Format

_CHUNK_ELEMENTS = 1 << 24
"""Gathered elements per step when sizing run formats over boxes (bounds the memory)."""
_DIRECT_BOXES = 16
"""Up to this many boxes, ``box_sums`` may count each box directly instead of building a
summed-area table."""


def dense_bits(elements: int | np.ndarray, spec: CompressionSpec) -> int | np.ndarray:
    """Bits of ``elements`` words stored uncompressed: elements·value_bits."""
    return elements * spec.value_bits


def ratio(dense: int | float | np.ndarray, compressed: int | float | np.ndarray
          ) -> float | np.ndarray:
    """Compression ratio dense / compressed: > 1 saves space, ``inf`` when the compressed
    tile costs 0 bits (all zeros in a run format), 1 for an empty tile."""
    dense_array = np.asarray(dense, dtype=float)
    compressed_array = np.asarray(compressed, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(dense_array == 0, 1.0, dense_array / compressed_array)
    return float(result) if result.ndim == 0 else result


def compressed_bits(tile: np.ndarray, spec: CompressionSpec) -> int:
    """Bits of one tile (any number of axes, in the tensor's own axis order)."""
    tile = np.asarray(tile, dtype=bool)
    return int(compressed_bits_batch(tile[None], spec)[0])


def compressed_bits_batch(tiles: np.ndarray, spec: CompressionSpec) -> np.ndarray:
    """Bits of each tile of a (T, …) bool array: axis 0 enumerates tiles of one shape."""
    tiles = np.asarray(tiles, dtype=bool)
    count, shape = tiles.shape[0], tiles.shape[1:]
    flat = tiles.reshape(count, prod(shape))
    extent = np.broadcast_to(np.array(shape, dtype=np.int64), (count, len(shape)))
    nnz = flat.sum(axis=1, dtype=np.int64)
    entries = run_entries(flat, spec.run_bits) if spec.format in RUN_FORMATS else None
    return _bits(spec, extent, nnz, entries)


def compressed_bits_boxes(mask: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                          spec: CompressionSpec) -> np.ndarray:
    """Bits of the boxes ``mask[lo[t]:hi[t]]`` (``lo``, ``hi``: (T, mask.ndim) ints).

    A box is clipped to the array: what lies outside is not stored. To count padding zeros
    as stored zeros, pad the mask first (``np.pad``) and shift the boxes. Repeated boxes
    (the same tile fetched again) are sized once.
    """
    mask = np.asarray(mask, dtype=bool)
    lo, hi = clip_boxes(mask.shape, lo, hi)
    extent = hi - lo
    if spec.format is Format.NONE:
        return _bits(spec, extent, np.zeros(len(lo), dtype=np.int64), None)
    if spec.format not in RUN_FORMATS:
        return _bits(spec, extent, box_sums(mask, lo, hi), None)
    keys, inverse = np.unique(np.concatenate([lo, extent], axis=1), axis=0,
                              return_inverse=True)
    nnz, entries = _run_stats_of_boxes(mask, keys, spec.run_bits)  # type: ignore[arg-type]
    inverse = inverse.reshape(-1)
    return _bits(spec, extent, nnz[inverse], entries[inverse])


def clip_boxes(shape: tuple[int, ...], lo: np.ndarray, hi: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """``lo``, ``hi`` as (T, ndim) int64 arrays clipped to ``shape``; an empty box has
    lo = hi."""
    lo = np.atleast_2d(np.asarray(lo, dtype=np.int64))
    hi = np.atleast_2d(np.asarray(hi, dtype=np.int64))
    if lo.shape != hi.shape or lo.shape[1] != len(shape):
        raise ValueError(f"boxes must be (T, {len(shape)}) arrays, got lo {lo.shape} and "
                         f"hi {hi.shape}")
    size = np.array(shape, dtype=np.int64)
    lo = np.clip(lo, 0, size)
    hi = np.maximum(np.clip(hi, 0, size), lo)
    return lo, hi


def box_sums(mask: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Non-zeros in each box, by inclusion–exclusion over the 2^ndim corners of a
    summed-area table: O(mask.size) once, then O(2^ndim) per box. A few boxes whose
    volume is below the table's cost are counted directly (the mapper sizes whole
    tensors: one box)."""
    if len(lo) <= _DIRECT_BOXES and int(np.prod(hi - lo, axis=1).sum()) <= mask.size:
        return np.array([np.count_nonzero(mask[tuple(map(slice, first, last))])
                         for first, last in zip(lo.tolist(), hi.tolist(), strict=True)],
                        dtype=np.int64)
    table = _summed_area(mask)
    total = np.zeros(len(lo), dtype=np.int64)
    for corner in np.ndindex(*(2,) * mask.ndim):
        index = tuple(np.where(bit, hi[:, axis], lo[:, axis]) for axis, bit in enumerate(corner))
        sign = -1 if (mask.ndim - sum(corner)) % 2 else 1
        total += sign * table[index].astype(np.int64)
    return total


_LAST_TABLE: list[tuple[np.ndarray, np.ndarray]] = []
"""The last read-only mask given to ``_summed_area`` and its table: the schedule sizes one
layer's tiles in each level's format, so the same mask comes back for the next format."""


def _summed_area(mask: np.ndarray) -> np.ndarray:
    """The zero-padded summed-area table of ``mask``; kept for a read-only mask (a trace's
    own, which cannot change under the cache) until another mask is summed."""
    if _LAST_TABLE and _LAST_TABLE[0][0] is mask:
        return _LAST_TABLE[0][1]
    dtype = np.int32 if mask.size < 2**31 else np.int64
    sums = mask.astype(dtype)
    for axis in range(mask.ndim):
        if mask.shape[axis] > 1:  # along a unit axis the sums are the values themselves
            np.cumsum(sums, axis=axis, out=sums)
    table = np.zeros([size + 1 for size in mask.shape], dtype=dtype)
    table[(slice(1, None),) * mask.ndim] = sums
    _LAST_TABLE.clear()
    if not mask.flags.writeable:
        table.setflags(write=False)
        _LAST_TABLE.append((mask, table))
    return table


def run_entries(flat: np.ndarray, run_bits: int) -> np.ndarray:
    """Entries of each row of a (T, n) bool array in a run format with ``run_bits``.

    Each non-zero is one entry; a run of L zeros ending at a non-zero adds floor(L / 2^b)
    padding entries (each carries the run field's maximum 2^b − 1 and an explicit zero, so
    it covers 2^b positions). Trailing zeros add nothing.
    """
    count, n = flat.shape
    nnz = np.count_nonzero(flat, axis=1).astype(np.int64)
    positions = np.flatnonzero(flat)                   # row-major over the (T, n) array
    if positions.size == 0:
        return nnz
    gaps = np.diff(positions, prepend=-1) - 1          # zeros before each non-zero ...
    occupied = np.flatnonzero(nnz)
    first = (np.cumsum(nnz) - nnz)[occupied]           # ... restarting at each tile
    gaps[first] = positions[first] - occupied * n
    padding = gaps >> min(run_bits, 62)                # no run reaches 2^62 positions
    long_runs = np.flatnonzero(padding)
    extra = np.bincount(positions[long_runs] // n, weights=padding[long_runs], minlength=count)
    return nnz + extra.astype(np.int64)


def _run_stats_of_boxes(mask: np.ndarray, keys: np.ndarray, run_bits: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(nnz, run entries) of unique boxes ``keys`` = [lo | extent]: boxes of one extent
    are gathered as one (t, *extent) array through a sliding-window view, in chunks."""
    ndim = mask.ndim
    nnz = np.zeros(len(keys), dtype=np.int64)
    entries = np.zeros(len(keys), dtype=np.int64)
    extents, group = np.unique(keys[:, ndim:], axis=0, return_inverse=True)
    group = group.reshape(-1)
    for which, extent in enumerate(extents):
        size = int(prod(extent))
        if size == 0:
            continue
        members = np.flatnonzero(group == which)
        windows = np.lib.stride_tricks.sliding_window_view(mask, tuple(int(e) for e in extent))
        step = max(1, _CHUNK_ELEMENTS // size)
        for first in range(0, len(members), step):
            chosen = members[first:first + step]
            starts = keys[chosen, :ndim]
            tiles = windows[tuple(starts[:, axis] for axis in range(ndim))]
            flat = tiles.reshape(len(chosen), size)
            nnz[chosen] = flat.sum(axis=1, dtype=np.int64)
            entries[chosen] = run_entries(flat, run_bits)
    return nnz, entries


def _bits(spec: CompressionSpec, extent: np.ndarray, nnz: np.ndarray,
          entries: np.ndarray | None) -> np.ndarray:
    """The formulas of ``accelsim.sparsity.formats``, per tile; ``extent``: (T, ndim)."""
    n = np.prod(extent, axis=1, dtype=np.int64)
    value = spec.value_bits
    if spec.format is Format.NONE:
        bits = n * value
    elif spec.format is Format.BITMASK:
        bits = n + nnz * value
    elif spec.format in POINTER_FORMATS:
        split = spec.row_axes
        rows = np.prod(extent[:, :split], axis=1, dtype=np.int64)
        columns = np.prod(extent[:, split:], axis=1, dtype=np.int64)
        pointers = (rows if spec.format is Format.CSR else columns) + 1
        bits = pointers * spec.pointer_bits + nnz * (spec.index_bits + value)
    elif spec.format is Format.RLE and spec.pairs_per_word is not None:
        words = -(-entries // spec.pairs_per_word)  # type: ignore[operator]
        bits = words * spec.packed_word_bits
    else:  # rle unpacked, zero_run
        bits = entries * spec.entry_bits  # type: ignore[operator]
    return np.where(n > 0, bits, 0).astype(np.int64)
