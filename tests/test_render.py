"""``apply_curves``: the banded, threaded render equals a whole-image reference."""

import numpy as np
import pytest

from s2crnet.curves import Curves
from s2crnet.render import apply_curves, band_rows


def reference(rgb: np.ndarray, mask: np.ndarray, curves: Curves) -> np.ndarray:
    """Whole-image uint8 LUT, then ``(x (255 - a) + y a + 127) // 255``."""
    table = curves.lut(256)
    rendered = np.stack([table[rgb[..., c], c] for c in range(3)], axis=-1).astype(np.int64)
    a = mask[..., None].astype(np.int64)
    return ((rgb.astype(np.int64) * (255 - a) + rendered * a + 127) // 255).astype(np.uint8)


@pytest.fixture
def curves() -> Curves:
    return Curves(np.random.default_rng(1).random((2, 3, 64)) + 0.1)


@pytest.mark.parametrize("width", [1201, 1200])  # scanned 1 and 8 pixels at a time
def test_many_bands_binary_soft_and_empty(width, curves):
    height = 5 * band_rows(width, 1) + 17  # six bands, the last one short
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = np.zeros((height, width), np.uint8)
    yy, xx = np.ogrid[:height, :width]
    mask[((yy - height * 0.6) / (height * 0.3)) ** 2 + ((xx - 500) / 300) ** 2 < 1] = 255
    rows = band_rows(width, 1)
    mask[rows + 5 : rows + 9, 700:705] = 77  # one soft band among binary ones
    mask[3, width - 1] = 255  # a lone pixel at the right edge of the first band
    expected = reference(rgb, mask, curves)
    np.testing.assert_array_equal(apply_curves(rgb, mask, curves), expected)
    out = np.full_like(rgb, 9)  # reused output: every pixel is written
    assert apply_curves(rgb, mask, curves, out) is out
    np.testing.assert_array_equal(out, expected)
    strided = np.zeros((height, 2 * width), np.uint8)[:, ::2]  # a non-contiguous mask
    strided[...] = mask
    np.testing.assert_array_equal(apply_curves(rgb, strided, curves), expected)


def test_empty_and_full_masks(curves):
    rgb = np.random.default_rng(2).integers(0, 256, (900, 640, 3), dtype=np.uint8)
    empty = np.zeros(rgb.shape[:2], np.uint8)
    np.testing.assert_array_equal(apply_curves(rgb, empty, curves), rgb)
    full = np.full(rgb.shape[:2], 255, np.uint8)
    np.testing.assert_array_equal(apply_curves(rgb, full, curves), reference(rgb, full, curves))


def test_bad_arguments(curves):
    rgb = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="do not fit"):
        apply_curves(rgb, np.zeros((8, 9), np.uint8), curves)
    with pytest.raises(ValueError, match="separate array"):
        apply_curves(rgb, np.zeros((8, 8), np.uint8), curves, out=rgb)
