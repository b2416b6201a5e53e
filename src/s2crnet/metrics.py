"""Image-harmonization metrics, each with one name and one definition.

All take uint8 images (the prediction is therefore already clamped to [0, 255]) and
compute on 0-255 values:

* ``mse``: mean squared error over every pixel and channel;
* ``fmse``: squared error summed over the foreground, / (3 x foreground pixels);
* ``psnr``: ``10 log10(255^2 / mse)``;
* ``psnr_gtmax``: the same with the peak = the ground truth's maximum (the saic-vul iDIH
  codebase, reused by most later papers);
* ``fpsnr``: PSNR from ``fmse``, peak 255;
* ``ssim``: scikit-image's SSIM on RGB (``channel_axis=2``, ``data_range=255``);
* ``lpips``: optional, see :class:`LPIPS`.

PSNR of identical images is infinite; every PSNR here is capped at :data:`PSNR_CAP` so
that averages stay finite.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "BUCKETS",
    "LPIPS",
    "PSNR_CAP",
    "bucket_of",
    "fmse",
    "image_metrics",
    "mse",
    "psnr",
]

PSNR_CAP = 100.0
#: The paper's foreground-ratio buckets: name -> [low, high).
BUCKETS = {"0-5%": (0.0, 0.05), "5-15%": (0.05, 0.15), "15-100%": (0.15, 1.0001)}


def _squared_error(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    if pred.shape != target.shape:
        raise ValueError(f"prediction {pred.shape} and target {target.shape} differ in shape")
    diff = pred.astype(np.int32) - target.astype(np.int32)
    return diff * diff  # exact integers


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error over all pixels and channels.

    >>> mse(np.array([[[0, 0, 0]]], np.uint8), np.array([[[3, 0, 0]]], np.uint8))
    3.0
    """
    return float(_squared_error(pred, target).sum(dtype=np.int64) / pred.size)


def fmse(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Foreground MSE: squared error over the ``mask`` pixels / (3 x their count).

    ``mask`` is a boolean ``(H, W)`` array; an empty foreground gives NaN.
    """
    count = int(mask.sum())
    if count == 0:
        return math.nan
    err = _squared_error(pred, target)[mask].sum(dtype=np.int64)
    return float(err / (pred.shape[2] * count))


def psnr(mse_value: float, peak: float = 255.0) -> float:
    """``10 log10(peak^2 / mse)``, capped at :data:`PSNR_CAP` (identical images).

    >>> round(psnr(65.025), 4), psnr(0.0)
    (30.0, 100.0)
    """
    if math.isnan(mse_value):
        return math.nan
    if mse_value <= 0:
        return PSNR_CAP
    return min(PSNR_CAP, 10 * math.log10(peak * peak / mse_value))


def bucket_of(ratio: float) -> str:
    """The foreground-ratio bucket of an image (ratio of foreground pixels)."""
    return next(name for name, (lo, hi) in BUCKETS.items() if lo <= ratio < hi)


def image_metrics(
    pred: np.ndarray, target: np.ndarray, mask: np.ndarray, ssim: bool = True
) -> dict[str, float]:
    """Every metric for one image.

    Args:
        pred, target: ``(H, W, 3)`` uint8.
        mask: ``(H, W)`` bool foreground.
        ssim: compute SSIM (the slowest metric).
    """
    whole = mse(pred, target)
    fore = fmse(pred, target, mask)
    out = {
        "mse": whole,
        "fmse": fore,
        "psnr": psnr(whole),
        "psnr_gtmax": psnr(whole, float(target.max())),
        "fpsnr": psnr(fore),
    }
    if ssim:
        out["ssim"] = structural_similarity(target, pred)
    return out


def structural_similarity(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Mean SSIM of two ``(H, W, C)`` images, channels averaged, exactly as scikit-image's
    ``structural_similarity(a, b, channel_axis=2, data_range=255)`` computes it (7x7
    uniform window, sample covariance, K1 = 0.01, K2 = 0.03, a 3-pixel border left out),
    with OpenCV's box filter, so that evaluating needs no SciPy (``tests/test_metrics.py``
    checks it against scikit-image).

    >>> x = np.random.default_rng(0).integers(0, 256, (16, 16, 3)).astype(np.uint8)
    >>> structural_similarity(x, x)
    1.0
    """
    import cv2

    if a.shape != b.shape or a.ndim != 3 or min(a.shape[:2]) < 7:
        raise ValueError(f"SSIM needs two (H >= 7, W >= 7, C) images, got {a.shape}, {b.shape}")
    n = 49  # the 7x7 window
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for c in range(a.shape[2]):
        x, y = a[..., c].astype(np.float64), b[..., c].astype(np.float64)

        def mean(v: np.ndarray) -> np.ndarray:
            return cv2.boxFilter(v, -1, (7, 7), normalize=True, borderType=cv2.BORDER_REFLECT)

        ux, uy = mean(x), mean(y)
        vx = n / (n - 1) * (mean(x * x) - ux * ux)
        vy = n / (n - 1) * (mean(y * y) - uy * uy)
        vxy = n / (n - 1) * (mean(x * y) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
        values.append(s[3:-3, 3:-3].mean())
    return float(np.mean(values))


class LPIPS:
    """LPIPS (AlexNet) from the ``lpips`` package, with a local backbone file.

    The package ships its linear layers; the AlexNet backbone comes from ``weights``
    (torchvision format, e.g. ``../shared/weights/alexnet-features-imagenet.safetensors``)
    or, when None, from torchvision's own cache or download.
    """

    def __init__(self, weights: str | Path | None = None, device: str = "cpu") -> None:
        from .errors import require

        require("lpips", "--lpips (LPIPS)", extra="lpips")
        import lpips
        import torch

        self._torch = torch
        self.device = device
        with warnings.catch_warnings():  # lpips uses torchvision's deprecated arguments
            warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
            self.net = lpips.LPIPS(
                net="alex", pretrained=True, pnet_rand=weights is not None, verbose=False
            )
        if weights is not None:
            from .weights import read_tensors

            state = read_tensors(Path(weights))[0]
            slices = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}  # features index -> lpips slice
            mapped = {}
            for key, value in state.items():
                index, name = key.removeprefix("features.").split(".", 1)
                mapped[f"slice{slices[int(index)]}.{index}.{name}"] = value
            self.net.net.load_state_dict(mapped, strict=True)
        self.net.eval().to(device)

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        torch = self._torch

        def tensor(a: np.ndarray):
            t = torch.from_numpy(np.array(a, dtype=np.float32)).permute(2, 0, 1)[None]
            return (t / 127.5 - 1).to(self.device)

        with torch.inference_mode():
            return float(self.net(tensor(pred), tensor(target)).item())
