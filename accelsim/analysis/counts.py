"""What the nest analysis returns: access counts per (level, tensor), cycles and computes.

Counts are totals over all utilized instances of a level (exact integers); Timeloop reports
per-instance averages, which the ``*_per_instance`` properties give.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.arch.spec import Tensor
from accelsim.mapping.model import Mapping


@dataclass(frozen=True, slots=True)
class AccessCounts:
    """Dense accesses of one tensor at one storage level, Timeloop's definitions.

    ``reads`` serve the next inner level keeping the tensor (or the MACs); ``fills`` come
    from the next outer one; ``updates`` are partial sums written in (outputs only).
    ``child_deliveries`` counts words as received by the children: it exceeds ``reads`` by
    multicast (one read, several receivers) or, for outputs, exceeds ``updates`` by the
    additions of the spatial reduction.
    """

    level: str
    tensor: Tensor
    instances: int
    tile_words: int
    partition_words: int
    reads: int
    fills: int
    updates: int
    temporal_reductions: int
    child_deliveries: int

    @property
    def multicast_factor(self) -> float:
        """Children served per parent read (read-only tensors); 1.0 means unicast."""
        served = self.updates if self.tensor is Tensor.OUTPUTS else self.reads
        return self.child_deliveries / served if served else 1.0

    @property
    def spatial_reductions(self) -> int:
        """Partial-sum additions done in the network on the way in (outputs only)."""
        return self.child_deliveries - self.updates if self.tensor is Tensor.OUTPUTS else 0

    @property
    def reads_per_instance(self) -> float:
        return self.reads / self.instances

    @property
    def fills_per_instance(self) -> float:
        return self.fills / self.instances

    @property
    def updates_per_instance(self) -> float:
        return self.updates / self.instances

    @property
    def partition_per_instance(self) -> float:
        return self.partition_words / self.instances


@dataclass(frozen=True, slots=True)
class NestAnalysis:
    """Everything the dense nest analysis derives from (layer, architecture, mapping).

    ``cycles`` assume unconstrained bandwidth: one cycle per temporal iteration of the nest,
    plus each fan-out's ``fill_drain_cycles`` per pass over it.
    """

    layer: str
    mapping: Mapping
    cycles: int
    computes: int
    utilized_macs: int
    available_macs: int
    counts: tuple[AccessCounts, ...]

    def get(self, level: str, tensor: Tensor) -> AccessCounts:
        for count in self.counts:
            if count.level == level and count.tensor is tensor:
                return count
        raise KeyError((level, tensor))

    def at_level(self, level: str) -> tuple[AccessCounts, ...]:
        return tuple(c for c in self.counts if c.level == level)

    @property
    def utilization(self) -> float:
        """Fraction of the MAC array busy over the layer."""
        return self.computes / (self.cycles * self.available_macs)
