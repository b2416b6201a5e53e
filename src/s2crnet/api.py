"""The public entry points: the few lines a user needs::

    from s2crnet import harmonize, load_model

    result = harmonize("composite.jpg", "mask.png", model=load_model("w.safetensors"))
    result.image           # the harmonized image, of the input's kind
    result.curves.params   # (stages, 3, L): the curves that were applied

Each composes the layers: inputs (:mod:`s2crnet.inputs`) -> thumbnails -> the model
(:mod:`s2crnet.predict`, chosen by :mod:`s2crnet.loading`) -> curves
(:mod:`s2crnet.curves`) -> render (:mod:`s2crnet.render`).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._lazy import deprecated_aliases
from .curves.value import Curves
from .errors import InputError
from .images import Picture
from .inputs import (
    Reference,
    as_picture,
    check_overlaps,
    like_input,
    load_objects,
    load_reference,
    source_name,
    union,
)
from .inputs import load_inputs as _load_inputs
from .labels import AUTO, LabelGuess, object_labels
from .loading import CurvePredictor, LabelPredictor
from .loading import resolve_labeler as _resolve_labeler
from .loading import resolve_model as _resolve_model
from .predict import LABEL_SQUARE, guess_object, image_curves, object_curves
from .render import apply_curves
from .thumbnails import background_thumbnail, foreground_thumbnail, resize_square

__all__ = [
    "HarmonizeResult",
    "ObjectResult",
    "guess_label",
    "harmonize",
    "harmonize_picture",
]

PathLike = str | os.PathLike

# names that moved out of this module in 0.2; they still work here for one release
__getattr__ = deprecated_aliases(
    __name__,
    {
        "NoDefaultModelError": "errors",
        "DEFAULT_WEIGHTS": "loading",
        "CurvePredictor": "loading",
        "LabelPredictor": "loading",
        "default_model": "loading",
        "resolve_model": "loading",
        "resolve_labeler": "loading",
        "align_mask": "inputs",
        "load_inputs": "inputs",
        "load_masks": "inputs",
        "masks_from_label_map": "inputs",
    },
)


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
    picture, values = _load_inputs(image, mask, max_pixels)
    if not values.any():
        name = source_name(mask, "mask")
        raise InputError(f"{name}: the mask is empty; there is no object to label")
    square = resize_square(picture.rgb, LABEL_SQUARE)
    square_mask = resize_square(values, LABEL_SQUARE)
    return guess_object(_resolve_labeler(labeler), square, square_mask)


def harmonize_picture(
    picture: Picture,
    masks: np.ndarray | list[np.ndarray],
    model: CurvePredictor,
    labels: Any = None,
    names: list[str] | None = None,
    strength: float = 1.0,
    reference: Reference | tuple[np.ndarray, np.ndarray | None] | None = None,
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
        strength: curve strength (see :class:`Curves`), times the model's calibration.
        reference: a :class:`s2crnet.inputs.Reference` (or ``(rgb, mask or None)``):
            another photo whose background guides the colours instead of the composite's.
        labeler: what guesses the classes (see :func:`s2crnet.loading.resolve_labeler`).
    """
    masks = [masks] if isinstance(masks, np.ndarray) else list(masks)
    names = names or [f"mask {i + 1}" if len(masks) > 1 else "mask" for i in range(len(masks))]
    check_overlaps(masks, names)
    indices = object_labels(labels, len(masks), model.config.semantic)
    every = union(masks)
    if reference is None and every.any() and every.min() == 255:
        raise InputError(
            f"{names[0] if len(masks) == 1 else 'the masks'}: the mask covers the "
            "whole image; there is no background to harmonize against"
        )
    size = model.config.thumbnail
    square = resize_square(picture.rgb, size)  # the thumbnail, made once for every object
    if reference is not None:
        reference = Reference(*reference) if isinstance(reference, tuple) else reference
        background = background_thumbnail(reference.rgb, reference.mask, size)
    else:
        background = background_thumbnail(square, resize_square(every, size), size)
    rgb, results = picture.rgb, []
    for values, name, index in zip(masks, names, indices, strict=True):
        if not values.any():
            warnings.warn(f"{name}: the mask is empty; its object is left unchanged", stacklevel=3)
            identity = Curves.identity(model.config.stages, model.config.pieces)
            effective = model.config.effective_strength(strength)
            index = None if index == AUTO else index  # nothing to guess
            results.append(ObjectResult(identity.with_strength(effective), index, name))
            continue
        square_mask = resize_square(values, size)
        guess = None
        if index == AUTO:
            labeler = _resolve_labeler(labeler, model)  # loaded once, on first need
            guess = guess_object(labeler, square, square_mask)
            index = guess.index
        foreground = foreground_thumbnail(square, square_mask, size)
        curves = object_curves(model, foreground, background, index, strength)
        rgb = apply_curves(rgb, values, curves)
        results.append(ObjectResult(curves, index, name, guess))
    if rgb is picture.rgb:
        rgb = rgb.copy()
    return replace(picture, rgb=rgb), results


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
        labeler: what guesses classes for ``"auto"`` (see
            :func:`s2crnet.loading.resolve_labeler`).

    Returns:
        a :class:`HarmonizeResult`.

    Raises:
        InputError: unreadable input, size mismatch, overlapping masks, no background.
        NoDefaultModelError: ``model`` is None and no default model ships.
    """
    if (mask is None) == (label_map is None):
        raise InputError("give a mask (or a list of masks) or a label_map, not both or neither")
    model = _resolve_model(model, device)
    picture = as_picture(composite, max_pixels)
    name = source_name(composite, "composite")
    masks, names = load_objects(picture, mask, label_map, name, max_pixels)
    ref = None if reference is None else load_reference(reference, reference_mask, max_pixels)
    result, objects = harmonize_picture(picture, masks, model, label, names, strength, ref, labeler)
    return HarmonizeResult(image=like_input(composite, result), objects=tuple(objects))


def predict_curves(
    model: CurvePredictor, rgb: np.ndarray, mask: np.ndarray, label: int | None
) -> Curves:
    """Deprecated: :func:`s2crnet.predict.image_curves` (kept for one release)."""
    warnings.warn(
        "s2crnet.api.predict_curves is deprecated: use s2crnet.predict.image_curves",
        DeprecationWarning,
        stacklevel=2,
    )
    return image_curves(model, rgb, mask, label)
