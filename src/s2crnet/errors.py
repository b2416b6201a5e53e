"""Every error class of s2crnet: each message names the file (or option) and the problem,
and the CLI prints it as one line."""

from __future__ import annotations

import errno as _errno
from pathlib import Path

__all__ = [
    "InputError",
    "MissingDependencyError",
    "NoDefaultModelError",
    "OutputError",
    "TrainingError",
    "WeightsError",
    "require",
]


class InputError(ValueError):
    """A user mistake with an input or output: the message names the file and the problem."""


class OutputError(InputError):
    """An output that could not be written (disk full, read-only folder, no permission).

    Attributes:
        path: the output that was being written (never a temporary file's name).
        errno: the operating system's error number, when there was one.
    """

    def __init__(self, message: str, path: Path | None = None, errno: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errno = errno

    @property
    def disk_full(self) -> bool:
        """Whether the disk (or the user's quota) is full: later writes would fail too."""
        return self.errno in (_errno.ENOSPC, _errno.EDQUOT)


class WeightsError(ValueError):
    """A weights file that cannot be used: wrong format, keys or shapes."""


class NoDefaultModelError(RuntimeError):
    """No weights were given and this installation ships no trained model."""


class TrainingError(RuntimeError):
    """A training run that cannot start or go on; the message says why and what to do."""


class MissingDependencyError(ImportError):
    """A feature needs a package that is not installed; the message says what to install."""


def require(module: str, feature: str, extra: str | None = None) -> None:
    """Import ``module`` or raise :class:`MissingDependencyError` saying how to get it.

    >>> require("json", "reading JSON")
    >>> try:
    ...     require("no_such_module_xyz", "flying", extra="wings")
    ... except MissingDependencyError as exc:
    ...     print(exc)
    flying needs the Python package no_such_module_xyz: pip install 's2crnet[wings]'
    """
    from importlib import import_module

    try:
        import_module(module)
    except ImportError:
        how = f"pip install 's2crnet[{extra}]'" if extra else f"pip install {module}"
        raise MissingDependencyError(
            f"{feature} needs the Python package {module}: {how}"
        ) from None
