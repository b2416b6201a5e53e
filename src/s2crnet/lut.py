"""Deprecated alias of :mod:`s2crnet.curves`, kept for one release (0.2 removes it)."""

import warnings

from .curves.value import SUM_EPS, Curves, curve_knots, curve_lut, evaluate_curves

__all__ = ["SUM_EPS", "Curves", "curve_knots", "curve_lut", "evaluate_curves"]

warnings.warn(
    "s2crnet.lut is deprecated: import from s2crnet.curves",
    DeprecationWarning,
    stacklevel=2,
)
