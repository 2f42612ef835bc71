"""`accelsim validate`: the generated report docs/validation-report.md is current (regenerated
in a temp dir and diffed), its checks are consistent, and missing folders are one-line
errors."""

from __future__ import annotations

import difflib

from accelsim.validate import Check, format_report
from tests.conftest import REPO, SHARED, shared_file
from tests.test_cli import assert_one_line_error

REPORT = REPO / "docs" / "validation-report.md"


def test_committed_report_is_current(tmp_path, cli):
    shared_file("timeloop_ref")
    out = tmp_path / "report.md"
    result = cli("validate", "-o", str(out), "--repo", str(REPO), "--shared", str(SHARED),
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "checks pass" in result.stderr.splitlines()[-1]
    fresh, committed = out.read_text(encoding="utf-8"), REPORT.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True),
                                        str(REPORT), "regenerated"))
    assert fresh == committed, ("docs/validation-report.md is stale; regenerate it with "
                                "`accelsim validate -o docs/validation-report.md`:\n" + diff)
    # Every failure and every row with a cause has a numbered note.
    for line in fresh.splitlines():
        if "**fail**" in line:
            assert line.rstrip(" |").endswith("]"), line


def test_report_marks_failures_and_numbers_shared_causes():
    checks = [Check("G", "a", "x.txt", 110, 100, "u", 0.05, "±5 %", "why"),
              Check("G", "b", "x.txt", 100, 100, "u", 0.0, "exact"),
              Check("G", "c", "x.txt", 101, 100, "u", 0.05, "±5 %", "why")]
    from accelsim import validate

    original = validate.GROUPS
    validate.GROUPS = (("G", lambda paths: checks, "desc"),)
    try:
        text = format_report(checks)
    finally:
        validate.GROUPS = original
    assert "**2 of 3 checks pass.**" in text
    assert "| a | `x.txt` | 110 | 100 | u | +10.000 % | ±5 % | **fail** [1] |" in text
    assert "| c | `x.txt` | 101 | 100 | u | +1.000 % | ±5 % | pass [1] |" in text
    assert text.count("1. why") == 1


def test_missing_folders_are_one_line_errors(tmp_path, cli):
    assert_one_line_error(cli("validate", "--repo", str(tmp_path)), "--repo")
    assert_one_line_error(cli("validate", "--repo", str(REPO), "--shared",
                              str(tmp_path / "nowhere")), "--shared", "nowhere")
