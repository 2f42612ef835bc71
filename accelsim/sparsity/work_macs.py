"""MACs per (tile, unit) — dense, with a non-zero input, with a non-zero weight, with both —
from the masks, without visiting MACs.

A (tile, unit) pair fixes every ``TILE`` and ``UNIT`` loop index; along each dimension the
positions it covers are what its ``INNER`` loops reach (``work_nest``). The set of MACs is a
product over dimensions, and the count of effectual MACs is bilinear in the masks:

    effectual = Σ_{c,r,s} Wsum[m-set](c,r,s) · Asum[n-set, p-set, q-set](c,r,s)
    Wsum[m-set](c,r,s)  = Σ_{m ∈ m-set} W[m, c, r, s]
    Asum[…](c,r,s)      = Σ_{n, p, q ∈ sets} A_pad[n, c, p·sh + r·dh, q·sw + s·dw]

With every dimension split into one axis per loop, "Σ over a set" is a sum over the axes of
the inner loops, and the Σ over c, r, s is a batched matrix product over their inner axes
(the ``TILE``/``UNIT`` axes of c, r, s are batch axes). Both operands are small: ``Asum`` has
one entry per (n, p, q) tile-and-unit base and kernel tap, ``Wsum`` one per m base and tap.
The only pass over O(N·C·P·Q·R·S) data is the window view of the padded input (the same
size as the ``im2col`` matrix, in int8, per layer — never per MAC).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided

from accelsim.sparsity.work_nest import LoopLayout, Role
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace

GROUP = "g"


@dataclass(frozen=True, slots=True)
class Labelled:
    """An array whose axes are named: ``GROUP`` or the id of a loop."""

    data: np.ndarray
    axes: tuple[Hashable, ...]


@dataclass(frozen=True, slots=True)
class UnitWork:
    """Per-(tile, unit) MAC counts of all tile positions (valid or not): (G, tiles, units)."""

    dense: np.ndarray
    input_nonzero: np.ndarray
    weight_nonzero: np.ndarray
    effectual: np.ndarray


def _padded(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` in the corner of a zero int8 array of ``shape`` (positions past a ceil-div
    split's end must be zero operands, not whatever data lies there)."""
    out = np.zeros(shape, dtype=np.int8)
    out[tuple(slice(0, n) for n in array.shape)] = array
    return out


def _split(array: np.ndarray, lead: tuple[Hashable, ...], dims: str,
           layout: LoopLayout) -> Labelled:
    """Axes ``lead`` then one per dimension of ``dims`` (length ``F_d``) → one axis per loop."""
    shape, axes = list(array.shape[:len(lead)]), list(lead)
    for dim in dims:
        loops = layout.of_dim(dim)
        shape += [loop.bound for loop in loops]
        axes += [loop.id for loop in loops]
    return Labelled(array.reshape(shape), tuple(axes))


def _summed(x: Labelled, drop: Iterable[Hashable]) -> Labelled:
    drop = set(drop)
    where = tuple(i for i, axis in enumerate(x.axes) if axis in drop)
    data = x.data.sum(axis=where, dtype=np.int64) if where else x.data.astype(np.int64)
    return Labelled(data, tuple(axis for axis in x.axes if axis not in drop))


def _arranged(x: Labelled, order: list[Hashable]) -> np.ndarray:
    return np.transpose(x.data, [x.axes.index(axis) for axis in order])


def _contract(a: Labelled, b: Labelled, over: Iterable[Hashable]) -> Labelled:
    """Σ over the shared axes ``over``; other shared axes are batch axes. A batched float64
    matrix product: exact, as every partial sum is an integer far below 2**53 (so the
    summation order does not matter either)."""
    over_set = set(over)
    contracted = [axis for axis in a.axes if axis in over_set]
    batch = [axis for axis in a.axes if axis in b.axes and axis not in over_set]
    a_only = [axis for axis in a.axes if axis not in b.axes]
    b_only = [axis for axis in b.axes if axis not in a.axes]
    size = dict(zip(a.axes, a.data.shape, strict=True)) | \
        dict(zip(b.axes, b.data.shape, strict=True))
    count = [prod(size[axis] for axis in group)
             for group in (batch, a_only, contracted, b_only)]
    left = _arranged(a, batch + a_only + contracted).reshape(count[0], count[1], count[2])
    right = _arranged(b, batch + contracted + b_only).reshape(count[0], count[2], count[3])
    # einsum, not matmul: BLAS's threads gain nothing on products this small and stall
    # when the cores are shared (a sweep's workers, a busy machine); einsum runs on one
    # thread, close to single-threaded BLAS (docs/performance.md).
    product = np.einsum("bik,bkj->bij", left.astype(np.float64), right.astype(np.float64))
    shape = [size[axis] for axis in batch + a_only + b_only]
    return Labelled(np.rint(product).astype(np.int64).reshape(shape),
                    tuple(batch + a_only + b_only))


def _aligned(x: Labelled, order: list[Hashable]) -> np.ndarray:
    """``x`` transposed to ``order`` with size-1 axes where it has none (for broadcasting)."""
    present = [axis for axis in order if axis in x.axes]
    data = _arranged(x, present)
    shape = [data.shape[present.index(axis)] if axis in x.axes else 1 for axis in order]
    return data.reshape(shape)


def input_windows(layer: Layer, input_mask: np.ndarray, layout: LoopLayout) -> np.ndarray:
    """``A_pad[n, g·C/G + c, p·sh + r·dh, q·sw + s·dw]`` as (G, F_N, F_C, F_P, F_Q, F_R, F_S)
    int8, zero at padding and past each dimension's end (a strided view, copied once)."""
    (ph, pw), (sh, sw), (dh, dw) = layer.padding, layer.stride, layer.dilation
    pad = np.zeros((layer.N, layer.C, layer.H + 2 * ph, layer.W + 2 * pw), dtype=np.int8)
    pad[:, :, ph:ph + layer.H, pw:pw + layer.W] = input_mask
    sn, sc, sy, sx = pad.strides
    groups, per_group = layer.groups, layer.C_per_group
    view = as_strided(pad, (groups, layer.N, per_group, layer.P, layer.Q, layer.R, layer.S),
                      (per_group * sc, sn, sc, sh * sy, sw * sx, dh * sy, dw * sx),
                      writeable=False)
    return _padded(view, (groups, *(layout.padded(d) for d in "NCPQRS")))


def weight_taps(layer: Layer, weight_mask: np.ndarray, layout: LoopLayout) -> np.ndarray:
    """The weight mask as (G, F_M, F_C, F_R, F_S) int8, zero past each dimension's end."""
    grouped = weight_mask.reshape(layer.groups, layer.M_per_group, layer.C_per_group,
                                  layer.R, layer.S)
    return _padded(grouped, (layer.groups, *(layout.padded(d) for d in "MCRS")))


def _inner(layout: LoopLayout, dims: str) -> set[Hashable]:
    return {loop.id for loop in layout.with_role(Role.INNER) if loop.dim in dims}


def _positions(layout: LoopLayout, dim: str) -> Labelled:
    """How many valid positions of ``dim`` each (tile, unit) base covers."""
    valid = np.zeros(layout.padded(dim), dtype=np.int8)
    valid[:layout.size(dim)] = 1
    return _summed(_split(valid, (), dim, layout), _inner(layout, dim))


def unit_work(layer_trace: LayerTrace, layout: LoopLayout) -> UnitWork:
    """The four counts for every tile position and unit of every group."""
    layer = layer_trace.layer
    inputs = _summed(_split(input_windows(layer, layer_trace.input_mask, layout), (GROUP,),
                            "NCPQRS", layout), _inner(layout, "NPQ"))
    weights = _summed(_split(weight_taps(layer, layer_trace.weight_mask, layout), (GROUP,),
                             "MCRS", layout), _inner(layout, "M"))
    taps = _inner(layout, "CRS")
    order = [GROUP, *(loop.id for loop in layout.tile_loops),
             *(loop.id for loop in layout.unit_loops)]
    count = {dim: _aligned(_positions(layout, dim), order) for dim in "NMCPQRS"}
    dense = prod(count.values())
    input_nonzero = _aligned(_summed(inputs, taps), order) * count["M"]
    weight_nonzero = _aligned(_summed(weights, taps), order) * count["N"] * count["P"] * \
        count["Q"]
    effectual = _aligned(_contract(inputs, weights, taps), order)
    full = (layer.groups, *(loop.bound for loop in layout.tile_loops),
            *(loop.bound for loop in layout.unit_loops))
    shape = (layer.groups, prod(full[1:1 + len(layout.tile_loops)]),
             prod(loop.bound for loop in layout.unit_loops))

    def flat(array: np.ndarray) -> np.ndarray:   # one copy (reshape, then astype, made two)
        return np.array(np.broadcast_to(array, full), dtype=np.int64, order="C").reshape(shape)

    return UnitWork(flat(dense), flat(input_nonzero), flat(weight_nonzero), flat(effectual))
