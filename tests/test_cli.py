"""The ``s2crnet`` command: results, batch folders, and one clear line for every bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from _helpers import (
    assert_user_error,
    harmonize_files,
    make_composite,
    make_mask,
    run_cli,
    save_with_orientation,
)


def test_harmonize_writes_output(files, weights_file):
    code, _, err = harmonize_files(files, weights_file, "--label", "animal")
    assert code == 0, err
    out = np.asarray(Image.open(files / "o.png"))
    comp, mask = make_composite(), make_mask()
    np.testing.assert_array_equal(out[mask == 0], comp[mask == 0])
    assert not np.array_equal(out, comp)


def test_without_weights_and_no_default_says_so(files, monkeypatch):
    import s2crnet.loading

    monkeypatch.setattr(s2crnet.loading, "DEFAULT_WEIGHTS", files / "absent.safetensors")
    code, _, err = run_cli("harmonize", files / "c.png", files / "m.png", "-o", files / "o.png")
    assert_user_error(code, err, "no trained default model", "--weights")
    assert not (files / "o.png").exists()


def _corrupt(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


def _truncated(path: Path) -> None:
    Image.fromarray(make_composite()).save(path, quality=95)
    path.write_bytes(path.read_bytes()[:600])


@pytest.mark.parametrize(
    ("case", "composite", "mask", "fragment"),
    [
        ("missing composite", "nope.png", "m.png", "no such file"),
        ("missing mask", "c.png", "nope.png", "no such file"),
        ("corrupt composite", "bad.png", "m.png", "bad.png"),
        ("truncated composite", "cut.jpg", "m.png", "truncated"),
        ("corrupt mask", "c.png", "bad.png", "bad.png"),
        ("size mismatch", "c.png", "small.png", "mask is 50x40 but the composite"),
        ("full mask", "c.png", "full.png", "no background"),
    ],
)
def test_bad_inputs_get_one_line_and_no_output(
    files, weights_file, case, composite, mask, fragment
):
    _corrupt(files / "bad.png")
    _truncated(files / "cut.jpg")
    Image.fromarray(np.full((40, 50), 255, np.uint8)).save(files / "small.png")
    Image.fromarray(np.full((120, 160), 255, np.uint8)).save(files / "full.png")
    code, _, err = harmonize_files(files, weights_file, composite=composite, mask=mask)
    assert_user_error(code, err, fragment)
    assert not (files / "o.png").exists(), case
    assert not [p for p in files.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_never_overwrites_an_input(files, weights_file):
    before = (files / "c.png").read_bytes()
    for target in ("c.png", "m.png"):
        code, _, err = harmonize_files(files, weights_file, output=target)
        assert_user_error(code, err, "overwrite the input")
    assert (files / "c.png").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-o", "o.gif2"], "unsupported output format"),
        (["-o", "missing/o.png"], "does not exist"),
        (["-o", "o.png", "--label", "dog"], "--label"),
        (["-o", "o.png", "--weights", "c.png"], "c.png"),
        (["-o", "o.png", "--weights", "absent.pth"], "absent.pth"),
    ],
)
def test_bad_options(files, weights_file, args, fragment, monkeypatch):
    monkeypatch.chdir(files)
    if "--weights" not in args:
        args = [*args, "--weights", str(weights_file)]
    code, _, err = run_cli("harmonize", "c.png", "m.png", *args)
    assert_user_error(code, err, fragment)
    assert not (files / "o.png").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_unavailable_is_a_clear_error(files, weights_file):
    code, _, err = harmonize_files(files, weights_file, "--device", "cuda")
    assert_user_error(code, err, "CUDA is not available")


def test_rgba_grey_16bit_cmyk_inputs(files, weights_file):
    mask = make_mask()
    rgba = np.dstack([make_composite(), np.full((120, 160), 123, np.uint8)])
    Image.fromarray(rgba).save(files / "rgba.png")
    Image.fromarray(make_composite()[..., 0]).save(files / "grey.png")
    cv2.imwrite(str(files / "c16.png"), make_composite().astype(np.uint16)[..., ::-1] * 257)
    Image.fromarray(make_composite()).convert("CMYK").save(files / "cmyk.jpg")
    for name in ("rgba.png", "grey.png", "c16.png", "cmyk.jpg"):
        out = files / f"out-{Path(name).stem}.png"
        code, _, err = run_cli(
            "harmonize", files / name, files / "m.png", "-o", out, "--weights", weights_file
        )
        assert code == 0, (name, err)
    out = np.asarray(Image.open(files / "out-rgba.png"))
    assert out.shape == (120, 160, 4) and np.all(out[..., 3] == 123)
    assert Image.open(files / "out-grey.png").mode == "L"
    out16 = cv2.imread(str(files / "out-c16.png"), cv2.IMREAD_UNCHANGED)
    assert out16.dtype == np.uint16
    np.testing.assert_array_equal(
        out16[mask == 0], make_composite().astype(np.uint16)[..., ::-1][mask == 0] * 257
    )
    assert Image.open(files / "out-cmyk.png").mode == "RGB"


def test_exif_rotated_jpeg(files, weights_file):
    save_with_orientation(files / "r.jpg", np.ascontiguousarray(np.rot90(make_composite(), 1)), 6)
    code, _, err = harmonize_files(files, weights_file, composite="r.jpg", output="o.jpg")
    assert code == 0, err
    assert Image.open(files / "o.jpg").size == (160, 120)


def test_console_script_empty_mask_warns_and_copies(files, weights_file):
    Image.fromarray(np.zeros((120, 160), np.uint8)).save(files / "empty.png")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "s2crnet",
            "harmonize",
            files / "c.png",
            files / "empty.png",
            "-o",
            files / "o.png",
            "--weights",
            weights_file,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "s2crnet: warning:" in proc.stderr and "empty" in proc.stderr
    assert "Traceback" not in proc.stderr
    np.testing.assert_array_equal(np.asarray(Image.open(files / "o.png")), make_composite())


def test_batch_folders_report_failures_and_go_on(tmp_path, weights_file):
    comps, masks, out = tmp_path / "composite_images", tmp_path / "masks", tmp_path / "out"
    comps.mkdir()
    masks.mkdir()
    Image.fromarray(make_composite(seed=1)).save(comps / "a0041_1_5.jpg")  # iHarmony4 naming
    Image.fromarray(make_mask()).save(masks / "a0041_1.png")
    Image.fromarray(make_composite(seed=2)).save(comps / "photo.png")  # equal names
    Image.fromarray(make_mask()).save(masks / "photo.png")
    Image.fromarray(make_composite(seed=3)).save(comps / "lonely.png")  # no mask
    _corrupt(comps / "broken.png")
    Image.fromarray(make_mask()).save(masks / "broken.png")
    code, _, err = run_cli("harmonize", comps, masks, "-o", out, "--weights", weights_file)
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == ["a0041_1_5.jpg", "photo.png"]
    assert "harmonized 2 of 4" in err and "2 failed" in err
    assert "lonely.png: no mask" in err and "broken.png" in err
    assert "Traceback" not in err


def test_batch_all_good_and_output_must_differ(tmp_path, weights_file):
    comps, masks = tmp_path / "c", tmp_path / "m"
    comps.mkdir()
    masks.mkdir()
    Image.fromarray(make_composite()).save(comps / "x.jpg")
    Image.fromarray(make_mask()).save(masks / "x.png")
    code, _, err = run_cli(
        "harmonize", comps, masks, "-o", tmp_path / "o", "--weights", weights_file
    )
    assert code == 0, err
    code, _, err = run_cli("harmonize", comps, masks, "-o", comps, "--weights", weights_file)
    assert_user_error(code, err, "must differ")
    code, _, err = run_cli(
        "harmonize", comps, masks / "x.png", "-o", tmp_path / "o2", "--weights", weights_file
    )
    assert_user_error(code, err, "MASK must be a folder")


def test_check_output_kinds_and_messages(tmp_path):
    """``suffixes``: None = an image, () = any file, a tuple = only those; the refusal
    names the flag when there is one and reads as a sentence when there is not."""
    from s2crnet.cli.common import check_output
    from s2crnet.errors import InputError

    check_output(tmp_path / "results.txt", (), "--json", suffixes=())  # any name
    check_output(tmp_path / "m.onnx", (), suffixes=(".onnx",))
    with pytest.raises(InputError, match=r"m\.txt: the output must be a \.onnx file$"):
        check_output(tmp_path / "m.txt", (), suffixes=(".onnx",))
    with pytest.raises(InputError, match=r"c\.txt: --curves writes \.json or \.cube files$"):
        check_output(tmp_path / "c.txt", (), "--curves", (".json", ".cube"))
    with pytest.raises(InputError, match=r"r\.json: --json would overwrite the input"):
        check_output(tmp_path / "r.json", (tmp_path / "r.json",), "--json", suffixes=())
    with pytest.raises(InputError, match=r"o\.txt"):  # None: only what images.py writes
        check_output(tmp_path / "o.txt", ())
    check_output(tmp_path / "o.png", ())
