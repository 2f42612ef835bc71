"""`accelsim run` / `accelsim.simulate`: the Timeloop default conv end to end, reports,
determinism, path fallback and errors."""

from __future__ import annotations

import csv
import json

import pytest

from accelsim.arch.loader import load_architecture
from accelsim.mapping.yaml_io import load_mapping
from accelsim.pipeline import simulate
from accelsim.workload.importers import import_workload
from tests.conftest import REPO, shared_file

MAPPINGS = REPO / "tests" / "data" / "mappings"


@pytest.fixture(scope="module")
def default_conv():
    return import_workload(shared_file("timeloop_ref/eyeriss_like/problem_default_conv.yaml"))


def test_timeloop_default_conv_cycles_and_energy(default_conv):
    """../shared/timeloop_ref/eyeriss_like/timeloop-mapper.stats.txt: 86,016 cycles and
    59.28 µJ with Timeloop's own mapping; eyeriss_like has unbounded DRAM bandwidth, as in
    Timeloop, so the engine must add nothing to the nest analysis' cycles."""
    arch = load_architecture("eyeriss_like")
    layer = default_conv.layers[0].layer
    mapping = load_mapping(MAPPINGS / "eyeriss_like.yaml", layer, arch)
    result = simulate(arch, default_conv, mappings={layer.name: mapping})
    (only,) = result.layers
    assert only.timing.total_cycles == 86_016
    assert only.timing.stall_cycles == 0
    assert only.analysis.computes == 10_838_016
    assert only.energy.total_pj == pytest.approx(59.28e6, rel=0.02)
    # DRAM traffic equals Timeloop's DRAM reads/updates (8-bit words = bytes).
    assert sum(only.dram_read_bytes.values()) == 13_824 + 157_296
    assert sum(only.dram_write_bytes.values()) == 401_408


def test_run_cli_writes_reports_deterministically(tmp_path, cli, default_conv):
    trace = tmp_path / "conv.npz"
    default_conv.save(trace)
    mapping = MAPPINGS / "eyeriss_like.yaml"
    outputs = []
    for name in ("a", "b"):
        result = cli("run", "--hw", "eyeriss_like", "--trace", str(trace), "--mapping",
                     str(mapping), "-o", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        outputs.append(tmp_path / name)
    for file in ("layers.csv", "summary.json"):
        assert (outputs[0] / file).read_bytes() == (outputs[1] / file).read_bytes()
    rows = list(csv.DictReader((outputs[0] / "layers.csv").open()))
    assert int(rows[0]["total_cycles"]) == 86_016
    summary = json.loads((outputs[0] / "summary.json").read_text())
    assert summary["hardware"]["name"] == "eyeriss_like"
    assert summary["trace"]["manifest"]["source"]["kind"] == "imported"
    assert summary["layers"][0]["mapping"][1]["spatial_x"] == ["Q14"]
    assert summary["energy_table"] is not None
    # The per-component energies add up to the layer's total.
    layer = rows[0]
    parts = sum(float(v) for k, v in layer.items() if k.startswith("energy_pj."))
    assert parts == pytest.approx(float(layer["energy_pj"]), rel=1e-12)


def test_missing_paths_fall_back_to_bundled_files(cli, tmp_path):
    result = cli("run", "--hw", "configs/eyeriss_like.yaml", "--trace", "resnet18.npz",
                 "--layers", "layer4.1.conv2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = result.stderr.splitlines()
    assert any("configs/eyeriss_like.yaml does not exist; using the bundled eyeriss_like.yaml"
               in line for line in notes)
    assert any("resnet18.npz does not exist; using the bundled resnet18.npz" in line
               for line in notes)
    assert "layer4.1.conv2" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--hw", "eyeriss_lik", "--trace", "resnet18"), ("eyeriss_lik", "did you mean")),
        (("--hw", "eyeriss_like", "--trace", "resnet81"), ("resnet81", "no such file")),
        (("--hw", "eyeriss_like", "--trace", "resnet18", "--layers", "layer9.conv1"),
         ("no layer named 'layer9.conv1'",)),
    ],
)
def test_run_errors_are_one_line(cli, tmp_path, args, fragments):
    from tests.test_cli import assert_one_line_error

    assert_one_line_error(cli("run", *args, "-o", str(tmp_path / "out")), *fragments)
    assert not (tmp_path / "out" / "layers.csv").exists()


@pytest.mark.parametrize(
    ("arch_file", "design", "problem", "cycles", "energy_uj"),
    [
        # Each row: ../shared/timeloop_ref/<design>/timeloop-mapper.stats.txt "Summary Stats".
        ("hw_configs/eyeriss_like.yaml", "eyeriss_like", "eyeriss_like/problem_default_conv.yaml",
         86_016, 59.28),
        ("tests/data/arch/simple_weight_stationary.yaml", "simple_weight_stationary",
         "eyeriss_like/problem_default_conv.yaml", 903_168, 151.67),
        ("tests/data/arch/simple_output_stationary.yaml", "simple_output_stationary",
         "eyeriss_like/problem_default_conv.yaml", 677_376, 118.46),
        ("tests/data/arch/ispass2020_06_eyeriss.yaml", "ispass2020_06_eyeriss_vgg02_layer5",
         "ispass2020_06_eyeriss_vgg02_layer5/problem_VGG02_layer5.yaml", 5_505_024, 2764.38),
    ],
)
def test_timeloop_designs_end_to_end(arch_file, design, problem, cycles, energy_uj):
    """Timeloop's own mapping through the whole pipeline (analysis, schedule, engine with
    Timeloop's unbounded DRAM bandwidth, energy with the design's ERT): cycles exact and
    energy within 2 % (the issue's target; we land within 0.01 %)."""
    shared_file(f"timeloop_ref/{design}/timeloop-mapper.stats.txt")
    arch = load_architecture(REPO / arch_file)
    trace = import_workload(shared_file(f"timeloop_ref/{problem}"))
    layer = trace.layers[0].layer
    mapping = load_mapping(MAPPINGS / f"{design}.yaml", layer, arch)
    (result,) = simulate(arch, trace, mappings={layer.name: mapping}).layers
    assert result.timing.total_cycles == cycles
    assert result.energy.total_pj / 1e6 == pytest.approx(energy_uj, rel=0.02)
    assert result.energy.total_pj / 1e6 == pytest.approx(energy_uj, rel=1e-4)


def test_python_api_takes_bundled_names_and_matches_the_cli(tmp_path, cli):
    import accelsim

    first = accelsim.simulate("eyeriss_v1", "resnet18", layers=["fc", "layer4.1.conv2"])
    again = accelsim.simulate("eyeriss_v1", "resnet18", layers=["fc", "layer4.1.conv2"])
    assert [layer.name for layer in first.layers] == ["layer4.1.conv2", "fc"]
    first.to_csv(tmp_path / "api.csv")
    again.to_csv(tmp_path / "again.csv")
    assert (tmp_path / "api.csv").read_bytes() == (tmp_path / "again.csv").read_bytes()
    result = cli("run", "--hw", "eyeriss_v1", "--trace", "resnet18", "--layers",
                 "fc,layer4.1.conv2", "-o", str(tmp_path / "cli"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cli" / "layers.csv").read_bytes() == (tmp_path / "api.csv").read_bytes()
    # The effectual MACs reported are the trace's exact count.
    from accelsim.workload.effectual import effectual_macs
    from accelsim.workload.trace import load_trace

    trace = load_trace(REPO / "traces" / "resnet18.npz")
    assert first.layers[1].effectual_macs == effectual_macs(trace.layer("fc"))
