"""Synthetic composites from any folder of photos with object masks."""

from __future__ import annotations

import csv
import shutil
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from ..folders import list_images
from ..labels import DEFAULT_LABEL, LABELS
from .common import Key, load_float, load_mask_float, sample_rng, split_key, to_sample
from .synthetic import TRANSFER_SOURCES, ColourFamily, Reference, jitter_photo, make_composite
from .transforms import random_crop_flip

__all__ = [
    "Photo",
    "PhotoComposites",
    "check_photos",
    "list_photos",
    "new_photo_folder",
    "photo_problem",
]


@dataclass(frozen=True)
class Photo:
    image: Path
    mask: Path
    label: int = DEFAULT_LABEL
    kind: str = ""  # the object's name (labels.csv ``object_name``), "" when unknown


def list_photos(root: str | Path) -> list[Photo]:
    """Photos and masks under ``root``: ``images/NAME.*`` with ``masks/NAME.png``.

    ``labels.csv`` (columns ``image``, ``mask``, ``semantic_class``, optional
    ``object_name``), when present, lists the pairs, their classes and kinds of object;
    otherwise images and masks pair by name, class ``other``. Unknown class names count
    as ``other``.
    """
    root = Path(root)
    images, masks = root / "images", root / "masks"
    if not root.is_dir():
        problem = "is a file, not a folder" if root.exists() else "no such folder"
        raise FileNotFoundError(f"{root}: {problem}")
    if not images.is_dir() or not masks.is_dir():
        raise FileNotFoundError(f"{root}: expected the folders images/ and masks/")
    table = root / "labels.csv"
    photos = []
    if table.is_file():
        with open(table, newline="") as f:
            for row in csv.DictReader(f):
                name = (row.get("semantic_class") or "other").strip().lower()
                label = LABELS.index(name) if name in LABELS else DEFAULT_LABEL
                kind = (row.get("object_name") or "").strip().lower()
                photos.append(Photo(images / row["image"], masks / row["mask"], label, kind))
    else:
        by_stem = {p.stem: p for p in list_images(masks)}
        photos = [Photo(p, by_stem[p.stem]) for p in list_images(images) if p.stem in by_stem]
    missing = [p for p in photos if not p.image.is_file() or not p.mask.is_file()]
    if missing:
        warnings.warn(
            f"{root}: {len(missing)} listed photos or masks are missing "
            f"(first: {missing[0].image.name}); skipped",
            stacklevel=2,
        )
        photos = [p for p in photos if p not in missing]
    if not photos:
        raise FileNotFoundError(f"{root}: no photo with a mask found")
    return photos


def photo_problem(photo: Photo) -> str | None:
    """What is wrong with a photo and its mask for training, or None: unreadable, sizes
    that differ (after the EXIF orientation), an empty mask or one that covers everything.
    The image is read from its header only; the mask is decoded."""
    from PIL import Image, UnidentifiedImageError

    from ..errors import InputError
    from ..images import read_mask

    try:
        with Image.open(photo.image) as img:
            width, height = img.size
            if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # rotated by a quarter turn
                width, height = height, width
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        return f"{photo.image}: unreadable ({exc})"
    try:
        values = read_mask(photo.mask, 0).oriented()
    except (InputError, OSError, ValueError) as exc:
        return f"{photo.mask}: unreadable ({str(exc).removeprefix(f'{photo.mask}: ')})"
    if values.shape != (height, width):
        return (f"{photo.mask}: mask is {values.shape[1]}x{values.shape[0]} but its photo "
                f"{photo.image.name} is {width}x{height}")  # fmt: skip
    if not (values > 127).any():
        return f"{photo.mask}: the mask is empty"
    if (values > 127).all():
        return f"{photo.mask}: the mask covers the whole photo (no background)"
    return None


def check_photos(photos: list[Photo], skip_bad: bool = False) -> list[Photo]:
    """The photos fit for training (see :func:`photo_problem`). Bad pairs raise one
    :class:`ValueError` listing them, or, with ``skip_bad``, are left out with a warning
    saying how many."""
    problems = [(photo, problem) for photo in photos if (problem := photo_problem(photo))]
    if not problems:
        return photos
    shown = "; ".join(problem for _, problem in problems[:10])
    more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
    if not skip_bad:
        raise ValueError(
            f"{len(problems)} of {len(photos)} training photos cannot be used: {shown}{more}; "
            "fix or remove them, or pass --skip-bad-photos to leave them out"
        )
    warnings.warn(f"left out {len(problems)} of {len(photos)} training photos: {shown}{more}",
                  stacklevel=2)  # fmt: skip
    bad = {id(photo) for photo, _ in problems}
    return [photo for photo in photos if id(photo) not in bad]


@contextmanager
def new_photo_folder(out: str | Path) -> Iterator[tuple[Path, list[list[str]]]]:
    """Write a folder that :func:`list_photos` reads, whole or not at all.

    Yields ``(tmp, rows)``: save files under ``tmp / "images"`` and ``tmp / "masks"`` and
    append one ``[image, mask, semantic_class, object_name]`` row per photo. On success
    ``labels.csv`` is written and ``tmp`` (``OUT.part``) renamed to ``out``; on any error
    ``tmp`` is removed.
    """
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)  # a run stopped half-way
    (tmp / "images").mkdir(parents=True)
    (tmp / "masks").mkdir()
    rows: list[list[str]] = []
    try:
        yield tmp, rows
        with open(tmp / "labels.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["image", "mask", "semantic_class", "object_name"])
            writer.writerows(rows)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # nothing half-made is left
        raise
    tmp.replace(out)


class PhotoComposites(Dataset):
    """Training samples made from photos: the object recoloured (composite), the photo
    itself (target). Every (epoch, index) draws its own crop, flip and colour change; a
    fraction ``harmonious`` of the samples show the untouched photo as the input.

    ``transfer_from``: where the ``transfer`` colour change takes its colours: ``"any"``
    other photo's object, or ``"same-kind"``: another object of the same kind (a car's
    from a car, as iHarmony4's HCOCO and HFlickr composites were made), falling back to
    any photo when the kind is unknown or alone.

    ``jitter``: the fraction of samples whose whole photo (target and background alike)
    is first mildly recoloured (:func:`~s2crnet.data.synthetic.jitter_photo`).

    ``root``: one folder (see :func:`list_photos`) or several, whose photos are pooled;
    every pair is checked first (:func:`check_photos`; ``skip_bad`` leaves bad ones out)."""

    def __init__(
        self,
        root: str | Path | Sequence[str | Path],
        size: int = 256,
        family: ColourFamily | None = None,
        seed: int = 0,
        min_scale: float = 0.5,
        flip: bool = True,
        harmonious: float = 0.0,
        transfer_from: str = "any",
        jitter: float = 0.0,
        skip_bad: bool = False,
    ) -> None:
        if transfer_from not in TRANSFER_SOURCES:
            raise ValueError(
                f"transfer_from must be one of {', '.join(TRANSFER_SOURCES)}, got {transfer_from!r}"
            )
        roots = [root] if isinstance(root, (str, Path)) else list(root)
        self.photos = check_photos([photo for r in roots for photo in list_photos(r)], skip_bad)
        self.same_kind: dict[str, list[int]] = {}
        if transfer_from == "same-kind":
            for i, photo in enumerate(self.photos):
                if photo.kind:
                    self.same_kind.setdefault(photo.kind, []).append(i)
        self.size, self.seed, self.min_scale, self.flip = size, seed, min_scale, flip
        self.family = family or ColourFamily()
        self.harmonious = harmonious
        if not 0 <= jitter <= 1:
            raise ValueError(f"jitter must be in [0, 1], got {jitter}")
        self.jitter = jitter

    def __len__(self) -> int:
        return len(self.photos)

    def reference_index(self, rng: np.random.Generator, index: int) -> int:
        """The photo whose object lends its colours to ``index``'s ``transfer``."""
        peers = self.same_kind.get(self.photos[index].kind, [])
        if len(peers) > 1:  # another object of the same kind
            other = peers[int(rng.integers(0, len(peers) - 1))]
            return peers[-1] if other == index else other
        if len(self.photos) == 1:
            return index
        other = int(rng.integers(0, len(self.photos) - 1))  # any other photo
        return other + (other >= index)

    def _reference(self, rng: np.random.Generator, index: int) -> Reference:
        photo = self.photos[self.reference_index(rng, index)]
        image = load_float(photo.image)
        return Reference(image, load_mask_float(photo.mask, image.shape[:2]))

    def __getitem__(self, key: Key) -> dict:
        index, epoch = split_key(key)
        rng = sample_rng(self.seed, index, epoch)
        photo = self.photos[index]
        target = load_float(photo.image)
        mask = load_mask_float(photo.mask, target.shape[:2])
        target, mask = random_crop_flip([target, mask], rng, self.size, self.min_scale, self.flip)
        if not (mask > 0.5).any():  # an object too thin for the thumbnail: keep it whole
            mask = (mask > 0).astype(mask.dtype)
        if not (mask > 0.5).any():
            raise ValueError(f"{photo.mask}: the mask is empty")
        if self.jitter > 0 and rng.random() < self.jitter:  # a recoloured photo is the target
            target = jitter_photo(target, rng)
        if rng.random() < self.harmonious:  # an already harmonious input: keep it as it is
            return to_sample(target, mask, target, photo.label)
        composite, _ = make_composite(
            target, mask, rng, self.family, lambda: self._reference(rng, index)
        )
        return to_sample(composite, mask, target, photo.label)
