"""Curve files: the JSON round trip, hand edits, bad files, .cube LUTs (checked with
ffmpeg), and apply-curves."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from _helpers import harmonize_files, make_composite, make_mask, run_cli
from s2crnet import Curves, InputError


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
    code, _, err = harmonize_files(files, weights_file, "--export-cube", files / "k.cube")
    assert code == 0, err
    assert (files / "k.cube").read_text().splitlines()[0] == 'TITLE "s2crnet c.png"'


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_cube_applied_by_ffmpeg_matches_our_output(files, weights_file):
    code, _, err = harmonize_files(files, weights_file, "--export-cube", files / "c.cube")
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
    def apply_saved(output: str, *extra: object) -> tuple[int, str, str]:
        return run_cli("apply-curves", files / "c.png", files / "m.png", files / "k.json",
                       "-o", files / output, *extra)  # fmt: skip

    extra = ("--save-curves", files / "k.json", "--label", "animal", "--strength", "0.8")
    code, _, err = harmonize_files(files, weights_file, *extra)
    assert code == 0, err
    data = json.loads((files / "k.json").read_text())
    assert data["label"] == "animal" and data["strength"] == 0.8
    assert data["composite"].endswith("c.png") and data["model"].endswith(".safetensors")
    code, _, err = apply_saved("again.png")
    assert code == 0, err
    np.testing.assert_array_equal(
        np.asarray(Image.open(files / "again.png")), np.asarray(Image.open(files / "o.png"))
    )
    code, _, err = apply_saved("none.png", "--strength", "0")
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
        code, _, err = run_cli("apply-curves", *args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (files / "x.png").exists()
