"""Time: the curves smoothed from frame to frame, restarted at scene cuts, and the
flicker that remains, measured.

A curve's Eq. 1 weights are smoothed with an exponential moving average,
``w_t = smooth * w_(t-1) + (1 - smooth) * w_new``, reset at a scene cut: a frame whose
background thumbnail (32x32, values in [0, 1]) differs from the previous one by more than
``scene_cut`` on average. Flicker is the mean absolute frame-to-frame change, inside the
mask, of the output minus the input (0-255), measured on the square thumbnails (the
curves are global, so the thumbnail shows what the frame shows).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..curves.value import Curves
from ..render import apply_curves
from .options import DEFAULT_SCENE_CUT, DEFAULT_SMOOTH

__all__ = ["FlickerMeter", "Smoother"]

_SCENE_SIDE = 32


class Smoother:
    """The moving average of a clip's curve weights, restarted at scene cuts."""

    def __init__(self, smooth: float = DEFAULT_SMOOTH, scene_cut: float = DEFAULT_SCENE_CUT):
        self.smooth, self.scene_cut = smooth, scene_cut
        self.state: np.ndarray | None = None
        self.scene: np.ndarray | None = None
        self.cuts: list[int] = []

    def update(self, index: int, params: np.ndarray, background: np.ndarray) -> np.ndarray:
        """The smoothed weights for frame ``index``, given its own ``(stages, 3, L)``
        ``params`` and its background thumbnail ``(1, 3, S, S)`` (float in [0, 1])."""
        scene = cv2.resize(background[0].transpose(1, 2, 0), (_SCENE_SIDE, _SCENE_SIDE))
        cut = self.scene is not None and float(np.abs(scene - self.scene).mean()) > self.scene_cut
        if cut:
            self.cuts.append(index)
        if self.state is None or cut:
            self.state = params.astype(np.float64)
        else:
            self.state = self.smooth * self.state + (1 - self.smooth) * params
        self.scene = scene
        return self.state


class FlickerMeter:
    """The flicker of a clip's correction, from its square thumbnails."""

    def __init__(self) -> None:
        self.changes: list[float] = []
        self.previous: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, square: np.ndarray, square_mask: np.ndarray, curves: Curves) -> None:
        """A frame with an object: its thumbnail, mask and the curves it got."""
        change = apply_curves(square, square_mask, curves).astype(np.float32)
        change -= square
        inside = square_mask > 127
        if self.previous is not None:
            both = inside & self.previous[1]
            if both.any():
                self.changes.append(float(np.abs(change - self.previous[0])[both].mean()))
        self.previous = (change, inside)

    def gap(self) -> None:
        """A frame without an object: the next one is not compared with the last."""
        self.previous = None

    @property
    def flicker(self) -> float:
        """The mean absolute frame-to-frame change, 0-255 levels (0 with one frame)."""
        return float(np.mean(self.changes or [0.0]))
