"""Dotted keys into an architecture's YAML form, checked against the schema.

``levels.shared_glb.depth`` addresses the level named ``shared_glb``;
``dram.bandwidth_bytes_per_cycle``, ``levels.shared_glb.fanout.x``,
``levels.weights_spad.compression.weights.run_bits`` and
``energy.components.mac.compute_pj`` walk sections and mappings. A key must end at a
value (a number, text, or a list of choices such as ``keeps``); a wrong key or a value of
the wrong type is a one-line error before anything runs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from accelsim.arch.schema import TOP
from accelsim.config.keys import did_you_mean
from accelsim.config.schema import Field, Section, check_scalar
from accelsim.config.yaml_loader import parse_yaml, to_plain
from accelsim.errors import ConfigError

Fail = Callable[[str], ConfigError]


def split_values(text: str) -> list[str]:
    """``8,12,[inputs, outputs]`` → ``["8", "12", "[inputs, outputs]"]``: commas inside
    brackets or braces do not split."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def parse_scalar(text: str, fail: Fail) -> Any:
    """One value as YAML reads it (``8`` int, ``8.0`` float, ``.inf``, ``rle``, ``[a, b]``)."""
    try:
        return to_plain(parse_yaml(text, "--set"))
    except ConfigError as err:
        raise fail(f"cannot read value {text!r}: {err.message}") from None


def resolve_field(key: str, base: dict[str, Any], fail: Fail) -> Field:
    """The schema field ``key`` ends at; unknown parts get a "did you mean"."""
    parts = key.split(".")
    section: Section = TOP
    index = 0
    while True:
        part = parts[index]
        if part not in section.names:
            raise fail(f"unknown key {part!r}{_suggest(part, section)}; expected one of "
                       f"{', '.join(section.names)}")
        item = section.field(part)
        index += 1
        rest = len(parts) - index
        if isinstance(item.kind, Section):
            if not rest:
                raise fail(_not_a_value(key, item.kind.names))
            section = item.kind
            continue
        if item.kind is list and item.values is not None:
            if section is not TOP or part != "levels":
                raise fail(f"{part!r} is a list of mappings and cannot be swept")
            names = [level.get("name") for level in base.get("levels", [])]
            if not rest:
                raise fail(_not_a_value(key, names, "a level"))
            if parts[index] not in names:
                raise fail(f"no level named {parts[index]!r}"
                           f"{did_you_mean(parts[index], names)}; levels: {', '.join(names)}")
            section, index = item.values, index + 1
            if index == len(parts):
                raise fail(_not_a_value(key, section.names))
            continue
        if item.kind is dict and item.values is not None:
            choices = item.key_choices or component_names(base)
            if not rest:
                raise fail(_not_a_value(key, choices))
            if parts[index] not in choices:
                raise fail(f"unknown key {parts[index]!r}{did_you_mean(parts[index], choices)}"
                           f"; expected one of {', '.join(choices)}")
            section, index = item.values, index + 1
            if index == len(parts):
                raise fail(_not_a_value(key, section.names))
            continue
        if rest:
            raise fail(f"{part!r} is a value, not a section: nothing below it to set")
        return item


def _suggest(part: str, section: Section) -> str:
    """The schema's hint for another tool's spelling, a close match, or a key that starts
    with ``part``."""
    hint = dict(section.hints).get(part)
    if hint:
        return f" (accelsim's key is {hint})"
    close = did_you_mean(part, section.names)
    if close:
        return close
    starts = [name for name in section.names if name.startswith(part[:4])]
    return f" (did you mean {starts[0]!r}?)" if len(starts) == 1 else ""


def _not_a_value(key: str, below: Any, what: str = "a key") -> str:
    listed = ", ".join(str(name) for name in below)
    return f"{key!r} is a section, not a value: name {what} below it ({listed})"


def component_names(base: dict[str, Any]) -> tuple[str, ...]:
    names = [base.get("dram", {}).get("name", "DRAM")]
    names += [level.get("name") for level in base.get("levels", [])]
    names.append(base.get("compute", {}).get("name", "mac"))
    return tuple(str(name) for name in names)


def check_value(item: Field, value: Any, fail: Fail) -> Any:
    """The value, checked against the field's type, range and choices."""
    if item.kind is list:
        if not isinstance(value, list):
            raise fail(f"expected {item.describe_type()}, got {value!r}")
        for element in value:
            if item.choices is not None and element not in item.choices:
                raise fail(f"expected {item.describe_type()}, got {element!r}"
                           f"{did_you_mean(str(element), [str(c) for c in item.choices])}")
        return value
    if item.kind is dict:
        raise fail("a mapping cannot be swept; name one of its keys")
    return check_scalar(item, value, fail)


def apply_overrides(base: dict[str, Any], overrides: tuple[tuple[str, Any], ...]
                    ) -> dict[str, Any]:
    """A copy of ``base`` with each ``(dotted key, value)`` set; missing sections (an
    absent ``fanout`` or ``compression``) are created."""
    document = copy.deepcopy(base)
    for key, value in overrides:
        node: Any = document
        parts = key.split(".")
        for position, part in enumerate(parts[:-1]):
            if part == "levels" and position == 0:
                node = next(level for level in node["levels"]
                            if level.get("name") == parts[position + 1])
                continue
            if position == 1 and parts[0] == "levels":
                continue  # the level's name, consumed above
            node = node.setdefault(part, {})
            if node is None:
                raise ConfigError("cannot set a key below an empty value", key=key)
        node[parts[-1]] = value
    return document
