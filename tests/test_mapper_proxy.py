"""The mapper's proxy against the exact nest analysis: cycles and utilized instances equal on
any mapping (perfect or ceil-div splits), energies equal on Timeloop's mappings, and the
proxy ranks the mapper's own candidates as the analysis does."""

from __future__ import annotations

import random
import time
from math import ceil, prod

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.analysis import analyze
from accelsim.arch import bundled_names, load_architecture
from accelsim.mapping.action_counts import analysis_energy, dram_words
from accelsim.mapping.dataflows import DATAFLOWS
from accelsim.mapping.mapper import _Beam, _Search
from accelsim.mapping.mapper_proxy import (
    HardwareInfo,
    ProblemInfo,
    candidate_arrays,
    estimate_counts,
    evaluate,
)
from accelsim.mapping.mapper_space import SearchOptions
from accelsim.mapping.model import LevelMapping, Loop, Mapping, layer_bounds
from accelsim.mapping.yaml_io import load_mapping
from accelsim.workload.layer import Layer
from tests.conftest import REPO

ARCHS = {name: load_architecture(name) for name in bundled_names()}
FIXTURES = REPO / "tests" / "data"
DEFAULT_CONV = Layer("default_conv", N=1, C=3, H=224, W=224, M=32, R=3, S=3, stride=2,
                     padding=1)
VGG_CONV3_1 = Layer("conv3_1", N=1, C=128, H=56, W=56, M=256, R=3, S=3, padding=1)


def estimate(layer: Layer, arch, mapping: Mapping):
    return evaluate(ProblemInfo.from_layer(layer), HardwareInfo.from_arch(arch),
                    *candidate_arrays(mapping, arch))


def random_mapping(rng: random.Random, layer: Layer, arch) -> Mapping:
    """Each dimension split over 1-3 random slots (temporal, or a fan-out axis within its
    size), the outermost factor the ceil-division: perfect and imperfect splits alike."""
    slots = [(level, kind) for level, spec in enumerate(arch.levels) for kind in "TXY"
             if kind == "T" or (kind == "X" and spec.fanout.x > 1)
             or (kind == "Y" and spec.fanout.y > 1)]
    room = {slot: arch.levels[slot[0]].fanout.x if slot[1] == "X"
            else arch.levels[slot[0]].fanout.y for slot in slots if slot[1] != "T"}
    placed: dict[tuple[int, str], list[Loop]] = {slot: [] for slot in slots}
    for dim, bound in layer_bounds(layer).items():
        chosen = sorted(rng.sample(slots, min(rng.randint(1, 3), len(slots))),
                        key=lambda s: (s[0], "TXY".index(s[1])))
        inner = []
        for slot in chosen[1:]:
            top = bound if slot[1] == "T" else room[slot]
            inner.append(rng.randint(1, max(1, min(bound, top))))
            if slot[1] != "T":
                room[slot] //= inner[-1]
        outer = ceil(bound / prod(inner))
        if chosen[0][1] != "T":
            if outer <= room[chosen[0]]:
                room[chosen[0]] //= outer
            else:   # the ceil-division does not fit that axis: DRAM takes it
                chosen, inner = [(0, "T"), *chosen], [1, *inner]
        for slot, factor in zip(chosen, [outer, *inner], strict=True):
            placed[slot].append(Loop(dim, factor))
    entries = []
    for level, spec in enumerate(arch.levels):
        temporal = placed[(level, "T")]
        rng.shuffle(temporal)
        entries.append(LevelMapping(spec.name, tuple(temporal),
                                    tuple(placed.get((level, "X"), ())),
                                    tuple(placed.get((level, "Y"), ()))))
    return Mapping(tuple(entries))


@st.composite
def cases(draw):
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    R, stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2)), \
        draw(st.integers(1, 2))
    P, Q = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    layer = Layer("rand", N=draw(st.integers(1, 2)), C=draw(st.integers(1, 12)),
                  H=(P - 1) * stride + (R - 1) * dilation + 1,
                  W=(Q - 1) * stride + (R - 1) * dilation + 1, M=draw(st.integers(1, 16)),
                  R=R, S=R, stride=stride, dilation=dilation)
    arch = ARCHS[draw(st.sampled_from(bundled_names()))]
    return layer, arch, random_mapping(rng, layer, arch)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_cycles_and_instances_are_exact_on_any_mapping(case):
    layer, arch, mapping = case
    exact = analyze(layer, arch, mapping)
    est = estimate(layer, arch, mapping)
    assert int(est.cycles[0]) == exact.cycles
    assert int(est.utilized[0]) == exact.utilized_macs
    hw = HardwareInfo.from_arch(arch)
    for counts in estimate_counts(ProblemInfo.from_layer(layer), hw,
                                  *candidate_arrays(mapping, arch)):
        assert counts.reads.shape == (1,)


TIMELOOP_MAPPINGS = [  # (architecture, mapping fixture, layer): no bypass overrides
    ("eyeriss_like", "mappings/eyeriss_like.yaml", DEFAULT_CONV),
    ("arch/simple_weight_stationary.yaml", "mappings/simple_weight_stationary.yaml",
     DEFAULT_CONV),
    ("arch/ispass2020_06_eyeriss.yaml", "mappings/ispass2020_06_eyeriss_vgg02_layer5.yaml",
     VGG_CONV3_1),
]


@pytest.mark.parametrize(("arch_name", "fixture", "layer"), TIMELOOP_MAPPINGS,
                         ids=[m[1] for m in TIMELOOP_MAPPINGS])
def test_every_count_and_energy_equal_the_analysis_on_timeloops_mappings(arch_name, fixture,
                                                                        layer):
    arch = load_architecture(arch_name if "/" not in arch_name else FIXTURES / arch_name)
    mapping = load_mapping(FIXTURES / fixture, layer, arch)
    exact = analyze(layer, arch, mapping)
    prob, hw = ProblemInfo.from_layer(layer), HardwareInfo.from_arch(arch)
    for counts in estimate_counts(prob, hw, *candidate_arrays(mapping, arch)):
        reference = exact.get(arch.levels[counts.level].name, counts.tensor)
        assert (counts.reads[0], counts.fills[0], counts.updates[0]) == \
            (reference.reads, reference.fills, reference.updates)
    est = estimate(layer, arch, mapping)
    assert est.energy_pj[0] == pytest.approx(analysis_energy(exact, arch).total_pj, rel=1e-12)
    assert est.dram_words[0] == dram_words(exact, arch)


def final_candidates(layer: Layer, arch) -> tuple[_Search, _Beam]:
    """What the mapper ranks last: its beam after the loop-order step."""
    search = _Search(layer, arch, DATAFLOWS[arch.dataflow], ("cycles", "energy"),
                     time.perf_counter() + 60, SearchOptions())
    count = len(search.spatials)
    beam = _Beam(np.arange(count), np.ones((count, search.levels, 7), dtype=np.int64),
                 np.broadcast_to(search._default_perm(), (count, search.levels, 7)).copy())
    for level in range(search.levels - 1, 0, -1):
        beam = search._keep_best(search._expand(beam, level), 8, final=level == 1)
    return search, search._reorder(beam)


RANKING_CASES = [
    ("eyeriss_like", Layer("small", N=1, C=4, H=9, W=9, M=8, R=3, S=3)),
    ("eyeriss_v1", Layer("small", N=2, C=6, H=14, W=14, M=20, R=3, S=3, stride=2)),
    ("simba_like", Layer("small", N=1, C=8, H=8, W=8, M=16, R=3, S=3, padding=1)),
    ("systolic_ws", Layer("small", N=1, C=16, H=10, W=10, M=24, R=3, S=3)),
]


@pytest.mark.parametrize(("arch_name", "layer"), RANKING_CASES,
                         ids=[c[0] for c in RANKING_CASES])
def test_proxy_ranks_the_mappers_candidates_like_the_analysis(arch_name, layer):
    arch = ARCHS[arch_name]
    search, candidates = final_candidates(layer, arch)
    est = search._estimate(candidates)
    exact_cycles, exact_energy = [], []
    for row in range(len(candidates)):
        analysis = analyze(layer, arch, search._mapping(candidates.take(np.array([row]))))
        exact_cycles.append(analysis.cycles)
        exact_energy.append(analysis_energy(analysis, arch).total_pj)
    exact_energy = np.array(exact_energy)
    assert list(est.cycles) == exact_cycles
    proxy_best = np.lexsort((est.energy_pj, est.cycles))[0]
    exact_best = np.lexsort((exact_energy, exact_cycles))[0]
    assert exact_energy[proxy_best] == pytest.approx(exact_energy[exact_best], rel=0.01)
    assert np.abs(est.energy_pj / exact_energy - 1).max() < 0.05
