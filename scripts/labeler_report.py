"""Two class guessers side by side on one held-out split, through ``s2crnet.guess_label``.

A ``train-labeler`` report (``report.json``) names its held-out photos; this script
guesses each of them with every ``--labeler`` given (``default``: the shipped one) by the
inference path users run, and prints per-class recall and precision, overall and for
the photos under each ``--photos`` folder (so that a guesser is also judged on a folder
it never trained on). ``--previous-photos A,B`` names the folders an earlier guesser was
trained on (with ``train-labeler``'s default split: 20%, seed 0): the figures are then
also given on the photos held out by both runs, which neither guesser saw. With
``--real-composites DIR`` it also prints each guesser's
answer for every composite there (``composites/NAME.*`` with ``masks/NAME.png``).

    python scripts/labeler_report.py --report runs/labeler25/pooled/report.json \\
        --photos ../shared/data/photos-with-masks,../shared/data/food-and-vehicles \\
        --labeler default --labeler runs/labeler25/pooled/labeler.safetensors \\
        --previous-photos ../shared/data/photos-with-masks \\
        --real-composites ../shared/data/real-composites
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from s2crnet import guess_label
from s2crnet.data.photos import list_photos
from s2crnet.folders import list_images
from s2crnet.labels import LABELS
from s2crnet.loading import resolve_labeler
from s2crnet.training.labeler import confusion_report, split_holdout


def _line(name: str, report: dict) -> str:
    cells = []
    for label in LABELS:
        entry = report["per_class"].get(label, {})
        recall, precision = entry.get("recall"), entry.get("precision")
        r = "-" if recall is None else f"{recall:.2f}"
        p = "-" if precision is None else f"{precision:.2f}"
        cells.append(f"{label} {r}/{p} (n={entry.get('count', 0)})")
    return f"{name}: accuracy {report['accuracy']:.3f}, " + ", ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", required=True, type=Path)
    parser.add_argument("--photos", required=True, help="the folders, comma-separated")
    parser.add_argument("--labeler", action="append", required=True)
    parser.add_argument("--previous-photos", help="an earlier guesser's folders")
    parser.add_argument("--real-composites", type=Path)
    args = parser.parse_args()
    held = set(json.loads(args.report.read_text())["holdout_photos"])
    folders = [f for f in args.photos.split(",") if f]
    photos = [
        (folder, p) for folder in folders for p in list_photos(folder) if str(p.image) in held
    ]
    print(f"{len(photos)} held-out photos of {len(held)} in the report")
    both = np.ones(len(photos), bool)
    if args.previous_photos:
        earlier = [p for f in args.previous_photos.split(",") if f for p in list_photos(f)]
        mask = split_holdout(np.array([p.label for p in earlier]), 0.2, 0)
        previous = {str(p.image) for p, h in zip(earlier, mask, strict=True) if h}
        known = {str(p.image) for p in earlier}
        # held out by both, or never seen by the earlier guesser
        both = np.array([str(p.image) in previous or str(p.image) not in known for _, p in photos])
        print(f"{both.sum()} of them were held out by the earlier run too (or not in its data)")
    for name in args.labeler:
        labeler = resolve_labeler(None if name == "default" else name)
        truth = np.array([p.label for _, p in photos])
        guesses = np.array([guess_label(p.image, p.mask, labeler).index for _, p in photos])
        print(_line(name, confusion_report(truth, guesses)))
        for folder in folders:
            part = np.array([f == folder for f, _ in photos])
            print("  " + _line(folder, confusion_report(truth[part], guesses[part])))
        if args.previous_photos:
            report = confusion_report(truth[both], guesses[both])
            print("  " + _line("unseen by both", report))
        if args.real_composites:
            answers = []
            for image in list_images(args.real_composites / "composites"):
                mask = args.real_composites / "masks" / f"{image.stem}.png"
                guess = guess_label(image, mask, labeler)
                answers.append(f"{image.stem} {guess.label} ({guess.probability:.2f})")
            print("  real composites: " + "; ".join(answers))


if __name__ == "__main__":
    main()
