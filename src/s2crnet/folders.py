"""Pairing composites with their masks in folders (equal names or the iHarmony4 rule)."""

from __future__ import annotations

from pathlib import Path

from .images import IMAGE_EXTENSIONS

__all__ = ["iharmony4_mask_stem", "list_images", "pair_images"]


def iharmony4_mask_stem(stem: str) -> str | None:
    """iHarmony4 naming: composite ``a0041_1_5`` -> mask ``a0041_1`` (drop the last ``_v``).

    >>> iharmony4_mask_stem("a0041_1_5"), iharmony4_mask_stem("photo")
    ('a0041_1', None)
    """
    head, sep, _ = stem.rpartition("_")
    return head if sep and head else None


def list_images(folder: Path) -> list[Path]:
    """The image files directly inside ``folder``, sorted by name (hidden files skipped)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
    )


def pair_images(composite_folder: Path, mask_folder: Path) -> list[tuple[Path, Path | None]]:
    """Every composite in ``composite_folder`` with its mask from ``mask_folder`` (or None).

    A mask matches by equal stem first (any image extension: ``photo.jpg`` pairs with
    ``photo.png``), then by the iHarmony4 rule.
    """
    by_stem: dict[str, Path] = {}
    for p in list_images(mask_folder):
        by_stem.setdefault(p.stem, p)
    pairs = []
    for composite in list_images(composite_folder):
        stems = (composite.stem, iharmony4_mask_stem(composite.stem))
        mask = next((by_stem[s] for s in stems if s is not None and s in by_stem), None)
        pairs.append((composite, mask))
    return pairs
