"""Loading state dicts from ``.npz`` (the shared akamaster copies, accelsim checkpoints) and
PyTorch ``.th``/``.pt``/``.pth`` files (``weights_only``: never unpickles code).

accelsim's own checkpoints are ``.npz`` files of state-dict arrays plus one ``__meta__``
member (UTF-8 JSON: recipe, accuracy, data split), so a checkpoint is plain data and its
bytes are reproducible.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from accelsim.errors import AccelsimError

META_KEY = "__meta__"
_TORCH_SUFFIXES = (".th", ".pt", ".pth", ".tar")
_BN_COUNTER = ".num_batches_tracked"


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The state dict stored in ``path``, with any DataParallel ``module.`` prefix removed."""
    file = os.fspath(path)
    if not os.path.isfile(file):
        raise AccelsimError("no such weights file", file=file)
    if file.endswith(".npz"):
        state = _read_npz(file)
    elif file.endswith(_TORCH_SUFFIXES):
        state = _read_torch(file)
    else:
        raise AccelsimError("weights: expected a .npz, .th, .pt or .pth file", file=file)
    return {k.removeprefix("module."): v for k, v in state.items()}


def _read_npz(file: str) -> dict[str, torch.Tensor]:
    try:
        with np.load(file, allow_pickle=False) as archive:
            return {k: torch.from_numpy(np.array(archive[k])) for k in archive.files
                    if k != META_KEY}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise AccelsimError(f"not a readable .npz of arrays ({exc})", file=file) from None


def _read_torch(file: str) -> dict[str, torch.Tensor]:
    try:
        data = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AccelsimError(f"not a loadable PyTorch weights file ({message})",
                            file=file) from None
    if isinstance(data, Mapping) and isinstance(data.get("state_dict"), Mapping):
        data = data["state_dict"]
    if not isinstance(data, Mapping) or not all(isinstance(v, torch.Tensor)
                                                for v in data.values()):
        raise AccelsimError("expected a state dict (or {'state_dict': ...})", file=file)
    return dict(data)


def load_weights(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Copy the file's tensors into ``model``; every key and shape must match exactly."""
    file = os.fspath(path)
    state = read_state_dict(file)
    expected = model.state_dict()
    # Checkpoints from PyTorch < 0.4.1 (akamaster's) have no BatchNorm step counters; the
    # counter only matters for momentum=None, which these models do not use.
    missing = [k for k in expected if k not in state and not k.endswith(_BN_COUNTER)]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:3])}"
                         f"{' ...' if len(unexpected) > 3 else ''}")
        raise AccelsimError(f"weights do not fit the model: {'; '.join(parts)}", file=file)
    for key, tensor in expected.items():
        if key not in state:
            state[key] = tensor
        elif tuple(state[key].shape) != tuple(tensor.shape):
            raise AccelsimError(f"{key}: expected shape {list(tensor.shape)}, got "
                                f"{list(state[key].shape)}", file=file)
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})


def read_checkpoint_meta(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``__meta__`` JSON of an accelsim checkpoint, or None for other weight files."""
    file = os.fspath(path)
    if not file.endswith(".npz"):
        return None
    with np.load(file, allow_pickle=False) as archive:
        if META_KEY not in archive.files:
            return None
        return json.loads(archive[META_KEY].tobytes().decode("utf-8"))
