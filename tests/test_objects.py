"""Several objects in one composite (masks, a label map) and a reference photo's
background."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from _helpers import (
    assert_user_error,
    harmonize_files,
    make_composite,
    make_mask,
    run_cli,
    two_masks,
)
from s2crnet import InputError, harmonize


def test_several_objects_each_with_their_own_curves(semantic_model):
    comp = make_composite()
    a, b = two_masks()
    result = harmonize(comp, [a, b], model=semantic_model, label=["person", "vehicle"])
    assert len(result.objects) == 2 and [o.label for o in result.objects] == [0, 3]
    outside = (a == 0) & (b == 0)
    np.testing.assert_array_equal(result.image[outside], comp[outside])
    assert not np.allclose(result.objects[0].curves.params, result.objects[1].curves.params)
    label_map = np.zeros(a.shape, np.uint8)
    label_map[a > 0], label_map[b > 0] = 1, 2
    by_map = harmonize(comp, label_map=label_map, model=semantic_model, label=["person", "vehicle"])
    np.testing.assert_array_equal(by_map.image, result.image)


def test_overlapping_masks_are_an_error_naming_the_overlap(semantic_model):
    a, b = two_masks()
    b[40:60, 40:70] = 255
    with pytest.raises(InputError, match=r"mask 1 and mask 2 overlap in \d+ pixels"):
        harmonize(make_composite(), [a, b], model=semantic_model)
    with pytest.raises(InputError, match="3 labels for 2 objects"):
        harmonize(make_composite(), list(two_masks()), model=semantic_model, label=[0, 1, 2])


def test_cli_several_masks_and_label_map(files, weights_file):
    a, b = two_masks()
    Image.fromarray(a).save(files / "a.png")
    Image.fromarray(b).save(files / "b.png")

    def run_two(output: str, *extra: object) -> tuple[int, str, str]:
        return run_cli("harmonize", files / "c.png", files / "a.png", files / "b.png",
                       "-o", files / output, "--weights", weights_file, *extra)  # fmt: skip

    code, _, err = run_two("two.png", "--save-curves", files / "k.json")
    assert code == 0, err
    first, second = (json.loads((files / f"k-{i}.json").read_text()) for i in (1, 2))
    assert first["mask"].endswith("a.png") and second["mask"].endswith("b.png")
    assert first["stages"] != second["stages"]  # each object its own curves
    api = harmonize(files / "c.png", [files / "a.png", files / "b.png"], model=weights_file)
    np.testing.assert_array_equal(np.asarray(Image.open(files / "two.png")), api.image)
    label_map = np.zeros(a.shape, np.uint8)
    label_map[a > 0], label_map[b > 0] = 1, 2
    Image.fromarray(label_map).save(files / "labels.png")
    code, _, err = run_cli(
        "harmonize",
        files / "c.png",
        "--label-map",
        files / "labels.png",
        "-o",
        files / "map.png",
        "--weights",
        weights_file,
    )
    assert code == 0, err
    np.testing.assert_array_equal(
        np.asarray(Image.open(files / "map.png")), np.asarray(Image.open(files / "two.png"))
    )
    b[30:60, 30:70] = 255
    Image.fromarray(b).save(files / "b.png")
    code, _, err = run_two("bad.png")
    assert code == 2 and "a.png" in err and "b.png" in err and "overlap" in err


def test_reference_background(semantic_model):
    comp, mask = make_composite(), make_mask()
    plain = harmonize(comp, mask, model=semantic_model)
    same = harmonize(comp, mask, model=semantic_model, reference=comp, reference_mask=mask)
    np.testing.assert_array_equal(same.image, plain.image)  # the same background
    other = make_composite(200, 300, seed=9)
    guided = harmonize(comp, mask, model=semantic_model, reference=other)
    assert not np.allclose(guided.curves.params, plain.curves.params)
    np.testing.assert_array_equal(guided.image[mask == 0], comp[mask == 0])
    everything = np.full(mask.shape, 255, np.uint8)  # no background of its own: fine here
    assert (
        harmonize(comp, everything, model=semantic_model, reference=other).image.shape == comp.shape
    )


def test_cli_reference_image(files, weights_file):
    Image.fromarray(make_composite(90, 90, seed=4)).save(files / "ref.jpg")
    code, _, err = harmonize_files(
        files, weights_file, "--reference-image", files / "ref.jpg", output="r.png"
    )
    assert code == 0, err


def test_a_label_map_of_another_size_is_refused_naming_both(files, weights_file):
    label_map = np.zeros((60, 80), np.uint8)
    label_map[10:30, 10:30] = 1
    Image.fromarray(label_map).save(files / "small.png")
    with pytest.raises(InputError, match=r"small\.png: label map is 80x60 but the composite"):
        harmonize(files / "c.png", label_map=files / "small.png", model=weights_file)
    with pytest.raises(InputError, match=r"label map is 80x60 but the composite is 160x120"):
        harmonize(make_composite(), label_map=label_map, model=weights_file)
    code, _, err = run_cli(
        "harmonize", files / "c.png", "--label-map", files / "small.png", "-o", files / "o.png",
        "--weights", weights_file,
    )  # fmt: skip
    assert_user_error(code, err, "small.png", "80x60", "c.png", "160x120")
    assert not (files / "o.png").exists()
