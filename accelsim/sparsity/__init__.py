"""Sparsity: compressed sizes of actual data (and, later, effectual work per tile and PE).

- ``formats``  ``Format`` and ``CompressionSpec``: how a tile of one tensor is stored, with
  the exact bit formula of each format (also in docs/config.md)
- ``sizes``    ``compressed_bits`` / ``_batch`` / ``_boxes``: exact bits per tile, metadata
  included, vectorised over tiles; ``dense_bits`` and ``ratio``

The gate/skip features of the hardware (``SparseAction``, ``SparseFeatures``, ``Policy``) are
part of the architecture: ``accelsim.arch.spec``. Nothing here imports ``accelsim.arch``,
which holds ``CompressionSpec`` values.
"""

from accelsim.sparsity.formats import (
    DEFAULT_RUN_BITS,
    FORMAT_NAMES,
    CompressionSpec,
    Format,
)
from accelsim.sparsity.sizes import (
    box_sums,
    compressed_bits,
    compressed_bits_batch,
    compressed_bits_boxes,
    dense_bits,
    ratio,
    run_entries,
)

__all__ = [
    "DEFAULT_RUN_BITS",
    "FORMAT_NAMES",
    "CompressionSpec",
    "Format",
    "box_sums",
    "compressed_bits",
    "compressed_bits_batch",
    "compressed_bits_boxes",
    "dense_bits",
    "ratio",
    "run_entries",
]
