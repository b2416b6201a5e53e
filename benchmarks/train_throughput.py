"""Training throughput (images/s) per backbone, with and without the discriminator.

Runs the real training loop (``s2crnet.training.train``: data loading, synthetic
composites, thumbnails, forward, losses, backward, AdamW) for a few steps per setting and
prints the median images/s of the logged intervals after the first (warm-up).

Run: ``python benchmarks/train_throughput.py [--photos DIR] [--steps 12]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
from pathlib import Path

import torch

from s2crnet.training import merge, train

SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos-with-masks"


def images_per_second(
    photos: Path, backbone: str, adv_weight: float, steps: int, batch_size: int, workers: int
) -> float:
    with tempfile.TemporaryDirectory() as out:
        config = merge(
            {
                "photos": str(photos),
                "out": out,
                "steps": steps,
                "backbone": backbone,
                "from_scratch": True,
                "adv_weight": adv_weight,
                "batch_size": batch_size,
                "workers": workers,
                "log_every": 2,
                "save_every": steps,
            }
        )
        train(config)
        with open(Path(out) / "log.csv", newline="") as f:
            rates = [float(row["images_per_s"]) for row in csv.DictReader(f)]
    return statistics.median(rates[1:] or rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=SHARED_PHOTOS)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backbones", nargs="+", default=["squeezenet1_1", "alexnet", "vgg16"])
    args = parser.parse_args()
    if not args.photos.is_dir():
        raise SystemExit(f"{args.photos}: no photos folder (give --photos DIR)")
    print(
        f"{os.cpu_count()} CPUs, torch {torch.__version__} with {torch.get_num_threads()} "
        f"threads, batch {args.batch_size}, 256x256, {args.workers} data workers"
    )
    print(f"{'backbone':<14} | {'rL1 only':>12} | {'rL1 + LSGAN':>12}")
    for backbone in args.backbones:
        plain = images_per_second(
            args.photos, backbone, 0.0, args.steps, args.batch_size, args.workers
        )
        adv = images_per_second(
            args.photos, backbone, 0.01, args.steps, args.batch_size, args.workers
        )
        print(f"{backbone:<14} | {plain:>8.1f} i/s | {adv:>8.1f} i/s", flush=True)


if __name__ == "__main__":
    main()
