"""Architecture YAML → ``Architecture``: defaults, the energy section's binding, and every
user error as one exact line ``file:line: key: expected …, got …``."""

from __future__ import annotations

import dataclasses

import pytest

from accelsim.arch import Architecture, Tensor, load_architecture
from accelsim.energy import Action
from accelsim.errors import ConfigError

MINIMAL = """\
version: 1
clock_mhz: 500
word_bits: 8
dram:
  bandwidth_bytes_per_cycle: 16
levels:
  - name: glb
    keeps: [weights, inputs, outputs]
    depth: 1024
    width_bits: 64
    fanout: {x: 4, y: 2}
  - name: reg
    keeps: [weights]
    depth: 1
compute: {}
energy:
  preset: eyeriss_65nm
  components:
    glb: {pj_per: block, read_pj: 8.0, write_pj: 4.0}
    reg: {pj_per: word, read_pj: 0.1}
"""


def _write(tmp_path, text: str, name: str = "arch.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _load_error(tmp_path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_architecture(path)
    message = str(info.value)
    assert "\n" not in message
    prefix = f"{path}:"
    assert message.startswith(prefix), message
    return message[len(prefix):]


def test_minimal_config_and_defaults(tmp_path):
    arch = load_architecture(_write(tmp_path, MINIMAL, "tiny_design.yaml"))
    assert isinstance(arch, Architecture)
    assert arch.name == "tiny_design" and arch.clock_mhz == 500.0 and arch.dataflow is None
    assert arch.source == str(tmp_path / "tiny_design.yaml")
    dram, glb, reg = arch.levels
    assert dram.is_dram and dram.name == "DRAM" and dram.keeps == frozenset(Tensor)
    assert dram.word_bits == dram.width_bits == 8 and dram.depth is None
    assert arch.dram.bandwidth_bytes_per_cycle == 16.0
    assert arch.dram.latency_cycles == 0 and arch.dram.burst_bytes == 64
    assert glb.capacity_bytes == 1024 * 8 and glb.block_words == 8 and glb.banks == 1
    assert glb.read_bandwidth_words_per_cycle is None  # unbounded
    assert reg.fanout.size == 1 and reg.width_bits == 8
    assert arch.instances(2) == 8 and arch.num_macs == 8
    assert arch.compute.name == "mac" and arch.compute.word_bits == 8
    assert arch.compute.macs_per_cycle == 1


def test_energy_binding(tmp_path):
    table = load_architecture(_write(tmp_path, MINIMAL)).energy
    assert table.name == "eyeriss_65nm+custom"
    assert table.names == ("DRAM", "glb", "reg", "mac")
    assert "eyeriss_like" in table.source and "explicit entries (glb, reg)" in table.source
    # preset entries are per block of the level: this DRAM moves one 8-bit word per access
    # (no width_bits), so the ERT's 512 pJ per 64-bit access becomes 512 pJ per word
    assert table.component("DRAM").block_words == 1
    assert table.component("DRAM").pj_per_count(Action.READ) == 512.0
    # explicit, per block and per word
    assert table.component("glb").pj_per_count(Action.READ) == 1.0
    assert table.component("reg").pj_per_count(Action.READ) == 0.1
    assert table.component("mac").pj.compute_pj == 0.207692


def test_explicit_table_with_per_tensor(tmp_path):
    text = MINIMAL.replace("""  preset: eyeriss_65nm
  components:""", """  components:
    DRAM: {pj_per: word, read_pj: 100, write_pj: 100, update_pj: 100}
    mac: {compute_pj: 0.3, gated_compute_pj: 0.01, leak_pj_per_cycle: 0.001}""").replace(
        "    reg: {pj_per: word, read_pj: 0.1}", """    reg:
      pj_per: word
      read_pj: 0.1
      write_pj: 0.2
      per_tensor:
        weights: {read_pj: 0.5}""")
    table = load_architecture(_write(tmp_path, text)).energy
    assert table.name == "custom"
    reg = table.component("reg")
    assert reg.pj_per_count(Action.READ, Tensor.WEIGHTS) == 0.5
    assert reg.pj_per_count(Action.WRITE, Tensor.WEIGHTS) == 0.2  # not overridden: kept
    assert reg.pj_per_count(Action.READ, Tensor.INPUTS) == 0.1
    assert table.component("mac").pj.gated_compute_pj == 0.01


def test_inf_bandwidths_and_dataflow(tmp_path):
    text = MINIMAL.replace("bandwidth_bytes_per_cycle: 16", "bandwidth_bytes_per_cycle: .inf") \
        .replace("    depth: 1024\n", "    depth: 1024\n    read_bandwidth_words_per_cycle: .inf\n"
                 "    write_bandwidth_words_per_cycle: 4\n") \
        .replace("word_bits: 8\n", "word_bits: 8\ndataflow: weight_stationary\nname: x\n", 1)
    arch = load_architecture(_write(tmp_path, text))
    assert arch.dram.bandwidth_bytes_per_cycle == float("inf")
    assert arch.levels[1].read_bandwidth_words_per_cycle is None
    assert arch.levels[1].write_bandwidth_words_per_cycle == 4.0
    assert arch.dataflow == "weight_stationary" and arch.name == "x"


def test_architecture_is_frozen(tmp_path):
    arch = load_architecture(_write(tmp_path, MINIMAL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        arch.clock_mhz = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(("old", "new", "expected"), [
    # unknown keys, with a "did you mean"
    ("    depth: 1024\n", "    dept: 1024\n",
     "9: levels[0]: unknown key 'dept' (did you mean 'depth'?); expected one of name, keeps, "
     "word_bits, width_bits, depth, banks, read_bandwidth_words_per_cycle, "
     "write_bandwidth_words_per_cycle, fanout, compression, sparse"),
    ("clock_mhz: 500\n", "clock_hz: 500\n",
     "2: unknown key 'clock_hz' (did you mean 'clock_mhz'?); expected one of version, name, "
     "clock_mhz, word_bits, dataflow, dram, levels, compute, energy"),
    ("  bandwidth_bytes_per_cycle: 16\n", "  bandwidth_gb_per_s: 16\n",
     "5: dram: unknown key 'bandwidth_gb_per_s' (accelsim's key is 'bandwidth_bytes_per_cycle'"
     " = GB/s × 1000 / clock_mhz); expected one of name, word_bits, width_bits, "
     "bandwidth_bytes_per_cycle, latency_cycles, burst_bytes, compression, sparse"),
    ("    depth: 1024\n", "    depth: 1024\n    datawidth: 8\n",
     "10: levels[0]: unknown key 'datawidth' (accelsim's key is 'word_bits'); expected one of "
     "name, keeps, word_bits, width_bits, depth, banks, read_bandwidth_words_per_cycle, "
     "write_bandwidth_words_per_cycle, fanout, compression, sparse"),
    ("    fanout: {x: 4, y: 2}\n", "    meshX: 4\n",
     "11: levels[0]: unknown key 'meshX' (accelsim's key is 'fanout: {x: …}'); expected one of "
     "name, keeps, word_bits, width_bits, depth, banks, read_bandwidth_words_per_cycle, "
     "write_bandwidth_words_per_cycle, fanout, compression, sparse"),
    ("    fanout: {x: 4, y: 2}\n", "    fanout: {x: 4, z: 2}\n",
     "11: levels[0].fanout: unknown key 'z'; expected one of x, y, fill_drain_cycles"),
    ("compute: {}\n", "compute: {mac_per_cycle: 2}\n",
     "15: compute: unknown key 'mac_per_cycle' (did you mean 'macs_per_cycle'?); expected one "
     "of name, macs_per_cycle, word_bits, sparse"),
    ("    reg: {pj_per: word, read_pj: 0.1}\n", "    reg: {pj_per: word, read: 0.1}\n",
     "20: energy.components.reg: unknown key 'read' (did you mean 'read_pj'?); expected one of "
     "pj_per, read_pj, write_pj, update_pj, gated_read_pj, gated_write_pj, gated_update_pj, "
     "compute_pj, gated_compute_pj, leak_pj_per_cycle, per_tensor"),
    # wrong types
    ("clock_mhz: 500\n", "clock_mhz: fast\n",
     "2: clock_mhz: expected a number > 0, got 'fast'"),
    ("    depth: 1024\n", "    depth: 1k\n",
     "9: levels[0].depth: expected an integer > 0, got '1k'"),
    ("    keeps: [weights]\n", "    keeps: weights\n",
     "13: levels[1].keeps: expected a list of weights, inputs, outputs, got 'weights'"),
    ("levels:\n", "levels: {}\nx:\n",
     "7: unknown key 'x'; expected one of version, name, clock_mhz, word_bits, dataflow, dram, "
     "levels, compute, energy"),
    # non-positive sizes and bandwidths
    ("    depth: 1024\n", "    depth: 0\n", "9: levels[0].depth: expected an integer > 0, got 0"),
    ("  bandwidth_bytes_per_cycle: 16\n", "  bandwidth_bytes_per_cycle: 0\n",
     "5: dram.bandwidth_bytes_per_cycle: expected a number > 0 (or .inf), got 0.0"),
    ("    depth: 1024\n", "    depth: 1024\n    read_bandwidth_words_per_cycle: -2\n",
     "10: levels[0].read_bandwidth_words_per_cycle: expected a number > 0 (or .inf), got -2.0"),
    ("clock_mhz: 500\n", "clock_mhz: .inf\n",
     "2: clock_mhz: expected a number > 0, got inf"),
    ("    fanout: {x: 4, y: 2}\n", "    fanout: {x: 0, y: 2}\n",
     "11: levels[0].fanout.x: expected an integer > 0, got 0"),
    ("    width_bits: 64\n", "    width_bits: 60\n",
     "10: levels[0].width_bits: expected a multiple of word_bits (8), got 60"),
    # a level that keeps nothing
    ("    keeps: [weights]\n", "    keeps: []\n",
     "13: levels[1].keeps: expected at least one of weights, inputs, outputs, got []"),
    ("    keeps: [weights]\n", "    keeps: [weight]\n",
     "13: levels[1].keeps[0]: expected one of weights, inputs, outputs, got 'weight' (did you "
     "mean 'weights'?)"),
    # unknown dataflow, unknown preset
    ("word_bits: 8\n", "word_bits: 8\ndataflow: row_stationnary\n",
     "4: dataflow: expected one of row_stationary, weight_stationary, output_stationary, "
     "input_stationary, got 'row_stationnary' (did you mean 'row_stationary'?)"),
    ("  preset: eyeriss_65nm\n", "  preset: eyeriss_65\n",
     "17: energy.preset: expected one of eyeriss_65nm, accelergy_45nm, got 'eyeriss_65' (did "
     "you mean 'eyeriss_65nm'?)"),
    # version, missing keys, names
    ("version: 1\n", "version: 2\n", "1: version: expected 1, got 2"),
    ("version: 1\n", "", "1: missing required key 'version'"),
    ("  - name: reg\n", "  - name: glb\n",
     "12: levels[1].name: expected a name not used elsewhere, got 'glb' (also the name of "
     "levels[0])"),
    ("compute: {}\n", "compute: {name: glb}\n",
     "15: compute.name: expected a name not used elsewhere, got 'glb' (also the name of "
     "levels[0])"),
    ("word_bits: 8\n", "",
     "4: dram: missing required key 'word_bits' (and no top-level 'word_bits' to default to)"),
    ("levels:\n  - name: glb\n", "levels: []\nunused:\n  - name: glb\n",
     "7: unknown key 'unused'; expected one of version, name, clock_mhz, word_bits, dataflow, "
     "dram, levels, compute, energy"),
    # the energy section
    ("    reg: {pj_per: word, read_pj: 0.1}\n", "    reg: {read_pj: 0.1}\n",
     "20: energy.components.reg: missing required key 'pj_per' (block: per access of "
     "width_bits, as Accelergy's ERT; word: per word)"),
    ("    reg: {pj_per: word, read_pj: 0.1}\n", "    regs: {pj_per: word, read_pj: 0.1}\n",
     "20: energy.components: no component 'regs' in this architecture (did you mean 'reg'?); "
     "expected one of DRAM, glb, reg, mac"),
    ("    reg: {pj_per: word, read_pj: 0.1}\n", "",
     "17: energy: no energy for component 'reg': preset 'eyeriss_65nm' has DRAM, shared_glb, "
     "ifmap_spad, weights_spad, psum_spad, mac; add energy.components.reg"),
    ("    glb: {pj_per: block, read_pj: 8.0, write_pj: 4.0}\n",
     "    glb: {pj_per: block, read_pj: -8.0}\n",
     "19: energy.components.glb.read_pj: expected a number ≥ 0, got -8.0"),
    ("    reg: {pj_per: word, read_pj: 0.1}\n",
     "    reg: {pj_per: word, per_tensor: {psums: {read_pj: 1}}}\n",
     "20: energy.components.reg.per_tensor: unknown key 'psums'; expected one of weights, "
     "inputs, outputs"),
    ("    reg: {pj_per: word, read_pj: 0.1}\n",
     "    reg: {pj_per: word, per_tensor: {weights: {leak_pj_per_cycle: 1}}}\n",
     "20: energy.components.reg.per_tensor.weights: unknown key 'leak_pj_per_cycle'; expected "
     "one of read_pj, write_pj, update_pj, gated_read_pj, gated_write_pj, gated_update_pj"),
    ("  preset: eyeriss_65nm\n  components:\n", "  componentz:\n",
     "17: energy: unknown key 'componentz' (did you mean 'components'?); expected one of "
     "preset, components"),
    # sparse keys live on the levels and compute (more cases in tests/test_sparse_config.py)
    ("    depth: 1\n", "    depth: 1\n    compression: {weights: rle}\n",
     "15: levels[1].compression.weights: expected a mapping, got 'rle'"),
    ("version: 1\n", "version: 1\nsparse: {}\n",
     "2: unknown key 'sparse' (accelsim's key is 'sparse' on each level and on 'compute'); "
     "expected one of version, name, clock_mhz, word_bits, dataflow, dram, levels, compute, "
     "energy"),
])
def test_one_line_errors(tmp_path, old, new, expected):
    assert old in MINIMAL
    assert _load_error(tmp_path, MINIMAL.replace(old, new, 1)) == expected


def test_energy_needs_a_preset_or_components(tmp_path):
    text = MINIMAL[: MINIMAL.index("energy:")] + "energy: {}\n"
    assert _load_error(tmp_path, text) == \
        "16: energy: expected a 'preset' or 'components' (or both), got neither"


def test_empty_and_non_mapping_files(tmp_path):
    assert _load_error(tmp_path, "# nothing\n") == \
        "1: empty file: expected an architecture mapping with 'version: 1'"
    assert _load_error(tmp_path, "- 1\n") == "1: expected a mapping, got a list"
    assert _load_error(tmp_path, "version: 1\nlevels: [\n").startswith("3: not valid YAML")


def test_levels_must_be_a_non_empty_list(tmp_path):
    head = MINIMAL[: MINIMAL.index("levels:")]
    tail = MINIMAL[MINIMAL.index("compute:"):]
    assert _load_error(tmp_path, head + "levels: []\n" + tail) == \
        "6: levels: expected at least one on-chip level, got none"
    assert _load_error(tmp_path, head + "levels: {glb: {}}\n" + tail) == \
        "6: levels: expected a list of `levels[]` mappings, got a mapping"


def test_level_must_be_a_mapping(tmp_path):
    text = MINIMAL.replace("  - name: reg\n    keeps: [weights]\n    depth: 1\n", "  - reg\n")
    assert _load_error(tmp_path, text) == "12: levels[1]: expected a mapping, got 'reg'"
