"""The ``s2crnet`` command: a thin layer over the library.

A user mistake prints one line (``s2crnet: error: FILE: problem``) and exits with 2;
nothing is written then, outputs appear atomically, and inputs are never overwritten.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A problem to report in one line, without a traceback."""


def _fail(message: str) -> None:
    click.echo(f"s2crnet: error: {message}", err=True)
    sys.exit(EXIT_USER_ERROR)


def _user_errors() -> tuple[type[BaseException], ...]:
    from .api import NoDefaultModelError
    from .errors import InputError, WeightsError

    return (UserError, InputError, WeightsError, NoDefaultModelError, FileNotFoundError)


def _reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's user-facing errors into one line on stderr and exit code 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except _user_errors() as exc:
            _fail(str(exc))
        except PermissionError as exc:
            _fail(f"{exc.filename}: permission denied")

    return wrapper


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from tqdm import tqdm

    tqdm.write(f"s2crnet: warning: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- helpers
def _load_model(
    weights: Path | None, device: str, backend: str = "torch", onnx_file: Path | None = None
):
    """The model for a command: PyTorch weights, an ONNX file, or the default."""
    if backend == "onnxruntime" or onnx_file is not None:
        if backend == "torch":
            raise UserError("--onnx runs on --backend onnxruntime, not torch")
        if onnx_file is None:
            raise UserError("--backend onnxruntime needs --onnx MODEL.onnx (s2crnet export-onnx)")
        if weights is not None:
            raise UserError("give --weights (PyTorch) or --onnx (ONNX Runtime), not both")
        from .runtime import OnnxModel

        providers = None
        if device == "cuda":
            import onnxruntime

            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise UserError(
                    "--device cuda: this onnxruntime has no CUDA provider (install onnxruntime-gpu)"
                )
            providers = ["CUDAExecutionProvider"]
        return OnnxModel(onnx_file, providers=providers)
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: CUDA is not available on this machine")
    if weights is None:
        from .api import default_model

        return default_model(device)
    from .weights import load_model

    return load_model(weights, device=device)


def _check_label(label: str | None) -> None:
    if label is not None:
        from .labels import label_index

        try:
            label_index(label)
        except ValueError as exc:
            raise UserError(f"--label: {exc}") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _check_output(output: Path, inputs: tuple[Path, ...]) -> None:
    from .images import check_output_path

    for path in inputs:
        if _same_file(output, path):
            raise UserError(f"{output}: output would overwrite the input {path}")
    if output.is_dir():
        raise UserError(f"{output}: is a folder; give an output file name")
    check_output_path(output)


def _harmonize_one(composite: Path, mask: Path, output: Path, model, label, quality: int) -> None:
    from .api import harmonize_picture, load_inputs
    from .images import write_image

    picture, values = load_inputs(composite, mask)
    result, _, _ = harmonize_picture(picture, values, model, label, str(mask))
    write_image(output, result, quality=quality)


def _harmonize_folder(composites: Path, masks: Path, out_dir: Path, model, label, quality) -> None:
    from tqdm import tqdm

    from .batch import pair_images

    if not masks.is_dir():
        raise UserError(f"{masks}: COMPOSITE is a folder, so MASK must be a folder too")
    for folder in (composites, masks):
        if _same_file(out_dir, folder):
            raise UserError(f"{out_dir}: the output folder must differ from the input folders")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: is a file; give an output folder for a folder of composites")
    pairs = pair_images(composites, masks)
    if not pairs:
        raise UserError(f"{composites}: no images found")
    out_dir.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for composite, mask in tqdm(pairs, desc="harmonizing", unit="image", file=sys.stderr):
        try:
            if mask is None:
                raise UserError(f"{composite}: no mask for it in {masks}")
            output = out_dir / composite.name
            _check_output(output, (composite, mask))
            _harmonize_one(composite, mask, output, model, label, quality)
        except _user_errors() as exc:
            failures.append(str(exc))
            tqdm.write(f"s2crnet: error: {exc}", file=sys.stderr)
    done = len(pairs) - len(failures)
    click.echo(f"harmonized {done} of {len(pairs)} images into {out_dir}", err=True)
    if failures:
        click.echo(f"{len(failures)} failed:", err=True)
        for line in failures:
            click.echo(f"  {line}", err=True)
        sys.exit(EXIT_USER_ERROR)


# --------------------------------------------------------------------------- commands
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="s2crnet")
def cli() -> None:
    """Efficient, high-resolution image harmonization (S2CRNet)."""


@cli.command()
@click.argument("composite", type=click.Path(path_type=Path))
@click.argument("mask", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Output file (or folder, when COMPOSITE is a folder).",
)
@click.option(
    "--weights",
    type=click.Path(path_type=Path),
    help="Model weights: our .safetensors or the authors' S2CRNet_pretrained.pth.",
)
@click.option(
    "--label",
    help="Object class for semantic models: person, animal, food, "
    "vehicle, other (or 0-4). Default: other.",
)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option(
    "--backend",
    type=click.Choice(["torch", "onnxruntime"]),
    help="torch (default), or onnxruntime: an exported model (--onnx), no PyTorch needed.",
)
@click.option(
    "--onnx",
    "onnx_file",
    type=click.Path(path_type=Path),
    help="The exported model (s2crnet export-onnx) for --backend onnxruntime.",
)
@click.option(
    "--quality",
    type=click.IntRange(1, 100),
    default=95,
    show_default=True,
    help="JPEG/WebP quality of the output.",
)
@_reports_errors
def harmonize(
    composite: Path,
    mask: Path,
    output: Path,
    weights: Path | None,
    label: str | None,
    device: str,
    backend: str | None,
    onnx_file: Path | None,
    quality: int,
) -> None:
    """Harmonize the object marked by MASK in COMPOSITE and write OUTPUT.

    With folders, every composite in COMPOSITE is paired with the mask of the same name
    in MASK (or by the iHarmony4 rule, a0041_1_5.jpg -> a0041_1.png) and written to the
    folder OUTPUT under its own name; failures are listed at the end.
    """
    _check_label(label)
    if not composite.exists():
        raise UserError(f"{composite}: no such file or folder")
    if not mask.exists():
        raise UserError(f"{mask}: no such file or folder")
    if composite.is_dir():
        model = _load_model(weights, device, backend, onnx_file)
        _harmonize_folder(composite, mask, output, model, label, quality)
        return
    if mask.is_dir():
        raise UserError(f"{mask}: is a folder, but COMPOSITE is a file")
    _check_output(output, (composite, mask))
    model = _load_model(weights, device, backend, onnx_file)
    _harmonize_one(composite, mask, output, model, label, quality)
    click.echo(f"wrote {output}", err=True)


# --------------------------------------------------------------------------- train
def _config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One flag per TrainConfig field (``--field-name``); unset flags stay None."""
    import dataclasses
    import typing

    from .training.config import TrainConfig, field_base_types

    bases = field_base_types()
    for field in reversed(dataclasses.fields(TrainConfig)):
        flag = "--" + field.name.replace("_", "-")
        base = bases[field.name]
        default = field.default if field.default is not dataclasses.MISSING else "see docs"
        doc = f"(config field {field.name}; default {default!r})"
        if base is bool:
            option = click.option(f"{flag}/--no-{flag[2:]}", field.name, default=None, help=doc)
        elif typing.get_origin(base) is list:
            option = click.option(
                flag,
                field.name,
                multiple=True,
                default=None,
                help=f"comma-separated or repeated {doc}",
            )
        else:
            option = click.option(flag, field.name, type=base, default=None, help=doc)
        command = option(command)
    return command


@cli.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="YAML file of config fields; flags override it.",
)
@click.option("--resume", is_flag=True, help="Continue the run in --out up to --steps.")
@_config_options
@_reports_errors
def train(config_file: Path | None, resume: bool, **flags: Any) -> None:
    """Train S2CRNet on photos with masks (--photos) or iHarmony4 (--iharmony4).

    Writes last.safetensors, best.safetensors (with --eval-data), state.pt, log.csv and
    config.yaml to --out. Data-parallel: torchrun --nproc_per_node=N -m s2crnet train ...
    """
    from .training import TrainingError, load_yaml, merge
    from .training import train as run_training

    flags = {k: (list(v) or None) if isinstance(v, tuple) else v for k, v in flags.items()}
    try:
        layers = []
        if config_file is not None:
            if not config_file.is_file():
                raise UserError(f"{config_file}: no such config file")
            layers.append(load_yaml(config_file))
        out = Path(flags.get("out") or (layers[0].get("out") if layers else None) or "runs/s2crnet")
        if resume and (out / "config.yaml").is_file():
            layers.insert(0, load_yaml(out / "config.yaml"))
        config = merge(*layers, flags)
        config.validate()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        out = run_training(config, resume=resume)
    except TrainingError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"done: weights in {out / 'last.safetensors'}", err=True)


# --------------------------------------------------------------------------- evaluate
@cli.command()
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="iHarmony4-layout root (subset folders with composite_images/ etc.).",
)
@click.option("--subsets", multiple=True, help="Subsets to use (repeat or comma-separate).")
@click.option("--split", default="test", show_default=True, help="Which lists: test or train.")
@click.option(
    "--method",
    type=click.Choice(["model", "identity", "reinhard"]),
    default="model",
    show_default=True,
)
@click.option("--weights", type=click.Path(path_type=Path), help="Weights for --method model.")
@click.option("--protocol", type=click.Choice(["256", "full"]), default="256", show_default=True)
@click.option("--labels", type=click.Path(path_type=Path), help="Semantic label list: NAME LABEL.")
@click.option("--json", "json_file", type=click.Path(path_type=Path), help="Write results here.")
@click.option("--save-images", type=click.Path(path_type=Path), help="Save results (PNG) here.")
@click.option("--lpips", is_flag=True, help="Also compute LPIPS (AlexNet).")
@click.option(
    "--lpips-weights",
    type=click.Path(path_type=Path),
    help="torchvision-format AlexNet weights for LPIPS (default: torchvision's cache).",
)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@_reports_errors
def evaluate(
    data: Path,
    subsets: tuple[str, ...],
    split: str,
    method: str,
    weights: Path | None,
    protocol: str,
    labels: Path | None,
    json_file: Path | None,
    save_images: Path | None,
    lpips: bool,
    lpips_weights: Path | None,
    device: str,
) -> None:
    """Measure a method on an iHarmony4-layout folder: MSE, fMSE, PSNR, fPSNR, SSIM (LPIPS)."""
    from .evaluation import evaluate as run_evaluation
    from .evaluation import format_table, write_json

    model = None
    if method == "model":
        if weights is None:
            raise UserError("--method model needs --weights PATH")
        model = _load_model(weights, device)
    elif weights is not None:
        raise UserError(f"--weights is only for --method model, not {method}")
    if json_file is not None:
        check_json = json_file.parent if str(json_file.parent) else Path(".")
        if not check_json.is_dir():
            raise UserError(f"{json_file}: output folder {check_json} does not exist")
    metric = None
    if lpips or lpips_weights:
        from .metrics import LPIPS

        try:
            metric = LPIPS(lpips_weights, device)
        except Exception as exc:  # the lpips package or its backbone weights unavailable
            raise UserError(f"LPIPS unavailable ({exc}); pass --lpips-weights PATH") from None
    subset_list = [s for item in subsets for s in item.split(",") if s] or None
    try:
        results = run_evaluation(
            data, method, model, protocol, subset_list, split, labels, metric, save_images
        )
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None
    click.echo(format_table(results))
    if json_file is not None:
        write_json(results, json_file)
        click.echo(f"wrote {json_file}", err=True)


# --------------------------------------------------------------------------- export
@cli.command("export-onnx")
@click.option(
    "--weights",
    required=True,
    type=click.Path(path_type=Path),
    help="Weights to export (our .safetensors or the released .pth).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="The .onnx file to write.",
)
@click.option(
    "--check-image",
    nargs=2,
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="COMPOSITE MASK",
    help="Real inputs for the check (default: scikit-image's sample photos).",
)
@_reports_errors
def export_onnx(weights: Path, output: Path, check_image: tuple[tuple[Path, Path], ...]) -> None:
    """Export the curve predictor to ONNX, run the ONNX checker, and verify ONNX Runtime
    against PyTorch on random and real inputs (curve parameters within 1e-4)."""
    from .export.onnx import export_onnx as run_export
    from .export.onnx import sample_inputs, verify_onnx

    if output.suffix.lower() != ".onnx":
        raise UserError(f"{output}: the output must be a .onnx file")
    if not output.parent.is_dir():
        raise UserError(f"{output}: output folder {output.parent} does not exist")
    if _same_file(output, weights):
        raise UserError(f"{output}: output would overwrite the input {weights}")
    model = _load_model(weights, "cpu")
    inputs = sample_inputs(model.config.thumbnail, [tuple(map(str, p)) for p in check_image])
    run_export(model, output)
    try:
        worst = verify_onnx(model, output, inputs)
    except AssertionError as exc:
        output.unlink(missing_ok=True)
        raise UserError(str(exc)) from None
    click.echo(
        f"wrote {output}: ONNX checker passed; ONNX Runtime matches PyTorch within "
        f"{worst:.1e} on {2 + len(inputs)} input batches",
        err=True,
    )


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    cli.main(args=argv, prog_name="s2crnet")


if __name__ == "__main__":  # pragma: no cover
    main()
