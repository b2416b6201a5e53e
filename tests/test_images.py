"""Reading and writing images and masks in the formats users actually have."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from _helpers import make_composite, make_mask, save_with_orientation
from s2crnet.images import (
    InputError,
    Picture,
    mask_from_array,
    orient,
    read_image,
    read_mask,
    write_image,
)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_matches_pillow_exif_transpose(tmp_path, orientation):
    array = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    path = tmp_path / "o.png"
    save_with_orientation(path, array, orientation)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    np.testing.assert_array_equal(orient(array, orientation), expected)
    np.testing.assert_array_equal(read_image(path).rgb, expected)


def test_rgb_jpeg(tmp_path):
    array = make_composite()
    Image.fromarray(array).save(tmp_path / "c.jpg", quality=98)
    pic = read_image(tmp_path / "c.jpg")
    assert pic.rgb.shape == array.shape and pic.rgb.dtype == np.uint8 and not pic.grey
    assert np.abs(pic.rgb.astype(int) - array).mean() < 2


def test_rgba_png_keeps_alpha(tmp_path):
    array = np.dstack([make_composite(), np.full((120, 160), 77, np.uint8)])
    Image.fromarray(array).save(tmp_path / "c.png")
    pic = read_image(tmp_path / "c.png")
    np.testing.assert_array_equal(pic.rgb, array[..., :3])
    np.testing.assert_array_equal(pic.alpha, array[..., 3])
    np.testing.assert_array_equal(pic.channels(), array)


def test_grey_and_palette_images(tmp_path):
    grey = make_composite()[..., 0]
    Image.fromarray(grey).save(tmp_path / "g.png")
    pic = read_image(tmp_path / "g.png")
    assert pic.grey and pic.rgb.shape == (120, 160, 3)
    np.testing.assert_array_equal(pic.channels(), grey)
    Image.fromarray(make_composite()).convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").rgb.shape == (120, 160, 3)


def test_16_bit_png_keeps_16_bits(tmp_path):
    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, (30, 40, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "c16.png"), rgb16[..., ::-1])
    pic = read_image(tmp_path / "c16.png")
    assert pic.rgb.dtype == np.uint16
    np.testing.assert_array_equal(pic.rgb, rgb16)
    cv2.imwrite(str(tmp_path / "g16.png"), rgb16[..., 0])
    grey = read_image(tmp_path / "g16.png")
    assert grey.grey and grey.rgb.dtype == np.uint16
    np.testing.assert_array_equal(grey.channels(), rgb16[..., 0])


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    array = make_composite()
    Image.fromarray(array).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=98)
    pic = read_image(tmp_path / "cmyk.jpg")
    assert pic.rgb.shape == array.shape
    assert np.abs(pic.rgb.astype(int) - array).mean() < 6


def test_exif_rotated_jpeg_is_read_upright(tmp_path):
    upright = make_composite(120, 160)
    stored = np.rot90(upright, 1)  # orientation 6 = rotate 90 clockwise to display
    save_with_orientation(tmp_path / "r.jpg", np.ascontiguousarray(stored), 6, quality=98)
    pic = read_image(tmp_path / "r.jpg")
    assert pic.orientation == 6 and pic.shape == (120, 160)
    assert np.abs(pic.rgb.astype(int) - upright).mean() < 3


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not an image"), (b"not an image at all", "not an image"), (None, "truncated")],
)
def test_bad_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.jpg"
    if content is None:
        Image.fromarray(make_composite()).save(path, quality=95)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_image(path)
    assert str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such image file"):
        read_image(tmp_path / "absent.png")
    with pytest.raises(InputError, match="folder"):
        read_mask(tmp_path)


def test_mask_formats(tmp_path):
    m = make_mask()
    Image.fromarray(m).save(tmp_path / "l.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "l.png").values, m)
    Image.fromarray(m).convert("1").save(tmp_path / "bit.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "bit.png").values, m)
    red = np.zeros((*m.shape, 3), np.uint8)
    red[..., 0] = m
    Image.fromarray(red).save(tmp_path / "red.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "red.png").values, m)
    cutout = np.dstack([np.full((*m.shape, 3), 90, np.uint8), m])  # alpha is the shape
    Image.fromarray(cutout).save(tmp_path / "cutout.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "cutout.png").values, m)
    Image.fromarray((m // 255).astype(np.uint8)).save(tmp_path / "ones.png")  # 0/1 masks
    np.testing.assert_array_equal(read_mask(tmp_path / "ones.png").values, m)
    cv2.imwrite(str(tmp_path / "m16.png"), m.astype(np.uint16) * 257)
    np.testing.assert_array_equal(read_mask(tmp_path / "m16.png").values, m)


def test_mask_arrays():
    m = make_mask()
    np.testing.assert_array_equal(mask_from_array(m > 0), m)
    np.testing.assert_array_equal(mask_from_array(m.astype(np.float32) / 255), m)
    assert mask_from_array(np.full((2, 2), 0.5)).tolist() == [[128, 128], [128, 128]]
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        mask_from_array(np.full((2, 2), 2.0))
    with pytest.raises(InputError, match="HxW"):
        mask_from_array(np.zeros((2, 2, 2, 2)))


def test_write_round_trips_and_is_atomic(tmp_path, monkeypatch):
    array = make_composite()
    pic = Picture(rgb=array, alpha=np.full(array.shape[:2], 200, np.uint8))
    write_image(tmp_path / "o.png", pic)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o.png")), pic.channels())
    with pytest.warns(UserWarning, match="alpha dropped"):
        write_image(tmp_path / "o.jpg", pic)
    assert Image.open(tmp_path / "o.jpg").mode == "RGB"
    rgb16 = array.astype(np.uint16) * 257
    write_image(tmp_path / "o16.png", Picture(rgb=rgb16))
    np.testing.assert_array_equal(read_image(tmp_path / "o16.png").rgb, rgb16)

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    (tmp_path / "keep.png").write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        write_image(tmp_path / "keep.png", pic)
    assert (tmp_path / "keep.png").read_bytes() == b"old"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_write_rejects_unknown_extension_and_missing_folder(tmp_path):
    pic = Picture(rgb=make_composite())
    with pytest.raises(InputError, match="unsupported output format"):
        write_image(tmp_path / "o.gifx", pic)
    with pytest.raises(InputError, match="does not exist"):
        write_image(tmp_path / "nope" / "o.png", pic)


def test_outputs_get_the_usual_file_mode(tmp_path):
    import os
    import stat

    write_image(tmp_path / "o.png", Picture(rgb=make_composite()))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "o.png").stat().st_mode) == 0o666 & ~umask
