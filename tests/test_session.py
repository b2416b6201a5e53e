"""The Harmonizer session: one loaded model behind every door, the calibration met in
one place, and the doors (API, CLI, compose, video) agreeing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from _helpers import assert_user_error, make_composite, make_mask, run_cli
from s2crnet import Curves, Harmonizer, InputError, compose, harmonize
from s2crnet.session import as_harmonizer
from s2crnet.strength import applied_strength


def test_one_session_gives_curves_harmonizes_and_applies(semantic_model):
    comp, mask = make_composite(), make_mask()
    h = Harmonizer(semantic_model)
    result = h.harmonize(comp, mask, label="animal", strength=0.7)
    assert np.abs(result.image.astype(int) - comp)[mask > 0].mean() > 1  # it changes things
    (obj,) = h.curves(comp, mask, label="animal", strength=0.7)
    np.testing.assert_array_equal(obj.curves.params, result.curves.params)
    assert obj.curves.strength == result.curves.strength == h.strength(0.7)
    np.testing.assert_array_equal(h.apply(comp, mask, obj.curves), result.image)
    # the one-call function over a session built for the model gives the same picture
    np.testing.assert_array_equal(
        harmonize(comp, mask, model=semantic_model, label="animal", strength=0.7).image,
        result.image,
    )


def test_the_default_session_is_built_once():
    assert as_harmonizer() is as_harmonizer()
    h = Harmonizer()
    assert as_harmonizer(h) is h
    with pytest.raises(InputError, match="already holds"):
        as_harmonizer(h, device="cpu")


def test_calibration_is_what_strength_one_means(monotone_model):
    comp, mask = make_composite(), make_mask()
    calibration = monotone_model.config.curve_strength
    assert Harmonizer(monotone_model).strength(2) == applied_strength(2, calibration)
    assert Harmonizer(monotone_model, calibration=0.5).strength(2) == 1.0
    own = Harmonizer(monotone_model).harmonize(comp, mask, strength=0.25 / calibration)
    given = Harmonizer(monotone_model, calibration=0.25).harmonize(comp, mask)
    np.testing.assert_array_equal(own.image, given.image)
    for bad in (-1, float("nan"), "2"):
        with pytest.raises(ValueError, match="finite number >= 0"):
            Harmonizer(monotone_model, calibration=bad)


def test_the_thumbnail_size_is_the_sessions(monotone_model):
    comp, mask = make_composite(), make_mask()
    small = Harmonizer(monotone_model, thumbnail=128)
    assert small.thumbnail == 128 and Harmonizer(monotone_model).thumbnail == 256
    a = small.curves(comp, mask)[0].curves.params
    b = Harmonizer(monotone_model).curves(comp, mask)[0].curves.params
    assert a.shape == b.shape and not np.array_equal(a, b)


def test_a_session_loads_its_model_and_labeler_on_first_use(tmp_path, semantic_model):
    missing = Harmonizer(tmp_path / "nowhere.safetensors")  # nothing read yet
    with pytest.raises(FileNotFoundError):
        missing.load()
    h = Harmonizer(semantic_model, labeler=tmp_path / "no-labeler.safetensors")
    comp, mask = make_composite(), make_mask()
    h.harmonize(comp, mask, label="person")  # a given class: the labeler is never needed
    with pytest.raises(FileNotFoundError):
        h.harmonize(comp, mask, label="auto")


def test_backend_and_weights_must_agree(tmp_path):
    with pytest.raises(InputError, match="runs on onnxruntime, not on backend torch"):
        Harmonizer(tmp_path / "m.onnx", backend="torch")
    with pytest.raises(InputError, match="run on torch, not on backend onnxruntime"):
        Harmonizer(tmp_path / "m.safetensors", backend="onnxruntime")
    assert Harmonizer(backend="onnxruntime").backend == "onnxruntime"  # the shipped ONNX
    with pytest.raises(InputError, match="backend must be one of"):
        Harmonizer(backend="tensorflow")


def test_compose_takes_a_session(monotone_model):
    cutout = np.zeros((40, 40, 4), np.uint8)
    cutout[10:30, 10:30] = (200, 40, 40, 255)
    background = make_composite()
    h = Harmonizer(monotone_model)
    a = compose(cutout, background, model=h, strength=0.5)
    b = compose(cutout, background, model=monotone_model, strength=0.5)
    np.testing.assert_array_equal(a.image, b.image)
    assert a.curves.strength == h.strength(0.5)


def test_apply_with_a_curve_file_means_what_harmonize_meant(tmp_path):
    curve = Curves(np.linspace(2.0, 0.2, 64)[None, None].repeat(3, axis=1))
    path = tmp_path / "c.json"
    path.write_text(curve.with_strength(3 * 0.61).to_json(0.61))  # harmonize --strength 3
    comp, mask = make_composite(), make_mask()
    h = Harmonizer()  # its model is never loaded: the file holds the calibration
    as_recorded = h.apply(comp, mask, path)
    at_half = h.apply(comp, mask, path, strength=0.5)
    np.testing.assert_array_equal(as_recorded, h.apply(comp, mask, curve.with_strength(1.83)))
    np.testing.assert_array_equal(at_half, h.apply(comp, mask, curve.with_strength(0.5 * 0.61)))


# --------------------------------------------------------------------------- the doors agree
def _rgb_frames(path, av):
    """Every frame as the video loop sees it: BT.601 limited range -> full-range RGB."""
    with av.open(str(path)) as container:
        return [
            f.reformat(format="rgb24", src_colorspace="ITU601", src_color_range="MPEG",
                       dst_color_range="JPEG").to_ndarray()
            for f in container.decode(video=0)
        ]  # fmt: skip


def test_apply_curves_and_video_curves_apply_a_strong_file_alike(tmp_path):
    av = pytest.importorskip("av", reason="PyAV (the [video] extra) is not installed")
    from test_video import make_clip

    curve = Curves(np.linspace(2.0, 0.2, 64)[None, None].repeat(3, axis=1))
    (tmp_path / "c.json").write_text(curve.with_strength(3 * 0.61).to_json(0.61))
    # an odd size: 4:4:4 frames, encoded losslessly (FFV1), so only the RGB <-> YUV
    # rounding lies between the two commands' pixels
    masks = make_clip(tmp_path / "in.mp4", frames=3, size=(161, 121), audio=False)
    Image.fromarray(masks[0]).save(tmp_path / "m.png")
    code, _, err = run_cli(
        "harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png", "-o", tmp_path / "v.mkv",
        "--curves", tmp_path / "c.json", "--strength", 0.5, "--codec", "ffv1",
        "--save-curves", tmp_path / "lines.jsonl",
    )  # fmt: skip
    assert code == 0, err
    lines = [json.loads(x) for x in (tmp_path / "lines.jsonl").read_text().splitlines()]
    assert [x["strength"] for x in lines] == [pytest.approx(0.5 * 0.61)] * 3
    Image.fromarray(_rgb_frames(tmp_path / "in.mp4", av)[0]).save(tmp_path / "f0.png")
    code, _, err = run_cli(
        "apply-curves", tmp_path / "f0.png", tmp_path / "m.png", tmp_path / "c.json",
        "--strength", 0.5, "-o", tmp_path / "still.png",
    )  # fmt: skip
    assert code == 0, err
    still = np.asarray(Image.open(tmp_path / "still.png")).astype(int)
    frame = _rgb_frames(tmp_path / "v.mkv", av)[0].astype(int)
    inside = masks[0] > 0
    moved = np.abs(still - np.asarray(Image.open(tmp_path / "f0.png")).astype(int))
    assert moved[inside].mean() > 10  # the strong curve changes the object a lot
    diff = np.abs(still - frame)
    assert diff.max() <= 2 and (diff > 1).mean() < 0.001, (diff.max(), (diff > 1).mean())
    np.testing.assert_allclose(still[inside].mean(0), frame[inside].mean(0), atol=0.5)


def test_video_curves_without_strength_keep_the_files_own(tmp_path):
    pytest.importorskip("av", reason="PyAV (the [video] extra) is not installed")
    from test_video import make_clip

    curve = Curves(np.linspace(2.0, 0.2, 64)[None, None].repeat(3, axis=1))
    (tmp_path / "c.json").write_text(curve.with_strength(1.83).to_json(0.61))
    masks = make_clip(tmp_path / "in.mp4", frames=2, audio=False)
    Image.fromarray(masks[0]).save(tmp_path / "m.png")
    code, _, err = run_cli(
        "harmonize-video", tmp_path / "in.mp4", tmp_path / "m.png", "-o", tmp_path / "v.mp4",
        "--curves", tmp_path / "c.json", "--save-curves", tmp_path / "lines.jsonl",
    )  # fmt: skip
    assert code == 0, err
    lines = [json.loads(x) for x in (tmp_path / "lines.jsonl").read_text().splitlines()]
    assert [x["strength"] for x in lines] == [pytest.approx(1.83)] * 2
    assert [x["strength_requested"] for x in lines] == [pytest.approx(3.0)] * 2


def test_every_command_takes_its_model_through_a_session(files, weights_file, monkeypatch):
    import s2crnet.session

    built = []
    real = s2crnet.session.Harmonizer.load

    def spy(self):
        built.append(self)
        return real(self)

    monkeypatch.setattr(s2crnet.session.Harmonizer, "load", spy)
    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
        "--weights", weights_file,
    )  # fmt: skip
    assert code == 0, err
    assert len(built) == 1 and built[0].name == str(weights_file)


def test_a_bad_backend_pairing_is_one_line(files, weights_file):
    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
        "--onnx", weights_file,
    )  # fmt: skip
    assert_user_error(code, err, str(weights_file), "not on backend onnxruntime")


def test_curve_files_name_the_model_as_the_user_gave_it(files, weights_file):
    assert Harmonizer().name == "default"  # not the path of the ONNX file it runs
    assert Harmonizer(weights_file).name == str(weights_file)
    code, _, err = run_cli("harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
                           "--save-curves", files / "c.json")  # fmt: skip
    assert code == 0, err
    assert json.loads((files / "c.json").read_text())["model"] == "default"


def test_streaming_runs_pytorch_on_one_thread_with_a_frozen_backbone(monotone_model):
    import torch

    session = Harmonizer(monotone_model)
    threads = torch.get_num_threads()
    x = torch.zeros(1)
    with session.streaming(predictions=200), torch.inference_mode():
        assert torch.get_num_threads() == 1
        assert monotone_model._backbone_for(x) is not monotone_model.backbone  # frozen
    assert torch.get_num_threads() == threads
    with torch.inference_mode():
        assert monotone_model._backbone_for(x) is monotone_model.backbone
