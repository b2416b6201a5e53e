"""Apply curves to full-resolution images and blend them in through the mask (numpy and
OpenCV only).

Integer images go through a lookup table baked from the curves (256 entries for uint8,
applied by OpenCV; 65536 for uint16, by numpy indexing); float images use the exact
piecewise-linear evaluation. The output is written once: rows and columns outside the
mask's bounding box are copied, the box is rendered straight into the output, and the
background inside the box is copied back through the inverted mask (binary masks) or
blended in bands of rows (soft masks). Beyond the output, the temporaries are at most
one byte per pixel of the box (the inverted mask) or a band's worth; never a float copy
of the image. Pixels where the mask is 0 come back bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np

from .lut import Curves
from .thumbnails import mask_box

__all__ = ["apply_curves"]

#: Bytes of temporaries a band of rows may take (soft-mask blend, uint16 and float render).
BAND_BYTES = 2 << 20


def _bands(height: int, width: int, bytes_per_pixel: int):
    """Row slices whose temporaries stay within :data:`BAND_BYTES`."""
    rows = max(1, BAND_BYTES // max(1, width * bytes_per_pixel))
    return (slice(y, min(y + rows, height)) for y in range(0, height, rows))


def _render_into(dst: np.ndarray, src: np.ndarray, curves: Curves) -> None:
    """Write the curve output of ``src`` (``(h, w, 3)``) into ``dst`` (same shape, dtype)."""
    if src.dtype == np.uint8:
        cv2.LUT(src, curves.lut(256).reshape(256, 1, 3), dst=dst)
    elif src.dtype == np.uint16:
        lut = curves.lut(65536)
        for band in _bands(*src.shape[:2], bytes_per_pixel=8):  # one intp index a channel
            for c in range(3):
                dst[band, :, c] = lut[src[band, :, c], c]
    else:
        for band in _bands(*src.shape[:2], bytes_per_pixel=3 * 8 * 3):  # float64 work
            dst[band] = curves.apply(src[band])


def _blend_soft(dst: np.ndarray, original: np.ndarray, alpha: np.ndarray) -> None:
    """``dst = original (1 - a) + dst a`` with ``a = alpha / 255``, in bands, in place;
    exact at 0 and 255."""
    if dst.dtype == np.float32:
        for band in _bands(*dst.shape[:2], bytes_per_pixel=4 * 3 * 2 + 4):
            weight = alpha[band, :, None].astype(np.float32) / 255.0
            mixed = dst[band] - original[band]
            mixed *= weight
            mixed += original[band]
            dst[band] = mixed
        return
    wide = np.uint16 if dst.dtype == np.uint8 else np.uint32
    size = np.dtype(wide).itemsize
    for band in _bands(*dst.shape[:2], bytes_per_pixel=size * 3 * 2 + size * 2):
        a = alpha[band, :, None].astype(wide)
        mixed = original[band].astype(wide)
        mixed *= 255 - a
        rendered = dst[band].astype(wide)
        rendered *= a
        mixed += rendered
        mixed += 127
        mixed //= 255
        dst[band] = mixed


def apply_curves(
    rgb: np.ndarray, mask: np.ndarray, curves: Curves, out: np.ndarray | None = None
) -> np.ndarray:
    """Harmonize the masked region of a full-resolution image.

    Args:
        rgb: ``(H, W, 3)`` uint8, uint16 or float32 (in [0, 1]).
        mask: ``(H, W)`` uint8, 0 = keep, 255 = replace by the curve output.
        curves: the curves to apply (all stages, composed).
        out: an array like ``rgb`` to write the result into (e.g. reused across video
            frames); by default a new one.

    Returns:
        the result (``out`` when given); ``rgb`` is not modified.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or mask.shape != rgb.shape[:2]:
        raise ValueError(f"apply_curves: rgb {rgb.shape} and mask {mask.shape} do not fit")
    if out is None:
        out = np.empty_like(rgb)
    elif out.shape != rgb.shape or out.dtype != rgb.dtype or np.shares_memory(out, rgb):
        raise ValueError("apply_curves: out must be a separate array of rgb's shape and dtype")
    box = mask_box(mask)
    if box is None:
        np.copyto(out, rgb)
        return out
    top, bottom, left, right = box
    out[:top], out[bottom:] = rgb[:top], rgb[bottom:]
    out[top:bottom, :left], out[top:bottom, right:] = (
        rgb[top:bottom, :left],
        rgb[top:bottom, right:],
    )
    region = (slice(top, bottom), slice(left, right))
    _render_into(out[region], rgb[region], curves)
    alpha = mask[region]
    if cv2.countNonZero(cv2.inRange(alpha, 1, 254)):  # a soft mask: blend
        _blend_soft(out[region], rgb[region], alpha)
    else:  # binary: put the background back
        cv2.copyTo(rgb[region], cv2.bitwise_not(alpha), out[region])
    return out
