"""TL1 against its closed forms, and the activation penalty: which tensors it sees, its two
normalisations, and that it is in the training loss."""

from __future__ import annotations

import importlib
import os

import pytest

pytestmark = pytest.mark.torch
torch = (importlib.import_module("torch") if os.environ.get("ACCELSIM_REQUIRE_TORCH")
         else pytest.importorskip("torch", reason="needs the torch extra: "
                                  "pip install -e '.[torch,test]'"))

from torch import nn  # noqa: E402

from accelsim.train.recipe import Normalisation  # noqa: E402
from accelsim.train.tl1 import ActivationPenalty, tl1  # noqa: E402

VALUES = [-3.0, -0.5, -1e-3, 0.0, 1e-3, 0.25, 1.0, 7.0]


@pytest.mark.parametrize("a", [0.1, 0.5, 1.0, 4.0])
def test_value_is_the_closed_form(a):
    x = torch.tensor(VALUES, dtype=torch.float64)
    expected = [(a + 1) * abs(v) / (a + abs(v)) for v in VALUES]
    assert tl1(x, a).tolist() == pytest.approx(expected, rel=1e-12, abs=0)
    assert tl1(torch.zeros(3), a).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("a", [0.1, 1.0, 3.0])
def test_gradient_is_a_times_a_plus_one_over_a_plus_abs_x_squared(a):
    x = torch.tensor([v for v in VALUES if v != 0], dtype=torch.float64, requires_grad=True)
    tl1(x, a).sum().backward()
    expected = [a * (a + 1) / (a + abs(v)) ** 2 * (1 if v > 0 else -1)
                for v in x.detach().tolist()]
    assert x.grad.tolist() == pytest.approx(expected, rel=1e-12)
    # At 0 the slope from the right is (a + 1) / a: steeper than l1's 1 for every a.
    assert a * (a + 1) / a**2 == pytest.approx((a + 1) / a)


def test_limits_l1_for_large_a_and_l0_for_small_a():
    x = torch.tensor(VALUES, dtype=torch.float64)
    assert tl1(x, 1e9).tolist() == pytest.approx([abs(v) for v in VALUES], rel=1e-6, abs=1e-9)
    indicator = [0.0 if v == 0 else 1.0 for v in VALUES]
    assert tl1(x, 1e-12).tolist() == pytest.approx(indicator, rel=1e-6)


class _TwoConvs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = torch.relu(self.conv1(x))
        y = torch.relu(self.conv2(h))
        return self.head(y.mean((2, 3)))


def _hand_inputs(model, x):
    h = torch.relu(model.conv1(x))
    return [h]  # conv1 reads the image (no gradient): left out; the Linear is not a conv


@pytest.mark.parametrize("normalisation", ["mean", "elements"])
def test_penalty_sums_tl1_of_conv_inputs_that_need_gradients(normalisation):
    model = _TwoConvs()
    x = torch.randn(2, 2, 5, 5, generator=torch.Generator().manual_seed(1))
    a = 0.7
    with ActivationPenalty(model, a, Normalisation(normalisation)) as penalty:
        model(x)
        value = penalty.take()
        assert penalty.take().item() == 0.0  # take() resets
    (h,) = _hand_inputs(model, x)
    terms = (a + 1) * h.abs() / (a + h.abs())
    expected = terms.mean() if normalisation == "mean" else terms.sum() / h.numel()
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)
    assert value.requires_grad


def test_penalty_counts_zeros_of_every_conv_input():
    model = _TwoConvs()
    x = torch.randn(2, 2, 5, 5, generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), ActivationPenalty(model, 1.0, Normalisation.MEAN, enabled=False,
                                            count_zeros=True) as counter:
        model(x)
        sparsity, penalty = counter.take_sparsity(), counter.take()
    with torch.no_grad():
        (h,) = _hand_inputs(model, x)
    zeros = int((x == 0).sum() + (h == 0).sum())
    assert zeros > 0
    assert sparsity == pytest.approx(zeros / (x.numel() + h.numel()))
    assert penalty.item() == 0.0  # disabled: no penalty terms


def test_hooks_are_removed_on_exit():
    model = _TwoConvs()
    with ActivationPenalty(model, 1.0, Normalisation.MEAN) as penalty:
        pass
    model(torch.randn(1, 2, 5, 5, requires_grad=True))
    assert penalty.take().item() == 0.0
    assert not model.conv2._forward_pre_hooks
