"""``accelsim report RUN_DIR -o report.html``: one self-contained page (structure checked with
the stdlib HTML parser), deterministic bytes, one-line errors that write nothing, and a
render in headless Chromium (skipped without a ``chromium`` binary unless
``ACCELSIM_REQUIRE_CHROMIUM`` is set)."""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import run_cli

LAYERS = ("fc", "layer4.1.conv2")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """What the tests look at: tags with attributes, table rows, <pre> texts, <script>s."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.body_rows: list[list[str]] = []
        self.headers: list[str] = []
        self.pre: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._pre: list[str] | None = None
        self._th: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)
        in_layers = any(t == "table" and a.get("id") == "layers" for t, a in self.tags)
        if tag == "tr" and "tbody" in self.stack and in_layers:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "th" and "thead" in self.stack:
            self._th = []
        elif tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.body_rows.append(self._row)
            self._row = None
        elif tag == "th" and self._th is not None:
            self.headers.append("".join(self._th))
            self._th = None
        elif tag == "pre" and self._pre is not None:
            self.pre.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        for part in (self._cell, self._th, self._pre):
            if part is not None:
                part.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report") / "run"
    done = run_cli("run", "--hw", "eyeriss_v1", "--trace", "resnet18", "--layers",
                   ",".join(LAYERS), "-o", str(folder))
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def report(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "report.html"
    done = run_cli("report", str(run_dir), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == f"wrote {out}"
    return out


def test_structure(report, run_dir):
    text = report.read_text(encoding="utf-8")
    page = _parse(text)
    with (run_dir / "layers.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # the table: one row per layer, every column of layers.csv, in its order
    assert page.headers == list(rows[0])
    assert [r[0] for r in page.body_rows] == [row["layer"] for row in rows]
    assert sorted(r[0] for r in page.body_rows) == sorted(LAYERS)
    assert all(len(r) == len(page.headers) for r in page.body_rows)
    # numeric cells carry their exact value for sorting
    cells = [a for t, a in page.tags if t == "td" and "data-v" in a]
    values = {float(a["data-v"]) for a in cells}
    assert {float(row["total_cycles"]) for row in rows} <= values
    # one plot, an embedded PNG
    images = [a for t, a in page.tags if t == "img"]
    assert len(images) == 1 and not any(t == "svg" for t, _ in page.tags)
    src = images[0]["src"]
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    # self-contained: no external resources or links at all
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed"), tag
        for name, value in attrs.items():
            assert not (value or "").lower().startswith(("http:", "https:", "//")), (tag, name)
        if tag == "script":
            assert "src" not in attrs
    assert "http://" not in text and "https://" not in text
    # config and manifest: collapsible, pretty, escaped JSON equal to summary.json
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert sum(t == "details" for t, _ in page.tags) == 3
    parsed = [json.loads(p) for p in page.pre]
    assert summary["hardware"] in parsed and summary["trace"] in parsed
    assert summary["energy_table"] in parsed
    # the summary names hardware, trace and totals
    assert "eyeriss_v1" in text and "resnet18.npz" in text
    assert f"{summary['totals']['total_cycles']:,}" in text


def test_json_is_escaped(run_dir, tmp_path):
    from accelsim.report.html import build_report

    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["trace"]["manifest"]["notes"] = "</pre><script>alert(1)</script> & <b>"
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    text = build_report(folder)
    assert "<script>alert" not in text
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in text
    page = _parse(text)
    assert summary["trace"] in [json.loads(p) for p in page.pre]


def test_deterministic_and_atomic(report, run_dir, tmp_path):
    again = tmp_path / "again.html"
    assert run_cli("report", str(run_dir), "-o", str(again)).returncode == 0
    assert again.read_bytes() == report.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["again.html"]  # no temporary left


def _broken(kind: str, run_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    if kind == "missing":
        return folder
    shutil.copytree(run_dir, folder)
    if kind == "no layers.csv":
        (folder / "layers.csv").unlink()
    elif kind == "no summary.json":
        (folder / "summary.json").unlink()
    elif kind == "empty layers.csv":
        (folder / "layers.csv").write_text("", encoding="utf-8")
    elif kind == "header-only layers.csv":
        text = (folder / "layers.csv").read_text(encoding="utf-8")
        (folder / "layers.csv").write_text(text.splitlines()[0] + "\n", encoding="utf-8")
    elif kind == "ragged layers.csv":
        with (folder / "layers.csv").open("a", encoding="utf-8") as handle:
            handle.write("extra,1\n")
    elif kind == "bad number":
        text = (folder / "layers.csv").read_text(encoding="utf-8")
        lines = text.splitlines()
        header = lines[0].split(",")
        cells = next(csv.reader([lines[1]]))
        cells[header.index("energy_pj.DRAM")] = "lots"
        lines[1] = ",".join(f'"{c}"' for c in cells)
        (folder / "layers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif kind == "layers.csv not UTF-8":
        (folder / "layers.csv").write_bytes(b"layer,energy_pj.mac\n\xff\xfe,1\n")
    elif kind == "summary not JSON":
        (folder / "summary.json").write_text("{not json", encoding="utf-8")
    elif kind == "summary not an object":
        (folder / "summary.json").write_text("[1, 2]", encoding="utf-8")
    elif kind == "summary without totals":
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        del summary["totals"]
        (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


@pytest.mark.parametrize("kind", [
    "missing", "no layers.csv", "no summary.json", "empty layers.csv",
    "header-only layers.csv", "ragged layers.csv", "bad number", "layers.csv not UTF-8",
    "summary not JSON", "summary not an object", "summary without totals"])
def test_bad_run_dir(kind, run_dir, tmp_path):
    folder = _broken(kind, run_dir, tmp_path)
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    done = run_cli("report", str(folder), "-o", str(out))
    assert done.returncode == 2, (kind, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("accelsim: "), done.stderr
    assert "Traceback" not in done.stderr
    assert list(out.parent.iterdir()) == []


def test_bad_output_writes_nothing(run_dir, tmp_path):
    done = run_cli("report", str(run_dir), "-o", str(tmp_path / "no" / "such" / "r.html"))
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- Chromium


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("ACCELSIM_REQUIRE_CHROMIUM"):
        pytest.fail("ACCELSIM_REQUIRE_CHROMIUM is set but no chromium binary is on PATH "
                    "(apt-get install chromium)")
    pytest.skip("no chromium binary on PATH (set ACCELSIM_REQUIRE_CHROMIUM to fail instead)")


def _headless(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(profile)})
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_renders_in_chromium(report, tmp_path):
    binary = _chromium()
    url = report.resolve().as_uri()
    dom = _headless(binary, tmp_path / "profile", "--dump-dom", url).stdout
    page = _parse(dom)
    # the rendered DOM (after the script ran: it marks <html data-sorter="ready">)
    assert any(t == "html" and a.get("data-sorter") == "ready" for t, a in page.tags)
    assert sorted(r[0] for r in page.body_rows) == sorted(LAYERS)
    images = [a for t, a in page.tags if t == "img"]
    assert len(images) == 1 and images[0]["src"].startswith("data:image/png;base64,")
    # and it paints: a full-page screenshot is a PNG of the window's size
    shot = tmp_path / "report.png"
    _headless(binary, tmp_path / "profile", f"--screenshot={shot}",
              "--window-size=1200,2000", url)
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 2000)


@pytest.mark.parametrize(("clicks", "order"), [(1, ["fc", "layer4.1.conv2"]),
                                               (2, ["layer4.1.conv2", "fc"])])
def test_sorter_in_chromium(report, tmp_path, clicks, order):
    """Clicking the total_cycles header sorts by it numerically; clicking again reverses."""
    binary = _chromium()
    page = _parse(report.read_text(encoding="utf-8"))
    index = page.headers.index("total_cycles")
    click = (f"<script>var th=document.querySelectorAll('#layers th')[{index}];"
             + "th.click();" * clicks + "</script>")
    clicked = tmp_path / "clicked.html"
    clicked.write_text(report.read_text(encoding="utf-8").replace("</body>", click + "</body>"),
                       encoding="utf-8")
    dom = _parse(_headless(binary, tmp_path / "profile", "--dump-dom",
                           clicked.resolve().as_uri()).stdout)
    assert [r[0] for r in dom.body_rows] == order
    sorted_by = [a.get("aria-sort") for t, a in dom.tags if t == "th"]
    assert sorted_by[index] == ("ascending" if clicks == 1 else "descending")
    assert sum(s is not None for s in sorted_by) == 1
