"""The CLI as a user runs it (a subprocess): output of `trace info`, and bad input giving one
line on stderr naming the file and layer or line, exit status 2, no traceback, and no
output file left behind."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo, pack_mask


def _toy(path):
    rng = np.random.default_rng(0)
    layer = Layer("conv", N=1, C=2, H=6, W=6, M=3, R=3, S=3, padding=1)
    fc = Layer.fc("fc", 4, 2)
    trace = Trace(TraceInfo(model="toy", source={"kind": "synthetic", "generator": "t"}),
                  (LayerTrace(layer, rng.random(layer.input_shape) < 0.5,
                              rng.random(layer.weight_shape) < 0.5),
                   LayerTrace.dense(fc)))
    trace.save(path)
    return trace


def _rewrite(src, dst, manifest_edit=None, member_edit=None):
    with zipfile.ZipFile(src) as archive:
        members = {n[:-4]: np.load(io.BytesIO(archive.read(n))) for n in archive.namelist()}
    manifest = json.loads(members["manifest"].tobytes())
    if manifest_edit:
        manifest_edit(manifest)
    if member_edit:
        member_edit(members)
    members["manifest"] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    with zipfile.ZipFile(dst, "w") as archive:
        for name, array in members.items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(name + ".npy", buffer.getvalue())


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_trace_info_table_and_json(tmp_path, cli):
    trace = _toy(tmp_path / "t.npz")
    result = cli("trace", "info", str(tmp_path / "t.npz"))
    assert result.returncode == 0, result.stderr
    assert "conv" in result.stdout and "total" in result.stdout
    result = cli("trace", "info", "--json", str(tmp_path / "t.npz"))
    document = json.loads(result.stdout)
    conv = document["layers"][0]
    assert conv["dense_macs"] == 1 * 3 * 2 * 6 * 6 * 9
    from accelsim.workload.effectual import effectual_macs

    assert conv["effectual_macs"] == effectual_macs(trace.layers[0])
    total = document["total"]
    assert total["dense_macs"] == conv["dense_macs"] + 4 * 2
    assert total["effectual_reduction"] == pytest.approx(
        1 - total["effectual_macs"] / total["dense_macs"])


def test_non_zip_and_truncated(tmp_path, cli):
    (tmp_path / "x.npz").write_bytes(b"\x00garbage")
    assert_one_line_error(cli("trace", "info", str(tmp_path / "x.npz")), "x.npz",
                          "not a .npz (zip) archive")
    _toy(tmp_path / "t.npz")
    data = (tmp_path / "t.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) - 40])
    assert_one_line_error(cli("trace", "info", str(tmp_path / "cut.npz")), "cut.npz")


@pytest.mark.parametrize(
    ("manifest_edit", "member_edit", "fragments"),
    [
        (None, lambda m: m.pop("layers/0/weight_mask"),
         ("layer 'conv'", "weight_mask", "missing from the archive")),
        (lambda m: m["layers"][0].update(H=7), None,
         ("layer 'conv'", "input_mask: expected shape [1, 2, 7, 6]")),
        (lambda m: m.update(format_version=9), None, ("format_version", "got 9")),
        (lambda m: m["layers"][1]["arrays"]["input_mask"].update(encoding="unpacked"),
         lambda m: m.update({"layers/1/input_mask": np.full((1, 4, 1, 1), 3, np.uint8)}),
         ("layer 'fc'", "mask values must be 0 or 1, found 3")),
    ],
)
def test_malformed_traces_through_the_cli(tmp_path, cli, manifest_edit, member_edit, fragments):
    _toy(tmp_path / "good.npz")
    _rewrite(tmp_path / "good.npz", tmp_path / "bad.npz", manifest_edit, member_edit)
    assert_one_line_error(cli("trace", "info", str(tmp_path / "bad.npz")), "bad.npz", *fragments)


def test_bad_arguments_are_one_line(cli):
    result = cli("trace", "info")
    assert_one_line_error(result, "the following arguments are required: file")
    result = cli("nonsense")
    assert_one_line_error(result, "invalid choice: 'nonsense'")


def test_pack_mask_member_is_what_the_doc_says(tmp_path):
    trace = _toy(tmp_path / "t.npz")
    with zipfile.ZipFile(tmp_path / "t.npz") as archive:
        stored = np.load(io.BytesIO(archive.read("layers/0/input_mask.npy")))
    assert np.array_equal(stored, pack_mask(trace.layers[0].input_mask))
