"""The ``compression:`` and ``sparse:`` keys of a level, DRAM and the compute units → typed
``CompressionSpec`` and ``SparseFeatures``.

The schema (``accelsim.arch.schema``) has checked keys, types and ranges; this module adds
what spans keys — a format's own parameters only, the defaults that depend on the format,
the level and the tensor, tensors the level keeps, one action per kind and target — each
error one line ``file:line: key: expected …, got …``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accelsim.arch.spec import Policy, SparseAction, SparseFeatures, Tensor
from accelsim.config.yaml_loader import YamlMap, join_key
from accelsim.sparsity.formats import (
    DEFAULT_RUN_BITS,
    OPTIONAL_PARAMETERS,
    PARAMETERS,
    CompressionSpec,
    Format,
)

DEFAULT_ROW_AXES = {Tensor.WEIGHTS: 1, Tensor.INPUTS: 2, Tensor.OUTPUTS: 2}
"""csr/csc matrix view: weights M × C·R·S; inputs N·C × H·W and outputs N·M × P·Q."""


def compression_specs(values: Mapping[str, Any] | None, node: YamlMap, where: str,
                      keeps: frozenset[Tensor], word_bits: int, width_bits: int
                      ) -> tuple[tuple[Tensor, CompressionSpec], ...]:
    """``(tensor, spec)`` pairs in tensor order, defaults filled in."""
    if not values:
        return ()
    section: YamlMap = node["compression"]
    path = join_key(where, "compression")
    specs = []
    for tensor in Tensor:
        if tensor.value not in values:
            continue
        if tensor not in keeps:
            raise section.error(tensor.value, f"expected a tensor this level keeps "
                                              f"({_names(keeps)}), got {tensor.value!r}", path)
        specs.append((tensor, _spec(values[tensor.value], section[tensor.value],
                                    join_key(path, tensor.value), tensor, word_bits,
                                    width_bits)))
    return tuple(specs)


def _spec(values: Mapping[str, Any], node: YamlMap, where: str, tensor: Tensor,
          word_bits: int, width_bits: int) -> CompressionSpec:
    fmt = Format(values["format"])
    uses = PARAMETERS[fmt]
    for name in OPTIONAL_PARAMETERS:
        if values[name] is not None and name not in uses:
            users = " or ".join(f.value for f, used in PARAMETERS.items() if name in used)
            raise node.error(name, f"expected only with format {users}, got format "
                                   f"{fmt.value!r}", where)
    given = {name: values[name] for name in uses}
    if "run_bits" in uses and given["run_bits"] is None:
        given["run_bits"] = DEFAULT_RUN_BITS[fmt]
    if "row_axes" in uses and given["row_axes"] is None:
        given["row_axes"] = DEFAULT_ROW_AXES[tensor]
    for name in ("index_bits", "pointer_bits"):
        if name in uses and given[name] is None:
            raise node.error(None, f"missing required key {name!r} (format {fmt.value!r})",
                             where)
    value_bits = values["value_bits"] or word_bits
    if fmt is Format.RLE:
        _packing(given, node, where, value_bits, width_bits)
    return CompressionSpec(fmt, value_bits, **given)


def _packing(given: dict[str, Any], node: YamlMap, where: str, value_bits: int,
             width_bits: int) -> None:
    """``packed_word_bits`` defaults to the level's width when pairs are packed; the pairs
    must fit the word."""
    pairs = given["pairs_per_word"]
    if pairs is None:
        if given["packed_word_bits"] is not None:
            raise node.error("packed_word_bits", "expected only with 'pairs_per_word', got no "
                                                 "pairs_per_word", where)
        return
    word = given["packed_word_bits"] or width_bits
    given["packed_word_bits"] = word
    entry = given["run_bits"] + value_bits
    if pairs * entry > word:
        raise node.error("pairs_per_word", f"expected pairs_per_word·(run_bits + value_bits) "
                                           f"≤ packed_word_bits ({word}), got {pairs}·"
                                           f"({given['run_bits']} + {value_bits}) = "
                                           f"{pairs * entry}", where)


def level_sparse(values: Sequence[Mapping[str, Any]] | None, node: YamlMap, where: str,
                 keeps: frozenset[Tensor]) -> SparseFeatures:
    """The ``sparse:`` list of a level or DRAM: targets must be tensors the level keeps."""
    if not values:
        return SparseFeatures()
    items = node["sparse"]
    actions = []
    for index, entry in enumerate(values):
        target = Tensor(entry["target"])
        if target not in keeps:
            raise items[index].error("target", f"expected a tensor this level keeps "
                                               f"({_names(keeps)}), got {target.value!r}",
                                     f"{where}.sparse[{index}]")
        actions.append(_action(entry, items[index], f"{where}.sparse[{index}]", target))
    return _features(actions, items, where)


def compute_sparse(values: Sequence[Mapping[str, Any]] | None, node: YamlMap, where: str
                   ) -> SparseFeatures:
    """The ``sparse:`` list of the compute units: actions on the MACs (target ``None``)."""
    if not values:
        return SparseFeatures()
    items = node["sparse"]
    actions = [_action(entry, items[index], f"{where}.sparse[{index}]", None)
               for index, entry in enumerate(values)]
    return _features(actions, items, where)


def _action(values: Mapping[str, Any], node: YamlMap, where: str, target: Tensor | None
            ) -> SparseAction:
    if not values["condition_on"]:
        raise node.error("condition_on", "expected at least one of weights, inputs, outputs, "
                                         "got []", where)
    return SparseAction(Policy(values["kind"]), target,
                        frozenset(Tensor(name) for name in values["condition_on"]))


def _features(actions: list[SparseAction], items: Any, where: str) -> SparseFeatures:
    seen: set[tuple[Policy, Tensor | None]] = set()
    for index, action in enumerate(actions):
        key = (action.kind, action.target)
        if key in seen:
            what = "the MACs" if action.target is None else action.target.value
            raise items[index].error("kind", f"expected one {action.kind.value} action per "
                                             f"target, got a second for {what} (list every "
                                             f"tensor in one condition_on)",
                                     f"{where}.sparse[{index}]")
        seen.add(key)
    return SparseFeatures(tuple(actions))


def _names(tensors: frozenset[Tensor]) -> str:
    return ", ".join(tensor.value for tensor in Tensor if tensor in tensors)
