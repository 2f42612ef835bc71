"""Model variants side by side on one accelerator (``accelsim compare``).

Each trace (e.g. a model's dense, TL1 and TL1+pruned variants) is simulated on the same
hardware; per layer and for the network, the comparison lists effectual MACs, cycles, energy
and DRAM bytes, and four factors relative to the first trace (the baseline), each
``baseline / variant`` so that larger is better and 1 means "no change":

- ``mac_reduction``: the effectual-MAC reduction (what the sparsity promises),
- ``speedup``, ``energy_saving``, ``dram_saving``: what the hardware delivers.

A variant with zero of something where the baseline has some gets ``inf``; zero in both
gets 1. CSV and JSON are written atomically and deterministically.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim.atomic import write_text_atomic
from accelsim.errors import AccelsimError
from accelsim.pipeline import RunResult, simulate
from accelsim.report.run_report import _cell, _plain
from accelsim.report.table import render_table

TOTAL = "total"
"""The ``layer`` of the network-total rows (the last rows of the CSV)."""

CSV_COLUMNS = ("hardware", "layer", "variant", "trace", "dense_macs", "effectual_macs",
               "total_cycles", "energy_pj", "dram_bytes", "mac_reduction", "speedup",
               "energy_saving", "dram_saving")


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One variant at one layer (or at ``TOTAL``); factors are baseline / this variant."""

    layer: str
    variant: str
    dense_macs: int
    effectual_macs: int
    total_cycles: int
    energy_pj: float
    dram_bytes: int
    mac_reduction: float
    speedup: float
    energy_saving: float
    dram_saving: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """The variants (labels, in command-line order; the first is the baseline), their trace
    paths, the compared layers and the rows: for each layer, then ``TOTAL``, each variant."""

    hardware: str
    variants: tuple[str, ...]
    traces: tuple[str, ...]
    layers: tuple[str, ...]
    rows: tuple[CompareRow, ...]

    def row(self, layer: str, variant: str) -> CompareRow:
        for row in self.rows:
            if row.layer == layer and row.variant == variant:
                return row
        raise KeyError((layer, variant))

    def csv_text(self) -> str:
        paths = dict(zip(self.variants, self.traces, strict=True))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.rows:
            values = {"hardware": self.hardware, "trace": paths[row.variant],
                      **{name: getattr(row, name) for name in CompareRow.__slots__}}
            writer.writerow(_cell(values[name]) for name in CSV_COLUMNS)
        return buffer.getvalue()

    def json_document(self) -> dict[str, Any]:
        def plain_row(row: CompareRow) -> dict[str, Any]:
            return {name: getattr(row, name) for name in CompareRow.__slots__
                    if name != "layer"}

        return _plain({
            "hardware": self.hardware,
            "baseline": self.variants[0],
            "variants": [{"name": v, "trace": t}
                         for v, t in zip(self.variants, self.traces, strict=True)],
            "layers": [{"layer": layer,
                        "variants": [plain_row(self.row(layer, v)) for v in self.variants]}
                       for layer in self.layers],
            "total": [plain_row(self.row(TOTAL, v)) for v in self.variants],
        })

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        write_text_atomic(path, self.csv_text())

    def to_json(self, path: str | os.PathLike[str]) -> None:
        text = json.dumps(self.json_document(), indent=1, allow_nan=False, ensure_ascii=False)
        write_text_atomic(path, text + "\n")

    def format_table(self) -> str:
        return format_comparison(self)


def ratio(baseline: float, value: float) -> float:
    """``baseline / value``: inf when only the value is zero, 1 when both are."""
    if value == 0:
        return 1.0 if baseline == 0 else math.inf
    return baseline / value


def _labels(paths: Sequence[str]) -> tuple[str, ...]:
    """File stems, made unique with ``#2``, ``#3`` … where two traces share a stem."""
    labels: list[str] = []
    for path in paths:
        stem = Path(path).stem
        label, n = stem, 1
        while label in labels:
            n += 1
            label = f"{stem}#{n}"
        labels.append(label)
    return tuple(labels)


def check_same_layers(results_or_traces: Sequence[Any], paths: Sequence[str]) -> None:
    """All traces must have the same layer names in the same order; the first mismatch is
    the error."""
    names = [[lt.layer.name for lt in t.layers] for t in results_or_traces]
    first = names[0]
    for other, path in zip(names[1:], paths[1:], strict=True):
        for index in range(max(len(first), len(other))):
            mine = first[index] if index < len(first) else None
            theirs = other[index] if index < len(other) else None
            if mine != theirs:
                got = "no layer" if theirs is None else f"layer {theirs!r}"
                want = "none" if mine is None else repr(mine)
                raise AccelsimError(
                    f"the traces do not have the same layers: layer {index + 1} is {got} "
                    f"here but {want} in {paths[0]}", file=path)


def _rows(layer: str, results: Sequence[Any], variants: Sequence[str]) -> list[CompareRow]:
    """``results`` are per-variant objects with the five measured attributes."""
    base = results[0]
    base_cycles = _cycles(base)
    return [CompareRow(
        layer=layer, variant=variant, dense_macs=r.dense_macs, effectual_macs=r.effectual_macs,
        total_cycles=_cycles(r), energy_pj=_energy(r), dram_bytes=r.dram_bytes,
        mac_reduction=ratio(base.effectual_macs, r.effectual_macs),
        speedup=ratio(base_cycles, _cycles(r)), energy_saving=ratio(_energy(base), _energy(r)),
        dram_saving=ratio(base.dram_bytes, r.dram_bytes))
        for variant, r in zip(variants, results, strict=True)]


def _cycles(result: Any) -> int:
    return result.total_cycles if isinstance(result, RunResult) else result.timing.total_cycles


def _energy(result: Any) -> float:
    return result.energy_pj if isinstance(result, RunResult) else result.energy.total_pj


def compare_results(results: Sequence[RunResult]) -> Comparison:
    """A comparison of runs already made (same hardware, same layers)."""
    paths = tuple(str(r.trace.path) if r.trace.path else r.trace.info.model for r in results)
    variants = _labels(paths)
    check_same_layers([r.trace for r in results], paths)
    layers = tuple(layer.name for layer in results[0].layers)
    rows: list[CompareRow] = []
    for index, layer in enumerate(layers):
        rows.extend(_rows(layer, [r.layers[index] for r in results], variants))
    rows.extend(_rows(TOTAL, results, variants))
    return Comparison(hardware=results[0].arch.name, variants=variants, traces=paths,
                      layers=layers, rows=tuple(rows))


def compare(hw: Any, traces: Sequence[Any], layers: Sequence[str] | None = None,
            progress: Any = None) -> Comparison:
    """Simulate each trace (a path, a bundled name or a Trace) on ``hw`` and compare them
    with the first; ``layers`` restricts every run to those layers."""
    from accelsim.pipeline import _resolve_arch, _resolve_trace

    if len(traces) < 2:
        raise AccelsimError(f"compare needs at least two traces, got {len(traces)}")
    arch = _resolve_arch(hw)
    loaded = [_resolve_trace(t) for t in traces]
    paths = [str(t.path) if t.path else t.info.model for t in loaded]
    check_same_layers(loaded, paths)
    results = []
    for number, trace in enumerate(loaded, start=1):
        results.append(simulate(arch, trace, layers=layers))
        if progress is not None:
            progress(number, len(loaded), paths[number - 1])
    return compare_results(results)


def _factor(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:,.2f}×"


def format_comparison(comparison: Comparison) -> str:
    headers = ("layer", "variant", "eff MACs", "cycles", "energy µJ", "DRAM kB",
               "MAC red.", "speed-up", "energy sav.", "DRAM sav.")

    def line(row: CompareRow, first: bool) -> list[str]:
        return [row.layer if first else "", row.variant, f"{row.effectual_macs:,}",
                f"{row.total_cycles:,}", f"{row.energy_pj / 1e6:,.2f}",
                f"{row.dram_bytes / 1e3:,.1f}", _factor(row.mac_reduction),
                _factor(row.speedup), _factor(row.energy_saving), _factor(row.dram_saving)]

    body = [line(comparison.row(layer, v), i == 0)
            for layer in comparison.layers for i, v in enumerate(comparison.variants)]
    footer = [line(comparison.row(TOTAL, v), i == 0)
              for i, v in enumerate(comparison.variants)]
    head = (f"{comparison.hardware}: {len(comparison.variants)} variants, factors relative "
            f"to {comparison.variants[0]} (baseline / variant; > 1 is better)")
    return "\n".join([head, "", render_table(headers, body, footer)])
