"""What users pass in, made into what the pipeline takes: a :class:`Picture` and
``(H, W)`` uint8 masks in its orientation, checked to belong together.

Images and masks may be file paths, numpy arrays or PIL images (files are decoded by
:mod:`s2crnet.images`); several objects come as a list of masks or one label map; the
result goes back to the kind of image the user gave (:func:`like_input`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError
from .images import (
    Picture,
    RawMask,
    array_from_pil,
    mask_from_array,
    mask_from_pil,
    picture_from_array,
    picture_from_pil,
    read_image,
    read_label_map,
    read_mask,
)
from .pixels import from_unit

__all__ = [
    "Reference",
    "as_picture",
    "as_raw_mask",
    "check_not_swapped",
    "check_overlaps",
    "fit_mask",
    "like_input",
    "load_inputs",
    "load_masks",
    "load_objects",
    "load_reference",
    "masks_from_label_map",
    "size_text",
    "source_name",
    "union",
]

PathLike = str | os.PathLike


def _is_pil(value: Any) -> bool:
    return hasattr(value, "mode") and hasattr(value, "getbands")


def source_name(source: Any, default: str) -> str:
    """How messages name an input: its path (a :class:`Picture`'s file), or ``default``
    for an array or PIL image."""
    if isinstance(source, Picture):
        return source.source or default
    return str(source) if isinstance(source, str | os.PathLike) else default


def size_text(shape: tuple[int, ...]) -> str:
    """``WxH`` of an ``(H, W, ...)`` shape."""
    return f"{shape[1]}x{shape[0]}"


def as_picture(image: Any, max_pixels: int | None = None) -> Picture:
    """A file path, numpy array, PIL image or :class:`Picture` as a :class:`Picture`."""
    if isinstance(image, Picture):
        return image
    if isinstance(image, str | os.PathLike):
        return read_image(image, max_pixels)
    if isinstance(image, np.ndarray):
        return picture_from_array(image)
    if _is_pil(image):
        return picture_from_pil(image)
    raise InputError(
        f"composite: expected a file path, numpy array or PIL image, got {type(image)}"
    )


def as_raw_mask(mask: Any, max_pixels: int | None = None) -> RawMask:
    """A file path, numpy array or PIL image as a :class:`RawMask` (not yet oriented)."""
    if isinstance(mask, str | os.PathLike):
        return read_mask(mask, max_pixels)
    if isinstance(mask, np.ndarray):
        return RawMask(mask_from_array(mask))
    if _is_pil(mask):
        return RawMask(mask_from_pil(mask))
    raise InputError(f"mask: expected a file path, numpy array or PIL image, got {type(mask)}")


def fit_mask(
    raw: RawMask | np.ndarray,
    shape: tuple[int, int],
    mask_name: str,
    picture_name: str = "the composite",
    *,
    orientation: int = 1,
    rotation: int = 0,
) -> np.ndarray:
    """The one way a mask is fitted to its picture: the ``(H, W)`` uint8 mask in the
    picture's ``shape``, or an :class:`InputError` naming both.

    A mask stored without the picture's EXIF ``orientation`` follows it; a mask drawn on
    the displayed picture of a video rotated by ``rotation`` degrees is turned back to the
    frames' stored orientation.

    >>> fit_mask(np.zeros((2, 3), np.uint8), (3, 2), "m.png", rotation=90).shape
    (3, 2)
    """
    raw = raw if isinstance(raw, RawMask) else RawMask(raw)
    values = raw.oriented()
    if values.shape != shape and orientation != 1:
        candidate = raw.oriented(orientation)
        if candidate.shape == shape:
            values = candidate
    turns = (rotation // 90) % 4
    if values.shape != shape and turns % 2 and values.shape == shape[::-1]:
        values = np.ascontiguousarray(np.rot90(values, -turns))
    if values.shape != shape:
        raise InputError(
            f"{mask_name}: mask is {size_text(values.shape)} but {picture_name} is "
            f"{size_text(shape)}"
        )
    return values


def _fit_to(raw: RawMask, picture: Picture, mask_name: str, picture_name: str) -> np.ndarray:
    return fit_mask(raw, picture.shape, mask_name, picture_name, orientation=picture.orientation)


def load_inputs(
    composite: Any, mask: Any, max_pixels: int | None = None
) -> tuple[Picture, np.ndarray]:
    """Decode a composite and its mask and check that they belong together (files up to
    ``max_pixels``, see :func:`s2crnet.images.read_image`).

    Returns:
        the picture and its ``(H, W)`` uint8 mask.

    Raises:
        InputError: unreadable inputs, or a mask whose size differs from the composite's.
    """
    picture = as_picture(composite, max_pixels)
    raw = as_raw_mask(mask, max_pixels)
    names = source_name(mask, "mask"), source_name(composite, "composite")
    values = _fit_to(raw, picture, names[0], f"the composite {names[1]}")
    check_not_swapped(picture, [values], [names[0]], names[1])
    return picture, values


def load_masks(
    picture: Picture,
    masks: list[Any],
    composite_name: str = "composite",
    max_pixels: int | None = None,
) -> tuple[list[np.ndarray], list[str]]:
    """Decode several masks for one picture: ``(H, W)`` uint8 arrays and their names."""
    names = [source_name(m, f"mask {i + 1}") for i, m in enumerate(masks)]
    values = [
        _fit_to(as_raw_mask(m, max_pixels), picture, n, f"the composite {composite_name}")
        for m, n in zip(masks, names, strict=True)
    ]
    check_not_swapped(picture, values, names, composite_name)
    return values, names


def check_not_swapped(
    picture: Picture, masks: list[np.ndarray], names: list[str], composite_name: str
) -> None:
    """An :class:`InputError` when the inputs look swapped: a "composite" of two levels
    (black and white, as masks are) and a "mask" that is mostly neither 0 nor 255 (as
    photos are). A real composite is never two-level, so nothing else is refused."""
    rgb = picture.rgb
    if np.unique(rgb.reshape(-1)[:: max(1, rgb.size // 4096)]).size > 2:
        return  # a sample already has three levels: a photo (the usual case, at no cost)

    def photo_like(values: np.ndarray) -> bool:  # mostly neither 0 nor 255, on a sample
        sample = values.reshape(-1)[:: max(1, values.size // 4096)]
        return bool(sample.size) and ((sample > 0) & (sample < 255)).mean() > 0.5

    suspects = [name for values, name in zip(masks, names, strict=True) if photo_like(values)]
    if not suspects:
        return
    low, high = rgb.min(), rgb.max()
    for band in range(0, rgb.shape[0], 256):  # in bands: no full-size temporary
        rows = rgb[band : band + 256]
        if not np.all((rows == low) | (rows == high)):
            return
    raise InputError(
        f"{composite_name} and {suspects[0]} look swapped: the composite is a two-level "
        "image (a mask?) and the mask a photo; give the composite first, then its mask"
    )


def masks_from_label_map(
    label_map: Any,
    max_pixels: int | None = None,
    picture: Picture | None = None,
    composite_name: str = "composite",
) -> tuple[list[np.ndarray], list[str]]:
    """One mask per object of a label map (0 = background, 1, 2, ... = objects; a grey
    PNG or an integer array), in increasing order of the labels.

    Raises:
        InputError: not an integer image, no object, or (given ``picture``) a size that
            differs from the picture's.
    """
    name = source_name(label_map, "label map")
    if isinstance(label_map, str | os.PathLike):
        values = read_label_map(label_map, max_pixels)
    elif _is_pil(label_map):
        values = array_from_pil(label_map)
    else:
        values = np.asarray(label_map)
    if values.ndim != 2 or values.dtype.kind not in "iub":
        raise InputError(f"{name}: a label map must be a single-channel integer image")
    if picture is not None and values.shape != picture.shape:
        which = "" if composite_name == "composite" else f" {composite_name}"
        raise InputError(
            f"{name}: label map is {size_text(values.shape)} but the composite{which} "
            f"is {size_text(picture.shape)}"
        )
    ids = [int(v) for v in np.unique(values) if v != 0]
    if not ids:
        raise InputError(f"{name}: the label map holds no object (every pixel is 0)")
    masks = [np.where(values == v, 255, 0).astype(np.uint8) for v in ids]
    return masks, [f"{name} (object {v})" for v in ids]


def load_objects(
    picture: Picture,
    mask: Any = None,
    label_map: Any = None,
    composite_name: str = "composite",
    max_pixels: int | None = None,
) -> tuple[list[np.ndarray], list[str]]:
    """The objects of a picture, from a mask, a list of masks, or a label map (exactly
    one of ``mask`` and ``label_map``): their masks and names."""
    if (mask is None) == (label_map is None):
        raise InputError("give a mask (or a list of masks) or a label_map, not both or neither")
    if label_map is not None:
        return masks_from_label_map(label_map, max_pixels, picture, composite_name)
    masks = mask if isinstance(mask, list | tuple) else [mask]
    return load_masks(picture, list(masks), composite_name, max_pixels)


@dataclass(frozen=True)
class Reference:
    """Another photo whose background guides the colours (paper Fig. 9): ``rgb`` and the
    ``(H, W)`` uint8 mask of its own object (None: all of it is background)."""

    rgb: np.ndarray
    mask: np.ndarray | None = None


def load_reference(
    reference: Any, reference_mask: Any = None, max_pixels: int | None = None
) -> Reference:
    """Decode a reference photo and, optionally, the mask of its object."""
    picture = as_picture(reference, max_pixels)
    values = None
    if reference_mask is not None:
        values = _fit_to(
            as_raw_mask(reference_mask, max_pixels),
            picture,
            source_name(reference_mask, "reference mask"),
            f"the reference photo {source_name(reference, 'reference')}",
        )
    return Reference(picture.rgb, values)


def check_overlaps(masks: list[np.ndarray], names: list[str]) -> None:
    """Raise :class:`InputError` naming two masks that share pixels."""
    for a in range(len(masks)):
        for b in range(a + 1, len(masks)):
            both = int(np.count_nonzero((masks[a] > 0) & (masks[b] > 0)))
            if both:
                raise InputError(
                    f"{names[a]} and {names[b]} overlap in {both} pixels; "
                    "each pixel may belong to one object only"
                )


def union(masks: list[np.ndarray]) -> np.ndarray:
    """The pixelwise maximum of ``(H, W)`` masks: every object at once."""
    return masks[0] if len(masks) == 1 else np.maximum.reduce(masks)


def like_input(original: Any, picture: Picture) -> Any:
    """The picture as the kind of image the user gave: an array of the input's dtype and
    shape, a PIL image, a :class:`Picture` (with its ICC profile), or (for a file) the
    decoded array."""
    if isinstance(original, Picture):
        return picture
    pixels = picture.channels()
    if isinstance(original, np.ndarray):
        return pixels.reshape(original.shape).astype(original.dtype, copy=False)
    if _is_pil(original):
        from PIL import Image

        if pixels.dtype == np.float32:
            pixels = from_unit(pixels, np.uint8)
        return Image.fromarray(pixels)
    return pixels
