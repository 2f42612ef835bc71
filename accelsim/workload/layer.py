"""Layer geometry: what one convolution or fully connected layer computes.

The loop letters follow docs/model.md: ``N`` batch, ``C`` input channels, ``H×W`` input
(unpadded), ``M`` output channels, ``R×S`` kernel (height × width), ``P×Q`` output
(height × width). Stride, padding and dilation are (height, width) pairs; padding is
symmetric zero padding added by the simulator, never stored in a trace. A fully
connected layer is a 1×1 convolution on a 1×1 input.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from accelsim.errors import GeometryError

Pair = tuple[int, int]


class LayerKind(str, Enum):
    CONV = "conv"
    FC = "fc"


def _pair(value: int | tuple[int, int] | list[int], what: str, layer: str) -> Pair:
    if isinstance(value, bool):
        raise GeometryError(f"{what} must be an integer or a pair of integers, got {value!r}",
                            key=layer)
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return (int(value[0]), int(value[1]))
    raise GeometryError(f"{what} must be an integer or a pair of integers, got {value!r}",
                        key=layer)


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output extent of one spatial dimension (PyTorch's floor convention)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True, slots=True)
class Layer:
    """Geometry of one layer; validated on construction, derived sizes as properties."""

    name: str
    N: int
    C: int
    H: int
    W: int
    M: int
    R: int = 1
    S: int = 1
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    kind: LayerKind = LayerKind.CONV
    # Name of the tensor this layer reads; layers reading the same tensor share an input
    # mask in synthetic traces (e.g. a ResNet block's first conv and its downsample conv).
    input_tensor: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name:
            raise GeometryError(f"layer name must be a non-empty string, got {name!r}")
        for letter in ("N", "C", "H", "W", "M", "R", "S", "groups"):
            value = getattr(self, letter)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GeometryError(f"{letter} must be a positive integer, got {value!r}",
                                    key=name)
        object.__setattr__(self, "stride", _pair(self.stride, "stride", name))
        object.__setattr__(self, "padding", _pair(self.padding, "padding", name))
        object.__setattr__(self, "dilation", _pair(self.dilation, "dilation", name))
        object.__setattr__(self, "kind", LayerKind(self.kind))
        if min(self.stride) < 1 or min(self.dilation) < 1:
            raise GeometryError(
                f"stride and dilation must be >= 1, got stride {self.stride} "
                f"dilation {self.dilation}", key=name)
        if min(self.padding) < 0:
            raise GeometryError(f"padding must be >= 0, got {self.padding}", key=name)
        if self.C % self.groups or self.M % self.groups:
            raise GeometryError(
                f"groups={self.groups} must divide C={self.C} and M={self.M}", key=name)
        if self.P < 1 or self.Q < 1:
            raise GeometryError(
                f"empty output: input {self.H}x{self.W} with padding {self.padding} is smaller "
                f"than the dilated {self.R}x{self.S} kernel", key=name)
        if self.kind is LayerKind.FC and (self.H, self.W, self.R, self.S) != (1, 1, 1, 1):
            raise GeometryError("a fully connected layer must have H=W=R=S=1", key=name)
        if not self.input_tensor:
            object.__setattr__(self, "input_tensor", name)

    @classmethod
    def fc(cls, name: str, in_features: int, out_features: int, batch: int = 1,
           input_tensor: str = "") -> Layer:
        return cls(name=name, N=batch, C=in_features, H=1, W=1, M=out_features,
                   kind=LayerKind.FC, input_tensor=input_tensor)

    @property
    def P(self) -> int:
        return conv_output_size(self.H, self.R, self.stride[0], self.padding[0], self.dilation[0])

    @property
    def Q(self) -> int:
        return conv_output_size(self.W, self.S, self.stride[1], self.padding[1], self.dilation[1])

    @property
    def C_per_group(self) -> int:
        return self.C // self.groups

    @property
    def M_per_group(self) -> int:
        return self.M // self.groups

    @property
    def is_depthwise(self) -> bool:
        return self.groups > 1 and self.groups == self.C == self.M

    @property
    def macs(self) -> int:
        """Dense multiply-accumulates: N·M·(C/groups)·P·Q·R·S."""
        return self.N * self.M * self.C_per_group * self.P * self.Q * self.R * self.S

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.C, self.H, self.W)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.M, self.C_per_group, self.R, self.S)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.M, self.P, self.Q)

    @property
    def input_size(self) -> int:
        return self.N * self.C * self.H * self.W

    @property
    def weight_size(self) -> int:
        return self.M * self.C_per_group * self.R * self.S

    @property
    def output_size(self) -> int:
        return self.N * self.M * self.P * self.Q

    def with_batch(self, batch: int) -> Layer:
        return replace(self, N=batch)

    def describe(self) -> str:
        """Short geometry string for tables, e.g. ``3x224x224 -> 64x112x112 k7 s2``."""
        text = f"{self.C}x{self.H}x{self.W}->{self.M}x{self.P}x{self.Q}"
        if self.kind is LayerKind.FC:
            return f"fc {self.C}->{self.M}"
        text += f" k{self.R}x{self.S}" if self.R != self.S else f" k{self.R}"
        if self.stride != (1, 1):
            sh, sw = self.stride
            text += f" s{sh}" if sh == sw else f" s{sh}x{sw}"
        if self.groups > 1:
            text += " dw" if self.is_depthwise else f" g{self.groups}"
        return text
