"""Seeded data augmentation on uint8 batches: random crop after zero padding, and
horizontal flip — the standard CIFAR recipe, done with torch ops so it is reproducible
from one generator and cheap next to the forward pass."""

from __future__ import annotations

import torch


def crop_and_flip(pixels: torch.Tensor, generator: torch.Generator,
                  padding: int) -> torch.Tensor:
    """Each image (N×C×H×W) shifted by up to ``padding`` pixels and flipped with p = 1/2."""
    count, _, height, width = pixels.shape
    offsets = torch.randint(0, 2 * padding + 1, (count, 2), generator=generator)
    flips = torch.rand(count, generator=generator) < 0.5
    padded = torch.nn.functional.pad(pixels, (padding, padding, padding, padding))
    out = torch.empty_like(pixels)
    for i in range(count):
        top, left = int(offsets[i, 0]), int(offsets[i, 1])
        image = padded[i, :, top:top + height, left:left + width]
        out[i] = image.flip(-1) if flips[i] else image
    return out
