"""White-box curves: strength, curve files, .cube LUTs, pictures, several objects, and a
reference background."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from _helpers import make_composite, make_mask, run_cli
from s2crnet import Curves, InputError, S2CRNet, S2CRNetConfig, harmonize, load_model
from s2crnet.cli import cli


@pytest.fixture(scope="module")
def monotone() -> S2CRNet:
    torch.manual_seed(2)
    return S2CRNet(S2CRNetConfig(activation="softplus")).eval()


def two_masks(h=120, w=160):
    a = np.zeros((h, w), np.uint8)
    a[10:50, 10:60] = 255
    b = np.zeros((h, w), np.uint8)
    b[70:110, 90:150] = 255
    return a, b


def cli_run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stderr


def harmonize_files(files, weights, *extra, output="o.png"):
    """``s2crnet harmonize c.png m.png -o OUTPUT --weights W EXTRA...`` in ``files``."""
    return cli_run(
        "harmonize",
        files / "c.png",
        files / "m.png",
        "-o",
        files / output,
        "--weights",
        weights,
        *extra,
    )


# --------------------------------------------------------------------------- strength
def test_strength_zero_one_and_between(monotone):
    comp, mask = make_composite(), make_mask()
    full = harmonize(comp, mask, model=monotone)
    np.testing.assert_array_equal(harmonize(comp, mask, model=monotone, strength=0).image, comp)
    np.testing.assert_array_equal(
        harmonize(comp, mask, model=monotone, strength=1).image, full.image
    )
    half = harmonize(comp, mask, model=monotone, strength=0.5).image.astype(float)
    inside = mask > 0
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


def test_huge_strength_from_the_cli_keeps_the_object(files, weights_file):
    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
        "--weights", weights_file, "--strength", 500,
    )  # fmt: skip
    assert code == 0, err
    inside = np.asarray(Image.open(files / "o.png"))[make_mask() > 0]
    assert inside.max() > 100  # a collapsed curve made every pixel black
    for bad in ("nan", "inf", "-1"):
        code, _, err = run_cli(
            "harmonize", files / "c.png", files / "m.png", "-o", files / "x.png",
            "--weights", weights_file, "--strength", bad,
        )  # fmt: skip
        assert code == 2 and "--strength" in err and "Traceback" not in err, err


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


# --------------------------------------------------------------------------- curve files
def test_json_round_trip_and_schema():
    curves = Curves(np.random.default_rng(1).random((2, 3, 16)) + 0.1, strength=0.7)
    text = curves.to_json(model="w.safetensors", composite="c.png", mask="m.png", label="person")
    data = json.loads(text)
    assert data["format"] == "s2crnet-curves" and data["version"] == 1
    assert data["apply"] == "stages" and data["label"] == "person"
    assert len(data["stages"]) == 2 and len(data["stages"][0]["g"]) == 16
    assert data["lut"]["size"] == 256 and data["lut"]["b"] == curves.lut()[:, 2].tolist()
    again = Curves.from_json(text)
    np.testing.assert_allclose(again.params, curves.params, atol=1e-6)
    assert again.strength == 0.7
    np.testing.assert_array_equal(again.lut(), curves.lut())


def test_hand_edited_lut_is_applied():
    data = json.loads(Curves.identity(2, 8).to_json())
    data["apply"] = "lut"
    data["lut"]["r"] = [255 - v for v in data["lut"]["r"]]  # invert red
    del data["stages"]
    curves = Curves.from_json(json.dumps(data))
    lut = curves.lut()
    assert lut[0, 0] == 255 and lut[255, 0] == 0 and lut[100, 1] == 100


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: "not json", "not valid JSON"),
        (lambda d: {**d, "format": "other"}, "not an s2crnet curve file"),
        (lambda d: {**d, "version": 9}, "unsupported curve-file version 9"),
        (lambda d: {**d, "apply": "pixels"}, "'apply'"),
        (lambda d: {**d, "strength": -2}, "strength"),
        (lambda d: {**d, "stages": []}, "stages"),
        (lambda d: {**d, "stages": [{"r": [1, 2], "g": [1], "b": [1, 2]}]}, "stages[0].g has 1"),
        (lambda d: {**d, "stages": [{"r": [1, "x"], "g": [1, 2], "b": [1, 2]}]}, "finite numbers"),
        (lambda d: {**d, "apply": "lut", "lut": {**d["lut"], "r": [300] * 256}}, "0-255"),
        (lambda d: {**d, "apply": "lut", "lut": None}, "no 'lut'"),
    ],
)
def test_bad_curve_files_name_the_file(edit, message):
    data = json.loads(Curves.identity(1, 4).to_json())
    edited = edit(data)
    text = edited if isinstance(edited, str) else json.dumps(edited)
    with pytest.raises(InputError, match=r"my\.json") as info:
        Curves.from_json(text, "my.json")
    assert message in str(info.value)


def test_cube_file_format():
    cube = Curves(np.random.default_rng(3).random((1, 3, 8)) + 0.1).to_cube(1024)
    lines = cube.splitlines()
    assert "LUT_1D_SIZE 1024" in lines and "DOMAIN_MAX 1.0 1.0 1.0" in lines
    rows = [line for line in lines if line[:1].isdigit()]
    values = np.array([[float(v) for v in row.split()] for row in rows])
    assert values.shape == (1024, 3) and values.min() >= 0 and values.max() <= 1
    np.testing.assert_allclose(values[[0, -1]], [[0] * 3, [1] * 3], atol=1e-6)
    titled = Curves.identity().to_cube(4, title='/a/"odd"\nname').splitlines()[0]
    assert titled == 'TITLE "/a/odd name"'  # quotes and line breaks would break the file


def test_cli_cube_title_names_the_composite(files, weights_file):
    code, err = harmonize_files(files, weights_file, "--export-cube", files / "k.cube")
    assert code == 0, err
    assert (files / "k.cube").read_text().splitlines()[0] == 'TITLE "s2crnet c.png"'


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_cube_applied_by_ffmpeg_matches_our_output(files, weights_file):
    code, err = harmonize_files(files, weights_file, "--export-cube", files / "c.cube")
    assert code == 0, err
    proc = subprocess.run(
        [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(files / "c.png"),
            "-vf",
            f"lut1d=file={files / 'c.cube'}",
            str(files / "ff.png"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    graded = np.asarray(Image.open(files / "ff.png").convert("RGB")).astype(float)
    comp, mask = make_composite().astype(float), make_mask()[..., None] / 255.0
    blended = graded * mask + comp * (1 - mask)
    ours = np.asarray(Image.open(files / "o.png")).astype(float)
    assert np.abs(blended - ours).mean() <= 1.0


def test_save_curves_then_apply_curves_reproduces_the_result(files, weights_file):
    code, err = harmonize_files(
        files,
        weights_file,
        "--save-curves",
        files / "k.json",
        "--label",
        "animal",
        "--strength",
        "0.8",
    )
    assert code == 0, err
    data = json.loads((files / "k.json").read_text())
    assert data["label"] == "animal" and data["strength"] == 0.8
    assert data["composite"].endswith("c.png") and data["model"].endswith(".safetensors")
    code, err = cli_run(
        "apply-curves",
        files / "c.png",
        files / "m.png",
        files / "k.json",
        "-o",
        files / "again.png",
    )
    assert code == 0, err
    np.testing.assert_array_equal(
        np.asarray(Image.open(files / "again.png")), np.asarray(Image.open(files / "o.png"))
    )
    code, err = cli_run(
        "apply-curves",
        files / "c.png",
        files / "m.png",
        files / "k.json",
        "-o",
        files / "none.png",
        "--strength",
        "0",
    )
    assert code == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(files / "none.png")), make_composite())


def test_apply_curves_errors(files):
    (files / "bad.json").write_text("{broken")
    for args, message in (
        ([files / "c.png", files / "m.png", files / "bad.json", "-o", files / "x.png"], "bad.json"),
        ([files / "c.png", files / "m.png", files / "no.json", "-o", files / "x.png"], "no such"),
        (
            [files / "c.png", files / "m.png", files / "bad.json", "-o", files / "c.png"],
            "overwrite",
        ),
    ):
        code, err = cli_run("apply-curves", *args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (files / "x.png").exists()


def test_plot_and_compare_pictures(files, weights_file):
    code, err = harmonize_files(
        files,
        weights_file,
        "--plot-curves",
        files / "p.png",
        "--compare",
        files / "cmp.png",
        output="o.jpg",
    )
    assert code == 0, err
    plot = Image.open(files / "p.png")
    assert plot.format == "PNG" and plot.size[0] > 300
    compare = np.asarray(Image.open(files / "cmp.png"))
    assert compare.shape[0] == 120 and compare.shape[1] > 320
    assert (compare == [255, 220, 0]).all(axis=-1).any()  # the yellow outline


def test_extra_outputs_are_checked_before_work(files, weights_file):
    for args, message in (
        (["--save-curves", files / "k.txt"], ".json"),
        (["--export-cube", files / "missing" / "k.cube"], "does not exist"),
        (["--compare", files / "m.png"], "overwrite the input"),
        (["--reference-mask", files / "m.png"], "needs --reference-image"),
    ):
        code, err = harmonize_files(files, weights_file, *args)
        assert code == 2 and message in err, err
        assert not (files / "o.png").exists()


# --------------------------------------------------------------------------- several objects
def test_several_objects_each_with_their_own_curves(monotone):
    comp = make_composite()
    a, b = two_masks()
    result = harmonize(comp, [a, b], model=monotone, label=["person", "vehicle"])
    assert len(result.objects) == 2 and [o.label for o in result.objects] == [0, 3]
    outside = (a == 0) & (b == 0)
    np.testing.assert_array_equal(result.image[outside], comp[outside])
    assert not np.allclose(result.objects[0].curves.params, result.objects[1].curves.params)
    label_map = np.zeros(a.shape, np.uint8)
    label_map[a > 0], label_map[b > 0] = 1, 2
    by_map = harmonize(comp, label_map=label_map, model=monotone, label=["person", "vehicle"])
    np.testing.assert_array_equal(by_map.image, result.image)


def test_overlapping_masks_are_an_error_naming_the_overlap(monotone):
    a, b = two_masks()
    b[40:60, 40:70] = 255
    with pytest.raises(InputError, match=r"mask 1 and mask 2 overlap in \d+ pixels"):
        harmonize(make_composite(), [a, b], model=monotone)
    with pytest.raises(InputError, match="3 labels for 2 objects"):
        harmonize(make_composite(), list(two_masks()), model=monotone, label=[0, 1, 2])


def test_cli_several_masks_and_label_map(files, weights_file):
    a, b = two_masks()
    Image.fromarray(a).save(files / "a.png")
    Image.fromarray(b).save(files / "b.png")
    code, err = cli_run(
        "harmonize",
        files / "c.png",
        files / "a.png",
        files / "b.png",
        "-o",
        files / "two.png",
        "--weights",
        weights_file,
        "--save-curves",
        files / "k.json",
    )
    assert code == 0, err
    assert (files / "k-1.json").is_file() and (files / "k-2.json").is_file()
    label_map = np.zeros(a.shape, np.uint8)
    label_map[a > 0], label_map[b > 0] = 1, 2
    Image.fromarray(label_map).save(files / "labels.png")
    code, err = cli_run(
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
    code, err = cli_run(
        "harmonize",
        files / "c.png",
        files / "a.png",
        files / "b.png",
        "-o",
        files / "bad.png",
        "--weights",
        weights_file,
    )
    assert code == 2 and "a.png" in err and "b.png" in err and "overlap" in err


# --------------------------------------------------------------------------- reference
def test_reference_background(monotone):
    comp, mask = make_composite(), make_mask()
    plain = harmonize(comp, mask, model=monotone)
    same = harmonize(comp, mask, model=monotone, reference=comp, reference_mask=mask)
    np.testing.assert_array_equal(same.image, plain.image)  # the same background
    other = make_composite(200, 300, seed=9)
    guided = harmonize(comp, mask, model=monotone, reference=other)
    assert not np.allclose(guided.curves.params, plain.curves.params)
    np.testing.assert_array_equal(guided.image[mask == 0], comp[mask == 0])
    everything = np.full(mask.shape, 255, np.uint8)  # no background of its own: fine here
    assert harmonize(comp, everything, model=monotone, reference=other).image.shape == comp.shape


def test_cli_reference_image(files, weights_file):
    Image.fromarray(make_composite(90, 90, seed=4)).save(files / "ref.jpg")
    code, err = harmonize_files(
        files, weights_file, "--reference-image", files / "ref.jpg", output="r.png"
    )
    assert code == 0, err
