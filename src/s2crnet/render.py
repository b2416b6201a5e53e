"""Apply curves to full-resolution images and blend them in through the mask (numpy only).

Integer images go through a lookup table baked from the curves (256 entries for uint8,
applied with OpenCV; 65536 for uint16, with numpy indexing); float images use the exact
piecewise-linear evaluation. Only the mask's bounding box is touched, in bands of rows,
so the temporary memory is a band's worth, never a copy of the whole image beyond the
output. Pixels where the mask is 0 are copied bit for bit; where it is 255 they are the
curve's output; values between blend.
"""

from __future__ import annotations

import cv2
import numpy as np

from .lut import Curves
from .thumbnails import mask_box

__all__ = ["apply_curves"]

#: Rows per band: bounds the temporaries of the render and the blend.
BAND_ROWS = 256


def _render_band(band: np.ndarray, curves: Curves, lut: np.ndarray | None) -> np.ndarray:
    """Curve output for an ``(h, w, 3)`` band, same dtype."""
    if band.dtype == np.uint8:
        return cv2.LUT(band, lut.reshape(256, 1, 3))
    if band.dtype == np.uint16:
        out = np.empty_like(band)
        for c in range(3):
            np.take(lut[:, c], band[..., c], out=out[..., c])
        return out
    return curves.apply(band).astype(np.float32)


def _blend_into(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray) -> None:
    """``dst = dst (1 - a) + src a`` with ``a = alpha / 255``, in place, exact at 0 and 255."""
    if not np.any((alpha > 0) & (alpha < 255)):  # a binary band: a masked copy
        np.copyto(dst, src, where=(alpha != 0)[..., None])
        return
    if dst.dtype == np.float32:
        a = alpha[..., None].astype(np.float32) / 255.0
        dst += (src - dst) * a
        return
    wide = np.uint16 if dst.dtype == np.uint8 else np.uint32
    a = alpha[..., None].astype(wide)
    mixed = dst.astype(wide) * (255 - a) + src.astype(wide) * a + 127
    mixed //= 255
    dst[...] = mixed


def apply_curves(rgb: np.ndarray, mask: np.ndarray, curves: Curves) -> np.ndarray:
    """Harmonize the masked region of a full-resolution image.

    Args:
        rgb: ``(H, W, 3)`` uint8, uint16 or float32 (in [0, 1]).
        mask: ``(H, W)`` uint8, 0 = keep, 255 = replace by the curve output.
        curves: the curves to apply (all stages, composed).

    Returns:
        a new array like ``rgb``; ``rgb`` is not modified.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or mask.shape != rgb.shape[:2]:
        raise ValueError(f"apply_curves: rgb {rgb.shape} and mask {mask.shape} do not fit")
    out = rgb.copy()
    box = mask_box(mask)
    if box is None:
        return out
    top, bottom, left, right = box
    lut = None
    if rgb.dtype == np.uint8:
        lut = curves.lut(256)
    elif rgb.dtype == np.uint16:
        lut = curves.lut(65536)
    for y in range(top, bottom, BAND_ROWS):
        rows = slice(y, min(y + BAND_ROWS, bottom))
        src = _render_band(rgb[rows, left:right], curves, lut)
        _blend_into(out[rows, left:right], src, mask[rows, left:right])
    return out
