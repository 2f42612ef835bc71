"""Sparsity in the run: gating saves energy and no cycles, skipping saves cycles, all-ones
masks change nothing, and the counts follow the masks exactly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.arch.loader import load_architecture
from accelsim.arch.spec import Policy, SparseAction, SparseFeatures, Tensor
from accelsim.pipeline import simulate
from accelsim.report.run_report import layers_csv_text
from accelsim.workload.effectual import effectual_macs
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo

BOTH = frozenset({Tensor.INPUTS, Tensor.WEIGHTS})
INPUTS = frozenset({Tensor.INPUTS})


def with_compute(arch, kind: Policy | None, condition=BOTH):
    actions = () if kind is None else (SparseAction(kind, None, condition),)
    return replace(arch, compute=replace(arch.compute, sparse=SparseFeatures(actions)))


def with_weight_gating(arch):
    """Eyeriss's data gating: weights_spad reads gated when the input is zero."""
    levels = tuple(
        replace(level, sparse=SparseFeatures((SparseAction(Policy.GATE, Tensor.WEIGHTS,
                                                           INPUTS),)))
        if level.name == "weights_spad" else level for level in arch.levels)
    return replace(arch, levels=levels)


def trace_of(layer: Layer, input_mask, weight_mask) -> Trace:
    return Trace(TraceInfo(model="t", source={"kind": "synthetic", "generator": "test"}),
                 (LayerTrace(layer, input_mask, weight_mask),))


@pytest.fixture(scope="module")
def eyeriss():
    return load_architecture("eyeriss_v1")


LAYER = Layer("conv", N=1, C=32, H=14, W=14, M=48, R=3, S=3, padding=1)


def random_trace(seed: int, input_density: float, weight_density: float) -> Trace:
    rng = np.random.default_rng(seed)
    return trace_of(LAYER, rng.random(LAYER.input_shape) < input_density,
                    rng.random(LAYER.weight_shape) < weight_density)


def test_all_ones_masks_are_the_dense_run_whatever_the_sparse_features(eyeriss):
    # Without padding, all-ones masks leave nothing to gate or skip: byte-identical CSVs.
    layer = Layer("conv", N=1, C=32, H=14, W=14, M=48, R=3, S=3, padding=0)
    ones = trace_of(layer, np.ones(layer.input_shape, bool), np.ones(layer.weight_shape, bool))
    dense = layers_csv_text(simulate(with_compute(eyeriss, None), ones))
    for arch in (with_compute(eyeriss, Policy.GATE, INPUTS), with_compute(eyeriss, Policy.SKIP),
                 with_weight_gating(eyeriss)):
        assert layers_csv_text(simulate(arch, ones)) == dense


def test_gating_saves_energy_not_cycles_and_skipping_saves_cycles(eyeriss):
    trace = random_trace(1, 0.4, 0.5)
    (dense,) = simulate(with_compute(eyeriss, None), trace).layers
    (gated,) = simulate(with_weight_gating(with_compute(eyeriss, Policy.GATE, INPUTS)),
                        trace).layers
    (skipped,) = simulate(with_compute(eyeriss, Policy.SKIP), trace).layers
    assert gated.timing.compute_cycles == dense.timing.compute_cycles
    assert gated.energy.total_pj < dense.energy.total_pj
    assert skipped.timing.compute_cycles < dense.timing.compute_cycles
    # Skipping both operands performs exactly the trace's effectual MACs.
    (compute,) = [c for c in skipped.sparse_counts if c.access == "compute"]
    assert compute.actual == effectual_macs(trace.layers[0]) == skipped.effectual_macs
    assert compute.skipped == compute.algorithmic - compute.actual
    # Gating on inputs performs the MACs with a non-zero input; the rest are gated.
    (compute,) = [c for c in gated.sparse_counts if c.access == "compute"]
    assert compute.gated == compute.algorithmic - compute.actual > 0
    (weights,) = [c for c in gated.sparse_counts
                  if c.component == "weights_spad" and c.access == "read"]
    assert weights.gated + weights.actual == weights.algorithmic
    assert weights.gated / weights.algorithmic == pytest.approx(
        compute.gated / compute.algorithmic, abs=1e-6)


@given(seed=st.integers(0, 10_000), da=st.floats(0.05, 1.0), dw=st.floats(0.05, 1.0),
       drop=st.floats(0.0, 1.0))
@settings(max_examples=12, deadline=None)
def test_invariants(eyeriss, seed, da, dw, drop):
    trace = random_trace(seed, da, dw)
    dense_arch, gate_arch = with_compute(eyeriss, None), with_compute(eyeriss, Policy.GATE)
    skip_arch = with_compute(eyeriss, Policy.SKIP)
    (dense,) = simulate(dense_arch, trace).layers
    (gate,) = simulate(gate_arch, trace).layers
    (skip,) = simulate(skip_arch, trace).layers
    assert skip.timing.total_cycles <= gate.timing.total_cycles == dense.timing.total_cycles
    assert skip.energy.total_pj <= gate.energy.total_pj <= dense.energy.total_pj + 1e-6
    # Zeroing more activations never increases skip cycles or energy.
    rng = np.random.default_rng(seed + 1)
    layer_trace = trace.layers[0]
    fewer = layer_trace.input_mask & (rng.random(LAYER.input_shape) >= drop)
    (sparser,) = simulate(skip_arch, trace_of(LAYER, fewer, layer_trace.weight_mask)).layers
    assert sparser.timing.compute_cycles <= skip.timing.compute_cycles
    assert sparser.energy.total_pj <= skip.energy.total_pj + 1e-6
    # eyeriss_v1 RLE-codes inputs to DRAM: fewer non-zeros never cost more bytes.
    assert sparser.dram_read_bytes[Tensor.INPUTS] <= skip.dram_read_bytes[Tensor.INPUTS]


def test_a_sparser_trace_lets_the_mapper_use_larger_tiles(eyeriss):
    """A global buffer that stores inputs as a bitmask holds more of a sparse tile: the
    mapper sizes tiles by the layer's compressed occupancy, so the sparse trace gets larger
    buffer tiles, fewer DRAM refetches and fewer cycles (docs/model.md §6.4)."""
    from accelsim.sparsity.formats import CompressionSpec, Format

    glb = replace(eyeriss.levels[1], depth=512, compression=(
        (Tensor.INPUTS, CompressionSpec(Format.BITMASK, value_bits=16)),))
    arch = replace(eyeriss, levels=(eyeriss.levels[0], glb, *eyeriss.levels[2:]))
    layer = Layer("conv", N=1, C=64, H=28, W=28, M=64, R=3, S=3, padding=1)
    rng = np.random.default_rng(0)
    weights = np.ones(layer.weight_shape, bool)
    (dense,) = simulate(arch, trace_of(layer, np.ones(layer.input_shape, bool),
                                       weights)).layers
    (sparse,) = simulate(arch, trace_of(layer, rng.random(layer.input_shape) < 0.2,
                                        weights)).layers

    def glb_input_tile(result):
        return result.analysis.get("shared_glb", Tensor.INPUTS).tile_words

    def dram_words(result):
        return sum(c.reads + c.fills + c.updates for c in result.analysis.at_level("DRAM"))

    assert glb_input_tile(sparse) > glb_input_tile(dense)
    assert dram_words(sparse) <= dram_words(dense)
    assert sparse.timing.total_cycles < dense.timing.total_cycles
    # Bitmask inputs at 20 % density take about (1 + 0.2·16) / 16 = 0.26 of their dense
    # words; the mapper's estimate held for every tile: none had to stream in parts.
    assert sparse.timing.split_tiles == 0


def test_utilization_counts_occupied_mac_slots(eyeriss):
    """Gated MACs occupy their slot, skipped ones do not: utilization never exceeds 1."""
    trace = random_trace(2, 0.3, 0.5)
    for arch in (with_compute(eyeriss, None), with_compute(eyeriss, Policy.GATE, INPUTS),
                 with_compute(eyeriss, Policy.SKIP)):
        (layer,) = simulate(arch, trace).layers
        (compute,) = [c for c in layer.sparse_counts if c.access == "compute"]
        assert layer.occupied_mac_slots == compute.actual + compute.gated
        assert 0 < layer.utilization <= 1
