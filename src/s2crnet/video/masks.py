"""One mask per frame: from one image (a still object), a folder of images (one per frame,
sorted by name) or a mask video; fitted to the frames by :func:`s2crnet.inputs.fit_mask`.
Sizes and counts are checked before any frame is made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..images import mask_from_array, read_mask
from ..inputs import fit_mask
from .options import MASK_VIDEO_SUFFIXES
from .streams import count_frames, open_input

__all__ = ["mask_frames"]

_FRAMES = "each video frame"


def mask_frames(
    mask: Any, count: int, shape: tuple[int, int], rotation: int
) -> Iterator[np.ndarray]:
    """``count`` ``(H, W)`` uint8 masks, in the frames' stored ``shape``; a mask drawn on
    the displayed picture of a video rotated by ``rotation`` degrees is turned back."""

    def fit(values: Any, name: str) -> np.ndarray:
        return fit_mask(values, shape, name, _FRAMES, rotation=rotation)

    if isinstance(mask, np.ndarray):
        return _repeat(fit(mask_from_array(mask), "mask"), count)
    path = Path(mask)
    if path.is_dir():
        from ..folders import list_images

        files = sorted(list_images(path), key=lambda p: p.name)
        if len(files) != count:
            raise InputError(f"{path}: {len(files)} mask images for {count} video frames")
        fit(read_mask(files[0]).oriented(), str(files[0]))  # a wrong size fails before work
        return (fit(read_mask(f).oriented(), str(f)) for f in files)
    if path.suffix.lower() in MASK_VIDEO_SUFFIXES:
        frames = count_frames(path, "mask video")
        if frames != count:
            raise InputError(f"{path}: the mask video has {frames} frames, the video {count}")
        return _mask_video(path, fit)
    return _repeat(fit(read_mask(path).oriented(), str(path)), count)


def _repeat(values: np.ndarray, count: int) -> Iterator[np.ndarray]:
    return (values for _ in range(count))


def _mask_video(path: Path, fit) -> Iterator[np.ndarray]:
    with open_input(path, "mask video") as container:
        for frame in container.decode(container.streams.video[0]):
            grey = frame.reformat(format="gray", src_color_range="MPEG", dst_color_range="JPEG")
            yield fit(mask_from_array(grey.to_ndarray(), str(path)), str(path))
