"""Make the model card's failure picture: ``docs/images/failure-untouched.jpg``.

The shipped model given an untouched photo (scikit-image's public-domain ``coffee``) and
the quick-start example's mask of the cup and saucer: the photo is already harmonious,
so a perfect model would change nothing, but the cup is a close-up object of a kind the
training photos hardly hold, and the model darkens it. Left: the photo, right: the
result, the object outlined. Prints the mean change inside the object.
Run: ``python examples/make_failure_figure.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image

from s2crnet import harmonize
from s2crnet.images import Picture, write_image
from s2crnet.visual import compare_image

HERE = Path(__file__).resolve().parent


def main() -> None:
    photo = skimage.data.coffee()  # (400, 600, 3) RGB, untouched
    mask = np.asarray(Image.open(HERE / "mask.png"))
    result = harmonize(photo, mask).image
    inside = mask > 127
    change = np.abs(result.astype(np.float64) - photo)[inside].mean()
    figure = compare_image(Picture(rgb=photo), Picture(rgb=result), mask)
    out = HERE.parent / "docs" / "images" / "failure-untouched.jpg"
    write_image(out, figure, quality=90)
    print(f"mean change inside the object: {change:.1f} levels (0 would be right); wrote {out}")


if __name__ == "__main__":
    main()
