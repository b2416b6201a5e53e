"""Helpers shared by the tests: small images and masks, the ../shared lookup."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (third-party data lives in ../shared, not in the repo)")
    return path


def make_composite(h: int = 120, w: int = 160, seed: int = 0) -> np.ndarray:
    """A smooth colourful uint8 RGB image (JPEG-friendly)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(40, 200, size=3).astype(np.float32)
    img = np.stack(
        [base[0] + 40 * np.sin(xx / 17), base[1] + 40 * np.cos(yy / 13), base[2] + (xx + yy) / 8],
        axis=2,
    )
    return np.clip(img, 0, 255).astype(np.uint8)


def make_mask(h: int = 120, w: int = 160) -> np.ndarray:
    """A binary uint8 mask (0/255): a rectangle off-centre."""
    m = np.zeros((h, w), np.uint8)
    m[h // 4 : h * 3 // 4, w // 5 : w // 2] = 255
    return m


def save_with_orientation(path, array, orientation, **options):
    """Save ``array`` as stored pixels with an EXIF orientation tag."""
    img = Image.fromarray(array)
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, exif=exif.tobytes(), **options)
