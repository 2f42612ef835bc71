"""Which activation follows each conv / FC layer, found on the model's FX graph.

A layer's *output mask* is taken after the activation that consumes its output, because
that is what an accelerator writes back (and compresses). From the layer's node we follow
the chain of single users through operations that keep the shape and do not create zeros
by themselves — BatchNorm, Identity, Dropout, and additions (a residual add) — and stop at
the first ReLU or ReLU6 (module, function or tensor method). A layer whose chain ends
anywhere else (a pool, a flatten, the logits, two users) gets no output mask. A model that
``torch.fx`` cannot trace is recorded without output masks.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import fx, nn

_PASS_MODULES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.Identity, nn.Dropout)
_ACT_MODULES = (nn.ReLU, nn.ReLU6)
_PASS_FUNCTIONS = {operator.add, operator.iadd, torch.add}
_ACT_FUNCTIONS = {F.relu, F.relu6, torch.relu, torch.relu_, F.relu_}
_PASS_METHODS = {"add", "add_"}
_ACT_METHODS = {"relu", "relu_"}


class _LayerLeafTracer(fx.Tracer):
    """Keeps every Conv2d and Linear (subclasses too) as one call, so its hooks fire."""

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return isinstance(module, (nn.Conv2d, nn.Linear)) or super().is_leaf_module(
            module, qualified_name)


def trace_graph(model: nn.Module) -> fx.GraphModule | None:
    """The model as an FX GraphModule sharing its submodules, or None if it cannot be traced."""
    try:
        graph = _LayerLeafTracer().trace(model)
    except Exception:  # FX raises many types on data-dependent control flow
        return None
    return fx.GraphModule(model, graph)


def _kind(node: fx.Node, modules: dict[str, nn.Module]) -> str:
    if node.op == "call_module":
        module = modules.get(str(node.target))
        if isinstance(module, _ACT_MODULES):
            return "activation"
        return "pass" if isinstance(module, _PASS_MODULES) else "other"
    if node.op == "call_function":
        if node.target in _ACT_FUNCTIONS:
            return "activation"
        return "pass" if node.target in _PASS_FUNCTIONS else "other"
    if node.op == "call_method":
        if node.target in _ACT_METHODS:
            return "activation"
        return "pass" if node.target in _PASS_METHODS else "other"
    return "other"


def activation_nodes(graph_module: fx.GraphModule, layers: Iterable[str]) -> dict[str, str]:
    """Layer name -> name of the FX node whose output is that layer's activated output."""
    wanted = set(layers)
    modules = dict(graph_module.named_modules())
    found: dict[str, str] = {}
    for node in graph_module.graph.nodes:
        if node.op != "call_module" or node.target not in wanted:
            continue
        current = node
        while len(current.users) == 1:
            user = next(iter(current.users))
            kind = _kind(user, modules)
            if kind == "activation":
                found[str(node.target)] = user.name
                break
            if kind != "pass":
                break
            current = user
    return found


class CapturingInterpreter(fx.Interpreter):
    """Runs a GraphModule node by node and keeps ``output != 0`` of the named nodes."""

    def __init__(self, graph_module: fx.GraphModule, nodes: Iterable[str]) -> None:
        super().__init__(graph_module)
        self.extra_traceback = False  # keep a hook's one-line AccelsimError as it is
        self.wanted = set(nodes)
        self.captured: dict[str, torch.Tensor] = {}

    def run_node(self, node: fx.Node):
        result = super().run_node(node)
        if node.name in self.wanted and isinstance(result, torch.Tensor):
            self.captured[node.name] = (result != 0).cpu()
        return result
