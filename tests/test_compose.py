"""``compose``: a cut-out pasted onto a photo (its alpha the mask), then harmonized."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from _helpers import assert_user_error, make_composite, run_cli
from s2crnet import InputError, compose
from s2crnet.compose import paste


def cutout(h: int = 20, w: int = 30) -> np.ndarray:
    """A red rectangle with a soft (half-transparent) rim on a transparent canvas."""
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[2:-2, 2:-2] = (200, 30, 30, 128)
    rgba[4:-4, 4:-4, 3] = 255
    return rgba


def test_paste_places_blends_and_crops():
    background = np.full((60, 80, 3), 100, np.uint8)
    composite, mask = paste(cutout(), background, at=(10, 5))
    assert composite.shape == background.shape and mask.shape == (60, 80)
    assert composite[5 + 10, 10 + 15].tolist() == [200, 30, 30] and mask[15, 25] == 255
    assert composite[5 + 2, 10 + 2].tolist() == [150, 65, 65] and mask[7, 12] == 128  # soft rim
    assert composite[0, 0].tolist() == [100, 100, 100] and mask[0, 0] == 0
    centred = paste(cutout(), background)[1]
    assert np.argwhere(centred == 255).mean(axis=0).round().tolist() == [30.0, 40.0]
    corner = paste(cutout(), background, at=(-10, -5))[1]  # sticks out: cropped
    assert corner[:15, :20].any() and not corner[20:, 25:].any()
    half = paste(cutout(), background, at=(0, 0), scale=0.5)[1]
    assert np.count_nonzero(half) < np.count_nonzero(paste(cutout(), background, at=(0, 0))[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(at=(500, 500)), "wholly outside"),
        (dict(at=(-40, 0)), "wholly outside"),
        (dict(scale=0.001), "no pixels left"),
    ],
)
def test_paste_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        paste(cutout(), np.zeros((60, 80, 3), np.uint8), **kwargs)


def test_paste_needs_transparency():
    with pytest.raises(InputError, match="no transparency"):
        paste(cutout()[..., :3], np.zeros((60, 80, 3), np.uint8))
    opaque = cutout()
    opaque[..., 3] = 255
    with pytest.raises(InputError, match="fully opaque"):
        paste(opaque, np.zeros((60, 80, 3), np.uint8))


def test_compose_api_harmonizes_the_pasted_object(model):
    background = make_composite()
    result = compose(cutout(), background, at=(40, 30), model=model, label="other")
    assert result.image.shape == background.shape and result.mask.shape == (120, 160)
    outside = result.mask == 0
    np.testing.assert_array_equal(result.image[outside], background[outside])
    np.testing.assert_array_equal(result.composite[outside], background[outside])
    assert result.objects[0].label == 4


def test_compose_cli_writes_all_three_and_reports_bad_cutouts(files, weights_file):
    Image.fromarray(cutout()).save(files / "obj.png")
    code, _, err = run_cli(
        "compose", files / "obj.png", files / "c.png", "-o", files / "out.png", "--at", "10,20",
        "--scale", 2, "--weights", weights_file, "--save-composite", files / "pasted.png",
        "--save-mask", files / "m2.png",
    )  # fmt: skip
    assert code == 0, err
    for name in ("out.png", "pasted.png", "m2.png"):
        assert f"wrote {files / name}" in err
    mask = np.asarray(Image.open(files / "m2.png"))
    assert mask.shape == (120, 160) and mask[20 + 20, 10 + 30] == 255
    for args, message in (
        ([files / "c.png", files / "c.png", "-o", files / "x.png"], "no transparency"),
        ([files / "obj.png", files / "c.png", "-o", files / "x.png", "--at", "900,0"],
         "wholly outside"),
        ([files / "obj.png", files / "c.png", "-o", files / "x.png", "--at", "1"], "X,Y"),
    ):  # fmt: skip
        code, _, err = run_cli("compose", *args, "--weights", weights_file)
        assert_user_error(code, err, message)
    assert not (files / "x.png").exists()
