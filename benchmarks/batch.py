"""Batch throughput: ``s2crnet harmonize-batch`` on Ray with 1 and 2 workers against the
folder mode of ``s2crnet harmonize`` (one process, the baseline), on the same generated
2048x2048 composites (PNG masks, JPEG composites and outputs).

Each is a whole command in a fresh process, as a user runs it (Ray started and stopped
inside), timed from start to exit; images per second and the ratios are printed: 1 worker
against the folder mode (target: at least 0.8x), 2 workers against 1 (target: at least
1.6x on two cores).

Run: ``python benchmarks/batch.py [--images 200] [--size 2048]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def make_images(folder: Path, count: int, size: int) -> None:
    """``count`` composites (a textured picture, a cast object) and masks."""
    rng = np.random.default_rng(0)
    (folder / "c").mkdir()
    (folder / "m").mkdir()
    small = rng.integers(30, 220, (size // 32, size // 32, 3), np.uint8)
    base = np.asarray(Image.fromarray(small).resize((size, size), Image.BILINEAR))
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4 : 3 * size // 4, size // 3 : 2 * size // 3] = 255
    for i in range(count):
        img = np.roll(base, 16 * i, axis=1).astype(np.float32)
        img[mask > 0] *= np.array([1.2 + 0.001 * i, 1.0, 0.7], np.float32)
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(folder / "c" / f"{i:04d}.jpg",
                                                                quality=92)  # fmt: skip
        Image.fromarray(mask).save(folder / "m" / f"{i:04d}.png")


def run(*args: object) -> float:
    """Seconds for ``s2crnet ARGS`` in a fresh process."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "s2crnet", *map(str, args)],
                          capture_output=True, text=True, env=env)  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"s2crnet {' '.join(map(str, args))} failed:\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        make_images(folder, args.images, args.size)
        c, m = folder / "c", folder / "m"
        batch = ("harmonize-batch", c, m, "--batch-size", args.batch_size, "--workers")
        times = {
            "folder mode": run("harmonize", c, m, "-o", folder / "a"),
            "ray, 1 worker": run(*batch, 1, "-o", folder / "b"),
            "ray, 2 workers": run(*batch, 2, "-o", folder / "d"),
        }
    n = args.images
    print(f"{n} composites of {args.size}x{args.size}, {os.cpu_count()} cores")
    for name, seconds in times.items():
        print(f"{name:>15}: {seconds:7.1f} s  {n / seconds:6.2f} images/s")
    one, two, base = times["ray, 1 worker"], times["ray, 2 workers"], times["folder mode"]
    print(f"1 worker / folder mode: {base / one:.2f}x (target >= 0.8)")
    print(f"2 workers / 1 worker:   {one / two:.2f}x (target >= 1.6)")


if __name__ == "__main__":
    main()
