"""SCALE-Sim 3.0.0's cycle count in closed form, written from its code, against accelsim's
systolic templates with SCALE-Sim's mapping and fill/drain (accelsim.validate_scalesim).

Runs without scalesim installed. The closed form, from scalesim/ (pip scalesim==3.0.0):

- topology_utils.topologies.topo_calc_hyperparams: ofmap = ceil((ifmap - filt + stride) /
  stride) per axis; calc_spatio_temporal_params: ``os`` Sr = ofmap pixels, Sc = filters,
  T = window (filt_h·filt_w·channels); ``ws`` Sr = window, Sc = filters, T = ofmap pixels.
- compute/systolic_compute_{os,ws}.set_params: folds = ceil(Sr / rows) · ceil(Sc / cols).
- create_ofmap_demand_mat, per fold: ``os`` a (T - 1)-row prefix, then the rows × cols
  output block, skewed (skew_matrix adds cols - 1 rows): T + rows + cols - 2 rows;
  ``ws`` a (2·rows - 1)-row prefix, then T rows, skewed: T + 2·rows + cols - 2 rows.
  The ifmap and filter demand matrices have the same number of rows.
- memory/double_buffered_scratchpad_mem.service_memory_requests: demand row i is issued at
  cycle i + stalls; 'Total Cycles' = max(ofmap_serviced_cycles) = rows - 1 + stalls, and
  under InterfaceBandwidth CALC (read_buffer_estimate_bw) the reads never stall.
"""

from __future__ import annotations

from dataclasses import replace
from math import ceil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.analysis import analyze
from accelsim.arch.spec import Fanout
from accelsim.mapping.mapper_proxy import HardwareInfo, ProblemInfo, candidate_arrays, evaluate
from accelsim.mapping.model import LevelMapping, Loop, Mapping
from accelsim.pipeline import simulate_layer
from accelsim.validate_scalesim import (
    conv_layers,
    fill_drain_cycles,
    gemm_view,
    our_cycles,
    scalesim_arch,
    scalesim_mapping,
    topo_row,
)
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace


def scalesim_demand_rows(ifmap_h: int, ifmap_w: int, filt_h: int, filt_w: int, channels: int,
                         filters: int, stride: int, rows: int, cols: int, dataflow: str) -> int:
    """Rows of SCALE-Sim's demand matrices for one topology row (module doc)."""
    ofmap = ceil((ifmap_h - filt_h + stride) / stride) * ceil((ifmap_w - filt_w + stride)
                                                              / stride)
    window = filt_h * filt_w * channels
    sr, sc, t = (ofmap, filters, window) if dataflow == "os" else (window, filters, ofmap)
    folds = ceil(sr / rows) * ceil(sc / cols)
    if dataflow == "os":
        return folds * ((t - 1) + rows + cols - 1)
    return folds * ((2 * rows - 1) + t + cols - 1)


def scalesim_total_cycles(*args, **kwargs) -> int:
    """COMPUTE_REPORT's 'Total Cycles' of a stall-free run: the last demand row's index."""
    return scalesim_demand_rows(*args, **kwargs) - 1


def reference(layer: Layer, rows: int, cols: int, dataflow: str) -> int:
    """Demand rows of ``layer``'s topology row, once per group."""
    r = topo_row(layer)
    return r.groups * scalesim_demand_rows(r.ifmap_h, r.ifmap_w, r.filt_h, r.filt_w,
                                           r.channels, r.filters, r.stride, rows, cols,
                                           dataflow)


# --- hand-worked cases --------------------------------------------------------------------


def test_tiny_layers_as_scalesim_reported_them():
    """Two layers run through scalesim 3.0.0 on a 32×32 os array (CALC): its report said
    367 and 97 'Total Cycles', 0 stalls.
    t1: ifmap 10×9, filter 3×2, 5 channels, 40 filters, stride 1 → ofmap 8×8: Sr 64,
    Sc 40, T 30, folds 2·2 = 4, 4·(30 + 62) = 368 rows, last index 367.
    t2: ifmap 11×11, filter 3×3, 4 channels, 7 filters, stride 2 → ofmap 5×5 (SCALE-Sim's
    ceil): Sr 25, Sc 7, T 36, one fold: 36 + 62 = 98 rows, last index 97."""
    assert scalesim_total_cycles(10, 9, 3, 2, 5, 40, 1, 32, 32, "os") == 367
    assert scalesim_total_cycles(11, 11, 3, 3, 4, 7, 2, 32, 32, "os") == 97
    t1 = Layer("t1", N=1, C=5, H=10, W=9, M=40, R=3, S=2)
    assert our_cycles(t1, scalesim_arch(32, 32, "os")) == 4 * (30 + 62) == 368


@pytest.mark.parametrize(("tag", "rows", "cols", "dataflow", "reported"), [
    # ResNet-18 conv1 (7×7×3 → 64, stride 2, 112×112 out), recorded in
    # benchmarks/results/scalesim/resnet18_*/COMPUTE_REPORT.csv:
    # os: Sr 12544, Sc 64, T 147: 392·2 folds × (147 + 62) = 163,856 rows.
    ("os", 32, 32, "os", 163_855),
    # ws 12×14: Sr 147, Sc 64, T 12544: 13·5 folds × (12544 + 36) = 817,700 rows.
    ("ws", 12, 14, "ws", 817_699),
])
def test_resnet18_conv1_as_scalesim_reported_it(tag, rows, cols, dataflow, reported):
    conv1 = conv_layers("resnet18")[0]
    assert conv1.name == "conv1" and (conv1.P, conv1.R, conv1.stride) == (112, 7, (2, 2))
    assert reference(conv1, rows, cols, dataflow) - 1 == reported
    assert our_cycles(conv1, scalesim_arch(rows, cols, dataflow)) == reported + 1


def test_fill_drain_per_fold():
    assert fill_drain_cycles(32, 32, "os") == 62
    assert fill_drain_cycles(32, 32, "ws") == 94
    assert fill_drain_cycles(12, 14, "ws") == 36


def test_topology_row_trims_the_padded_ifmap_to_what_the_conv_reads():
    """ResNet-18 conv1 pads 224 to 230, but a 7-wide stride-2 window reads 229 of them;
    SCALE-Sim's ceil((230 - 7 + 2) / 2) = 113 would add an output row and column."""
    row = topo_row(conv_layers("resnet18")[0])
    assert (row.ifmap_h, row.ifmap_w, row.stride) == (229, 229, 2)
    assert ceil((row.ifmap_h - 7 + 2) / 2) == 112


def test_grouped_alexnet_conv_is_one_row_run_per_group():
    conv2 = conv_layers("alexnet")[1]
    row = topo_row(conv2)
    assert (row.channels, row.filters, row.groups, row.ifmap_h) == (48, 128, 2, 31)
    arch = scalesim_arch(32, 32, "ws")
    # Sr 5·5·48 = 1200 → 38 row folds, Sc 128 → 4 column folds, T 27·27 = 729.
    assert our_cycles(conv2, arch) == 2 * 38 * 4 * (729 + 94) == reference(conv2, 32, 32, "ws")


def test_zero_fill_drain_is_the_loop_nest_alone():
    """Without the key (every Timeloop reproduction) a fold costs its T steps only."""
    layer = Layer("l", N=1, C=5, H=10, W=9, M=40, R=3, S=2)
    arch = scalesim_arch(32, 32, "os")
    plain = replace(arch, levels=tuple(replace(level, fanout=Fanout(level.fanout.x,
                                                                     level.fanout.y))
                                       for level in arch.levels))
    gemm = gemm_view(layer)
    assert analyze(gemm, plain, scalesim_mapping(gemm, plain)).cycles == 4 * 30


# --- the whole pipeline and the mapper's proxy agree with the analysis --------------------


@pytest.mark.parametrize(("rows", "cols", "dataflow"), [(32, 32, "os"), (12, 14, "ws")])
def test_engine_and_proxy_count_the_same_fill_drain(rows, cols, dataflow):
    layer = Layer("l", N=1, C=7, H=9, W=9, M=20, R=3, S=3, padding=1, groups=1)
    arch = scalesim_arch(rows, cols, dataflow)
    gemm = gemm_view(layer)
    mapping = scalesim_mapping(gemm, arch)
    result = simulate_layer(LayerTrace.dense(gemm), arch, mapping)
    expected = reference(layer, rows, cols, dataflow)
    assert result.analysis.cycles == result.timing.compute_cycles == expected
    estimate = evaluate(ProblemInfo.from_layer(gemm), HardwareInfo.from_arch(arch),
                        *candidate_arrays(mapping, arch))
    assert int(estimate.cycles[0]) == expected


def test_partial_tiles_below_the_boundary_count_their_own_passes():
    """Folds split between DRAM and the ifmap SRAM (the engine's tiles) with a partial last
    tile: Σ over tiles of the passes inside each = the analysis' passes."""
    layer = Layer("g", N=50, C=30, H=1, W=1, M=9)  # os: Sr = 50 pixels, T = 30
    arch = scalesim_arch(4, 4, "os")  # 13 row folds × 3 column folds
    names = [level.name for level in arch.levels]
    mapping = Mapping((
        LevelMapping(names[0], (Loop("M", 3), Loop("N", 3))),
        LevelMapping(names[1], (Loop("N", 5),)),  # 3 tiles of 5 folds: 5, 5, 3 valid
        LevelMapping(names[2]), LevelMapping(names[3], spatial_x=(Loop("M", 3),),
                                             spatial_y=(Loop("N", 4),)),
        LevelMapping(names[4], (Loop("C", 30),))))
    result = simulate_layer(LayerTrace.dense(layer), arch, mapping)
    folds = 13 * 3
    assert result.analysis.cycles == folds * (30 + fill_drain_cycles(4, 4, "os"))
    assert result.timing.compute_cycles == result.analysis.cycles


# --- random layers and arrays -------------------------------------------------------------


@st.composite
def layers(draw):
    kernel = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, kernel // 2))
    size = draw(st.integers(max(1, kernel - 2 * padding), 12))
    groups = draw(st.sampled_from((1, 2)))
    return Layer("x", N=1, C=groups * draw(st.integers(1, 9)), H=size, W=size,
                 M=groups * draw(st.integers(1, 40)), R=kernel, S=kernel, stride=stride,
                 padding=padding, groups=groups)


@settings(max_examples=60, deadline=None)
@given(layer=layers(), rows=st.integers(1, 40), cols=st.integers(1, 40),
       dataflow=st.sampled_from(("os", "ws")))
def test_scalesim_closed_form_equals_our_template(layer, rows, cols, dataflow):
    assert our_cycles(layer, scalesim_arch(rows, cols, dataflow)) == \
        reference(layer, rows, cols, dataflow)


# --- the validation checks read recorded reports --------------------------------------------


def _record(folder, layers, rows, cols, dataflow, skew_row=None):
    """A recorded run as scalesim writes it, its cycles from the closed form."""
    folder.mkdir(parents=True)
    topo = [topo_row(layer).csv() for layer in layers]
    if skew_row is not None:
        topo[skew_row] = topo[skew_row].replace(", 1,", ", 2,")
    (folder / "topology.csv").write_text("Layer name, ...,\n" + "\n".join(topo) + "\n")
    lines = ["LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, Overall Util "
             "%, Mapping Efficiency %, Compute Util %,"]
    for index, layer in enumerate(layers):
        total = reference(layer, rows, cols, dataflow) // layer.groups - 1
        lines.append(f"{index}, {total + 50}, {total}, 0, 50.0, 60.0, 70.0,")
    (folder / "COMPUTE_REPORT.csv").write_text("\n".join(lines) + "\n")


def test_scalesim_checks_read_the_recorded_reports(tmp_path):
    from accelsim.validate import Paths
    from accelsim.validate_scalesim import RESULTS, scalesim_checks

    paths = Paths(tmp_path, tmp_path / "shared")
    assert scalesim_checks(paths) == []
    alexnet = conv_layers("alexnet")
    _record(tmp_path / RESULTS / "alexnet_12x14_ws", alexnet, 12, 14, "ws", skew_row=None)
    checks = scalesim_checks(paths)
    assert [c.name for c in checks] == [f"alexnet 12x14_ws: {layer.name}" for layer in alexnet]
    for check, layer in zip(checks, alexnet, strict=True):
        assert check.ours == reference(layer, 12, 14, "ws")
        assert check.reference == check.ours - layer.groups  # its last index, per group
        assert check.passed and "0-based index" in check.cause


def test_scalesim_checks_name_a_stale_topology(tmp_path):
    from accelsim.validate import Paths
    from accelsim.validate_scalesim import RESULTS, scalesim_checks

    resnet = conv_layers("resnet18")
    _record(tmp_path / RESULTS / "resnet18_32x32_ws", resnet, 32, 32, "ws", skew_row=1)
    checks = scalesim_checks(Paths(tmp_path, tmp_path / "shared"))
    assert "not this layer's" in checks[1].cause
    assert "not this layer's" not in checks[0].cause


def test_fill_drain_key_loads_and_echoes():
    from accelsim.arch.echo import architecture_to_dict
    from accelsim.arch.loader import architecture_from_yaml
    from accelsim.config.yaml_loader import parse_yaml
    from tests.conftest import REPO

    text = (REPO / "hw_configs" / "systolic_os.yaml").read_text()
    assert "fanout: {x: 32, y: 32}" in text
    text = text.replace("fanout: {x: 32, y: 32}", "fanout: {x: 32, y: 32, fill_drain_cycles: 62}")
    arch = architecture_from_yaml(parse_yaml(text, "os.yaml"), "os.yaml")
    assert arch.level("ofmap_sram").fanout == Fanout(32, 32, 62)
    again = architecture_from_yaml(architecture_to_dict(arch), "echo")
    assert again.level("ofmap_sram").fanout == Fanout(32, 32, 62)
    assert architecture_to_dict(scalesim_arch(12, 14, "ws"))["levels"][2]["fanout"] == \
        {"x": 14, "y": 12, "fill_drain_cycles": 36}
