"""Nest-analysis counts → energy actions: Timeloop's eyeriss_like energies reproduced from our
own analysis of its mapping, level by level."""

from __future__ import annotations

import dataclasses

import pytest

from accelsim.analysis import analyze
from accelsim.arch import load_architecture
from accelsim.energy import Action, energy
from accelsim.mapping.action_counts import action_counts, analysis_energy, dram_words
from accelsim.mapping.yaml_io import load_mapping
from accelsim.workload.layer import Layer
from tests.conftest import REPO, shared_file
from tests.test_energy_timeloop import EYERISS_LIKE_LEVEL_PJ

DEFAULT_CONV = Layer("default_conv", N=1, C=3, H=224, W=224, M=32, R=3, S=3, stride=2,
                     padding=1)
# ../shared/timeloop_ref/eyeriss_like/timeloop-mapper.stats.txt: per level, "Energy (total)"
# of each data space + "Leakage energy (total)", in pJ — typed in once, in
# tests/test_energy_timeloop.py.
TIMELOOP_LEVEL_PJ = EYERISS_LIKE_LEVEL_PJ


@pytest.fixture(scope="module")
def eyeriss():
    arch = load_architecture("eyeriss_like")
    mapping = load_mapping(REPO / "tests" / "data" / "mappings" / "eyeriss_like.yaml",
                           DEFAULT_CONV, arch)
    return arch, analyze(DEFAULT_CONV, arch, mapping)


def test_timeloops_energy_from_our_analysis_of_its_mapping(eyeriss):
    shared_file("timeloop_ref/eyeriss_like/timeloop-mapper.stats.txt")
    arch, analysis = eyeriss
    result = energy(action_counts(analysis, arch), arch.energy)
    for level, expected in TIMELOOP_LEVEL_PJ.items():
        assert result.by_component[level] == pytest.approx(expected, abs=0.05), level
    assert round(result.total_uj, 2) == 59.28   # "Energy: 59.28 uJ"
    assert analysis_energy(analysis, arch).total_pj == result.total_pj


def test_every_access_becomes_one_action_per_kind(eyeriss):
    arch, analysis = eyeriss
    counts = action_counts(analysis, arch)
    by_key = {(c.component, c.action, c.tensor): c.count for c in counts}
    for access in analysis.counts:
        for action, words in ((Action.READ, access.reads), (Action.WRITE, access.fills),
                              (Action.UPDATE, access.updates)):
            assert by_key.get((access.level, action, access.tensor), 0) == words
    assert by_key[("mac", Action.COMPUTE, None)] == analysis.computes == 10_838_016
    leaks = {c.component: c.count for c in counts if c.action is Action.LEAK}
    assert leaks == {"DRAM": 86_016, "shared_glb": 86_016, "ifmap_spad": 126 * 86_016,
                     "weights_spad": 126 * 86_016, "psum_spad": 126 * 86_016}


def test_leakage_over_the_timed_cycles(eyeriss):
    arch, analysis = eyeriss
    stalled = action_counts(analysis, arch, cycles=100_000)
    leaks = {c.component: c.count for c in stalled if c.action is Action.LEAK}
    assert leaks["psum_spad"] == 126 * 100_000
    assert leaks["DRAM"] == 100_000


def test_mac_leakage_only_when_asked(eyeriss):
    arch, analysis = eyeriss
    with_leak = action_counts(analysis, arch, compute_leak=True)
    extra = [c for c in with_leak if c.component == "mac" and c.action is Action.LEAK]
    assert [c.count for c in extra] == [126 * 86_016]


def test_dram_words_and_no_table(eyeriss):
    arch, analysis = eyeriss
    # stats.txt DRAM: reads 13,824 weights + 157,296 inputs, updates 401,408 outputs
    assert dram_words(analysis, arch) == 13_824 + 157_296 + 401_408
    assert analysis_energy(analysis, dataclasses.replace(arch, energy=None)) is None
