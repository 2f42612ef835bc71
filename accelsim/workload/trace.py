"""Traces: per-layer zero masks plus geometry, and the ``.npz`` file format (version 1).

The file format is specified in docs/trace-format.md; this module is its reference
reader and writer. In memory, masks are read-only boolean arrays (True = non-zero).
A dense workload is a trace whose masks are all ones (``LayerTrace.dense``), so every
later stage has one code path for dense and sparse runs.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from accelsim.atomic import atomic_output
from accelsim.config.keys import check_keys, did_you_mean, expect_type
from accelsim.errors import AccelsimError, GeometryError, TraceFormatError
from accelsim.npz import write_npz
from accelsim.workload.layer import Layer, LayerKind

FORMAT_NAME = "accelsim-trace"
FORMAT_VERSION = 1
SOURCE_KINDS = ("recorded", "synthetic", "imported")

# Array name -> which geometry shape it must have.
ARRAY_TENSORS = {
    "input_mask": "input",
    "weight_mask": "weight",
    "output_mask": "output",
    "input_values": "input",
    "weight_values": "weight",
    "output_values": "output",
}
REQUIRED_ARRAYS = ("input_mask", "weight_mask")
MASK_ENCODINGS = ("packbits", "unpacked")
VALUE_ENCODINGS = ("raw",)
VALUE_DTYPES = ("int8", "uint8", "int16", "int32", "float16", "float32", "float64")
_SHAPE_WORDS = {"input": "N×C×H×W", "weight": "M×(C/groups)×R×S", "output": "N×M×P×Q"}
MAX_TENSOR_ELEMENTS = 2**31
"""The most elements one tensor of a layer may have (a mask of it is this many bytes in
memory); larger sizes in a file are taken as a mistake, not allocated."""

_LAYER_GEOMETRY_KEYS = ("name", "kind", "N", "C", "H", "W", "M", "R", "S", "stride",
                        "padding", "dilation", "groups")
_MANIFEST_REQUIRED = ("format", "format_version", "model", "source", "layers")
_MANIFEST_OPTIONAL = ("dataset", "recipe", "accuracy", "images", "notes")


def array_key(layer_index: int, array_name: str) -> str:
    """The npz member name of one layer's array, e.g. ``layers/3/input_mask``."""
    return f"layers/{layer_index}/{array_name}"


def pack_mask(mask: np.ndarray) -> np.ndarray:
    """C-order flatten, then ``np.packbits`` with big bit order (first element = MSB)."""
    return np.packbits(np.ascontiguousarray(mask, dtype=bool).reshape(-1), bitorder="big")


def unpack_mask(packed: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    count = int(np.prod(shape, dtype=np.int64))
    return np.unpackbits(packed, count=count, bitorder="big").view(bool).reshape(shape)


def check_tensor_sizes(layer: Layer) -> None:
    """``GeometryError`` when a tensor of ``layer`` has more than ``MAX_TENSOR_ELEMENTS``
    elements (checked before any mask of it is allocated)."""
    for tensor in ("input", "weight", "output"):
        shape = _shape_of(layer, tensor)
        count = math.prod(shape)
        if count > MAX_TENSOR_ELEMENTS:
            raise GeometryError(
                f"the {tensor} tensor ({_SHAPE_WORDS[tensor]} = "
                f"{'×'.join(str(n) for n in shape)}) has {count:.3g} elements, more than "
                f"the {MAX_TENSOR_ELEMENTS:,} a trace can hold", key=layer.name)


def _readonly(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def _shape_of(layer: Layer, tensor: str) -> tuple[int, ...]:
    return {"input": layer.input_shape, "weight": layer.weight_shape,
            "output": layer.output_shape}[tensor]


@dataclass(frozen=True, slots=True, eq=False)
class LayerTrace:
    """One layer's geometry and masks (True where the operand is non-zero)."""

    layer: Layer
    input_mask: np.ndarray
    weight_mask: np.ndarray
    output_mask: np.ndarray | None = None
    input_values: np.ndarray | None = None
    weight_values: np.ndarray | None = None
    output_values: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name, tensor in ARRAY_TENSORS.items():
            array = getattr(self, name)
            if array is None:
                if name in REQUIRED_ARRAYS:
                    raise TraceFormatError(f"{name} is required", key=f"layer {self.layer.name!r}")
                continue
            array = np.asarray(array)
            if name.endswith("_mask") and array.dtype != bool:
                raise TraceFormatError(f"{name}: expected a bool array, got {array.dtype}",
                                       key=f"layer {self.layer.name!r}")
            expected = _shape_of(self.layer, tensor)
            if array.shape != expected:
                raise TraceFormatError(
                    f"{name}: expected shape {list(expected)} ({_SHAPE_WORDS[tensor]} from the "
                    f"geometry), got {list(array.shape)}", key=f"layer {self.layer.name!r}")
            object.__setattr__(self, name, _readonly(array))

    @classmethod
    def dense(cls, layer: Layer) -> LayerTrace:
        """All-ones masks: the dense workload, run through the same path as sparse ones."""
        check_tensor_sizes(layer)
        ones = np.ones
        return cls(layer, ones(layer.input_shape, dtype=bool), ones(layer.weight_shape, dtype=bool))

    @property
    def input_nonzeros(self) -> int:
        return int(np.count_nonzero(self.input_mask))

    @property
    def weight_nonzeros(self) -> int:
        return int(np.count_nonzero(self.weight_mask))

    @property
    def input_density(self) -> float:
        return self.input_nonzeros / self.input_mask.size

    @property
    def weight_density(self) -> float:
        return self.weight_nonzeros / self.weight_mask.size

    @property
    def output_density(self) -> float | None:
        if self.output_mask is None:
            return None
        return int(np.count_nonzero(self.output_mask)) / self.output_mask.size


@dataclass(frozen=True, slots=True)
class TraceInfo:
    """Everything in the manifest except the per-layer geometry (see docs/trace-format.md)."""

    model: str
    source: Mapping[str, Any]
    dataset: str | None = None
    recipe: Mapping[str, Any] | None = None
    accuracy: Mapping[str, Any] | None = None
    images: Mapping[str, Any] | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class Trace:
    """An ordered set of layer traces with their provenance."""

    info: TraceInfo
    layers: tuple[LayerTrace, ...]
    path: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise TraceFormatError("a trace needs at least one layer", file=self.path)
        seen: set[str] = set()
        for layer_trace in self.layers:
            name = layer_trace.layer.name
            if name in seen:
                raise TraceFormatError(f"duplicate layer name {name!r}", file=self.path)
            seen.add(name)
        _check_source(self.info.source, self.path)

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, name: str) -> LayerTrace:
        for layer_trace in self.layers:
            if layer_trace.layer.name == name:
                return layer_trace
        names = [lt.layer.name for lt in self.layers]
        raise AccelsimError(f"no layer named {name!r}{did_you_mean(name, names)}",
                            file=self.path)

    def manifest(self) -> dict[str, Any]:
        """The manifest dictionary exactly as it is written into the file."""
        info = self.info
        manifest: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "model": info.model,
            "dataset": info.dataset,
            "source": dict(info.source),
            "recipe": None if info.recipe is None else dict(info.recipe),
            "accuracy": None if info.accuracy is None else dict(info.accuracy),
            "images": None if info.images is None else dict(info.images),
            "notes": dict(info.notes),
            "layers": [_layer_entry(lt) for lt in self.layers],
        }
        return manifest

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trace atomically; the same trace always gives the same bytes."""
        members: list[tuple[str, np.ndarray]] = []
        manifest_text = json.dumps(self.manifest(), indent=1, ensure_ascii=False,
                                   allow_nan=False)
        members.append(("manifest", np.frombuffer(manifest_text.encode("utf-8"), np.uint8)))
        for index, layer_trace in enumerate(self.layers):
            for name in ARRAY_TENSORS:
                array = getattr(layer_trace, name)
                if array is None:
                    continue
                data = pack_mask(array) if name.endswith("_mask") else np.ascontiguousarray(array)
                members.append((array_key(index, name), data))
        with atomic_output(path) as handle:
            write_npz(handle, members)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Trace:
        return load_trace(path)


def _layer_entry(layer_trace: LayerTrace) -> dict[str, Any]:
    layer = layer_trace.layer
    arrays: dict[str, Any] = {}
    for name in ARRAY_TENSORS:
        array = getattr(layer_trace, name)
        if array is None:
            continue
        entry: dict[str, Any] = {"shape": list(array.shape)}
        if name.endswith("_mask"):
            entry["encoding"] = "packbits"
        else:
            entry["encoding"] = "raw"
            entry["dtype"] = str(array.dtype)
        arrays[name] = entry
    return {
        "name": layer.name,
        "kind": layer.kind.value,
        "N": layer.N, "C": layer.C, "H": layer.H, "W": layer.W, "M": layer.M,
        "R": layer.R, "S": layer.S,
        "stride": list(layer.stride), "padding": list(layer.padding),
        "dilation": list(layer.dilation), "groups": layer.groups,
        "input_tensor": layer.input_tensor,
        "arrays": arrays,
    }


# ----------------------------------------------------------------------------- loading


_T = TypeVar("_T")


def load_trace(path: str | os.PathLike[str]) -> Trace:
    """Read and fully validate a trace file; any problem is one ``TraceFormatError`` line."""
    return _with_archive(path, _read_archive)


def read_layers(path: str | os.PathLike[str]) -> list[Layer]:
    """The layers a trace's manifest declares, validated as ``load_trace`` validates them
    but without reading any mask, so that a trace too large to unpack can be refused first
    (``accelsim.resources``)."""
    return _with_archive(path, _read_manifest_layers)


def _with_archive(path: str | os.PathLike[str],
                  read: Callable[[_NpzMembers, str], _T]) -> _T:
    """``read`` applied to the archive at ``path``, damaged bytes turned into one line."""
    file = os.fspath(path)
    target = Path(file)
    if not target.exists():
        raise TraceFormatError("no such file", file=file)
    if target.is_dir():
        raise TraceFormatError("is a directory, expected a .npz trace file", file=file)
    try:
        archive = zipfile.ZipFile(file)
    except _ZIP_ERRORS as exc:
        raise TraceFormatError(f"not a .npz (zip) archive: {exc}", file=file) from None
    with archive:
        try:
            return read(_NpzMembers(archive), file)
        except AccelsimError:
            raise
        except _ZIP_ERRORS as exc:
            raise TraceFormatError(
                f"corrupt or truncated archive ({type(exc).__name__}: {exc})",
                file=file) from None


def _read_manifest_layers(archive: _NpzMembers, file: str) -> list[Layer]:
    _, entries = _manifest_of(archive, file)
    return [_layer_from_entry(index, entry, file)[0] for index, entry in enumerate(entries)]


def _manifest_of(archive: _NpzMembers, file: str) -> tuple[dict[str, Any], list[Any]]:
    """The validated manifest and its list of layer entries."""
    if "manifest" not in archive.files:
        raise TraceFormatError("missing the 'manifest' array", file=file)
    manifest = _parse_manifest(archive["manifest"], file)
    entries = manifest["layers"]
    expect_type(entries, list, "layers", where="manifest", file=file, error=TraceFormatError)
    return manifest, entries


# What zipfile and numpy raise on damaged bytes: a bad header, CRC or length, a compression
# method or encryption flag flipped on, an absurd size or unparsable dict in a .npy header.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
               NotImplementedError, RuntimeError, OverflowError, struct.error,
               SyntaxError, tokenize.TokenError)


class _NpzMembers:
    """The ``.npy`` members of a zip, read on demand without ever unpickling."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        self.files = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        others = [n for n in archive.namelist() if not n.endswith(".npy")]
        if others:
            raise ValueError(f"member {others[0]!r} is not a .npy array")

    def __getitem__(self, name: str) -> np.ndarray:
        info = self._archive.getinfo(f"{name}.npy")
        with self._archive.open(info) as member:
            _check_npy_size(member, info.file_size, name)
        with self._archive.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)


def _check_npy_size(member: IO[bytes], stored: int, name: str) -> None:
    """A ``.npy`` header may claim any shape; reject one larger than the member's bytes
    before ``read_array`` allocates it."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        return  # 3.0 headers: read_array's own checks (rare; no pickles are allowed either)
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > stored:
        raise ValueError(f"member {name!r} claims {claimed:,} bytes of data but holds "
                         f"{stored:,}")


def _read_archive(archive: _NpzMembers, file: str) -> Trace:
    members = set(archive.files)
    manifest, layer_entries = _manifest_of(archive, file)
    used = {"manifest"}
    layer_traces = []
    for index, entry in enumerate(layer_entries):
        layer_trace, keys = _read_layer(archive, members, index, entry, file)
        used.update(keys)
        layer_traces.append(layer_trace)
    extra = sorted(members - used)
    if extra:
        raise TraceFormatError(
            f"array {extra[0]!r} is not declared by any layer in the manifest", file=file)
    info = TraceInfo(
        model=manifest["model"], source=manifest["source"], dataset=manifest.get("dataset"),
        recipe=manifest.get("recipe"), accuracy=manifest.get("accuracy"),
        images=manifest.get("images"), notes=manifest.get("notes") or {})
    return Trace(info=info, layers=tuple(layer_traces), path=file)


def _parse_manifest(raw: np.ndarray, file: str) -> dict[str, Any]:
    if raw.dtype == np.uint8 and raw.ndim == 1:
        data = raw.tobytes()
    elif raw.dtype.kind == "U" and raw.ndim == 0:
        data = str(raw).encode("utf-8")
    else:
        raise TraceFormatError(
            f"manifest: expected a 1-D uint8 array of UTF-8 JSON, got {raw.dtype} "
            f"with shape {list(raw.shape)}", file=file)
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, a 4300-digit number
        raise TraceFormatError(f"manifest: not valid UTF-8 JSON ({exc})", file=file) from None
    except RecursionError:
        raise TraceFormatError("manifest: JSON nested too deeply", file=file) from None
    if not isinstance(manifest, dict):
        raise TraceFormatError("manifest: expected a JSON object", file=file)
    if manifest.get("format") != FORMAT_NAME:
        raise TraceFormatError(
            f"manifest: format: expected {FORMAT_NAME!r}, got {manifest.get('format')!r}",
            file=file)
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise TraceFormatError(
            f"manifest: format_version: this accelsim reads version {FORMAT_VERSION}, "
            f"got {version!r}", file=file)
    check_keys(manifest, required=_MANIFEST_REQUIRED, optional=_MANIFEST_OPTIONAL,
               where="manifest", file=file, error=TraceFormatError)
    expect_type(manifest["model"], str, "model", where="manifest", file=file,
                error=TraceFormatError)
    for key in ("dataset",):
        if manifest.get(key) is not None:
            expect_type(manifest[key], str, key, where="manifest", file=file,
                        error=TraceFormatError)
    for key in ("recipe", "accuracy", "images", "notes"):
        if manifest.get(key) is not None:
            expect_type(manifest[key], dict, key, where="manifest", file=file,
                        error=TraceFormatError)
    _check_source(manifest["source"], file)
    return manifest


def _check_source(source: Any, file: str | None) -> None:
    if not isinstance(source, Mapping):
        raise TraceFormatError(f"source: expected an object, got {source!r}", file=file,
                               key="manifest")
    kind = source.get("kind")
    if kind not in SOURCE_KINDS:
        raise TraceFormatError(
            f"source.kind: expected one of {', '.join(SOURCE_KINDS)}, got {kind!r}",
            file=file, key="manifest")
    if kind == "synthetic" and "generator" not in source:
        raise TraceFormatError("source: a synthetic trace must name its 'generator'",
                               file=file, key="manifest")


def _layer_from_entry(index: int, entry: Any, file: str) -> tuple[Layer, str]:
    """A manifest entry's geometry as a validated ``Layer``, and how errors name it."""
    where = f"layer #{index}"
    if not isinstance(entry, dict):
        raise TraceFormatError(f"expected an object, got {entry!r}", file=file, key=where)
    if isinstance(entry.get("name"), str):
        where = f"layer {entry['name']!r}"
    check_keys(entry, required=(*_LAYER_GEOMETRY_KEYS, "arrays"), optional=("input_tensor",),
               where=where, file=file, error=TraceFormatError)
    kind = entry["kind"]
    if kind not in [k.value for k in LayerKind]:
        raise TraceFormatError(f"kind: expected 'conv' or 'fc', got {kind!r}", file=file,
                               key=where)
    try:
        layer = Layer(
            name=entry["name"], N=entry["N"], C=entry["C"], H=entry["H"], W=entry["W"],
            M=entry["M"], R=entry["R"], S=entry["S"], stride=_as_pair(entry["stride"]),
            padding=_as_pair(entry["padding"]), dilation=_as_pair(entry["dilation"]),
            groups=entry["groups"], kind=LayerKind(kind),
            input_tensor=entry.get("input_tensor") or "")
        check_tensor_sizes(layer)
    except GeometryError as exc:
        raise TraceFormatError(exc.message, file=file, key=where) from None
    return layer, where


def _read_layer(archive: _NpzMembers, members: set[str], index: int, entry: Any,
                file: str) -> tuple[LayerTrace, list[str]]:
    layer, where = _layer_from_entry(index, entry, file)
    arrays_entry = entry["arrays"]
    if not isinstance(arrays_entry, dict):
        raise TraceFormatError(f"arrays: expected an object, got {arrays_entry!r}", file=file,
                               key=where)
    check_keys(arrays_entry, required=REQUIRED_ARRAYS,
               optional=[n for n in ARRAY_TENSORS if n not in REQUIRED_ARRAYS],
               where=f"{where}: arrays", file=file, error=TraceFormatError)
    arrays: dict[str, np.ndarray] = {}
    keys = []
    for name, spec in arrays_entry.items():
        key = array_key(index, name)
        if key not in members:
            raise TraceFormatError(f"{name}: the array {key!r} is missing from the archive",
                                   file=file, key=where)
        keys.append(key)
        arrays[name] = _decode_array(archive[key], name, spec, layer, file, where)
    for tensor in ("input", "weight", "output"):
        mask, values = arrays.get(f"{tensor}_mask"), arrays.get(f"{tensor}_values")
        if mask is not None and values is not None and not np.array_equal(mask, values != 0):
            raise TraceFormatError(
                f"{tensor}_mask disagrees with {tensor}_values != 0", file=file, key=where)
    return LayerTrace(layer=layer, **arrays), keys


def _as_pair(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _decode_array(raw: np.ndarray, name: str, spec: Any, layer: Layer, file: str,
                  where: str) -> np.ndarray:
    tensor = ARRAY_TENSORS[name]
    expected = _shape_of(layer, tensor)
    if not isinstance(spec, dict):
        raise TraceFormatError(f"{name}: expected an object with shape and encoding, got "
                               f"{spec!r}", file=file, key=where)
    is_mask = name.endswith("_mask")
    check_keys(spec, required=("shape", "encoding"), optional=() if is_mask else ("dtype",),
               where=f"{where}: {name}", file=file, error=TraceFormatError)
    shape = spec["shape"]
    if not isinstance(shape, list) or any(isinstance(s, bool) for s in shape) or \
            shape != list(expected):
        raise TraceFormatError(
            f"{name}: expected shape {list(expected)} ({_SHAPE_WORDS[tensor]} from the "
            f"geometry), got {shape!r}", file=file, key=where)
    encoding = spec["encoding"]
    count = int(np.prod(expected, dtype=np.int64))
    if is_mask and encoding == "packbits":
        nbytes = (count + 7) // 8
        if raw.dtype != np.uint8 or raw.shape != (nbytes,):
            raise TraceFormatError(
                f"{name}: packbits data must be a 1-D uint8 array of {nbytes} bytes, got "
                f"{raw.dtype} with shape {list(raw.shape)}", file=file, key=where)
        spare = nbytes * 8 - count
        if spare and raw[-1] & ((1 << spare) - 1):
            raise TraceFormatError(f"{name}: the {spare} padding bits of the last byte must "
                                   f"be zero", file=file, key=where)
        return unpack_mask(raw, expected)
    if is_mask and encoding == "unpacked":
        if raw.shape != expected:
            raise TraceFormatError(
                f"{name}: expected an array of shape {list(expected)}, got {list(raw.shape)}",
                file=file, key=where)
        if raw.dtype == bool:
            return raw
        if raw.dtype.kind not in "iu":
            raise TraceFormatError(f"{name}: expected bool or integer 0/1 values, got "
                                   f"{raw.dtype}", file=file, key=where)
        bad = (raw != 0) & (raw != 1)
        if bad.any():
            position = tuple(int(i) for i in np.argwhere(bad)[0])
            raise TraceFormatError(
                f"{name}: mask values must be 0 or 1, found {raw[position]} at {list(position)}",
                file=file, key=where)
        return raw.astype(bool)
    if not is_mask and encoding == "raw":
        dtype = spec.get("dtype", str(raw.dtype))
        if dtype not in VALUE_DTYPES or str(raw.dtype) != dtype:
            raise TraceFormatError(
                f"{name}: dtype must be one of {', '.join(VALUE_DTYPES)} and match the data, "
                f"got declared {dtype!r}, stored {raw.dtype}", file=file, key=where)
        if raw.shape != expected:
            raise TraceFormatError(f"{name}: expected shape {list(expected)}, got "
                                   f"{list(raw.shape)}", file=file, key=where)
        if raw.dtype.kind == "f" and not np.isfinite(raw).all():
            raise TraceFormatError(f"{name}: values must be finite", file=file, key=where)
        return raw
    allowed = MASK_ENCODINGS if is_mask else VALUE_ENCODINGS
    raise TraceFormatError(f"{name}: encoding: expected one of {', '.join(allowed)}, got "
                           f"{encoding!r}", file=file, key=where)
