"""``harmonize``: the few lines a user needs::

from s2crnet import harmonize, load_model

result = harmonize("composite.jpg", "mask.png", model=load_model("w.safetensors"))
result.image           # the harmonized image, of the input's kind
result.curves.params   # (stages, 3, L): the curves that were applied
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import S2CRNetConfig
from .images import (
    InputError,
    Picture,
    RawMask,
    mask_from_array,
    mask_from_pil,
    picture_from_array,
    picture_from_pil,
    read_image,
    read_mask,
)
from .labels import label_index
from .lut import Curves
from .render import apply_curves
from .thumbnails import thumbnails

__all__ = [
    "CurvePredictor",
    "HarmonizeResult",
    "NoDefaultModelError",
    "default_model",
    "harmonize",
    "harmonize_picture",
    "load_inputs",
    "predict_curves",
    "resolve_model",
]

PathLike = str | os.PathLike


class NoDefaultModelError(RuntimeError):
    """Raised when no weights are given and the package ships no trained model."""


def default_model(device: str = "cpu") -> CurvePredictor:
    """The trained model shipped with the package.

    None ships yet: this raises rather than ever harmonizing with random weights.
    """
    raise NoDefaultModelError(
        "no trained default model ships with s2crnet yet; give weights explicitly "
        "(CLI: --weights PATH; Python: model=s2crnet.load_model(PATH))"
    )


def resolve_model(model: Any, device: str | None = None) -> CurvePredictor:
    """A model object, a weights path (``.onnx`` runs on ONNX Runtime, anything else is
    loaded with :func:`s2crnet.load_model`), or None for the default model."""
    if model is None:
        return default_model(device or "cpu")
    if isinstance(model, str | os.PathLike):
        if Path(model).suffix.lower() == ".onnx":
            from .runtime import OnnxModel

            return OnnxModel(model)
        from .weights import load_model

        return load_model(Path(model), device=device or "cpu")
    if device is not None and hasattr(model, "to"):
        model = model.to(device)
    return model


@dataclass(frozen=True)
class HarmonizeResult:
    """What :func:`harmonize` returns.

    Attributes:
        image: the harmonized image, of the input's kind: a numpy array of the input's
            dtype and shape, a PIL image of the input's mode (CMYK and other modes come
            back as RGB), or, for a file path, the decoded array (upright, RGB or grey,
            alpha last).
        curves: the curves applied, ``curves.params`` of shape ``(stages, 3, L)``.
        label: the class index a semantic model used (None for other models).
    """

    image: Any
    curves: Curves
    label: int | None


# --------------------------------------------------------------------------- inputs
def _as_picture(image: Any) -> Picture:
    if isinstance(image, str | os.PathLike):
        return read_image(image)
    if isinstance(image, np.ndarray):
        return picture_from_array(image)
    if hasattr(image, "mode") and hasattr(image, "getbands"):  # a PIL image
        return picture_from_pil(image)
    raise InputError(
        f"composite: expected a file path, numpy array or PIL image, got {type(image)}"
    )


def _as_raw_mask(mask: Any) -> RawMask:
    if isinstance(mask, str | os.PathLike):
        return read_mask(mask)
    if isinstance(mask, np.ndarray):
        return RawMask(mask_from_array(mask))
    if hasattr(mask, "mode") and hasattr(mask, "getbands"):
        return RawMask(mask_from_pil(mask))
    raise InputError(f"mask: expected a file path, numpy array or PIL image, got {type(mask)}")


def _size(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"


def load_inputs(composite: Any, mask: Any) -> tuple[Picture, np.ndarray]:
    """Decode a composite and its mask and check that they belong together.

    A mask stored without the composite's EXIF rotation follows the composite's.

    Returns:
        the picture and its ``(H, W)`` uint8 mask.

    Raises:
        InputError: unreadable inputs, or a mask whose size differs from the composite's.
    """
    picture = _as_picture(composite)
    raw = _as_raw_mask(mask)
    comp_name = str(composite) if isinstance(composite, str | os.PathLike) else "composite"
    mask_name = str(mask) if isinstance(mask, str | os.PathLike) else "mask"
    values = raw.oriented()
    if values.shape != picture.shape and picture.orientation != 1:
        candidate = raw.oriented(picture.orientation)
        if candidate.shape == picture.shape:
            values = candidate
    if values.shape != picture.shape:
        raise InputError(
            f"{mask_name}: mask is {_size(values.shape)} but the composite {comp_name} is "
            f"{_size(picture.shape)}"
        )
    return picture, values


# --------------------------------------------------------------------------- core
class CurvePredictor(Protocol):
    """What harmonizing needs of a model: an :class:`S2CRNet` or an ONNX Runtime model."""

    config: S2CRNetConfig

    def curves_from_thumbnails(
        self, foreground: np.ndarray, background: np.ndarray, label: int | None
    ) -> np.ndarray: ...


def predict_curves(
    model: CurvePredictor, rgb: np.ndarray, mask: np.ndarray, label: int | None
) -> Curves:
    """Curves for one full-resolution ``(H, W, 3)`` image and ``(H, W)`` uint8 mask."""
    foreground, background = thumbnails(rgb, mask, model.config.thumbnail)
    return Curves(model.curves_from_thumbnails(foreground, background, label))


def harmonize_picture(
    picture: Picture,
    mask: np.ndarray,
    model: CurvePredictor,
    label: Any = None,
    name: str = "mask",
) -> tuple[Picture, Curves, int | None]:
    """Harmonize a decoded picture; see :func:`harmonize`."""
    index = None
    if model.config.semantic:
        index = label_index(label)
    elif label is not None:
        warnings.warn("the model is not semantic: the label is ignored", stacklevel=3)
    if not mask.any():
        warnings.warn(f"{name}: the mask is empty; the image is returned unchanged", stacklevel=3)
        identity = Curves.identity(model.config.stages, model.config.pieces)
        return replace(picture, rgb=picture.rgb.copy()), identity, index
    if mask.min() == 255:
        raise InputError(
            f"{name}: the mask covers the whole image; there is no background to harmonize against"
        )
    curves = predict_curves(model, picture.rgb, mask, index)
    return replace(picture, rgb=apply_curves(picture.rgb, mask, curves)), curves, index


def _like_input(original: Any, picture: Picture) -> Any:
    """Turn the result back into the kind of image the user gave."""
    pixels = picture.channels()
    if isinstance(original, np.ndarray):
        return pixels.reshape(original.shape).astype(original.dtype, copy=False)
    if hasattr(original, "mode") and hasattr(original, "getbands"):
        from PIL import Image

        if pixels.dtype == np.float32:
            pixels = np.round(pixels * 255).astype(np.uint8)
        return Image.fromarray(pixels)
    return pixels


def harmonize(
    composite: PathLike | np.ndarray | Any,
    mask: PathLike | np.ndarray | Any,
    model: CurvePredictor | PathLike | None = None,
    label: str | int | None = None,
    device: str | None = None,
) -> HarmonizeResult:
    """Recolour the masked object of ``composite`` so that it matches its background.

    Args:
        composite: a file path, a numpy array (``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``;
            uint8, uint16 or float in [0, 1]) or a PIL image. Any resolution. Alpha is
            kept and ignored for colour; grey images come back grey.
        mask: same size as the composite: a file (grey, RGB or RGBA), a PIL image or an
            array (bool; uint8 0/255; float in [0, 1]). 1 / 255 marks the object; with a
            binary mask every pixel outside it is returned bit for bit, soft masks blend.
        model: an :class:`S2CRNet`, an :class:`s2crnet.runtime.OnnxModel`, a weights path
            (``.onnx`` files run on ONNX Runtime), or None for the shipped default.
        label: the object's class for semantic models (name or index; None = ``other``).
        device: where to run the network (default: where the model is, or CPU).

    Returns:
        a :class:`HarmonizeResult`.

    Raises:
        InputError: unreadable input, size mismatch, a mask with no background.
        NoDefaultModelError: ``model`` is None and no default model ships.
    """
    model = resolve_model(model, device)
    picture, values = load_inputs(composite, mask)
    mask_name = str(mask) if isinstance(mask, str | os.PathLike) else "mask"
    result, curves, index = harmonize_picture(picture, values, model, label, mask_name)
    return HarmonizeResult(image=_like_input(composite, result), curves=curves, label=index)
