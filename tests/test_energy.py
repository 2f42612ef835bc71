"""``energy(counts, table)``: a pure Σ count × pJ per count whose breakdowns (by component,
tensor and action) each sum to the total — by hand-worked examples and by hypothesis."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.arch.spec import Tensor
from accelsim.energy import (
    Action,
    ActionCount,
    ActionCounts,
    ActionEnergies,
    ComponentEnergy,
    EnergyTable,
    energy,
    leak_counts,
)

GLB = ComponentEnergy("glb", ActionEnergies(read_pj=16.0, write_pj=8.0, update_pj=12.0,
                                            leak_pj_per_cycle=0.5), block_words=8)
SPAD = ComponentEnergy(
    "spad", ActionEnergies(read_pj=1.0, write_pj=2.0, update_pj=2.0, gated_read_pj=0.1),
    per_tensor=((Tensor.OUTPUTS, ActionEnergies(read_pj=3.0, update_pj=4.0)),))
MAC = ComponentEnergy("mac", ActionEnergies(compute_pj=0.25, gated_compute_pj=0.01,
                                            leak_pj_per_cycle=0.002))
TABLE = EnergyTable("toy", (GLB, SPAD, MAC), "hand-made")


def test_hand_worked_example():
    counts = ActionCounts.of([
        ActionCount("glb", Action.READ, 80, Tensor.INPUTS),     # 80 words = 10 blocks
        ActionCount("glb", Action.UPDATE, 16, Tensor.OUTPUTS),  # 2 blocks
        ActionCount("spad", Action.READ, 5, Tensor.WEIGHTS),
        ActionCount("spad", Action.READ, 5, Tensor.OUTPUTS),    # per-tensor 3 pJ
        ActionCount("spad", Action.GATED_READ, 10, Tensor.WEIGHTS),
        ActionCount("mac", Action.COMPUTE, 100),
        ActionCount("mac", Action.GATED_COMPUTE, 100),
        *leak_counts({"glb": 1, "mac": 4}, cycles=10),
    ])
    result = energy(counts, TABLE)
    glb = 10 * 16.0 + 2 * 12.0 + 0.5 * 10
    spad = 5 * 1.0 + 5 * 3.0 + 10 * 0.1
    mac = 100 * 0.25 + 100 * 0.01 + 0.002 * 40
    assert result.by_component == {"glb": pytest.approx(glb), "spad": pytest.approx(spad),
                                   "mac": pytest.approx(mac)}
    assert result.total_pj == pytest.approx(glb + spad + mac)
    assert result.total_uj == pytest.approx((glb + spad + mac) * 1e-6)
    assert result.leakage_pj == pytest.approx(0.5 * 10 + 0.002 * 40)
    assert result.by_tensor[None] == pytest.approx(mac + 0.5 * 10)
    assert result.by_tensor[Tensor.OUTPUTS] == pytest.approx(24.0 + 15.0)
    assert result.by_action[Action.GATED_READ] == pytest.approx(1.0)
    assert result.component_pj("glb", Action.READ) == pytest.approx(160.0)
    assert result.tensor_pj("spad", Tensor.WEIGHTS) == pytest.approx(6.0)
    assert list(result.by_component) == ["glb", "spad", "mac"]  # the table's order


def test_per_word_and_per_block_agree():
    per_block = ComponentEnergy("b", ActionEnergies(read_pj=18.183829), block_words=8)
    per_word = ComponentEnergy("b", ActionEnergies(read_pj=18.183829 / 8))
    assert per_block.pj_per_count(Action.READ) == pytest.approx(per_word.pj_per_count(Action.READ))
    # compute and leakage are never divided by the block size
    wide = ComponentEnergy("w", ActionEnergies(compute_pj=1.0, leak_pj_per_cycle=2.0), 8)
    assert wide.pj_per_count(Action.COMPUTE) == 1.0
    assert wide.pj_per_count(Action.LEAK) == 2.0


def test_tensor_names_as_plain_text_work_too():
    counts = ActionCounts.of([ActionCount("spad", Action.READ, 1, "outputs")])
    assert energy(counts, TABLE).total_pj == 3.0


def test_empty_counts():
    result = energy(ActionCounts(), TABLE)
    assert result.total_pj == 0.0 and result.by_component == {} and result.terms == ()


def test_unknown_component_is_a_key_error_naming_the_known_ones():
    with pytest.raises(KeyError, match="has no component 'dram' \\(it has glb, spad, mac\\)"):
        energy(ActionCounts.of([ActionCount("dram", Action.READ, 1)]), TABLE)


@pytest.mark.parametrize("count", [-1, math.inf, math.nan, True, "3"])
def test_bad_counts_are_rejected(count):
    with pytest.raises((ValueError, TypeError)):
        ActionCount("glb", Action.READ, count)


def test_counts_and_tables_are_frozen():
    item = ActionCount("glb", Action.READ, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.count = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TABLE.name = "x"  # type: ignore[misc]
    result = energy(ActionCounts.of([item]), TABLE)
    with pytest.raises(TypeError):
        result.by_component["glb"] = 0.0  # type: ignore[index]


def test_pure_same_inputs_same_result():
    counts = ActionCounts.of([ActionCount("glb", Action.READ, 8), ActionCount("mac",
                                                                              Action.COMPUTE, 3)])
    assert energy(counts, TABLE) == energy(counts, TABLE)
    assert counts + counts == ActionCounts(counts.items * 2)


def test_leakage_power_and_to_dict():
    assert TABLE.leakage_pj_per_cycle({"glb": 1, "mac": 168}) == pytest.approx(0.5 + 0.336)
    echoed = TABLE.to_dict()
    assert echoed["components"]["glb"] == {"block_words": 8, "read_pj": 16.0, "write_pj": 8.0,
                                           "update_pj": 12.0, "leak_pj_per_cycle": 0.5}
    assert echoed["components"]["spad"]["per_tensor"] == {"outputs": {"read_pj": 3.0,
                                                                      "update_pj": 4.0}}
    result = energy(ActionCounts.of([ActionCount("mac", Action.COMPUTE, 4)]), TABLE)
    assert result.to_dict() == {"total_pj": 1.0, "by_component": {"mac": 1.0},
                                "by_tensor": {"none": 1.0}, "by_action": {"compute": 1.0}}


# --- hypothesis: breakdowns sum to the total, and the total is Σ counts × table ----------

_pj = st.floats(min_value=0, max_value=1e3, allow_nan=False)
_energies = st.builds(ActionEnergies, **{f.name: _pj for f in dataclasses.fields(ActionEnergies)})
_tensor = st.sampled_from([None, *Tensor])


@st.composite
def tables_and_counts(draw):
    names = draw(st.lists(st.sampled_from(["DRAM", "glb", "spad", "reg", "mac"]), min_size=1,
                          max_size=5, unique=True))
    components = []
    for name in names:
        overrides = draw(st.dictionaries(st.sampled_from(list(Tensor)), _energies, max_size=3))
        components.append(ComponentEnergy(name, draw(_energies),
                                          draw(st.integers(min_value=1, max_value=32)),
                                          tuple(overrides.items())))
    table = EnergyTable("random", tuple(components))
    counts = draw(st.lists(st.builds(
        ActionCount, st.sampled_from(names), st.sampled_from(list(Action)),
        st.one_of(st.integers(min_value=0, max_value=10**9),
                  st.floats(min_value=0, max_value=1e9, allow_nan=False)), _tensor),
        max_size=40))
    return table, ActionCounts.of(counts)


@settings(max_examples=200, deadline=None)
@given(tables_and_counts())
def test_breakdowns_sum_to_total_and_total_is_counts_times_table(case):
    table, counts = case
    result = energy(counts, table)
    expected = math.fsum(
        item.count * table.component(item.component).energies(item.tensor).of(item.action)
        / (table.component(item.component).block_words if item.action.is_access else 1)
        for item in counts)
    assert result.total_pj == pytest.approx(expected, rel=1e-12, abs=1e-9)
    for split in (result.by_component, result.by_tensor, result.by_action):
        assert math.fsum(split.values()) == pytest.approx(result.total_pj, rel=1e-12, abs=1e-9)
    assert math.fsum(term.energy_pj for term in result.terms) == result.total_pj
    assert len(result.terms) == len(counts)
    for term in result.terms:
        assert term.energy_pj == term.count * term.pj_each


@settings(max_examples=100, deadline=None)
@given(tables_and_counts(), st.integers(min_value=1, max_value=1000))
def test_energy_is_linear_in_counts(case, factor):
    table, counts = case
    scaled = ActionCounts.of(dataclasses.replace(item, count=item.count * factor)
                             for item in counts)
    assert energy(scaled, table).total_pj == pytest.approx(
        energy(counts, table).total_pj * factor, rel=1e-9, abs=1e-6)
