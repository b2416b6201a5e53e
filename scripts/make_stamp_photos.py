"""Make extra training photos: Tux Paint's photographic stamps pasted onto background photos.

The shared photos lack many kinds of object that benchmark photos show (fruit, food,
vehicles, animals, household things). Debian's ``tuxpaint-stamps-default`` package
(GPL-2, fetched here from deb.debian.org, never committed) holds ~800 cut-outs with alpha,
about 360 of them photographs. Each output photo is one cut-out, scaled to cover 8-50% of
the frame, pasted onto a random crop of a background photo; its alpha is the mask and its
stamp folder (``fruit``, ``birds``, ...) the kind of object, so ``--transfer-from
same-kind`` lends colours between cut-outs of one kind. The output folder has the layout
``s2crnet train --photos`` reads (``images/``, ``masks/``, ``labels.csv``).

Usage:
    python scripts/make_stamp_photos.py --backgrounds ../shared/data/photos-with-masks/images \\
        --out data/stamp-photos [--count 1500] [--deb PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import lzma
import sys
import tarfile
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from s2crnet.data.photos import new_photo_folder
from s2crnet.folders import list_images

DEB_URL = (
    "http://deb.debian.org/debian/pool/main/t/tuxpaint-stamps/"
    "tuxpaint-stamps-default_2022.06.04-1_all.deb"
)
DEB_SHA256 = "6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34"
MAX_FLAT = 0.1  # drawings have large flat areas; photographs almost none
MIN_PIXELS = 2000  # opaque pixels a usable cut-out has at least


def fetch_deb(cache: Path) -> bytes:
    """The package's bytes (downloaded once into ``cache``), checked against its hash."""
    if not cache.is_file():
        cache.parent.mkdir(parents=True, exist_ok=True)
        try:
            with urllib.request.urlopen(DEB_URL, timeout=60) as r:
                data = r.read()
        except OSError as e:
            raise SystemExit(f"{DEB_URL}: download failed ({e}); or give --deb PATH") from None
        tmp = cache.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(cache)
    data = cache.read_bytes()
    if hashlib.sha256(data).hexdigest() != DEB_SHA256:
        raise SystemExit(f"{cache}: not the expected package (SHA-256 differs); delete it")
    return data


def deb_members(data: bytes) -> dict[str, bytes]:
    """The members of a Debian package (an ``ar`` archive)."""
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not a Debian package (no ar header)")
    members, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size % 2)
    return members


def stamp_pngs(deb: bytes) -> dict[str, bytes]:
    """``{path: PNG bytes}`` of every stamp in the package."""
    payload = deb_members(deb)["data.tar.xz"]
    out = {}
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(payload))) as tar:
        for m in tar.getmembers():
            if m.isfile() and m.name.endswith(".png") and "/stamps/" in m.name:
                out[m.name] = tar.extractfile(m).read()
    return out


def flatness(rgba: np.ndarray) -> float:
    """Share of opaque pixels whose right and upper neighbours have the same colour."""
    im = rgba.astype(np.int16)
    opaque = rgba[..., 3] > 250
    inner = opaque[1:, 1:] & opaque[:-1, 1:] & opaque[1:, :-1]
    dx = np.abs(im[1:, 1:, :3] - im[1:, :-1, :3]).sum(-1)
    dy = np.abs(im[1:, 1:, :3] - im[:-1, 1:, :3]).sum(-1)
    flat = ((dx <= 1) & (dy <= 1))[inner]
    return float(flat.mean()) if flat.size else 1.0


def photographic(stamps: dict[str, bytes]) -> list[tuple[str, Image.Image]]:
    """``(kind, RGBA image)`` of the cut-outs that are photographs, cropped to their alpha."""
    out = []
    for path, png in sorted(stamps.items()):
        im = Image.open(io.BytesIO(png)).convert("RGBA")
        rgba = np.asarray(im)
        if (rgba[..., 3] > 250).sum() < MIN_PIXELS or flatness(rgba) >= MAX_FLAT:
            continue
        out.append((Path(path).parent.name, im.crop(im.getchannel("A").getbbox())))
    return out


def paste(
    stamp: Image.Image, background: Image.Image, rng: np.random.Generator, long_side: int
) -> tuple[Image.Image, Image.Image]:
    """(photo, mask): ``stamp`` on a random crop of ``background``."""
    w, h = background.size
    aspect = float(rng.uniform(0.75, 1.33))
    cw = min(w, int(h * aspect))
    ch = min(h, int(cw / aspect))
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    scale = long_side / max(cw, ch)
    frame = (
        background.crop((x0, y0, x0 + cw, y0 + ch))
        .resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.Resampling.BICUBIC)
        .convert("RGB")
    )
    fw, fh = frame.size
    cover = float(rng.uniform(0.08, 0.5))  # of the frame's area, by the stamp's box
    sw, sh = stamp.size
    k = min(np.sqrt(cover * fw * fh / (sw * sh)), 0.95 * fw / sw, 0.95 * fh / sh)
    stamp = stamp.resize((max(1, round(sw * k)), max(1, round(sh * k))), Image.Resampling.LANCZOS)
    px, py = int(rng.integers(0, fw - stamp.width + 1)), int(rng.integers(0, fh - stamp.height + 1))
    frame.paste(stamp, (px, py), stamp)
    mask = Image.new("L", frame.size, 0)
    mask.paste(stamp.getchannel("A"), (px, py))
    return frame, mask


def build(
    stamps: list[tuple[str, Image.Image]],
    backgrounds: list[Path],
    out: Path,
    count: int,
    seed: int = 0,
    long_side: int = 400,
) -> None:
    """Write ``count`` pasted photos to ``out`` (made whole in ``out.part``, then renamed)."""
    rng = np.random.default_rng(seed)
    with new_photo_folder(out) as (tmp, rows):
        for i in range(count):
            kind, stamp = stamps[i % len(stamps)]
            with Image.open(backgrounds[int(rng.integers(0, len(backgrounds)))]) as bg:
                photo, mask = paste(stamp, bg, rng, long_side)
            name = f"stamp{i:05d}"
            photo.save(tmp / "images" / f"{name}.jpg", quality=95)
            mask.save(tmp / "masks" / f"{name}.png")
            rows.append([f"{name}.jpg", f"{name}.png", "other", kind])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backgrounds", type=Path, required=True, help="a folder of photos")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--long-side", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deb", type=Path, default=Path("runs/cache/tuxpaint-stamps.deb"))
    args = ap.parse_args(argv)
    if not args.backgrounds.is_dir():
        print(f"{args.backgrounds}: not a folder", file=sys.stderr)
        return 2
    backgrounds = list_images(args.backgrounds)
    if not backgrounds:
        print(f"{args.backgrounds}: no images found", file=sys.stderr)
        return 2
    if args.out.exists():
        print(f"{args.out}: exists; remove it or choose another --out", file=sys.stderr)
        return 2
    stamps = photographic(stamp_pngs(fetch_deb(args.deb)))
    print(f"{len(stamps)} photographic cut-outs")
    build(stamps, backgrounds, args.out, args.count, args.seed, args.long_side)
    print(f"{args.out}: {args.count} photos with masks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
