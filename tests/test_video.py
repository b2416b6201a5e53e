"""``harmonize-video``: every frame, timestamp, size, rotation and audio packet kept;
masks from an image, a folder or a video; curves smoothed in time; bad input in one line.
The clips are made here with PyAV: a moving object with a colour cast over a textured
background, and a sine tone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from _helpers import assert_user_error, run_cli
from s2crnet import Curves, S2CRNet, S2CRNetConfig

av = pytest.importorskip("av", reason="PyAV (the [video] extra) is not installed")

from s2crnet.video import harmonize_video  # noqa: E402

DARKER = Curves(np.linspace(2.0, 0.2, 64)[None, None].repeat(3, axis=1))  # a strong curve


def make_clip(
    path: Path,
    frames: int = 12,
    size: tuple[int, int] = (160, 120),
    times: list[int] | None = None,
    rotation: int = 0,
    audio: bool = True,
    cut_at: int | None = None,
) -> list[np.ndarray]:
    """Write a clip (H.264, times in ms) and return its per-frame object masks."""
    w, h = size
    rng = np.random.default_rng(0)
    texture = Image.fromarray(rng.integers(40, 200, (h // 8 + 1, w // 8 + 1, 3), np.uint8))
    background = np.asarray(texture.resize((w, h), Image.BILINEAR)).astype(np.float32)
    other = 255 - background  # a different scene, for a cut
    times = times or [40 * i for i in range(frames)]
    masks = []
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height = w, h
        video.pix_fmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
        video.time_base = video.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            video.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=48000, layout="mono") if audio else None
        for i, t in enumerate(times):
            img = (other if cut_at is not None and i >= cut_at else background).copy()
            mask = np.zeros((h, w), np.uint8)
            x = 10 + 3 * i
            mask[h // 3 : h // 3 + h // 3, x : x + w // 4] = 255
            cast = np.array([160, 120, 70], np.float32) * (1 + 0.02 * np.sin(i))
            img[mask > 0] = np.clip(cast + rng.normal(0, 5, (int((mask > 0).sum()), 3)), 0, 255)
            frame = av.VideoFrame.from_ndarray(img.astype(np.uint8), format="rgb24")
            frame = frame.reformat(format=video.pix_fmt)
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            out.mux(video.encode(frame))
            masks.append(mask)
        out.mux(video.encode(None))
        if sound is not None:
            rate = 48000
            n = rate * (times[-1] + 40) // 1000
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)
            for start in range(0, n, 1024):
                chunk = av.AudioFrame.from_ndarray(
                    tone[None, start : start + 1024], format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts = rate, start
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return masks


def frames_of(path: Path) -> tuple[list[float], list[np.ndarray], int]:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
        rotation = frames[0].rotation
        return [f.time for f in frames], [f.to_ndarray(format="rgb24") for f in frames], rotation


def audio_packets(path: Path) -> list[tuple[int, bytes]]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [(p.pts, bytes(p)) for p in container.demux(stream) if p.size]


@pytest.fixture(scope="module")
def plain() -> S2CRNet:
    torch.manual_seed(3)
    return S2CRNet(S2CRNetConfig(semantic=False, activation="softplus")).eval()


def test_keeps_every_frame_timestamp_size_and_audio_packet(tmp_path, plain):
    masks = make_clip(tmp_path / "in.mp4")
    Image.fromarray(masks[0]).save(tmp_path / "m.png")
    result = harmonize_video(tmp_path / "in.mp4", tmp_path / "m.png", tmp_path / "out.mp4",
                             curves=DARKER)  # fmt: skip
    assert result.frames == 12
    times_in, frames_in, _ = frames_of(tmp_path / "in.mp4")
    times_out, frames_out, _ = frames_of(tmp_path / "out.mp4")
    assert times_out == times_in and frames_out[0].shape == frames_in[0].shape
    assert audio_packets(tmp_path / "out.mp4") == audio_packets(tmp_path / "in.mp4")
    outside = masks[0] == 0
    changed = np.abs(frames_out[0].astype(int) - frames_in[0])
    assert changed[~outside].mean() > 3 * changed[outside].mean()  # the object, not the rest
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_variable_frame_rate_odd_size_and_rotation(tmp_path, plain):
    times = [0, 40, 130, 170, 300, 340, 380, 500]
    masks = make_clip(tmp_path / "vfr.mp4", size=(161, 97), times=times, audio=False,
                      rotation=90)  # fmt: skip
    displayed = np.rot90(masks[0], 1)  # the mask as drawn on the upright picture
    Image.fromarray(np.ascontiguousarray(displayed)).save(tmp_path / "upright.png")
    Image.fromarray(masks[0]).save(tmp_path / "stored.png")
    wrong = np.rot90(masks[0], -1)  # drawn on the picture turned the other way
    Image.fromarray(np.ascontiguousarray(wrong)).save(tmp_path / "wrong.png")
    harmonize_video(tmp_path / "vfr.mp4", tmp_path / "upright.png", tmp_path / "a.mkv",
                    model=plain)  # fmt: skip
    times_in, _, rotation_in = frames_of(tmp_path / "vfr.mp4")
    times_a, frames_a, rotation_a = frames_of(tmp_path / "a.mkv")
    assert times_a == times_in == [t / 1000 for t in times]
    assert frames_a[0].shape == (97, 161, 3) and rotation_a == rotation_in == 90
    # where the mask lands, through lossless encodes (crf 0) so that the encoder's own
    # choices, which vary with the machine's load, cannot tell two equal frames apart
    frame_3 = {}
    for mask in ("upright.png", "stored.png", "wrong.png"):
        harmonize_video(tmp_path / "vfr.mp4", tmp_path / mask, tmp_path / f"{mask}.mkv",
                        curves=DARKER, crf=0)  # fmt: skip
        frame_3[mask] = frames_of(tmp_path / f"{mask}.mkv")[1][3].astype(int)
    np.testing.assert_array_equal(frame_3["upright.png"], frame_3["stored.png"])
    assert np.abs(frame_3["upright.png"] - frame_3["wrong.png"]).max() > 30


def test_mask_folder_and_mask_video_follow_a_moving_object(tmp_path, plain):
    masks = make_clip(tmp_path / "in.mp4", audio=False)
    folder = tmp_path / "masks"
    folder.mkdir()
    for i, m in enumerate(masks):
        Image.fromarray(m).save(folder / f"f{i:03d}.png")
    with av.open(str(tmp_path / "masks.mkv"), "w") as out:  # lossless grey mask video
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "gray"
        for m in masks:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(m, format="gray")))
        out.mux(stream.encode(None))
    # one fixed curve and lossless encodes (crf 0): equal masks give equal frames, whatever
    # the encoder chose; a mask that lags a frame behind moves the recoloured pixels
    for masks_from, out in ((folder, "a.mp4"), (tmp_path / "masks.mkv", "b.mp4")):
        harmonize_video(tmp_path / "in.mp4", masks_from, tmp_path / out, curves=DARKER, crf=0)
    _, a, _ = frames_of(tmp_path / "a.mp4")
    _, b, _ = frames_of(tmp_path / "b.mp4")
    np.testing.assert_array_equal(a[-1], b[-1])
    _, before, _ = frames_of(tmp_path / "in.mp4")
    change = np.abs(a[-1].astype(int) - before[-1]).sum(axis=2)
    now, then = masks[-1] > 0, (masks[0] > 0) & (masks[-1] == 0)
    assert then.sum() > 100 and change[now].mean() > 5 * change[then].mean()  # it moved
    (folder / "f011.png").unlink()
    weights = weights_for(tmp_path, plain)
    code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", folder, "-o",
                           tmp_path / "c.mp4", "--weights", weights)  # fmt: skip
    assert_user_error(code, err, "11 mask images for 12 video frames")
    assert not (tmp_path / "c.mp4").exists()


def weights_for(folder: Path, model: S2CRNet) -> Path:
    path = folder / "plain.safetensors"
    if not path.exists():
        model.save(path)
    return path


def test_smoothing_lowers_flicker_and_scene_cuts_restart_it(tmp_path, plain):
    masks = make_clip(tmp_path / "in.mp4", frames=16, audio=False, cut_at=8)
    Image.fromarray(masks[0]).save(tmp_path / "m.png")
    rough = harmonize_video(tmp_path / "in.mp4", tmp_path / "m.png", tmp_path / "a.mp4",
                            model=plain, smooth=0.0)  # fmt: skip
    smooth = harmonize_video(tmp_path / "in.mp4", tmp_path / "m.png", tmp_path / "b.mp4",
                             model=plain, smooth=0.9)  # fmt: skip
    assert smooth.flicker < rough.flicker
    assert smooth.scene_cuts == rough.scene_cuts == (8,)


def test_the_network_runs_where_the_colours_move_and_the_command_says_how_often(tmp_path, plain):
    masks = make_clip(tmp_path / "in.mp4", frames=16, audio=False)  # the object moves
    Image.fromarray(masks[0]).save(tmp_path / "m.png")  # a still mask: it slides off
    weights = weights_for(tmp_path, plain)
    said = {}
    for options in (["--predict-every", "1", "--predict-change", "0"], ["--predict-every", "1"],
                    ["--predict-every", "1", "--predict-change", "255"]):  # fmt: skip
        code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png", "-o",
                               tmp_path / "o.mp4", "--weights", weights, *options)  # fmt: skip
        assert code == 0, err
        said[options[-1]] = err.strip().splitlines()[-1]
    assert "(16 frames, the network on 16; flicker" in said["0"]  # every frame
    # the mask's part of the picture changes: some frames, not all, move its colours
    network = int(said["1"].split("the network on ")[1].split(";")[0])
    assert 4 < network < 16, said["1"]
    assert "(16 frames, the network on 4; flicker" in said["255"]  # 0, 4, 8, 12: the longest
    code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png", "-o",
                           tmp_path / "p.mp4", "--predict-change", "300")  # fmt: skip
    assert (
        code == 2
        and "Invalid value for '--predict-change'" in err
        and not (tmp_path / "p.mp4").exists()
    )


def test_saved_curves_reapplied_give_the_same_video(tmp_path, plain):
    masks = make_clip(tmp_path / "in.mp4", audio=False)
    Image.fromarray(masks[0]).save(tmp_path / "m.png")
    harmonize_video(tmp_path / "in.mp4", tmp_path / "m.png", tmp_path / "a.mp4", model=plain,
                    save_curves=tmp_path / "k.jsonl")  # fmt: skip
    lines = (tmp_path / "k.jsonl").read_text().splitlines()
    assert len(lines) == 12 and '"frame":11' in lines[-1]
    code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png", "-o",
                           tmp_path / "b.mp4", "--curves", tmp_path / "k.jsonl")  # fmt: skip
    assert code == 0, err
    _, a, _ = frames_of(tmp_path / "a.mp4")
    _, b, _ = frames_of(tmp_path / "b.mp4")
    assert max(np.abs(x.astype(int) - y).max() for x, y in zip(a, b, strict=True)) <= 1


def test_bad_inputs_are_one_line_and_leave_nothing(tmp_path, plain, files):
    masks = make_clip(tmp_path / "in.mp4", audio=False)
    Image.fromarray(masks[0]).save(tmp_path / "m.png")
    weights = weights_for(tmp_path, plain)
    with av.open(str(tmp_path / "tone.m4a"), "w") as out:  # audio only
        sound = out.add_stream("aac", rate=48000, layout="mono")
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")  # fmt: skip
        chunk.sample_rate, chunk.pts = 48000, 0
        out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / "notes.png").write_text("not a picture")  # FFmpeg opens it, cannot decode it
    cases = [
        ((tmp_path / "notes.txt", tmp_path / "m.png"), "not a video file"),
        (
            (tmp_path / "notes.png", tmp_path / "m.png"),
            "notes.png: no frame could be decoded (Invalid data found when processing input)",
        ),
        ((tmp_path / "tone.m4a", tmp_path / "m.png"), "holds no video stream"),
        (
            (tmp_path / "in.mp4", files / "m.png"),
            "mask is 60x50 but each video frame is 160x120",
        ),
    ]
    Image.fromarray(np.zeros((50, 60), np.uint8)).save(files / "m.png")
    for (video, mask), message in cases:
        code, _, err = run_cli("harmonize-video", video, mask, "-o", tmp_path / "o.mp4",
                               "--weights", weights)  # fmt: skip
        assert_user_error(code, err, message)
    code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png", "-o",
                           tmp_path / "missing" / "o.mp4", "--weights", weights)  # fmt: skip
    assert_user_error(code, err, "does not exist")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["c.png", "in.mp4", "m.png", "notes.png", "notes.txt", "plain.safetensors",
                    "tone.m4a"]  # fmt: skip


def test_full_disk_leaves_no_partial_video(tmp_path, plain):
    import subprocess

    masks = make_clip(tmp_path / "in.mp4", audio=False)
    Image.fromarray(masks[0]).save(tmp_path / "m.png")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(disk)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("a small tmpfs needs root")
    try:
        weights = weights_for(tmp_path, plain)
        code, _, err = run_cli("harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png",
                               "-o", disk / "o.mp4", "--weights", weights)  # fmt: skip
        assert_user_error(code, err, f"{disk / 'o.mp4'}: cannot write (the disk is full)")
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
