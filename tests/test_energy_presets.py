"""The presets are the cited Accelergy ERTs, number for number."""

from __future__ import annotations

import pytest
import yaml

from accelsim.energy import PRESET_NAMES, ActionEnergies, energy_preset
from tests.conftest import shared_file

SOURCES = {
    "eyeriss_65nm": "timeloop_ref/eyeriss_like/timeloop-mapper.ERT_summary.yaml",
    "accelergy_45nm": "timeloop_ref/ispass2020_timeloop+accelergy_intmac/"
                      "timeloop-mapper.ERT_summary.yaml",
}
# Accelergy action -> our field; a preset stores storage actions per block, as the ERT does.
ERT_ACTIONS = {"read": "read_pj", "write": "write_pj", "update": "update_pj",
               "compute": "compute_pj", "leak": "leak_pj_per_cycle"}


def _ert(relative: str) -> dict[str, dict[str, float]]:
    """Component name (``system_top_level.shared_glb[1..1]`` → ``shared_glb``) → actions."""
    document = yaml.safe_load(shared_file(relative).read_text())
    table = {}
    for entry in document["ERT_summary"]["table_summary"]:
        name = entry["name"].split("[")[0].split(".")[-1]
        table[name] = {action["name"]: action["energy"] for action in entry["actions"]}
    return table


def test_every_preset_has_a_source():
    assert set(PRESET_NAMES) == set(SOURCES)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_equals_its_ert(name):
    preset = energy_preset(name)
    ert = _ert(SOURCES[name])
    assert set(preset.names) == set(ert)
    for component, actions in ert.items():
        expected = ActionEnergies(**{ERT_ACTIONS[action]: value
                                     for action, value in actions.items()})
        assert preset.entry(component) == expected, component
    assert SOURCES[name].split("/")[1] in preset.source  # the source is cited


def test_ispass06_ert_is_the_65nm_one():
    """The ISPASS 06 run (VGG conv3_1) was priced with the same table as eyeriss_like."""
    assert _ert("timeloop_ref/ispass2020_06_eyeriss_vgg02_layer5/"
                "timeloop-mapper.ERT_summary.yaml") == _ert(SOURCES["eyeriss_65nm"])


def test_unknown_preset():
    with pytest.raises(KeyError, match="no energy preset 'x'; known: eyeriss_65nm, "
                                       "accelergy_45nm"):
        energy_preset("x")
