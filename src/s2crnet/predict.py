"""Running the networks on thumbnails: an object's Eq. 1 weights, an object's class.

The layer between the thumbnails (:mod:`s2crnet.thumbnails`) and the curves: it works with
any :class:`~s2crnet.loading.CurvePredictor` (PyTorch or ONNX Runtime) and knows nothing of
strength or calibration (:class:`s2crnet.session.Harmonizer` adds them).
"""

from __future__ import annotations

import numpy as np

from .labels import LabelGuess
from .loading import CurvePredictor, LabelPredictor
from .thumbnails import foreground_thumbnail, label_view

__all__ = ["LABEL_SQUARE", "guess_object", "object_params"]

#: The side of the square thumbnail the labeler's view is cut from (as in training).
LABEL_SQUARE = 256


def object_params(
    model: CurvePredictor,
    square: np.ndarray,
    square_mask: np.ndarray,
    background: np.ndarray,
    label: int | None,
) -> np.ndarray:
    """The model's Eq. 1 weights for one object.

    Args:
        model: the curve predictor.
        square: ``(S, S, 3)`` the picture as a square thumbnail (any dtype; ``S`` is
            usually the model's ``config.thumbnail``).
        square_mask: ``(S, S)`` uint8 the object's mask at that size.
        background: ``(1, 3, S, S)`` float32 in [0, 1], the background thumbnail (of this
            picture's objects, or of a reference photo).
        label: the class index for semantic models, else None.

    Returns:
        ``(stages, 3, L)`` float weights.
    """
    foreground = foreground_thumbnail(square, square_mask, square.shape[0])
    return model.curves_from_thumbnails(foreground, background, label)


def guess_object(
    labeler: LabelPredictor, square: np.ndarray, square_mask: np.ndarray
) -> LabelGuess:
    """The class of the object ``square_mask`` marks in the square thumbnail ``square``
    (``(S, S, 3)`` and ``(S, S)``; the labeler was trained on :data:`LABEL_SQUARE`)."""
    c = labeler.config
    view = label_view(square, square_mask, c.view, c.context, c.dim)
    return LabelGuess.from_probabilities(labeler.probabilities(view))
