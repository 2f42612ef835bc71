"""Memory guard: estimate what a layer will allocate, from its geometry (and, once mapped,
its loop layout), and refuse with one line above ``--max-memory``.

Why: a layer too big for the machine would otherwise be killed by the kernel's OOM killer
half-way — no message, no exit status the user can act on. The estimates are computed from
integers only (nothing is allocated to make them) and bound what the code actually holds:
the masks (``bool``, one byte per element once unpacked), the padded input and its
``im2col``-sized window copy (``int8``), the ``int64``/``float64`` per-tile sums of
``accelsim/sparsity/work_macs.py``, and the timing engine's per-tile objects.
``tests/test_memory_guard.py`` checks them against ``tracemalloc`` peaks on real layers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
from collections.abc import Iterable
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING

from accelsim.errors import AccelsimError

if TYPE_CHECKING:
    from accelsim.arch.spec import Architecture
    from accelsim.sparsity.work_nest import LoopLayout
    from accelsim.workload.layer import Layer

FLAG = "--max-memory"
DEFAULT_FRACTION = 0.8  # of physical (or cgroup) memory: leave room for the OS and Python
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)

# Calibration of the engine's and mapper's Python-object overheads (bytes), an upper bound
# over the bundled configs and traces (see tests/test_memory_guard.py).
_BASE_BYTES = 4 * 2**20      # analysis results, mapping objects, SimPy's environment
_PER_TILE_BYTES = 4096       # SimPy events, TileWork objects and schedule rows per tile
_PER_ELEMENT_SYNTH = 24      # generator temporaries per mask element (int64 choice, float32
                             # noise, argpartition) on top of the bool mask itself


def parse_size(text: str) -> int:
    """``8G``, ``512M``, ``1.5GiB``, ``1000000`` (bytes; K/M/G/T are powers of 1024)."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 8G, 512M or a number of bytes, got {text!r}")
    value = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a size above zero, got {text!r}")
    return value


def format_size(size: int) -> str:
    """Bytes in the largest binary unit that keeps the number ≥ 1, e.g. ``1.5 GiB``."""
    for unit, name in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if size >= unit:
            return f"{size / unit:.1f} {name}"
    return f"{size} B"


def machine_memory() -> int | None:
    """Physical memory, or the cgroup's limit when lower (containers, CI runners)."""
    sizes = []
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            sizes.append(int(text))
    positive = [size for size in sizes if size > 0]
    return min(positive) if positive else None


def resolve_limit(limit: int | None) -> int | None:
    """``limit``, or the machine's default when ``None``."""
    return limit if limit is not None else default_limit()


def default_limit() -> int | None:
    """``DEFAULT_FRACTION`` of the machine's memory; ``None`` (no guard) when unknown."""
    total = machine_memory()
    return int(total * DEFAULT_FRACTION) if total else None


def check(layer: str, needed: int, limit: int | None, what: str) -> None:
    """Raise the one-line error when ``needed`` bytes exceed ``limit`` (``None``: no limit)."""
    if limit is not None and needed > limit:
        raise AccelsimError(
            f"{what} needs an estimated {format_size(needed)}, above the "
            f"{format_size(limit)} limit of {FLAG}; raise {FLAG} if the machine has the "
            f"memory, or use a smaller batch", key=f"layer {layer!r}")


# ----------------------------------------------------------------------------- estimates


def mask_elements(layer: Layer) -> int:
    """Elements of the input, weight and output masks (one byte each as ``bool``)."""
    return (prod(layer.input_shape) + prod(layer.weight_shape)
            + layer.N * layer.M * layer.P * layer.Q)


def _window_elements(layer: Layer) -> int:
    """The padded input plus its im2col-sized window copy (``input_windows``), ``int8``."""
    ph, pw = layer.padding
    padded = layer.N * layer.C * (layer.H + 2 * ph) * (layer.W + 2 * pw)
    return padded + layer.N * layer.C * layer.P * layer.Q * layer.R * layer.S


def simulate_lower_bound(layer: Layer) -> int:
    """Bytes simulating ``layer`` allocates whatever the mapping (its input windows), on top
    of the masks already in memory. Checked before the mapper runs, so that a huge layer
    fails before any work."""
    return _window_elements(layer)


def simulate_estimate(layer: Layer, layout: LoopLayout, arch: Architecture) -> int:
    """Bytes simulating ``layer`` under the mapping ``layout`` describes allocates on top of
    the masks already in memory (an upper bound).

    Mirrors what is allocated: ``work_macs.unit_work``'s ``int8`` windows, the inputs
    summed over the inner N/P/Q loops and the weights over the inner M loops (``int64``),
    each copied twice more (transposed, then as ``float64``) by the contraction, and about
    a dozen ``int64`` arrays of (groups × tile positions × units); ``sizes.box_sums``'
    summed-area tables (two ``int64`` copies of the largest mask); the run-format sizing,
    which gathers at most ``_CHUNK_ELEMENTS`` box elements at a time (the gathered ``bool``
    copy and a few ``int64`` arrays per element); and the engine's objects per tile.
    """
    from accelsim.sparsity.formats import RUN_FORMATS, Format
    from accelsim.sparsity.sizes import _CHUNK_ELEMENTS
    from accelsim.sparsity.work_nest import Role

    def inner(dims: str) -> int:
        return prod(loop.bound for loop in layout.with_role(Role.INNER) if loop.dim in dims)

    groups = layer.groups
    windows = groups * prod(layout.padded(d) for d in "NCPQRS")
    taps = groups * prod(layout.padded(d) for d in "MCRS")
    tiles = groups * prod(loop.bound for loop in layout.tile_loops)
    units = prod(loop.bound for loop in layout.unit_loops)
    ph, pw = layer.padding
    padded = layer.N * layer.C * (layer.H + 2 * ph) * (layer.W + 2 * pw)
    work = (padded + windows + taps + 24 * windows // inner("NPQ") + 24 * taps // inner("M")
            + 12 * 8 * tiles * units)
    largest_mask = max(padded, prod(layer.weight_shape), layer.N * layer.M * layer.P * layer.Q)
    box = {d: layout.box_extent(d) for d in "NMCPQRS"}
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    input_box = box["N"] * box["C"] * ((box["P"] - 1) * sh + (box["R"] - 1) * dh + 1) * \
        ((box["Q"] - 1) * sw + (box["S"] - 1) * dw + 1)
    def distinct(dims: str) -> int:  # tile positions that move a tensor's box
        return groups * prod(loop.bound for loop in layout.tile_loops if loop.dim in dims)

    boxes = (distinct("NCPQRS") * input_box
             + distinct("MCRS") * box["M"] * box["C"] * box["R"] * box["S"]
             + distinct("NMPQ") * box["N"] * box["M"] * box["P"] * box["Q"])
    formats = {spec.format for level in arch.levels for _, spec in level.compression}
    sizing = (16 * largest_mask if formats - {Format.NONE, *RUN_FORMATS} else 0) + \
        (12 * min(boxes, _CHUNK_ELEMENTS) if formats & set(RUN_FORMATS) else 0)
    return max(work, sizing) + work // 4 + \
        _PER_TILE_BYTES * tiles + _BASE_BYTES


def synth_estimate(layers: Iterable[Layer]) -> tuple[str, int]:
    """Bytes ``trace synth``/``import`` need for ``layers``, and the layer where they peak.

    Every mask stays in memory until the trace is written (one byte per element, inputs
    shared between layers that read the same tensor), plus the generator's temporaries
    for the layer being drawn and the packed copy written at the end."""
    layers = list(layers)
    if not layers:
        return "", 0
    seen: set[str] = set()
    resident = 0
    for layer in layers:
        if layer.input_tensor not in seen:
            seen.add(layer.input_tensor)
            resident += prod(layer.input_shape)
        resident += prod(layer.weight_shape)
    largest = max(layers, key=lambda la: max(prod(la.input_shape), prod(la.weight_shape)))
    transient = _PER_ELEMENT_SYNTH * max(prod(largest.input_shape), prod(largest.weight_shape))
    return largest.name, resident + resident // 8 + transient + _BASE_BYTES


def trace_file_layers(path: str | os.PathLike[str]) -> list[Layer]:
    """The layers a trace file's manifest declares, read without touching its masks (so a
    huge trace is refused before it is unpacked); a damaged file is the loader's one-line
    ``TraceFormatError``."""
    from accelsim.workload.trace import read_layers

    return read_layers(path)


def check_trace_file(path: str | os.PathLike[str], limit: int | None) -> None:
    """Refuse a trace whose unpacked masks alone exceed ``limit``, naming its largest layer."""
    layers = trace_file_layers(path)
    if layers and limit is not None:
        largest = max(layers, key=mask_elements)
        check(largest.name, sum(mask_elements(layer) for layer in layers), limit,
              f"loading the masks of all {len(layers)} layers of {os.fspath(path)} (this one "
              f"is the largest)")


def check_synth(layers: Iterable[Layer], limit: int | None) -> None:
    """Refuse ``trace synth``/``import`` of ``layers`` before any mask is drawn."""
    name, needed = synth_estimate(layers)
    check(name, needed, limit, "synthesizing its trace")
