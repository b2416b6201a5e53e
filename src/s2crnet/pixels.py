"""Pixel values between their storage types: uint8, uint16 and float in [0, 1].

The one place where 255 and 65535 are written: every other module converts through
these functions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["from_unit", "to_uint8", "to_unit", "unit_scale"]


def unit_scale(dtype: np.dtype) -> float:
    """The value that means 1.0 for ``dtype``: 255 (uint8), 65535 (uint16), else 1.

    >>> unit_scale(np.dtype(np.uint16))
    65535.0
    """
    return {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(dtype), 1.0)


def to_unit(array: np.ndarray) -> np.ndarray:
    """uint8, uint16 or float values -> float32 in [0, 1] (floats are not clipped).

    >>> to_unit(np.array([0, 51, 255], np.uint8)).tolist()
    [0.0, 0.20000000298023224, 1.0]
    """
    return array.astype(np.float32) / np.float32(unit_scale(array.dtype))


def from_unit(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float values in [0, 1] -> ``dtype``: clipped and rounded for uint8 and uint16,
    cast for floats.

    >>> from_unit(np.array([-0.1, 0.5, 1.2]), np.uint8).tolist()
    [0, 128, 255]
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "u":
        scale = unit_scale(dtype)
        return np.round(np.clip(values, 0.0, 1.0) * scale).astype(dtype)
    return values.astype(dtype)


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Any image values as uint8: uint8 passes through, uint16 is rounded exactly
    (``(v * 255 + 32767) // 65535``), floats in [0, 1] are clipped and rounded.

    >>> to_uint8(np.array([0, 32896, 65535], np.uint16)).tolist()
    [0, 128, 255]
    """
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return from_unit(array, np.uint8)
