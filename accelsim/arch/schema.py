"""The architecture YAML schema — the one table behind the loader's checks and the
reference tables of docs/config.md (``schema_markdown``; a test keeps the doc in step).

Units are in the key names, one spelling per key. The energy component keys are the
fields of ``ActionEnergies`` themselves, so that table cannot drift either.
"""

from __future__ import annotations

from dataclasses import fields

from accelsim.arch.spec import DATAFLOW_NAMES, Policy, Tensor
from accelsim.config.schema import REQUIRED, Field, Section
from accelsim.energy.presets import PRESET_NAMES
from accelsim.energy.table import ACCESS_FIELDS, ActionEnergies
from accelsim.sparsity.formats import FORMAT_NAMES

SCHEMA_VERSION = 1
TENSOR_NAMES = tuple(tensor.value for tensor in Tensor)
PJ_PER = ("block", "word")

ACTION_KINDS = tuple(policy.value for policy in Policy if policy is not Policy.NONE)
ROW_AXES = (1, 2, 3)


# Timeloop/Accelergy attribute names (and common synonyms) → ours, for "unknown key" errors.
_STORAGE_HINTS = (
    ("datawidth", "'word_bits'"), ("word_width", "'word_bits'"), ("width", "'width_bits'"),
    ("memory_depth", "'depth'"), ("memory_width", "'width_bits'"), ("n_banks", "'banks'"),
    ("read_bandwidth", "'read_bandwidth_words_per_cycle'"),
    ("write_bandwidth", "'write_bandwidth_words_per_cycle'"),
    ("meshX", "'fanout: {x: …}'"), ("meshY", "'fanout: {y: …}'"),
    ("size_kib", "'depth' × 'width_bits'"), ("size_bytes", "'depth' × 'width_bits'"),
)
_TOP_HINTS = (("clock_ghz", "'clock_mhz'"), ("frequency", "'clock_mhz'"),
              ("word_width", "'word_bits'"), ("datawidth", "'word_bits'"),
              ("sparse", "'sparse' on each level and on 'compute'"),
              ("compression", "'compression' on 'dram' and on each level"))
# Sparseloop's spellings of the sparse keys.
_SPARSE_HINTS = (("sparse_optimizations", "'sparse' (actions) and 'compression' (formats)"),
                 ("action_optimization", "'sparse'"),
                 ("representation_format", "'compression'"))
_ACTION_HINTS = (("type", "'kind' (gate or skip)"), ("options", "'target' and 'condition_on'"))
_COMPRESSION_HINTS = (("metadata_datawidth", "'run_bits' or 'index_bits'"),
                      ("datawidth", "'value_bits'"), ("word_bits", "'value_bits'"),
                      ("ranks", "'format' (one per tensor)"))
_DRAM_HINTS = (*_STORAGE_HINTS,
               ("bandwidth", "'bandwidth_bytes_per_cycle'"),
               ("bandwidth_gb_per_s", "'bandwidth_bytes_per_cycle' = GB/s × 1000 / clock_mhz"),
               ("latency", "'latency_cycles'"), ("burst", "'burst_bytes'"))


def _positive_int(name: str, doc: str, unit: str = "", default=REQUIRED,
                  default_doc: str | None = None) -> Field:
    return Field(name, int, doc, unit, default, minimum=0, exclusive=True,
                 default_doc=default_doc)


def _bandwidth(name: str, doc: str, unit: str, default=None) -> Field:
    return Field(name, float, doc, unit, default, minimum=0, exclusive=True, allow_inf=True,
                 default_doc="unbounded" if default is None else None)


def _word_bits(where: str) -> Field:
    return _positive_int("word_bits", f"Width of one data word at {where}.", "bits", None,
                         "top-level `word_bits`")


def _width_bits() -> Field:
    return _positive_int("width_bits", "Bits moved by one access (Timeloop's `width`); a "
                         "multiple of `word_bits`. `width_bits / word_bits` words form one "
                         "block, the unit that block-priced energies charge.", "bits", None,
                         "`word_bits`")


FANOUT = Section("fanout", "Copies of the next-inner level (or of the MAC units, below the "
                 "innermost level) per instance of this one, as an X × Y mesh.", (
    _positive_int("x", "Copies along the array's X axis (Timeloop's meshX).", "instances", 1),
    _positive_int("y", "Copies along the array's Y axis (Timeloop's meshY).", "instances", 1),
    Field("fill_drain_cycles", int, "Cycles each pass over this mesh costs beyond its MACs: "
          "a systolic array's pipeline fill and drain. A pass is one iteration of the temporal "
          "loops at this level and above (one fold, in SCALE-Sim's words); SCALE-Sim's arrays "
          "of X columns and Y rows take X + Y − 2 (output stationary) and 2·Y + X − 2 (weight "
          "stationary, its Y-cycle weight preload included).", "cycles", 0, minimum=0),
))

_FORMAT_DOC = (
    "How the tensor is stored; bits of a tile of n elements with nnz non-zeros, metadata "
    "included: `none` n·value_bits; `bitmask` n + nnz·value_bits; `rle` pairs·(run_bits + "
    "value_bits), or ceil(pairs / pairs_per_word)·packed_word_bits when packed, with pairs = "
    "nnz + Σ floor(L / 2^run_bits) over the zero runs L that end at a non-zero (an overflowing "
    "run is cut by a pair holding an explicit zero); `zero_run` the same entries, unpacked: "
    "entries·(run_bits + value_bits); `csr` (rows + 1)·pointer_bits + nnz·(index_bits + "
    "value_bits); `csc` (columns + 1)·pointer_bits + nnz·(index_bits + value_bits). Zeros after "
    "the last non-zero of a tile cost nothing; an empty tile costs 0.")


def _format_width(name: str, doc: str, default_doc: str) -> Field:
    return _positive_int(name, doc, "bits", None, default_doc)


COMPRESSION = Section("compression.*", "The format of one tensor (the key: `weights`, "
                      "`inputs` or `outputs`, a tensor the level keeps) at `dram` or a level. "
                      "Every tile of that tensor is stored in it, so buffer occupancy and "
                      "traffic count these bits. A key that the format does not use is an "
                      "error. Run formats read a tile in row-major order over the tensor's "
                      "axes (weights M C R S, inputs N C H W, outputs N M P Q).", (
    Field("format", str, _FORMAT_DOC, choices=FORMAT_NAMES),
    _format_width("value_bits", "Bits of one stored value.", "the level's `word_bits`"),
    _format_width("run_bits", "`rle`, `zero_run`: bits of a run (zeros before a non-zero); "
                  "a run of L zeros costs floor(L / 2^run_bits) extra entries holding a zero "
                  "value.",
                  "5 (`rle`, Eyeriss v1), 4 (`zero_run`, SCNN)"),
    _positive_int("pairs_per_word", "`rle`: (run, value) pairs packed into one memory word, "
                  "as Eyeriss packs three 5 + 16-bit pairs into 64 bits; a tile then takes "
                  "whole words.", "pairs", None, "none (pairs not packed)"),
    _format_width("packed_word_bits", "`rle` with `pairs_per_word`: bits of the memory word "
                  "the pairs are packed into (≥ pairs_per_word·(run_bits + value_bits)).",
                  "the level's `width_bits`"),
    _format_width("index_bits", "`csr`, `csc`: bits of the index stored with each non-zero "
                  "(its column for `csr`, its row for `csc`).", "required for `csr`, `csc`"),
    _format_width("pointer_bits", "`csr`, `csc`: bits of each of the rows + 1 (`csr`) or "
                  "columns + 1 (`csc`) pointers.", "required for `csr`, `csc`"),
    Field("row_axes", int, "`csr`, `csc`: a tile is a matrix whose rows are its first "
          "`row_axes` axes flattened and whose columns are the rest (row-major): 1 for weights "
          "is M × C·R·S; 2 for inputs is N·C × H·W (a row per channel plane).",
          "axes", None, choices=ROW_AXES,
          default_doc="1 for weights, 2 for inputs and outputs"),
), _COMPRESSION_HINTS)

_CONDITION_DOC = ("Tensors whose zeros trigger the action: it applies when any of them is zero "
                  "at the coordinates the action serves (so [inputs, weights] at the MACs "
                  "leaves only effectual MACs). At least one.")

SPARSE_ACTION = Section("sparse[]", "One sparse action of `dram` or a level (Sparseloop's "
                        "`action_optimization`): accesses of `target` at this level are "
                        "gated (energy of the table's gated actions, no cycle saved) or "
                        "skipped (neither energy nor cycles) where an operand is zero. At most "
                        "one action per kind and target.", (
    Field("kind", str, "`gate` or `skip`.", choices=ACTION_KINDS),
    Field("target", str, "The tensor whose accesses are gated or skipped; one this level "
          "keeps.", choices=TENSOR_NAMES),
    Field("condition_on", list, _CONDITION_DOC, choices=TENSOR_NAMES),
), _ACTION_HINTS)

COMPUTE_SPARSE = Section("compute.sparse[]", "One sparse action of the MAC units: a MAC is "
                         "gated (energy of `gated_compute_pj`, the cycle still spent) or "
                         "skipped (neither) when an operand is zero. At most one per kind.", (
    Field("kind", str, "`gate` or `skip`.", choices=ACTION_KINDS),
    Field("condition_on", list, _CONDITION_DOC, choices=TENSOR_NAMES),
), _ACTION_HINTS)


def _compression_field(where: str) -> Field:
    return Field("compression", dict, f"Format per tensor {where}; tensors left out are "
                 "stored uncompressed (`none`).", default=None, default_doc="none",
                 key_choices=TENSOR_NAMES, values=COMPRESSION)


def _sparse_field() -> Field:
    return Field("sparse", list, "Gating and skipping of this level's accesses.",
                 default=None, default_doc="none (dense)", values=SPARSE_ACTION)


LEVEL = Section("levels[]", "One on-chip storage level; the list runs from the outermost "
                "(next to DRAM) to the innermost (next to the MACs). Parallel buffers such as "
                "Eyeriss's three scratchpads are consecutive levels, each keeping its tensor.", (
    Field("name", str, "Unique name; also its entry in the energy table."),
    Field("keeps", list, "Tensors stored here; the others bypass this level. At least one.",
          choices=TENSOR_NAMES),
    _word_bits("this level"),
    _width_bits(),
    _positive_int("depth", "Number of rows of `width_bits`: capacity = depth × width_bits.",
                  "rows"),
    _positive_int("banks", "SRAM banks (Timeloop's n_banks).", "banks", 1),
    _bandwidth("read_bandwidth_words_per_cycle", "Words read per cycle per instance.",
               "words/cycle"),
    _bandwidth("write_bandwidth_words_per_cycle", "Words written per cycle per instance.",
               "words/cycle"),
    Field("fanout", FANOUT, "Mesh of next-inner copies below each instance.",
          default=None, default_doc="`{x: 1, y: 1}`"),
    _compression_field("in this level"),
    _sparse_field(),
), (*_STORAGE_HINTS, *_SPARSE_HINTS))

DRAM = Section("dram", "Off-chip memory: always `levels[0]` of the loaded architecture, keeping "
               "all three tensors, with one channel shared by reads and write-backs.", (
    Field("name", str, "Its name, also its entry in the energy table.", default="DRAM"),
    _word_bits("DRAM"),
    _width_bits(),
    _bandwidth("bandwidth_bytes_per_cycle", "Channel bandwidth per accelerator clock cycle "
               "(GB/s = this × clock_mhz / 1000). `.inf` = unbounded, as in Timeloop when no "
               "bandwidth is given.", "bytes/cycle", REQUIRED),
    Field("latency_cycles", int, "Cycles from a request to its first data.", "cycles", 0,
          minimum=0),
    _positive_int("burst_bytes", "Transfer granularity: every transfer is rounded up to whole "
                  "bursts.", "bytes", 64),
    _compression_field("in DRAM"),
    _sparse_field(),
), (*_DRAM_HINTS, *_SPARSE_HINTS))

COMPUTE = Section("compute", "The multiply-accumulate units below the innermost level.", (
    Field("name", str, "Their entry in the energy table.", default="mac"),
    _positive_int("macs_per_cycle", "MACs per unit per cycle.", "MACs/cycle", 1),
    _word_bits("the MAC units (operand width)"),
    Field("sparse", list, "Gating and skipping of MACs on zero operands.", default=None,
          default_doc="none (dense)", values=COMPUTE_SPARSE),
), _SPARSE_HINTS)

_PJ_PER_DOC = ("Unit of this entry's access energies (read/write/update and gated ones): "
               "`block` = per access of the level's `width_bits` (Accelergy's ERT and "
               "Timeloop's vector access), `word` = per word. Required when any access energy "
               "is given.")


def _energy_field(name: str, default_doc: str | None = None) -> Field:
    meta = next(item.metadata for item in fields(ActionEnergies) if item.name == name)
    unit = meta["unit"] if name not in ACCESS_FIELDS else "pJ per block or word (`pj_per`)"
    return Field(name, float, meta["doc"], unit, 0.0, minimum=0, default_doc=default_doc)


PER_TENSOR = Section("energy.components.*.per_tensor.*", "Access energies for one tensor, "
                     "overriding the component's own for that tensor only (same `pj_per`); "
                     "keys left out keep the component's value.",
                     tuple(_energy_field(name, "the component's") for name in ACCESS_FIELDS))

COMPONENT = Section("energy.components.*", "Explicit energies of one component (a storage "
                    "level, DRAM or the compute units), replacing the preset's entry of the "
                    "same name. Keys left out cost 0.", (
    Field("pj_per", str, _PJ_PER_DOC, choices=PJ_PER, default=None,
          default_doc="required with access energies"),
    *(_energy_field(item.name) for item in fields(ActionEnergies)),
    Field("per_tensor", dict, "Per-tensor variants of the access energies.", default=None,
          key_choices=TENSOR_NAMES, values=PER_TENSOR),
))

ENERGY = Section("energy", "Energy per action: a preset, explicit components, or a preset "
                 "with some components replaced. Every level, DRAM and the compute units "
                 "must end up with an entry.", (
    Field("preset", str, "A bundled table (see *Energy presets*).", choices=PRESET_NAMES,
          default=None),
    Field("components", dict, "Explicit entries by component name.", default=None,
          values=COMPONENT),
))

TOP = Section("top level", "The whole accelerator.", (
    Field("version", int, "Schema version.", choices=(SCHEMA_VERSION,)),
    Field("name", str, "Name shown in reports.", default=None,
          default_doc="the file name without `.yaml`"),
    Field("clock_mhz", float, "Clock frequency (turns cycles into seconds and GB/s).", "MHz",
          minimum=0, exclusive=True),
    _positive_int("word_bits", "Default `word_bits` of DRAM, every level and the compute "
                  "units.", "bits", None),
    Field("dataflow", str, "Default dataflow template for the mapper.",
          choices=DATAFLOW_NAMES, default=None),
    Field("dram", DRAM, "Off-chip memory."),
    Field("levels", list, "On-chip storage levels, outermost first.", values=LEVEL),
    Field("compute", COMPUTE, "The MAC units."),
    Field("energy", ENERGY, "Energy per action."),
), _TOP_HINTS)

SECTIONS = (TOP, DRAM, LEVEL, FANOUT, COMPRESSION, SPARSE_ACTION, COMPUTE, COMPUTE_SPARSE,
            ENERGY, COMPONENT, PER_TENSOR)


def schema_markdown() -> str:
    """The reference tables of docs/config.md, generated from the schema."""
    return "\n".join(section.markdown() for section in SECTIONS)
