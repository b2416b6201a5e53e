"""What every command shares: the shared options, one-line user errors, loading models,
and the one output check."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from ..errors import InputError

EXIT_USER_ERROR = 2


#: The ``--device`` option every command that runs a model takes.
device_option = click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Where the network runs.",
)


class FiniteFloat(click.FloatRange):
    """A float range that also refuses ``nan`` and ``inf`` (click's accepts them)."""

    name = "finite float"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


#: ``--strength``: any finite number >= 0.
def _strength_type() -> FiniteFloat:
    from ..strength import MAX_STRENGTH

    return FiniteFloat(min=0, max=MAX_STRENGTH)


#: ``--strength``: a finite number in [0, MAX_STRENGTH].
STRENGTH = _strength_type()


def fail(message: str) -> None:
    click.echo(f"s2crnet: error: {message}", err=True)
    sys.exit(EXIT_USER_ERROR)


def user_errors() -> tuple[type[BaseException], ...]:
    """What a user (or the machine: a full disk) can cause; everything else is a bug."""
    from ..errors import MissingDependencyError, NoDefaultModelError, TrainingError, WeightsError

    return (
        InputError,  # OutputError too
        WeightsError,
        TrainingError,
        NoDefaultModelError,
        MissingDependencyError,
        FileNotFoundError,
    )


def os_error_line(exc: OSError) -> str:
    """One line for an ``OSError`` that no layer below turned into a message."""
    from ..atomic import describe_os_error

    where = f"{exc.filename}: " if exc.filename is not None else ""
    return where + describe_os_error(exc)


def error_line(exc: BaseException) -> str:
    """One line for a user-facing error: its message, or, for a file that Python itself
    did not find (``[Errno 2] No such file ...``), ``NAME: no such file or folder``."""
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        return f"{exc.filename}: no such file or folder"
    return str(exc)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's user-facing errors and the machine's faults (``OSError``: a
    full disk, a read-only folder) into one line on stderr and exit code 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except user_errors() as exc:
            fail(error_line(exc))
        except OSError as exc:
            fail(os_error_line(exc))

    return wrapper


def status(message: str) -> None:
    """A progress line on stderr (the output on stdout stays clean)."""
    click.echo(f"s2crnet: {message}", err=True)


def output_option(help: str, required: bool = True) -> Callable[..., Any]:
    """``-o/--output`` for every command that writes one."""
    return click.option(
        "-o", "--output", required=required, type=click.Path(path_type=Path), help=help
    )


def strength_option(help: str, default: float | None = 1.0) -> Callable[..., Any]:
    """``--strength`` (:data:`STRENGTH`: a finite number in [0, 4]) for every command that
    applies curves."""
    return click.option(
        "--strength", type=STRENGTH, default=default, show_default=default is not None, help=help
    )


#: ``--weights`` for every command that runs a model; without it, the shipped model.
weights_option = click.option(
    "--weights",
    type=click.Path(path_type=Path),
    help="Model weights: our .safetensors or the authors' S2CRNet_pretrained.pth (PyTorch), "
    "or an exported .onnx (default: the model shipped with the package).",
)


#: ``--backend`` for every command that runs a model.
backend_option = click.option(
    "--backend",
    type=click.Choice(["auto", "torch", "onnxruntime"]),
    default="auto",
    show_default=True,
    help="auto: ONNX Runtime where the model exists as ONNX (the shipped one, an .onnx) and "
    "PyTorch is not asked for (--device cuda); torch: PyTorch (pip install 's2crnet[torch]').",
)


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--weights``, ``--device``, ``--backend`` and ``--onnx``: which model runs where."""
    for option in reversed(
        (
            weights_option,
            device_option,
            backend_option,
            click.option(
                "--onnx",
                "onnx_file",
                type=click.Path(path_type=Path),
                help="An exported model (s2crnet export-onnx) to run on ONNX Runtime.",
            ),
        )
    ):
        command = option(command)
    return command


#: ``--labeler`` for every command that may guess an object's class.
labeler_option = click.option(
    "--labeler",
    type=click.Path(path_type=Path),
    help="The object-class guesser for --label auto: a .safetensors from train-labeler or "
    "a .labeler.onnx (default: the one shipped with the package, or the one exported "
    "beside --onnx).",
)

#: ``--max-pixels`` for every command that opens photos.
max_pixels_option = click.option(
    "--max-pixels",
    type=click.IntRange(min=0),
    default=None,
    help="Open images up to this many pixels (default 268435456, i.e. 16384x16384, a "
    "guard against decompression bombs; 0 = no limit).",
)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from tqdm import tqdm

    tqdm.write(f"s2crnet: warning: {message}", file=sys.stderr)


def harmonizer_for(
    weights: Path | None,
    device: str = "cpu",
    backend: str | None = "auto",
    onnx_file: Path | None = None,
    labeler: Path | None = None,
):
    """The command's :class:`~s2crnet.session.Harmonizer`: weights (PyTorch or ``.onnx``),
    an ``--onnx`` file, or the shipped model, on the backend chosen
    (:func:`s2crnet.loading.choose_backend`), loaded now (with a ``--labeler`` file), so
    that a bad file fails before any work. Says on stderr what is loading."""
    from ..session import Harmonizer

    if onnx_file is not None:
        if backend == "torch":
            raise InputError("--onnx runs on --backend onnxruntime, not torch")
        if weights is not None:
            raise InputError("give --weights or --onnx, not both")
        weights, backend = onnx_file, "onnxruntime"
    session = Harmonizer(weights, backend=backend, device=device, labeler=labeler)
    runtime = "ONNX Runtime" if session.backend == "onnxruntime" else "PyTorch"
    status(f"loading the model {weights or '(shipped default)'} ({runtime})...")
    if device == "cuda" and session.backend == "torch":
        from ..loading import require_torch

        require_torch("--device cuda")
        import torch

        if not torch.cuda.is_available():
            raise InputError("--device cuda: CUDA is not available on this machine")
    session.load()
    return session if labeler is None else session.load_labeler()


def check_label(label: str | None) -> None:
    from ..labels import is_auto

    if label is not None and not is_auto(label):
        from ..labels import label_index

        try:
            label_index(label)
        except ValueError as exc:
            raise InputError(f"--label: {exc}") from None


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output(
    output: Path,
    inputs: tuple[Path, ...],
    flag: str | None = None,
    suffixes: tuple[str, ...] | None = None,
) -> None:
    """The one check every command makes of an output file before any work: the right
    kind (``suffixes``; empty: any; None: an image :mod:`s2crnet.images` writes), its
    folder exists, and it is neither a folder nor one of the ``inputs``. ``flag`` names
    the option."""
    from ..atomic import check_output_folder
    from ..images import check_output_path

    if suffixes and output.suffix.lower() not in suffixes:
        kinds = " or ".join(suffixes)
        what = f"{flag} writes {kinds} files" if flag else f"the output must be a {kinds} file"
        raise InputError(f"{output}: {what}")
    for path in inputs:
        if same_file(output, path):
            by = f"{flag} " if flag else "output "
            raise InputError(f"{output}: {by}would overwrite the input {path}")
    if output.is_dir():
        raise InputError(f"{output}: is a folder; give an output file name")
    if suffixes is None:
        check_output_path(output)
    else:
        check_output_folder(output)


def check_distinct(targets: list[Path]) -> None:
    """No file is given for two outputs."""
    for i, path in enumerate(targets):
        for other in targets[:i]:
            if same_file(path, other):
                raise InputError(f"{path}: given for two outputs; each needs its own file")
