"""Fuzzing the loaders with hypothesis: whatever the bytes, only an ``AccelsimError`` (one
line, naming the file) may escape a loader — never a ``KeyError``, ``ValueError``,
``MemoryError`` or a hang.

Structured strategies mutate valid documents (drop keys, wrong types, NaN, negative and huge
numbers, unknown keys, shuffled lists) of every kind the tool reads: architecture YAML,
mapping YAML, ``.npz`` traces (manifest fields and arrays), SCALE-Sim CSV lines, Timeloop
problem YAML and activation profiles; byte strategies truncate, bit-flip and splice the
bundled files. The budget here is small and derandomized (CI runs the same examples every
time, with no example database); ``benchmarks/fuzz.py`` runs the same checks with a larger,
random budget. A crash found there goes into ``tests/bad_inputs/`` once fixed.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.arch.loader import load_architecture
from accelsim.errors import AccelsimError
from accelsim.mapping.yaml_io import load_mapping
from accelsim.workload.importers import import_workload
from accelsim.workload.layer import Layer
from accelsim.workload.synth import load_profile
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo, load_trace

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"

CI_EXAMPLES = 60
"""Examples per structured check in CI (the whole module stays well under 30 s)."""

FUZZ = settings(max_examples=CI_EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ----------------------------------------------------------------------------- the check


def expect_clean_failure(load: Callable[[Path], Any], path: Path) -> None:
    """``load(path)`` either succeeds or raises an ``AccelsimError`` whose one line names
    the file; any other exception propagates and fails the example."""
    try:
        load(path)
    except AccelsimError as err:
        text = str(err)
        assert "\n" not in text, text
        assert path.name in text, f"the error does not name {path.name}: {text}"


@contextlib.contextmanager
def written(name: str, content: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="accelsim-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        yield path


# ----------------------------------------------------------------------------- documents

ODD_VALUES = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 1, 3, 2**31, 2**53 + 1, 2**64, 10**40, -10**40,
                     0.5, -0.5, 1e-300, 1e308, math.nan, math.inf, -math.inf, "", "x",
                     "DRAM", "weights", "P8", "X3", "P0", "2:4", "1e9", [], {}, [1, 2],
                     {"x": 1}, ["weights", "weights"], {"kind": "gate"}]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
)
UNKNOWN_KEYS = st.sampled_from(["bogus", "depthh", "sparse", "version", "name", "levels",
                                "meshX", "<<", "1", "problem"])


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location in a JSON-like document, as a tuple of keys and indices."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


def _get(node: Any, path: tuple) -> Any:
    for step in path:
        node = node[step]
    return node


def mutate(data: st.DataObject, document: Any, max_mutations: int = 3) -> Any:
    """A copy of ``document`` with 1 to ``max_mutations`` random edits."""
    doc = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, max_mutations), label="mutations")):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths), label="at")
        op = data.draw(st.sampled_from(["replace", "replace", "replace", "delete", "add",
                                        "duplicate", "swap"]), label="op")
        if not path:
            if op == "replace":
                doc = copy.deepcopy(data.draw(ODD_VALUES, label="root"))
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        if op == "replace":
            parent[key] = copy.deepcopy(data.draw(ODD_VALUES, label="value"))
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[data.draw(UNKNOWN_KEYS, label="key")] = \
                copy.deepcopy(data.draw(ODD_VALUES, label="v"))
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif op == "swap" and isinstance(parent, list) and len(parent) > 1:
            other = data.draw(st.integers(0, len(parent) - 1), label="with")
            parent[key], parent[other] = parent[other], parent[key]
    return doc


def yaml_text(document: Any) -> bytes:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode("utf-8")


def _yaml_documents(paths: list[Path]) -> list[Any]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in paths]


ARCH_FILES = sorted((REPO / "hw_configs").glob("*.yaml")) + sorted((DATA / "arch").glob("*.yaml"))
MAPPING_FILES = sorted((DATA / "mappings").glob("*.yaml"))
TIMELOOP_FILES = sorted(DATA.glob("timeloop_*.yaml"))
SCALESIM_FILES = sorted(DATA.glob("scalesim_*.csv"))
PROFILE_FILES = sorted((REPO / "traces" / "profiles").glob("*.yaml"))

ARCH_DOCS = _yaml_documents(ARCH_FILES)
MAPPING_DOCS = _yaml_documents(MAPPING_FILES)
TIMELOOP_DOCS = _yaml_documents(TIMELOOP_FILES)

# The layer and architecture every mapping file of tests/data/mappings is checked against:
# Timeloop's default conv on eyeriss_like (the others then fail the fit check, cleanly).
DEFAULT_CONV = Layer("default_conv", N=1, C=3, H=224, W=224, M=32, R=3, S=3, stride=2,
                     padding=1)


def check_arch_document(data: st.DataObject) -> None:
    document = mutate(data, data.draw(st.sampled_from(ARCH_DOCS), label="config"))
    with written("arch.yaml", yaml_text(document)) as path:
        expect_clean_failure(load_architecture, path)


def check_mapping_document(data: st.DataObject) -> None:
    arch = load_architecture("eyeriss_like")
    document = mutate(data, data.draw(st.sampled_from(MAPPING_DOCS), label="mapping"))
    with written("mapping.yaml", yaml_text(document)) as path:
        expect_clean_failure(lambda p: load_mapping(p, DEFAULT_CONV, arch), path)


def check_timeloop_document(data: st.DataObject) -> None:
    document = mutate(data, data.draw(st.sampled_from(TIMELOOP_DOCS), label="problem"))
    with written("problem.yaml", yaml_text(document)) as path:
        expect_clean_failure(lambda p: import_workload(p, file_format="timeloop"), path)


def check_profile_document(data: st.DataObject) -> None:
    base = yaml.safe_load(data.draw(st.sampled_from(PROFILE_FILES)).read_text())
    document = mutate(data, base)
    with written("profile.yaml", yaml_text(document)) as path:
        expect_clean_failure(load_profile, path)


# ----------------------------------------------------------------------------- SCALE-Sim

CSV_ODD_FIELDS = st.one_of(
    st.sampled_from(["0", "-1", "99999999999999999999", "100000", "nan", "inf", "", "1.5",
                     "2:4", "5:4", "0:0", "1:1", "x", "#", "DP", "\ufeff3", " 0x10", "1_0"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=5),
)
CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
               "Num Filter, Strides,")
GEMM_HEADER = "Layer, M, N, K,"


@st.composite
def scalesim_csv(draw: st.DrawFn) -> bytes:
    """A topology whose rows are mostly plausible (so the checks past the header run), with
    odd fields, counts and headers mixed in."""
    form = draw(st.sampled_from(["conv", "conv", "gemm", "odd"]))
    header = {"conv": CONV_HEADER, "gemm": GEMM_HEADER}.get(form) or draw(st.sampled_from(
        ["", "Layer name,", "a,b,c,d", CONV_HEADER + " Sparsity,", "Layer, M, N, K, Sparsity"]))
    count = 8 if form == "conv" else 4
    lines = [header]
    for _ in range(draw(st.integers(0, 3), label="rows")):
        fields = [draw(st.sampled_from(["Conv1", "FC", "Conv5_DP", "Conv1", "", "x"]))]
        fields += [str(draw(st.integers(1, 12))) for _ in range(count - 1)]
        for _ in range(draw(st.integers(0, 2), label="odd fields")):
            at = draw(st.integers(0, len(fields)), label="at")
            edit = draw(st.sampled_from(["replace", "insert", "delete"]))
            if edit == "replace" and at < len(fields):
                fields[at] = draw(CSV_ODD_FIELDS)
            elif edit == "insert":
                fields.insert(at, draw(CSV_ODD_FIELDS))
            elif fields:
                fields.pop(min(at, len(fields) - 1))
        if draw(st.booleans(), label="sparsity"):
            fields.append(draw(st.sampled_from(["2:4", "1:4", "4:4", "3:8", "5:4", "0:4"])))
        lines.append(",".join(fields) + draw(st.sampled_from([",", "", ",#dw"])))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines).encode("utf-8")


def check_scalesim_text(data: st.DataObject) -> None:
    content = data.draw(scalesim_csv(), label="csv")
    with written("topology.csv", content) as path:
        expect_clean_failure(lambda p: import_workload(p, file_format="scalesim"), path)


# ----------------------------------------------------------------------------- npz traces


def toy_trace() -> Trace:
    """Two small layers with every optional array kind, so mutations reach all of them."""
    rng = np.random.default_rng(0)
    conv = Layer("conv", N=1, C=2, H=5, W=5, M=3, R=3, S=3, padding=1)
    fc = Layer.fc("fc", 4, 2)
    values = (rng.integers(-2, 3, conv.input_shape)).astype(np.int8)
    return Trace(TraceInfo(model="toy", source={"kind": "synthetic", "generator": "fuzz"},
                           notes={"n": 1}),
                 (LayerTrace(conv, values != 0, rng.random(conv.weight_shape) < 0.5,
                             output_mask=rng.random(conv.output_shape) < 0.5,
                             input_values=values),
                  LayerTrace.dense(fc)))


def npz_members(trace: Trace) -> dict[str, np.ndarray]:
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        trace.save(Path(folder) / "t.npz")
        buffer.write((Path(folder) / "t.npz").read_bytes())
    with zipfile.ZipFile(buffer) as archive:
        return {name[:-4]: np.lib.format.read_array(io.BytesIO(archive.read(name)))
                for name in archive.namelist()}


def npz_bytes(members: dict[str, Any]) -> bytes:
    """A zip of ``.npy`` members; a ``bytes`` member is stored as is (not an array)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in members.items():
            if isinstance(array, bytes):
                archive.writestr(name, array)
                continue
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=True)
            archive.writestr(f"{name}.npy", member.getvalue())
    return buffer.getvalue()


TOY_MEMBERS = npz_members(toy_trace())
TOY_MANIFEST = json.loads(TOY_MEMBERS["manifest"].tobytes())
ARRAY_DTYPES = st.sampled_from(["bool", "uint8", "int8", "int64", "float32", "float64", "U3",
                                "complex64", "O"])


@st.composite
def odd_array(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(ARRAY_DTYPES)
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=4)))
    size = math.prod(shape)
    if dtype == "O":
        return np.array([{"pickled": True}] * max(size, 1), dtype=object)
    raw = draw(st.lists(st.sampled_from([0, 1, 2, -1, 255, math.nan, math.inf]),
                        min_size=size, max_size=size))
    with np.errstate(all="ignore"):
        if dtype in ("bool", "uint8", "int8", "int64"):
            raw = [0 if not math.isfinite(v) else int(v) for v in raw]
            return np.array(raw, dtype=np.int64).astype(dtype).reshape(shape)
        return np.array(raw, dtype="float64").astype(dtype).reshape(shape)


def check_npz_contents(data: st.DataObject) -> None:
    members: dict[str, Any] = dict(TOY_MEMBERS)
    manifest = TOY_MANIFEST
    if data.draw(st.booleans(), label="edit manifest"):
        manifest = mutate(data, manifest)
    text = json.dumps(manifest, allow_nan=True)
    members["manifest"] = np.frombuffer(text.encode("utf-8"), np.uint8)
    for _ in range(data.draw(st.integers(0, 2), label="array edits")):
        name = data.draw(st.sampled_from(sorted(members)), label="member")
        op = data.draw(st.sampled_from(["replace", "replace", "delete", "add", "add", "raw"]),
                       label="op")
        if op == "replace":
            members[name] = data.draw(odd_array(), label="array")
        elif op == "delete":
            members.pop(name)
        elif op == "add":
            members[data.draw(st.sampled_from(["layers/0/weight_values", "layers/9/input_mask",
                                               "extra", "layers/1/output_mask"]))] = \
                data.draw(odd_array(), label="array")
        else:
            members["notes.txt"] = b"not an array"
    with written("trace.npz", npz_bytes(members)) as path:
        expect_clean_failure(load_trace, path)


# ----------------------------------------------------------------------------- bytes


@st.composite
def mutated_bytes(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` truncated, bit-flipped, with a span replaced, deleted or repeated."""
    content = bytearray(original)
    for _ in range(draw(st.integers(1, 3), label="byte edits")):
        size = len(content)
        op = draw(st.sampled_from(["truncate", "flip", "flip", "replace", "delete", "repeat"]))
        at = draw(st.integers(0, max(size - 1, 0)), label="offset")
        if op == "truncate":
            del content[at:]
        elif op == "flip" and size:
            content[at] ^= 1 << draw(st.integers(0, 7), label="bit")
        elif op == "replace":
            content[at:at + 4] = draw(st.binary(min_size=1, max_size=4), label="bytes")
        elif op == "delete":
            del content[at:at + draw(st.integers(1, 64))]
        elif op == "repeat":
            content[at:at] = content[at:at + draw(st.integers(1, 64))]
    return bytes(content)


def _toy_npz() -> bytes:
    return npz_bytes({k: v for k, v in TOY_MEMBERS.items()})


BYTE_TARGETS: dict[str, tuple[list[bytes], str, Callable[[Path], Any]]] = {
    "arch": ([p.read_bytes() for p in ARCH_FILES], "arch.yaml", load_architecture),
    "mapping": ([p.read_bytes() for p in MAPPING_FILES], "mapping.yaml", load_mapping),
    "timeloop": ([p.read_bytes() for p in TIMELOOP_FILES], "problem.yaml",
                 lambda p: import_workload(p, file_format="timeloop")),
    "scalesim": ([p.read_bytes() for p in SCALESIM_FILES], "topology.csv",
                 lambda p: import_workload(p, file_format="scalesim")),
    "trace": ([_toy_npz(), (REPO / "traces" / "resnet18.npz").read_bytes()], "trace.npz",
              load_trace),
}


def check_bytes(data: st.DataObject, target: str) -> None:
    originals, name, load = BYTE_TARGETS[target]
    original = data.draw(st.sampled_from(originals), label="file")
    content = data.draw(mutated_bytes(original), label="content")
    with written(name, content) as path:
        expect_clean_failure(load, path)


# ----------------------------------------------------------------------------- YAML text

YAML_SNIPPETS = st.sampled_from([
    "!!int x", "!!float y", "2001-02-30", "!!timestamp 2001-13-01", "*nosuch", "&a", "{",
    "[", "? [a]", "!Component", "!!binary AAA=", "!!python/object:os.system x", "<<: *a",
    "|", ">", "'unterminated", '"\\xZZ"', "9" * 5000, "- - -", "\t", "1e999", "0x1F",
    "0o17", ".NaN", "~", "!!set {a}", "!!omap [a: 1]", "!!str", "&a [*a]", "[" * 300,
    "\x00", "\x85", "\ufeff", "%YAML 1.1", "---", "...", "@", "`",
])


@st.composite
def yaml_text_edit(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` YAML with a value replaced by, or a line given, a YAML oddity (tags,
    bad dates, undefined aliases, unterminated flow, control characters) — what a mutation
    of parsed data cannot express."""
    lines = original.decode("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 2), label="text edits")):
        at = draw(st.integers(0, len(lines) - 1), label="line")
        snippet = draw(YAML_SNIPPETS, label="snippet")
        line = lines[at]
        how = draw(st.sampled_from(["value", "insert", "append"]), label="how")
        if how == "value" and ": " in line:
            lines[at] = line.split(": ", 1)[0] + ": " + snippet
        elif how == "insert":
            lines.insert(at, line[: len(line) - len(line.lstrip())] + snippet)
        else:
            lines[at] = line + snippet
    return "\n".join(lines).encode("utf-8")


TEXT_TARGETS: dict[str, tuple[list[bytes], str, Callable[[Path], Any]]] = {
    "arch": ([p.read_bytes() for p in ARCH_FILES], "arch.yaml", load_architecture),
    "mapping": ([p.read_bytes() for p in MAPPING_FILES], "mapping.yaml", load_mapping),
    "timeloop": ([p.read_bytes() for p in TIMELOOP_FILES], "problem.yaml",
                 lambda p: import_workload(p, file_format="timeloop")),
    "profile": ([p.read_bytes() for p in PROFILE_FILES], "profile.yaml", load_profile),
}


def check_yaml_text(data: st.DataObject, target: str) -> None:
    originals, name, load = TEXT_TARGETS[target]
    original = data.draw(st.sampled_from(originals), label="file")
    content = data.draw(yaml_text_edit(original), label="content")
    with written(name, content) as path:
        expect_clean_failure(load, path)


STRUCTURED_CHECKS: dict[str, Callable[[st.DataObject], None]] = {
    "arch_yaml": check_arch_document,
    "mapping_yaml": check_mapping_document,
    "timeloop_yaml": check_timeloop_document,
    "profile_yaml": check_profile_document,
    "scalesim_csv": check_scalesim_text,
    "npz_trace": check_npz_contents,
}
BYTE_CHECKS: dict[str, Callable[[st.DataObject], None]] = {
    f"bytes_{target}": (lambda data, target=target: check_bytes(data, target))
    for target in BYTE_TARGETS
}
TEXT_CHECKS: dict[str, Callable[[st.DataObject], None]] = {
    f"text_{target}": (lambda data, target=target: check_yaml_text(data, target))
    for target in TEXT_TARGETS
}
CHECKS = {**STRUCTURED_CHECKS, **TEXT_CHECKS, **BYTE_CHECKS}
"""Every fuzz check by name (``benchmarks/fuzz.py`` runs them with a larger budget)."""


# ----------------------------------------------------------------------------- CI tests


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_only_accelsim_errors_escape(name: str) -> None:
    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        CHECKS[name](data)

    run()


def test_the_bases_load() -> None:
    """The documents the strategies mutate are valid, so mutations start from good input."""
    for path in ARCH_FILES:
        load_architecture(path)
    arch = load_architecture("eyeriss_like")
    load_mapping(MAPPING_FILES[0], DEFAULT_CONV, arch)
    for path in TIMELOOP_FILES:
        import_workload(path)
    for path in SCALESIM_FILES:
        import_workload(path)
    for path in PROFILE_FILES:
        load_profile(path)
    with written("toy.npz", _toy_npz()) as path:
        assert [lt.layer.name for lt in load_trace(path).layers] == ["conv", "fc"]


def test_the_check_catches_a_stray_exception(tmp_path) -> None:
    """The fuzz check fails on anything but an AccelsimError (so the tests above can fail)."""
    path = tmp_path / "x.yaml"
    path.write_text("x")

    def crash(_: Path) -> None:
        raise KeyError("levels")

    with pytest.raises(KeyError):
        expect_clean_failure(crash, path)

    def unnamed(_: Path) -> None:
        raise AccelsimError("no file named")

    with pytest.raises(AssertionError, match=r"does not name x\.yaml"):
        expect_clean_failure(unnamed, path)
