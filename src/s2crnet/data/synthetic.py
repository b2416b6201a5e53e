"""A seeded family of colour changes that turn a photo's object into a synthetic composite.

iHarmony4 was made by changing the colour of an object region, by colour transfer from
another photo (HCOCO, HFlickr) or by expert retouching (HAdobe5k). This module draws one
or more changes, in random order, from:

* ``curves``: a random monotone tone curve per channel (5 knots);
* ``gamma``: a power law, shared with a small per-channel spread;
* ``exposure``: a gain of ``2**ev``;
* ``white_balance``: per-channel gains that keep the luminance;
* ``saturation``: a move towards or away from grey;
* ``contrast``: a stretch around the region's mean;
* ``transfer``: the Lab mean/std of another photo's object (Reinhard transfer);
* ``histogram``: each RGB channel's histogram of another photo's object (quantile
  matching, the non-parametric transfer iHarmony4 also used). Not drawn by default
  (:data:`DEFAULT_OPS`, what the shipped model was trained with).

``strength`` scales every range towards the identity (0 would change nothing; the
generator then forces a minimal visible change, since a composite must never equal its
target).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..colour import lab_stats, lab_transfer

__all__ = [
    "DEFAULT_OPS",
    "JITTER_OPS",
    "OPS",
    "TRANSFER_SOURCES",
    "ColourFamily",
    "Reference",
    "jitter_photo",
    "make_composite",
]

DEFAULT_OPS = (
    "curves", "gamma", "exposure", "white_balance", "saturation", "contrast", "transfer"
)  # fmt: skip
#: Every change there is; the family draws from :data:`DEFAULT_OPS` unless told otherwise.
OPS = (*DEFAULT_OPS, "histogram")
#: Whole-photo changes drawn by :func:`jitter_photo` (what cameras and global edits vary).
JITTER_OPS = ("gamma", "exposure", "white_balance", "saturation", "contrast")
#: Where ``transfer`` takes its colours: any other photo's object, or one of the same kind.
TRANSFER_SOURCES = ("any", "same-kind")
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)

_QUANTILES = np.linspace(0, 1, 33)


class Reference:
    """Colour statistics of another photo's object, for ``transfer`` and ``histogram``,
    each computed on first use (most composites draw neither).

    Args:
        rgb: ``(H, W, 3)`` float32 in [0, 1].
        mask: ``(H, W)`` in [0, 1], the object (``> 0.5``).
    """

    def __init__(self, rgb: np.ndarray, mask: np.ndarray) -> None:
        self.rgb, self.mask = rgb, mask

    @cached_property
    def lab(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)``, each ``(3,)``: the Lab statistics over the object."""
        return lab_stats(self.rgb, self.mask)

    @cached_property
    def quantiles(self) -> np.ndarray:
        """``(33, 3)``: each RGB channel's quantiles over the object (levels 0, 1/32, ..., 1)."""
        inside = np.asarray(self.mask) > 0.5
        pixels = self.rgb[inside] if inside.any() else self.rgb.reshape(-1, 3)
        return np.quantile(pixels, _QUANTILES, axis=0).astype(np.float32)


@dataclass(frozen=True)
class ColourFamily:
    """Parameters of the colour-change family (ranges are at ``strength = 1``).

    Attributes:
        ops: which changes may be drawn (see :data:`OPS`; default :data:`DEFAULT_OPS`).
        max_ops: at most this many changes per composite (at least one).
        strength: scales every range towards the identity.
        gamma: log-uniform range of the shared gamma.
        exposure: uniform range of the exposure change in stops.
        white_balance: largest per-channel log gain.
        saturation: log-uniform range of the saturation factor.
        contrast: log-uniform range of the contrast factor.
        curves: spread (log-normal sigma) of the tone curves' segment slopes.
        min_change: least mean absolute change inside the object (0-1 scale); draws that
            change less are redrawn.
    """

    ops: tuple[str, ...] = DEFAULT_OPS
    max_ops: int = 3
    strength: float = 1.0
    gamma: tuple[float, float] = (0.6, 1.6)
    exposure: tuple[float, float] = (-1.0, 1.0)
    white_balance: float = 0.25
    saturation: tuple[float, float] = (0.5, 1.6)
    contrast: tuple[float, float] = (0.65, 1.5)
    curves: float = 0.35
    min_change: float = 0.01

    def __post_init__(self) -> None:
        unknown = sorted(set(self.ops) - set(OPS))
        if unknown or not self.ops:
            raise ValueError(
                f"colour ops must be a non-empty subset of {', '.join(OPS)}; "
                f"unknown: {', '.join(unknown) or 'none given'}"
            )
        if self.max_ops < 1:
            raise ValueError("max_ops must be at least 1")
        if self.strength < 0:
            raise ValueError("strength must be >= 0")


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float], strength: float) -> float:
    lo, hi = np.log(bounds[0]) * strength, np.log(bounds[1]) * strength
    return float(np.exp(rng.uniform(lo, hi)))


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _LUMA  # (H, W)


def _apply(
    op: str,
    rgb: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    family: ColourFamily,
    reference: Callable[[], Reference | None],
) -> np.ndarray:
    s = family.strength
    if op == "curves":
        knots = np.linspace(0, 1, 5)
        sigma = family.curves * s
        slopes = np.exp(rng.normal(0, sigma, (3, 4)) + rng.normal(0, sigma, 4))  # (3, 4)
        ys = np.concatenate([np.zeros((3, 1)), np.cumsum(slopes, 1)], 1)
        ys /= ys[:, -1:]  # monotone, from 0 to 1, per channel
        return np.stack([np.interp(rgb[..., c], knots, ys[c]) for c in range(3)], -1)
    if op == "gamma":
        gamma = _log_uniform(rng, family.gamma, s) * np.exp(rng.normal(0, 0.05 * s, 3))
        return np.power(np.clip(rgb, 0, 1), gamma)
    if op == "exposure":
        return rgb * 2.0 ** (rng.uniform(*family.exposure) * s)
    if op == "white_balance":
        gains = np.exp(rng.uniform(-family.white_balance, family.white_balance, 3) * s)
        return rgb * (gains / float(gains @ _LUMA))
    if op == "saturation":
        grey = _luma(rgb)[..., None]
        return grey + (rgb - grey) * _log_uniform(rng, family.saturation, s)
    if op == "contrast":
        mean = float(_luma(rgb)[mask > 0.5].mean()) if (mask > 0.5).any() else 0.5
        return mean + (rgb - mean) * _log_uniform(rng, family.contrast, s)
    if op == "transfer":
        ref = reference()
        if ref is None:
            return rgb
        own = lab_stats(rgb, mask)
        # strength interpolates the target statistics between the object's own and the other's
        t = min(s, 1.0)
        mean, std = ref.lab
        target = (own[0] + (mean - own[0]) * t, own[1] * (std / own[1]) ** t)
        return lab_transfer(rgb, own, target)
    if op == "histogram":
        ref = reference()
        inside = mask > 0.5
        if ref is None or not inside.any():
            return rgb
        own = np.quantile(rgb[inside], _QUANTILES, axis=0)  # (33, 3)
        target = own + (ref.quantiles - own) * min(s, 1.0)
        ramp = np.arange(len(_QUANTILES)) * 1e-6  # strictly increasing knots
        return np.stack(
            [
                np.interp(rgb[..., c], own[:, c] + ramp, np.maximum.accumulate(target[:, c]))
                for c in range(3)
            ],
            -1,
        )
    raise ValueError(f"unknown colour op {op!r}")


def make_composite(
    photo: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    family: ColourFamily = ColourFamily(),
    reference: Callable[[], Reference | None] = lambda: None,
) -> tuple[np.ndarray, list[str]]:
    """Change the colour of the object in ``photo``: a synthetic composite.

    Args:
        photo: ``(H, W, 3)`` float32 RGB in [0, 1], the target.
        mask: ``(H, W)`` float32 in [0, 1], the object.
        rng: the seeded generator that decides everything.
        family: the colour-change family.
        reference: returns the :class:`Reference` statistics of another photo's object,
            for ``transfer`` and ``histogram`` (called only when one is drawn; None skips
            it).

    Returns:
        ``(composite, ops)``: float32 ``(H, W, 3)`` in [0, 1], equal to ``photo`` where
        ``mask`` is 0 and different from it inside the object; and the changes applied.
    """
    inside = mask > 0.5
    if not inside.any():
        raise ValueError("make_composite needs a non-empty mask")
    alpha = mask[..., None]
    for _ in range(8):
        count = int(rng.integers(1, min(family.max_ops, len(family.ops)) + 1))
        ops = [str(op) for op in rng.choice(family.ops, size=count, replace=False)]
        changed = photo
        for op in ops:
            changed = np.clip(_apply(op, changed, mask, rng, family, reference), 0, 1)
        if np.abs(changed - photo)[inside].mean() >= family.min_change:
            break
    else:  # nothing drawn changed the object enough: brighten or darken it visibly
        mean = float(photo[inside].mean())
        changed = np.clip(photo + (0.15 if mean < 0.5 else -0.15), 0, 1)
        ops = ["offset"]
    composite = (photo + (changed - photo) * alpha).astype(np.float32)
    return composite, ops


def jitter_photo(photo: np.ndarray, rng: np.random.Generator, strength: float = 0.5) -> np.ndarray:
    """The whole photo mildly recoloured by one or two global changes from
    :data:`JITTER_OPS` (ranges of :class:`ColourFamily` at ``strength``).

    Used on a training photo before its composite is made, so the target and the
    background change together: the look of a natural object then varies more, and the
    model must judge the object against its background rather than against a prior of how
    such objects look (which makes it recolour real, harmonious images). Measured on the
    default model, it did not move the trade-off between the two (``docs/model-card.md``).

    Args:
        photo: ``(H, W, 3)`` float32 RGB in [0, 1].
        rng: the seeded generator that decides everything.
        strength: scales the ranges (0 returns the photo unchanged).

    Returns:
        ``(H, W, 3)`` float32 in [0, 1].

    >>> grey = np.full((2, 2, 3), 0.5, np.float32)
    >>> out = jitter_photo(grey, np.random.default_rng(0))
    >>> out.shape, out.dtype, bool(np.all(out[0, 0] == out[1, 1]))  # one change everywhere
    ((2, 2, 3), dtype('float32'), True)
    """
    family = ColourFamily(ops=JITTER_OPS, strength=strength)
    whole = np.ones(photo.shape[:2], np.float32)  # contrast about the whole photo's mean
    out = photo
    for op in rng.choice(JITTER_OPS, size=int(rng.integers(1, 3)), replace=False):
        out = np.clip(_apply(str(op), out, whole, rng, family, lambda: None), 0, 1)
    return np.asarray(out, np.float32)
