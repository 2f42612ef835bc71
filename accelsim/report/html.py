"""``accelsim report RUN_DIR -o report.html``: one self-contained HTML page of a run.

Reads what ``accelsim run -o RUN_DIR`` wrote (``layers.csv`` and ``summary.json``) and writes
one file that needs no network: the summary (hardware, trace, totals), the per-layer table
(sortable by clicking a header; a few lines of inline vanilla JavaScript), the energy
breakdown of :func:`accelsim.report.plot_energy.energy_figure` embedded as a base64 PNG, and
the hardware configuration, energy table and trace manifest as pretty JSON in collapsible
``<details>``. The same RUN_DIR gives the same bytes (no dates, no versions of other
software); the file is written atomically, and nothing is written when RUN_DIR is unusable.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import os
import tempfile
from html import escape
from pathlib import Path
from typing import Any

from accelsim.atomic import write_text_atomic
from accelsim.errors import AccelsimError
from accelsim.report.plot_energy import energy_figure, run_title
from accelsim.report.plots import read_csv, save_figure

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1400px;padding:0 1.5rem 3rem;color:#1a1a1a;background:#fff}
h1{font-size:1.5rem;margin:1.2rem 0 .4rem}h2{font-size:1.15rem;margin:1.8rem 0 .6rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
.cards{display:flex;flex-wrap:wrap;gap:1rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.5rem .9rem;min-width:16rem}
.card h3{font-size:1rem;margin:.2rem 0 .4rem}
table.kv td{padding:.1rem .8rem .1rem 0;vertical-align:top}
table.kv td:first-child{color:#555}
.scroll{overflow-x:auto;border:1px solid #ddd;border-radius:6px}
table.layers{border-collapse:collapse;font-size:12.5px;white-space:nowrap}
table.layers th,table.layers td{padding:.25rem .55rem;border-bottom:1px solid #eee}
table.layers th{position:sticky;top:0;background:#f3f3f3;cursor:pointer;user-select:none;
text-align:left}
table.layers th[aria-sort=ascending]::after{content:" \\25B2"}
table.layers th[aria-sort=descending]::after{content:" \\25BC"}
table.layers td.num{text-align:right;font-variant-numeric:tabular-nums}
table.layers tbody tr:hover{background:#fafae6}
img.plot{max-width:100%;height:auto;border:1px solid #eee}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
pre{background:#f7f7f7;border:1px solid #e5e5e5;border-radius:6px;padding:.6rem;
overflow:auto;max-height:40rem;font-size:12px}
.note{color:#555;font-size:12.5px}
"""

# Click a header: sort by that column (numbers by their data-v value, text otherwise);
# click again to reverse. Marks <html data-sorter="ready"> once wired up.
_JS = """
(function(){
  var table=document.getElementById("layers");
  var heads=table.tHead.rows[0].cells;
  function key(row,i){var c=row.cells[i];var v=c.getAttribute("data-v");
    return v===null?c.textContent:parseFloat(v);}
  Array.prototype.forEach.call(heads,function(th,i){
    th.addEventListener("click",function(){
      var asc=th.getAttribute("aria-sort")!=="ascending";
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute("aria-sort");});
      th.setAttribute("aria-sort",asc?"ascending":"descending");
      var body=table.tBodies[0];
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){var x=key(a,i),y=key(b,i);
        var d=(typeof x==="number"&&typeof y==="number")?x-y:String(x).localeCompare(String(y));
        return asc?d:-d;});
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  document.documentElement.setAttribute("data-sorter","ready");
})();
"""


def _load_summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    if not path.is_file():
        raise AccelsimError("no such file (write it with 'accelsim run -o RUN_DIR')", file=path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise AccelsimError(f"not a readable JSON file: {err}", file=path) from None
    if not isinstance(document, dict):
        raise AccelsimError("expected a JSON object", file=path)
    for key in ("hardware", "trace", "totals"):
        if not isinstance(document.get(key), dict):
            raise AccelsimError("expected an object, as 'accelsim run -o' writes", file=path,
                                key=key)
    if not isinstance(document["hardware"].get("name"), str):
        raise AccelsimError("expected the hardware's name", file=path, key="hardware.name")
    return document


def _is_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value)


def _format_number(text: str) -> str:
    """Integers with thousands separators; other numbers to 4 significant digits, or to
    the unit with separators from 1000 up."""
    try:
        return f"{int(text):,}"
    except ValueError:
        value = float(text)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _format_value(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _format_number(repr(value))
    return str(value)


def _kv_table(pairs: list[tuple[str, object]]) -> str:
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(_format_value(v))}</td></tr>"
                   for k, v in pairs)
    return f'<table class="kv">{rows}</table>'


def _card(title: str, pairs: list[tuple[str, object]]) -> str:
    return f'<div class="card"><h3>{escape(title)}</h3>{_kv_table(pairs)}</div>'


def _hardware_pairs(summary: dict[str, Any]) -> list[tuple[str, object]]:
    hardware = summary["hardware"]
    pairs: list[tuple[str, object]] = [(k, hardware[k]) for k in ("name", "dataflow",
                                                                  "clock_mhz") if k in hardware]
    for level in hardware.get("levels") or ():
        if isinstance(level, dict) and isinstance(level.get("fanout"), dict):
            fanout = level["fanout"]
            axes = sorted(fanout)
            if (not all(isinstance(fanout[a], int) for a in axes)
                    or math.prod(fanout[a] for a in axes) <= 1):
                continue
            shape = " \u00d7 ".join(f"{fanout[a]} ({a})" for a in axes)
            pairs.append((f"fanout below {level.get('name', '?')}", shape))
    table = summary.get("energy_table")
    if isinstance(table, dict) and "name" in table:
        pairs.append(("energy table", table["name"]))
    return pairs


def _trace_pairs(summary: dict[str, Any]) -> list[tuple[str, object]]:
    trace = summary["trace"]
    pairs: list[tuple[str, object]] = []
    if trace.get("path"):
        pairs.append(("file", Path(str(trace["path"])).name))
    manifest = trace.get("manifest")
    if isinstance(manifest, dict):
        pairs += [(k, manifest[k]) for k in ("model", "dataset") if k in manifest]
        source = manifest.get("source")
        if isinstance(source, dict) and "kind" in source:
            pairs.append(("source", source["kind"]))
    return pairs


def _totals_pairs(summary: dict[str, Any]) -> list[tuple[str, object]]:
    return [(k, v) for k, v in summary["totals"].items()
            if isinstance(v, (int, float, str, bool))]


def _layer_table(rows: list[dict[str, str]]) -> str:
    columns = list(rows[0])
    numeric = {c: all(_is_number(row[c] or "") for row in rows) for c in columns}
    head = "".join(f'<th scope="col" title="sort by {escape(c)}">{escape(c)}</th>'
                   for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            text = row[column] or ""
            if numeric[column]:
                cells.append(f'<td class="num" data-v="{escape(repr(float(text)))}">'
                             f"{escape(_format_number(text))}</td>")
            else:
                cells.append(f"<td>{escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table class="layers" id="layers"><thead><tr>{head}</tr>'
            f"</thead><tbody>\n{chr(10).join(body)}\n</tbody></table></div>")


def _energy_png(folder: Path) -> bytes:
    """The figure of ``accelsim plot energy``, rendered by its own deterministic saver."""
    figure = energy_figure(folder)
    with tempfile.TemporaryDirectory(prefix="accelsim-report-") as scratch:
        path = Path(scratch) / "energy.png"
        save_figure(figure, path)
        return path.read_bytes()


def _json_details(title: str, value: object) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return f"<details><summary>{escape(title)}</summary><pre>{escape(text)}</pre></details>"


def build_report(run_dir: str | os.PathLike[str]) -> str:
    """The report of ``RUN_DIR`` as HTML text; a missing or malformed RUN_DIR is an error."""
    folder = Path(run_dir)
    if not folder.is_dir():
        raise AccelsimError("no such run directory (write one with 'accelsim run -o DIR')",
                            file=folder)
    layers_csv = folder / "layers.csv"
    if not layers_csv.is_file():
        raise AccelsimError("no such file (write it with 'accelsim run -o RUN_DIR')",
                            file=layers_csv)
    try:
        rows = read_csv(layers_csv)
    except (UnicodeDecodeError, csv.Error) as err:
        raise AccelsimError(f"not a readable CSV file: {err}", file=layers_csv) from None
    if "layer" not in rows[0]:
        raise AccelsimError("expected a 'layer' column, as 'accelsim run -o' writes",
                            file=layers_csv)
    if any(None in row or None in row.values() for row in rows):
        raise AccelsimError("rows with a different number of fields from the header",
                            file=layers_csv)
    summary = _load_summary(folder)
    png = base64.b64encode(_energy_png(folder)).decode("ascii")
    title = f"accelsim report: {run_title(folder)}"

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">From {escape(folder.name)}/layers.csv and '
        f"{escape(folder.name)}/summary.json (accelsim "
        f"{escape(str(summary.get('accelsim_version', '?')))}).</p>",
        '<h2 id="summary">Summary</h2><div class="cards">',
        _card("Hardware", _hardware_pairs(summary)),
        _card("Trace", _trace_pairs(summary)),
        _card("Totals", _totals_pairs(summary)),
        "</div>",
        f'<h2 id="layers-table">Layers ({len(rows)})</h2>',
        '<p class="note">Click a column header to sort; click again to reverse.</p>',
        _layer_table(rows),
        '<h2 id="energy">Energy breakdown</h2>',
        f'<img class="plot" alt="energy per layer by component" '
        f'src="data:image/png;base64,{png}">',
        '<h2 id="config">Configuration and trace manifest</h2>',
        _json_details("Hardware configuration", summary["hardware"]),
    ]
    if "energy_table" in summary:
        parts.append(_json_details("Energy table", summary["energy_table"]))
    parts += [
        _json_details("Trace and manifest", summary["trace"]),
        f"<script>{_JS}</script>",
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


def write_report(run_dir: str | os.PathLike[str], output: str | os.PathLike[str]) -> None:
    """Build the report first, then replace ``output`` atomically (nothing on an error)."""
    write_text_atomic(output, build_report(run_dir))
