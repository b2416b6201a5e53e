"""The loop that joins the video parts through one :class:`~s2crnet.session.Harmonizer`:
decode a frame, fit its mask, take its curves (the model's, smoothed in time, or a curve
file's), render them, encode; copy the audio packets as they come. Frames stream through
one at a time, so memory does not grow with the clip's length; frames whose mask is empty
go to the encoder without any conversion, and of the others only the object's box goes
through RGB (:mod:`~s2crnet.video.boxes`). The network runs on every
``predict_every``-th frame and at scene cuts (:class:`~s2crnet.video.smoothing.Smoother`);
the encoder runs on a thread of its own (:class:`~s2crnet.video.streams.Output`)."""

from __future__ import annotations

import json
import os
import warnings
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..curves.value import Curves, read_curve_file
from ..errors import InputError, require
from ..inputs import source_name
from ..labels import AUTO, LABELS
from ..render import apply_curves
from ..session import Harmonizer, as_harmonizer
from ..thumbnails import background_thumbnail, quick_square, resize_square
from .boxes import RenderBox, render_box
from .masks import mask_frames
from .options import VideoOptions
from .smoothing import SCENE_SIDE, FlickerMeter, Smoother, colour_stats
from .streams import (
    check_codec,
    check_output,
    decode,
    first_frame,
    frame_counter,
    open_input,
    open_output,
    rotation_of,
    survey,
)

__all__ = ["VideoResult", "harmonize_video"]

#: The side of the quick view of each frame that scene cuts and flicker are measured on.
VIEW_SIDE = 128


@dataclass(frozen=True)
class _FrameMask:
    """A frame's mask and what is made of it once (a still mask serves every frame)."""

    values: np.ndarray  # (H, W) uint8
    view: np.ndarray  # (VIEW_SIDE, VIEW_SIDE): the quick view's
    square: np.ndarray  # (S, S): the network's
    box: RenderBox | None  # where it touches the frame, or None: render the whole frame
    empty: bool

    @classmethod
    def of(cls, values: np.ndarray, side: int, step: int | None) -> _FrameMask:
        square = resize_square(values, side)
        view = square if side == VIEW_SIDE else resize_square(values, VIEW_SIDE)
        box = render_box(values, step) if step else None
        return cls(values, view, square, box, not values.any())


@dataclass(frozen=True)
class VideoResult:
    """What :func:`harmonize_video` did.

    Attributes:
        output: the video written.
        frames: frames written (as many as the input has).
        scene_cuts: indices of the frames where the smoothing restarted.
        flicker: mean absolute frame-to-frame change of output minus input inside the
            mask, in 0-255 levels (0: the correction does not flicker at all), measured
            on a 128x128 view of each frame.
        label: the class a semantic model used (guessed once, from the first frame with
            an object, when it was ``"auto"``), or None.
        predictions: frames the network predicted curves for (the first with an object,
            each scene cut, and every ``predict_every``-th where the colours moved: see
            :class:`VideoOptions`; 0 with a curve file).
    """

    output: Path
    frames: int
    scene_cuts: tuple[int, ...]
    flicker: float
    label: str | None = None
    predictions: int = 0


class _ModelCurves:
    """Each frame's curves from the session's model, smoothed in time."""

    def __init__(self, session: Harmonizer, strength: float | None, label: Any, options):
        self.session, self.size = session, session.thumbnail
        self.applied = session.strength(strength)
        self.label = session.object_labels(label, 1)[0]
        self.smoother = Smoother(options.smooth, options.scene_cut, options.predict_every,
                                 options.predict_change)  # fmt: skip
        self.guess = None
        self.calibration = session.calibration
        self.model_name = session.name

    def for_frame(self, index: int, rgb: np.ndarray, view: np.ndarray, mask: _FrameMask) -> Curves:
        """Frame ``index``'s curves: ``rgb`` is the frame, ``view`` its quick square (for
        scene cuts); the network gets :func:`resize_square` of ``rgb``."""

        def predict() -> np.ndarray:
            square = resize_square(rgb, self.size)
            background = background_thumbnail(square, mask.square, self.size)
            if self.label == AUTO:  # guessed once, from the first frame with an object
                self.guess = self.session.guess(square, mask.square)
                self.label = self.guess.index
            return self.session.object_params(square, mask.square, background, self.label)

        scene = background_thumbnail(view, mask.view, SCENE_SIDE)  # (1, 3, 32, 32)
        colours = colour_stats(view, mask.view) if self.smoother.change else None
        return Curves(self.smoother.update(index, scene, predict, colours), self.applied)

    def calibration_of(self, index: int) -> float:
        return self.calibration

    @property
    def cuts(self) -> list[int]:
        return self.smoother.cuts

    @property
    def predictions(self) -> int:
        return self.smoother.predictions

    @property
    def used_label(self) -> str | None:
        if self.guess is not None:
            return self.guess.label
        return LABELS[self.label] if isinstance(self.label, int) else None


class _FileCurves:
    """Each frame's curves from a curve file (one for every frame, or JSON lines with one
    per frame), at the requested strength (:meth:`Harmonizer.at_strength`)."""

    size, cuts, used_label, model_name, predictions = VIEW_SIDE, (), None, "curve file", 0

    def __init__(self, entries: list[tuple[Curves, float | None]], strength, session: Harmonizer):
        # a Curves object (calibration None) was made with the session's calibration
        self.session = session
        self.entries = [(session.at_strength(c, strength, cal), cal) for c, cal in entries]

    def _entry(self, index: int) -> tuple[Curves, float]:
        return self.entries[index if len(self.entries) > 1 else 0]

    def for_frame(self, index: int, rgb: np.ndarray, view: np.ndarray, mask: _FrameMask) -> Curves:
        return self._entry(index)[0]

    def calibration_of(self, index: int) -> float:
        calibration = self._entry(index)[1]
        return self.session.calibration if calibration is None else calibration


def read_curve_frames(path: Path) -> list[tuple[Curves, float | None]]:
    """A curve file (the same curves for every frame) or ``save_curves``'s JSON lines (one
    per frame): each entry's curves and the calibration they were made with."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the curve file ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines[:2]):
        try:
            return [read_curve_file(line, f"{path} line {i + 1}") for i, line in enumerate(lines)]
        except InputError:
            if not text.lstrip().startswith("{\n"):  # not an indented single curve file
                raise
    return [read_curve_file(text, str(path))]


def _curve_line(curves: Curves, index: int, frame: Any, calibration: float, model: str) -> str:
    data = json.loads(curves.to_json(calibration, model=model))
    data = {"frame": index, "time": float(frame.time or 0.0), "pts": frame.pts, **data}
    return json.dumps(data, separators=(",", ":")) + "\n"


def _video_options(options: VideoOptions | None, given: dict[str, Any]) -> VideoOptions:
    chosen = {k: v for k, v in given.items() if v is not None}
    if options is None:
        return VideoOptions(**chosen)
    if chosen:
        raise InputError(f"give options or {', '.join(chosen)}, not both")
    return options


def harmonize_video(
    video: str | os.PathLike,
    mask: str | os.PathLike | np.ndarray,
    output: str | os.PathLike,
    *,
    model: Any = None,
    strength: float | None = None,
    label: str | int | None = None,
    curves: str | os.PathLike | Curves | None = None,
    save_curves: str | os.PathLike | None = None,
    labeler: Any = None,
    device: str | None = None,
    max_pixels: int | None = None,
    options: VideoOptions | None = None,
    smooth: float | None = None,
    scene_cut: float | None = None,
    predict_every: int | None = None,
    predict_change: float | None = None,
    codec: str | None = None,
    crf: int | None = None,
    progress: bool | None = None,
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
        model: a :class:`~s2crnet.session.Harmonizer`, or what :func:`s2crnet.harmonize`
            takes (None: the shipped model).
        strength: as for :func:`s2crnet.harmonize` (None: 1); with ``curves``, None keeps
            each curve's own strength and ``S`` means what it meant for the run that wrote
            them (times the file's ``strength_calibration``), as for ``apply-curves``.
        label: as for :func:`s2crnet.harmonize`; ``"auto"`` (the default for semantic
            models) guesses once, from the first frame with an object.
        curves: instead of the model: a curve file applied to every frame, or the JSON
            lines of ``save_curves`` (one per frame), or :class:`Curves`.
        save_curves: write each frame's curves as JSON lines (a curve file per line, with
            ``frame``, ``time`` and ``pts``).
        labeler, device: as for :func:`s2crnet.harmonize`.
        max_pixels: refuse frames (of the video and of a mask video) and mask images above
            this many pixels, before any is decoded (default
            :data:`s2crnet.images.DEFAULT_MAX_PIXELS`; 0 = no limit).
        options: a :class:`VideoOptions` (smoothing, scene cuts, how often the network
            runs, encoder, progress), or its fields one by one: ``smooth``, ``scene_cut``,
            ``predict_every``, ``predict_change``, ``codec``, ``crf``, ``progress`` (not
            both).

    Returns:
        a :class:`VideoResult`.

    Raises:
        InputError: not a video, no video stream, masks of the wrong size or number,
            a bad curve file.
        OutputError: the output cannot be written; nothing is left behind.
    """
    require("av", "harmonize-video", extra="video")
    given = {"smooth": smooth, "scene_cut": scene_cut, "predict_every": predict_every,
             "predict_change": predict_change, "codec": codec, "crf": crf,
             "progress": progress}  # fmt: skip
    options = _video_options(options, given)
    video, output = Path(video), Path(output)
    fmt = check_output(output, video)
    check_codec(options.codec)
    found = survey(video, max_pixels)  # one pass: size, frames, truncation
    count = found.frames
    if count == 0:
        raise InputError(f"{video}: the video stream holds no frames")
    problem = found.problem
    if problem:
        warnings.warn(f"{video}: {problem} (truncated?); harmonizing the {count} frames it "
                      "holds", stacklevel=2)  # fmt: skip
    if curves is not None:
        session = as_harmonizer(model, device, labeler) if model is not None else Harmonizer()
        if isinstance(curves, Curves):
            entries: list[tuple[Curves, float | None]] = [(curves, None)]
        else:
            entries = read_curve_frames(Path(curves))
        if len(entries) > 1 and len(entries) != count:
            raise InputError(f"{curves}: {len(entries)} curve lines for {count} video frames")
        source: Any = _FileCurves(entries, strength, session)
    else:
        session = as_harmonizer(model, device, labeler)
        source = _ModelCurves(session, strength, label, options)
    # the encoder wants the cores; the network runs on at most every predict_every-th frame
    streaming = session.streaming(count // options.predict_every + 1) if curves is None else None
    with streaming or nullcontext():
        return _stream(video=video, mask=mask, output=output, fmt=fmt, count=count,
                       source=source, save_curves=save_curves, options=options,
                       max_pixels=max_pixels)  # fmt: skip


def _stream(
    *, video, mask, output, fmt, count, source, save_curves, options, max_pixels
) -> VideoResult:
    """Decode, harmonize and encode every frame; copy the audio packets."""
    import av
    from tqdm import tqdm

    from ..atomic import staged_file

    first = first_frame(video)
    shape = (first.height, first.width)
    masks = mask_frames(mask, count, shape, rotation_of(first), max_pixels)
    flicker, index, still = FlickerMeter(), 0, None
    with ExitStack() as stack:
        lines = None
        if save_curves is not None:
            lines = stack.enter_context(open(stack.enter_context(staged_file(save_curves)), "w"))
        container = stack.enter_context(open_input(video))
        tmp = stack.enter_context(staged_file(output, frame_counter(count)))
        written = stack.enter_context(av.open(str(tmp), "w", format=fmt))
        out = stack.enter_context(open_output(written, container, first, fmt, options))
        # progress: shown on a terminal only (None), never in logs
        bar = stack.enter_context(tqdm(total=count, unit="frame", desc="harmonizing",
                                       disable=None if options.progress else True))  # fmt: skip
        stream = container.streams.video[0]
        for packet in container.demux(stream, *container.streams.audio):
            if packet.stream.index in out.audio:
                out.copy_audio(packet)
                continue
            for frame in decode(packet, video):
                values = next(masks)
                if still is None or still.values is not values:  # a still mask: made once
                    if values.min() == 255:
                        raise InputError(
                            f"{source_name(mask, 'mask')}: frame {index}: the mask covers "
                            "the whole frame; there is no background to harmonize against"
                        )
                    still = _FrameMask.of(values, source.size, out.step)
                if still.empty:
                    out.write_unchanged(frame)
                    flicker.gap()
                else:
                    rgb = out.to_rgb(frame)
                    view = quick_square(rgb, VIEW_SIDE)
                    curves = source.for_frame(index, rgb, view, still)
                    box = still.box
                    if box is not None and out.direct(frame):  # only the box through RGB
                        apply_curves(rgb[box.rows, box.cols], box.mask, curves,
                                     out=out.box_pixels(box))  # fmt: skip
                        out.write_object(frame, box)
                    else:
                        apply_curves(rgb, values, curves, out=out.canvas_pixels())
                        out.write_canvas(frame)
                    flicker.add(view, still.view, curves)
                    if lines is not None:
                        calibration = source.calibration_of(index)
                        lines.write(_curve_line(curves, index, frame, calibration,
                                                source.model_name))  # fmt: skip
                index += 1
                bar.update(1)
        out.finish()
        if lines is not None:
            lines.close()
    if index != count:
        raise InputError(f"{video}: decoded {index} frames, expected {count}")
    return VideoResult(output, index, tuple(source.cuts), flicker.flicker, source.used_label,
                       source.predictions)  # fmt: skip
