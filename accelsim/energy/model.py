"""``energy(counts, table)``: Σ count × pJ per count, broken down by component, tensor and
action. A pure function — no state, nothing read or written — so any count source (nest
analysis, the timing engine, a test typing in Timeloop's numbers) gets the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from accelsim.energy.counts import ActionCounts
from accelsim.energy.table import Action, EnergyTable

if TYPE_CHECKING:
    from accelsim.arch.spec import Tensor


@dataclass(frozen=True, slots=True)
class EnergyTerm:
    """One line of the sum: ``count`` × ``pj_each`` = ``energy_pj``."""

    component: str
    action: Action
    tensor: Tensor | None
    count: float
    pj_each: float
    energy_pj: float


@dataclass(frozen=True, slots=True)
class EnergyBreakdown:
    """The total and its splits; every split sums to ``total_pj``.

    ``by_tensor`` has the key ``None`` for what belongs to no tensor (computes, leakage).
    """

    total_pj: float
    by_component: Mapping[str, float]
    by_tensor: Mapping[Tensor | None, float]
    by_action: Mapping[Action, float]
    terms: tuple[EnergyTerm, ...]

    @property
    def total_uj(self) -> float:
        return self.total_pj * 1e-6

    @property
    def leakage_pj(self) -> float:
        return self.by_action.get(Action.LEAK, 0.0)

    def component_pj(self, component: str, action: Action | None = None) -> float:
        """Energy of one component, or of one of its actions."""
        return math.fsum(term.energy_pj for term in self.terms if term.component == component
                         and (action is None or term.action == action))

    def tensor_pj(self, component: str, tensor: Tensor | None) -> float:
        """Energy of one component for one tensor (``None``: computes and leakage)."""
        return math.fsum(term.energy_pj for term in self.terms
                         if term.component == component and term.tensor == tensor)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports (tensor ``None`` shown as ``"none"``)."""
        return {
            "total_pj": self.total_pj,
            "by_component": dict(self.by_component),
            "by_tensor": {_text(key): value for key, value in self.by_tensor.items()},
            "by_action": {action.value: value for action, value in self.by_action.items()},
        }


def energy(counts: ActionCounts, table: EnergyTable) -> EnergyBreakdown:
    """Price every counted action with ``table``; a component missing from it is a KeyError."""
    components = {entry.name: entry for entry in table.components}
    terms = []
    for item in counts:
        # a component missing from the table: ``table.component`` raises, naming the known
        entry = components.get(item.component) or table.component(item.component)
        pj_each = entry.pj_per_count(item.action, item.tensor)
        terms.append(EnergyTerm(item.component, item.action, item.tensor, item.count,
                                pj_each, item.count * pj_each))
    order = {name: index for index, name in enumerate(table.names)}
    terms.sort(key=lambda t: (order[t.component], _ACTION_ORDER[t.action], _text(t.tensor)))
    return EnergyBreakdown(
        total_pj=math.fsum(term.energy_pj for term in terms),
        by_component=_sum_by(terms, lambda t: t.component),
        by_tensor=_sum_by(terms, lambda t: t.tensor),
        by_action=_sum_by(terms, lambda t: t.action),
        terms=tuple(terms),
    )


_ACTION_ORDER = {action: index for index, action in enumerate(Action)}


def _sum_by(terms: list[EnergyTerm], key: Callable[[EnergyTerm], Hashable]
            ) -> Mapping[Any, float]:
    groups: dict[Any, list[float]] = {}
    for term in terms:
        groups.setdefault(key(term), []).append(term.energy_pj)
    return MappingProxyType({name: math.fsum(values) for name, values in groups.items()})


def _text(tensor: Any) -> str:
    return "none" if tensor is None else str(getattr(tensor, "value", tensor))
