"""Read Timeloop's ``timeloop-mapper.map.txt`` into a ``Mapping`` for an architecture.

Timeloop writes one block per storage level, outermost first::

    shared_glb [ Inputs:9831 (9831) Outputs:6272 (6272) ]
    -----------------------------------------------------
    |       for P in [0:14)
    inter_PE_column_spatial [ ]
    |           for Q in [0:14) (Spatial-X)

Loops belong to the last level named above them. A name the architecture does not have is
one of Timeloop's spatial containers (it keeps nothing): its spatial loops become the fan-out
of the nearest architecture level above it, which is where accelsim puts a fan-out. The
tensors in brackets become the mapping's ``keeps`` (the mapper's bypass choices).
``[0:8,3)`` (Timeloop's residual) reads as 8: the residual follows from the layer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from accelsim.arch.spec import Architecture, Tensor
from accelsim.errors import ConfigError
from accelsim.mapping.model import DIMS, LevelMapping, Loop, Mapping

_HEADER = re.compile(r"^(\S+) \[(.*)\]\s*$")
_LOOP = re.compile(r"^\|\s*for (\w+) in \[0:(\d+)(?:,\d+)?\)(?: \(Spatial-([XY])\))?\s*$")
_KEPT = re.compile(r"(\w+):\d+")
_TENSORS = {"Weights": Tensor.WEIGHTS, "Inputs": Tensor.INPUTS, "Outputs": Tensor.OUTPUTS}


def load_timeloop_map(path: str | os.PathLike[str], arch: Architecture,
                      layer: str | None = None) -> Mapping:
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=file) from None
    return parse_timeloop_map(text, arch, file=file, layer=layer)


def parse_timeloop_map(text: str, arch: Architecture, file: str = "<map.txt>",
                       layer: str | None = None) -> Mapping:
    names = [level.name for level in arch.levels]
    blocks: dict[str, dict] = {}
    current: dict | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip() or set(line.strip()) == {"-"} or "<< Compute >>" in line:
            continue
        header = _HEADER.match(line)
        if header:
            name = header.group(1)
            if name in blocks:
                raise ConfigError(f"level {name!r} appears twice", file=file, line=number)
            kept = _kept(header.group(2), file, number)
            if name in names:
                if current is not None and names.index(name) <= current["index"]:
                    raise ConfigError(f"level {name!r} is out of the architecture's order "
                                      f"({', '.join(names)})", file=file, line=number)
                current = {"index": names.index(name), "keeps": kept, "temporal": [],
                           "x": [], "y": [], "line": number}
                blocks[name] = current
            elif kept:
                shown = ", ".join(n for n, t in _TENSORS.items() if t in kept)
                raise ConfigError(f"level {name!r} keeps {shown} but the architecture "
                                  f"has no such level; expected one of "
                                  f"{', '.join(names)}", file=file, line=number)
            elif current is None:
                raise ConfigError(f"spatial level {name!r} comes before any architecture "
                                  "level", file=file, line=number)
            else:
                current = {**current, "container": name}
                blocks[name] = {"alias": current}
            continue
        loop = _LOOP.match(line)
        if loop is None:
            raise ConfigError(f"expected a level header 'name [ ... ]' or a loop "
                              f"'| for P in [0:8)', got {line.strip()!r}", file=file, line=number)
        if current is None:
            raise ConfigError("loop before any level", file=file, line=number)
        dim, bound, axis = loop.group(1), int(loop.group(2)), loop.group(3)
        if dim not in DIMS:
            raise ConfigError(f"unknown dimension {dim!r}; expected one of {' '.join(DIMS)}",
                              file=file, line=number)
        if axis is None and "container" in current:
            raise ConfigError(f"temporal loop in spatial level {current['container']!r} "
                              "cannot be placed", file=file, line=number)
        target = blocks[names[current["index"]]]
        target["temporal" if axis is None else axis.lower()].append(Loop(dim, bound))
    return _build(blocks, arch, file, layer)


def _kept(inside: str, file: str, line: int) -> frozenset[Tensor]:
    kept = set()
    for name in _KEPT.findall(inside):
        if name not in _TENSORS:
            raise ConfigError(f"unknown tensor {name!r}; expected Weights, Inputs or Outputs",
                              file=file, line=line)
        kept.add(_TENSORS[name])
    return frozenset(kept)


def _build(blocks: dict[str, dict], arch: Architecture, file: str,
           layer: str | None) -> Mapping:
    entries = []
    for level in arch.levels:
        block = blocks.get(level.name)
        if block is None:
            raise ConfigError(f"architecture level {level.name!r} is missing from the map",
                              file=file)
        entries.append(LevelMapping(level.name, tuple(block["temporal"]), tuple(block["x"]),
                                    tuple(block["y"]), block["keeps"]))
    return Mapping(tuple(entries), layer=layer)
