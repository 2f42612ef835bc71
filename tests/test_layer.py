"""Layer geometry: derived sizes in closed form, and invalid geometry rejected by name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.errors import GeometryError
from accelsim.workload.layer import Layer, LayerKind


def test_conv_output_size_and_macs_closed_form():
    # ResNet-18 stem: 224x224, 7x7 stride 2 pad 3 -> 112x112.
    layer = Layer("conv1", N=1, C=3, H=224, W=224, M=64, R=7, S=7, stride=2, padding=3)
    assert (layer.P, layer.Q) == (112, 112)
    assert layer.macs == 1 * 64 * 3 * 112 * 112 * 7 * 7 == 118_013_952
    assert layer.weight_size == 64 * 3 * 7 * 7
    assert layer.input_shape == (1, 3, 224, 224)
    assert layer.output_shape == (1, 64, 112, 112)


def test_rectangular_stride_padding_dilation():
    layer = Layer("x", N=2, C=4, H=10, W=9, M=6, R=3, S=2, stride=(2, 1), padding=(1, 0),
                  dilation=(2, 1))
    # P = floor((10 + 2 - 2*2 - 1)/2) + 1 = 4 ; Q = floor((9 - 1 - 1)/1) + 1 = 8
    assert (layer.P, layer.Q) == (4, 8)
    assert layer.macs == 2 * 6 * 4 * 4 * 8 * 3 * 2


def test_grouped_and_depthwise():
    grouped = Layer("g", N=1, C=96, H=27, W=27, M=256, R=5, S=5, padding=2, groups=2)
    assert grouped.macs == 27 * 27 * 256 * 48 * 25 == 223_948_800  # AlexNet CONV2
    assert grouped.weight_shape == (256, 48, 5, 5)
    depthwise = Layer("dw", N=1, C=32, H=112, W=112, M=32, R=3, S=3, padding=1, groups=32)
    assert depthwise.is_depthwise
    assert depthwise.macs == 32 * 112 * 112 * 9


def test_fully_connected_is_1x1():
    fc = Layer.fc("fc", 512, 1000, batch=4)
    assert fc.kind is LayerKind.FC
    assert fc.macs == 4 * 512 * 1000
    assert fc.input_shape == (4, 512, 1, 1)
    assert fc.describe() == "fc 512->1000"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"C": 0}, "C must be a positive integer"),
        ({"M": -3}, "M must be a positive integer"),
        ({"groups": 2, "C": 3}, "groups=2 must divide C=3"),
        ({"R": 9, "H": 4}, "empty output"),
        ({"stride": 0}, "stride and dilation must be >= 1"),
        ({"padding": -1}, "padding must be >= 0"),
        ({"H": 2.5}, "H must be a positive integer"),
        ({"stride": (1, 2, 3)}, "stride must be an integer or a pair"),
    ],
)
def test_invalid_geometry_names_the_layer(kwargs, fragment):
    base = {"N": 1, "C": 4, "H": 8, "W": 8, "M": 4, "R": 3, "S": 3}
    with pytest.raises(GeometryError) as info:
        Layer("block3.conv2", **{**base, **kwargs})
    message = str(info.value)
    assert message.startswith("block3.conv2: ")
    assert fragment in message
    assert "\n" not in message


@given(
    size=st.integers(1, 64), kernel=st.integers(1, 7), stride=st.integers(1, 4),
    padding=st.integers(0, 3), dilation=st.integers(1, 3),
)
def test_output_size_matches_sliding_window_count(size, kernel, stride, padding, dilation):
    span = dilation * (kernel - 1) + 1
    padded = size + 2 * padding
    windows = len(range(0, padded - span + 1, stride)) if padded >= span else 0
    if windows == 0:
        with pytest.raises(GeometryError):
            Layer("x", N=1, C=1, H=size, W=1, M=1, R=kernel, S=1, stride=(stride, 1),
                  padding=(padding, 0), dilation=(dilation, 1))
    else:
        layer = Layer("x", N=1, C=1, H=size, W=1, M=1, R=kernel, S=1, stride=(stride, 1),
                      padding=(padding, 0), dilation=(dilation, 1))
        assert layer.P == windows
