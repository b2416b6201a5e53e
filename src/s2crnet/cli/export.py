"""``s2crnet export-onnx``."""

from __future__ import annotations

from pathlib import Path

import click

from .common import UserError, load_model_for, reports_errors, same_file, weights_option
from .group import cli


@cli.command("export-onnx")
@weights_option
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
@reports_errors
def export_onnx(
    weights: Path | None, output: Path, check_image: tuple[tuple[Path, Path], ...]
) -> None:
    """Export the curve predictor to ONNX, run the ONNX checker, and verify ONNX Runtime
    against PyTorch on random and real inputs (curve parameters within 1e-4)."""
    from ..export.onnx import export_onnx as run_export
    from ..export.onnx import sample_inputs, verify_onnx

    if output.suffix.lower() != ".onnx":
        raise UserError(f"{output}: the output must be a .onnx file")
    if not output.parent.is_dir():
        raise UserError(f"{output}: output folder {output.parent} does not exist")
    if weights is not None and same_file(output, weights):
        raise UserError(f"{output}: output would overwrite the input {weights}")
    model = load_model_for(weights, "cpu")
    inputs = sample_inputs(model.config.thumbnail, [tuple(map(str, p)) for p in check_image])
    worst: list[float] = []
    try:  # verified before it takes the name: a failed check writes nothing
        run_export(model, output, check=lambda path: worst.append(verify_onnx(model, path, inputs)))
    except AssertionError as exc:
        raise UserError(f"{output}: {str(exc).split(': ', 1)[-1]}") from None
    click.echo(
        f"wrote {output}: ONNX checker passed; ONNX Runtime matches PyTorch within "
        f"{worst[0]:.1e} on {2 + len(inputs)} input batches",
        err=True,
    )
