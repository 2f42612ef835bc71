"""Seeded mask generators: the building blocks of synthetic traces.

Every generator takes a ``numpy.random.Generator`` and returns a boolean mask with an
*exact* number of ones, so a requested density is met to within one element.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accelsim.errors import AccelsimError


def exact_count(size: int, density: float) -> int:
    """Number of ones for ``density`` of ``size`` elements (round half to even)."""
    if not 0.0 <= density <= 1.0:
        raise AccelsimError(f"density must be in [0, 1], got {density!r}")
    return int(round(density * size))


def uniform_mask(shape: Sequence[int], density: float, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``round(density·size)`` ones at uniformly random positions (hypergeometric)."""
    size = int(np.prod(shape, dtype=np.int64))
    ones = exact_count(size, density)
    flat = np.zeros(size, dtype=bool)
    if ones == size:
        flat[:] = True
    elif ones:
        flat[rng.choice(size, size=ones, replace=False)] = True
    return flat.reshape(shape)
