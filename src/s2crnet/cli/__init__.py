"""The ``s2crnet`` command: a thin layer over the library.

A user mistake prints one line (``s2crnet: error: FILE: problem``) and exits with 2;
nothing is written then, outputs appear atomically, and inputs are never overwritten.
Commands: ``harmonize``, ``apply-curves``, ``compose`` (harmonize.py), ``harmonize-video``,
``harmonize-batch``, ``demo``, ``train``,
``train-labeler``, ``evaluate``, ``export-onnx``; heavy libraries are imported inside the commands.
"""

from __future__ import annotations

import sys
import warnings

from . import batch, demo, evaluate, export, harmonize, train, video  # noqa: F401  (register)
from .common import show_warning
from .group import cli

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point. A polite kill (SIGTERM) unwinds like Ctrl-C, so an
    output being written removes its temporary file."""
    import signal

    warnings.showwarning = show_warning
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    cli.main(args=argv, prog_name="s2crnet")
