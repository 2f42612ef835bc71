"""Action counts: what the simulated hardware did, in the units the energy table prices.

Accesses are counted in words (Timeloop's "scalar" reads, fills, updates, summed over
instances), computes in MACs, and leakage in instance-cycles (instances × cycles), so
that every energy is ``count × pJ per count`` and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accelsim.energy.table import Action

if TYPE_CHECKING:
    from accelsim.arch.spec import Tensor


@dataclass(frozen=True, slots=True)
class ActionCount:
    """``count`` actions of one kind by one component, for one tensor where it applies."""

    component: str
    action: Action
    count: float
    tensor: Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.action, Action):
            raise TypeError(f"action must be an Action, got {self.action!r}")
        if isinstance(self.count, bool) or not isinstance(self.count, int | float) or \
                not math.isfinite(self.count) or self.count < 0:
            raise ValueError(f"{self.component} {self.action.value}: count must be a finite "
                             f"number ≥ 0, got {self.count!r}")


@dataclass(frozen=True, slots=True)
class ActionCounts:
    """All counted actions of one run (one layer, or a whole network)."""

    items: tuple[ActionCount, ...] = ()

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __add__(self, other: ActionCounts) -> ActionCounts:
        return ActionCounts(self.items + other.items)

    @classmethod
    def of(cls, items: Iterable[ActionCount]) -> ActionCounts:
        return cls(tuple(items))


def leak_counts(instances: Mapping[str, int], cycles: int) -> tuple[ActionCount, ...]:
    """Leakage of each component: ``instances[name] × cycles`` instance-cycles.

    Timeloop charges leakage on the *utilized* instances of each storage level and none on
    arithmetic units; pass the instance counts that match the comparison you make.
    """
    return tuple(ActionCount(name, Action.LEAK, count * cycles)
                 for name, count in instances.items())
