"""``harmonize``: the few lines a user needs::

from s2crnet import harmonize, load_model

result = harmonize("composite.jpg", "mask.png", model=load_model("w.safetensors"))
result.image           # the harmonized image, of the input's kind
result.curves.params   # (stages, 3, L): the curves that were applied
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import LabelerConfig, S2CRNetConfig
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
from .labels import AUTO, LabelGuess, is_auto, label_index
from .lut import Curves
from .render import apply_curves
from .thumbnails import (
    background_thumbnail,
    foreground_thumbnail,
    label_view,
    resize_square,
    thumbnails,
)

__all__ = [
    "CurvePredictor",
    "HarmonizeResult",
    "NoDefaultModelError",
    "ObjectResult",
    "align_mask",
    "default_model",
    "guess_label",
    "harmonize",
    "harmonize_picture",
    "load_inputs",
    "load_masks",
    "masks_from_label_map",
    "predict_curves",
    "resolve_labeler",
    "resolve_model",
]

PathLike = str | os.PathLike


class NoDefaultModelError(RuntimeError):
    """Raised when no weights are given and the package ships no trained model."""


#: The shipped model, inside the package (see docs/model-card.md).
DEFAULT_WEIGHTS = Path(__file__).parent / "assets" / "s2crnet-default.safetensors"


def default_model(device: str = "cpu") -> CurvePredictor:
    """The trained model shipped with the package, loaded once per device.

    Raises:
        NoDefaultModelError: the package holds no trained model (never random weights).
    """
    if not DEFAULT_WEIGHTS.is_file():
        raise NoDefaultModelError(
            f"no trained default model in this installation ({DEFAULT_WEIGHTS} is missing); "
            "give weights explicitly (CLI: --weights PATH; Python: model=PATH)"
        )
    return _load_default(str(device))


@functools.cache
def _load_default(device: str) -> CurvePredictor:
    from .weights import load_model

    return load_model(DEFAULT_WEIGHTS, device=device)


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
class ObjectResult:
    """One harmonized object: its curves (``curves.params``: ``(stages, 3, L)``), the
    class index a semantic model used (None for other models), its mask's name, and,
    when the class was guessed (``label="auto"``), the guess with its probabilities."""

    curves: Curves
    label: int | None
    mask: str = "mask"
    guess: LabelGuess | None = None


@dataclass(frozen=True)
class HarmonizeResult:
    """What :func:`harmonize` returns.

    Attributes:
        image: the harmonized image, of the input's kind: a numpy array of the input's
            dtype and shape, a PIL image of the input's mode (CMYK and other modes come
            back as RGB), or, for a file path, the decoded array (upright, RGB or grey,
            alpha last).
        objects: one :class:`ObjectResult` per mask, in order.
    """

    image: Any
    objects: tuple[ObjectResult, ...]

    @property
    def curves(self) -> Curves:
        """The curves of the (first) object."""
        return self.objects[0].curves

    @property
    def label(self) -> int | None:
        """The class index of the (first) object."""
        return self.objects[0].label


# --------------------------------------------------------------------------- inputs
def _as_picture(image: Any, max_pixels: int | None = None) -> Picture:
    if isinstance(image, str | os.PathLike):
        return read_image(image, max_pixels)
    if isinstance(image, np.ndarray):
        return picture_from_array(image)
    if hasattr(image, "mode") and hasattr(image, "getbands"):  # a PIL image
        return picture_from_pil(image)
    raise InputError(
        f"composite: expected a file path, numpy array or PIL image, got {type(image)}"
    )


def _as_raw_mask(mask: Any, max_pixels: int | None = None) -> RawMask:
    if isinstance(mask, str | os.PathLike):
        return read_mask(mask, max_pixels)
    if isinstance(mask, np.ndarray):
        return RawMask(mask_from_array(mask))
    if hasattr(mask, "mode") and hasattr(mask, "getbands"):
        return RawMask(mask_from_pil(mask))
    raise InputError(f"mask: expected a file path, numpy array or PIL image, got {type(mask)}")


def _size(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"


def _name(source: Any, default: str) -> str:
    return str(source) if isinstance(source, str | os.PathLike) else default


def align_mask(
    raw: RawMask, picture: Picture, mask_name: str, comp_name: str, role: str = "composite"
) -> np.ndarray:
    """The mask in the picture's orientation: a mask stored without the picture's EXIF
    rotation follows it. ``role`` names the picture in messages ("composite",
    "reference photo")."""
    values = raw.oriented()
    if values.shape != picture.shape and picture.orientation != 1:
        candidate = raw.oriented(picture.orientation)
        if candidate.shape == picture.shape:
            values = candidate
    if values.shape != picture.shape:
        raise InputError(
            f"{mask_name}: mask is {_size(values.shape)} but the {role} {comp_name} is "
            f"{_size(picture.shape)}"
        )
    return values


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
    picture = _as_picture(composite, max_pixels)
    values = align_mask(
        _as_raw_mask(mask, max_pixels), picture, _name(mask, "mask"), _name(composite, "composite")
    )
    return picture, values


def load_masks(
    picture: Picture,
    masks: list[Any],
    composite_name: str = "composite",
    max_pixels: int | None = None,
):
    """Decode several masks for one picture: ``(H, W)`` uint8 arrays and their names."""
    names = [_name(m, f"mask {i + 1}") for i, m in enumerate(masks)]
    return [
        align_mask(_as_raw_mask(m, max_pixels), picture, n, composite_name)
        for m, n in zip(masks, names, strict=True)
    ], names


def masks_from_label_map(
    label_map: Any, max_pixels: int | None = None
) -> tuple[list[np.ndarray], list[str]]:
    """One mask per object of a label map (0 = background, 1, 2, ... = objects; a grey
    PNG or an integer array), in increasing order of the labels."""
    name = _name(label_map, "label map")
    if isinstance(label_map, str | os.PathLike):
        from .images import _open, _pil_to_array

        values = _pil_to_array(_open(Path(label_map), "label map", max_pixels))
    elif hasattr(label_map, "mode"):
        from .images import _pil_to_array

        values = _pil_to_array(label_map)
    else:
        values = np.asarray(label_map)
    if values.ndim != 2 or values.dtype.kind not in "iub":
        raise InputError(f"{name}: a label map must be a single-channel integer image")
    ids = [int(v) for v in np.unique(values) if v != 0]
    if not ids:
        raise InputError(f"{name}: the label map holds no object (every pixel is 0)")
    masks = [np.where(values == v, 255, 0).astype(np.uint8) for v in ids]
    return masks, [f"{name} (object {v})" for v in ids]


# --------------------------------------------------------------------------- labels
class LabelPredictor(Protocol):
    """What guessing the class needs: a :class:`s2crnet.labeler.Labeler` or an
    :class:`s2crnet.runtime.OnnxLabeler`."""

    config: LabelerConfig

    def probabilities(self, view: np.ndarray) -> np.ndarray: ...


def resolve_labeler(labeler: Any = None, model: Any = None) -> LabelPredictor:
    """A labeler object, a file (``.onnx`` runs on ONNX Runtime, anything else is loaded
    with :func:`s2crnet.labeler.load_labeler`), or None: the one exported beside an ONNX
    ``model`` (``NAME.labeler.onnx``), else the one shipped with the package."""
    if labeler is None:
        if getattr(model, "labeler", None) is not None:
            return model.labeler
        if hasattr(model, "session"):  # an ONNX model without its labeler: no PyTorch here
            raise InputError(
                f"{model.path}: no labeler beside this ONNX model (s2crnet export-onnx writes "
                "NAME.labeler.onnx for semantic models); give the object's class instead"
            )
        from .labeler import default_labeler

        return default_labeler()
    if isinstance(labeler, str | os.PathLike):
        if Path(labeler).suffix.lower() == ".onnx":
            from .runtime import OnnxLabeler

            return OnnxLabeler(labeler)
        from .labeler import load_labeler

        return load_labeler(labeler)
    return labeler


def _guess(labeler: LabelPredictor, square: np.ndarray, square_mask: np.ndarray) -> LabelGuess:
    """The class of the object ``square_mask`` marks in the thumbnail ``square``."""
    c = labeler.config
    view = label_view(square, square_mask, c.view, c.context, c.dim)
    return LabelGuess.from_probabilities(labeler.probabilities(view))


#: The side of the square thumbnail the labeler's view is cut from (as in training).
LABEL_SQUARE = 256


def guess_label(
    image: PathLike | np.ndarray | Any,
    mask: PathLike | np.ndarray | Any,
    labeler: LabelPredictor | PathLike | None = None,
    *,
    max_pixels: int | None = None,
) -> LabelGuess:
    """Guess the class of the masked object: person, animal, food, vehicle or other.

    Args:
        image: a file path, a numpy array or a PIL image (as :func:`harmonize` takes).
        mask: the object's mask, same size.
        labeler: a :class:`s2crnet.labeler.Labeler`, an
            :class:`s2crnet.runtime.OnnxLabeler`, a file of either, or None for the one
            shipped with the package.
        max_pixels: as for :func:`harmonize`.

    Returns:
        a :class:`s2crnet.labels.LabelGuess`: ``label`` and the five ``probabilities``.

    Raises:
        InputError: unreadable inputs, sizes that differ, or an empty mask.
    """
    picture, values = load_inputs(image, mask, max_pixels)
    if not values.any():
        raise InputError(f"{_name(mask, 'mask')}: the mask is empty; there is no object to label")
    square = resize_square(picture.rgb, LABEL_SQUARE)
    return _guess(resolve_labeler(labeler), square, resize_square(values, LABEL_SQUARE))


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
    return _model_curves(model, foreground, background, label)


def _model_curves(
    model: CurvePredictor,
    foreground: np.ndarray,
    background: np.ndarray,
    label: int | None,
    strength: float = 1.0,
) -> Curves:
    """The model's curves for one thumbnail pair, at ``strength`` times its calibrated
    ``config.curve_strength``."""
    params = model.curves_from_thumbnails(foreground, background, label)
    return Curves(params, strength * model.config.curve_strength)


def _check_overlaps(masks: list[np.ndarray], names: list[str]) -> None:
    for a in range(len(masks)):
        for b in range(a + 1, len(masks)):
            both = int(np.count_nonzero((masks[a] > 0) & (masks[b] > 0)))
            if both:
                raise InputError(
                    f"{names[a]} and {names[b]} overlap in {both} pixels; "
                    "each pixel may belong to one object only"
                )


def _labels(labels: Any, count: int, semantic: bool) -> list[int | str | None]:
    """One class index per object, :data:`AUTO` where it is to be guessed (semantic
    models: a label ``"auto"`` or none given), None for models without classes."""
    many = isinstance(labels, list | tuple)
    if not semantic:
        if labels is not None and (not many or any(x is not None for x in labels)):
            warnings.warn("the model is not semantic: the label is ignored", stacklevel=4)
        return [None] * count
    if not many:
        labels = [labels]
    if len(labels) == 1:
        labels = list(labels) * count
    if len(labels) != count:
        raise InputError(f"{len(labels)} labels for {count} objects; give one, or one each")
    return [AUTO if x is None or is_auto(x) else label_index(x) for x in labels]


def harmonize_picture(
    picture: Picture,
    masks: np.ndarray | list[np.ndarray],
    model: CurvePredictor,
    labels: Any = None,
    names: list[str] | None = None,
    strength: float = 1.0,
    reference: tuple[np.ndarray, np.ndarray | None] | None = None,
    labeler: LabelPredictor | PathLike | None = None,
) -> tuple[Picture, list[ObjectResult]]:
    """Harmonize the objects of a decoded picture; see :func:`harmonize`.

    Args:
        picture: the composite.
        masks: one ``(H, W)`` uint8 mask or a list of non-overlapping ones.
        model: the curve predictor.
        labels: one label for all objects, or one per object; ``"auto"`` or None guesses
            each object's class (semantic models).
        names: the masks' names for messages.
        strength: curve strength (see :class:`Curves`), times the model's
            ``config.curve_strength``.
        reference: ``(rgb, mask or None)`` of another photo whose background (outside its
            mask, or all of it) guides the colours instead of the composite's.
        labeler: what guesses the classes (see :func:`resolve_labeler`).
    """
    masks = [masks] if isinstance(masks, np.ndarray) else list(masks)
    names = names or [f"mask {i + 1}" if len(masks) > 1 else "mask" for i in range(len(masks))]
    _check_overlaps(masks, names)
    indices = _labels(labels, len(masks), model.config.semantic)
    union = masks[0] if len(masks) == 1 else np.maximum.reduce(masks)
    if reference is None and union.any() and union.min() == 255:
        raise InputError(
            f"{names[0] if len(masks) == 1 else 'the masks'}: the mask covers the "
            "whole image; there is no background to harmonize against"
        )
    size = model.config.thumbnail
    square = resize_square(picture.rgb, size)  # the thumbnail, made once for every object
    if reference is not None:
        background = background_thumbnail(reference[0], reference[1], size)
    else:
        background = background_thumbnail(square, resize_square(union, size), size)
    rgb, results = picture.rgb, []
    for values, name, index in zip(masks, names, indices, strict=True):
        if not values.any():
            warnings.warn(f"{name}: the mask is empty; its object is left unchanged", stacklevel=3)
            identity = Curves.identity(model.config.stages, model.config.pieces)
            calibrated = strength * model.config.curve_strength
            index = None if index == AUTO else index  # nothing to guess
            results.append(ObjectResult(identity.with_strength(calibrated), index, name))
            continue
        square_mask = resize_square(values, size)
        guess = None
        if index == AUTO:
            labeler = resolve_labeler(labeler, model)  # loaded once, on first need
            guess = _guess(labeler, square, square_mask)
            index = guess.index
        foreground = foreground_thumbnail(square, square_mask, size)
        curves = _model_curves(model, foreground, background, index, strength)
        rgb = apply_curves(rgb, values, curves)
        results.append(ObjectResult(curves, index, name, guess))
    if rgb is picture.rgb:
        rgb = rgb.copy()
    return replace(picture, rgb=rgb), results


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
    mask: PathLike | np.ndarray | Any | list[Any] | None = None,
    model: CurvePredictor | PathLike | None = None,
    label: str | int | list[str | int | None] | None = None,
    device: str | None = None,
    *,
    strength: float = 1.0,
    label_map: PathLike | np.ndarray | Any | None = None,
    reference: PathLike | np.ndarray | Any | None = None,
    reference_mask: PathLike | np.ndarray | Any | None = None,
    max_pixels: int | None = None,
    labeler: LabelPredictor | PathLike | None = None,
) -> HarmonizeResult:
    """Recolour the masked object(s) of ``composite`` so that they match the background.

    Args:
        composite: a file path, a numpy array (``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``;
            uint8, uint16 or float in [0, 1]) or a PIL image. Any resolution. Alpha is
            kept and ignored for colour; grey images come back grey.
        mask: same size as the composite: a file (grey, RGB or RGBA), a PIL image or an
            array (bool; uint8 0/255; float in [0, 1]). 1 / 255 marks the object; with a
            binary mask every pixel outside it is returned bit for bit, soft masks blend.
            A list of masks harmonizes several objects, each with its own curves, against
            the region outside all of them (masks must not overlap).
        model: an :class:`S2CRNet`, an :class:`s2crnet.runtime.OnnxModel`, a weights path
            (``.onnx`` files run on ONNX Runtime), or None for the shipped default.
        label: the object's class for semantic models: a name, an index, or ``"auto"``
            (the default, also for None): guessed by the labeler (:func:`guess_label`),
            the guess kept in ``result.objects[i].guess``. A list gives one per object.
            Models without classes ignore it (with a warning when one is given).
        device: where to run the network (default: where the model is, or CPU).
        strength: 0 changes nothing, 1 is the model's curve (at the model's calibrated
            ``config.curve_strength``, which this multiplies), between interpolates the
            curve, above 1 exaggerates it (see :class:`Curves`).
        label_map: instead of ``mask``: an integer image, 0 = background, 1..N = objects.
        reference: another photo whose background guides the colours (Fig. 9 of the
            paper): everything outside ``reference_mask``, or all of it.
        reference_mask: the object mask of ``reference`` (optional).
        max_pixels: open image files up to this many pixels (default
            :data:`s2crnet.images.DEFAULT_MAX_PIXELS`, 256 megapixels, a guard against
            decompression bombs; 0 = no limit). Arrays and PIL images are not limited.
        labeler: what guesses classes for ``"auto"`` (see :func:`resolve_labeler`).

    Returns:
        a :class:`HarmonizeResult`.

    Raises:
        InputError: unreadable input, size mismatch, overlapping masks, no background.
        NoDefaultModelError: ``model`` is None and no default model ships.
    """
    if (mask is None) == (label_map is None):
        raise InputError("give a mask (or a list of masks) or a label_map, not both or neither")
    model = resolve_model(model, device)
    picture = _as_picture(composite, max_pixels)
    if label_map is not None:
        masks, names = masks_from_label_map(label_map, max_pixels)
        for values, name in zip(masks, names, strict=True):
            if values.shape != picture.shape:
                raise InputError(
                    f"{name}: label map is {_size(values.shape)} but the "
                    f"composite is {_size(picture.shape)}"
                )
    else:
        masks, names = load_masks(
            picture,
            mask if isinstance(mask, list | tuple) else [mask],
            _name(composite, "composite"),
            max_pixels,
        )
    ref = None
    if reference is not None:
        ref_picture = _as_picture(reference, max_pixels)
        ref_mask = None
        if reference_mask is not None:
            ref_mask = align_mask(
                _as_raw_mask(reference_mask, max_pixels),
                ref_picture,
                _name(reference_mask, "reference mask"),
                _name(reference, "reference"),
                "reference photo",
            )
        ref = (ref_picture.rgb, ref_mask)
    result, objects = harmonize_picture(picture, masks, model, label, names, strength, ref, labeler)
    return HarmonizeResult(image=_like_input(composite, result), objects=tuple(objects))
