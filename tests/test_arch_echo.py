"""``architecture_to_dict`` is the YAML form: loading it gives the same architecture, and a
config edited in code is checked like a file (errors without line numbers)."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from accelsim.arch import architecture_from_yaml, architecture_to_dict, load_architecture
from accelsim.errors import ConfigError
from tests.conftest import REPO
from tests.test_arch_loader import MINIMAL

FIXTURES = sorted((REPO / "tests" / "data" / "arch").glob("*.yaml"))
CONFIGS = ["eyeriss_like", "eyeriss_v1", "simba_like", "systolic_ws", "systolic_os",
           *(str(path) for path in FIXTURES)]


def _same(a, b) -> bool:
    return dataclasses.replace(a, energy=None, source=None) == \
        dataclasses.replace(b, energy=None, source=None) and \
        a.energy.components == b.energy.components


@pytest.mark.parametrize("config", CONFIGS)
def test_round_trip(config):
    arch = load_architecture(config)
    again = architecture_from_yaml(architecture_to_dict(arch), "echo")
    assert _same(arch, again)


def test_round_trip_with_per_tensor_energies(tmp_path):
    text = MINIMAL.replace("    reg: {pj_per: word, read_pj: 0.1}\n",
                           "    reg: {pj_per: word, read_pj: 0.1, write_pj: 0.2,\n"
                           "          per_tensor: {weights: {read_pj: 0.0}}}\n")
    path = tmp_path / "a.yaml"
    path.write_text(text)
    arch = load_architecture(path)
    assert _same(arch, architecture_from_yaml(architecture_to_dict(arch), "echo"))


def test_edited_in_code_is_checked_like_a_file():
    data = architecture_to_dict(load_architecture("eyeriss_like"))
    edited = copy.deepcopy(data)
    edited["levels"][0]["depth"] = 8192
    assert architecture_from_yaml(edited, "sweep").levels[1].capacity_bytes == 64 * 1024
    edited["levels"][0]["depth"] = 0
    with pytest.raises(ConfigError) as info:
        architecture_from_yaml(edited, "sweep point 3")
    assert str(info.value) == "sweep point 3: levels[0].depth: expected an integer > 0, got 0"
    edited["levels"][0]["depht"] = 1
    with pytest.raises(ConfigError, match=r"^sweep: levels\[0\]: unknown key 'depht' \(did "
                                          r"you mean 'depth'\?\)"):
        architecture_from_yaml(edited, "sweep")
