"""Plain-text tables for the console: right-aligned numbers, left-aligned text."""

from __future__ import annotations

from collections.abc import Sequence


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 footer: Sequence[Sequence[str]] = ()) -> str:
    """Columns sized to their widest cell; a rule under the header and above the footer."""
    all_rows = [list(headers), *map(list, rows), *map(list, footer)]
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows) if rows else False
               for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w)
                 for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(headers), rule, *(line(r) for r in rows)]
    if footer:
        out.append(rule)
        out.extend(line(r) for r in footer)
    return "\n".join(out)


def _is_number(text: str) -> bool:
    cleaned = text.replace(",", "").replace("%", "").strip()
    if cleaned in ("", "-"):
        return True
    try:
        float(cleaned)
    except ValueError:
        return False
    return True
