"""PyTorch definitions of the zoo models that can be recorded and trained (torch extra).

Each ``ModelSpec`` pairs a builder with the input it expects (channels, size, normalisation),
so the data loader prepares images the way the model was trained. Module names equal the
model zoo's layer names (``accelsim.workload.zoo``), which is what lets a recorded trace be
checked against the zoo geometry name for name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from accelsim.config.keys import did_you_mean
from accelsim.errors import AccelsimError
from accelsim.record.torch_support import require_torch

require_torch()

from torch import nn  # noqa: E402

from accelsim.models.cifar_resnet import CifarResNet  # noqa: E402
from accelsim.models.lenet import LeNet5  # noqa: E402
from accelsim.models.resnet import resnet18, resnet50  # noqa: E402
from accelsim.models.weights import load_weights, read_checkpoint_meta  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """How to build a model and what input it expects."""

    name: str
    build: Callable[[], nn.Module]
    channels: int
    size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize: int | None  # shorter side before the centre crop (None: resize to ``size``)
    dataset: str


_SPECS = MappingProxyType({
    **{f"resnet{d}_cifar10": ModelSpec(f"resnet{d}_cifar10", lambda d=d: CifarResNet(d), 3, 32,
                                       IMAGENET_MEAN, IMAGENET_STD, None, "cifar10")
       for d in (20, 32, 44, 56)},
    "resnet18": ModelSpec("resnet18", resnet18, 3, 224, IMAGENET_MEAN, IMAGENET_STD, 256,
                          "imagenet"),
    "resnet50": ModelSpec("resnet50", resnet50, 3, 224, IMAGENET_MEAN, IMAGENET_STD, 256,
                          "imagenet"),
    "lenet5": ModelSpec("lenet5", LeNet5, 1, 32, (0.5,), (0.5,), None, "mnist"),
})

MODEL_NAMES: tuple[str, ...] = tuple(_SPECS)


def model_spec(name: str) -> ModelSpec:
    try:
        return _SPECS[name]
    except KeyError:
        raise AccelsimError(
            f"no PyTorch definition for model {name!r}{did_you_mean(name, MODEL_NAMES)}; "
            f"expected one of {', '.join(MODEL_NAMES)}", key="model") from None


def build_model(name: str, seed: int = 0) -> nn.Module:
    """A freshly initialised model (seeded, so an untrained model is reproducible)."""
    import torch

    spec = model_spec(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return spec.build()


__all__ = ["MODEL_NAMES", "ModelSpec", "build_model", "load_weights", "model_spec",
           "read_checkpoint_meta"]
