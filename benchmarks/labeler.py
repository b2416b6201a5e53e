"""What ``label="auto"`` costs: ``harmonize`` with a semantic model and a given label
against the same call that guesses the label, on PyTorch and on ONNX Runtime.

For each size it prints the median wall time of ``harmonize`` on a decoded uint8 photo
with ``label="other"`` and with ``label="auto"``, the difference (the guess: one
128x128 view cut from the thumbnail the curve network already gets, and one SqueezeNet
pass), the guess alone (view + network) and the ratio.

Run: ``python benchmarks/labeler.py [--sizes 2048] [--repeats 15] [--threads 2]``.
The curve model has random weights (speed does not depend on them); the labeler is the
one shipped with the package.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
import skimage.data
import torch

from _timing import median_ms
from s2crnet import S2CRNet, S2CRNetConfig, harmonize
from s2crnet.loading import default_labeler
from s2crnet.thumbnails import label_view, resize_square


def _models(folder: Path):
    """The semantic model and its labeler on PyTorch and, where installed, ONNX Runtime."""
    torch.manual_seed(0)
    model = S2CRNet(S2CRNetConfig()).eval()
    labeler = default_labeler()
    out = [("torch", model, labeler)]
    try:
        from s2crnet.export.onnx import export_labeler_onnx, export_onnx
        from s2crnet.runtime import OnnxModel, labeler_path

        export_onnx(model, folder / "m.onnx")
        export_labeler_onnx(labeler, labeler_path(folder / "m.onnx"))
        onnx = OnnxModel(folder / "m.onnx", threads=torch.get_num_threads())
        out.append(("onnx", onnx, onnx.labeler))
    except ImportError:
        print("onnx not installed: PyTorch only")
    return out


def _photo(size: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's cat at ``size`` squared, and an ellipse over ~24% of it."""
    rgb = np.ascontiguousarray(cv2.resize(skimage.data.chelsea(), (size, size)))
    yy, xx = np.mgrid[0:size, 0:size]
    inside = ((yy - size * 0.55) / (size * 0.3)) ** 2 + ((xx - size * 0.5) / (size * 0.25)) ** 2
    return rgb, (inside < 1).astype(np.uint8) * 255


def _row(backend: str, model, labeler, size: int, repeats: int) -> str:
    rgb, mask = _photo(size)
    given = median_ms(lambda: harmonize(rgb, mask, model=model, label="other"), repeats)
    auto = median_ms(lambda: harmonize(rgb, mask, model=model, label="auto"), repeats)
    square, square_mask = resize_square(rgb, 256), resize_square(mask, 256)
    c = labeler.config
    view = lambda: label_view(square, square_mask, c.view, c.context, c.dim)  # noqa: E731
    alone = median_ms(lambda: labeler.probabilities(view()), repeats)
    return (
        f"{size:>6} {backend:>8} {given:8.1f} {auto:8.1f} {auto - given:7.1f} "
        f"{alone:7.1f} {auto / given:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[2048])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    print(f"{'size':>6} {'backend':>8} {'given':>8} {'auto':>8} {'extra':>7} {'guess':>7} ratio")
    with tempfile.TemporaryDirectory() as folder:
        for backend, model, labeler in _models(Path(folder)):
            for size in args.sizes:
                print(_row(backend, model, labeler, size, args.repeats))


if __name__ == "__main__":
    main()
