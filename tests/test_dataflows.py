"""Dataflow templates: data only, consistent with the architecture schema and with the
sources they cite."""

from __future__ import annotations

import pytest

from accelsim.arch import DATAFLOW_NAMES, bundled_names, load_architecture
from accelsim.arch.spec import Tensor
from accelsim.mapping.dataflows import (
    DATAFLOWS,
    INPUTS_STAY,
    OUTPUTS_STAY,
    ROW_STATIONARY,
    WEIGHTS_STAY,
    Dataflow,
    LoopOrder,
    get_dataflow,
)
from accelsim.mapping.model import DIMS, MappingError
from tests.conftest import shared_file

W, I, O = Tensor.WEIGHTS, Tensor.INPUTS, Tensor.OUTPUTS
RELEVANT = {W: set("MCRS"), I: set("NCPQRS"), O: set("NMPQ")}


def test_one_template_per_dataflow_name():
    assert tuple(DATAFLOWS) == DATAFLOW_NAMES
    for name, flow in DATAFLOWS.items():
        assert flow.name == name
        assert get_dataflow(name) is flow


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_config_names_a_template(name):
    assert load_architecture(name).dataflow in DATAFLOWS


@pytest.mark.parametrize("flow", DATAFLOWS.values(), ids=DATAFLOWS)
def test_templates_are_well_formed(flow):
    for dims in (flow.spatial_x, flow.spatial_y, *(loops for _, loops in flow.pe_loops)):
        assert set(dims) <= set(DIMS)
        assert len(set(dims)) == len(dims)
    assert {tensor for tensor, _ in flow.pe_loops} == set(Tensor)
    for order in flow.buffer_orders:
        assert sorted(order.dims) == sorted(DIMS)
    assert flow.source


@pytest.mark.parametrize(("name", "tensor"), [("weight_stationary", W),
                                              ("output_stationary", O),
                                              ("input_stationary", I)])
def test_stationary_templates_keep_their_tensor_still(name, tensor):
    """Each PE owns its own piece of the stationary tensor: the array unrolls only
    dimensions that index it; inside a PE the innermost loops leave it unchanged; the
    preferred buffer order runs its irrelevant dimensions innermost."""
    flow = DATAFLOWS[name]
    assert flow.stationary is tensor
    assert set(flow.spatial_x) | set(flow.spatial_y) <= RELEVANT[tensor]
    pe = dict(flow.pe_loops)[tensor]
    assert pe[0] not in RELEVANT[tensor]
    first = flow.buffer_orders[0].dims
    irrelevant = set(DIMS) - RELEVANT[tensor]
    assert set(first[:len(irrelevant)]) == irrelevant


def test_row_stationary_follows_timeloops_eyeriss_constraints():
    """../shared/timeloop_ref/eyeriss_like/arch.yaml: PE_column (meshX 14) factors
    N=C=P=R=S=1 leave Q and M on X; PE (meshY 12) factors N=P=Q=R=1 leave S, C and M on Y,
    permutation [N, P, Q, R, S, C, M] (S innermost); psum_spad loops only M, weights_spad
    only C and R (permutation [.., C, R]: C inner), ifmap_spad nothing."""
    text = shared_file("timeloop_ref/eyeriss_like/arch.yaml").read_text()
    assert "factors: [N=1, C=1, P=1, R=1, S=1]" in text
    assert "factors: [N=1, P=1, Q=1, R=1]" in text
    assert set(ROW_STATIONARY.spatial_x) == {"Q", "M"}
    assert ROW_STATIONARY.spatial_y == ("S", "C", "M")
    assert dict(ROW_STATIONARY.pe_loops) == {O: ("M",), W: ("C", "R"), I: ()}


def test_pe_dims_of_a_level_keeping_several_tensors_is_the_union_in_order():
    assert ROW_STATIONARY.pe_dims(frozenset({O})) == ("M",)
    assert ROW_STATIONARY.pe_dims(frozenset({O, W})) == ("M", "C", "R")
    assert ROW_STATIONARY.pe_dims(frozenset({I})) == ()


def test_loop_orders_keep_what_they_say():
    assert set(OUTPUTS_STAY.dims[:3]) == set("CRS")
    assert set(WEIGHTS_STAY.dims[:3]) == set("NPQ")
    assert INPUTS_STAY.dims[0] == "M"
    with pytest.raises(ValueError, match="permutation"):
        LoopOrder("broken", ("M", "C"))


def test_unknown_dimension_in_a_template_is_refused():
    with pytest.raises(ValueError, match="unknown dimensions"):
        Dataflow("bad", "test", ("Z",), (), (), (OUTPUTS_STAY,))


def test_unknown_dataflow_is_a_one_line_error_with_a_suggestion():
    with pytest.raises(MappingError) as err:
        get_dataflow("row_stationery")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("dataflow: expected one of row_stationary")
    assert "did you mean 'row_stationary'" in message
    assert "got 'row_stationery'" in message
