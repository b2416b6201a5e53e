"""Side by side with published systems: per-image benchmark files and the comparison.

The per-image files published with PCT-Net (``evaluation_<system>.csv``: ``Name, MSE,
...`` for each iHarmony4 test image at full resolution) give, on the same images, the
composite's own MSE (``evaluation_composite.csv``) and each system's. Images are matched
by name without the suffix (Harmonizer's file writes ``.jpg``, the others do not). Before
a system is compared on an image, our input MSE must equal the published composite MSE
within a relative tolerance: that proves the protocol (full resolution, the same real
image and mask) is the same; images that differ are named and left out.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "INPUT_SYSTEM",
    "SYSTEM_NAMES",
    "Comparison",
    "compare",
    "format_comparison",
    "read_published",
]

#: The file stem that holds the composites' own scores (the protocol check).
INPUT_SYSTEM = "composite"
#: Display names of the systems whose files PCT-Net published; other files keep their stem.
SYSTEM_NAMES = {
    "harmonizer": "Harmonizer",
    "DCCF": "DCCF",
    "PCTNet_CNN": "PCT-Net (CNN)",
    "PCTNet_ViT": "PCT-Net (ViT)",
}


def image_key(name: str) -> str:
    """The name images are matched by: the file name without folder and suffix.

    >>> image_key("HFlickr/composite_images/f160_1_2.jpg"), image_key("a3630_1_5")
    ('f160_1_2', 'a3630_1_5')
    """
    return Path(name.strip()).stem


def read_published(folder: str | Path) -> dict[str, dict[str, float]]:
    """Every ``evaluation_<system>.csv`` in ``folder``: ``{system: {image key: MSE}}``.

    The display name (:data:`SYSTEM_NAMES`) replaces a known stem; the composites' file is
    kept as :data:`INPUT_SYSTEM`. Raises ``FileNotFoundError`` for a missing folder or one
    without the composites' file, ``ValueError`` (naming the file) for a file without
    ``Name`` and ``MSE`` columns or with a value that is not a number.
    """
    folder = Path(folder)
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "no such folder"
        raise FileNotFoundError(f"{folder}: {problem}")
    systems: dict[str, dict[str, float]] = {}
    for path in sorted(folder.glob("evaluation_*.csv")):
        stem = path.stem.removeprefix("evaluation_")
        name = stem if stem == INPUT_SYSTEM else SYSTEM_NAMES.get(stem, stem)
        systems[name] = _read_scores(path)
    if INPUT_SYSTEM not in systems:
        raise FileNotFoundError(
            f"{folder}: no evaluation_{INPUT_SYSTEM}.csv (the composites' own scores, "
            "needed to check that the protocol is the same)"
        )
    return systems


def _read_scores(path: Path) -> dict[str, float]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or not {"Name", "MSE"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: expected the columns Name and MSE")
            scores = {}
            for line, row in enumerate(reader, start=2):
                try:
                    value = float(row["MSE"])
                except (TypeError, ValueError):
                    raise ValueError(
                        f"{path}: line {line}: MSE {row['MSE']!r} is not a number"
                    ) from None
                if not math.isfinite(value) or value < 0:
                    raise ValueError(f"{path}: line {line}: MSE {value} is not a valid error")
                scores[image_key(row["Name"] or "")] = value
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text CSV file") from None
    except OSError as exc:  # unreadable: permissions, a folder named like a file
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return scores


@dataclass(frozen=True)
class Comparison:
    """Our per-image MSE beside the published systems' on the images that match.

    ``rows``: one per compared image, ``{"name", "subset", "input", "ours", system: MSE}``
    (a system's entry is missing where its file lacks the image); ``means``: the mean over
    the compared images for ``input``, ``ours`` and every system that scored all of them;
    ``differ``: images whose input MSE differs from the published composite MSE (name,
    ours, published), left out; ``missing``: our images that the files do not list.
    """

    systems: list[str]
    rows: list[dict[str, Any]]
    means: dict[str, float]
    differ: list[tuple[str, float, float]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    tolerance: float = 0.01

    def to_json(self) -> dict[str, Any]:
        return {
            "systems": self.systems,
            "tolerance": self.tolerance,
            "compared": len(self.rows),
            "means": self.means,
            "ratios": {
                s: self.means["ours"] / v for s, v in self.means.items() if s != "ours" and v > 0
            },
            "images": self.rows,
            "differ": [{"name": n, "input": a, "published_input": b} for n, a, b in self.differ],
            "missing": self.missing,
        }


def compare(
    images: list[dict[str, Any]],
    published: dict[str, dict[str, float]],
    tolerance: float = 0.01,
) -> Comparison:
    """Put our per-image results beside the published ones.

    Args:
        images: our rows, each with ``name``, ``subset``, ``input_mse`` (the composite's
            MSE as we measure it) and ``mse`` (ours), as :func:`s2crnet.evaluation.evaluate`
            returns them under ``"images"``.
        published: :func:`read_published`'s result.
        tolerance: the largest relative difference between our input MSE and the published
            composite MSE for an image to be compared.

    >>> ours = [{"name": "a1_1_1.jpg", "subset": "HAdobe5k", "input_mse": 100.0, "mse": 40.0},
    ...         {"name": "f2_1_1.jpg", "subset": "HFlickr", "input_mse": 50.0, "mse": 10.0}]
    >>> theirs = {"composite": {"a1_1_1": 100.4, "f2_1_1": 80.0}, "DCCF": {"a1_1_1": 20.0}}
    >>> result = compare(ours, theirs)
    >>> result.means, [name for name, *_ in result.differ]
    ({'input': 100.0, 'ours': 40.0, 'DCCF': 20.0}, ['f2_1_1.jpg'])
    """
    systems = [s for s in published if s != INPUT_SYSTEM]
    reference = published[INPUT_SYSTEM]
    rows, differ, missing = [], [], []
    for image in images:
        key = image_key(image["name"])
        if key not in reference:
            missing.append(image["name"])
            continue
        theirs = reference[key]
        ours_input = float(image["input_mse"])
        if abs(ours_input - theirs) > tolerance * max(abs(theirs), 1e-12):
            differ.append((image["name"], ours_input, theirs))
            continue
        row = {
            "name": image["name"],
            "subset": image["subset"],
            "input": ours_input,
            "ours": float(image["mse"]),
        }
        row.update({s: published[s][key] for s in systems if key in published[s]})
        rows.append(row)
    means: dict[str, float] = {}
    if rows:
        for column in ("input", "ours", *systems):
            if all(column in row for row in rows):  # a mean over fewer images would mislead
                means[column] = sum(row[column] for row in rows) / len(rows)
    return Comparison(systems, rows, means, differ, missing, tolerance)


def format_comparison(comparison: Comparison) -> str:
    """A readable table: one line per compared image, then the means and our ratios."""
    columns = ["input", "ours", *comparison.systems]
    width = max(12, *(len(c) + 2 for c in columns))
    lines = [
        f"side by side with the published systems (MSE; {len(comparison.rows)} images compared)"
    ]
    if comparison.rows:
        lines.append(f"{'image':<24}" + "".join(f"{c:>{width}}" for c in columns))
        for row in comparison.rows:
            cells = "".join(
                f"{row[c]:>{width}.2f}" if c in row else f"{'-':>{width}}" for c in columns
            )
            lines.append(f"{Path(row['name']).stem:<24}" + cells)
        means = comparison.means
        lines.append(
            f"{'mean':<24}"
            + "".join(
                f"{means[c]:>{width}.2f}" if c in means else f"{'-':>{width}}" for c in columns
            )
        )
        lines.append(
            f"{'ours / system':<24}"
            + "".join(
                f"{means['ours'] / means[c]:>{width}.2f}"
                if c != "ours" and means.get(c)
                else f"{'-':>{width}}"
                for c in columns
            )
        )
    if comparison.differ:
        lines.append(
            f"not compared: {len(comparison.differ)} images whose input MSE differs from the "
            f"published composite MSE by more than {comparison.tolerance:.0%} (a different "
            "protocol; the published scores are at full resolution: --protocol full):"
        )
        lines += [
            f"  {name}: ours {ours:.2f}, published {theirs:.2f}"
            for name, ours, theirs in comparison.differ
        ]
    if comparison.missing:
        lines.append(
            f"not in the published files: {len(comparison.missing)} images "
            f"({', '.join(comparison.missing[:5])}{', ...' if len(comparison.missing) > 5 else ''})"
        )
    return "\n".join(lines)
