"""Sparseloop export: per layer a Timeloop v0.4 problem YAML with densities measured from
the masks, and the masks as text in Timeloop's projection order (docs/import-export.md).

Timeloop's CNN shape (NVlabs/timeloop ``problem-shapes/cnn_layer.yaml``) runs R/P along the
width: its R, S, P, Q are accelsim's S, R, Q, P; its Inputs ranks are N C W H and its
Weights ranks C M R S, i.e. (C, M, kernel width, kernel height).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from accelsim.errors import AccelsimError
from accelsim.workload.exporters import export_sparseloop
from accelsim.workload.exporters import sparseloop as exporter
from accelsim.workload.importers import import_timeloop_problem
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo


def _trace(seed: int = 0) -> Trace:
    rng = np.random.default_rng(seed)
    # Padded, asymmetric: (13 + 2 - 5) % 2 == 0 and (11 + 2 - 3) % 1 == 0, so Timeloop's
    # input extent is exactly the padded input.
    padded = Layer("block1/conv.a", N=2, C=3, H=13, W=11, M=4, R=5, S=3, padding=1,
                   stride=(2, 1))
    # (8 - 3) % 2 == 1: the last input row is never read and falls outside the extent.
    cropped = Layer("crop", N=1, C=2, H=8, W=8, M=2, R=3, S=3, stride=2)
    depthwise = Layer("dw", N=1, C=4, H=6, W=6, M=8, R=3, S=3, padding=1, groups=4)
    fc = Layer.fc("fc", 10, 5)
    layers = []
    for layer in (padded, cropped, depthwise, fc):
        extra = {"output_mask": rng.random(layer.output_shape) < 0.4} \
            if layer.name == "crop" else {}
        layers.append(LayerTrace(layer, rng.random(layer.input_shape) < 0.6,
                                 rng.random(layer.weight_shape) < 0.3, **extra))
    info = TraceInfo(model="toy", source={"kind": "synthetic", "generator": "test"})
    return Trace(info, tuple(layers))


def _problem(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["problem"]


def _read_mask(path: Path) -> np.ndarray:
    """The documented format: '#' header lines naming ``rank=size``, then 0/1 rows."""
    lines = path.read_text().splitlines()
    header = lines[0]
    shape = tuple(int(part.split("=")[1]) for part in header.split(": ")[-1].split())
    rows = [line for line in lines if not line.startswith("#")]
    return np.array([[c == "1" for c in row] for row in rows]).reshape(shape)


def test_files_written_per_layer(tmp_path):
    paths = export_sparseloop(_trace(), tmp_path)
    assert [p.name for p in paths] == [
        "00_block1_conv.a.yaml", "00_block1_conv.a.Inputs.txt", "00_block1_conv.a.Weights.txt",
        "01_crop.yaml", "01_crop.Inputs.txt", "01_crop.Weights.txt", "01_crop.Outputs.txt",
        "02_dw.yaml", "02_dw.Inputs.txt", "02_dw.Weights.txt",
        "03_fc.yaml", "03_fc.Inputs.txt", "03_fc.Weights.txt",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_shape_and_letters(tmp_path):
    export_sparseloop(_trace(), tmp_path)
    problem = _problem(tmp_path / "00_block1_conv.a.yaml")
    assert problem["version"] == 0.4
    assert problem["shape"]["dimensions"] == ["C", "M", "R", "S", "N", "P", "Q"]
    inputs = problem["shape"]["data_spaces"][1]
    assert inputs["projection"][2:] == [[["R", "Wdilation"], ["P", "Wstride"]],
                                        [["S", "Hdilation"], ["Q", "Hstride"]]]
    instance = problem["instance"]
    # accelsim: R=5 (height), S=3 (width), P=(13+2-5)//2+1=6, Q=11, stride (2, 1).
    assert {k: instance[k] for k in ("C", "M", "N", "R", "S", "P", "Q", "Hstride", "Wstride",
                                     "H", "W", "Hpad", "Wpad")} == \
        {"C": 3, "M": 4, "N": 2, "R": 3, "S": 5, "P": 11, "Q": 6, "Hstride": 2, "Wstride": 1,
         "H": 13, "W": 11, "Hpad": 1, "Wpad": 1}


def test_densities_measured_from_the_masks(tmp_path):
    trace = _trace()
    export_sparseloop(trace, tmp_path)
    for stem, name in (("00_block1_conv.a", "block1/conv.a"), ("01_crop", "crop")):
        layer_trace = trace.layer(name)
        layer = layer_trace.layer
        densities = _problem(tmp_path / f"{stem}.yaml")["instance"]["densities"]
        (pad_h, pad_w), (p, q) = layer.padding, (layer.P, layer.Q)
        extent_h = (p - 1) * layer.stride[0] + (layer.R - 1) + 1
        extent_w = (q - 1) * layer.stride[1] + (layer.S - 1) + 1
        read = layer_trace.input_mask[:, :, :extent_h - pad_h, :extent_w - pad_w]
        expected = {
            "Inputs": (int(read.sum()), layer.N * layer.C * extent_h * extent_w),
            "Weights": (layer_trace.weight_nonzeros, layer.weight_size),
        }
        if layer_trace.output_mask is not None:
            expected["Outputs"] = (int(layer_trace.output_mask.sum()), layer.output_size)
        assert set(densities) == set(expected)
        for space, (nonzeros, size) in expected.items():
            entry = densities[space]
            assert entry["distribution"] == "hypergeometric"
            assert entry["density"] == pytest.approx(nonzeros / size, rel=1e-12, abs=0)
            assert math.ceil(entry["density"] * size) == nonzeros
    crop = trace.layer("crop")
    assert crop.input_mask[:, :, 7, :].any(), "the unread row should hold non-zeros"


def test_mask_files_in_timeloop_rank_order(tmp_path):
    trace = _trace()
    export_sparseloop(trace, tmp_path)
    conv = trace.layer("block1/conv.a")
    inputs = _read_mask(tmp_path / "00_block1_conv.a.Inputs.txt")
    padded = np.pad(conv.input_mask, ((0, 0), (0, 0), (1, 1), (1, 1)))
    assert np.array_equal(inputs, padded.transpose(0, 1, 3, 2))  # N C W H
    weights = _read_mask(tmp_path / "00_block1_conv.a.Weights.txt")
    assert np.array_equal(weights, conv.weight_mask.transpose(1, 0, 3, 2))  # C M S R
    crop = trace.layer("crop")
    outputs = _read_mask(tmp_path / "01_crop.Outputs.txt")
    assert np.array_equal(outputs, crop.output_mask)  # N M Q P = N M P Q in our letters
    depthwise = trace.layer("dw")
    grouped = _read_mask(tmp_path / "02_dw.Weights.txt")  # G C M R S
    assert grouped.shape == (4, 1, 2, 3, 3)
    assert np.array_equal(grouped[1, 0, 1], depthwise.weight_mask[1 * 2 + 1, 0].T)


def test_round_trip_through_the_importer(tmp_path):
    trace = _trace()
    paths = export_sparseloop(trace, tmp_path)
    problems = [p for p in paths if p.suffix == ".yaml"]
    for path, original in zip(problems, trace.layers, strict=True):
        again = import_timeloop_problem(path).layers[0]
        fields = ("N", "C", "H", "W", "M", "R", "S", "stride", "padding", "dilation", "groups")
        assert {f: getattr(again.layer, f) for f in fields} == \
            {f: getattr(original.layer, f) for f in fields}
        assert again.layer.macs == original.layer.macs
        written = _problem(path)["instance"]["densities"]
        notes = import_timeloop_problem(path).info.notes["densities"]
        assert {k: v["density"] for k, v in notes.items()} == \
            {k: v["density"] for k, v in written.items()}
        assert again.weight_nonzeros == original.weight_nonzeros


def test_layer_selection_and_errors(tmp_path):
    trace = _trace()
    paths = export_sparseloop(trace, tmp_path / "new" / "dir", layers=["fc", "crop"])
    assert [p.name for p in paths if p.suffix == ".yaml"] == ["01_crop.yaml", "03_fc.yaml"]
    with pytest.raises(AccelsimError, match="did you mean 'crop'"):
        export_sparseloop(trace, tmp_path / "none", layers=["crop", "corp"])
    assert not (tmp_path / "none").exists()
    with pytest.raises(AccelsimError, match="non-empty list"):
        export_sparseloop(trace, tmp_path / "none", layers=[])
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(AccelsimError, match="not a directory"):
        export_sparseloop(trace, a_file)


def test_failure_leaves_no_partial_files(tmp_path, monkeypatch):
    calls = []

    def failing(view):
        calls.append(view.space)
        if len(calls) == 3:
            raise OSError("disk full")
        return b"ok\n"

    monkeypatch.setattr(exporter, "_mask_text", failing)
    with pytest.raises(OSError, match="disk full"):
        export_sparseloop(_trace(), tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert not any(name.endswith(".tmp") for name in names)
    assert names == ["00_block1_conv.a.Inputs.txt", "00_block1_conv.a.Weights.txt",
                     "00_block1_conv.a.yaml", "01_crop.yaml"]


def test_same_trace_same_bytes(tmp_path):
    first = export_sparseloop(_trace(), tmp_path / "a")
    second = export_sparseloop(_trace(), tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


@given(size=st.integers(1, 10**9), data=st.data())
def test_timeloop_density_gives_back_the_count(size, data):
    nonzeros = data.draw(st.integers(0, size))
    density = exporter.timeloop_density(nonzeros, size)
    assert math.ceil(density * size) == nonzeros
    assert 0 <= nonzeros / size - density <= 4e-16 * max(1.0, nonzeros / size)
