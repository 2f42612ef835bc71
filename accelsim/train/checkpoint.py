"""Checkpoints as plain data: an ``.npz`` of state-dict arrays plus a ``__meta__`` member
(UTF-8 JSON: model, recipe, held-out accuracy, data split), written atomically with fixed
zip timestamps so the same weights give the same bytes. ``accelsim.models.load_weights``
reads them; ``accelsim trace record`` copies the meta into the trace manifest."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
from torch import nn

from accelsim.atomic import atomic_output, write_text_atomic
from accelsim.models.weights import META_KEY
from accelsim.npz import write_npz


def save_checkpoint(path: str | os.PathLike[str], model: nn.Module,
                    meta: dict[str, Any]) -> None:
    members = [(key, value.detach().cpu().numpy()) for key, value in
               model.state_dict().items()]
    text = json.dumps(meta, sort_keys=True).encode("utf-8")
    members.append((META_KEY, np.frombuffer(text, dtype=np.uint8)))
    with atomic_output(path) as handle:
        write_npz(handle, members)


def write_log(path: str | os.PathLike[str], log: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(log, indent=1, sort_keys=True) + "\n")
