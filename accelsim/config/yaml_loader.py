"""YAML with line marks: every mapping and list remembers the file and the line of each
key and item, so that any later check can say ``file:line: key: expected …, got …``.

Built on ``yaml.compose`` (the node tree keeps marks; ``yaml.safe_load`` loses them).
Scalars become plain Python values through PyYAML's safe constructors; mappings become
read-only ``YamlMap`` and lists ``YamlSeq``. Duplicate keys, non-string keys and
custom tags (``!Component``) are errors, never silently resolved. Any YAML the tool reads
(architecture, mapping, sweep files) goes through ``load_yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from accelsim.errors import ConfigError

_STANDARD_TAG = "tag:yaml.org,2002:"
MAX_NODES = 100_000
"""Nodes a document may expand to, aliases counted at each use (a few hundred is typical;
the bound stops a "billion laughs" document of nested aliases)."""
MAX_DEPTH = 100
"""Mappings and lists nested in each other (a config needs fewer than ten)."""


class YamlMap(Mapping[str, Any]):
    """A read-only mapping that knows the file and the line of every key."""

    __slots__ = ("_items", "_lines", "file", "line")

    def __init__(self, items: dict[str, Any], lines: dict[str, int], file: str,
                 line: int | None) -> None:
        self._items = items
        self._lines = lines
        self.file = file
        self.line = line

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"YamlMap({self._items!r})"

    def line_of(self, key: str) -> int | None:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self._lines.get(key, self.line)

    def error(self, key: str | None, message: str, where: str) -> ConfigError:
        """A one-line error about ``key`` (or the whole mapping), located in the file."""
        name = where if key is None else join_key(where, key)
        line = self.line if key is None else self.line_of(key)
        return ConfigError(message, file=self.file, line=line, key=name or None)

    def to_plain(self) -> dict[str, Any]:
        """Plain dicts and lists all the way down (for echoing a config into a report)."""
        return {key: to_plain(value) for key, value in self._items.items()}


class YamlSeq(Sequence[Any]):
    """A read-only list that knows the file and the line of every item."""

    __slots__ = ("_items", "_lines", "file", "line")

    def __init__(self, items: list[Any], lines: list[int | None], file: str,
                 line: int | None) -> None:
        self._items = items
        self._lines = lines
        self.file = file
        self.line = line

    def __getitem__(self, index):  # type: ignore[override]
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"YamlSeq({self._items!r})"

    def line_of(self, index: int) -> int | None:
        return self._lines[index] if 0 <= index < len(self._lines) else self.line

    def error(self, index: int | None, message: str, where: str) -> ConfigError:
        name = where if index is None else f"{where}[{index}]"
        line = self.line if index is None else self.line_of(index)
        return ConfigError(message, file=self.file, line=line, key=name or None)


def join_key(where: str, key: str | int) -> str:
    """``levels[1]`` + ``depth`` → ``levels[1].depth``; an integer key indexes."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def from_plain(value: Any, file: str) -> Any:
    """Plain dicts and lists (built in code, e.g. a config with sweep overrides applied) as
    ``YamlMap``/``YamlSeq`` without line numbers, so the same checks apply; errors then
    read ``file: key: …``."""
    if isinstance(value, YamlMap | YamlSeq):
        return value
    if isinstance(value, Mapping):
        items = {key: from_plain(item, file) for key, item in value.items()}
        return YamlMap(items, {}, file, None)
    if isinstance(value, list | tuple):
        return YamlSeq([from_plain(item, file) for item in value], [None] * len(value), file,
                       None)
    return value


def to_plain(value: Any) -> Any:
    if isinstance(value, YamlMap):
        return value.to_plain()
    if isinstance(value, YamlSeq):
        return [to_plain(item) for item in value]
    return value


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """Read and parse one YAML document; a missing or unreadable file is a one-line error."""
    file = os.fspath(path)
    if Path(file).is_dir():
        raise ConfigError("is a directory, expected a YAML file", file=file)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", file=file) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                          file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=file) from None
    return parse_yaml(text, file)


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text; ``file`` names it in errors. An empty document is ``None``."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character such as NUL
        raise ConfigError(f"not valid YAML: character {exc.character:#06x} is not allowed",
                          file=file, line=text.count("\n", 0, exc.position) + 1) from None
    try:
        root = loader.get_single_node()
        return None if root is None else \
            _Converter(file, yaml.constructor.SafeConstructor()).convert(root, 0)
    except RecursionError:
        raise ConfigError(f"not valid YAML: nested more than {MAX_DEPTH} levels deep",
                          file=file) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"not valid YAML: {problem}", file=file,
                          line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Converter:
    """YAML nodes → ``YamlMap``/``YamlSeq``/scalars, within ``MAX_NODES`` and ``MAX_DEPTH``
    (an alias is expanded at each use, so a recursive alias is an error, not a loop)."""

    def __init__(self, file: str, constructor: yaml.constructor.SafeConstructor) -> None:
        self.file = file
        self.constructor = constructor
        self.nodes = 0

    def convert(self, node: yaml.Node, depth: int) -> Any:
        file = self.file
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ConfigError(f"the document expands to more than {MAX_NODES:,} YAML nodes "
                              "(aliases count at each use)", file=file, line=_line(node))
        if depth > MAX_DEPTH:
            raise ConfigError(f"nested more than {MAX_DEPTH} levels deep (a recursive YAML "
                              "alias?)", file=file, line=_line(node))
        if not node.tag.startswith(_STANDARD_TAG):
            raise ConfigError(f"unsupported YAML tag {node.tag!r}; plain YAML is expected",
                              file=file, line=_line(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            items = [self.convert(item, depth + 1) for item in node.value]
            return YamlSeq(items, [_line(item) for item in node.value], file, _line(node))
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, TypeError, AttributeError):  # 2001-02-30, !!int x, !!timestamp x
            raise ConfigError(f"not a usable value: {scalar_problem(node)}", file=file,
                              line=_line(node)) from None

    def _mapping(self, node: yaml.MappingNode, depth: int) -> YamlMap:
        file = self.file
        items: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _STANDARD_TAG + "merge":
                raise ConfigError("YAML merge keys ('<<') are not supported; write the keys "
                                  "out", file=file, line=_line(key_node))
            key = self.convert(key_node, depth + 1)
            if not isinstance(key, str):
                raise ConfigError(f"expected a text key, got {_short(key)}", file=file,
                                  line=_line(key_node))
            if key in items:
                raise ConfigError(f"duplicate key {key!r} (first on line {lines[key]})",
                                  file=file, line=_line(key_node))
            items[key] = self.convert(value_node, depth + 1)
            lines[key] = _line(key_node)
        return YamlMap(items, lines, file, _line(node))


def scalar_problem(node: yaml.Node) -> str:
    """``'2001-02-30' is not a valid timestamp``: why PyYAML could not construct a scalar."""
    kind = node.tag.removeprefix(_STANDARD_TAG)
    return f"{_short(str(node.value))} is not a valid {kind}"


def _short(value: Any) -> str:
    """``repr`` of a value, cut to one short line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
