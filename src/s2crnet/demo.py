"""``s2crnet demo``: harmonize in a browser (Gradio, the ``[demo]`` extra), offline.

Three ways in: a composite and its mask (uploaded, or painted with the brush over the
composite), a cut-out (RGBA) placed on a background, or a video clip and a mask
(``harmonize_video``, where PyAV is installed). Controls: the object's class
(``auto`` and the five classes; used by semantic models) and the strength. Out: a
before/after slider, the curves, and downloads (the result, the curve file, the
``.cube``). A bad upload shows a message in the page; the server goes on serving.

The endpoint ``harmonize`` (``api_name="harmonize"``) takes (composite image, mask image,
strength) and returns the harmonized image, losslessly (PNG), for ``gradio_client``.

The page's pictures are the functions below, which need no browser:
:func:`harmonize_arrays` and :func:`compose_arrays`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, require
from .labels import AUTO, LABELS

__all__ = [
    "EXAMPLE",
    "build_demo",
    "compose_arrays",
    "download_files",
    "editor_mask",
    "harmonize_arrays",
    "launch",
]

_ASSETS = Path(__file__).parent / "assets"
#: The example the page opens with: (composite, mask), shipped in the package.
EXAMPLE = (_ASSETS / "example-composite.jpg", _ASSETS / "example-mask.png")
LABEL_CHOICES = [AUTO, *LABELS]


def _rgb(image: np.ndarray | None, what: str) -> np.ndarray:
    if image is None:
        raise InputError(f"{what}: nothing uploaded")
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def editor_mask(mask: np.ndarray | None, painted: Any, shape: tuple[int, int]) -> np.ndarray:
    """The uploaded mask, or else the brush strokes painted over the composite, fitted to
    it (:func:`s2crnet.inputs.fit_mask`)."""
    from .images import mask_from_array
    from .inputs import fit_mask

    if mask is not None:
        values = mask_from_array(np.asarray(mask), "mask")
    else:
        layers = (painted or {}).get("layers") or []
        strokes = [np.asarray(layer) for layer in layers if layer is not None]
        if not strokes or not any(s.ndim == 3 and s.shape[2] == 4 and s[..., 3].any()
                                  for s in strokes):  # fmt: skip
            raise InputError("mask: upload a mask or paint the object with the brush")
        values = np.maximum.reduce([s[..., 3] for s in strokes if s.ndim == 3])
        values = np.where(values > 0, 255, 0).astype(np.uint8)
    return fit_mask(values, shape, "mask")


def harmonize_arrays(
    composite: np.ndarray,
    mask: np.ndarray,
    strength: float = 1.0,
    label: str = AUTO,
    model: Any = None,
    labeler: Any = None,
):
    """Harmonize an RGB array with its mask; returns ``(image, object result)``.
    ``model``: a :class:`~s2crnet.session.Harmonizer` or what :func:`s2crnet.harmonize`
    takes."""
    from .session import as_harmonizer

    session = as_harmonizer(model, None, labeler)
    label = _model_label(label, session)
    result = session.harmonize(composite, mask, label=label, strength=float(strength))
    return result.image, result.objects[0]


def compose_arrays(
    cutout: np.ndarray,
    background: np.ndarray,
    x: float | None = None,
    y: float | None = None,
    scale: float = 1.0,
    strength: float = 1.0,
    label: str = AUTO,
    model: Any = None,
    labeler: Any = None,
):
    """Paste an RGBA cut-out (``x``, ``y``: its top-left corner; None centres it) and
    harmonize it; returns ``(composite, image, object result)``."""
    from .compose import compose
    from .session import as_harmonizer

    session = as_harmonizer(model, None, labeler)
    if cutout is None or background is None:
        raise InputError("cut-out and background: upload both")
    at = None if x is None or y is None or x < 0 or y < 0 else (int(x), int(y))
    label = _model_label(label, session)
    result = compose(np.asarray(cutout), _rgb(background, "background"), at=at,
                     scale=float(scale), model=session, strength=float(strength),
                     label=label)  # fmt: skip
    return result.composite, result.image, result.objects[0]


#: Up to this many pixels the page's result downloads as PNG (lossless); above, as JPEG
#: (quality 95): a 12-megapixel PNG takes seconds to encode, a JPEG 60 ms.
PNG_PIXELS = 4_000_000


def download_files(image: np.ndarray, obj: Any, calibration: float, folder: Path) -> list[str]:
    """The result, its curve file and its ``.cube``, and the curve plot (last), in a new
    folder; every name carries the folder's (the request's), so that requests served at
    once never share a file name."""
    from .images import Picture, write_image
    from .visual import curve_plot_png

    folder.mkdir(parents=True, exist_ok=True)
    tag = folder.name
    kind = "png" if image.shape[0] * image.shape[1] <= PNG_PIXELS else "jpg"
    names = (f"result-{tag}.{kind}", f"curves-{tag}.json", f"grade-{tag}.cube")
    write_image(folder / names[0], Picture(rgb=np.ascontiguousarray(image)))
    (folder / names[1]).write_text(obj.curves.to_json(calibration, label=_label(obj)))
    (folder / names[2]).write_text(obj.curves.to_cube(1024, title="s2crnet demo"))
    plot = folder / f"curves-{tag}.png"
    plot.write_bytes(curve_plot_png([("object", obj.curves)], calibration))
    return [str(folder / n) for n in names] + [str(plot)]


#: The largest video frame the page harmonizes (8K is 33 megapixels): a small upload of
#: huge frames must not take the server's memory.
VIDEO_MAX_PIXELS = 40_000_000

#: A request's files are removed this many seconds after it was served.
KEEP_SECONDS = 900


def prune(work: Path, keep_seconds: float = KEEP_SECONDS) -> int:
    """Remove the request folders in ``work`` older than ``keep_seconds``; returns how
    many. Called at every request, and the whole folder goes when the server stops."""
    import shutil
    import time

    removed, now = 0, time.time()
    for folder in work.iterdir() if work.is_dir() else ():
        try:
            old = now - folder.stat().st_mtime > keep_seconds
        except OSError:
            continue
        if old:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def public_message(message: str) -> str:
    """An error for the page: file paths cut to their names (no server folders shown).

    >>> public_message("/tmp/gradio/ab12/clip.mp4: not a video file")
    'clip.mp4: not a video file'
    """
    import re

    return re.sub(r"(?:[A-Za-z]:)?(?:[/\\][^/\\\s:]+)*[/\\]([^/\\\s:]+)", r"\1", message)


def _upload_error(payload: Any, exc: BaseException) -> str:
    """What is wrong with an upload Gradio could not decode, in one line, by its name."""
    name = "upload"
    for part in (payload, getattr(payload, "background", None)):  # an image, an editor's
        found = getattr(part, "orig_name", None) or getattr(part, "path", None)
        if found:
            name = Path(str(found)).name
            break
    if type(exc).__name__ == "DecompressionBombError":
        return f"{name}: too many pixels to be a picture (a guard against decompression bombs)"
    return f"{name}: not an image file"


def _checked(box: Any, gr: Any) -> Any:
    """``box`` (a Gradio image box or editor) with an upload it cannot decode reported as
    the page's one-line message (its decoder's own error shows only "Error"). Wrapped on
    the instance: a subclass would make Gradio write a ``.pyi`` beside this module."""
    from PIL import Image

    undecodable = (OSError, ValueError, Image.DecompressionBombError)  # Pillow's errors
    decode = box.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return decode(payload)
        except undecodable as exc:
            raise gr.Error(_upload_error(payload, exc)) from None

    box.preprocess = preprocess
    return box


def _model_label(label: str, session: Any) -> str | None:
    """The page always offers a class; models without classes get none (no warning)."""
    return label if session.semantic else None


def _label(obj: Any) -> str | None:
    return None if obj.label is None else LABELS[obj.label]


def _summary(obj: Any) -> str:
    if obj.guess is not None:
        return f"Label: auto, guessed **{obj.guess.label}** (p = {obj.guess.probability:.2f})."
    if obj.label is not None:
        return f"Label: **{LABELS[obj.label]}**."
    return "This model does not use the object's class."


def build_demo(model: Any = None, labeler: Any = None):
    """The Gradio app (not launched). ``model``: a :class:`~s2crnet.session.Harmonizer`
    or what :func:`s2crnet.harmonize` takes."""
    require("gradio", "s2crnet demo", extra="demo")
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no calls home
    import gradio as gr

    from .session import as_harmonizer
    from .video.options import DEFAULT_SMOOTH

    session = as_harmonizer(model, None, labeler).load()
    calibration = session.calibration

    def image_box(**options: Any) -> Any:
        return _checked(gr.Image(**options), gr)

    import atexit
    import shutil

    work = Path(tempfile.mkdtemp(prefix="s2crnet-demo-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # a clean exit leaves nothing
    counter = iter(range(1 << 62))

    def new_folder() -> Path:
        prune(work)
        return work / f"{next(counter):06d}"

    def outputs(before: np.ndarray, image: np.ndarray, obj: Any):
        files = download_files(image, obj, calibration, new_folder())
        return (before, image), files[-1], files[:-1], _summary(obj)

    def page_errors(fn):
        def run(*args):
            try:
                return fn(*args)
            except (InputError, ValueError) as exc:  # a user's upload: a message, not a trace
                raise gr.Error(public_message(str(exc))) from None

        return run

    @page_errors
    def from_mask(painted, mask, strength, label):
        composite = _rgb((painted or {}).get("background"), "composite")
        values = editor_mask(mask, painted, composite.shape[:2])
        image, obj = harmonize_arrays(composite, values, strength, label, session)
        return outputs(composite, image, obj)

    @page_errors
    def from_cutout(cutout, background, x, y, scale, strength, label):
        composite, image, obj = compose_arrays(cutout, background, x, y, scale, strength,
                                               label, session)  # fmt: skip
        return outputs(composite, image, obj)

    @page_errors
    def from_video(video, mask_file, strength, smooth, label):
        if not video or not mask_file:
            raise InputError("video and mask: upload both")
        from .video import harmonize_video

        folder = new_folder()
        out = folder / f"result-{folder.name}.mp4"
        out.parent.mkdir(parents=True)
        result = harmonize_video(video, mask_file, out, model=session, strength=float(strength),
                                 smooth=float(smooth), label=_model_label(label, session),
                                 max_pixels=VIDEO_MAX_PIXELS)  # fmt: skip
        cuts = f", scene cuts at {list(result.scene_cuts)}" if result.scene_cuts else ""
        text = (f"{result.frames} frames, the network on {result.predictions}, flicker "
                f"{result.flicker:.2f} levels{cuts}.")  # fmt: skip
        return str(out), text

    @page_errors
    def api_harmonize(composite, mask, strength):
        # the files as sent, decoded here: a non-image or a bomb is our one-line message
        if not composite or not mask:
            raise InputError("composite and mask: send both")
        from .images import read_image, read_mask, to_uint8
        from .inputs import fit_mask

        name = Path(composite).name
        rgb = np.ascontiguousarray(to_uint8(read_image(composite).rgb))
        values = fit_mask(read_mask(mask).oriented(), rgb.shape[:2], Path(mask).name,
                          f"the composite {name}")  # fmt: skip
        image = harmonize_arrays(rgb, values, strength, AUTO, session)[0]
        folder = new_folder()  # a name of its own: identical requests at once used to share
        folder.mkdir(parents=True)  # Gradio's cache file of the same bytes, and lose answers
        path = folder / f"result-{folder.name}.png"
        from .images import Picture, write_image

        write_image(path, Picture(rgb=np.ascontiguousarray(image)))
        return str(path)

    example = [str(p) for p in EXAMPLE] if all(p.is_file() for p in EXAMPLE) else [None, None]
    blocks = {"title": "s2crnet: image harmonization", "analytics_enabled": False,
              "delete_cache": (300, KEEP_SECONDS)}  # Gradio's copies go too  # fmt: skip
    with gr.Blocks(**blocks) as demo:
        gr.Markdown(
            "# s2crnet\nRecolour a pasted object so that it belongs: S2CRNet predicts one "
            "colour curve per channel from a thumbnail and applies it at full resolution."
        )
        with gr.Row():
            with gr.Column():
                with gr.Tabs():
                    with gr.Tab("Composite + mask", id="mask"):
                        painted = _checked(gr.ImageEditor(
                            value={"background": example[0], "layers": [], "composite": None},
                            label="Composite (paint the object with the brush, or upload a mask)",
                            type="numpy", image_mode="RGB", elem_id="composite",
                            brush=gr.Brush(colors=["#ff0000"], color_mode="fixed"),
                        ), gr)  # fmt: skip
                        mask = image_box(value=example[1], label="Mask (white = object)",
                                        type="numpy", image_mode="L", elem_id="mask")  # fmt: skip
                        run_mask = gr.Button("Harmonize", variant="primary", elem_id="run-mask")
                    with gr.Tab("Cut-out + background", id="cutout"):
                        cutout = image_box(label="Cut-out (PNG with transparency)", type="numpy",
                                          image_mode="RGBA", elem_id="cutout")  # fmt: skip
                        background = image_box(label="Background", type="numpy",
                                              image_mode="RGB", elem_id="background")  # fmt: skip
                        with gr.Row():
                            x = gr.Number(value=-1, label="x (left; -1 = centred)", precision=0)
                            y = gr.Number(value=-1, label="y (top; -1 = centred)", precision=0)
                            scale = gr.Slider(0.05, 4, value=1, step=0.05, label="scale")
                        run_cutout = gr.Button("Paste and harmonize", variant="primary",
                                               elem_id="run-cutout")  # fmt: skip
                    with gr.Tab("Video", id="video"):
                        clip = gr.Video(label="Video", sources=["upload"], elem_id="clip")
                        clip_mask = image_box(label="Mask (one for every frame)",
                                             type="filepath", image_mode="L")  # fmt: skip
                        smooth = gr.Slider(0, 0.99, value=DEFAULT_SMOOTH, step=0.01,
                                           label="Smoothing in time")  # fmt: skip
                        run_video = gr.Button("Harmonize the video", variant="primary",
                                              elem_id="run-video")  # fmt: skip
                        clip_out = gr.Video(label="Result", elem_id="clip-out")
                label = gr.Dropdown(LABEL_CHOICES, value=AUTO, label="Object class")
                strength = gr.Slider(0, 2, value=1, step=0.05, label="Strength")
            with gr.Column():
                slider = gr.ImageSlider(label="Before | after", type="numpy", format="jpeg",
                                        elem_id="result")  # fmt: skip
                summary = gr.Markdown(elem_id="summary")
                plot = gr.Image(label="Curves", type="filepath", elem_id="curves")
                files = gr.File(label="Downloads", file_count="multiple", elem_id="downloads")
        shown = [slider, plot, files, summary]
        run_mask.click(from_mask, [painted, mask, strength, label], shown, api_name="page_mask")
        run_cutout.click(from_cutout, [cutout, background, x, y, scale, strength, label], shown,
                         api_name="page_cutout")  # fmt: skip
        # the other tabs' pictures, curves and downloads go first: they are not this result's
        run_video.click(lambda: (None, None, None), None, [slider, plot, files],
                        api_name=False).then(
            from_video, [clip, clip_mask, strength, smooth, label], [clip_out, summary],
            api_name="page_video")  # fmt: skip
        with gr.Row(visible=False):  # the API endpoint: lossless in and out
            api_in = gr.File(type="filepath")  # decoded by us, not by Gradio (see above)
            api_mask = gr.File(type="filepath")
            api_strength = gr.Number(value=1.0)
            api_out = gr.File(type="filepath")  # the PNG as written, under its own name
            api_button = gr.Button()
        api_button.click(api_harmonize, [api_in, api_mask, api_strength], api_out,
                         api_name="harmonize")  # fmt: skip
    return demo


#: The largest upload the page takes, in MB (``s2crnet demo --max-upload-mb``).
MAX_UPLOAD_MB = 40


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    model: Any = None,
    labeler: Any = None,
    max_upload_mb: int = MAX_UPLOAD_MB,
):
    """Serve the demo (blocks until stopped); uploads above ``max_upload_mb`` are refused."""
    demo = build_demo(model, labeler)
    demo.queue().launch(server_name=host, server_port=port, show_error=False, quiet=True,
                        max_file_size=f"{max_upload_mb}mb",
                        footer_links=["api"])  # fmt: skip
