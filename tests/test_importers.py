"""SCALE-Sim CSV and Timeloop problem YAML importers: closed-form geometry, masks, and one
precise line for every malformed input.

Formats as SCALE-Sim v3 reads them (scalesim-project/scale-sim-v3,
``scalesim/topology_utils.py``): conv rows ``name, IFMAP H, IFMAP W, Filter H, Filter W,
Channels, Num Filter, Strides[, N:M],``; GEMM rows ``name, M, N, K[, N:M],`` run as an M×K
IFMAP with N filters of 1×K; output size ``ceil((ifmap - filter + stride) / stride)``.
Timeloop's CNN shape (NVlabs/timeloop ``problem-shapes/cnn_layer.yaml``) pairs R/P with the
width and S/Q with the height.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import ImportFormatError
from accelsim.workload.importers import (
    import_scalesim_csv,
    import_timeloop_problem,
    import_workload,
)
from accelsim.workload.trace import load_trace

from .conftest import REPO, shared_file

DATA = REPO / "tests" / "data"
CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
               "Num Filter, Strides,")
SPARSE_CONV_HEADER = CONV_HEADER + " Sparsity,"
GEMM_HEADER = "Layer, M, N, K,"


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _macs(trace) -> dict[str, int]:
    return {lt.layer.name: lt.layer.macs for lt in trace.layers}


# ----------------------------------------------------------------------------- SCALE-Sim


def test_scalesim_conv_file_with_messy_formatting():
    """Whitespace, tabs, blank lines, a missing trailing comma, a ``#dw`` remark, separate
    stride height/width (v2), a repeated name and a depthwise ``DP`` layer."""
    trace = import_scalesim_csv(DATA / "scalesim_conv.csv")
    assert _macs(trace) == {
        "Conv1": 96 * 3 * 55 * 55 * 11 * 11,       # (227 - 11) // 4 + 1 = 55
        "Conv2": 256 * 96 * 27 * 27 * 5 * 5,
        "Conv3": 384 * 256 * 13 * 13 * 3 * 3,
        "Conv4_dw": 1 * 1 * 7 * 7 * 3 * 3,         # (15 - 3) // 2 + 1 = 7
        "Rect": 16 * 8 * 10 * 10 * 3 * 5,          # ceil(17 / 2) + 1, ceil(25 / 3) + 1
        "Conv2@9": 4 * 4 * 7 * 7 * 3 * 3,          # repeated name, line 9
        "Conv5_DP": 32 * 2 * 12 * 12 * 3 * 3,      # 32 channels × 2 filters each
        "FC": 1000 * 1024,
    }
    rect = trace.layer("Rect").layer
    assert (rect.H, rect.W, rect.R, rect.S, rect.stride) == (20, 30, 3, 5, (2, 3))
    # SCALE-Sim's last windows hang past the edge (17 % 2, 25 % 3 != 0): the smallest
    # symmetric padding giving the same output, ceil(deficit / 2) = ceil(1/2), ceil(2/2).
    assert rect.padding == (1, 1)
    assert trace.info.notes["edge_padding"] == {"Rect": [1, 1]}
    depthwise = trace.layer("Conv5_DP").layer
    assert (depthwise.C, depthwise.M, depthwise.groups) == (32, 64, 32)
    for layer_trace in trace.layers:
        if layer_trace.layer.name != "Rect":
            assert layer_trace.layer.padding == (0, 0)
        assert layer_trace.input_mask.all() and layer_trace.weight_mask.all()


def test_scalesim_batch_multiplies_every_layer():
    one = _macs(import_scalesim_csv(DATA / "scalesim_conv.csv"))
    three = _macs(import_scalesim_csv(DATA / "scalesim_conv.csv", batch=3))
    assert three == {name: 3 * macs for name, macs in one.items()}


def test_scalesim_manifest_and_file_round_trip(tmp_path):
    trace = import_scalesim_csv(DATA / "scalesim_gemm.csv", batch=2, seed=7)
    assert trace.info.model == "scalesim_gemm"
    assert trace.info.source == {"kind": "imported", "importer": "scalesim",
                                 "file": "scalesim_gemm.csv", "form": "gemm", "batch": 2,
                                 "seed": 7}
    assert "1×1 convolution" in trace.info.notes["geometry"]
    conv = import_scalesim_csv(DATA / "scalesim_conv.csv")
    assert "padding 0" in conv.info.notes["geometry"]
    trace.save(tmp_path / "t.npz")
    again = load_trace(tmp_path / "t.npz")
    assert again.manifest() == trace.manifest()


def test_scalesim_gemm_is_a_1x1_conv_with_mnk_macs():
    trace = import_scalesim_csv(DATA / "scalesim_gemm.csv")
    assert _macs(trace) == {"GEMM_1": 3 * 5 * 16, "GEMM_1@3": 1 * 5 * 16,
                            "Dense": 256 * 128 * 256}
    dense = trace.layer("Dense").layer
    # SCALE-Sim's M×K IFMAP with N filters: M output pixels, K-long windows, N columns.
    assert (dense.H, dense.W, dense.C, dense.M, dense.R, dense.S) == (256, 1, 256, 128, 1, 1)
    assert dense.P * dense.Q == 256 and dense.C * dense.R * dense.S == 256


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 64), n=st.integers(1, 64), k=st.integers(1, 64),
       batch=st.integers(1, 3))
def test_scalesim_gemm_macs_property(m, n, k, batch):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), "g.csv", f"{GEMM_HEADER}\nG, {m}, {n}, {k},\n")
        layer = import_scalesim_csv(path, batch=batch).layers[0].layer
    assert layer.macs == batch * m * n * k


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_scalesim_conv_macs_match_scalesims_formula(data):
    """SCALE-Sim's own count: ofmap = ceil((ifmap - filter + stride) / stride) per axis."""
    height, width = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40))
    kernel_h, kernel_w = data.draw(st.integers(1, height)), data.draw(st.integers(1, width))
    channels, filters, stride = (data.draw(st.integers(1, 16)), data.draw(st.integers(1, 16)),
                                 data.draw(st.integers(1, 5)))
    row = f"L, {height}, {width}, {kernel_h}, {kernel_w}, {channels}, {filters}, {stride},"
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), "c.csv", f"{CONV_HEADER}\n{row}\n")
        layer = import_scalesim_csv(path).layers[0].layer
    out_h = math.ceil((height - kernel_h + stride) / stride)
    out_w = math.ceil((width - kernel_w + stride) / stride)
    assert layer.macs == out_h * out_w * kernel_h * kernel_w * channels * filters


def _assert_nm(weights: np.ndarray, n: int, m: int) -> None:
    """Exactly n ones in every run of m input channels at a fixed (filter, r, s)."""
    filters, channels, kernel_h, kernel_w = weights.shape
    groups = weights.reshape(filters, channels // m, m, kernel_h, kernel_w).sum(axis=2)
    assert (groups == n).all()


def test_scalesim_nm_sparsity_column():
    trace = import_scalesim_csv(DATA / "scalesim_conv_sparse.csv", seed=3)
    for name, (n, m) in {"CONV_1": (2, 4), "CONV_2": (1, 8)}.items():
        layer_trace = trace.layer(name)
        assert layer_trace.weight_nonzeros * m == layer_trace.weight_mask.size * n
        assert layer_trace.weight_density == n / m
        _assert_nm(layer_trace.weight_mask, n, m)
        assert layer_trace.input_mask.all()
    assert trace.layer("CONV_3").weight_mask.all()
    assert trace.info.notes["weight_sparsity"] == {"CONV_1": "2:4", "CONV_2": "1:8"}
    gemm = import_scalesim_csv(DATA / "scalesim_gemm.csv")
    assert gemm.layer("GEMM_1").weight_density == 3 / 4
    _assert_nm(gemm.layer("GEMM_1@3").weight_mask, 1, 4)


def test_scalesim_nm_masks_are_seeded():
    first = import_scalesim_csv(DATA / "scalesim_conv_sparse.csv", seed=11)
    again = import_scalesim_csv(DATA / "scalesim_conv_sparse.csv", seed=11)
    other = import_scalesim_csv(DATA / "scalesim_conv_sparse.csv", seed=12)
    assert np.array_equal(first.layers[0].weight_mask, again.layers[0].weight_mask)
    assert not np.array_equal(first.layers[0].weight_mask, other.layers[0].weight_mask)


BAD_CONV_ROWS = {
    "too few fields": "Bad, 5, 5, 3, 3, 2, 6,",
    "too many fields": "Bad, 5, 5, 3, 3, 2, 6, 1, 1, 1,",
    "non-integer": "Bad, 5, five, 3, 3, 2, 6, 1,",
    "decimal": "Bad, 5, 5.0, 3, 3, 2, 6, 1,",
    "zero size": "Bad, 0, 5, 3, 3, 2, 6, 1,",
    "negative channels": "Bad, 5, 5, 3, 3, -2, 6, 1,",
    "zero stride": "Bad, 5, 5, 3, 3, 2, 6, 0,",
    "filter taller than ifmap": "Bad, 5, 5, 7, 3, 2, 6, 1,",
    "filter wider than ifmap": "Bad, 5, 5, 3, 9, 2, 6, 1,",
    "empty name": ", 5, 5, 3, 3, 2, 6, 1,",
    "N greater than M": "Bad, 5, 5, 3, 3, 4, 6, 1, 5:4,",
    "M zero": "Bad, 5, 5, 3, 3, 4, 6, 1, 2:0,",
    "N:M not numbers": "Bad, 5, 5, 3, 3, 4, 6, 1, a:b,",
    "N:M:K": "Bad, 5, 5, 3, 3, 4, 6, 1, 2:4:8,",
    "channels not a multiple of M": "Bad, 5, 5, 3, 3, 2, 6, 1, 2:4,",
}
BAD_GEMM_ROWS = {
    "gemm too few fields": "Bad, 3, 5,",
    "gemm too many fields": "Bad, 3, 5, 16, 4, 1,",
    "gemm non-integer": "Bad, 3, x, 16,",
    "gemm zero": "Bad, 0, 5, 16,",
    "gemm bad N:M": "Bad, 3, 5, 16, 3:2,",
}


@pytest.mark.parametrize(("header", "row"), [
    *[(SPARSE_CONV_HEADER, row) for row in BAD_CONV_ROWS.values()],
    *[(GEMM_HEADER, row) for row in BAD_GEMM_ROWS.values()],
], ids=[*BAD_CONV_ROWS, *BAD_GEMM_ROWS])
def test_scalesim_malformed_line_names_file_and_line(tmp_path, header, row):
    good = "Good, 8, 8, 3, 3, 4, 4, 1," if header != GEMM_HEADER else "Good, 3, 5, 16,"
    path = _write(tmp_path, "bad.csv", f"{header}\n{good}\n{row}\n{good}\n")
    with pytest.raises(ImportFormatError) as info:
        import_scalesim_csv(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: ")
    assert "\n" not in message


@pytest.mark.parametrize(("text", "line"), [
    ("Name, Height, Width,\nL, 5, 5,\n", 1),
    (f"\n\n{CONV_HEADER}\n\n", 3),
])
def test_scalesim_bad_header_or_no_layers(tmp_path, text, line):
    path = _write(tmp_path, "t.csv", text)
    with pytest.raises(ImportFormatError, match=rf"^{path}:{line}: "):
        import_scalesim_csv(path)


def test_scalesim_file_level_errors(tmp_path):
    with pytest.raises(ImportFormatError, match=r"^.*missing\.csv: no such file$"):
        import_scalesim_csv(tmp_path / "missing.csv")
    empty = _write(tmp_path, "empty.csv", "\n \n")
    with pytest.raises(ImportFormatError, match=r"empty\.csv: empty file"):
        import_scalesim_csv(empty)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ImportFormatError, match=r"binary\.csv: not UTF-8"):
        import_scalesim_csv(binary)
    with pytest.raises(ImportFormatError, match=r"batch must be a positive integer"):
        import_scalesim_csv(DATA / "scalesim_gemm.csv", batch=0)


# ----------------------------------------------------------------------------- Timeloop


def test_timeloop_eyeriss_default_conv():
    path = shared_file("timeloop_ref/eyeriss_like/problem_default_conv.yaml")
    trace = import_timeloop_problem(path)
    layer_trace = trace.layers[0]
    layer = layer_trace.layer
    assert (layer.N, layer.C, layer.M, layer.P, layer.Q, layer.R, layer.S) == \
        (1, 3, 32, 112, 112, 3, 3)
    assert (layer.H, layer.W, layer.padding, layer.stride) == (224, 224, (1, 1), (2, 2))
    assert layer.macs == 1 * 32 * 3 * 112 * 112 * 3 * 3 == 10_838_016
    assert layer_trace.input_mask.all() and layer_trace.weight_mask.all()
    assert trace.info.model == "problem_default_conv"
    assert trace.info.source == {"kind": "imported", "importer": "timeloop",
                                 "file": "problem_default_conv.yaml", "batch": 1, "seed": 0}


def test_timeloop_sparseloop_alexnet_conv3_densities():
    path = shared_file("timeloop_ref/sparseloop_04.2.1-eyeriss-like-gating/problem.yaml")
    trace = import_timeloop_problem(path, seed=5)
    layer_trace = trace.layers[0]
    layer = layer_trace.layer
    assert (layer.N, layer.C, layer.M, layer.P, layer.Q, layer.R, layer.S) == \
        (4, 256, 384, 13, 13, 3, 3)
    # No H/W: the input is the extent Timeloop reads, (P-1)·stride + (R-1)·dilation + 1.
    assert (layer.H, layer.W, layer.padding) == ((13 - 1) * 1 + (3 - 1) * 1 + 1, 15, (0, 0))
    assert layer.macs == 4 * 384 * 256 * 13 * 13 * 3 * 3
    assert layer_trace.input_nonzeros == round(0.275 * 4 * 256 * 15 * 15)
    assert layer_trace.weight_nonzeros == round(0.446133 * 384 * 256 * 3 * 3)
    assert trace.info.notes["densities"]["Outputs"] == {"distribution": "fixed_structured",
                                                        "density": 0.403}
    again = import_timeloop_problem(path, seed=5).layers[0]
    other = import_timeloop_problem(path, seed=6).layers[0]
    assert np.array_equal(layer_trace.input_mask, again.input_mask)
    assert not np.array_equal(layer_trace.input_mask, other.input_mask)


def test_timeloop_batch_override():
    path = shared_file("timeloop_ref/sparseloop_04.2.1-eyeriss-like-gating/problem.yaml")
    layer = import_timeloop_problem(path, batch=1).layers[0].layer
    assert layer.N == 1 and layer.macs == 384 * 256 * 13 * 13 * 3 * 3


def test_timeloop_letters_cross_on_an_asymmetric_layer():
    """Timeloop R=3 (width), S=5 (height), P=20 (width), Q=10 (height)."""
    trace = import_timeloop_problem(DATA / "timeloop_asymmetric.yaml")
    layer = trace.layers[0].layer
    assert (layer.R, layer.S, layer.P, layer.Q) == (5, 3, 10, 20)
    assert (layer.stride, layer.dilation) == ((1, 2), (2, 1))
    assert layer.H == (10 - 1) * 1 + (5 - 1) * 2 + 1
    assert layer.W == (20 - 1) * 2 + (3 - 1) * 1 + 1
    assert layer.macs == 2 * 6 * 4 * 10 * 20 * 5 * 3


def test_timeloop_unpadded_input_and_padding(tmp_path):
    text = (DATA / "timeloop_asymmetric.yaml").read_text()
    text = text.replace("    Hdilation: 2\n",
                        "    Hdilation: 2\n    H: 16\n    Hpad: 1\n    W: 40\n    Wpad: 1\n")
    layer = import_timeloop_problem(_write(tmp_path, "p.yaml", text)).layers[0].layer
    assert (layer.H, layer.W, layer.padding) == (16, 40, (1, 1))
    assert (layer.P, layer.Q) == (10, 20)


def test_timeloop_pairing_read_from_the_projection():
    """A grouped shape that pairs R with P and Hstride: there R is the kernel height."""
    layer = import_timeloop_problem(DATA / "timeloop_grouped_r_height.yaml").layers[0].layer
    assert (layer.R, layer.S, layer.P, layer.Q, layer.stride) == (3, 1, 5, 7, (2, 1))
    assert (layer.groups, layer.C, layer.M) == (2, 2 * 3, 2 * 4)
    assert (layer.H, layer.W) == ((5 - 1) * 2 + 3, 7)
    assert layer.macs == 1 * (2 * 4) * 3 * 5 * 7 * 3 * 1


def test_timeloop_old_layout_builtin_shape_and_common_density():
    trace = import_timeloop_problem(DATA / "timeloop_old_layout.yaml")
    layer_trace = trace.layers[0]
    assert layer_trace.layer.macs == 32 * 64 * 7 * 7
    assert layer_trace.input_density == 0.5 and layer_trace.weight_density == 0.5


BASE = DATA / "timeloop_asymmetric.yaml"


@pytest.mark.parametrize(("old", "new", "marker", "words"), [
    ("    Wstride: 2\n", "    Wstrde: 2\n", "Wstrde", "did you mean 'Wstride'"),
    ("    C: 4\n", "    C: 4\n    Hpadding: 1\n", "Hpadding", "unknown key 'Hpadding'"),
    ("    M: 6\n", "    M: 0\n", "M: 0", "expected a positive integer"),
    ("    M: 6\n", "    M: six\n", "M: six", "expected a positive integer"),
    ("    Hdilation: 2\n", "    Hdilation: 2\n    Hpad: 1\n", "Hpad", "Hpad needs H"),
    ("    Hdilation: 2\n", "    Hdilation: 2\n    H: 30\n", "H: 30", "Q=10"),
    ("    Hdilation: 2\n",
     "    Hdilation: 2\n    densities:\n      Inputs: {distribution: hypergeometrc, "
     "density: 0.5}\n", "hypergeometrc", "did you mean 'hypergeometric'"),
    ("    Hdilation: 2\n",
     "    Hdilation: 2\n    densities:\n      Weights: {distribution: banded, "
     "density: 0.5}\n", "banded", "band"),
    ("    Hdilation: 2\n",
     "    Hdilation: 2\n    densities:\n      Weights: 1.5\n", "Weights: 1.5",
     "between 0 and 1"),
    ("    Hdilation: 2\n",
     "    Hdilation: 2\n    densities:\n      Weigths: 0.5\n", "Weigths",
     "did you mean 'Weights'"),
    ("  version: 0.4\n", "  version: 0.5\n", "version", "expected version 0.4"),
    ("    dimensions: [C, M, R, S, N, P, Q]\n", "    dimensions: [M, N, K]\n",
     "dimensions", "convolution shape"),
    ("      - [[R, Wdilation], [P, Wstride]]\n", "      - [[R, Wdilation]]\n", "projection:",
     "sliding-window"),
    ("    P: 20\n", "    P: [20\n", "    Q: 10", "not valid YAML"),
])
def test_timeloop_errors_name_the_line(tmp_path, old, new, marker, words):
    text = BASE.read_text()
    assert old in text
    text = text.replace(old, new, 1)
    path = _write(tmp_path, "bad.yaml", text)
    lines = text.splitlines()
    if marker == "projection:":  # the Inputs projection, not the Weights one
        line = next(i for i, t in enumerate(lines, 1) if t.strip() == "projection:")
    else:
        line = next(i for i, t in enumerate(lines, 1) if marker in t)
    with pytest.raises(ImportFormatError) as info:
        import_timeloop_problem(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ")
    assert words in message and "\n" not in message


@pytest.mark.parametrize(("text", "words"), [
    ("problme:\n  instance: {C: 1}\n", "did you mean 'problem'"),
    ("- just\n- a list\n", "expected a mapping"),
    ("problem:\n  instance:\n    C: 1\n", "missing the bound of dimension"),
    ("problem:\n  shape: gemm\n  instance: {M: 1}\n", "built-in shape"),
    ("", "empty file"),
])
def test_timeloop_structure_errors(tmp_path, text, words):
    path = _write(tmp_path, "p.yaml", text)
    with pytest.raises(ImportFormatError, match=words) as info:
        import_timeloop_problem(path)
    assert str(info.value).startswith(str(path))


def test_timeloop_missing_file(tmp_path):
    with pytest.raises(ImportFormatError, match="no such file"):
        import_timeloop_problem(tmp_path / "nope.yaml")


# ----------------------------------------------------------------------------- dispatch


def test_import_workload_by_extension_or_name(tmp_path):
    assert import_workload(DATA / "scalesim_gemm.csv").info.source["importer"] == "scalesim"
    assert import_workload(BASE).info.source["importer"] == "timeloop"
    renamed = _write(tmp_path, "topology.txt", (DATA / "scalesim_gemm.csv").read_text())
    trace = import_workload(renamed, file_format="scalesim", batch=2)
    assert trace.layers[0].layer.N == 2
    with pytest.raises(ImportFormatError, match=r"topology\.txt: cannot tell the format"):
        import_workload(renamed)
    with pytest.raises(ImportFormatError, match="unknown format 'onnx'"):
        import_workload(renamed, file_format="onnx")
