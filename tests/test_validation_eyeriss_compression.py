"""Eyeriss v1 AlexNet CONV1-5 DRAM compression ratios against the Sparseloop artifact.

Reference: ../shared/timeloop_ref/sparseloop_micro22_artifact_derived/
eyeriss_v1_alexnet_table7_dram_compression_derived.txt (numbers extracted from
Accelergy-Project/micro22-sparseloop-artifact@de0374a, table7_eyeriss_setup): per layer the
dense DRAM words (W, I, O), the dense cycles and the "DRAM compression ratio (Eyeriss
formula)" = dense words / (W + I/0.76 + O/0.76), CONV1's inputs left uncompressed.

Each layer (the file's shapes and densities, batch 4, exact-density uniform masks for inputs,
weights and outputs) runs through ``simulate`` on the bundled ``eyeriss_v1`` (RLE inputs and
outputs at DRAM) and on the same architecture with every ``compression`` removed, with the
same mapping. Our ratio is the DRAM traffic of the second over the first (bytes, reads and
write-backs of all three tensors) — the compression the simulator actually achieves, tile by
tile, rather than the formula's fixed 1/0.76 per non-zero.

The ratio depends on how much of the traffic is weights (never compressed), i.e. on the
mapping, so the mappings (tests/data/mappings/sparseloop_table7_conv*.yaml) are chosen to
reproduce the artifact's dense DRAM words and dense cycles exactly (asserted below).
"""

from __future__ import annotations

import pytest

from accelsim.analysis.analyze import analyze
from accelsim.arch.loader import load_architecture
from accelsim.arch.spec import Tensor
from accelsim.mapping.yaml_io import load_mapping
from accelsim.pipeline import simulate
from accelsim.validate import (
    ALEXNET_SHAPES,
    alexnet_trace,
    read_eyeriss_reference,
    without_compression,
)
from tests.conftest import REPO, shared_file

REFERENCE = ("timeloop_ref/sparseloop_micro22_artifact_derived/"
             "eyeriss_v1_alexnet_table7_dram_compression_derived.txt")
MAPPINGS = REPO / "tests" / "data" / "mappings"
TARGET = 0.10

# The file's "Workload shapes and densities" table (C, M, P=Q, R=S, stride, densities of
# inputs, weights, outputs) and the helpers that build the runs live in accelsim.validate,
# which `accelsim validate` shares.
SHAPES = ALEXNET_SHAPES


def read_reference() -> dict[str, dict[str, object]]:
    """Per layer: dense (W, I, O) words, the Eyeriss-formula ratio and the dense cycles."""
    return read_eyeriss_reference(shared_file(REFERENCE))


@pytest.fixture(scope="module")
def runs():
    arch = load_architecture("eyeriss_v1")
    trace = alexnet_trace()
    mappings = {lt.layer.name: load_mapping(MAPPINGS / f"sparseloop_table7_{lt.layer.name}.yaml",
                                            lt.layer, arch)
                for lt in trace.layers}
    compressed = simulate(arch, trace, mappings=mappings)
    dense = simulate(without_compression(arch), trace, mappings=mappings)
    # The artifact leaves CONV1's inputs (the image, 99.9 % dense) uncompressed.
    artifact_conv1 = simulate(without_compression(arch, frozenset({Tensor.INPUTS})), trace,
                              mappings=mappings, layers=["conv1"])
    return {"arch": arch, "trace": trace, "mappings": mappings,
            "compressed": {r.name: r for r in compressed.layers},
            "dense": {r.name: r for r in dense.layers},
            "artifact_conv1": artifact_conv1.layers[0]}


def test_mappings_reproduce_the_artifacts_dense_traffic_and_cycles(runs):
    """The file's "dense DRAM (W,I,O words)" and "dense cycles" columns, equal."""
    reference = read_reference()
    for layer_trace in runs["trace"].layers:
        name = layer_trace.layer.name
        analysis = analyze(layer_trace.layer, runs["arch"], runs["mappings"][name])
        words = (analysis.get("DRAM", Tensor.WEIGHTS).reads,
                 analysis.get("DRAM", Tensor.INPUTS).reads,
                 analysis.get("DRAM", Tensor.OUTPUTS).updates)
        assert words == reference[name]["dense"], name
        assert analysis.cycles == reference[name]["dense_cycles"], name
        dense = runs["dense"][name]
        assert dense.dram_read_bytes[Tensor.WEIGHTS] == 2 * words[0]
        assert dense.dram_read_bytes[Tensor.INPUTS] == 2 * words[1]
        assert dense.dram_write_bytes[Tensor.OUTPUTS] == 2 * words[2]


def ratio(dense, compressed) -> float:
    return dense.dram_bytes / compressed.dram_bytes


@pytest.mark.parametrize("name", ["conv2", "conv3", "conv4", "conv5"])
def test_dram_compression_ratio(runs, name):
    """The file's "DRAM compression ratio (Eyeriss formula)": 1.36 / 1.70 / 1.87 / 1.94;
    ours 1.345 / 1.688 / 1.857 / 1.926 (each −0.7 to −1.1 %: 64-bit words of three 16-bit
    values cost 4/3 words per non-zero, 1.3 % more than the formula's 1/0.76)."""
    expected = read_reference()[name]["ratio"]
    got = ratio(runs["dense"][name], runs["compressed"][name])
    assert got == pytest.approx(expected, rel=TARGET)
    assert -0.015 < got / expected - 1 < 0.0  # what we achieve; 4/3 > 1/0.76


def test_conv1_ratio_as_the_artifact_compresses_it(runs):
    """CONV1, inputs uncompressed as in the artifact's formula: 1.24 in the file; ours
    1.239."""
    expected = read_reference()["conv1"]["ratio"]
    got = ratio(runs["dense"]["conv1"], runs["artifact_conv1"])
    assert got == pytest.approx(expected, rel=0.01)


def test_conv1_ratio_on_the_bundled_eyeriss_v1(runs):
    """The bundled eyeriss_v1 run-length codes every input, CONV1's 99.9 %-dense image
    too, where RLE costs 4/3 of the dense words: 1.123, 9.4 % under the file's 1.24 —
    within the target, for a reason docs/validation.md gives."""
    expected = read_reference()["conv1"]["ratio"]
    dense, compressed = runs["dense"]["conv1"], runs["compressed"]["conv1"]
    assert ratio(dense, compressed) == pytest.approx(expected, rel=TARGET)
    grown = compressed.dram_read_bytes[Tensor.INPUTS] / dense.dram_read_bytes[Tensor.INPUTS]
    assert grown == pytest.approx(4 / 3, rel=0.01)
