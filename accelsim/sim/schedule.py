"""From a mapping to the engine's tiles: what each tile of the outermost on-chip buffer
fetches, holds, computes and writes back.

The tiles are the iterations of the loops above the *boundary level* (the first level
below DRAM). Per tile:

- ``fill`` — words of the tensors the boundary level keeps that are new to it at this
  iteration (the nest analysis' deltas, ``analysis.tile_sequence``), plus an even share of
  the DRAM reads of every tensor that bypasses the boundary level (they stream past it);
- ``writeback`` — output words leaving the boundary level for DRAM (or the even share of
  DRAM updates when outputs bypass it);
- ``buffer`` / ``output_buffer`` — the boundary level's tile of inputs and weights / of
  outputs, in bytes;
- ``compute_cycles`` — the busiest MAC unit's work in this tile (``sparsity.work``: units
  synchronise at tile boundaries), counting every MAC unless the MACs *skip* zero operands,
  then only those with non-zero skipped operands; for a dense run this is the valid temporal
  iterations below the boundary, so the tiles add up to the nest analysis' cycles. Then
  stretched by the bandwidth throttle of the on-chip levels.

A dense run is a run with all-ones masks: the same schedule, the same engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil

import numpy as np

from accelsim.analysis.counts import NestAnalysis
from accelsim.analysis.tiles import tile_sequence
from accelsim.arch.spec import Architecture, Policy, Tensor
from accelsim.mapping.model import Mapping
from accelsim.sim.engine import TileWork
from accelsim.sparsity.work import TileWorkCounts
from accelsim.workload.layer import Layer

BOUNDARY_LEVEL = 1


@dataclass(frozen=True, slots=True)
class Schedule:
    """The tiles of one layer (all groups) and the throttle applied to their cycles."""

    tiles: tuple[TileWork, ...]
    throttle: Fraction
    dram_read_words: dict[Tensor, int]
    dram_write_words: dict[Tensor, int]


def bandwidth_throttle(analysis: NestAnalysis, arch: Architecture) -> Fraction:
    """How much on-chip bandwidth stretches compute: max over levels of words per instance
    per cycle over the level's bandwidth (≥ 1), Timeloop's 'bandwidth throttling'.

    DRAM is left out: its bandwidth is modelled by the engine's channel.
    """
    worst = Fraction(1)
    cycles = max(analysis.cycles, 1)
    for index, level in enumerate(arch.levels):
        if level.is_dram:
            continue
        counts = [c for c in analysis.counts if c.level == level.name]
        if not counts:
            continue
        instances = max(c.instances for c in counts)
        reads = sum(c.reads for c in counts)
        writes = sum(c.fills + c.updates for c in counts)
        for words, bandwidth in ((reads, level.read_bandwidth_words_per_cycle),
                                 (writes, level.write_bandwidth_words_per_cycle)):
            if bandwidth is None or not words:
                continue
            need = Fraction(words, instances * cycles) / Fraction(str(bandwidth))
            worst = max(worst, need)
        del index
    return worst


def _even_shares(total: int, parts: int) -> np.ndarray:
    """``total`` split into ``parts`` integers that differ by at most one."""
    base, extra = divmod(total, parts)
    shares = np.full(parts, base, dtype=np.int64)
    shares[:extra] += 1
    return shares


def compute_skips(arch: Architecture) -> tuple[bool, bool]:
    """Whether the MACs skip (not merely gate) zero inputs / zero weights."""
    sparse = arch.compute.sparse
    skipped = sparse.condition_on(None, Policy.SKIP) if \
        sparse.policy(None) is Policy.SKIP else frozenset()
    return Tensor.INPUTS in skipped, Tensor.WEIGHTS in skipped


def build_schedule(layer: Layer, arch: Architecture, mapping: Mapping,
                   analysis: NestAnalysis, work: TileWorkCounts) -> Schedule:
    """The engine's tiles for ``layer`` with ``mapping``; ``work`` (from the masks) sets each
    tile's cycles: its busiest unit's MACs under the MACs' skip policy — all of them, for a
    dense run or a gating design."""
    boundary = arch.levels[BOUNDARY_LEVEL]
    dram = arch.levels[0]
    sequence = tile_sequence(layer, arch, mapping, boundary.name)
    throttle = bandwidth_throttle(analysis, arch)
    count = len(sequence)
    keeps = mapping.keeps(arch, BOUNDARY_LEVEL)
    fill = np.zeros(count, dtype=np.int64)
    writeback = np.zeros(count, dtype=np.int64)
    held = np.zeros(count, dtype=np.int64)
    held_outputs = np.zeros(count, dtype=np.int64)
    groups = layer.groups
    read_words: dict[Tensor, int] = {}
    write_words: dict[Tensor, int] = {}
    for tensor in Tensor:
        dram_counts = analysis.get(dram.name, tensor)
        if tensor in keeps:
            incoming = np.asarray(sequence.fills[tensor], dtype=np.int64)
            fill += incoming
            words = np.asarray(sequence.words[tensor], dtype=np.int64)
            if tensor is Tensor.OUTPUTS:
                writeback += np.asarray(sequence.updates[tensor], dtype=np.int64)
                held_outputs += words
            else:
                held += words
        else:
            fill += _even_shares(dram_counts.reads // groups, count)
            if tensor is Tensor.OUTPUTS:
                writeback += _even_shares(dram_counts.updates // groups, count)
        read_words[tensor] = dram_counts.reads
        write_words[tensor] = dram_counts.updates
    dram_bytes = dram.word_bits / 8
    buffer_bytes = boundary.word_bits / 8
    all_cycles = np.array([ceil(Fraction(int(c)) * throttle)
                           for c in work.tile_cycles(*compute_skips(arch))], dtype=np.int64)
    tiles = tuple(
        TileWork(fill_bytes=ceil(int(f) * dram_bytes), compute_cycles=int(c),
                 writeback_bytes=ceil(int(w) * dram_bytes),
                 buffer_bytes=ceil(int(h) * buffer_bytes),
                 output_buffer_bytes=ceil(int(o) * buffer_bytes))
        for f, c, w, h, o in zip(np.tile(fill, groups), all_cycles, np.tile(writeback, groups),
                                 np.tile(held, groups), np.tile(held_outputs, groups),
                                 strict=True))
    return Schedule(tiles, throttle, read_words, write_words)
