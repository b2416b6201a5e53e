"""Pictures of what harmonizing did: the curves, and the image before and after."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np

from .atomic import write_atomic
from .curves.value import Curves
from .errors import require
from .images import Picture
from .pixels import to_uint8

__all__ = ["compare_image", "curve_plot_png", "plot_curves"]

_COLOURS = ("#d62728", "#2ca02c", "#1f77b4")  # R, G, B


def strength_text(curves: Curves, calibration: float = 1.0) -> str:
    """How strongly the composed curve is applied, in words a user can check.

    >>> strength_text(Curves.identity().with_strength(0.488), calibration=0.61)
    'strength 0.8 x calibrated 0.61 = 0.488'
    >>> strength_text(Curves.identity())
    'strength 1'
    """
    if calibration == 1.0:
        return f"strength {curves.strength:g}"
    requested = curves.strength / calibration
    return f"strength {requested:.4g} x calibrated {calibration:.4g} = {curves.strength:.4g}"


def plot_curves(
    objects: list[tuple[str, Curves]], path: str | Path, calibration: float = 1.0
) -> None:
    """Write :func:`curve_plot_png` to ``path`` (atomically)."""
    write_atomic(path, curve_plot_png(objects, calibration))


def curve_plot_png(objects: list[tuple[str, Curves]], calibration: float = 1.0) -> bytes:
    """Draw, for each object, the R, G, B curves of every stage and the composed curve
    (at its strength) over the identity line, as PNG bytes.

    ``calibration`` is the model's calibrated strength (``config.curve_strength``) that
    the user's strength was multiplied by; the titles show both.
    """
    require("matplotlib", "--plot-curves (plot_curves)", extra="plot")
    from matplotlib.figure import Figure

    columns = max(c.stages for _, c in objects) + 1
    fig = Figure(figsize=(3.2 * columns, 3.2 * len(objects)), dpi=100, layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(objects), columns, squeeze=False))
    x = np.linspace(0.0, 1.0, 257)
    ramp = x[:, None].repeat(3, axis=1)
    for row, (name, curves) in enumerate(objects):
        panels = [
            (f"stage {n + 1}", Curves(curves.params[n : n + 1])) for n in range(curves.stages)
        ]
        panels.append((f"composed\n{strength_text(curves, calibration)}", curves))
        for col in range(columns):
            ax = axes[row, col]
            if col >= len(panels):  # an object with fewer stages than another
                ax.set_visible(False)
                continue
            title, curve = panels[col]
            y = curve.apply(ramp)
            ax.plot(x, x, color="0.6", linestyle="--", linewidth=1, label="identity")
            for c, colour in enumerate(_COLOURS):
                ax.plot(x, y[:, c], color=colour, linewidth=1.5, label="RGB"[c])
            ax.set(
                xlim=(0, 1),
                ylim=(min(0, y.min()), max(1, y.max())),
                aspect="auto",
            )
            ax.set_title(f"{Path(name).name}: {title}" if col == 0 else title, fontsize=9)
            ax.grid(alpha=0.3)
        axes[row, 0].legend(loc="lower right", fontsize=8)
    stream = io.BytesIO()
    fig.savefig(stream, format="png")
    return stream.getvalue()


def _display(picture: Picture) -> np.ndarray:
    return to_uint8(picture.rgb)


def compare_image(before: Picture, after: Picture, mask: np.ndarray) -> Picture:
    """Composite | result side by side (8-bit RGB), the object outlined in yellow."""
    left, right = _display(before).copy(), _display(after).copy()
    contours, _ = cv2.findContours(
        (mask > 127).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    thickness = max(1, min(left.shape[:2]) // 300)
    for image in (left, right):
        cv2.drawContours(image, contours, -1, (255, 220, 0), thickness)
    gap = np.full((left.shape[0], max(4, left.shape[1] // 100), 3), 255, np.uint8)
    return Picture(rgb=np.concatenate([left, gap, right], axis=1))
