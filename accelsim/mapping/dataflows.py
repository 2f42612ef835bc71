"""Dataflow templates as data: which loop dimensions a mapper may unroll over the X and Y of
each fan-out, which dimensions may loop inside a per-PE buffer, and which loop orders to try
at shared buffers and DRAM (design.md §4, docs/mapper.md).

A template constrains the one loop-nest model (``accelsim.mapping.model``); it never adds
code. Dimension tuples are written innermost first, as Timeloop writes its permutations.
The four templates follow the dataflows' sources:

- ``row_stationary``: Eyeriss (Chen et al., ISCA 2016) as Timeloop constrains it in
  ../shared/timeloop_ref/eyeriss_like/arch.yaml — PE columns take output columns Q or output
  channels M, PE rows take filter columns S, input channels C or M; a PE loops M in its psum
  scratchpad and C, R in its filter scratchpad, and holds one input window.
- ``weight_stationary``: SCALE-Sim's WS array and NVDLA/Simba — each PE holds weights, rows
  take the reduction C·R·S, columns take filters M; the weight stays while output positions
  stream (Q, P, N innermost at a per-PE level keeping weights).
- ``output_stationary``: SCALE-Sim's OS array and ShiDianNao — each PE owns outputs, rows take
  output positions P·Q·N, columns take filters M; the reduction C·R·S streams through.
- ``input_stationary``: SCALE-Sim's IS array — each PE holds an input window element, rows
  take C·R·S, columns take output positions; filters M stream past it.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.arch.spec import Tensor
from accelsim.config.keys import did_you_mean
from accelsim.mapping.model import DIMS, MappingError


@dataclass(frozen=True, slots=True)
class LoopOrder:
    """A loop order (all seven dimensions, innermost first) for shared buffers and DRAM,
    named for the tensor it keeps still: the dimensions irrelevant to that tensor are
    innermost, so its tile is reused while they run."""

    name: str
    dims: tuple[str, ...]

    def __post_init__(self) -> None:
        if sorted(self.dims) != sorted(DIMS):
            raise ValueError(f"loop order {self.name}: expected a permutation of {DIMS}")


OUTPUTS_STAY = LoopOrder("outputs_stay", ("S", "R", "C", "Q", "P", "N", "M"))
WEIGHTS_STAY = LoopOrder("weights_stay", ("Q", "P", "N", "S", "R", "C", "M"))
INPUTS_STAY = LoopOrder("inputs_stay", ("M", "Q", "P", "N", "S", "R", "C"))


@dataclass(frozen=True, slots=True)
class Dataflow:
    """One template. ``pe_loops`` applies to levels with more than one instance (per-PE
    buffers); a level keeping several tensors may loop over any dimension listed for one of
    them. Shared buffers (one instance) and DRAM may loop over every dimension."""

    name: str
    source: str
    spatial_x: tuple[str, ...]
    spatial_y: tuple[str, ...]
    pe_loops: tuple[tuple[Tensor, tuple[str, ...]], ...]
    buffer_orders: tuple[LoopOrder, ...]
    stationary: Tensor | None = None

    def __post_init__(self) -> None:
        dims = (*self.spatial_x, *self.spatial_y,
                *(d for _, loops in self.pe_loops for d in loops))
        unknown = sorted(set(dims) - set(DIMS))
        if unknown:
            raise ValueError(f"dataflow {self.name}: unknown dimensions {unknown}")

    def pe_dims(self, keeps: frozenset[Tensor]) -> tuple[str, ...]:
        """Dimensions a per-PE level keeping ``keeps`` may loop over, innermost first."""
        ordered: list[str] = []
        for tensor, loops in self.pe_loops:
            if tensor in keeps:
                ordered.extend(d for d in loops if d not in ordered)
        return tuple(ordered)

    def spatial_dims(self, axis: str) -> tuple[str, ...]:
        return self.spatial_x if axis == "x" else self.spatial_y


W, I, O = Tensor.WEIGHTS, Tensor.INPUTS, Tensor.OUTPUTS
_ALL_ORDERS = (OUTPUTS_STAY, WEIGHTS_STAY, INPUTS_STAY)

ROW_STATIONARY = Dataflow(
    name="row_stationary",
    source="Eyeriss (Chen et al., ISCA 2016); constraints of Timeloop's eyeriss_like "
           "(../shared/timeloop_ref/eyeriss_like/arch.yaml)",
    spatial_x=("Q", "M"),
    spatial_y=("S", "C", "M"),
    pe_loops=((O, ("M",)), (W, ("C", "R")), (I, ())),
    buffer_orders=_ALL_ORDERS,
)

WEIGHT_STATIONARY = Dataflow(
    name="weight_stationary",
    source="SCALE-Sim WS (Samajdar et al., ISPASS 2020); NVDLA, Simba (Shao et al., "
           "MICRO 2019)",
    spatial_x=("M", "C"),
    spatial_y=("C", "S", "R", "M"),
    pe_loops=((W, ("Q", "P", "N", "S", "R", "C")), (O, ("Q", "P", "N", "M")),
              (I, ("M", "Q", "P", "N", "S", "R", "C"))),
    buffer_orders=(WEIGHTS_STAY, OUTPUTS_STAY, INPUTS_STAY),
    stationary=W,
)

OUTPUT_STATIONARY = Dataflow(
    name="output_stationary",
    source="SCALE-Sim OS (Samajdar et al., ISPASS 2020); ShiDianNao (Du et al., ISCA 2015)",
    spatial_x=("M", "Q"),
    spatial_y=("Q", "P", "N", "M"),
    pe_loops=((O, ("S", "R", "C", "Q", "P", "N", "M")), (W, ("Q", "P", "N", "S", "R", "C")),
              (I, ("M", "S", "R", "C", "Q", "P", "N"))),
    buffer_orders=(OUTPUTS_STAY, WEIGHTS_STAY, INPUTS_STAY),
    stationary=O,
)

INPUT_STATIONARY = Dataflow(
    name="input_stationary",
    source="SCALE-Sim IS (Samajdar et al., ISPASS 2020)",
    spatial_x=("Q", "P", "N"),
    spatial_y=("C", "S", "R"),
    pe_loops=((I, ("M", "Q", "P", "N", "S", "R", "C")), (W, ("Q", "P", "N")),
              (O, ("M", "S", "R", "C"))),
    buffer_orders=(INPUTS_STAY, OUTPUTS_STAY, WEIGHTS_STAY),
    stationary=I,
)

DATAFLOWS: dict[str, Dataflow] = {
    flow.name: flow for flow in (ROW_STATIONARY, WEIGHT_STATIONARY, OUTPUT_STATIONARY,
                                 INPUT_STATIONARY)
}


def get_dataflow(name: str) -> Dataflow:
    """The template called ``name``; a one-line ``MappingError`` otherwise."""
    try:
        return DATAFLOWS[name]
    except KeyError:
        raise MappingError(f"expected one of {', '.join(DATAFLOWS)}"
                           f"{did_you_mean(name, tuple(DATAFLOWS))}, got {name!r}",
                           key="dataflow") from None
