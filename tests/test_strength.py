"""Curve strength: 0 to any finite number, the calibration it multiplies, and what
the curve files and plots record of it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from _helpers import make_composite, make_mask, run_cli
from s2crnet import Curves, S2CRNet, harmonize, load_model


def test_strength_zero_one_and_between(semantic_model):
    comp, mask = make_composite(), make_mask()
    full = harmonize(comp, mask, model=semantic_model)
    np.testing.assert_array_equal(
        harmonize(comp, mask, model=semantic_model, strength=0).image, comp
    )
    np.testing.assert_array_equal(
        harmonize(comp, mask, model=semantic_model, strength=1).image, full.image
    )
    half = harmonize(comp, mask, model=semantic_model, strength=0.5).image.astype(float)
    inside = mask > 0
    # a model that changes nothing would pass every line below: this one must not
    assert np.abs(full.image.astype(float) - comp)[inside].mean() > 2
    expected = (comp[inside] + full.image[inside].astype(float)) / 2
    assert np.abs(half[inside] - expected).max() <= 1.0  # the curve is interpolated


def test_strength_above_one_exaggerates_and_stays_monotone():
    rng = np.random.default_rng(0)
    curves = Curves(rng.random((2, 3, 64)) + 0.05)
    assert curves.is_monotone()
    ramp = np.linspace(0, 1, 257)[:, None].repeat(3, axis=1)
    base = np.abs(curves.apply(ramp) - ramp).mean()
    for strength in (1.5, 2.0, 4.0):
        stronger = curves.with_strength(strength)
        assert stronger.is_monotone()
        assert np.abs(stronger.apply(ramp) - ramp).mean() > base
        np.testing.assert_allclose(stronger.apply(ramp)[[0, -1]], [[0] * 3, [1] * 3], atol=1e-6)
    with pytest.raises(ValueError):
        curves.with_strength(-1)


@pytest.mark.parametrize("strength", [200.0, 1e4, 1e300])
def test_any_finite_strength_is_finite_monotone_and_ends_where_the_curve_ends(strength):
    rng = np.random.default_rng(3)
    curves = Curves(rng.random((2, 3, 64)) * 0.9 + 0.1)
    ramp = np.linspace(0, 1, 1025)[:, None].repeat(3, axis=1)
    stronger = curves.with_strength(strength)
    values = stronger.apply(ramp)
    assert np.isfinite(values).all() and stronger.is_monotone()
    np.testing.assert_allclose(values[[0, -1]], curves.apply(ramp)[[0, -1]], atol=1e-9)
    lut = stronger.lut()
    np.testing.assert_array_equal(lut[[0, 255]], curves.lut()[[0, 255]])  # not black: 255


def test_the_largest_strength_keeps_the_object_and_more_is_refused(files, weights_file):
    from s2crnet.strength import MAX_STRENGTH

    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
        "--weights", weights_file, "--strength", MAX_STRENGTH,
    )  # fmt: skip
    assert code == 0, err
    inside = np.asarray(Image.open(files / "o.png"))[make_mask() > 0]
    assert inside.max() > 100  # a collapsed curve made every pixel black
    for bad in ("nan", "inf", "-1", "4.5", "1000"):
        code, _, err = run_cli(
            "harmonize", files / "c.png", files / "m.png", "-o", files / "x.png",
            "--weights", weights_file, "--strength", bad,
        )  # fmt: skip
        assert code == 2 and "--strength" in err and "Traceback" not in err, err
    with pytest.raises(ValueError, match=r"at most 4 .* got 1000"):
        harmonize(make_composite(), make_mask(), model=weights_file, strength=1000)


def test_curve_file_and_plot_record_requested_and_effective_strength(files, weights_file):
    from s2crnet.visual import strength_text

    model = load_model(weights_file)
    calibrated = dataclasses.replace(model.config, curve_strength=0.61)
    weights = files / "calibrated.safetensors"
    S2CRNet(calibrated).eval().save(weights)  # random weights, calibrated strength 0.61
    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
        "--weights", weights, "--strength", 0.8, "--save-curves", files / "k.json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads((files / "k.json").read_text())
    assert data["strength_requested"] == pytest.approx(0.8)
    assert data["strength_calibration"] == pytest.approx(0.61)
    assert data["strength"] == pytest.approx(0.8 * 0.61)
    curves = Curves.from_json((files / "k.json").read_text())
    assert strength_text(curves, 0.61) == "strength 0.8 x calibrated 0.61 = 0.488"
    # apply-curves --strength means what harmonize --strength means
    for args in ([], ["--strength", 0.8]):
        code, _, err = run_cli(
            "apply-curves", files / "c.png", files / "m.png", files / "k.json",
            "-o", files / "again.png", *args,
        )  # fmt: skip
        assert code == 0, err
        np.testing.assert_array_equal(
            np.asarray(Image.open(files / "again.png")), np.asarray(Image.open(files / "o.png"))
        )
        (files / "again.png").unlink()
