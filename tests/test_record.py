"""record_trace: recorded input masks equal the layer inputs computed by hand, output masks
are taken after the activation that follows, weight masks and geometry come from the
modules, and the recorded geometry of every PyTorch model equals the model zoo's, name for
name (including which layers read the same tensor)."""

from __future__ import annotations

import collections
import importlib
import os

import numpy as np
import pytest

pytestmark = pytest.mark.torch
torch = (importlib.import_module("torch") if os.environ.get("ACCELSIM_REQUIRE_TORCH")
         else pytest.importorskip("torch", reason="needs the torch extra: "
                                  "pip install -e '.[torch,test]'"))

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from accelsim.errors import AccelsimError  # noqa: E402
from accelsim.models import build_model, load_weights, model_spec  # noqa: E402
from accelsim.record.hooks import RecordedProvenance, record_trace  # noqa: E402
from accelsim.workload import zoo  # noqa: E402
from accelsim.workload.layer import Layer  # noqa: E402
from accelsim.workload.trace import load_trace  # noqa: E402
from tests.conftest import shared_file  # noqa: E402

RESNET20 = "data/weights/cifar10_resnet_akamaster/resnet20_cifar10.npz"


def _record(model, x, **kwargs):
    return record_trace(model, x, RecordedProvenance("test"), **kwargs)


def _mask(tensor):
    return (tensor != 0).numpy()


class _Tiny(nn.Module):
    """conv -> ReLU -> strided grouped conv -> ReLU6 -> max pool -> Linear -> ReLU -> Linear"""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=2, dilation=1)
        self.fc1 = nn.Linear(4 * 2 * 2, 6)
        self.fc2 = nn.Linear(6, 3)
        with torch.no_grad():
            self.conv2.weight[0, 0] = 0  # a zero weight slice for the weight mask

    def forward(self, x):
        h = F.relu(self.conv1(x))
        g = F.relu6(self.conv2(h))
        f = torch.relu(self.fc1(torch.flatten(F.max_pool2d(g, 2), 1)))
        return self.fc2(f)


def test_recorded_masks_equal_the_layer_inputs_computed_by_hand():
    model = _Tiny()
    x = torch.randn(3, 2, 8, 8, generator=torch.Generator().manual_seed(1))
    x[0, 0, :2] = 0  # some zeros in the image as well
    trace = _record(model, x)
    with torch.no_grad():
        h = F.relu(model.conv1(x))
        g = F.relu6(model.conv2(h))
        pooled = torch.flatten(F.max_pool2d(g, 2), 1)
        f = torch.relu(model.fc1(pooled))
    assert [lt.layer.name for lt in trace.layers] == ["conv1", "conv2", "fc1", "fc2"]
    conv1, conv2, fc1, fc2 = trace.layers
    assert np.array_equal(conv1.input_mask, _mask(x))
    assert np.array_equal(conv2.input_mask, _mask(h))
    assert np.array_equal(fc1.input_mask, _mask(pooled).reshape(3, 16, 1, 1))
    assert np.array_equal(fc2.input_mask, _mask(f).reshape(3, 6, 1, 1))
    # Output masks: after the activation that follows (ReLU, ReLU6); none after fc2 (logits).
    assert np.array_equal(conv1.output_mask, _mask(h))
    assert np.array_equal(conv2.output_mask, _mask(g))
    assert np.array_equal(fc1.output_mask, _mask(f).reshape(3, 6, 1, 1))
    assert fc2.output_mask is None
    # Weight masks from the parameters.
    assert np.array_equal(conv2.weight_mask, _mask(model.conv2.weight.detach()))
    assert not conv2.weight_mask[0, 0].any()
    assert np.array_equal(fc1.weight_mask, _mask(model.fc1.weight.detach()).reshape(6, 16, 1, 1))
    # Geometry read from the modules and the input shape.
    assert conv2.layer == Layer("conv2", N=3, C=4, H=8, W=8, M=4, R=3, S=3, stride=2,
                                padding=1, groups=2)
    assert fc1.layer == Layer.fc("fc1", 16, 6, batch=3)


def test_resnet20_block_masks_equal_the_hand_computed_forward():
    model = build_model("resnet20_cifar10")
    load_weights(model, shared_file(RESNET20))
    model.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    trace = _record(model, x)
    with torch.no_grad():
        stem = F.relu(model.bn1(model.conv1(x)))
        block = model.layer1[0]
        inner = F.relu(block.bn1(block.conv1(stem)))
        out = F.relu(block.bn2(block.conv2(inner)) + stem)
        through = model.layer1[2](model.layer1[1](out))
        down = model.layer2[0]
        inner2 = F.relu(down.bn1(down.conv1(through)))
        shortcut = F.pad(through[:, :, ::2, ::2], (0, 0, 0, 0, 8, 8))
        out2 = F.relu(down.bn2(down.conv2(inner2)) + shortcut)
    assert np.array_equal(trace.layer("layer1.0.conv1").input_mask, _mask(stem))
    assert np.array_equal(trace.layer("layer1.0.conv2").input_mask, _mask(inner))
    assert np.array_equal(trace.layer("layer1.1.conv1").input_mask, _mask(out))
    assert np.array_equal(trace.layer("layer2.0.conv1").input_mask, _mask(through))
    assert np.array_equal(trace.layer("layer2.1.conv1").input_mask, _mask(out2))
    # The block's second conv: output mask after the residual add and the ReLU.
    assert np.array_equal(trace.layer("layer1.0.conv2").output_mask, _mask(out))
    assert np.array_equal(trace.layer("layer2.0.conv2").output_mask, _mask(out2))
    assert np.array_equal(trace.layer("conv1").output_mask, _mask(stem))
    assert trace.layer("linear").output_mask is None
    assert 0.2 < trace.layer("layer1.0.conv2").input_density < 0.9  # real zeros


def _partition(names):
    groups = collections.defaultdict(list)
    for index, name in enumerate(names):
        groups[name].append(index)
    return sorted(groups.values())


@pytest.mark.parametrize("name", ["resnet20_cifar10", "resnet32_cifar10", "resnet44_cifar10",
                                  "resnet56_cifar10", "resnet18", "resnet50", "lenet5"])
def test_recorded_geometry_equals_the_zoo(name):
    spec = model_spec(name)
    model = build_model(name)
    batch = 2 if spec.size <= 32 else 1
    x = torch.randn(batch, spec.channels, spec.size, spec.size)
    trace = _record(model, x, output_masks=False)
    expected = zoo.get_model(name, batch)
    assert [lt.layer.name for lt in trace.layers] == [layer.name for layer in expected]
    assert [lt.layer for lt in trace.layers] == list(expected)
    # Layers that read the same tensor (a block's conv1 and its downsample conv) match too.
    assert _partition([lt.layer.input_tensor for lt in trace.layers]) == \
        _partition([layer.input_tensor for layer in expected])


def test_torchvision_state_dict_keys_load():
    model = build_model("resnet18")
    keys = set(model.state_dict())
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight",
            "layer2.0.downsample.0.weight", "layer2.0.downsample.1.bias", "fc.weight",
            "fc.bias"} <= keys
    assert "layer4.2.conv3.weight" in build_model("resnet50").state_dict()


def test_mode_is_restored_and_trace_round_trips(tmp_path):
    model = _Tiny().train()
    trace = _record(model, torch.randn(1, 2, 8, 8))
    assert model.training
    trace.save(tmp_path / "t.npz")
    loaded = load_trace(tmp_path / "t.npz")
    assert loaded.info.source["kind"] == "recorded"
    for a, b in zip(trace.layers, loaded.layers, strict=True):
        assert a.layer == b.layer
        assert np.array_equal(a.input_mask, b.input_mask)
        assert np.array_equal(a.output_mask, b.output_mask)


def test_untraceable_model_is_recorded_without_output_masks():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            y = torch.relu(self.conv(x))
            return y if y.sum() > 0 else -y  # data-dependent: torch.fx cannot trace it

    trace = _record(Branchy(), torch.randn(1, 1, 5, 5))
    assert trace.layers[0].output_mask is None
    assert "could not trace" in trace.info.source["output_masks"]


def test_same_padding_is_recorded_as_symmetric_padding():
    model = nn.Sequential(nn.Conv2d(1, 2, 5, padding="same", dilation=2))
    layer = _record(model, torch.randn(1, 1, 9, 9)).layers[0].layer
    assert layer.padding == (4, 4) and (layer.P, layer.Q) == (9, 9)


@pytest.mark.parametrize("module, x, message", [
    (nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"), torch.randn(1, 1, 4, 4),
     "not zero padding"),
    (nn.Conv2d(1, 1, 2, padding="same"), torch.randn(1, 1, 4, 4), "asymmetrically"),
    (nn.Linear(4, 2), torch.randn(2, 3, 4), "2-D"),
    (nn.ReLU(), torch.randn(2, 3), "no Conv2d or Linear"),
])
def test_unrecordable_layers_are_one_line_errors(module, x, message):
    with pytest.raises(AccelsimError, match=message) as error:
        _record(nn.Sequential(module), x)
    assert "\n" not in str(error.value)


def test_a_layer_run_twice_is_an_error():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    with pytest.raises(AccelsimError, match="more than once"):
        _record(Twice(), torch.randn(1, 1, 4, 4))


def test_th_and_npz_checkpoints_load_the_same_tensors():
    from_npz, from_th = build_model("resnet20_cifar10"), build_model("resnet20_cifar10", seed=1)
    load_weights(from_npz, shared_file(RESNET20))
    load_weights(from_th, shared_file(
        "data/weights/cifar10_resnet_akamaster/resnet20-12fca82f.th"))
    for (key, a), b in zip(from_npz.state_dict().items(), from_th.state_dict().values(),
                           strict=True):
        assert torch.equal(a, b), key
