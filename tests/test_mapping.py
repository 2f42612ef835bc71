"""Mappings: the type's checks, the YAML form (round trip and one-line errors), the
map.txt-style printout and the parser of Timeloop's map.txt."""

from __future__ import annotations

import re

import pytest

from accelsim.arch.spec import Tensor
from accelsim.errors import AccelsimError, ConfigError
from accelsim.mapping import LevelMapping, Loop, Mapping, MappingError, check_mapping
from accelsim.mapping.model import check_factors
from accelsim.mapping.printout import format_mapping
from accelsim.mapping.timeloop_map import parse_timeloop_map
from accelsim.mapping.yaml_io import dump_mapping, load_mapping, parse_mapping, save_mapping
from accelsim.workload.layer import Layer
from tests.conftest import shared_file
from tests.test_nest_analysis_timeloop import CASES, DEFAULT_CONV, MAPPINGS, eyeriss_like

EYERISS = MAPPINGS / "eyeriss_like.yaml"


def _one_line(err: AccelsimError) -> str:
    text = str(err)
    assert "\n" not in text
    return text


# -- the type ------------------------------------------------------------------------------

def test_loop_rejects_unknown_dimension_and_bad_bound() -> None:
    with pytest.raises(MappingError, match="one of N M C P Q R S, got 'X'"):
        Loop("X", 2)
    with pytest.raises(MappingError, match="positive integer, got 0"):
        Loop("P", 0)


def test_factors_perfect_and_ceil_div() -> None:
    check_factors("P", (8, 14), 112)
    check_factors("P", (4, 3), 10)           # ceil(10/3) = 4: last tile has 1 row
    with pytest.raises(MappingError, match=r"factors of P \(5x3 = 15\) must multiply to 10"):
        check_factors("P", (5, 3), 10)       # 5 is not ceil(10/3)
    with pytest.raises(MappingError, match=r"factors of P \(8x13 = 104\) must multiply to 112"):
        check_factors("P", (8, 13), 112)


def test_describe_is_one_line() -> None:
    layer, arch, _ = CASES["eyeriss_like"]
    mapping = load_mapping(EYERISS, layer, arch)
    assert mapping.describe() == ("DRAM[P8 Q2 M4] shared_glb[P14 Q4 | X:Q14 Y:C3 S3] "
                                  "ifmap_spad[] weights_spad[R3] psum_spad[M8]")
    assert mapping.factors("Q") == (2, 4, 14)


# -- YAML ----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_yaml_round_trip(case: str, tmp_path) -> None:
    layer, arch, _ = CASES[case]
    mapping = load_mapping(MAPPINGS / f"{case}.yaml", layer, arch)
    assert parse_mapping(dump_mapping(mapping), "x.yaml", layer, arch) == mapping
    save_mapping(tmp_path / "m.yaml", mapping, comment="written by a test")
    text = (tmp_path / "m.yaml").read_text()
    assert text.startswith("# written by a test\nversion: 1\n")
    assert load_mapping(tmp_path / "m.yaml", layer, arch) == mapping
    assert dump_mapping(mapping) == dump_mapping(load_mapping(tmp_path / "m.yaml"))


BAD_YAML = [
    ("version: 1\nlevelz: []\n", "m.yaml:2: levelz: unknown key (did you mean 'levels'?)"),
    ("levels: []\n", "m.yaml:1: mapping: missing required key 'version'"),
    ("version: 2\nlevels: []\n", "m.yaml:1: version: expected 1, got 2"),
    ("version: 1\nlevels: []\n", "m.yaml:2: levels: expected a non-empty list"),
    ("version: 1\nlevels:\n  - level: DRAM\n    temporal: [P8, X2]\n",
     "m.yaml:4: levels[0].temporal[1]: expected a loop like 'P8'"),
    ("version: 1\nlevels:\n  - level: DRAM\n    temporal: P8\n",
     "m.yaml:4: levels[0].temporal: expected a list of loops"),
    ("version: 1\nlevels:\n  - level: DRAM\n    keeps: [weigths]\n",
     "m.yaml:4: levels[0].keeps[0]: expected one of weights, inputs, outputs "
     "(did you mean 'weights'?)"),
    ("version: 1\nlevels:\n  - levl: DRAM\n", "m.yaml:3: levels[0].levl: unknown key"),
]


@pytest.mark.parametrize(("text", "message"), BAD_YAML)
def test_yaml_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(text, "m.yaml")
    assert _one_line(caught.value).startswith(message)


def _eyeriss_text(**replace: str) -> str:
    text = EYERISS.read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


def test_factors_that_do_not_multiply_to_the_layer_name_the_line() -> None:
    layer, arch, _ = CASES["eyeriss_like"]
    text = _eyeriss_text(**{"[P8, Q2, M4]": "[P7, Q2, M4]"})
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, "m.yaml", layer, arch)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "P7" in s)
    assert _one_line(caught.value) == (
        f"m.yaml:{line}: P: factors of P (7x14 = 98) must multiply to 112, or split it "
        "imperfectly with the outermost factor ceil(112/14) = 8")


def test_spatial_factors_beyond_the_fanout_are_rejected() -> None:
    layer, arch, _ = CASES["eyeriss_like"]
    text = _eyeriss_text(**{"spatial_y: [C3, S3]": "spatial_y: [C3, S3, M2]",
                            "temporal: [M8]": "temporal: [M4]"})
    with pytest.raises(MappingError, match=r"m.yaml:\d+: levels\[1\]: spatial factors X=14 "
                                           r"Y=18 exceed the fan-out 14x12 of shared_glb"):
        parse_mapping(text, "m.yaml", layer, arch)


def test_levels_must_match_the_architecture() -> None:
    layer, arch, _ = CASES["eyeriss_like"]
    text = _eyeriss_text(**{"level: ifmap_spad": "level: ifmap"})
    with pytest.raises(MappingError, match="levels: levels must be DRAM, shared_glb, "
                                           "ifmap_spad, weights_spad, psum_spad in this order"):
        parse_mapping(text, "m.yaml", layer, arch)


def test_missing_file_is_one_line(tmp_path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping(tmp_path / "none.yaml")
    assert _one_line(caught.value).endswith("none.yaml: no such file")


def test_dram_must_keep_everything() -> None:
    layer, arch, _ = CASES["eyeriss_like"]
    mapping = load_mapping(EYERISS)
    levels = (LevelMapping("DRAM", mapping.levels[0].temporal, keeps=frozenset({Tensor.INPUTS})),
              *mapping.levels[1:])
    with pytest.raises(MappingError, match="outermost level must keep every tensor"):
        check_mapping(Mapping(levels), layer, arch)


# -- printout and map.txt ------------------------------------------------------------------

def _without_containers(text: str) -> str:
    """Timeloop prints its spatial containers as levels keeping nothing; we print their
    loops under the level whose fan-out they use."""
    return re.sub(r"\n\S+ \[ \] \n-+\n", "\n", re.sub(r"\n\n(\S+ \[ \] )", r"\n\1", text))


@pytest.mark.parametrize("case", sorted(CASES))
def test_printout_matches_timeloop_map_txt(case: str) -> None:
    layer, arch, _ = CASES[case]
    mapping = load_mapping(MAPPINGS / f"{case}.yaml", layer, arch)
    printed = format_mapping(mapping, layer, arch)
    reference = shared_file(f"timeloop_ref/{case}/timeloop-mapper.map.txt").read_text()
    assert printed == _without_containers(reference)
    assert parse_timeloop_map(printed, arch) == mapping


def test_printout_shows_residuals_of_imperfect_splits() -> None:
    layer = Layer("l", N=1, C=3, H=12, W=112, M=32, R=3, S=3, padding=(0, 1))   # P = 10
    arch = eyeriss_like()
    mapping = parse_mapping(_eyeriss_text(**{"[P8, Q2, M4]": "[P4, Q2, M4]",
                                            "[P14, Q4]": "[P3, Q4]"}), "m.yaml")
    printed = format_mapping(mapping, layer, arch)
    assert "| for P in [0:4)\n" in printed          # outer loop: always 4 runs
    assert "for P in [0:3,1)\n" in printed          # inner: 1 run when the outer is last
    assert parse_timeloop_map(printed, arch) == mapping


MAP_ERRORS = [
    ("DRAM [ Weights:1 (1) ] \nfoo [ Inputs:3 (3) ] \n",
     "map.txt:2: level 'foo' keeps Inputs but the architecture has no such level"),
    ("DRAM [ ] \n| for X in [0:3)\n", "map.txt:2: unknown dimension 'X'"),
    ("DRAM [ ] \nshared_glb [ ] \ninter [ ] \n| for P in [0:3)\n",
     "map.txt:4: temporal loop in spatial level 'inter' cannot be placed"),
    ("DRAM [ ] \nhello\n", "map.txt:2: expected a level header"),
    ("shared_glb [ ] \nDRAM [ ] \n", "map.txt:2: level 'DRAM' is out of the architecture's"),
    ("DRAM [ ] \n", "map.txt: architecture level 'shared_glb' is missing from the map"),
]


@pytest.mark.parametrize(("text", "message"), MAP_ERRORS)
def test_map_txt_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_timeloop_map(text, eyeriss_like(), file="map.txt")
    assert _one_line(caught.value).startswith(message)


def test_parsed_map_checks_against_the_layer() -> None:
    text = shared_file("timeloop_ref/eyeriss_like/timeloop-mapper.map.txt").read_text()
    mapping = parse_timeloop_map(text, eyeriss_like())
    check_mapping(mapping, DEFAULT_CONV, eyeriss_like())
    other = Layer("other", N=1, C=3, H=226, W=226, M=32, R=3, S=3, stride=2, padding=1)
    with pytest.raises(MappingError, match="factors of P"):
        check_mapping(mapping, other, eyeriss_like())
