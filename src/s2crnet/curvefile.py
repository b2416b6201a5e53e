"""Deprecated alias of :mod:`s2crnet.curves`, kept for one release (0.2 removes it)."""

import warnings

from .curves.files import FORMAT, VERSION, curves_to_cube, curves_to_json
from .curves.value import curves_from_json, read_curve_file

__all__ = [
    "FORMAT",
    "VERSION",
    "curves_from_json",
    "curves_to_cube",
    "curves_to_json",
    "read_curve_file",
]

warnings.warn(
    "s2crnet.curvefile is deprecated: import from s2crnet.curves",
    DeprecationWarning,
    stacklevel=2,
)
