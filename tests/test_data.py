"""Data: the iHarmony4 reader, synthetic composites, training transforms, step sampler."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _helpers import make_iharmony4_tree, make_photo_folder, shared_path
from s2crnet.data import (
    OPS,
    ColourFamily,
    IHarmony4,
    PhotoComposites,
    list_photos,
    list_triplets,
    make_composite,
    read_label_list,
)
from s2crnet.data.synthetic import DEFAULT_OPS, Reference
from s2crnet.data.transforms import random_crop_flip
from s2crnet.training import TrainConfig
from s2crnet.training.sampler import StepBatchSampler


def test_list_triplets_naming_rule_splits_and_subsets(tmp_path):
    root = make_iharmony4_tree(tmp_path)
    train = list_triplets(root, "train")
    assert len(train) == 6 and {t.subset for t in train} == {"HAdobe5k", "HFlickr"}
    t = next(t for t in train if t.composite.name == "a0001_1_2.png")
    assert t.mask.name == "a0001_1.png" and t.real.name == "a0001.png"  # any extension
    assert len(list_triplets(root, "test", subsets=["HFlickr"])) == 1
    with pytest.raises(FileNotFoundError, match="HCOCO"):
        list_triplets(root, "train", subsets=["HCOCO"])


def test_label_lists(tmp_path):
    root = make_iharmony4_tree(tmp_path / "data")
    listing = tmp_path / "labels.txt"
    listing.write_text("# name label\na0000_1_1.png person\na0001_1_2 3\n\n")
    labels = read_label_list(listing)
    assert labels == {"a0000_1_1.png": 0, "a0001_1_2": 3}
    by_name = {t.composite.name: t.label for t in list_triplets(root, "train", labels=listing)}
    assert by_name["a0000_1_1.png"] == 0 and by_name["a0001_1_2.png"] == 3
    assert by_name["a0002_1_3.png"] == 4
    listing.write_text("a0000_1_1.png dog\n")
    with pytest.raises(ValueError, match=r"labels\.txt:1"):
        read_label_list(listing)


def test_missing_listed_file_is_named(tmp_path):
    root = make_iharmony4_tree(tmp_path)
    (root / "HFlickr" / "masks" / "f0001_1.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"f0001_1\.png"):
        list_triplets(root, "train")


def test_iharmony4_dataset_samples(tmp_path):
    ds = IHarmony4(make_iharmony4_tree(tmp_path), "train", size=32, seed=3)
    sample = ds[(1, 0)]
    assert sample["composite"].shape == (3, 32, 32) and sample["mask"].shape == (1, 32, 32)
    assert sample["target"].shape == (3, 32, 32) and sample["label"].item() == 4
    again = ds[(1, 0)]
    assert all(torch.equal(sample[k], again[k]) for k in sample)  # seeded by (index, epoch)
    other_epoch = ds[(1, 1)]
    assert not torch.equal(sample["composite"], other_epoch["composite"])


def test_photo_listing_with_and_without_labels(tmp_path):
    photos = list_photos(make_photo_folder(tmp_path / "a"))
    assert [p.label for p in photos[:3]] == [0, 1, 4]  # unknown classes count as other
    plain = list_photos(make_photo_folder(tmp_path / "b", labels=False))
    assert len(plain) == 6 and {p.label for p in plain} == {4}
    with pytest.raises(FileNotFoundError, match=r"nothing: no such folder$"):
        list_photos(tmp_path / "nothing")
    (tmp_path / "f.txt").write_text("")
    with pytest.raises(FileNotFoundError, match=r"f\.txt: is a file, not a folder$"):
        list_photos(tmp_path / "f.txt")
    with pytest.raises(FileNotFoundError, match=r"expected the folders images/ and masks/$"):
        list_photos(tmp_path)


def test_photo_composites_pool_several_folders(tmp_path):
    a = make_photo_folder(tmp_path / "a")
    b = make_photo_folder(tmp_path / "b", count=3, labels=False)
    ds = PhotoComposites([a, str(b)], size=32)
    assert len(ds) == 9
    assert [p.image.parent.parent for p in ds.photos] == [a] * 6 + [b] * 3
    assert len(PhotoComposites(a, size=32)) == 6


def test_photo_composites_change_only_the_object(tmp_path):
    ds = PhotoComposites(make_photo_folder(tmp_path), size=32, seed=1)
    for key in [(i, e) for i in range(6) for e in range(3)]:
        s = ds[key]
        diff = (s["composite"] - s["target"]).abs()
        outside = s["mask"].expand_as(diff) == 0
        assert diff[outside].max() == 0
        assert diff[~outside].max() > 0  # never identical to the target
        assert s["composite"].min() >= 0 and s["composite"].max() <= 1


@pytest.mark.parametrize("op", OPS)
def test_each_colour_op_changes_the_object(op):
    rng = np.random.default_rng(0)
    photo = rng.uniform(0.2, 0.8, (24, 24, 3)).astype(np.float32)
    mask = np.zeros((24, 24), np.float32)
    mask[4:20, 4:20] = 1
    other = np.random.default_rng(1).uniform(0.0, 0.4, (24, 24, 3)).astype(np.float32)
    ref = Reference(other, mask)
    family = ColourFamily(ops=(op,), max_ops=1)
    composite, ops = make_composite(photo, mask, rng, family, lambda: ref)
    assert ops == [op]
    assert np.abs(composite - photo)[mask > 0].mean() >= family.min_change
    np.testing.assert_array_equal(composite[mask == 0], photo[mask == 0])


def test_histogram_matching_takes_the_reference_distribution():
    rng = np.random.default_rng(0)
    photo = rng.uniform(0.2, 0.8, (64, 64, 3)).astype(np.float32)
    mask = np.zeros((64, 64), np.float32)
    mask[8:56, 8:56] = 1
    other = np.zeros((64, 64, 3), np.float32)
    other[..., 0] = np.linspace(0.0, 0.5, 64)[None]  # red uniform on [0, 0.5]
    other[..., 1] = 0.9  # green constant
    other[..., 2] = np.linspace(0.5, 1.0, 64)[:, None]  # blue uniform on [0.5, 1]
    ref = Reference(other, np.ones((64, 64), np.float32))
    np.testing.assert_allclose(ref.quantiles[[0, 16, 32], 0], [0.0, 0.25, 0.5], atol=1e-6)
    family = ColourFamily(ops=("histogram",), max_ops=1)
    composite, _ = make_composite(photo, mask, rng, family, lambda: ref)
    inside = composite[mask > 0]
    np.testing.assert_allclose(
        np.quantile(inside, [0.1, 0.5, 0.9], axis=0)[:, 0], [0.05, 0.25, 0.45], atol=0.01
    )
    np.testing.assert_allclose(inside[:, 1], 0.9, atol=1e-4)
    np.testing.assert_allclose(np.median(inside[:, 2]), 0.75, atol=0.01)
    half, _ = make_composite(
        photo,
        mask,
        np.random.default_rng(0),
        ColourFamily(ops=("histogram",), max_ops=1, strength=0.5),
        lambda: ref,
    )  # halfway between the own and the other's quantiles
    np.testing.assert_allclose(np.median(half[mask > 0][:, 1]), (0.5 + 0.9) / 2, atol=0.02)


def test_the_default_family_is_the_shipped_models():
    assert ColourFamily().ops == DEFAULT_OPS and "histogram" not in DEFAULT_OPS
    assert set(DEFAULT_OPS) < set(OPS)
    assert TrainConfig().colour_ops == list(DEFAULT_OPS)


def test_composite_differs_even_when_nothing_can_change():
    rng = np.random.default_rng(0)
    black = np.zeros((16, 16, 3), np.float32)  # gamma, exposure... leave black as it is
    mask = np.ones((16, 16), np.float32)
    composite, ops = make_composite(black, mask, rng, ColourFamily(strength=0.0))
    assert ops == ["offset"] and composite.max() > 0


def test_colour_family_validation():
    with pytest.raises(ValueError, match="sepia"):
        ColourFamily(ops=("sepia",))
    with pytest.raises(ValueError):
        ColourFamily(max_ops=0)


def test_crop_flip_is_joint_and_keeps_the_object():
    rng = np.random.default_rng(0)
    image = np.random.default_rng(1).random((60, 80, 3)).astype(np.float32)
    mask = np.zeros((60, 80), np.float32)
    mask[50:58, 70:78] = 1  # a small object in a corner
    for _ in range(20):
        a, m, b = random_crop_flip([image, mask, image.copy()], rng, size=32)
        assert a.shape == (32, 32, 3) and m.shape == (32, 32)
        np.testing.assert_array_equal(a, b)
        assert m.max() > 0


def test_step_sampler_is_a_function_of_the_step():
    full = list(StepBatchSampler(10, 3, seed=5, start_step=0, total_steps=8))
    resumed = list(StepBatchSampler(10, 3, seed=5, start_step=4, total_steps=8))
    assert resumed == full[4:]
    epochs = [key for batch in full for key in batch]
    assert sorted(i for i, e in epochs if e == 0) == list(range(10))  # each epoch a permutation
    ranks = [list(StepBatchSampler(10, 3, 5, 0, 4, rank=r, world=2)) for r in (0, 1)]
    single = list(StepBatchSampler(10, 6, 5, 0, 4))
    for step in range(4):
        assert ranks[0][step] + ranks[1][step] == single[step]


def test_shared_photos_listing():
    root = shared_path("data", "photos-with-masks")
    photos = list_photos(root)
    assert len(photos) == 3776
    assert {p.label for p in photos} <= set(range(5))


def test_harmonious_fraction_shows_the_untouched_photo(tmp_path):
    root = make_photo_folder(tmp_path / "p")
    ds = PhotoComposites(root, size=32, seed=1, harmonious=0.5)
    same = [
        torch.equal(ds[(i, e)]["composite"], ds[(i, e)]["target"])
        for i in range(6)
        for e in range(4)
    ]
    assert 0 < sum(same) < len(same)
    ih = IHarmony4(make_iharmony4_tree(tmp_path / "ih"), "train", size=32, harmonious=0.999)
    sample = ih[(0, 0)]
    assert torch.equal(sample["composite"], sample["target"])


def test_transfer_from_the_same_kind_of_object(tmp_path):
    from s2crnet.data.photos import PhotoComposites

    root = make_photo_folder(tmp_path / "p", count=6)
    kinds = ["car", "car", "sky", "sky", "sky", ""]  # the last one's kind is unknown
    lines = (root / "labels.csv").read_text().splitlines()
    rows = [lines[0]] + [
        line.replace(",thing,", f",{kind},", 1) for line, kind in zip(lines[1:], kinds, strict=True)
    ]
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    same = PhotoComposites(root, transfer_from="same-kind")
    anything = PhotoComposites(root)
    rng = np.random.default_rng(0)
    picks = {i: {same.reference_index(rng, i) for _ in range(200)} for i in range(6)}
    assert picks[0] == {1} and picks[1] == {0}
    assert picks[2] == {3, 4} and picks[4] == {2, 3}
    assert picks[5] == {0, 1, 2, 3, 4}  # unknown kind: any other photo
    assert {anything.reference_index(rng, 0) for _ in range(200)} == {1, 2, 3, 4, 5}
    assert same[0]["composite"].shape == (3, 256, 256)
    with pytest.raises(ValueError, match="transfer_from"):
        PhotoComposites(root, transfer_from="nearest")


def test_jitter_photo_recolours_the_whole_photo_mildly():
    from s2crnet.data.synthetic import jitter_photo

    rng = np.random.default_rng(0)
    photo = rng.uniform(0.1, 0.9, (24, 32, 3)).astype(np.float32)
    changes = []
    for seed in range(20):
        out = jitter_photo(photo, np.random.default_rng(seed))
        assert out.shape == photo.shape and out.dtype == np.float32
        assert out.min() >= 0 and out.max() <= 1
        changes.append(float(np.abs(out - photo).mean()))
    assert min(changes) > 0 and max(changes) < 0.2  # always a change, never a drastic one
    assert np.allclose(jitter_photo(photo, np.random.default_rng(3), 0.0), photo, atol=1e-6)
    again = jitter_photo(photo, np.random.default_rng(3))
    assert np.array_equal(again, jitter_photo(photo, np.random.default_rng(3)))  # seeded


def test_photo_jitter_changes_target_and_background_together(tmp_path):
    root = make_photo_folder(tmp_path / "p", count=3)
    plain = PhotoComposites(root, size=32, harmonious=0.999)
    jittered = PhotoComposites(root, size=32, harmonious=0.999, jitter=1.0)
    a, b = plain[(0, 0)], jittered[(0, 0)]
    assert torch.equal(b["composite"], b["target"])  # harmonious: input is the (new) target
    assert not torch.equal(a["target"], b["target"])  # the target itself was recoloured
    outside = b["mask"][0] == 0
    assert outside.any() and not torch.equal(a["target"][:, outside], b["target"][:, outside])
    composite = PhotoComposites(root, size=32, jitter=1.0)[(1, 0)]
    assert torch.equal(  # outside the object the composite is the jittered target
        composite["composite"][:, composite["mask"][0] == 0],
        composite["target"][:, composite["mask"][0] == 0],
    )
    with pytest.raises(ValueError, match="jitter"):
        PhotoComposites(root, jitter=1.5)


def test_new_photo_folder_is_written_whole_or_not_at_all(tmp_path):
    from PIL import Image

    from s2crnet.data.photos import list_photos, new_photo_folder

    out = tmp_path / "made"
    with new_photo_folder(out) as (tmp, rows):
        Image.new("RGB", (8, 8)).save(tmp / "images" / "a.jpg")
        Image.new("L", (8, 8), 255).save(tmp / "masks" / "a.png")
        rows.append(["a.jpg", "a.png", "animal", "cat"])
        assert not out.exists()  # only once finished
    [photo] = list_photos(out)
    assert photo.kind == "cat" and not (tmp_path / "made.part").exists()

    with pytest.raises(RuntimeError), new_photo_folder(tmp_path / "failed") as (tmp, rows):
        raise RuntimeError("stopped")
    assert not (tmp_path / "failed").exists() and not (tmp_path / "failed.part").exists()
