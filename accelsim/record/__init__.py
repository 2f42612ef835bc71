"""Recording traces from PyTorch models (the optional ``torch`` extra).

``record_trace(model, images, ...)`` runs a model on real inputs with forward-pre-hooks on
every ``Conv2d`` and ``Linear`` and returns a ``Trace``. ``accelsim.record.data`` loads
images (the CIFAR-10 JPEG zip or any ImageFolder directory, PIL only). Importing this
package does not import torch; the names below import it on first use, and without torch
they raise an ``AccelsimError`` that says ``pip install 'accelsim[torch]'``.
"""

from __future__ import annotations

import importlib
from typing import Any

from accelsim.record.torch_support import INSTALL_HINT, require_torch

_LAZY = {
    "record_trace": "accelsim.record.hooks",
    "RecordedProvenance": "accelsim.record.hooks",
    "RecordRequest": "accelsim.record.files",
    "record_from_files": "accelsim.record.files",
}

__all__ = ["INSTALL_HINT", "require_torch", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'accelsim.record' has no attribute {name!r}")
    require_torch()
    return getattr(importlib.import_module(_LAZY[name]), name)
