"""Bundled configs and fixtures against their sources: Timeloop's arch.yaml files (level by
level, attribute by attribute) and Timeloop's own report of them (stats.txt SPECS: size,
word bits, block size, instances, bandwidth); Eyeriss v1 and SCALE-Sim as published."""

from __future__ import annotations

import dataclasses
import math

import pytest
import yaml

from accelsim.arch import Tensor, bundled_names, load_architecture
from accelsim.arch.bundled import bundled_dir
from tests.conftest import REPO, shared_file
from tests.test_energy_timeloop import parse_stats

FIXTURES = REPO / "tests" / "data" / "arch"
BUNDLED = ("eyeriss_like", "eyeriss_v1", "eyeriss_v2_like", "scnn_like", "simba_like",
           "systolic_os", "systolic_ws")


def test_bundled_names():
    assert bundled_names() == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_loads_and_cites_its_source(name):
    arch = load_architecture(name)
    assert arch.name == name
    header = (bundled_dir() / f"{name}.yaml").read_text().split("\nversion:")[0]
    assert header.startswith(f"# {name} — ") and "Source" in header
    assert arch.energy is not None and arch.dataflow is not None


def test_repository_hw_configs_is_the_bundled_folder():
    assert (REPO / "hw_configs").resolve() == bundled_dir().resolve()
    by_path = load_architecture(REPO / "hw_configs" / "eyeriss_like.yaml")
    assert by_path == dataclasses.replace(load_architecture("eyeriss_like"),
                                          source=by_path.source)


# --- Timeloop arch.yaml (v0.4) read as plain data ----------------------------------------


class _TaggedLoader(yaml.SafeLoader):
    """Reads Timeloop's ``!Component``/``!Container``/``!Parallel`` nodes as mappings."""


def _tagged(loader, suffix, node):
    data = loader.construct_mapping(node, deep=True) if isinstance(node, yaml.MappingNode) \
        else loader.construct_sequence(node, deep=True)
    return {"tag": suffix, **data} if isinstance(data, dict) else data


_TaggedLoader.add_multi_constructor("!", _tagged)


def timeloop_levels(relative: str) -> list[dict]:
    """Storage components outermost first, each with the spatial fan-out below it."""
    document = yaml.load(shared_file(relative).read_text(), Loader=_TaggedLoader)

    def walk(nodes):
        for node in nodes:
            yield from walk(node["nodes"]) if node["tag"] == "Parallel" else [node]

    levels: list[dict] = []
    for node in walk(document["architecture"]["nodes"]):
        if node["tag"] == "Container" and levels:
            spatial = node.get("spatial", {})
            levels[-1]["x"] *= spatial.get("meshX", 1)
            levels[-1]["y"] *= spatial.get("meshY", 1)
        elif node["tag"] == "Component" and node.get("class") != "intmac":
            levels.append({"x": 1, "y": 1, **node})
    return levels


@pytest.mark.parametrize(("relative", "arch_name"), [
    ("timeloop_ref/eyeriss_like/arch.yaml", "eyeriss_like"),
    ("timeloop_ref/ispass2020_06_eyeriss_vgg02_layer5/arch_eyeriss_like.yaml",
     str(FIXTURES / "ispass2020_06_eyeriss.yaml")),
    ("timeloop_ref/simple_weight_stationary/arch.yaml",
     str(FIXTURES / "simple_weight_stationary.yaml")),
    ("timeloop_ref/simple_output_stationary/arch.yaml",
     str(FIXTURES / "simple_output_stationary.yaml")),
])
def test_identical_to_timeloop_arch(relative, arch_name):
    arch = load_architecture(arch_name)
    source = timeloop_levels(relative)
    assert [level["name"] for level in source] == [level.name for level in arch.levels]
    for ours, theirs in zip(arch.levels, source, strict=True):
        attributes = theirs["attributes"]
        assert ours.word_bits == attributes["datawidth"], ours.name
        assert ours.width_bits == attributes["width"], ours.name
        assert ours.depth == attributes.get("depth"), ours.name
        assert ours.banks == attributes.get("n_banks", 1), ours.name
        assert ours.read_bandwidth_words_per_cycle == attributes.get("read_bandwidth")
        assert ours.write_bandwidth_words_per_cycle == attributes.get("write_bandwidth")
        assert (ours.fanout.x, ours.fanout.y) == (theirs["x"], theirs["y"]), ours.name
        keep = theirs.get("constraints", {}).get("dataspace", {}).get("keep")
        expected = frozenset(Tensor) if keep is None else \
            frozenset(Tensor(name.lower()) for name in keep)
        assert ours.keeps == expected, ours.name
    assert arch.dram.bandwidth_bytes_per_cycle == math.inf  # Timeloop models no limit


@pytest.mark.parametrize(("folder", "arch_name"), [
    ("eyeriss_like", "eyeriss_like"),
    ("simba_like", "simba_like"),
    ("ispass2020_06_eyeriss_vgg02_layer5", str(FIXTURES / "ispass2020_06_eyeriss.yaml")),
    ("simple_weight_stationary", str(FIXTURES / "simple_weight_stationary.yaml")),
    ("simple_output_stationary", str(FIXTURES / "simple_output_stationary.yaml")),
])
def test_as_timeloop_reports_it(folder, arch_name):
    """stats.txt SPECS of every level: what Timeloop made of its arch.yaml."""
    arch = load_architecture(arch_name)
    stats = parse_stats(shared_file(f"timeloop_ref/{folder}/timeloop-mapper.stats.txt"))
    assert stats[arch.compute.name].number("Instances") == arch.num_macs
    assert stats[arch.compute.name].number("Word bits") == arch.compute.word_bits
    storage = {name: level for name, level in stats.items() if level.spaces}
    assert sorted(storage) == sorted(level.name for level in arch.levels)
    for index, level in enumerate(arch.levels):
        specs = stats[level.name]
        assert specs.number("Word bits") == level.word_bits, level.name
        assert specs.number("Block size") == level.block_words, level.name
        assert specs.number("Instances") == arch.instances(index), level.name
        size = specs.specs["Size"]
        assert (None if size == "-" else int(size)) == level.capacity_words, level.name
        for key, value in (("Read bandwidth", level.read_bandwidth_words_per_cycle),
                           ("Write bandwidth", level.write_bandwidth_words_per_cycle)):
            text = specs.specs[key]
            assert (None if text == "-" else float(text)) == value, (level.name, key)


def test_eyeriss_v1_as_published():
    """Chen et al., JSSC 2017: 12 x 14 PEs, 16-bit, spads 12/224/24 words, 108 KB GLB,
    200 MHz, 64-bit DRAM bus."""
    arch = load_architecture("eyeriss_v1")
    assert arch.clock_mhz == 200 and arch.num_macs == 168
    dram, glb, ifmap, weights, psum = arch.levels
    assert (glb.fanout.x, glb.fanout.y) == (14, 12)
    assert all(level.word_bits == 16 for level in arch.levels)
    assert arch.compute.word_bits == 16
    assert glb.capacity_bytes == 108 * 1024 and glb.banks == 27
    assert glb.keeps == {Tensor.INPUTS, Tensor.OUTPUTS}
    assert (ifmap.capacity_words, weights.capacity_words, psum.capacity_words) == (12, 224, 24)
    assert (ifmap.keeps, weights.keeps, psum.keeps) == \
        ({Tensor.INPUTS}, {Tensor.WEIGHTS}, {Tensor.OUTPUTS})
    assert dram.width_bits == 64 and arch.dram.bandwidth_bytes_per_cycle == 64 / 8
    assert arch.dataflow == "row_stationary" and arch.energy.name == "eyeriss_65nm"


@pytest.mark.parametrize(("name", "stationary", "dataflow"), [
    ("systolic_ws", Tensor.WEIGHTS, "weight_stationary"),
    ("systolic_os", Tensor.OUTPUTS, "output_stationary"),
])
def test_systolic_as_scale_sim(name, stationary, dataflow):
    """SCALE-Sim configs/scale.cfg: 32 x 32, 64 KB ifmap/filter/ofmap SRAMs, 1-byte words,
    Bandwidth 10 words/cycle per SRAM port (three ports → one 30-byte/cycle channel)."""
    arch = load_architecture(name)
    _, ifmap, filters, ofmap, pe = arch.levels
    assert arch.dataflow == dataflow and arch.num_macs == 32 * 32
    assert (ofmap.fanout.x, ofmap.fanout.y) == (32, 32)
    for sram, tensor in ((ifmap, Tensor.INPUTS), (filters, Tensor.WEIGHTS),
                         (ofmap, Tensor.OUTPUTS)):
        assert sram.capacity_bytes == 64 * 1024 and sram.keeps == {tensor}
        assert sram.read_bandwidth_words_per_cycle == 32  # one array edge per cycle
    assert all(level.word_bits == 8 for level in arch.levels)
    assert arch.dram.bandwidth_bytes_per_cycle == 3 * 10 and arch.dram.burst_bytes == 1
    assert arch.dram.latency_cycles == 1
    assert pe.keeps == {stationary} and pe.capacity_words == 1 and arch.instances(4) == 1024


def test_simba_like_instances():
    arch = load_architecture("simba_like")
    assert [arch.instances(i) for i in range(len(arch.levels))] == [1, 1, 16, 64, 64, 256]
