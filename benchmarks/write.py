"""What writing an output safely costs: ``write_image`` against a plain Pillow save.

For each size and format it prints the median wall time of:

* ``plain``: ``Image.save`` straight to the target (what many tools do: no fsync, no
  check; a full disk can leave a truncated file behind);
* ``safe``: :func:`s2crnet.images.write_image`: encoded in memory, written to a temporary
  file, fsynced, decoded back completely, renamed into place;
* ``fsync`` and ``verify``: the two added steps alone;

and the ratio safe / plain. The photo is scikit-image's ``astronaut`` resized to each
size (a 12-megapixel photo is 4000x3000).

Run: ``python benchmarks/write.py [--sizes 1024 4000x3000] [--repeats 5] [--folder DIR]``
(``--folder`` picks the file system to write to; the default is a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from PIL import Image

from _timing import median_ms
from s2crnet.images import Picture, encode_image, verify_image, write_image


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h or w)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _measure(target: Path, picture: Picture, options: dict, repeats: int) -> dict[str, float]:
    """Median ms of a plain save, ``write_image``, and its fsync and verify steps alone."""
    data = encode_image(target, picture)
    check = verify_image(picture.shape)
    Image.fromarray(picture.rgb).save(target, **options)  # warm-up
    write_image(target, picture)
    written = median_ms(lambda: target.write_bytes(data), repeats)
    return {
        "plain": median_ms(lambda: Image.fromarray(picture.rgb).save(target, **options), repeats),
        "safe": median_ms(lambda: write_image(target, picture), repeats),
        "fsync": median_ms(lambda: (target.write_bytes(data), _fsync(target)), repeats) - written,
        "verify": median_ms(lambda: check(target), repeats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1024", "4000x3000"])
    parser.add_argument("--formats", nargs="+", default=["jpg", "png"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp())
    photo = skimage.data.astronaut()
    print(f"{'size':>10} {'format':>6} {'plain':>8} {'safe':>8} {'fsync':>8} {'verify':>8} ratio")
    for text in args.sizes:
        w, h = _size(text)
        rgb = np.ascontiguousarray(cv2.resize(photo, (w, h), interpolation=cv2.INTER_CUBIC))
        picture = Picture(rgb=rgb)
        for fmt in args.formats:
            target = folder / f"bench.{fmt}"
            options = {"quality": 95} if fmt == "jpg" else {}

            ms = _measure(target, picture, options, args.repeats)
            print(
                f"{w}x{h:<5} {fmt:>6} {ms['plain']:8.1f} {ms['safe']:8.1f} "
                f"{max(ms['fsync'], 0):8.1f} {ms['verify']:8.1f} {ms['safe'] / ms['plain']:.2f}x"
            )
            target.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
