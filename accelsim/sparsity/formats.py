"""Compression formats of a tile of one tensor, as typed values.

A format says how a tile's actual data is laid out in a buffer or in DRAM, and so how many
bits it occupies (``accelsim.sparsity.sizes`` counts them). The exact formulas, with ``n``
the tile's elements and ``nnz`` its non-zeros:

- ``none``     n·value_bits (the mask is ignored: zeros are stored).
- ``bitmask``  n + nnz·value_bits (one presence bit per element, then the non-zero values).
- ``rle``      Eyeriss-style run-length: one (run, value) pair per non-zero, ``run`` = the
  zeros before it; a run longer than 2^run_bits − 1 is cut by an extra pair holding an
  explicit zero value (which covers 2^run_bits positions: the run field's maximum plus the
  zero itself). Pairs = nnz + Σ floor(L / 2^run_bits) over the zero runs L that end at a
  non-zero. Unpacked: pairs·(run_bits + value_bits); packed ``pairs_per_word`` pairs to a
  memory word: ceil(pairs / pairs_per_word)·packed_word_bits.
- ``zero_run`` SCNN-style: the same entries as ``rle`` (a run index per non-zero, a padding
  zero when a run overflows 2^run_bits − 1), stored unpacked: entries·(run_bits + value_bits).
- ``csr``      rows+1 pointers and a column index per non-zero:
  (rows + 1)·pointer_bits + nnz·(index_bits + value_bits).
- ``csc``      the same with columns: (columns + 1)·pointer_bits + nnz·(index_bits + value_bits).

Run formats read the tile in row-major order over the tensor's own axes (weights M C R S,
inputs N C H W, outputs N M P Q). Zeros after the last non-zero cost nothing: the receiver
knows the tile's extent and fills them in. ``csr``/``csc`` view a tile as a matrix whose rows
are its first ``row_axes`` axes flattened and whose columns are the rest. A tile with no
elements costs 0 bits in every format.

This module imports nothing from ``accelsim.arch`` so that ``StorageLevel`` can hold these
values without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Format(str, Enum):
    """How a tile is stored (formulas in the module docstring and docs/config.md)."""

    NONE = "none"
    BITMASK = "bitmask"
    RLE = "rle"
    CSR = "csr"
    CSC = "csc"
    ZERO_RUN = "zero_run"


FORMAT_NAMES = tuple(item.value for item in Format)
RUN_FORMATS = frozenset({Format.RLE, Format.ZERO_RUN})
POINTER_FORMATS = frozenset({Format.CSR, Format.CSC})
DEFAULT_RUN_BITS = {Format.RLE: 5, Format.ZERO_RUN: 4}
"""Eyeriss v1's 5-bit runs (JSSC 2017, Fig. 7) and SCNN's 4-bit zero-run indices (ISCA 2017)."""

# Which optional parameters each format takes; the rest must be left out (``None``).
PARAMETERS: dict[Format, tuple[str, ...]] = {
    Format.NONE: (),
    Format.BITMASK: (),
    Format.RLE: ("run_bits", "pairs_per_word", "packed_word_bits"),
    Format.ZERO_RUN: ("run_bits",),
    Format.CSR: ("index_bits", "pointer_bits", "row_axes"),
    Format.CSC: ("index_bits", "pointer_bits", "row_axes"),
}
OPTIONAL_PARAMETERS = ("run_bits", "pairs_per_word", "packed_word_bits", "index_bits",
                       "pointer_bits", "row_axes")


@dataclass(frozen=True, slots=True)
class CompressionSpec:
    """One tensor's format at one storage level, with every width explicit.

    Parameters a format does not use are ``None``; those it uses are required (the YAML
    loader fills the documented defaults first). Invalid combinations raise ``ValueError``
    here — a programming error; the loader reports a user's with file, line and key.
    """

    format: Format
    value_bits: int
    run_bits: int | None = None
    pairs_per_word: int | None = None
    packed_word_bits: int | None = None
    index_bits: int | None = None
    pointer_bits: int | None = None
    row_axes: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", Format(self.format))
        problem = spec_problem(self)
        if problem is not None:
            raise ValueError(f"{self.format.value}: {problem}")

    @property
    def is_compressed(self) -> bool:
        return self.format is not Format.NONE

    @property
    def entry_bits(self) -> int:
        """Bits of one (run, value) entry of a run format."""
        if self.run_bits is None:
            raise ValueError(f"{self.format.value} has no run entries")
        return self.run_bits + self.value_bits


def spec_problem(spec: CompressionSpec) -> str | None:
    """What is wrong with ``spec``, in words, or ``None``: parameters of another format,
    missing ones, non-positive widths, packing that does not fit its word."""
    uses = PARAMETERS[spec.format]
    for name in OPTIONAL_PARAMETERS:
        value = getattr(spec, name)
        if name not in uses and value is not None:
            return f"{name} applies only to {_formats_using(name)}"
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value <= 0):
            return f"{name} must be an integer > 0, got {value!r}"
    if isinstance(spec.value_bits, bool) or not isinstance(spec.value_bits, int) \
            or spec.value_bits <= 0:
        return f"value_bits must be an integer > 0, got {spec.value_bits!r}"
    required = {Format.RLE: ("run_bits",), Format.ZERO_RUN: ("run_bits",),
                Format.CSR: ("index_bits", "pointer_bits", "row_axes"),
                Format.CSC: ("index_bits", "pointer_bits", "row_axes")}.get(spec.format, ())
    for name in required:
        if getattr(spec, name) is None:
            return f"{name} is required"
    if (spec.pairs_per_word is None) != (spec.packed_word_bits is None):
        return "pairs_per_word and packed_word_bits go together"
    if spec.pairs_per_word is not None:
        used = spec.pairs_per_word * spec.entry_bits
        if used > spec.packed_word_bits:  # type: ignore[operator]
            return (f"{spec.pairs_per_word} pairs of {spec.entry_bits} bits need {used} "
                    f"bits, more than packed_word_bits={spec.packed_word_bits}")
    return None


def _formats_using(name: str) -> str:
    return " and ".join(item.value for item, uses in PARAMETERS.items() if name in uses)
