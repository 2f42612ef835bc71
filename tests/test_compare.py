"""``accelsim compare``: variants side by side, factors relative to the first trace."""

from __future__ import annotations

import csv
import dataclasses
import json
import math

import pytest

from accelsim.compare import CSV_COLUMNS, TOTAL, compare, ratio
from accelsim.errors import AccelsimError
from accelsim.pipeline import simulate
from accelsim.workload.synth import synthesize

HW = "eyeriss_v2_like"


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")
    paths = []
    for name, density in (("dense", None), ("half", 0.5), ("sparse", 0.2)):
        trace = synthesize("lenet5", act_density=density, weight_density=density, seed=1)
        path = folder / f"lenet5_{name}.npz"
        trace.save(path)
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def comparison(variants):
    return compare(HW, variants)


def test_rows_match_separate_runs(variants, comparison):
    assert comparison.variants == ("lenet5_dense", "lenet5_half", "lenet5_sparse")
    assert comparison.layers == ("conv1", "conv2", "fc1", "fc2", "fc3")
    assert len(comparison.rows) == (5 + 1) * 3
    runs = [simulate(HW, path) for path in variants]
    base = runs[0]
    for variant, run in zip(comparison.variants, runs, strict=True):
        for index, layer in enumerate(run.layers):
            row = comparison.row(layer.name, variant)
            assert row.effectual_macs == layer.effectual_macs
            assert row.total_cycles == layer.timing.total_cycles
            assert row.energy_pj == layer.energy.total_pj
            assert row.dram_bytes == layer.dram_bytes
            b = base.layers[index]
            assert row.speedup == b.timing.total_cycles / layer.timing.total_cycles
            assert row.energy_saving == b.energy.total_pj / layer.energy.total_pj
            assert row.dram_saving == b.dram_bytes / layer.dram_bytes
            assert row.mac_reduction == b.effectual_macs / layer.effectual_macs
        total = comparison.row(TOTAL, variant)
        assert total.total_cycles == run.total_cycles
        assert total.energy_pj == pytest.approx(run.energy_pj)
        assert total.speedup == base.total_cycles / run.total_cycles


def test_baseline_factors_are_one_and_sparsity_helps(comparison):
    for row in comparison.rows:
        if row.variant == "lenet5_dense":
            assert (row.mac_reduction, row.speedup, row.energy_saving, row.dram_saving) \
                == (1.0, 1.0, 1.0, 1.0)
    sparse = comparison.row(TOTAL, "lenet5_sparse")
    assert sparse.mac_reduction > comparison.row(TOTAL, "lenet5_half").mac_reduction > 1
    assert sparse.energy_saving > 1


def test_ratio_edges():
    assert ratio(4, 2) == 2.0
    assert ratio(0, 0) == 1.0
    assert math.isinf(ratio(3, 0))


def test_csv_and_json_deterministic(comparison, tmp_path, variants):
    comparison.to_csv(tmp_path / "a.csv")
    compare(HW, variants).to_csv(tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    with (tmp_path / "a.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["layer"] for r in rows[-3:]] == [TOTAL] * 3
    assert float(rows[-1]["speedup"]) == comparison.row(TOTAL, "lenet5_sparse").speedup
    comparison.to_json(tmp_path / "a.json")
    document = json.loads((tmp_path / "a.json").read_text())
    assert document["baseline"] == "lenet5_dense"
    assert [entry["layer"] for entry in document["layers"]] == list(comparison.layers)
    assert document["total"][2]["energy_saving"] == \
        comparison.row(TOTAL, "lenet5_sparse").energy_saving


def test_layers_subset(variants):
    subset = compare(HW, variants[:2], layers=["conv2", "fc3"])
    assert subset.layers == ("conv2", "fc3")
    assert len(subset.rows) == 3 * 2


def test_layer_mismatch_names_first(variants, tmp_path):
    full = synthesize("lenet5")
    path = tmp_path / "short.npz"
    dataclasses.replace(full, layers=full.layers[:4]).save(path)
    with pytest.raises(AccelsimError) as info:
        compare(HW, [variants[0], path])
    assert str(info.value) == (f"{path}: the traces do not have the same layers: layer 5 is "
                               f"no layer here but 'fc3' in {variants[0]}")


def test_cli_compare(variants, tmp_path, cli):
    out, js = tmp_path / "cmp.csv", tmp_path / "cmp.json"
    result = cli("compare", "--hw", HW, *variants, "--layers", "conv1,fc1", "-o", str(out),
                 "--json", str(js))
    assert result.returncode == 0, result.stderr
    assert "speed-up" in result.stdout and "lenet5_sparse" in result.stdout
    assert out.exists() and js.exists()
    with out.open() as handle:
        assert [r["layer"] for r in csv.DictReader(handle)][::3] == ["conv1", "fc1", TOTAL]


def test_cli_compare_errors(variants, tmp_path, cli):
    out = tmp_path / "cmp.csv"
    one = cli("compare", "--hw", HW, variants[0], "-o", str(out))
    assert one.returncode == 2
    assert one.stderr == "accelsim: compare needs at least two traces, got 1\n"
    bad = cli("compare", "--hw", HW, *variants, "--layers", "nope", "-o", str(out))
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    assert "no layer named 'nope'" in bad.stderr
    assert not out.exists()
