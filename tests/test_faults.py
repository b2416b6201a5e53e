"""Faults a user meets: a full disk, a read-only folder, damaged weights, state and curve
files. Each gives one line naming the file, exit code 2, and leaves nothing behind."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from _helpers import assert_user_error, make_composite, make_mask, run_cli
from s2crnet.atomic import TEMP_SUFFIX, OutputSet, remove_stale_temporaries, write_atomic
from s2crnet.errors import OutputError


def _mount(folder: Path, options: str) -> bool:
    """Mount a tmpfs on ``folder`` (root only); False where that is not allowed."""
    if os.geteuid() != 0:
        return False
    folder.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    return done.returncode == 0


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """``make(kib)`` -> a folder on a file system with about ``kib`` KiB free: a real tmpfs
    when running as root, else a folder whose writes fail with ENOSPC past that budget."""
    mounted: list[Path] = []

    def make(kib: int) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        if _mount(folder, f"size={kib}k"):
            mounted.append(folder)
            return folder
        folder.mkdir()
        budget = {"left": kib * 1024}
        import s2crnet.atomic as atomic

        real = atomic._write_all

        def failing(fd: int, data: bytes) -> None:
            if len(data) > budget["left"]:
                os.write(fd, data[: budget["left"]])
                budget["left"] = 0
                raise OSError(errno.ENOSPC, "No space left on device")
            budget["left"] -= len(data)
            real(fd, data)

        monkeypatch.setattr(atomic, "_write_all", failing)
        return folder

    yield make
    for folder in mounted:
        _umount(folder)


@pytest.fixture
def read_only(tmp_path):
    """A read-only folder: a read-only tmpfs as root (root ignores file modes), else 0o555."""
    folder = tmp_path / "ro"
    if _mount(folder, "ro,size=64k"):
        yield folder
        _umount(folder)
        return
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def decodes(path: Path) -> bool:
    try:
        with Image.open(path) as img:
            img.load()
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------- writes
def test_full_disk_is_one_line_and_leaves_nothing(files, weights_file, small_disk):
    disk = small_disk(16)
    big = np.random.default_rng(0).integers(0, 255, (400, 400, 3), np.uint8)  # noisy: large
    Image.fromarray(big).save(files / "big.png")
    mask = np.zeros((400, 400), np.uint8)
    mask[100:300, 100:300] = 255
    Image.fromarray(mask).save(files / "bigm.png")
    out = disk / "out.jpg"
    code, _, err = run_cli(
        "harmonize", files / "big.png", files / "bigm.png", "-o", out, "--weights", weights_file
    )
    assert_user_error(code, err, str(out), "the disk is full")
    assert not out.exists() and leftovers(disk) == []


def test_write_atomic_checks_and_cleans_up(tmp_path):
    target = tmp_path / "x.bin"

    def refuse(path: Path) -> None:
        assert path.read_bytes() == b"data" and path != target
        raise OSError(errno.EIO, "does not decode")

    with pytest.raises(OutputError, match=r"x\.bin: cannot write \(does not decode\)"):
        write_atomic(target, b"data", refuse)
    assert list(tmp_path.iterdir()) == []


def test_output_set_is_all_or_nothing(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), OutputSet() as outputs:
        outputs.add(tmp_path / "a.txt", "new")
        outputs.add(tmp_path / "b.txt", "new")
        raise RuntimeError("a later output failed")
    assert (tmp_path / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_extras_are_all_or_nothing_on_a_full_disk(files, weights_file, small_disk):
    """The image and curve file fit; the plot does not: none of them is written."""
    disk = small_disk(24)
    code, _, err = run_cli(
        "harmonize",
        files / "c.png",
        files / "m.png",
        "-o",
        disk / "out.jpg",
        "--weights",
        weights_file,
        "--save-curves",
        disk / "k.json",
        "--plot-curves",
        disk / "plot.png",
    )
    assert_user_error(code, err, "the disk is full")
    assert list(disk.iterdir()) == []


def test_folder_run_stops_on_a_full_disk_with_a_summary(tmp_path, weights_file, small_disk):
    comps, masks = tmp_path / "c", tmp_path / "m"
    comps.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(1)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (96, 128, 3), np.uint8)).save(comps / f"i{i}.png")
        Image.fromarray(make_mask(96, 128)).save(masks / f"i{i}.png")
    Image.fromarray(make_composite(96, 128)).save(comps / "bad.png")  # no mask: a failure
    disk = small_disk(100)  # room for two or three noisy 37 KB PNGs
    code, _, err = run_cli("harmonize", comps, masks, "-o", disk / "out", "--weights", weights_file)
    assert code == 2, err
    written = sorted((disk / "out").iterdir())
    assert 1 <= len(written) <= 4 and all(decodes(p) for p in written)
    assert leftovers(disk / "out") == []
    assert "not attempted: stopped early, the disk is full" in err
    assert "bad.png: no mask for it" in err and "the disk is full" in err
    assert "Traceback" not in err


def test_read_only_folder_names_the_output(files, weights_file, read_only):
    out = read_only / "out.png"
    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "m.png", "-o", out, "--weights", weights_file
    )
    line = assert_user_error(code, err, f"{out}: cannot write")
    assert "read-only" in line or "permission denied" in line
    assert TEMP_SUFFIX not in line


def test_stale_temporaries_are_removed(tmp_path):
    names = [".state.ab12cd.pt", ".last.x1.safetensors", ".tmpq9", f".o.png.1234{TEMP_SUFFIX}"]
    for name in [*names, "state.pt", "keep.txt", ".hidden-config"]:
        (tmp_path / name).write_text("x")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(names)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden-config", "keep.txt", "state.pt"]


# --------------------------------------------------------------------------- damaged files
def test_weights_with_nan_or_inf_are_one_line(files, model, tmp_path):
    for bad in (float("nan"), float("inf")):
        broken = type(model)(model.config)
        broken.load_state_dict(model.state_dict())
        with torch.no_grad():
            broken.heads[0].fc_b.weight[0, 0] = bad
        path = tmp_path / f"w{bad}.safetensors"
        broken.save(path)
        code, _, err = run_cli(
            "harmonize", files / "c.png", files / "m.png", "-o", files / "o.png", "--weights", path
        )
        assert_user_error(code, err, str(path), "NaN or infinite", "heads.0.fc_b.weight")
        assert not (files / "o.png").exists()


@pytest.mark.parametrize(
    "text, message",
    [
        (
            json.dumps(
                {
                    "format": "s2crnet-curves",
                    "version": 1,
                    "stages": [{"r": [1e308] * 4} | {"g": [1.0] * 4, "b": [1.0] * 4}],
                }
            ),
            "beyond",
        ),
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        (
            json.dumps(
                {
                    "format": "s2crnet-curves",
                    "version": 1,
                    "strength": 1,
                    "stages": [{"r": [-1.0, 1.0], "g": [1.0, 1.0], "b": [1.0, 1.0]}],
                }
            ),
            None,  # a weight sum of 0 is the released code's eps path: applied, not an error
        ),
    ],
)
def test_hostile_curve_files(files, text, message):
    (files / "k.json").write_text(text)
    code, _, err = run_cli(
        "apply-curves", files / "c.png", files / "m.png", files / "k.json", "-o", files / "o.png"
    )
    if message is None:
        assert code == 0, err
        return
    assert_user_error(code, err, "k.json", message)
    assert not (files / "o.png").exists()


def test_truncated_state_on_resume_says_how_to_go_on(tmp_path):
    from _helpers import make_photo_folder

    photos = make_photo_folder(tmp_path / "photos", count=4, size=32)
    out = tmp_path / "run"
    tiny = ["--image-size", "80", "--thumbnail", "48", "--batch-size", "2", "--workers", "0"]
    code, _, err = run_cli(
        "train", "--photos", photos, "--out", out, "--steps", 2, "--from-scratch", *tiny
    )
    assert code == 0, err
    state = out / "state.pt"
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    (out / ".state.dead01.pt").write_bytes(b"half")  # what a killed write left
    (out / f".last.safetensors.beef{TEMP_SUFFIX}").write_bytes(b"half")
    code, _, err = run_cli("train", "--out", out, "--steps", 4, "--resume")
    assert_user_error(code, err, str(state), "--init-weights", "last.safetensors")
    assert leftovers(out) == []


def test_an_export_that_fails_its_check_writes_nothing(tmp_path, weights_file, monkeypatch):
    import s2crnet.export.onnx as export

    def differs(model, path, inputs=None):
        raise AssertionError(f"{path}: ONNX Runtime differs from PyTorch by 1.0e-01")

    monkeypatch.setattr(export, "verify_onnx", differs)
    out = tmp_path / "m.onnx"
    out.write_bytes(b"an earlier export")
    code, _, err = run_cli("export-onnx", "--weights", weights_file, "-o", out)
    assert_user_error(code, err, f"{out}: ONNX Runtime differs")
    assert out.read_bytes() == b"an earlier export" and leftovers(tmp_path) == []
