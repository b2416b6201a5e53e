"""Harmonizing a video clip: per frame one thumbnail and one lookup table, the curves
smoothed in time, every frame, timestamp and audio packet kept (PyAV, the ``[video]``
extra).

* :mod:`~s2crnet.video.options` - :class:`VideoOptions` and the defaults, defined once;
* :mod:`~s2crnet.video.streams` - decoding, encoding, colour, timestamps, audio packets;
* :mod:`~s2crnet.video.masks` - one mask per frame (image, folder, mask video);
* :mod:`~s2crnet.video.boxes` - the part of a frame the object touches;
* :mod:`~s2crnet.video.smoothing` - the moving average, scene cuts, flicker;
* :mod:`~s2crnet.video.loop` - :func:`harmonize_video`, joining them through one
  :class:`~s2crnet.session.Harmonizer`.

Names are imported on first use: the CLI reads the defaults without importing PyAV.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "DEFAULT_PREDICT_EVERY": "options",
    "DEFAULT_SCENE_CUT": "options",
    "DEFAULT_SMOOTH": "options",
    "MASK_VIDEO_SUFFIXES": "options",
    "VIDEO_SUFFIXES": "options",
    "VideoOptions": "options",
    "count_frames": "streams",
    "VideoResult": "loop",
    "harmonize_video": "loop",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
