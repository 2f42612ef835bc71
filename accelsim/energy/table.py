"""Energy per action (Accelergy's split): for every component, picojoules per read, write
(a fill), update (a read-modify-write of partial sums), their gated variants, per MAC
computed or gated, and leakage per instance per cycle.

Access energies are per *block*: ``block_words`` words move in one access, as in
Accelergy's energy reference tables and Timeloop's "vector access energy" (a 64-bit
buffer of 8-bit words reads 8 words for one 18.18 pJ access). Counts are in words, so one
word costs ``pJ / block_words``; that is how Timeloop turns vector into per-scalar energy
(``timeloop-mapper.stats.txt``: "Energy (per-scalar-access)"). A table written per word
has ``block_words = 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accelsim.arch.spec import Tensor


class Action(str, Enum):
    """What a component does once; each maps to one field of ``ActionEnergies``."""

    READ = "read"
    WRITE = "write"
    UPDATE = "update"
    GATED_READ = "gated_read"
    GATED_WRITE = "gated_write"
    GATED_UPDATE = "gated_update"
    COMPUTE = "compute"
    GATED_COMPUTE = "gated_compute"
    LEAK = "leak"

    @property
    def field_name(self) -> str:
        return "leak_pj_per_cycle" if self is Action.LEAK else f"{self.value}_pj"

    @property
    def is_access(self) -> bool:
        """A storage access, counted in words and charged per block."""
        return self not in (Action.COMPUTE, Action.GATED_COMPUTE, Action.LEAK)


def _pj(doc: str, unit: str = "pJ per access of one block") -> Any:
    return field(default=0.0, metadata={"doc": doc, "unit": unit})


@dataclass(frozen=True, slots=True)
class ActionEnergies:
    """Picojoules per action of one component. The field names are the YAML keys."""

    read_pj: float = _pj("A read (Timeloop: reads; Accelergy: read).")
    write_pj: float = _pj("A write that fills the level from its parent (Timeloop: fills).")
    update_pj: float = _pj("A write of a partial sum coming back from a child "
                           "(Timeloop: updates).")
    gated_read_pj: float = _pj("A read gated off by a zero operand (Sparseloop charges 0 when "
                               "its table gives none).")
    gated_write_pj: float = _pj("A gated write.")
    gated_update_pj: float = _pj("A gated update.")
    compute_pj: float = _pj("One multiply-accumulate (compute component only).", "pJ per MAC")
    gated_compute_pj: float = _pj("A multiply-accumulate gated off by a zero operand "
                                  "(compute component only).", "pJ per MAC")
    leak_pj_per_cycle: float = _pj("Leakage of one instance.", "pJ per instance per cycle")

    def of(self, action: Action) -> float:
        return getattr(self, action.field_name)

    def nonzero(self) -> dict[str, float]:
        """The fields that are not zero, by YAML key (for echoing a table)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


ACCESS_FIELDS = tuple(action.field_name for action in Action if action.is_access)


@dataclass(frozen=True, slots=True)
class ComponentEnergy:
    """The energies of one component (a storage level or the compute units).

    ``per_tensor`` overrides access energies for one tensor (e.g. a psum buffer whose
    outputs are wider words); other tensors use ``pj``.
    """

    name: str
    pj: ActionEnergies
    block_words: int = 1
    per_tensor: tuple[tuple[Tensor, ActionEnergies], ...] = ()

    def energies(self, tensor: Tensor | None = None) -> ActionEnergies:
        for key, energies in self.per_tensor:
            if key == tensor:
                return energies
        return self.pj

    def pj_per_count(self, action: Action, tensor: Tensor | None = None) -> float:
        """Energy of one counted unit: one word for accesses, one MAC, one instance-cycle."""
        value = self.energies(tensor).of(action)
        return value / self.block_words if action.is_access else value


@dataclass(frozen=True, slots=True)
class EnergyTable:
    """Energy per action for every component of one architecture, as used by ``energy``."""

    name: str
    components: tuple[ComponentEnergy, ...]
    source: str = ""

    def component(self, name: str) -> ComponentEnergy:
        for entry in self.components:
            if entry.name == name:
                return entry
        known = ", ".join(entry.name for entry in self.components)
        raise KeyError(f"energy table {self.name!r} has no component {name!r} "
                       f"(it has {known})")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.components)

    def leakage_pj_per_cycle(self, instances: Mapping[str, int]) -> float:
        """Leakage power of the chip, in pJ per cycle, for the given instance counts."""
        return sum(self.component(name).pj.leak_pj_per_cycle * count
                   for name, count in instances.items())

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports: every component's non-zero energies and block size."""
        components: dict[str, Any] = {}
        for entry in self.components:
            item: dict[str, Any] = {"block_words": entry.block_words, **entry.pj.nonzero()}
            if entry.per_tensor:
                item["per_tensor"] = {str(getattr(tensor, "value", tensor)): energies.nonzero()
                                      for tensor, energies in entry.per_tensor}
            components[entry.name] = item
        return {"name": self.name, "source": self.source, "components": components}
