"""``accelsim validate``: the project's reference comparisons as one Markdown report.

Each check runs accelsim on a reproduction whose inputs are fixtures in the repository
(``tests/data/arch``, ``tests/data/mappings``, ``hw_configs``) and compares one number with a
reference file in the shared folder (``../shared/timeloop_ref``): our number, theirs, the
error in %, the target, pass or fail, and, for a failure or a systematic difference, a
sentence on its cause. The same comparisons are asserted, in more detail, by
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


@dataclass(frozen=True, slots=True)
class Check:
    """One comparison. ``tolerance`` is the largest |error| (a fraction) that passes."""

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

    @property
    def error(self) -> float:
        return self.ours / self.reference - 1.0 if self.reference else float("inf")

    @property
    def passed(self) -> bool:
        return abs(self.error) <= self.tolerance + 1e-12


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
    text = path.read_text(encoding="utf-8").split("Summary Stats", 1)[1]
    cycles = int(re.search(r"^Cycles: (\d+)", text, re.M).group(1))
    energy = float(re.search(r"^Energy: ([\d.]+) uJ", text, re.M).group(1))
    return cycles, energy


def timeloop_checks(paths: Paths) -> list[Check]:
    from accelsim.arch.loader import load_architecture
    from accelsim.mapping.yaml_io import load_mapping
    from accelsim.pipeline import simulate
    from accelsim.workload.importers import import_workload

    checks = []
    for arch_file, design, problem in TIMELOOP_DESIGNS:
        stats = paths.ref(f"timeloop_ref/{design}/timeloop-mapper.stats.txt")
        cycles, energy_uj = timeloop_summary(stats)
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
        if abs(ours_uj - energy_uj) <= 0.005 + 1e-9 and ours_uj != energy_uj:
            cause = ("Timeloop prints the energy rounded to 0.01 µJ; ours is within that "
                     "rounding.")
        checks.append(Check(TIMELOOP, f"{design}: energy", source, ours_uj, energy_uj, "µJ",
                            0.02, "±2 %", cause, 4))
    return checks


# ----------------------------------------------------------------------------- Eyeriss

EYERISS = "Eyeriss v1 AlexNet DRAM compression (Sparseloop artifact)"
EYERISS_REFERENCE = ("timeloop_ref/sparseloop_micro22_artifact_derived/"
                     "eyeriss_v1_alexnet_table7_dram_compression_derived.txt")
# The reference's "Workload shapes and densities" table: C, M, P=Q, R=S, stride, densities
# of inputs, weights, outputs.
ALEXNET_SHAPES = {
    "conv1": (3, 96, 56, 11, 4, 0.999, 0.710166, 0.378),
    "conv2": (48, 256, 28, 5, 1, 0.6, 0.385306, 0.169),
    "conv3": (256, 384, 13, 3, 1, 0.275, 0.346133, 0.303),
    "conv4": (192, 384, 13, 3, 1, 0.207, 0.372449, 0.304),
    "conv5": (192, 256, 13, 3, 1, 0.23, 0.368811, 0.1),
}
RLE_WORD_CAUSE = ("Our RLE packs three 16-bit values with their runs into a 64-bit word, 4/3 "
                  "words per non-zero, 1.3 % more than the formula's 1/0.76.")


def read_eyeriss_reference(path: Path) -> dict[str, dict[str, object]]:
    """Per layer: dense (W, I, O) words, the Eyeriss-formula ratio and the dense cycles."""
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 8 and cells[0].startswith("conv"):
            dense = tuple(int(v) for v in cells[1].strip("()").split(","))
            rows[cells[0]] = {"dense": dense, "ratio": float(cells[3]),
                              "dense_cycles": int(cells[4])}
    if sorted(rows) != sorted(ALEXNET_SHAPES):
        raise AccelsimError(f"expected rows {sorted(ALEXNET_SHAPES)}, found {sorted(rows)}",
                            file=path)
    return rows


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
    source = paths.label(reference_path)
    arch = load_architecture("eyeriss_v1")
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
    checks = []
    for name in ALEXNET_SHAPES:
        checks.append(Check(EYERISS, f"{name}: dense cycles (mapping fixture)", source,
                            dense[name].analysis.cycles, reference[name]["dense_cycles"],
                            "cycles", 0.0, "exact"))
    for name in ALEXNET_SHAPES:
        expected = reference[name]["ratio"]
        if name == "conv1":
            checks.append(Check(
                EYERISS, "conv1: DRAM compression ratio, inputs uncompressed as in the "
                "artifact", source, dense[name].dram_bytes / artifact_conv1.dram_bytes,
                expected, "×", 0.10, "±10 %", "", 3))
            checks.append(Check(
                EYERISS, "conv1: DRAM compression ratio, bundled eyeriss_v1", source,
                dense[name].dram_bytes / compressed[name].dram_bytes, expected, "×", 0.10,
                "±10 %", "The bundled eyeriss_v1 run-length codes every input, CONV1's "
                "99.9 %-dense image too, where RLE costs 4/3 of the dense words; the "
                "artifact leaves that image uncompressed (row above).", 3))
            continue
        checks.append(Check(EYERISS, f"{name}: DRAM compression ratio", source,
                            dense[name].dram_bytes / compressed[name].dram_bytes, expected,
                            "×", 0.10, "±10 %", RLE_WORD_CAUSE, 3))
    return checks


# ----------------------------------------------------------------------------- Sparseloop

SPARSELOOP = "Sparseloop, sparse (AlexNet CONV3, Eyeriss-like)"
SPARSELOOP_DESIGNS = (
    ("04.2.1 gating", "timeloop_ref/sparseloop_04.2.1-eyeriss-like-gating",
     "tests/data/arch/sparseloop_04.2.1_eyeriss_like_gating.yaml", ""),
    ("04.2.3 compression", "timeloop_ref/sparseloop_04.2.3-eyeriss-like-onchip-compression",
     "tests/data/arch/sparseloop_04.2.3_eyeriss_like_onchip_compression.yaml",
     "Sparseloop's RLE of the inputs counts 2.6 runs (5-bit metadata units) per non-zero "
     "value where ours stores one run per value; the values moved agree within 1 % "
     "(tests/test_validation_sparseloop.py)."),
)


def sparseloop_checks(paths: Paths) -> list[Check]:
    from accelsim.arch.spec import Tensor
    from accelsim.validate_sparseloop import Reference, compute_row, run

    checks = []
    for label, folder, arch_file, bits_cause in SPARSELOOP_DESIGNS:
        stats = paths.ref(f"{folder}/timeloop-mapper.stats.txt")
        ref = Reference(stats)
        result = run(paths.ref(folder), paths.repo / arch_file)
        source = paths.label(stats)
        checks.append(Check(SPARSELOOP, f"{label}: actual computes", source,
                            compute_row(result).actual,
                            ref.total("mac", None, "Actual Computes (total)"), "MACs", 0.10,
                            "±10 %"))
        checks.append(Check(SPARSELOOP, f"{label}: DRAM compressed input bits", source,
                            result.dram_read_bytes[Tensor.INPUTS] * 8, ref.dram_input_bits(),
                            "bits", 0.10, "±10 %", bits_cause))
        checks.append(Check(SPARSELOOP, f"{label}: total energy", source,
                            result.energy.total_pj / 1e6, ref.energy_pj / 1e6, "µJ", 0.10,
                            "±10 %", "", 2))
    return checks


GROUPS: tuple[tuple[str, Callable[[Paths], list[Check]], str], ...] = (
    (TIMELOOP, timeloop_checks,
     "Timeloop's own mapping (tests/data/mappings/<design>.yaml) of each design's problem "
     "through the whole pipeline, with the design's architecture (hw_configs/eyeriss_like.yaml "
     "or tests/data/arch/<design>.yaml) and Timeloop's unbounded DRAM bandwidth; reference: "
     "\"Summary Stats\" of the design's timeloop-mapper.stats.txt."),
    (EYERISS, eyeriss_checks,
     "AlexNet CONV1-5 (batch 4, the reference's shapes and densities as exact-density uniform "
     "masks, seed 0) on the bundled eyeriss_v1 and on the same architecture without "
     "compression, with the mappings tests/data/mappings/sparseloop_table7_conv*.yaml. Our "
     "ratio is the DRAM bytes without compression over those with it; the reference's is the "
     "\"Eyeriss formula\" dense words / (W + I/0.76 + O/0.76)."),
    (SPARSELOOP, sparseloop_checks,
     "The design's problem.yaml (exact-density masks, outputs too, seed 0), its architecture "
     "transcribed into tests/data/arch/sparseloop_*.yaml and its own timeloop-mapper.map.txt. "
     "Compressed bits are 16 per value plus 5 per format unit (\"Actual scalar format "
     "reads\", all ranks)."),
)


def run_checks(paths: Paths) -> list[Check]:
    checks: list[Check] = []
    for _, make, _ in GROUPS:
        checks.extend(make(paths))
    return checks


# ----------------------------------------------------------------------------- report


def _number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def format_report(checks: list[Check]) -> str:
    passed = sum(check.passed for check in checks)
    lines = [
        "# Validation report",
        "",
        "Generated by `accelsim validate -o docs/validation-report.md` (from the repository "
        "root, with the reference folder `../shared` beside it); do not edit by hand. "
        "tests/test_validate.py fails when this file is stale. The discussion of each "
        "comparison is in [validation.md](validation.md).",
        "",
        f"**{passed} of {len(checks)} checks pass.** Error = ours / reference − 1.",
    ]
    for group, _, description in GROUPS:
        rows = [check for check in checks if check.group == group]
        if not rows:
            continue
        lines += ["", f"## {group}", "", description, "",
                  "| Check | Source | Ours | Reference | Unit | Error | Target | Result |",
                  "|---|---|--:|--:|---|--:|---|---|"]
        notes: list[str] = []
        for check in rows:
            result = "pass" if check.passed else "**fail**"
            if check.cause:
                if check.cause not in notes:
                    notes.append(check.cause)
                result += f" [{notes.index(check.cause) + 1}]"
            lines.append(
                f"| {_cell(check.name)} | `{check.source}` | {_number(check.ours, check.digits)}"
                f" | {_number(check.reference, check.digits)} | {check.unit} | "
                f"{check.error * 100:+.3f} % | {check.target} | {result} |")
        if notes:
            lines += ["", "Causes of failures and systematic differences:", ""]
            lines += [f"{index}. {note}" for index, note in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"


def validate(repo: str | os.PathLike[str] = ".",
             shared: str | os.PathLike[str] | None = None) -> tuple[list[Check], str]:
    """Run every check; (the checks, the Markdown report)."""
    checks = run_checks(check_paths(repo, shared))
    return checks, format_report(checks)
