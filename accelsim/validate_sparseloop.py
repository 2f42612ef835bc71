"""Sparseloop's ``timeloop-mapper.stats.txt``: parsing, and the key rows of the 04.2.1
(gating) and 04.2.3 (on-chip compression and skipping) Eyeriss-like reproductions that
``accelsim validate`` reports (tests/test_validation_sparseloop.py checks every row).

Sparseloop prints per-instance counts; a total is the count × the level's "Utilized instances
(max)". Compressed DRAM traffic is compared in bits: its values (16 bits each) plus its
"Actual scalar format reads/updates" (metadata and payload units, 5 bits each —
metadata_datawidth in the design's architecture).
"""

from __future__ import annotations

import re
from pathlib import Path

from accelsim.arch.spec import Tensor

_TENSORS = {"Weights": Tensor.WEIGHTS, "Inputs": Tensor.INPUTS, "Outputs": Tensor.OUTPUTS}
VALUE_BITS = 16
METADATA_BITS = 5

Stats = dict[tuple[str, Tensor | None], dict[str, float]]


def parse_stats(path: Path) -> Stats:
    """``(level, tensor)`` → {label: value} from the STATS blocks of a Sparseloop
    stats.txt (tensor ``None`` for the MAC level). A multi-line format entry ("Actual scalar
    format reads (per-instance)" followed by "Rank r (metadata, payload): (m, p)" lines) is
    recorded as the sum of its metadata and payload units over all ranks, and each rank's
    as "<label> Rank r metadata" / "<label> Rank r payload"."""
    stats: Stats = {}
    level: str | None = None
    tensor: Tensor | None = None
    in_stats = False
    pending: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^=== (\w+) ===", line)
        if header:
            level, tensor, in_stats, pending = header.group(1), None, False, None
            continue
        if line.strip() == "STATS":
            in_stats = True
            continue
        if line.startswith(("Networks", "Summary Stats", "Operational Intensity")):
            level, in_stats = None, False
        if not in_stats or level is None:
            continue
        space = re.match(r"^    (Weights|Inputs|Outputs):\s*$", line)
        if space:
            tensor, pending = _TENSORS[space.group(1)], None
            continue
        rank = re.match(r"^\s+Rank (\d+) \(metadata, payload\): \((\d+),\s*(\d+)\)\s*$",
                        line)
        if rank and pending is not None:
            entry = stats.setdefault((level, tensor), {})
            metadata, payload = int(rank.group(2)), int(rank.group(3))
            entry[pending] = entry.get(pending, 0.0) + metadata + payload
            entry[f"{pending} Rank {rank.group(1)} metadata"] = metadata
            entry[f"{pending} Rank {rank.group(1)} payload"] = payload
            continue
        entry = re.match(r"^\s+(\S.*?)\s*:\s*(-?[\d.]+)(?: pJ)?\s*$", line)
        if entry:
            stats.setdefault((level, tensor), {})[entry.group(1)] = float(entry.group(2))
            pending = None
            continue
        multi = re.match(r"^\s+(\S.*\(per-instance\))\s*$", line)
        pending = multi.group(1) if multi else None
    return stats


def parse_summary(path: Path) -> tuple[float, dict[str, float], int]:
    """Summary Stats: ("Energy: … uJ" in pJ, {level: pJ from "fJ/Algorithmic-Compute"},
    "Algorithmic Computes")."""
    text = path.read_text(encoding="utf-8").split("Summary Stats", 1)[1]
    total_pj = float(re.search(r"^Energy: ([\d.]+) uJ", text, re.M).group(1)) * 1e6
    computes = int(re.search(r"^Algorithmic Computes = (\d+)", text, re.M).group(1))
    block = text.split("fJ/Algorithmic-Compute", 1)[1].split("\n\n", 1)[0]
    per_level = {name: float(value) * computes / 1000.0
                 for name, value in re.findall(r"^\s+(\w+)\s+= ([\d.]+)", block, re.M)
                 if name != "Total"}
    return total_pj, per_level, computes


class Reference:
    """One Sparseloop run's stats.txt: totals over utilized instances."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stats = parse_stats(path)
        self.energy_pj, self.level_pj, self.algorithmic_computes = parse_summary(path)

    def total(self, level: str, tensor: Tensor | None, label: str) -> float:
        """``label`` (per-instance) × "Utilized instances (max)", or a "(total)" as is."""
        entry = self.stats[(level, tensor)]
        if label.endswith("(total)"):
            return entry[label]
        return entry[label] * entry["Utilized instances (max)"]

    def dram_input_bits(self) -> float:
        """Compressed DRAM input reads in bits: values plus format units."""
        return self.dram_bits(Tensor.INPUTS, "reads")

    def dram_bits(self, tensor: Tensor, access: str) -> float:
        """Compressed DRAM ``access`` ("reads" or "updates") of ``tensor`` in bits: its
        values plus its format units (metadata and payload, all ranks)."""
        return (self.total("DRAM", tensor, f"Actual scalar {access} (per-instance)")
                * VALUE_BITS
                + self.format_units(tensor, access) * METADATA_BITS)

    def format_units(self, tensor: Tensor, access: str) -> float:
        """"Actual scalar format reads/updates" of ``tensor`` at DRAM, all ranks."""
        return self.total("DRAM", tensor, f"Actual scalar format {access} (per-instance)")


def run(folder: Path, arch_file: Path, seed: int = 0):
    """The design's problem (exact-density masks, outputs too), its architecture fixture
    and its own mapping (``timeloop-mapper.map.txt``) through ``simulate``."""
    from accelsim.arch.loader import load_architecture
    from accelsim.mapping.timeloop_map import load_timeloop_map
    from accelsim.pipeline import simulate
    from accelsim.workload.importers.timeloop import import_timeloop_problem

    arch = load_architecture(arch_file)
    trace = import_timeloop_problem(folder / "problem.yaml", seed=seed, output_masks=True)
    layer = trace.layers[0].layer
    mapping = load_timeloop_map(folder / "timeloop-mapper.map.txt", arch, layer.name)
    (result,) = simulate(arch, trace, mappings={layer.name: mapping}).layers
    return result


def compute_row(result, component: str = "mac"):
    return count_row(result, component, None, "compute")


def count_row(result, component: str, tensor: Tensor | None, access: str):
    """The ``sparse_counts`` row of one (component, tensor, access)."""
    (found,) = [r for r in result.sparse_counts
                if (r.component, r.tensor, r.access) == (component, tensor, access)]
    return found


def rle_entries(nbytes: int, run_bits: int = METADATA_BITS, value_bits: int = VALUE_BITS
                ) -> float:
    """(run, value) entries in ``nbytes`` of unpacked RLE: the values moved."""
    return nbytes * 8 / (run_bits + value_bits)


def summary_cycles(path: Path) -> int:
    """"Cycles" of the stats.txt's Summary Stats."""
    text = path.read_text(encoding="utf-8").split("Summary Stats", 1)[1]
    return int(re.search(r"^Cycles: (\d+)", text, re.M).group(1))
