"""Harmonizing a video clip: per frame one thumbnail and one lookup table, the curves
smoothed in time, every frame, timestamp and audio packet kept.

The container work is PyAV's (FFmpeg's libraries, the ``[video]`` extra). Frames stream
through one at a time, so memory does not grow with the clip's length.

Colour: each frame is converted from its YUV to 8-bit full-range RGB once, harmonized,
and converted back once with the same matrix and range. The matrix is the one the
stream declares (BT.709, BT.601 or BT.2020); a stream that declares none is taken as
BT.709 when it is 720 lines or more (HD) and BT.601 below, as players do, and the output
is tagged with what was used. Frames whose mask is empty are passed to the encoder
without any conversion.

Time: a curve's Eq. 1 weights are smoothed with an exponential moving average,
``w_t = smooth * w_(t-1) + (1 - smooth) * w_new``, reset at a scene cut: a frame whose
background thumbnail (32x32, values in [0, 1]) differs from the previous one by more
than ``scene_cut`` on average. Flicker is reported as the mean absolute frame-to-frame
change, inside the mask, of the output minus the input (0-255), measured on the 256x256
thumbnails (the curves are global, so the thumbnail shows what the frame shows).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .curves.value import Curves
from .errors import InputError, require
from .render import apply_curves
from .thumbnails import background_thumbnail, foreground_thumbnail, resize_square

__all__ = [
    "DEFAULT_SCENE_CUT",
    "DEFAULT_SMOOTH",
    "VIDEO_SUFFIXES",
    "VideoResult",
    "harmonize_video",
]

#: Output containers, by suffix.
VIDEO_SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Mask videos are told from mask images by these suffixes.
MASK_VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
DEFAULT_SMOOTH = 0.8
DEFAULT_SCENE_CUT = 0.12
_SCENE_SIDE = 32

# AVColorSpace values -> swscale's names; AVColorRange
_SPACE_NAMES = {1: "ITU709", 5: "ITU601", 6: "ITU601", 9: "BT2020", 10: "BT2020"}
_SPACE_TAGS = {"ITU709": (1, 1, 1), "ITU601": (6, 6, 6), "BT2020": (9, 9, 14)}  # spc, pri, trc
_RANGE_NAMES = {1: "MPEG", 2: "JPEG"}


@dataclass(frozen=True)
class VideoResult:
    """What :func:`harmonize_video` did.

    Attributes:
        output: the video written.
        frames: frames written (as many as the input has).
        scene_cuts: indices of the frames where the smoothing restarted.
        flicker: mean absolute frame-to-frame change of output minus input inside the
            mask, in 0-255 levels (0: the correction does not flicker at all).
        label: the class a semantic model used (guessed once, from the first frame with
            an object, when it was ``"auto"``), or None.
    """

    output: Path
    frames: int
    scene_cuts: tuple[int, ...]
    flicker: float
    label: str | None = None


# --------------------------------------------------------------------------- inputs
def _reason(exc: BaseException) -> str:
    """FFmpeg's words for an error, without PyAV's errno and function name."""
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _open_input(path: Path, what: str = "video") -> Any:
    import av

    if not path.exists():
        raise InputError(f"{path}: no such {what} file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a {what} file")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a video file ({_reason(exc)})") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: holds no video stream")
    return container


def count_frames(path: Path, what: str = "video") -> int:
    """The number of video frames in ``path`` (its packets are counted, not decoded)."""
    import av

    with _open_input(path, what) as container:
        stream = container.streams.video[0]
        try:
            return sum(1 for packet in container.demux(stream) if packet.size)
        except av.FFmpegError as exc:
            raise InputError(f"{path}: damaged video ({_reason(exc)})") from None


def _colour(frame: Any) -> tuple[str, str]:
    """The matrix and range of a decoded frame, by its tags or, untagged, by its size."""
    space = _SPACE_NAMES.get(int(frame.colorspace))
    if space is None:
        space = "ITU709" if frame.height >= 720 else "ITU601"
    return space, _RANGE_NAMES.get(int(frame.color_range), "MPEG")


_THREADS = min(4, os.cpu_count() or 1)


def _pixels(frame: Any) -> np.ndarray:
    """An RGB frame's pixels as an ``(H, W, 3)`` uint8 view (no copy; rows padded)."""
    plane = frame.planes[0]
    shape, strides = (frame.height, frame.width, 3), (plane.line_size, 3, 1)
    return np.ndarray(shape, np.uint8, buffer=plane, strides=strides)


def _to_rgb(frame: Any, colour: tuple[str, str]) -> np.ndarray:
    """A decoded frame as ``(H, W, 3)`` uint8 full-range RGB, with its matrix."""
    space, value_range = colour
    rgb = frame.reformat(
        format="rgb24",
        src_colorspace=space,
        src_color_range=value_range,
        dst_color_range="JPEG",
        threads=_THREADS,
    )
    return _pixels(rgb)


def _from_rgb(canvas: Any, like: Any, pix_fmt: str, colour: tuple[str, str]) -> Any:
    """The RGB ``canvas`` frame back to the encoder's format, with the same matrix and
    range as the decoded frame ``like`` and its timestamp."""
    space, value_range = colour
    out = canvas.reformat(
        format=pix_fmt,
        src_colorspace=space,
        dst_colorspace=space,
        src_color_range="JPEG",
        dst_color_range=value_range,
        threads=_THREADS,
    )
    out.pts, out.time_base = like.pts, like.time_base
    return out


def _passthrough(frame: Any, pix_fmt: str, colour: tuple[str, str]) -> Any:
    """A frame left as it is (no object in it), in the encoder's pixel format."""
    if frame.format.name == pix_fmt:
        return frame
    space, value_range = colour
    out = frame.reformat(
        format=pix_fmt,
        src_colorspace=space,
        dst_colorspace=space,
        src_color_range=value_range,
        dst_color_range=value_range,
    )
    out.pts, out.time_base = frame.pts, frame.time_base
    return out


# --------------------------------------------------------------------------- masks
def _fit_mask(values: np.ndarray, shape: tuple[int, int], rotation: int, name: str) -> np.ndarray:
    """A mask in the frames' stored orientation: one drawn on the displayed (rotated)
    picture is turned back."""
    if values.shape == shape:
        return values
    turns = (rotation // 90) % 4
    if turns % 2 and values.shape == shape[::-1]:
        return np.ascontiguousarray(np.rot90(values, -turns))
    raise InputError(
        f"{name}: mask is {values.shape[1]}x{values.shape[0]} but the video's frames are "
        f"{shape[1]}x{shape[0]}"
    )


def _mask_frames(mask: Any, count: int, shape: tuple[int, int], rotation: int) -> Iterator:
    """One ``(H, W)`` uint8 mask per frame from an image, a folder of images (sorted by
    name) or a mask video; sizes and counts are checked before any frame is made."""
    from .images import mask_from_array, read_mask

    if isinstance(mask, np.ndarray):
        values = _fit_mask(mask_from_array(mask), shape, rotation, "mask")
        return _repeat(values, count)
    path = Path(mask)
    if path.is_dir():
        from .folders import list_images

        files = sorted(list_images(path), key=lambda p: p.name)
        if len(files) != count:
            raise InputError(f"{path}: {len(files)} mask images for {count} video frames")
        first = _fit_mask(read_mask(files[0]).oriented(), shape, rotation, str(files[0]))
        del first
        return (_fit_mask(read_mask(f).oriented(), shape, rotation, str(f)) for f in files)
    if path.suffix.lower() in MASK_VIDEO_SUFFIXES:
        frames = count_frames(path, "mask video")
        if frames != count:
            raise InputError(f"{path}: the mask video has {frames} frames, the video {count}")
        return _mask_video(path, shape, rotation)
    return _repeat(_fit_mask(read_mask(path).oriented(), shape, rotation, str(path)), count)


def _repeat(values: np.ndarray, count: int) -> Iterator[np.ndarray]:
    return (values for _ in range(count))


def _mask_video(path: Path, shape: tuple[int, int], rotation: int) -> Iterator[np.ndarray]:
    from .images import mask_from_array

    with _open_input(path, "mask video") as container:
        for frame in container.decode(container.streams.video[0]):
            grey = frame.reformat(format="gray", src_color_range="MPEG", dst_color_range="JPEG")
            values = mask_from_array(grey.to_ndarray(), str(path))
            yield _fit_mask(values, shape, rotation, str(path))


# --------------------------------------------------------------------------- curves
class _Curves:
    """Where each frame's curves come from: the model (smoothed, reset at scene cuts), or
    a curve file (one for all frames, or a JSON-lines file with one per frame)."""

    def __init__(self, model, strength, smooth, scene_cut, label, labeler, fixed) -> None:
        self.model, self.strength, self.smooth, self.scene_cut = model, strength, smooth, scene_cut
        self.label, self.labeler, self.fixed = label, labeler, fixed
        self.state: np.ndarray | None = None
        self.scene: np.ndarray | None = None
        self.cuts: list[int] = []
        self.guess = None
        self.size = model.config.thumbnail if model is not None else 256
        self._mask: tuple[np.ndarray, np.ndarray] | None = None

    def squares(self, rgb: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The frame and its mask as thumbnails (a still mask is shrunk once)."""
        if self._mask is None or self._mask[0] is not mask:
            self._mask = (mask, resize_square(mask, self.size))
        return resize_square(rgb, self.size), self._mask[1]

    def for_frame(self, index: int, square: np.ndarray, square_mask: np.ndarray) -> Curves:
        if self.fixed is not None:
            return self.fixed[index] if isinstance(self.fixed, list) else self.fixed
        config = self.model.config
        size = config.thumbnail
        background = background_thumbnail(square, square_mask, size)
        if self.label == "auto":
            from .loading import resolve_labeler
            from .predict import guess_object

            labeler = resolve_labeler(self.labeler, self.model)
            self.guess = guess_object(labeler, square, square_mask)
            self.label = self.guess.index
        params = self.model.curves_from_thumbnails(
            foreground_thumbnail(square, square_mask, size), background, self.label
        )
        scene = cv2.resize(background[0].transpose(1, 2, 0), (_SCENE_SIDE, _SCENE_SIDE))
        cut = self.scene is not None and float(np.abs(scene - self.scene).mean()) > self.scene_cut
        if cut:
            self.cuts.append(index)
        if self.state is None or cut:
            self.state = params.astype(np.float64)
        else:
            self.state = self.smooth * self.state + (1 - self.smooth) * params
        self.scene = scene
        return Curves(self.state, config.effective_strength(self.strength))


def _read_curve_frames(path: Path) -> Curves | list[Curves]:
    """A curve file (JSON: the same curves for every frame) or ``--save-curves``'s JSON
    lines (one per frame)."""
    from .curves.value import curves_from_json

    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the curve file ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines[:2]):
        try:
            return [curves_from_json(line, f"{path} line {i + 1}") for i, line in enumerate(lines)]
        except InputError:
            if text.lstrip().startswith("{\n"):  # an indented single curve file
                return curves_from_json(text, str(path))
            raise
    return curves_from_json(text, str(path))


def _curve_line(curves: Curves, index: int, frame: Any, calibration: float, info) -> str:
    data = json.loads(curves.to_json(calibration, **info))
    data = {"frame": index, "time": float(frame.time or 0.0), "pts": frame.pts, **data}
    return json.dumps(data, separators=(",", ":")) + "\n"


# --------------------------------------------------------------------------- output
def _check_output(output: Path, video: Path) -> str:
    from .atomic import check_output_folder, output_error

    fmt = VIDEO_SUFFIXES.get(output.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{output}: unsupported output format {output.suffix or '(no extension)'}; "
            f"use one of {', '.join(VIDEO_SUFFIXES)}"
        )
    check_output_folder(output)
    if output.exists() and video.exists() and os.path.samefile(output, video):
        raise InputError(f"{output}: output would overwrite the input {video}")
    if not os.access(output.parent, os.W_OK):
        raise output_error(output, PermissionError(13, "Permission denied"))
    return fmt


def _frame_counter(expected: int):
    def check(path: Path) -> None:
        written = count_frames(path, "output")
        if written != expected:
            raise OSError(5, f"the written video holds {written} frames, not {expected}")

    return check


def harmonize_video(
    video: str | os.PathLike,
    mask: str | os.PathLike | np.ndarray,
    output: str | os.PathLike,
    *,
    model: Any = None,
    strength: float = 1.0,
    smooth: float = DEFAULT_SMOOTH,
    label: str | int | None = None,
    curves: str | os.PathLike | Curves | None = None,
    save_curves: str | os.PathLike | None = None,
    codec: str = "libx264",
    crf: int = 18,
    scene_cut: float = DEFAULT_SCENE_CUT,
    labeler: Any = None,
    device: str | None = None,
    progress: bool = False,
) -> VideoResult:
    """Harmonize the masked object in every frame of ``video`` and write ``output``.

    Args:
        video: the clip (anything FFmpeg reads).
        mask: one mask for every frame (an image file or an ``(H, W)`` array: a still
            object), a folder of per-frame mask images (sorted by name; as many as the
            frames), or a mask video (same frame count). A mask drawn on the displayed
            picture of a rotated video is turned to match.
        output: ``.mp4``, ``.m4v``, ``.mov`` or ``.mkv``; written to a temporary file
            and renamed at the end, so it appears whole or not at all.
        model: as for :func:`s2crnet.harmonize` (None: the shipped model).
        strength: as for :func:`s2crnet.harmonize`.
        smooth: 0 uses each frame's own curves, towards 1 they change ever more slowly
            (an exponential moving average of the curve weights, reset at scene cuts).
        label: as for :func:`s2crnet.harmonize`; ``"auto"`` (the default for semantic
            models) guesses once, from the first frame with an object.
        curves: instead of the model: a curve file applied to every frame, or the JSON
            lines of ``save_curves`` (one per frame).
        save_curves: write each frame's curves as JSON lines (a curve file per line, with
            ``frame``, ``time`` and ``pts``).
        codec: the video encoder (``libx264``: H.264; ``libx265``...); ``yuv420p``, or
            ``yuv444p`` for odd sizes, which 4:2:0 cannot hold.
        crf: the encoder's constant-quality setting (lower is better, 18 is near
            transparent for H.264).
        scene_cut: the background change (mean absolute, 0-1) that restarts smoothing.
        labeler: what guesses the class (see :func:`s2crnet.api.resolve_labeler`).
        device: where to run the network.
        progress: show a progress bar (frames).

    Returns:
        a :class:`VideoResult`.

    Raises:
        InputError: not a video, no video stream, masks of the wrong size or number,
            a bad curve file.
        OutputError: the output cannot be written; nothing is left behind.
    """
    require("av", "harmonize-video", extra="video")
    import av

    video, output = Path(video), Path(output)
    fmt = _check_output(output, video)
    if not 0 <= smooth < 1:
        raise InputError(f"smooth must be in [0, 1), got {smooth}")
    count = count_frames(video)
    if count == 0:
        raise InputError(f"{video}: the video stream holds no frames")
    fixed = None
    if curves is not None:
        fixed = curves if isinstance(curves, Curves) else _read_curve_frames(Path(curves))
        if isinstance(fixed, list) and len(fixed) != count:
            raise InputError(f"{curves}: {len(fixed)} curve lines for {count} video frames")
        if strength != 1.0:
            scale = strength
            fixed = (
                [c.with_strength(c.strength * scale) for c in fixed]
                if isinstance(fixed, list)
                else fixed.with_strength(fixed.strength * scale)
            )
    else:
        from .labels import object_labels
        from .loading import resolve_model

        model = resolve_model(model, device)
        label = object_labels(label, 1, model.config.semantic)[0]
    source = _Curves(model, strength, smooth, scene_cut, label, labeler, fixed)
    calibration = 1.0 if fixed is not None else model.config.curve_strength
    info = {"model": "curve file" if fixed is not None else str(getattr(model, "path", "model"))}

    container = _open_input(video)
    try:
        result = _run(
            container, video, mask, output, fmt, count, source, codec, crf,
            save_curves, calibration, info, progress, av,
        )  # fmt: skip
    finally:
        container.close()
    return result


def _run(container, video, mask, output, fmt, count, source, codec, crf, save_curves,
         calibration, info, progress, av) -> VideoResult:  # fmt: skip
    """The streaming loop: decode, harmonize, encode; copy audio packets as they are."""
    from contextlib import ExitStack

    from tqdm import tqdm

    from .atomic import staged_file

    stream = container.streams.video[0]
    first = _first_frame(video, av)
    shape = (first.height, first.width)
    rotation = round(float(getattr(first, "rotation", 0) or 0))
    masks = _mask_frames(mask, count, shape, rotation)
    colour = _colour(first)
    pix_fmt = "yuv420p" if first.width % 2 == 0 and first.height % 2 == 0 else "yuv444p"

    flicker, previous, index = [], None, 0
    with ExitStack() as stack:
        curve_file = None
        if save_curves is not None:
            curve_tmp = stack.enter_context(staged_file(save_curves))
            curve_file = stack.enter_context(open(curve_tmp, "w"))
        tmp = stack.enter_context(staged_file(output, _frame_counter(count)))
        with av.open(str(tmp), "w", format=fmt) as out:
            rate = stream.average_rate or stream.guessed_rate or Fraction(25)
            ostream = out.add_stream(codec, rate=rate)
            ostream.width, ostream.height, ostream.pix_fmt = first.width, first.height, pix_fmt
            ostream.time_base = stream.time_base
            ostream.codec_context.time_base = stream.time_base  # every timestamp kept (VFR)
            if codec in ("libx264", "libx265"):
                ostream.options = {"crf": str(crf)}
            spc, pri, trc = _SPACE_TAGS[colour[0]]
            ctx = ostream.codec_context
            ctx.colorspace, ctx.color_primaries, ctx.color_trc = spc, pri, trc
            ctx.color_range = 2 if colour[1] == "JPEG" else 1
            if rotation:
                ostream.set_display_rotation(rotation)
            audio = {a.index: out.add_stream_from_template(a) for a in container.streams.audio}
            # progress: shown on a terminal only (None), never in logs
            bar = tqdm(
                total=count, unit="frame", desc="harmonizing", disable=None if progress else True
            )
            canvas = av.VideoFrame(first.width, first.height, "rgb24")  # rendered into, reused

            def encode(frame) -> None:
                out.mux(ostream.encode(frame))

            for packet in container.demux(stream, *container.streams.audio):
                if packet.stream.index in audio:
                    if packet.dts is not None and packet.size:
                        packet.stream = audio[packet.stream.index]
                        out.mux(packet)
                    continue
                for frame in _decode(packet, video, av):
                    values = next(masks)
                    if not values.any():
                        encode(_passthrough(frame, pix_fmt, colour))
                        previous = None
                    else:
                        rgb = _to_rgb(frame, colour)
                        square, square_mask = source.squares(rgb, values)
                        curves = source.for_frame(index, square, square_mask)
                        apply_curves(rgb, values, curves, out=_pixels(canvas))
                        encode(_from_rgb(canvas, frame, pix_fmt, colour))
                        # flicker, measured on the thumbnails: cheap at any size
                        change = apply_curves(square, square_mask, curves).astype(np.float32)
                        change -= square
                        inside = square_mask > 127
                        if previous is not None:
                            both = inside & previous[1]
                            if both.any():
                                flicker.append(float(np.abs(change - previous[0])[both].mean()))
                        previous = (change, inside)
                        if curve_file is not None:
                            line = _curve_line(curves, index, frame, calibration, info)
                            curve_file.write(line)
                    index += 1
                    bar.update(1)
            encode(None)
            bar.close()
        if curve_file is not None:
            curve_file.close()
    if index != count:
        raise InputError(f"{video}: decoded {index} frames, expected {count}")
    label = None
    if source.guess is not None:
        label = source.guess.label
    elif isinstance(source.label, int):
        from .labels import LABELS

        label = LABELS[source.label]
    return VideoResult(output, index, tuple(source.cuts), float(np.mean(flicker or [0.0])), label)


def _first_frame(video: Path, av) -> Any:
    """The first decoded frame (its size, rotation and colour tags), from its own pass."""
    with _open_input(video) as container:
        try:
            return next(container.decode(container.streams.video[0]))
        except StopIteration:
            raise InputError(f"{video}: holds no video frame") from None
        except av.FFmpegError as exc:
            raise InputError(f"{video}: no frame could be decoded ({_reason(exc)})") from None


def _decode(packet, video: Path, av) -> list:
    try:
        return packet.decode()
    except av.FFmpegError as exc:
        raise InputError(f"{video}: damaged video ({_reason(exc)})") from None
