"""The layer as the nest analysis sees it: seven loop bounds and how each tensor's
coordinates are projected from them (Timeloop's data-space projections).

Weights are indexed by (M, C, R, S), outputs by (N, M, P, Q), inputs by (N, C, h, w) with
h = P·stride_h + R·dilation_h and w = Q·stride_w + S·dilation_w. An input tile is the
bounding box of that projection, so its height is (P−1)·stride + (R−1)·dilation + 1: the
padding rows are inside the box (3×225×225 = 151,875 input words for a 224×224 stride-2
layer with padding 1), and the rows a stride skips are counted too — Timeloop's convention.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.arch.spec import Tensor
from accelsim.mapping.model import DIMS, layer_bounds
from accelsim.workload.layer import Layer

# Each tensor axis is one loop dimension, or a (output, kernel) pair for input rows/columns.
AXES: dict[Tensor, tuple[tuple[str, ...], ...]] = {
    Tensor.WEIGHTS: (("M",), ("C",), ("R",), ("S",)),
    Tensor.INPUTS: (("N",), ("C",), ("P", "R"), ("Q", "S")),
    Tensor.OUTPUTS: (("N",), ("M",), ("P",), ("Q",)),
}
RELEVANT: dict[Tensor, frozenset[str]] = {
    tensor: frozenset(dim for axis in axes for dim in axis) for tensor, axes in AXES.items()
}
# The dimensions summed over into an output (they make partial sums).
REDUCTION_DIMS = frozenset({"C", "R", "S"})


@dataclass(frozen=True, slots=True)
class Problem:
    """Loop bounds of one group, plus the input projection's strides and dilations."""

    bounds: tuple[int, ...]          # in DIMS order
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    @classmethod
    def from_layer(cls, layer: Layer) -> Problem:
        sizes = layer_bounds(layer)
        return cls(tuple(sizes[d] for d in DIMS), layer.stride, layer.dilation, layer.groups)

    def size(self, dim: str) -> int:
        return self.bounds[DIMS.index(dim)]

    def pair_coefficients(self, axis: tuple[str, str]) -> tuple[int, int]:
        """(output stride, kernel dilation) of an input row (P, R) or column (Q, S) axis."""
        return (self.stride[0], self.dilation[0]) if axis[0] == "P" else \
            (self.stride[1], self.dilation[1])

    @property
    def macs(self) -> int:
        """Multiply-accumulates of all groups."""
        total = self.groups
        for bound in self.bounds:
            total *= bound
        return total

    def tensor_words(self, tensor: Tensor) -> int:
        """Words of one group's tensor (an input counts its bounding box, padding included)."""
        total = 1
        for axis in AXES[tensor]:
            if len(axis) == 1:
                total *= self.size(axis[0])
            else:
                step, dil = self.pair_coefficients(axis)  # type: ignore[arg-type]
                total *= (self.size(axis[0]) - 1) * step + (self.size(axis[1]) - 1) * dil + 1
        return total
