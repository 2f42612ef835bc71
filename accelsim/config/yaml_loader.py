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
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        return None if root is None else _convert(root, file, yaml.constructor.SafeConstructor())
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


def _convert(node: yaml.Node, file: str, constructor: yaml.constructor.SafeConstructor) -> Any:
    if not node.tag.startswith(_STANDARD_TAG):
        raise ConfigError(f"unsupported YAML tag {node.tag!r}; plain YAML is expected",
                          file=file, line=_line(node))
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, file, constructor)
    if isinstance(node, yaml.SequenceNode):
        items = [_convert(item, file, constructor) for item in node.value]
        return YamlSeq(items, [_line(item) for item in node.value], file, _line(node))
    return constructor.construct_object(node, deep=True)


def _convert_mapping(node: yaml.MappingNode, file: str,
                     constructor: yaml.constructor.SafeConstructor) -> YamlMap:
    items: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _STANDARD_TAG + "merge":
            raise ConfigError("YAML merge keys ('<<') are not supported; write the keys out",
                              file=file, line=_line(key_node))
        key = _convert(key_node, file, constructor)
        if not isinstance(key, str):
            raise ConfigError(f"expected a text key, got {key!r}", file=file,
                              line=_line(key_node))
        if key in items:
            raise ConfigError(f"duplicate key {key!r} (first on line {lines[key]})",
                              file=file, line=_line(key_node))
        items[key] = _convert(value_node, file, constructor)
        lines[key] = _line(key_node)
    return YamlMap(items, lines, file, _line(node))
