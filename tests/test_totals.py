"""Every reported total is the sum of its parts, and counts are integers, on the bundled
configs × bundled traces (``MATRIX``: what CI runs): run totals = Σ layers; a layer's
energy = Σ components = Σ tensors = Σ actions = Σ count × the table's pJ per count; DRAM
bytes = Σ per tensor and direction; the MAC actions split the algorithmic MACs into actual
+ gated + skipped; the CSV and JSON reports say the same. Integers exactly, energies to 1e-9
relative. Also: a non-finite energy is refused with one line naming the layer."""

from __future__ import annotations

import csv
import io
import math
from functools import cache

import pytest

from accelsim.arch.bundled import find_config
from accelsim.arch.loader import load_architecture
from accelsim.bundled import find_trace
from accelsim.energy import EnergyBreakdown
from accelsim.errors import AccelsimError
from accelsim.pipeline import RunResult, result_summary, simulate
from accelsim.report.run_report import layers_csv_text, summary_document
from tests.conftest import REPO

CONFIGS = sorted(path.stem for path in (REPO / "hw_configs").glob("*.yaml"))
TRACES = sorted(path.stem for path in (REPO / "traces").glob("*.npz"))
REL = 1e-9


@cache
def _arch(name: str):
    return load_architecture(find_config(name).path)


def _close(total: float, parts: list[float]) -> bool:
    return math.isclose(total, math.fsum(parts), rel_tol=REL, abs_tol=1e-9)


def _check_energy(energy: EnergyBreakdown, arch, where: str) -> None:
    assert math.isfinite(energy.total_pj), where
    for split in (energy.by_component, energy.by_tensor, energy.by_action):
        assert _close(energy.total_pj, list(split.values())), where
    assert _close(energy.total_pj, [term.energy_pj for term in energy.terms]), where
    for term in energy.terms:
        assert type(term.count) is int and term.count >= 0, (where, term)
        pj_each = arch.energy.component(term.component).pj_per_count(term.action, term.tensor)
        assert term.pj_each == pj_each and term.energy_pj == term.count * pj_each, (where, term)


def _check(result: RunResult) -> None:
    arch = result.arch
    for layer in result.layers:
        where = layer.name
        timing = layer.timing
        for value in (layer.dense_macs, layer.effectual_macs, timing.total_cycles,
                      timing.compute_cycles, timing.tiles, *layer.dram_read_bytes.values(),
                      *layer.dram_write_bytes.values()):
            assert type(value) is int and value >= 0, where
        assert timing.compute_cycles <= timing.total_cycles, where
        assert layer.effectual_macs <= layer.dense_macs, where
        assert layer.dram_bytes == sum(layer.dram_read_bytes.values()) + \
            sum(layer.dram_write_bytes.values())
        for count in layer.sparse_counts:
            assert count.algorithmic == count.actual + count.gated + count.skipped, (where, count)
        (compute,) = [c for c in layer.sparse_counts if c.access == "compute"]
        assert compute.algorithmic == layer.analysis.computes, where
        _check_energy(layer.energy, arch, where)
    # run totals = Σ layers
    summary = result_summary(result)
    for key in ("total_cycles", "compute_cycles", "stall_cycles", "dense_macs",
                "effectual_macs", "dram_bytes"):
        assert type(summary[key]) is int
    assert summary["total_cycles"] == sum(la.timing.total_cycles for la in result.layers)
    assert summary["total_cycles"] == summary["compute_cycles"] + summary["stall_cycles"]
    assert summary["dense_macs"] == sum(la.dense_macs for la in result.layers)
    assert summary["effectual_macs"] == sum(la.effectual_macs for la in result.layers)
    assert summary["dram_bytes"] == sum(la.dram_bytes for la in result.layers)
    assert _close(summary["energy_pj"], [la.energy.total_pj for la in result.layers])
    # what the reports say: each CSV row adds up, and the JSON totals are the rows' sums
    rows = list(csv.DictReader(io.StringIO(layers_csv_text(result))))
    assert len(rows) == len(result.layers)
    for row in rows:
        parts = [float(v) for k, v in row.items() if k.startswith("energy_pj.")]
        assert _close(float(row["energy_pj"]), parts), row["layer"]
        traffic = [int(v) for k, v in row.items() if k.startswith(("dram_read_bytes.",
                                                                    "dram_write_bytes."))]
        assert int(row["dram_bytes"]) == sum(traffic), row["layer"]
        assert int(row["total_cycles"]) == int(row["compute_cycles"]) + int(row["stall_cycles"])
        assert int(row["computes_actual"]) + int(row["computes_gated"]) + \
            int(row["computes_skipped"]) == int(row["computes"])
    totals = summary_document(result)["totals"]
    for key in ("total_cycles", "dense_macs", "effectual_macs", "dram_bytes"):
        assert totals[key] == sum(int(row[key]) for row in rows), key
    assert _close(totals["energy_pj"], [float(row["energy_pj"]) for row in rows])


# Every bundled config × every bundled trace (about 80 s of the suite on 2 cores).
MATRIX = [(config, trace) for config in CONFIGS for trace in TRACES]


def test_every_bundled_file_is_covered():
    assert len(CONFIGS) >= 7 and len(TRACES) >= 7
    assert {c for c, _ in MATRIX} == set(CONFIGS) and {t for _, t in MATRIX} == set(TRACES)


@pytest.mark.parametrize(("config", "trace"), MATRIX)
def test_totals_are_sums_of_parts(config, trace):
    _check(simulate(_arch(config), find_trace(trace).path))


def test_a_non_finite_energy_is_refused_naming_the_layer(monkeypatch):
    import accelsim.pipeline as pipeline

    real = pipeline.energy

    def overflowing(counts, table):
        breakdown = real(counts, table)
        return EnergyBreakdown(math.inf, breakdown.by_component, breakdown.by_tensor,
                               breakdown.by_action, breakdown.terms)

    monkeypatch.setattr(pipeline, "energy", overflowing)
    with pytest.raises(AccelsimError) as caught:
        simulate("eyeriss_v1", "resnet18", layers=["conv1"])
    assert str(caught.value).startswith("layer 'conv1': energy is not finite (inf pJ)")
