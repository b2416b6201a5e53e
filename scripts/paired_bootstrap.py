"""Is model B better than model A on the same images? A paired bootstrap over the
per-image MSE of two ``s2crnet evaluate --json`` files (same data, same protocol).

    s2crnet evaluate --data D --weights A --strength SA --json a.json
    s2crnet evaluate --data D --weights B --strength SB --json b.json
    python scripts/paired_bootstrap.py a.json b.json

Prints both means, the mean difference (B - A), how many images B wins, and the share of
10,000 resamples of the images in which B's mean is lower.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--resamples", type=int, default=10_000)
    args = parser.parse_args()
    rows = [
        {r["name"]: r["mse"] for r in json.loads(Path(f).read_text())["images"]}
        for f in (args.a, args.b)
    ]
    if rows[0].keys() != rows[1].keys():
        raise SystemExit("the two files hold different images")
    names = sorted(rows[0])
    a = np.array([rows[0][n] for n in names])
    b = np.array([rows[1][n] for n in names])
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(names), (args.resamples, len(names)))
    ahead = float(((b[picks] - a[picks]).mean(axis=1) < 0).mean())
    print(
        f"{len(names)} images: A {a.mean():.2f}, B {b.mean():.2f}, B - A {(b - a).mean():+.2f}; "
        f"B lower on {(b < a).sum()}; B ahead in {ahead:.1%} of {args.resamples} resamples"
    )


if __name__ == "__main__":
    main()
