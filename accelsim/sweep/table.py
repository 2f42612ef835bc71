"""The sweep's CSV: one row per point, in grid order.

Columns: ``hw``, ``trace``, one per varied key (as given), the network totals, energy by
component (``energy_pj.<component>``), ``error`` (empty unless the point failed) and
``wall_s`` last — the only column that differs between two runs of the same sweep.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from accelsim.atomic import write_text_atomic
from accelsim.errors import AccelsimError
from accelsim.sweep.worker import Outcome

TOTALS = ("layers", "total_cycles", "compute_cycles", "stall_cycles", "dense_macs",
          "effectual_macs", "utilization", "energy_pj")
ENERGY_PREFIX = "energy_pj."
TAIL = ("dram_bytes", "error", "wall_s")

Row = dict[str, str]
RowKey = tuple[str, ...]


def key_columns(keys: Sequence[str]) -> list[str]:
    return ["hw", "trace", *keys]


def outcome_row(identity: Mapping[str, str], outcome: Outcome) -> Row:
    """The CSV cells of one point (text, so earlier rows read back compare equal)."""
    row = dict(identity)
    if outcome.totals is not None:
        for name in (*TOTALS, "dram_bytes"):
            row[name] = _text(outcome.totals[name])
        for component, value in outcome.energy_pj_by_component:
            row[ENERGY_PREFIX + component] = _text(value)
    row["error"] = outcome.error
    row["wall_s"] = f"{outcome.wall_s:.3f}"
    return row


def _text(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def read_previous(path: str | os.PathLike[str], keys: Sequence[str]) -> list[Row]:
    """Rows of an earlier run of the same sweep at ``path`` (none if there is no file)."""
    file = Path(path)
    if not file.exists():
        return []
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise AccelsimError(f"cannot read the earlier sweep output: {err}", file=file) from None
    reader = csv.DictReader(io.StringIO(text))
    header = list(reader.fieldnames or [])
    if not header:
        return []
    expected = key_columns(keys)
    found = header[: header.index("layers")] if "layers" in header else header
    if found != expected:
        raise AccelsimError(f"holds a different sweep (columns {', '.join(found)}; this sweep "
                            f"varies {', '.join(expected)}): use another -o or remove it",
                            file=file)
    return [dict(row) for row in reader]


def row_key(row: Mapping[str, str], keys: Sequence[str]) -> RowKey:
    return tuple(row.get(column, "") for column in key_columns(keys))


def columns(keys: Sequence[str], rows: Sequence[Row], component_order: Sequence[str]
            ) -> list[str]:
    """Every column: energy components in architecture order, then any others by name."""
    seen = {name[len(ENERGY_PREFIX):] for row in rows for name in row
            if name.startswith(ENERGY_PREFIX)}
    ordered = [name for name in component_order if name in seen]
    ordered += sorted(seen - set(ordered))
    return [*key_columns(keys), *TOTALS, *(ENERGY_PREFIX + name for name in ordered), *TAIL]


def write_rows(path: str | os.PathLike[str], header: Sequence[str], rows: Sequence[Row]
               ) -> None:
    """Write the whole file atomically (a reader never sees half a file)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n",
                            restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())
