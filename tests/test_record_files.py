"""Images (the CIFAR-10 JPEG zip and ImageFolder trees, PIL only), the index-mod-10 split,
and ``accelsim trace record`` end to end: manifest fields, and one-line errors."""

from __future__ import annotations

import importlib
import json
import os
import zipfile

import numpy as np
import pytest

pytestmark = pytest.mark.torch
torch = (importlib.import_module("torch") if os.environ.get("ACCELSIM_REQUIRE_TORCH")
         else pytest.importorskip("torch", reason="needs the torch extra: "
                                  "pip install -e '.[torch,test]'"))

from PIL import Image  # noqa: E402

from accelsim.errors import AccelsimError  # noqa: E402
from accelsim.record.data import Preprocess, Split, load_images  # noqa: E402
from accelsim.workload.trace import load_trace  # noqa: E402
from tests.conftest import shared_file  # noqa: E402
from tests.test_cli import assert_one_line_error  # noqa: E402

CIFAR_ZIP = "data/cifar10_test/cifar10_test_jpeg.zip"
RESNET20 = "data/weights/cifar10_resnet_akamaster/resnet20_cifar10.npz"
CIFAR = Preprocess(3, 32, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def make_image_folder(root, classes=10, per_class=4, size=32, seed=0):
    """``root/<class>/<nn>.png`` random RGB images; returns the pixel arrays by id."""
    rng = np.random.default_rng(seed)
    pixels = {}
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            array = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            name = f"class{c}/{i:02d}.png"
            Image.fromarray(array).save(root / name)
            pixels[name] = array
    return pixels


def test_image_folder_order_labels_split_and_pixels(tmp_path):
    pixels = make_image_folder(tmp_path / "data", classes=3, per_class=5)
    every = load_images(tmp_path / "data", CIFAR, Split.ALL)
    assert every.ids == tuple(sorted(pixels))
    assert every.labels.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    assert np.array_equal(every.pixels[7], pixels["class1/02.png"].transpose(2, 0, 1))
    held = load_images(tmp_path / "data", CIFAR, Split.HELDOUT)
    train = load_images(tmp_path / "data", CIFAR, Split.TRAIN)
    assert held.ids == (every.ids[8], every.ids[9])  # index mod 10 in 8-9
    assert len(train) == 13 and set(train.ids) | set(held.ids) == set(every.ids)
    normalised = every.normalised(CIFAR)
    expected = (pixels["class0/00.png"][0, 0, 0] / 255 - 0.485) / 0.229
    assert float(normalised[0, 0, 0, 0]) == pytest.approx(expected, rel=1e-6)


def test_balanced_selection_takes_each_class_in_turn(tmp_path):
    make_image_folder(tmp_path / "data", classes=3, per_class=3)
    chosen = load_images(tmp_path / "data", CIFAR).balanced(4)
    assert chosen.ids == ("class0/00.png", "class1/00.png", "class2/00.png", "class0/01.png")
    with pytest.raises(AccelsimError, match="asked for 10 images"):
        load_images(tmp_path / "data", CIFAR).balanced(10)


def test_cifar_zip_split_is_800_and_200_per_class():
    path = shared_file(CIFAR_ZIP)
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".jpg"))
    assert len(names) == 10_000
    held = load_images(path, CIFAR, Split.HELDOUT)
    assert len(held) == 2000 and held.pixels.shape == (2000, 3, 32, 32)
    assert np.bincount(held.labels).tolist() == [200] * 10
    assert all(int(i[-8:-4]) % 10 in (8, 9) for i in held.ids)
    assert held.classes[0] == "airplane" and held.classes[9] == "truck"


def test_resize_and_grey(tmp_path):
    (tmp_path / "d" / "a").mkdir(parents=True)
    Image.new("RGB", (40, 20), (255, 255, 255)).save(tmp_path / "d" / "a" / "x.png")
    grey = load_images(tmp_path / "d", Preprocess(1, 16, (0.5,), (0.5,)))
    assert grey.pixels.shape == (1, 1, 16, 16) and (grey.pixels == 255).all()
    crop = load_images(tmp_path / "d", Preprocess(3, 8, (0.5,) * 3, (0.5,) * 3, resize=10))
    assert crop.pixels.shape == (1, 3, 8, 8)


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "no such data directory or zip"),
    (lambda p: (p.mkdir(), p)[1], "no images found"),
    (lambda p: (p.write_text("x"), p)[1], "expected an image directory or a .zip"),
])
def test_bad_data_is_a_one_line_error(tmp_path, make, message):
    path = make(tmp_path / "data")
    with pytest.raises(AccelsimError, match=message):
        load_images(path, CIFAR)


def test_trace_record_cli_writes_a_manifest_with_provenance(tmp_path, cli):
    out = tmp_path / "r20.npz"
    result = cli("trace", "record", "--model", "resnet20_cifar10", "--weights",
                 str(shared_file(RESNET20)), "--data", str(shared_file(CIFAR_ZIP)),
                 "--images", "3", "-o", str(out))
    assert result.returncode == 0, result.stderr
    trace = load_trace(out)
    info = trace.info
    assert info.model == "resnet20_cifar10" and info.dataset == "cifar10"
    assert info.source["kind"] == "recorded"
    assert info.images["ids"] == ["test/airplane/0008.jpg", "test/automobile/0008.jpg",
                                  "test/bird/0008.jpg"]
    assert info.images["rule"] == "index mod 10 in 8-9"
    assert info.recipe is None  # plain pretrained weights carry no recipe
    assert trace.layers[0].layer.N == 3 and len(trace) == 20
    shown = cli("trace", "info", "--json", str(out))
    assert shown.returncode == 0 and json.loads(shown.stdout)["total"]["dense_macs"] > 0
    again = tmp_path / "again.npz"
    cli("trace", "record", "--model", "resnet20_cifar10", "--weights",
        str(shared_file(RESNET20)), "--data", str(shared_file(CIFAR_ZIP)), "--images", "3",
        "-o", str(again))
    assert again.read_bytes() == out.read_bytes()  # same inputs, same bytes


def test_trace_record_cli_errors(tmp_path, cli):
    data = str(shared_file(CIFAR_ZIP))
    weights = str(shared_file(RESNET20))
    bad = cli("trace", "record", "--model", "resnet20_cifar1", "--weights", weights, "--data",
              data, "-o", str(tmp_path / "x.npz"))
    assert_one_line_error(bad, "did you mean 'resnet20_cifar10'")
    wrong = cli("trace", "record", "--model", "resnet32_cifar10", "--weights", weights,
                "--data", data, "-o", str(tmp_path / "x.npz"))
    assert_one_line_error(wrong, "resnet20_cifar10.npz", "weights do not fit the model")
    junk = tmp_path / "junk.th"
    junk.write_bytes(b"not a checkpoint")
    broken = cli("trace", "record", "--model", "resnet20_cifar10", "--weights", str(junk),
                 "--data", data, "-o", str(tmp_path / "x.npz"))
    assert_one_line_error(broken, "junk.th", "not a loadable PyTorch weights file")
    assert not (tmp_path / "x.npz").exists()
