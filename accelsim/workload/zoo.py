"""Model zoo: the conv and FC layer geometry of well-known CNNs, in forward order.

Synthetic traces are built from these geometries and recorded traces (made by PyTorch
hooks) are checked against them name for name, so every layer carries the module name it
has in the reference PyTorch implementation named in ``describe_model``, and the list is in
the order those hooks fire (a ResNet block's ``downsample`` conv runs after its last conv).

Each layer's ``input_tensor`` names the tensor it reads, after the module that produced it
in the reference model, ignoring modules that are in-place or the identity at inference
(ReLU, Dropout, flatten and torchvision's ``AdaptiveAvgPool2d`` at its native size). Layers
that read the same tensor (a block's first conv and its downsample conv) share that name;
every other layer reads a tensor of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from types import MappingProxyType

from accelsim.config.keys import did_you_mean
from accelsim.errors import AccelsimError
from accelsim.workload.layer import Layer, conv_output_size

IMAGE = "input"


@dataclass(frozen=True, slots=True)
class _Conv:
    """One square convolution of a model description: output channels, kernel, stride."""

    out: int
    kernel: int
    stride: int = 1
    padding: int | None = None  # None: "same" padding, kernel // 2
    groups: int = 1


@dataclass(frozen=True, slots=True)
class _Stage:
    """What a stage hands to the next: its layers, and the tensor it leaves behind."""

    layers: tuple[Layer, ...]
    channels: int
    size: int
    tensor: str


def _conv(name: str, batch: int, channels: int, size: int, spec: _Conv, reads: str) -> Layer:
    padding = spec.kernel // 2 if spec.padding is None else spec.padding
    return Layer(name=name, N=batch, C=channels, H=size, W=size, M=spec.out, R=spec.kernel,
                 S=spec.kernel, stride=spec.stride, padding=padding, groups=spec.groups,
                 input_tensor=reads)


def _pool(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    return conv_output_size(size, kernel, stride, padding, 1)


def _fc_chain(names: Sequence[str], features: Sequence[int], batch: int,
              reads: str) -> tuple[Layer, ...]:
    """FC layers ``features[0] -> features[1] -> ...``; each reads the previous one's output."""
    layers = []
    for name, (fan_in, fan_out) in zip(names, pairwise(features), strict=True):
        layers.append(Layer.fc(name, fan_in, fan_out, batch, input_tensor=reads))
        reads = name
    return tuple(layers)


# --- AlexNet and VGG: torchvision's ``features`` / ``classifier`` Sequential layout -------

# None in a feature list is a max-pool; a conv takes two indices (conv, in-place ReLU).
_Features = Sequence[_Conv | None]


def _features(batch: int, cfg: _Features, size: int, pool: tuple[int, int]) -> _Stage:
    """Convs of a ``features`` Sequential, indexed as torchvision's ``make_layers`` does."""
    layers: list[Layer] = []
    channels, tensor, index = 3, IMAGE, 0
    for spec in cfg:
        if spec is None:
            size = _pool(size, *pool)
            tensor = f"features.{index}"
            index += 1
            continue
        layer = _conv(f"features.{index}", batch, channels, size, spec, tensor)
        layers.append(layer)
        channels, size, tensor = layer.M, layer.P, layer.name
        index += 2
    return _Stage(tuple(layers), channels, size, tensor)


_ALEXNET = (_Conv(96, 11, 4, padding=0), None, _Conv(256, 5, groups=2), None, _Conv(384, 3),
            _Conv(384, 3, groups=2), _Conv(256, 3, groups=2), None)


def _alexnet(batch: int) -> tuple[Layer, ...]:
    features = _features(batch, _ALEXNET, 227, pool=(3, 2))
    flat = features.channels * features.size**2
    return features.layers + _fc_chain(("classifier.1", "classifier.4", "classifier.6"),
                                       (flat, 4096, 4096, 1000), batch, features.tensor)


def _vgg_cfg(widths: Sequence[int], repeats: Sequence[int]) -> tuple[_Conv | None, ...]:
    cfg: list[_Conv | None] = []
    for width, count in zip(widths, repeats, strict=True):
        cfg += [_Conv(width, 3)] * count + [None]
    return tuple(cfg)


def _vgg16(batch: int) -> tuple[Layer, ...]:
    cfg = _vgg_cfg((64, 128, 256, 512, 512), (2, 2, 3, 3, 3))
    features = _features(batch, cfg, 224, pool=(2, 2))
    flat = features.channels * features.size**2
    return features.layers + _fc_chain(("classifier.0", "classifier.3", "classifier.6"),
                                       (flat, 4096, 4096, 1000), batch, features.tensor)


# --- ResNets ------------------------------------------------------------------------------


def _residual_block(prefix: str, batch: int, previous: _Stage, main: Sequence[_Conv],
                    shortcut_conv: bool) -> _Stage:
    """Main-path convs ``conv1..convK`` (each reading the previous one's ``bnK``), then the
    1×1 ``downsample.0`` conv on the block input when the shape changes and the model uses
    projection shortcuts (torchvision); option-A models (akamaster) pad with zeros instead."""
    layers: list[Layer] = []
    channels, size, tensor = previous.channels, previous.size, previous.tensor
    for k, spec in enumerate(main, start=1):
        layer = _conv(f"{prefix}.conv{k}", batch, channels, size, spec, tensor)
        layers.append(layer)
        channels, size, tensor = layer.M, layer.P, f"{prefix}.bn{k}"
    if shortcut_conv and (size != previous.size or channels != previous.channels):
        shortcut = _Conv(channels, 1, previous.size // size, padding=0)
        layers.append(_conv(f"{prefix}.downsample.0", batch, previous.channels,
                            previous.size, shortcut, previous.tensor))
    return _Stage(tuple(layers), channels, size, prefix)


BlockMain = Callable[[int, int], tuple[_Conv, ...]]


def _basic(width: int, stride: int) -> tuple[_Conv, ...]:
    return (_Conv(width, 3, stride), _Conv(width, 3))


def _bottleneck(width: int, stride: int) -> tuple[_Conv, ...]:
    """torchvision v1.5: the stride sits in the 3×3 conv, not the first 1×1."""
    return (_Conv(width, 1), _Conv(width, 3, stride), _Conv(4 * width, 1))


def _resnet_stages(batch: int, stem: _Stage, widths: Sequence[int], blocks: Sequence[int],
                   main: BlockMain, shortcut_conv: bool) -> _Stage:
    """``layer1..layerK``; the first block of every stage after the first has stride 2."""
    layers = list(stem.layers)
    current = stem
    for stage, (width, count) in enumerate(zip(widths, blocks, strict=True), start=1):
        for block in range(count):
            stride = 2 if stage > 1 and block == 0 else 1
            current = _residual_block(f"layer{stage}.{block}", batch, current,
                                      main(width, stride), shortcut_conv)
            layers += current.layers
    return _Stage(tuple(layers), current.channels, current.size, current.tensor)


Builder = Callable[[int], tuple[Layer, ...]]


def _torchvision_resnet(blocks: Sequence[int], main: BlockMain) -> Builder:
    def build(batch: int) -> tuple[Layer, ...]:
        conv1 = _conv("conv1", batch, 3, 224, _Conv(64, 7, 2), IMAGE)
        stem = _Stage((conv1,), 64, _pool(conv1.P, 3, 2, 1), "maxpool")
        body = _resnet_stages(batch, stem, (64, 128, 256, 512), blocks, main, True)
        return (*body.layers, Layer.fc("fc", body.channels, 1000, batch, "avgpool"))
    return build


def _cifar_resnet(depth: int) -> Builder:
    """He et al. 2016 §4.2: depth = 6n + 2, n basic blocks per stage, option-A shortcuts."""
    blocks = (depth - 2) // 6

    def build(batch: int) -> tuple[Layer, ...]:
        conv1 = _conv("conv1", batch, 3, 32, _Conv(16, 3), IMAGE)
        stem = _Stage((conv1,), 16, 32, "bn1")
        body = _resnet_stages(batch, stem, (16, 32, 64), (blocks,) * 3, _basic, False)
        return (*body.layers, Layer.fc("linear", body.channels, 10, batch, "avgpool"))
    return build


# --- MobileNet V1 and LeNet-5 -------------------------------------------------------------

# (pointwise output channels, depthwise stride) of the 13 depthwise-separable blocks.
_MOBILENET_V1 = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5,
                 (1024, 2), (1024, 1))


def _mobilenet_v1(batch: int) -> tuple[Layer, ...]:
    """``model.i.0`` is block i's 3×3 (depthwise) conv, ``model.i.3`` its 1×1 pointwise conv."""
    stem = _conv("model.0.0", batch, 3, 224, _Conv(32, 3, 2), IMAGE)
    layers = [stem]
    channels, size, tensor = stem.M, stem.P, "model.0.1"
    for i, (out, stride) in enumerate(_MOBILENET_V1, start=1):
        depthwise = _conv(f"model.{i}.0", batch, channels, size,
                          _Conv(channels, 3, stride, groups=channels), tensor)
        pointwise = _conv(f"model.{i}.3", batch, channels, depthwise.P, _Conv(out, 1),
                          f"model.{i}.1")
        layers += [depthwise, pointwise]
        channels, size, tensor = out, pointwise.P, f"model.{i}.4"
    pool = f"model.{len(_MOBILENET_V1) + 1}"
    return (*layers, Layer.fc("fc", channels, 1000, batch, pool))


def _lenet5(batch: int) -> tuple[Layer, ...]:
    """Conv C1 and C3 (C3 fully connected to S2, as in common PyTorch versions), 2×2 pools."""
    conv1 = _conv("conv1", batch, 1, 32, _Conv(6, 5, padding=0), IMAGE)
    conv2 = _conv("conv2", batch, 6, _pool(conv1.P, 2, 2), _Conv(16, 5, padding=0), "pool1")
    flat = conv2.M * _pool(conv2.P, 2, 2) ** 2
    return (conv1, conv2, *_fc_chain(("fc1", "fc2", "fc3"), (flat, 120, 84, 10), batch,
                                     "pool2"))


# --- Registry -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Model:
    description: str
    build: Builder


_CIFAR = ("He et al. 2016 CIFAR-10 ResNet-{d} (option-A shortcuts, 32x32 input, 10 classes); "
          "names and shapes as akamaster/pytorch_resnet_cifar10")

_MODELS = MappingProxyType({
    "alexnet": _Model("AlexNet (Krizhevsky et al. 2012): 227x227 input, conv2/4/5 grouped "
                      "(groups=2) as in the two-GPU original; names follow torchvision's "
                      "features.N / classifier.N", _alexnet),
    "vgg16": _Model("VGG-16 (Simonyan & Zisserman 2015, config D): 224x224, 13 conv + 3 FC; "
                    "names as torchvision.models.vgg16", _vgg16),
    "resnet18": _Model("ResNet-18 (He et al. 2016): 224x224, basic blocks with 1x1 projection "
                       "shortcuts; names as torchvision.models.resnet18",
                       _torchvision_resnet((2, 2, 2, 2), _basic)),
    "resnet50": _Model("ResNet-50 v1.5 (He et al. 2016; stride in the 3x3 conv): 224x224, "
                       "bottleneck blocks; names as torchvision.models.resnet50",
                       _torchvision_resnet((3, 4, 6, 3), _bottleneck)),
    "mobilenet_v1": _Model("MobileNet V1 1.0-224 (Howard et al. 2017): 13 depthwise-separable "
                           "blocks + 1000-class FC; names model.N.K as in the common PyTorch "
                           "port (marvis/pytorch-mobilenet)", _mobilenet_v1),
    **{f"resnet{d}_cifar10": _Model(_CIFAR.format(d=d), _cifar_resnet(d))
       for d in (20, 32, 44, 56)},
    "lenet5": _Model("LeNet-5 (LeCun et al. 1998): 1x32x32 input, conv1, conv2, fc1-fc3, "
                     "C3 fully connected as in common PyTorch versions", _lenet5),
})

MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)


def _model(name: str) -> _Model:
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise AccelsimError(
            f"unknown model {name!r}{did_you_mean(name, MODEL_NAMES)}; expected one of "
            f"{', '.join(MODEL_NAMES)}", key="model") from None


def get_model(name: str, batch: int = 1) -> tuple[Layer, ...]:
    """The conv and FC layers of model ``name`` in forward (hook) order, at batch ``batch``."""
    model = _model(name)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise AccelsimError(f"batch must be a positive integer, got {batch!r}", key="batch")
    return model.build(batch)


def describe_model(name: str) -> str:
    """One line: what the model is and which paper / implementation its geometry follows."""
    return _model(name).description
