"""Make object-centred training photos: the photographs among GCompris' images, with object
masks from a salient-object model.

The shared photos hardly hold close-up objects of many kinds (animals in the wild, tools,
monuments, instruments). Two packages, fetched by name from the package registries,
hash-checked and never committed, make up for some of that:

* Debian's ``gcompris-qt-data`` (``apt-get download``): about 870 WebP images inside Qt
  ``.rcc`` resource files; its copyright file gives their licences (mostly CC and public
  domain). About 280 are full-frame photographs.
* npm's ``@imgly/background-removal-data`` (``npm pack``): the ISNet salient-object model
  as ONNX (MIT; the npm package is AGPL-3.0, so it is only run here, as a data-making
  tool: the ``s2crnet`` package never ships or imports it).

Photos are told from drawings by where they come from and by their pixels: images of the
activities that show paintings or drawings (``paintings``, ``details``, ``lang``,
``babyshapes``' paintings, ``louis-braille``, ``chronos``...) are left out; of the rest,
an image counts as a photograph when it is fully opaque (cut-outs and drawings carry
transparency), has at least ``MIN_COLOURS`` distinct colours (at 5 bits a channel) and at
most ``MAX_FLAT`` of its horizontal neighbour pairs are identical (flat fills).

A mask is kept when the model is decided (the mean of ``|2p - 1|`` over the image at
least ``MIN_CONFIDENCE``), the object's largest connected part covers ``MIN_AREA`` to
``MAX_AREA`` of the frame and holds at least ``MIN_MAIN`` of the mask: one clear object.
The kind of object (``object_name``) and its class come from the image's name and folder.

Usage:
    python scripts/make_object_photos.py --out runs/data/object-photos [--sheet sheet.png]
        [--cache runs/cache] [--deb PATH] [--model-package PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import struct
import subprocess
import tarfile
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from s2crnet.data.photos import new_photo_folder

DEB = "gcompris-qt-data=3.1-2"
DEB_SHA256 = "e9cf06ab2105529068df73085784e835d2ff03f870d2a8091f09125d40abac9f"
NPM = "@imgly/background-removal-data@1.4.5"
NPM_SHA256 = "ca7789abb39370727c9a098310b53bce41518d200000423c7107f8c01bbce946"
MODEL = "/models/medium"  # ISNet, float32, 1024x1024 input

#: activities whose images are paintings, drawings or charts, never photographs
ARTWORK = ("paintings", "details", "lang", "chronos", "louis-braille", "gravity",
           "solar_system", "leftright", "clickgame")  # fmt: skip
MIN_COLOURS, MAX_FLAT = 600, 0.6
MIN_CONFIDENCE, MIN_AREA, MAX_AREA, MIN_MAIN = 0.85, 0.03, 0.7, 0.9
LONG_SIDE = 512

#: (pattern in the image's path, semantic class); the first that matches
CLASSES = (
    (r"animals|erase|fishes|babyshapes_resource_dog", "animal"),
    (r"music_.*(player|musician|band|orchestra|people)", "person"),
    (r".", "other"),
)


# --------------------------------------------------------------------------- fetching
def _checked(path: Path, sha256: str, package: str, cached: bool) -> bytes:
    """``path``'s bytes if they are ``package`` (by SHA-256); else one line and exit."""
    if not path.is_file():
        raise SystemExit(f"{path}: no such file")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        again = "; delete it to fetch it again" if cached else ""
        raise SystemExit(f"{path}: not {package} (its SHA-256 differs){again}")
    return data


def _fetched(cache: Path, pattern: str, command: list[str]) -> Path:
    """The newest file matching ``pattern`` in ``cache``, fetched there first if none is."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(pattern))
    if not found:
        try:
            subprocess.run(command, cwd=cache, check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SystemExit(f"{' '.join(command)} failed ({exc})") from None
        found = sorted(cache.glob(pattern))
    if not found:
        raise SystemExit(f"{' '.join(command)} left no {pattern} in {cache}")
    return found[-1]


def fetch(cache: Path, deb: Path | None, npm: Path | None) -> tuple[bytes, bytes]:
    """The two packages' bytes, fetched once into ``cache`` by package name. Each is
    checked as soon as it is at hand, the files given first: a wrong one stops the run
    before anything is fetched."""
    packages = [
        (deb, "gcompris-qt-data_*.deb", ["apt-get", "download", DEB], DEB, DEB_SHA256),
        (npm, "imgly-background-removal-data-*.tgz", ["npm", "pack", NPM], NPM, NPM_SHA256),
    ]
    data = {}
    for given, pattern, command, name, sha256 in sorted(packages, key=lambda p: p[0] is None):
        path = given or _fetched(cache, pattern, command)
        data[name] = _checked(path, sha256, name, cached=given is None)
    return data[DEB], data[NPM]


def deb_files(data: bytes, suffix: str) -> dict[str, bytes]:
    """The files of a Debian package whose names end with ``suffix``."""
    import lzma

    members, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        size = int(header[48:58].decode().strip())
        members[header[:16].decode().strip().rstrip("/")] = data[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size % 2)
    name = next(n for n in members if n.startswith("data.tar"))
    payload = members[name]
    payload = lzma.decompress(payload) if name.endswith(".xz") else payload
    out = {}
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        for m in tar.getmembers():
            if m.isfile() and m.name.endswith(suffix):
                out[m.name] = tar.extractfile(m).read()
    return out


def rcc_files(data: bytes) -> dict[str, bytes]:
    """The files inside a Qt binary resource (``.rcc``): ``{path: bytes}``."""
    if data[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node = 22 if version >= 2 else 14

    def name(offset: int) -> str:
        length = struct.unpack(">H", data[names + offset : names + offset + 2])[0]
        return data[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    out: dict[str, bytes] = {}
    stack = [(0, "")]
    while stack:
        index, prefix = stack.pop()
        base = tree + index * node
        name_offset, flags = struct.unpack(">IH", data[base : base + 6])
        path = f"{prefix}/{name(name_offset)}" if index else ""
        if flags & 2:  # a directory
            count, first = struct.unpack(">II", data[base + 6 : base + 14])
            stack += [(first + i, path) for i in range(count)]
            continue
        offset = struct.unpack(">I", data[base + 10 : base + 14])[0]
        size = struct.unpack(">I", data[payload + offset : payload + offset + 4])[0]
        blob = data[payload + offset + 4 : payload + offset + 4 + size]
        out[path] = zlib.decompress(blob[4:]) if flags & 1 else blob
    return out


def isnet(npm: bytes):
    """The ISNet ONNX model from the npm package (its chunks joined and hash-checked)."""
    import onnxruntime as ort

    with tarfile.open(fileobj=io.BytesIO(npm)) as tar:
        files = {m.name: m for m in tar.getmembers() if m.isfile()}
        table = json.load(tar.extractfile(files["package/dist/resources.json"]))[MODEL]
        chunks = []
        for chunk in table["chunks"]:
            blob = tar.extractfile(files[f"package/dist/{chunk['hash']}"]).read()
            if hashlib.sha256(blob).hexdigest() != chunk["hash"]:
                raise SystemExit(f"{NPM}: chunk {chunk['hash']} is damaged")
            chunks.append(blob)
    return ort.InferenceSession(b"".join(chunks), providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------- judging
def is_photo(path: str, image: Image.Image) -> tuple[bool, str]:
    """Whether an image is a photograph, and why not."""
    activity = path.split("/activities/")[-1].split("/")[0] if "/activities/" in path else ""
    if activity in ARTWORK or re.search(r"babyshapes/.*image", path):
        return False, f"artwork activity {activity}"
    rgba = np.asarray(image.convert("RGBA"))
    if (rgba[..., 3] < 250).mean() > 0.01:
        return False, "transparent (a cut-out or a drawing)"
    rgb = rgba[..., :3].astype(np.int32)
    colours = len(np.unique((rgb // 8) @ np.array([1, 32, 1024])))
    flat = float((np.abs(np.diff(rgb, axis=1)).sum(axis=2) == 0).mean())
    if colours < MIN_COLOURS:
        return False, f"{colours} colours"
    if flat > MAX_FLAT:
        return False, f"flat {flat:.2f}"
    return True, ""


def object_mask(session, rgb: np.ndarray) -> tuple[np.ndarray | None, str]:
    """ISNet's object mask (uint8 0/255) or None, and why it was dropped."""
    h, w = rgb.shape[:2]
    x = cv2.resize(rgb, (1024, 1024), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    x = ((x - 128.0) / 256.0).transpose(2, 0, 1)[None]
    p = session.run(["output"], {"input": x})[0][0, 0]
    p = cv2.resize(np.clip(p, 0, 1), (w, h), interpolation=cv2.INTER_LINEAR)
    confidence = float(np.abs(2 * p - 1).mean())
    binary = (p > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary)
    if count < 2:
        return None, "no object"
    main = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = stats[main, cv2.CC_STAT_AREA] / (h * w)
    share = stats[main, cv2.CC_STAT_AREA] / max(1, int(binary.sum()))
    if confidence < MIN_CONFIDENCE:
        return None, f"undecided ({confidence:.2f})"
    if not MIN_AREA <= area <= MAX_AREA:
        return None, f"area {area:.0%}"
    if share < MIN_MAIN:
        return None, f"scattered ({share:.0%} in one part)"
    mask = np.where(labels == main, 255, 0).astype(np.uint8)
    filled = cv2.drawContours(
        np.zeros_like(mask),
        cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0],
        -1,
        255,
        cv2.FILLED,
    )
    return filled, ""


def semantic_class(path: str) -> str:
    return next(label for pattern, label in CLASSES if re.search(pattern, path))


def kind(path: str) -> str:
    stem = Path(path).stem.lower()
    return re.sub(r"[\d_]+$", "", re.sub(r"^(tools|renewable|fishes|monuments|others)_", "", stem))


def contact_sheet(items: list[tuple[np.ndarray, np.ndarray | None, str]], path: Path) -> None:
    """Kept photos with their mask outlined (green), dropped ones with the reason (red)."""
    tiles = []
    for rgb, mask, note in items:
        tile = cv2.resize(rgb, (160, 120), interpolation=cv2.INTER_AREA)
        if mask is not None:
            small = cv2.resize(mask, (160, 120), interpolation=cv2.INTER_NEAREST)
            contours = cv2.findContours(small, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
            tile = cv2.drawContours(tile.copy(), contours, -1, (0, 255, 0), 2)
        band = np.full((16, 160, 3), 255, np.uint8)
        colour = (0, 120, 0) if mask is not None else (200, 0, 0)
        cv2.putText(band, note[:26], (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1)
        tiles.append(np.vstack([tile, band]))
    while len(tiles) % 10:
        tiles.append(np.full_like(tiles[0], 255))
    grid = np.vstack([np.hstack(tiles[i : i + 10]) for i in range(0, len(tiles), 10)])
    Image.fromarray(grid).save(path)


def _reason(why: str) -> str:
    """The kind of a reason: "600 colours" -> "colours", "flat 0.66" -> "flat"."""
    words = why.split()
    return words[1] if words[0][0].isdigit() else words[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--deb", type=Path, help="gcompris-qt-data's .deb, if already here")
    parser.add_argument("--model-package", type=Path, help="the npm package's .tgz")
    parser.add_argument("--sheet", type=Path, help="write a contact sheet (PNG) here")
    args = parser.parse_args()
    deb, npm = fetch(args.cache, args.deb, args.model_package)
    session = isnet(npm)
    images = {}
    for name, rcc in sorted(deb_files(deb, ".rcc").items()):
        for path, blob in rcc_files(rcc).items():
            if path.lower().endswith(".webp"):
                images[f"{Path(name).stem}:{path}"] = blob
    kept, dropped, sheet = 0, {}, []
    with new_photo_folder(args.out) as (tmp, rows):
        for key, blob in sorted(images.items()):
            image = Image.open(io.BytesIO(blob))
            photo, why = is_photo(key, image)
            if not photo:
                reason = _reason(why)
                dropped[reason] = dropped.get(reason, 0) + 1
                continue
            rgb = np.asarray(image.convert("RGB"))
            scale = LONG_SIDE / max(rgb.shape[:2])
            if scale < 1:
                rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            mask, why = object_mask(session, rgb)
            sheet.append((rgb, mask, kind(key) if mask is not None else why))
            if mask is None:
                reason = "mask " + _reason(why)
                dropped[reason] = dropped.get(reason, 0) + 1
                continue
            stem = f"gc_{kept:04d}_{kind(key)}"
            Image.fromarray(rgb).save(tmp / "images" / f"{stem}.jpg", quality=92)
            Image.fromarray(mask).save(tmp / "masks" / f"{stem}.png")
            rows.append([f"{stem}.jpg", f"{stem}.png", semantic_class(key), kind(key)])
            kept += 1
    classes = {c: sum(row[2] == c for row in rows) for c in {row[2] for row in rows}}
    print(f"{len(images)} images; kept {kept} {classes}; dropped {dropped}")
    if args.sheet is not None:
        contact_sheet(sheet, args.sheet)
        print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
