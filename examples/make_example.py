"""Make the quick-start example: ``examples/composite.jpg`` and ``examples/mask.png``.

From the public-domain ``coffee`` photo shipped with scikit-image: the cup and saucer are
cut out with OpenCV's GrabCut and given a cold, bluish cast (a clear colour mismatch with
the warm wooden table). No third-party benchmark image is used.
Run: ``python examples/make_example.py``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import skimage.data

from s2crnet.images import Picture, write_image

HERE = Path(__file__).resolve().parent


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

    rgb = photo.astype(np.float32) / 255
    cold = np.clip(
        rgb * np.array([0.55, 0.8, 0.95], np.float32) + np.array([0.02, 0.1, 0.2], np.float32), 0, 1
    )
    alpha = (mask.astype(np.float32) / 255)[..., None]
    composite = np.round((rgb * (1 - alpha) + cold * alpha) * 255).astype(np.uint8)
    write_image(HERE / "composite.jpg", Picture(composite), quality=92)
    write_image(HERE / "mask.png", Picture(np.repeat(mask[..., None], 3, 2), grey=True))
    print(
        f"wrote {HERE / 'composite.jpg'} and {HERE / 'mask.png'} "
        f"(object: {mask.mean() / 255:.0%} of the image)"
    )


if __name__ == "__main__":
    main()
