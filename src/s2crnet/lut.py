"""Curves as numbers, without PyTorch: the :class:`Curves` result, lookup tables, and the
exact evaluation of paper Eq. 1 on numpy arrays.

Eq. 1 is piecewise linear: between the knots ``k / L`` it interpolates linearly between
``C_k / S`` (``C_k`` the sum of the first ``k`` weights, ``S`` all of them), and it is
flat outside ``[0, 1]``. That is exactly ``np.interp`` over those knots, which clamps
to the end values as Eq. 1 does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SUM_EPS", "Curves", "curve_knots", "curve_lut", "evaluate_curves"]

#: Added to the parameter sum, exactly as the released code does.
SUM_EPS = 1e-30


def curve_knots(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots of the curves of one stage.

    Args:
        params: ``(C, L)`` piece weights.

    Returns:
        ``(x, y)``: ``x`` of shape ``(L + 1,)`` (``k / L``) and ``y`` of shape
        ``(C, L + 1)`` (``C_k / (S + 1e-30)``), in float64.

    >>> x, y = curve_knots(np.array([[1.0, 3.0]]))
    >>> x.tolist(), y.tolist()
    ([0.0, 0.5, 1.0], [[0.0, 0.25, 1.0]])
    """
    p = np.asarray(params, dtype=np.float64)
    n_pieces = p.shape[-1]
    x = np.arange(n_pieces + 1, dtype=np.float64) / n_pieces
    cumulative = np.concatenate([np.zeros((p.shape[0], 1)), np.cumsum(p, axis=-1)], axis=-1)
    return x, cumulative / (p.sum(axis=-1, keepdims=True) + SUM_EPS)


def evaluate_curves(values: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Apply a cascade of curves to channel-last values (exact, unclamped).

    Args:
        values: ``(..., C)`` array, nominally in [0, 1] (outside maps to 0 or 1).
        params: ``(stages, C, L)``; stage ``n`` is applied to stage ``n - 1``'s output.

    Returns:
        float64 array of the shape of ``values``.
    """
    params = np.asarray(params)
    if params.ndim != 3 or values.shape[-1] != params.shape[1]:
        raise ValueError(f"values {values.shape} and params {params.shape} do not fit")
    out = values
    for stage in params:
        x, y = curve_knots(stage)
        out = np.stack([np.interp(out[..., c], x, y[c]) for c in range(y.shape[0])], axis=-1)
    return out


def curve_lut(params: np.ndarray, levels: int = 256) -> np.ndarray:
    """Bake a cascade of curves into one lookup table per channel.

    Args:
        params: ``(stages, C, L)`` piece weights.
        levels: input levels: 256 for 8-bit images, 65536 for 16-bit ones.

    Returns:
        ``(levels, C)`` uint8 (``levels <= 256``) or uint16 array mapping level ``v``
        (meaning ``v / (levels - 1)``) to the rounded, clamped output level; the stages are
        composed unrounded and rounded once.
    """
    params = np.asarray(params)
    if params.ndim != 3:
        raise ValueError(f"curve_lut expects params (stages, C, L), got {params.shape}")
    if not 2 <= levels <= 65536:
        raise ValueError(f"levels must be in [2, 65536], got {levels}")
    ramp = np.linspace(0.0, 1.0, levels)[:, None].repeat(params.shape[1], axis=1)  # (levels, C)
    y = np.round(np.clip(evaluate_curves(ramp, params), 0.0, 1.0) * (levels - 1))
    return np.ascontiguousarray(y.astype(np.uint8 if levels <= 256 else np.uint16))


@dataclass(frozen=True)
class Curves:
    """The curves predicted for one image: ``params`` has shape ``(stages, 3, L)``.

    ``params`` are the values that enter Eq. 1 (after the model's activation), in R, G, B
    order; stage ``n`` is applied to the output of stage ``n - 1``.
    """

    params: np.ndarray

    def __post_init__(self) -> None:
        p = np.asarray(self.params, dtype=np.float32)
        if p.ndim != 3 or p.shape[1] != 3:
            raise ValueError(f"Curves.params must have shape (stages, 3, L), got {p.shape}")
        object.__setattr__(self, "params", p)

    @classmethod
    def identity(cls, stages: int = 1, pieces: int = 64) -> Curves:
        """Curves that change nothing (equal weights)."""
        return cls(np.ones((stages, 3, pieces), np.float32))

    @property
    def stages(self) -> int:
        return self.params.shape[0]

    @property
    def pieces(self) -> int:
        return self.params.shape[2]

    def lut(self, levels: int = 256) -> np.ndarray:
        """The composed curve as a ``(levels, 3)`` lookup table (see :func:`curve_lut`)."""
        return curve_lut(self.params, levels)

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Exact curves on ``(..., 3)`` float values (float64 result, unclamped)."""
        return evaluate_curves(values, self.params)
