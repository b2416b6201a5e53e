"""Where a requested strength, a curve file's recorded strength and a model's calibration
meet: :func:`applied_strength`, the one place their product is made.

Strength means one thing everywhere: 0 changes nothing, 1 is the curve at the model's
calibrated strength (``S2CRNetConfig.curve_strength``), above 1 exaggerates it. A curve
file records the strength it was applied at and the calibration that was part of it, so
``--strength S`` on a curve file means what it meant for the run that wrote it.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["MAX_STRENGTH", "applied_strength", "check_strength"]

#: The largest strength a user may ask for: each slope is raised to this power, and beyond
#: it every curve is close to a step (a whole object turns black or white).
MAX_STRENGTH = 4.0


def check_strength(value: object, what: str = "strength", most: float = math.inf) -> float:
    """``value`` as a float if it is a finite real number in ``[0, most]`` (NumPy scalars
    too), else :class:`ValueError` showing it as the caller gave it.

    >>> check_strength(2)
    2.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value}")
    if number > most:
        raise ValueError(
            f"{what} must be at most {most:g} (beyond it every curve is close to a step: "
            f"the object turns black or white), got {value}"
        )
    return number


def applied_strength(
    requested: float | None, calibration: float, recorded: float | None = None
) -> float:
    """The strength curves are applied at.

    Args:
        requested: the user's strength (``--strength``; 1 = the model's calibrated curve),
            or None: ``recorded`` if there is one, else 1.
        calibration: the model's calibrated strength (``config.curve_strength``), or a
            curve file's ``strength_calibration`` (the one its ``strength`` was made with).
        recorded: a curve file's ``strength`` (what it was applied at), or None for a
            model's new curves.

    Returns:
        ``requested * calibration``; ``recorded`` when nothing is requested.

    Raises:
        ValueError: a requested strength that is not a finite number in
            ``[0, MAX_STRENGTH]``, as given.

    >>> applied_strength(3, 0.5)  # harmonize --strength 3
    1.5
    >>> applied_strength(None, 0.5, recorded=1.5)  # its curve file, as it was
    1.5
    >>> applied_strength(0.5, 0.5, recorded=1.5)  # that file at --strength 0.5
    0.25
    """
    if requested is None:
        return check_strength(calibration if recorded is None else recorded, "recorded strength")
    strength = check_strength(requested, most=MAX_STRENGTH)
    made_with = check_strength(calibration, "calibration")
    return strength * made_with
