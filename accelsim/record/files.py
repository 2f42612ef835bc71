"""``record_from_files``: what ``accelsim trace record`` does, as a library call.

Builds a zoo model, loads its weights (any state-dict file; an accelsim checkpoint also
brings its recipe and held-out accuracy into the manifest), decodes ``images`` images of a
split (by default the first of each class in turn from the held-out split) and records.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from accelsim.models import build_model, load_weights, model_spec, read_checkpoint_meta
from accelsim.record.data import Preprocess, Split, load_images
from accelsim.record.hooks import RecordedProvenance, record_trace
from accelsim.workload.trace import Trace


@dataclass(frozen=True, slots=True)
class RecordRequest:
    model: str
    weights: Path
    data: Path
    images: int = 8
    split: Split = Split.HELDOUT
    dataset: str | None = None  # default: the model's dataset (cifar10, imagenet, ...)
    output_masks: bool = True
    threads: int = 1


def record_from_files(request: RecordRequest) -> Trace:
    torch.set_num_threads(request.threads)
    spec = model_spec(request.model)
    model = build_model(request.model)
    load_weights(model, request.weights)
    preprocess = Preprocess(spec.channels, spec.size, spec.mean, spec.std, spec.resize)
    chosen = load_images(request.data, preprocess, request.split).balanced(request.images)
    meta = read_checkpoint_meta(request.weights) or {}
    images = {"count": len(chosen), "split": request.split.value,
              "rule": request.split.describe(),
              "selection": "first image of each class in turn, in (class, file) order",
              "data": os.path.basename(request.data), "ids": list(chosen.ids)}
    notes = {"weights": os.path.basename(request.weights)}
    for key in ("init_weights", "data", "weight_sparsity", "heldout_act_sparsity"):
        if key in meta:
            notes[f"checkpoint_{key}"] = meta[key]
    provenance = RecordedProvenance(
        model=request.model, dataset=request.dataset or spec.dataset,
        recipe=meta.get("recipe"), accuracy=meta.get("accuracy"), images=images, notes=notes)
    with torch.no_grad():
        inputs = chosen.normalised(preprocess)
    return record_trace(model, inputs, provenance, output_masks=request.output_masks)
