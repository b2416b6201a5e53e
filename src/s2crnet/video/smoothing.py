"""Time: the curves smoothed from frame to frame, restarted at scene cuts, and the
flicker that remains, measured.

A curve's Eq. 1 weights are smoothed with an exponential moving average,
``w_t = smooth * w_(t-1) + (1 - smooth) * w_new``, reset at a scene cut: a frame whose
background thumbnail (32x32, values in [0, 1]) differs from the previous one by more than
``scene_cut`` on average. The network is asked for ``w_new`` on the first frame, at each
scene cut and every ``every`` frames in between; the frames between average in the last
prediction again, so the curves move a little every frame (no step every ``every``
frames) and follow the picture nearly as fast as with a prediction on every frame.

With ``change`` > 0 a prediction that is due is made only where the colours the curves
follow have moved since the last one (:func:`colour_stats`: the mean and spread of each
channel of the object and of its background, by more than ``change`` levels), and in any
case every :data:`LONGEST` times ``every`` frames: a still shot, or a camera moving over
the same kind of scene, needs the network a few times a second at most.

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

__all__ = ["LONGEST", "SCENE_SIDE", "FlickerMeter", "Smoother", "colour_stats"]

#: The side of the background view compared for scene cuts.
SCENE_SIDE = 32
#: With a colour tolerance, the most predictions may be apart, in ``every`` intervals.
LONGEST = 4


def colour_stats(view: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The colours the curves follow: the mean and standard deviation of each channel
    inside ``mask`` (the object: values above 127) and outside it (its background).

    Args:
        view: ``(S, S, 3)`` uint8, a small view of the frame.
        mask: ``(S, S)`` uint8, the object's mask on it (0-255).

    Returns:
        ``(12,)`` float32 in 0-255 levels: object mean (R, G, B), object deviation,
        background mean, background deviation (zeros for a part with no pixels).

    >>> view = np.zeros((4, 4, 3), np.uint8); view[:2] = 200
    >>> mask = np.zeros((4, 4), np.uint8); mask[:2] = 255
    >>> colour_stats(view, mask).reshape(4, 3)[:, 0].tolist()
    [200.0, 0.0, 0.0, 0.0]
    """
    inside = cv2.threshold(mask, 127, 255, cv2.THRESH_BINARY)[1]
    outside = cv2.bitwise_not(inside)
    parts = [cv2.meanStdDev(view, mask=part) for part in (inside, outside)]  # (3, 1) each
    return np.concatenate([v[:, 0] for part in parts for v in part]).astype(np.float32)


class Smoother:
    """The moving average of a clip's curve weights, restarted at scene cuts, with a new
    prediction every ``every`` frames (1: every frame), or with ``change`` > 0 only where
    the colours moved by more than ``change`` levels (0-255), and at least every
    :data:`LONGEST` ``* every`` frames."""

    def __init__(
        self,
        smooth: float = DEFAULT_SMOOTH,
        scene_cut: float = DEFAULT_SCENE_CUT,
        every: int = 1,
        change: float = 0.0,
    ):
        if every < 1:
            raise ValueError(f"Smoother: every must be at least 1, got {every}")
        if change < 0:
            raise ValueError(f"Smoother: change must be at least 0, got {change}")
        self.smooth, self.scene_cut, self.every, self.change = smooth, scene_cut, every, change
        self.state: np.ndarray | None = None
        self.target: np.ndarray | None = None  # the last prediction
        self.colours: np.ndarray | None = None  # and the colours it was made for
        self.scene: np.ndarray | None = None
        self.cuts: list[int] = []
        self.since = 0  # frames since the last prediction
        self.predictions = 0

    def update(
        self,
        index: int,
        background: np.ndarray,
        predict: Callable[[], np.ndarray],
        colours: np.ndarray | None = None,
    ) -> np.ndarray:
        """The smoothed weights for frame ``index``, given its background thumbnail
        ``(1, 3, S, S)`` (float in [0, 1]) and its :func:`colour_stats` (used with
        ``change`` > 0); ``predict()`` gives the frame's own ``(stages, 3, L)`` weights
        and is called only when they are needed."""
        scene = cv2.resize(background[0].transpose(1, 2, 0), (SCENE_SIDE, SCENE_SIDE))
        cut = self.scene is not None and float(np.abs(scene - self.scene).mean()) > self.scene_cut
        if cut:
            self.cuts.append(index)
        self.scene = scene
        self.since += 1
        if self.state is None or cut or self._due(colours):
            self.target = predict().astype(np.float64)
            self.since, self.predictions, self.colours = 0, self.predictions + 1, colours
        if self.state is None or cut:
            self.state = self.target
        else:
            self.state = self.smooth * self.state + (1 - self.smooth) * self.target
        return self.state

    def _due(self, colours: np.ndarray | None) -> bool:
        if self.since < self.every:
            return False
        if not self.change or colours is None or self.colours is None:
            return True
        moved = float(np.abs(colours - self.colours).max())
        return moved > self.change or self.since >= LONGEST * self.every


class FlickerMeter:
    """The flicker of a clip's correction, from square views of its frames."""

    def __init__(self) -> None:
        self.changes: list[float] = []
        # the last frame's change and inside, within its box (x, y, w, h)
        self.previous: tuple[np.ndarray, np.ndarray, tuple[int, ...]] | None = None

    def add(self, square: np.ndarray, square_mask: np.ndarray, curves: Curves) -> None:
        """A frame with an object: its thumbnail, mask and the curves it got."""
        x, y, w, h = cv2.boundingRect(square_mask)  # the curves are rendered inside it only
        if not w:
            self.gap()
            return
        box = np.s_[y : y + h, x : x + w]
        part, part_mask = square[box], np.ascontiguousarray(square_mask[box])
        change = apply_curves(part, part_mask, curves).astype(np.float32)  # (h, w, 3)
        change -= part
        inside = part_mask > 127  # (h, w)
        if self.previous is not None:
            before, was_inside, (px, py, pw, ph) = self.previous
            top, bottom = max(y, py), min(y + h, py + ph)
            left, right = max(x, px), min(x + w, px + pw)
            if top < bottom and left < right:  # the boxes overlap: compare there
                now = np.s_[top - y : bottom - y, left - x : right - x]
                then = np.s_[top - py : bottom - py, left - px : right - px]
                both = inside[now] & was_inside[then]
                if both.any():
                    moved = np.abs(change[now] - before[then])[both]
                    self.changes.append(float(moved.mean()))
        self.previous = (change, inside, (x, y, w, h))

    def gap(self) -> None:
        """A frame without an object: the next one is not compared with the last."""
        self.previous = None

    @property
    def flicker(self) -> float:
        """The mean absolute frame-to-frame change, 0-255 levels (0 with one frame)."""
        return float(np.mean(self.changes or [0.0]))
