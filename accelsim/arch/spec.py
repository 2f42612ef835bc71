"""The hardware as typed, validated values: storage levels from DRAM inward, the spatial
fan-out below each level, DRAM timing, the clock and the energy table.

Built from YAML by ``accelsim.arch.load_architecture`` (schema in docs/config.md); nothing
downstream ever sees the raw YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from math import prod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accelsim.energy.table import EnergyTable


class Tensor(str, Enum):
    """The three data spaces of a convolution."""

    WEIGHTS = "weights"
    INPUTS = "inputs"
    OUTPUTS = "outputs"


ALL_TENSORS = frozenset(Tensor)

DATAFLOW_NAMES = ("row_stationary", "weight_stationary", "output_stationary",
                  "input_stationary")
"""The dataflow templates an architecture may name as its default (``dataflow:``)."""


@dataclass(frozen=True, slots=True)
class Fanout:
    """Copies of the next-inner level per instance of this one, as an X × Y mesh."""

    x: int = 1
    y: int = 1

    @property
    def size(self) -> int:
        return self.x * self.y


@dataclass(frozen=True, slots=True)
class StorageLevel:
    """One storage level (DRAM, a global buffer, a per-PE scratchpad or register).

    ``depth`` × ``width_bits`` is the capacity; ``width_bits`` / ``word_bits`` words move in
    one access (Timeloop's block size). ``None`` depth or bandwidth means unbounded.
    """

    name: str
    keeps: frozenset[Tensor]
    word_bits: int
    width_bits: int
    depth: int | None = None
    banks: int = 1
    read_bandwidth_words_per_cycle: float | None = None
    write_bandwidth_words_per_cycle: float | None = None
    fanout: Fanout = field(default_factory=Fanout)
    is_dram: bool = False

    @property
    def block_words(self) -> int:
        return max(1, self.width_bits // self.word_bits)

    @property
    def capacity_words(self) -> int | None:
        if self.depth is None:
            return None
        return self.depth * self.width_bits // self.word_bits

    @property
    def capacity_bytes(self) -> int | None:
        if self.depth is None:
            return None
        return self.depth * self.width_bits // 8


@dataclass(frozen=True, slots=True)
class DramSpec:
    """The off-chip interface: one channel shared by reads and write-backs."""

    bandwidth_bytes_per_cycle: float
    latency_cycles: int = 0
    burst_bytes: int = 64


@dataclass(frozen=True, slots=True)
class ComputeSpec:
    """The multiply-accumulate units at the leaves of the hierarchy; ``name`` is their
    entry in the energy table."""

    macs_per_cycle: int = 1
    word_bits: int = 16
    name: str = "mac"


@dataclass(frozen=True, slots=True)
class Architecture:
    """A whole accelerator; ``levels[0]`` is DRAM, ``levels[-1]`` the innermost storage."""

    name: str
    clock_mhz: float
    levels: tuple[StorageLevel, ...]
    dram: DramSpec
    compute: ComputeSpec
    energy: EnergyTable | None = None
    dataflow: str | None = None
    source: str | None = None

    def instances(self, level_index: int) -> int:
        """How many copies of ``levels[level_index]`` exist (product of fan-outs above)."""
        return prod(level.fanout.size for level in self.levels[:level_index])

    @property
    def num_macs(self) -> int:
        """Multiply-accumulate units: the product of every fan-out (peak MACs per cycle is
        this times ``compute.macs_per_cycle``)."""
        return prod(level.fanout.size for level in self.levels)

    def level(self, name: str) -> StorageLevel:
        for level in self.levels:
            if level.name == name:
                return level
        raise KeyError(name)

    def level_index(self, name: str) -> int:
        for index, level in enumerate(self.levels):
            if level.name == name:
                return index
        raise KeyError(name)
