"""Training runs end to end on a few images: the penalty is in the loss, pruned weights
are exactly zero in the checkpoint, a run is byte-for-byte reproducible, the checkpoint's
recipe and accuracy reach the recorded trace, and ``accelsim train`` reports bad options
in one line."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.torch
torch = (importlib.import_module("torch") if os.environ.get("ACCELSIM_REQUIRE_TORCH")
         else pytest.importorskip("torch", reason="needs the torch extra: "
                                  "pip install -e '.[torch,test]'"))

from accelsim.errors import AccelsimError  # noqa: E402
from accelsim.record.files import RecordRequest, record_from_files  # noqa: E402
from accelsim.train.recipe import Recipe  # noqa: E402
from accelsim.train.run import TrainConfig, run_training  # noqa: E402
from tests.test_cli import assert_one_line_error  # noqa: E402
from tests.test_record_files import make_image_folder  # noqa: E402

MODEL = "resnet20_cifar10"


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("images") / "data"
    make_image_folder(root, classes=10, per_class=4)  # 32 train + 8 held-out images
    return root


def _train(images, out, **recipe):
    recipe = Recipe(**{"epochs": 2, "batch_size": 8, "seed": 3, **recipe})
    return run_training(TrainConfig(MODEL, images, out, recipe))


def test_tl1_penalty_is_in_the_loss(images, tmp_path):
    result = _train(images, tmp_path / "tl1.npz", kind="tl1", lam=0.3, a=0.5)
    for log in result.epochs[1:]:
        assert log.penalty_tl1 > 0
        assert log.loss_total == pytest.approx(log.loss_ce + 0.3 * log.penalty_tl1, rel=1e-6)
    dense = _train(images, tmp_path / "dense.npz", kind="dense")
    for log in dense.epochs[1:]:
        assert log.penalty_tl1 == 0 and log.loss_total == pytest.approx(log.loss_ce)


def test_lambda_ramp():
    recipe = Recipe(kind="tl1", lam=0.4, lam_warmup_epochs=4)
    assert [recipe.lam_at(e) for e in (0, 1, 2, 4, 9)] == pytest.approx([0, 0.1, 0.2, 0.4, 0.4])


def test_pruned_checkpoint_keeps_exact_zeros_and_the_first_conv_dense(images, tmp_path):
    out = tmp_path / "tp.npz"
    _train(images, out, kind="tl1_prune", lam=0.1, prune_ratio=0.6, prune_schedule="cubic",
           prune_start_epoch=0.5, prune_end_epoch=1.5, prune_every_steps=1)
    with np.load(out) as archive:
        weights = {k: archive[k] for k in archive.files if k.endswith("weight")
                   and archive[k].ndim in (2, 4)}
        meta = json.loads(archive["__meta__"].tobytes())
    assert (weights["conv1.weight"] != 0).all()
    for key, weight in weights.items():
        if key != "conv1.weight":
            assert (weight == 0).sum() == round(0.6 * weight.size), key
    assert meta["recipe"]["kind"] == "tl1_prune" and meta["recipe"]["prune_ratio"] == 0.6
    assert meta["recipe"]["schedule"] == "cubic" and meta["recipe"]["lambda"] == 0.1
    trace = record_from_files(RecordRequest(MODEL, out, images, images=2))
    assert trace.info.recipe == meta["recipe"]
    assert trace.info.accuracy == meta["accuracy"]
    assert trace.info.accuracy["split"] == "index mod 10 in 8-9"
    for layer_trace in trace.layers[1:]:
        assert layer_trace.weight_density == pytest.approx(
            1 - round(0.6 * layer_trace.weight_mask.size) / layer_trace.weight_mask.size)


def test_oneshot_prune_then_frozen(images, tmp_path):
    result = _train(images, tmp_path / "p.npz", kind="prune", prune_ratio=0.5)
    sparsities = [log.heldout.weight_sparsity for log in result.epochs]
    assert sparsities[0] == 0 and sparsities[1] == sparsities[2] > 0.45


def test_same_seed_same_bytes(images, tmp_path):
    for name in ("a", "b"):
        _train(images, tmp_path / f"{name}.npz", kind="tl1_prune", lam=0.2, prune_ratio=0.5)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    _train(images, tmp_path / "c.npz", kind="tl1_prune", lam=0.2, prune_ratio=0.5, seed=4)
    assert (tmp_path / "c.npz").read_bytes() != (tmp_path / "a.npz").read_bytes()


@pytest.mark.parametrize("options, message", [
    (dict(kind="tl1"), "recipe tl1 needs lam > 0"),
    (dict(kind="dense", prune_ratio=0.5), "recipe dense needs prune = 0"),
    (dict(kind="prune", prune_ratio=1.0), "prune_ratio: expected a fraction in [0, 1)"),
    (dict(kind="prune", prune_ratio=0.5, prune_schedule="cubic"), "prune_end_epoch"),
    (dict(kind="tl1", lam=0.1, a=0), "a > 0"),
    (dict(kind="dense", lr=float("nan")), "lr: expected a finite number"),
    (dict(kind="dense", normalisation="max"), "expected one of mean, elements"),
])
def test_bad_recipes_are_one_line_errors(options, message):
    with pytest.raises(AccelsimError) as error:
        Recipe(**options)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_train_cli_end_to_end(images, tmp_path, cli):
    out = tmp_path / "cli.npz"
    result = cli("train", "--model", MODEL, "--data", str(images), "--recipe", "tl1",
                 "--a", "0.5", "--lam", "0.2", "--epochs", "1", "--batch-size", "8",
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "epoch 1/1" in result.stderr and "held-out accuracy" in result.stderr
    log = json.loads(out.with_suffix(".json").read_text())
    assert [e["epoch"] for e in log["epochs"]] == [0, 1]
    assert log["recipe"]["a"] == 0.5 and log["threads"] == 1
    assert set(log["epochs"][1]["heldout"]) == {"accuracy", "act_sparsity", "weight_sparsity"}


def test_train_cli_errors(images, tmp_path, cli):
    base = ("train", "--model", MODEL, "--data", str(images), "--epochs", "1")
    assert_one_line_error(cli(*base, "--recipe", "tl1", "-o", str(tmp_path / "x.npz")),
                          "lam", "recipe tl1 needs lam > 0")
    assert_one_line_error(cli(*base, "-o", str(tmp_path / "x.pt")), "x.pt", ".npz")
    assert_one_line_error(cli(*base, "-o", str(tmp_path / "no" / "x.npz")),
                          "output directory does not exist")
    assert_one_line_error(cli(*base, "--device", "gpu0", "-o", str(tmp_path / "x.npz")),
                          "not a torch device")
    assert not list(tmp_path.iterdir())
