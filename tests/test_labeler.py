"""The object-class guesser: its view, training on made-up data, the ONNX path, and
``label="auto"`` in the API and the command."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from _helpers import make_composite, make_mask, run_cli, shared_path
from s2crnet import LABELS, InputError, S2CRNet, S2CRNetConfig, guess_label, harmonize
from s2crnet.labeler import Labeler
from s2crnet.labels import LabelGuess
from s2crnet.loading import default_labeler
from s2crnet.thumbnails import label_view


def colour_photos(root, per_class: int = 12, size: int = 64):
    """Photos whose object's colour is its class: person red, animal green, vehicle blue."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = ["image,mask,object_name,keyword,semantic_class,source"]
    rng = np.random.default_rng(0)
    colours = {"person": (220, 30, 30), "animal": (30, 200, 40), "vehicle": (30, 40, 220)}
    for name, colour in colours.items():
        for i in range(per_class):
            img = rng.integers(90, 160, (size, size, 3)).astype(np.uint8)  # grey clutter
            mask = np.zeros((size, size), np.uint8)
            top, left = rng.integers(4, size // 2, 2)
            mask[top : top + size // 3, left : left + size // 3] = 255
            img[mask > 0] = np.clip(np.array(colour) + rng.integers(-20, 20, 3), 0, 255)
            Image.fromarray(img).save(root / "images" / f"{name}{i}.png")
            Image.fromarray(mask).save(root / "masks" / f"{name}{i}.png")
            rows.append(f"{name}{i}.png,{name}{i}.png,{name},{name},{name},test")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


# --------------------------------------------------------------------------- the view
def test_label_view_dims_the_context_and_follows_the_box():
    square = np.full((256, 256, 3), 200, np.uint8)
    mask = np.zeros((256, 256), np.uint8)
    mask[100:140, 60:100] = 255  # 40x40 box: the view covers 80x80 around it
    view = label_view(square, mask, size=64, context=2.0, dim=0.5)
    assert view.shape == (1, 3, 64, 64) and view.dtype == np.float32
    centre, corner = view[0, :, 32, 32], view[0, :, 2, 2]
    np.testing.assert_allclose(centre, 200 / 255, atol=1e-6)  # the object as it is
    np.testing.assert_allclose(corner, 0.5 * 200 / 255, atol=1e-6)  # context at half
    with pytest.raises(ValueError, match="marks nothing"):
        label_view(square, np.zeros((256, 256), np.uint8))


def test_label_guess_from_probabilities():
    guess = LabelGuess.from_probabilities(np.array([0.1, 0.1, 0.1, 0.6, 0.1]))
    assert guess.label == "vehicle" and guess.index == 3 and guess.probability == 0.6
    assert str(guess) == "vehicle (p=0.60)"
    with pytest.raises(ValueError):
        LabelGuess.from_probabilities(np.ones(3) / 3)


# --------------------------------------------------------------------------- training
def test_a_tiny_labeler_learns_a_separable_rule(tmp_path):
    from s2crnet.training.labeler import LabelerTrainConfig, train_labeler

    photos = colour_photos(tmp_path / "photos")
    torch.manual_seed(0)
    backbone = {f"features.{k}": v for k, v in Labeler().backbone.state_dict().items()}
    from safetensors.torch import save_file

    save_file(backbone, str(tmp_path / "backbone.safetensors"))  # random, not ImageNet
    config = LabelerTrainConfig(
        (str(photos),), str(tmp_path / "out"), str(tmp_path / "backbone.safetensors"),
        holdout=0.25, augment=1, epochs=300, lr=3e-2, balance="inverse", view=64,
    )  # fmt: skip
    report = train_labeler(config, progress=False)
    assert report["accuracy"] >= 0.9, report
    assert report["per_class"]["person"]["count"] == 3 and report["train_photos"] == 27
    held = {p.split("/")[-1] for p in report["holdout_photos"]}
    assert len(held) == 9  # never trained on: the report's figures come from them
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["confusion"]["matrix"] == report["confusion"]["matrix"]
    labeler = tmp_path / "out" / "labeler.safetensors"
    name = sorted(held)[0]
    guess = guess_label(photos / "images" / name, photos / "masks" / name, labeler=labeler)
    assert guess.label == re.sub(r"\d+\.png$", "", name)


def test_train_labeler_command_errors(tmp_path):
    code, _, err = run_cli(
        "train-labeler", "--photos", tmp_path / "absent", "--out", tmp_path / "o",
        "--backbone-weights", tmp_path / "w.safetensors",
    )  # fmt: skip
    assert code == 2 and "absent: no such file or folder" in err


# --------------------------------------------------------------------------- shipped labeler
def test_shipped_labeler_is_small_and_loads():
    from s2crnet.loading import DEFAULT_LABELER

    assert DEFAULT_LABELER.stat().st_size <= 5 * 2**20
    labeler = default_labeler()
    assert sum(p.numel() for p in labeler.parameters()) < 1_000_000


def test_shipped_labeler_knows_food_and_cars_it_never_saw():
    """The held-out food and car photos of its training split (``train-labeler``'s
    default: 20% per class, seed 0, over photos-with-masks and food-and-vehicles): the
    guesser trained without food photos named 72% of the food; this one must name 90%."""
    from s2crnet.data.photos import list_photos
    from s2crnet.training.labeler import split_holdout

    folders = (shared_path("data", "photos-with-masks"), shared_path("data", "food-and-vehicles"))
    photos = [p for folder in folders for p in list_photos(folder)]
    held = split_holdout(np.array([p.label for p in photos]), 0.2, 0)
    unseen = [p for p, h in zip(photos, held, strict=True) if h and folders[1] in p.image.parents]
    labeler = default_labeler()
    for name in ("food", "vehicle"):
        group = [p for p in unseen if LABELS[p.label] == name]
        right = sum(guess_label(p.image, p.mask, labeler).label == name for p in group)
        assert len(group) >= 40 and right / len(group) >= 0.9, (name, right, len(group))


def test_guess_label_api(files):
    guess = guess_label(files / "c.png", files / "m.png")
    assert guess.label in LABELS
    assert sum(guess.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(InputError, match="the mask is empty"):
        guess_label(make_composite(), np.zeros((120, 160), np.uint8))


def test_onnx_and_pytorch_guesses_agree(tmp_path, files):
    pytest.importorskip("onnxruntime")
    from s2crnet.export.onnx import export_labeler_onnx, verify_labeler_onnx
    from s2crnet.runtime import OnnxLabeler

    path = tmp_path / "labeler.onnx"
    export_labeler_onnx(default_labeler(), path)
    assert verify_labeler_onnx(default_labeler(), path) <= 1e-5
    onnx = OnnxLabeler(path)
    for seed in range(3):
        image = make_composite(seed=seed)
        torch_guess = guess_label(image, make_mask())
        onnx_guess = guess_label(image, make_mask(), labeler=onnx)
        assert onnx_guess.label == torch_guess.label
        for name in LABELS:
            assert onnx_guess.probabilities[name] == pytest.approx(
                torch_guess.probabilities[name], abs=1e-5
            )


# --------------------------------------------------------------------------- label="auto"
def test_auto_is_the_default_for_semantic_models(semantic_model):
    comp, mask = make_composite(), make_mask()
    result = harmonize(comp, mask, model=semantic_model)
    guess = result.objects[0].guess
    assert guess is not None and result.label == guess.index
    explicit = harmonize(comp, mask, model=semantic_model, label=guess.label)
    np.testing.assert_array_equal(result.image, explicit.image)
    assert explicit.objects[0].guess is None
    same = harmonize(comp, mask, model=semantic_model, label="auto")
    assert same.objects[0].guess == guess


def test_several_masks_one_guess_each_and_none_for_an_empty_one(semantic_model):
    comp = make_composite()
    a, b, empty = (np.zeros((120, 160), np.uint8) for _ in range(3))
    a[10:50, 10:60], b[70:110, 90:150] = 255, 255
    with pytest.warns(UserWarning, match="empty"):
        result = harmonize(
            comp, [a, b, empty], model=semantic_model, label=["auto", "food", "auto"]
        )
    first, second, third = result.objects
    assert first.guess is not None and second.guess is None and second.label == 2
    assert third.guess is None and third.label is None


def test_auto_with_a_model_without_classes_guesses_nothing_and_says_nothing(model):
    """``auto`` (the default) asks for a class only where the model uses one; a class the
    user names for a model without classes is ignored with a warning."""
    import warnings

    plain = S2CRNet(S2CRNetConfig(semantic=False)).eval()
    comp, mask = make_composite(), make_mask()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = harmonize(comp, mask, model=plain, label="auto")
    assert result.objects[0].guess is None and result.label is None
    with pytest.warns(UserWarning, match="the model is not semantic: the label is ignored"):
        result = harmonize(comp, mask, model=plain, label="person")
    assert result.objects[0].guess is None and result.label is None


def test_cli_label_auto_prints_and_records_the_guess(files, semantic_model, tmp_path):
    weights = tmp_path / "semantic.safetensors"
    semantic_model.save(weights)
    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
        "--weights", weights, "--label", "auto", "--save-curves", files / "k.json",
    )  # fmt: skip
    assert code == 0, err
    line = next(x for x in err.splitlines() if "label auto ->" in x)
    data = json.loads((files / "k.json").read_text())
    assert data["label"] in LABELS and data["label_source"] == "auto"
    assert f"label auto -> {data['label']} (p={data['label_probability']:.2f})" in line
