"""Determinism: the same inputs and seed give the same bytes of every output — synthesized and
imported traces, `layers.csv`, `summary.json`, the HTML report, PNG/SVG/PDF plots, and the
sweep CSV but for its `wall_s` column — across two separate processes that differ in hash
seed, working folder and sweep `-j`. (Local vs Dask executor: tests/test_sweep_dask.py.)"""

from __future__ import annotations

import csv
import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SCALESIM = REPO / "tests" / "data" / "scalesim_conv_sparse.csv"
COMMANDS = (
    ("trace", "synth", "--model", "lenet5", "--act-density", "0.5", "--weight-density", "0.4",
     "--seed", "7", "-o", "t.npz"),
    ("trace", "import", str(SCALESIM), "--seed", "3", "-o", "imported.npz"),
    ("run", "--hw", "eyeriss_v1", "--trace", "t.npz", "-o", "run"),
    ("sweep", "--hw", "eyeriss_v1", "--trace", "t.npz", "--layers", "conv1,conv2", "--set",
     "dram.latency_cycles=0,4", "--set", "levels.shared_glb.fanout.x=8,14", "-o", "sweep.csv"),
    ("plot", "energy", "run", "-o", "energy.png"),
    ("plot", "energy", "run", "-o", "energy.svg"),
    ("plot", "sweep", "sweep.csv", "--x", "dram.latency_cycles", "-o", "sweep.pdf"),
    ("report", "run", "-o", "report.html"),
)
FILES = ("t.npz", "imported.npz", "run/layers.csv", "run/summary.json", "energy.png",
         "energy.svg", "sweep.pdf", "report.html")


def _world(folder: Path, hash_seed: str, jobs: str) -> Path:
    folder.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    for command in COMMANDS:
        extra = ("-j", jobs) if command[0] == "sweep" else ()
        done = subprocess.run([sys.executable, "-m", "accelsim.cli", *command, *extra],
                              cwd=folder, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (command, done.stderr)
    return folder


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("determinism")
    return _world(root / "a", "1", "1"), _world(root / "b", "2", "2")


@pytest.mark.parametrize("name", FILES)
def test_same_bytes_across_processes(worlds, name):
    first, second = (world / name for world in worlds)
    assert first.stat().st_size > 0
    assert first.read_bytes() == second.read_bytes()


def test_sweep_csv_differs_only_in_wall_time_across_jobs(worlds):
    tables = [list(csv.reader(io.StringIO((w / "sweep.csv").read_text()))) for w in worlds]
    assert tables[0][0][-1] == "wall_s" and len(tables[0]) == 5
    assert [row[:-1] for row in tables[0]] == [row[:-1] for row in tables[1]]


def test_png_carries_no_timestamp_or_software_version(worlds):
    data = (worlds[0] / "energy.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunks.append((kind, data[offset + 8:offset + 8 + length]))
        offset += 12 + length
    kinds = {kind for kind, _ in chunks}
    assert b"tIME" not in kinds
    texts = [body for kind, body in chunks if kind in (b"tEXt", b"iTXt", b"zTXt")]
    assert not any(body.startswith(b"Software") for body in texts), texts
    assert b"matplotlib" not in data.lower()
