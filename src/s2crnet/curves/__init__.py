"""Colour curves, the central value of s2crnet.

* :mod:`~s2crnet.curves.op` - paper Eq. 1 as a differentiable PyTorch op
  (:func:`render_curves`), used by the network and training;
* :mod:`~s2crnet.curves.value` - :class:`Curves`, the result type (numbers, strength,
  lookup tables; numpy only);
* :mod:`~s2crnet.curves.files` - the JSON curve file and ``.cube`` LUTs.

Names are imported on first use: ``from s2crnet.curves import Curves`` does not import
PyTorch.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "render_curves": "op",
    "render_curves_naive": "op",
    "SUM_EPS": "value",
    "Curves": "value",
    "curve_knots": "value",
    "curve_lut": "value",
    "evaluate_curves": "value",
    "read_curve_file": "value",
    "load_curve_file": "value",
    "curves_from_json": "value",
    "curves_to_json": "files",
    "curves_to_cube": "files",
    "parse_curve_file": "files",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
