"""Write a copy of a weights file with another recorded strength (``curve_strength``, the
calibration a user's ``--strength`` multiplies); the weights themselves are unchanged.

    python scripts/set_strength.py runs/sq25/b-old/last.safetensors 0.667 \\
        src/s2crnet/assets/s2crnet-default.safetensors

The strength for a model comes from ``scripts/calibrate.py`` (its relative strength times
the recorded one).
"""

from __future__ import annotations

import argparse
import dataclasses

from s2crnet.loading import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights")
    parser.add_argument("strength", type=float)
    parser.add_argument("out")
    args = parser.parse_args()
    model = load_model(args.weights)
    model.config = dataclasses.replace(model.config, curve_strength=args.strength)
    model.save(args.out)
    print(f"wrote {args.out}: {model.config}")


if __name__ == "__main__":
    main()
