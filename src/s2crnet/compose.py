"""From a cut-out to a harmonized composite: paste an RGBA object onto a photo (its alpha
is the mask, soft edges kept), then harmonize it.

>>> import numpy as np
>>> cutout = np.zeros((4, 4, 4), np.uint8); cutout[1:3, 1:3] = (200, 10, 10, 255)
>>> composite, mask = paste(cutout, np.full((8, 8, 3), 50, np.uint8), at=(0, 0))
>>> composite[1, 1].tolist(), composite[5, 5].tolist(), int(mask[2, 2]), int(mask[5, 5])
([200, 10, 10], [50, 50, 50], 255, 0)
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from .errors import InputError
from .inputs import as_picture, like_input, source_name
from .pixels import from_unit, to_unit
from .session import HarmonizeResult, as_harmonizer

__all__ = ["ComposeResult", "compose", "paste"]


@dataclass(frozen=True)
class ComposeResult(HarmonizeResult):
    """What :func:`compose` returns: a :class:`s2crnet.session.HarmonizeResult` (``image``,
    ``objects``) plus the pasted, not yet harmonized ``composite`` (of the background's
    kind) and its ``mask`` (``(H, W)`` uint8, the cut-out's alpha where it landed)."""

    composite: Any = None
    mask: np.ndarray | None = None


def paste(
    cutout: np.ndarray,
    background: np.ndarray,
    at: tuple[int, int] | None = None,
    scale: float = 1.0,
    name: str = "object",
    max_pixels: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Paste an RGBA cut-out onto an RGB background.

    Args:
        cutout: ``(h, w, 4)`` RGBA (uint8, uint16 or float in [0, 1]); the alpha is the
            object's mask, its soft edges blend.
        background: ``(H, W, 3)`` RGB, any of those dtypes.
        at: ``(x, y)`` whole numbers, the cut-out's top-left corner in the background's
            pixels (after scaling; it may stick out, the rest is cropped); None centres it.
        scale: resize the cut-out by this factor first; only what lands on the background
            is resized, so a large factor costs no more than the background.
        name: the cut-out's name for messages.
        max_pixels: refuse a scaled cut-out above this many pixels (default
            :data:`s2crnet.images.DEFAULT_MAX_PIXELS`; 0 = no limit).

    Returns:
        ``(composite, mask)``: the background's shape and dtype, and ``(H, W)`` uint8.

    Raises:
        InputError: no alpha channel or a fully opaque one, a float cut-out outside
            [0, 1], a scale that leaves nothing or makes too many pixels, a position that
            is not two whole numbers or lies wholly outside the background.
    """
    from .images import DEFAULT_MAX_PIXELS

    if cutout.ndim != 3 or cutout.shape[2] != 4:
        raise InputError(f"{name}: the cut-out has no transparency (alpha channel); give an "
                         "RGBA PNG whose alpha marks the object")  # fmt: skip
    if cutout.dtype.kind == "f" and (not np.isfinite(cutout).all() or cutout.min() < 0
                                     or cutout.max() > 1):  # fmt: skip
        raise InputError(f"{name}: a float cut-out must hold values in [0, 1] "
                         f"(got {cutout.min():g} to {cutout.max():g})")  # fmt: skip
    if not isinstance(scale, numbers.Real) or not np.isfinite(scale) or scale <= 0:
        raise InputError(f"{name}: --scale must be a number above 0, got {scale}")
    if at is not None and (
        len(at) != 2 or not all(isinstance(v, numbers.Integral) for v in at)
    ):  # fmt: skip
        raise InputError(f"{name}: at must be two whole numbers (x, y), got {at!r}")
    alpha = to_unit(cutout[..., 3])
    if alpha.min() >= 1.0:
        raise InputError(f"{name}: the cut-out is fully opaque; its alpha must mark the object")
    h0, w0 = cutout.shape[:2]
    w, h = round(w0 * scale), round(h0 * scale)
    if w < 1 or h < 1:
        raise InputError(f"{name}: scaled by {scale} the cut-out has no pixels left")
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    if limit and w * h > limit:
        raise InputError(
            f"{name}: scaled by {scale} the cut-out would be {w}x{h}, above the limit of "
            f"{limit} pixels; --max-pixels N raises it, 0 removes it"
        )
    height, width = background.shape[:2]
    x, y = (int(at[0]), int(at[1])) if at is not None else ((width - w) // 2, (height - h) // 2)
    left, top = max(0, x), max(0, y)
    right, bottom = min(width, x + w), min(height, y + h)
    if left >= right or top >= bottom:
        raise InputError(
            f"{name}: placed at {x},{y} the {w}x{h} cut-out lies wholly outside the "
            f"{width}x{height} background"
        )
    # only the part that lands, (bottom - top) x (right - left), in the scaled cut-out
    rgba = _scaled_region(to_unit(cutout), scale, (w, h), (left - x, top - y),
                          (right - left, bottom - top))  # fmt: skip
    rgb, a = rgba[..., :3], rgba[..., 3:]
    if not (a > 0).any():
        raise InputError(f"{name}: the visible part of the cut-out is fully transparent")
    composite = background.copy()
    region = to_unit(background[top:bottom, left:right])
    composite[top:bottom, left:right] = from_unit(region * (1 - a) + rgb * a, background.dtype)
    mask = np.zeros((height, width), np.uint8)
    mask[top:bottom, left:right] = from_unit(a[..., 0], np.uint8)
    return composite, mask


def _scaled_region(
    rgba: np.ndarray,
    scale: float,
    size: tuple[int, int],
    offset: tuple[int, int],
    region: tuple[int, int],
) -> np.ndarray:
    """``region`` (w, h) of ``rgba`` (float32 ``(h0, w0, 4)``) resized to ``size``, from
    ``offset`` (x, y) in the resized picture. Shrinking resizes it all (it is no bigger
    than the input; the area filter); enlarging computes the region alone, bilinear, as
    :func:`cv2.resize` does (pixel centres at ``(i + 0.5) / scale - 0.5``)."""
    (w, h), (ox, oy), (rw, rh) = size, offset, region
    if scale == 1.0:
        return rgba[oy : oy + rh, ox : ox + rw]
    if scale < 1:
        return cv2.resize(rgba, (w, h), interpolation=cv2.INTER_AREA)[oy : oy + rh, ox : ox + rw]
    sx, sy = rgba.shape[1] / w, rgba.shape[0] / h  # input pixels per output pixel
    to_source = np.array(
        [[sx, 0, (ox + 0.5) * sx - 0.5], [0, sy, (oy + 0.5) * sy - 0.5]], np.float64
    )
    return cv2.warpAffine(rgba, to_source, (rw, rh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


def compose(
    cutout: str | os.PathLike | np.ndarray | Any,
    background: str | os.PathLike | np.ndarray | Any,
    *,
    at: tuple[int, int] | None = None,
    scale: float = 1.0,
    model: Any = None,
    strength: float = 1.0,
    label: str | int | None = None,
    labeler: Any = None,
    device: str | None = None,
    max_pixels: int | None = None,
) -> ComposeResult:
    """Paste a cut-out onto a photo (see :func:`paste`) and harmonize it.

    ``cutout`` is an RGBA file, array or PIL image; ``background`` anything
    :meth:`s2crnet.Harmonizer.harmonize` takes as a composite. ``model`` is a
    :class:`~s2crnet.session.Harmonizer` or what :func:`s2crnet.harmonize` takes; the other
    arguments are :func:`s2crnet.harmonize`'s. The result's ``image`` and ``composite``
    are of the background's kind.

    Raises:
        InputError: a cut-out without transparency (or grey), unreadable files, a
            placement that leaves nothing of the object.
    """
    session = as_harmonizer(model, device, labeler)
    name = source_name(cutout, "object")
    obj = as_picture(cutout, max_pixels)
    if obj.alpha is None or obj.grey:
        what = "has no transparency (alpha channel)" if obj.alpha is None else "is grey"
        raise InputError(f"{name}: the cut-out {what}; give an RGBA PNG whose alpha marks "
                         "the object, e.g. from a background remover")  # fmt: skip
    picture = as_picture(background, max_pixels)
    rgba = np.dstack([obj.rgb, obj.alpha])  # paste works in [0, 1]: any dtypes mix
    rgb, mask = paste(rgba, picture.rgb, at, scale, name, max_pixels)
    pasted = replace(picture, rgb=rgb)
    result, objects = session.harmonize_picture(
        pasted, [mask], labels=label, names=[name], strength=strength
    )
    return ComposeResult(
        image=like_input(background, result),
        objects=tuple(objects),
        composite=like_input(background, pasted),
        mask=mask,
    )
