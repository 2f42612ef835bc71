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


def test_synth_then_info_round_trip(tmp_path, cli):
    out = tmp_path / "r20.npz"
    result = cli("trace", "synth", "--model", "resnet20_cifar10", "--batch", "2",
                 "--act-density", "0.5", "--nm", "2:4", "--seed", "3", "-o", str(out))
    assert result.returncode == 0, result.stderr
    again = tmp_path / "again.npz"
    cli("trace", "synth", "--model", "resnet20_cifar10", "--batch", "2", "--act-density",
        "0.5", "--nm", "2:4", "--seed", "3", "-o", str(again))
    assert out.read_bytes() == again.read_bytes()
    document = json.loads(cli("trace", "info", "--json", str(out)).stdout)
    assert document["manifest"]["source"]["kind"] == "synthetic"
    # 2:4 weights everywhere except the 3-channel stem (documented in synthetic-traces.md).
    densities = {layer["name"]: layer["weight_density"] for layer in document["layers"]}
    assert densities["conv1"] == 1.0
    assert densities["layer2.0.conv1"] == 0.5
    # ResNet-20 CIFAR: 40,551,040 MACs per image (docs/model-zoo.md), batch 2.
    assert document["total"]["dense_macs"] == 2 * 40_551_040


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--model", "resnet19"), ("unknown model 'resnet19'", "did you mean 'resnet18'")),
        (("--model", "resnet18", "--act-density", "1.5"), ("expected a number in [0, 1]",)),
        (("--model", "resnet18", "--nm", "4:2"), ("expected 1 <= N <= M",)),
        (("--model", "resnet18", "--batch", "0"), ("expected a positive integer",)),
    ],
)
def test_synth_bad_arguments_write_nothing(tmp_path, cli, args, fragments):
    out = tmp_path / "out.npz"
    assert_one_line_error(cli("trace", "synth", *args, "-o", str(out)), *fragments)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_synth_bad_profile_names_file_and_line(tmp_path, cli):
    profile = tmp_path / "profile.yaml"
    profile.write_text("default: 0.5\nlayer1.0.conv1: 0.4\nlayer9.conv1: 0.3\n")
    out = tmp_path / "out.npz"
    line = assert_one_line_error(
        cli("trace", "synth", "--model", "resnet18", "--act-profile", str(profile),
            "-o", str(out)), "profile.yaml:3")
    assert "layer9.conv1" in line
    assert not out.exists()


def test_existing_output_survives_a_failed_run(tmp_path, cli):
    out = tmp_path / "keep.npz"
    out.write_bytes(b"previous contents")
    assert_one_line_error(cli("trace", "synth", "--model", "nope", "-o", str(out)), "nope")
    assert out.read_bytes() == b"previous contents"


def test_import_timeloop_problem_through_the_cli(tmp_path, cli):
    from tests.conftest import shared_file

    problem = shared_file("timeloop_ref/eyeriss_like/problem_default_conv.yaml")
    out = tmp_path / "conv.npz"
    result = cli("trace", "import", str(problem), "-o", str(out))
    assert result.returncode == 0, result.stderr
    layer = json.loads(cli("trace", "info", "--json", str(out)).stdout)["layers"][0]
    # C3 M32 P=Q=112 R=S=3 stride 2: 3·32·112·112·9 MACs.
    assert layer["dense_macs"] == 3 * 32 * 112 * 112 * 9 == 10_838_016


def test_malformed_topology_line_names_file_and_line(tmp_path, cli):
    topology = tmp_path / "net.csv"
    topology.write_text(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,\n"
        "Conv1, 224, 224, 3, 3, 3, 64, 1,\n"
        "Conv2, 112, 112, 3, three, 64, 128, 1,\n")
    out = tmp_path / "net.npz"
    assert_one_line_error(cli("trace", "import", str(topology), "-o", str(out)), "net.csv:3")
    assert not out.exists()


def test_export_sparseloop_through_the_cli(tmp_path, cli):
    _toy(tmp_path / "t.npz")
    result = cli("trace", "export", str(tmp_path / "t.npz"), "--sparseloop",
                 str(tmp_path / "sl"))
    assert result.returncode == 0, result.stderr
    assert any(p.suffix == ".yaml" for p in (tmp_path / "sl").rglob("*"))
