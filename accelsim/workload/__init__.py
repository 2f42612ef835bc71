"""Workload: what to compute — layer geometry, traces (masks), the model zoo, synthetic
masks, and importers/exporters for other tools' workload files."""

from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo

__all__ = ["Layer", "LayerKind", "LayerTrace", "Trace", "TraceInfo"]
