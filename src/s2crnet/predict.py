"""Running the networks on thumbnails: curves for an object, the class of an object.

The layer between the inputs (a picture and its masks, made into thumbnails by
:mod:`s2crnet.thumbnails`) and the curves (:class:`s2crnet.curves.Curves`): it works with
any :class:`~s2crnet.loading.CurvePredictor` (PyTorch or ONNX Runtime) and applies the
model's calibration (:meth:`s2crnet.config.S2CRNetConfig.effective_strength`).
"""

from __future__ import annotations

import numpy as np

from .curves.value import Curves
from .labels import LabelGuess
from .loading import CurvePredictor, LabelPredictor
from .thumbnails import label_view, thumbnails

__all__ = ["LABEL_SQUARE", "guess_object", "image_curves", "object_curves"]

#: The side of the square thumbnail the labeler's view is cut from (as in training).
LABEL_SQUARE = 256


def object_curves(
    model: CurvePredictor,
    foreground: np.ndarray,
    background: np.ndarray,
    label: int | None,
    strength: float = 1.0,
) -> Curves:
    """The model's curves for one thumbnail pair (``(1, 3, S, S)`` float32 in [0, 1]),
    at the user's ``strength`` times the model's calibration."""
    params = model.curves_from_thumbnails(foreground, background, label)
    return Curves(params, model.config.effective_strength(strength))


def image_curves(
    model: CurvePredictor,
    rgb: np.ndarray,
    mask: np.ndarray,
    label: int | None = None,
    strength: float = 1.0,
) -> Curves:
    """Curves for one full-resolution ``(H, W, 3)`` image and ``(H, W)`` uint8 mask."""
    foreground, background = thumbnails(rgb, mask, model.config.thumbnail)
    return object_curves(model, foreground, background, label, strength)


def guess_object(
    labeler: LabelPredictor, square: np.ndarray, square_mask: np.ndarray
) -> LabelGuess:
    """The class of the object ``square_mask`` marks in the square thumbnail ``square``
    (``(S, S, 3)`` and ``(S, S)``; the labeler was trained on :data:`LABEL_SQUARE`)."""
    c = labeler.config
    view = label_view(square, square_mask, c.view, c.context, c.dim)
    return LabelGuess.from_probabilities(labeler.probabilities(view))
