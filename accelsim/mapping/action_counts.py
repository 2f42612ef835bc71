"""Dense nest-analysis counts as energy actions: what the mapper ranks by, and what a run
prices with ``accelsim.energy.energy`` (design.md §5, Accelergy's split).

Timeloop's correspondence (``timeloop-mapper.stats.txt``): scalar reads → ``READ``, fills →
``WRITE``, updates → ``UPDATE``, computes → ``COMPUTE``, each counted in words summed over
the level's utilized instances (the table prices words per block); leakage is utilized
instances × cycles per storage level. Timeloop charges no leakage on the MACs, so neither
does ``action_counts`` unless ``compute_leak`` asks for it.
"""

from __future__ import annotations

from accelsim.analysis.counts import NestAnalysis
from accelsim.arch.spec import Architecture
from accelsim.energy.counts import ActionCount, ActionCounts
from accelsim.energy.model import EnergyBreakdown, energy
from accelsim.energy.table import Action
from accelsim.sparsity.actions import MacTotals, energy_actions, sparse_counts


def action_counts(analysis: NestAnalysis, arch: Architecture, *, cycles: int | None = None,
                  compute_leak: bool = False) -> ActionCounts:
    """Every dense action of ``analysis`` on ``arch``, ready for ``energy(counts, table)``:
    the sparse accounting (``accelsim.sparsity.actions``) with every operand non-zero.

    Leakage runs for ``cycles`` (the timing engine's total, stalls included) or, by
    default, the analysis' cycles with unconstrained bandwidth.
    """
    cycles = analysis.cycles if cycles is None else cycles
    dense = MacTotals.all_effectual(analysis.computes)
    counts = energy_actions(sparse_counts(analysis, arch, dense), analysis, cycles)
    if compute_leak:
        counts += ActionCounts.of([ActionCount(arch.compute.name, Action.LEAK,
                                               analysis.utilized_macs * cycles)])
    return counts


def analysis_energy(analysis: NestAnalysis, arch: Architecture) -> EnergyBreakdown | None:
    """The dense energy of ``analysis`` with the architecture's table (``None`` without one)."""
    if arch.energy is None:
        return None
    return energy(action_counts(analysis, arch), arch.energy)


def dram_words(analysis: NestAnalysis, arch: Architecture) -> int:
    """Words moved to and from DRAM (reads, fills and updates at the outermost level)."""
    outermost = arch.levels[0].name
    return sum(c.reads + c.fills + c.updates for c in analysis.at_level(outermost))
