"""Random architectures and mappings for the property tests that check the nest analysis
and the per-tile work against literal oracles: 2-4 levels, temporal and spatial loops
anywhere (DRAM fan-out included), random loop orders and ceil-div splits."""

from __future__ import annotations

import random
from math import ceil, prod

from accelsim.arch.spec import (
    Architecture,
    ComputeSpec,
    DramSpec,
    Fanout,
    StorageLevel,
    Tensor,
)
from accelsim.mapping.model import LevelMapping, Loop, Mapping, layer_bounds
from accelsim.workload.layer import Layer


def random_mapping(layer: Layer, rng: random.Random, *, depth: int,
                   keep_nothing: bool = False, spare_fanout: bool = False
                   ) -> tuple[Architecture, Mapping]:
    """A mapping of ``layer`` and an architecture it fits. ``keep_nothing`` lets an on-chip
    level of the mapping keep no tensor (a pure fan-out stage); ``spare_fanout`` sometimes
    gives a level one more column of instances than its spatial loops use."""
    num_levels = rng.randint(2, 4)
    slots = [(level, kind) for level in range(num_levels) for kind in ("T", "X", "Y")
             if kind == "T" or level < num_levels - 1]
    placed: dict[tuple[int, str], list[Loop]] = {slot: [] for slot in slots}
    for dim, bound in layer_bounds(layer).items():
        chosen = sorted(rng.sample(slots, min(rng.randint(1, 3), len(slots))),
                        key=lambda slot: (slot[0], "TXY".index(slot[1])))
        inner = [rng.randint(1, bound) for _ in chosen[1:]]
        for slot, factor in zip(chosen, [ceil(bound / prod(inner)), *inner], strict=True):
            placed[slot].append(Loop(dim, factor))
    entries, levels = [], []
    for level in range(num_levels):
        temporal = placed[(level, "T")]
        rng.shuffle(temporal)
        x, y = placed.get((level, "X"), []), placed.get((level, "Y"), [])
        keeps = frozenset(Tensor) if level == 0 else frozenset(
            t for t in Tensor if rng.random() < 0.6)
        if not keeps and not keep_nothing:
            keeps = frozenset({Tensor.OUTPUTS})
        entries.append(LevelMapping(f"L{level}", tuple(temporal), tuple(x), tuple(y), keeps))
        extra = rng.randint(0, 1) if spare_fanout else 0
        fanout = Fanout(max(1, prod(lp.bound for lp in x)) + extra,
                        max(1, prod(lp.bound for lp in y)))
        levels.append(StorageLevel(f"L{level}", keeps or frozenset({Tensor.OUTPUTS}), 8, 8,
                                   None if level == 0 else depth, fanout=fanout,
                                   is_dram=level == 0))
    arch = Architecture("rand", 1000.0, tuple(levels), DramSpec(1.0), ComputeSpec())
    return arch, Mapping(tuple(entries))
