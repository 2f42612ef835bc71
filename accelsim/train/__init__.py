"""Dual sparse training (the optional ``torch`` extra): TL1 on the activations that feed
each conv, ℓ1 on the weights and magnitude pruning with frozen masks.

- ``recipe``      the frozen ``Recipe`` (what a run does), validated, echoed into manifests
- ``tl1``         the TL1 function and the activation penalty collected by conv pre-hooks
- ``prune``       magnitude masks (per layer or global), one-shot or Zhu & Gupta cubic
- ``augment``     seeded random crop + flip on uint8 batches
- ``loop``        the training loop: epochs, held-out evaluation, per-epoch log
- ``checkpoint``  ``.npz`` checkpoints with a ``__meta__`` JSON member, and the JSON log

Importing this package does not import torch; ``run_training`` does.
"""

from __future__ import annotations

import importlib
from typing import Any

from accelsim.record.torch_support import require_torch

_LAZY = {
    "Recipe": "accelsim.train.recipe",
    "RecipeKind": "accelsim.train.recipe",
    "run_training": "accelsim.train.run",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'accelsim.train' has no attribute {name!r}")
    if _LAZY[name] != "accelsim.train.recipe":
        require_torch()
    return getattr(importlib.import_module(_LAZY[name]), name)
