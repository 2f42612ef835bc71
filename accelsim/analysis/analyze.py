"""``analyze(layer, arch, mapping)``: dense access counts per level and tensor, computes and
cycles with unconstrained bandwidth — Timeloop's definitions (docs/model.md §3)."""

from __future__ import annotations

from accelsim.analysis import closed_form as cf
from accelsim.analysis.counts import AccessCounts, NestAnalysis
from accelsim.analysis.nest import Nest
from accelsim.analysis.problem import RELEVANT, Problem
from accelsim.arch.spec import Architecture, Tensor
from accelsim.mapping.model import Mapping, check_mapping
from accelsim.workload.layer import Layer


def analyze(layer: Layer, arch: Architecture, mapping: Mapping) -> NestAnalysis:
    """Count every dense access of ``layer`` run on ``arch`` with ``mapping``.

    A grouped layer runs its groups one after another with the same mapping of one group:
    counts and cycles are those of one group times ``groups``. Cycles include each fan-out's
    ``fill_drain_cycles`` per pass over it (a systolic array's skew).
    """
    check_mapping(mapping, layer, arch)
    problem = Problem.from_layer(layer)
    nest = Nest.build(problem, arch, mapping)
    groups = problem.groups
    counts = [_counts(nest, arch, tensor, level, groups)
              for level in range(nest.num_levels)
              for tensor in Tensor if tensor in nest.keeps[level]]
    fill = cf.fill_drain(nest, [level.fanout.fill_drain_cycles for level in arch.levels])
    return NestAnalysis(
        layer=layer.name, mapping=mapping, cycles=(cf.cycles(nest) + fill) * groups,
        computes=problem.macs, utilized_macs=cf.instances(nest, nest.num_levels),
        available_macs=arch.num_macs, counts=tuple(counts))


def _counts(nest: Nest, arch: Architecture, tensor: Tensor, level: int,
            groups: int) -> AccessCounts:
    chain = nest.tensor_chain(tensor)
    position = chain.index(level)
    has_parent = position > 0
    child = chain[position + 1] if position + 1 < len(chain) else nest.num_levels
    irrelevant = tuple(loop.id for loop in nest.spatial_between(level, child)
                       if loop.dim not in RELEVANT[tensor])
    to_children = cf.delivered(nest, child, tensor)
    served = cf.delivered(nest, child, tensor, irrelevant)
    own = cf.delivered(nest, level, tensor) if has_parent else 0
    if tensor is Tensor.OUTPUTS:
        partition = cf.output_partition(nest, level)
        # Timeloop's first-read elision: the first write of each partial sum needs no read,
        # and the first visit of each output needs no fill.
        reads, updates = served - partition, served
        fills = own - partition if has_parent else 0
        reductions = reads
    else:
        partition = 0
        reads, fills, updates, reductions = served, own, 0, 0
    return AccessCounts(
        level=arch.levels[level].name, tensor=tensor, instances=cf.instances(nest, level),
        tile_words=cf.tile_words(nest, level, tensor), partition_words=partition * groups,
        reads=reads * groups, fills=fills * groups, updates=updates * groups,
        temporal_reductions=reductions * groups, child_deliveries=to_children * groups)
