"""Benchmark evaluation by the field's protocol (``s2crnet evaluate``).

Protocols:

* ``256``: composite, mask and real image resized to 256x256 with Pillow's bilinear
  filter; the mask, thresholded at 0.5, is both the model's mask and the metric mask;
* ``full``: the model sees its thumbnail; the curves are applied and the result measured
  at the original size (mask thresholded at 0.5).

Methods: ``model`` (an S2CRNet), ``identity`` (the composite itself) and ``reinhard``
(Lab mean/std transfer from background to foreground). Metrics (see :mod:`metrics`) are
averaged per subset, over all images ("All", weighted by count) and per foreground-ratio
bucket.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_atomic
from .images import Picture, read_image, read_mask, to_uint8, write_image
from .metrics import BUCKETS, LPIPS, bucket_of, image_metrics, mse
from .triplets import Triplet, list_triplets

__all__ = ["METHODS", "PROTOCOLS", "evaluate", "format_table", "make_method"]

METHODS = ("model", "identity", "reinhard")
PROTOCOLS = ("256", "full")
METRIC_ORDER = ("mse", "fmse", "psnr", "psnr_gtmax", "fpsnr", "ssim", "lpips")

#: A method: composite (H, W, 3) uint8, binary mask (H, W) uint8 0/255, label -> result.
Method = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def make_method(name: str, model: Any = None, strength: float = 1.0) -> Method:
    """The harmonization function for a method name. ``model`` (method ``model``) is a
    :class:`~s2crnet.session.Harmonizer` or what :func:`s2crnet.harmonize` takes;
    ``strength`` is as for :func:`s2crnet.harmonize`."""
    if name == "identity":
        return lambda composite, mask, label: composite
    if name == "reinhard":
        from .colour import reinhard

        return lambda composite, mask, label: reinhard(composite, mask)
    if name == "model":
        if model is None:
            raise ValueError("method 'model' needs a model (--weights)")
        from .session import as_harmonizer

        session = as_harmonizer(model)

        def run(composite: np.ndarray, mask: np.ndarray, label: int) -> np.ndarray:
            labels = label if session.semantic else None
            result, _ = session.harmonize_picture(
                Picture(rgb=composite), [mask], labels=labels, strength=strength
            )
            return result.rgb

        return run
    raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")


def _load(triplet: Triplet, protocol: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Composite, binary mask (0/255) and real image as the protocol measures them."""
    from PIL import Image

    composite = to_uint8(read_image(triplet.composite).rgb)
    real = to_uint8(read_image(triplet.real).rgb)
    mask = read_mask(triplet.mask).oriented()
    if not composite.shape == real.shape or mask.shape != composite.shape[:2]:
        raise ValueError(f"{triplet.composite}: composite, mask and real image differ in size")
    if protocol == "256":

        def resize(a: np.ndarray) -> np.ndarray:
            return np.asarray(Image.fromarray(a).resize((256, 256), Image.Resampling.BILINEAR))

        composite, real, mask = resize(composite), resize(real), resize(mask)
    binary = np.where(mask >= 128, 255, 0).astype(np.uint8)  # thresholded at 0.5
    return composite, binary, real


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {"count": len(rows)}
    for key in METRIC_ORDER:
        values = [r[key] for r in rows if key in r and not math.isnan(r[key])]
        if values:
            out[key] = float(np.mean(values))
    return out


def evaluate(
    root: str | Path,
    method: str = "model",
    model: Any = None,
    protocol: str = "256",
    subsets: list[str] | None = None,
    split: str = "test",
    labels: dict[str, int] | str | Path | None = None,
    lpips: LPIPS | None = None,
    save_images: str | Path | None = None,
    progress: bool = True,
    limit: int | None = None,
    ssim: bool = True,
    harmonious: bool = False,
    strength: float = 1.0,
) -> dict[str, Any]:
    """Evaluate a method on an iHarmony4-layout folder.

    With ``harmonious``, the method gets the real image (an already harmonious
    composite) instead of the composite: a good method leaves it nearly unchanged.
    ``strength`` scales a model's curves (1 as predicted; below 1 towards the identity).
    ``labels``: a semantic label list or its path (:func:`s2crnet.data.read_label_list`).

    Returns:
        ``{"protocol", "method", "split", "subsets": {name: {"count", metric: mean}},
        "buckets": {name: {...}}, "images": [...]}``; ``subsets`` includes ``"All"``;
        ``images`` has one row per image: ``name``, ``subset``, ``input_mse`` (the
        composite's own MSE under the protocol) and the metrics of the result.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    run = make_method(method, model, strength)
    triplets = list_triplets(root, split, subsets, labels)[:limit]
    per_subset: dict[str, list[dict[str, float]]] = defaultdict(list)
    per_bucket: dict[str, list[dict[str, float]]] = defaultdict(list)
    images: list[dict[str, Any]] = []
    iterator: Any = triplets
    if progress:
        from tqdm import tqdm

        iterator = tqdm(triplets, desc=f"{method} @ {protocol}", unit="image", leave=False)
    for triplet in iterator:
        composite, mask, real = _load(triplet, protocol)
        input_mse = mse(composite, real)
        if harmonious:
            composite = real
        result = run(composite, mask, triplet.label)
        foreground = mask > 0
        row = image_metrics(result, real, foreground, ssim=ssim)
        if lpips is not None:
            row["lpips"] = lpips(result, real)
        per_subset[triplet.subset].append(row)
        images.append(
            {"name": triplet.name, "subset": triplet.subset, "input_mse": input_mse, **row}
        )
        per_bucket[bucket_of(float(foreground.mean()))].append(row)
        if save_images is not None:
            folder = Path(save_images) / triplet.subset
            folder.mkdir(parents=True, exist_ok=True)
            write_image(folder / f"{Path(triplet.name).stem}.png", Picture(rgb=result))
    every = [row for rows in per_subset.values() for row in rows]
    summary = {name: _mean(rows) for name, rows in sorted(per_subset.items())}
    summary["All"] = _mean(every)
    return {
        "protocol": protocol,
        "method": method,
        "input": "real" if harmonious else "composite",
        "split": split,
        "subsets": summary,
        "buckets": {name: _mean(per_bucket[name]) for name in BUCKETS if per_bucket[name]},
        "images": images,
    }


def write_json(results: dict[str, Any], path: str | Path) -> None:
    write_atomic(path, json.dumps(results, indent=2) + "\n")


def format_table(results: dict[str, Any]) -> str:
    """A readable table of the results (subsets, All, then the buckets)."""
    keys = [k for k in METRIC_ORDER if k in results["subsets"]["All"]]
    head = f"{'':<12}{'count':>7}" + "".join(f"{k:>12}" for k in keys)
    lines = [f"method {results['method']}, protocol {results['protocol']}", head]

    def row(name: str, values: dict[str, float]) -> str:
        cells = "".join(
            f"{values[k]:>12.4f}" if k in ("ssim", "lpips") else f"{values[k]:>12.2f}"
            for k in keys
            if k in values
        )
        return f"{name:<12}{values['count']:>7}" + cells

    lines += [row(name, values) for name, values in results["subsets"].items()]
    lines.append("foreground ratio")
    lines += [row(name, values) for name, values in results["buckets"].items()]
    return "\n".join(lines)
