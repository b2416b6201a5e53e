"""The container side of a video run, with PyAV: opening and counting, colour matrices and
ranges, frames to and from RGB, the output stream (timestamps, rotation, colour tags) and
the audio streams copied packet for packet. The encoder and the muxer work on a thread
of their own, a few frames behind the loop, so that the encoder (which holds the GIL only
between frames) and the next frame's work overlap.

Colour: each frame is converted from its YUV to 8-bit full-range RGB once, and back once
with the same matrix and range (for 4:2:0 and 4:4:4 frames only the part the object's
mask touches, :mod:`~s2crnet.video.boxes`: the rest is encoded as decoded). The matrix
is the one the stream declares (BT.709, BT.601 or BT.2020); a stream that declares none
is taken as BT.709 when it is 720 lines or more (HD) and BT.601 below, as players do, and
the output is tagged with what was used.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import InputError
from .boxes import RenderBox
from .options import VIDEO_SUFFIXES, VideoOptions

__all__ = [
    "Output",
    "Survey",
    "check_output",
    "count_frames",
    "decode",
    "first_frame",
    "frame_counter",
    "open_input",
    "open_output",
    "survey",
]

# AVColorSpace values -> swscale's names; AVColorRange
_SPACE_NAMES = {1: "ITU709", 5: "ITU601", 6: "ITU601", 9: "BT2020", 10: "BT2020"}
_SPACE_TAGS = {"ITU709": (1, 1, 1), "ITU601": (6, 6, 6), "BT2020": (9, 9, 14)}  # spc, pri, trc
_RANGE_NAMES = {1: "MPEG", 2: "JPEG"}
_THREADS = min(4, os.cpu_count() or 1)
#: Frames the encoder's thread may be behind the loop (memory stays flat).
_QUEUE = 4
#: Chroma subsampling of the pixel formats whose object box is rendered alone.
_SUBSAMPLING = {"yuv420p": 2, "yuv444p": 1}


def reason(exc: BaseException) -> str:
    """FFmpeg's words for an error, without PyAV's errno and function name."""
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def open_input(path: Path, what: str = "video") -> Any:
    """An open container with a video stream, or an :class:`InputError` naming ``path``."""
    import av

    if not path.exists():
        raise InputError(f"{path}: no such {what} file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a {what} file")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a video file ({reason(exc)})") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: holds no video stream")
    return container


@dataclass(frozen=True)
class Survey:
    """What one pass over a video's packets tells (:func:`survey`).

    Attributes:
        frames: video frames (packets with data; none decoded).
        problem: what says the video was cut short, or None: fewer frames than its
            header declares, or its last frame well before the duration it declares (a
            copy that stopped early).
    """

    frames: int
    problem: str | None


def survey(path: Path, max_pixels: int | None = 0, what: str = "video") -> Survey:
    """Open ``path`` once: refuse frames above ``max_pixels`` from the stream's header
    (None: :data:`s2crnet.images.DEFAULT_MAX_PIXELS`; 0: no limit), before any frame is
    decoded; then count the frames and look for truncation in one pass over the packets.

    Raises:
        InputError: not a video, no video stream, frames too large, a damaged video.
    """
    import av

    from ..images import DEFAULT_MAX_PIXELS

    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    path = Path(path)
    with open_input(path, what) as container:
        stream = container.streams.video[0]
        width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        if limit and width * height > limit:
            raise InputError(
                f"{path}: {what} frames of {width}x{height} are {width * height} pixels, above "
                f"the limit of {limit} (a guard against decompression bombs); --max-pixels N "
                "raises it, 0 removes it"
            )
        declared_frames = int(stream.frames or 0)
        declared = None
        if stream.duration is not None and stream.time_base is not None:
            declared = float(stream.duration * stream.time_base)
        elif container.duration and not container.streams.audio:
            declared = container.duration / av.time_base
        count, end = 0, 0.0
        try:
            for packet in container.demux(stream):
                if packet.size:
                    count += 1
                if packet.pts is not None and packet.time_base is not None:
                    finish = (packet.pts + (packet.duration or 0)) * packet.time_base
                    end = max(end, float(finish))
        except av.FFmpegError as exc:
            raise InputError(f"{path}: damaged video ({reason(exc)})") from None
    problem = None
    if declared_frames and count < declared_frames:
        problem = f"holds {count} of the {declared_frames} frames its header declares"
    elif declared and end < 0.95 * declared - 0.1:
        problem = f"ends at {end:.2f} s of the {declared:.2f} s its header declares"
    return Survey(count, problem)


def count_frames(path: Path, what: str = "video") -> int:
    """The number of video frames in ``path`` (its packets are counted, not decoded)."""
    return survey(path, 0, what).frames


def check_codec(codec: str) -> None:
    """An :class:`InputError` unless ``codec`` names a video encoder this FFmpeg has."""
    import av

    try:
        found = av.codec.Codec(codec, "w")
    except (av.FFmpegError, ValueError):  # UnknownCodecError is a ValueError
        raise InputError(f"--codec {codec}: no such encoder in this FFmpeg; "
                         "use libx264, libx265, ffv1...") from None  # fmt: skip
    if found.type != "video":
        raise InputError(f"--codec {codec}: an {found.type} encoder; give a video encoder "
                         "(libx264, libx265, ffv1...)")  # fmt: skip


def first_frame(video: Path) -> Any:
    """The first decoded frame (its size, rotation and colour tags), from its own pass."""
    import av

    with open_input(video) as container:
        try:
            return next(container.decode(container.streams.video[0]))
        except StopIteration:
            raise InputError(f"{video}: holds no video frame") from None
        except av.FFmpegError as exc:
            raise InputError(f"{video}: no frame could be decoded ({reason(exc)})") from None


def decode(packet: Any, video: Path) -> list:
    """A packet's frames, or an :class:`InputError` naming the damaged ``video``."""
    import av

    try:
        return packet.decode()
    except av.FFmpegError as exc:
        raise InputError(f"{video}: damaged video ({reason(exc)})") from None


def check_output(output: Path, video: Path) -> str:
    """The output's container format, after checking that it can be written and is not
    the input."""
    from ..atomic import check_output_folder, output_error

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


def frame_counter(expected: int):
    """A check for :func:`s2crnet.atomic.staged_file`: the written video holds
    ``expected`` frames."""

    def check(path: Path) -> None:
        written = count_frames(path, "output")
        if written != expected:
            raise OSError(5, f"the written video holds {written} frames, not {expected}")

    return check


def _pixels(frame: Any) -> np.ndarray:
    """An RGB frame's pixels as an ``(H, W, 3)`` uint8 view (no copy; rows padded)."""
    plane = frame.planes[0]
    shape, strides = (frame.height, frame.width, 3), (plane.line_size, 3, 1)
    return np.ndarray(shape, np.uint8, buffer=plane, strides=strides)


def _planes(frame: Any) -> list[np.ndarray]:
    """An 8-bit planar frame's planes as writable ``(h, w)`` uint8 views (rows padded)."""
    return [np.ndarray((p.height, p.width), np.uint8, buffer=p, strides=(p.line_size, 1))
            for p in frame.planes]  # fmt: skip


def _reformatter() -> Any:
    from av.video.reformatter import VideoReformatter

    return VideoReformatter()


class _Worker:
    """One thread that runs what it is given in order, at most :data:`_QUEUE` behind; an
    error there is raised in the loop by the next call."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1, "s2crnet-encode")
        self.pending: deque[Future] = deque()

    def submit(self, fn: Any, *args: Any) -> None:
        self.pending.append(self.pool.submit(fn, *args))
        while len(self.pending) > _QUEUE or (self.pending and self.pending[0].done()):
            self.pending.popleft().result()

    def drain(self) -> None:
        """Wait for everything given so far."""
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> None:
        """Stop: what has not started is dropped, what runs is waited for."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pending.clear()


@dataclass
class Output:
    """The output container's video stream, set up like the input's first frame: size,
    pixel format (``yuv420p``; ``yuv444p`` for odd sizes), time base (every timestamp
    kept), colour matrix and range, rotation; and the input's audio streams, copied.
    Frames and packets are encoded and muxed on a thread of its own, in order; use it as
    a context manager, so that the thread stops with the run."""

    container: Any
    stream: Any
    audio: dict[int, Any]
    pix_fmt: str
    colour: tuple[str, str]  # (matrix, range) in swscale's names
    canvas: Any  # the RGB frame results are rendered into, reused
    worker: _Worker = field(default_factory=_Worker)
    # swscale contexts, kept from frame to frame: one made anew for each frame costs
    # more than the box's conversion itself (3.2 against 1.0 ms CPU, RGB -> YUV at 720p)
    to_rgb_scaler: Any = field(default_factory=_reformatter)
    back_scaler: Any = field(default_factory=_reformatter)
    box_canvas: Any = None  # the RGB frame an object's box is rendered into, reused

    def __enter__(self) -> Output:
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.close()

    def to_rgb(self, frame: Any) -> np.ndarray:
        """A decoded frame as ``(H, W, 3)`` uint8 full-range RGB, with its matrix."""
        space, value_range = self.colour
        rgb = self.to_rgb_scaler.reformat(frame, format="rgb24", src_colorspace=space,
                                          src_color_range=value_range,
                                          dst_color_range="JPEG", threads=_THREADS)  # fmt: skip
        return _pixels(rgb)

    @property
    def step(self) -> int | None:
        """The stream's chroma subsampling, when frames in its format can have their
        object's box rendered alone (:meth:`write_object`), else None."""
        return _SUBSAMPLING.get(self.pix_fmt)

    def direct(self, frame: Any) -> bool:
        """Whether ``frame`` can go to :meth:`write_object` (it is in the stream's format)."""
        return self.step is not None and frame.format.name == self.pix_fmt

    def canvas_pixels(self) -> np.ndarray:
        """The canvas as a writable ``(H, W, 3)`` uint8 view."""
        return _pixels(self.canvas)

    def write_canvas(self, like: Any) -> None:
        """Encode the canvas, back in the stream's format and matrix, at ``like``'s time."""
        space, value_range = self.colour
        out = self.back_scaler.reformat(self.canvas, format=self.pix_fmt, src_colorspace=space,
                                        dst_colorspace=space, src_color_range="JPEG",
                                        dst_color_range=value_range, threads=_THREADS)  # fmt: skip
        out.pts, out.time_base = like.pts, like.time_base
        self.write(out)

    def box_pixels(self, box: RenderBox) -> np.ndarray:
        """A writable ``(h, w, 3)`` uint8 view of the RGB frame ``box`` is rendered into
        for :meth:`write_object` (made once for each size of box)."""
        import av

        height, width = box.mask.shape
        canvas = self.box_canvas
        if canvas is None or (canvas.height, canvas.width) != (height, width):
            self.box_canvas = canvas = av.VideoFrame(width, height, "rgb24")
        return _pixels(canvas)

    def write_object(self, frame: Any, box: RenderBox) -> None:
        """Encode a copy of ``frame`` (:meth:`direct`) in which the samples the mask
        touches come from the box's RGB (rendered into :meth:`box_pixels`), converted back
        with the stream's matrix; every other sample is the decoded one."""
        import av

        space, value_range = self.colour
        step = _SUBSAMPLING[self.pix_fmt]  # the box was made with it
        back = self.back_scaler.reformat(self.box_canvas, format=self.pix_fmt,
                                         src_colorspace=space, dst_colorspace=space,
                                         src_color_range="JPEG",
                                         dst_color_range=value_range)  # fmt: skip
        out = av.VideoFrame(frame.width, frame.height, self.pix_fmt)
        for i, (target, source, part) in enumerate(
            zip(_planes(out), _planes(frame), _planes(back), strict=True)
        ):
            target[...] = source  # the decoder's own buffer is never written
            cv2.copyTo(part, box.planes[i], target[box.plane_box(i, step)])  # in place
        out.pts, out.time_base = frame.pts, frame.time_base
        out.colorspace, out.color_range = frame.colorspace, frame.color_range
        self.write(out)

    def write_unchanged(self, frame: Any) -> None:
        """Encode a frame as it is (no object in it), converted only if the encoder needs
        another pixel format."""
        if frame.format.name != self.pix_fmt:
            space, value_range = self.colour
            out = frame.reformat(format=self.pix_fmt, src_colorspace=space,
                                 dst_colorspace=space, src_color_range=value_range,
                                 dst_color_range=value_range)  # fmt: skip
            out.pts, out.time_base = frame.pts, frame.time_base
            frame = out
        self.write(frame)

    def _encode(self, frame: Any) -> None:
        self.container.mux(self.stream.encode(frame))

    def write(self, frame: Any) -> None:
        """Encode a frame on the encoder's thread (None flushes the encoder)."""
        self.worker.submit(self._encode, frame)

    def _mux(self, packet: Any) -> None:
        packet.stream = self.audio[packet.stream.index]
        self.container.mux(packet)

    def copy_audio(self, packet: Any) -> None:
        """An audio packet into its output stream, as it is (in order with the frames)."""
        if packet.dts is not None and packet.size:
            self.worker.submit(self._mux, packet)

    def finish(self) -> None:
        """Flush the encoder and wait until everything is written."""
        self.write(None)
        self.worker.drain()


def _colour(frame: Any) -> tuple[str, str]:
    """The matrix and range of a decoded frame, by its tags or, untagged, by its size."""
    space = _SPACE_NAMES.get(int(frame.colorspace))
    if space is None:
        space = "ITU709" if frame.height >= 720 else "ITU601"
    return space, _RANGE_NAMES.get(int(frame.color_range), "MPEG")


def open_output(container: Any, source: Any, first: Any, fmt: str, options: VideoOptions) -> Output:
    """Set up ``container`` (opened for writing in format ``fmt``) for the input
    ``source`` container whose first frame is ``first``."""
    import av

    stream = source.streams.video[0]
    colour = _colour(first)
    pix_fmt = "yuv420p" if first.width % 2 == 0 and first.height % 2 == 0 else "yuv444p"
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    ostream = container.add_stream(options.codec, rate=rate)
    ostream.width, ostream.height, ostream.pix_fmt = first.width, first.height, pix_fmt
    ostream.time_base = stream.time_base
    ostream.codec_context.time_base = stream.time_base  # every timestamp kept (VFR)
    if options.codec in ("libx264", "libx265"):
        ostream.options = {"crf": str(options.crf)}
    spc, pri, trc = _SPACE_TAGS[colour[0]]
    ctx = ostream.codec_context
    ctx.colorspace, ctx.color_primaries, ctx.color_trc = spc, pri, trc
    ctx.color_range = 2 if colour[1] == "JPEG" else 1
    rotation = rotation_of(first)
    if rotation:
        ostream.set_display_rotation(rotation)
    audio = {a.index: container.add_stream_from_template(a) for a in source.streams.audio}
    canvas = av.VideoFrame(first.width, first.height, "rgb24")
    return Output(container, ostream, audio, pix_fmt, colour, canvas)


def rotation_of(frame: Any) -> int:
    """The display rotation of a decoded frame, in degrees."""
    return round(float(getattr(frame, "rotation", 0) or 0))
