"""``accelsim validate``: every reference comparison of the project as one Markdown report,
docs/validation.md.

Each check runs accelsim on a reproduction whose inputs are fixtures in the repository
(``tests/data/arch``, ``tests/data/mappings``, ``hw_configs``) and compares one number with a
reference read from a file in the shared folder (``../shared/timeloop_ref``), or with a formula
evaluated in code (``accelsim.validate_closed_form``): our number, the reference, the error in
%, the target, pass or fail, and for a failure or a systematic difference a sentence on its
cause. The explanatory prose is fixed text here; every number in the report is computed or
parsed when it is generated, so the page cannot drift from the code (tests/test_validate.py
regenerates and diffs it). The same comparisons are asserted, in more detail, by
tests/test_run.py, tests/test_validation_eyeriss_compression.py and
tests/test_validation_sparseloop.py. Everything is seeded: the report is deterministic.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from accelsim.errors import AccelsimError
from accelsim.validate_scalesim import SCALESIM_INTRO

DEFAULT_REPORT = Path("docs") / "validation.md"
"""Where ``accelsim validate`` writes, relative to ``--repo``."""


@dataclass(frozen=True, slots=True)
class Check:
    """One comparison. ``tolerance`` is the largest |error| (a fraction) that passes; a row
    with ``compared`` false is reported for information and neither passes nor fails."""

    group: str
    name: str
    source: str
    ours: float
    reference: float
    unit: str
    tolerance: float
    target: str
    cause: str = ""
    digits: int = 0
    compared: bool = True

    @property
    def error(self) -> float:
        if self.reference:
            return self.ours / self.reference - 1.0
        return 0.0 if self.ours == self.reference else float("inf")

    @property
    def passed(self) -> bool:
        return self.compared and abs(self.error) <= self.tolerance + 1e-12

    @property
    def failed(self) -> bool:
        return self.compared and not self.passed


def summary(checks: list[Check]) -> str:
    """"N of M checks pass", plus the rows reported without a target."""
    compared = [check for check in checks if check.compared]
    text = f"{sum(check.passed for check in compared)} of {len(compared)} checks pass"
    reported = len(checks) - len(compared)
    rows = "row" if reported == 1 else "rows"
    return text + (f" ({reported} more {rows} reported, not compared)" if reported else "")


@dataclass(frozen=True, slots=True)
class Paths:
    repo: Path
    shared: Path

    def ref(self, relative: str) -> Path:
        return self.shared / relative

    def label(self, path: Path) -> str:
        """A path as the report shows it: relative to the repository, or ``../shared/…``."""
        for root, prefix in ((self.repo, ""), (self.shared, "../shared/")):
            try:
                return prefix + path.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                continue
        return path.as_posix()


def check_paths(repo: str | os.PathLike[str], shared: str | os.PathLike[str] | None) -> Paths:
    """The repository and shared folders, or one-line ``AccelsimError`` if either lacks what
    the checks read."""
    root = Path(repo)
    if not (root / "tests" / "data" / "mappings").is_dir():
        raise AccelsimError("not an accelsim checkout (no tests/data/mappings); pass --repo "
                            "DIR", file=root)
    folder = Path(shared) if shared is not None else root.resolve().parent / "shared"
    if not (folder / "timeloop_ref").is_dir():
        raise AccelsimError("reference folder missing (no timeloop_ref inside); pass "
                            "--shared DIR", file=folder)
    return Paths(root, folder)


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


# ----------------------------------------------------------------------------- Timeloop

# (architecture fixture, design folder in timeloop_ref = mapping name, problem file)
TIMELOOP_DESIGNS = (
    ("hw_configs/eyeriss_like.yaml", "eyeriss_like", "eyeriss_like/problem_default_conv.yaml"),
    ("tests/data/arch/simple_weight_stationary.yaml", "simple_weight_stationary",
     "eyeriss_like/problem_default_conv.yaml"),
    ("tests/data/arch/simple_output_stationary.yaml", "simple_output_stationary",
     "eyeriss_like/problem_default_conv.yaml"),
    ("tests/data/arch/ispass2020_06_eyeriss.yaml", "ispass2020_06_eyeriss_vgg02_layer5",
     "ispass2020_06_eyeriss_vgg02_layer5/problem_VGG02_layer5.yaml"),
)
TIMELOOP = "Timeloop, dense"


def timeloop_summary(path: Path) -> tuple[int, float]:
    """"Summary Stats" of a timeloop-mapper.stats.txt: (Cycles, Energy in µJ)."""
    cycles, energy, _ = _timeloop_summary(path)
    return cycles, energy


def _timeloop_summary(path: Path) -> tuple[int, float, int]:
    """(Cycles, Energy in µJ, decimals the energy is printed with)."""
    text = path.read_text(encoding="utf-8").split("Summary Stats", 1)[1]
    cycles = int(re.search(r"^Cycles: (\d+)", text, re.M).group(1))
    energy = re.search(r"^Energy: (\d+)\.?(\d*) uJ", text, re.M)
    printed = f"{energy.group(1)}.{energy.group(2) or '0'}"
    return cycles, float(printed), len(energy.group(2))


def timeloop_checks(paths: Paths) -> list[Check]:
    from accelsim.arch.loader import load_architecture
    from accelsim.mapping.yaml_io import load_mapping
    from accelsim.pipeline import simulate
    from accelsim.workload.importers import import_workload

    checks = []
    for arch_file, design, problem in TIMELOOP_DESIGNS:
        stats = paths.ref(f"timeloop_ref/{design}/timeloop-mapper.stats.txt")
        cycles, energy_uj, decimals = _timeloop_summary(stats)
        arch = load_architecture(paths.repo / arch_file)
        trace = import_workload(paths.ref(f"timeloop_ref/{problem}"))
        layer = trace.layers[0].layer
        mapping = load_mapping(paths.repo / "tests/data/mappings" / f"{design}.yaml", layer,
                               arch)
        (result,) = simulate(arch, trace, mappings={layer.name: mapping}).layers
        source = paths.label(stats)
        checks.append(Check(TIMELOOP, f"{design}: cycles", source, result.timing.total_cycles,
                            cycles, "cycles", 0.0, "exact"))
        ours_uj = result.energy.total_pj / 1e6
        cause = ""
        step = 10.0 ** -decimals
        if abs(ours_uj - energy_uj) <= step / 2 + 1e-9 and ours_uj != energy_uj:
            cause = (f"Timeloop prints the energy rounded to {step:g} µJ; ours is within that "
                     "rounding.")
        checks.append(Check(TIMELOOP, f"{design}: energy", source, ours_uj, energy_uj, "µJ",
                            0.02, "±2 %", cause, 4))
    return checks


TIMELOOP_INTRO = (
    "Timeloop's own mapping of each design's problem (its `timeloop-mapper.map.txt`, "
    "reproduced as `tests/data/mappings/<design>.yaml`) through the whole pipeline — nest "
    "analysis, tile schedule, SimPy engine, energy — with the design's architecture "
    "(`hw_configs/eyeriss_like.yaml` or `tests/data/arch/<design>.yaml`), energies from its "
    "ERT and Timeloop's unbounded DRAM bandwidth. Reference: \"Summary Stats\" of the "
    "design's `timeloop-mapper.stats.txt`. Designs: Timeloop's default conv on eyeriss_like, "
    "simple_weight_stationary and simple_output_stationary, and VGG conv3_1 on the ISPASS "
    "2020 Eyeriss.")
TIMELOOP_AFTER = (
    "Per level and tensor, every count Timeloop reports — per-instance scalar reads, fills, "
    "updates and temporal reductions, utilized instances and utilized capacity — is asserted "
    "equal, not approximately equal, for all these designs by "
    "`tests/test_nest_analysis_timeloop.py`, which parses each `stats.txt` (its "
    "`SUMMARY.csv`'s per-level sums match too); the energy table alone is checked against "
    "Timeloop's per-level energies from its own counts by `tests/test_energy_timeloop.py`. "
    "No count differs by design. One convention is inferred from these numbers rather than "
    "from Timeloop's code: a tile keeps its sliding-window overlap with the previous tile only "
    "when the innermost loop above its level advances (docs/model.md §3, \"the delta rule\"); "
    "Timeloop may keep an overlap across an outer-loop step in other mappings. "
    "accelsim's own mapper, on eyeriss_like's problem, finds a mapping that keeps every PE busy "
    "(section \"Closed form\"), fewer cycles than Timeloop's mapping above.")


# ----------------------------------------------------------------------------- Eyeriss

EYERISS = "Eyeriss v1 AlexNet DRAM compression (Sparseloop artifact)"
EYERISS_REFERENCE = ("timeloop_ref/sparseloop_micro22_artifact_derived/"
                     "eyeriss_v1_alexnet_table7_dram_compression_derived.txt")
# The reference's "Workload shapes and densities" table: C, M, P=Q, R=S, stride, densities
# of inputs, weights, outputs (read_eyeriss_reference checks the file still says so).
ALEXNET_SHAPES = {
    "conv1": (3, 96, 56, 11, 4, 0.999, 0.710166, 0.378),
    "conv2": (48, 256, 28, 5, 1, 0.6, 0.385306, 0.169),
    "conv3": (256, 384, 13, 3, 1, 0.275, 0.346133, 0.303),
    "conv4": (192, 384, 13, 3, 1, 0.207, 0.372449, 0.304),
    "conv5": (192, 256, 13, 3, 1, 0.23, 0.368811, 0.1),
}


def read_eyeriss_reference(path: Path) -> dict[str, dict[str, object]]:
    """Per layer: dense (W, I, O) words, the Eyeriss-formula ratio and the dense cycles; the
    file's shapes table must be ``ALEXNET_SHAPES``."""
    rows: dict[str, dict[str, object]] = {}
    shapes = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 8 and cells[0].startswith("conv"):
            dense = tuple(int(v) for v in cells[1].strip("()").split(","))
            rows[cells[0]] = {"dense": dense, "ratio": float(cells[3]),
                              "dense_cycles": int(cells[4])}
        elif len(cells) == 9 and cells[0].startswith("conv"):
            numbers = [cell.split()[0] for cell in cells[1:]]
            shapes[cells[0]] = (*(int(v) for v in numbers[:5]),
                                *(float(v) for v in numbers[5:]))
    if sorted(rows) != sorted(ALEXNET_SHAPES):
        raise AccelsimError(f"expected rows {sorted(ALEXNET_SHAPES)}, found {sorted(rows)}",
                            file=path)
    if shapes != ALEXNET_SHAPES:
        raise AccelsimError("the shapes and densities table differs from accelsim.validate's "
                            "ALEXNET_SHAPES", file=path)
    return rows


def eyeriss_overhead_factor(path: Path) -> float:
    """The formula's RLE overhead factor, the ``x`` of its ``I/x``."""
    return float(re.search(r"I/(\d+\.\d+)", path.read_text(encoding="utf-8")).group(1))


def alexnet_trace(seed: int = 0):
    """AlexNet CONV1-5 at batch 4 with exact-density uniform masks for all three tensors."""
    import numpy as np

    from accelsim.workload.generators import uniform_mask
    from accelsim.workload.layer import Layer
    from accelsim.workload.trace import LayerTrace, Trace, TraceInfo

    rng = np.random.default_rng(seed)
    layers = []
    for name, (c, m, p, r, stride, d_in, d_w, d_out) in ALEXNET_SHAPES.items():
        size = (p - 1) * stride + r  # the extent the artifact's problem reads, no padding
        layer = Layer(name, N=4, C=c, H=size, W=size, M=m, R=r, S=r, stride=(stride, stride))
        layers.append(LayerTrace(layer, uniform_mask(layer.input_shape, d_in, rng),
                                 uniform_mask(layer.weight_shape, d_w, rng),
                                 uniform_mask(layer.output_shape, d_out, rng)))
    info = TraceInfo(model="alexnet_conv_table7", source={"kind": "synthetic",
                                                          "generator": "uniform",
                                                          "seed": seed})
    return Trace(info, tuple(layers))


def without_compression(arch, tensors=None):
    """``arch`` with the formats of ``tensors`` (all by default) removed at every level."""
    from accelsim.arch.spec import Tensor

    dropped = frozenset(Tensor) if tensors is None else frozenset(tensors)
    levels = tuple(dataclasses.replace(level, compression=tuple(
        (tensor, spec) for tensor, spec in level.compression if tensor not in dropped))
        for level in arch.levels)
    return dataclasses.replace(arch, levels=levels)


def eyeriss_checks(paths: Paths) -> list[Check]:
    from accelsim.arch.loader import load_architecture
    from accelsim.arch.spec import Tensor
    from accelsim.mapping.yaml_io import load_mapping
    from accelsim.pipeline import simulate

    reference_path = paths.ref(EYERISS_REFERENCE)
    reference = read_eyeriss_reference(reference_path)
    factor = eyeriss_overhead_factor(reference_path)
    source = paths.label(reference_path)
    arch = load_architecture("eyeriss_v1")
    spec = arch.levels[0].compression_of(Tensor.INPUTS)
    word_bytes = arch.levels[0].word_bits // 8
    trace = alexnet_trace()
    mappings = {lt.layer.name: load_mapping(
        paths.repo / "tests/data/mappings" / f"sparseloop_table7_{lt.layer.name}.yaml",
        lt.layer, arch) for lt in trace.layers}
    compressed = {r.name: r for r in simulate(arch, trace, mappings=mappings).layers}
    dense = {r.name: r for r in simulate(without_compression(arch), trace,
                                         mappings=mappings).layers}
    # The artifact leaves CONV1's inputs (the image, 99.9 % dense) uncompressed.
    (artifact_conv1,) = simulate(without_compression(arch, {Tensor.INPUTS}), trace,
                                 mappings=mappings, layers=["conv1"]).layers
    words_per_value = spec.packed_word_bits / (spec.pairs_per_word * spec.value_bits)
    packing_cause = (
        f"Our RLE packs {spec.pairs_per_word} {spec.value_bits}-bit values with their "
        f"{spec.run_bits}-bit runs into a {spec.packed_word_bits}-bit word, "
        f"{words_per_value:.4g} words per non-zero, {(words_per_value * factor - 1) * 100:.1f} % "
        f"more than the formula's 1/{factor:g}; the file's ratios are rounded to two decimals.")
    checks = []
    for name in ALEXNET_SHAPES:
        checks.append(Check(EYERISS, f"{name}: dense cycles (mapping fixture)", source,
                            dense[name].analysis.cycles, reference[name]["dense_cycles"],
                            "cycles", 0.0, "exact"))
    for name in ALEXNET_SHAPES:
        moved = (dense[name].dram_read_bytes[Tensor.WEIGHTS],
                 dense[name].dram_read_bytes[Tensor.INPUTS],
                 dense[name].dram_write_bytes[Tensor.OUTPUTS])
        for label, ours, theirs in zip(("W", "I", "O"), moved, reference[name]["dense"],
                                       strict=True):
            checks.append(Check(EYERISS, f"{name}: dense DRAM words, {label}", source,
                                ours / word_bytes, theirs, "words", 0.0, "exact"))
    for name in ALEXNET_SHAPES:
        expected = reference[name]["ratio"]
        if name == "conv1":
            grown = (compressed[name].dram_read_bytes[Tensor.INPUTS]
                     / dense[name].dram_read_bytes[Tensor.INPUTS])
            checks.append(Check(
                EYERISS, "conv1: DRAM compression ratio, inputs uncompressed as in the "
                "artifact", source, dense[name].dram_bytes / artifact_conv1.dram_bytes,
                expected, "×", 0.10, "±10 %", "", 3))
            checks.append(Check(
                EYERISS, "conv1: DRAM compression ratio, bundled eyeriss_v1", source,
                dense[name].dram_bytes / compressed[name].dram_bytes, expected, "×", 0.10,
                "±10 %", f"The bundled eyeriss_v1 run-length codes every layer's inputs, "
                f"CONV1's {ALEXNET_SHAPES['conv1'][5] * 100:g} %-dense image too, where RLE "
                f"costs {grown:.3f}× the dense words; the artifact leaves that image "
                "uncompressed (row above: eyeriss_v1 without the inputs' format, for CONV1 "
                "only). A per-layer choice of format is not expressible in an architecture "
                "config today.", 3))
            continue
        checks.append(Check(EYERISS, f"{name}: DRAM compression ratio", source,
                            dense[name].dram_bytes / compressed[name].dram_bytes, expected,
                            "×", 0.10, "±10 %", packing_cause, 3))
    return checks


EYERISS_INTRO = (
    "AlexNet CONV1-5 with the shapes and densities of the reference file (batch 4, "
    "exact-density uniform masks for inputs, weights and outputs, seed 0) through `simulate` "
    "on the bundled `eyeriss_v1` (RLE inputs and outputs at DRAM) and on the same "
    "architecture with every `compression` removed (`dataclasses.replace`), with the same "
    "mappings `tests/data/mappings/sparseloop_table7_conv*.yaml` (DRAM loops in the artifact's "
    "permutation Q, N, M, C). **Compared: the ratio of the two runs' DRAM traffic** (bytes "
    "read and written, all three tensors) — what the simulator actually moves, each tile's "
    "RLE words from its masks — against the file's \"Eyeriss formula\" dense words / "
    "(W + I/x + O/x), rather than that formula on our counts, which would only restate its "
    "fixed overhead per non-zero (that check, with our per-word RLE cost, is "
    "`tests/test_formats_eyeriss.py`, docs/model.md §6.2).")
EYERISS_AFTER = (
    "The ratio depends on how much of the traffic is weights (never compressed), i.e. on the "
    "mapping: the mapping fixtures reproduce the file's dense DRAM words and dense cycles "
    "exactly (rows above). accelsim's mapper, run without `mappings=`, chooses other "
    "mappings for these layers and does not yet weigh compression (docs/model.md §7). "
    "`python -m pytest -q tests/test_validation_eyeriss_compression.py` asserts the same "
    "rows.")


# ----------------------------------------------------------------------------- Sparseloop

SPARSELOOP_GATING = "Sparseloop, sparse: 04.2.1, Eyeriss-like with gating (AlexNet CONV3)"
SPARSELOOP_COMPRESSION = ("Sparseloop, sparse: 04.2.3, Eyeriss-like with on-chip compression "
                          "and skipping (AlexNet CONV3)")
GATING_FOLDER = "timeloop_ref/sparseloop_04.2.1-eyeriss-like-gating"
COMPRESSION_FOLDER = "timeloop_ref/sparseloop_04.2.3-eyeriss-like-onchip-compression"
GATING_ARCH = "tests/data/arch/sparseloop_04.2.1_eyeriss_like_gating.yaml"
COMPRESSION_ARCH = "tests/data/arch/sparseloop_04.2.3_eyeriss_like_onchip_compression.yaml"
SPARSELOOP_TARGET = 0.10
# The dense on-chip counts of each design, asserted equal: (level, tensor, access).
_GATING_EQUAL = (("ifmap_spad", "inputs"), ("psum_spad", "outputs"), ("shared_glb", "inputs"),
                 ("shared_glb", "outputs"), ("weights_spad", "weights"))
_COMPRESSION_EQUAL = (("psum_spad", "outputs", "read"), ("psum_spad", "outputs", "fill"),
                      ("psum_spad", "outputs", "update"), ("shared_glb", "outputs", "read"),
                      ("shared_glb", "outputs", "fill"), ("shared_glb", "outputs", "update"),
                      ("weights_spad", "weights", "fill"), ("DRAM", "weights", "read"))
_LABELS = {"read": "reads", "fill": "fills", "update": "updates"}
ENERGY_LEVELS = ("mac", "psum_spad", "weights_spad", "ifmap_spad", "shared_glb", "DRAM")


class _Rows:
    """Builds one design's rows: ours against a stats.txt quantity."""

    def __init__(self, group: str, source: str) -> None:
        self.group, self.source, self.checks = group, source, []

    def near(self, name: str, ours: float, theirs: float, unit: str, cause: str = "",
             digits: int = 0) -> None:
        self.checks.append(Check(self.group, name, self.source, ours, theirs, unit,
                                 SPARSELOOP_TARGET, "±10 %", cause, digits))

    def equal(self, name: str, ours: float, theirs: float, unit: str) -> None:
        self.checks.append(Check(self.group, name, self.source, ours, theirs, unit, 0.0,
                                 "exact"))

    def reported(self, name: str, ours: float, theirs: float, unit: str, cause: str) -> None:
        self.checks.append(Check(self.group, name, self.source, ours, theirs, unit, 0.0,
                                 "not compared", cause, compared=False))


def _run_design(paths: Paths, folder: str, arch_file: str):
    from accelsim.arch.loader import load_architecture
    from accelsim.validate_sparseloop import Reference, run

    stats = paths.ref(f"{folder}/timeloop-mapper.stats.txt")
    arch = load_architecture(paths.repo / arch_file)
    return (Reference(stats), run(paths.ref(folder), paths.repo / arch_file), arch,
            _Rows(SPARSELOOP_GATING if folder == GATING_FOLDER else SPARSELOOP_COMPRESSION,
                  paths.label(stats)))


def _computes(rows: _Rows, result, ref) -> None:
    from accelsim.validate_sparseloop import compute_row

    mac = compute_row(result)
    rows.equal("mac \"Algorithmic Computes (total)\"", mac.algorithmic,
               ref.total("mac", None, "Algorithmic Computes (total)"), "MACs")
    rows.near("mac \"Actual Computes (total)\"", mac.actual,
              ref.total("mac", None, "Actual Computes (total)"), "MACs")


def _dram_values_and_bits(rows: _Rows, result, ref, tensor_name: str, access: str,
                          bits_cause: str = "") -> None:
    """Values moved (our unpacked RLE entries), bits with metadata, and the priced count."""
    from accelsim.arch.spec import Tensor
    from accelsim.validate_sparseloop import METADATA_BITS, count_row, rle_entries

    tensor = Tensor(tensor_name)
    label = "reads" if access == "read" else "updates"
    moved = (result.dram_read_bytes if access == "read" else result.dram_write_bytes)[tensor]
    values = ref.total("DRAM", tensor, f"Actual scalar {label} (per-instance)")
    title = tensor_name.capitalize()
    rows.near(f"DRAM {title} \"Actual scalar {label}\": values moved (our RLE entries)",
              rle_entries(moved), values, "values")
    rows.near(f"DRAM {title} {label}: bits, values + {METADATA_BITS}-bit format units "
              f"(\"Actual scalar format {label}\", {ref.format_units(tensor, label):,.0f})",
              moved * 8,
              ref.dram_bits(tensor, label), "bits", bits_cause)
    rows.near(f"DRAM {title} {label} as priced (our `sparse_counts` actual)",
              count_row(result, "DRAM", tensor, access).actual, values, label)


def _energy(rows: _Rows, result, ref, causes: dict[str, str] | None = None) -> None:
    causes = causes or {}
    for level in ENERGY_LEVELS:
        rows.near(f"energy, {level} (fJ/Algorithmic-Compute × "
                  f"{ref.algorithmic_computes:,})", result.energy.by_component[level] / 1e6,
                  ref.level_pj[level] / 1e6, "µJ", causes.get(level, ""), 2)
    rows.near("energy, total (\"Energy\")", result.energy.total_pj / 1e6, ref.energy_pj / 1e6,
              "µJ", "", 2)


def gating_checks(paths: Paths) -> list[Check]:
    from accelsim.arch.spec import Tensor
    from accelsim.validate_sparseloop import count_row, summary_cycles

    ref, result, arch, rows = _run_design(paths, GATING_FOLDER, GATING_ARCH)
    _computes(rows, result, ref)
    weights = count_row(result, "weights_spad", Tensor.WEIGHTS, "read")
    rows.near("weights_spad Weights \"Actual scalar reads\"", weights.actual,
              ref.total("weights_spad", Tensor.WEIGHTS, "Actual scalar reads (per-instance)"),
              "reads")
    rows.near("weights_spad Weights \"Gated scalar reads\"", weights.gated,
              ref.total("weights_spad", Tensor.WEIGHTS, "Gated scalar reads (per-instance)"),
              "reads")
    for level, tensor_name in _GATING_EQUAL:
        tensor = Tensor(tensor_name)
        for access, label in _LABELS.items():
            if (level, access) == ("weights_spad", "read"):
                continue
            theirs = ref.total(level, tensor, f"Actual scalar {label} (per-instance)")
            found = [r.actual for r in result.sparse_counts
                     if (r.component, r.tensor, r.access) == (level, tensor, access)]
            ours = found[0] if found else 0
            if ours or theirs:
                rows.equal(f"{level} {tensor_name.capitalize()} \"Actual scalar {label}\"",
                           ours, theirs, label)
    _dram_values_and_bits(rows, result, ref, "inputs", "read")
    _dram_values_and_bits(rows, result, ref, "outputs", "update")
    rows.equal("DRAM Weights \"Actual scalar reads\" (uncompressed words)",
               result.dram_read_bytes[Tensor.WEIGHTS] * 8 / arch.levels[0].word_bits,
               ref.total("DRAM", Tensor.WEIGHTS, "Actual scalar reads (per-instance)"), "reads")
    _energy(rows, result, ref)
    algorithmic = ref.stats[("weights_spad", Tensor.WEIGHTS)][
        "Algorithmic scalar reads (per-instance)"]
    rows.equal("cycles = dense cycles (weights_spad \"Algorithmic scalar reads "
               "(per-instance)\", one per MAC slot of a PE)", result.timing.total_cycles,
               algorithmic, "cycles")
    theirs = summary_cycles(ref.path)
    instances = int(ref.stats[("mac", None)]["Utilized instances (max)"])
    bandwidth = arch.level("weights_spad").read_bandwidth_words_per_cycle
    rows.reported("cycles against Sparseloop's \"Cycles\"", result.timing.total_cycles, theirs,
                  "cycles",
                  f"A gated MAC or read is not performed but its slot is spent, so gating saves "
                  f"energy and no time (docs/model.md §6.3): we report the dense cycles, one "
                  f"MAC slot per PE per cycle. Sparseloop's \"Cycles: {theirs}\" is an artefact "
                  f"(README beside the reference; NVlabs/timeloop issue #250): its mac level "
                  f"charges a cycle only to actual computes (\"Cycles: "
                  f"{ref.stats[('mac', None)]['Cycles']:.0f}\" over {instances} PEs) and the "
                  f"run's length becomes the weights_spad read port, {algorithmic:,.0f} reads "
                  f"(gated ones included) at {bandwidth:g} words/cycle, "
                  f"{algorithmic / bandwidth:,.0f} + 1 — a fraction of the dense time from a "
                  f"design whose PEs still step through every gated MAC.")
    return rows.checks


def compression_checks(paths: Paths) -> list[Check]:
    from accelsim.arch.spec import Tensor
    from accelsim.validate_sparseloop import METADATA_BITS, count_row, summary_cycles

    ref, result, _, rows = _run_design(paths, COMPRESSION_FOLDER, COMPRESSION_ARCH)
    _computes(rows, result, ref)
    weights = count_row(result, "weights_spad", Tensor.WEIGHTS, "read")
    rows.near("weights_spad Weights \"Actual scalar reads\"", weights.actual,
              ref.total("weights_spad", Tensor.WEIGHTS, "Actual scalar reads (per-instance)"),
              "reads")
    rows.near("weights_spad Weights \"Skipped scalar reads\"", weights.skipped,
              ref.total("weights_spad", Tensor.WEIGHTS, "Skipped scalar reads (per-instance)"),
              "reads")
    for level in ("ifmap_spad", "shared_glb", "DRAM"):
        rows.near(f"{level} Inputs \"Actual scalar reads\"",
                  count_row(result, level, Tensor.INPUTS, "read").actual,
                  ref.total(level, Tensor.INPUTS, "Actual scalar reads (per-instance)"), "reads")
    for level, tensor_name, access in _COMPRESSION_EQUAL:
        tensor, label = Tensor(tensor_name), _LABELS[access]
        rows.equal(f"{level} {tensor_name.capitalize()} \"Actual scalar {label}\"",
                   count_row(result, level, tensor, access).actual,
                   ref.total(level, tensor, f"Actual scalar {label} (per-instance)"), label)
    for level in ("shared_glb", "ifmap_spad"):
        fill = count_row(result, level, Tensor.INPUTS, "fill")
        rows.equal(f"{level} Inputs \"Algorithmic scalar fills\"", fill.algorithmic,
                   ref.total(level, Tensor.INPUTS, "Algorithmic scalar fills (per-instance)"),
                   "fills")
        rows.near(f"{level} Inputs \"Actual scalar fills\" (non-zeros only)", fill.actual,
                  ref.total(level, Tensor.INPUTS, "Actual scalar fills (per-instance)"),
                  "fills")
    values = ref.total("DRAM", Tensor.INPUTS, "Actual scalar reads (per-instance)")
    fmt = ref.stats[("DRAM", Tensor.INPUTS)]
    label = "Actual scalar format reads (per-instance)"
    ranks = sorted({int(key.split()[-2]) for key in fmt if key.startswith(f"{label} Rank ")})
    runs = fmt[f"{label} Rank 0 metadata"]
    offsets = sum(fmt[f"{label} Rank {r} payload"] for r in ranks if r)
    _dram_values_and_bits(
        rows, result, ref, "inputs", "read",
        f"Sparseloop's {len(ranks)}-rank `uop … rle` inputs format counts {runs:,.0f} RLE "
        f"metadata units (rank 0) and {offsets:,.0f} UOP offsets for {values:,.0f} values "
        f"(\"Actual scalar format reads\"), {runs / values:.1f} runs per value, where `rle` "
        f"stores exactly one {METADATA_BITS}-bit run per stored value (as Sparseloop itself "
        "does for the "
        "two-rank format of 04.2.1, and for the outputs here). Sparseloop's RLE model "
        "(`RunLengthEncoding::GetOccupancy`, NVlabs/timeloop) counts one metadata unit per "
        "non-empty coordinate of the rank per non-empty fiber; we have not reproduced how this "
        "rank split of the tiles yields that count. The values moved agree (row above), and "
        "Sparseloop prices DRAM metadata at 0 pJ, so energy is unaffected.")
    _dram_values_and_bits(rows, result, ref, "outputs", "read")
    _dram_values_and_bits(rows, result, ref, "outputs", "update")
    glb_inputs = ref.stats[("shared_glb", Tensor.INPUTS)]["Energy (total)"]
    _energy(rows, result, ref, {"shared_glb": (
        f"Sparseloop's shared_glb Inputs energy ({glb_inputs / 1e6:.2f} µJ) includes metadata "
        "reads and writes and (de)compression of the compressed inputs, which have no action "
        "in accelsim.")})
    mac_cycles = ref.stats[("mac", None)]["Cycles"]
    rows.near("cycles, mean PE work (our compute cycles / imbalance) against mac \"Cycles\"",
              result.timing.compute_cycles / result.imbalance, mac_cycles, "cycles", "", 0)
    theirs = summary_cycles(ref.path)
    rows.reported("cycles against Sparseloop's \"Cycles\"", result.timing.total_cycles, theirs,
                  "cycles",
                  f"A tile lasts as long as its busiest PE (docs/model.md §6.1): with skipping "
                  f"and different input slices across the array the busiest PE has "
                  f"{result.imbalance:.2f}× the mean non-zero-input work (row above: the mean "
                  f"agrees). Sparseloop's model uses the average density; its "
                  f"{theirs:,} adds a GLB bandwidth throttle to the mac level's "
                  f"{mac_cycles:,.0f}.")
    return rows.checks


SPARSELOOP_INTRO = (
    "AlexNet CONV3, N = 4, Sparseloop's densities from the design's `problem.yaml` as "
    "exact-density uniform random masks (`import_timeloop_problem(path, seed=0, "
    "output_masks=True)`; the output mask sizes the compressed output traffic), Sparseloop's "
    "architecture in our schema (`tests/data/arch/sparseloop_*.yaml`, energies from each "
    "run's `timeloop-mapper.ERT_summary.yaml`), its mapping read from "
    "`timeloop-mapper.map.txt`, unbounded DRAM bandwidth. Sparseloop prints per-instance "
    "counts; they are multiplied here by the level's \"Utilized instances (max)\". Compressed "
    "bits are the values' bits plus `metadata_datawidth` bits per format unit (\"Actual "
    "scalar format reads/updates\", all ranks). Level energies on Sparseloop's side are its "
    "\"fJ/Algorithmic-Compute\" × its algorithmic computes.\n\n"
    "**Translation.** Sparseloop implies two things that accelsim's configs state explicitly: "
    "a compressed tensor is accessed only at its stored non-zeros, which the fixtures declare "
    "as a skip of the inputs' own zeros where inputs are stored compressed (`{kind: skip, "
    "target: inputs, condition_on: [inputs]}`, docs/config.md); and gating (04.2.1) or "
    "skipping (04.2.3) of the weights_spad read on a zero input also spares the MAC, declared "
    "at `compute`. RLE is `rle` with the source's run width, unpacked (Sparseloop keeps the "
    "runs in a separate metadata store); UOP ranks are not modelled. A tensor stored "
    "compressed moves only its non-zero values (docs/model.md §6.3), as Sparseloop counts "
    "them. Both models size the partial sums that 04.2.3 sends to DRAM and back with the "
    "final outputs' density (accelsim: the one output mask the trace has), although partial "
    "sums before the activation function are denser. "
    "`python -m pytest -q tests/test_validation_sparseloop.py` asserts the same rows.\n\n"
    "04.2.1: the weights_spad read and the MAC gated on zero inputs; inputs and outputs "
    "RLE-coded at DRAM.")
COMPRESSION_INTRO = (
    "The same workload and translation; inputs RLE-coded at DRAM, in the GLB and in "
    "ifmap_spad; weights_spad reads and the MACs skipped on zero inputs. For a tensor a level "
    "stores compressed, actual fills, updates and — unless an explicit action splits them — "
    "reads are the algorithmic counts × the tensor's density "
    "(`accelsim/sparsity/actions.py`); the metadata is in the bytes the engine times. Tile "
    "occupancy is not compared: Sparseloop's \"Max utilized data storage capacity\" of "
    "compressed inputs is an expected value, ours a per-tile actual size.")


# ----------------------------------------------------------------------------- closed form

CLOSED_FORM = "Closed form"


def closed_form_checks(paths: Paths) -> list[Check]:
    from accelsim.validate_closed_form import closed_form_checks as checks

    return checks(paths)


CLOSED_FORM_INTRO = (
    "Cases whose answer is an exact formula, evaluated in `accelsim/validate_closed_form.py` "
    "from the layer's letters, the mask's construction or the architecture's parameters — "
    "never from the simulator's own counts; the Source column gives the formula. Most run the "
    "whole pipeline (`simulate`) on a toy design defined there (`toy_architecture`): DRAM, "
    "one global buffer keeping all three tensors, large enough for every tile, and a square "
    "array of MACs, per-word energies without leakage, with hand mappings "
    "that spread M over the PEs (\"one tile\": no DRAM loop; \"a tile per output row\": P "
    "at DRAM). The zoo rows map every layer with the mapper on eyeriss_like; the format rows "
    "size a hand-built mask with `accelsim.sparsity.sizes.compressed_bits`.")


# ----------------------------------------------------------------------------- SCALE-Sim

SCALESIM = "SCALE-Sim, systolic"
SCALESIM_ABSENT = ("SCALE-Sim: not run (no recorded reports in benchmarks/results/scalesim; "
                   "`python benchmarks/scalesim_compare.py --run-scalesim` makes them).")


def scalesim_section(paths: Paths) -> list[Check]:
    """SCALE-Sim cycle comparisons against its recorded reports; none when absent (the
    report then says so)."""
    from accelsim.validate_scalesim import scalesim_checks

    return [dataclasses.replace(check, group=SCALESIM) for check in scalesim_checks(paths)]


# ----------------------------------------------------------------------------- sections


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the report: its checks, and fixed prose before and after the table."""

    title: str
    make: Callable[[Paths], list[Check]]
    intro: str
    after: str = ""
    empty: str = ""


SECTIONS: tuple[Section, ...] = (
    Section(TIMELOOP, timeloop_checks, TIMELOOP_INTRO, TIMELOOP_AFTER),
    Section(SPARSELOOP_GATING, gating_checks, SPARSELOOP_INTRO),
    Section(SPARSELOOP_COMPRESSION, compression_checks, COMPRESSION_INTRO),
    Section(EYERISS, eyeriss_checks, EYERISS_INTRO, EYERISS_AFTER),
    Section(CLOSED_FORM, closed_form_checks, CLOSED_FORM_INTRO),
    Section(SCALESIM, scalesim_section, SCALESIM_INTRO, empty=SCALESIM_ABSENT),
)

ALSO_TESTED = (
    "Model-zoo MACs and parameter counts against published figures (docs/model-zoo.md, "
    "`tests/test_zoo.py`); exact effectual MACs against a one-MAC-at-a-time oracle and "
    "PyTorch's `conv2d` of the masks (`tests/test_effectual.py`); importers against "
    "Timeloop's and SCALE-Sim's formats (`tests/test_importers.py`); the mapper against "
    "Timeloop's mapper on the same problems and energy tables (docs/mapper.md, "
    "`tests/test_mapper.py`).")
NOT_VALIDATED = (
    "Cycles of sparse designs against a cycle-level reference: Sparseloop's cycles are "
    "analytical, and where they differ from ours (rows reported, not compared) the cause is "
    "given above.",
    "Timeloop's overlap convention in mappings other than those reproduced (the delta "
    "rule, section \"Timeloop, dense\").",
    "Occupancy of compressed tiles in on-chip buffers (Sparseloop reports an expected value).",
)


def run_checks(paths: Paths) -> list[Check]:
    checks: list[Check] = []
    for section in SECTIONS:
        checks.extend(section.make(paths))
    return checks


# ----------------------------------------------------------------------------- report


_FILES = (".txt", ".yaml", ".csv", ".json")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _source(source: str) -> str:
    """A file as code, a formula as text."""
    return f"`{source}`" if source.endswith(_FILES) else _cell(source)


def _result(check: Check) -> str:
    if not check.compared:
        return "reported"
    return "pass" if check.passed else "**fail**"


def _table(rows: list[Check]) -> list[str]:
    """The Markdown table of one section and its numbered causes."""
    sources = {check.source for check in rows}
    shared = len(sources) == 1 and next(iter(sources)).endswith(_FILES)
    lines = []
    if shared:
        lines += [f"Reference: `{next(iter(sources))}`.", ""]
        lines += ["| Check | Ours | Reference | Unit | Error | Target | Result |",
                  "|---|--:|--:|---|--:|---|---|"]
    else:
        lines += ["| Check | Source | Ours | Reference | Unit | Error | Target | Result |",
                  "|---|---|--:|--:|---|--:|---|---|"]
    notes: list[str] = []
    for check in rows:
        result = _result(check)
        if check.cause:
            if check.cause not in notes:
                notes.append(check.cause)
            result += f" [{notes.index(check.cause) + 1}]"
        source = "" if shared else f" {_source(check.source)} |"
        lines.append(
            f"| {_cell(check.name)} |{source} {_fmt(check.ours, check.digits)}"
            f" | {_fmt(check.reference, check.digits)} | {check.unit} | "
            f"{check.error * 100:+.3f} % | {check.target} | {result} |")
    if notes:
        lines += ["", "Causes of failures and systematic differences:", ""]
        lines += [f"{index}. {note}" for index, note in enumerate(notes, 1)]
    return lines


def _anchor(title: str) -> str:
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def format_report(checks: list[Check], sections: tuple[Section, ...] | None = None) -> str:
    sections = SECTIONS if sections is None else sections
    lines = [
        "# Validation",
        "",
        "Generated by `accelsim validate` (from the repository root, with the reference "
        "folder `../shared` beside it; it writes this file, docs/validation.md); do not edit "
        "by hand. `tests/test_validate.py` regenerates it and fails when this file is stale. "
        "Every number below is computed by that command: ours by running accelsim, the "
        "references parsed from the files named or evaluated from the formulas given.",
        "",
        f"**{summary(checks)}.** Error = ours / reference − 1; a row marked *reported* is "
        "shown for information and has no target.",
        "",
    ]
    lines += [f"- [{section.title}](#{_anchor(section.title)})" for section in sections]
    lines += ["- [Also checked by the test suite](#also-checked-by-the-test-suite)",
              "- [Not yet validated](#not-yet-validated)"]
    for section in sections:
        rows = [check for check in checks if check.group == section.title]
        lines += ["", f"## {section.title}", "", section.intro, ""]
        lines += _table(rows) if rows else [section.empty or "No checks."]
        if section.after:
            lines += ["", section.after]
    lines += ["", "## Also checked by the test suite", "", ALSO_TESTED]
    lines += ["", "## Not yet validated", ""]
    for check in checks:
        if check.failed:
            lines.append(f"- {check.group}, {check.name}: {check.error * 100:+.1f} %, outside "
                         f"its target ({check.target}); the cause is given in that section.")
    for check in checks:
        if not check.compared:
            lines.append(f"- {check.group}, {check.name}: reported, not compared "
                         f"({check.error * 100:+.1f} %); the reason is given in that section.")
    for section in sections:
        if section.empty and not any(check.group == section.title for check in checks):
            lines.append(f"- {section.empty}")
    lines += [f"- {item}" for item in NOT_VALIDATED]
    return "\n".join(lines) + "\n"


def validate(repo: str | os.PathLike[str] = ".",
             shared: str | os.PathLike[str] | None = None) -> tuple[list[Check], str]:
    """Run every check; (the checks, the Markdown report)."""
    checks = run_checks(check_paths(repo, shared))
    return checks, format_report(checks)
