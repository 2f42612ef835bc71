"""SCALE-Sim 3.0.0 side by side (design.md §7): its arrays and fixed mappings in accelsim's
terms, and ``scalesim_checks`` — our compute cycles against its recorded reports in
``benchmarks/results/scalesim/`` (made by ``benchmarks/scalesim_compare.py``).

SCALE-Sim simulates the im2col GEMM of a conv (``compute/operand_matrix.py``): a fold maps
``rows`` consecutive entries of a flattened index over the array's rows and ``cols`` filters
over its columns. For ``os`` the rows take output pixels P·Q and each PE streams the window
R·S·C; for ``ws`` the rows take the window and the ofmap pixels stream. A fold of a flattened
index (e.g. 25 folds of 32 for 28·28 pixels) is a loop nest over that index, not over P and
Q separately (which would need 28 folds), so accelsim runs the same GEMM: ``gemm_view``
(a 1×1 conv with N·P·Q rows and C·R·S channels: the same MACs), with ``scalesim_mapping``
(SCALE-Sim's folds as loops of the first buffer, one fold's tile spread over the array,
the streamed dimension at the PE) on ``scalesim_arch``: the bundled systolic array with SCALE-Sim's
fill/drain per fold, and its ``InterfaceBandwidth: CALC`` mode, under which nothing stalls
(buffers unbounded, bandwidth unbounded).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from math import ceil
from pathlib import Path
from typing import TYPE_CHECKING

from accelsim.arch.spec import Architecture, Fanout
from accelsim.errors import AccelsimError
from accelsim.mapping.model import LevelMapping, Loop, Mapping
from accelsim.workload.layer import Layer, LayerKind

if TYPE_CHECKING:
    from accelsim.validate import Check, Paths

GROUP = "SCALE-Sim v3: dense compute cycles"
RESULTS = "benchmarks/results/scalesim"
NETS = ("alexnet", "resnet18")
# (tag, ArrayHeight = rows, ArrayWidth = cols, dataflow)
ARRAYS = (("32x32_os", 32, 32, "os"), ("32x32_ws", 32, 32, "ws"), ("12x14_ws", 12, 14, "ws"))
_BUNDLED = {"os": "systolic_os", "ws": "systolic_ws"}
LAST_INDEX_CAUSE = (
    "SCALE-Sim's 'Total Cycles' is the 0-based index of its last cycle "
    "(max of ofmap_serviced_cycles in double_buffered_scratchpad_mem.service_memory_requests), "
    "one less than the cycles it simulates; a grouped layer is its groups run one after "
    "another, so ours is one cycle per group higher.")


@dataclass(frozen=True, slots=True)
class TopoRow:
    """One SCALE-Sim conv topology row; ``groups`` copies of it make the layer."""

    name: str
    ifmap_h: int  # padded and trimmed to the rows the conv reads: (P - 1)·stride + R
    ifmap_w: int
    filt_h: int
    filt_w: int
    channels: int  # per group
    filters: int  # per group
    stride: int
    groups: int

    def csv(self) -> str:
        return (f"{self.name}, {self.ifmap_h}, {self.ifmap_w}, {self.filt_h}, {self.filt_w}, "
                f"{self.channels}, {self.filters}, {self.stride},")


def conv_layers(net: str) -> tuple[Layer, ...]:
    """The layers compared: AlexNet CONV1-5, every ResNet-18 conv; batch 1, FC left out."""
    from accelsim.workload.zoo import get_model

    return tuple(layer for layer in get_model(net, batch=1) if layer.kind is LayerKind.CONV)


def topo_row(layer: Layer) -> TopoRow:
    """SCALE-Sim's row for ``layer``. Its conv pads nothing, so the ifmap is the padded one,
    trimmed to the extent the conv reads, (P - 1)·stride + R: its output size
    ceil((ifmap - filt + stride) / stride) counts one output more than PyTorch's floor when
    the stride does not divide ifmap - filt (ResNet-18's stride-2 convs). It has no groups:
    a grouped conv is ``groups`` identical independent convs, one row run ``groups`` times."""
    if layer.stride[0] != layer.stride[1] or layer.dilation != (1, 1) or layer.N != 1:
        raise AccelsimError(f"{layer.name}: no SCALE-Sim equivalent (stride pair, dilation, N)")
    row = TopoRow(layer.name, (layer.P - 1) * layer.stride[0] + layer.R,
                  (layer.Q - 1) * layer.stride[1] + layer.S, layer.R, layer.S,
                  layer.C_per_group, layer.M_per_group, layer.stride[0], layer.groups)
    if "DP" in row.name or "," in row.name:  # "DP" in a name means depthwise to SCALE-Sim
        raise AccelsimError(f"{layer.name}: not a usable SCALE-Sim layer name")
    return row


def gemm_view(layer: Layer) -> Layer:
    """``layer`` as SCALE-Sim computes it, its im2col GEMM: a 1×1 conv on a 1×1 input with
    N·P·Q rows, C·R·S input channels and M filters (per group as before) — the same MACs."""
    return Layer(name=layer.name, N=layer.N * layer.P * layer.Q, C=layer.C * layer.R * layer.S,
                 H=1, W=1, M=layer.M, groups=layer.groups, input_tensor=layer.input_tensor)


def fill_drain_cycles(rows: int, cols: int, dataflow: str) -> int:
    """Cycles SCALE-Sim adds to each fold beyond its T streaming steps (its demand matrices
    in compute/systolic_compute_{os,ws}.py): ``os`` T - 1 prefix rows then a skewed rows ×
    cols block, T + rows + cols - 2 in all; ``ws`` a rows-cycle weight preload (2·rows - 1
    prefix rows) then T skewed over cols, T + 2·rows + cols - 2."""
    if dataflow == "os":
        return rows + cols - 2
    if dataflow == "ws":
        return 2 * rows + cols - 2
    raise AccelsimError(f"dataflow must be os or ws, got {dataflow!r}")


def scalesim_arch(rows: int, cols: int, dataflow: str) -> Architecture:
    """The bundled ``systolic_{os,ws}`` with a rows × cols array (X = cols takes filters,
    Y = rows), SCALE-Sim's fill/drain per fold, and its CALC bandwidth mode: stall-free,
    so buffers and bandwidths are unbounded and DRAM answers at once."""
    from accelsim.arch.loader import load_architecture

    base = load_architecture(_BUNDLED[dataflow])
    levels = [base.levels[0]]
    for level in base.levels[1:-1]:  # the SRAMs; the PE register stays one word
        fanout = level.fanout
        if fanout.size > 1:
            fanout = Fanout(cols, rows, fill_drain_cycles(rows, cols, dataflow))
        levels.append(replace(level, fanout=fanout, depth=None,
                              read_bandwidth_words_per_cycle=None,
                              write_bandwidth_words_per_cycle=None))
    levels.append(base.levels[-1])
    dram = replace(base.dram, bandwidth_bytes_per_cycle=float("inf"), latency_cycles=0)
    return replace(base, name=f"scalesim_{rows}x{cols}_{dataflow}", levels=tuple(levels),
                   dram=dram)


def _loops(*pairs: tuple[str, int]) -> tuple[Loop, ...]:
    return tuple(Loop(dim, bound) for dim, bound in pairs if bound > 1)


def scalesim_mapping(gemm: Layer, arch: Architecture) -> Mapping:
    """SCALE-Sim's fixed mapping of a ``gemm_view`` layer (one group) on ``scalesim_arch``:
    its folds — filter folds outer, row folds inner (``for fc: for fr:``) — one fold's
    Sr × Sc tile over the array's Y × X, and the T streaming steps at the PE. The folds loop
    in the first on-chip buffer: under CALC nothing waits for DRAM, so where data is staged
    changes no cycle, and one engine tile per layer keeps our run short."""
    stream, spread = ("C", "N") if arch.dataflow == "output_stationary" else ("N", "C")
    fan = len(arch.levels) - 2  # the array hangs below the level above the PE register
    rows, cols = arch.levels[fan].fanout.y, arch.levels[fan].fanout.x
    bounds = {"N": gemm.N, "C": gemm.C_per_group, "M": gemm.M_per_group}
    sr, sc = bounds[spread], bounds["M"]
    levels = []
    for index, level in enumerate(arch.levels):
        if index == 1:
            levels.append(LevelMapping(level.name, _loops(("M", ceil(sc / cols)),
                                                          (spread, ceil(sr / rows)))))
        elif index == fan:
            levels.append(LevelMapping(level.name, spatial_x=_loops(("M", min(sc, cols))),
                                       spatial_y=_loops((spread, min(sr, rows)))))
        elif index == len(arch.levels) - 1:
            levels.append(LevelMapping(level.name, _loops((stream, bounds[stream]))))
        else:
            levels.append(LevelMapping(level.name))
    return Mapping(tuple(levels), layer=gemm.name)


def our_cycles(layer: Layer, arch: Architecture) -> int:
    """accelsim's dense cycles of ``layer`` (all groups) with SCALE-Sim's mapping."""
    from accelsim.analysis import analyze

    gemm = gemm_view(layer)
    return analyze(gemm, arch, scalesim_mapping(gemm, arch)).cycles


@dataclass(frozen=True, slots=True)
class Recorded:
    """One layer of a recorded SCALE-Sim run: its topology row and reported cycles."""

    row: str
    total_cycles: int  # COMPUTE_REPORT's "Total Cycles" (stalls included)
    stall_cycles: int

    @property
    def compute_cycles(self) -> int:
        return self.total_cycles - self.stall_cycles


def read_recorded(folder: Path) -> list[Recorded]:
    """Layers of one recorded run, in topology order ([] when it has no report yet)."""
    report = folder / "COMPUTE_REPORT.csv"
    topology = folder / "topology.csv"
    if not report.is_file() or not topology.is_file():
        return []
    with report.open(newline="") as handle:
        rows = [[cell.strip() for cell in line] for line in csv.reader(handle)][1:]
    topo = [line.strip() for line in topology.read_text().splitlines()[1:] if line.strip()]
    return [Recorded(text, int(float(cells[2])), int(float(cells[3])))
            for text, cells in zip(topo, rows, strict=True)]


def read_run(folder: Path) -> dict:
    """``run.json`` of a recorded run (command, versions, wall times), {} when absent."""
    path = folder / "run.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def scalesim_checks(paths: Paths) -> list[Check]:
    """One check per recorded layer × array: our dense cycles with SCALE-Sim's mapping
    against its ``Total Cycles - Stall Cycles`` × groups; 1 %. Empty without results."""
    from accelsim.validate import Check

    root = paths.repo / RESULTS
    if not root.is_dir():
        return []
    checks = []
    for net in NETS:
        layers = conv_layers(net)
        for tag, rows, cols, dataflow in ARRAYS:
            folder = root / f"{net}_{tag}"
            recorded = read_recorded(folder)
            if not recorded:
                continue
            arch = scalesim_arch(rows, cols, dataflow)
            source = paths.label(folder / "COMPUTE_REPORT.csv")
            for layer, entry in zip(layers, recorded, strict=False):
                row = topo_row(layer)
                cause = LAST_INDEX_CAUSE
                if row.csv() != entry.row:
                    cause = (f"the recorded topology row ({entry.row}) is not this layer's "
                             f"({row.csv()}): rerun benchmarks/scalesim_compare.py "
                             "--run-scalesim.")
                checks.append(Check(
                    GROUP, f"{net} {tag}: {layer.name}", source, our_cycles(layer, arch),
                    entry.compute_cycles * row.groups, "cycles", 0.01, "±1 %", cause))
    return checks


SCALESIM_INTRO = (
    "Each conv of AlexNet (CONV1-5) and ResNet-18, batch 1, on SCALE-Sim 3.0.0's 32×32 "
    "output- and weight-stationary arrays and a 12×14 weight-stationary one, with its "
    "bandwidth mode CALC (stall-free). Ours: the layer's im2col GEMM (as SCALE-Sim computes "
    "it) with SCALE-Sim's fixed mapping through the nest analysis, with its per-fold "
    "fill/drain as the array's `fill_drain_cycles`. Reference: `Total Cycles - Stall Cycles` "
    "of the run's COMPUTE_REPORT.csv, recorded by `benchmarks/scalesim_compare.py`.")
