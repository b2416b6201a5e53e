"""A model's operating point: the strength at which real images come back with a given
MSE (default 30), and the composites' MSE there, per protocol.

The real image's MSE grows about as the square of the strength, so the search starts at
``s = sqrt(target / h(1))`` and takes secant steps on ``sqrt(h(s))`` until it is within
``--tolerance``; then the composites are evaluated at that strength. Strengths are
relative to the model's recorded one, as ``s2crnet evaluate --strength`` takes them.

    python scripts/calibrate.py --data ../shared/data/iharmony4-dev \\
        --weights runs/sq25/b/last.safetensors --protocol 256 --protocol full

Prints one line per evaluation and one summary line per protocol; ``--json F`` keeps
the summary (strength, MSE, fMSE, per subset, the real-image MSE reached).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from s2crnet.evaluation import evaluate
from s2crnet.session import Harmonizer


def _mse(results: dict) -> float:
    return results["subsets"]["All"]["mse"]


def operating_point(model, data: str, protocol: str, target: float, tolerance: float) -> dict:
    """The strength giving real-image MSE ``target`` (within ``tolerance``) and the
    composites' figures there."""

    def real(strength: float) -> float:
        value = _mse(
            evaluate(data, "model", model, protocol, harmonious=True, strength=strength,
                     ssim=False, progress=False)
        )  # fmt: skip
        print(f"  {protocol}: strength {strength:.4f} -> real-image MSE {value:.2f}", flush=True)
        return value

    s0, h0 = 1.0, real(1.0)
    s1 = s0 * math.sqrt(target / max(h0, 1e-6))
    h1 = real(s1)
    for _ in range(4):
        if abs(h1 - target) <= tolerance:
            break
        # secant on sqrt(h), which is nearly linear in the strength
        r0, r1 = math.sqrt(h0), math.sqrt(h1)
        s2 = s1 + (math.sqrt(target) - r1) * (s1 - s0) / (r1 - r0) if r1 != r0 else s1
        s0, h0, s1, h1 = s1, h1, s2, real(s2)
    results = evaluate(data, "model", model, protocol, strength=s1, ssim=False, progress=False)
    all_ = results["subsets"]["All"]
    return {
        "protocol": protocol,
        "strength": round(s1, 4),
        "real_image_mse": round(h1, 2),
        "mse": round(all_["mse"], 2),
        "fmse": round(all_["fmse"], 1),
        "subsets": {
            name: round(v["mse"], 1) for name, v in results["subsets"].items() if name != "All"
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--weights", default=None, help="default: the shipped model")
    parser.add_argument("--protocol", action="append", choices=("256", "full"))
    parser.add_argument("--target", type=float, default=30.0)
    parser.add_argument("--tolerance", type=float, default=0.3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    model = Harmonizer(args.weights).load()
    points = []
    for protocol in args.protocol or ["256"]:
        point = operating_point(model, args.data, protocol, args.target, args.tolerance)
        points.append(point)
        subsets = " / ".join(f"{k} {v}" for k, v in point["subsets"].items())
        print(
            f"{protocol}: strength {point['strength']} -> MSE {point['mse']} "
            f"(real-image MSE {point['real_image_mse']}; {subsets})",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps({"weights": args.weights, "points": points}, indent=1))


if __name__ == "__main__":
    main()
