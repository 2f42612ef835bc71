"""A whole sweep: skip the points an earlier run already wrote, run the others, and rewrite
the CSV (atomically, rows in grid order) after every completed point — a killed sweep loses
only the points in flight, and a rerun with the same ``-o`` picks up where it stopped."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from accelsim.errors import AccelsimError
from accelsim.resources import resolve_limit
from accelsim.sweep import table
from accelsim.sweep.executors import outcomes
from accelsim.sweep.grid import Point, SweepSpec, point_values
from accelsim.sweep.keys import apply_overrides, component_names
from accelsim.sweep.worker import Task

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SweepSummary:
    points: int
    skipped: int
    ran: int
    failed: int


def _identity(spec: SweepSpec, point: Point) -> dict[str, str]:
    return dict(zip(table.key_columns(spec.keys),
                    (spec.hw_name, point.trace, *point_values(point)), strict=True))


def run_sweep(spec: SweepSpec, output: str | os.PathLike[str], *, executor: str = "local",
              jobs: int = 1, scheduler: str | None = None, retry_failed: bool = False,
              progress: Progress | None = None, max_memory: int | None = None
              ) -> SweepSummary:
    """Run the points of ``spec`` not yet in ``output``; returns what was done.

    ``max_memory`` (bytes; default the machine's share, ``accelsim.resources``) is split
    evenly between the local workers that run at once; on Dask each worker applies it (or
    its own machine's default) alone."""
    out = Path(output)
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise AccelsimError("the output directory does not exist", file=out)
    identities = {point.index: _identity(spec, point) for point in spec.points}
    order = {table.row_key(identity, spec.keys): index
             for index, identity in identities.items()}
    done: dict[int, table.Row] = {}
    for row in table.read_previous(out, spec.keys):
        index = order.get(table.row_key(row, spec.keys))
        if index is None:
            shown = ", ".join(f"{k}={v}" for k, v in zip(table.key_columns(spec.keys),
                                                         table.row_key(row, spec.keys),
                                                         strict=True))
            raise AccelsimError(f"holds a point that is not in this sweep ({shown}): use "
                                "another -o or remove it", file=out)
        if not (retry_failed and row.get("error")):
            done[index] = row
    pending = [point for point in spec.points if point.index not in done]
    limit = max_memory
    if executor != "dask" and pending:
        total = resolve_limit(max_memory)
        limit = None if total is None else max(1, total // min(jobs, len(pending)))
    todo = [Task(point.index, apply_overrides(spec.base, point.overrides), spec.hw_file,
                 point.trace_source, spec.layers, limit)
            for point in pending]
    results = outcomes(todo, executor=executor, jobs=jobs, scheduler=scheduler)
    failed = 0
    for count, outcome in enumerate(results, start=1):
        done[outcome.index] = table.outcome_row(identities[outcome.index], outcome)
        failed += bool(outcome.error)
        rows = [done[index] for index in sorted(done)]
        table.write_rows(out, table.columns(spec.keys, rows, component_names(spec.base)), rows)
        if progress is not None:
            progress(count, len(todo))
    if not todo and not out.exists():
        table.write_rows(out, table.columns(spec.keys, [], component_names(spec.base)), [])
    return SweepSummary(len(spec.points), len(spec.points) - len(todo), len(todo), failed)
