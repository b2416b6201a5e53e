"""``s2crnet export-onnx``."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    InputError,
    check_output,
    harmonizer_for,
    labeler_option,
    output_option,
    reports_errors,
    weights_option,
)
from .group import cli


@cli.command("export-onnx")
@weights_option
@output_option("The .onnx file to write.")
@click.option(
    "--check-image",
    nargs=2,
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="COMPOSITE MASK",
    help="Real inputs for the check (default: scikit-image's sample photos).",
)
@labeler_option
@reports_errors
def export_onnx(
    weights: Path | None,
    output: Path,
    check_image: tuple[tuple[Path, Path], ...],
    labeler: Path | None,
) -> None:
    """Export the curve predictor to ONNX, run the ONNX checker, and verify ONNX Runtime
    against PyTorch on random and real inputs (curve parameters within 1e-4).

    A semantic model's object-class guesser (for --label auto; --labeler, or the one
    shipped) is exported beside it as OUTPUT's NAME.labeler.onnx, verified the same way
    (probabilities within 1e-5); the two files are written together or not at all.
    """
    from ..loading import require_torch

    require_torch("export-onnx")
    from ..atomic import OutputSet
    from ..export.onnx import export_labeler_onnx, sample_inputs, verify_labeler_onnx, verify_onnx
    from ..export.onnx import export_onnx as run_export
    from ..runtime import labeler_path

    check_output(output, (weights,) if weights is not None else (), suffixes=(".onnx",))
    if labeler is not None and not labeler.is_file():
        raise InputError(f"{labeler}: no such labeler file")
    session = harmonizer_for(weights, "cpu", "torch", None, labeler)
    model = session.model
    inputs = sample_inputs(session.thumbnail, [tuple(map(str, p)) for p in check_image])
    guesser = session.labeler if session.semantic else None
    sibling = labeler_path(output)
    worst: list[float] = []
    try:  # each verified before it takes its name: a failed check writes nothing
        with OutputSet() as outputs:
            run_export(
                model,
                output,
                check=lambda path: worst.append(verify_onnx(model, path, inputs)),
                outputs=outputs,
            )
            if guesser is not None:
                check = lambda path: worst.append(verify_labeler_onnx(guesser, path))  # noqa: E731
                export_labeler_onnx(guesser, sibling, check=check, outputs=outputs)
    except AssertionError as exc:
        raise InputError(f"{output}: {str(exc).split(': ', 1)[-1]}") from None
    click.echo(
        f"wrote {output}: ONNX checker passed; ONNX Runtime matches PyTorch within "
        f"{worst[0]:.1e} on {2 + len(inputs)} input batches",
        err=True,
    )
    if guesser is not None:
        click.echo(
            f"wrote {sibling}: the object-class guesser for --label auto; ONNX Runtime "
            f"matches PyTorch within {worst[1]:.1e}",
            err=True,
        )
