"""The one-call convenience functions over a :class:`s2crnet.session.Harmonizer`::

    from s2crnet import harmonize

    result = harmonize("composite.jpg", "mask.png")   # the shipped model, loaded once
    result.image           # the harmonized image, of the input's kind
    result.curves.params   # (stages, 3, L): the curves that were applied

Called without a model they share one cached session of the shipped model; with one
(a file, a loaded model or a :class:`~s2crnet.session.Harmonizer`), they use it. For
many calls with the same weights, build a ``Harmonizer`` once and call its methods.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .labels import LabelGuess
from .session import HarmonizeResult, as_harmonizer

__all__ = ["guess_label", "harmonize"]

PathLike = str | os.PathLike


def guess_label(
    image: PathLike | np.ndarray | Any,
    mask: PathLike | np.ndarray | Any,
    labeler: Any = None,
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
    return as_harmonizer(labeler=labeler).guess_label(image, mask, max_pixels=max_pixels)


def harmonize(
    composite: PathLike | np.ndarray | Any,
    mask: PathLike | np.ndarray | Any | list[Any] | None = None,
    model: Any = None,
    label: str | int | list[str | int | None] | None = None,
    device: str | None = None,
    *,
    strength: float = 1.0,
    label_map: PathLike | np.ndarray | Any | None = None,
    reference: PathLike | np.ndarray | Any | None = None,
    reference_mask: PathLike | np.ndarray | Any | None = None,
    max_pixels: int | None = None,
    labeler: Any = None,
) -> HarmonizeResult:
    """Recolour the masked object(s) of ``composite`` so that they match the background:
    :meth:`s2crnet.Harmonizer.harmonize` (which documents every argument) in one call.

    Args:
        model: a :class:`~s2crnet.session.Harmonizer`, an :class:`S2CRNet`, an
            :class:`s2crnet.runtime.OnnxModel`, a weights path (``.onnx`` files run on ONNX
            Runtime), or None for the shipped default (one cached session).
        device: where to run the network (default: where the model is, or CPU).
        labeler: what guesses classes for ``"auto"`` (see
            :func:`s2crnet.loading.resolve_labeler`).

    Raises:
        InputError: unreadable input, size mismatch, overlapping masks, no background.
        NoDefaultModelError: ``model`` is None and no default model ships.
    """
    session = as_harmonizer(model, device, labeler)
    return session.harmonize(
        composite,
        mask,
        label=label,
        strength=strength,
        label_map=label_map,
        reference=reference,
        reference_mask=reference_mask,
        max_pixels=max_pixels,
    )
