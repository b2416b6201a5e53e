"""Apply curves to full-resolution images and blend them in through the mask (numpy and
OpenCV only).

Integer images go through a lookup table baked from the curves (256 entries for uint8,
applied by OpenCV; 65536 for uint16, by numpy indexing); float images use the exact
piecewise-linear evaluation. The output is written once, in bands of rows of about
2 MiB (so each band's second and third pass hit the cache) spread over a few threads:
columns outside the band's mask extent are copied, the extent is rendered straight into
the output, and the background inside it is copied back through the inverted mask
(binary band) or blended (soft band). Beyond the output, the temporaries are a band's
worth per thread; never a float copy of the image. Pixels where the mask is 0 come back
bit for bit.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from .curves.value import Curves

__all__ = ["apply_curves", "band_rows"]

#: Bytes of temporaries a band of rows may take (soft-mask blend, uint16 and float render).
BAND_BYTES = 2 << 20


def _bands(height: int, width: int, bytes_per_pixel: int):
    """Row slices whose temporaries stay within :data:`BAND_BYTES`."""
    rows = max(1, BAND_BYTES // max(1, width * bytes_per_pixel))
    return (slice(y, min(y + rows, height)) for y in range(0, height, rows))


def _renderer(curves: Curves, dtype: np.dtype) -> Callable[[np.ndarray, np.ndarray], None]:
    """A function writing the curve output of ``src`` (``(h, w, 3)``) into ``dst`` (same
    shape and ``dtype``); the lookup table is baked once here."""
    if dtype == np.uint8:
        table = curves.lut(256).reshape(256, 1, 3)

        def render(dst: np.ndarray, src: np.ndarray) -> None:
            cv2.LUT(src, table, dst=dst)

    elif dtype == np.uint16:
        lut = curves.lut(65536)

        def render(dst: np.ndarray, src: np.ndarray) -> None:
            for band in _bands(*src.shape[:2], bytes_per_pixel=8):  # one intp index a channel
                for c in range(3):
                    dst[band, :, c] = lut[src[band, :, c], c]

    else:

        def render(dst: np.ndarray, src: np.ndarray) -> None:
            for band in _bands(*src.shape[:2], bytes_per_pixel=3 * 8 * 3):  # float64 work
                dst[band] = curves.apply(src[band])

    return render


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


def band_rows(width: int, itemsize: int) -> int:
    """Rows per band of :func:`apply_curves`: about 2 MiB of image, so that the rows a
    band touches are still in cache for its second and third pass."""
    return max(8, (2 << 20) // max(1, width * 3 * itemsize))


def _column_extent(alpha: np.ndarray) -> tuple[int, int] | None:
    """``(left, right)`` covering the nonzero columns of ``alpha`` (``(h, w)`` uint8,
    C-contiguous), or None; rounded out to multiples of 8 when it scans 8 pixels at a
    time (the width is a multiple of 8)."""
    step = 8 if alpha.shape[1] % 8 == 0 else 1
    wide = alpha.view(np.uint64) if step == 8 else alpha  # (h, w / step)
    columns = np.flatnonzero(np.bitwise_or.reduce(wide, axis=0))
    if columns.size == 0:
        return None
    return int(columns[0]) * step, (int(columns[-1]) + 1) * step


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), "s2crnet-render")


def apply_curves(
    rgb: np.ndarray, mask: np.ndarray, curves: Curves, out: np.ndarray | None = None
) -> np.ndarray:
    """Harmonize the masked region of a full-resolution image.

    Works in bands of rows, spread over a few threads (OpenCV and numpy release the
    GIL): a band without mask pixels is copied; otherwise the columns outside its mask
    extent are copied, the extent is rendered straight into the output, and the
    background in it is put back through the inverted mask (binary band) or blended
    (soft band).

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
    mask = np.ascontiguousarray(mask)
    height, width = mask.shape
    rows = band_rows(width, rgb.itemsize)
    render = _renderer(curves, rgb.dtype)

    def band(top: int) -> None:
        span = slice(top, min(top + rows, height))
        extent = _column_extent(mask[span])
        if extent is None:
            out[span] = rgb[span]
            return
        left, right = extent
        out[span, :left] = rgb[span, :left]
        out[span, right:] = rgb[span, right:]
        source, target = rgb[span, left:right], out[span, left:right]
        alpha = mask[span, left:right]
        render(target, source)
        inverse = cv2.threshold(alpha, 254, 255, cv2.THRESH_BINARY_INV)[1]
        # pixels in 1..254 are counted by both: (a < 255) + (a > 0) - all
        if cv2.countNonZero(inverse) + cv2.countNonZero(alpha) > alpha.size:  # soft: blend
            _blend_soft(target, source, alpha)
        else:  # binary: put the background back
            cv2.copyTo(source, inverse, target)

    tops = range(0, height, rows)
    if len(tops) == 1:
        band(0)
    else:
        list(_pool().map(band, tops))  # waits for all; re-raises a band's error
    return out
