"""``run_training``: one ``accelsim train`` run from files to files.

Builds the model, loads the initial weights, splits the data (index mod 10: 0–7 fine-tune,
8–9 held out), trains by the recipe on ``threads`` CPU threads (or a given device), and
writes the checkpoint and the JSON log. The seed, the thread count and the input files
fix the result: two runs with the same ones write the same checkpoint bytes on CPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from accelsim.errors import AccelsimError
from accelsim.models import build_model, load_weights, model_spec
from accelsim.record.data import Preprocess, Split, load_images
from accelsim.train.checkpoint import save_checkpoint, write_log
from accelsim.train.loop import EpochLog, StepInfo, TrainData, train
from accelsim.train.recipe import Recipe


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Inputs and outputs of one run."""

    model: str
    data: Path
    output: Path
    recipe: Recipe
    weights: Path | None = None
    log: Path | None = None  # default: the checkpoint path with ``.json``
    threads: int = 1
    device: str = "cpu"

    @property
    def log_path(self) -> Path:
        return self.log if self.log is not None else self.output.with_suffix(".json")


@dataclass(frozen=True, slots=True)
class TrainResult:
    checkpoint: Path
    log: Path
    epochs: tuple[EpochLog, ...]

    @property
    def final(self) -> EpochLog:
        return self.epochs[-1]


def preprocess_for(model: str) -> Preprocess:
    spec = model_spec(model)
    return Preprocess(spec.channels, spec.size, spec.mean, spec.std, spec.resize)


def run_training(config: TrainConfig, on_step: Callable[[StepInfo], None] | None = None,
                 on_epoch: Callable[[EpochLog], None] | None = None) -> TrainResult:
    _check_outputs(config)
    try:
        device = torch.device(config.device)
    except RuntimeError:
        raise AccelsimError(f"not a torch device: {config.device!r}", key="device") from None
    torch.set_num_threads(config.threads)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    preprocess = preprocess_for(config.model)
    model = build_model(config.model, seed=config.recipe.seed)
    if config.weights is not None:
        load_weights(model, config.weights)
    model.to(device)
    data = TrainData(load_images(config.data, preprocess, Split.TRAIN),
                     load_images(config.data, preprocess, Split.HELDOUT), preprocess)
    logs = train(model, config.recipe, data, device, on_step, on_epoch)
    meta = _meta(config, data, logs)
    save_checkpoint(config.output, model.cpu(), meta)
    write_log(config.log_path, {**meta, "epochs": [_epoch_dict(e) for e in logs]})
    return TrainResult(config.output, config.log_path, logs)


def _check_outputs(config: TrainConfig) -> None:
    """Fail on an unusable output path before spending minutes on training."""
    if config.output.suffix != ".npz":
        raise AccelsimError("checkpoints are .npz files: name the output *.npz",
                            file=config.output)
    for path in (config.output, config.log_path):
        if not path.parent.is_dir():
            raise AccelsimError("the output directory does not exist", file=path)


def _meta(config: TrainConfig, data: TrainData, logs: tuple[EpochLog, ...]) -> dict[str, Any]:
    final = logs[-1].heldout
    return {
        "model": config.model,
        "recipe": config.recipe.to_dict(),
        "init_weights": os.path.basename(config.weights) if config.weights else None,
        "data": {"file": os.path.basename(config.data), "train": Split.TRAIN.describe(),
                 "train_images": len(data.train), "heldout": Split.HELDOUT.describe(),
                 "heldout_images": len(data.heldout)},
        "accuracy": {"top1": final.accuracy, "split": Split.HELDOUT.describe(),
                     "images": len(data.heldout)},
        "heldout_act_sparsity": final.act_sparsity,
        "weight_sparsity": final.weight_sparsity,
        "threads": config.threads,
        "device": config.device,
        "torch": torch.__version__,
    }


def _epoch_dict(log: EpochLog) -> dict[str, Any]:
    data = asdict(log)
    data.pop("seconds")  # wall time varies: kept out so logs are reproducible too
    return data
