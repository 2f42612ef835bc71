"""Magnitude pruning with masks that keep pruned weights exactly zero.

Which weights: every ``Conv2d`` and ``Linear`` weight, except the first conv unless the
recipe says otherwise (it sees the image and has few weights). How many: ``ratio`` of each
layer (``layer``) or of all pruned weights together (``global``, one threshold). When: all
at once (``oneshot``) or along Zhu & Gupta's cubic ramp s(t) = s_f·(1 − (1 − t)^3), t the
fraction of the pruning window gone, recomputed every few steps. Once the window ends the
masks are frozen. Ties in magnitude are broken by position (stable sort): deterministic.

A pruned weight stays exactly zero because its gradient is masked before each step and
the weight is multiplied by its mask after each step (momentum and weight decay included).
"""

from __future__ import annotations

import torch
from torch import nn

from accelsim.train.recipe import PruneScope


def prunable_layers(model: nn.Module, include_first_conv: bool) -> dict[str, nn.Module]:
    """Name -> module of the layers whose weights may be pruned, in module order."""
    layers = {name: m for name, m in model.named_modules()
              if isinstance(m, (nn.Conv2d, nn.Linear))}
    first_conv = next((n for n, m in layers.items() if isinstance(m, nn.Conv2d)), None)
    if first_conv is not None and not include_first_conv:
        del layers[first_conv]
    return layers


def cubic_sparsity(progress: float, final: float) -> float:
    """Zhu & Gupta's target sparsity after ``progress`` (0..1) of the pruning window."""
    t = min(max(progress, 0.0), 1.0)
    return final * (1.0 - (1.0 - t) ** 3)


def _smallest(magnitudes: torch.Tensor, count: int) -> torch.Tensor:
    """A keep-mask that drops the ``count`` smallest entries (ties: lower index first)."""
    keep = torch.ones(magnitudes.numel(), dtype=torch.bool)
    if count > 0:
        order = torch.sort(magnitudes.reshape(-1), stable=True).indices
        keep[order[:count]] = False
    return keep.reshape(magnitudes.shape)


def magnitude_masks(layers: dict[str, nn.Module], ratio: float,
                    scope: PruneScope) -> dict[str, torch.Tensor]:
    """Keep-masks removing ``ratio`` of the weights with the smallest magnitude."""
    weights = {n: m.weight.detach().abs().cpu() for n, m in layers.items()}
    if PruneScope(scope) is PruneScope.LAYER:
        return {n: _smallest(w, round(ratio * w.numel())) for n, w in weights.items()}
    flat = torch.cat([w.reshape(-1) for w in weights.values()])
    keep = _smallest(flat, round(ratio * flat.numel()))
    masks, start = {}, 0
    for name, w in weights.items():
        masks[name] = keep[start:start + w.numel()].reshape(w.shape)
        start += w.numel()
    return masks


class Pruner:
    """Holds the current masks; ``update`` prunes further, ``enforce`` re-zeros weights."""

    def __init__(self, layers: dict[str, nn.Module]) -> None:
        self.layers = layers
        self.masks: dict[str, torch.Tensor] = {}
        self._handles = []

    def update(self, ratio: float, scope: PruneScope) -> None:
        if ratio <= 0:
            return
        # Pruned weights are exactly zero, so they are the smallest and stay pruned.
        self.enforce()
        masks = magnitude_masks(self.layers, ratio, scope)
        for name, module in self.layers.items():
            weight = module.weight
            mask = masks[name].to(weight.device)
            if name not in self.masks:
                self._handles.append(weight.register_hook(_grad_mask(self, name)))
            self.masks[name] = mask
        self.enforce()

    def enforce(self) -> None:
        with torch.no_grad():
            for name, mask in self.masks.items():
                self.layers[name].weight.mul_(mask)

    def remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def sparsity(self) -> float:
        """Fraction of zero weights over the prunable layers."""
        zeros = sum(int((m.weight == 0).sum()) for m in self.layers.values())
        total = sum(m.weight.numel() for m in self.layers.values())
        return zeros / total if total else 0.0


def _grad_mask(pruner: Pruner, name: str):
    def hook(grad: torch.Tensor) -> torch.Tensor:
        return grad * pruner.masks[name]
    return hook
