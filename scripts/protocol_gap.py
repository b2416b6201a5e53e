"""Why real photos come back changed more at full resolution than at 256 (issue #25).

The 256 protocol hands the network Pillow-bilinear thumbnails with the mask thresholded
at 0.5 and measures at 256x256; the full protocol hands it OpenCV area thumbnails with
the mask's soft edge and measures at the photo's size. This script separates the two
causes: for every development triplet it predicts curves from each kind of network
input, applies them at full resolution (composite and real image as inputs) and reports
the full-resolution MSE, and the same results measured after shrinking to 256x256 as
the 256 protocol does. If the real image's error follows the inputs, the network reads
the edge differently; if it follows the measuring size, the curves are the same and the
pixels at full size are simply more sensitive.

Run: ``python scripts/protocol_gap.py --data ../shared/data/iharmony4-dev
[--weights W] [--strength S]``.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from s2crnet.curves import Curves
from s2crnet.images import read_image, read_mask, to_uint8
from s2crnet.metrics import mse
from s2crnet.render import apply_curves
from s2crnet.session import Harmonizer
from s2crnet.thumbnails import background_thumbnail, resize_square
from s2crnet.triplets import list_triplets


def _pillow(a: np.ndarray, size: int = 256) -> np.ndarray:
    return np.asarray(Image.fromarray(a).resize((size, size), Image.Resampling.BILINEAR))


def _area(a: np.ndarray) -> np.ndarray:
    return resize_square(a, 256)  # OpenCV's area filter, as inference does


def _binary(mask: np.ndarray) -> np.ndarray:
    return np.where(mask >= 128, 255, 0).astype(np.uint8)  # thresholded at 0.5


#: Network inputs: the square image and mask its thumbnails are cut from.
VIEWS = {
    "area, soft edge (full protocol)": lambda rgb, m: (_area(rgb), _area(m)),
    "area, thresholded edge": lambda rgb, m: (_area(rgb), _binary(_area(m))),
    "bilinear, thresholded edge (256 protocol)": lambda rgb, m: (_pillow(rgb), _binary(_pillow(m))),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--weights", default=None, help="default: the shipped model")
    parser.add_argument("--strength", type=float, default=1.0)
    args = parser.parse_args()
    session = Harmonizer(args.weights)
    rows: dict[str, list[list[float]]] = {view: [] for view in VIEWS}
    for triplet in list_triplets(args.data, "test"):
        composite = to_uint8(read_image(triplet.composite).rgb)
        real = to_uint8(read_image(triplet.real).rgb)
        mask = _binary(read_mask(triplet.mask).oriented())
        small_mask, small_real = _binary(_pillow(mask)), _pillow(real)  # the 256 protocol's
        for view, make in VIEWS.items():
            errors = []
            for source in (composite, real):
                square, square_mask = make(source, mask)
                params = session.object_params(
                    square, square_mask, background_thumbnail(square, square_mask), None
                )
                curves = Curves(params, session.strength(args.strength))
                at_256 = apply_curves(_pillow(source), small_mask, curves)
                errors += [mse(apply_curves(source, mask, curves), real), mse(at_256, small_real)]
            rows[view].append(errors)
    print(f"{len(next(iter(rows.values())))} triplets, strength {args.strength} x the recorded one")
    print(f"{'network input':<44}{'measured at':>12}{'composite':>12}{'real image':>12}")
    for view, values in rows.items():
        mean = np.mean(values, axis=0)
        print(f"{view:<44}{'full':>12}{mean[0]:>12.2f}{mean[2]:>12.2f}")
        print(f"{'':<44}{'256':>12}{mean[1]:>12.2f}{mean[3]:>12.2f}")


if __name__ == "__main__":
    main()
