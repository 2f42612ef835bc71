"""``record_trace``: the zero masks of a PyTorch model's layers on real inputs.

Forward-pre-hooks on every ``Conv2d`` and ``Linear`` see each layer's input exactly as the
layer reads it (after every preceding ReLU, pool or residual add) and store ``input != 0``
at once, before any in-place operation can change it. Weight masks come from the
parameters, geometry (stride, padding, dilation, groups) from the modules and the input
shape, and output masks from the activation that follows each layer (``fused.py``). The
model runs once, in eval mode, without gradients; its train/eval state is restored after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from accelsim.errors import AccelsimError
from accelsim.record.fused import CapturingInterpreter, activation_nodes, trace_graph
from accelsim.workload.layer import Layer
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo

OUTPUT_MASK_RULE = ("after the first ReLU/ReLU6 reached from the layer through BatchNorm, "
                    "Identity, Dropout and additions (torch.fx graph)")


@dataclass(frozen=True, slots=True)
class RecordedProvenance:
    """What the manifest says about a recorded trace besides its layers."""

    model: str
    dataset: str | None = None
    recipe: Mapping[str, Any] | None = None
    accuracy: Mapping[str, Any] | None = None
    images: Mapping[str, Any] | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Seen:
    """One layer's call: its geometry, input mask, and the identity of the tensor it read."""

    layer: Layer
    input_mask: np.ndarray
    tensor_key: tuple[int, int]


def record_trace(model: nn.Module, images: torch.Tensor,
                 provenance: RecordedProvenance, *, output_masks: bool = True) -> Trace:
    """Run ``model`` on ``images`` (a normalised N×C×H×W batch) and return its trace."""
    layers = {name: m for name, m in model.named_modules() if isinstance(m, (nn.Conv2d,
                                                                           nn.Linear))}
    if not layers:
        raise AccelsimError("the model has no Conv2d or Linear layer to record",
                            key=provenance.model)
    seen: dict[str, _Seen] = {}
    alive: list[torch.Tensor] = []  # keeps inputs alive so their ids stay unique
    handles = [module.register_forward_pre_hook(_pre_hook(name, seen, alive))
               for name, module in layers.items()]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs, rule = _run(model, images, layers, output_masks)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    missing = [name for name in layers if name not in seen]
    if missing:
        raise AccelsimError(f"layer {missing[0]!r} did not run in the forward pass",
                            key=provenance.model)
    traces = _layer_traces(seen, layers, outputs)
    source = {"kind": "recorded", "hooks": "forward_pre_hook on Conv2d and Linear",
              "torch": torch.__version__, "output_masks": rule}
    info = TraceInfo(model=provenance.model, source=source, dataset=provenance.dataset,
                     recipe=provenance.recipe, accuracy=provenance.accuracy,
                     images=provenance.images, notes=dict(provenance.notes))
    return Trace(info=info, layers=traces)


def _pre_hook(name: str, seen: dict[str, _Seen], alive: list[torch.Tensor]):
    def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
        if name in seen:
            raise AccelsimError("the layer runs more than once per forward pass; a trace "
                                "holds each layer once", key=name)
        if not args or not isinstance(args[0], torch.Tensor):
            raise AccelsimError("expected a tensor as the layer's first input", key=name)
        tensor = args[0]
        alive.append(tensor)
        layer = _geometry(name, module, tuple(tensor.shape))
        mask = (tensor != 0).cpu().numpy().reshape(layer.input_shape)
        seen[name] = _Seen(layer, mask, (id(tensor), tensor._version))
    return hook


def _geometry(name: str, module: nn.Module, shape: tuple[int, ...]) -> Layer:
    if isinstance(module, nn.Linear):
        if len(shape) != 2:
            raise AccelsimError(f"a Linear layer must read a 2-D (batch, features) input to be "
                                f"recorded, got shape {list(shape)}", key=name)
        return Layer.fc(name, module.in_features, module.out_features, batch=shape[0])
    if len(shape) != 4:
        raise AccelsimError(f"expected a 4-D N×C×H×W input, got shape {list(shape)}", key=name)
    if module.padding_mode != "zeros":
        raise AccelsimError(f"padding_mode {module.padding_mode!r} is not zero padding; "
                            "traces describe zero padding only", key=name)
    return Layer(name=name, N=shape[0], C=module.in_channels, H=shape[2], W=shape[3],
                 M=module.out_channels, R=module.kernel_size[0], S=module.kernel_size[1],
                 stride=tuple(module.stride), padding=_padding(name, module),
                 dilation=tuple(module.dilation), groups=module.groups)


def _padding(name: str, module: nn.Conv2d) -> tuple[int, int]:
    if isinstance(module.padding, tuple):
        return (int(module.padding[0]), int(module.padding[1]))
    if module.padding == "valid":
        return (0, 0)
    totals = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size, strict=True)]
    if any(t % 2 for t in totals):
        raise AccelsimError("padding='same' with an even dilated kernel pads asymmetrically; "
                            "traces describe symmetric padding only", key=name)
    return (totals[0] // 2, totals[1] // 2)


def _run(model: nn.Module, images: torch.Tensor, layers: Mapping[str, nn.Module],
         output_masks: bool) -> tuple[dict[str, torch.Tensor], str]:
    """Forward once; returns layer name -> activated-output mask, and how they were found."""
    if not output_masks:
        model(images)
        return {}, "not recorded"
    graph = trace_graph(model)
    if graph is None:
        model(images)
        return {}, "not recorded (torch.fx could not trace the model)"
    nodes = activation_nodes(graph, layers)
    interpreter = CapturingInterpreter(graph, nodes.values())
    interpreter.run(images)
    masks = {layer: interpreter.captured[node] for layer, node in nodes.items()}
    return masks, OUTPUT_MASK_RULE


def _layer_traces(seen: dict[str, _Seen], layers: Mapping[str, nn.Module],
                  outputs: Mapping[str, torch.Tensor]) -> tuple[LayerTrace, ...]:
    first_reader: dict[tuple[int, int], str] = {}
    traces = []
    for name, record in seen.items():  # insertion order = execution order
        reader = first_reader.setdefault(record.tensor_key, name)
        layer = record.layer
        if reader != name:
            layer = Layer(**{f: getattr(layer, f) for f in Layer.__dataclass_fields__
                             if f != "input_tensor"}, input_tensor=reader)
        weight = layers[name].weight.detach()
        weight_mask = (weight != 0).cpu().numpy().reshape(layer.weight_shape)
        output = outputs.get(name)
        output_mask = None
        if output is not None and output.numel() == layer.output_size:
            output_mask = output.numpy().reshape(layer.output_shape)
        traces.append(LayerTrace(layer, record.input_mask, weight_mask, output_mask))
    return tuple(traces)
