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
  stretched by the bandwidth throttle of the on-chip levels, plus each fan-out's
  ``fill_drain_cycles`` per pass over it within the tile (``fill_drain_per_tile``).

A dense run is a run with all-ones masks: the same schedule, the same engine.
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
from accelsim.arch.spec import Architecture, Policy, Tensor
from accelsim.mapping.model import DIMS, Mapping
from accelsim.sim.engine import TileWork
from accelsim.sparsity.tile_sizes import bits_per_word, whole_tensor_bits_per_word
from accelsim.sparsity.work import TileWorkCounts
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace

BOUNDARY_LEVEL = 1


@dataclass(frozen=True, slots=True)
class Schedule:
    """The tiles of one layer (all groups) and the throttle applied to their cycles."""

    tiles: tuple[TileWork, ...]
    throttle: Fraction
    dram_read_bytes: dict[Tensor, int]
    dram_write_bytes: dict[Tensor, int]


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


def fill_drain_per_tile(layer: Layer, arch: Architecture, mapping: Mapping,
                        extent: np.ndarray) -> np.ndarray:
    """Per boundary tile (``extent``: tiles × 7, DIMS order), Σ over fan-outs of
    ``fill_drain_cycles`` × the passes over it inside the tile: the valid index tuples of the
    temporal loops between the boundary and that fan-out (a partial tile has fewer). Summed
    over the tiles this is ``closed_form.fill_drain``, so the tiles keep adding up to the
    analysis' cycles."""
    total = np.zeros(len(extent), dtype=np.int64)
    fills = [(index, level.fanout.fill_drain_cycles) for index, level in enumerate(arch.levels)
             if level.fanout.fill_drain_cycles]
    if not fills:
        return total
    loops = Nest.build(Problem.from_layer(layer), arch, mapping).loops
    for index, fill in fills:
        passes = np.ones(len(extent), dtype=np.int64)
        for axis, dim in enumerate(DIMS):
            inside = [loop for loop in loops if loop.dim == dim and not loop.spatial
                      and BOUNDARY_LEVEL <= loop.level <= index and loop.bound > 1]
            if not inside:
                continue
            grid = np.indices([loop.bound for loop in inside]).reshape(len(inside), -1).T
            offsets = np.sort(grid @ np.array([loop.stride for loop in inside]))
            passes *= np.searchsorted(offsets, extent[:, axis], side="left")
        total += fill * passes
    return total


def build_schedule(layer_trace: LayerTrace, arch: Architecture, mapping: Mapping,
                   analysis: NestAnalysis, work: TileWorkCounts) -> Schedule:
    """The engine's tiles for one layer with ``mapping``; ``work`` (from the masks) sets each
    tile's cycles — its busiest unit's MACs under the MACs' skip policy, all of them for a
    dense run or a gating design — and each tile's data is sized in the format its level
    stores it in (``sparsity.tile_sizes``)."""
    layer = layer_trace.layer
    boundary = arch.levels[BOUNDARY_LEVEL]
    dram = arch.levels[0]
    sequence = tile_sequence(layer, arch, mapping, boundary.name)
    throttle = bandwidth_throttle(analysis, arch)
    groups, per_group = layer.groups, len(sequence)
    keeps = mapping.keeps(arch, BOUNDARY_LEVEL)
    total = per_group * groups
    fill, writeback = np.zeros(total), np.zeros(total)
    held, held_outputs = np.zeros(total), np.zeros(total)
    read_bytes: dict[Tensor, int] = {}
    write_bytes: dict[Tensor, int] = {}
    for tensor in Tensor:
        dram_counts = analysis.get(dram.name, tensor)
        dram_spec = dram.compression_of(tensor)
        if tensor in keeps:
            per_word = bits_per_word(layer_trace, work, tensor, dram_spec, dram.word_bits)
            incoming = np.tile(sequence.fills[tensor], groups) * per_word
            outgoing = np.tile(sequence.updates[tensor], groups) * per_word
            stored = np.tile(sequence.words[tensor], groups) * bits_per_word(
                layer_trace, work, tensor, boundary.compression_of(tensor), boundary.word_bits)
            if tensor is Tensor.OUTPUTS:
                held_outputs += stored
            else:
                held += stored
        else:
            per_word = whole_tensor_bits_per_word(layer_trace, tensor, dram_spec,
                                                  dram.word_bits)
            incoming = np.tile(_even_shares(dram_counts.reads // groups, per_group),
                               groups) * per_word
            outgoing = np.tile(_even_shares(dram_counts.updates // groups, per_group),
                               groups) * per_word
        if tensor is not Tensor.OUTPUTS:
            outgoing = np.zeros(total)
        fill += incoming
        writeback += outgoing
        read_bytes[tensor] = ceil(float(incoming.sum()) / 8)
        write_bytes[tensor] = ceil(float(outgoing.sum()) / 8)
    fill_drain = fill_drain_per_tile(layer, arch, mapping, work.tile_extent).tolist()
    # ceil(c · throttle) exactly, in integers: -(-c·p // q), no Fraction per tile
    p, q = throttle.numerator, throttle.denominator
    cycles = [-(-c * p // q) + f for c, f in zip(
        work.tile_cycles(*compute_skips(arch)).tolist(), fill_drain, strict=True)]
    tiles = tuple(
        TileWork(fill_bytes=ceil(f / 8), compute_cycles=c, writeback_bytes=ceil(w / 8),
                 buffer_bytes=ceil(h / 8), output_buffer_bytes=ceil(o / 8))
        for f, c, w, h, o in zip(fill.tolist(), cycles, writeback.tolist(), held.tolist(),
                                 held_outputs.tolist(), strict=True))
    return Schedule(tiles, throttle, read_bytes, write_bytes)
