"""Per-(tile, unit) work from the masks (``accelsim.sparsity.work``) against a brute-force
oracle that visits every iteration of the mapping's loops.

The oracle walks the whole nest literally: every index tuple of every loop (numpy enumerates
them all), its position per dimension ``Σ i·stride``, dropped if any position is past the
layer (an imperfect split's residue), its tile from the indices of the temporal loops above
the boundary (numbered as ``analysis.tile_sequence`` numbers them) and its unit from the
spatial loops' indices (row-major, nest order), then looks the two operands up in the
padded masks. It shares no code with the bilinear method it checks.
"""

from __future__ import annotations

import random
from dataclasses import FrozenInstanceError
from math import prod

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.analysis import analyze, tile_sequence
from accelsim.arch.loader import load_architecture
from accelsim.arch.spec import (
    Architecture,
    Tensor,
)
from accelsim.bundled import find_trace
from accelsim.mapping.mapper import search
from accelsim.mapping.model import DIMS, LevelMapping, Loop, Mapping, layer_bounds
from accelsim.sim import schedule
from accelsim.sparsity.work import (
    BOUNDARY_LEVEL,
    TileWorkCounts,
    busiest,
    load_imbalance,
    tile_work,
)
from accelsim.workload.effectual import effectual_macs
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, load_trace
from tests.random_mappings import random_mapping

BUNDLED = ("eyeriss_v1", "eyeriss_like", "simba_like", "systolic_os", "systolic_ws")
FIELDS = ("dense_macs", "input_nonzero_macs", "weight_nonzero_macs", "effectual_macs")

# ----------------------------------------------------------------------------------------
# The oracle


def _nest(mapping: Mapping) -> list[tuple[str, int, int, bool]]:
    return [(loop.dim, loop.bound, index, spatial)
            for index, entry in enumerate(mapping.levels)
            for loops, spatial in ((entry.temporal, False), (entry.spatial_x, True),
                                   (entry.spatial_y, True))
            for loop in loops]


def oracle(layer_trace: LayerTrace, arch: Architecture, mapping: Mapping
           ) -> dict[str, np.ndarray]:
    """The four counts per (tile, unit), one MAC at a time (vectorised over MACs only)."""
    layer = layer_trace.layer
    loops = _nest(mapping)
    bounds = [bound for _, bound, _, _ in loops]
    index = np.indices(bounds).reshape(len(bounds), -1) if loops else np.zeros((0, 1), int)
    position = {d: np.zeros(index.shape[1], dtype=np.int64) for d in DIMS}
    for j, (dim, _, _, _) in enumerate(loops):
        stride = prod(b for d, b, _, _ in loops[j + 1:] if d == dim)
        position[dim] = position[dim] + index[j] * stride
    sizes = layer_bounds(layer)
    valid = np.all([position[d] < sizes[d] for d in DIMS], axis=0)
    sequence = tile_sequence(layer, arch, mapping, arch.levels[BOUNDARY_LEVEL].name)
    row_of = {tuple(map(int, row)): k for k, row in enumerate(np.asarray(sequence.index))}
    tile_loops = [j for j, (_, _, level, spatial) in enumerate(loops)
                  if level < BOUNDARY_LEVEL and not spatial]
    unit_loops = [j for j, (_, _, _, spatial) in enumerate(loops) if spatial]
    tile = np.array([row_of[tuple(int(index[j, k]) for j in tile_loops)] if valid[k] else -1
                     for k in range(index.shape[1])])
    unit = np.zeros(index.shape[1], dtype=np.int64)
    for j in unit_loops:
        unit = unit * loops[j][1] + index[j]
    n, m, c, p, q, r, s = (position[d][valid] for d in DIMS)
    tile, unit = tile[valid], unit[valid]
    (ph, pw), (sh, sw), (dh, dw) = layer.padding, layer.stride, layer.dilation
    padded = np.pad(layer_trace.input_mask, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    tiles, units = len(sequence), prod(loops[j][1] for j in unit_loops)
    out = {name: np.zeros((layer.groups * tiles, units), dtype=np.int64) for name in FIELDS}
    for g in range(layer.groups):
        a = padded[n, g * layer.C_per_group + c, p * sh + r * dh, q * sw + s * dw]
        w = layer_trace.weight_mask[g * layer.M_per_group + m, c, r, s]
        for name, hit in zip(FIELDS, (np.ones_like(a), a, w, a & w), strict=True):
            np.add.at(out[name], (g * tiles + tile, unit), hit.astype(np.int64))
    return out


def oracle_boxes(layer_trace: LayerTrace, counts: TileWorkCounts
                 ) -> dict[Tensor, list[int]]:
    """Non-zeros of each tile's boxes by slicing the masks."""
    layer = layer_trace.layer
    (ph, pw), (sh, sw), (dh, dw) = layer.padding, layer.stride, layer.dilation
    padded = np.pad(layer_trace.input_mask, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out: dict[Tensor, list[int]] = {t: [] for t in Tensor}
    for t in range(counts.tiles):
        g = t // counts.tiles_per_group
        lo = dict(zip(DIMS, map(int, counts.tile_start[t]), strict=True))
        ext = dict(zip(DIMS, map(int, counts.tile_extent[t]), strict=True))
        hi = {d: lo[d] + ext[d] for d in DIMS}
        c0, m0 = g * layer.C_per_group, g * layer.M_per_group
        y0, x0 = lo["P"] * sh + lo["R"] * dh, lo["Q"] * sw + lo["S"] * dw
        y1 = y0 + (ext["P"] - 1) * sh + (ext["R"] - 1) * dh + 1
        x1 = x0 + (ext["Q"] - 1) * sw + (ext["S"] - 1) * dw + 1
        out[Tensor.INPUTS].append(int(padded[lo["N"]:hi["N"], c0 + lo["C"]:c0 + hi["C"],
                                             y0:y1, x0:x1].sum()))
        out[Tensor.WEIGHTS].append(int(layer_trace.weight_mask[
            m0 + lo["M"]:m0 + hi["M"], lo["C"]:hi["C"], lo["R"]:hi["R"], lo["S"]:hi["S"]].sum()))
        if layer_trace.output_mask is not None:
            out[Tensor.OUTPUTS].append(int(layer_trace.output_mask[
                lo["N"]:hi["N"], m0 + lo["M"]:m0 + hi["M"], lo["P"]:hi["P"],
                lo["Q"]:hi["Q"]].sum()))
    return out


# ----------------------------------------------------------------------------------------
# Random layers, masks and mappings


@st.composite
def layers(draw, max_dim: int = 4) -> Layer:
    """Small convolutions: strides, padding, dilation, groups, batch."""
    groups = draw(st.integers(1, 3))
    R, S = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, R - 1)), draw(st.integers(0, S - 1)))
    P, Q = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    H = (P - 1) * stride[0] + (R - 1) * dilation[0] + 1 - 2 * padding[0] + \
        draw(st.integers(0, stride[0] - 1))
    W = (Q - 1) * stride[1] + (S - 1) * dilation[1] + 1 - 2 * padding[1]
    return Layer("rand", N=draw(st.integers(1, 2)), C=groups * draw(st.integers(1, max_dim)),
                 H=max(H, 1), W=max(W, 1), M=groups * draw(st.integers(1, max_dim)), R=R, S=S,
                 stride=stride, padding=padding, dilation=dilation, groups=groups)


def random_trace(layer: Layer, seed: int, with_output: bool = True) -> LayerTrace:
    rng = np.random.default_rng(seed)
    density = rng.uniform(0.2, 0.9, size=3)
    return LayerTrace(layer, rng.random(layer.input_shape) < density[0],
                      rng.random(layer.weight_shape) < density[1],
                      rng.random(layer.output_shape) < density[2] if with_output else None)


def seeded_mapping(layer: Layer, seed: int) -> tuple[Architecture, Mapping]:
    return random_mapping(layer, random.Random(seed), depth=4096)


def assert_matches_oracle(layer_trace: LayerTrace, arch: Architecture, mapping: Mapping
                          ) -> TileWorkCounts:
    counts = tile_work(layer_trace, arch, mapping)
    expected = oracle(layer_trace, arch, mapping)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(counts, name), expected[name], err_msg=name)
    boxes = oracle_boxes(layer_trace, counts)
    for tensor, values in counts.tile_nonzeros.items():
        assert list(values) == boxes[tensor], tensor
    assert (Tensor.OUTPUTS in counts.tile_nonzeros) == (layer_trace.output_mask is not None)
    return counts


def assert_totals(layer_trace: LayerTrace, counts: TileWorkCounts) -> None:
    assert int(counts.effectual_macs.sum()) == effectual_macs(layer_trace)
    assert int(counts.dense_macs.sum()) == layer_trace.layer.macs
    assert (counts.effectual_macs <= counts.input_nonzero_macs).all()
    assert (counts.effectual_macs <= counts.weight_nonzero_macs).all()
    assert (counts.input_nonzero_macs <= counts.dense_macs).all()
    assert (counts.weight_nonzero_macs <= counts.dense_macs).all()


CASES = settings(max_examples=120, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ----------------------------------------------------------------------------------------
# Exactness


@CASES
@given(layer=layers(), seed=st.integers(0, 2**32 - 1))
def test_hand_written_mappings_match_the_oracle(layer: Layer, seed: int) -> None:
    arch, mapping = seeded_mapping(layer, seed)
    layer_trace = random_trace(layer, seed, with_output=seed % 2 == 0)
    counts = assert_matches_oracle(layer_trace, arch, mapping)
    assert_totals(layer_trace, counts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=layers(max_dim=5), seed=st.integers(0, 2**32 - 1),
       hw=st.sampled_from(BUNDLED))
def test_mapper_mappings_on_bundled_designs_match_the_oracle(layer: Layer, seed: int,
                                                             hw: str) -> None:
    arch = load_architecture(hw)
    mapping = search(layer, arch).mapping
    layer_trace = random_trace(layer, seed)
    counts = assert_matches_oracle(layer_trace, arch, mapping)
    assert_totals(layer_trace, counts)


def test_eyeriss_conv_with_padding_stride_dilation_groups_and_ceil_div_factors() -> None:
    """A hand-written eyeriss_v1 mapping with every imperfect split at once."""
    arch = load_architecture("eyeriss_v1")
    layer = Layer("hand", N=2, C=10, H=11, W=7, M=14, R=3, S=3, stride=(2, 1),
                  padding=(1, 1), dilation=(1, 2), groups=2)   # per group C5 M7 P6 Q5
    mapping = Mapping((
        LevelMapping("DRAM", (Loop("M", 2), Loop("P", 2), Loop("N", 2))),
        LevelMapping("shared_glb", (Loop("C", 2), Loop("P", 4)), (Loop("Q", 5),),
                     (Loop("M", 4), Loop("S", 3))),
        LevelMapping("ifmap_spad"),
        LevelMapping("weights_spad", (Loop("R", 3), Loop("C", 3))),
        LevelMapping("psum_spad"),
    ))
    layer_trace = random_trace(layer, 7)
    counts = assert_matches_oracle(layer_trace, arch, mapping)
    assert_totals(layer_trace, counts)
    assert counts.groups == 2 and counts.tiles == 2 * counts.tiles_per_group
    assert counts.units == 5 * 4 * 3


@pytest.mark.parametrize("hw", BUNDLED)
def test_depthwise_and_fully_connected_layers_match_the_oracle(hw: str) -> None:
    arch = load_architecture(hw)
    for layer in (Layer("dw", N=1, C=4, H=6, W=5, M=4, R=3, S=3, padding=1, groups=4),
                  Layer.fc("fc", 12, 10, batch=2)):
        layer_trace = random_trace(layer, 11)
        counts = assert_matches_oracle(layer_trace, arch, search(layer, arch).mapping)
        assert_totals(layer_trace, counts)


# ----------------------------------------------------------------------------------------
# Agreement with the nest analysis and the dense schedule


@CASES
@given(layer=layers(), seed=st.integers(0, 2**32 - 1))
def test_tiles_are_the_schedules_tiles(layer: Layer, seed: int) -> None:
    """Same tiles, same order, same boxes as ``tile_sequence``; the busiest unit's dense
    work is the dense cycles of the tile, and they add up to the nest analysis' cycles."""
    arch, mapping = seeded_mapping(layer, seed)
    counts = tile_work(LayerTrace.dense(layer), arch, mapping)
    sequence = tile_sequence(layer, arch, mapping, arch.levels[BOUNDARY_LEVEL].name)
    per_group = slice(0, counts.tiles_per_group)
    assert counts.tiles_per_group == len(sequence)
    np.testing.assert_array_equal(counts.tile_start[per_group], sequence.start)
    np.testing.assert_array_equal(counts.tile_extent[per_group], sequence.extent)
    for tensor, words in sequence.words.items():
        np.testing.assert_array_equal(counts.tile_words[tensor][per_group], words)
    cycles = counts.tile_cycles(skip_inputs=False, skip_weights=False)
    assert int(cycles.sum()) == analyze(layer, arch, mapping).cycles


def test_dense_schedule_cycles_add_up_to_the_nest_analysis_on_resnet_layers() -> None:
    """The schedule takes each tile's cycles from ``tile_work``; without skipping they must
    add up to the nest analysis' cycles (times the bandwidth throttle, per tile rounded up)."""
    arch = load_architecture("eyeriss_v1")
    trace = load_trace(find_trace("resnet18").path)
    assert schedule.BOUNDARY_LEVEL == BOUNDARY_LEVEL
    for layer_trace in trace.layers[:4] + trace.layers[-2:]:
        layer = layer_trace.layer
        result = search(layer, arch)
        counts = tile_work(layer_trace, arch, result.mapping)
        built = schedule.build_schedule(layer_trace, arch, result.mapping, result.analysis,
                                        counts)
        assert len(built.tiles) == counts.tiles
        compute = sum(tile.compute_cycles for tile in built.tiles)
        if built.throttle == 1:
            assert compute == result.analysis.cycles
        else:
            assert result.analysis.cycles * built.throttle <= compute < \
                result.analysis.cycles * built.throttle + counts.tiles
        assert_totals(layer_trace, counts)


# ----------------------------------------------------------------------------------------
# All-ones masks and monotonicity


@CASES
@given(layer=layers(), seed=st.integers(0, 2**32 - 1))
def test_all_ones_masks_lose_only_the_padding(layer: Layer, seed: int) -> None:
    """Weights all non-zero: (b) = dense. Inputs all non-zero: (c) = (a), and (a) misses
    exactly the MACs whose input is a padding position: per axis, the (output, tap) pairs
    that land inside the image, a closed form."""
    arch, mapping = seeded_mapping(layer, seed)
    counts = tile_work(LayerTrace.dense(layer), arch, mapping)
    np.testing.assert_array_equal(counts.weight_nonzero_macs, counts.dense_macs)
    np.testing.assert_array_equal(counts.effectual_macs, counts.input_nonzero_macs)
    (ph, pw), (sh, sw), (dh, dw) = layer.padding, layer.stride, layer.dilation
    rows = sum(0 <= p * sh + r * dh - ph < layer.H for p in range(layer.P)
               for r in range(layer.R))
    cols = sum(0 <= q * sw + s * dw - pw < layer.W for q in range(layer.Q)
               for s in range(layer.S))
    assert int(counts.input_nonzero_macs.sum()) == layer.N * layer.M * layer.C_per_group * \
        rows * cols
    if layer.padding == (0, 0):
        np.testing.assert_array_equal(counts.input_nonzero_macs, counts.dense_macs)
    assert (counts.tile_nonzeros[Tensor.WEIGHTS] == counts.tile_words[Tensor.WEIGHTS]).all()


@CASES
@given(layer=layers(), seed=st.integers(0, 2**32 - 1), operand=st.sampled_from(["in", "w"]),
       data=st.data())
def test_clearing_a_mask_bit_never_increases_a_count(layer: Layer, seed: int, operand: str,
                                                     data: st.DataObject) -> None:
    arch, mapping = seeded_mapping(layer, seed)
    before = random_trace(layer, seed)
    inputs, weights = before.input_mask.copy(), before.weight_mask.copy()
    target = inputs if operand == "in" else weights
    flat = data.draw(st.integers(0, target.size - 1))
    target.reshape(-1)[flat] = False
    after = LayerTrace(layer, inputs, weights, before.output_mask)
    old, new = tile_work(before, arch, mapping), tile_work(after, arch, mapping)
    np.testing.assert_array_equal(new.dense_macs, old.dense_macs)
    for name in FIELDS[1:]:
        assert (getattr(new, name) <= getattr(old, name)).all(), name
    for tensor in (Tensor.INPUTS, Tensor.WEIGHTS):
        assert (new.tile_nonzeros[tensor] <= old.tile_nonzeros[tensor]).all()


# ----------------------------------------------------------------------------------------
# Unit order, policies, imbalance


def test_units_are_numbered_row_major_over_the_spatial_loops_in_nest_order() -> None:
    """eyeriss_v1 with ``X:Q14 Y:M4 C3``: unit u = (q·4 + m)·3 + c. Only weight (m=1, c=2)
    is non-zero, so effectual work lands on exactly the units with m = 1, c = 2."""
    arch = load_architecture("eyeriss_v1")
    layer = Layer("rs", N=1, C=3, H=14, W=14, M=4)
    mapping = Mapping((
        LevelMapping("DRAM", (Loop("P", 2),)),
        LevelMapping("shared_glb", (Loop("P", 7),), (Loop("Q", 14),),
                     (Loop("M", 4), Loop("C", 3))),
        LevelMapping("ifmap_spad"), LevelMapping("weights_spad"), LevelMapping("psum_spad"),
    ))
    weights = np.zeros(layer.weight_shape, dtype=bool)
    weights[1, 2] = True
    layer_trace = LayerTrace(layer, np.ones(layer.input_shape, dtype=bool), weights)
    counts = tile_work(layer_trace, arch, mapping)
    assert [str(loop) for loop in counts.unit_loops] == [
        "shared_glb.X:Q14", "shared_glb.Y:M4", "shared_glb.Y:C3"]
    q, m, c = counts.unit_index.T
    np.testing.assert_array_equal((q * 4 + m) * 3 + c, np.arange(counts.units))
    busy = counts.effectual_macs.sum(axis=0) > 0
    np.testing.assert_array_equal(busy, (m == 1) & (c == 2))
    assert (counts.effectual_macs[:, busy] == 7).all()      # P7 temporal per tile


def test_policies_pick_the_matching_count_and_the_busiest_unit() -> None:
    layer = Layer("p", N=1, C=4, H=6, W=6, M=4, R=3, S=3, padding=1)
    arch, mapping = seeded_mapping(layer, 3)
    counts = tile_work(random_trace(layer, 3), arch, mapping)
    pairs = {(False, False): counts.dense_macs, (True, False): counts.input_nonzero_macs,
             (False, True): counts.weight_nonzero_macs, (True, True): counts.effectual_macs}
    for (skip_in, skip_w), array in pairs.items():
        assert counts.work(skip_in, skip_w) is array
        np.testing.assert_array_equal(counts.tile_cycles(skip_in, skip_w), array.max(axis=1))
    skip = counts.tile_cycles(True, True)
    assert (skip <= counts.tile_cycles(False, False)).all()
    assert (counts.imbalance(True, True) >= 1).all()


def test_load_imbalance_is_max_over_mean() -> None:
    per_unit = np.array([[2, 2, 2, 2], [4, 0, 0, 0], [0, 0, 0, 0], [3, 1, 1, 1]])
    np.testing.assert_array_equal(busiest(per_unit), [2, 4, 0, 3])
    np.testing.assert_allclose(load_imbalance(per_unit), [1.0, 4.0, 1.0, 2.0])


def test_results_are_frozen_and_read_only() -> None:
    layer = Layer("ro", N=1, C=2, H=3, W=3, M=2, R=1, S=1)
    arch, mapping = seeded_mapping(layer, 1)
    counts = tile_work(random_trace(layer, 1), arch, mapping)
    with pytest.raises(FrozenInstanceError):
        counts.layer = "x"  # type: ignore[misc]
    for name in (*FIELDS, "unit_index", "tile_start", "tile_extent"):
        with pytest.raises(ValueError):
            getattr(counts, name)[...] = 0
    with pytest.raises(TypeError):
        counts.tile_nonzeros[Tensor.INPUTS] = np.zeros(1)  # type: ignore[index]
    with pytest.raises(ValueError):
        counts.tile_nonzeros[Tensor.INPUTS][...] = 0


# ----------------------------------------------------------------------------------------
# Real layers


@pytest.mark.parametrize("hw", ["eyeriss_v1", "simba_like"])
def test_resnet18_layers_add_up_to_the_exact_counts(hw: str) -> None:
    arch = load_architecture(hw)
    trace = load_trace(find_trace("resnet18_tl1_pruned").path)
    for layer_trace in trace.layers[::4]:
        counts = tile_work(layer_trace, arch, search(layer_trace.layer, arch).mapping)
        assert_totals(layer_trace, counts)
        for tensor, nonzeros in counts.tile_nonzeros.items():
            assert (nonzeros <= counts.tile_words[tensor]).all()
