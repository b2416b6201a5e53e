"""The ``s2crnet`` command group; each command lives in its own module."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="s2crnet")
def cli() -> None:
    """Efficient, high-resolution image harmonization (S2CRNet)."""
