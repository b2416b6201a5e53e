"""What the default model does to several colour changes of the README example's object.

For each change of the cup and saucer in scikit-image's ``coffee`` photo (the mask of
``examples/mask.png``), prints the MSE inside the object to the original photo, of the
composite and of the default model's result (arrays, no JPEG). The table in
``docs/model-card.md`` comes from this script. Run: ``python examples/example_casts.py``.
"""

from __future__ import annotations

import numpy as np
import skimage.data
from make_example import HERE, object_mse, paste

import s2crnet
from s2crnet.images import read_mask

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
    mask = read_mask(HERE / "mask.png").oriented()
    rgb = photo.astype(np.float32) / 255
    print("| change | composite | harmonized |\n|---|---|---|")
    for name, change in CHANGES.items():
        composite = paste(photo, mask, np.clip(change(rgb), 0, 1))
        result = s2crnet.harmonize(composite, mask).image
        before, after = object_mse(composite, photo, mask), object_mse(result, photo, mask)
        print(f"| {name} | {before:.0f} | {after:.0f} |")


if __name__ == "__main__":
    main()
