"""Speed of ``harmonize`` at full resolution, against a naive reference render.

Prints, for square composites of each size, the median wall time of:

* ``harmonize``: the whole call on a decoded uint8 array (decode excluded): thumbnails,
  SqueezeNet forward, 256-entry lookup table, masked blend, output copy;
* its two halves, ``predict`` (thumbnails + network) and ``render`` (LUT + blend);
* ``naive``: paper Eq. 1 evaluated literally, expanding ``(rows, W, 3, L)`` in chunks of
  rows, plus the same blend (the straightforward port of the research code, on the CPU).

Run: ``python benchmarks/speed.py [--sizes 1024 2048 4096] [--repeats 9]``.
The model has random weights: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

from s2crnet import S2CRNet, harmonize
from s2crnet.api import predict_curves
from s2crnet.render import apply_curves

PIECES = 64


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_inputs(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 16, size // 16, 3), dtype=np.uint8)
    image = np.ascontiguousarray(np.repeat(np.repeat(small, 16, 0), 16, 1))
    yy, xx = np.mgrid[0:size, 0:size]
    dy, dx = (yy - size * 0.55) / (size * 0.3), (xx - size * 0.45) / (size * 0.25)
    mask = dy**2 + dx**2 < 1
    return image, mask.astype(np.uint8) * 255  # an ellipse over about 24% of the image


def naive_render(image: np.ndarray, mask: np.ndarray, params: np.ndarray, rows: int = 32):
    """Eq. 1 as written: a sum of L clamped ramps per pixel, (rows, W, 3, L) at a time."""
    out = image.copy()
    p = torch.from_numpy(params)  # (stages, 3, L)
    k = torch.arange(PIECES, dtype=torch.float32) / PIECES
    for y in range(0, image.shape[0], rows):
        x = torch.from_numpy(image[y : y + rows]).float() / 255  # (r, W, 3)
        for stage in p:
            ramps = (x.unsqueeze(-1) - k).clamp(0, 1 / PIECES)  # (r, W, 3, L)
            x = PIECES / stage.sum(-1) * (ramps * stage).sum(-1)  # (r, W, 3)
        a = torch.from_numpy(mask[y : y + rows]).float().unsqueeze(-1) / 255
        band = torch.from_numpy(image[y : y + rows]).float()
        mixed = (x.clamp(0, 1) * 255 * a + band * (1 - a)).round()
        out[y : y + rows] = mixed.to(torch.uint8).numpy()
    return out


def bench_size(model: S2CRNet, size: int, args: argparse.Namespace) -> tuple[float, ...]:
    """Median seconds of harmonize, predict, render and the naive render at one size."""
    image, mask = make_inputs(size)
    curves = predict_curves(model, image, mask, label=None)
    t_all = median_seconds(lambda: harmonize(image, mask, model=model), args.repeats)
    t_predict = median_seconds(lambda: predict_curves(model, image, mask, None), args.repeats)
    t_render = median_seconds(lambda: apply_curves(image, mask, curves), args.repeats)
    naive_repeats = max(1, args.naive_repeats if size <= 2048 else 1)
    t_naive = median_seconds(lambda: naive_render(image, mask, curves.params), naive_repeats)
    reference = naive_render(image, mask, curves.params)
    diff = np.abs(reference.astype(int) - harmonize(image, mask, model=model).image).max()
    assert diff <= 1, f"fast and naive renders disagree by {diff} levels"
    return t_all, t_predict, t_render, t_naive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--naive-repeats", type=int, default=3)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = S2CRNet.from_name("s2crnet-squeezenet").eval()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads"
    )
    print("model: S2CRNet-SqueezeNet (released configuration, 948,480 parameters), uint8 input")
    header = (
        f"{'size':>11} | {'harmonize':>10} | {'predict':>8} | {'render':>8} | "
        f"{'naive':>9} | {'naive/harmonize':>15}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        t_all, t_predict, t_render, t_naive = bench_size(model, size, args)
        print(
            f"{size:>5}x{size:<5} | {t_all * 1e3:>7.1f} ms | {t_predict * 1e3:>5.1f} ms | "
            f"{t_render * 1e3:>5.1f} ms | {t_naive * 1e3:>6.0f} ms | {t_naive / t_all:>14.0f}x"
        )
    print("times are medians; 'naive' agrees with 'harmonize' within 1 grey level")


if __name__ == "__main__":
    main()
