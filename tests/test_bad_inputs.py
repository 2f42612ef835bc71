"""The bad-input catalogue (tests/bad_inputs/cases.yaml): on every case the CLI exits with
status 2, prints exactly one line on stderr naming the file (and its line, key or layer),
no traceback, and creates or changes no output file.

Every case runs in-process (``accelsim.cli.main``), where any exception other than the
CLI's own one-line handling fails the test; the cases marked ``subprocess`` also run as a
separate process, as a user runs them.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from accelsim.cli import main

HERE = Path(__file__).resolve().parent / "bad_inputs"
CATALOGUE = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))
CASES = {case["name"]: {**case, "category": category}
         for category, cases in CATALOGUE.items() for case in cases}
SENTINEL = b"an earlier output that a failed command must leave alone\n"


def _argv(case: dict[str, Any], out: Path) -> list[str]:
    fields = {"dir": str(HERE), "support": str(HERE / "support"), "out": str(out),
              "file": str(HERE / case["file"]) if "file" in case else ""}
    return [token.format(**fields) for token in shlex.split(case["argv"])]


def _snapshot(folder: Path) -> dict[str, str]:
    """Path → SHA-256 of every file under ``folder``."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _prepare(case: dict[str, Any], tmp_path: Path) -> tuple[Path, Path]:
    work = tmp_path / "work"
    work.mkdir()
    out = work / f"{case['name']}.out"
    if case.get("precreate"):
        out.write_bytes(SENTINEL)
    return work, out


def _check(case: dict[str, Any], status: int, stdout: str, stderr: str) -> None:
    assert status == 2, f"exit status {status}; stderr: {stderr!r}"
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr!r}"
    for fragment in case["expect"]:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert stdout == "", f"nothing should reach stdout, got {stdout!r}"


def _check_nothing_written(work: Path, before: dict[str, str], inputs: dict[str, str]) -> None:
    assert _snapshot(work) == before, "an output file was created or changed"
    assert _snapshot(HERE) == inputs, "a file in tests/bad_inputs/ was created or changed"


@pytest.fixture(scope="module")
def inputs() -> dict[str, str]:
    return _snapshot(HERE)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_in_process(name: str, tmp_path: Path, capsys, inputs) -> None:
    case = CASES[name]
    work, out = _prepare(case, tmp_path)
    before = _snapshot(work)
    try:
        status = main(_argv(case, out))
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    captured = capsys.readouterr()
    _check(case, status, captured.out, captured.err)
    _check_nothing_written(work, before, inputs)


SUBPROCESS_CASES = sorted(name for name, case in CASES.items() if case.get("subprocess"))


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_as_a_user_runs_it(name: str, tmp_path: Path, inputs) -> None:
    case = CASES[name]
    work, out = _prepare(case, tmp_path)
    before = _snapshot(work)
    result = subprocess.run([sys.executable, "-m", "accelsim.cli", *_argv(case, out)],
                            cwd=work, capture_output=True, text=True, timeout=120)
    _check(case, result.returncode, result.stdout, result.stderr)
    _check_nothing_written(work, before, inputs)


def test_catalogue_covers_every_kind_of_input() -> None:
    counts = {category: len(cases) for category, cases in CATALOGUE.items()}
    assert set(counts) == {"traces", "hardware", "mappings", "scalesim", "timeloop", "cli"}
    assert all(count >= 5 for count in counts.values()), counts
    assert sum(counts.values()) >= 30
    assert len(CASES) == sum(counts.values()), "duplicate case names"
    assert len(SUBPROCESS_CASES) >= 5


def test_every_file_is_used_and_exists() -> None:
    named = {case["file"] for case in CASES.values() if "file" in case}
    for name in named:
        assert (HERE / name).is_file(), name
    on_disk = {path.name for path in HERE.iterdir() if path.is_file()}
    unused = on_disk - named - {"cases.yaml", "make_cases.py"}
    assert not unused, f"files no case uses: {sorted(unused)}"


def test_generated_files_are_up_to_date() -> None:
    """make_cases.py writes the same bytes as the committed files (run it after an edit)."""
    result = subprocess.run([sys.executable, str(HERE / "make_cases.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_check_fails_on_a_traceback_or_a_second_line() -> None:
    """The assertions above can fail: a traceback, two lines or a missing name are caught."""
    case = {"expect": ["x.yaml:3"]}
    with pytest.raises(AssertionError, match="Traceback"):
        _check(case, 2, "", "Traceback (most recent call last):\n  File ...\n")
    with pytest.raises(AssertionError, match="one line"):
        _check(case, 2, "", "accelsim: x.yaml:3: bad\nmore\n")
    with pytest.raises(AssertionError, match="not in"):
        _check(case, 2, "", "accelsim: y.yaml:3: bad\n")
    with pytest.raises(AssertionError, match="exit status 1"):
        _check(case, 1, "", "accelsim: x.yaml:3: bad\n")
