"""The errors a user can cause: each message names the file and the problem."""

from __future__ import annotations

__all__ = ["InputError", "WeightsError"]


class InputError(ValueError):
    """A user mistake with an input or output: the message names the file and the problem."""


class WeightsError(ValueError):
    """A weights file that cannot be used: wrong format, keys or shapes."""
