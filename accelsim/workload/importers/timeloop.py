"""Timeloop / Sparseloop problem YAML → a one-layer trace.

Timeloop's convolution shape (``problem-shapes/cnn_layer.yaml`` in NVlabs/timeloop)
projects Inputs onto ``R·Wdilation + P·Wstride`` (width) and ``S·Hdilation + Q·Hstride``
(height): its R and P run along the *width*, S and Q along the *height*. accelsim's R×S
kernel and P×Q output are height × width, so the letters cross:

    Timeloop  R  S  P  Q  Wstride    Hstride    C  M (or K)  N  G
    accelsim  S  R  Q  P  stride[1]  stride[0]  C  M         N  groups

The pairing is read from the file's own Inputs projection (a shape that pairs R with
Hstride, as some converters write, is honoured); the standard shape is assumed when the
file gives none. ``H``/``W``/``Hpad``/``Wpad`` (used by the Accelergy exercises, ignored
by Timeloop) give the unpadded input and padding; without them the input is the extent
Timeloop reads, ``(P−1)·stride + (R−1)·dilation + 1``, with padding 0.

``densities`` (or ``commonDensity``) of Inputs and Weights become exact-density uniform
masks seeded by ``seed`` — whatever the named distribution, since a trace holds one
concrete mask; the Outputs density is kept in the manifest notes and, with
``output_masks=True``, also drawn as an exact-density uniform output mask (after the other
two, so their masks do not change), which sizes compressed output traffic.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.config.keys import did_you_mean
from accelsim.config.yaml_loader import YamlMap, YamlSeq, join_key, load_yaml, to_plain
from accelsim.errors import ConfigError, GeometryError, ImportFormatError
from accelsim.resources import check_synth, resolve_limit
from accelsim.workload.generators import uniform_mask
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo, check_tensor_sizes

DATA_SPACES = ("Weights", "Inputs", "Outputs")
DISTRIBUTIONS = ("fixed", "fixed_structured", "hypergeometric")
_UNSUPPORTED_DISTRIBUTIONS = ("banded", "diagonal")
_DENSITY_KEYS = ("distribution", "density", "band_width", "workload_tensor_size")
_INPUT_KEYS = ("H", "W", "Hpad", "Wpad")
_BUILTIN_SHAPES = ("cnn_layer", "cnn-layer")
_KERNEL, _OUTPUT = ("R", "S"), ("P", "Q")


@dataclass(frozen=True, slots=True)
class Axis:
    """One spatial axis of the Inputs projection: the kernel and output letters that slide
    along it and the names of their stride and dilation coefficients."""

    kernel: str
    output: str
    stride: str | None
    dilation: str | None


STANDARD_HEIGHT = Axis("S", "Q", "Hstride", "Hdilation")
STANDARD_WIDTH = Axis("R", "P", "Wstride", "Wdilation")


@dataclass(frozen=True, slots=True)
class _Shape:
    dims: tuple[str, ...]
    out_channels: str
    coefficients: Mapping[str, int]
    height: Axis
    width: Axis


def import_timeloop_problem(path: str | os.PathLike[str], *, batch: int | None = None,
                            seed: int = 0, output_masks: bool = False,
                            max_memory: int | None = None) -> Trace:
    """Read a Timeloop v0.4 convolution problem as a one-layer trace (N from the file
    unless ``batch`` is given). ``output_masks``: also draw an output mask at the file's
    Outputs density (none when the file gives no Outputs density). ``max_memory``: bytes
    the masks may take (None: the machine's default), checked before any is drawn."""
    file = os.fspath(path)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int)
                              or batch < 1):
        raise ImportFormatError(f"batch must be a positive integer, got {batch!r}", file=file)
    problem, bounds, where = _problem(_load(file))
    shape = _shape(problem, bounds)
    _check_bounds(bounds, shape, where)
    layer = _layer(bounds, shape, where, Path(file).stem, batch)
    densities = _densities(bounds, where)
    check_synth([layer], resolve_limit(max_memory))
    rng = np.random.default_rng(seed)
    masks = [_mask(tensor_shape, densities.get(space), rng) for space, tensor_shape in
             (("Inputs", layer.input_shape), ("Weights", layer.weight_shape))]
    drawn_outputs = output_masks and "Outputs" in densities
    if drawn_outputs:
        masks.append(_mask(layer.output_shape, densities["Outputs"], rng))
    source = {"kind": "imported", "importer": "timeloop", "file": Path(file).name,
              "batch": layer.N, "seed": seed}
    if drawn_outputs:
        source["output_masks"] = True
    notes = {
        "letters": f"Timeloop {shape.width.kernel}/{shape.width.output} run along the width "
                   f"and {shape.height.kernel}/{shape.height.output} along the height; "
                   "accelsim R×S and P×Q are height × width",
        "padding": "from H/W/Hpad/Wpad" if {"H", "W"} & set(bounds) else
                   "none: the input is the extent Timeloop reads",
        "densities": {space: {"distribution": dist, "density": value}
                      for space, (value, dist) in densities.items()},
        "masks": "Inputs and Weights densities as exact-density uniform masks (seeded); "
                 + ("Outputs too" if drawn_outputs else "Outputs density recorded only"),
    }
    trace_info = TraceInfo(model=Path(file).stem, source=source, notes=notes)
    return Trace(trace_info, (LayerTrace(layer, *masks),))


# ----------------------------------------------------------------------------- YAML


def _as_import_error(exc: ConfigError) -> ImportFormatError:
    return ImportFormatError(exc.message, file=exc.file, line=exc.line, key=exc.key)


def _fail(node: YamlMap | YamlSeq, key: Any, message: str, where: str) -> ImportFormatError:
    """An error about ``key`` of ``node`` (None: the node itself), located by its line."""
    return _as_import_error(node.error(key, message, where))


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _load(file: str) -> YamlMap:
    try:
        data = load_yaml(file)
    except ConfigError as exc:
        raise _as_import_error(exc) from None
    if data is None:
        raise ImportFormatError("empty file: expected a Timeloop 'problem:'", file=file)
    if not isinstance(data, YamlMap):
        raise ImportFormatError(f"expected a mapping with a 'problem' key, got "
                                f"{to_plain(data)!r}", file=file, line=1)
    return data


def _child_map(parent: YamlMap, key: str, where: str) -> YamlMap:
    value = parent[key]
    if not isinstance(value, YamlMap):
        raise _fail(parent, key, f"expected a mapping, got {to_plain(value)!r}", where)
    return value


def _check_keys(mapping: YamlMap, allowed: Sequence[str], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise _fail(mapping, key, f"unknown key {key!r}{did_you_mean(key, allowed)}; "
                        f"expected one of {', '.join(allowed)}", where)


def _problem(top: YamlMap) -> tuple[YamlMap, YamlMap, str]:
    """``problem``, its bounds and where they live: under ``instance`` or — Timeloop's
    older layout — directly under ``problem``. Other top-level keys (architecture,
    mapping…) may share the file and are not read."""
    if "problem" not in top:
        for key in top:
            if did_you_mean(key, ["problem"]):
                raise _fail(top, key, f"unknown key {key!r} (did you mean 'problem'?)", "")
        raise _fail(top, None, "missing the 'problem' key", "")
    problem = _child_map(top, "problem", "")
    version = problem.get("version")
    if version is not None and str(version) != "0.4":
        raise _fail(problem, "version", f"expected version 0.4, got {version!r}", "problem")
    if "instance" not in problem:
        keys = [k for k in problem if k not in ("version", "shape")]
        bounds = YamlMap({k: problem[k] for k in keys}, {k: problem.line_of(k) for k in keys},
                         problem.file, problem.line)
        return problem, bounds, "problem"
    _check_keys(problem, ("version", "shape", "instance"), "problem")
    return problem, _child_map(problem, "instance", "problem"), "problem.instance"


# ----------------------------------------------------------------------------- shape


def _shape(problem: YamlMap, bounds: YamlMap) -> _Shape:
    """The problem shape; none or Timeloop's built-in name means its CNN layer (which
    says K for M; M is accepted when the bounds use it)."""
    spec = problem.get("shape")
    if spec is None or (isinstance(spec, str) and spec.lower() in _BUILTIN_SHAPES):
        out = "M" if "M" in bounds and "K" not in bounds else "K"
        return _Shape(("R", "S", "P", "Q", "C", out, "N"), out, {}, STANDARD_HEIGHT,
                      STANDARD_WIDTH)
    if isinstance(spec, str):
        raise _fail(problem, "shape", f"unknown built-in shape {spec!r}; only 'cnn_layer' "
                    "can be imported", "problem")
    spec = _child_map(problem, "shape", "problem")
    where = "problem.shape"
    _check_keys(spec, ("name", "dimensions", "coefficients", "data_spaces", "data-spaces"),
                where)
    dims = _dimensions(spec, where)
    coefficients = _coefficients(spec, where)
    height, width = _axes(spec, "data_spaces" if "data_spaces" in spec else "data-spaces",
                          where)
    return _Shape(dims, "K" if "K" in dims else "M", coefficients, height, width)


def _dimensions(spec: YamlMap, where: str) -> tuple[str, ...]:
    dims = spec.get("dimensions")
    names = tuple(dims) if _is_list(dims) and all(isinstance(d, str) for d in dims) else ()
    core = set(names) - {"G"}
    if core not in ({"C", "M", "R", "S", "N", "P", "Q"}, {"C", "K", "R", "S", "N", "P", "Q"}) \
            or len(set(names)) != len(names):
        raise _fail(spec, "dimensions", "expected a convolution shape with dimensions C M R S "
                    f"N P Q (K for M, optionally G), got {to_plain(dims)!r}", where)
    return names


def _coefficients(spec: YamlMap, where: str) -> dict[str, int]:
    items = spec.get("coefficients") or ()
    if not _is_list(items):
        raise _fail(spec, "coefficients", "expected a list of {name, default}, got "
                    f"{to_plain(items)!r}", where)
    defaults = {}
    for index, item in enumerate(items):
        if not isinstance(item, YamlMap):
            raise _fail(items, index, f"expected a mapping, got {to_plain(item)!r}",
                        join_key(where, "coefficients"))
        _check_keys(item, ("name", "default"), f"{where}.coefficients[{index}]")
        name, default = item.get("name"), item.get("default", 1)
        if not isinstance(name, str) or isinstance(default, bool) or \
                not isinstance(default, int) or default < 1:
            raise _fail(items, index, "expected a name and a positive integer default, got "
                        f"{to_plain(item)!r}", join_key(where, "coefficients"))
        defaults[name] = default
    return defaults


def _axes(spec: YamlMap, key: str, where: str) -> tuple[Axis, Axis]:
    """Height and width axes from the Inputs projection's two sliding-window ranks."""
    spaces = spec.get(key)
    if not _is_list(spaces):
        raise _fail(spec, key, f"expected a list of data spaces, got {to_plain(spaces)!r}",
                    where)
    names = [s.get("name") if isinstance(s, YamlMap) else None for s in spaces]
    if sorted(map(str, names)) != sorted(DATA_SPACES):
        raise _fail(spec, key, f"expected the data spaces {', '.join(DATA_SPACES)}, got "
                    f"{names!r}", where)
    inputs = spaces[names.index("Inputs")]
    projection = inputs.get("projection")
    windows = [_window(rank) for rank in projection] if _is_list(projection) else []
    windows = [w for w in windows if w is not None]
    if len(windows) != 2 or {w.kernel for w in windows} != set(_KERNEL) or \
            {w.output for w in windows} != set(_OUTPUT):
        raise _fail(inputs, "projection", "expected two sliding-window ranks (kernel R or S "
                    "plus output P or Q, e.g. [[R, Wdilation], [P, Wstride]]), got "
                    f"{to_plain(projection)!r}", f"{where}.{key}[{names.index('Inputs')}]")
    sides = [_side(w) for w in windows]
    if sides[0] == sides[1] or None in sides:  # no H/W coefficient names: standard order
        sides = ["W", "H"]
    by_side = dict(zip(sides, windows, strict=True))
    return by_side["H"], by_side["W"]


def _window(rank: Any) -> Axis | None:
    terms = list(rank) if _is_list(rank) else []
    kernel = [t for t in terms if _is_list(t) and t and t[0] in _KERNEL]
    output = [t for t in terms if _is_list(t) and t and t[0] in _OUTPUT]
    if len(terms) != 2 or len(kernel) != 1 or len(output) != 1:
        return None
    return Axis(kernel[0][0], output[0][0], _coefficient_name(output[0]),
                _coefficient_name(kernel[0]))


def _coefficient_name(term: Sequence[Any]) -> str | None:
    return str(term[1]) if len(term) > 1 else None


def _side(axis: Axis) -> str | None:
    initials = {name[0] for name in (axis.stride, axis.dilation) if name}
    return initials.pop() if len(initials) == 1 and initials <= {"H", "W"} else None


# ----------------------------------------------------------------------------- bounds


def _check_bounds(bounds: YamlMap, shape: _Shape, where: str) -> None:
    coefficient_names = {n for a in (shape.height, shape.width)
                         for n in (a.stride, a.dilation) if n} | set(shape.coefficients)
    allowed = [*shape.dims, *sorted(coefficient_names), *_INPUT_KEYS, "densities",
               "commonDensity"]
    _check_keys(bounds, allowed, where)
    for dim in shape.dims:
        if dim not in bounds:
            raise _fail(bounds, None, f"missing the bound of dimension {dim!r}", where)
    for key in [*shape.dims, *coefficient_names, *_INPUT_KEYS]:
        if key not in bounds:  # dimensions are all there (checked above); the rest optional
            continue
        value = bounds[key]
        minimum = 0 if key.endswith("pad") else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            kind = "a non-negative" if minimum == 0 else "a positive"
            raise _fail(bounds, key, f"expected {kind} integer, got {to_plain(value)!r}",
                        where)


def _coefficient(bounds: YamlMap, shape: _Shape, name: str | None) -> int:
    if name is None:
        return 1
    return int(bounds.get(name, shape.coefficients.get(name, 1)))


def _layer(bounds: YamlMap, shape: _Shape, where: str, name: str,
           batch: int | None) -> Layer:
    height, width = shape.height, shape.width
    stride = (_coefficient(bounds, shape, height.stride),
              _coefficient(bounds, shape, width.stride))
    dilation = (_coefficient(bounds, shape, height.dilation),
                _coefficient(bounds, shape, width.dilation))
    kernel = (bounds[height.kernel], bounds[width.kernel])
    output = (bounds[height.output], bounds[width.output])
    (in_h, pad_h), (in_w, pad_w) = (
        _input_extent(bounds, where, axis, output[i], kernel[i], stride[i], dilation[i])
        for i, axis in enumerate(("H", "W")))
    groups = bounds.get("G", 1)
    try:
        layer = Layer(name, N=batch or bounds["N"], C=groups * bounds["C"], H=in_h, W=in_w,
                      M=groups * bounds[shape.out_channels], R=kernel[0], S=kernel[1],
                      stride=stride, dilation=dilation, padding=(pad_h, pad_w), groups=groups)
        check_tensor_sizes(layer)
    except GeometryError as exc:
        raise _fail(bounds, None, exc.message, where) from None
    for axis, got, want, letter in (("H", layer.P, output[0], height.output),
                                    ("W", layer.Q, output[1], width.output)):
        if got != want:
            raise _fail(bounds, axis,
                        f"{axis}={bounds[axis]} with {axis}pad={bounds.get(axis + 'pad', 0)} "
                        f"gives {'height' if axis == 'H' else 'width'} {got} at the output, "
                        f"but {letter}={want} (Timeloop's {letter} runs along {axis})", where)
    return layer


def _input_extent(bounds: YamlMap, where: str, axis: str, output: int, kernel: int,
                  stride: int, dilation: int) -> tuple[int, int]:
    """(unpadded input size, padding) along one axis."""
    if axis in bounds:
        return bounds[axis], bounds.get(f"{axis}pad", 0)
    if f"{axis}pad" in bounds:
        raise _fail(bounds, f"{axis}pad", f"{axis}pad needs {axis}, the unpadded input size",
                    where)
    return (output - 1) * stride + (kernel - 1) * dilation + 1, 0


# ----------------------------------------------------------------------------- densities


def _densities(bounds: YamlMap, where: str) -> dict[str, tuple[float, str]]:
    """Data space → (density, distribution name) for those the file gives."""
    if "densities" in bounds and "commonDensity" in bounds:
        raise _fail(bounds, "commonDensity", "give either densities or commonDensity, not "
                    "both", where)
    if "commonDensity" in bounds:
        return dict.fromkeys(DATA_SPACES, _density(bounds, "commonDensity", where))
    if "densities" not in bounds:
        return {}
    spaces = _child_map(bounds, "densities", where)
    inner = join_key(where, "densities")
    _check_keys(spaces, DATA_SPACES, inner)
    return {space: _density(spaces, space, inner) for space in spaces}


def _density(parent: YamlMap, key: str, where: str) -> tuple[float, str]:
    spec = parent[key]
    if not isinstance(spec, YamlMap):
        return _fraction(parent, key, where), "fixed_structured"
    inner = join_key(where, key)
    _check_keys(spec, _DENSITY_KEYS, inner)
    distribution = spec.get("distribution")
    if distribution in _UNSUPPORTED_DISTRIBUTIONS:
        raise _fail(spec, "distribution", f"the {distribution!r} distribution places "
                    "non-zeros along a band and cannot be imported as a uniform mask", inner)
    if distribution not in DISTRIBUTIONS:
        raise _fail(spec, "distribution", f"expected one of {', '.join(DISTRIBUTIONS)}, got "
                    f"{distribution!r}{did_you_mean(str(distribution), DISTRIBUTIONS)}",
                    inner)
    if "density" not in spec:
        raise _fail(spec, None, "missing required key 'density'", inner)
    return _fraction(spec, "density", inner), distribution


def _fraction(parent: YamlMap, key: str, where: str) -> float:
    value = parent[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0.0 <= value <= 1.0:
        raise _fail(parent, key, f"expected a density between 0 and 1, got "
                    f"{to_plain(value)!r}", where)
    return float(value)


def _mask(shape: tuple[int, ...], density: tuple[float, str] | None,
          rng: np.random.Generator) -> np.ndarray:
    if density is None:
        return np.ones(shape, dtype=bool)
    return uniform_mask(shape, density[0], rng)
