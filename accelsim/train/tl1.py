"""Transformed ℓ1 (TL1) and the activation penalty of dual sparse training.

TL1(x) = (a + 1)|x| / (a + |x|) is 0 at 0, has slope (a + 1)/a there and tends to a + 1 for
large |x|: it pushes small activations to exactly zero (after the ReLU) without shrinking
large ones as ℓ1 would. It interpolates between ℓ1 (a → ∞) and ℓ0 (a → 0); its derivative
is a(a + 1)/(a + |x|)² · sign(x).

The penalty is collected by forward-pre-hooks on every ``Conv2d``: the tensor a conv reads
is exactly the activation whose zeros the accelerator skips. Inputs that need no gradient
(the image into the first conv) are constant and left out.
"""

from __future__ import annotations

import torch
from torch import nn

from accelsim.train.recipe import Normalisation


def tl1(x: torch.Tensor, a: float) -> torch.Tensor:
    """Element-wise TL1 with shape parameter ``a > 0``."""
    magnitude = x.abs()
    return (a + 1.0) * magnitude / (a + magnitude)


class ActivationPenalty:
    """Sums TL1 of conv inputs during a forward pass; also counts their zeros.

    Use as a context manager around the forward passes it should see; ``take()`` returns
    the penalty of the passes since the last ``take`` and resets it.
    """

    def __init__(self, model: nn.Module, a: float, normalisation: Normalisation,
                 enabled: bool = True, count_zeros: bool = False) -> None:
        self.model = model
        self.a = a
        self.normalisation = Normalisation(normalisation)
        self.enabled = enabled
        self.count_zeros = count_zeros
        self._terms: list[torch.Tensor] = []
        self._elements = 0
        self.zeros = 0
        self.elements = 0
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> ActivationPenalty:
        for module in self.model.modules():
            if isinstance(module, nn.Conv2d):
                self._handles.append(module.register_forward_pre_hook(self._hook))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        x = args[0]
        if self.count_zeros:
            self.zeros += int(x.numel() - torch.count_nonzero(x))
            self.elements += x.numel()
        if not (self.enabled and x.requires_grad):
            return
        value = tl1(x, self.a)
        if self.normalisation is Normalisation.MEAN:
            self._terms.append(value.mean())
        else:
            self._terms.append(value.sum())
            self._elements += x.numel()

    def take(self) -> torch.Tensor:
        """The penalty of the forward passes since the last call (a scalar tensor)."""
        terms, elements = self._terms, self._elements
        self._terms, self._elements = [], 0
        if not terms:
            return torch.zeros(())
        total = torch.stack(terms).sum()
        return total / elements if self.normalisation is Normalisation.ELEMENTS else total

    def take_sparsity(self) -> float:
        """Fraction of zeros among conv inputs seen since the last call (element-weighted)."""
        zeros, elements = self.zeros, self.elements
        self.zeros = self.elements = 0
        return zeros / elements if elements else 0.0
