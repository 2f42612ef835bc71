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
    from accelsim.sparsity.formats import CompressionSpec


class Tensor(str, Enum):
    """The three data spaces of a convolution."""

    WEIGHTS = "weights"
    INPUTS = "inputs"
    OUTPUTS = "outputs"


ALL_TENSORS = frozenset(Tensor)

DATAFLOW_NAMES = ("row_stationary", "weight_stationary", "output_stationary",
                  "input_stationary")
"""The dataflow templates an architecture may name as its default (``dataflow:``)."""


class Policy(str, Enum):
    """What the hardware does with an action whose operand is zero: nothing, gate it (the
    unit idles: energy saved, cycle not), or skip it (neither energy nor the cycle spent)."""

    NONE = "none"
    GATE = "gate"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class SparseAction:
    """Gate or skip ``target``'s accesses at a level (``None``: the MACs themselves) when
    any tensor of ``condition_on`` is zero at the coordinates the access serves.

    Sparseloop's ``action_optimization``: at Eyeriss's weights_spad, ``gate`` weights on
    ``{inputs}`` (a weight read whose input activation is zero is gated); at the MACs,
    ``skip`` on ``{inputs, weights}`` performs only effectual MACs. A tensor may condition
    on itself (skip reading its own zeros, as a compressed format allows).
    """

    kind: Policy
    target: Tensor | None
    condition_on: frozenset[Tensor]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Policy(self.kind))
        if self.target is not None:
            object.__setattr__(self, "target", Tensor(self.target))
        object.__setattr__(self, "condition_on", frozenset(Tensor(t) for t in self.condition_on))
        if self.kind is Policy.NONE:
            raise ValueError("a SparseAction gates or skips; 'none' is no action")
        if not self.condition_on:
            raise ValueError("a SparseAction needs at least one tensor to condition on")


@dataclass(frozen=True, slots=True)
class SparseFeatures:
    """The sparse actions of one component (a storage level or the compute units); the
    default, no actions, is dense hardware. At most one action per kind and target."""

    actions: tuple[SparseAction, ...] = ()

    def policy(self, target: Tensor | None) -> Policy:
        """``skip`` if any action skips ``target``, else ``gate`` if one gates it."""
        kinds = {action.kind for action in self.actions if action.target == target}
        return Policy.SKIP if Policy.SKIP in kinds else \
            Policy.GATE if Policy.GATE in kinds else Policy.NONE

    def condition_on(self, target: Tensor | None, kind: Policy) -> frozenset[Tensor]:
        """The tensors on whose zeros ``target`` is gated (``kind`` gate) or skipped (skip);
        empty when no such action exists."""
        for action in self.actions:
            if action.target == target and action.kind is kind:
                return action.condition_on
        return frozenset()

    def __bool__(self) -> bool:
        return bool(self.actions)


@dataclass(frozen=True, slots=True)
class Fanout:
    """Copies of the next-inner level per instance of this one, as an X × Y mesh.

    ``fill_drain_cycles``: cycles each pass over the mesh costs beyond its MACs — a systolic
    array's pipeline fill and drain (docs/model.md §3). A pass is one iteration of the
    temporal loops at this level and above; 0 (Timeloop's model) adds nothing.
    """

    x: int = 1
    y: int = 1
    fill_drain_cycles: int = 0

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
    compression: tuple[tuple[Tensor, CompressionSpec], ...] = ()
    """Formats of the tensors stored compressed here; a tensor left out is ``none``."""
    sparse: SparseFeatures = SparseFeatures()

    def compression_of(self, tensor: Tensor) -> CompressionSpec:
        """``tensor``'s format here; uncompressed words of ``word_bits`` when not given."""
        # Imported here, not at the top: accelsim.sparsity may import the architecture.
        from accelsim.sparsity.formats import CompressionSpec, Format

        for kept, spec in self.compression:
            if kept is tensor:
                return spec
        return CompressionSpec(Format.NONE, value_bits=self.word_bits)

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
    sparse: SparseFeatures = SparseFeatures()
    """Actions with ``target`` ``None``: MACs gated or skipped on zero operands."""


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

    def sparse_features(self, name: str) -> SparseFeatures:
        """The sparse actions of the level or compute units called ``name``."""
        if name == self.compute.name:
            return self.compute.sparse
        return self.level(name).sparse

    def level_index(self, name: str) -> int:
        for index, level in enumerate(self.levels):
            if level.name == name:
                return index
        raise KeyError(name)
