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
from .streams import open_input, reason, survey

__all__ = ["mask_frames"]

_FRAMES = "each video frame"


def mask_frames(
    mask: Any,
    count: int,
    shape: tuple[int, int],
    rotation: int,
    max_pixels: int | None = None,
) -> Iterator[np.ndarray]:
    """``count`` ``(H, W)`` uint8 masks, in the frames' stored ``shape``; a mask drawn on
    the displayed picture of a video rotated by ``rotation`` degrees is turned back. Mask
    files and mask videos are opened up to ``max_pixels``."""

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
        fit(read_mask(files[0], max_pixels).oriented(), str(files[0]))  # fails before work
        return (fit(read_mask(f, max_pixels).oriented(), str(f)) for f in files)
    if path.suffix.lower() in MASK_VIDEO_SUFFIXES:
        frames = survey(path, max_pixels, "mask video").frames
        if frames != count:
            raise InputError(f"{path}: the mask video has {frames} frames, the video {count}")
        return _mask_video(path, fit)
    return _repeat(fit(read_mask(path, max_pixels).oriented(), str(path)), count)


def _repeat(values: np.ndarray, count: int) -> Iterator[np.ndarray]:
    return (values for _ in range(count))


def _mask_video(path: Path, fit) -> Iterator[np.ndarray]:
    import av

    with open_input(path, "mask video") as container:
        frames = container.decode(container.streams.video[0])
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                return
            except av.FFmpegError as exc:
                raise InputError(f"{path}: damaged mask video ({reason(exc)})") from None
            grey = frame.reformat(format="gray", src_color_range="MPEG", dst_color_range="JPEG")
            yield fit(mask_from_array(grey.to_ndarray(), str(path)), str(path))
