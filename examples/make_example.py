"""Make the quick-start example: ``examples/composite.jpg`` and ``examples/mask.png``.

From the public-domain ``coffee`` photo shipped with scikit-image: the cup and saucer are
cut out with OpenCV's GrabCut and washed out (every channel raised to the power 0.6:
lifted shadows, paler colours, nothing clipped), as if pasted from a hazier, brighter
shot (a clear mismatch). No third-party benchmark image is used.
With a shipped model it also draws the README's before/after picture.
Run: ``python examples/make_example.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from s2crnet.images import Picture, write_image

HERE = Path(__file__).resolve().parent


def paste(photo: np.ndarray, mask: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """A composite: ``photo`` (uint8 RGB) with ``changed`` (float RGB in [0, 1]) blended
    in by ``mask`` (uint8, 255 = object)."""
    rgb = photo.astype(np.float32) / 255
    alpha = (mask.astype(np.float32) / 255)[..., None]
    return np.round((rgb * (1 - alpha) + changed * alpha) * 255).astype(np.uint8)


def object_mse(image: np.ndarray, photo: np.ndarray, mask: np.ndarray) -> float:
    """MSE between ``image`` and ``photo`` inside the object (``mask`` > 127)."""
    inside = mask > 127
    return float(((image[inside].astype(np.float64) - photo[inside]) ** 2).mean())


def main() -> None:
    photo = skimage.data.coffee()  # (400, 600, 3) RGB
    h, w = photo.shape[:2]
    labels = np.zeros((h, w), np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    rect = (int(0.13 * w), int(0.02 * h), int(0.70 * w), int(0.93 * h))  # x, y, width, height
    cv2.setRNGSeed(0)
    cv2.grabCut(
        photo[..., ::-1].copy(), labels, rect, background, foreground, 6, cv2.GC_INIT_WITH_RECT
    )
    mask = np.where((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    # keep the largest blob, fill its holes
    _, blobs, stats, _ = cv2.connectedComponentsWithStats(mask)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = np.where(blobs == largest, 255, 0).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    mask = cv2.drawContours(np.zeros_like(mask), contours, -1, 255, cv2.FILLED)

    washed = (photo.astype(np.float32) / 255) ** 0.6  # a hazier, brighter shot
    composite = paste(photo, mask, washed)
    write_image(HERE / "composite.jpg", Picture(composite), quality=92)
    write_image(HERE / "mask.png", Picture(np.repeat(mask[..., None], 3, 2), grey=True))
    # the same two files ship inside the package for the demo (a test keeps them equal)
    assets = HERE.parent / "src" / "s2crnet" / "assets"
    shutil.copyfile(HERE / "composite.jpg", assets / "example-composite.jpg")
    shutil.copyfile(HERE / "mask.png", assets / "example-mask.png")
    print(
        f"wrote {HERE / 'composite.jpg'} and {HERE / 'mask.png'} "
        f"(object: {mask.mean() / 255:.0%} of the image)"
    )
    # the README's before/after picture, with the shipped model (when there is one)
    from s2crnet.loading import DEFAULT_WEIGHTS

    if not DEFAULT_WEIGHTS.is_file():
        print("no shipped model: no before/after picture")
        return
    from s2crnet import harmonize
    from s2crnet.images import read_image
    from s2crnet.visual import compare_image

    before = read_image(HERE / "composite.jpg")
    after = Picture(harmonize(HERE / "composite.jpg", HERE / "mask.png").image)
    for name, image in (("composite", before.rgb), ("harmonized", after.rgb)):
        error = object_mse(image, photo, mask)
        print(f"{name}: MSE to the original photo inside the object {error:.0f}")
    picture = HERE.parent / "docs" / "images" / "quickstart.jpg"
    write_image(picture, compare_image(before, after, mask), quality=85)
    print(f"wrote {picture}")


if __name__ == "__main__":
    main()
