"""What every command shares: one-line user errors, loading models, output checks."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

EXIT_USER_ERROR = 2


#: The ``--device`` option every command that runs a model takes.
device_option = click.option(
    "--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True
)


class UserError(Exception):
    """A problem to report in one line, without a traceback."""


def fail(message: str) -> None:
    click.echo(f"s2crnet: error: {message}", err=True)
    sys.exit(EXIT_USER_ERROR)


def user_errors() -> tuple[type[BaseException], ...]:
    from ..api import NoDefaultModelError
    from ..errors import InputError, WeightsError

    return (UserError, InputError, WeightsError, NoDefaultModelError, FileNotFoundError)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's user-facing errors into one line on stderr and exit code 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except user_errors() as exc:
            fail(str(exc))
        except PermissionError as exc:
            fail(f"{exc.filename}: permission denied")

    return wrapper


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from tqdm import tqdm

    tqdm.write(f"s2crnet: warning: {message}", file=sys.stderr)


def load_model_for(
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
        from ..runtime import OnnxModel

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
        from ..api import default_model

        return default_model(device)
    from ..weights import load_model

    return load_model(weights, device=device)


def check_label(label: str | None) -> None:
    if label is not None:
        from ..labels import label_index

        try:
            label_index(label)
        except ValueError as exc:
            raise UserError(f"--label: {exc}") from None


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output(output: Path, inputs: tuple[Path, ...]) -> None:
    from ..images import check_output_path

    for path in inputs:
        if same_file(output, path):
            raise UserError(f"{output}: output would overwrite the input {path}")
    if output.is_dir():
        raise UserError(f"{output}: is a folder; give an output file name")
    check_output_path(output)
