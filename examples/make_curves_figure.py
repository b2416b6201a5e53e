"""Make the README's curves picture from a public-domain photo shipped with scikit-image.

The object of ``skimage.data.coffee()`` (an ellipse over the cup) is recoloured with the
synthetic-composite generator; then S2CRNet's curve family (Eq. 1, two stages, L = 64) is
fitted to map the composite back to the photo. The picture shows those curves: what a
perfect prediction would apply. Run: ``python examples/make_curves_figure.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skimage.data
import torch

from s2crnet.curves import Curves, render_curves
from s2crnet.data.synthetic import ColourFamily, make_composite
from s2crnet.images import Picture, write_image
from s2crnet.render import apply_curves
from s2crnet.visual import compare_image, plot_curves

OUT = Path(__file__).resolve().parents[1] / "docs" / "images"


def main() -> None:
    photo = skimage.data.coffee()  # (400, 600, 3), public domain
    h, w = photo.shape[:2]
    yy, xx = np.ogrid[0:h, 0:w]
    mask = (((yy - 0.45 * h) / (0.33 * h)) ** 2 + ((xx - 0.5 * w) / (0.3 * w)) ** 2) < 1
    mask = mask.astype(np.uint8) * 255
    target = photo.astype(np.float32) / 255
    rng = np.random.default_rng(7)
    family = ColourFamily(ops=("white_balance", "gamma", "saturation"), max_ops=3)
    composite, ops = make_composite(target, mask / 255.0, rng, family)
    composite8 = np.round(composite * 255).astype(np.uint8)

    x = torch.from_numpy(composite).permute(2, 0, 1)[None]
    y = torch.from_numpy(target).permute(2, 0, 1)[None]
    m = torch.from_numpy(mask / 255.0).float()[None, None]
    logits = torch.zeros(2, 3, 64, requires_grad=True)  # softplus(0) = equal pieces
    optimizer = torch.optim.Adam([logits], lr=0.05)
    for _ in range(400):
        p = torch.nn.functional.softplus(logits)
        out = render_curves(render_curves(x, p[:1]), p[1:])
        loss = ((out - y).abs() * m).sum() / m.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    curves = Curves(torch.nn.functional.softplus(logits).detach().numpy())
    result = apply_curves(composite8, mask, curves)
    OUT.mkdir(parents=True, exist_ok=True)
    plot_curves([("coffee cup", curves)], OUT / "curves-example.png")
    write_image(
        OUT / "compare-example.jpg",
        compare_image(Picture(composite8), Picture(result), mask),
        quality=85,
    )
    print(f"changes {ops}; fitted rL1 {loss.item():.4f}; wrote {OUT}")


if __name__ == "__main__":
    main()
