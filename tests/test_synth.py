"""Synthetic masks and traces: exact counts, structure (N:M groups, channel spread, spatial
blobs), seeding, density profiles and their errors, and the bundled traces' calibration
(figures documented in docs/synthetic-traces.md)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import AccelsimError, ConfigError
from accelsim.workload.effectual import mac_counts
from accelsim.workload.generators import (
    allocate_counts,
    clustered_activation_mask,
    nm_mask,
    top_k_per_row,
    uniform_mask,
)
from accelsim.workload.layer import Layer
from accelsim.workload.synth import load_profile, synthesize, synthesize_layers
from accelsim.workload.trace import Trace
from accelsim.workload.zoo import get_model

REPO = Path(__file__).resolve().parents[1]
TRACES = REPO / "traces"


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def tiny_model(batch: int = 1) -> tuple[Layer, ...]:
    """Stem, a block whose first conv and downsample share their input, and an FC layer."""
    return (
        Layer("stem", N=batch, C=3, H=16, W=16, M=8, R=3, S=3, padding=1, input_tensor="image"),
        Layer("block.conv1", N=batch, C=8, H=16, W=16, M=8, R=3, S=3, padding=1,
              input_tensor="stem"),
        Layer("block.conv2", N=batch, C=8, H=16, W=16, M=12, R=3, S=3, padding=1,
              input_tensor="block.bn1"),
        Layer("block.downsample", N=batch, C=8, H=16, W=16, M=12, input_tensor="stem"),
        Layer.fc("fc", 12, 10, batch, input_tensor="pool"),
    )


def neighbour_agreement(mask: np.ndarray) -> float:
    """Fraction of horizontally and vertically adjacent pairs with equal values."""
    same = np.count_nonzero(mask[..., 1:] == mask[..., :-1]) + \
        np.count_nonzero(mask[..., 1:, :] == mask[..., :-1, :])
    pairs = mask[..., 1:].size + mask[..., 1:, :].size
    return same / pairs


# ----------------------------------------------------------------------------- generators


@pytest.mark.parametrize("density", [0.0, 0.001, 0.37, 0.5, 0.999, 1.0])
def test_uniform_mask_has_exact_count(density):
    shape = (3, 7, 11, 5)
    mask = uniform_mask(shape, density, rng())
    assert mask.shape == shape and mask.dtype == bool
    assert np.count_nonzero(mask) == round(density * mask.size)


@pytest.mark.parametrize(("n", "m"), [(2, 4), (1, 4), (0, 4), (4, 4), (1, 2), (3, 8)])
def test_nm_mask_every_group_of_m_input_channels_has_exactly_n(n, m):
    mask = nm_mask((6, 4 * m, 3, 2), n, m, rng())
    groups = mask.reshape(6, 4, m, 3, 2).sum(axis=2)  # m consecutive input channels
    assert (groups == n).all()


def test_nm_mask_rejects_channels_not_a_multiple_of_m_and_bad_patterns():
    with pytest.raises(AccelsimError, match="multiple of 4, got 6"):
        nm_mask((2, 6, 1, 1), 2, 4, rng())
    with pytest.raises(AccelsimError, match="0 <= n <= m"):
        nm_mask((2, 8, 1, 1), 5, 4, rng())


def test_nm_mask_positions_vary_between_groups():
    mask = nm_mask((64, 64, 3, 3), 2, 4, rng())
    patterns = {tuple(g) for g in np.moveaxis(mask.reshape(64, 16, 4, 9), 2, -1).reshape(-1, 4)}
    assert len(patterns) == 6  # all C(4, 2) choices occur


@pytest.mark.parametrize("density", [0.05, 0.3, 0.5, 0.62, 0.95])
def test_clustered_mask_total_is_exact(density):
    mask = clustered_activation_mask((2, 64, 28, 28), density, rng())
    assert np.count_nonzero(mask) == round(density * mask.size)
    assert abs(mask.mean() - density) <= 0.005


def test_clustered_mask_channel_densities_spread():
    mask = clustered_activation_mask((1, 256, 28, 28), 0.5, rng())
    per_channel = mask.mean(axis=(0, 2, 3))
    # Beta with std = spread·sqrt(d(1−d)) = 0.5·0.5 = 0.25 by default.
    assert per_channel.std() > 0.18
    assert per_channel.min() < 0.05  # some channels nearly empty
    even = clustered_activation_mask((1, 256, 28, 28), 0.5, rng(), channel_spread=0.0)
    assert even.mean(axis=(0, 2, 3)).std() < 1 / 784 + 1e-12  # counts differ by ≤ 1


def test_clustered_mask_zeros_are_spatially_correlated():
    shape, density = (1, 64, 56, 56), 0.4
    chance = density**2 + (1 - density) ** 2
    uniform = neighbour_agreement(uniform_mask(shape, density, rng()))
    clustered = neighbour_agreement(clustered_activation_mask(shape, density, rng()))
    assert abs(uniform - chance) < 0.01
    assert clustered > uniform + 0.2
    wider = clustered_activation_mask(shape, density, rng(), correlation_px=6)
    assert neighbour_agreement(wider) > clustered
    flat = clustered_activation_mask(shape, density, rng(), correlation_px=1,
                                     channel_spread=0.0)
    assert abs(neighbour_agreement(flat) - chance) < 0.02


def test_clustered_mask_is_deterministic_and_seed_dependent():
    shape = (2, 16, 14, 14)
    first = clustered_activation_mask(shape, 0.4, rng(7))
    assert np.array_equal(first, clustered_activation_mask(shape, 0.4, rng(7)))
    assert not np.array_equal(first, clustered_activation_mask(shape, 0.4, rng(8)))


def test_clustered_mask_rejects_bad_parameters():
    with pytest.raises(AccelsimError, match="channel_spread"):
        clustered_activation_mask((1, 2, 3, 3), 0.5, rng(), channel_spread=1.0)
    with pytest.raises(AccelsimError, match="correlation_px"):
        clustered_activation_mask((1, 2, 3, 3), 0.5, rng(), correlation_px=0)
    with pytest.raises(AccelsimError, match=r"density must be in \[0, 1\]"):
        clustered_activation_mask((1, 2, 3, 3), 1.5, rng())


def test_top_k_per_row_breaks_ties_by_lowest_index():
    values = np.array([[1, 2, 2, 2, 3], [0, 0, 0, 0, 0], [5, 4, 3, 2, 1]], dtype=np.float32)
    mask = top_k_per_row(values, np.array([3, 2, 0]))
    assert mask.astype(int).tolist() == [[0, 1, 1, 0, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]]


@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 9), h=st.integers(1, 12), w=st.integers(1, 12),
       density=st.floats(0, 1), spread=st.floats(0, 0.95), box=st.integers(1, 5),
       seed=st.integers(0, 2**32 - 1))
def test_property_counts_are_exact(n, c, h, w, density, spread, box, seed):
    shape = (n, c, h, w)
    expected = round(density * n * c * h * w)
    clustered = clustered_activation_mask(shape, density, rng(seed), channel_spread=spread,
                                          correlation_px=box)
    assert clustered.shape == shape and np.count_nonzero(clustered) == expected
    assert np.count_nonzero(uniform_mask(shape, density, rng(seed))) == expected


@settings(max_examples=80, deadline=None)
@given(weights=st.lists(st.floats(0, 1), min_size=1, max_size=30), cap=st.integers(1, 20),
       fraction=st.floats(0, 1))
def test_property_allocation_sums_to_total_within_caps(weights, cap, fraction):
    total = round(fraction * cap * len(weights))
    counts = allocate_counts(np.array(weights), total, cap)
    assert counts.sum() == total
    assert counts.min() >= 0 and counts.max() <= cap


def test_allocation_is_proportional_away_from_the_cap():
    counts = allocate_counts(np.array([1.0, 2.0, 3.0, 0.0]), 12, 10)
    assert counts.tolist() == [2, 4, 6, 0]
    capped = allocate_counts(np.array([1.0, 1.0, 8.0]), 12, 6)  # 8/10·12 > 6: water-fill
    assert capped.tolist() == [3, 3, 6]


# ----------------------------------------------------------------------------- synthesize


def test_scalar_densities_and_the_stem_rule():
    trace = synthesize_layers(tiny_model(), model="tiny", act_density=0.4, weight_density=0.25)
    stem, conv1, conv2, down, fc = trace.layers
    assert stem.input_density == 1.0  # the image stays dense
    for lt in (conv1, conv2, down, fc):
        assert lt.input_nonzeros == round(0.4 * lt.input_mask.size)
    for lt in trace.layers:  # no stem rule for weights
        assert lt.weight_nonzeros == round(0.25 * lt.weight_mask.size)


def test_none_means_all_ones():
    trace = synthesize_layers(tiny_model(), model="tiny")
    assert all(lt.input_mask.all() and lt.weight_mask.all() for lt in trace.layers)
    assert trace.info.source["generator"] == {"activations": "dense", "weights": "dense"}


def test_layers_reading_one_tensor_share_one_mask():
    trace = synthesize_layers(tiny_model(2), model="tiny", act_density=0.3)
    conv1, down = trace.layer("block.conv1"), trace.layer("block.downsample")
    assert np.array_equal(conv1.input_mask, down.input_mask)
    assert np.shares_memory(conv1.input_mask, down.input_mask)
    resnet = synthesize("resnet18", act_density=0.5)
    for block in ("layer2.0", "layer3.0", "layer4.0"):
        assert np.shares_memory(resnet.layer(f"{block}.conv1").input_mask,
                                resnet.layer(f"{block}.downsample.0").input_mask)


def test_profile_mapping_with_default_and_sibling():
    profile = {"block.conv1": 0.2, "default": 0.6}
    trace = synthesize_layers(tiny_model(), model="tiny", act_density=profile)
    densities = {lt.layer.name: lt.input_nonzeros / lt.input_mask.size for lt in trace.layers}
    assert densities["stem"] == 1.0  # 'default' never applies to the stem
    assert densities["block.conv1"] == densities["block.downsample"] == pytest.approx(0.2, abs=1e-3)
    assert densities["block.conv2"] == pytest.approx(0.6, abs=1e-3)
    named_stem = synthesize_layers(tiny_model(), model="tiny", act_density={"stem": 0.5,
                                                                          "default": 0.5})
    assert named_stem.layers[0].input_density == 0.5


def test_profile_conflict_between_readers_of_one_tensor():
    with pytest.raises(ConfigError) as error:
        synthesize_layers(tiny_model(), model="tiny", act_density={
            "block.conv1": 0.2, "block.downsample": 0.3, "default": 0.5})
    assert str(error.value) == (
        "block.downsample: layers 'block.conv1' and 'block.downsample' read the same tensor "
        "and share one mask, but the profile gives them 0.2 and 0.3")


def test_weight_density_and_nm_are_exclusive():
    with pytest.raises(AccelsimError) as error:
        synthesize_layers(tiny_model(), model="tiny", weight_density=0.5, nm=(2, 4))
    assert str(error.value) == "nm: give either a weight density or an N:M pattern, not both"


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(AccelsimError, match=r"act_generator: .*got 'clusterd' \(did you mean"):
        synthesize_layers(tiny_model(), model="tiny", act_generator="clusterd")
    with pytest.raises(ConfigError, match=r"act_density: expected a density in \[0, 1\]"):
        synthesize_layers(tiny_model(), model="tiny", act_density=1.2)
    with pytest.raises(AccelsimError, match="seed: expected an integer >= 0"):
        synthesize_layers(tiny_model(), model="tiny", seed=-1)
    with pytest.raises(AccelsimError, match="nm: N:M sparsity needs"):
        synthesize_layers(tiny_model(), model="tiny", nm=(3, 2))


def test_nm_layers_that_cannot_be_grouped_stay_dense_and_are_listed():
    trace = synthesize_layers(tiny_model(), model="tiny", nm=(2, 4))
    assert trace.layers[0].weight_mask.all()  # C = 3
    assert trace.info.source["params"]["nm_dense_layers"] == ["stem"]
    conv2 = trace.layer("block.conv2").weight_mask
    assert (conv2.reshape(12, 2, 4, 3, 3).sum(axis=2) == 2).all()
    assert trace.info.source["generator"]["weights"] == "nm_mask"


def test_same_seed_same_bytes_different_seed_different_masks(tmp_path):
    kwargs = dict(batch=2, act_density=0.45, weight_density=0.5, seed=3)
    synthesize("resnet18", **kwargs).save(tmp_path / "a.npz")
    synthesize("resnet18", **kwargs).save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    first = Trace.load(tmp_path / "a.npz")
    other = synthesize("resnet18", **{**kwargs, "seed": 4})
    for a, b in zip(first.layers[1:], other.layers[1:], strict=True):
        assert not np.array_equal(a.input_mask, b.input_mask)
        assert not np.array_equal(a.weight_mask, b.weight_mask)


def test_each_layer_mask_depends_only_on_seed_and_index():
    layers = tiny_model()
    full = synthesize_layers(layers, model="tiny", act_density=0.3, weight_density=0.4)
    prefix = synthesize_layers(layers[:3], model="tiny", act_density=0.3, weight_density=0.4)
    dense_weights = synthesize_layers(layers, model="tiny", act_density=0.3)
    for a, b, c in zip(full.layers[:3], prefix.layers, dense_weights.layers, strict=False):
        assert np.array_equal(a.input_mask, b.input_mask)
        assert np.array_equal(a.weight_mask, b.weight_mask)
        assert np.array_equal(a.input_mask, c.input_mask)  # weights draw from their own stream


def test_manifest_params_regenerate_the_trace(tmp_path):
    profile = {"block.conv1": 0.25, "default": 0.55}
    original = synthesize_layers(tiny_model(), model="tiny", act_density=profile, nm=(1, 2),
                                 seed=11, correlation_px=2, channel_spread=0.3)
    original.save(tmp_path / "a.npz")
    source = Trace.load(tmp_path / "a.npz").info.source
    assert source["kind"] == "synthetic"
    assert source["generator"] == {"activations": "clustered_activation_mask",
                                   "weights": "nm_mask"}
    p = source["params"]
    again = synthesize_layers(
        tiny_model(p["batch"]), model="tiny", act_density=p["act_density"],
        weight_density=p["weight_density"], nm=tuple(p["nm"]), act_generator=p["act_generator"],
        seed=p["seed"], channel_spread=p["channel_spread"], correlation_px=p["correlation_px"])
    again.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_uniform_activation_generator():
    trace = synthesize_layers(tiny_model(), model="tiny", act_density=0.5,
                              act_generator="uniform")
    assert trace.info.source["generator"]["activations"] == "uniform_mask"
    assert "correlation_px" not in trace.info.source["params"]
    assert trace.layers[1].input_nonzeros == round(0.5 * trace.layers[1].input_mask.size)


def test_resnet50_batch4_every_layer_within_half_a_point():
    layers = get_model("resnet50", batch=4)
    target = {layer.name: 0.3 + 0.4 * i / len(layers) for i, layer in enumerate(layers)}
    target.update({"layer1.0.downsample.0": target["layer1.0.conv1"]})
    for block in ("layer2.0", "layer3.0", "layer4.0"):
        target[f"{block}.downsample.0"] = target[f"{block}.conv1"]
    trace = synthesize("resnet50", batch=4, act_density=target)
    for lt in trace.layers:
        assert abs(lt.input_density - target[lt.layer.name]) < 0.005, lt.layer.name


# ----------------------------------------------------------------------------- profiles


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_profile_yaml_and_json(tmp_path):
    yaml_file = write(tmp_path, "p.yaml", "# comment\nblock.conv1: 0.25\ndefault: 1\n")
    assert load_profile(yaml_file) == {"block.conv1": 0.25, "default": 1.0}
    json_file = write(tmp_path, "p.json", json.dumps({"block.conv1": 0.25, "default": 0.5}))
    assert load_profile(json_file) == {"block.conv1": 0.25, "default": 0.5}


def test_profile_unknown_layer_names_file_line_and_suggestion(tmp_path):
    path = write(tmp_path, "p.yaml", "default: 0.5\nblock.downsampel: 0.3\n")
    with pytest.raises(ConfigError) as error:
        synthesize_layers(tiny_model(), model="tiny", act_density=load_profile(path))
    assert str(error.value) == (f"{path}:2: block.downsampel: unknown layer in the activation "
                                "profile (did you mean 'block.downsample'?)")


def test_profile_missing_layer_without_default(tmp_path):
    path = write(tmp_path, "p.yaml", "block.conv1: 0.3\nfc: 0.5\n")
    with pytest.raises(ConfigError) as error:
        synthesize_layers(tiny_model(), model="tiny", act_density=load_profile(path))
    assert str(error.value) == (f"{path}: block.conv2: the activation profile gives no density "
                                "for this layer and has no 'default' key")
    weights = write(tmp_path, "w.yaml", "stem: 1.0\n")
    with pytest.raises(ConfigError, match=f"{weights}: block.conv1: the weight profile"):
        synthesize_layers(tiny_model(), model="tiny", weight_density=load_profile(weights))


@pytest.mark.parametrize(("text", "line", "message"), [
    ("fc: 0.5\nstem: 1.5\n", 2, "stem: expected a density in [0, 1], got 1.5"),
    ("stem: -0.1\n", 1, "stem: expected a density in [0, 1], got -0.1"),
    ("stem: yes\n", 1, "stem: expected a density in [0, 1], got True"),
    ("stem: '50%'\n", 1, "stem: expected a density in [0, 1], got '50%'"),
    ("stem: .nan\n", 1, "stem: expected a density in [0, 1], got nan"),
    ("stem: [0.5]\n", 1, "stem: expected a density in [0, 1], got 'a list'"),
    ("stem: 0.5\nstem: 0.6\n", 2, "stem: duplicate key, first given on line 1"),
    ("1: 0.5\n", 1, "layer names must be strings, got '1'"),
    ("- stem\n- fc\n", 1, "expected a mapping of layer name to density, got a list"),
    ("stem: 0.5\n  fc: [\n", 2, "not valid YAML or JSON: mapping values are not allowed here"),
])
def test_profile_file_errors(tmp_path, text, line, message):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as error:
        load_profile(path)
    assert str(error.value) == f"{path}:{line}: {message}"


def test_profile_file_level_errors(tmp_path):
    empty = write(tmp_path, "empty.yaml", "# nothing\n")
    with pytest.raises(ConfigError) as error:
        load_profile(empty)
    assert str(error.value) == (f"{empty}: empty profile: expected a mapping of layer name to "
                                "density")
    with pytest.raises(ConfigError) as error:
        load_profile(tmp_path / "missing.yaml")
    assert str(error.value) == f"{tmp_path / 'missing.yaml'}: no such file"
    bad_json = write(tmp_path, "bad.json", '{"stem": 0.5,, "fc": 1}')
    with pytest.raises(ConfigError, match=rf"^{bad_json}:1: not valid YAML or JSON"):
        load_profile(bad_json)


def test_programmatic_profile_values_are_checked():
    with pytest.raises(ConfigError) as error:
        synthesize_layers(tiny_model(), model="tiny", weight_density={"default": 2})
    assert str(error.value) == "default: expected a density in [0, 1], got 2"


# ----------------------------------------------------------------------------- bundled traces

BUNDLED = {"resnet18": "resnet18", "resnet50": "resnet50", "resnet18_tl1_pruned": "resnet18"}


def load_bundled(name: str) -> Trace:
    path = TRACES / f"{name}.npz"
    if not path.exists():
        pytest.fail(f"bundled trace missing: {path} (run python scripts/make_bundled_traces.py)")
    return Trace.load(path)


def non_stem_zero_fractions(trace: Trace) -> list[float]:
    seen, zeros = {trace.layers[0].layer.input_tensor}, []
    for lt in trace.layers:
        if lt.layer.input_tensor not in seen:
            seen.add(lt.layer.input_tensor)
            zeros.append(1.0 - lt.input_density)
    return zeros


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_trace_matches_zoo_geometry_and_size(name):
    trace = load_bundled(name)
    assert (TRACES / f"{name}.npz").stat().st_size < 5_000_000
    zoo = get_model(BUNDLED[name], batch=1)
    assert [lt.layer for lt in trace.layers] == list(zoo)
    assert [lt.layer.input_tensor for lt in trace.layers] == [x.input_tensor for x in zoo]
    assert trace.info.source["kind"] == "synthetic"
    assert trace.info.source["generator"]["activations"] == "clustered_activation_mask"
    assert trace.layers[0].input_mask.all()  # the stem's input (the image) is dense
    assert trace.info.notes["calibration"]["targets"]


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_bundled_dense_models_zeros_rise_from_40_to_60_percent(name):
    trace = load_bundled(name)
    zeros = non_stem_zero_fractions(trace)
    assert zeros[0] == pytest.approx(0.40, abs=0.005)
    assert zeros[-1] == pytest.approx(0.60, abs=0.005)
    assert all(0.395 <= z <= 0.605 for z in zeros)
    assert all(b >= a - 0.001 for a, b in itertools.pairwise(zeros))  # rising with depth
    assert all(lt.weight_mask.all() for lt in trace.layers)


def test_bundled_tl1_pruned_calibration():
    dense, pruned = load_bundled("resnet18"), load_bundled("resnet18_tl1_pruned")
    for a, b in zip(dense.layers[1:], pruned.layers[1:], strict=True):
        assert b.input_density == pytest.approx(a.input_density - 0.25, abs=0.005)
    assert pruned.layers[0].weight_mask.all()  # first conv dense
    for lt in pruned.layers[1:]:
        assert lt.weight_nonzeros == round(0.5 * lt.weight_mask.size)
    counts = [mac_counts(lt) for lt in pruned.layers]
    fraction = sum(c.effectual for c in counts) / sum(c.dense for c in counts)
    assert 0.16 <= fraction <= 0.20
    assert pruned.info.notes["measured"]["effectual_fraction"] == round(fraction, 4)


def test_bundled_layers_have_the_clustered_structure():
    trace = load_bundled("resnet18")
    mask = trace.layer("layer1.0.conv2").input_mask
    density = mask.mean()
    assert neighbour_agreement(mask) > density**2 + (1 - density) ** 2 + 0.2
    assert mask.mean(axis=(0, 2, 3)).std() > 0.15


def test_bundled_traces_regenerate_byte_for_byte():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "make_bundled_traces.py"),
                             "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "7 of 7 files identical" in result.stdout


def test_bundled_profiles_load_and_cover_every_layer():
    for name, model in BUNDLED.items():
        profile = load_profile(TRACES / "profiles" / f"{name}_act.yaml")
        names = [layer.name for layer in get_model(model)]
        assert list(profile) == names
        assert profile[names[0]] == 1.0
    weights = load_profile(TRACES / "profiles" / "resnet18_tl1_pruned_weights.yaml")
    assert weights == {"conv1": 1.0, "default": 0.5}
