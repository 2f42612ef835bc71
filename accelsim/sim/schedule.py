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
- ``compute_cycles`` — the valid temporal iterations of every loop below the boundary for
  this tile (spatial loops run in parallel), so that over all tiles they add up to the
  nest analysis' cycles, stretched by the bandwidth throttle of the on-chip levels.

This module is the *dense* source of per-tile work; the sparse one (issue 4) replaces the
words and cycles with those of the actual data, and the engine stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil

import numpy as np

from accelsim.analysis.counts import NestAnalysis
from accelsim.analysis.nest import Nest
from accelsim.analysis.problem import Problem
from accelsim.analysis.tiles import tile_sequence
from accelsim.arch.spec import Architecture, Tensor
from accelsim.mapping.model import DIMS, Mapping
from accelsim.sim.engine import TileWork
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


def _inner_positions(nest: Nest, dim: str, boundary: int) -> np.ndarray:
    """Offsets (sorted) of the temporal loops of ``dim`` at or below the boundary level."""
    offsets = np.zeros(1, dtype=np.int64)
    for loop in nest.loops:
        if loop.dim == dim and loop.level >= boundary and not loop.spatial:
            offsets = (offsets[:, None] + np.arange(loop.bound) * loop.stride).reshape(-1)
    return np.sort(offsets)


def _tile_cycles(nest: Nest, starts: np.ndarray, boundary: int) -> np.ndarray:
    """Valid temporal iterations below the boundary for each tile (spatial index 0)."""
    cycles = np.ones(len(starts), dtype=np.int64)
    for column, dim in enumerate(DIMS):
        offsets = _inner_positions(nest, dim, boundary)
        limit = nest.problem.size(dim) - starts[:, column]
        cycles *= np.searchsorted(offsets, limit, side="left")
    return cycles


def _even_shares(total: int, parts: int) -> np.ndarray:
    """``total`` split into ``parts`` integers that differ by at most one."""
    base, extra = divmod(total, parts)
    shares = np.full(parts, base, dtype=np.int64)
    shares[:extra] += 1
    return shares


def dense_schedule(layer: Layer, arch: Architecture, mapping: Mapping,
                   analysis: NestAnalysis) -> Schedule:
    """The engine's tiles for a dense run of ``layer`` with ``mapping``."""
    boundary = arch.levels[BOUNDARY_LEVEL]
    dram = arch.levels[0]
    sequence = tile_sequence(layer, arch, mapping, boundary.name)
    nest = Nest.build(Problem.from_layer(layer), arch, mapping)
    throttle = bandwidth_throttle(analysis, arch)
    count = len(sequence)
    cycles = _tile_cycles(nest, np.asarray(sequence.start), BOUNDARY_LEVEL)
    cycles = np.array([ceil(Fraction(int(c)) * throttle) for c in cycles], dtype=np.int64)
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
    one_group = [
        TileWork(fill_bytes=ceil(int(f) * dram_bytes), compute_cycles=int(c),
                 writeback_bytes=ceil(int(w) * dram_bytes),
                 buffer_bytes=ceil(int(h) * buffer_bytes),
                 output_buffer_bytes=ceil(int(o) * buffer_bytes))
        for f, c, w, h, o in zip(fill, cycles, writeback, held, held_outputs, strict=True)
    ]
    return Schedule(tuple(one_group * groups), throttle, read_words, write_words)
