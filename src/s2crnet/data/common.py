"""What the training datasets share: decoding to floats, seeding, the sample format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..images import read_image, read_mask
from ..pixels import to_unit

__all__ = ["Key", "load_float", "load_mask_float", "sample_rng", "split_key", "to_sample"]

#: A dataset key: an index, or ``(index, epoch)`` so that every epoch draws anew.
Key = int | tuple[int, int]


def split_key(key: Key) -> tuple[int, int]:
    return (int(key[0]), int(key[1])) if isinstance(key, tuple | list) else (int(key), 0)


def sample_rng(seed: int, index: int, epoch: int) -> np.random.Generator:
    """The generator of one sample: a function of (seed, epoch, index) alone, so resumed
    or distributed runs see exactly the same data."""
    return np.random.default_rng([seed, epoch, index])


def load_float(path: Path) -> np.ndarray:
    """An image file as ``(H, W, 3)`` float32 RGB in [0, 1]."""
    return to_unit(read_image(path).rgb)


def load_mask_float(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A mask file as ``(H, W)`` float32 in [0, 1], checked against the image size."""
    values = read_mask(path).oriented()
    if values.shape != tuple(shape):
        raise ValueError(f"{path}: mask is {values.shape[::-1]} but its image is {shape[::-1]}")
    return to_unit(values)


def to_sample(composite: np.ndarray, mask: np.ndarray, target: np.ndarray, label: int) -> dict:
    """Arrays ``(S, S, 3)``, ``(S, S)``, ``(S, S, 3)`` -> the tensors the training loop takes."""

    def chw(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))  # (3, S, S)

    return {
        "composite": chw(composite.astype(np.float32)),
        "mask": torch.from_numpy(np.ascontiguousarray(mask, np.float32))[None],  # (1, S, S)
        "target": chw(target.astype(np.float32)),
        "label": torch.tensor(label, dtype=torch.long),
    }
