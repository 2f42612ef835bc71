"""Magnitude pruning: which weights go (per layer, global), the cubic schedule's closed
form, the first conv kept dense, and pruned weights staying exactly zero through SGD with
momentum and weight decay."""

from __future__ import annotations

import importlib
import os

import pytest

pytestmark = pytest.mark.torch
torch = (importlib.import_module("torch") if os.environ.get("ACCELSIM_REQUIRE_TORCH")
         else pytest.importorskip("torch", reason="needs the torch extra: "
                                  "pip install -e '.[torch,test]'"))

from torch import nn  # noqa: E402

from accelsim.train.prune import (  # noqa: E402
    Pruner,
    cubic_sparsity,
    magnitude_masks,
    prunable_layers,
)
from accelsim.train.recipe import PruneScope  # noqa: E402


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 6, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 4 * 4, 5))


def test_first_conv_is_kept_dense_unless_asked():
    model = _model()
    assert list(prunable_layers(model, include_first_conv=False)) == ["2", "5"]
    assert list(prunable_layers(model, include_first_conv=True)) == ["0", "2", "5"]


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.7])
def test_per_layer_masks_drop_exactly_the_smallest_fraction(ratio):
    layers = prunable_layers(_model(), include_first_conv=True)
    masks = magnitude_masks(layers, ratio, PruneScope.LAYER)
    for name, module in layers.items():
        weight = module.weight.detach().abs()
        mask = masks[name]
        assert mask.shape == weight.shape
        assert int((~mask).sum()) == round(ratio * weight.numel())
        if 0 < ratio:
            assert weight[~mask].max() <= weight[mask].min()


def test_global_masks_use_one_threshold():
    layers = prunable_layers(_model(), include_first_conv=False)
    masks = magnitude_masks(layers, 0.6, PruneScope.GLOBAL)
    pruned = torch.cat([m.weight.detach().abs()[~masks[n]] for n, m in layers.items()])
    kept = torch.cat([m.weight.detach().abs()[masks[n]] for n, m in layers.items()])
    total = sum(m.weight.numel() for m in layers.values())
    assert pruned.numel() == round(0.6 * total)
    assert pruned.max() <= kept.min()
    ratios = {n: float((~masks[n]).float().mean()) for n in layers}
    assert ratios["2"] != pytest.approx(ratios["5"])  # layers differ: it is global


def test_ties_are_broken_by_position():
    layer = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0, 1.0, 1.0]]))
    mask = magnitude_masks({"fc": layer}, 0.5, PruneScope.LAYER)["fc"]
    assert mask.tolist() == [[False, False, True, True]]


def test_cubic_schedule_closed_form():
    final = 0.8
    for t in (0.0, 0.1, 0.25, 0.5, 0.9, 1.0):
        assert cubic_sparsity(t, final) == pytest.approx(final * (1 - (1 - t) ** 3))
    assert cubic_sparsity(-1.0, final) == 0.0
    assert cubic_sparsity(2.0, final) == pytest.approx(final)


def test_pruned_weights_stay_exactly_zero_through_training():
    model = _model(seed=3)
    pruner = Pruner(prunable_layers(model, include_first_conv=False))
    pruner.update(0.5, PruneScope.LAYER)
    masks = {n: m.clone() for n, m in pruner.masks.items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        x = torch.randn(4, 3, 8, 8, generator=generator)
        loss = model(x).square().mean()
        optimizer.zero_grad()
        loss.backward()
        for name, module in pruner.layers.items():
            assert (module.weight.grad[~masks[name]] == 0).all()  # gradient masked
        optimizer.step()
        pruner.enforce()
        for name, module in pruner.layers.items():
            assert (module.weight[~masks[name]] == 0).all()
            assert (module.weight[masks[name]] != 0).all()
    # A further (cubic) step prunes more and never revives a pruned weight.
    pruner.update(0.7, PruneScope.LAYER)
    for name, mask in pruner.masks.items():
        assert not (mask & ~masks[name]).any()
        assert int((~mask).sum()) == round(0.7 * mask.numel())
    assert pruner.sparsity() == pytest.approx(
        sum(round(0.7 * m.numel()) for m in masks.values()) /
        sum(m.numel() for m in masks.values()))
    pruner.remove_hooks()
