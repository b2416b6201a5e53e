"""What a video run is asked for, defined once: :class:`VideoOptions` and its defaults
(the CLI's options and the demo's sliders read them from here). No heavy imports."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

__all__ = [
    "DEFAULT_PREDICT_CHANGE",
    "DEFAULT_PREDICT_EVERY",
    "DEFAULT_SCENE_CUT",
    "DEFAULT_SMOOTH",
    "MASK_VIDEO_SUFFIXES",
    "VIDEO_SUFFIXES",
    "VideoOptions",
]

#: Output containers, by suffix.
VIDEO_SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Mask videos are told from mask images by these suffixes.
MASK_VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
#: How slowly the curves follow the picture (see :class:`VideoOptions`).
DEFAULT_SMOOTH = 0.8
#: The background change that restarts smoothing.
DEFAULT_SCENE_CUT = 0.12
#: Frames between two predictions of the network (see :class:`VideoOptions`).
DEFAULT_PREDICT_EVERY = 4
#: The colour change (0-255 levels) that a new prediction waits for (see :class:`VideoOptions`).
DEFAULT_PREDICT_CHANGE = 1.0


@dataclass(frozen=True)
class VideoOptions:
    """How a clip is harmonized and written.

    Attributes:
        smooth: 0 uses each frame's own curves, towards 1 they change ever more slowly
            (an exponential moving average of the curve weights, reset at scene cuts).
        scene_cut: the background change (mean absolute, 0-1, of a 32x32 thumbnail) that
            restarts smoothing.
        predict_every: the network predicts the curves on the first frame, at every scene
            cut and every ``predict_every`` frames (1: every frame); the frames between
            average the last prediction in again, so the curves still move a little on
            every frame.
        predict_change: a prediction that is due waits until the colours the curves
            follow (mean and spread of each channel, of the object and of its
            background) have moved by more than this many levels (0-255) since the last
            one, or ``4 * predict_every`` frames have passed; 0: every
            ``predict_every`` frames whatever the picture does.
        codec: the video encoder (``libx264``: H.264; ``libx265``, ``ffv1``...);
            ``yuv420p``, or ``yuv444p`` for odd sizes, which 4:2:0 cannot hold.
        crf: the constant-quality setting of libx264/libx265 (lower is better; 18 is near
            transparent for H.264).
        progress: show a progress bar (frames), on a terminal only.
    """

    smooth: float = DEFAULT_SMOOTH
    scene_cut: float = DEFAULT_SCENE_CUT
    predict_every: int = DEFAULT_PREDICT_EVERY
    predict_change: float = DEFAULT_PREDICT_CHANGE
    codec: str = "libx264"
    crf: int = 18
    progress: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.smooth < 1:
            raise InputError(f"smooth must be in [0, 1), got {self.smooth}")
        if not 0 <= self.scene_cut <= 1:
            raise InputError(f"scene_cut must be in [0, 1], got {self.scene_cut}")
        if (
            isinstance(self.predict_every, bool)
            or not isinstance(self.predict_every, int)
            or (self.predict_every < 1)
        ):
            raise InputError(f"predict_every must be a whole number >= 1, got {self.predict_every}")
        if not 0 <= self.predict_change <= 255:
            raise InputError(f"predict_change must be in [0, 255], got {self.predict_change}")
        if not 0 <= self.crf <= 51:
            raise InputError(f"crf must be in [0, 51], got {self.crf}")
