"""`accelsim validate`: the generated report docs/validation.md is current (regenerated in a
temp dir and diffed), its checks are consistent, the closed-form checks pass, and missing
folders are one-line errors."""

from __future__ import annotations

import difflib

from accelsim import cli as accelsim_cli
from accelsim import validate
from accelsim.validate import Check, Section, format_report, summary
from tests.conftest import REPO, SHARED, shared_file
from tests.test_cli import assert_one_line_error

REPORT = REPO / "docs" / "validation.md"


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
    assert fresh == committed, ("docs/validation.md is stale; regenerate it with "
                                "`accelsim validate` from the repository root:\n" + diff)
    # Every failure and every row reported without a target has a numbered cause.
    for line in fresh.splitlines():
        if "**fail**" in line or "| reported" in line:
            assert line.rstrip(" |").endswith("]"), line
    for section in validate.SECTIONS:
        assert f"\n## {section.title}\n" in fresh
    assert "\n## Not yet validated\n" in fresh


def _report(checks: list[Check], **section) -> str:
    return format_report(checks, (Section("G", lambda paths: checks, "desc", **section),))


def test_report_marks_failures_and_numbers_shared_causes():
    checks = [Check("G", "a", "x.txt", 110, 100, "u", 0.05, "±5 %", "why"),
              Check("G", "b", "x.txt", 100, 100, "u", 0.0, "exact"),
              Check("G", "c", "x.txt", 101, 100, "u", 0.05, "±5 %", "why"),
              Check("G", "d", "x.txt", 150, 100, "u", 0.0, "not compared", "because",
                    compared=False)]
    text = _report(checks)
    assert "**2 of 3 checks pass (1 more row reported, not compared).**" in text
    assert "Reference: `x.txt`." in text  # one source: named once, not in every row
    assert "| a | 110 | 100 | u | +10.000 % | ±5 % | **fail** [1] |" in text
    assert "| c | 101 | 100 | u | +1.000 % | ±5 % | pass [1] |" in text
    assert "| d | 150 | 100 | u | +50.000 % | not compared | reported [2] |" in text
    assert text.count("1. why") == 1 and "2. because" in text
    not_validated = text.split("## Not yet validated", 1)[1]
    assert "G, a: +10.0 %" in not_validated and "G, d: reported" in not_validated
    assert "G, b" not in not_validated


def test_summary_and_error_of_a_zero_reference():
    assert Check("G", "z", "s", 0, 0, "u", 0.0, "exact").passed
    assert not Check("G", "z", "s", 1, 0, "u", 0.5, "±50 %").passed
    assert summary([Check("G", "z", "s", 0, 0, "u", 0.0, "exact")]) == "1 of 1 checks pass"


def test_an_empty_section_says_why():
    text = _report([], empty="SCALE-Sim: not run (benchmarks/results/scalesim absent).")
    assert "\nSCALE-Sim: not run (benchmarks/results/scalesim absent).\n" in text
    assert "- SCALE-Sim: not run" in text.split("## Not yet validated", 1)[1]


def test_scalesim_section_is_empty_without_recorded_reports(tmp_path):
    assert validate.scalesim_section(validate.Paths(tmp_path, SHARED)) == []
    assert "benchmarks/scalesim_compare.py --run-scalesim" in validate.SCALESIM_ABSENT


def test_closed_form_checks_pass():
    """Every closed-form check passes exactly and states its formula."""
    from accelsim.validate_closed_form import closed_form_checks

    checks = closed_form_checks(validate.check_paths(REPO, SHARED))
    assert len(checks) >= 10
    for check in checks:
        assert check.group == validate.CLOSED_FORM
        assert check.target == "exact" and check.tolerance == 0.0, check.name
        assert check.passed, (check.name, check.ours, check.reference)
        assert check.source and not check.source.endswith(".txt"), check.name


def test_closed_form_toy_timing_follows_its_formula_off_the_default_point():
    """The DRAM-bound formula is not an accident of the report's parameters (it holds while
    a row's compute hides behind the previous row's write-back, so the channel never idles)."""
    from accelsim.pipeline import simulate
    from accelsim.validate_closed_form import toy_architecture, toy_mapping
    from accelsim.workload.layer import Layer
    from accelsim.workload.trace import LayerTrace, Trace, TraceInfo

    layer = Layer("conv", N=2, C=2, H=10, W=10, M=16, R=3, S=3)
    trace = Trace(TraceInfo(model="t", source={"kind": "synthetic", "generator": "test"}),
                  (LayerTrace.dense(layer),))
    compulsory = 2 * (layer.M * layer.C * 9 + layer.N * layer.C * 100 + layer.N * layer.M * 64)
    for bandwidth, latency in ((0.5, 0), (0.125, 33)):
        (result,) = simulate(toy_architecture(bandwidth, latency), trace,
                             mappings={"conv": toy_mapping(layer, True)}).layers
        assert result.dram_bytes == compulsory
        assert result.timing.total_cycles == compulsory / bandwidth + latency


def test_default_output_is_docs_validation_md(tmp_path, monkeypatch, capsys):
    """Without -o the report goes to DIR/docs/validation.md; `-o -` prints it."""
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(validate, "validate", lambda repo, shared: ([], "# report\n"))
    assert accelsim_cli.main(["validate", "--repo", str(tmp_path)]) == 0
    assert (tmp_path / "docs" / "validation.md").read_text(encoding="utf-8") == "# report\n"
    assert accelsim_cli.main(["validate", "--repo", str(tmp_path), "-o", "-"]) == 0
    assert capsys.readouterr().out == "# report\n"


def test_missing_folders_are_one_line_errors(tmp_path, cli):
    assert_one_line_error(cli("validate", "--repo", str(tmp_path)), "--repo")
    assert_one_line_error(cli("validate", "--repo", str(REPO), "--shared",
                              str(tmp_path / "nowhere")), "--shared", "nowhere")
