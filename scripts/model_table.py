"""The comparison table of docs/model-card.md from the runs of scripts/compare_defaults.sh.

For each run: the dev-set figures at the 256 protocol (the run's last evaluation, the
EMA weights) and at the full-resolution protocol (evaluated here, SSIM skipped), the
parameter count, and the CPU time of ``harmonize`` on a 2048x2048 photo.
Run: ``python scripts/model_table.py [runs/compare] [--dev ../shared/data/iharmony4-dev]``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from s2crnet import harmonize, load_model
from s2crnet.evaluation import evaluate


def cpu_ms_2048(model) -> float:
    image = cv2.resize(skimage.data.coffee(), (2048, 2048))
    mask = np.zeros((2048, 2048), np.uint8)
    mask[500:1600, 400:1500] = 255
    harmonize(image, mask, model=model)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        harmonize(image, mask, model=model)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=Path, default=Path("runs/compare"))
    parser.add_argument("--dev", type=Path, default=Path("../shared/data/iharmony4-dev"))
    args = parser.parse_args()
    print(
        "| run | steps | 256: MSE | fMSE | PSNR | full: MSE | fMSE | PSNR | params | CPU ms 2048² |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for run in sorted(p for p in args.runs.iterdir() if (p / "eval.csv").is_file()):
        with open(run / "eval.csv", newline="") as f:
            last = list(csv.DictReader(f))[-1]
        model = load_model(run / "last.safetensors")
        full = evaluate(args.dev, "model", model, "full", progress=False, ssim=False)
        f = full["subsets"]["All"]
        params = sum(p.numel() for p in model.parameters())
        print(
            f"| {run.name} | {last['step']} | {float(last['mse']):.1f} | "
            f"{float(last['fmse']):.0f} | {float(last['psnr']):.2f} | {f['mse']:.1f} | "
            f"{f['fmse']:.0f} | {f['psnr']:.2f} | {params:,} | {cpu_ms_2048(model):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
