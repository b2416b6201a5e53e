"""How long the demo page takes to harmonize a 12-megapixel photo, upload excluded: the
page's handler (harmonize, the downloads, the curve plot) and Gradio's encoding of the
before/after slider, against ``harmonize`` alone in the same process.

Run: ``python benchmarks/demo.py [--size 4000x3000] [--repeats 5] [--threads 2]``.
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
from s2crnet import harmonize
from s2crnet.demo import download_files, harmonize_arrays
from s2crnet.loading import default_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import gradio as gr

    w, h = (int(v) for v in args.size.split("x"))
    rgb = np.ascontiguousarray(cv2.resize(skimage.data.astronaut(), (w, h)))
    yy, xx = np.mgrid[0:h, 0:w]
    inside = ((yy - h * 0.55) / (h * 0.3)) ** 2 + ((xx - w * 0.5) / (w * 0.25)) ** 2 < 1
    mask = inside.astype(np.uint8) * 255
    model = default_model()
    slider = gr.ImageSlider(type="numpy", format="jpeg")
    folder = Path(tempfile.mkdtemp())
    image, obj = harmonize_arrays(rgb, mask, model=model)
    steps = {
        "harmonize alone": lambda: harmonize(rgb, mask, model=model),
        "page: harmonize": lambda: harmonize_arrays(rgb, mask, model=model),
        "page: downloads + plot": lambda: download_files(
            image, obj, model.config.curve_strength, folder / "d"
        ),
        "page: slider (2 JPEGs)": lambda: slider.postprocess((rgb, image)),
    }
    ms = {name: median_ms(fn, args.repeats) for name, fn in steps.items()}
    for name, value in ms.items():
        print(f"{name:<24} {value:8.1f} ms")
    page = sum(v for k, v in ms.items() if k.startswith("page"))
    print(f"{'page in all':<24} {page:8.1f} ms ({page / ms['harmonize alone']:.1f}x harmonize)")


if __name__ == "__main__":
    main()
