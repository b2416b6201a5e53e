"""``s2crnet evaluate``: protocols, aggregation, JSON, baselines, and the dev set figures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from _helpers import (
    assert_user_error,
    make_composite,
    make_iharmony4_tree,
    make_mask,
    run_cli,
    shared_path,
)
from s2crnet.colour import reinhard
from s2crnet.evaluation import evaluate, format_table
from s2crnet.metrics import image_metrics


def test_identity_at_full_resolution_matches_hand_metrics(tmp_path):
    root = make_iharmony4_tree(tmp_path)
    results = evaluate(root, "identity", protocol="full", split="train", progress=False)
    rows = []
    for subset, prefix in (("HAdobe5k", "a"), ("HFlickr", "f")):
        for i in range(3):
            folder = root / subset
            comp = np.asarray(
                Image.open(folder / "composite_images" / f"{prefix}{i:04d}_1_{i + 1}.png")
            )
            real = np.asarray(Image.open(folder / "real_images" / f"{prefix}{i:04d}.png"))
            mask = np.asarray(Image.open(folder / "masks" / f"{prefix}{i:04d}_1.png")) > 127
            rows.append(image_metrics(comp, real, mask))
    assert results["subsets"]["All"]["count"] == 6
    assert results["subsets"]["HAdobe5k"]["count"] == 3
    for key in ("mse", "fmse", "psnr", "psnr_gtmax", "fpsnr", "ssim"):
        assert results["subsets"]["All"][key] == pytest.approx(np.mean([r[key] for r in rows]))
    assert sum(b["count"] for b in results["buckets"].values()) == 6
    table = format_table(results).splitlines()
    all_row = next(line.split() for line in table if line.startswith("All "))
    assert all_row[1] == "6" and float(all_row[2]) == pytest.approx(
        results["subsets"]["All"]["mse"], abs=0.006
    )


def test_256_protocol_and_model_method(tmp_path, model):
    root = make_iharmony4_tree(tmp_path)
    identity = evaluate(root, "identity", protocol="256", split="test", progress=False)
    assert identity["subsets"]["All"]["count"] == 2
    result = evaluate(
        root,
        "model",
        model,
        protocol="256",
        split="test",
        progress=False,
        save_images=tmp_path / "saved",
    )
    assert set(result["subsets"]) == {"HAdobe5k", "HFlickr", "All"}
    saved = sorted(p.name for p in (tmp_path / "saved").rglob("*.png"))
    assert saved == ["a0003_1_4.png", "f0003_1_4.png"]
    assert Image.open(tmp_path / "saved" / "HFlickr" / "f0003_1_4.png").size == (256, 256)
    with pytest.raises(ValueError, match="needs a model"):
        evaluate(root, "model", None, progress=False)
    zero = evaluate(root, "model", model, protocol="256", progress=False, strength=0.0)
    for key in ("mse", "fmse"):  # strength 0 is the identity
        assert zero["subsets"]["All"][key] == pytest.approx(identity["subsets"]["All"][key])


def test_reinhard_moves_foreground_statistics_only():
    comp, mask = make_composite(), make_mask()
    comp[mask > 0] = comp[mask > 0] // 3  # a dark object
    out = reinhard(comp, mask)
    np.testing.assert_array_equal(out[mask == 0], comp[mask == 0])
    assert abs(out[mask > 0].mean() - comp[mask == 0].mean()) < abs(
        comp[mask > 0].mean() - comp[mask == 0].mean()
    )


def evaluate_to_json(root, out, *args):
    """``s2crnet evaluate --data ROOT ARGS --json OUT``: the exit code and the JSON."""
    code, stdout, err = run_cli("evaluate", "--data", root, *args, "--json", out)
    assert code == 0, err
    return json.loads(out.read_text()), stdout


def test_cli_evaluate_writes_json_and_reports_errors(tmp_path, weights_file):
    root = make_iharmony4_tree(tmp_path / "data")
    data, stdout = evaluate_to_json(
        root, tmp_path / "r.json", "--method", "reinhard", "--protocol", "full"
    )
    assert data["method"] == "reinhard" and data["protocol"] == "full"
    expected = {"count", "mse", "fmse", "psnr", "psnr_gtmax", "fpsnr", "ssim"}
    assert set(data["subsets"]["All"]) >= expected
    assert "buckets" in data and "All" in stdout
    fast, _ = evaluate_to_json(root, tmp_path / "fast.json", "--method", "identity", "--no-ssim")
    assert "ssim" not in fast["subsets"]["All"]
    harmonious, _ = evaluate_to_json(
        root, tmp_path / "h.json", "--method", "identity", "--harmonious"
    )
    assert harmonious["input"] == "real" and harmonious["subsets"]["All"]["mse"] == 0
    model, _ = evaluate_to_json(
        root, tmp_path / "m.json", "--weights", str(weights_file), "--subsets", "HFlickr"
    )
    assert set(model["subsets"]) == {"HFlickr", "All"}
    for args, message in (
        (["--data", str(tmp_path / "absent"), "--method", "identity"], "no such iHarmony4"),
        (["--data", str(root), "--method", "identity", "--subsets", "HCOCO"], "HCOCO"),
        (["--data", str(root), "--method", "identity", "--strength", "0.5"], "only for"),
    ):
        code, _, err = run_cli("evaluate", *args)
        assert_user_error(code, err, message)


def test_lpips_with_local_alexnet_weights(tmp_path):
    weights = shared_path("weights", "alexnet-features-imagenet.safetensors")
    pytest.importorskip("lpips")
    root = make_iharmony4_tree(tmp_path)
    from s2crnet.metrics import LPIPS

    results = evaluate(
        root, "identity", protocol="256", split="test", progress=False, lpips=LPIPS(weights)
    )
    assert 0 < results["subsets"]["All"]["lpips"] < 1


def test_dev_set_identity_figures():
    root = shared_path("data", "iharmony4-dev")
    results = evaluate(root, "identity", protocol="256", progress=False)
    assert results["subsets"]["All"]["count"] == 36
    assert results["subsets"]["All"]["mse"] == pytest.approx(523.7, abs=1.0)


def test_cli_evaluate_refuses_a_bad_label_list_before_loading_a_model(tmp_path, weights_file):
    root = make_iharmony4_tree(tmp_path / "data")
    missing = tmp_path / "missing.txt"
    code, _, err = run_cli("evaluate", "--data", root, "--weights", weights_file,
                           "--labels", missing)  # fmt: skip
    assert_user_error(code, err, f"{missing}: no such file or folder")
    assert "loading the model" not in err
    (tmp_path / "l.txt").write_text("a.jpg spaceship\n")
    code, _, err = run_cli("evaluate", "--data", root, "--labels", tmp_path / "l.txt")
    assert_user_error(code, err, "l.txt:1: unknown label 'spaceship'")
    assert "loading the model" not in err
