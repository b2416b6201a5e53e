"""``s2crnet demo``."""

from __future__ import annotations

from pathlib import Path

import click

from ..demo import MAX_UPLOAD_MB
from .common import harmonizer_for, labeler_option, reports_errors, status, weights_option
from .group import cli


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True)
@weights_option
@labeler_option
@click.option(
    "--max-upload-mb",
    type=click.IntRange(min=1),
    default=MAX_UPLOAD_MB,
    show_default=True,
    help="The largest upload the page takes (MB); a request's files are removed 15 minutes "
    "after it, and all of them when the server stops.",
)
@reports_errors
def demo(
    host: str, port: int, weights: Path | None, labeler: Path | None, max_upload_mb: int
) -> None:
    """Harmonize in a browser: a Gradio page (pip install 's2crnet[demo]'), offline, on the
    shipped model unless --weights is given. Its endpoint "harmonize" serves
    gradio_client: (composite, mask, strength) -> image."""
    from ..errors import require

    require("gradio", "s2crnet demo", extra="demo")
    from ..demo import launch

    session = harmonizer_for(weights, "cpu", labeler=labeler)
    status(f"serving on http://{host}:{port} (Ctrl-C stops it)")
    launch(host, port, session, max_upload_mb=max_upload_mb)
