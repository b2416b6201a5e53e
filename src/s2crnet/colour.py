"""Colour statistics in CIELAB: the Reinhard transfer used by the baseline and the data.

Reinhard et al. (2001) match the per-channel mean and standard deviation of one region
to another's in Lab. The ``reinhard`` evaluation baseline moves the foreground's
statistics to the background's; the synthetic-composite generator moves an object's to
another photo's object (the way iHarmony4's HCOCO composites were made).
"""

from __future__ import annotations

import cv2
import numpy as np

from .pixels import from_unit, to_unit

__all__ = ["lab_stats", "lab_transfer", "reinhard"]

_MIN_STD = 1e-3


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    """float32 RGB in [0, 1] -> Lab (L in [0, 100], a and b about [-128, 127])."""
    return cv2.cvtColor(np.clip(rgb, 0, 1).astype(np.float32, copy=False), cv2.COLOR_RGB2Lab)


def lab_stats(rgb: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each Lab channel over ``mask > 0.5``.

    Args:
        rgb: ``(H, W, 3)`` float32 in [0, 1].
        mask: ``(H, W)`` float in [0, 1] (or bool).

    Returns:
        ``(mean, std)``, each of shape ``(3,)``; an empty region gives zeros and ones.
    """
    inside = np.asarray(mask) > 0.5
    if not inside.any():
        return np.zeros(3, np.float32), np.ones(3, np.float32)
    pixels = _to_lab(rgb)[inside]  # (N, 3)
    return pixels.mean(0), np.maximum(pixels.std(0), _MIN_STD)


def lab_transfer(
    rgb: np.ndarray,
    source: tuple[np.ndarray, np.ndarray],
    target: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Map Lab statistics ``source`` onto ``target``: ``(x - m_s) / s_s * s_t + m_t``.

    Args:
        rgb: ``(H, W, 3)`` float32 in [0, 1] (the whole image; blend by a mask afterwards).
        source, target: ``(mean, std)`` pairs from :func:`lab_stats`.

    Returns:
        ``(H, W, 3)`` float32 RGB clipped to [0, 1].
    """
    lab = _to_lab(rgb)
    lab = (lab - source[0]) * (target[1] / np.maximum(source[1], _MIN_STD)) + target[0]
    lab[..., 0] = np.clip(lab[..., 0], 0, 100)
    return np.clip(cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB), 0, 1)


def reinhard(composite: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The Reinhard baseline: give the foreground the background's Lab statistics.

    Args:
        composite: ``(H, W, 3)`` uint8.
        mask: ``(H, W)`` uint8, 255 = foreground (values between blend).

    Returns:
        ``(H, W, 3)`` uint8; pixels where the mask is 0 are unchanged.
    """
    rgb, alpha = to_unit(composite), to_unit(mask)
    moved = lab_transfer(rgb, lab_stats(rgb, alpha), lab_stats(rgb, 1 - alpha))
    out = rgb + (moved - rgb) * alpha[..., None]
    result = from_unit(out, np.uint8)
    result[mask == 0] = composite[mask == 0]
    return result
