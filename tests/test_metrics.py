"""Metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from s2crnet.metrics import PSNR_CAP, bucket_of, fmse, image_metrics, mse, psnr


def test_mse_and_fmse_by_hand():
    target = np.zeros((2, 2, 3), np.uint8)
    pred = target.copy()
    pred[0, 0] = (3, 0, 0)  # squared errors 9, 0, 0
    pred[1, 1] = (1, 1, 1)  # 1, 1, 1
    assert mse(pred, target) == pytest.approx(12 / 12)
    mask = np.array([[True, False], [False, False]])
    assert fmse(pred, target, mask) == pytest.approx(9 / 3)
    mask[1, 1] = True
    assert fmse(pred, target, mask) == pytest.approx(12 / 6)
    assert math.isnan(fmse(pred, target, np.zeros((2, 2), bool)))


def test_no_overflow_on_large_errors():
    pred = np.full((4, 4, 3), 255, np.uint8)
    target = np.zeros((4, 4, 3), np.uint8)
    assert mse(pred, target) == 255.0**2


def test_psnr_variants_and_identical_images():
    assert psnr(255.0**2) == pytest.approx(0.0)
    assert psnr(65.025) == pytest.approx(30.0)
    assert psnr(100.0, peak=200.0) == pytest.approx(10 * math.log10(400.0))
    assert psnr(0.0) == PSNR_CAP and math.isnan(psnr(math.nan))
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    m = image_metrics(image, image, np.ones((8, 8), bool))
    assert m["mse"] == 0 and m["psnr"] == m["fpsnr"] == m["psnr_gtmax"] == PSNR_CAP
    assert m["ssim"] == pytest.approx(1.0)


def test_image_metrics_by_hand():
    target = np.full((4, 4, 3), 100, np.uint8)
    target[0, 0] = 200  # the ground truth's maximum
    pred = target.copy()
    pred[1:3, 1:3] += 10  # 4 pixels, 3 channels: squared error 100 each
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:3] = True
    m = image_metrics(pred, target, mask, ssim=False)
    assert m["mse"] == pytest.approx(1200 / 48)
    assert m["fmse"] == pytest.approx(100.0)
    assert m["psnr"] == pytest.approx(10 * math.log10(255**2 / 25))
    assert m["psnr_gtmax"] == pytest.approx(10 * math.log10(200**2 / 25))
    assert m["fpsnr"] == pytest.approx(10 * math.log10(255**2 / 100))
    assert "ssim" not in m


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        mse(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 3, 3), np.uint8))


def test_buckets():
    assert [bucket_of(r) for r in (0.0, 0.049, 0.05, 0.149, 0.15, 1.0)] == [
        "0-5%",
        "0-5%",
        "5-15%",
        "5-15%",
        "15-100%",
        "15-100%",
    ]


def test_ssim_is_scikit_images_to_the_last_bit():
    """Evaluating needs no SciPy: our SSIM (OpenCV's box filter) equals scikit-image's."""
    skimage_metrics = pytest.importorskip("skimage.metrics")
    from s2crnet.metrics import structural_similarity

    rng = np.random.default_rng(1)
    for shape in ((16, 16, 3), (121, 161, 3), (256, 256, 3)):
        a = rng.integers(0, 256, shape).astype(np.uint8)
        b = np.clip(a.astype(int) + rng.integers(-40, 40, shape), 0, 255).astype(np.uint8)
        expected = skimage_metrics.structural_similarity(a, b, channel_axis=2, data_range=255)
        assert structural_similarity(a, b) == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="SSIM needs two"):
        structural_similarity(np.zeros((5, 5, 3)), np.zeros((5, 5, 3)))
