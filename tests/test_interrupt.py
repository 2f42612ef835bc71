"""Interruption: SIGINT / SIGTERM during `run` or `sweep` exit 130 / 143 with one line and
leave no partial or temporary file; a sweep killed with SIGKILL resumes to exactly the rows
of an uninterrupted run; an exception inside an atomic write leaves the old file.

The signal is sent once the process shows progress (stderr is a pseudo-terminal, so the
progress bar is drawn), with most of the work still ahead — no timing guesses."""

from __future__ import annotations

import csv
import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accelsim.atomic import atomic_output
from accelsim.workload.synth import synthesize

TIMEOUT_S = 120


@pytest.fixture(scope="module")
def lenet(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("interrupt") / "lenet5.npz"
    synthesize("lenet5").save(path)
    return path


class _Process:
    """The CLI in a subprocess with stderr on a pseudo-terminal (progress bar drawn)."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.stderr = b""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "accelsim.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
            stderr=slave, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        os.close(slave)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # the child closed its end
            return False
        self.stderr += chunk
        return bool(chunk)

    def wait_for(self, text: bytes) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while text not in self.stderr:
            assert time.monotonic() < deadline, self.stderr
            assert self._read(0.5) or text in self.stderr, self.stderr

    def finish(self) -> tuple[int, str]:
        # Until stdout's EOF: a worker process left alive (holding the pipe) fails here.
        self.process.communicate(timeout=TIMEOUT_S)
        while self._read(0.1):
            pass
        os.close(self.master)
        return self.process.returncode, self.stderr.decode()


def _one_line(stderr: str) -> str:
    """What is left on the terminal: progress redraws are cleared by the final line."""
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), repr(stderr)
    return stderr.rsplit("\r\x1b[K", 1)[-1].rstrip("\r\n")


def _temporaries(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


@pytest.mark.parametrize(("sig", "status", "line"), [
    (signal.SIGINT, 130, "accelsim: interrupted"),
    (signal.SIGTERM, 143, "accelsim: terminated"),
])
def test_run_interrupted_mid_run_keeps_the_previous_outputs(tmp_path, sig, status, line):
    out = tmp_path / "out"
    out.mkdir()
    (out / "layers.csv").write_text("previous\n")
    process = _Process(["run", "--hw", "eyeriss_v1", "--trace", "resnet50", "-o", "out"],
                       tmp_path)
    process.wait_for(b" 2/54 ")  # two layers done, 52 to go
    process.process.send_signal(sig)
    code, stderr = process.finish()
    assert code == status
    assert _one_line(stderr) == line
    assert sorted(os.listdir(out)) == ["layers.csv"]
    assert (out / "layers.csv").read_text() == "previous\n"


def _without_wall(path: Path) -> list[list[str]]:
    table = list(csv.reader(io.StringIO(path.read_text())))
    assert table[0][-1] == "wall_s"
    return [row[:-1] for row in table]


SWEEP = ["sweep", "--hw", "eyeriss_v1", "--set",
         "dram.latency_cycles=" + ",".join(str(n) for n in range(16))]


@pytest.fixture(scope="module")
def full_sweep(lenet, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("full")
    done = subprocess.run([sys.executable, "-m", "accelsim.cli", *SWEEP, "--trace", str(lenet),
                           "-j", "1", "-o", "full.csv"], cwd=folder, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return folder / "full.csv"


def _resume_matches(tmp_path: Path, lenet: Path, full: Path, cut: Path) -> None:
    kept = _without_wall(cut)
    assert 2 <= len(kept) < 17  # the header, at least one point, not all of them
    assert kept == [row for row in _without_wall(full) if row in kept]
    again = subprocess.run([sys.executable, "-m", "accelsim.cli", *SWEEP, "--trace", str(lenet),
                            "-j", "2", "-o", cut.name], cwd=tmp_path, capture_output=True,
                           text=True, timeout=TIMEOUT_S)
    assert again.returncode == 0, again.stderr
    assert f"16 points ({len(kept) - 1} already there" in again.stderr
    assert _without_wall(cut) == _without_wall(full)


def test_sweep_interrupted_with_ctrl_c_exits_130_and_resumes(tmp_path, lenet, full_sweep):
    process = _Process([*SWEEP, "--trace", str(lenet), "-j", "2", "-o", "cut.csv"], tmp_path)
    process.wait_for(b" 2/16 ")
    process.process.send_signal(signal.SIGINT)
    code, stderr = process.finish()
    assert code == 130
    assert _one_line(stderr) == "accelsim: interrupted"
    assert _temporaries(tmp_path) == []
    _resume_matches(tmp_path, lenet, full_sweep, tmp_path / "cut.csv")


def test_sweep_killed_with_sigkill_resumes_to_the_same_rows(tmp_path, lenet, full_sweep):
    process = _Process([*SWEEP, "--trace", str(lenet), "-j", "1", "-o", "cut.csv"], tmp_path)
    process.wait_for(b" 2/16 ")
    process.process.kill()
    code, _ = process.finish()
    assert code == -signal.SIGKILL  # killed, not finished; its mapper's workers died with
    # it (``finish`` saw stdout's EOF: no orphan kept the pipe open, accelsim.children)
    # No cleanup runs on SIGKILL: a temporary file may stay, but never as the CSV itself.
    _resume_matches(tmp_path, lenet, full_sweep, tmp_path / "cut.csv")


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, ValueError])
def test_an_exception_inside_an_atomic_write_keeps_the_old_file(tmp_path, error):
    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(error), atomic_output(target, "w") as handle:
        handle.write("half of the new")
        raise error
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["summary.json"]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_run_leaves_no_mapper_worker_behind(tmp_path):
    """SIGKILL runs no cleanup in the parent; its mapper's run-ahead workers must still go
    (``accelsim.children``) instead of waiting on their call queue forever."""
    process = subprocess.Popen(
        [sys.executable, "-m", "accelsim.cli", "run", "--hw", "scnn_like", "--trace",
         "resnet50", "-o", "out"], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, "ACCELSIM_MAP_JOBS": "2"})
    deadline = time.monotonic() + TIMEOUT_S
    workers: set[int] = set()
    while not workers and process.poll() is None and time.monotonic() < deadline:
        workers = _children(process.pid)
        time.sleep(0.05)
    assert workers, "the run never started its mapper's workers"
    process.kill()
    process.wait(timeout=TIMEOUT_S)
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for whoever adopted it to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
