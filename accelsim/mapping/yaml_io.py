"""Mapping YAML: load with one-line errors (``file:line: key: message``), dump
deterministically.

```yaml
version: 1
layer: conv1                 # optional: the layer this mapping was made for
levels:                      # one entry per architecture level, outermost (DRAM) first
  - level: DRAM
    temporal: [P8, Q2, M4]   # outer -> inner; a loop is a letter of N M C P Q R S + bound
  - level: shared_glb
    keeps: [inputs, outputs] # optional: overrides the architecture's keeps (bypass)
    temporal: [P14, Q4]
    spatial_x: [Q14]         # unrolled over the level's fan-out
    spatial_y: [C3, S3]
```
"""

from __future__ import annotations

import os
import re
from typing import Any

from accelsim.arch.spec import Architecture, Tensor
from accelsim.atomic import write_text_atomic
from accelsim.config.keys import check_keys, did_you_mean
from accelsim.config.yaml_loader import YamlMap, YamlSeq, load_yaml, parse_yaml
from accelsim.errors import ConfigError
from accelsim.mapping.model import (
    DIMS,
    LevelMapping,
    Loop,
    Mapping,
    MappingError,
    check_mapping,
)
from accelsim.workload.layer import Layer

VERSION = 1
_LOOP = re.compile(r"^([A-Z])(\d+)$")
_LOOP_FIELDS = ("temporal", "spatial_x", "spatial_y")


def load_mapping(path: str | os.PathLike[str], layer: Layer | None = None,
                 arch: Architecture | None = None) -> Mapping:
    """Read a mapping file; with ``layer`` and ``arch``, also check that it fits them."""
    return mapping_from_yaml(load_yaml(path), os.fspath(path), layer, arch)


def parse_mapping(text: str, file: str = "<mapping>", layer: Layer | None = None,
                  arch: Architecture | None = None) -> Mapping:
    return mapping_from_yaml(parse_yaml(text, file), file, layer, arch)


def mapping_from_yaml(document: Any, file: str, layer: Layer | None = None,
                      arch: Architecture | None = None) -> Mapping:
    if document is None:
        raise ConfigError("empty file: expected a mapping with 'version: 1' and 'levels'",
                          file=file, line=1)
    if not isinstance(document, YamlMap):
        got = "a list" if isinstance(document, YamlSeq) else repr(document)[:60]
        raise ConfigError(f"expected a mapping with 'version: 1' and 'levels', got {got}",
                          file=file, line=1)
    _check_keys(document, ("version", "levels"), ("layer",), "")
    if document["version"] != VERSION:
        raise document.error("version", f"expected {VERSION}, got {document['version']!r}", "")
    layer_name = document.get("layer")
    if layer_name is not None and not isinstance(layer_name, str):
        raise document.error("layer", f"expected text, got {layer_name!r}", "")
    levels = document["levels"]
    if not isinstance(levels, YamlSeq) or not levels:
        raise document.error("levels", f"expected a non-empty list, got {levels!r}", "")
    entries, lines = [], {}
    for index, node in enumerate(levels):
        where = f"levels[{index}]"
        if not isinstance(node, YamlMap):
            raise levels.error(index, f"expected a mapping with 'level', got {node!r}",
                               "levels")
        entries.append(_level(node, where, lines))
    mapping = Mapping(tuple(entries), layer=layer_name)
    if layer is not None and arch is not None:
        try:
            check_mapping(mapping, layer, arch)
        except MappingError as exc:
            line = lines.get(exc.key or "", document.line_of("levels"))
            raise MappingError(exc.message, file=file, line=line, key=exc.key) from None
    return mapping


def _check_keys(node: YamlMap, required: tuple[str, ...], optional: tuple[str, ...],
                where: str) -> None:
    allowed = (*required, *optional)
    for key in node:
        if key not in allowed:
            raise node.error(key, f"unknown key{did_you_mean(key, allowed)}; expected one "
                             f"of {', '.join(allowed)}", where)
    try:
        check_keys(node, required=required, optional=optional, where=where or "mapping",
                   file=node.file, error=ConfigError)
    except ConfigError as exc:
        raise ConfigError(exc.message, file=node.file, line=node.line, key=exc.key) from None


def _level(node: YamlMap, where: str, lines: dict[str, int]) -> LevelMapping:
    _check_keys(node, ("level",), ("keeps", *_LOOP_FIELDS), where)
    name = node["level"]
    if not isinstance(name, str) or not name:
        raise node.error("level", f"expected a level name, got {name!r}", where)
    lines[where] = node.line
    loops = {field: _loops(node, field, where, lines) for field in _LOOP_FIELDS}
    keeps = None
    if "keeps" in node:
        keeps = _keeps(node, where)
    return LevelMapping(name, loops["temporal"], loops["spatial_x"], loops["spatial_y"], keeps)


def _loops(node: YamlMap, field: str, where: str, lines: dict[str, int]) -> tuple[Loop, ...]:
    if field not in node or node[field] is None:
        return ()
    items = node[field]
    if not isinstance(items, YamlSeq):
        raise node.error(field, f"expected a list of loops like [P8, Q2], got {items!r}", where)
    loops = []
    for index, item in enumerate(items):
        match = _LOOP.match(item) if isinstance(item, str) else None
        if match is None or match.group(1) not in DIMS or int(match.group(2)) < 1:
            raise items.error(index, "expected a loop like 'P8' (one of "
                              f"{' '.join(DIMS)} then a positive bound), got {item!r}",
                              f"{where}.{field}")
        loop = Loop(match.group(1), int(match.group(2)))
        lines.setdefault(loop.dim, items.line_of(index))
        loops.append(loop)
    return tuple(loops)


def _keeps(node: YamlMap, where: str) -> frozenset[Tensor]:
    items = node["keeps"]
    names = [t.value for t in Tensor]
    if not isinstance(items, YamlSeq):
        raise node.error("keeps", f"expected a list of {', '.join(names)}, got {items!r}", where)
    kept = set()
    for index, item in enumerate(items):
        if item not in names:
            raise items.error(index, f"expected one of {', '.join(names)}"
                              f"{did_you_mean(str(item), names)}, got {item!r}",
                              f"{where}.keeps")
        kept.add(Tensor(item))
    return frozenset(kept)


def dump_mapping(mapping: Mapping, comment: str = "") -> str:
    """YAML text of ``mapping``; ``load`` of it gives an equal mapping."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines.append(f"version: {VERSION}")
    if mapping.layer:
        lines.append(f"layer: {mapping.layer}")
    lines.append("levels:")
    for entry in mapping.levels:
        lines.append(f"  - level: {entry.level}")
        if entry.keeps is not None:
            kept = [t.value for t in Tensor if t in entry.keeps]
            lines.append(f"    keeps: [{', '.join(kept)}]")
        for field in _LOOP_FIELDS:
            loops = getattr(entry, field)
            if loops:
                lines.append(f"    {field}: [{', '.join(map(str, loops))}]")
    return "\n".join(lines) + "\n"


def save_mapping(path: str | os.PathLike[str], mapping: Mapping, comment: str = "") -> None:
    write_text_atomic(path, dump_mapping(mapping, comment))
