"""Batch throughput: ``s2crnet harmonize-batch`` on Ray with 1 and 2 workers against the
folder mode of ``s2crnet harmonize`` (one process, the baseline), on the same generated
2048x2048 composites (PNG masks, JPEG composites and outputs).

Each is a whole command in a fresh process, as a user runs it (Ray started and stopped
inside). Two figures each, medians of ``--repeat`` rounds taking turns:

- *whole command*: images over the time from start to exit (Ray's start and stop, the
  actors' start, included: a fixed cost of some seconds that a job of 200 images feels
  and a job of a million does not);
- *throughput*: the steady rate once the workers run, from the output files' times:
  images after the first over the time from the first written to the last.

Ratios of both: 1 worker against the folder mode (target: at least 0.8x), 2 workers
against 1 (target: at least 1.6x on two cores).

Run: ``python benchmarks/batch.py [--images 200] [--size 2048] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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
    """Seconds for ``s2crnet ARGS`` in a fresh process (``-o`` emptied first)."""
    shutil.rmtree(args[args.index("-o") + 1], ignore_errors=True)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "s2crnet", *map(str, args)],
                          capture_output=True, text=True, env=env)  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"s2crnet {' '.join(map(str, args))} failed:\n{done.stderr[-2000:]}")
    return seconds


def throughput(folder: Path) -> float:
    """Images per second from the first output written to the last."""
    times = sorted(p.stat().st_mtime_ns for p in folder.glob("*.jpg"))
    return (len(times) - 1) / ((times[-1] - times[0]) / 1e9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.images
    whole: dict[str, list[float]] = {}
    steady: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        make_images(folder, n, args.size)
        c, m, out = folder / "c", folder / "m", folder / "out"
        batch = ("harmonize-batch", c, m, "-o", out, "--batch-size", args.batch_size)
        commands = {
            "folder mode": ("harmonize", c, m, "-o", out),
            "ray, 1 worker": (*batch, "--workers", 1),
            "ray, 2 workers": (*batch, "--workers", 2),
        }
        for _ in range(args.repeat):
            for name, command in commands.items():
                whole.setdefault(name, []).append(n / run(*command))
                steady.setdefault(name, []).append(throughput(out))
    print(f"{n} composites of {args.size}x{args.size}, {os.cpu_count()} cores, "
          f"medians of {args.repeat}; images/s")  # fmt: skip
    print(f"{'':>15}  whole command  throughput")
    for name in commands:
        w, s = statistics.median(whole[name]), statistics.median(steady[name])
        print(f"{name:>15}: {w:13.2f}  {s:10.2f}")
    for label, figures in (("whole command", whole), ("throughput", steady)):
        base, one, two = (statistics.median(figures[k]) for k in commands)
        print(f"{label}: 1 worker / folder mode {one / base:.2f}x (target >= 0.8), "
              f"2 workers / 1 worker {two / one:.2f}x (target >= 1.6)")  # fmt: skip


if __name__ == "__main__":
    main()
