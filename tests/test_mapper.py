"""The mapper: every mapping it returns is valid and fits every buffer; it matches or beats
Timeloop's mapper on Timeloop's own examples; closed-form perfect cases; determinism, the
budget, the cache and the errors."""

from __future__ import annotations

from dataclasses import replace
from math import ceil, prod

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.arch import bundled_names, load_architecture
from accelsim.arch.spec import (
    Architecture,
    ComputeSpec,
    DramSpec,
    Fanout,
    StorageLevel,
    Tensor,
)
from accelsim.mapping.dataflows import DATAFLOWS
from accelsim.mapping.mapper import (
    MapperResult,
    cache_info,
    clear_cache,
    map_layers,
    search,
)
from accelsim.mapping.mapper_space import SearchOptions, useful_factors
from accelsim.mapping.model import MappingError, check_mapping, layer_bounds
from accelsim.mapping.yaml_io import dump_mapping
from accelsim.workload.layer import Layer
from accelsim.workload.zoo import get_model
from tests.conftest import REPO, shared_file

W, I, O = Tensor.WEIGHTS, Tensor.INPUTS, Tensor.OUTPUTS
ARCHS = {name: load_architecture(name) for name in bundled_names()}
FIXTURES = REPO / "tests" / "data" / "arch"

# problem_default_conv.yaml: C3 M32 H=W=224, R=S=3, stride 2, padding 1 -> P=Q=112.
DEFAULT_CONV = Layer("default_conv", N=1, C=3, H=224, W=224, M=32, R=3, S=3, stride=2,
                     padding=1)
# problem_VGG02_layer5.yaml: C128 M256 P=Q=56 R=S=3 (VGG-16 conv3_1).
VGG_CONV3_1 = Layer("conv3_1", N=1, C=128, H=56, W=56, M=256, R=3, S=3, padding=1)


# ----------------------------------------------------------------------------------------
# What every returned mapping must satisfy


def tile_words(layer: Layer, mapping, level: int, tensor: Tensor) -> int:
    """A level's tile, from the mapping alone: each dimension spans the loops at that level
    and below (spatial ones included), clipped to the bound; an input tile is the bounding
    box of its window."""
    bounds = layer_bounds(layer)
    ext = {d: min(b, prod(loop.bound for entry in mapping.levels[level:]
                          for loop in entry.loops if loop.dim == d))
           for d, b in bounds.items()}
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    if tensor is W:
        return ext["M"] * ext["C"] * ext["R"] * ext["S"]
    if tensor is O:
        return ext["N"] * ext["M"] * ext["P"] * ext["Q"]
    h = (ext["P"] - 1) * sh + (ext["R"] - 1) * dh + 1
    w = (ext["Q"] - 1) * sw + (ext["S"] - 1) * dw + 1
    return ext["N"] * ext["C"] * h * w


def assert_valid(result: MapperResult, layer: Layer, arch: Architecture) -> None:
    mapping, analysis = result.mapping, result.analysis
    check_mapping(mapping, layer, arch)
    for index, level in enumerate(arch.levels):
        if level.capacity_words is None:
            continue
        used = sum(tile_words(layer, mapping, index, t) for t in level.keeps)
        assert used <= level.capacity_words, (level.name, used, mapping.describe())
        assert used == sum(c.tile_words for c in analysis.at_level(level.name))
    macs = analysis.computes
    assert macs == layer.N * layer.M * layer.C_per_group * layer.P * layer.Q * layer.R * \
        layer.S
    assert result.cycles == analysis.cycles
    assert result.cycles * analysis.utilized_macs >= macs
    assert result.cycles >= ceil(macs / arch.num_macs)
    assert 0 < result.utilization <= 1
    assert result.bound_cycles >= result.cycles
    assert result.candidates_evaluated >= 1
    assert result.layer == layer.name == mapping.layer


@pytest.mark.parametrize("arch_name", bundled_names())
def test_every_resnet18_layer_maps_validly_on_every_config(arch_name):
    arch = ARCHS[arch_name]
    for layer in get_model("resnet18"):
        assert_valid(search(layer, arch), layer, arch)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("arch_name", bundled_names())
def test_every_template_maps_every_config(arch_name, dataflow):
    arch = ARCHS[arch_name]
    for layer in get_model("resnet18")[::5]:
        result = search(layer, arch, dataflow=dataflow)
        assert result.dataflow == dataflow
        assert_valid(result, layer, arch)


@st.composite
def layers(draw):
    groups = draw(st.sampled_from([1, 1, 1, 2, 4]))
    R = draw(st.integers(1, 5))
    S = draw(st.integers(1, 5))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    H = draw(st.integers((R - 1) * dilation + 1, 40))
    W_ = draw(st.integers((S - 1) * dilation + 1, 40))
    return Layer("hypo", N=draw(st.integers(1, 3)), C=groups * draw(st.integers(1, 40)),
                 H=max(1, H - 2 * padding), W=max(1, W_ - 2 * padding),
                 M=groups * draw(st.integers(1, 70)), R=R, S=S, stride=stride,
                 padding=padding, dilation=dilation, groups=groups)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(layer=layers(), arch_name=st.sampled_from(bundled_names()),
       dataflow=st.sampled_from([None, *DATAFLOWS]))
def test_random_layers_map_validly(layer, arch_name, dataflow):
    arch = ARCHS[arch_name]
    assert_valid(search(layer, arch, dataflow=dataflow), layer, arch)


# ----------------------------------------------------------------------------------------
# Quality against Timeloop's mapper and closed forms


TIMELOOP_RUNS = [  # (folder under ../shared/timeloop_ref, architecture, layer, cycles, uJ)
    ("eyeriss_like", "eyeriss_like", DEFAULT_CONV, 86_016, 59.28),
    ("simba_like", "simba_like", DEFAULT_CONV, 225_792, 239.15),
    ("simple_weight_stationary", str(FIXTURES / "simple_weight_stationary.yaml"),
     DEFAULT_CONV, 903_168, 151.67),
    ("simple_output_stationary", str(FIXTURES / "simple_output_stationary.yaml"),
     DEFAULT_CONV, 677_376, 118.46),
    ("ispass2020_06_eyeriss_vgg02_layer5", str(FIXTURES / "ispass2020_06_eyeriss.yaml"),
     VGG_CONV3_1, 5_505_024, 2764.38),
]


@pytest.mark.parametrize(("folder", "arch", "layer", "cycles", "energy_uj"), TIMELOOP_RUNS,
                         ids=[run[0] for run in TIMELOOP_RUNS])
def test_at_least_as_good_as_timeloops_mapper(folder, arch, layer, cycles, energy_uj):
    """Timeloop's best mapping ("Cycles:" and "Energy:" in timeloop-mapper.stats.txt) under
    the architecture's own template; our energies use the same ERT and the analysis that
    reproduces Timeloop's counts, so the comparison is like for like."""
    stats = shared_file(f"timeloop_ref/{folder}/timeloop-mapper.stats.txt").read_text()
    assert f"Cycles: {cycles}" in stats
    assert f"Energy: {energy_uj:.2f} uJ" in stats
    architecture = load_architecture(arch)
    result = search(layer, architecture)
    assert_valid(result, layer, architecture)
    assert result.cycles <= cycles
    assert result.energy_pj * 1e-6 <= energy_uj


def test_eyeriss_like_default_conv_uses_every_pe():
    """Timeloop's mapping leaves 42 of 168 PEs idle (86,016 cycles, 75 %); 12 of M·S or
    C·M on the rows and Q14 on the 14 columns use them all: 10,838,016 MACs / 168 =
    64,512 cycles."""
    result = search(DEFAULT_CONV, ARCHS["eyeriss_like"])
    assert result.cycles == 10_838_016 // 168 == 64_512
    assert result.analysis.utilized_macs == 168


PERFECT = [  # (architecture, layer): dimensions that divide the array exactly
    ("eyeriss_like", Layer("rs", N=1, C=4, H=28, W=28, M=16, R=3, S=3, padding=1)),
    ("eyeriss_v1", Layer("rs", N=1, C=8, H=14, W=14, M=32, R=3, S=3, padding=1)),
    ("systolic_ws", Layer("ws", N=1, C=32, H=8, W=8, M=64)),
    ("systolic_os", Layer("os", N=1, C=5, H=32, W=32, M=64)),
    ("simba_like", Layer("simba", N=1, C=16, H=8, W=8, M=64)),
    (str(FIXTURES / "ispass2020_06_eyeriss.yaml"), VGG_CONV3_1),
]


@pytest.mark.parametrize(("arch_name", "layer"), PERFECT, ids=[p[0].split("/")[-1]
                                                                for p in PERFECT])
def test_perfect_utilisation_closed_form(arch_name, layer):
    """cycles = MACs / MAC units when the array divides the layer."""
    arch = load_architecture(arch_name)
    macs = layer.N * layer.M * layer.C * layer.P * layer.Q * layer.R * layer.S
    assert macs % arch.num_macs == 0
    result = search(layer, arch)
    assert result.cycles == macs // arch.num_macs
    assert result.utilization == 1.0


def test_grouped_layer_runs_its_groups_one_after_another():
    depthwise = Layer("dw", N=1, C=32, H=14, W=14, M=32, R=3, S=3, padding=1, groups=32)
    one = Layer("one", N=1, C=1, H=14, W=14, M=1, R=3, S=3, padding=1)
    arch = ARCHS["eyeriss_v1"]
    grouped, single = search(depthwise, arch), search(one, arch)
    assert grouped.cycles == 32 * single.cycles
    assert grouped.mapping == single.mapping


def test_bound_cycles_add_the_dram_bandwidth_floor():
    """eyeriss_v1 moves 8 bytes per cycle: a fully connected layer is bound by its weights
    (2048 x 1000 16-bit words read once at least)."""
    fc = Layer.fc("fc", 2048, 1000)
    arch = ARCHS["eyeriss_v1"]
    result = search(fc, arch)
    floor = ceil(result.dram_words * 2 / arch.dram.bandwidth_bytes_per_cycle)
    assert result.bound_cycles == max(result.cycles, floor)
    assert result.dram_words >= 2048 * 1000 + 2048 + 1000
    assert result.bound_cycles > result.cycles
    unbounded = search(DEFAULT_CONV, ARCHS["eyeriss_like"])   # .inf bandwidth
    assert unbounded.bound_cycles == unbounded.cycles


def test_without_a_default_dataflow_every_template_is_tried():
    arch = replace(ARCHS["simba_like"], dataflow=None)
    best = search(DEFAULT_CONV, arch)
    each = [search(DEFAULT_CONV, arch, dataflow=name) for name in DATAFLOWS]
    assert best.dataflow in DATAFLOWS
    assert (best.bound_cycles, best.energy_pj) == min((r.bound_cycles, r.energy_pj)
                                                     for r in each)


def test_energy_first_objective_trades_cycles_for_energy():
    arch = ARCHS["eyeriss_like"]
    fast = search(DEFAULT_CONV, arch)
    frugal = search(DEFAULT_CONV, arch, objective=("energy", "cycles"))
    assert frugal.energy_pj <= fast.energy_pj
    assert fast.bound_cycles <= frugal.bound_cycles


# ----------------------------------------------------------------------------------------
# Determinism, the budget and the cache


def fingerprint(result: MapperResult) -> tuple:
    """Everything a search decides (the layer's name aside)."""
    return (dump_mapping(replace(result.mapping, layer=None)), result.cycles, result.bound_cycles,
            result.energy_pj, result.dram_words, result.candidates_evaluated,
            result.candidates_rejected, result.budget_exhausted)


def test_same_result_twice_and_whatever_the_cache_holds():
    arch = ARCHS["eyeriss_v1"]
    layer = get_model("resnet50")[7]
    clear_cache()
    cold = search(layer, arch)
    clear_cache()
    for other in get_model("resnet18"):   # a warm cache full of other shapes
        search(other, arch)
    warm = search(layer, arch)
    clear_cache()
    again = search(layer, arch)
    assert fingerprint(cold) == fingerprint(warm) == fingerprint(again)


def test_layers_differing_only_in_name_share_one_search():
    arch = ARCHS["eyeriss_like"]
    clear_cache()
    first = search(replace(DEFAULT_CONV, name="first"), arch)
    hits = cache_info().hits
    second = search(replace(DEFAULT_CONV, name="second"), arch)
    assert cache_info().hits == hits + 1
    assert second.mapping == first.mapping
    assert (second.layer, second.mapping.layer, second.analysis.layer) == ("second",) * 3
    assert fingerprint(first) == fingerprint(second)


def test_resnet50_maps_each_shape_once():
    clear_cache()
    layers = get_model("resnet50")
    results = map_layers(layers, ARCHS["eyeriss_v1"])
    shapes = {replace(layer, name="x", input_tensor="x") for layer in layers}
    assert [r.layer for r in results] == [layer.name for layer in layers]
    assert cache_info().misses == len(shapes) < len(layers)


def test_candidate_budget_cuts_deterministically_and_still_maps():
    arch = ARCHS["eyeriss_v1"]
    small = SearchOptions(max_candidates=40)
    first = search(DEFAULT_CONV, arch, options=small)
    clear_cache()
    second = search(DEFAULT_CONV, arch, options=small)
    assert first.budget_exhausted == "candidates"
    assert fingerprint(first) == fingerprint(second)
    assert_valid(first, DEFAULT_CONV, arch)
    assert search(DEFAULT_CONV, arch).cycles <= first.cycles


def test_time_budget_is_a_safety_net_that_says_so():
    arch = ARCHS["eyeriss_like"]
    result = search(VGG_CONV3_1, arch, time_budget_s=0.0)
    assert result.budget_exhausted == "time"
    assert_valid(result, VGG_CONV3_1, arch)
    assert search(VGG_CONV3_1, arch).budget_exhausted is None


# ----------------------------------------------------------------------------------------
# Errors


def tiny_arch(register_words: int) -> Architecture:
    return Architecture("tiny", 1000.0, (
        StorageLevel("DRAM", frozenset(Tensor), 8, 64, is_dram=True),
        StorageLevel("buffer", frozenset({I, O}), 8, 64, 64, fanout=Fanout(4, 1)),
        StorageLevel("regs", frozenset({W, O}), 8, 8, register_words),
    ), DramSpec(8.0), ComputeSpec(), dataflow="weight_stationary")


def test_nothing_fits_is_one_line_naming_the_layer_and_the_level():
    layer = Layer("conv7", N=1, C=4, H=8, W=8, M=4, R=3, S=3)
    with pytest.raises(MappingError) as err:
        search(layer, tiny_arch(register_words=1))
    message = str(err.value)
    assert "\n" not in message
    assert message == ("layer conv7: nothing fits level 'regs': it holds 1 words, the "
                       "smallest tiles of outputs, weights need 2")


def test_a_tight_architecture_still_maps():
    layer = Layer("conv7", N=1, C=4, H=8, W=8, M=4, R=3, S=3)
    arch = tiny_arch(register_words=2)
    assert_valid(search(layer, arch), layer, arch)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(MappingError, match="did you mean 'weight_stationary'"):
        search(DEFAULT_CONV, ARCHS["eyeriss_like"], dataflow="weight_stationery")
    with pytest.raises(MappingError, match=r"^objective: expected one of"):
        search(DEFAULT_CONV, ARCHS["eyeriss_like"], objective=("latency", "energy"))
    with pytest.raises(ValueError, match="beam_width must be a positive integer"):
        SearchOptions(beam_width=0)


def test_useful_factors_give_every_tile_count_once():
    for n in range(1, 80):
        factors = useful_factors(n)
        counts = [ceil(n / f) for f in factors]
        assert counts == sorted(set(counts), reverse=True)
        assert set(counts) == {ceil(n / f) for f in range(2, n + 1)}
        for f in factors:   # the smallest factor giving its tile count
            assert ceil(n / (f - 1)) > ceil(n / f)
