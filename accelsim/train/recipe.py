"""The training recipe: one frozen value that says everything a run does.

It is validated on construction (a bad option is one ``AccelsimError`` line naming it) and
echoed, whole, into the checkpoint, the JSON log and every trace recorded from the result.
Pure Python: importable without torch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from accelsim.errors import AccelsimError


class RecipeKind(str, Enum):
    DENSE = "dense"  # fine-tuning only (λ = 0, no pruning): the fair control
    TL1 = "tl1"  # TL1 on conv inputs
    TL1_PRUNE = "tl1_prune"  # TL1 + magnitude pruning
    PRUNE = "prune"  # magnitude pruning alone


class Normalisation(str, Enum):
    MEAN = "mean"  # mean of TL1 over each tensor, summed over layers
    ELEMENTS = "elements"  # sum over all penalised elements / their count


class PruneScope(str, Enum):
    LAYER = "layer"  # every pruned layer loses the same fraction
    GLOBAL = "global"  # one magnitude threshold across all pruned layers


class PruneSchedule(str, Enum):
    ONESHOT = "oneshot"  # all at once at prune_start
    CUBIC = "cubic"  # Zhu & Gupta 2017: s(t) = s_f (1 − (1 − t/T)^3), prune_start..prune_end


@dataclass(frozen=True, slots=True)
class Recipe:
    """What one training run does; epochs are counted from 0, fractions of epochs allowed."""

    kind: RecipeKind = RecipeKind.DENSE
    epochs: int = 10
    seed: int = 0
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 128
    a: float = 1.0
    lam: float = 0.0
    lam_warmup_epochs: float = 0.0
    normalisation: Normalisation = Normalisation.MEAN
    weight_l1: float = 0.0
    prune_ratio: float = 0.0
    prune_scope: PruneScope = PruneScope.LAYER
    prune_schedule: PruneSchedule = PruneSchedule.ONESHOT
    prune_start_epoch: float = 0.0
    prune_end_epoch: float = 0.0
    prune_every_steps: int = 8
    prune_first_conv: bool = False

    def __post_init__(self) -> None:
        for name, enum in (("kind", RecipeKind), ("normalisation", Normalisation),
                           ("prune_scope", PruneScope), ("prune_schedule", PruneSchedule)):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, enum(value))
            except ValueError:
                choices = ", ".join(e.value for e in enum)
                raise AccelsimError(f"expected one of {choices}, got {value!r}",
                                    key=name) from None
        self._check_numbers()
        self._check_kind()

    def _check_numbers(self) -> None:
        def need(ok: bool, key: str, what: str) -> None:
            if not ok:
                raise AccelsimError(f"expected {what}, got {getattr(self, key)!r}", key=key)

        for key in ("lr", "a", "lam", "lam_warmup_epochs", "weight_l1", "weight_decay",
                    "momentum", "prune_start_epoch", "prune_end_epoch"):
            value = getattr(self, key)
            need(isinstance(value, (int, float)) and not isinstance(value, bool)
                 and math.isfinite(value) and value >= 0, key, "a finite number >= 0")
        for key in ("epochs", "batch_size", "prune_every_steps"):
            value = getattr(self, key)
            need(isinstance(value, int) and not isinstance(value, bool) and value >= 1, key,
                 "a positive integer")
        need(self.lr > 0, "lr", "a learning rate > 0")
        need(self.a > 0, "a", "a > 0 (TL1's shape parameter)")
        need(0 <= self.prune_ratio < 1, "prune_ratio", "a fraction in [0, 1)")
        need(self.prune_start_epoch <= self.epochs, "prune_start_epoch",
             f"an epoch <= epochs ({self.epochs})")
        if self.prune_schedule is PruneSchedule.CUBIC:
            need(self.prune_start_epoch < self.prune_end_epoch <= self.epochs,
                 "prune_end_epoch", "an epoch after prune_start_epoch and <= epochs")

    def _check_kind(self) -> None:
        tl1 = self.kind in (RecipeKind.TL1, RecipeKind.TL1_PRUNE)
        prune = self.kind in (RecipeKind.PRUNE, RecipeKind.TL1_PRUNE)
        if tl1 != (self.lam > 0):
            raise AccelsimError(f"recipe {self.kind.value} needs "
                                f"{'lam > 0' if tl1 else 'lam = 0'}, got {self.lam}", key="lam")
        if prune != (self.prune_ratio > 0):
            raise AccelsimError(f"recipe {self.kind.value} needs "
                                f"{'prune > 0' if prune else 'prune = 0'}, got "
                                f"{self.prune_ratio}", key="prune_ratio")

    @property
    def uses_tl1(self) -> bool:
        return self.lam > 0

    @property
    def prune_end(self) -> float:
        """The epoch after which pruning masks are frozen."""
        if self.prune_schedule is PruneSchedule.ONESHOT:
            return self.prune_start_epoch
        return self.prune_end_epoch

    def lam_at(self, epoch_progress: float) -> float:
        """λ after ``epoch_progress`` epochs: a linear ramp over the warm-up, then constant."""
        if self.lam_warmup_epochs <= 0:
            return self.lam
        return self.lam * min(1.0, epoch_progress / self.lam_warmup_epochs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the manifest's names (``lambda``, ``a``, ``prune_ratio``)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Enum):
                data[key] = value.value
        data["lambda"] = data.pop("lam")
        data["schedule"] = data.pop("prune_schedule")
        return data
