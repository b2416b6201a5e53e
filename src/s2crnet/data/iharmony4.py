"""iHarmony4 training samples (the layout itself: :mod:`s2crnet.triplets`)."""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

from ..triplets import list_triplets
from .common import Key, load_float, load_mask_float, sample_rng, split_key, to_sample
from .transforms import random_crop_flip

__all__ = ["IHarmony4"]


class IHarmony4(Dataset):
    """iHarmony4 training samples with the paper's crop, resize and flip."""

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        subsets=None,
        labels=None,
        size: int = 256,
        seed: int = 0,
        min_scale: float = 0.5,
        flip: bool = True,
        harmonious: float = 0.0,
    ):
        self.triplets = list_triplets(root, split, subsets, labels)
        self.size, self.seed, self.min_scale, self.flip = size, seed, min_scale, flip
        self.harmonious = harmonious

    def __len__(self) -> int:
        return len(self.triplets)

    def __getitem__(self, key: Key) -> dict:
        index, epoch = split_key(key)
        rng = sample_rng(self.seed, index, epoch)
        t = self.triplets[index]
        composite, real = load_float(t.composite), load_float(t.real)
        mask = load_mask_float(t.mask, composite.shape[:2])
        composite, mask, real = random_crop_flip(
            [composite, mask, real], rng, self.size, self.min_scale, self.flip
        )
        if rng.random() < self.harmonious:  # an already harmonious input: the real image
            composite = real
        return to_sample(composite, mask, real, t.label)
