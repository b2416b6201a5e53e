"""From a cut-out to a harmonized composite: paste an RGBA object onto a photo (its alpha
is the mask, soft edges kept), then harmonize it.

>>> import numpy as np
>>> cutout = np.zeros((4, 4, 4), np.uint8); cutout[1:3, 1:3] = (200, 10, 10, 255)
>>> composite, mask = paste(cutout, np.full((8, 8, 3), 50, np.uint8), at=(0, 0))
>>> composite[1, 1].tolist(), composite[5, 5].tolist(), int(mask[2, 2]), int(mask[5, 5])
([200, 10, 10], [50, 50, 50], 255, 0)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from .api import HarmonizeResult, harmonize_picture
from .errors import InputError
from .inputs import as_picture, like_input, source_name
from .pixels import from_unit, to_unit

__all__ = ["ComposeResult", "compose", "paste"]


@dataclass(frozen=True)
class ComposeResult(HarmonizeResult):
    """What :func:`compose` returns: a :class:`s2crnet.api.HarmonizeResult` (``image``,
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
) -> tuple[np.ndarray, np.ndarray]:
    """Paste an RGBA cut-out onto an RGB background.

    Args:
        cutout: ``(h, w, 4)`` RGBA (uint8, uint16 or float in [0, 1]); the alpha is the
            object's mask, its soft edges blend.
        background: ``(H, W, 3)`` RGB, any of those dtypes.
        at: ``(x, y)``, the cut-out's top-left corner in the background's pixels (after
            scaling; it may stick out, the rest is cropped); None centres it.
        scale: resize the cut-out by this factor first.
        name: the cut-out's name for messages.

    Returns:
        ``(composite, mask)``: the background's shape and dtype, and ``(H, W)`` uint8.

    Raises:
        InputError: no alpha channel or a fully opaque one, a scale that leaves nothing,
            or a position wholly outside the background.
    """
    if cutout.ndim != 3 or cutout.shape[2] != 4:
        raise InputError(f"{name}: the cut-out has no transparency (alpha channel); give an "
                         "RGBA PNG whose alpha marks the object")  # fmt: skip
    alpha = to_unit(cutout[..., 3])
    if alpha.min() >= 1.0:
        raise InputError(f"{name}: the cut-out is fully opaque; its alpha must mark the object")
    if not np.isfinite(scale) or scale <= 0:
        raise InputError(f"{name}: --scale must be a number above 0, got {scale}")
    rgb = to_unit(cutout[..., :3])
    if scale != 1.0:
        h, w = cutout.shape[:2]
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        if round(w * scale) < 1 or round(h * scale) < 1:
            raise InputError(f"{name}: scaled by {scale} the cut-out has no pixels left")
        method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        rgb = cv2.resize(rgb, size, interpolation=method)
        alpha = cv2.resize(alpha, size, interpolation=method)
    h, w = alpha.shape
    height, width = background.shape[:2]
    x, y = at if at is not None else ((width - w) // 2, (height - h) // 2)
    left, top = max(0, x), max(0, y)
    right, bottom = min(width, x + w), min(height, y + h)
    if left >= right or top >= bottom:
        raise InputError(
            f"{name}: placed at {x},{y} the {w}x{h} cut-out lies wholly outside the "
            f"{width}x{height} background"
        )
    crop = (slice(top - y, bottom - y), slice(left - x, right - x))
    a = alpha[crop][..., None]
    if not (a > 0).any():
        raise InputError(f"{name}: the visible part of the cut-out is fully transparent")
    composite = background.copy()
    region = to_unit(background[top:bottom, left:right])
    composite[top:bottom, left:right] = from_unit(
        region * (1 - a) + rgb[crop] * a, background.dtype
    )
    mask = np.zeros((height, width), np.uint8)
    mask[top:bottom, left:right] = from_unit(a[..., 0], np.uint8)
    return composite, mask


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
    :func:`s2crnet.harmonize` takes as a composite. The other arguments are
    :func:`s2crnet.harmonize`'s. The result's ``image`` and ``composite`` are of the
    background's kind.
    """
    from .loading import resolve_model

    model = resolve_model(model, device)
    obj = as_picture(cutout, max_pixels)
    if obj.alpha is None or obj.grey:
        channels = "grey" if obj.grey and obj.alpha is None else "without alpha"
        name = source_name(cutout, "object")
        raise InputError(
            f"{name}: the cut-out is {channels}; give an RGBA PNG whose alpha marks the object"
        )
    rgba = np.dstack([obj.rgb, obj.alpha])
    picture = as_picture(background, max_pixels)
    rgb, mask = paste(rgba, picture.rgb, at, scale, source_name(cutout, "object"))
    pasted = replace(picture, rgb=rgb)
    result, objects = harmonize_picture(
        pasted, [mask], model, label, [source_name(cutout, "object")], strength, None, labeler
    )
    return ComposeResult(
        image=like_input(background, result),
        objects=tuple(objects),
        composite=like_input(background, pasted),
        mask=mask,
    )
