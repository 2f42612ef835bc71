"""Trace format v1: round trips, byte determinism, the spec in docs/ as the only guide for
a hand-written trace, and one precise error for every kind of malformed file."""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import TraceFormatError
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo, load_trace, pack_mask

from .conftest import REPO


def _toy_trace(seed: int = 0, with_optional: bool = False) -> Trace:
    rng = np.random.default_rng(seed)
    conv = Layer("conv", N=2, C=3, H=9, W=7, M=5, R=3, S=3, padding=1, stride=(2, 1))
    fc = Layer.fc("fc", 11, 4, batch=2)
    extra = {}
    if with_optional:
        values = rng.integers(-3, 4, size=conv.input_shape).astype(np.int8)
        extra = {"output_mask": rng.random(conv.output_shape) < 0.4,
                 "input_values": values}
        conv_in = values != 0
    else:
        conv_in = rng.random(conv.input_shape) < 0.5
    layers = (
        LayerTrace(conv, conv_in, rng.random(conv.weight_shape) < 0.3, **extra),
        LayerTrace(fc, rng.random(fc.input_shape) < 0.9, rng.random(fc.weight_shape) < 0.7),
    )
    info = TraceInfo(model="toy", dataset="none",
                     source={"kind": "synthetic", "generator": "test", "params": {"seed": seed}},
                     notes={"why": "unit test"})
    return Trace(info, layers)


def test_round_trip_preserves_everything(tmp_path):
    trace = _toy_trace(with_optional=True)
    path = tmp_path / "t.npz"
    trace.save(path)
    loaded = load_trace(path)
    assert loaded.manifest() == trace.manifest()
    for a, b in zip(trace.layers, loaded.layers, strict=True):
        assert a.layer == b.layer
        for name in ("input_mask", "weight_mask", "output_mask", "input_values"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None and y is None) or np.array_equal(x, y)
    assert loaded.layers[0].input_values.dtype == np.int8


def test_masks_are_read_only_and_bool():
    trace = _toy_trace()
    mask = trace.layers[0].input_mask
    assert mask.dtype == bool
    with pytest.raises(ValueError):
        mask[0, 0, 0, 0] = True


def test_same_trace_same_bytes(tmp_path):
    _toy_trace(seed=3).save(tmp_path / "a.npz")
    _toy_trace(seed=3).save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    _toy_trace(seed=4).save(tmp_path / "c.npz")
    assert (tmp_path / "a.npz").read_bytes() != (tmp_path / "c.npz").read_bytes()


def test_trace_written_from_the_spec_alone(tmp_path, monkeypatch):
    """Run the example in docs/trace-format.md verbatim (plain numpy + json) and load it."""
    text = (REPO / "docs" / "trace-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "docs/trace-format.md lost its example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(blocks[0], "docs/trace-format.md", "exec"), namespace)
    trace = load_trace(tmp_path / "tiny.npz")
    assert [lt.layer.name for lt in trace.layers] == ["conv", "fc"]
    assert np.array_equal(trace.layers[0].input_mask, namespace["conv_in"])
    assert np.array_equal(trace.layers[1].weight_mask, namespace["fc_w"])
    assert trace.layers[1].input_mask.all()
    # np.savez is an equally valid writer, as the doc says.
    np.savez(tmp_path / "tiny2.npz", **namespace["members"])
    again = load_trace(tmp_path / "tiny2.npz")
    assert np.array_equal(again.layers[0].weight_mask, namespace["conv_w"])


def test_packbits_bit_order_is_msb_first():
    mask = np.array([1, 0, 0, 0, 0, 0, 0, 0, 1, 1], dtype=bool)
    assert list(pack_mask(mask)) == [0b1000_0000, 0b1100_0000]


@given(shape=st.lists(st.integers(1, 5), min_size=4, max_size=4), seed=st.integers(0, 99))
@settings(max_examples=30, deadline=None)
def test_round_trip_random_masks(tmp_path_factory, shape, seed):
    n, c, h, w = shape
    layer = Layer("x", N=n, C=c, H=h, W=w, M=2, R=1, S=1)
    rng = np.random.default_rng(seed)
    lt = LayerTrace(layer, rng.random(layer.input_shape) < 0.5,
                    rng.random(layer.weight_shape) < 0.5)
    trace = Trace(TraceInfo(model="m", source={"kind": "synthetic", "generator": "g"}), (lt,))
    path = tmp_path_factory.mktemp("rt") / "x.npz"
    trace.save(path)
    back = load_trace(path).layers[0]
    assert np.array_equal(back.input_mask, lt.input_mask)
    assert np.array_equal(back.weight_mask, lt.weight_mask)


# --------------------------------------------------------------------- malformed files


def _members_of(trace: Trace) -> tuple[dict, dict[str, np.ndarray]]:
    members = {}
    for index, lt in enumerate(trace.layers):
        for name in ("input_mask", "weight_mask"):
            members[f"layers/{index}/{name}"] = pack_mask(getattr(lt, name))
    return trace.manifest(), members


def _write(path: Path, manifest: dict | None, members: dict[str, np.ndarray]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        if manifest is not None:
            data = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
            members = {"manifest": data, **members}
        for name, array in members.items():
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            archive.writestr(name + ".npy", buffer.getvalue())
    return path


def _broken(tmp_path, mutate) -> str:
    manifest, members = _members_of(_toy_trace())
    manifest = copy.deepcopy(manifest)
    mutate(manifest, members)
    path = _write(tmp_path / "broken.npz", manifest, members)
    with pytest.raises(TraceFormatError) as info:
        load_trace(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


def _set(path_keys, value):
    def mutate(manifest, members):
        target = manifest
        for key in path_keys[:-1]:
            target = target[key]
        target[path_keys[-1]] = value
    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set(["format_version"], 2), "format_version: this accelsim reads version 1, got 2"),
        (_set(["format"], "other"), "format: expected 'accelsim-trace'"),
        (_set(["modle"], "x"), "unknown key 'modle' (did you mean 'model'?)"),
        (_set(["source"], {"kind": "guessed"}), "source.kind: expected one of"),
        (_set(["source"], {"kind": "synthetic"}), "must name its 'generator'"),
        (_set(["layers", 0, "C"], 4), "layer 'conv': input_mask: expected shape [2, 4, 9, 7]"),
        (_set(["layers", 0, "groups"], 2), "layer 'conv': groups=2 must divide C=3"),
        (_set(["layers", 0, "H"], 0), "layer 'conv': H must be a positive integer"),
        (_set(["layers", 1, "kind"], "pool"), "layer 'fc': kind: expected 'conv' or 'fc'"),
        (_set(["layers", 1, "name"], "conv"), "duplicate layer name 'conv'"),
        (_set(["layers", 0, "arrays", "input_mask", "encoding"], "rle"),
         "layer 'conv': input_mask: encoding: expected one of packbits, unpacked"),
        (lambda m, a: a.pop("layers/1/weight_mask"),
         "layer 'fc': weight_mask: the array 'layers/1/weight_mask' is missing"),
        (lambda m, a: m["layers"][1]["arrays"].pop("weight_mask"),
         "layer 'fc': arrays: missing required key 'weight_mask'"),
        (lambda m, a: a.update({"layers/7/input_mask": np.zeros(3, np.uint8)}),
         "array 'layers/7/input_mask' is not declared"),
        (lambda m, a: a.update({"layers/0/weight_mask": a["layers/0/weight_mask"][:-1]}),
         "layer 'conv': weight_mask: packbits data must be a 1-D uint8 array of 17 bytes"),
    ],
)
def test_malformed_manifest_or_arrays(tmp_path, mutate, expected):
    assert expected in _broken(tmp_path, mutate)


def test_unpacked_mask_values_must_be_zero_or_one(tmp_path):
    def mutate(manifest, members):
        manifest["layers"][1]["arrays"]["input_mask"]["encoding"] = "unpacked"
        values = np.ones((2, 11, 1, 1), dtype=np.uint8)
        values[1, 4, 0, 0] = 2
        members["layers/1/input_mask"] = values
    message = _broken(tmp_path, mutate)
    assert "layer 'fc': input_mask: mask values must be 0 or 1, found 2 at [1, 4, 0, 0]" in message


def test_nonzero_padding_bits_rejected(tmp_path):
    def mutate(manifest, members):
        data = members["layers/1/weight_mask"].copy()   # 4*11 = 44 bits -> 4 spare bits
        data[-1] |= 0b0000_0001
        members["layers/1/weight_mask"] = data
    assert "the 4 padding bits of the last byte must be zero" in _broken(tmp_path, mutate)


def test_values_must_agree_with_mask(tmp_path):
    trace = _toy_trace(with_optional=True)
    manifest, members = _members_of(trace)
    values = trace.layers[0].input_values.copy()
    values[0, 0, 0, 0] = 0 if values[0, 0, 0, 0] else 1
    members["layers/0/input_values"] = values
    members["layers/0/output_mask"] = pack_mask(trace.layers[0].output_mask)
    path = _write(tmp_path / "v.npz", manifest, members)
    with pytest.raises(TraceFormatError, match="input_mask disagrees with input_values != 0"):
        load_trace(path)


def test_not_a_zip_truncated_missing_and_directory(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(TraceFormatError, match=r"text\.npz: not a \.npz \(zip\) archive"):
        load_trace(tmp_path / "text.npz")
    _toy_trace().save(tmp_path / "good.npz")
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(TraceFormatError, match=r"cut\.npz: "):
        load_trace(tmp_path / "cut.npz")
    with pytest.raises(TraceFormatError, match="no such file"):
        load_trace(tmp_path / "absent.npz")
    with pytest.raises(TraceFormatError, match="is a directory"):
        load_trace(tmp_path)
    _write(tmp_path / "nomanifest.npz", None, {"x": np.zeros(2)})
    with pytest.raises(TraceFormatError, match="missing the 'manifest' array"):
        load_trace(tmp_path / "nomanifest.npz")


def test_corrupted_member_bytes(tmp_path):
    _toy_trace().save(tmp_path / "good.npz")
    data = bytearray((tmp_path / "good.npz").read_bytes())
    # Flip bytes inside the first member's compressed data (after its 30-byte local header
    # and name); the CRC or inflate check must catch it.
    name_length = int.from_bytes(data[26:28], "little")
    start = 30 + name_length + 5
    for offset in range(start, start + 8):
        data[offset] ^= 0xFF
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    with pytest.raises(TraceFormatError, match=r"bad\.npz: "):
        load_trace(tmp_path / "bad.npz")


def test_layer_trace_rejects_wrong_shapes_in_memory():
    layer = Layer("c", N=1, C=2, H=4, W=4, M=3, R=3, S=3, padding=1)
    with pytest.raises(TraceFormatError, match=r"c'.*weight_mask: expected shape \[3, 2, 3, 3\]"):
        LayerTrace(layer, np.ones(layer.input_shape, bool), np.ones((3, 2, 3, 2), bool))


def test_dense_layer_trace_is_all_ones():
    layer = Layer("c", N=1, C=2, H=4, W=4, M=3, R=3, S=3)
    lt = LayerTrace.dense(layer)
    assert lt.input_density == lt.weight_density == 1.0
