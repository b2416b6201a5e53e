"""``s2crnet harmonize`` (one composite, several objects, or folders) and ``apply-curves``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import click

from .common import (
    EXIT_USER_ERROR,
    InputError,
    check_distinct,
    check_label,
    check_output,
    harmonizer_for,
    labeler_option,
    max_pixels_option,
    model_options,
    output_option,
    reports_errors,
    same_file,
    status,
    strength_option,
    user_errors,
)
from .group import cli

#: The extra outputs of a single harmonization: option -> allowed extensions.
EXTRA_OUTPUTS = {
    "save_curves": (".json",),
    "export_cube": (".cube",),
    "plot_curves": (".png",),
    "compare": (".png", ".jpg", ".jpeg"),
}


@dataclass(frozen=True)
class HarmonizeOptions:
    """What one harmonization was asked for on the command line (``harmonize`` and
    ``compose``): the options of :func:`harmonize_options` but the model's (those build
    the :class:`~s2crnet.session.Harmonizer`)."""

    labels: tuple[str, ...] = ()
    strength: float = 1.0
    save_curves: Path | None = None
    export_cube: Path | None = None
    cube_size: int = 1024
    plot_curves: Path | None = None
    compare: Path | None = None
    quality: int = 95
    max_pixels: int | None = None

    @classmethod
    def take(cls, given: dict[str, Any], **more: Any) -> HarmonizeOptions:
        """The options from click's keyword arguments (removed from ``given``)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: given.pop(k) for k in list(given) if k in names}, **more)

    def extras(self) -> dict[str, Path]:
        """The extra outputs asked for: option name -> file."""
        return {k: getattr(self, k) for k in EXTRA_OUTPUTS if getattr(self, k) is not None}


def _numbered(path: Path, index: int, count: int) -> Path:
    """``curves.json`` for one object; ``curves-1.json``, ``curves-2.json`` ... for several."""
    return path if count == 1 else path.with_name(f"{path.stem}-{index + 1}{path.suffix}")


def _harmonize_one(
    composite: Path,
    masks: list[Path],
    output: Path,
    session: Any,
    options: HarmonizeOptions,
    label_map: Path | None = None,
    reference: tuple[Path, Path | None] | None = None,
) -> list[tuple[Path, str]]:
    """One composite: its objects, the output image and any extra outputs, written all
    or nothing. Returns each file written and what it holds."""
    from ..inputs import as_picture, load_objects, load_reference

    picture = as_picture(composite, options.max_pixels)
    values, names = load_objects(
        picture, masks or None, label_map, str(composite), options.max_pixels
    )
    ref = None if reference is None else load_reference(*reference, options.max_pixels)
    result, objects = session.harmonize_picture(
        picture, values, labels=list(options.labels) or None, names=names,
        strength=options.strength, reference=ref,
    )  # fmt: skip
    _report_guesses(objects)
    files = _result_files(composite, picture, result, values, objects, output, session, options)
    return _write(files)


def _report_guesses(objects) -> None:
    for obj in objects:
        if obj.guess is not None:
            status(f"{obj.mask}: label auto -> {obj.guess}")


def _write(files: list) -> list[tuple[Path, str]]:
    """``(path, bytes or text, what it holds, check)`` written all or nothing; returns
    each file and what it holds."""
    from ..atomic import OutputSet

    with OutputSet() as outputs:
        for path, data, _, check in files:
            outputs.add(path, data, check)
    return [(path, what) for path, _, what, _ in files]


def _result_files(
    composite, picture, result, masks, objects, output: Path, session, options
) -> list:
    """The harmonized image and the extra outputs, made in memory."""
    from ..images import encode_image, verify_image

    image = encode_image(output, result, options.quality)
    files = [(output, image, "the harmonized image", verify_image(result.shape))]
    return files + _extras(composite, picture, result, masks, objects, options, session)


def _extras(composite, picture, result, masks, objects, options: HarmonizeOptions, session) -> list:
    """The extra outputs' ``(path, bytes or text, what it holds, check)``, made in memory."""
    from ..labels import LABELS

    count = len(objects)
    calibration = session.calibration
    files = []
    for i, obj in enumerate(objects):
        which = f"object {i + 1}, {obj.mask}" if count > 1 else obj.mask
        if options.save_curves is not None:
            label = None if obj.label is None else LABELS[obj.label]
            info = {"model": session.name, "composite": str(composite), "mask": obj.mask}
            info["label"] = label
            if obj.guess is not None:
                info |= {"label_source": "auto", "label_probability": obj.guess.probability}
            text = obj.curves.to_json(calibration, **info)
            path = _numbered(options.save_curves, i, count)
            files.append((path, text, f"the curves of {which}", None))
        if options.export_cube is not None:
            title = f"s2crnet {composite.name}" + (f" object {i + 1}" if count > 1 else "")
            cube = obj.curves.to_cube(options.cube_size, title=title)
            path = _numbered(options.export_cube, i, count)
            files.append((path, cube, f"the composed curve of {which} as a 1D LUT", None))
    if options.plot_curves is not None:
        from ..visual import curve_plot_png

        png = curve_plot_png([(obj.mask, obj.curves) for obj in objects], calibration)
        files.append((options.plot_curves, png, "the curve plot", None))
    if options.compare is not None:
        from ..images import encode_image, verify_image
        from ..inputs import union
        from ..visual import compare_image

        path, both = options.compare, compare_image(picture, result, union(masks))
        check = verify_image(both.shape)
        files.append((path, encode_image(path, both), "composite | result", check))
    return files


def _harmonize_folder(
    composites: Path, masks: Path, out_dir: Path, session, options: HarmonizeOptions
) -> None:
    from tqdm import tqdm

    from ..errors import OutputError
    from ..folders import pair_images

    if not masks.is_dir():
        raise InputError(f"{masks}: COMPOSITE is a folder, so MASK must be a folder too")
    for folder in (composites, masks):
        if same_file(out_dir, folder):
            raise InputError(f"{out_dir}: the output folder must differ from the input folders")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: is a file; give an output folder for a folder of composites")
    pairs = pair_images(composites, masks)
    if not pairs:
        raise InputError(f"{composites}: no images found")
    out_dir.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    done = attempted = 0
    stopped = None
    for composite, mask in tqdm(pairs, desc="harmonizing", unit="image", file=sys.stderr):
        attempted += 1
        try:
            if mask is None:
                raise InputError(f"{composite}: no mask for it in {masks}")
            output = out_dir / composite.name
            check_output(output, (composite, mask))
            _harmonize_one(composite, [mask], output, session, options)
            done += 1
        except user_errors() as exc:
            failures.append(str(exc))
            tqdm.write(f"s2crnet: error: {exc}", file=sys.stderr)
            if isinstance(exc, OutputError) and exc.disk_full:
                stopped = "the disk is full"
                break
    summary = f"harmonized {done} of {len(pairs)} images into {out_dir}"
    if failures:
        summary += f"; {len(failures)} failed"
    if stopped:
        summary += f"; {len(pairs) - attempted} not attempted: stopped early, {stopped}"
    click.echo(summary, err=True)
    if failures:
        click.echo(f"{len(failures)} failed:", err=True)
        for line in failures:
            click.echo(f"  {line}", err=True)
        sys.exit(EXIT_USER_ERROR)


def _existing(path: Path | None, what: str) -> None:
    if path is not None and not path.exists():
        raise InputError(f"{path}: no such {what}")


def harmonize_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of one harmonization that ``harmonize`` and ``compose`` share."""
    options = (
        output_option("The image to write (harmonize: a folder when COMPOSITE is a folder)."),
        model_options,
        click.option(
            "--label",
            "labels",
            multiple=True,
            help="Object class for semantic models: person, animal, food, vehicle, other "
            "(or 0-4), or auto (guessed, the default); once for all objects or once per "
            "object.",
        ),
        strength_option(
            "0 = unchanged, 1 = the model's curve at its calibrated strength, >1 "
            "exaggerates (curve, not pixels)."
        ),
        click.option(
            "--save-curves",
            type=click.Path(path_type=Path),
            help="Write the curves as JSON (see apply-curves).",
        ),
        click.option(
            "--export-cube",
            type=click.Path(path_type=Path),
            help="Write the composed curve as a 1D .cube LUT (Resolve, Photoshop, ffmpeg).",
        ),
        click.option(
            "--cube-size",
            type=click.IntRange(2, 65536),
            default=1024,
            show_default=True,
            help="Entries of the --export-cube LUT.",
        ),
        click.option(
            "--plot-curves",
            type=click.Path(path_type=Path),
            help="Draw the curves of each stage and the composed curve (PNG).",
        ),
        click.option(
            "--compare",
            type=click.Path(path_type=Path),
            help="Write composite | result side by side, the object outlined.",
        ),
        click.option(
            "--quality",
            type=click.IntRange(1, 100),
            default=95,
            show_default=True,
            help="JPEG/WebP quality of the output.",
        ),
        labeler_option,
        max_pixels_option,
    )
    for option in reversed(options):
        command = option(command)
    return command


def _check_targets(
    output: Path, inputs: tuple[Path, ...], options: HarmonizeOptions, more: tuple = ()
) -> None:
    """Every output is writable, none is an input and none is given twice."""
    check_output(output, inputs)
    for key, path in options.extras().items():
        check_output(path, inputs, "--" + key.replace("_", "-"), EXTRA_OUTPUTS[key])
    for path in more:
        check_output(path, inputs)
    check_distinct([output, *options.extras().values(), *more])


@cli.command()
@click.argument("composite", type=click.Path(path_type=Path))
@click.argument("masks", nargs=-1, type=click.Path(path_type=Path))
@harmonize_options
@click.option(
    "--label-map",
    type=click.Path(path_type=Path),
    help="Instead of MASKS: one image, 0 = background, 1, 2, ... = objects.",
)
@click.option(
    "--reference-image",
    type=click.Path(path_type=Path),
    help="Take the background (the colours to match) from this photo instead.",
)
@click.option(
    "--reference-mask",
    type=click.Path(path_type=Path),
    help="The object to leave out of --reference-image's background.",
)
@reports_errors
def harmonize(
    composite: Path,
    masks: tuple[Path, ...],
    output: Path,
    weights: Path | None,
    device: str,
    backend: str | None,
    onnx_file: Path | None,
    label_map: Path | None,
    reference_image: Path | None,
    reference_mask: Path | None,
    **given: Any,
) -> None:
    """Harmonize the object(s) marked by MASKS in COMPOSITE and write OUTPUT.

    Several masks (or --label-map) harmonize several objects, each with its own curves,
    against the region outside all of them. With folders, every composite in COMPOSITE
    is paired with the mask of the same name in MASK (or by the iHarmony4 rule,
    a0041_1_5.jpg -> a0041_1.png) and written to the folder OUTPUT under its own name;
    failures are listed at the end.
    """
    labeler = given.pop("labeler")
    options = HarmonizeOptions.take(given)
    for label in options.labels:
        check_label(label)
    _existing(composite, "file or folder")
    for path in masks:
        _existing(path, "file or folder")
    for path in (label_map, reference_image, reference_mask, labeler):
        _existing(path, "file")
    if reference_mask is not None and reference_image is None:
        raise InputError("--reference-mask needs --reference-image")
    if composite.is_dir():
        if len(masks) != 1 or label_map is not None:
            raise InputError(f"{composite}: a folder of composites takes one folder of masks")
        extras = list(options.extras())
        if extras or reference_image is not None:
            raise InputError(
                f"--{extras[0].replace('_', '-') if extras else 'reference-image'}"
                " works on one composite, not a folder"
            )
        session = harmonizer_for(weights, device, backend, onnx_file, labeler)
        _harmonize_folder(composite, masks[0], output, session, options)
        return
    if bool(masks) == (label_map is not None):
        raise InputError("give the object MASKS or --label-map (one of them)")
    for path in masks:
        if path.is_dir():
            raise InputError(f"{path}: is a folder, but COMPOSITE is a file")
    given_inputs = (label_map, reference_image, reference_mask)
    inputs = (composite, *masks, *[p for p in given_inputs if p is not None])
    _check_targets(output, inputs, options)
    session = harmonizer_for(weights, device, backend, onnx_file, labeler)
    reference = None if reference_image is None else (reference_image, reference_mask)
    written = _harmonize_one(composite, list(masks), output, session, options, label_map, reference)
    for path, what in written:
        click.echo(f"wrote {path} ({what})", err=True)


@cli.command("apply-curves")
@click.argument("image", type=click.Path(path_type=Path))
@click.argument("mask", type=click.Path(path_type=Path))
@click.argument("curves", type=click.Path(path_type=Path))
@output_option("The image to write (.png, .jpg, .tif, .webp...).")
@strength_option(
    "Instead of the file's strength: as harmonize --strength (times the file's "
    "strength_calibration, the model's calibrated strength).",
    default=None,
)
@click.option("--quality", type=click.IntRange(1, 100), default=95, show_default=True)
@max_pixels_option
@reports_errors
def apply_curves(
    image: Path,
    mask: Path,
    curves: Path,
    output: Path,
    strength: float | None,
    quality: int,
    max_pixels: int | None,
) -> None:
    """Apply a saved (possibly hand-edited) curve file to IMAGE inside MASK."""
    from ..images import read_image, write_image
    from ..session import Harmonizer

    for path in (image, mask, curves):
        _existing(path, "file")
    check_output(output, (image, mask, curves))
    picture = read_image(image, max_pixels)  # a Picture in, a Picture out: its profile kept
    result = Harmonizer().apply(picture, mask, curves, strength=strength, max_pixels=max_pixels)
    write_image(output, result, quality=quality)
    click.echo(f"wrote {output}", err=True)


def _position(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        x, y = (int(v) for v in value.split(","))
    except ValueError:
        raise InputError(f"--at: expected X,Y in the background's pixels, got {value!r}") from None
    return x, y


@cli.command()
@click.argument("cutout", metavar="OBJECT", type=click.Path(path_type=Path))
@click.argument("background", type=click.Path(path_type=Path))
@harmonize_options
@click.option("--at", help="X,Y: the object's top-left corner in BACKGROUND (default: centred).")
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Resize the object by this factor before pasting it.",
)
@click.option("--save-composite", type=click.Path(path_type=Path), help="Write the pasted image.")
@click.option("--save-mask", type=click.Path(path_type=Path), help="Write the object's mask.")
@reports_errors
def compose(
    cutout: Path,
    background: Path,
    output: Path,
    weights: Path | None,
    device: str,
    backend: str | None,
    onnx_file: Path | None,
    at: str | None,
    scale: float,
    save_composite: Path | None,
    save_mask: Path | None,
    **given: Any,
) -> None:
    """Paste the cut-out OBJECT (an RGBA PNG: its alpha is the mask, soft edges kept) onto
    BACKGROUND and harmonize it, with the options of harmonize."""
    from ..compose import compose as run
    from ..images import encode_image, mask_picture, read_image, verify_image

    labeler = given.pop("labeler")
    options = HarmonizeOptions.take(given)
    for label in options.labels:
        check_label(label)
    for path in (cutout, background, labeler):
        _existing(path, "file")
    position = _position(at)
    more = tuple(p for p in (save_composite, save_mask) if p is not None)
    _check_targets(output, (cutout, background), options, more)
    picture = read_image(background, options.max_pixels)  # a Picture: results come as Pictures
    session = harmonizer_for(weights, device, backend, onnx_file, labeler)
    result = run(cutout, picture, at=position, scale=scale, model=session,
                 strength=options.strength, label=list(options.labels) or None,
                 max_pixels=options.max_pixels)  # fmt: skip
    _report_guesses(result.objects)
    files = _result_files(background, result.composite, result.image, [result.mask],
                          result.objects, output, session, options)  # fmt: skip
    if save_composite is not None:
        data = encode_image(save_composite, result.composite, options.quality)
        check = verify_image(result.mask.shape)
        files.append((save_composite, data, "the pasted composite", check))
    if save_mask is not None:
        data = encode_image(save_mask, mask_picture(result.mask))
        files.append((save_mask, data, "the object's mask", verify_image(result.mask.shape)))
    for path, what in _write(files):
        click.echo(f"wrote {path} ({what})", err=True)
