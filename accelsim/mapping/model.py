"""The mapping: how a layer's loop nest is tiled over the storage levels and unrolled over
their fan-outs (design.md §4).

One ``LevelMapping`` per storage level, outermost (DRAM) first. Each holds the temporal loops
of that level, outer → inner, then the spatial loops that spread the level's tile over its
fan-out (X, then Y). The loop letters are the layer's N M C P Q R S (docs/model.md); C and M
are per group. A dimension may be split imperfectly: the product of its factors may exceed
the layer's bound, as long as its outermost factor is the ceil-division of the bound by the
inner factors (the mapper's ceil-div tiles); the last tile is then partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil, prod

from accelsim.arch.spec import Architecture, Tensor
from accelsim.errors import AccelsimError
from accelsim.workload.layer import Layer

DIMS: tuple[str, ...] = ("N", "M", "C", "P", "Q", "R", "S")


class MappingError(AccelsimError):
    """A mapping that does not fit its layer or architecture."""


@dataclass(frozen=True, slots=True)
class Loop:
    """One loop of the nest: ``for dim in [0:bound)``."""

    dim: str
    bound: int

    def __post_init__(self) -> None:
        if self.dim not in DIMS:
            raise MappingError(f"loop dimension must be one of {' '.join(DIMS)}, "
                               f"got {self.dim!r}")
        if isinstance(self.bound, bool) or not isinstance(self.bound, int) or self.bound < 1:
            raise MappingError(f"loop bound must be a positive integer, got {self.bound!r}")

    def __str__(self) -> str:
        return f"{self.dim}{self.bound}"


@dataclass(frozen=True, slots=True)
class LevelMapping:
    """The loops one storage level runs: temporal outer → inner, then spatial X and Y.

    ``keeps`` overrides which tensors the level holds (a bypass choice); ``None`` means the
    architecture's ``keeps``.
    """

    level: str
    temporal: tuple[Loop, ...] = ()
    spatial_x: tuple[Loop, ...] = ()
    spatial_y: tuple[Loop, ...] = ()
    keeps: frozenset[Tensor] | None = None

    @property
    def loops(self) -> tuple[Loop, ...]:
        return (*self.temporal, *self.spatial_x, *self.spatial_y)


@dataclass(frozen=True, slots=True)
class Mapping:
    """A complete loop nest for one layer: one ``LevelMapping`` per architecture level."""

    levels: tuple[LevelMapping, ...]
    layer: str | None = field(default=None, compare=False)

    def level(self, name: str) -> LevelMapping:
        for entry in self.levels:
            if entry.level == name:
                return entry
        raise KeyError(name)

    def factors(self, dim: str) -> tuple[int, ...]:
        """The bounds of every loop over ``dim``, outermost first."""
        return tuple(loop.bound for entry in self.levels for loop in entry.loops
                     if loop.dim == dim)

    def keeps(self, arch: Architecture, index: int) -> frozenset[Tensor]:
        entry = self.levels[index]
        return arch.levels[index].keeps if entry.keeps is None else entry.keeps

    def describe(self) -> str:
        """One line, e.g. ``DRAM[P8 Q2 M4] shared_glb[P14 Q4 | X:Q14 Y:C3 S3] …``."""
        parts = []
        for entry in self.levels:
            text = " ".join(map(str, entry.temporal))
            spatial = []
            if entry.spatial_x:
                spatial.append("X:" + " ".join(map(str, entry.spatial_x)))
            if entry.spatial_y:
                spatial.append("Y:" + " ".join(map(str, entry.spatial_y)))
            if spatial:
                text = f"{text} | {' '.join(spatial)}".strip()
            parts.append(f"{entry.level}[{text}]")
        return " ".join(parts)


def layer_bounds(layer: Layer) -> dict[str, int]:
    """The loop bounds of one group of ``layer``: N M C P Q R S (C and M per group)."""
    return {"N": layer.N, "M": layer.M_per_group, "C": layer.C_per_group, "P": layer.P,
            "Q": layer.Q, "R": layer.R, "S": layer.S}


def check_mapping(mapping: Mapping, layer: Layer, arch: Architecture) -> None:
    """Raise a one-line ``MappingError`` unless ``mapping`` fits ``layer`` and ``arch``."""
    names = [level.name for level in arch.levels]
    given = [entry.level for entry in mapping.levels]
    if given != names:
        raise MappingError(f"levels must be {', '.join(names)} in this order, "
                           f"got {', '.join(given) or 'none'}", key="levels")
    for index, (entry, level) in enumerate(zip(mapping.levels, arch.levels, strict=True)):
        where = f"levels[{index}]"
        x = prod(loop.bound for loop in entry.spatial_x)
        y = prod(loop.bound for loop in entry.spatial_y)
        if x > level.fanout.x or y > level.fanout.y:
            raise MappingError(
                f"spatial factors X={x} Y={y} exceed the fan-out {level.fanout.x}x"
                f"{level.fanout.y} of {level.name}", key=where)
        keeps = mapping.keeps(arch, index)
        if index == 0 and keeps != frozenset(Tensor):
            raise MappingError("the outermost level must keep every tensor", key=where)
    for dim, bound in layer_bounds(layer).items():
        check_factors(dim, mapping.factors(dim), bound)


def check_factors(dim: str, factors: tuple[int, ...], bound: int) -> None:
    """Perfect (product == bound) or ceil-div (outermost == ceil(bound / inner)) splits."""
    total = prod(factors)
    if total == bound:
        return
    inner = prod(factors[1:])
    if total > bound and factors and factors[0] == ceil(bound / inner):
        return
    shown = "x".join(map(str, factors)) or "nothing"
    raise MappingError(
        f"factors of {dim} ({shown} = {total}) must multiply to {bound}, or split it "
        f"imperfectly with the outermost factor ceil({bound}/{inner}) = {ceil(bound / inner)}",
        key=dim)
