"""Exact effectual MACs: closed forms, a brute-force oracle over random layers and masks,
and (with the torch extra) conv2d of the masks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import GeometryError
from accelsim.workload.effectual import effectual_macs, kernel_position_activity, mac_counts
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace


def brute_force_effectual(lt: LayerTrace) -> int:
    """The definition, one MAC at a time: both operands non-zero (padding is zero)."""
    L, A, Wm = lt.layer, lt.input_mask, lt.weight_mask
    total = 0
    for n, m, p, q in itertools.product(range(L.N), range(L.M), range(L.P), range(L.Q)):
        group = m // L.M_per_group
        for c, r, s in itertools.product(range(L.C_per_group), range(L.R), range(L.S)):
            h = p * L.stride[0] - L.padding[0] + r * L.dilation[0]
            w = q * L.stride[1] - L.padding[1] + s * L.dilation[1]
            if 0 <= h < L.H and 0 <= w < L.W and A[n, group * L.C_per_group + c, h, w] \
                    and Wm[m, c, r, s]:
                total += 1
    return total


@st.composite
def layers_and_masks(draw):
    groups = draw(st.integers(1, 3))
    while True:
        try:
            layer = Layer(
                "x", N=draw(st.integers(1, 2)), C=groups * draw(st.integers(1, 3)),
                H=draw(st.integers(1, 9)), W=draw(st.integers(1, 9)),
                M=groups * draw(st.integers(1, 3)), R=draw(st.integers(1, 4)),
                S=draw(st.integers(1, 4)),
                stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
                dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))), groups=groups)
            break
        except GeometryError:
            continue
    seed = draw(st.integers(0, 2**31))
    da, dw = draw(st.floats(0, 1)), draw(st.floats(0, 1))
    rng = np.random.default_rng(seed)
    return LayerTrace(layer, rng.random(layer.input_shape) < da,
                      rng.random(layer.weight_shape) < dw)


@given(layers_and_masks())
@settings(max_examples=150, deadline=None)
def test_matches_brute_force(lt):
    assert effectual_macs(lt) == brute_force_effectual(lt)


@given(layers_and_masks(), st.integers(0, 10**6))
@settings(max_examples=60, deadline=None)
def test_clearing_a_bit_never_adds_effectual_macs(lt, which):
    before = effectual_macs(lt)
    inputs = lt.input_mask.copy().reshape(-1)
    inputs[which % inputs.size] = False
    cleared = LayerTrace(lt.layer, inputs.reshape(lt.input_mask.shape), lt.weight_mask)
    assert effectual_macs(cleared) <= before <= lt.layer.macs


def test_all_ones_without_padding_equals_dense():
    layer = Layer("c", N=2, C=8, H=14, W=14, M=16, R=3, S=3, stride=1)
    assert effectual_macs(LayerTrace.dense(layer)) == layer.macs == 2 * 16 * 8 * 12 * 12 * 9


def test_all_ones_with_padding_closed_form():
    # 3x3, pad 1, stride 1: tap (r, s) sees (H - |r-1|)·(W - |s-1|) real inputs, so the sum
    # over taps is (3H-2)·(3W-2) per (n, m, c) — padding zeros are never effectual.
    N, C, M, H, W = 1, 4, 5, 6, 7
    layer = Layer("c", N=N, C=C, H=H, W=W, M=M, R=3, S=3, padding=1)
    assert effectual_macs(LayerTrace.dense(layer)) == N * M * C * (3 * H - 2) * (3 * W - 2)
    assert layer.macs == N * M * C * H * W * 9


def test_kernel_position_activity_small_example():
    # 1x1x3x3 input with ones on the diagonal, 2x2 kernel, stride 1, no padding: P=Q=2.
    layer = Layer("c", N=1, C=1, H=3, W=3, M=1, R=2, S=2)
    mask = np.eye(3, dtype=bool).reshape(1, 1, 3, 3)
    activity = kernel_position_activity(mask, layer)
    # Tap (0,0) reads rows 0-1 x cols 0-1 -> 2 diagonal ones; (0,1) reads rows 0-1, cols
    # 1-2 -> 1; (1,0) -> 1; (1,1) reads rows 1-2, cols 1-2 -> 2.
    assert activity.tolist() == [[[2, 1], [1, 2]]]


def test_grouped_conv_uses_only_its_group():
    # Two groups; activations only in group 0's channels, weights only in group 1's
    # filters: nothing is effectual.
    layer = Layer("g", N=1, C=4, H=5, W=5, M=4, R=3, S=3, groups=2)
    inputs = np.zeros(layer.input_shape, bool)
    inputs[:, :2] = True
    weights = np.zeros(layer.weight_shape, bool)
    weights[2:] = True
    assert effectual_macs(LayerTrace(layer, inputs, weights)) == 0
    weights[:2] = True  # now group 0's filters see group 0's dense inputs: half of dense
    assert effectual_macs(LayerTrace(layer, inputs, weights)) == layer.macs // 2


def test_mac_counts_estimate_and_reduction():
    layer = Layer("c", N=1, C=4, H=8, W=8, M=4, R=1, S=1)
    inputs = np.zeros(layer.input_shape, bool)
    inputs[:, :, :4] = True  # half the inputs
    weights = np.ones(layer.weight_shape, bool)
    weights[:, :2] = False  # half the weights, in the other channels
    counts = mac_counts(LayerTrace(layer, inputs, weights))
    assert counts.dense == 4 * 4 * 64
    assert counts.effectual == 4 * 2 * 32          # M · (C with weights) · (non-zero pixels)
    assert counts.estimated == pytest.approx(counts.dense * 0.5 * 0.5)
    assert counts.reduction == pytest.approx(0.75)


@pytest.mark.torch
def test_agrees_with_torch_conv2d_of_the_masks():
    torch = pytest.importorskip("torch", reason="torch extra not installed")
    rng = np.random.default_rng(7)
    for layer in (
        Layer("a", N=2, C=6, H=13, W=11, M=4, R=3, S=5, stride=(2, 1), padding=(1, 2),
              dilation=(1, 2), groups=2),
        Layer("b", N=1, C=8, H=9, W=9, M=8, R=3, S=3, padding=1, groups=8),
    ):
        lt = LayerTrace(layer, rng.random(layer.input_shape) < 0.4,
                        rng.random(layer.weight_shape) < 0.6)
        out = torch.nn.functional.conv2d(
            torch.from_numpy(lt.input_mask.astype(np.float64)),
            torch.from_numpy(lt.weight_mask.astype(np.float64)),
            stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
            groups=layer.groups)
        assert int(out.sum().round().item()) == effectual_macs(lt)
