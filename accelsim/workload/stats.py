"""Per-layer and network statistics of a trace: densities and dense/effectual MACs.

This is what ``accelsim trace info`` prints; it needs no hardware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accelsim.workload.effectual import MacCounts, mac_counts
from accelsim.workload.trace import LayerTrace, Trace


@dataclass(frozen=True, slots=True)
class LayerStats:
    name: str
    geometry: str
    input_density: float
    weight_density: float
    output_density: float | None
    macs: MacCounts

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "geometry": self.geometry,
            "input_density": self.input_density,
            "weight_density": self.weight_density,
            "output_density": self.output_density,
            "dense_macs": self.macs.dense,
            "effectual_macs": self.macs.effectual,
            "estimated_macs": self.macs.estimated,
            "effectual_reduction": self.macs.reduction,
        }


@dataclass(frozen=True, slots=True)
class TraceStats:
    layers: tuple[LayerStats, ...]
    input_elements: int
    input_nonzeros: int
    weight_elements: int
    weight_nonzeros: int

    @property
    def dense_macs(self) -> int:
        return sum(layer.macs.dense for layer in self.layers)

    @property
    def effectual_macs(self) -> int:
        return sum(layer.macs.effectual for layer in self.layers)

    @property
    def estimated_macs(self) -> float:
        return sum(layer.macs.estimated for layer in self.layers)

    @property
    def effectual_reduction(self) -> float:
        """1 − effectual/dense over the network: the seed paper's "fewer multiplications"."""
        return 1.0 - self.effectual_macs / self.dense_macs

    @property
    def input_density(self) -> float:
        """Element-weighted density of all layer inputs."""
        return self.input_nonzeros / self.input_elements

    @property
    def weight_density(self) -> float:
        return self.weight_nonzeros / self.weight_elements

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": [layer.to_dict() for layer in self.layers],
            "total": {
                "dense_macs": self.dense_macs,
                "effectual_macs": self.effectual_macs,
                "estimated_macs": self.estimated_macs,
                "effectual_reduction": self.effectual_reduction,
                "input_density": self.input_density,
                "weight_density": self.weight_density,
            },
        }


def layer_stats(layer_trace: LayerTrace) -> LayerStats:
    layer = layer_trace.layer
    return LayerStats(
        name=layer.name,
        geometry=layer.describe(),
        input_density=layer_trace.input_density,
        weight_density=layer_trace.weight_density,
        output_density=layer_trace.output_density,
        macs=mac_counts(layer_trace),
    )


def trace_stats(trace: Trace) -> TraceStats:
    return TraceStats(
        layers=tuple(layer_stats(lt) for lt in trace.layers),
        input_elements=sum(lt.input_mask.size for lt in trace.layers),
        input_nonzeros=sum(lt.input_nonzeros for lt in trace.layers),
        weight_elements=sum(lt.weight_mask.size for lt in trace.layers),
        weight_nonzeros=sum(lt.weight_nonzeros for lt in trace.layers),
    )
