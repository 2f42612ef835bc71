"""Sparse action counts in Sparseloop's vocabulary: algorithmic, actual, gated, skipped.

The nest analysis gives the *algorithmic* (dense) accesses and computes. The masks, through
``tile_work``, give how many of the MACs the array performs have a non-zero input, a non-zero
weight, or both. An architecture's sparse actions (``SparseFeatures``) then split each count:

- at the MACs, ``gate`` on a set of operands turns the MACs with a zero in that set into
  *gated* computes (energy of a gated compute, same cycle), ``skip`` into *skipped* ones
  (no energy, no cycle — the schedule shortens the tiles);
- at a storage level, an action on ``target`` conditioned on a set of operands splits the
  level's *reads* of ``target`` (and, for outputs, its updates) in the proportion of the MACs
  they serve whose condition operands are all non-zero. That proportion is exact where one
  read serves one MAC (the innermost scratchpads, where Sparseloop's Eyeriss gates) and an
  average elsewhere. Fills are never gated: data arrives whether or not it will be used.

Only declared actions change anything; a skipping MAC does not by itself skip the reads that
would have fed it — declare those at the levels, as Sparseloop does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from accelsim.analysis.counts import NestAnalysis
from accelsim.arch.spec import Architecture, Policy, SparseFeatures, Tensor
from accelsim.energy.counts import ActionCount, ActionCounts, leak_counts
from accelsim.energy.table import Action


@dataclass(frozen=True, slots=True)
class MacTotals:
    """Σ over tiles and units of ``tile_work``'s four counts (one layer, all groups)."""

    dense: int
    input_nonzero: int
    weight_nonzero: int
    effectual: int

    @classmethod
    def all_effectual(cls, macs: int) -> MacTotals:
        """Every operand non-zero: the dense accounting."""
        return cls(macs, macs, macs, macs)

    def passing(self, condition_on: frozenset[Tensor]) -> int:
        """MACs whose operands in ``condition_on`` are all non-zero."""
        inputs, weights = Tensor.INPUTS in condition_on, Tensor.WEIGHTS in condition_on
        if inputs and weights:
            return self.effectual
        if inputs:
            return self.input_nonzero
        if weights:
            return self.weight_nonzero
        return self.dense


@dataclass(frozen=True, slots=True)
class SparseCount:
    """One kind of action of one component on one tensor (``None``: the MACs)."""

    component: str
    tensor: Tensor | None
    access: str  # "read", "fill", "update" or "compute"
    algorithmic: int
    actual: int
    gated: int
    skipped: int

    def to_dict(self) -> dict[str, object]:
        return {"component": self.component,
                "tensor": None if self.tensor is None else self.tensor.value,
                "access": self.access, "algorithmic": self.algorithmic, "actual": self.actual,
                "gated": self.gated, "skipped": self.skipped}


_ACTIONS = {
    ("read", False): Action.READ, ("read", True): Action.GATED_READ,
    ("fill", False): Action.WRITE, ("fill", True): Action.GATED_WRITE,
    ("update", False): Action.UPDATE, ("update", True): Action.GATED_UPDATE,
    ("compute", False): Action.COMPUTE, ("compute", True): Action.GATED_COMPUTE,
}


def _split(count: int, features: SparseFeatures, target: Tensor | None,
           totals: MacTotals) -> tuple[int, int, int]:
    """(actual, gated, skipped) of ``count`` actions under ``features`` for ``target``."""
    policy = features.policy(target)
    if policy is Policy.NONE or count == 0 or totals.dense == 0:
        return count, 0, 0
    passing = totals.passing(features.condition_on(target, policy))
    actual = (count * passing + totals.dense // 2) // totals.dense
    spared = count - actual
    return (actual, spared, 0) if policy is Policy.GATE else (actual, 0, spared)


def _compressed_split(count: int, density: float) -> tuple[int, int, int]:
    """A compressed tensor moves only its non-zero values: (actual, 0, skipped)."""
    actual = round(count * density)
    return actual, 0, count - actual


def sparse_counts(analysis: NestAnalysis, arch: Architecture, totals: MacTotals,
                  densities: Mapping[Tensor, float] | None = None
                  ) -> tuple[SparseCount, ...]:
    """Every access and compute of one layer, split by the architecture's sparse actions.

    ``densities`` (of the tensors whose masks the trace has) make a tensor that a level
    stores compressed move only its non-zero values there: its fills and updates, and its
    reads unless an explicit action splits them, become ``actual`` = algorithmic × density,
    the rest ``skipped`` (zeros never moved). The metadata is in the traffic bytes the
    schedule times, not in these counts (Sparseloop counts it apart and prices DRAM's at 0).
    """
    densities = densities or {}
    rows = []
    compute = arch.compute
    actual, gated, skipped = _split(analysis.computes, compute.sparse, None, totals)
    rows.append(SparseCount(compute.name, None, "compute", analysis.computes, actual, gated,
                            skipped))
    for count in analysis.counts:
        level = arch.level(count.level)
        features = level.sparse
        density = densities.get(count.tensor) \
            if level.compression_of(count.tensor).is_compressed else None
        for access, value in (("read", count.reads), ("fill", count.fills),
                              ("update", count.updates)):
            if not value:
                continue
            gateable = access == "read" or (access == "update" and
                                            count.tensor is Tensor.OUTPUTS)
            if gateable and features.policy(count.tensor) is not Policy.NONE:
                split = _split(value, features, count.tensor, totals)
            elif density is not None:
                split = _compressed_split(value, density)
            else:
                split = (value, 0, 0)
            rows.append(SparseCount(count.level, count.tensor, access, value, *split))
    return tuple(rows)


def energy_actions(rows: tuple[SparseCount, ...], analysis: NestAnalysis,
                   cycles: int) -> ActionCounts:
    """Actual actions at full price, gated ones at the gated price, skipped ones free, plus
    leakage of each level's utilized instances over ``cycles`` (none on the MACs)."""
    items = []
    for row in rows:
        for gated, value in ((False, row.actual), (True, row.gated)):
            if value:
                items.append(ActionCount(row.component, _ACTIONS[(row.access, gated)], value,
                                         row.tensor))
    instances: dict[str, int] = {}
    for count in analysis.counts:
        instances.setdefault(count.level, count.instances)
    items.extend(leak_counts(instances, cycles))
    return ActionCounts.of(items)
