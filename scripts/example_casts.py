"""What the default model does to several colour changes of the README example's object.

For each change of the cup and saucer in scikit-image's ``coffee`` photo (the mask of
``examples/mask.png``), prints the MSE inside the object to the original photo, of the
composite and of the default model's result (arrays, no JPEG). The table in
``docs/model-card.md`` comes from this script. Run: ``python scripts/example_casts.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skimage.data

import s2crnet
from s2crnet.images import read_mask

ROOT = Path(__file__).resolve().parents[1]
LUMA = np.array([0.299, 0.587, 0.114], np.float32)

CHANGES = {
    "washed out (x**0.6, the README example)": lambda x: x**0.6,
    "x 1.6 (clipped)": lambda x: x * 1.6,
    "x 0.6": lambda x: x * 0.6,
    "x**1.6": lambda x: x**1.6,
    "cold cast (R x0.85, B x1.2)": lambda x: x * np.array([0.85, 1.0, 1.2], np.float32),
    "warm cast (R x1.2, B x0.85)": lambda x: x * np.array([1.2, 1.0, 0.85], np.float32),
    "green cast (G x1.15, R, B x0.9)": lambda x: x * np.array([0.9, 1.15, 0.9], np.float32),
    "desaturated (30% of the colour)": lambda x: (x @ LUMA)[..., None] * 0.7 + x * 0.3,
    "none (the real photo)": lambda x: x,
}


def main() -> None:
    photo = skimage.data.coffee()
    mask = read_mask(ROOT / "examples" / "mask.png").oriented()
    inside = mask > 127
    alpha = (mask.astype(np.float32) / 255)[..., None]
    rgb = photo.astype(np.float32) / 255
    print("| change | composite | harmonized |\n|---|---|---|")
    for name, change in CHANGES.items():
        changed = np.clip(change(rgb), 0, 1)
        composite = np.round((rgb * (1 - alpha) + changed * alpha) * 255).astype(np.uint8)
        result = s2crnet.harmonize(composite, mask).image

        def mse(image: np.ndarray) -> float:
            diff = image.astype(np.float64) - photo
            return float((diff[inside] ** 2).mean())

        print(f"| {name} | {mse(composite):.0f} | {mse(result):.0f} |")


if __name__ == "__main__":
    main()
