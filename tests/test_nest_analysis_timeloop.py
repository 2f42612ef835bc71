"""The nest analysis against Timeloop's own outputs, number for number.

For each of four Timeloop runs in ../shared/timeloop_ref/ (Accelergy-Project/
timeloop-accelergy-exercises@2d55108) the mapping is read twice — from our YAML fixture in
tests/data/mappings/ and straight from ``timeloop-mapper.map.txt`` — and every per-instance
count of ``timeloop-mapper.stats.txt`` (scalar reads, fills, updates, temporal reductions,
utilized instances, utilized capacity, for every level and tensor) must come out equal, with
the cycles of its Summary Stats. ``SUMMARY.csv`` (per-level sums) is checked too.
"""

from __future__ import annotations

import csv
import re

import pytest

from accelsim.analysis import analyze, footprints, overflowing_levels
from accelsim.arch.spec import (
    Architecture,
    ComputeSpec,
    DramSpec,
    Fanout,
    StorageLevel,
    Tensor,
)
from accelsim.mapping.timeloop_map import load_timeloop_map
from accelsim.mapping.yaml_io import load_mapping, parse_mapping
from accelsim.workload.layer import Layer
from tests.conftest import REPO, shared_file

W, I, O = Tensor.WEIGHTS, Tensor.INPUTS, Tensor.OUTPUTS
MAPPINGS = REPO / "tests" / "data" / "mappings"

# problem_default_conv.yaml: C3 M32 H=W=224, R=S=3, stride 2, padding 1 -> P=Q=112.
DEFAULT_CONV = Layer("default_conv", N=1, C=3, H=224, W=224, M=32, R=3, S=3, stride=2,
                     padding=1)
# problem_VGG02_layer5.yaml: C128 M256 P=Q=56 R=S=3 stride 1 (VGG-16 conv3_1, padding 1).
VGG_CONV3_1 = Layer("conv3_1", N=1, C=128, H=56, W=56, M=256, R=3, S=3, padding=1)


def eyeriss_like(name: str = "eyeriss_like") -> Architecture:
    """eyeriss_like/arch.yaml (and ispass2020_06.../arch_eyeriss_like.yaml, the same)."""
    return Architecture(name, 1000.0, (
        StorageLevel("DRAM", frozenset(Tensor), 8, 64, is_dram=True),
        StorageLevel("shared_glb", frozenset({I, O}), 8, 64, 16384, banks=32,
                     read_bandwidth_words_per_cycle=16, write_bandwidth_words_per_cycle=16,
                     fanout=Fanout(14, 12)),
        StorageLevel("ifmap_spad", frozenset({I}), 8, 16, 12),
        StorageLevel("weights_spad", frozenset({W}), 8, 16, 192),
        StorageLevel("psum_spad", frozenset({O}), 16, 16, 16),
    ), DramSpec(float("inf")), ComputeSpec(1, 16))


def simple_array(name: str, spad_keeps: Tensor) -> Architecture:
    """simple_weight_stationary/arch.yaml and simple_output_stationary/arch.yaml."""
    return Architecture(name, 1000.0, (
        StorageLevel("DRAM", frozenset(Tensor), 16, 64, is_dram=True),
        StorageLevel("shared_glb", frozenset(Tensor), 16, 64, 16384, banks=32,
                     read_bandwidth_words_per_cycle=16, write_bandwidth_words_per_cycle=16,
                     fanout=Fanout(16, 16)),
        StorageLevel("pe_spad", frozenset({spad_keeps}), 16, 16, 192),
        StorageLevel("weight_reg", frozenset({W}), 16, 16, 1),
        StorageLevel("input_activation_reg", frozenset({I}), 16, 16, 1),
        StorageLevel("output_activation_reg", frozenset({O}), 16, 16, 1),
    ), DramSpec(float("inf")), ComputeSpec(1, 16))


CASES = {
    "eyeriss_like": (DEFAULT_CONV, eyeriss_like(), 86_016),
    "simple_weight_stationary": (DEFAULT_CONV, simple_array("simple_ws", W), 903_168),
    "simple_output_stationary": (DEFAULT_CONV, simple_array("simple_os", O), 677_376),
    "ispass2020_06_eyeriss_vgg02_layer5": (VGG_CONV3_1, eyeriss_like("ispass06"), 5_505_024),
}
FIELDS = {"reads": "Scalar reads (per-instance)", "fills": "Scalar fills (per-instance)",
          "updates": "Scalar updates (per-instance)",
          "temporal_reductions": "Temporal reductions (per-instance)",
          "instances": "Utilized instances (max)", "tile_words": "Utilized capacity"}


def timeloop_stats(case: str) -> tuple[int, dict[tuple[str, Tensor], dict[str, float]]]:
    """Cycles and per-(level, tensor) counts from a dense ``timeloop-mapper.stats.txt``."""
    text = shared_file(f"timeloop_ref/{case}/timeloop-mapper.stats.txt").read_text()
    body, summary = text.split("Summary Stats")
    cycles = int(re.search(r"^Cycles: (\d+)", summary, re.M).group(1))
    stats: dict[tuple[str, Tensor], dict[str, float]] = {}
    level = tensor = None
    for line in body.split("Networks\n")[0].splitlines():
        if m := re.match(r"^=== (\S+) ===", line):
            level, tensor = m.group(1), None
        elif m := re.match(r"^    (Weights|Inputs|Outputs):$", line):
            tensor = Tensor(m.group(1).lower())
            stats[(level, tensor)] = {}
        elif tensor is not None and (m := re.match(r"^\s+(.+?)\s+: ([\d.]+)$", line)):
            stats[(level, tensor)][m.group(1)] = float(m.group(2))
    return cycles, stats


def _check(case: str, mapping) -> None:
    layer, arch, expected_cycles = CASES[case]
    result = analyze(layer, arch, mapping)
    cycles, stats = timeloop_stats(case)
    assert result.cycles == cycles == expected_cycles
    assert result.computes == layer.macs
    ours = {(c.level, c.tensor): c for c in result.counts}
    assert set(ours) == set(stats), "levels x tensors kept must match stats.txt"
    for key, reference in stats.items():
        count = ours[key]
        got = {"reads": count.reads_per_instance, "fills": count.fills_per_instance,
               "updates": count.updates_per_instance,
               "temporal_reductions": count.temporal_reductions / count.instances,
               "instances": count.instances, "tile_words": count.tile_words}
        for field, label in FIELDS.items():
            assert got[field] == reference[label], f"{case} {key} {field}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_yaml_fixture_reproduces_timeloop_stats(case: str) -> None:
    layer, arch, _ = CASES[case]
    _check(case, load_mapping(MAPPINGS / f"{case}.yaml", layer, arch))


@pytest.mark.parametrize("case", sorted(CASES))
def test_parsed_map_txt_reproduces_timeloop_stats(case: str) -> None:
    layer, arch, _ = CASES[case]
    path = shared_file(f"timeloop_ref/{case}/timeloop-mapper.map.txt")
    mapping = load_timeloop_map(path, arch)
    assert mapping == load_mapping(MAPPINGS / f"{case}.yaml", layer, arch)
    _check(case, mapping)


@pytest.mark.parametrize("case", sorted(CASES))
def test_level_sums_match_summary_csv(case: str) -> None:
    """SUMMARY.csv: per-instance reads/fills/updates summed over tensors, per level."""
    layer, arch, _ = CASES[case]
    result = analyze(layer, arch, load_mapping(MAPPINGS / f"{case}.yaml", layer, arch))
    text = shared_file("timeloop_ref/SUMMARY.csv").read_text()
    rows = [row for row in csv.DictReader(text.splitlines()) if row["design"] == case]
    assert rows
    for row in rows:
        if row["level"] == "mac":
            assert int(row["cycles"]) == result.cycles
            assert float(row["utilization_pct"]) == pytest.approx(result.utilization * 100,
                                                                   abs=0.01)
            continue
        counts = result.at_level(row["level"])
        for column, attr in (("level_reads", "reads_per_instance"),
                             ("level_fills", "fills_per_instance"),
                             ("level_updates", "updates_per_instance")):
            assert sum(getattr(c, attr) for c in counts) == int(row[column]), \
                f"{case} {row['level']} {column}"


def test_default_conv_input_footprint_includes_padding() -> None:
    """151,875 = 3 x 225 x 225 input words: the projection's box, padding inside it."""
    layer, arch, _ = CASES["eyeriss_like"]
    result = analyze(layer, arch, load_mapping(MAPPINGS / "eyeriss_like.yaml", layer, arch))
    assert result.get("DRAM", I).tile_words == 3 * 225 * 225 == 151_875
    # DRAM -> GLB inputs: 16 GLB tiles of 3 x 29 x 113, no halo kept across the wrap of the
    # innermost DRAM loop (M4): 157,296 = 16 x 9,831 (stats.txt, shared_glb Inputs fills).
    assert result.get("shared_glb", I).fills == 16 * 9_831 == 157_296
    # psum_spad: 86,016 updates, first write of each of the 28,672 partial sums elided.
    psum = result.get("psum_spad", O)
    assert psum.updates_per_instance - psum.reads_per_instance == 28_672


@pytest.mark.parametrize("case", sorted(CASES))
def test_timeloop_mappings_fit_their_buffers(case: str) -> None:
    layer, arch, _ = CASES[case]
    mapping = load_mapping(MAPPINGS / f"{case}.yaml", layer, arch)
    assert overflowing_levels(layer, arch, mapping) == ()
    used = footprints(layer, arch, mapping)
    _, stats = timeloop_stats(case)
    for (level, tensor), reference in stats.items():
        assert used[level][tensor] == reference["Utilized capacity"]


def test_a_tile_too_big_for_its_buffer_is_reported() -> None:
    """psum_spad holds 16 words (16 x 16 b): M8 x P2 fits, M8 x P4 does not."""
    layer, arch, _ = CASES["eyeriss_like"]
    text = (MAPPINGS / "eyeriss_like.yaml").read_text()
    fits = parse_mapping(text.replace("[P14, Q4]", "[P7, Q4]").replace("[M8]", "[M8, P2]"),
                         "m.yaml", layer, arch)
    assert overflowing_levels(layer, arch, fits) == ()
    assert footprints(layer, arch, fits)["psum_spad"] == {O: 16}
    too_big = parse_mapping(text.replace("[P8, Q2, M4]", "[P4, Q2, M4]")
                            .replace("[P14, Q4]", "[P7, Q4]").replace("[M8]", "[M8, P4]"),
                            "m.yaml", layer, arch)
    assert overflowing_levels(layer, arch, too_big) == ("psum_spad",)
    assert footprints(layer, arch, too_big)["ifmap_spad"] == {I: 9}     # (4-1)*2 + 3 rows
