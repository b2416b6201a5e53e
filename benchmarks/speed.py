"""Speed and memory of ``harmonize`` from 256x256 to 8K, on PyTorch and ONNX Runtime.

For each size it prints the median wall time of:

* ``torch`` / ``onnx``: ``harmonize`` end to end on a decoded uint8 array (decode
  excluded): thumbnails, network, 256-entry lookup table, masked blend, output;
* ``+decode``: the same from a JPEG file (decode included, encode excluded);
* ``render``: the full-resolution step alone (LUT + blend, into a new output array);
* ``copy``: ``image.copy()``, the floor of anything that returns a new image;
* ``render into warm``: the render step writing into an already-used output array;
* ``memcpy``: copying the image's bytes into an already-used array, the physical floor;
* ``naive``: paper Eq. 1 written literally, expanding ``(rows, W, 3, L)`` in chunks of
  rows (the straightforward port of the research code), plus the same blend;

and the extra peak resident memory of ``harmonize`` beyond the loaded model, the
decoded image and its mask (``/proc/self/status`` VmHWM after resetting it), as a
multiple of the decoded image's bytes.

Run: ``python benchmarks/speed.py [--sizes 256 1024 2048 4096 8k] [--repeats 9]``.
The model has random weights (speed does not depend on them) and is given the label
``other`` (``label="auto"`` adds the guess: ``benchmarks/labeler.py``); the image is a
scikit-image sample photo scaled to each size, the object an ellipse over ~24% of it.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from _timing import median_seconds
from s2crnet import Harmonizer, S2CRNet, harmonize
from s2crnet.inputs import load_inputs
from s2crnet.render import apply_curves

SIZES = {
    "256": (256, 256),
    "1024": (1024, 1024),
    "2048": (2048, 2048),
    "4096": (4096, 4096),
    "8k": (4320, 7680),
}


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def extra_peak_bytes(fn) -> int | None:
    """Peak resident memory ``fn`` adds (its result included), or None off Linux."""
    try:
        gc.collect()
        before = _status_kib("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
        result = fn()
        peak = _status_kib("VmHWM")
        del result
        return (peak - before) * 1024
    except (OSError, AttributeError):
        return None


def make_inputs(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    import skimage.data

    photo = skimage.data.coffee()
    image = np.ascontiguousarray(cv2.resize(photo, (w, h), interpolation=cv2.INTER_LINEAR))
    yy, xx = np.ogrid[0:h, 0:w]
    dy, dx = (yy - h * 0.55) / (h * 0.3), (xx - w * 0.45) / (w * 0.25)
    return image, ((dy**2 + dx**2) < 1).astype(np.uint8) * 255


def naive_render(image: np.ndarray, mask: np.ndarray, params: np.ndarray, rows: int = 16):
    """Eq. 1 as written: a sum of L clamped ramps per pixel, (rows, W, 3, L) at a time."""
    out = image.copy()
    p = torch.from_numpy(params)  # (stages, 3, L)
    n = p.shape[-1]
    k = torch.arange(n, dtype=torch.float32) / n
    for y in range(0, image.shape[0], rows):
        x = torch.from_numpy(image[y : y + rows]).float() / 255  # (r, W, 3)
        for stage in p:
            ramps = (x.unsqueeze(-1) - k).clamp(0, 1 / n)  # (r, W, 3, L)
            x = n / stage.sum(-1) * (ramps * stage).sum(-1)  # (r, W, 3)
        a = torch.from_numpy(mask[y : y + rows]).float().unsqueeze(-1) / 255
        band = torch.from_numpy(image[y : y + rows]).float()
        out[y : y + rows] = (x.clamp(0, 1) * 255 * a + band * (1 - a)).round().byte().numpy()
    return out


def bench(name: str, models: dict, args: argparse.Namespace, folder: Path) -> dict:
    h, w = SIZES[name]
    image, mask = make_inputs(h, w)
    jpeg, png = folder / f"{name}.jpg", folder / f"{name}-mask.png"
    cv2.imwrite(str(jpeg), image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    cv2.imwrite(str(png), mask)
    row: dict = {"size": f"{w}x{h}", "bytes": image.nbytes}
    repeats = args.repeats if h * w <= 2048 * 2048 else max(3, args.repeats // 3)
    for key, model in models.items():  # one Harmonizer session per model
        row[key] = median_seconds(
            lambda m=model: harmonize(image, mask, model=m, label="other"), repeats
        )

        def from_file(m=model):
            picture, values = load_inputs(jpeg, png)
            return m.harmonize_picture(picture, values, labels="other")

        row[f"{key}+decode"] = median_seconds(from_file, repeats)
        row[f"{key}_mem"] = extra_peak_bytes(
            lambda m=model: harmonize(image, mask, model=m, label="other")
        )
    curves = models["torch"].curves(image, mask)[0].curves
    row["render"] = median_seconds(lambda: apply_curves(image, mask, curves), repeats)
    row["copy"] = median_seconds(image.copy, repeats)
    target = np.empty_like(image)
    row["render_warm"] = median_seconds(lambda: apply_curves(image, mask, curves, target), repeats)
    row["memcpy"] = median_seconds(lambda: np.copyto(target, image), repeats)
    if h * w <= args.naive_max_pixels:
        row["naive"] = median_seconds(lambda: naive_render(image, mask, curves.params), 1)
        fast = harmonize(image, mask, model=models["torch"], label="other").image
        diff = np.abs(naive_render(image, mask, curves.params).astype(int) - fast).max()
        assert diff <= 1, f"fast and naive renders disagree by {diff} levels"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--naive-max-pixels", type=int, default=4096 * 4096)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = S2CRNet.from_name("s2crnet-squeezenet").eval()
    models = {"torch": Harmonizer(model)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            from s2crnet.export.onnx import export_onnx
            from s2crnet.runtime import OnnxModel

            models["onnx"] = Harmonizer(OnnxModel(export_onnx(model, folder / "model.onnx")))
        except ImportError as exc:
            print(f"(no ONNX Runtime path: {exc})")
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), OpenCV {cv2.__version__}"
        )
        print(
            "model: S2CRNet-SqueezeNet (released configuration, 948,480 parameters), "
            "uint8 RGB, binary mask; times are medians in ms"
        )
        rows = [bench(name, models, args, folder) for name in args.sizes]

    def ms(value):
        return "-" if value is None else f"{value * 1e3:.1f}"

    def mem(row, key):
        value = row.get(key)
        return "-" if value is None else f"{value / row['bytes']:.2f}x"

    keys = [k for k in ("torch", "onnx") if k in models]
    header = ["size"] + [f"{k}{s}" for k in keys for s in ("", "+decode")]
    header += [
        "render",
        "copy",
        "render/copy",
        "render into warm",
        "memcpy",
        "warm/memcpy",
        "naive",
        "naive/torch",
    ]
    header += [f"{k} extra peak" for k in keys]
    print(" | ".join(header))
    for row in rows:
        cells = [row["size"]] + [ms(row[f"{k}{s}"]) for k in keys for s in ("", "+decode")]
        cells += [
            ms(row["render"]),
            ms(row["copy"]),
            f"{row['render'] / row['copy']:.1f}x",
            ms(row["render_warm"]),
            ms(row["memcpy"]),
            f"{row['render_warm'] / row['memcpy']:.1f}x",
            ms(row.get("naive")),
            f"{row['naive'] / row['torch']:.0f}x" if "naive" in row else "-",
        ]
        cells += [mem(row, f"{k}_mem") for k in keys]
        print(" | ".join(cells))
    if "onnx" in models:
        ratios = [row["onnx"] / row["torch"] for row in rows]
        print("onnx/torch time: " + ", ".join(f"{r:.2f}" for r in ratios))
    print(
        "extra peak = peak resident memory harmonize adds, output included, "
        "as a multiple of the decoded image's bytes"
    )


if __name__ == "__main__":
    main()
