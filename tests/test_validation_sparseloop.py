"""Sparseloop's Eyeriss-like 04.2.1 (gating) and 04.2.3 (on-chip compression and skipping)
through the whole pipeline, compared with its ``timeloop-mapper.stats.txt``.

AlexNet CONV3, N = 4, densities inputs 0.275 / weights 0.446 / outputs 0.403 as exact-density
uniform random masks (``import_timeloop_problem(..., output_masks=True)``), Sparseloop's
architecture transcribed into ``tests/data/arch/sparseloop_*.yaml`` (energies from its ERT) and
its own mapping parsed from ``timeloop-mapper.map.txt``. The layer is symmetric (P = Q,
R = S), so Timeloop's width/height letter crossing (importers/timeloop.py) does not change a
count and the map's letters are read as ours.

Each assertion cites the stats.txt line it compares with; Sparseloop prints per-instance
counts, multiplied here by the level's "Utilized instances (max)". The target is 10 %; where
we match, the tolerance is 1 %. Where we do not, the test asserts the documented cause
(docs/validation.md, "Sparseloop, sparse") so that a change in either shows up.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from accelsim.arch.spec import Tensor
from accelsim.pipeline import LayerResult
from accelsim.validate_sparseloop import Reference
from accelsim.validate_sparseloop import run as run_design
from accelsim.workload.importers.timeloop import import_timeloop_problem
from tests.conftest import REPO, shared_file

GATING = "timeloop_ref/sparseloop_04.2.1-eyeriss-like-gating"
COMPRESSION = "timeloop_ref/sparseloop_04.2.3-eyeriss-like-onchip-compression"
ARCH = REPO / "tests" / "data" / "arch"
SEED = 0
MATCH = 0.01  # where accelsim and Sparseloop agree (the target is 0.10)
TARGET = 0.10
GAP = ("a documented gap changed (docs/validation.md, \"Sparseloop, sparse\"): "
       "update the page and this test")
def reference(folder: str) -> Reference:
    return Reference(shared_file(f"{folder}/timeloop-mapper.stats.txt"))


def run(folder: str, arch_name: str) -> LayerResult:
    return run_design(shared_file(folder), ARCH / f"{arch_name}.yaml", SEED)


def row(result: LayerResult, component: str, tensor: Tensor | None, access: str):
    (found,) = [r for r in result.sparse_counts
                if (r.component, r.tensor, r.access) == (component, tensor, access)]
    return found


def rle_entries(nbytes: int, run_bits: int = 5, value_bits: int = 16) -> float:
    """(run, value) entries in ``nbytes`` of unpacked RLE: the values moved."""
    return nbytes * 8 / (run_bits + value_bits)


@pytest.fixture(scope="module")
def gating() -> tuple[LayerResult, Reference]:
    return run(GATING, "sparseloop_04.2.1_eyeriss_like_gating"), reference(GATING)


@pytest.fixture(scope="module")
def compression() -> tuple[LayerResult, Reference]:
    return (run(COMPRESSION, "sparseloop_04.2.3_eyeriss_like_onchip_compression"),
            reference(COMPRESSION))


# ----------------------------------------------------------------------------- importer


def test_importer_draws_output_masks_only_when_asked():
    """``output_masks=True`` adds an exact-density output mask and leaves the input and
    weight masks as they were (same seed, same draws)."""
    path = shared_file(f"{GATING}/problem.yaml")
    plain = import_timeloop_problem(path, seed=3).layers[0]
    with_outputs = import_timeloop_problem(path, seed=3, output_masks=True)
    layer_trace = with_outputs.layers[0]
    assert plain.output_mask is None
    assert layer_trace.output_mask.shape == plain.layer.output_shape
    assert int(layer_trace.output_mask.sum()) == round(0.403 * 4 * 384 * 13 * 13)
    assert np.array_equal(layer_trace.input_mask, plain.input_mask)
    assert np.array_equal(layer_trace.weight_mask, plain.weight_mask)
    assert with_outputs.info.source["output_masks"] is True
    assert "Outputs too" in with_outputs.info.notes["masks"]


def test_importer_output_masks_need_an_outputs_density(tmp_path):
    text = shared_file(f"{GATING}/problem.yaml").read_text(encoding="utf-8")
    path = tmp_path / "no_outputs.yaml"
    path.write_text(re.sub(r"\n\s+Outputs: \{.*\}", "", text), encoding="utf-8")
    trace = import_timeloop_problem(path, output_masks=True)
    assert trace.layers[0].output_mask is None
    assert "output_masks" not in trace.info.source


# ----------------------------------------------------------------------------- 04.2.1


def test_gating_computes_and_gated_accesses(gating):
    """04.2.1 stats.txt, level by level: actual computes and every actual/gated count."""
    result, ref = gating
    mac = row(result, "mac", None, "compute")
    # stats.txt, mac: "Algorithmic Computes (total)" 598,081,536 and "Actual Computes
    # (total)" 164,472,423 (= algorithmic × input density); Sparseloop lists the other
    # 433.6 M as neither gated nor skipped and charges them nothing — our gated computes
    # cost 0 (no gated action in its ERT).
    assert mac.algorithmic == ref.total("mac", None, "Algorithmic Computes (total)")
    assert mac.actual == pytest.approx(ref.total("mac", None, "Actual Computes (total)"),
                                       rel=MATCH)
    weights = row(result, "weights_spad", Tensor.WEIGHTS, "read")
    # stats.txt, weights_spad / Weights: "Actual scalar reads (per-instance)" 1,054,311 and
    # "Gated scalar reads (per-instance)" 2,779,545, × "Utilized instances (max)" 156.
    assert weights.actual == pytest.approx(
        ref.total("weights_spad", Tensor.WEIGHTS, "Actual scalar reads (per-instance)"),
        rel=MATCH)
    assert weights.gated == pytest.approx(
        ref.total("weights_spad", Tensor.WEIGHTS, "Gated scalar reads (per-instance)"),
        rel=MATCH)
    # Every other on-chip count is dense in Sparseloop too ("Actual scalar reads / fills /
    # updates (per-instance)" of ifmap_spad, psum_spad, shared_glb): equal, not close.
    for level, tensor in (("ifmap_spad", Tensor.INPUTS), ("psum_spad", Tensor.OUTPUTS),
                          ("shared_glb", Tensor.INPUTS), ("shared_glb", Tensor.OUTPUTS),
                          ("weights_spad", Tensor.WEIGHTS)):
        for access, label in (("read", "reads"), ("fill", "fills"), ("update", "updates")):
            theirs = ref.total(level, tensor, f"Actual scalar {label} (per-instance)")
            if access == "read" and level == "weights_spad":
                continue
            ours = [r.actual for r in result.sparse_counts
                    if (r.component, r.tensor, r.access) == (level, tensor, access)]
            assert (ours[0] if ours else 0) == theirs, (level, tensor, access)


def test_gating_dram_compressed_traffic(gating):
    """04.2.1 stats.txt, DRAM: compressed (RLE) inputs read and outputs written."""
    result, ref = gating
    # DRAM / Inputs "Actual scalar reads (per-instance)" 380,160 values (of 1,382,400
    # algorithmic); each carries a 5-bit run ("Actual scalar format reads", Rank 0 metadata
    # 380,161; Rank 1 UOP payload 390 offsets, metadata_datawidth 5).
    inputs = ref.total("DRAM", Tensor.INPUTS, "Actual scalar reads (per-instance)")
    assert rle_entries(result.dram_read_bytes[Tensor.INPUTS]) == pytest.approx(inputs,
                                                                               rel=MATCH)
    their_bits = inputs * 16 + (380_161 + 390) * 5
    assert result.dram_read_bytes[Tensor.INPUTS] * 8 == pytest.approx(their_bits, rel=MATCH)
    # The energy-priced count follows the DRAM's skip of the inputs' own zeros.
    assert row(result, "DRAM", Tensor.INPUTS, "read").actual == pytest.approx(inputs,
                                                                             rel=MATCH)
    # DRAM / Outputs "Actual scalar updates (per-instance)" 104,613 of 259,584 (format
    # updates: Rank 0 metadata 104,613, Rank 1 payload 7).
    outputs = ref.total("DRAM", Tensor.OUTPUTS, "Actual scalar updates (per-instance)")
    written = result.dram_write_bytes[Tensor.OUTPUTS]
    assert rle_entries(written) == pytest.approx(outputs, rel=MATCH)
    assert written * 8 == pytest.approx(outputs * 16 + (104_613 + 7) * 5, rel=MATCH)
    # Weights are not compressed: "Actual scalar reads" 884,736 words of 16 bits.
    assert result.dram_read_bytes[Tensor.WEIGHTS] == 2 * ref.total(
        "DRAM", Tensor.WEIGHTS, "Actual scalar reads (per-instance)")
    # The priced output updates move only the non-zero values, as Sparseloop counts them.
    update = row(result, "DRAM", Tensor.OUTPUTS, "update")
    assert update.algorithmic == ref.total(
        "DRAM", Tensor.OUTPUTS, "Algorithmic scalar updates (per-instance)")
    assert update.actual == pytest.approx(outputs, rel=MATCH)


def test_gating_energy(gating):
    """04.2.1 stats.txt "Summary Stats": "Energy: 1924.26 uJ" and each level's
    "fJ/Algorithmic-Compute" × 598,081,536."""
    result, ref = gating
    assert result.energy.total_pj == pytest.approx(ref.energy_pj, rel=0.02)
    for level in ("mac", "psum_spad", "weights_spad", "ifmap_spad", "shared_glb"):
        assert result.energy.by_component[level] == pytest.approx(ref.level_pj[level],
                                                                  rel=MATCH), level
    assert result.energy.by_component["DRAM"] == pytest.approx(ref.level_pj["DRAM"],
                                                               rel=MATCH)


def test_gating_saves_no_cycles(gating):
    """Gating saves energy, not time: our cycles are the dense cycles, 3,833,856 = the
    weights_spad's "Algorithmic scalar reads (per-instance)" (one per MAC slot of a PE) and
    the dense CONV3 cycles of the Eyeriss v1 model in
    ../shared/timeloop_ref/sparseloop_micro22_artifact_derived/
    eyeriss_v1_alexnet_table7_dram_compression_derived.txt. Sparseloop's "Cycles: 1916929"
    is not compared (its README: an artefact of charging only actual computes a cycle)."""
    result, ref = gating
    dense = ref.stats[("weights_spad", Tensor.WEIGHTS)]["Algorithmic scalar reads (per-instance)"]
    assert result.timing.total_cycles == result.analysis.cycles == dense == 3_833_856
    assert result.imbalance == 1.0


# ----------------------------------------------------------------------------- 04.2.3


def test_compression_computes_and_skipped_accesses(compression):
    """04.2.3 stats.txt: actual computes, skipped weight reads, and the reads of the
    compressed inputs (only their non-zeros) at DRAM, shared_glb and ifmap_spad."""
    result, ref = compression
    # mac "Actual Computes (total)" 164,472,423.
    assert row(result, "mac", None, "compute").actual == pytest.approx(
        ref.total("mac", None, "Actual Computes (total)"), rel=MATCH)
    # weights_spad / Weights "Actual scalar reads" 1,713,255 and "Skipped scalar reads"
    # 4,516,761 per instance, × 96 utilized instances.
    weights = row(result, "weights_spad", Tensor.WEIGHTS, "read")
    assert weights.actual == pytest.approx(ref.total(
        "weights_spad", Tensor.WEIGHTS, "Actual scalar reads (per-instance)"), rel=MATCH)
    assert weights.skipped == pytest.approx(ref.total(
        "weights_spad", Tensor.WEIGHTS, "Skipped scalar reads (per-instance)"), rel=MATCH)
    # Inputs "Actual scalar reads (per-instance)": ifmap_spad 1,713,255 × 96, shared_glb
    # 3,426,509, DRAM 3,426,509.
    for level in ("ifmap_spad", "shared_glb", "DRAM"):
        assert row(result, level, Tensor.INPUTS, "read").actual == pytest.approx(
            ref.total(level, Tensor.INPUTS, "Actual scalar reads (per-instance)"),
            rel=MATCH), level
    # Dense tensors are equal: psum_spad and shared_glb outputs, weights fills, DRAM weights.
    for level, tensor, access, label in (
            ("psum_spad", Tensor.OUTPUTS, "read", "reads"),
            ("psum_spad", Tensor.OUTPUTS, "fill", "fills"),
            ("psum_spad", Tensor.OUTPUTS, "update", "updates"),
            ("shared_glb", Tensor.OUTPUTS, "read", "reads"),
            ("shared_glb", Tensor.OUTPUTS, "fill", "fills"),
            ("shared_glb", Tensor.OUTPUTS, "update", "updates"),
            ("weights_spad", Tensor.WEIGHTS, "fill", "fills"),
            ("DRAM", Tensor.WEIGHTS, "read", "reads")):
        assert row(result, level, tensor, access).actual == ref.total(
            level, tensor, f"Actual scalar {label} (per-instance)"), (level, access)


def test_compression_fills_of_compressed_inputs_move_only_non_zeros(compression):
    """04.2.3 stats.txt: a compressed buffer is filled with the non-zeros only —
    shared_glb / Inputs "Actual scalar fills (per-instance)" 3,426,509, ifmap_spad 856,628
    per instance; accelsim's actual fills are the algorithmic fills × the input density."""
    result, ref = compression
    for level in ("shared_glb", "ifmap_spad"):
        fill = row(result, level, Tensor.INPUTS, "fill")
        assert fill.algorithmic == ref.total(
            level, Tensor.INPUTS, "Algorithmic scalar fills (per-instance)")
        actual = ref.total(level, Tensor.INPUTS, "Actual scalar fills (per-instance)")
        assert fill.actual == pytest.approx(actual, rel=MATCH), level
        assert fill.skipped == fill.algorithmic - fill.actual


def test_compression_dram_traffic(compression):
    """04.2.3 stats.txt, DRAM: the values moved agree; outputs' bits agree; the inputs'
    metadata does not (docs/validation.md)."""
    result, ref = compression
    # Inputs "Actual scalar reads (per-instance)" 3,426,509 values: our RLE entries.
    inputs = ref.total("DRAM", Tensor.INPUTS, "Actual scalar reads (per-instance)")
    assert rle_entries(result.dram_read_bytes[Tensor.INPUTS]) == pytest.approx(inputs,
                                                                               rel=MATCH)
    # Its "Actual scalar format reads": Rank 0 metadata 8,908,923, Rank 1 payload 3,037,133,
    # Rank 2 payload 337,514 (5 bits each) — 2.6 RLE runs per value where we store one: our
    # compressed inputs are 38 % below its data + metadata bits.
    their_bits = inputs * 16 + (8_908_923 + 3_037_133 + 337_514) * 5
    ratio = result.dram_read_bytes[Tensor.INPUTS] * 8 / their_bits
    assert ratio == pytest.approx(0.62, abs=0.01), GAP
    # Outputs: "Actual scalar reads" 4,916,781 (format reads: Rank 0 4,916,781, Rank 1
    # 127,135) and "Actual scalar updates" 5,021,393 (Rank 0 5,021,393, Rank 1 129,840).
    for moved, label, metadata in (
            (result.dram_read_bytes[Tensor.OUTPUTS], "reads", 4_916_781 + 127_135),
            (result.dram_write_bytes[Tensor.OUTPUTS], "updates", 5_021_393 + 129_840)):
        values = ref.total("DRAM", Tensor.OUTPUTS, f"Actual scalar {label} (per-instance)")
        assert rle_entries(moved) == pytest.approx(values, rel=MATCH), label
        assert moved * 8 == pytest.approx(values * 16 + metadata * 5, rel=MATCH), label
    # Weights uncompressed: "Actual scalar reads" 1,769,472 words.
    assert result.dram_read_bytes[Tensor.WEIGHTS] == 2 * ref.total(
        "DRAM", Tensor.WEIGHTS, "Actual scalar reads (per-instance)")


def test_compression_energy(compression):
    """04.2.3 stats.txt "Summary Stats": "Energy: 7194.17 uJ" and "fJ/Algorithmic-Compute"
    per level: every level within 10 % (the target) and the total within 1 %."""
    result, ref = compression
    energy = result.energy.by_component
    for level in ("mac", "psum_spad", "weights_spad", "ifmap_spad", "shared_glb", "DRAM"):
        assert energy[level] == pytest.approx(ref.level_pj[level], rel=TARGET), level
    assert result.energy.total_pj == pytest.approx(ref.energy_pj, rel=MATCH)


def test_compression_cycles(compression):
    """Skipping shortens each tile to its busiest PE's non-zero-input MACs. The mean over
    PEs is Sparseloop's mac "Cycles: 1713255" (algorithmic × input density per PE); our
    total is higher by the load imbalance of per-tile synchronisation, which Sparseloop's
    average-density model has not (its "Cycles: 1827229" adds only a GLB bandwidth
    throttle)."""
    result, ref = compression
    mean_work = result.timing.compute_cycles / result.imbalance
    assert mean_work == pytest.approx(ref.stats[("mac", None)]["Cycles"], rel=MATCH)
    assert result.timing.total_cycles == result.timing.compute_cycles  # unbounded DRAM
    assert 1.2 < result.imbalance < 1.5
    assert result.timing.total_cycles > 1_827_229
