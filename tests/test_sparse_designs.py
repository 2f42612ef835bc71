"""The bundled sparse designs ``eyeriss_v2_like`` and ``scnn_like`` (issue 4, item 5): they
load with the numbers their headers cite (Chen et al., JETCAS 2019 and the Sparseloop
artifact's Eyeriss v2 PE; Parashar et al., ISCA 2017 Table III), store what the headers say
in the formats the headers say, map every ResNet-18 and ResNet-50 layer, and skipping never
costs cycles or energy: not against the same design without its sparse actions, and not on
the pruned trace against the dense-trained one."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from accelsim.arch import Tensor, architecture_to_dict, load_architecture
from accelsim.arch.bundled import bundled_dir
from accelsim.arch.loader import architecture_from_yaml
from accelsim.arch.spec import Policy
from accelsim.mapping.mapper import search
from accelsim.mapping.model import check_mapping
from accelsim.pipeline import _resolve_trace, expected_occupancy, simulate
from tests.conftest import REPO

DESIGNS = ("eyeriss_v2_like", "scnn_like")
W, I, O = Tensor.WEIGHTS, Tensor.INPUTS, Tensor.OUTPUTS

CSC_WEIGHTS = {"index_bits": 4, "pointer_bits": 7, "row_axes": 1}   # M x C.R.S
CSC_INPUTS = {"index_bits": 4, "pointer_bits": 4, "row_axes": 2}    # N.C x H.W
# What each header states, component by component: tensor -> (format, format parameters).
COMPRESSION = {
    "eyeriss_v2_like": {
        "DRAM": {W: ("csc", CSC_WEIGHTS), I: ("csc", CSC_INPUTS)},
        "shared_glb": {I: ("csc", CSC_INPUTS)},
        "ifmap_spad": {I: ("csc", CSC_INPUTS)},
        "weights_spad": {W: ("csc", CSC_WEIGHTS)},
        "psum_spad": {},
    },
    "scnn_like": {
        "DRAM": {t: ("zero_run", {"run_bits": 4}) for t in (W, I, O)},
        "act_ram": {t: ("zero_run", {"run_bits": 4}) for t in (I, O)},
        "weight_fifo": {W: ("zero_run", {"run_bits": 4})},
        "accumulator": {},
    },
}
HEADER_WORDS = {"eyeriss_v2_like": ("CSC", "csc with 4-bit indices", "7-bit pointers",
                                    "4-bit pointers"),
                "scnn_like": ("zero_run with 4-bit runs", "4-bit zero-run indices")}


def header(name: str) -> str:
    return (bundled_dir() / f"{name}.yaml").read_text().split("\nversion:")[0]


def without_sparse_actions(arch):
    """The same hardware with every gate/skip removed (compression kept): dense timing."""
    data = architecture_to_dict(arch)
    for section in (data["dram"], *data["levels"], data["compute"]):
        section.pop("sparse", None)
    return architecture_from_yaml(data, f"{arch.name} without sparse actions")


@pytest.fixture(scope="module")
def runs():
    """ResNet-18, dense-trained and TL1-pruned, on each design and on its dense twin."""
    results = {}
    for name in DESIGNS:
        arch = load_architecture(name)
        results[name, "resnet18"] = simulate(arch, "resnet18")
        results[name, "resnet18_tl1_pruned"] = simulate(arch, "resnet18_tl1_pruned")
        results[name, "no_skip"] = simulate(without_sparse_actions(arch), "resnet18")
    return results


@pytest.mark.parametrize("name", DESIGNS)
def test_loads_and_its_header_cites_sources_and_limits(name):
    arch = load_architecture(name)
    assert arch.name == name and arch.energy is not None and arch.dataflow is not None
    text = header(name)
    assert text.startswith(f"# {name} — ") and "Source" in text
    assert "approximated" in text.lower() and "not modelled" in text.lower()


def test_eyeriss_v2_like_as_published():
    """192 PEs (8 x 2 clusters of 3 x 4) with 2 MACs each, 200 MHz, 8-bit data, 20-bit
    psums, 216 kB of GLB clusters, spads 16 x 12 b / 96 x 24 b / 32 x 20 b."""
    arch = load_architecture("eyeriss_v2_like")
    dram, glb, ifmap, weights, psum = arch.levels
    assert arch.clock_mhz == 200 and arch.dataflow == "row_stationary"
    assert (glb.fanout.x, glb.fanout.y) == (2 * 4, 8 * 3)
    assert arch.instances(2) == 192 and arch.num_macs == 384
    assert glb.capacity_bytes == 16 * (3 * 1536 + 4 * 2304)
    assert glb.keeps == {I, O}                  # weights bypass the GLB
    assert ifmap.depth * ifmap.width_bits == 16 * 12       # count bits included
    assert weights.depth * weights.width_bits == 96 * 24
    assert psum.word_bits == 20 and psum.capacity_words == 32
    assert all(level.word_bits == 8 for level in (dram, glb, ifmap, weights))
    assert arch.energy.name == "eyeriss_65nm"


def test_scnn_like_as_published():
    """Table III: 64 PEs x 4 x 4 multipliers, 16-bit, IARAM/OARAM 10 KB each per PE, 50-entry
    (500 B) weight FIFO, accumulator of 32 banks x 32 entries of 24 bits, 1 GHz."""
    arch = load_architecture("scnn_like")
    _, act_ram, fifo, accumulator = arch.levels
    assert arch.clock_mhz == 1000 and arch.dataflow == "output_stationary"
    assert (act_ram.fanout.x, act_ram.fanout.y) == (8, 8)
    assert (accumulator.fanout.x, accumulator.fanout.y) == (4, 4)
    assert arch.instances(3) == 64 and arch.num_macs == 1024
    assert act_ram.capacity_bytes == 64 * 2 * 10 * 1024 and act_ram.keeps == {I, O}
    assert fifo.depth == 50 and fifo.capacity_bytes == 500 and fifo.keeps == {W}
    assert accumulator.banks == 32 and accumulator.capacity_words == 32 * 32
    assert accumulator.word_bits == 24 and arch.compute.word_bits == 16


@pytest.mark.parametrize("name", DESIGNS)
def test_compression_is_what_the_header_says(name):
    arch = load_architecture(name)
    for level in arch.levels:
        expected = COMPRESSION[name][level.name]
        stored = {tensor: spec for tensor, spec in level.compression}
        assert set(stored) == set(expected), level.name
        for tensor, (fmt, params) in expected.items():
            spec = stored[tensor]
            assert spec.format.value == fmt, (level.name, tensor)
            assert spec.value_bits == level.word_bits, (level.name, tensor)
            for key, value in params.items():
                assert getattr(spec, key) == value, (level.name, tensor, key)
    text = " ".join(" ".join(line.lstrip("#").split()) for line in header(name).splitlines())
    for words in HEADER_WORDS[name]:
        assert words in text, words


@pytest.mark.parametrize("name", DESIGNS)
def test_both_operands_skipped(name):
    arch = load_architecture(name)
    (action,) = arch.compute.sparse.actions
    assert action.kind is Policy.SKIP and action.condition_on == {I, W}
    assert all(a.kind is Policy.SKIP for level in arch.levels for a in level.sparse.actions)


@pytest.mark.parametrize("name", DESIGNS)
def test_every_resnet50_layer_maps(name):
    arch = load_architecture(name)
    for layer_trace in _resolve_trace("resnet50").layers:
        found = search(layer_trace.layer, arch,
                       occupancy=expected_occupancy(layer_trace, arch))
        check_mapping(found.mapping, layer_trace.layer, arch)
        assert found.cycles > 0


@pytest.mark.parametrize("name", DESIGNS)
def test_every_resnet18_layer_maps_and_runs(runs, name):
    result = runs[name, "resnet18"]
    trace = _resolve_trace("resnet18")
    assert [layer.name for layer in result.layers] == [lt.layer.name for lt in trace.layers]
    for layer, layer_trace in zip(result.layers, trace.layers, strict=True):
        check_mapping(layer.mapping, layer_trace.layer, result.arch)
        assert layer.timing.total_cycles >= layer.timing.compute_cycles > 0
        assert layer.energy.total_pj > 0 and layer.dram_bytes > 0
        # Both operands skipped: the MACs performed are exactly the effectual ones.
        (compute,) = [c for c in layer.sparse_counts if c.access == "compute"]
        assert compute.actual == layer.effectual_macs
        assert compute.skipped == layer.dense_macs - layer.effectual_macs


@pytest.mark.parametrize("name", DESIGNS)
def test_skipping_never_costs_cycles_or_energy(runs, name):
    skip, dense = runs[name, "resnet18"], runs[name, "no_skip"]
    for s, d in zip(skip.layers, dense.layers, strict=True):
        assert s.mapping == d.mapping, s.name
        assert s.timing.compute_cycles <= d.timing.compute_cycles, s.name
        assert s.timing.total_cycles <= d.timing.total_cycles, s.name
        assert s.energy.total_pj <= d.energy.total_pj, s.name
    assert skip.compute_cycles < dense.compute_cycles
    assert skip.energy_pj < dense.energy_pj


@pytest.mark.parametrize("name", DESIGNS)
def test_pruned_trace_never_costs_more_per_layer(runs, name):
    dense, pruned = runs[name, "resnet18"], runs[name, "resnet18_tl1_pruned"]
    for d, p in zip(dense.layers, pruned.layers, strict=True):
        assert p.effectual_macs <= d.effectual_macs, d.name
        assert p.timing.total_cycles <= d.timing.total_cycles, d.name
        assert p.energy.total_pj <= d.energy.total_pj, d.name
        assert p.dram_bytes <= d.dram_bytes, d.name
    assert pruned.total_cycles < dense.total_cycles and pruned.energy_pj < dense.energy_pj


def case_study_script():
    path = REPO / "scripts" / "sparsity_case_study.py"
    spec = importlib.util.spec_from_file_location("sparsity_case_study", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_case_study_page_is_up_to_date(runs):
    """docs/sparsity-case-study.md is what ``python scripts/sparsity_case_study.py`` writes
    (the script alone takes about 12 s; here the designs' runs above are reused)."""
    study = case_study_script()
    pairs = study.run_all([name for name in study.DESIGNS if name not in DESIGNS])
    for name in DESIGNS:
        dense = runs[name, study.DENSE]
        pairs[name] = study.Pair(dense.arch, dense, runs[name, study.PRUNED])
    page = study.render({name: pairs[name] for name in study.DESIGNS})
    assert page == study.PAGE.read_text(encoding="utf-8"), \
        "docs/sparsity-case-study.md is stale: run python scripts/sparsity_case_study.py"
