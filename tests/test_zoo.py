"""Model zoo geometry: closed-form MAC / weight arithmetic, published figures (cited where
they are checked), the layer chain of every model, and the names recorded traces rely on."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from accelsim.errors import AccelsimError
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.zoo import MODEL_NAMES, describe_model, get_model

SHARED_WEIGHTS = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "weights"
                  / "cifar10_resnet_akamaster")
CIFAR_DEPTHS = (20, 32, 44, 56)
RESNETS = ("resnet18", "resnet50", *(f"resnet{d}_cifar10" for d in CIFAR_DEPTHS))


def total_macs(layers: tuple[Layer, ...]) -> int:
    return sum(layer.macs for layer in layers)


def total_weights(layers: tuple[Layer, ...]) -> int:
    return sum(layer.weight_size for layer in layers)


def by_name(name: str, batch: int = 1) -> dict[str, Layer]:
    return {layer.name: layer for layer in get_model(name, batch)}


def published_params(name: str) -> int:
    """Weights plus what published parameter counts add: a bias per output channel on every
    layer of the bias-carrying models; BN scale+shift (2·M) on every conv and a bias on the
    FC layers of the BN models (torchvision ResNets, akamaster ResNets, MobileNet)."""
    layers = get_model(name)
    if name in ("alexnet", "vgg16", "lenet5"):
        extra = sum(layer.M for layer in layers)
    else:
        extra = sum(2 * layer.M if layer.kind is LayerKind.CONV else layer.M for layer in layers)
    return total_weights(layers) + extra


# --- registry and errors ----------------------------------------------------------------


def test_model_names_are_stable() -> None:
    assert MODEL_NAMES == ("alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v1",
                           "resnet20_cifar10", "resnet32_cifar10", "resnet44_cifar10",
                           "resnet56_cifar10", "lenet5")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_describe_model_is_one_line_with_a_source(name: str) -> None:
    text = describe_model(name)
    assert text and "\n" not in text
    assert any(source in text for source in ("et al.", "Zisserman", "torchvision", "akamaster"))


def test_unknown_model_is_one_line_with_suggestion() -> None:
    with pytest.raises(AccelsimError) as err:
        get_model("resnet19")
    assert str(err.value) == (
        "model: unknown model 'resnet19' (did you mean 'resnet18'?); expected one of "
        + ", ".join(MODEL_NAMES))
    with pytest.raises(AccelsimError, match=r"^model: unknown model 'x'; expected one of"):
        describe_model("x")


@pytest.mark.parametrize("batch", [0, -1, True, 1.5, "2"])
def test_bad_batch_is_rejected(batch: object) -> None:
    with pytest.raises(AccelsimError, match=r"^batch: batch must be a positive integer, got "):
        get_model("lenet5", batch)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_batch_scales_macs_linearly_and_leaves_weights(name: str) -> None:
    one, four = get_model(name), get_model(name, batch=4)
    assert all(layer.N == 4 for layer in four)
    assert [layer.macs for layer in four] == [4 * layer.macs for layer in one]
    assert total_weights(four) == total_weights(one)
    assert [layer.with_batch(4) for layer in one] == list(four)


def test_models_are_deterministic_values() -> None:
    assert get_model("resnet50") == get_model("resnet50")


# --- the layer chain of every model ------------------------------------------------------


def _readers(layers: tuple[Layer, ...]) -> dict[str, list[Layer]]:
    readers: dict[str, list[Layer]] = defaultdict(list)
    for layer in layers:
        readers[layer.input_tensor].append(layer)
    return readers


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_names_unique_convs_then_fcs(name: str) -> None:
    layers = get_model(name)
    assert len({layer.name for layer in layers}) == len(layers)
    kinds = [layer.kind for layer in layers]
    first_fc = kinds.index(LayerKind.FC)
    assert set(kinds[:first_fc]) == {LayerKind.CONV}
    assert set(kinds[first_fc:]) == {LayerKind.FC}
    assert layers[0].input_tensor == "input"
    image_channels = 1 if name == "lenet5" else 3
    classes = 10 if name in ("lenet5", *RESNETS[2:]) else 1000
    assert (layers[0].input_shape[1], layers[-1].output_shape[1]) == (image_channels, classes)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_only_a_block_input_is_read_twice(name: str) -> None:
    """Shared tensors are exactly (block conv1, block downsample.0) pairs of equal input."""
    for tensor, readers in _readers(get_model(name)).items():
        if len(readers) == 1:
            continue
        first, shortcut = readers
        assert shortcut.name == first.name.replace("conv1", "downsample.0"), tensor
        assert first.input_shape == shortcut.input_shape


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_layer_reads_what_the_previous_main_path_layer_wrote(name: str) -> None:
    """Channels match exactly; spatial size may only shrink (pooling) between layers; an FC
    layer reads the flattened (channels × k × k) output of the last conv."""
    previous: Layer | None = None
    for layer in get_model(name):
        if ".downsample." in layer.name:
            continue  # checked against its block in the residual test below
        if previous is not None:
            if layer.kind is LayerKind.FC and previous.kind is LayerKind.CONV:
                side = math.isqrt(layer.C // previous.M)
                assert (layer.C, layer.C_per_group) == (previous.M * side**2,) * 2, layer.name
                assert side <= previous.P, layer.name
            else:
                assert layer.C == previous.M, layer.name
                assert layer.H <= previous.P and layer.W <= previous.Q, layer.name
        previous = layer


def _blocks(layers: tuple[Layer, ...]) -> dict[str, list[Layer]]:
    blocks: dict[str, list[Layer]] = defaultdict(list)
    for layer in layers:
        if layer.name.startswith("layer"):
            blocks[".".join(layer.name.split(".")[:2])].append(layer)
    return blocks


@pytest.mark.parametrize("name", RESNETS)
def test_residual_add_shapes_match(name: str) -> None:
    """Block output = block input, or = downsample output (torchvision), or = the input with
    spatial size halved and channels doubled by option-A zero padding (akamaster)."""
    for prefix, block in _blocks(get_model(name)).items():
        first = block[0]
        main = [layer for layer in block if ".downsample." not in layer.name]
        out = main[-1]
        shortcut = [layer for layer in block if ".downsample." in layer.name]
        if (out.M, out.P) == (first.C, first.H):
            assert not shortcut, prefix
        elif name.endswith("cifar10"):
            assert not shortcut and (out.M, 2 * out.P) == (2 * first.C, first.H), prefix
        else:
            (conv,) = shortcut
            assert block[-1] is conv, "downsample runs after the block's last conv"
            assert (conv.R, conv.input_tensor) == (1, first.input_tensor)
            assert conv.output_shape == out.output_shape, prefix


@pytest.mark.parametrize("name", RESNETS)
def test_resnet_stage_widths_follow_the_papers(name: str) -> None:
    layers = get_model(name)
    widths = (16, 32, 64) if name.endswith("cifar10") else (64, 128, 256, 512)
    expansion = 4 if name == "resnet50" else 1
    for stage, width in enumerate(widths, start=1):
        ends = [layer.M for layer in layers if layer.name.startswith(f"layer{stage}.")
                and layer.name.endswith(("conv2", "conv3")[expansion == 4])]
        assert set(ends) == {width * expansion}, (stage, ends)


# --- torchvision / akamaster / port names --------------------------------------------------


def test_alexnet_and_vgg_use_torchvision_indices() -> None:
    assert [layer.name for layer in get_model("alexnet")] == [
        "features.0", "features.3", "features.6", "features.8", "features.10",
        "classifier.1", "classifier.4", "classifier.6"]
    # torchvision.models.vgg16().state_dict() weight keys.
    conv = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
    assert [layer.name for layer in get_model("vgg16")] == [
        *(f"features.{i}" for i in conv), "classifier.0", "classifier.3", "classifier.6"]


def test_resnet18_names_and_hook_order() -> None:
    names = [layer.name for layer in get_model("resnet18")]
    assert names[:6] == ["conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1",
                         "layer1.1.conv2", "layer2.0.conv1"]
    assert names[6:8] == ["layer2.0.conv2", "layer2.0.downsample.0"]
    assert names[-1] == "fc"
    assert [n for n in names if "downsample" in n] == [
        f"layer{s}.0.downsample.0" for s in (2, 3, 4)]


def test_resnet50_names_and_counts() -> None:
    names = [layer.name for layer in get_model("resnet50")]
    # 1 stem conv + 16 bottlenecks × 3 convs + 4 downsample convs + fc = 54.
    assert len(names) == 54
    assert names[1:5] == ["layer1.0.conv1", "layer1.0.conv2", "layer1.0.conv3",
                          "layer1.0.downsample.0"]
    assert sum("downsample" in n for n in names) == 4


def test_mobilenet_names_and_depthwise_layers() -> None:
    layers = get_model("mobilenet_v1")
    assert [layer.name for layer in layers[:3]] == ["model.0.0", "model.1.0", "model.1.3"]
    assert layers[-1].name == "fc" and len(layers) == 1 + 13 * 2 + 1
    for layer in layers[1:-1]:
        depthwise = layer.name.endswith(".0")
        assert layer.is_depthwise == depthwise and (layer.R == 3) == depthwise, layer.name


@pytest.mark.parametrize("depth", CIFAR_DEPTHS)
def test_cifar_resnets_match_akamaster_checkpoints(depth: int) -> None:
    """Every conv/linear weight of the shipped checkpoint (state-dict order = hook order, since
    option-A blocks have no shortcut convs) has the zoo layer's name and weight shape, and
    the checkpoint's trainable tensors count exactly what ``published_params`` adds up."""
    path = SHARED_WEIGHTS / f"resnet{depth}_cifar10.npz"
    if not path.exists():
        pytest.fail(f"missing shared checkpoint {path} (see ../shared/README.md)")
    state = np.load(path)
    weights = [key for key in state.files if key.endswith(".weight") and state[key].ndim in (2, 4)]
    layers = get_model(f"resnet{depth}_cifar10")
    assert [key.removesuffix(".weight") for key in weights] == [layer.name for layer in layers]
    for key, layer in zip(weights, layers, strict=True):
        expected = layer.weight_shape if layer.kind is LayerKind.CONV else (layer.M, layer.C)
        assert state[key].shape == expected, key
    trainable = [key for key in state.files
                 if key.endswith((".weight", ".bias"))]
    assert sum(state[key].size for key in trainable) == published_params(
        f"resnet{depth}_cifar10")


# --- one exact hand-computed layer per family ------------------------------------------------


def test_exact_layer_arithmetic() -> None:
    # N·M·(C/groups)·P·Q·R·S, written out.
    assert by_name("alexnet")["features.3"].macs == 1 * 256 * (96 // 2) * 27 * 27 * 5 * 5
    assert by_name("vgg16")["features.0"].macs == 1 * 64 * 3 * 224 * 224 * 3 * 3 == 86_704_128
    assert by_name("resnet18")["conv1"].macs == 1 * 64 * 3 * 112 * 112 * 7 * 7 == 118_013_952
    r50 = by_name("resnet50")
    # v1.5: layer2.0.conv1 is a stride-1 1×1 on 56×56, the stride-2 sits in conv2.
    assert r50["layer2.0.conv1"].macs == 128 * 256 * 56 * 56 == 102_760_448
    assert r50["layer2.0.conv2"].stride == (2, 2)
    assert r50["layer2.0.conv2"].macs == 128 * 128 * 28 * 28 * 9 == 115_605_504
    assert r50["layer2.0.downsample.0"].macs == 512 * 256 * 28 * 28 == 102_760_448
    mobilenet = by_name("mobilenet_v1")
    assert mobilenet["model.1.0"].macs == 32 * 1 * 112 * 112 * 3 * 3 == 3_612_672
    assert mobilenet["model.1.3"].macs == 64 * 32 * 112 * 112 == 25_690_112
    assert mobilenet["model.13.0"].stride == (1, 1)  # Table 1's "s2" here is a known typo
    assert by_name("resnet20_cifar10")["layer2.0.conv1"].macs == 32 * 16 * 16 * 16 * 9
    assert by_name("lenet5")["conv1"].macs == 6 * 1 * 28 * 28 * 5 * 5 == 117_600
    assert by_name("lenet5")["fc1"].macs == 16 * 5 * 5 * 120 == 48_000


# --- published MAC and parameter counts ------------------------------------------------------


def test_alexnet_conv_macs_match_eyeriss() -> None:
    """Chen et al., "Eyeriss", IEEE JSSC 52(1) 2017, and Sze et al., "Efficient Processing of
    DNNs", Proc. IEEE 2017 (666 M conv MACs): AlexNet CONV1-5 per image, in millions."""
    convs = [layer for layer in get_model("alexnet") if layer.kind is LayerKind.CONV]
    assert [layer.macs for layer in convs] == [
        96 * 3 * 55 * 55 * 11 * 11, 256 * 48 * 27 * 27 * 5 * 5, 384 * 256 * 13 * 13 * 3 * 3,
        384 * 192 * 13 * 13 * 3 * 3, 256 * 192 * 13 * 13 * 3 * 3]
    assert [round(layer.macs / 1e6, 1) for layer in convs] == [105.4, 223.9, 149.5, 112.1, 74.8]
    assert round(total_macs(tuple(convs)) / 1e6, 1) == 665.8
    # Sze et al.: FC MACs = FC weights = 58.6 M, total 724 M MACs.
    fcs = [layer for layer in get_model("alexnet") if layer.kind is LayerKind.FC]
    assert round(total_macs(tuple(fcs)) / 1e6, 1) == round(total_weights(tuple(fcs)) / 1e6, 1)
    assert round(total_macs(tuple(fcs)) / 1e6, 1) == 58.6
    assert round(total_macs(get_model("alexnet")) / 1e6) == 724


def test_alexnet_matches_sparseloop_eyeriss_workload() -> None:
    """../shared/timeloop_ref/sparseloop_micro22_artifact_derived/
    eyeriss_v1_alexnet_table7_dram_compression_derived.txt: per-group C 3/48/256/192/192,
    M 96/256/384/384/256, P=Q 55/27/13/13/13, weight words of CONV3-5; and README.md:
    CONV3 at N=4 is 598.1 M MACs."""
    convs = [layer for layer in get_model("alexnet", batch=4) if layer.kind is LayerKind.CONV]
    assert [layer.C_per_group for layer in convs] == [3, 48, 256, 192, 192]
    assert [layer.M for layer in convs] == [96, 256, 384, 384, 256]
    assert [layer.P for layer in convs] == [55, 27, 13, 13, 13]
    assert [layer.weight_size for layer in convs[2:]] == [884736, 663552, 442368]
    assert round(convs[2].macs / 1e6, 1) == 598.1


def test_vgg16_macs_match_torchvision() -> None:
    """torchvision model docs, VGG16_Weights.IMAGENET1K_V1: 15.47 GFLOPS (multiply-adds);
    Sze et al. 2017: 15.3 G conv + 124 M FC."""
    layers = get_model("vgg16")
    assert round(total_macs(layers) / 1e9, 2) == 15.47
    fcs = tuple(layer for layer in layers if layer.kind is LayerKind.FC)
    assert total_macs(fcs) == 25088 * 4096 + 4096 * 4096 + 4096 * 1000 == 123_633_664
    assert round((total_macs(layers) - total_macs(fcs)) / 1e9, 1) == 15.3


def test_resnet18_macs_match_torchvision() -> None:
    """torchvision docs, ResNet18_Weights.IMAGENET1K_V1: 1.81 GFLOPS; 1.814 G to 4 digits."""
    assert round(total_macs(get_model("resnet18")) / 1e9, 3) == 1.814


def test_resnet50_macs_match_torchvision() -> None:
    """torchvision docs, ResNet50_Weights.IMAGENET1K_V1 (v1.5): 4.09 GFLOPS, within 1 %."""
    assert total_macs(get_model("resnet50")) == pytest.approx(4.09e9, rel=0.01)


def test_mobilenet_macs_match_paper() -> None:
    """Howard et al. 2017, MobileNets, Table 8: 1.0 MobileNet-224 has 569 M mult-adds."""
    assert total_macs(get_model("mobilenet_v1")) == pytest.approx(569e6, rel=0.01)


def test_cifar_resnet_macs_closed_form() -> None:
    """Depth 6n+2: stem 16·3·9·32², stage 1 2n convs 16·16·9·32², stages 2 and 3 one
    stride-2 conv (C→2C) and 2n−1 convs at width 2C on (32/2^k)², then a 64→10 FC."""
    for depth in CIFAR_DEPTHS:
        n = (depth - 2) // 6
        expected = (16 * 3 * 9 * 32**2 + 2 * n * 16 * 16 * 9 * 32**2
                    + sum((2 * c * c * 9 + (2 * n - 1) * 4 * c * c * 9) * side**2
                          for c, side in ((16, 16), (32, 8)))
                    + 64 * 10)
        assert total_macs(get_model(f"resnet{depth}_cifar10")) == expected, depth


def test_resnet20_and_resnet56_macs_match_published() -> None:
    """ResNet-20: the 40.8 M commonly quoted in the CIFAR compression literature (within 1 %;
    the remainder is BN/ReLU/add work that FLOP counters include). ResNet-56: Li et al.,
    "Pruning Filters for Efficient ConvNets", ICLR 2017, Table 1: 1.25E8 FLOPs."""
    assert total_macs(get_model("resnet20_cifar10")) == pytest.approx(40.8e6, rel=0.01)
    assert round(total_macs(get_model("resnet56_cifar10")) / 1e8, 2) == 1.25


def test_lenet5_parameters_match_lecun() -> None:
    """LeCun et al. 1998, §II.B: C1 156, C5 48,120 and F6 10,164 trainable parameters. C3
    has 1,516 there (a sparse S2→C3 connection table); ours, like common PyTorch versions,
    is fully connected: 16·(6·25 + 1) = 2,416."""
    with_bias = [layer.weight_size + layer.M for layer in get_model("lenet5")]
    assert with_bias == [156, 2_416, 48_120, 10_164, 850]


def test_lenet5_totals() -> None:
    assert total_macs(get_model("lenet5")) == (
        117_600 + 16 * 6 * 10 * 10 * 25 + 400 * 120 + 120 * 84 + 84 * 10) == 416_520


@pytest.mark.parametrize(("name", "published", "rel", "source"), [
    ("resnet18", 11_689_512, 0.0, "torchvision docs, ResNet18_Weights num_params"),
    ("resnet50", 25_557_032, 0.0, "torchvision docs, ResNet50_Weights num_params"),
    ("vgg16", 138_357_544, 0.0, "torchvision docs, VGG16_Weights num_params"),
    ("alexnet", 61e6, 0.005, "Krizhevsky et al. 2012 / Sze et al. 2017: 61 M"),
    ("mobilenet_v1", 4.2e6, 0.01, "Howard et al. 2017, Table 8: 4.2 M"),
    ("resnet20_cifar10", 0.27e6, 0.01, "He et al. 2016, Table 6: 0.27 M"),
    ("resnet32_cifar10", 0.46e6, 0.01, "He et al. 2016, Table 6: 0.46 M"),
    ("resnet44_cifar10", 0.66e6, 0.01, "He et al. 2016, Table 6: 0.66 M"),
    ("resnet56_cifar10", 0.85e6, 0.01, "He et al. 2016, Table 6: 0.85 M"),
])
def test_parameter_counts_match_published(name: str, published: float, rel: float,
                                          source: str) -> None:
    assert published_params(name) == pytest.approx(published, rel=rel, abs=0), source


@pytest.mark.parametrize(("name", "published"), [("resnet18", 11.69e6), ("resnet50", 25.56e6)])
def test_weights_alone_are_within_half_a_percent(name: str, published: float) -> None:
    """The kernels the simulator stores are within 0.5 % of the published parameter counts."""
    assert total_weights(get_model(name)) == pytest.approx(published, rel=0.005)
