"""Training transforms (as in the paper): random crop, resize to a square, horizontal flip.

All arrays of one sample (composite, mask, target) get the same crop and flip.
"""

from __future__ import annotations

import numpy as np

from ..thumbnails import resize_square

__all__ = ["random_crop_flip"]


def random_crop_flip(
    arrays: list[np.ndarray],
    rng: np.random.Generator,
    size: int = 256,
    min_scale: float = 0.5,
    flip: bool = True,
    mask_index: int = 1,
) -> list[np.ndarray]:
    """One random crop (area ``min_scale``-1 of the image, aspect 3:4-4:3) resized to
    ``size x size``, then a horizontal flip with probability 1/2, for every array alike.

    The crop keeps at least 1% of the mask ``arrays[mask_index]`` (up to 10 draws; then
    the whole image is used).
    """
    h, w = arrays[0].shape[:2]
    box = (0, h, 0, w)
    mask = arrays[mask_index]
    total = float((mask > 0.5).sum())
    if min_scale < 1.0 and total > 0:
        for _ in range(10):
            area = rng.uniform(min_scale, 1.0) * h * w
            aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
            ch = round(min(h, float(np.sqrt(area / aspect))))
            cw = round(min(w, float(np.sqrt(area * aspect))))
            top = int(rng.integers(0, h - ch + 1))
            left = int(rng.integers(0, w - cw + 1))
            kept = float((mask[top : top + ch, left : left + cw] > 0.5).sum())
            if kept >= 0.01 * ch * cw and kept > 0:
                box = (top, top + ch, left, left + cw)
                break
    top, bottom, left, right = box
    out = [resize_square(a[top:bottom, left:right], size) for a in arrays]
    if flip and rng.random() < 0.5:
        out = [np.ascontiguousarray(a[:, ::-1]) for a in out]
    return out
