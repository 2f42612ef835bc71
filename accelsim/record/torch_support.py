"""The one place that imports PyTorch for the optional ``torch`` extra.

The simulator never needs torch; only recording and training do. Importing torch through
``require_torch`` turns a missing install into one ``AccelsimError`` line that says how to
get it, instead of a ``ModuleNotFoundError`` traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from accelsim.errors import AccelsimError

INSTALL_HINT = "pip install 'accelsim[torch]'"


def require_torch() -> ModuleType:
    """``torch`` itself, or an ``AccelsimError`` naming the extra to install."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise AccelsimError(
            f"this command needs PyTorch, which is not installed: {INSTALL_HINT}") from None
