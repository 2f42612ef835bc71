"""Writes the generated files of the bad-input catalogue (binary traces, non-UTF-8 text and
variants of one small hardware config), byte for byte the same on every run.

    python tests/bad_inputs/make_cases.py           # (re)write them
    python tests/bad_inputs/make_cases.py --check   # exit 1 if a committed file differs

The hand-written cases (mappings, SCALE-Sim CSVs, Timeloop YAMLs, profiles) sit beside them;
``cases.yaml`` says how the CLI is run on each and what its one-line error must name.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.npz import write_npz

HERE = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------- traces

# A conv layer (C2 6×6 input, M3 3×3 kernel, padding 1 → 6×6 output) and an fc layer, as
# accelsim writes them (docs/trace-format.md), before any damage.
_CONV = {"name": "conv", "kind": "conv", "N": 1, "C": 2, "H": 6, "W": 6, "M": 3, "R": 3,
         "S": 3, "stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1,
         "input_tensor": "conv",
         "arrays": {"input_mask": {"shape": [1, 2, 6, 6], "encoding": "packbits"},
                    "weight_mask": {"shape": [3, 2, 3, 3], "encoding": "packbits"}}}
_FC = {"name": "fc", "kind": "fc", "N": 1, "C": 4, "H": 1, "W": 1, "M": 2, "R": 1, "S": 1,
       "stride": [1, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 1,
       "input_tensor": "fc",
       "arrays": {"input_mask": {"shape": [1, 4, 1, 1], "encoding": "packbits"},
                  "weight_mask": {"shape": [2, 4, 1, 1], "encoding": "packbits"}}}


def _manifest(layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": "accelsim-trace", "format_version": 1, "model": "toy", "dataset": None,
            "source": {"kind": "synthetic", "generator": "make_cases"}, "recipe": None,
            "accuracy": None, "images": None, "notes": {}, "layers": layers}


def _packed(shape: list[int], pattern: int = 0b10110111) -> np.ndarray:
    count = int(np.prod(shape))
    bits = np.unpackbits(np.full((count + 7) // 8, pattern, np.uint8))[:count]
    return np.packbits(bits)


def _members(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Manifest plus a packed mask for every declared array, keyed by member name."""
    manifest = _manifest(layers)
    members: dict[str, Any] = {"manifest": json.dumps(manifest, indent=1)}
    for index, layer in enumerate(layers):
        for name, spec in layer["arrays"].items():
            members[f"layers/{index}/{name}"] = _packed(spec["shape"])
    return members


def _zip(members: dict[str, Any]) -> bytes:
    """``name.npy`` members (text → a uint8 array of its UTF-8 bytes); a ``bytes`` value is
    stored under its name as is. Fixed timestamps, so the bytes never change."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, value in members.items():
            if isinstance(value, bytes):
                data, member = value, name
            else:
                if isinstance(value, str):
                    value = np.frombuffer(value.encode("utf-8"), np.uint8)
                npy = io.BytesIO()
                np.lib.format.write_array(npy, value, allow_pickle=True)
                data, member = npy.getvalue(), f"{name}.npy"
            info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _trace(edit: Callable[[dict[str, Any]], None] | None = None,
           layers: list[dict[str, Any]] | None = None) -> bytes:
    members = _members(json.loads(json.dumps(layers or [_CONV, _FC])))
    if edit:
        edit(members)
    return _zip(members)


def _edit_manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[dict], None]:
    def edit(members: dict[str, Any]) -> None:
        manifest = json.loads(members["manifest"])
        change(manifest)
        members["manifest"] = json.dumps(manifest, indent=1, allow_nan=True)
    return edit


def _conv(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda manifest: manifest["layers"][0].update(changes)


def _set_member(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda members: members.__setitem__(name, value)


def _nan_values(members: dict[str, Any]) -> None:
    manifest = json.loads(members["manifest"])
    manifest["layers"][0]["arrays"]["input_values"] = {
        "shape": [1, 2, 6, 6], "encoding": "raw", "dtype": "float32"}
    members["manifest"] = json.dumps(manifest, indent=1)
    values = np.where(np.unpackbits(members["layers/0/input_mask"])[:72].reshape(1, 2, 6, 6),
                      1.5, 0.0).astype(np.float32)
    values[0, 1, 2, 3] = np.nan
    members["layers/0/input_values"] = values


def _unpacked_two(members: dict[str, Any]) -> None:
    manifest = json.loads(members["manifest"])
    manifest["layers"][0]["arrays"]["weight_mask"]["encoding"] = "unpacked"
    members["manifest"] = json.dumps(manifest, indent=1)
    mask = np.ones((3, 2, 3, 3), np.uint8)
    mask[1, 0, 2, 2] = 2
    members["layers/0/weight_mask"] = mask


def _encrypted_flag(content: bytes) -> bytes:
    """Set the 'encrypted' bit (0x1) of the last member's central directory entry — what a
    fuzzed bit flip found: zipfile then raised RuntimeError, not a trace error."""
    data = bytearray(content)
    entry = data.rfind(b"PK\x01\x02")
    data[entry + 8] |= 0x01
    return bytes(data)


def _huge_npy_header() -> bytes:
    """A manifest member whose .npy header claims 10^15 bytes of data (read_array would
    try to allocate them before noticing the member is short)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (10**15,)})
    return _zip({"manifest.npy": header.getvalue() + b"{}"})


def _garbled_npy_header() -> bytes:
    """A manifest member whose .npy header dict holds a NUL byte and an unclosed bracket:
    numpy's header parser raised SyntaxError or tokenize.TokenError (found by fuzzing)."""
    header = b"{'descr': '|u1', 'fortran_order': False, 'shape': (3,\x00 }"
    header = header.ljust(117) + b"\n"
    return _zip({"manifest.npy": b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                 + header + b"{}\n"})


def _traces() -> dict[str, bytes]:
    valid = _trace()
    return {
        "trace_empty.npz": b"",
        "trace_text.npz": b"this is a text file, not a zip archive\n",
        "trace_truncated.npz": valid[: len(valid) * 3 // 5],
        "trace_no_manifest.npz": _trace(lambda m: m.pop("manifest")),
        "trace_manifest_not_json.npz": _trace(_set_member("manifest", "{'format': 1,")),
        "trace_manifest_not_utf8.npz": _trace(_set_member(
            "manifest", np.frombuffer(b'{"format": "\xff\xfe"}', np.uint8))),
        "trace_format_version.npz": _trace(_edit_manifest(
            lambda m: m.__setitem__("format_version", 7))),
        "trace_unknown_key.npz": _trace(_edit_manifest(
            lambda m: m.__setitem__("bogus_key", 1))),
        "trace_wrong_type.npz": _trace(_edit_manifest(lambda m: m.__setitem__("layers", 3))),
        "trace_mask_wrong_shape.npz": _trace(_edit_manifest(lambda m: m["layers"][0][
            "arrays"]["input_mask"].__setitem__("shape", [1, 2, 6, 5]))),
        "trace_mask_wrong_size.npz": _trace(_set_member("layers/0/weight_mask",
                                                        _packed([3, 2, 3, 2]))),
        "trace_nan_size.npz": _trace(_edit_manifest(_conv(C=float("nan")))),
        "trace_negative_size.npz": _trace(_edit_manifest(_conv(H=-6))),
        "trace_huge_size.npz": _trace(_edit_manifest(_conv(N=10**12))),
        "trace_duplicate_layer.npz": _trace(_edit_manifest(
            lambda m: m["layers"][1].update(name="conv"))),
        "trace_nan_values.npz": _trace(_nan_values),
        "trace_mask_value_two.npz": _trace(_unpacked_two),
        "trace_missing_array.npz": _trace(lambda m: m.pop("layers/1/weight_mask")),
        "trace_pickled_member.npz": _trace(_set_member(
            "layers/1/weight_mask", np.array([{"pickled": True}], dtype=object))),
        "trace_not_npy_member.npz": _trace(_set_member("README.txt", b"hello\n")),
        "trace_encrypted_flag.npz": _encrypted_flag(valid),
        "trace_huge_npy_header.npz": _huge_npy_header(),
        "trace_garbled_npy_header.npz": _garbled_npy_header(),
    }


def _support_trace() -> bytes:
    """A valid one-layer dense trace of Timeloop's default conv (C3 M32 224×224 → 112×112,
    stride 2), the layer of tests/data/mappings/eyeriss_like.yaml, for the mapping cases."""
    layer = {"name": "default_conv", "kind": "conv", "N": 1, "C": 3, "H": 224, "W": 224,
             "M": 32, "R": 3, "S": 3, "stride": [2, 2], "padding": [1, 1],
             "dilation": [1, 1], "groups": 1, "input_tensor": "default_conv",
             "arrays": {"input_mask": {"shape": [1, 3, 224, 224], "encoding": "packbits"},
                        "weight_mask": {"shape": [32, 3, 3, 3], "encoding": "packbits"}}}
    members = _members([layer])
    for name in ("layers/0/input_mask", "layers/0/weight_mask"):
        members[name] = np.full_like(members[name], 0xFF)
    buffer = io.BytesIO()
    write_npz(buffer, [(name, np.frombuffer(value.encode("utf-8"), np.uint8)
                        if isinstance(value, str) else value)
                       for name, value in members.items()])
    return buffer.getvalue()


# ----------------------------------------------------------------------------- hardware

BASE_HW = """\
# A small valid architecture; every hw_*.yaml case is it with one defect.
version: 1
name: small
clock_mhz: 1000
word_bits: 8
dram:
  width_bits: 64
  bandwidth_bytes_per_cycle: 16
levels:
  - name: glb
    keeps: [weights, inputs, outputs]
    width_bits: 64
    depth: 4096
    fanout: {x: 4, y: 4}
  - name: regs
    keeps: [weights]
    depth: 16
compute:
  macs_per_cycle: 1
energy:
  preset: eyeriss_65nm
  components:
    glb: {pj_per: word, read_pj: 1.0, write_pj: 1.0}
    regs: {pj_per: word, read_pj: 0.1, write_pj: 0.1}
"""


def _hw(old: str, new: str) -> bytes:
    assert old in BASE_HW, old
    return BASE_HW.replace(old, new, 1).encode("utf-8")


def _alias_bomb() -> bytes:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _hardware() -> dict[str, bytes]:
    return {
        "hw_empty.yaml": b"",
        "hw_comments_only.yaml": b"# nothing but a comment\n",
        "hw_list.yaml": b"- version: 1\n- name: small\n",
        "hw_unknown_key.yaml": _hw("    depth: 4096", "    depthh: 4096"),
        "hw_wrong_type.yaml": _hw("    depth: 4096", "    depth: big"),
        "hw_nan_clock.yaml": _hw("clock_mhz: 1000", "clock_mhz: .nan"),
        "hw_negative_depth.yaml": _hw("    depth: 4096", "    depth: -4096"),
        "hw_huge_depth.yaml": _hw("    depth: 4096", "    depth: 1" + "0" * 40),
        "hw_zero_bandwidth.yaml": _hw("bandwidth_bytes_per_cycle: 16",
                                      "bandwidth_bytes_per_cycle: 0"),
        "hw_buffer_too_small.yaml": _hw("    width_bits: 64\n    depth: 4096",
                                        "    width_bits: 8\n    depth: 2"),
        "hw_duplicate_key.yaml": _hw("    depth: 16", "    depth: 16\n    depth: 32"),
        "hw_duplicate_level_name.yaml": _hw("  - name: regs", "  - name: glb"),
        "hw_missing_key.yaml": _hw("clock_mhz: 1000\n", ""),
        "hw_bad_keeps.yaml": _hw("keeps: [weights]", "keeps: [weight]"),
        "hw_unknown_energy_component.yaml": _hw("    regs: {pj", "    regz: {pj"),
        "hw_syntax_error.yaml": _hw("  - name: regs", "  - name: [regs"),
        "hw_custom_tag.yaml": _hw("  - name: regs", "  - !Component\n    name: regs"),
        "hw_not_utf8.yaml": _hw("name: small", "name: sm\xe4ll").replace(
            "smäll".encode(), b"sm\xe4ll"),
        "hw_nul_byte.yaml": _hw("name: small", "name: sm\x00all"),
        "hw_alias_bomb.yaml": _alias_bomb(),
        "hw_deep_nesting.yaml": ("version: 1\nname: " + "[" * 400 + "]" * 400 + "\n").encode(),
        "hw_bad_scalar.yaml": _hw("    depth: 16", "    depth: !!int sixteen"),
    }


# ----------------------------------------------------------------------------- other text


def _other() -> dict[str, bytes]:
    header = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
              "Channels, Num Filter, Strides,\n")
    return {
        "csv_not_utf8.csv": header.encode() + b"Conv\xff1, 8, 8, 3, 3, 4, 4, 1,\n",
        "tl_not_utf8.yaml": b"problem:\n  instance: {C: 3, M: 4, R: 3, S: 3, N: 1, "
                            b"P: 8, Q: 8}\n# \xc3\x28\n",
        "plot_not_utf8.csv": b"layer,hardware,cycles\nconv1,\xff\xfe,12\n",
        "profile_deep_nesting.yaml": ("default: " + "[" * 500 + "]" * 500 + "\n").encode(),
    }


def generated() -> dict[str, bytes]:
    """Relative path → bytes of every generated file."""
    files = {**_traces(), **_hardware(), **_other()}
    files["support/default_conv.npz"] = _support_trace()
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing them")
    args = parser.parse_args()
    stale = []
    for name, content in generated().items():
        path = HERE / name
        if args.check:
            if not path.is_file() or path.read_bytes() != content:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    if stale:
        print(f"stale or missing (run {Path(__file__).name}): {', '.join(stale)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
