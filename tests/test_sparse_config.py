"""The ``compression:`` and ``sparse:`` keys: typed values with their defaults, the
documented examples, the YAML echo, and every user error as one exact line."""

from __future__ import annotations

import dataclasses
import re

import pytest

from accelsim.arch import architecture_from_yaml, architecture_to_dict, load_architecture
from accelsim.arch.spec import Policy, SparseAction, SparseFeatures, Tensor
from accelsim.config.yaml_loader import parse_yaml
from accelsim.sparsity import CompressionSpec, Format
from tests.conftest import REPO
from tests.test_arch_loader import MINIMAL, _load_error, _write

FIXTURES = REPO / "tests" / "data" / "arch"
DOC = (REPO / "docs" / "config.md").read_text()


def test_dense_configs_have_no_sparse_features():
    arch = load_architecture("eyeriss_like")
    for level in arch.levels:
        assert level.compression == () and not level.sparse
        for tensor in Tensor:
            assert level.compression_of(tensor) == CompressionSpec(Format.NONE,
                                                                   level.word_bits)
    assert arch.compute.sparse == SparseFeatures()
    assert arch.compute.sparse.policy(None) is Policy.NONE


def test_eyeriss_v1_fixture():
    arch = load_architecture(FIXTURES / "sparse_eyeriss_v1.yaml")
    dram = arch.levels[0]
    rle = CompressionSpec(Format.RLE, value_bits=16, run_bits=5, pairs_per_word=3,
                          packed_word_bits=64)          # value 16 = word_bits, 64 = width_bits
    assert dram.compression == ((Tensor.INPUTS, rle), (Tensor.OUTPUTS, rle))
    assert dram.compression_of(Tensor.WEIGHTS).format is Format.NONE
    spad = arch.sparse_features("weights_spad")
    assert spad.actions == (SparseAction(Policy.GATE, Tensor.WEIGHTS,
                                         frozenset({Tensor.INPUTS})),)
    assert spad.policy(Tensor.WEIGHTS) is Policy.GATE and spad.policy(Tensor.INPUTS) is \
        Policy.NONE
    assert spad.condition_on(Tensor.WEIGHTS, Policy.GATE) == {Tensor.INPUTS}
    assert spad.condition_on(Tensor.WEIGHTS, Policy.SKIP) == frozenset()
    assert arch.sparse_features("mac").policy(None) is Policy.GATE
    assert hash(arch) == hash(load_architecture(FIXTURES / "sparse_eyeriss_v1.yaml"))
    # The bundled eyeriss_v1 carries the chip's published gating and RLE (issue 4).
    bundled = load_architecture("eyeriss_v1")
    assert [(lv.compression, lv.sparse) for lv in bundled.levels] == \
        [(lv.compression, lv.sparse) for lv in arch.levels]
    assert bundled.compute.sparse == arch.compute.sparse


def test_sparse_action_values():
    action = SparseAction("skip", "weights", ["inputs", "weights"])   # plain values converted
    assert action == SparseAction(Policy.SKIP, Tensor.WEIGHTS,
                                  frozenset({Tensor.INPUTS, Tensor.WEIGHTS}))
    with pytest.raises(ValueError, match="gates or skips"):
        SparseAction(Policy.NONE, None, frozenset({Tensor.INPUTS}))
    with pytest.raises(ValueError, match="at least one tensor"):
        SparseAction(Policy.GATE, None, frozenset())
    both = SparseFeatures((SparseAction(Policy.GATE, None, frozenset({Tensor.INPUTS})),
                           SparseAction(Policy.SKIP, None, frozenset({Tensor.WEIGHTS}))))
    assert both.policy(None) is Policy.SKIP and both.policy(Tensor.INPUTS) is Policy.NONE
    assert both.condition_on(None, Policy.GATE) == {Tensor.INPUTS}
    assert bool(both) and not SparseFeatures()


def test_defaults_of_every_format():
    arch = load_architecture(FIXTURES / "sparse_all_formats.yaml")
    dram, glb, spad, _ = arch.levels
    assert dram.compression_of(Tensor.WEIGHTS) == CompressionSpec(
        Format.CSR, 8, index_bits=6, pointer_bits=12, row_axes=1)      # weights: M × C·R·S
    assert dram.compression_of(Tensor.INPUTS).packed_word_bits == 64
    assert dram.compression_of(Tensor.OUTPUTS) == CompressionSpec(Format.BITMASK, 8)
    assert glb.compression_of(Tensor.WEIGHTS).row_axes == 2
    assert glb.compression_of(Tensor.INPUTS) == CompressionSpec(Format.ZERO_RUN, 8, run_bits=4)
    assert glb.compression_of(Tensor.OUTPUTS) == CompressionSpec(Format.NONE, 8)
    assert spad.compression_of(Tensor.WEIGHTS) == CompressionSpec(Format.RLE, 8, run_bits=3)
    assert spad.sparse.policy(Tensor.WEIGHTS) is Policy.SKIP   # skip wins over gate
    assert spad.sparse.condition_on(Tensor.WEIGHTS, Policy.SKIP) == {Tensor.INPUTS,
                                                                     Tensor.WEIGHTS}
    assert arch.compute.sparse.policy(None) is Policy.SKIP


def test_row_axes_default_per_tensor(tmp_path):
    text = MINIMAL.replace("    fanout: {x: 4, y: 2}\n", """    fanout: {x: 4, y: 2}
    compression:
      weights: {format: csc, index_bits: 4, pointer_bits: 8}
      inputs: {format: csr, index_bits: 4, pointer_bits: 8}
      outputs: {format: csr, index_bits: 4, pointer_bits: 8, row_axes: 3, value_bits: 24}
""")
    glb = load_architecture(_write(tmp_path, text)).levels[1]
    assert [spec.row_axes for _, spec in glb.compression] == [1, 2, 3]
    assert glb.compression_of(Tensor.OUTPUTS).value_bits == 24


def test_the_documented_sparse_examples_load():
    """Every ```yaml block of docs/config.md's sparsity section, put into eyeriss_v1."""
    section = DOC.split("## Sparsity")[1].split("\n## ")[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    text = (REPO / "accelsim" / "data" / "hw_configs" / "eyeriss_v1.yaml").read_text()
    # Start from the bundled chip without its sparse keys, then add the documented ones.
    text = re.sub(r"  compression:\n(    .*\n)+", "", text)
    text = re.sub(r"    sparse:\n(      .*\n)+", "", text)
    text = re.sub(r"  sparse:\n(    .*\n)+", "", text)
    text = text.replace("  burst_bytes: 64\n", "  burst_bytes: 64\n" + _indented(blocks[0]))
    arch = architecture_from_yaml(parse_yaml(text, "doc.yaml"), "doc.yaml")
    assert arch.levels[0].compression_of(Tensor.INPUTS).pairs_per_word == 3
    spad = "    write_bandwidth_words_per_cycle: 2\n  - name: psum_spad"
    actions = blocks[1].split("compute:\n")
    text = text.replace(spad, "    write_bandwidth_words_per_cycle: 2\n"
                        + actions[0].split("  - name: weights_spad\n    ...\n")[1]
                        + "  - name: psum_spad")
    text = text.replace("  macs_per_cycle: 1\n", "  macs_per_cycle: 1\n" + actions[1])
    arch = architecture_from_yaml(parse_yaml(text, "doc.yaml"), "doc.yaml")
    assert arch.sparse_features("weights_spad").policy(Tensor.WEIGHTS) is Policy.GATE
    assert arch.compute.sparse.policy(None) is Policy.GATE
    assert arch == dataclasses.replace(load_architecture(FIXTURES / "sparse_eyeriss_v1.yaml"),
                                       name="eyeriss_v1", source="doc.yaml",
                                       energy=arch.energy)


def _indented(block: str) -> str:
    """A ``dram:`` snippet's body, at the indentation of the dram section."""
    lines = [line for line in block.splitlines() if line and not line.startswith("dram:")
             and not line.lstrip().startswith("...")]
    return "\n".join(lines) + "\n"


def test_echo_keeps_sparse_features():
    arch = load_architecture(FIXTURES / "sparse_all_formats.yaml")
    data = architecture_to_dict(arch)
    assert data["dram"]["compression"]["inputs"] == {
        "format": "rle", "value_bits": 8, "run_bits": 5, "pairs_per_word": 4,
        "packed_word_bits": 64}
    assert data["levels"][1]["sparse"] == [
        {"kind": "skip", "target": "weights", "condition_on": ["weights", "inputs"]},
        {"kind": "gate", "target": "weights", "condition_on": ["outputs"]}]
    assert data["compute"]["sparse"][0] == {"kind": "skip", "condition_on": ["weights"]}
    again = architecture_from_yaml(data, "echo")
    assert dataclasses.replace(again, energy=None, source=None) == \
        dataclasses.replace(arch, energy=None, source=None)


GLB = "    fanout: {x: 4, y: 2}\n"       # line 11 of MINIMAL: the glb keeps all three tensors
REG = "    depth: 1\n"                    # line 14: the reg keeps weights only


@pytest.mark.parametrize(("old", "new", "expected"), [
    # unknown format, with a did-you-mean
    (GLB, GLB + "    compression: {inputs: {format: rlc}}\n",
     "12: levels[0].compression.inputs.format: expected one of none, bitmask, rle, csr, csc, "
     "zero_run, got 'rlc' (did you mean 'rle'?)"),
    # widths ≤ 0
    (GLB, GLB + "    compression: {inputs: {format: rle, run_bits: 0}}\n",
     "12: levels[0].compression.inputs.run_bits: expected an integer > 0, got 0"),
    (GLB, GLB + "    compression: {weights: {format: bitmask, value_bits: -8}}\n",
     "12: levels[0].compression.weights.value_bits: expected an integer > 0, got -8"),
    (GLB, GLB + "    compression: {weights: {format: csr, index_bits: 4, pointer_bits: 0}}\n",
     "12: levels[0].compression.weights.pointer_bits: expected an integer > 0, got 0"),
    # a parameter of another format, a missing one, a packing that does not fit
    (GLB, GLB + "    compression: {inputs: {format: bitmask, run_bits: 4}}\n",
     "12: levels[0].compression.inputs.run_bits: expected only with format rle or zero_run, "
     "got format 'bitmask'"),
    (GLB, GLB + "    compression: {inputs: {format: zero_run, pairs_per_word: 3}}\n",
     "12: levels[0].compression.inputs.pairs_per_word: expected only with format rle, got "
     "format 'zero_run'"),
    (GLB, GLB + "    compression: {inputs: {format: csr, index_bits: 4}}\n",
     "12: levels[0].compression.inputs: missing required key 'pointer_bits' (format 'csr')"),
    (GLB, GLB + "    compression: {inputs: {format: rle, pairs_per_word: 5}}\n",
     "12: levels[0].compression.inputs.pairs_per_word: expected pairs_per_word·(run_bits + "
     "value_bits) ≤ packed_word_bits (64), got 5·(5 + 8) = 65"),
    (GLB, GLB + "    compression: {inputs: {format: rle, packed_word_bits: 64}}\n",
     "12: levels[0].compression.inputs.packed_word_bits: expected only with 'pairs_per_word', "
     "got no pairs_per_word"),
    (GLB, GLB + "    compression: {inputs: {format: csc, index_bits: 4, pointer_bits: 4, "
                "row_axes: 4}}\n",
     "12: levels[0].compression.inputs.row_axes: expected one of 1, 2, 3, got 4"),
    # compression of a tensor the level does not keep, of no tensor, not a mapping
    (REG, REG + "    compression: {inputs: {format: bitmask}}\n",
     "15: levels[1].compression.inputs: expected a tensor this level keeps (weights), got "
     "'inputs'"),
    (GLB, GLB + "    compression: {psums: {format: bitmask}}\n",
     "12: levels[0].compression: unknown key 'psums'; expected one of weights, inputs, "
     "outputs"),
    (GLB, GLB + "    compression: {inputs: {format: rle, metadata_datawidth: 5}}\n",
     "12: levels[0].compression.inputs: unknown key 'metadata_datawidth' (accelsim's key is "
     "'run_bits' or 'index_bits'); expected one of format, value_bits, run_bits, "
     "pairs_per_word, packed_word_bits, index_bits, pointer_bits, row_axes"),
    # sparse actions: unknown tensor, tensor not kept, empty or repeated, Sparseloop spellings
    (REG, REG + "    sparse: [{kind: gate, target: weights, condition_on: [input]}]\n",
     "15: levels[1].sparse[0].condition_on[0]: expected one of weights, inputs, outputs, got "
     "'input' (did you mean 'inputs'?)"),
    (REG, REG + "    sparse: [{kind: skip, target: inputs, condition_on: [weights]}]\n",
     "15: levels[1].sparse[0].target: expected a tensor this level keeps (weights), got "
     "'inputs'"),
    (REG, REG + "    sparse: [{kind: gating, target: weights, condition_on: [inputs]}]\n",
     "15: levels[1].sparse[0].kind: expected one of gate, skip, got 'gating' (did you mean "
     "'gate'?)"),
    (REG, REG + "    sparse: [{kind: gate, target: weights, condition_on: []}]\n",
     "15: levels[1].sparse[0].condition_on: expected at least one of weights, inputs, "
     "outputs, got []"),
    (REG, REG + "    sparse:\n      - {kind: gate, target: weights, condition_on: [inputs]}\n"
                "      - {kind: gate, target: weights, condition_on: [outputs]}\n",
     "17: levels[1].sparse[1].kind: expected one gate action per target, got a second for "
     "weights (list every tensor in one condition_on)"),
    (REG, REG + "    sparse: [{type: gating, target: weights, condition_on: [inputs]}]\n",
     "15: levels[1].sparse[0]: unknown key 'type' (accelsim's key is 'kind' (gate or skip)); "
     "expected one of kind, target, condition_on"),
    (REG, REG + "    sparse_optimizations: {}\n",
     "15: levels[1]: unknown key 'sparse_optimizations' (accelsim's key is 'sparse' (actions) "
     "and 'compression' (formats)); expected one of name, keeps, word_bits, width_bits, depth, "
     "banks, read_bandwidth_words_per_cycle, write_bandwidth_words_per_cycle, fanout, "
     "compression, sparse"),
    # the MACs: no target; one action per kind
    ("compute: {}\n", "compute:\n  sparse: [{kind: skip, target: weights, condition_on: "
                      "[weights]}]\n",
     "16: compute.sparse[0]: unknown key 'target'; expected one of kind, condition_on"),
    ("compute: {}\n", "compute:\n  sparse: [{kind: skip, condition_on: [inputs]}, "
                      "{kind: skip, condition_on: [weights]}]\n",
     "16: compute.sparse[1].kind: expected one skip action per target, got a second for the "
     "MACs (list every tensor in one condition_on)"),
    ("compute: {}\n", "compute:\n  sparse: {kind: skip}\n",
     "16: compute.sparse: expected a list of `compute.sparse[]` mappings, got a mapping"),
    # on DRAM, and the top level
    ("  bandwidth_bytes_per_cycle: 16\n",
     "  bandwidth_bytes_per_cycle: 16\n  compression: {outputs: {format: zero_run, "
     "run_bits: 0}}\n",
     "6: dram.compression.outputs.run_bits: expected an integer > 0, got 0"),
    ("version: 1\n", "version: 1\ncompression: {}\n",
     "2: unknown key 'compression' (accelsim's key is 'compression' on 'dram' and on each "
     "level); expected one of version, name, clock_mhz, word_bits, dataflow, dram, levels, "
     "compute, energy"),
])
def test_one_line_errors(tmp_path, old, new, expected):
    assert old in MINIMAL
    assert _load_error(tmp_path, MINIMAL.replace(old, new, 1)) == expected
