"""The mapper's candidate generators: spatial unrollings of the fan-outs, and the temporal
factors a level may take — small, deterministic sets instead of every factorisation
(docs/mapper.md).

Factors come from ``useful_factors``: for a remaining extent ``n``, the smallest factor
giving each distinct number of tiles ceil(n / f). Larger factors with the same tile count
only pad the last tile, so nothing better is left out; non-divisors are ceil-div
(imperfect) splits, which is how a 14-wide array meets a 7×7 map.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from math import ceil, prod

import numpy as np

from accelsim.arch.spec import Architecture
from accelsim.mapping.dataflows import Dataflow
from accelsim.mapping.model import DIMS


@dataclass(frozen=True, slots=True)
class SearchOptions:
    """Knobs of the search; every one is counted work, never time (determinism).

    ``max_candidates`` caps the candidates the proxy evaluates per layer; when it is
    reached, the remaining levels keep no loops of their own (their share goes to DRAM), so
    the result is still complete and reproducible.
    """

    spatial_options: int = 8
    spatial_beam: int = 24
    max_spatial_dims: int = 3
    beam_width: int = 16
    beam_per_spatial: int = 8
    max_level_dims: int = 3
    max_factor_options: int = 8
    max_buffer_factor_options: int = 5
    refine_top: int = 4
    max_candidates: int = 60_000

    def __post_init__(self) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SearchOptions.{name} must be a positive integer, "
                                 f"got {value!r}")


@dataclass(frozen=True, slots=True)
class SpatialOption:
    """Spatial factors of every fan-out: ``x[level]`` and ``y[level]`` as (dim, factor)
    pairs, innermost first."""

    x: tuple[tuple[tuple[str, int], ...], ...]
    y: tuple[tuple[tuple[str, int], ...], ...]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(levels, 7) factor arrays for the proxy."""
        return _factor_array(self.x), _factor_array(self.y)


def _factor_array(axes: tuple[tuple[tuple[str, int], ...], ...]) -> np.ndarray:
    array = np.ones((len(axes), 7), dtype=np.int64)
    for level, pairs in enumerate(axes):
        for dim, factor in pairs:
            array[level, DIMS.index(dim)] *= factor
    return array


@functools.lru_cache(maxsize=4096)
def useful_factors(n: int, cap: int | None = None) -> tuple[int, ...]:
    """Factors 2..min(n, cap) giving distinct tile counts ceil(n / f), smallest first."""
    top = n if cap is None else min(n, cap)
    result, last = [], ceil(n / 1)
    for f in range(2, top + 1):
        tiles = ceil(n / f)
        if tiles < last:
            result.append(f)
            last = tiles
    return tuple(result)


@functools.lru_cache(maxsize=4096)
def thin(factors: tuple[int, ...], limit: int) -> tuple[int, ...]:
    """At most ``limit`` factors, evenly spread in log scale, keeping the largest."""
    if len(factors) <= limit:
        return tuple(factors)
    picks = np.unique(np.round(np.geomspace(1, len(factors), limit)).astype(int) - 1)
    return tuple(factors[i] for i in picks)


def spatial_options(bounds: Sequence[int], arch: Architecture, flow: Dataflow,
                    opts: SearchOptions) -> list[SpatialOption]:
    """The best unrollings by ideal cycles (Π ceil(bound / spatial factor)), then by fewest
    units used; the empty unrolling always comes last, as a fallback that fits. Cached: the
    unrollings depend on the bounds only, and a sparse run maps repeated shapes again (its
    occupancy differs per layer)."""
    return list(_spatial_options(tuple(int(b) for b in bounds), arch, flow, opts))


def clear_space_cache() -> None:
    """Forget the cached unrollings (``mapper.clear_cache`` calls this, so that a
    benchmark's cold run pays for them)."""
    _spatial_options.cache_clear()


@functools.lru_cache(maxsize=1024)
def _spatial_options(bounds: tuple[int, ...], arch: Architecture, flow: Dataflow,
                     opts: SearchOptions) -> tuple[SpatialOption, ...]:
    axes = [(level, axis, size) for level, spec in enumerate(arch.levels)
            for axis, size in (("x", spec.fanout.x), ("y", spec.fanout.y)) if size > 1]
    beam = [_Unrolling({}, bounds, prod(bounds), 1)]
    for level, axis, size in axes:
        # Rank the children by key first and build only the survivors: a stable sort on
        # (ideal, units, enumeration index) keeps the same beam as sorting built children.
        keyed: list[tuple[int, int, int, _Unrolling, tuple[tuple[int, int], ...]]] = []
        for parent in beam:
            for ideal, units, chosen in parent.child_keys(flow.spatial_dims(axis), size,
                                                          opts.max_spatial_dims):
                keyed.append((ideal, units, len(keyed), parent, chosen))
        keyed.sort(key=lambda k: k[:3])
        beam = [parent.child((level, axis), chosen)
                for _, _, _, parent, chosen in keyed[:opts.spatial_beam]]
    empty = _option(len(arch.levels), {})
    options = [_option(len(arch.levels), u.axes) for u in beam[:opts.spatial_options]]
    return tuple([o for o in options if o != empty] + [empty])


@dataclass(frozen=True, slots=True)
class _Unrolling:
    """Axes unrolled so far, with each dimension's remaining extent, the ideal cycles
    Π remaining and the units used."""

    axes: dict[tuple[int, str], tuple[tuple[str, int], ...]]
    remaining: tuple[int, ...]
    ideal: int
    units: int

    def child_keys(self, dims: Sequence[str], size: int, max_dims: int
                   ) -> Iterator[tuple[int, int, tuple[tuple[int, int], ...]]]:
        """(ideal cycles, units, chosen) of every (dim, factor) set for one more axis:
        product ≤ size, ≤ ``max_dims`` dims, in enumeration order."""
        remaining = self.remaining
        usable = [DIMS.index(d) for d in dims if remaining[DIMS.index(d)] > 1]

        def grow(start: int, room: int, chosen: tuple[tuple[int, int], ...],
                 ideal: int, units: int):
            yield ideal, units, chosen
            if len(chosen) == max_dims:
                return
            for position in range(start, len(usable)):
                index = usable[position]
                extent = remaining[index]
                rest = ideal // extent
                for factor in useful_factors(extent, room):
                    yield from grow(position + 1, room // factor, (*chosen, (index, factor)),
                                    rest * -(-extent // factor), units * factor)

        yield from grow(0, size, (), self.ideal, self.units)

    def child(self, key: tuple[int, str], chosen: tuple[tuple[int, int], ...]) -> _Unrolling:
        remaining = list(self.remaining)
        units = self.units
        for index, factor in chosen:
            remaining[index] = ceil(remaining[index] / factor)
            units *= factor
        pairs = tuple((DIMS[index], factor) for index, factor in chosen)
        return _Unrolling({**self.axes, key: pairs}, tuple(remaining), prod(remaining), units)


def _option(levels: int, axes: dict[tuple[int, str], tuple[tuple[str, int], ...]]
            ) -> SpatialOption:
    return SpatialOption(tuple(axes.get((level, "x"), ()) for level in range(levels)),
                         tuple(axes.get((level, "y"), ()) for level in range(levels)))


def level_choices(remaining: Sequence[int], dims: Sequence[str], max_dims: int,
                  max_options: int) -> np.ndarray:
    """Temporal factor vectors (rows × 7) one level may take over ``dims``: at most
    ``max_dims`` dimensions above 1, each from ``useful_factors``; row 0 is all ones.
    Read-only (cached: beam rows often share what remains)."""
    return _level_choices(tuple(int(r) for r in remaining), tuple(dims), max_dims,
                          max_options)


@functools.lru_cache(maxsize=4096)
def _level_choices(remaining: tuple[int, ...], dims: tuple[str, ...], max_dims: int,
                   max_options: int) -> np.ndarray:
    per_dim = [(DIMS.index(d), thin(useful_factors(remaining[DIMS.index(d)]), max_options))
               for d in dims if remaining[DIMS.index(d)] > 1]
    blocks = [np.ones((1, 7), dtype=np.int64)]
    for count in range(1, min(max_dims, len(per_dim)) + 1):
        for subset in itertools.combinations(per_dim, count):
            grids = np.meshgrid(*(np.array(factors) for _, factors in subset), indexing="ij")
            block = np.ones((grids[0].size, 7), dtype=np.int64)
            for (index, _), grid in zip(subset, grids, strict=True):
                block[:, index] = grid.ravel()
            blocks.append(block)
    result = np.concatenate(blocks)
    result.setflags(write=False)
    return result
