"""`accelsim sweep --executor dask`: the same CSV as a local run (wall time aside), on a
two-worker LocalCluster started here. Skipped only when `distributed` is missing and
ACCELSIM_REQUIRE_CLUSTER is unset (CI sets it, so there a missing package fails)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accelsim.workload.synth import synthesize

try:
    import distributed
except ImportError:  # pragma: no cover - depends on the environment
    distributed = None

needs_cluster = pytest.mark.skipif(
    distributed is None and not os.environ.get("ACCELSIM_REQUIRE_CLUSTER"),
    reason="distributed not installed (pip install 'accelsim[cluster]'); set "
           "ACCELSIM_REQUIRE_CLUSTER=1 to make this a failure")


def _without_wall(path: Path) -> list[list[str]]:
    table = list(csv.reader(io.StringIO(path.read_text())))
    assert table[0][-1] == "wall_s"
    return [row[:-1] for row in table]


@needs_cluster
def test_dask_results_equal_local_results(cli, tmp_path):
    from distributed import LocalCluster

    synthesize("lenet5").save(tmp_path / "lenet5.npz")
    args = ("sweep", "--hw", "eyeriss_v1", "--trace", str(tmp_path / "lenet5.npz"),
            "--layers", "conv1,conv2", "--set", "levels.shared_glb.fanout.x=8,14",
            "--set", "levels.shared_glb.width_bits=24,64,128")
    local = cli(*args, "-j", "1", "-o", "local.csv", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        remote = cli(*args, "--executor", "dask", "--scheduler", cluster.scheduler_address,
                     "-o", "dask.csv", cwd=tmp_path)
    assert remote.returncode == 0, remote.stderr
    assert "6 points (0 already there, 6 run, 2 failed)" in remote.stderr
    assert _without_wall(tmp_path / "dask.csv") == _without_wall(tmp_path / "local.csv")


def test_dask_executor_without_distributed_says_how_to_install(tmp_path):
    synthesize("lenet5").save(tmp_path / "lenet5.npz")
    code = ("import sys; sys.modules['distributed'] = None; from accelsim.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    done = subprocess.run(
        [sys.executable, "-c", code, "sweep", "--hw", "eyeriss_v1", "--trace", "lenet5.npz",
         "--set", "dram.latency_cycles=0", "--executor", "dask", "--scheduler",
         "tcp://127.0.0.1:8786", "-o", "out.csv"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == ("accelsim: --executor: the dask executor needs the 'distributed' "
                           "package: pip install 'accelsim[cluster]'\n")
    assert not (tmp_path / "out.csv").exists()
