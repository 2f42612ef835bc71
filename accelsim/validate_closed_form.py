"""Closed-form checks of ``accelsim validate``: cases whose answer is an exact formula.

Each check runs real code (the pipeline, the mapper, the format sizes, the zoo) and compares
one of its numbers with a formula evaluated here from the layer's letters, the mask's
construction or the architecture's parameters, never from the simulator's own counts. The
formula is in the check's target column, so a reader can redo it by hand. Everything is
cheap (a few seconds) and deterministic, so the checks run in CI with the rest of the report.
"""

from __future__ import annotations

from math import ceil, prod
from typing import Any

import numpy as np

from accelsim.validate import CLOSED_FORM, Check, Paths

ZOO_MODELS = ("alexnet", "mobilenet_v1", "resnet18")
"""Zoo models whose dense MACs are checked: grouped (AlexNet), depthwise (MobileNet) and
strided/projection (ResNet) convolutions, each mapped by the mapper."""
TOY_BYTES = 2
"""The toy architecture's 16-bit words."""


def _exact(name: str, ours: float, reference: float, unit: str, formula: str,
           cause: str = "", digits: int = 0) -> Check:
    return Check(CLOSED_FORM, name, formula, ours, reference, unit, 0.0, "exact", cause,
                 digits)


def _dense_trace(layers: Any, model: str = "closed_form"):
    from accelsim.workload.trace import LayerTrace, Trace, TraceInfo

    return Trace(TraceInfo(model=model, source={"kind": "synthetic", "generator": "dense"}),
                 tuple(LayerTrace.dense(layer) for layer in layers))


def _trace(layer, input_mask: np.ndarray, weight_mask: np.ndarray | None = None):
    from accelsim.workload.trace import LayerTrace, Trace, TraceInfo

    weights = np.ones(layer.weight_shape, bool) if weight_mask is None else weight_mask
    return Trace(TraceInfo(model="closed_form", source={"kind": "synthetic",
                                                        "generator": "hand-built"}),
                 (LayerTrace(layer, input_mask, weights),))


def _output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output extent, written out again rather than taken from ``Layer.P``."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def formula_macs(layer) -> int:
    """N·M·(C/groups)·P·Q·R·S from the layer's letters."""
    p = _output_size(layer.H, layer.R, layer.stride[0], layer.padding[0], layer.dilation[0])
    q = _output_size(layer.W, layer.S, layer.stride[1], layer.padding[1], layer.dilation[1])
    return layer.N * layer.M * (layer.C // layer.groups) * p * q * layer.R * layer.S


def _valid_taps(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Σ over output positions of the kernel taps that land inside the unpadded input."""
    out = _output_size(size, kernel, stride, padding, dilation)
    return sum(0 <= o * stride - padding + k * dilation < size
               for o in range(out) for k in range(kernel))


# ----------------------------------------------------------------------------- toy design

TOY_PES = 16
TOY_DRAM_PJ = 100.0
TOY_MAC_PJ = 0.5


def toy_architecture(bandwidth: float, latency: int, *, skip_inputs: bool = False,
                     rle_inputs: bool = False):
    """DRAM, one global buffer keeping all three tensors (2 MiB, so every tile fits) and a
    4 × 4 array of MACs; per-word energies with no leakage, so energies are counts × price."""
    from accelsim.arch.loader import architecture_from_yaml

    dram: dict[str, Any] = {"name": "DRAM", "width_bits": 16,
                            "bandwidth_bytes_per_cycle": bandwidth,
                            "latency_cycles": latency, "burst_bytes": 1}
    if rle_inputs:
        dram["compression"] = {"inputs": {"format": "rle", "run_bits": 5}}
    compute: dict[str, Any] = {"name": "mac"}
    if skip_inputs:
        compute["sparse"] = [{"kind": "skip", "condition_on": ["inputs"]}]
    return architecture_from_yaml({
        "version": 1, "name": "closed_form_toy", "clock_mhz": 1000, "word_bits": 16,
        "dram": dram,
        "levels": [{"name": "glb", "keeps": ["weights", "inputs", "outputs"],
                    "depth": 1 << 20, "fanout": {"x": 4, "y": 4}}],
        "compute": compute,
        "energy": {"components": {
            "DRAM": {"pj_per": "word", "read_pj": TOY_DRAM_PJ, "write_pj": TOY_DRAM_PJ,
                     "update_pj": TOY_DRAM_PJ},
            "glb": {"pj_per": "word", "read_pj": 1.0, "write_pj": 1.0, "update_pj": 1.0},
            "mac": {"compute_pj": TOY_MAC_PJ}}},
    }, "<closed-form toy architecture>")


def toy_mapping(layer, dram_rows: bool):
    """M spread over the 4 × 4 PEs; the rest temporal in the buffer. ``dram_rows``: one DRAM
    tile per output row (loop P at DRAM), else the whole layer in one tile."""
    from accelsim.mapping.model import LevelMapping, Loop, Mapping

    inner = [Loop(d, getattr(layer, d)) for d in ("N", "C", "P", "Q", "R", "S")
             if not (dram_rows and d == "P")]
    dram = (Loop("P", layer.P),) if dram_rows else ()
    return Mapping((LevelMapping("DRAM", dram),
                    LevelMapping("glb", tuple(inner), (Loop("M", 4),),
                                 (Loop("M", layer.M // 4),))), layer.name)


def _run(arch, trace, mapping=None):
    from accelsim.pipeline import simulate

    layer = trace.layers[0].layer
    fixed = None if mapping is None else {layer.name: mapping}
    (result,) = simulate(arch, trace, mappings=fixed).layers
    return result


# ----------------------------------------------------------------------------- checks


def zoo_mac_checks() -> list[Check]:
    """Σ over a zoo model's layers of the MACs the nest analysis counts under the mapper's
    mappings equals Σ N·M·(C/groups)·P·Q·R·S."""
    from accelsim.arch.loader import load_architecture
    from accelsim.pipeline import simulate
    from accelsim.workload.zoo import get_model

    arch = load_architecture("eyeriss_like")
    checks = []
    for model in ZOO_MODELS:
        layers = get_model(model)
        run = simulate(arch, _dense_trace(layers, model))
        counted = sum(next(c.algorithmic for c in r.sparse_counts if c.access == "compute")
                      for r in run.layers)
        checks.append(_exact(f"{model}: dense MACs ({len(layers)} layers, mapper's mappings "
                             "on eyeriss_like)", counted, sum(map(formula_macs, layers)),
                             "MACs", "Σ N·M·(C/groups)·P·Q·R·S"))
    return checks


def mapper_utilisation_check(paths: Paths) -> Check:
    """The mapper's mapping of Timeloop's default conv on eyeriss_like keeps all 168 PEs
    busy: cycles = MACs / PEs (Timeloop's own mapping needs more, see the Timeloop table)."""
    from accelsim.arch.loader import load_architecture
    from accelsim.workload.importers import import_workload

    arch = load_architecture(paths.repo / "hw_configs/eyeriss_like.yaml")
    trace = import_workload(paths.ref("timeloop_ref/eyeriss_like/problem_default_conv.yaml"))
    result = _run(arch, trace)
    layer = trace.layers[0].layer
    return _exact(f"eyeriss_like, default conv, mapper: cycles ({arch.num_macs} PEs)",
                  result.timing.total_cycles, formula_macs(layer) / arch.num_macs, "cycles",
                  "MACs / PEs")


def toy_checks() -> list[Check]:
    """Timing, traffic and energy of one conv layer on the toy design with hand mappings."""
    from accelsim.arch.spec import Tensor
    from accelsim.workload.layer import Layer

    layer = Layer("conv", N=1, C=4, H=10, W=10, M=16, R=3, S=3)
    trace = _dense_trace([layer])
    macs = formula_macs(layer)
    weights = layer.M * layer.C * layer.R * layer.S * TOY_BYTES
    inputs = layer.N * layer.C * layer.H * layer.W * TOY_BYTES
    outputs = layer.N * layer.M * layer.P * layer.Q * TOY_BYTES
    checks = []

    bandwidth, latency = 4, 100
    one_tile = _run(toy_architecture(bandwidth, latency), trace, toy_mapping(layer, False))
    checks.append(_exact("toy, one tile: cycles (no overlap of fill, compute, write-back)",
                         one_tile.timing.total_cycles,
                         (weights + inputs) / bandwidth + latency + macs / TOY_PES
                         + outputs / bandwidth + latency, "cycles",
                         "(W+I) bytes / BW + latency + MACs / PEs + O bytes / BW + latency"))
    checks.append(_exact("toy, one tile: DRAM bytes (every tensor fits on chip)",
                         one_tile.dram_bytes, weights + inputs + outputs, "bytes",
                         "2 B × (M·C·R·S + N·C·H·W + N·M·P·Q)"))
    checks.append(_exact("toy, one tile: DRAM energy", one_tile.energy.by_component["DRAM"],
                         (weights + inputs + outputs) / TOY_BYTES * TOY_DRAM_PJ, "pJ",
                         f"compulsory words × {TOY_DRAM_PJ:g} pJ"))
    checks.append(_exact("toy, one tile: MAC energy", one_tile.energy.by_component["mac"],
                         macs * TOY_MAC_PJ, "pJ", f"MACs × {TOY_MAC_PJ:g} pJ"))

    rows = _run(toy_architecture(bandwidth, latency), trace, toy_mapping(layer, True))
    first_fill = weights + layer.N * layer.C * layer.R * layer.W * TOY_BYTES
    last_write = layer.N * layer.M * layer.Q * TOY_BYTES
    checks.append(_exact("toy, a tile per output row, compute-bound: cycles",
                         rows.timing.total_cycles,
                         first_fill / bandwidth + latency + macs / TOY_PES
                         + last_write / bandwidth + latency, "cycles",
                         "first fill (W + R input rows) / BW + latency + MACs / PEs + last "
                         "row's O / BW + latency"))
    checks.append(_exact("toy, a tile per output row: DRAM bytes (halo kept, delta rule)",
                         rows.dram_bytes, weights + inputs + outputs, "bytes",
                         "compulsory: 2 B × (M·C·R·S + N·C·H·W + N·M·P·Q)"))
    slow, slow_latency = 0.25, 7
    bound = _run(toy_architecture(slow, slow_latency), trace, toy_mapping(layer, True))
    checks.append(_exact(f"toy, a tile per output row, DRAM-bound ({slow} B/cycle): cycles",
                         bound.timing.total_cycles,
                         (weights + inputs + outputs) / slow + slow_latency, "cycles",
                         "compulsory bytes / BW + latency (a row's compute hides behind "
                         "the previous row's write-back)"))
    assert bound.dram_read_bytes[Tensor.OUTPUTS] == 0  # one pass: no partial sums re-read
    return checks


def format_checks() -> list[Check]:
    """Exact bits of a hand-built mask in each format (``accelsim.sparsity.sizes``)."""
    from accelsim.sparsity.formats import CompressionSpec, Format
    from accelsim.sparsity.sizes import compressed_bits

    runs = (0, 5, 31, 32, 63, 64, 100)  # zeros before each non-zero
    trailing = 7  # zeros after the last non-zero cost nothing
    flat = np.concatenate([np.r_[np.zeros(run, bool), True] for run in runs]
                          + [np.zeros(trailing, bool)])
    mask = flat.reshape(1, 1, 1, -1)
    n, nnz, value_bits = flat.size, len(runs), 16
    pairs = sum(1 + run // 2 ** 5 for run in runs)
    zero_run_entries = sum(1 + run // 2 ** 4 for run in runs)
    matrix = np.zeros((8, 12), bool)
    matrix[np.arange(8), (np.arange(8) * 5) % 12] = True
    matrix[2, :] = True
    rows, matrix_nnz = matrix.shape[0], int(matrix.sum())
    cases = (
        ("rle, 5-bit runs: bits", mask, CompressionSpec(Format.RLE, 16, run_bits=5),
         pairs * (5 + value_bits), "Σ(1 + ⌊L/32⌋)·(5 + 16) over the zero runs L"),
        ("rle, 3 pairs per 64-bit word: bits", mask,
         CompressionSpec(Format.RLE, 16, run_bits=5, pairs_per_word=3, packed_word_bits=64),
         ceil(pairs / 3) * 64, "⌈pairs / 3⌉·64"),
        ("zero_run, 4-bit runs: bits", mask, CompressionSpec(Format.ZERO_RUN, 16, run_bits=4),
         zero_run_entries * (4 + value_bits), "Σ(1 + ⌊L/16⌋)·(4 + 16)"),
        ("bitmask: bits", mask, CompressionSpec(Format.BITMASK, 16), n + nnz * value_bits,
         "n + nnz·16"),
        ("csr, 8 × 12 matrix: bits", matrix,
         CompressionSpec(Format.CSR, 16, index_bits=4, pointer_bits=7, row_axes=1),
         (rows + 1) * 7 + matrix_nnz * (4 + value_bits), "(rows + 1)·7 + nnz·(4 + 16)"),
    )
    return [_exact(f"hand-built mask, {name}", compressed_bits(tile, spec), expected, "bits",
                   formula) for name, tile, spec, expected, formula in cases]


def sparse_checks() -> list[Check]:
    """Effectual MACs, skipping and RLE traffic for masks whose counts have a closed form."""
    from accelsim.arch.loader import load_architecture
    from accelsim.arch.spec import Tensor
    from accelsim.workload.layer import Layer
    from accelsim.workload.zoo import get_model

    checks = []
    layer = Layer("conv", N=1, C=4, H=9, W=9, M=16, R=3, S=3)
    _, _, h, w = np.indices(layer.input_shape)
    board = (h + w) % 2 == 0
    even = sum((p + q) % 2 == 0 for p in range(layer.P) for q in range(layer.Q))
    odd = layer.P * layer.Q - even
    result = _run(toy_architecture(4, 0), _trace(layer, board))
    checks.append(_exact("checkerboard inputs, 3 × 3 kernel: effectual MACs",
                         result.effectual_macs,
                         layer.N * layer.M * layer.C * (5 * even + 4 * odd), "MACs",
                         "N·M·C·(5·#(p+q even) + 4·#(p+q odd))"))

    wide = Layer("conv", N=1, C=4, H=10, W=10, M=16, R=3, S=3)
    single = np.indices(wide.input_shape)[1] == 1
    skipped = _run(toy_architecture(4, 0, skip_inputs=True), _trace(wide, single),
                   toy_mapping(wide, False))
    macs = formula_macs(wide)
    checks.append(_exact("one non-zero input channel: effectual MACs", skipped.effectual_macs,
                         macs / wide.C, "MACs", "MACs / C"))
    checks.append(_exact("one non-zero input channel, MACs skip zero inputs: compute cycles",
                         skipped.timing.compute_cycles, macs / wide.C / TOY_PES, "cycles",
                         "MACs / (C · PEs), PEs split over M"))

    odd_columns = np.indices(wide.input_shape)[3] % 2 == 1
    rle = _run(toy_architecture(4, 0, rle_inputs=True), _trace(wide, odd_columns),
               toy_mapping(wide, False))
    nonzeros = prod(wide.input_shape) // 2
    checks.append(_exact("odd columns non-zero, RLE inputs at DRAM: input bytes",
                         rle.dram_read_bytes[Tensor.INPUTS], ceil(nonzeros * 21 / 8),
                         "bytes", "⌈nnz·(5 + 16) / 8⌉, every run ≤ 31"))

    (depthwise,) = [lyr for lyr in get_model("mobilenet_v1") if lyr.groups > 1][:1]
    padded = _run(load_architecture("eyeriss_like"), _dense_trace([depthwise]))
    taps = (_valid_taps(depthwise.H, depthwise.R, depthwise.stride[0], depthwise.padding[0],
                        depthwise.dilation[0])
            * _valid_taps(depthwise.W, depthwise.S, depthwise.stride[1], depthwise.padding[1],
                          depthwise.dilation[1]))
    checks.append(_exact(f"mobilenet_v1 {depthwise.name} (depthwise, padding "
                         f"{depthwise.padding[0]}), all-ones masks: effectual MACs",
                         padded.effectual_macs,
                         depthwise.N * depthwise.M * taps, "MACs",
                         "N·M·Σ_p taps in rows · Σ_q taps in columns (padding is zero)"))

    dense_arch = toy_architecture(4, 100)
    ones = _dense_trace([wide])
    dense = _run(dense_arch, ones, toy_mapping(wide, True))
    sparse = _run(toy_architecture(4, 100, skip_inputs=True), ones, toy_mapping(wide, True))
    checks.append(_exact("all-ones masks, MACs skip zero inputs: cycles = dense run's",
                         sparse.timing.total_cycles, dense.timing.total_cycles, "cycles",
                         "the same layer on the design without sparse actions"))
    checks.append(_exact("all-ones masks, MACs skip zero inputs: energy = dense run's",
                         sparse.energy.total_pj, dense.energy.total_pj, "pJ",
                         "the same layer on the design without sparse actions"))
    return checks


def closed_form_checks(paths: Paths) -> list[Check]:
    return [*zoo_mac_checks(), mapper_utilisation_check(paths), *toy_checks(),
            *format_checks(), *sparse_checks()]
