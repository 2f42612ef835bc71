"""Images for recording and fine-tuning: the CIFAR-10 JPEG zip or any ImageFolder-style
tree (``<root>/<class>/<image>``), read with PIL only.

Images are ordered by (class name, file name); an image's *index* is its position in that
order and its class label the position of its class name. No CIFAR-10 training split exists
offline, so the test images are split by index: ``index mod 10`` in 0–7 is the fine-tuning
split, 8–9 the held-out split. For the CIFAR-10 zip (1,000 images per class) that is the
file number mod 10 within each class, i.e. 800 + 200 images per class.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.record.torch_support import require_torch

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp")
FOLDS = 10
TRAIN_FOLDS = frozenset(range(8))


class Split(str, Enum):
    """Which images of a dataset to use (by ``index mod 10``)."""

    ALL = "all"
    TRAIN = "train"  # index mod 10 in 0..7
    HELDOUT = "heldout"  # index mod 10 in 8..9

    def keeps(self, index: int) -> bool:
        if self is Split.ALL:
            return True
        return (index % FOLDS in TRAIN_FOLDS) == (self is Split.TRAIN)

    def describe(self) -> str:
        return {Split.ALL: "all images", Split.TRAIN: "index mod 10 in 0-7",
                Split.HELDOUT: "index mod 10 in 8-9"}[self]


@dataclass(frozen=True, slots=True)
class Preprocess:
    """How images become model input: channels (1 grey, 3 RGB), size, normalisation."""

    channels: int
    size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize: int | None = None  # shorter side before a centre crop; None: resize to size


@dataclass(frozen=True, slots=True, eq=False)
class ImageSet:
    """Decoded images (uint8, N×C×H×W), their labels and ids (paths inside the dataset)."""

    pixels: np.ndarray
    labels: np.ndarray
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    source: str
    split: Split

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, positions: list[int]) -> ImageSet:
        return ImageSet(self.pixels[positions], self.labels[positions],
                        tuple(self.ids[i] for i in positions), self.classes, self.source,
                        self.split)

    def balanced(self, count: int) -> ImageSet:
        """The first ``count`` images taken in turn from each class (class 0's first image,
        class 1's first, ...), so a small recording batch spans the classes."""
        if count > len(self):
            raise AccelsimError(f"asked for {count} images, the {self.split.value} split of "
                                f"{self.source} has {len(self)}", key="images")
        queues = [list(np.flatnonzero(self.labels == c)) for c in range(len(self.classes))]
        order: list[int] = []
        while len(order) < count:
            for queue in queues:
                if queue and len(order) < count:
                    order.append(int(queue.pop(0)))
        return self.subset(order)

    def normalised(self, preprocess: Preprocess):  # -> torch.Tensor
        """Float32 model input: (pixels / 255 − mean) / std per channel."""
        return normalise(self.pixels, preprocess)


def normalise(pixels, preprocess: Preprocess):
    """Pixels (uint8 array or tensor, N×C×H×W) to normalised float32 tensor."""
    torch = require_torch()
    tensor = torch.as_tensor(pixels).to(torch.float32).div_(255.0)
    mean = torch.tensor(preprocess.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(preprocess.std, dtype=torch.float32).view(1, -1, 1, 1)
    return (tensor - mean) / std


def load_images(path: str | os.PathLike[str], preprocess: Preprocess,
                split: Split = Split.ALL) -> ImageSet:
    """Decode the images of ``split`` from a zip or a directory tree."""
    source = os.fspath(path)
    with _open_dataset(source) as dataset:
        entries = dataset.entries
        classes = tuple(sorted({cls for cls, _ in entries}))
        label_of = {name: i for i, name in enumerate(classes)}
        kept = [entry for index, entry in enumerate(entries) if split.keeps(index)]
        if not kept:
            raise AccelsimError(f"no images in the {split.value} split", file=source)
        pixels = np.stack([_decode(dataset.read(name), preprocess, name, source)
                           for _, name in kept])
    labels = np.array([label_of[cls] for cls, _ in kept], dtype=np.int64)
    return ImageSet(pixels, labels, tuple(name for _, name in kept), classes, source, split)


class _Dataset:
    """The (class, id) pairs of a dataset, sorted, and a way to read one image's bytes."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._archive: zipfile.ZipFile | None = None
        if os.path.isdir(source):
            root = Path(source)
            found = [f.relative_to(root) for f in root.rglob("*")
                     if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()]
            names = [PurePosixPath(f.as_posix()) for f in found]
        elif os.path.isfile(source) and zipfile.is_zipfile(source):
            self._archive = zipfile.ZipFile(source)
            names = [PurePosixPath(n) for n in self._archive.namelist()
                     if PurePosixPath(n).suffix.lower() in IMAGE_SUFFIXES]
        elif os.path.exists(source):
            raise AccelsimError("data: expected an image directory or a .zip of one",
                                file=source)
        else:
            raise AccelsimError("no such data directory or zip", file=source)
        self.entries = sorted((n.parts[-2], n.as_posix()) for n in names if len(n.parts) >= 2)
        if not self.entries:
            self.close()
            raise AccelsimError("no images found: expected <class>/<image> files "
                                f"({', '.join(IMAGE_SUFFIXES)})", file=source)

    def read(self, name: str) -> bytes:
        if self._archive is not None:
            return self._archive.read(name)
        return (Path(self.source) / name).read_bytes()

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()


@contextlib.contextmanager
def _open_dataset(source: str) -> Iterator[_Dataset]:
    dataset = _Dataset(source)
    try:
        yield dataset
    finally:
        dataset.close()


def _decode(data: bytes, preprocess: Preprocess, name: str, source: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image = image.convert("L" if preprocess.channels == 1 else "RGB")
            image = _resize(image, preprocess)
            array = np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise AccelsimError(f"cannot decode image {name} ({exc})", file=source) from None
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _resize(image, preprocess: Preprocess):
    from PIL import Image

    size = preprocess.size
    if preprocess.resize is None:
        if image.size != (size, size):
            image = image.resize((size, size), Image.Resampling.BILINEAR)
        return image
    width, height = image.size
    scale = preprocess.resize / min(width, height)
    image = image.resize((max(size, round(width * scale)), max(size, round(height * scale))),
                         Image.Resampling.BILINEAR)
    left = (image.size[0] - size) // 2
    top = (image.size[1] - size) // 2
    return image.crop((left, top, left + size, top + size))
