"""One training epoch of ResNet-20 on the CIFAR-10 fine-tuning split (8,000 images), as
``accelsim train`` runs it: dense (the λ = 0 control) and TL1 (penalty hooks on every conv).

Baseline printed beside it: a plain PyTorch loop over the same batches (no augmentation,
no hooks, no held-out evaluation), the floor for this model on this CPU. The issue's budget
is about 15 CPU-minutes per trained variant, so (epoch time × epochs) must fit in it.

    python benchmarks/bench_training_epoch.py [--threads 1] [--images 8000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from accelsim.models import build_model, load_weights
from accelsim.record.data import Split, load_images, normalise
from accelsim.train.loop import TrainData, train
from accelsim.train.recipe import Recipe
from accelsim.train.run import preprocess_for

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA = SHARED / "cifar10_test" / "cifar10_test_jpeg.zip"
WEIGHTS = SHARED / "weights" / "cifar10_resnet_akamaster" / "resnet20_cifar10.npz"
MODEL = "resnet20_cifar10"


def fresh_model() -> torch.nn.Module:
    model = build_model(MODEL)
    load_weights(model, WEIGHTS)
    return model


def plain_epoch(data: TrainData, batch_size: int) -> float:
    model = fresh_model().train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs = normalise(data.train.pixels, data.preprocess)
    labels = torch.as_tensor(data.train.labels)
    start = time.perf_counter()
    for index in range(len(labels) // batch_size):
        chosen = slice(index * batch_size, (index + 1) * batch_size)
        loss = F.cross_entropy(model(inputs[chosen]), labels[chosen])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def accelsim_epoch(data: TrainData, recipe: Recipe) -> tuple[float, float]:
    """(training seconds, held-out evaluation seconds) of one epoch."""
    logs = train(fresh_model(), recipe, data, torch.device("cpu"))
    return logs[1].seconds, logs[0].seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--images", type=int, default=8000,
                        help="fine-tuning images per epoch (default: the whole split)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    preprocess = preprocess_for(MODEL)
    start = time.perf_counter()
    train_set = load_images(DATA, preprocess, Split.TRAIN)
    heldout = load_images(DATA, preprocess, Split.HELDOUT)
    decode = time.perf_counter() - start
    print(f"threads {args.threads}; decoding {len(train_set) + len(heldout)} JPEGs took "
          f"{decode:.1f} s")
    train_set = train_set.subset(list(range(min(args.images, len(train_set)))))
    data = TrainData(train_set, heldout, preprocess)
    count = len(train_set) // 128 * 128
    print(f"{count} images per epoch (batch 128), {len(heldout)} held-out images evaluated")
    plain = plain_epoch(data, 128)
    print(f"plain PyTorch loop (floor):  {plain:6.1f} s/epoch  {1e3 * plain / count:.2f} ms/image")
    for name, recipe in (("dense (lambda = 0)", Recipe(kind="dense", epochs=1)),
                         ("tl1 (a 0.1, lambda 0.2)", Recipe(kind="tl1", epochs=1, a=0.1,
                                                          lam=0.2))):
        seconds, evaluation = accelsim_epoch(data, recipe)
        training = seconds - evaluation  # the evaluation after the epoch costs as before it
        print(f"accelsim train {name:24s} {seconds:6.1f} s/epoch with its held-out "
              f"evaluation ({evaluation:.1f} s); training {1e3 * training / count:.2f} "
              f"ms/image, {training / plain:.2f}x the floor")


if __name__ == "__main__":
    main()
