"""``harmonize``: input kinds, exactness outside the mask, blending, odd inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from _helpers import make_composite, make_mask, save_with_orientation
from s2crnet import InputError, NoDefaultModelError, harmonize
from s2crnet.curves import render_curves


def expected_float(composite_u8: np.ndarray, mask_u8: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Exact Eq. 1 on floats, cascaded, blended by the mask: the reference for the LUT path."""
    x = torch.from_numpy(composite_u8).permute(2, 0, 1)[None].double() / 255
    y = x
    for stage in torch.from_numpy(params).double():
        y = render_curves(y, stage[None])
    a = torch.from_numpy(mask_u8)[None, None].double() / 255
    out = (y.clamp(0, 1) * a + x * (1 - a))[0].permute(1, 2, 0).numpy() * 255
    return out


def test_numpy_uint8_result_is_exact_outside_the_mask(model):
    comp, mask = make_composite(), make_mask()
    result = harmonize(comp, mask, model=model, label="person")
    assert result.image.shape == comp.shape and result.image.dtype == np.uint8
    np.testing.assert_array_equal(result.image[mask == 0], comp[mask == 0])
    assert result.curves.params.shape == (2, 3, 64) and result.label == 0
    assert not np.array_equal(result.image[mask > 0], comp[mask > 0])


def test_lut_path_matches_exact_float_render(monotone_model):
    comp, mask = make_composite(), make_mask()
    result = harmonize(comp, mask, model=monotone_model)
    reference = expected_float(comp, mask, result.curves.params)
    assert np.abs(result.image.astype(float) - reference).max() <= 0.5 + 1e-6


def test_float_and_uint16_inputs_agree_with_uint8(monotone_model):
    comp, mask = make_composite(), make_mask()
    r8 = harmonize(comp, mask, model=monotone_model).image.astype(float)
    r32 = harmonize(comp.astype(np.float32) / 255, mask > 0, model=monotone_model).image
    assert r32.dtype == np.float32
    assert np.abs(r32 * 255 - r8).max() <= 1.0
    r16 = harmonize(comp.astype(np.uint16) * 257, mask, model=monotone_model).image
    assert r16.dtype == np.uint16
    assert np.abs(r16 / 257 - r8).max() <= 1.0
    r64 = harmonize(comp.astype(np.float64) / 255, mask, model=monotone_model).image
    assert r64.dtype == np.float64


def test_soft_mask_blends(monotone_model):
    comp, mask = make_composite(), make_mask()
    soft = (mask // 2).astype(np.uint8)  # half strength everywhere inside
    soft[mask == 0] = 0
    full = harmonize(comp, mask, model=monotone_model).image.astype(float)
    half = harmonize(comp, soft, model=monotone_model, label=None).image.astype(float)
    curves = harmonize(comp, soft, model=monotone_model).curves.params
    reference = expected_float(comp, soft, curves)
    assert np.abs(half - reference).max() <= 1.0
    inside = mask > 0
    assert np.all(half[inside] >= np.minimum(comp[inside], full[inside]) - 1)
    assert np.all(half[inside] <= np.maximum(comp[inside], full[inside]) + 1)
    np.testing.assert_array_equal(half[~inside], comp[~inside])


def test_pil_in_pil_out(model):
    comp = Image.fromarray(make_composite())
    result = harmonize(comp, Image.fromarray(make_mask()), model=model)
    assert isinstance(result.image, Image.Image)
    assert result.image.mode == "RGB" and result.image.size == comp.size
    rgba = Image.fromarray(np.dstack([make_composite(), np.full((120, 160), 9, np.uint8)]))
    out = harmonize(rgba, make_mask(), model=model).image
    assert out.mode == "RGBA" and np.all(np.asarray(out)[..., 3] == 9)


def test_paths_in_array_out(tmp_path, model):
    Image.fromarray(make_composite()).save(tmp_path / "c.png")
    Image.fromarray(make_mask()).save(tmp_path / "m.png")
    result = harmonize(tmp_path / "c.png", str(tmp_path / "m.png"), model=model)
    np.testing.assert_array_equal(
        result.image, harmonize(make_composite(), make_mask(), model=model).image
    )


def test_model_from_weights_path(weights_file, model):
    comp, mask = make_composite(), make_mask()
    np.testing.assert_array_equal(
        harmonize(comp, mask, model=weights_file).image, harmonize(comp, mask, model=model).image
    )


def test_grey_input_stays_grey(model):
    grey = make_composite()[..., 1]
    out = harmonize(grey, make_mask(), model=model).image
    assert out.shape == grey.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[make_mask() == 0], grey[make_mask() == 0])


@pytest.mark.parametrize(("h", "w"), [(1, 2), (7, 5), (33, 1000), (613, 97)])
def test_any_resolution(model, h, w):
    comp = make_composite(h, w)
    mask = np.zeros((h, w), np.uint8)
    mask[: max(1, h // 2), : max(1, w // 2)] = 255
    out = harmonize(comp, mask, model=model).image
    assert out.shape == comp.shape
    np.testing.assert_array_equal(out[mask == 0], comp[mask == 0])


def test_empty_mask_returns_input_with_warning(model):
    comp = make_composite()
    with pytest.warns(UserWarning, match="empty"):
        result = harmonize(comp, np.zeros(comp.shape[:2], bool), model=model)
    np.testing.assert_array_equal(result.image, comp)
    assert result.image is not comp


def test_full_mask_is_an_error(model):
    comp = make_composite()
    with pytest.raises(InputError, match="no background"):
        harmonize(comp, np.ones(comp.shape[:2], bool), model=model)


def test_size_mismatch_names_both(tmp_path, model):
    Image.fromarray(make_composite()).save(tmp_path / "c.jpg")
    Image.fromarray(make_mask(100, 100)).save(tmp_path / "m.png")
    with pytest.raises(
        InputError, match=r"m\.png: mask is 100x100 but the composite .*c\.jpg is 160x120"
    ):
        harmonize(tmp_path / "c.jpg", tmp_path / "m.png", model=model)


def test_exif_rotation_applies_to_both_inputs(tmp_path, model):
    upright, mask = make_composite(120, 160), make_mask(120, 160)
    save_with_orientation(
        tmp_path / "c.jpg", np.ascontiguousarray(np.rot90(upright, 1)), 6, quality=98
    )
    # a mask drawn over the upright picture, and one stored like the camera's pixels
    Image.fromarray(mask).save(tmp_path / "upright.png")
    Image.fromarray(np.ascontiguousarray(np.rot90(mask, 1))).save(tmp_path / "raw.png")
    a = harmonize(tmp_path / "c.jpg", tmp_path / "upright.png", model=model).image
    b = harmonize(tmp_path / "c.jpg", tmp_path / "raw.png", model=model).image
    assert a.shape == (120, 160, 3)
    np.testing.assert_array_equal(a, b)


def test_no_model_is_refused_when_none_ships(tmp_path, monkeypatch):
    import s2crnet.loading

    monkeypatch.setattr(s2crnet.loading, "DEFAULT_WEIGHTS", tmp_path / "absent.safetensors")
    with pytest.raises(NoDefaultModelError, match="--weights"):
        harmonize(make_composite(), make_mask())


def test_label_on_plain_model_warns(monotone_model):
    with pytest.warns(UserWarning, match="not semantic"):
        result = harmonize(make_composite(), make_mask(), model=monotone_model, label="person")
    assert result.label is None


def test_bad_arrays():
    from s2crnet.images import picture_from_array

    with pytest.raises(InputError, match="dtype"):
        picture_from_array(np.zeros((4, 4, 3), np.int64))
    with pytest.raises(InputError, match="shape"):
        picture_from_array(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        picture_from_array(np.full((4, 4, 3), 200.0))
    with pytest.raises(InputError, match="NaN"):
        picture_from_array(np.full((4, 4, 3), np.nan, np.float32))


def test_input_arrays_are_not_modified(model):
    comp, mask = make_composite(), make_mask()
    before = comp.copy()
    harmonize(comp, mask, model=model)
    np.testing.assert_array_equal(comp, before)


def test_16_bit_png_file_keeps_16_bits(tmp_path, model):
    rgb16 = make_composite().astype(np.uint16) * 257 + 3
    cv2.imwrite(str(tmp_path / "c.png"), rgb16[..., ::-1])
    out = harmonize(tmp_path / "c.png", make_mask(), model=model).image
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out[make_mask() == 0], rgb16[make_mask() == 0])


def test_soft_masks_agree_across_dtypes(monotone_model):
    comp, mask = make_composite(), make_mask()
    soft = mask.copy()
    soft[mask > 0] = np.linspace(1, 254, int((mask > 0).sum())).astype(np.uint8)
    r8 = harmonize(comp, soft, model=monotone_model).image.astype(float)
    r16 = harmonize(comp.astype(np.uint16) * 257, soft, model=monotone_model).image
    r32 = harmonize(comp.astype(np.float32) / 255, soft, model=monotone_model).image
    assert np.abs(r16 / 257 - r8).max() <= 1.0
    assert np.abs(r32 * 255 - r8).max() <= 1.0
    np.testing.assert_array_equal(r16[mask == 0], comp[mask == 0].astype(np.uint16) * 257)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_render_memory_stays_within_one_extra_image(dtype):
    """Deterministic (not timed): numpy and OpenCV outputs are traced by tracemalloc."""
    import tracemalloc

    from s2crnet.curves import Curves
    from s2crnet.render import apply_curves

    h, w = 2000, 3000
    rgb = np.zeros((h, w, 3), dtype)
    mask = np.zeros((h, w), np.uint8)
    mask[100:1900, 200:2900] = 255
    mask[700:800, 200:2900] = 128  # a soft band too
    curves = Curves(np.random.default_rng(0).random((2, 3, 64)) + 0.1)
    tracemalloc.start()
    out = apply_curves(rgb, mask, curves)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.dtype == rgb.dtype
    assert peak < 1.4 * rgb.nbytes  # the output plus small temporaries, no float copy


def test_harmonize_memory_stays_within_one_extra_image(model):
    import tracemalloc

    h, w = 2000, 3000
    rgb = np.full((h, w, 3), 90, np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[300:1700, 500:2500] = 255
    harmonize(rgb[280:344, 480:544], mask[280:344, 480:544], model=model)  # warm-up
    tracemalloc.start()
    out = harmonize(rgb, mask, model=model).image
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.shape == rgb.shape
    assert peak < 1.5 * rgb.nbytes  # thumbnails, LUT and blend add little beyond the output
