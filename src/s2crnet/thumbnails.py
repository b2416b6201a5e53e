"""The network's inputs from a full-resolution image, with numpy and OpenCV only.

Background = the composite resized to the square thumbnail, times ``1 - mask``;
foreground = that thumbnail cropped to the mask's bounding box, resized back, times the
(cropped, resized) mask: the inputs the network sees in training, where the composite is
the square thumbnail. Shrinking uses OpenCV's area filter, whose cost is bounded by
the number of pixels read, and no float copy of the full image is made. Both inference
backends (PyTorch and ONNX Runtime) use this module, so they see the same inputs;
:func:`s2crnet.model.make_thumbnails` is the tensor version used in training.
"""

from __future__ import annotations

import cv2
import numpy as np

from .pixels import to_unit

__all__ = [
    "background_thumbnail",
    "foreground_thumbnail",
    "label_view",
    "mask_box",
    "object_box",
    "quick_square",
    "resize_square",
    "thumbnails",
]


def mask_box(mask: np.ndarray, threshold: int = 0) -> tuple[int, int, int, int] | None:
    """``(top, bottom, left, right)`` (exclusive ends) of the pixels above ``threshold``.

    >>> mask_box(np.array([[0, 0, 0], [0, 9, 0]], np.uint8))
    (1, 2, 1, 2)
    """
    rows = np.flatnonzero(mask.max(axis=1) > threshold)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].max(axis=0) > threshold)
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def object_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The object's box ``(top, bottom, left, right)`` (exclusive ends): the pixels of at
    least half weight (above 127 for uint8, 0.5 for floats), else any non-zero pixel,
    else the whole image. Thumbnails (numpy and tensor) and the labeler's view use it.

    >>> object_box(np.array([[0, 9, 0], [0, 0, 200]], np.uint8))
    (1, 2, 2, 3)
    >>> object_box(np.zeros((2, 3), np.uint8))
    (0, 2, 0, 3)
    """
    half = 127 if mask.dtype == np.uint8 else 0.5
    return mask_box(mask, half) or mask_box(mask, 0) or (0, mask.shape[0], 0, mask.shape[1])


def resize_square(array: np.ndarray, size: int) -> np.ndarray:
    """Resize ``(H, W)`` or ``(H, W, C)`` to ``size x size``: area filter to shrink,
    bilinear to enlarge.

    A large image is first averaged over ``k x k`` blocks (OpenCV's fast path for an
    integer factor; up to ``k - 1`` edge rows and columns are left out), which leaves
    the result nearly unchanged and makes an 8K image about 10x faster to shrink.
    """
    h, w = array.shape[:2]
    k = min(h, w) // (2 * size)
    if k >= 2:
        h, w = h // k, w // k
        array = cv2.resize(array[: h * k, : w * k], (w, h), interpolation=cv2.INTER_AREA)
    interpolation = cv2.INTER_AREA if size < h or size < w else cv2.INTER_LINEAR
    return cv2.resize(array, (size, size), interpolation=interpolation)


def quick_square(array: np.ndarray, size: int) -> np.ndarray:
    """A cheaper, rougher :func:`resize_square` for views that only follow the picture
    (a video's scene cuts and flicker; the network always gets :func:`resize_square`):
    halved by 2x2 averages while at least twice ``size``, then bilinear. About a
    sixth of the time for a 720p frame.

    >>> quick_square(np.zeros((720, 1280, 3), np.uint8), 256).shape
    (256, 256, 3)
    """
    h, w = array.shape[:2]
    while min(h, w) >= 2 * size:
        h, w = h // 2, w // 2
        array = cv2.resize(array[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)
    return cv2.resize(array, (size, size), interpolation=cv2.INTER_LINEAR)


def _nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None])  # (1, 3, S, S)


def foreground_thumbnail(rgb: np.ndarray, mask: np.ndarray, size: int = 256) -> np.ndarray:
    """The object: the image as a ``size x size`` square, cropped there to the mask's
    box, resized back to ``size``, times the (cropped, resized) mask.

    Cropping the square thumbnail, not the full-resolution image, gives the network the
    view it had in training (where the composite is the square): cropping a sharp
    full-resolution region instead doubled the dev-set MSE of a trained model at the
    full-resolution protocol. The box holds the pixels of at least half weight (else any,
    else the whole image). Returns float32 ``(1, 3, size, size)`` in [0, 1].
    """
    if rgb.shape[:2] != (size, size):
        rgb, mask = resize_square(rgb, size), resize_square(mask, size)
    top, bottom, left, right = object_box(mask)
    crop = to_unit(resize_square(rgb[top:bottom, left:right], size))
    crop_mask = to_unit(resize_square(mask[top:bottom, left:right], size))[..., None]
    return _nchw(crop * crop_mask)


def background_thumbnail(rgb: np.ndarray, mask: np.ndarray | None, size: int = 256) -> np.ndarray:
    """Everything outside ``mask`` (all of ``rgb`` when None), resized, as float32
    ``(1, 3, size, size)`` in [0, 1]. ``rgb`` may be another photo than the composite
    (a reference background)."""
    whole = to_unit(rgb if rgb.shape[:2] == (size, size) else resize_square(rgb, size))
    if mask is not None:
        if mask.shape != (size, size):
            mask = resize_square(mask, size)
        whole = whole * (1.0 - to_unit(mask)[..., None])
    return _nchw(whole)


def label_view(
    square: np.ndarray,
    square_mask: np.ndarray,
    size: int = 128,
    context: float = 2.0,
    dim: float = 0.5,
) -> np.ndarray:
    """What the object-class guesser sees: the object in its context.

    The square thumbnail is cropped to the object's box grown ``context`` times about
    its centre (kept inside the thumbnail), resized to ``size``, and everything outside
    the mask is scaled by ``dim``, so the object stands out and its surroundings (a dog
    on a lawn, a coat on a person) still count.

    Args:
        square: ``(S, S, 3)`` thumbnail (uint8, uint16 or float32 in [0, 1]).
        square_mask: ``(S, S)`` uint8, 255 = object; it must mark something.
        size: side of the view; context: box growth (>= 1); dim: context brightness.

    Returns:
        float32 ``(1, 3, size, size)`` in [0, 1].

    >>> view = label_view(np.full((64, 64, 3), 255, np.uint8), np.pad(np.full((8, 8), 255,
    ...     np.uint8), 28), size=32)
    >>> view.shape, float(view.max()), float(view.min())
    ((1, 3, 32, 32), 1.0, 0.5)
    """
    if not square_mask.any():
        raise ValueError("label_view: the mask marks nothing")
    top, bottom, left, right = object_box(square_mask)
    side_y, side_x = square.shape[:2]
    half_h, half_w = (bottom - top) * context / 2, (right - left) * context / 2
    cy, cx = (top + bottom) / 2, (left + right) / 2
    top, bottom = max(0, int(cy - half_h)), min(side_y, int(np.ceil(cy + half_h)))
    left, right = max(0, int(cx - half_w)), min(side_x, int(np.ceil(cx + half_w)))
    crop = to_unit(resize_square(square[top:bottom, left:right], size))
    weight = to_unit(resize_square(square_mask[top:bottom, left:right], size))[..., None]
    return _nchw(crop * (dim + (1.0 - dim) * weight))


def thumbnails(rgb: np.ndarray, mask: np.ndarray, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Masked foreground and background thumbnails of one composite.

    Args:
        rgb: ``(H, W, 3)`` uint8, uint16 or float32 in [0, 1].
        mask: ``(H, W)`` uint8, 255 = object.
        size: thumbnail side.

    Returns:
        ``(foreground, background)``, float32 ``(1, 3, size, size)`` in [0, 1], as the
        backbone receives them.
    """
    square, square_mask = resize_square(rgb, size), resize_square(mask, size)  # once
    return (
        foreground_thumbnail(square, square_mask, size),
        background_thumbnail(square, square_mask, size),
    )
