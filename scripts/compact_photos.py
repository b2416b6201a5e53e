"""Make a compact copy of a training-photo folder, small enough to travel to a GPU machine.

Each photo is stored as WebP (``--quality`` 75, Pillow's slowest, smallest method),
scaled down to a shorter side of at most ``--short-side`` (default 512: the shared
photos keep their own size); its mask is scaled the same way (PNG, soft edges kept).
``labels.csv`` keeps each photo's class and kind of object. The 3,776 shared photos
(132 MB of JPEG, 136 MB with masks) become 58.2 MB, 57.9 MB packed with ``tar czf`` (pack
them: as loose files they count 75 MB against a 64 MiB transfer). The composite and its
target are both made from the re-encoded photo. Do not shrink further: a model trained
on a ``--short-side 256 --quality 80`` copy (57.1 MB) learnt markedly worse than on the
originals (docs/model-card.md).

Usage:
    python scripts/compact_photos.py ../shared/data/photos-with-masks --out runs/data/compact
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from PIL import Image

from s2crnet.data.photos import Photo, list_photos, new_photo_folder
from s2crnet.labels import LABELS


def shrink(photo: Photo, out: Path, short_side: int, quality: int) -> tuple[str, str]:
    """Write ``photo`` and its mask, scaled to ``short_side`` at most, under ``out``."""
    try:
        with Image.open(photo.image) as im, Image.open(photo.mask) as m:
            image, mask = im.convert("RGB"), m.convert("L")
    except OSError as e:  # unreadable or truncated: name the pair
        raise ValueError(f"{photo.image}: cannot read it or its mask ({e})") from None
    if mask.size != image.size:
        raise ValueError(f"{photo.mask}: {mask.size} differs from its photo's {image.size}")
    w, h = image.size
    if min(w, h) > short_side:
        size = (round(w * short_side / min(w, h)), round(h * short_side / min(w, h)))
        image = image.resize(size, Image.Resampling.LANCZOS)
        mask = mask.resize(size, Image.Resampling.BILINEAR)
    name = photo.image.stem
    image.save(out / "images" / f"{name}.webp", quality=quality, method=6)
    mask.save(out / "masks" / f"{name}.png", optimize=True)
    return f"{name}.webp", f"{name}.png"


def build(src: Path, out: Path, short_side: int = 512, quality: int = 75, jobs: int = 2) -> int:
    """Write the compact copy of ``src`` to ``out`` (made whole in ``out.part``, then
    renamed); returns the number of photos."""
    photos = list_photos(src)
    with new_photo_folder(out) as (tmp, rows):
        one = partial(shrink, out=tmp, short_side=short_side, quality=quality)
        if jobs > 1:
            with ProcessPoolExecutor(jobs) as pool:
                names = list(pool.map(one, photos))
        else:
            names = [one(photo) for photo in photos]
        for photo, (image, mask) in zip(photos, names, strict=True):
            rows.append([image, mask, LABELS[photo.label], photo.kind])
    return len(photos)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("photos", type=Path, help="a --photos folder (images/, masks/)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--short-side", type=int, default=512)
    ap.add_argument("--quality", type=int, default=75)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if args.out.exists():
        print(f"{args.out}: exists; remove it or choose another --out", file=sys.stderr)
        return 2
    if args.short_side < 64 or not 1 <= args.quality <= 100:
        print("--short-side must be at least 64 and --quality 1-100", file=sys.stderr)
        return 2
    try:
        count = build(args.photos, args.out, args.short_side, args.quality, args.jobs)
    except (FileNotFoundError, ValueError) as e:
        print(str(e).splitlines()[0], file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {count} photos with masks, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
