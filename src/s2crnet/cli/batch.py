"""``s2crnet harmonize-batch``: a thin layer over :func:`s2crnet.batch.harmonize_manifest`."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    InputError,
    backend_option,
    harmonizer_for,
    max_pixels_option,
    reports_errors,
    status,
    strength_option,
    weights_option,
)
from .group import cli


@cli.command("harmonize-batch")
@click.argument("manifest")
@click.argument("masks", required=False)
@click.option(
    "-o",
    "--output",
    required=True,
    help="Folder or URI (s3://, gs://, file://) for the images and results.parquet.",
)
@weights_option
@backend_option
@strength_option("For rows without their own strength column (default 1).", default=None)
@click.option("--address", default=None,
              help="Join a running Ray cluster: auto, or ray://HOST:10001 (default: start "
              "Ray on this machine).")  # fmt: skip
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Ray actors, each holding one model on one CPU.")  # fmt: skip
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True,
              help="Rows per call of a worker.")  # fmt: skip
@click.option("--resume", is_flag=True,
              help="Skip rows whose output exists and decodes (an earlier run's).")  # fmt: skip
@max_pixels_option
@reports_errors
def harmonize_batch(
    manifest: str,
    masks: str | None,
    output: str,
    weights: Path | None,
    backend: str,
    strength: float | None,
    address: str | None,
    workers: int,
    batch_size: int,
    resume: bool,
    max_pixels: int | None,
) -> None:
    """Harmonize every row of MANIFEST on Ray and write the images and OUT/results.parquet.

    MANIFEST is a CSV or Parquet table with the columns composite and mask (optional:
    label, strength, output), local or a URI; or a folder of composites, with MASKS the
    folder of their masks (paired as harmonize pairs them). A row that fails is an error
    row in the results and the job goes on; the exit code is then 2.
    """
    from ..errors import require

    require("ray", "harmonize-batch", extra="ray")
    from ..batch import harmonize_manifest

    session = harmonizer_for(weights, "cpu", backend)  # a bad model fails here, not in workers
    summary = harmonize_manifest(manifest, output, masks=masks, address=address,
                                 workers=workers, batch_size=batch_size, weights=weights,
                                 backend=session.backend, strength=strength, resume=resume,
                                 max_pixels=max_pixels)  # fmt: skip
    done = summary.rows - summary.failed
    text = f"harmonized {done} of {summary.rows} rows"
    if summary.resumed:
        text += f" ({summary.resumed} already done)"
    status(f"{text}; results in {summary.results}")
    if summary.failed:
        for line in summary.errors:
            status(f"error: {line}")
        raise InputError(f"{summary.failed} of {summary.rows} rows failed; their messages are "
                         f"in {summary.results} (status)")  # fmt: skip
