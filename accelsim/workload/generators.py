"""Seeded mask generators: the building blocks of synthetic traces.

Every generator takes a ``numpy.random.Generator`` and returns a boolean mask with an
*exact* number of ones, so a requested density is met to within one element, and the
same generator state always gives the same mask. Definitions and formulas are in
docs/synthetic-traces.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accelsim.errors import AccelsimError

DEFAULT_CHANNEL_SPREAD = 0.5
DEFAULT_CORRELATION_PX = 3


def exact_count(size: int, density: float) -> int:
    """Number of ones for ``density`` of ``size`` elements (round half to even)."""
    if not 0.0 <= density <= 1.0:
        raise AccelsimError(f"density must be in [0, 1], got {density!r}")
    return round(float(density) * size)


def uniform_mask(shape: Sequence[int], density: float, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``round(density·size)`` ones at uniformly random positions (hypergeometric)."""
    size = int(np.prod(shape, dtype=np.int64))
    ones = exact_count(size, density)
    flat = np.zeros(size, dtype=bool)
    if ones == size:
        flat[:] = True
    elif ones:
        flat[rng.choice(size, size=ones, replace=False)] = True
    return flat.reshape(shape)


def nm_mask(shape: Sequence[int], n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """N:M structured weights: exactly ``n`` ones in every run of ``m`` input channels.

    ``shape`` is M×(C/groups)×R×S; a group is ``m`` consecutive input channels at a fixed
    (output channel, r, s) — the GEMM reduction (K) grouping of NVIDIA's 2:4 sparsity.
    Within each group the ``n`` kept positions are uniformly random.
    """
    check_nm(n, m)
    if len(shape) != 4:
        raise AccelsimError(f"nm_mask expects an M×C×R×S weight shape, got {list(shape)}")
    out_channels, in_channels, height, width = (int(s) for s in shape)
    if in_channels % m:
        raise AccelsimError(f"{n}:{m} sparsity needs C/groups to be a multiple of {m}, "
                            f"got {in_channels}")
    keys = rng.random((out_channels, in_channels // m, m, height, width))
    order = np.argsort(keys, axis=2, kind="stable")
    mask = np.zeros(keys.shape, dtype=bool)
    np.put_along_axis(mask, order[:, :, :n], True, axis=2)
    return mask.reshape(out_channels, in_channels, height, width)


def check_nm(n: int, m: int) -> None:
    """Reject an N:M pattern that is not 0 ≤ n ≤ m with m ≥ 1."""
    valid = all(isinstance(v, int) and not isinstance(v, bool) for v in (n, m))
    if not valid or m < 1 or not 0 <= n <= m:
        raise AccelsimError(f"N:M sparsity needs integers 0 <= n <= m, m >= 1; got {n!r}:{m!r}")


def clustered_activation_mask(
    shape: Sequence[int],
    density: float,
    rng: np.random.Generator,
    *,
    channel_spread: float = DEFAULT_CHANNEL_SPREAD,
    correlation_px: int = DEFAULT_CORRELATION_PX,
) -> np.ndarray:
    """Activation-like mask: uneven channels, zeros in spatial blobs, exact total count.

    ``shape`` is N×C×H×W. Channel ``c`` draws a density ``p_c ~ Beta`` with mean
    ``density`` and standard deviation ``channel_spread·sqrt(density·(1−density))``; the
    ``round(density·size)`` ones are shared out over the (n, c) maps in proportion to
    ``p_c`` (capped at H·W, largest remainder). Each map keeps its ``k`` highest values of
    a white-noise field blurred by a ``correlation_px``-wide box twice along each axis,
    so ones and zeros come in blobs about that size.
    """
    if len(shape) != 4:
        raise AccelsimError(f"clustered masks expect an N×C×H×W shape, got {list(shape)}")
    batch, channels, height, width = (int(s) for s in shape)
    total = exact_count(batch * channels * height * width, density)
    check_cluster_params(channel_spread, correlation_px)
    channel_density = _channel_densities(channels, density, channel_spread, rng)
    weights = np.broadcast_to(channel_density, (batch, channels)).reshape(-1)
    counts = allocate_counts(weights, total, height * width)
    field = smooth_field(rng, batch * channels, height, width, correlation_px)
    return top_k_per_row(field.reshape(batch * channels, -1), counts).reshape(shape)


def check_cluster_params(channel_spread: float, correlation_px: int) -> None:
    """Reject a spread outside [0, 1) or a box width that is not a positive integer."""
    if not 0.0 <= channel_spread < 1.0:
        raise AccelsimError(f"channel_spread must be in [0, 1), got {channel_spread!r}")
    if isinstance(correlation_px, bool) or not isinstance(correlation_px, int) or \
            correlation_px < 1:
        raise AccelsimError(f"correlation_px must be an integer >= 1, got {correlation_px!r}")


def _channel_densities(channels: int, mean: float, spread: float,
                       rng: np.random.Generator) -> np.ndarray:
    """Beta(mean·κ, (1−mean)·κ) with κ = 1/spread² − 1, so std = spread·sqrt(mean(1−mean))."""
    concentration = 1.0 / max(spread, 1e-6) ** 2 - 1.0  # below 1e-6: not measurable
    alpha, beta = mean * concentration, (1.0 - mean) * concentration
    if spread < 1e-6 or not (alpha > 0.0 and beta > 0.0):
        return np.full(channels, mean)
    draws = rng.beta(alpha, beta, size=channels)
    return np.nan_to_num(draws, nan=mean)  # tiny Beta parameters can underflow


def allocate_counts(weights: np.ndarray, total: int, cap: int) -> np.ndarray:
    """Integers in [0, cap] summing to ``total``, proportional to ``weights`` where possible.

    Water-filling: scale the weights to the total, clip at ``cap``, rescale the rest
    until nothing exceeds the cap; then floor and give the leftover ones to the largest
    fractional parts (ties to the lower index).
    """
    if not 0 <= total <= cap * weights.size:
        raise AccelsimError(f"cannot place {total} ones in {weights.size} rows of {cap}")
    weights = np.asarray(weights, dtype=np.float64)
    share = _water_fill(weights, float(total), float(cap))
    counts = np.floor(share).astype(np.int64)
    leftover = total - int(counts.sum())
    if leftover > 0:
        order = np.argsort(-(share - counts), kind="stable")
        order = order[counts[order] < cap]
        counts[order[:leftover]] += 1
    return counts


def _water_fill(weights: np.ndarray, total: float, cap: float) -> np.ndarray:
    """Shares ∝ weights summing to ``total``, none above ``cap``."""
    capped = np.zeros(weights.size, dtype=bool)
    share = np.full(weights.size, cap)
    for _ in range(weights.size):
        free = ~capped
        if not free.any():
            break
        share[free] = (total - cap * capped.sum()) * _normalised(weights[free])
        over = (share > cap) & free
        if not over.any():
            break
        capped |= over
        share[capped] = cap
    return np.minimum(share, cap)


def _normalised(weights: np.ndarray) -> np.ndarray:
    """Weights scaled to sum 1 without overflow; all-zero weights become equal."""
    top = weights.max()
    scaled = weights / top if top > 0 else np.ones_like(weights)
    return scaled / scaled.sum()


def smooth_field(rng: np.random.Generator, maps: int, height: int, width: int,
                 box: int) -> np.ndarray:
    """``maps`` independent H×W Gaussian fields, each blurred twice by a ``box``-wide box.

    The noise is drawn on a margin of 2·(box−1) pixels and cut back by 'valid'
    filtering, so the field is stationary up to the map edges (no padding artefacts).
    """
    margin = 2 * (box - 1)
    field = rng.standard_normal((maps, height + margin, width + margin), dtype=np.float32)
    for axis in (1, 2, 1, 2):
        field = _box_valid(field, box, axis)
    return field


def _box_valid(values: np.ndarray, box: int, axis: int) -> np.ndarray:
    """Sum over a sliding window of ``box`` along ``axis`` ('valid' mode)."""
    length = values.shape[axis] - box + 1

    def window(start: int) -> np.ndarray:
        index = [slice(None)] * values.ndim
        index[axis] = slice(start, start + length)
        return values[tuple(index)]

    total = window(0).copy()
    for start in range(1, box):
        total += window(start)
    return total


def top_k_per_row(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Boolean mask with True at the ``counts[i]`` largest entries of row ``i`` (exact).

    Thresholds each row at its k-th largest value; ties at the threshold go to the lowest
    indices, so the result does not depend on the sorting algorithm.
    """
    rows, length = values.shape
    counts = np.asarray(counts, dtype=np.int64)
    ordered = np.sort(values, axis=1)
    position = np.clip(length - counts, 0, length - 1)
    threshold = ordered[np.arange(rows), position]
    threshold = np.where(counts > 0, threshold, np.inf).astype(values.dtype)[:, None]
    mask = values >= threshold
    tied = np.flatnonzero(mask.sum(axis=1) > counts)
    if tied.size:
        row_values, row_threshold = values[tied], threshold[tied]
        greater = row_values > row_threshold
        equal = row_values == row_threshold
        missing = counts[tied] - greater.sum(axis=1)
        mask[tied] = greater | (equal & (np.cumsum(equal, axis=1) <= missing[:, None]))
    return mask
