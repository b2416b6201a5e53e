"""Time: the curves smoothed from frame to frame, restarted at scene cuts, and the
flicker that remains, measured.

A curve's Eq. 1 weights are smoothed with an exponential moving average,
``w_t = smooth * w_(t-1) + (1 - smooth) * w_new``, reset at a scene cut: a frame whose
background thumbnail (32x32, values in [0, 1]) differs from the previous one by more than
``scene_cut`` on average. The network is asked for ``w_new`` on the first frame, at each
scene cut and every ``every`` frames in between; the frames between average in the last
prediction again, so the curves move a little every frame (no step every ``every``
frames) and follow the picture nearly as fast as with a prediction on every frame.

Flicker is the mean absolute frame-to-frame change, inside the mask, of the output minus
the input (0-255), measured on a small square view of each frame (128x128 in
:func:`~s2crnet.video.harmonize_video`; the curves are global, so the view shows what the
frame shows), inside the object's box only.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ..curves.value import Curves
from ..render import apply_curves
from .options import DEFAULT_SCENE_CUT, DEFAULT_SMOOTH

__all__ = ["SCENE_SIDE", "FlickerMeter", "Smoother"]

#: The side of the background view compared for scene cuts.
SCENE_SIDE = 32


class Smoother:
    """The moving average of a clip's curve weights, restarted at scene cuts, with a new
    prediction every ``every`` frames (1: every frame)."""

    def __init__(
        self, smooth: float = DEFAULT_SMOOTH, scene_cut: float = DEFAULT_SCENE_CUT, every: int = 1
    ):
        if every < 1:
            raise ValueError(f"Smoother: every must be at least 1, got {every}")
        self.smooth, self.scene_cut, self.every = smooth, scene_cut, every
        self.state: np.ndarray | None = None
        self.target: np.ndarray | None = None  # the last prediction
        self.scene: np.ndarray | None = None
        self.cuts: list[int] = []
        self.since = 0  # frames since the last prediction
        self.predictions = 0

    def update(
        self, index: int, background: np.ndarray, predict: Callable[[], np.ndarray]
    ) -> np.ndarray:
        """The smoothed weights for frame ``index``, given its background thumbnail
        ``(1, 3, S, S)`` (float in [0, 1]); ``predict()`` gives the frame's own
        ``(stages, 3, L)`` weights and is called only when they are needed."""
        scene = cv2.resize(background[0].transpose(1, 2, 0), (SCENE_SIDE, SCENE_SIDE))
        cut = self.scene is not None and float(np.abs(scene - self.scene).mean()) > self.scene_cut
        if cut:
            self.cuts.append(index)
        self.scene = scene
        self.since += 1
        if self.state is None or cut or self.since >= self.every:
            self.target = predict().astype(np.float64)
            self.since, self.predictions = 0, self.predictions + 1
        if self.state is None or cut:
            self.state = self.target
        else:
            self.state = self.smooth * self.state + (1 - self.smooth) * self.target
        return self.state


class FlickerMeter:
    """The flicker of a clip's correction, from square views of its frames."""

    def __init__(self) -> None:
        self.changes: list[float] = []
        # the last frame's change and inside, and the box (x, y, w, h) they are nonzero in
        self.previous: tuple[np.ndarray, np.ndarray, tuple[int, ...]] | None = None

    def add(self, square: np.ndarray, square_mask: np.ndarray, curves: Curves) -> None:
        """A frame with an object: its thumbnail, mask and the curves it got."""
        x, y, w, h = cv2.boundingRect(square_mask)  # the curves are rendered inside it only
        if not w:
            self.gap()
            return
        box = np.s_[y : y + h, x : x + w]
        part, part_mask = square[box], np.ascontiguousarray(square_mask[box])
        change = np.zeros(square.shape, np.float32)
        change[box] = apply_curves(part, part_mask, curves)
        change[box] -= part
        inside = np.zeros(square_mask.shape, bool)
        inside[box] = part_mask > 127
        if self.previous is not None:
            px, py, pw, ph = self.previous[2]
            common = np.s_[max(y, py) : min(y + h, py + ph), max(x, px) : min(x + w, px + pw)]
            both = inside[common] & self.previous[1][common]
            if both.any():
                moved = np.abs(change[common] - self.previous[0][common])[both]
                self.changes.append(float(moved.mean()))
        self.previous = (change, inside, (x, y, w, h))

    def gap(self) -> None:
        """A frame without an object: the next one is not compared with the last."""
        self.previous = None

    @property
    def flicker(self) -> float:
        """The mean absolute frame-to-frame change, 0-255 levels (0 with one frame)."""
        return float(np.mean(self.changes or [0.0]))
