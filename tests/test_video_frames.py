"""What makes a video frame cheap, kept honest: only the object's box goes through RGB
(the rest of the frame is encoded sample for sample as decoded), the network runs on
every Nth frame and at scene cuts, the flicker measure looks at the object's box only,
and the encoder's thread never outlives a run."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _helpers import run_cli
from s2crnet import Curves
from s2crnet.curves.value import read_curve_file
from s2crnet.errors import InputError
from s2crnet.render import apply_curves
from s2crnet.video.boxes import MARGIN, render_box
from s2crnet.video.options import VideoOptions
from s2crnet.video.smoothing import LONGEST, FlickerMeter, Smoother, colour_stats

DARKER = Curves(np.linspace(2.0, 0.2, 64)[None, None].repeat(3, axis=1))


def test_object_box_covers_the_mask_with_a_margin_on_the_chroma_grid():
    mask = np.zeros((64, 80), np.uint8)
    mask[21:30, 33:40] = 255
    mask[21, 33] = 90  # soft
    box = render_box(mask, 2)
    assert (box.rows, box.cols) == (slice(12, 38), slice(24, 48))
    assert box.rows.start <= 21 - MARGIN and box.cols.stop >= 40 + MARGIN
    np.testing.assert_array_equal(box.mask, mask[12:38, 24:48])
    luma, chroma = box.planes[0], box.planes[1]
    assert luma.shape == (26, 24) and chroma.shape == (13, 12) and box.planes[2] is chroma
    np.testing.assert_array_equal(luma > 0, box.mask > 0)
    # a chroma sample is replaced where any of its 2x2 luma samples is in the mask
    assert chroma[(21 - 12) // 2, (33 - 24) // 2] == 255  # (21, 33) alone in its block row
    assert chroma[(30 - 12) // 2, (40 - 24) // 2] == 0
    assert chroma[(29 - 12) // 2, (39 - 24) // 2] == 255
    assert box.plane_box(1, 2) == (slice(6, 19), slice(12, 24))
    # at the frame's edge the margin stops; 4:4:4 needs no alignment
    edge = np.zeros((9, 11), np.uint8)
    edge[0:3, 8:11] = 255
    box = render_box(edge, 1)
    assert (box.rows, box.cols) == (slice(0, 9), slice(0, 11))
    assert render_box(np.zeros((8, 8), np.uint8), 2) is None
    with pytest.raises(ValueError, match="9x7 mask"):
        render_box(np.ones((7, 9), np.uint8), 2)


def _predictor(calls: list[int], value):
    """``predict(index)``: a stand-in for the network on frame ``index`` that records the
    call and gives weights of ``value(index)``."""

    def predict(index: int):
        def once() -> np.ndarray:
            calls.append(index)
            return np.full((1, 3, 2), value(index))

        return once

    return predict


def test_smoother_every_frame_is_the_moving_average_and_every_nth_reuses_the_last():
    dark, light = np.zeros((1, 3, 8, 8), np.float32), np.ones((1, 3, 8, 8), np.float32)
    values = iter([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    calls: list[int] = []
    predict = _predictor(calls, lambda index: next(values))

    every = Smoother(smooth=0.5, scene_cut=0.5, every=1)
    got = [every.update(i, dark, predict(i))[0, 0, 0] for i in range(3)]
    assert got == [1.0, 0.5 * 1 + 0.5 * 2, 0.5 * 1.5 + 0.5 * 3]
    assert calls == [0, 1, 2] and every.predictions == 3

    calls.clear()
    values = iter([10.0, 20.0, 30.0, 40.0])
    third = Smoother(smooth=0.5, scene_cut=0.5, every=3)
    scenes = [dark, dark, dark, dark, light, light, light]  # a cut at frame 4
    got = [third.update(i, s, predict(i))[0, 0, 0] for i, s in enumerate(scenes)]
    # frames 1 and 2 average the last prediction (10) in again; 3 predicts; 4 is a cut
    # and restarts; 5 and 6 reuse the prediction of frame 4
    assert got == [10.0, 10.0, 10.0, 15.0, 30.0, 30.0, 30.0]
    assert calls == [0, 3, 4] and third.cuts == [4] and third.predictions == 3
    with pytest.raises(ValueError, match="at least 1"):
        Smoother(every=0)


def test_colour_stats_are_the_mean_and_spread_inside_and_outside():
    view = np.zeros((2, 2, 3), np.uint8)
    view[0, 0], view[0, 1], view[1] = (10, 20, 30), (30, 20, 10), (100, 100, 100)
    mask = np.array([[255, 255], [0, 0]], np.uint8)
    stats = colour_stats(view, mask).reshape(4, 3)
    assert stats.dtype == np.float32 and stats.shape == (4, 3)
    np.testing.assert_allclose(stats[0], [20, 20, 20])  # the object's mean
    np.testing.assert_allclose(stats[1], [10, 0, 10], atol=1e-3)  # its spread
    np.testing.assert_allclose(stats[2], [100, 100, 100])  # the background's
    np.testing.assert_allclose(stats[3], [0, 0, 0], atol=1e-3)
    mask[0, 1] = 127  # outside: the object is the values above 127
    stats = colour_stats(view, mask).reshape(4, 3)
    np.testing.assert_allclose(stats[:, 0], [10, 0, (30 + 200) / 3, np.std([30, 100, 100])],
                               rtol=1e-5)  # fmt: skip
    assert not colour_stats(view, np.zeros((2, 2), np.uint8))[:6].any()  # no object


def test_smoother_with_a_colour_tolerance_waits_for_the_colours_to_move():
    scene = np.zeros((1, 3, 8, 8), np.float32)
    calls: list[int] = []
    predict = _predictor(calls, float)

    still = Smoother(smooth=0.5, scene_cut=0.5, every=2, change=1.0)
    colours = np.zeros(12, np.float32)
    for i in range(18):
        still.update(i, scene, predict(i), colours)
    assert calls == [0, 2 * LONGEST, 4 * LONGEST]  # still: every LONGEST * every frames
    calls.clear()
    moving = Smoother(smooth=0.5, scene_cut=0.5, every=2, change=1.0)
    for i in range(7):  # the object's red mean moves 0.6 levels a frame
        colours = np.zeros(12, np.float32)
        colours[0] = 0.6 * i
        moving.update(i, scene, predict(i), colours)
    assert calls == [0, 2, 4, 6]  # 1.2 levels since the last one: due at every 2nd
    calls.clear()
    slow = Smoother(smooth=0.5, scene_cut=0.5, every=1, change=1.0)
    for i in range(6):  # 0.3 levels a frame: more than 1 after 4 frames
        slow.update(i, scene, predict(i), np.full(12, 0.3 * i, np.float32))
    assert calls == [0, 4] and slow.predictions == 2
    with pytest.raises(ValueError, match="change must be at least 0"):
        Smoother(change=-1)
    with pytest.raises(InputError, match="predict_change must be in"):
        VideoOptions(predict_change=300)


def _flicker_by_hand(frames) -> float:
    """The flicker of :class:`FlickerMeter`, computed on the whole thumbnails."""
    changes, previous = [], None
    for square, square_mask, curves in frames:
        change = apply_curves(square, square_mask, curves).astype(np.float32) - square
        inside = square_mask > 127
        if previous is not None and (inside & previous[1]).any():
            both = inside & previous[1]
            changes.append(float(np.abs(change - previous[0])[both].mean()))
        previous = (change, inside)
    return float(np.mean(changes or [0.0]))


def test_flicker_from_the_object_box_equals_the_whole_thumbnail():
    rng = np.random.default_rng(1)
    frames = []
    for i in range(6):  # a moving, growing, soft-edged object
        square = rng.integers(0, 256, (64, 64, 3), np.uint8)
        mask = np.zeros((64, 64), np.uint8)
        mask[10 + i : 30 + 2 * i, 5 + 3 * i : 25 + 3 * i] = 255
        mask[10 + i, 5 + 3 * i : 25 + 3 * i] = 100
        strength = 0.3 + 0.1 * i
        frames.append((square, mask, Curves(DARKER.params, strength)))
    meter = FlickerMeter()
    for frame in frames:
        meter.add(*frame)
    assert meter.flicker == pytest.approx(_flicker_by_hand(frames), rel=1e-6)
    assert meter.flicker > 1
    meter.add(frames[0][0], np.zeros((64, 64), np.uint8), DARKER)  # no object: a gap
    assert meter.previous is None


def test_predict_every_is_checked():
    with pytest.raises(InputError, match="predict_every must be a whole number >= 1, got 0"):
        VideoOptions(predict_every=0)
    with pytest.raises(InputError, match=r"got 2\.5"):
        VideoOptions(predict_every=2.5)
    code, _, err = run_cli("harmonize-video", "in.mp4", "m.png", "-o", "o.mp4",
                           "--predict-every", "0")  # fmt: skip
    assert code == 2 and "--predict-every" in err and "Traceback" not in err


def _av():
    return pytest.importorskip("av", reason="PyAV (the [video] extra) is not installed")


def _clip(path: Path, size: tuple[int, int], frames: int = 6) -> np.ndarray:
    """A lossless clip (FFV1) of a textured picture with a cast object and some noise;
    returns its mask."""
    av = _av()
    w, h = size
    rng = np.random.default_rng(0)
    texture = rng.integers(20, 230, (h, w, 3)).astype(np.float64)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4 : h // 2 + 3, w // 3 : w // 3 + w // 4] = 255
    mask[h // 4, w // 3 : w // 3 + w // 4] = 128  # a soft row
    pix_fmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        for i in range(frames):
            img = texture + rng.normal(0, 4, texture.shape)
            img[mask > 0] *= [1.3, 1.0, 0.6]
            img = img.clip(0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format=pix_fmt)
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return mask


def _decoded(path: Path) -> list:
    with _av().open(str(path)) as container:
        return list(container.decode(video=0))


def _planes(frame) -> list[np.ndarray]:
    return [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
            for p in frame.planes]  # fmt: skip


@pytest.mark.parametrize("size", [(96, 64), (97, 63)], ids=["4:2:0", "4:4:4 odd size"])
def test_only_the_object_changes_and_it_equals_the_still_rendering(tmp_path, size):
    from s2crnet.video import harmonize_video

    av = _av()
    mask = _clip(tmp_path / "in.mkv", size)
    Image.fromarray(mask).save(tmp_path / "m.png")
    result = harmonize_video(tmp_path / "in.mkv", tmp_path / "m.png", tmp_path / "out.mkv",
                             curves=DARKER, codec="ffv1",
                             save_curves=tmp_path / "c.jsonl")  # fmt: skip
    assert result.frames == 6
    step = 2 if size[0] % 2 == 0 else 1
    box = render_box(mask, step)
    lines = (tmp_path / "c.jsonl").read_text().splitlines()
    for line, source, written in zip(lines, _decoded(tmp_path / "in.mkv"),
                                     _decoded(tmp_path / "out.mkv"), strict=True):  # fmt: skip
        assert written.format.name == source.format.name
        for i, (a, b) in enumerate(zip(_planes(source), _planes(written), strict=True)):
            keep = np.ones(a.shape, bool)
            rows, cols = box.plane_box(i, step)
            keep[rows, cols] = box.planes[i] == 0
            np.testing.assert_array_equal(a[keep], b[keep])  # sample for sample
        # inside: the still rendering of the whole frame's RGB with the frame's curves,
        # converted back to YUV as a whole (what rendering the whole frame would encode)
        curves = read_curve_file(line, "c.jsonl")[0]
        rgb = source.reformat(format="rgb24", src_colorspace="ITU601", src_color_range="MPEG",
                              dst_color_range="JPEG").to_ndarray()  # fmt: skip
        still = apply_curves(rgb, mask, curves)
        assert np.abs(still.astype(int) - rgb)[mask == 255].mean() > 20  # the object changed
        whole = av.VideoFrame.from_ndarray(still, format="rgb24").reformat(
            format=source.format.name, src_colorspace="ITU601", dst_colorspace="ITU601",
            src_color_range="JPEG", dst_color_range="MPEG")  # fmt: skip
        for i, (a, b) in enumerate(zip(_planes(whole), _planes(written), strict=True)):
            rows, cols = box.plane_box(i, step)
            replaced = box.planes[i] > 0
            assert replaced.any()
            gap = np.abs(a[rows, cols][replaced].astype(int) - b[rows, cols][replaced])
            assert gap.max() <= 1, (i, gap.max())


def test_network_runs_every_nth_frame_and_the_encoder_thread_ends(tmp_path):
    from s2crnet import Harmonizer
    from s2crnet.video import harmonize_video

    mask = _clip(tmp_path / "in.mkv", (96, 64), frames=9)
    Image.fromarray(mask).save(tmp_path / "m.png")
    session = Harmonizer()
    counts = {}
    for every, change in ((1, 0.0), (4, 0.0), (1, None), (4, None)):
        result = harmonize_video(tmp_path / "in.mkv", tmp_path / "m.png",
                                 tmp_path / f"o{every}.mkv", model=session,
                                 predict_every=every, predict_change=change,
                                 codec="ffv1")  # fmt: skip
        assert result.scene_cuts == ()
        counts[every, change] = result.predictions
    # without a colour tolerance: every frame; frames 0, 4 and 8. With the default one,
    # the still clip's colours do not move: every LONGEST * every frames (0, 4, 8; 0)
    assert counts == {(1, 0.0): 9, (4, 0.0): 3, (1, None): 3, (4, None): 1}
    # a failing run (the mask frames run out) ends its encoder's thread and leaves nothing
    folder = tmp_path / "masks"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(mask).save(folder / f"{i:02d}.png")
    with pytest.raises(InputError):
        harmonize_video(tmp_path / "in.mkv", folder, tmp_path / "bad.mkv", model=session)
    assert not [t for t in threading.enumerate() if t.name.startswith("s2crnet-encode")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv", "m.png", "masks",
                                                          "o1.mkv", "o4.mkv"]  # fmt: skip
