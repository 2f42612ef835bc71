"""The training loop of dual sparse training: SGD with momentum and a cosine learning
rate, loss = cross-entropy + λ(t)·TL1 penalty + ℓ1 on the prunable weights (until the
pruning masks freeze), magnitude pruning on the recipe's schedule, and a held-out
evaluation (accuracy, activation sparsity, weight sparsity) after every epoch.

Everything random comes from one ``torch.Generator`` seeded by the recipe (shuffling,
augmentation), so a run is a function of (recipe, initial weights, data, thread count).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from accelsim.record.data import ImageSet, Preprocess, normalise
from accelsim.train.augment import crop_and_flip
from accelsim.train.prune import Pruner, cubic_sparsity, prunable_layers
from accelsim.train.recipe import PruneSchedule, Recipe
from accelsim.train.tl1 import ActivationPenalty

EVAL_BATCH = 500


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Held-out accuracy, zeros among all conv inputs (element-weighted), zero weights."""

    accuracy: float
    act_sparsity: float
    weight_sparsity: float


@dataclass(frozen=True, slots=True)
class EpochLog:
    """One epoch's averages over its steps and the held-out evaluation after it.

    Epoch 0 is the starting model (no training terms)."""

    epoch: int
    lr: float | None
    lam: float | None
    prune_ratio: float | None
    loss_total: float | None
    loss_ce: float | None
    penalty_tl1: float | None  # unweighted: multiply by lam for its share of the loss
    loss_weight_l1: float | None
    train_accuracy: float | None
    heldout: Evaluation
    seconds: float


@dataclass(frozen=True, slots=True)
class TrainData:
    train: ImageSet
    heldout: ImageSet
    preprocess: Preprocess


@dataclass(frozen=True, slots=True)
class StepInfo:
    epoch: int
    step: int
    steps: int
    loss: float


def weight_sparsity(model: nn.Module) -> float:
    """Fraction of zero weights over all Conv2d and Linear layers."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    zeros = sum(int((m.weight == 0).sum()) for m in layers)
    return zeros / sum(m.weight.numel() for m in layers)


def evaluate(model: nn.Module, images: ImageSet, preprocess: Preprocess,
             device: torch.device) -> Evaluation:
    was_training = model.training
    model.eval()
    correct = 0
    with torch.no_grad(), ActivationPenalty(model, 1.0, "mean", enabled=False,
                                                      count_zeros=True) as counter:
        for start in range(0, len(images), EVAL_BATCH):
            batch = normalise(images.pixels[start:start + EVAL_BATCH], preprocess).to(device)
            labels = torch.as_tensor(images.labels[start:start + EVAL_BATCH]).to(device)
            correct += int((model(batch).argmax(1) == labels).sum())
        sparsity = counter.take_sparsity()
    model.train(was_training)
    return Evaluation(correct / len(images), sparsity, weight_sparsity(model))


class _Schedule:
    """Learning rate, λ and pruning ratio as functions of training progress."""

    def __init__(self, recipe: Recipe, steps_per_epoch: int) -> None:
        self.recipe = recipe
        self.steps_per_epoch = steps_per_epoch
        self.total = recipe.epochs * steps_per_epoch

    def lr(self, step: int) -> float:
        return self.recipe.lr * 0.5 * (1.0 + math.cos(math.pi * step / self.total))

    def prune_ratio(self, step: int) -> float | None:
        """The ratio to prune to before ``step``, or None when the masks stay as they are."""
        recipe = self.recipe
        if recipe.prune_ratio <= 0:
            return None
        start = round(recipe.prune_start_epoch * self.steps_per_epoch)
        if recipe.prune_schedule is PruneSchedule.ONESHOT:
            return recipe.prune_ratio if step == min(start, self.total - 1) else None
        end = round(recipe.prune_end_epoch * self.steps_per_epoch)
        if step < start or step > end:
            return None
        if step == end or (step - start) % recipe.prune_every_steps == 0:
            return cubic_sparsity((step - start) / max(end - start, 1), recipe.prune_ratio)
        return None

    def masks_frozen(self, step: int) -> bool:
        if self.recipe.prune_ratio <= 0:
            return False
        return step >= round(self.recipe.prune_end * self.steps_per_epoch)


def train(model: nn.Module, recipe: Recipe, data: TrainData, device: torch.device,
          on_step: Callable[[StepInfo], None] | None = None,
          on_epoch: Callable[[EpochLog], None] | None = None) -> tuple[EpochLog, ...]:
    """Fine-tune ``model`` in place by ``recipe``; returns the per-epoch log."""
    generator = torch.Generator().manual_seed(recipe.seed)
    started = time.perf_counter()
    logs = [EpochLog(0, None, None, None, None, None, None, None, None,
                     evaluate(model, data.heldout, data.preprocess, device),
                     time.perf_counter() - started)]
    if on_epoch:
        on_epoch(logs[0])
    count = len(data.train)
    steps = max(1, count // recipe.batch_size)  # drop the last partial batch
    schedule = _Schedule(recipe, steps)
    pruner = Pruner(prunable_layers(model, recipe.prune_first_conv))
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                weight_decay=recipe.weight_decay)
    pixels = torch.as_tensor(data.train.pixels)
    labels = torch.as_tensor(data.train.labels)
    padding = max(1, data.preprocess.size // 8)
    current_ratio = 0.0
    with ActivationPenalty(model, recipe.a, recipe.normalisation,
                           enabled=recipe.uses_tl1) as penalty:
        for epoch in range(1, recipe.epochs + 1):
            model.train()
            started = time.perf_counter()
            order = torch.randperm(count, generator=generator)
            sums = dict.fromkeys(("total", "ce", "tl1", "l1"), 0.0)
            correct = seen = 0
            for index in range(steps):
                step = (epoch - 1) * steps + index
                ratio = schedule.prune_ratio(step)
                if ratio is not None:
                    pruner.update(ratio, recipe.prune_scope)
                    current_ratio = ratio
                chosen = order[index * recipe.batch_size:(index + 1) * recipe.batch_size]
                batch = crop_and_flip(pixels[chosen], generator, padding)
                inputs = normalise(batch, data.preprocess).to(device)
                targets = labels[chosen].to(device)
                for group in optimizer.param_groups:
                    group["lr"] = schedule.lr(step)
                lam = recipe.lam_at(step / steps)
                logits = model(inputs)
                ce = F.cross_entropy(logits, targets)
                tl1_value = penalty.take()
                l1 = _weight_l1(pruner, recipe, schedule.masks_frozen(step))
                loss = ce + lam * tl1_value.to(ce.device) + l1
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                pruner.enforce()
                sums["total"] += loss.item()
                sums["ce"] += ce.item()
                sums["tl1"] += tl1_value.item()
                sums["l1"] += l1.item()
                correct += int((logits.argmax(1) == targets).sum())
                seen += len(targets)
                if on_step:
                    on_step(StepInfo(epoch, index + 1, steps, loss.item()))
            log = EpochLog(
                epoch=epoch, lr=schedule.lr(epoch * steps - 1), lam=recipe.lam_at(epoch),
                prune_ratio=current_ratio if recipe.prune_ratio > 0 else None,
                loss_total=sums["total"] / steps, loss_ce=sums["ce"] / steps,
                penalty_tl1=sums["tl1"] / steps, loss_weight_l1=sums["l1"] / steps,
                train_accuracy=correct / seen,
                heldout=evaluate(model, data.heldout, data.preprocess, device),
                seconds=time.perf_counter() - started)
            logs.append(log)
            if on_epoch:
                on_epoch(log)
    pruner.remove_hooks()
    return tuple(logs)


def _weight_l1(pruner: Pruner, recipe: Recipe, frozen: bool) -> torch.Tensor:
    """ℓ1 on the prunable weights, applied until the pruning masks freeze."""
    if recipe.weight_l1 <= 0 or frozen:
        return torch.zeros(())
    return recipe.weight_l1 * sum(m.weight.abs().sum() for m in pruner.layers.values())
