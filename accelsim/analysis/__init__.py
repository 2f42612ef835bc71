"""Nest analysis: dense access counts per storage level and tensor (reads, fills, updates,
multicast, spatial reduction), computes and cycles, and the sequence of tiles at a level —
Timeloop's definitions, in closed form per loop level (docs/model.md §3).

``problem`` (loop bounds, tensor projections) → ``nest`` (the flattened nest, per-dimension
tables) → ``closed_form`` (the sums) → ``analyze`` (``AccessCounts`` per level and tensor);
``tiles`` enumerates the tiles of one level for the timing engine; ``footprint`` checks that
tiles fit their buffers.
"""

from accelsim.analysis.analyze import analyze
from accelsim.analysis.counts import AccessCounts, NestAnalysis
from accelsim.analysis.footprint import footprints, overflowing_levels
from accelsim.analysis.tiles import TileSequence, tile_sequence

__all__ = ["AccessCounts", "NestAnalysis", "TileSequence", "analyze", "footprints",
           "overflowing_levels", "tile_sequence"]
