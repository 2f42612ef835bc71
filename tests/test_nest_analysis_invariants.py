"""The closed-form nest analysis against a literal, set-based simulation of the same rules
on small random layers, architectures and mappings (perfect and ceil-div factors), and the
invariants that must hold for any mapping.

The reference walks every iteration of the loops above a level, instance by instance, keeps
each tile as a Python set of tensor coordinates, and applies the documented rule: advancing
the innermost loop above a level keeps the overlap with the previous tile; any other step
reloads the whole tile unless it is identical. It is slow and obvious; the closed form is
fast and must agree with it exactly.
"""

from __future__ import annotations

import itertools
import random
from math import prod

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.analysis import analyze
from accelsim.analysis.problem import REDUCTION_DIMS, RELEVANT
from accelsim.analysis.tiles import tile_sequence
from accelsim.arch.spec import (
    Architecture,
    ComputeSpec,
    DramSpec,
    Fanout,
    StorageLevel,
    Tensor,
)
from accelsim.mapping.model import DIMS, LevelMapping, Loop, Mapping, layer_bounds
from accelsim.workload.layer import Layer
from tests.random_mappings import random_mapping

# ----------------------------------------------------------------------------------------
# Random cases


@st.composite
def cases(draw, max_dim: int = 4):
    """(layer, arch, mapping): 2-4 levels, random keeps, fan-outs, orders and splits."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    R, S = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, dilation = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    P, Q = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    H = (P - 1) * stride + (R - 1) * dilation + 1
    W = (Q - 1) * stride + (S - 1) * dilation + 1
    layer = Layer("rand", N=draw(st.integers(1, 2)), C=draw(st.integers(1, max_dim)), H=H, W=W,
                  M=draw(st.integers(1, max_dim)), R=R, S=S, stride=stride, dilation=dilation)
    arch, mapping = random_mapping(layer, rng, depth=64, keep_nothing=True,
                                   spare_fanout=True)
    return layer, arch, mapping


# ----------------------------------------------------------------------------------------
# The literal reference


def _nest(mapping: Mapping):
    loops = []
    for index, entry in enumerate(mapping.levels):
        for spatial, group in ((False, entry.temporal), (True, entry.spatial_x),
                               (True, entry.spatial_y)):
            loops.extend((lp.dim, lp.bound, index, spatial) for lp in group)
    strides = [prod(b for d, b, _, _ in loops[i + 1:] if d == loops[i][0])
               for i in range(len(loops))]
    return loops, strides


def _points(layer: Layer, tensor: Tensor, box: dict[str, range]) -> frozenset:
    sh, sw = layer.stride
    dh, dw = layer.dilation
    out = set()
    for n, m, c, p, q, r, s in itertools.product(*(box[d] for d in DIMS)):
        if tensor is Tensor.WEIGHTS:
            out.add((m, c, r, s))
        elif tensor is Tensor.OUTPUTS:
            out.add((n, m, p, q))
        else:
            out.add((n, c, p * sh + r * dh, q * sw + s * dw))
    return frozenset(out)


def _bounding_box_size(layer: Layer, tensor: Tensor, box: dict[str, range]) -> int:
    """Timeloop's tile is the bounding box of the projection (strided gaps included)."""
    pts = _points(layer, tensor, box)
    if not pts:
        return 0
    return prod(max(p[i] for p in pts) - min(p[i] for p in pts) + 1 for i in range(4))


class Reference:
    def __init__(self, layer: Layer, arch: Architecture, mapping: Mapping) -> None:
        self.layer, self.arch, self.mapping = layer, arch, mapping
        self.sizes = layer_bounds(layer)
        self.loops, self.strides = _nest(mapping)
        self.keeps = [mapping.keeps(arch, i) for i in range(len(mapping.levels))]

    def _box(self, level: int, index: dict[int, int]) -> dict[str, range] | None:
        box = {}
        for dim in DIMS:
            start = sum(index.get(i, 0) * self.strides[i] for i, lp in enumerate(self.loops)
                        if lp[0] == dim and lp[2] < level)
            extent = prod(lp[1] for lp in self.loops if lp[0] == dim and lp[2] >= level)
            if start >= self.sizes[dim]:
                return None
            box[dim] = range(start, min(start + extent, self.sizes[dim]))
        return box

    def delivered(self, level: int, tensor: Tensor, collapse=()) -> int:
        """Words received by ``level`` summed over instances, per the documented rule."""
        above = [i for i, lp in enumerate(self.loops) if lp[2] < level]
        temporal = [i for i in above if not self.loops[i][3]]
        spatial = [i for i in above if self.loops[i][3] and i not in collapse]
        moving = [i for i in temporal if self.loops[i][1] > 1]
        total = 0
        for inst in itertools.product(*(range(self.loops[i][1]) for i in spatial)):
            previous = None
            for idx in itertools.product(*(range(self.loops[i][1]) for i in temporal)):
                index = {**dict(zip(spatial, inst, strict=True)),
                         **dict(zip(temporal, idx, strict=True))}
                box = self._box(level, index)
                if box is None:
                    continue
                if level == len(self.keeps):
                    total += 1
                    continue
                tile = _points(self.layer, tensor, box)
                size = _bounding_box_size(self.layer, tensor, box)
                if previous is None:
                    total += size
                elif moving and index[moving[-1]] > 0:
                    total += size - _overlap(previous[1], box, self.layer, tensor)
                elif tile != previous[0]:
                    total += size
                previous = (tile, box)
        return total

    def partition(self, level: int) -> int:
        above = [i for i, lp in enumerate(self.loops) if lp[2] < level]
        temporal = [i for i in above if not self.loops[i][3]]
        spatial = [i for i in above if self.loops[i][3]]
        total = 0
        for inst in itertools.product(*(range(self.loops[i][1]) for i in spatial)):
            seen = set()
            for idx in itertools.product(*(range(self.loops[i][1]) for i in temporal)):
                index = {**dict(zip(spatial, inst, strict=True)),
                         **dict(zip(temporal, idx, strict=True))}
                box = self._box(level, index)
                if box is not None:
                    seen |= _points(self.layer, Tensor.OUTPUTS, box)
            total += len(seen)
        return total

    def counts(self, level: int, tensor: Tensor) -> dict[str, int]:
        chain = [i for i, k in enumerate(self.keeps) if tensor in k]
        pos = chain.index(level)
        child = chain[pos + 1] if pos + 1 < len(chain) else len(self.keeps)
        collapse = tuple(i for i, lp in enumerate(self.loops)
                         if lp[3] and level <= lp[2] < child and lp[0] not in RELEVANT[tensor])
        served = self.delivered(child, tensor, collapse)
        own = self.delivered(level, tensor) if pos > 0 else 0
        if tensor is Tensor.OUTPUTS:
            part = self.partition(level)
            return {"reads": served - part, "updates": served,
                    "fills": own - part if pos > 0 else 0}
        return {"reads": served, "updates": 0, "fills": own}

    def cycles(self) -> int:
        temporal = [i for i, lp in enumerate(self.loops) if not lp[3]]
        count = 0
        for idx in itertools.product(*(range(self.loops[i][1]) for i in temporal)):
            if self._box(len(self.keeps), dict(zip(temporal, idx, strict=True))) is not None:
                count += 1
        return count


def _overlap(prev: dict[str, range], box: dict[str, range], layer: Layer,
             tensor: Tensor) -> int:
    """Size of the intersection of two bounding boxes in tensor space."""
    def bounds(b):
        pts = _points(layer, tensor, b)
        return [(min(p[i] for p in pts), max(p[i] for p in pts) + 1) for i in range(4)]
    a, c = bounds(prev), bounds(box)
    return prod(max(0, min(x[1], y[1]) - max(x[0], y[0])) for x, y in zip(a, c, strict=True))


# ----------------------------------------------------------------------------------------
# Tests

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(cases())
def test_closed_form_equals_literal_simulation(case) -> None:
    layer, arch, mapping = case
    result = analyze(layer, arch, mapping)
    ref = Reference(layer, arch, mapping)
    assert result.cycles == ref.cycles()
    assert result.computes == layer.macs
    for count in result.counts:
        level = arch.level_index(count.level)
        expected = ref.counts(level, count.tensor)
        got = {"reads": count.reads, "updates": count.updates, "fills": count.fills}
        assert got == expected, (count.level, count.tensor, mapping.describe())


@SETTINGS
@given(cases(max_dim=6))
def test_tile_sequence_sums_to_closed_form(case) -> None:
    layer, arch, mapping = case
    result = analyze(layer, arch, mapping)
    for index, level in enumerate(arch.levels):
        sequence = tile_sequence(layer, arch, mapping, level.name)
        for tensor in sequence.fills:
            count = result.get(level.name, tensor)
            assert int(sequence.fills[tensor].sum()) == count.fills
            chain = [i for i in range(len(arch.levels)) if tensor in mapping.keeps(arch, i)]
            if chain.index(index) > 0:
                parent = result.get(arch.levels[chain[chain.index(index) - 1]].name, tensor)
                served = parent.updates if tensor is Tensor.OUTPUTS else parent.reads
                assert int(sequence.parent_accesses[tensor].sum()) == served
        for tensor in sequence.fills:
            assert sequence.instances == result.get(level.name, tensor).instances


@SETTINGS
@given(cases(max_dim=8))
def test_invariants(case) -> None:
    layer, arch, mapping = case
    result = analyze(layer, arch, mapping)
    assert result.cycles * result.utilized_macs >= result.computes
    assert result.cycles * arch.num_macs >= result.computes
    assert 0 < result.utilization <= 1
    for count in result.counts:
        assert min(count.reads, count.fills, count.updates) >= 0
        assert count.child_deliveries >= (count.updates if count.tensor is Tensor.OUTPUTS
                                          else count.reads)
        assert count.multicast_factor >= 1
        if count.tensor is Tensor.OUTPUTS:
            # every partial sum reaches the level at least once: updates >= partition
            assert count.updates >= count.partition_words
    # the outermost level serves every word of each tensor the MACs touch at least once
    dram = arch.levels[0].name
    for tensor in (Tensor.WEIGHTS, Tensor.INPUTS):
        assert result.get(dram, tensor).reads >= _touched(layer, tensor)


def _touched(layer: Layer, tensor: Tensor) -> int:
    sizes = layer_bounds(layer)
    if tensor is Tensor.WEIGHTS:
        return sizes["M"] * sizes["C"] * sizes["R"] * sizes["S"]
    rows = {p * layer.stride[0] + r * layer.dilation[0]
            for p in range(sizes["P"]) for r in range(sizes["R"])}
    cols = {q * layer.stride[1] + s * layer.dilation[1]
            for q in range(sizes["Q"]) for s in range(sizes["S"])}
    return sizes["N"] * sizes["C"] * len(rows) * len(cols)


def test_perfect_mapping_cycles_are_macs_over_pes() -> None:
    """A perfect mapping on a fully used array: cycles = MACs / PEs exactly."""
    layer = Layer("l", N=1, C=4, H=6, W=6, M=8, R=3, S=3)   # P = Q = 4
    arch = Architecture("a", 1000.0, (
        StorageLevel("DRAM", frozenset(Tensor), 8, 8, is_dram=True),
        StorageLevel("buf", frozenset(Tensor), 8, 8, 1024, fanout=Fanout(4, 8)),
        StorageLevel("reg", frozenset(Tensor), 8, 8, 64),
    ), DramSpec(1.0), ComputeSpec())
    mapping = Mapping((
        LevelMapping("DRAM", (Loop("C", 2),)),
        LevelMapping("buf", (Loop("P", 4),), (Loop("Q", 4),), (Loop("M", 8),)),
        LevelMapping("reg", (Loop("C", 2), Loop("R", 3), Loop("S", 3))),
    ))
    result = analyze(layer, arch, mapping)
    assert result.cycles == layer.macs // 32 == 2 * 4 * 2 * 3 * 3
    assert result.utilized_macs == 32 and result.utilization == 1.0


def test_grouped_layer_runs_groups_one_after_another() -> None:
    layer = Layer("dw", N=1, C=4, H=4, W=4, M=4, R=3, S=3, padding=1, groups=4)
    arch = Architecture("a", 1000.0, (
        StorageLevel("DRAM", frozenset(Tensor), 8, 8, is_dram=True),
        StorageLevel("reg", frozenset(Tensor), 8, 8, 64),
    ), DramSpec(1.0), ComputeSpec())
    mapping = Mapping((LevelMapping("DRAM", (Loop("P", 4), Loop("Q", 4))),
                       LevelMapping("reg", (Loop("R", 3), Loop("S", 3)))))
    result = analyze(layer, arch, mapping)
    assert result.cycles == 4 * 16 * 9 and result.computes == layer.macs == 4 * 16 * 9
    assert result.get("DRAM", Tensor.WEIGHTS).reads == 4 * 9   # each group's 9 weights


def test_reduction_dims_are_c_r_s() -> None:
    assert REDUCTION_DIMS == frozenset(DIMS) - RELEVANT[Tensor.OUTPUTS]
