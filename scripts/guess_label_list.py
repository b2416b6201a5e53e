"""Write a semantic label list for an iHarmony4-layout folder by guessing each object's
class with the shipped guesser (``s2crnet.guess_label`` on the composite and its mask),
so that semantic models can be evaluated where no labels were published:

    python scripts/guess_label_list.py --data ../shared/data/iharmony4-dev --out dev-labels.txt
    s2crnet evaluate --data ../shared/data/iharmony4-dev --weights W --labels dev-labels.txt

One ``NAME LABEL`` line per composite (the format ``evaluate --labels`` reads), with the
guess's probability as a comment.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from s2crnet import guess_label
from s2crnet.atomic import write_atomic
from s2crnet.triplets import list_triplets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="iHarmony4-layout root")
    parser.add_argument("--out", required=True, type=Path, help="the label list to write")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    lines = []
    for triplet in list_triplets(args.data, args.split):
        guess = guess_label(triplet.composite, triplet.mask)
        lines.append(f"{triplet.composite.name} {guess.label}  # p={guess.probability:.2f}")
    write_atomic(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}: {len(lines)} labels")


if __name__ == "__main__":
    main()
