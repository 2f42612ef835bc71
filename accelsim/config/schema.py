"""A schema is data: ``Section``s of ``Field``s, each with a type, unit, default, range and
one line of meaning. One table drives both the checks (``Section.read``) and the
reference documentation (``Section.markdown``), so the two cannot drift apart.

Checks give one line ``file:line: section.key: expected …, got …`` for an unknown key
(with a "did you mean"), a missing key, a wrong type, a value out of range or not among
the choices, and a reserved key that a later version will accept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from accelsim.config.keys import did_you_mean
from accelsim.config.yaml_loader import YamlMap, YamlSeq, join_key
from accelsim.errors import ConfigError


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a field that must be given."""

MAX_MAGNITUDE = 2**53
"""The largest number any key accepts (beyond it integers are no longer exact as floats and
every size or rate in a design is far smaller); ``.inf`` is separate (``allow_inf``)."""

_TYPE_NAMES = {int: "an integer", float: "a number", str: "text", bool: "true or false",
               list: "a list", dict: "a mapping"}


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a YAML section.

    ``kind`` is ``int``, ``float`` (integers accepted), ``str``, ``bool``, ``list`` (of
    ``choices``, or of mappings each read with ``values``), ``dict`` (free keys —
    ``key_choices`` when restricted — each value read with ``values``) or a nested
    ``Section``. ``minimum`` with ``exclusive`` bounds numbers;
    ``allow_inf`` admits YAML's ``.inf`` (unbounded). A ``reserved`` field is documented but
    rejected with that text until a later version implements it.
    """

    name: str
    kind: Any
    doc: str
    unit: str = ""
    default: Any = REQUIRED
    minimum: float | None = None
    exclusive: bool = False
    allow_inf: bool = False
    choices: tuple[Any, ...] | None = None
    key_choices: tuple[str, ...] | None = None
    values: Section | None = None
    reserved: str | None = None
    default_doc: str | None = None

    def describe_type(self) -> str:
        """The expected value in words, e.g. ``an integer > 0``."""
        if isinstance(self.kind, Section):
            return "a mapping"
        if self.kind is list and self.values is not None:
            return f"a list of `{self.values.title}` mappings"
        if self.kind is list and self.choices:
            return f"a list of {_listed(self.choices)}"
        if self.kind is dict and self.values is not None:
            return f"a mapping of `{self.values.title}` mappings"
        if self.choices and len(self.choices) == 1:
            return str(self.choices[0])
        if self.choices:
            return f"one of {_listed(self.choices)}"
        words = _TYPE_NAMES[self.kind]
        if self.minimum is not None:
            words += f" {'>' if self.exclusive else '≥'} {self.minimum:g}"
        if self.allow_inf:
            words += " (or .inf)"
        return words


@dataclass(frozen=True, slots=True)
class Section:
    """A YAML mapping with a fixed set of keys; ``title`` names it in the docs."""

    title: str
    doc: str
    fields: tuple[Field, ...]
    hints: tuple[tuple[str, str], ...] = ()
    """Other tools' spellings → ours, offered when such a key is unknown here."""

    def field(self, name: str) -> Field:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.fields if item.reserved is None)

    def read(self, node: Any, where: str) -> dict[str, Any]:
        """Check ``node`` against the section; values of every field, defaults filled in.

        Nested sections are read recursively; ``dict`` fields become plain dicts of read
        values; the raw ``YamlMap`` stays available to the caller for cross-field checks.
        """
        mapping = expect_mapping(node, where)
        allowed = [item.name for item in self.fields]
        for key in mapping:
            if key not in allowed:
                raise unknown_key(mapping, key, self.names, where, dict(self.hints).get(key))
        out: dict[str, Any] = {}
        for item in self.fields:
            if item.name not in mapping:
                if item.default is REQUIRED and item.reserved is None:
                    raise mapping.error(None, f"missing required key {item.name!r}", where)
                out[item.name] = None if item.reserved is not None else item.default
                continue
            if item.reserved is not None:
                raise mapping.error(item.name, f"not supported yet: {item.reserved}", where)
            out[item.name] = read_value(item, mapping, item.name, where)
        return out

    def markdown(self) -> str:
        """The section as a Markdown table: key, type, unit, default, meaning."""
        rows = [f"### `{self.title}`", "", self.doc, "",
                "| key | type | unit | default | meaning |", "|---|---|---|---|---|"]
        for item in self.fields:
            if item.reserved is not None:
                default = "reserved"
                meaning = f"{item.doc} Not accepted yet: {item.reserved}."
            else:
                default = item.default_doc or _default_text(item.default)
                meaning = item.doc
            kind = f"a mapping (`{item.kind.title}`)" if isinstance(item.kind, Section) \
                else item.describe_type()
            rows.append(f"| `{item.name}` | {kind} | {item.unit or '—'} | {default} | "
                        f"{meaning} |")
        return "\n".join(rows) + "\n"


def _listed(choices: tuple[Any, ...]) -> str:
    return ", ".join(str(choice) for choice in choices)


def _default_text(default: Any) -> str:
    if default is REQUIRED:
        return "required"
    if default is None:
        return "none"
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, float) and math.isinf(default):
        return "`.inf`"
    if isinstance(default, tuple | list):
        return "`[" + ", ".join(str(item) for item in default) + "]`"
    return f"`{default}`"


def unknown_key(mapping: YamlMap, key: str, allowed: tuple[str, ...], where: str,
                hint: str | None = None) -> ConfigError:
    """``where: unknown key 'x' (did you mean 'y'?); expected one of …`` at the key's line."""
    suggestion = f" (accelsim's key is {hint})" if hint else did_you_mean(key, allowed)
    return ConfigError(f"unknown key {key!r}{suggestion}; expected one of "
                       f"{', '.join(allowed)}", file=mapping.file, line=mapping.line_of(key),
                       key=where or None)


def expect_mapping(node: Any, where: str, *, file: str | None = None,
                   line: int | None = None) -> YamlMap:
    if isinstance(node, YamlMap):
        return node
    raise ConfigError(f"expected a mapping, got {_shown(node)}", file=_file_of(node, file),
                      line=_line_of(node, line), key=where or None)


def read_value(item: Field, parent: YamlMap, key: str, where: str) -> Any:
    """Check one value of ``parent`` against ``item``."""
    value = parent[key]
    name = join_key(where, key)
    if isinstance(item.kind, Section):
        if not isinstance(value, YamlMap):
            raise parent.error(key, f"expected a mapping, got {_shown(value)}", where)
        return item.kind.read(value, name)
    if item.kind is dict:
        return _read_dict(item, parent, key, where)
    if item.kind is list:
        return _read_list(item, parent, key, where)
    return check_scalar(item, value, lambda message: parent.error(key, message, where))


def check_scalar(item: Field, value: Any, fail) -> Any:
    """Type, range and choices of one scalar; ``fail(message)`` builds the error."""
    expected = item.describe_type()
    if item.kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
        ok = ok and not math.isnan(value) and (item.allow_inf or not math.isinf(value))
    else:
        ok = isinstance(value, item.kind) and (item.kind is bool
                                               or not isinstance(value, bool))
    if ok and item.kind in (int, float) and not math.isinf(value) \
            and abs(value) > MAX_MAGNITUDE:
        raise fail(f"expected {expected}, at most 2^53, got {_magnitude(value)}")
    if ok and item.minimum is not None:
        ok = value > item.minimum if item.exclusive else value >= item.minimum
    if ok and item.choices is not None and value not in item.choices:
        raise fail(f"expected {expected}, got {value!r}"
                   f"{did_you_mean(str(value), [str(c) for c in item.choices])}")
    if not ok:
        raise fail(f"expected {expected}, got {_shown(value)}")
    return value


def _magnitude(value: int | float) -> str:
    """A huge number in a few characters: ``an integer of 133 bits`` rather than its digits."""
    if isinstance(value, int) and abs(value).bit_length() > 53:
        return f"an integer of {abs(value).bit_length()} bits"
    return repr(value)


def _read_list(item: Field, parent: YamlMap, key: str, where: str) -> tuple[Any, ...]:
    value = parent[key]
    if not isinstance(value, YamlSeq):
        raise parent.error(key, f"expected {item.describe_type()}, got {_shown(value)}", where)
    name = join_key(where, key)
    if item.values is not None:
        return tuple(_read_list_mapping(item.values, value, index, name)
                     for index in range(len(value)))
    out = []
    for index, element in enumerate(value):
        if item.choices is not None and element not in item.choices:
            raise value.error(index, f"expected one of {', '.join(item.choices)}, got "
                                     f"{_shown(element)}"
                                     f"{did_you_mean(str(element), item.choices)}", name)
        if element in out:
            raise value.error(index, f"duplicate entry {element!r}", name)
        out.append(element)
    return tuple(out)


def _read_list_mapping(section: Section, items: YamlSeq, index: int, where: str
                       ) -> dict[str, Any]:
    if not isinstance(items[index], YamlMap):
        raise items.error(index, f"expected a mapping, got {_shown(items[index])}", where)
    return section.read(items[index], f"{where}[{index}]")


def _read_dict(item: Field, parent: YamlMap, key: str, where: str) -> dict[str, Any]:
    value = parent[key]
    name = join_key(where, key)
    if not isinstance(value, YamlMap):
        raise parent.error(key, f"expected a mapping, got {_shown(value)}", where)
    out: dict[str, Any] = {}
    for entry in value:
        if item.key_choices is not None and entry not in item.key_choices:
            raise unknown_key(value, entry, item.key_choices, name)
        if item.values is None:
            out[entry] = value[entry]
        elif not isinstance(value[entry], YamlMap):
            raise value.error(entry, f"expected a mapping, got {_shown(value[entry])}", name)
        else:
            out[entry] = item.values.read(value[entry], join_key(name, entry))
    return out


def _shown(value: Any) -> str:
    if isinstance(value, YamlMap):
        return "a mapping"
    if isinstance(value, YamlSeq):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def _file_of(node: Any, file: str | None) -> str | None:
    return getattr(node, "file", None) or file


def _line_of(node: Any, line: int | None) -> int | None:
    return getattr(node, "line", None) or line
