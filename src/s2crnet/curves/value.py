"""Curves as numbers, without PyTorch: the :class:`Curves` result, lookup tables, and the
exact evaluation of paper Eq. 1 on numpy arrays.

Eq. 1 is piecewise linear: between the knots ``k / L`` it interpolates linearly between
``C_k / S`` (``C_k`` the sum of the first ``k`` weights, ``S`` all of them), and it is
flat outside ``[0, 1]``. That is exactly ``np.interp`` over those knots, which clamps
to the end values as Eq. 1 does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import files

__all__ = [
    "SUM_EPS",
    "Curves",
    "curve_knots",
    "curve_lut",
    "curves_from_json",
    "evaluate_curves",
    "load_curve_file",
    "read_curve_file",
]

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
    return _bake(lambda ramp: evaluate_curves(ramp, params), params.shape[1], levels)


def _bake(curve, channels: int, levels: int) -> np.ndarray:
    """Sample ``curve`` (``(levels, C)`` values -> same) at every level; round and clamp."""
    if not 2 <= levels <= 65536:
        raise ValueError(f"levels must be in [2, 65536], got {levels}")
    ramp = np.linspace(0.0, 1.0, levels)[:, None].repeat(channels, axis=1)  # (levels, C)
    y = np.round(np.clip(curve(ramp), 0.0, 1.0) * (levels - 1))
    return np.ascontiguousarray(y.astype(np.uint8 if levels <= 256 else np.uint16))


#: Samples of the composed curve used when it must be rebuilt (strength above 1).
DENSE = 4096


def _strengthen(grid: np.ndarray, y: np.ndarray, strength: float) -> np.ndarray:
    """Exaggerate a curve sampled at ``grid`` (``y``: ``(K, C)``): slopes to the power
    ``strength``, renormalised to end at ``y[-1]``. Monotone curves stay monotone, finite
    and end where they ended for every finite strength (as it grows, the curve tends to a
    step at its steepest part); a curve with falling parts is extrapolated linearly
    instead."""
    slopes = np.diff(y, axis=0)  # (K - 1, C)
    if (slopes < 0).any():
        return grid[:, None] + strength * (y - grid[:, None])
    # dividing by the steepest slope first keeps the powers in [0, 1]: for large
    # strengths they would otherwise all underflow to 0 and the curve collapse
    steepest = slopes.max(axis=0, keepdims=True)
    powered = (slopes / np.where(steepest > 0, steepest, 1)) ** strength
    total = powered.sum(axis=0, keepdims=True)
    scale = np.where(total > 0, (y[-1:] - y[:1]) / np.where(total > 0, total, 1), 0)
    return np.concatenate([y[:1], y[:1] + np.cumsum(powered, axis=0) * scale], axis=0)


@dataclass(frozen=True)
class Curves:
    """The colour curves applied to an object: R, G, B, each mapping [0, 1] to [0, 1].

    Attributes:
        params: ``(stages, 3, L)`` Eq. 1 weights as predicted (after the model's
            activation); stage ``n`` is applied to stage ``n - 1``'s output. None for a
            curve given by ``table`` alone (e.g. a hand-edited curve file).
        strength: 0 leaves the image unchanged, 1 is the curve as given, values between
            interpolate between the identity and the curve, values above 1 exaggerate it
            (each slope raised to the power ``strength``, so a monotone curve stays
            monotone).
        table: ``(K, 3)`` samples of the composed curve at ``x = i / (K - 1)``, values in
            [0, 1], used when ``params`` is None (linear in between).
    """

    params: np.ndarray | None
    strength: float = 1.0
    table: np.ndarray | None = None
    # lookup tables of up to 256 levels made so far (a video frame renders its object
    # and measures its flicker with the same one)
    _luts: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False,
                                         compare=False)  # fmt: skip

    def __post_init__(self) -> None:
        if self.params is None and self.table is None:
            raise ValueError("Curves needs params or a table")
        if self.params is not None:
            p = np.asarray(self.params, dtype=np.float32)
            if p.ndim != 3 or p.shape[1] != 3 or p.shape[2] < 1 or p.shape[0] < 1:
                raise ValueError(f"Curves.params must have shape (stages, 3, L), got {p.shape}")
            if not np.isfinite(p).all():
                raise ValueError("Curves.params must be finite")
            object.__setattr__(self, "params", p)
        if self.table is not None:
            t = np.asarray(self.table, dtype=np.float64)
            if t.ndim != 2 or t.shape[1] != 3 or t.shape[0] < 2 or not np.isfinite(t).all():
                raise ValueError(
                    f"Curves.table must be finite with shape (K >= 2, 3), got {t.shape}"
                )
            object.__setattr__(self, "table", t)
        strength = float(self.strength)
        if not np.isfinite(strength) or strength < 0:
            raise ValueError(f"strength must be a finite number >= 0, got {self.strength}")
        object.__setattr__(self, "strength", strength)

    @classmethod
    def identity(cls, stages: int = 1, pieces: int = 64) -> Curves:
        """Curves that change nothing (equal weights)."""
        return cls(np.ones((stages, 3, pieces), np.float32))

    @property
    def stages(self) -> int:
        return 0 if self.params is None else self.params.shape[0]

    @property
    def pieces(self) -> int:
        return 0 if self.params is None else self.params.shape[2]

    def with_strength(self, strength: float) -> Curves:
        """The same curves at another strength."""
        return Curves(self.params, strength, self.table)

    def _base(self, values: np.ndarray) -> np.ndarray:
        """The curve at strength 1."""
        if self.params is not None:
            return evaluate_curves(values, self.params)
        grid = np.linspace(0.0, 1.0, self.table.shape[0])
        return np.stack(
            [np.interp(values[..., c], grid, self.table[:, c]) for c in range(3)], axis=-1
        )

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The curve (at its strength) on ``(..., 3)`` float values; float64, unclamped."""
        if self.strength == 1.0:
            return self._base(values)
        if self.strength <= 1.0:
            identity = np.clip(values, 0.0, 1.0)
            return identity + self.strength * (self._base(values) - identity)
        grid = np.linspace(0.0, 1.0, DENSE + 1)
        dense = _strengthen(grid, self._base(grid[:, None].repeat(3, axis=1)), self.strength)
        return np.stack([np.interp(values[..., c], grid, dense[:, c]) for c in range(3)], -1)

    def lut(self, levels: int = 256) -> np.ndarray:
        """The composed curve as a ``(levels, 3)`` lookup table (uint8 for up to 256
        levels, else uint16): level ``v`` means ``v / (levels - 1)``."""
        if levels > 256:
            return _bake(self.apply, 3, levels)
        if levels not in self._luts:
            self._luts[levels] = _bake(self.apply, 3, levels)
        return self._luts[levels].copy()

    def is_monotone(self, samples: int = DENSE) -> bool:
        """Whether the composed curve never falls (checked on ``samples`` points)."""
        ramp = np.linspace(0.0, 1.0, samples + 1)[:, None].repeat(3, axis=1)
        return bool((np.diff(self.apply(ramp), axis=0) >= -1e-9).all())

    # ---- files (the formats are in s2crnet.curves.files)
    def to_json(self, calibration: float = 1.0, **info: object) -> str:
        """The versioned curve-file JSON; ``calibration`` is the model's calibrated
        strength the user's was multiplied by; ``info`` adds ``model``, ``composite``..."""
        return files.curves_to_json(self, calibration, **info)

    @classmethod
    def from_json(cls, text: str, source: str = "curves") -> Curves:
        """The curves of a curve file's text (see :func:`read_curve_file`)."""
        return read_curve_file(text, source)[0]

    def to_cube(self, size: int = 1024, title: str = "s2crnet") -> str:
        """The composed curve as an Adobe/Resolve ``.cube`` 1D LUT."""
        return files.curves_to_cube(self, size, title)


def read_curve_file(text: str, source: str = "curves") -> tuple[Curves, float]:
    """The curves of a curve file's text and its ``strength_calibration`` (1 if absent).

    Raises:
        InputError: naming ``source``, for anything that is not a valid curve file.
    """
    contents = files.parse_curve_file(text, source)
    try:
        curves = Curves(contents.params, contents.strength, contents.table)
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from None
    return curves, contents.calibration


def curves_from_json(text: str, source: str = "curves") -> Curves:
    """Read a curve file's text; every problem is an :class:`InputError` naming ``source``."""
    return read_curve_file(text, source)[0]


def load_curve_file(path: Path) -> tuple[Curves, float]:
    """The curves of a curve file and its ``strength_calibration`` (see
    :func:`read_curve_file`); an unreadable file is an :class:`InputError` naming it."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the curve file ({exc})") from None
    return read_curve_file(text, str(path))
