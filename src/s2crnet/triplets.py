"""The iHarmony4 benchmark's layout, without PyTorch: its triplets, split lists and label
lists (evaluation reads them; the training dataset, :mod:`s2crnet.data.iharmony4`, too).

``<root>/<Subset>/{composite_images,masks,real_images}`` and
``<root>/<Subset>/<Subset>_{train,test}.txt`` (one composite file name a line). Naming:
composite ``a0041_1_5.jpg`` -> mask ``a0041_1.png`` -> real ``a0041.jpg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .folders import iharmony4_mask_stem
from .images import IMAGE_EXTENSIONS
from .labels import DEFAULT_LABEL, label_index

__all__ = ["SUBSETS", "Triplet", "list_triplets", "read_label_list"]

SUBSETS = ("HCOCO", "HAdobe5k", "HFlickr", "Hday2night")


@dataclass(frozen=True)
class Triplet:
    composite: Path
    mask: Path
    real: Path
    subset: str
    label: int = DEFAULT_LABEL

    @property
    def name(self) -> str:
        return self.composite.name


def read_label_list(path: str | Path) -> dict[str, int]:
    """A semantic label list: ``NAME LABEL`` per line (a file name or stem; a class name or
    index). Blank lines and ``#`` comments are skipped."""
    labels: dict[str, int] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise InputError(f"{path}:{number}: expected 'NAME LABEL', got {line!r}")
        try:
            labels[parts[0]] = label_index(parts[1])
        except ValueError as exc:
            raise InputError(f"{path}:{number}: {exc}") from None
    return labels


def _with_stem(folder: Path, stem: str, preferred: str) -> Path:
    """``folder/stem + preferred`` or, failing that, the same stem with another image
    extension (the published files are .jpg images and .png masks)."""
    path = folder / (stem + preferred)
    if path.is_file():
        return path
    return next((p for ext in IMAGE_EXTENSIONS if (p := folder / (stem + ext)).is_file()), path)


def list_triplets(
    root: str | Path,
    split: str = "train",
    subsets: list[str] | tuple[str, ...] | None = None,
    labels: dict[str, int] | str | Path | None = None,
) -> list[Triplet]:
    """Every (composite, mask, real) of ``split`` in the chosen subsets.

    Args:
        root: the folder that holds the subset folders.
        split: ``train`` or ``test`` (the ``<Subset>_<split>.txt`` lists; a subset without
            the list contributes every composite it has).
        subsets: names to use; by default every subset folder present.
        labels: a label list (see :func:`read_label_list`) or its path; unlisted images
            are ``other``.

    Raises:
        FileNotFoundError: a missing root, subset, or a listed file that is not there.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such iHarmony4 folder")
    present = sorted(p.name for p in root.iterdir() if (p / "composite_images").is_dir())
    chosen = list(subsets) if subsets else present
    absent = [s for s in chosen if s not in present]
    if absent:
        raise FileNotFoundError(
            f"{root}: subsets not found: {', '.join(absent)} "
            f"(present: {', '.join(present) or 'none'})"
        )
    if isinstance(labels, str | Path):
        labels = read_label_list(labels)
    labels = labels or {}
    triplets = []
    for subset in chosen:
        folder = root / subset
        listing = folder / f"{subset}_{split}.txt"
        if listing.is_file():
            names = [
                Path(line.strip()).name for line in listing.read_text().splitlines() if line.strip()
            ]
        else:
            names = sorted(p.name for p in (folder / "composite_images").iterdir() if p.is_file())
        for name in names:
            stem = Path(name).stem
            mask_stem = iharmony4_mask_stem(stem) or stem
            real_stem = iharmony4_mask_stem(mask_stem) or mask_stem
            triplet = Triplet(
                composite=folder / "composite_images" / name,
                mask=_with_stem(folder / "masks", mask_stem, ".png"),
                real=_with_stem(folder / "real_images", real_stem, ".jpg"),
                subset=subset,
                label=labels.get(name, labels.get(stem, DEFAULT_LABEL)),
            )
            for path in (triplet.composite, triplet.mask, triplet.real):
                if not path.is_file():
                    raise FileNotFoundError(f"{path}: listed in {subset} but missing")
            triplets.append(triplet)
    if not triplets:
        raise FileNotFoundError(f"{root}: no {split} images found")
    return triplets
