"""``s2crnet harmonize-video``."""

from __future__ import annotations

from pathlib import Path

import click

from ..video.options import (  # no PyAV import
    DEFAULT_PREDICT_CHANGE,
    DEFAULT_PREDICT_EVERY,
    DEFAULT_SCENE_CUT,
    DEFAULT_SMOOTH,
    VIDEO_SUFFIXES,
)
from .common import (
    InputError,
    check_label,
    check_output,
    harmonizer_for,
    labeler_option,
    max_pixels_option,
    model_options,
    output_option,
    reports_errors,
    status,
    strength_option,
)
from .group import cli


@cli.command("harmonize-video")
@click.argument("video", type=click.Path(path_type=Path))
@click.argument("mask", type=click.Path(path_type=Path))
@output_option("The clip to write: .mp4, .m4v, .mov or .mkv.")
@model_options
@strength_option(
    "As for harmonize (default 1); with --curves, as for apply-curves (default: each "
    "curve's own strength).",
    default=None,
)
@click.option(
    "--label",
    default=None,
    help="Object class for semantic models (as for harmonize); auto, the default, "
    "guesses it once from the first frame with an object.",
)
@labeler_option
@click.option(
    "--smooth",
    type=click.FloatRange(0, 1, max_open=True),
    default=DEFAULT_SMOOTH,
    show_default=True,
    help="How slowly the curves follow the picture: 0 = each frame its own, towards "
    "1 ever smoother (reset at scene cuts).",
)
@click.option(
    "--scene-cut",
    type=click.FloatRange(0, 1),
    default=DEFAULT_SCENE_CUT,
    show_default=True,
    help="Background change (mean absolute, 0-1) that counts as a new scene.",
)
@click.option(
    "--predict-every",
    type=click.IntRange(1),
    default=DEFAULT_PREDICT_EVERY,
    show_default=True,
    help="Run the network on every Nth frame (and at each scene cut); the frames between "
    "reuse the last prediction. 1 (with --predict-change 0) = every frame.",
)
@click.option(
    "--predict-change",
    type=click.FloatRange(0, 255),
    default=DEFAULT_PREDICT_CHANGE,
    show_default=True,
    help="A due prediction waits until the object's or the background's colours (mean, "
    "spread) moved by more than this many levels (0-255), or 4x --predict-every frames "
    "passed. 0 = every Nth frame regardless.",
)
@click.option(
    "--curves",
    "curve_file",
    type=click.Path(path_type=Path),
    help="Apply these curves instead of the model's: a curve file (every frame) or "
    "--save-curves' JSON lines (one per frame).",
)
@click.option(
    "--save-curves",
    type=click.Path(path_type=Path),
    help="Write each frame's curves as JSON lines.",
)
@click.option(
    "--codec",
    default="libx264",
    show_default=True,
    help="Video encoder (libx264 = H.264, libx265 = HEVC, ...).",
)
@click.option(
    "--crf",
    type=click.IntRange(0, 51),
    default=18,
    show_default=True,
    help="Constant quality for libx264/libx265 (lower is better).",
)
@max_pixels_option
@reports_errors
def harmonize_video(
    video: Path,
    mask: Path,
    output: Path,
    weights: Path | None,
    strength: float | None,
    label: str | None,
    labeler: Path | None,
    smooth: float,
    scene_cut: float,
    predict_every: int,
    predict_change: float,
    curve_file: Path | None,
    save_curves: Path | None,
    codec: str,
    crf: int,
    device: str,
    backend: str | None,
    onnx_file: Path | None,
    max_pixels: int | None,
) -> None:
    """Harmonize the object marked by MASK in every frame of VIDEO and write OUTPUT.

    MASK is one image (a still object), a folder of per-frame masks (sorted by name, one
    per frame) or a mask video. Every frame, its timestamp, the resolution and the
    rotation are kept, and every audio stream is copied as it is (the same packets).
    """
    from ..errors import require
    from ..session import Harmonizer
    from ..video import VideoOptions
    from ..video import harmonize_video as run

    require("av", "harmonize-video", extra="video")
    check_label(label)
    for path, what in ((video, "video"), (mask, "mask"), (curve_file, "curve file")):
        if path is not None and not path.exists():
            raise InputError(f"{path}: no such {what} file or folder")
    inputs = tuple(p for p in (video, mask, curve_file, weights, onnx_file, labeler) if p)
    check_output(output, inputs, suffixes=tuple(VIDEO_SUFFIXES))
    if save_curves is not None:
        check_output(save_curves, inputs, "--save-curves", (".jsonl", ".json"))
    if curve_file is not None and (weights or onnx_file or label or labeler):
        raise InputError("--curves replaces the model: --weights, --onnx, --label go without it")
    from ..video.streams import check_codec, survey

    check_codec(codec)
    survey(video, max_pixels)  # a bad video is reported before the model loads
    if curve_file is None:
        session = harmonizer_for(weights, device, backend, onnx_file, labeler)
    else:
        session = Harmonizer()  # applies the file's curves; its model is never loaded
    options = VideoOptions(smooth=smooth, scene_cut=scene_cut, predict_every=predict_every,
                           predict_change=predict_change, codec=codec, crf=crf,
                           progress=True)  # fmt: skip
    result = run(video, mask, output, model=session, strength=strength, label=label,
                 curves=curve_file, save_curves=save_curves, max_pixels=max_pixels,
                 options=options)  # fmt: skip
    if result.label is not None:
        status(f"label: {result.label}")
    cuts = f", scene cuts at frames {list(result.scene_cuts)}" if result.scene_cuts else ""
    network = f", the network on {result.predictions}" if curve_file is None else ""
    click.echo(f"wrote {output} ({result.frames} frames{network}; flicker "
               f"{result.flicker:.2f} levels{cuts})", err=True)  # fmt: skip
    if save_curves is not None:
        click.echo(f"wrote {save_curves} (the curves of each frame)", err=True)
