"""Issue #29's fault cases on the newest doors (video, compose, the CLI, the API), kept as
tests so that they stay fixed: each failed before its fix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import pytest
import torch
from PIL import Image

from _helpers import assert_user_error, make_composite, make_mask, run_cli
from s2crnet import InputError


def _clip(path, frames: int = 4, size: tuple[int, int] = (64, 48)) -> None:
    av = pytest.importorskip("av")
    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        rng = np.random.default_rng(0)
        for i in range(frames):
            img = rng.integers(0, 256, (h, w, 3), np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _still_mask(path, size: tuple[int, int] = (64, 48), full: bool = False) -> None:
    w, h = size
    values = np.full((h, w), 255, np.uint8) if full else np.zeros((h, w), np.uint8)
    if not full:
        values[10:30, 10:40] = 255
    Image.fromarray(values).save(path)


# --------------------------------------------------------------------------- 1. data loss
def test_video_never_writes_its_own_curve_file(tmp_path):
    """``--curves c.jsonl --save-curves c.jsonl`` used to rewrite the file it reads."""
    pytest.importorskip("av")
    clip, mask, curves = tmp_path / "clip.mp4", tmp_path / "m.png", tmp_path / "c.jsonl"
    clip.write_bytes(b"not looked at: the outputs are checked first")
    Image.fromarray(make_mask()).save(mask)
    curves.write_text('{"kept": true}\n')
    code, _, err = run_cli("harmonize-video", clip, mask, "-o", tmp_path / "out.mp4",
                           "--curves", curves, "--save-curves", curves)  # fmt: skip
    assert_user_error(code, err, f"{curves}: --save-curves would overwrite the input")
    assert curves.read_text() == '{"kept": true}\n'
    assert not (tmp_path / "out.mp4").exists()


def test_evaluate_never_writes_over_its_label_list(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("a.jpg person\n")
    code, _, err = run_cli("evaluate", "--data", tmp_path, "--labels", labels,
                           "--json", labels, "--method", "identity")  # fmt: skip
    assert_user_error(code, err, f"{labels}: --json would overwrite the input")
    assert labels.read_text() == "a.jpg person\n"


# --------------------------------------------------------------------------- 2. frame sizes
def test_video_frames_above_max_pixels_are_refused_before_decoding(tmp_path):
    _clip(tmp_path / "in.mp4")
    _still_mask(tmp_path / "m.png")
    code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png",
                           "-o", tmp_path / "o.mp4", "--max-pixels", 1000)  # fmt: skip
    assert_user_error(code, err, "in.mp4", "64x48", "above the limit of 1000")
    _clip(tmp_path / "mask.mp4")
    from s2crnet.video.masks import mask_frames

    with pytest.raises(InputError, match="mask video frames of 64x48"):
        mask_frames(tmp_path / "mask.mp4", 4, (48, 64), 0, max_pixels=1000)
    assert not (tmp_path / "o.mp4").exists()


# --------------------------------------------------------------------------- 3. compose
def test_compose_scales_only_what_lands_and_refuses_bad_values(tmp_path):
    from s2crnet.compose import paste

    cutout = np.zeros((40, 40, 4), np.uint8)
    cutout[5:35, 5:35] = (200, 40, 40, 255)
    background = make_composite()  # 160x120
    composite, mask = paste(cutout, background, at=(-4000, -4000), scale=250)  # 10000x10000
    assert composite.shape == background.shape and mask.any()
    with pytest.raises(InputError, match="above the limit"):
        paste(cutout, background, scale=1e4)
    with pytest.raises(InputError, match="above the limit"):
        paste(cutout, background, scale=1e9)
    with pytest.raises(InputError, match="two whole numbers"):
        paste(cutout, background, at=(10.5, 3.2))
    with pytest.raises(InputError, match=r"float cut-out must hold values in \[0, 1\]"):
        paste(cutout.astype(np.float32), background)
    Image.fromarray(cutout).save(tmp_path / "cut.png")
    Image.fromarray(background).save(tmp_path / "bg.png")
    for scale in ("1e4", "1e9"):
        code, _, err = run_cli("compose", tmp_path / "cut.png", tmp_path / "bg.png",
                               "-o", tmp_path / "o.png", "--scale", scale)  # fmt: skip
        assert_user_error(code, err, "cut.png", "above the limit")


def test_enlarging_only_the_visible_part_matches_resizing_it_all():
    import cv2

    from s2crnet.compose import paste
    from s2crnet.pixels import from_unit, to_unit

    rng = np.random.default_rng(0)
    cutout = rng.integers(0, 256, (30, 40, 4)).astype(np.uint8)
    cutout[..., 3] = np.where(rng.random((30, 40)) > 0.3, 255, 0)
    background = rng.integers(0, 256, (100, 120, 3)).astype(np.uint8)
    composite, _ = paste(cutout, background, (-20, -10), 2.5)
    whole = cv2.resize(to_unit(cutout), (100, 75), interpolation=cv2.INTER_LINEAR)
    region = whole[10:75, 20:100]  # what lands: the background's [0:65, 0:80]
    expected = background.copy()
    a = region[..., 3:]
    expected[:65, :80] = from_unit(to_unit(background[:65, :80]) * (1 - a)
                                    + region[..., :3] * a, np.uint8)  # fmt: skip
    assert np.abs(expected.astype(int) - composite).max() <= 1


# --------------------------------------------------------------------------- 6. tracebacks
def test_bad_codecs_and_damaged_mask_videos_are_one_line(tmp_path):
    _clip(tmp_path / "in.mp4")
    _still_mask(tmp_path / "m.png")
    for codec, message in (("nosuchcodec", "no such encoder"), ("aac", "an audio encoder")):
        code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png",
                               "-o", tmp_path / "o.mp4", "--codec", codec)  # fmt: skip
        assert_user_error(code, err, f"--codec {codec}", message)
    data = bytearray((tmp_path / "in.mp4").read_bytes())
    _clip(tmp_path / "mask.mp4")
    damaged = bytearray((tmp_path / "mask.mp4").read_bytes())
    for i in range(len(damaged) // 3, len(damaged) - 200, 7):
        damaged[i] ^= 0x5A  # the frames' data scrambled, the container intact
    (tmp_path / "bad-mask.mp4").write_bytes(bytes(damaged))
    code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "bad-mask.mp4",
                           "-o", tmp_path / "o.mp4")  # fmt: skip
    assert "Traceback" not in err
    if code != 0:  # FFmpeg may also decode through the damage: then it is not an error
        assert_user_error(code, err, "bad-mask.mp4")
    assert data == (tmp_path / "in.mp4").read_bytes()


def test_a_labeler_asking_for_a_huge_view_is_refused():
    from s2crnet.config import LabelerConfig

    for view in (100000, 2**31 + 7):
        with pytest.raises(ValueError, match=r"view must be an integer in \[32, 1024\]"):
            LabelerConfig(view=view)


# --------------------------------------------------------------------------- 7. leftovers
def test_sigterm_during_a_video_leaves_nothing(tmp_path):
    _clip(tmp_path / "in.mp4", frames=400, size=(320, 240))
    _still_mask(tmp_path / "m.png", (320, 240))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "s2crnet", "harmonize-video", tmp_path / "in.mp4",
         tmp_path / "m.png", "-o", tmp_path / "o.mp4"],
        stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".o.mp4.*")):
        time.sleep(0.05)  # until the output is being written
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err.decode()
    assert b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "m.png"]


def test_a_write_removes_what_a_killed_run_left_for_the_same_file(files, weights_file):
    stale = files / ".o.png.0badc0de.s2crnet-tmp"
    stale.write_bytes(b"left by a killed run")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = files / ".o.png.1badc0de.s2crnet-tmp"
    fresh.write_bytes(b"another run, writing now")
    other = files / ".x.png.2badc0de.s2crnet-tmp"
    other.write_bytes(b"another file's")
    os.utime(other, (time.time() - 3600, time.time() - 3600))
    code, _, err = run_cli("harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
                           "--weights", weights_file)  # fmt: skip
    assert code == 0, err
    assert not stale.exists() and fresh.exists() and other.exists()


# --------------------------------------------------------------------------- 8. consistency
def test_a_mask_covering_every_frame_is_refused_like_a_photos(tmp_path):
    _clip(tmp_path / "in.mp4")
    _still_mask(tmp_path / "full.png", full=True)
    code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "full.png",
                           "-o", tmp_path / "o.mp4")  # fmt: skip
    assert_user_error(code, err, "full.png", "covers the whole frame")
    assert not (tmp_path / "o.mp4").exists()


def test_a_negative_strength_is_reported_as_given(files):
    """``strength=-3`` used to be reported after the calibration (``got -1.83``)."""
    from s2crnet import harmonize

    for bad in (-3, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"got {bad}$"):
            harmonize(files / "c.png", files / "m.png", strength=bad)


# --------------------------------------------------------------------------- 9. first hour
def test_swapped_composite_and_mask_are_refused(tmp_path, weights_file):
    Image.fromarray(make_composite()).save(tmp_path / "c.png")
    Image.fromarray(make_mask()).save(tmp_path / "m.png")
    code, _, err = run_cli("harmonize", tmp_path / "m.png", tmp_path / "c.png",
                           "-o", tmp_path / "o.png", "--weights", weights_file)  # fmt: skip
    assert_user_error(code, err, "look swapped")
    assert not (tmp_path / "o.png").exists()
    code, _, err = run_cli("harmonize", tmp_path / "c.png", tmp_path / "m.png",
                           "-o", tmp_path / "o.png", "--weights", weights_file)  # fmt: skip
    assert code == 0, err  # the right order is not mistaken for it


def test_load_model_none_is_the_shipped_model():
    """The README says ``load_model(None)`` gives the shipped model (it raised TypeError)."""
    from s2crnet import load_model
    from s2crnet.loading import default_model

    fresh = load_model(None)
    assert fresh is not default_model() and fresh.config == default_model().config
    shipped = default_model().state_dict()
    assert all(torch.equal(v, shipped[k]) for k, v in fresh.state_dict().items())


# --------------------------------------------------------------------------- 10. training
def test_training_photos_with_a_bad_pair_are_listed_or_skipped(tmp_path):
    from s2crnet.data.photos import check_photos, list_photos

    folder = tmp_path / "photos"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    rng = np.random.default_rng(0)
    for name, size in (("good", (48, 32)), ("turned", (48, 32)), ("empty", (48, 32))):
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), np.uint8)).save(
            folder / "images" / f"{name}.png"
        )
        mask = np.zeros((size[1], size[0]), np.uint8)
        if name != "empty":
            mask[8:24, 8:40] = 255
        if name == "turned":
            mask = np.ascontiguousarray(mask.T)  # 32x48 against a 48x32 photo
        Image.fromarray(mask).save(folder / "masks" / f"{name}.png")
    photos = list_photos(folder)
    with pytest.raises(ValueError, match=r"2 of 3 training photos cannot be used") as caught:
        check_photos(photos)
    assert "turned.png: mask is 32x48 but its photo turned.png is 48x32" in str(caught.value)
    assert "empty.png: the mask is empty" in str(caught.value)
    with pytest.warns(UserWarning, match="left out 2 of 3"):
        kept = check_photos(photos, skip_bad=True)
    assert [p.image.name for p in kept] == ["good.png"]
    code, _, err = run_cli("train", "--photos", folder, "--out", tmp_path / "run",
                           "--steps", 1, "--from-scratch")  # fmt: skip
    assert_user_error(code, err, "2 of 3 training photos cannot be used", "--skip-bad-photos")
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- 4, 5. the demo
def test_the_demo_names_each_requests_files_apart_and_prunes_old_ones(tmp_path):
    pytest.importorskip("matplotlib")
    from s2crnet.curves import Curves
    from s2crnet.demo import download_files, prune
    from s2crnet.session import ObjectResult

    obj = ObjectResult(Curves.identity(), None)
    image = np.zeros((20, 30, 3), np.uint8)
    first = download_files(image, obj, 0.6, tmp_path / "000001")
    second = download_files(image, obj, 0.6, tmp_path / "000002")
    names = [os.path.basename(p) for p in first + second]
    assert len(set(names)) == len(names) == 8  # no two requests share a file name
    old = time.time() - 3600
    for path in (tmp_path / "000001").iterdir():
        os.utime(path, (old, old))
    os.utime(tmp_path / "000001", (old, old))
    assert prune(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000002"]


def test_the_demos_messages_show_no_server_folder():
    from s2crnet.demo import public_message

    message = public_message("/tmp/gradio/0a1b2c/upload.mp4: not a video file (Invalid data)")
    assert message == "upload.mp4: not a video file (Invalid data)"
    assert public_message("mask: nothing uploaded") == "mask: nothing uploaded"


def test_the_demo_command_bounds_uploads():
    code, out, _ = run_cli("demo", "--help")
    assert code == 0 and "--max-upload-mb" in out and "default: 40" in " ".join(out.split())


def test_a_truncated_video_is_harmonized_with_a_warning_giving_the_count(tmp_path):
    av = pytest.importorskip("av")
    with av.open(str(tmp_path / "whole.mkv"), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        rng = np.random.default_rng(0)
        for i in range(50):
            img = rng.integers(0, 256, (48, 64, 3), np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = (tmp_path / "whole.mkv").read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: int(len(data) * 0.6)])  # a copy cut short
    _still_mask(tmp_path / "m.png")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the whole clip: no word
        code, _, err = run_cli("harmonize-video", tmp_path / "whole.mkv", tmp_path / "m.png",
                               "-o", tmp_path / "o1.mp4")  # fmt: skip
    assert code == 0, err
    with pytest.warns(UserWarning, match=r"cut\.mkv: ends at .* \(truncated\?\); harmonizing the"):
        code, _, err = run_cli("harmonize-video", tmp_path / "cut.mkv", tmp_path / "m.png",
                               "-o", tmp_path / "o2.mp4")  # fmt: skip
    assert code == 0, err
