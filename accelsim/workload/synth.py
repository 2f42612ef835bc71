"""Synthetic traces: model-zoo geometry with seeded synthetic masks.

``synthesize`` turns a model name and density settings into a ``Trace`` whose manifest
records everything needed to regenerate it bit for bit. ``load_profile`` reads a
per-layer density profile (YAML or JSON). Semantics and formulas: docs/synthetic-traces.md.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from accelsim.config.keys import did_you_mean
from accelsim.config.yaml_loader import scalar_problem
from accelsim.errors import AccelsimError, ConfigError
from accelsim.workload.generators import (
    DEFAULT_CHANNEL_SPREAD,
    DEFAULT_CORRELATION_PX,
    check_cluster_params,
    check_nm,
    clustered_activation_mask,
    nm_mask,
    uniform_mask,
)
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo

ACT_GENERATORS = ("clustered", "uniform")
DEFAULT_KEY = "default"
_ACT_STREAM, _WEIGHT_STREAM = 0, 1

Density = float | Mapping[str, float] | None


# ----------------------------------------------------------------------------- profiles


class Profile(dict[str, float]):
    """Layer name → density, remembering the file and line of each key for error messages."""

    def __init__(self, values: Mapping[str, float], *, file: str | None = None,
                 lines: Mapping[str, int] | None = None) -> None:
        super().__init__(values)
        self.file = file
        self.lines = dict(lines or {})


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read a YAML or JSON mapping of layer name (or ``default``) → density in [0, 1]."""
    file = os.fspath(path)
    root = _compose(file)
    if root is None:
        raise ConfigError("empty profile: expected a mapping of layer name to density",
                          file=file)
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"expected a mapping of layer name to density, got a "
                          f"{_node_kind(root)}", file=file, line=_line(root))
    constructor = yaml.SafeLoader("")
    values: dict[str, float] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        name, line = _profile_key(key_node, file), _line(key_node)
        if name in values:
            raise ConfigError(f"duplicate key, first given on line {lines[name]}", file=file,
                              line=line, key=name)
        try:
            value = constructor.construct_object(value_node, deep=True) \
                if isinstance(value_node, yaml.ScalarNode) else value_node
        except (ValueError, TypeError, AttributeError, yaml.YAMLError):  # !!int x, 2001-02-30
            raise ConfigError(f"not a usable value: {scalar_problem(value_node)}", file=file,
                              line=_line(value_node), key=name) from None
        values[name] = check_density(value, key=name, file=file, line=_line(value_node))
        lines[name] = line
    constructor.dispose()
    return Profile(values, file=file, lines=lines)


def _compose(file: str) -> yaml.Node | None:
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", file=file) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a YAML or JSON profile", file=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the profile ({exc})", file=file) from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError("not valid YAML or JSON: nested too deeply", file=file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"not valid YAML or JSON: {problem}", file=file,
                          line=None if mark is None else mark.line + 1) from None


def _profile_key(node: yaml.Node, file: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
        shown = node.value if isinstance(node, yaml.ScalarNode) else _node_kind(node)
        raise ConfigError(f"layer names must be strings, got {shown!r}", file=file,
                          line=_line(node))
    return str(node.value)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _node_kind(node: yaml.Node) -> str:
    return {yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}.get(type(node), "scalar")


def check_density(value: Any, *, key: str, file: str | None = None,
                  line: int | None = None) -> float:
    """``value`` as a float if it is a finite number in [0, 1], else a ``ConfigError``."""
    shown = value if not isinstance(value, yaml.Node) else f"a {_node_kind(value)}"
    if isinstance(value, bool) or not isinstance(value, Real) or \
            not math.isfinite(float(value)) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"expected a density in [0, 1], got {shown!r}", file=file,
                          line=line, key=key)
    return float(value)


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class SynthSettings:
    """What ``synthesize`` was asked for; ``params()`` is the manifest's ``source.params``."""

    batch: int
    seed: int
    act_density: Density
    weight_density: Density
    nm: tuple[int, int] | None
    act_generator: str
    channel_spread: float
    correlation_px: int

    def __post_init__(self) -> None:
        _check_integer(self.batch, "batch", minimum=1)
        _check_integer(self.seed, "seed", minimum=0)
        check_cluster_params(self.channel_spread, self.correlation_px)
        if self.act_generator not in ACT_GENERATORS:
            raise AccelsimError(
                f"expected one of {', '.join(ACT_GENERATORS)}, got {self.act_generator!r}"
                f"{did_you_mean(self.act_generator, ACT_GENERATORS)}", key="act_generator")
        if self.nm is not None:
            if self.weight_density is not None:
                raise AccelsimError("give either a weight density or an N:M pattern, not both",
                                    key="nm")
            if not isinstance(self.nm, (tuple, list)) or len(self.nm) != 2:
                raise AccelsimError(f"expected a pair (n, m), got {self.nm!r}", key="nm")
            try:
                check_nm(*self.nm)
            except AccelsimError as exc:
                raise AccelsimError(exc.message, key="nm") from None
            object.__setattr__(self, "nm", (self.nm[0], self.nm[1]))

    @property
    def act_generator_name(self) -> str:
        if self.act_density is None:
            return "dense"
        return {"clustered": "clustered_activation_mask", "uniform": "uniform_mask"}[
            self.act_generator]

    @property
    def weight_generator_name(self) -> str:
        if self.nm is not None:
            return "nm_mask"
        return "dense" if self.weight_density is None else "uniform_mask"

    def params(self, layers: Sequence[Layer]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "seed": self.seed,
            "batch": self.batch,
            "streams": "numpy SeedSequence(seed, spawn_key=(layer_index, 0 for activations "
                       "| 1 for weights)); layers sharing an input tensor use the first "
                       "reader's activation stream",
            "stem": layers[0].name,
            "act_generator": self.act_generator,
            "act_density": _plain(self.act_density),
            "weight_density": _plain(self.weight_density),
            "nm": None if self.nm is None else list(self.nm),
        }
        if self.act_generator == "clustered":
            params["channel_spread"] = self.channel_spread
            params["correlation_px"] = self.correlation_px
        if self.nm is not None:
            params["nm_dense_layers"] = [layer.name for layer in layers
                                         if layer.C_per_group % self.nm[1]]
        return params


def _check_integer(value: Any, key: str, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise AccelsimError(f"expected an integer >= {minimum}, got {value!r}", key=key)


def _plain(density: Density) -> float | dict[str, float] | None:
    if density is None or not isinstance(density, Mapping):
        return None if density is None else float(density)
    return {str(k): float(v) for k, v in density.items()}


# ----------------------------------------------------------------------------- synthesis


def synthesize(
    model: str,
    *,
    batch: int = 1,
    act_density: Density = None,
    weight_density: Density = None,
    nm: tuple[int, int] | None = None,
    act_generator: str = "clustered",
    seed: int = 0,
    dataset: str | None = None,
    notes: Mapping[str, Any] | None = None,
    channel_spread: float = DEFAULT_CHANNEL_SPREAD,
    correlation_px: int = DEFAULT_CORRELATION_PX,
) -> Trace:
    """A synthetic trace of a zoo model (see ``synthesize_layers`` for the density rules)."""
    from accelsim.workload.zoo import get_model

    return synthesize_layers(
        get_model(model, batch=batch), model=model, act_density=act_density,
        weight_density=weight_density, nm=nm, act_generator=act_generator, seed=seed,
        dataset=dataset, notes=notes, channel_spread=channel_spread,
        correlation_px=correlation_px)


def synthesize_layers(
    layers: Sequence[Layer],
    *,
    model: str,
    act_density: Density = None,
    weight_density: Density = None,
    nm: tuple[int, int] | None = None,
    act_generator: str = "clustered",
    seed: int = 0,
    dataset: str | None = None,
    notes: Mapping[str, Any] | None = None,
    channel_spread: float = DEFAULT_CHANNEL_SPREAD,
    correlation_px: int = DEFAULT_CORRELATION_PX,
) -> Trace:
    """A synthetic trace of ``layers`` (forward order; the first is the stem).

    Densities: ``None`` = all ones; a number applies to every layer, except that the
    stem's input (the image) stays dense for activations; a mapping is a per-layer
    profile with an optional ``default`` (which never applies to the stem's input).
    """
    layers = tuple(layers)
    if not layers:
        raise AccelsimError("a model needs at least one layer", key=model)
    settings = SynthSettings(
        batch=layers[0].N, seed=seed, act_density=act_density, weight_density=weight_density,
        nm=nm, act_generator=act_generator, channel_spread=channel_spread,
        correlation_px=correlation_px)
    act = activation_densities(layers, act_density)
    weights = weight_densities(layers, weight_density)
    inputs = _input_masks(layers, act, settings)
    traces = tuple(
        LayerTrace(layer, inputs[layer.input_tensor], _weight_mask(i, layer, weights[i], settings))
        for i, layer in enumerate(layers))
    source = {
        "kind": "synthetic",
        "generator": {"activations": settings.act_generator_name,
                      "weights": settings.weight_generator_name},
        "params": settings.params(layers),
    }
    info = TraceInfo(model=model, source=source, dataset=dataset, notes=dict(notes or {}))
    return Trace(info=info, layers=traces)


def layer_rng(seed: int, layer_index: int, stream: int) -> np.random.Generator:
    """The generator of one layer's activation (stream 0) or weight (stream 1) mask."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(layer_index, stream)))


def _input_masks(layers: Sequence[Layer], densities: Sequence[float],
                 settings: SynthSettings) -> dict[str, np.ndarray]:
    """One read-only mask per input tensor, drawn from its first reader's stream."""
    masks: dict[str, np.ndarray] = {}
    for index, layer in enumerate(layers):
        if layer.input_tensor in masks:
            continue
        mask = _activation_mask(layer, densities[index], layer_rng(settings.seed, index,
                                                                    _ACT_STREAM), settings)
        mask.flags.writeable = False
        masks[layer.input_tensor] = mask
    return masks


def _activation_mask(layer: Layer, density: float, rng: np.random.Generator,
                     settings: SynthSettings) -> np.ndarray:
    if density == 1.0:
        return np.ones(layer.input_shape, dtype=bool)
    if settings.act_generator == "uniform":
        return uniform_mask(layer.input_shape, density, rng)
    return clustered_activation_mask(layer.input_shape, density, rng,
                                     channel_spread=settings.channel_spread,
                                     correlation_px=settings.correlation_px)


def _weight_mask(index: int, layer: Layer, density: float,
                 settings: SynthSettings) -> np.ndarray:
    rng = layer_rng(settings.seed, index, _WEIGHT_STREAM)
    if settings.nm is not None:
        n, m = settings.nm
        if layer.C_per_group % m:
            return np.ones(layer.weight_shape, dtype=bool)
        return nm_mask(layer.weight_shape, n, m, rng)
    if density == 1.0:
        return np.ones(layer.weight_shape, dtype=bool)
    return uniform_mask(layer.weight_shape, density, rng)


# ----------------------------------------------------------------------------- densities


def activation_densities(layers: Sequence[Layer], density: Density) -> list[float]:
    """Input density of each layer; layers sharing an input tensor get the same value."""
    stem_tensor = layers[0].input_tensor
    if density is None:
        return [1.0] * len(layers)
    if not isinstance(density, Mapping):
        value = check_density(density, key="act_density")
        return [1.0 if layer.input_tensor == stem_tensor else value for layer in layers]
    profile = _checked_profile(layers, density, "activation")
    by_tensor: dict[str, float] = {}
    for layer in layers:
        if layer.input_tensor not in by_tensor:
            by_tensor[layer.input_tensor] = _tensor_density(layers, layer, profile,
                                                            stem=layer.input_tensor == stem_tensor)
    return [by_tensor[layer.input_tensor] for layer in layers]


def _tensor_density(layers: Sequence[Layer], first: Layer, profile: Profile,
                    *, stem: bool) -> float:
    readers = [layer.name for layer in layers if layer.input_tensor == first.input_tensor]
    given = [name for name in readers if name in profile]
    for name in given[1:]:
        if profile[name] != profile[given[0]]:
            raise ConfigError(
                f"layers {given[0]!r} and {name!r} read the same tensor and share one mask, "
                f"but the profile gives them {profile[given[0]]} and {profile[name]}",
                file=profile.file, line=profile.lines.get(name), key=name)
    if given:
        return profile[given[0]]
    if stem:
        return 1.0
    if DEFAULT_KEY in profile:
        return profile[DEFAULT_KEY]
    raise _missing(first.name, profile, "activation")


def weight_densities(layers: Sequence[Layer], density: Density) -> list[float]:
    """Weight density of each layer (no stem rule: a number applies to every layer)."""
    if density is None:
        return [1.0] * len(layers)
    if not isinstance(density, Mapping):
        value = check_density(density, key="weight_density")
        return [value] * len(layers)
    profile = _checked_profile(layers, density, "weight")
    values = []
    for layer in layers:
        value = profile.get(layer.name, profile.get(DEFAULT_KEY))
        if value is None:
            raise _missing(layer.name, profile, "weight")
        values.append(value)
    return values


def _checked_profile(layers: Sequence[Layer], density: Mapping[str, float],
                     what: str) -> Profile:
    """``density`` as a ``Profile`` whose keys are all layer names (or ``default``)."""
    profile = density if isinstance(density, Profile) else Profile(density)
    names = [layer.name for layer in layers]
    known = {*names, DEFAULT_KEY}
    for key, value in profile.items():
        line = profile.lines.get(key)
        if key not in known:
            raise ConfigError(
                f"unknown layer in the {what} profile{did_you_mean(key, names)}",
                file=profile.file, line=line, key=str(key))
        check_density(value, key=key, file=profile.file, line=line)
    return profile


def _missing(name: str, profile: Profile, what: str) -> ConfigError:
    return ConfigError(f"the {what} profile gives no density for this layer and has no "
                       f"{DEFAULT_KEY!r} key", file=profile.file, key=name)

