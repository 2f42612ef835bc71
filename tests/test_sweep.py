"""`accelsim sweep`: keys checked against the schema before anything runs, the grid's order,
one row per point whatever -j, failures recorded, resumption after a partial run."""

from __future__ import annotations

import csv
import io
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accelsim.arch.loader import architecture_from_yaml
from accelsim.errors import AccelsimError
from accelsim.pipeline import simulate
from accelsim.report.progress import ProgressBar
from accelsim.sweep import build_spec
from accelsim.sweep.grid import format_value, load_base
from accelsim.sweep.keys import apply_overrides, split_values
from accelsim.sweep.table import TOTALS
from accelsim.workload.synth import synthesize

LAYERS = "conv1,conv2"


@pytest.fixture(scope="module")
def lenet(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "lenet5.npz"
    synthesize("lenet5").save(path)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _without_wall(path: Path) -> list[list[str]]:
    table = list(csv.reader(io.StringIO(path.read_text())))
    assert table[0][-1] == "wall_s"
    return [row[:-1] for row in table]


def _sweep(cli, tmp_path: Path, *args: str):
    return cli("sweep", "--hw", "eyeriss_v1", *args, cwd=tmp_path)


# ----------------------------------------------------------------------------- keys


def test_split_values_keeps_brackets_together():
    assert split_values("8, 12,16") == ["8", "12", "16"]
    assert split_values("[inputs, outputs],[inputs]") == ["[inputs, outputs]", "[inputs]"]


@pytest.mark.parametrize(("setting", "message"), [
    ("levels.shared_glb.dpth=3", "--set levels.shared_glb.dpth: unknown key 'dpth' (did you "
                                 "mean 'depth'?); expected one of name, keeps,"),
    ("levels.shared_gb.depth=3", "--set levels.shared_gb.depth: no level named 'shared_gb' "
                                 "(did you mean 'shared_glb'?); levels: shared_glb, ifmap_spad, "
                                 "weights_spad, psum_spad"),
    ("dram.bandwidth=3", "--set dram.bandwidth: unknown key 'bandwidth' (accelsim's key is "
                         "'bandwidth_bytes_per_cycle')"),
    ("levels.shared_glb.depth=64,abc", "--set levels.shared_glb.depth: expected an integer > 0, "
                                       "got 'abc'"),
    ("levels.shared_glb.depth=0", "--set levels.shared_glb.depth: expected an integer > 0, got 0"),
    ("levels.shared_glb.fanout.x=8.5", "--set levels.shared_glb.fanout.x: expected an integer "
                                       "> 0, got 8.5"),
    ("dataflow=row_stationery", "--set dataflow: expected one of"),
    ("levels.shared_glb.fanout=8", "--set levels.shared_glb.fanout: 'levels.shared_glb.fanout' "
                                   "is a section, not a value: name a key below it (x, y, "
                                   "fill_drain_cycles)"),
    ("levels.shared_glb.depth.x=1", "--set levels.shared_glb.depth.x: 'depth' is a value, not "
                                    "a section"),
    ("levels.shared_glb.keeps=[inputs, wieghts]", "--set levels.shared_glb.keeps: expected a "
                                                  "list of weights, inputs, outputs, got "
                                                  "'wieghts' (did you mean 'weights'?)"),
    ("energy.components.macc.compute_pj=1", "--set energy.components.macc.compute_pj: unknown "
                                            "key 'macc' (did you mean 'mac'?)"),
    ("levels.shared_glb", "--set: expected KEY=V1,V2,…, got 'levels.shared_glb'"),
])
def test_bad_key_or_value_is_one_line_exit_2_nothing_written(cli, tmp_path, lenet, setting,
                                                             message):
    done = _sweep(cli, tmp_path, "--trace", str(lenet), "--set", setting, "-o", "out.csv")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"accelsim: {message}"), lines[0]
    assert not (tmp_path / "out.csv").exists()


def test_set_from_errors_name_file_and_line(cli, tmp_path, lenet):
    (tmp_path / "v.yaml").write_text("- {levels.shared_glb.depth: 64}\n"
                                     "- {levels.shared_glb.depth: -1}\n")
    done = _sweep(cli, tmp_path, "--trace", str(lenet), "--set-from", "v.yaml", "-o", "o.csv")
    assert done.returncode == 2
    assert done.stderr == ("accelsim: v.yaml:2: levels.shared_glb.depth: expected an integer "
                           "> 0, got -1\n")
    (tmp_path / "w.yaml").write_text("- {levels.shared_glb.depth: 64}\n"
                                     "- {dram.latency_cycles: 3}\n")
    done = _sweep(cli, tmp_path, "--trace", str(lenet), "--set-from", "w.yaml", "-o", "o.csv")
    assert done.returncode == 2
    assert "w.yaml:2: [1]: expected the same keys as the first entry" in done.stderr
    assert not (tmp_path / "o.csv").exists()


def test_overrides_apply_to_a_copy_and_create_missing_sections():
    _, _, base = load_base("eyeriss_v1")
    changed = apply_overrides(base, (("levels.ifmap_spad.fanout.x", 2),
                                     ("dram.bandwidth_bytes_per_cycle", 4.0)))
    assert "fanout" not in base["levels"][1]
    assert changed["levels"][1]["fanout"] == {"x": 2}
    assert changed["dram"]["bandwidth_bytes_per_cycle"] == 4.0
    assert base["dram"]["bandwidth_bytes_per_cycle"] == 8


# ----------------------------------------------------------------------------- grid


def test_grid_order_traces_then_zipped_rows_then_sets_last_fastest(tmp_path, lenet):
    (tmp_path / "v.yaml").write_text("- {dram.latency_cycles: 10, levels.psum_spad.depth: 16}\n"
                                     "- {dram.latency_cycles: 40, levels.psum_spad.depth: 32}\n")
    spec = build_spec("eyeriss_v1", [str(lenet), "resnet18"],
                      ["levels.shared_glb.fanout.x=8,14", "dram.bandwidth_bytes_per_cycle=4,.inf"],
                      str(tmp_path / "v.yaml"))
    assert spec.keys == ("dram.latency_cycles", "levels.psum_spad.depth",
                         "levels.shared_glb.fanout.x", "dram.bandwidth_bytes_per_cycle")
    assert len(spec.points) == 2 * 2 * 2 * 2
    first = spec.points[:3]
    assert [p.trace for p in first] == [str(lenet)] * 3
    assert [tuple(format_value(v) for _, v in p.overrides) for p in first] == [
        ("10", "16", "8", "4.0"), ("10", "16", "8", ".inf"), ("10", "16", "14", "4.0")]
    assert spec.points[8].trace == "resnet18"
    assert [p.index for p in spec.points] == list(range(16))
    assert math.isinf(spec.points[1].overrides[-1][1])


def test_a_key_varied_twice_or_a_repeated_point_is_an_error(lenet):
    with pytest.raises(AccelsimError, match="varied twice"):
        build_spec("eyeriss_v1", [str(lenet)], ["dram.latency_cycles=1",
                                                "dram.latency_cycles=2"])
    with pytest.raises(AccelsimError, match="appears twice"):
        build_spec("eyeriss_v1", [str(lenet)], ["dram.latency_cycles=1,1"])


# ----------------------------------------------------------------------------- running


def test_rows_match_a_direct_run_and_do_not_depend_on_jobs(cli, tmp_path, lenet):
    args = ("--trace", str(lenet), "--layers", LAYERS, "--set",
            "levels.shared_glb.fanout.x=8,14", "--set", "dram.bandwidth_bytes_per_cycle=4,16")
    one = _sweep(cli, tmp_path, *args, "-j", "1", "-o", "one.csv")
    two = _sweep(cli, tmp_path, *args, "-j", "2", "-o", "two.csv")
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    assert _without_wall(tmp_path / "one.csv") == _without_wall(tmp_path / "two.csv")
    assert one.stderr == "wrote one.csv: 4 points (0 already there, 4 run, 0 failed)\n"
    rows = _rows(tmp_path / "one.csv")
    assert list(rows[0])[:4] == ["hw", "trace", "levels.shared_glb.fanout.x",
                                 "dram.bandwidth_bytes_per_cycle"]
    assert list(rows[0])[-3:] == ["dram_bytes", "error", "wall_s"]
    assert [(r["levels.shared_glb.fanout.x"], r["dram.bandwidth_bytes_per_cycle"])
            for r in rows] == [("8", "4.0"), ("8", "16.0"), ("14", "4.0"), ("14", "16.0")]
    # The third row is an ordinary run of the overridden config.
    _, file, base = load_base("eyeriss_v1")
    arch = architecture_from_yaml(apply_overrides(base, (
        ("levels.shared_glb.fanout.x", 14), ("dram.bandwidth_bytes_per_cycle", 4.0))), file)
    result = simulate(arch, lenet, layers=LAYERS.split(","))
    row = rows[2]
    assert int(row["total_cycles"]) == result.total_cycles
    assert int(row["stall_cycles"]) == result.stall_cycles
    assert int(row["effectual_macs"]) == result.effectual_macs
    assert int(row["dram_bytes"]) == result.dram_bytes
    assert float(row["energy_pj"]) == result.energy_pj
    assert float(row["utilization"]) == result.utilization
    parts = [float(v) for k, v in row.items() if k.startswith("energy_pj.")]
    assert [k for k in row if k.startswith("energy_pj.")] == [
        "energy_pj.DRAM", "energy_pj.shared_glb", "energy_pj.ifmap_spad",
        "energy_pj.weights_spad", "energy_pj.psum_spad", "energy_pj.mac"]
    assert math.fsum(parts) == pytest.approx(result.energy_pj, rel=1e-12)
    assert all(r["error"] == "" and float(r["wall_s"]) > 0 for r in rows)
    # more bandwidth never adds cycles
    assert int(rows[1]["total_cycles"]) <= int(rows[0]["total_cycles"])


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(cli, tmp_path, lenet):
    done = _sweep(cli, tmp_path, "--trace", str(lenet), "--layers", "conv1", "--set",
                  "levels.shared_glb.width_bits=24,64", "-j", "2", "-o", "out.csv")
    assert done.returncode == 0, done.stderr
    assert "2 points (0 already there, 2 run, 1 failed)" in done.stderr
    bad, good = _rows(tmp_path / "out.csv")
    assert bad["error"] == ("eyeriss_v1.yaml: levels[0].width_bits: expected a multiple of "
                            "word_bits (16), got 24")
    assert all(bad[column] == "" for column in TOTALS)
    assert good["error"] == "" and int(good["total_cycles"]) > 0
    before = (tmp_path / "out.csv").read_text()
    again = _sweep(cli, tmp_path, "--trace", str(lenet), "--layers", "conv1", "--set",
                   "levels.shared_glb.width_bits=24,64", "-o", "out.csv")
    assert "2 points (2 already there, 0 run, 0 failed)" in again.stderr
    assert (tmp_path / "out.csv").read_text() == before
    retry = _sweep(cli, tmp_path, "--trace", str(lenet), "--layers", "conv1", "--set",
                   "levels.shared_glb.width_bits=24,64", "--retry-failed", "-o", "out.csv")
    assert "2 points (1 already there, 1 run, 1 failed)" in retry.stderr


def test_resume_skips_points_already_written(cli, tmp_path, lenet):
    args = ("--trace", str(lenet), "--layers", "conv1", "--set",
            "dram.bandwidth_bytes_per_cycle=2,4,8")
    full = _sweep(cli, tmp_path, *args, "-j", "2", "-o", "full.csv")
    assert full.returncode == 0, full.stderr
    # A sweep killed after two points: the file holds those two rows.
    lines = (tmp_path / "full.csv").read_text().splitlines(keepends=True)
    (tmp_path / "part.csv").write_text("".join([lines[0], lines[3], lines[1]]))
    again = _sweep(cli, tmp_path, *args, "-j", "2", "-o", "part.csv")
    assert again.returncode == 0, again.stderr
    assert "3 points (2 already there, 1 run, 0 failed)" in again.stderr
    assert _without_wall(tmp_path / "part.csv") == _without_wall(tmp_path / "full.csv")
    # the two kept rows are the earlier ones, wall time included
    kept = (tmp_path / "part.csv").read_text().splitlines(keepends=True)
    assert kept[1] == lines[1] and kept[3] == lines[3]
    # a wider grid runs only the new points
    wider = _sweep(cli, tmp_path, "--trace", str(lenet), "--layers", "conv1", "--set",
                   "dram.bandwidth_bytes_per_cycle=2,4,8,16", "-o", "part.csv")
    assert "4 points (3 already there, 1 run, 0 failed)" in wider.stderr


def test_resume_refuses_another_sweeps_file(cli, tmp_path, lenet):
    first = _sweep(cli, tmp_path, "--trace", str(lenet), "--layers", "conv1", "--set",
                   "dram.latency_cycles=0,5", "-o", "out.csv")
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "out.csv").read_bytes()
    other = _sweep(cli, tmp_path, "--trace", str(lenet), "--layers", "conv1", "--set",
                   "dram.burst_bytes=32", "-o", "out.csv")
    assert other.returncode == 2
    assert other.stderr.startswith("accelsim: out.csv: holds a different sweep")
    narrower = _sweep(cli, tmp_path, "--trace", str(lenet), "--layers", "conv1", "--set",
                      "dram.latency_cycles=0", "-o", "out.csv")
    assert narrower.returncode == 2
    assert "holds a point that is not in this sweep" in narrower.stderr
    assert (tmp_path / "out.csv").read_bytes() == before


def test_dask_without_scheduler_or_scheduler_without_dask(cli, tmp_path, lenet):
    args = ("--trace", str(lenet), "--set", "dram.latency_cycles=0", "-o", "out.csv")
    done = _sweep(cli, tmp_path, *args, "--executor", "dask")
    assert (done.returncode, done.stderr) == (
        2, "accelsim: --scheduler: --executor dask needs --scheduler ADDRESS\n")
    done = _sweep(cli, tmp_path, *args, "--scheduler", "tcp://127.0.0.1:1")
    assert (done.returncode, done.stderr) == (
        2, "accelsim: --scheduler: --scheduler applies only with --executor dask\n")
    assert not (tmp_path / "out.csv").exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_an_eta_on_a_terminal_only():
    terminal = _Terminal()
    bar = ProgressBar(terminal)
    bar(1, 4)
    assert "1/4 ETA " in terminal.getvalue() and "[#######" in terminal.getvalue()
    quiet = io.StringIO()
    ProgressBar(quiet)(1, 4)
    assert quiet.getvalue() == ""


def test_a_terminated_sweep_keeps_finished_points_and_resumes(cli, tmp_path, lenet):
    args = ["sweep", "--hw", "eyeriss_v1", "--trace", str(lenet), "--set",
            "dram.latency_cycles=0,1,2,3,4,5,6,7,8,9", "-j", "2"]
    full = cli(*args, "-j", "1", "-o", "full.csv", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    process = subprocess.Popen([sys.executable, "-m", "accelsim.cli", *args, "-o", "cut.csv"],
                               cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "cut.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    still_running = process.poll() is None
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    if still_running:
        assert (process.returncode, err) == (143, "accelsim: terminated\n")
    rows = _without_wall(tmp_path / "cut.csv")
    assert rows == [r for r in _without_wall(tmp_path / "full.csv") if r in rows]
    assert [name for name in os.listdir(tmp_path) if name.endswith(".tmp")] == []
    again = cli(*args, "-o", "cut.csv", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"10 points ({len(rows) - 1} already there" in again.stderr
    assert _without_wall(tmp_path / "cut.csv") == _without_wall(tmp_path / "full.csv")
