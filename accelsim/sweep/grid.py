"""The points of a sweep: the product of the ``--set`` lists, the ``--set-from`` rows
(zipped: each row one variation) and the traces, in a fixed order — traces outermost, then
the ``--set-from`` rows, then the ``--set`` lists with the last key varying fastest."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim.arch.bundled import find_config
from accelsim.arch.loader import architecture_from_yaml
from accelsim.bundled import find_trace
from accelsim.config.yaml_loader import YamlMap, YamlSeq, load_yaml, to_plain
from accelsim.errors import AccelsimError, ConfigError
from accelsim.sweep.keys import check_value, parse_scalar, resolve_field, split_values

Overrides = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Point:
    """One simulation: ``index`` in grid order, the trace as given and where it is loaded
    from, and the overridden keys with their values."""

    index: int
    trace: str
    trace_source: str
    overrides: Overrides


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """Everything a sweep needs: the base config's YAML form (plain data), its name and
    file, the varied keys (CSV columns, in order) and the points."""

    hw_name: str
    hw_file: str
    base: dict[str, Any]
    keys: tuple[str, ...]
    points: tuple[Point, ...]
    layers: tuple[str, ...] | None = None


def format_value(value: Any) -> str:
    """A varied value as it appears in the CSV (and is matched on resumption)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)


def parse_set(argument: str, base: dict[str, Any]) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,…`` → the key and its checked values."""
    key, sep, text = argument.partition("=")
    key = key.strip()

    def fail(message: str) -> ConfigError:
        return ConfigError(message, key=f"--set {key}")

    if not sep or not key:
        raise ConfigError(f"expected KEY=V1,V2,…, got {argument!r}", key="--set")
    item = resolve_field(key, base, fail)
    values = [check_value(item, parse_scalar(part, fail), fail) for part in split_values(text)]
    return key, values


def read_set_from(path: str, base: dict[str, Any]) -> tuple[tuple[str, ...], list[Overrides]]:
    """A YAML list of mappings ``{key: value, …}``, all with the same keys: zipped rows."""
    document = load_yaml(path)
    if not isinstance(document, YamlSeq) or not document:
        raise ConfigError("expected a non-empty list of mappings of dotted keys to values",
                          file=path, line=1)
    keys: tuple[str, ...] | None = None
    rows = []
    for index, entry in enumerate(document):
        line = document.line_of(index)
        if not isinstance(entry, YamlMap):
            raise ConfigError("expected a mapping of dotted keys to values", file=path,
                              line=line, key=f"[{index}]")
        if keys is None:
            keys = tuple(entry)
        elif tuple(entry) != keys:
            raise ConfigError(f"expected the same keys as the first entry ({', '.join(keys)})"
                              f", got {', '.join(entry)}", file=path, line=line,
                              key=f"[{index}]")
        row = []
        for key in entry:
            def fail(message: str, key: str = key, line: int | None = entry.line_of(key)
                     ) -> ConfigError:
                return ConfigError(message, file=path, line=line, key=key)

            item = resolve_field(key, base, fail)
            row.append((key, check_value(item, to_plain(entry[key]), fail)))
        rows.append(tuple(row))
    return keys or (), rows


def load_base(hw: str) -> tuple[str, str, dict[str, Any]]:
    """The config's name, file and YAML form; the config itself must load."""
    location = find_config(hw, fallback=True)
    base = to_plain(load_yaml(location.path))
    # Messages name a bundled config by its file name, not this machine's install path, so
    # that a failed point reads the same from every worker.
    file = location.path.name if location.bundled else str(location.path)
    arch = architecture_from_yaml(base, file)
    return arch.name, file, base


def _trace_source(trace: str) -> str:
    """What a worker loads: a bundled trace by name (found in its own install), another
    trace by absolute path."""
    location = find_trace(trace, fallback=True)
    return location.path.stem if location.bundled else str(Path(location.path).resolve())


def build_spec(hw: str, traces: Sequence[str], sets: Sequence[str],
               set_from: str | None = None, layers: Sequence[str] | None = None
               ) -> SweepSpec:
    """Check every key and value and list the points; nothing runs here."""
    hw_name, hw_file, base = load_base(hw)
    if not traces:
        raise AccelsimError("expected at least one --trace")
    if len(set(traces)) != len(traces):
        raise AccelsimError("a trace is given twice", key="--trace")
    sources = {trace: _trace_source(trace) for trace in traces}
    grid = [parse_set(argument, base) for argument in sets]
    zipped_keys, zipped_rows = read_set_from(set_from, base) if set_from else ((), [()])
    keys = (*zipped_keys, *(key for key, _ in grid))
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise AccelsimError(f"key {repeated[0]!r} is varied twice (in --set or --set-from)")
    points = []
    for trace in traces:
        for zipped in zipped_rows:
            for values in itertools.product(*(values for _, values in grid)):
                overrides = (*zipped, *zip((key for key, _ in grid), values, strict=True))
                points.append(Point(len(points), trace, sources[trace], tuple(overrides)))
    _check_unique(points)
    return SweepSpec(hw_name, hw_file, base, tuple(keys), tuple(points),
                     tuple(layers) if layers else None)


def point_key(trace: str, values: Sequence[str]) -> tuple[str, ...]:
    return (trace, *values)


def point_values(point: Point) -> tuple[str, ...]:
    return tuple(format_value(value) for _, value in point.overrides)


def _check_unique(points: list[Point]) -> None:
    seen: set[tuple[str, ...]] = set()
    for point in points:
        key = point_key(point.trace, point_values(point))
        if key in seen:
            shown = ", ".join(f"{k}={format_value(v)}" for k, v in point.overrides)
            raise AccelsimError(f"the point {shown or '(base)'} on {point.trace} appears twice;"
                                " every point of a sweep must differ")
        seen.add(key)
