"""Exact effectual MACs: multiplies whose two operands are both non-zero.

The count is bilinear in the masks. For one group ``g`` of a convolution,

    effectual = Σ_{c,r,s} Wsum[c,r,s] · Asum[c,r,s]
    Wsum[c,r,s] = Σ_m weight_mask[m,c,r,s]                         (over the group's M)
    Asum[c,r,s] = Σ_{n,p,q} padded_input[n, c, r·dh + p·sh, s·dw + q·sw]

so it never loops over MACs. ``Asum`` for every kernel position is a box sum over one
stride-residue class of the batch-summed input map, read from an integral image: the
cost is O(N·C·H·W + C·R·S) per layer instead of O(MACs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace


@dataclass(frozen=True, slots=True)
class MacCounts:
    """Dense, exact effectual and density-product estimate of one layer's MACs."""

    dense: int
    effectual: int
    input_density: float
    weight_density: float

    @property
    def estimated(self) -> float:
        """``MACs·d_a·d_w``: what a density-only model predicts (ignores mask correlation)."""
        return self.dense * self.input_density * self.weight_density

    @property
    def reduction(self) -> float:
        """Fraction of dense MACs that are not effectual."""
        return 1.0 - self.effectual / self.dense


def kernel_position_activity(input_mask: np.ndarray, layer: Layer) -> np.ndarray:
    """``Asum[c, r, s]``: over all (n, p, q), how many inputs at kernel tap (r, s) are non-zero.

    Returns an int64 array of shape (C, R, S).
    """
    ph, pw = layer.padding
    sh, sw = layer.stride
    dh, dw = layer.dilation
    P, Q = layer.P, layer.Q
    per_channel = input_mask.sum(axis=0, dtype=np.int64)  # (C, H, W), batch folded in
    if ph or pw:
        per_channel = np.pad(per_channel, ((0, 0), (ph, ph), (pw, pw)))
    activity = np.empty((layer.C, layer.R, layer.S), dtype=np.int64)
    integrals: dict[tuple[int, int], np.ndarray] = {}
    for r in range(layer.R):
        row_residue, row_start = divmod(r * dh, sh)[::-1]
        for s in range(layer.S):
            col_residue, col_start = divmod(s * dw, sw)[::-1]
            key = (row_residue, col_residue)
            if key not in integrals:
                integrals[key] = _integral_image(per_channel[:, row_residue::sh, col_residue::sw])
            table = integrals[key]
            r0, r1, c0, c1 = row_start, row_start + P, col_start, col_start + Q
            activity[:, r, s] = table[:, r1, c1] - table[:, r0, c1] - table[:, r1, c0] + \
                table[:, r0, c0]
    return activity


def _integral_image(maps: np.ndarray) -> np.ndarray:
    channels, height, width = maps.shape
    table = np.zeros((channels, height + 1, width + 1), dtype=np.int64)
    np.cumsum(maps, axis=1, out=table[:, 1:, 1:])
    np.cumsum(table[:, 1:, 1:], axis=2, out=table[:, 1:, 1:])
    return table


def effectual_macs(layer_trace: LayerTrace) -> int:
    """Exact number of MACs whose activation and weight are both non-zero."""
    layer = layer_trace.layer
    activity = kernel_position_activity(layer_trace.input_mask, layer)
    groups, per_group = layer.groups, layer.C_per_group
    weight_sums = layer_trace.weight_mask.reshape(
        groups, layer.M_per_group, per_group, layer.R, layer.S).sum(axis=1, dtype=np.int64)
    activity = activity.reshape(groups, per_group, layer.R, layer.S)
    return int(np.einsum("gcrs,gcrs->", weight_sums, activity))


def mac_counts(layer_trace: LayerTrace) -> MacCounts:
    return MacCounts(
        dense=layer_trace.layer.macs,
        effectual=effectual_macs(layer_trace),
        input_density=layer_trace.input_density,
        weight_density=layer_trace.weight_density,
    )
