"""``s2crnet evaluate --published``: published per-image scores beside ours."""

from __future__ import annotations

import json

import pytest

from _helpers import assert_user_error, make_iharmony4_tree, run_cli, shared_path
from s2crnet.evaluation import evaluate
from s2crnet.published import compare, format_comparison, read_published


def _write(path, rows, header="Name,MSE,PSNR"):
    path.write_text(header + "\n" + "".join(f"{name},{mse},30\n" for name, mse in rows))


def _published(folder, inputs, shift=None):
    """Made-up published files for the tiny tree's test images: the composites' own MSE
    (``inputs``, one of them moved by ``shift`` if given) and two systems."""
    folder.mkdir()
    names = sorted(inputs)
    composite = [(n, inputs[n] + (shift if shift and n == names[0] else 0)) for n in names]
    _write(folder / "evaluation_composite.csv", composite)
    _write(folder / "evaluation_DCCF.csv", [(n, 10.0 + i) for i, n in enumerate(names)])
    # Harmonizer's file names its images with the suffix
    _write(folder / "evaluation_harmonizer.csv", [(f"{n}.jpg", 4.0) for n in names])
    return folder


def _input_mse(root):
    results = evaluate(root, "identity", protocol="full", progress=False, ssim=False)
    return {row["name"].rsplit(".", 1)[0]: row["input_mse"] for row in results["images"]}


def test_evaluate_records_the_input_mse_of_every_image(tmp_path, model):
    root = make_iharmony4_tree(tmp_path)
    identity = evaluate(root, "identity", protocol="full", progress=False, ssim=False)
    rows = identity["images"]
    assert [r["name"] for r in rows] == ["a0003_1_4.png", "f0003_1_4.png"]
    assert all(r["input_mse"] == r["mse"] > 0 for r in rows)  # the identity is its input
    harmonized = evaluate(root, "model", model, protocol="full", progress=False, ssim=False)
    assert [r["input_mse"] for r in harmonized["images"]] == [r["mse"] for r in rows]
    assert [r["mse"] for r in harmonized["images"]] != [r["mse"] for r in rows]


def test_cli_puts_our_mse_beside_each_system_and_leaves_out_a_protocol_mismatch(
    tmp_path, weights_file
):
    root = make_iharmony4_tree(tmp_path / "data")
    inputs = _input_mse(root)
    assert len(inputs) == 2
    # within 1%: compared; 5% off: named and left out
    same = _published(tmp_path / "same", {k: v * 1.005 for k, v in inputs.items()})
    out = tmp_path / "r.json"
    args = ("evaluate", "--data", root, "--weights", weights_file, "--protocol", "full")
    code, stdout, err = run_cli(*args, "--no-ssim", "--published", same, "--json", out)
    assert code == 0, err
    data = json.loads(out.read_text())["published"]
    ours = {r["name"]: r["mse"] for r in json.loads(out.read_text())["images"]}
    assert data["compared"] == 2 and data["differ"] == [] and data["missing"] == []
    assert data["systems"] == ["DCCF", "Harmonizer"]
    assert data["means"]["DCCF"] == pytest.approx(10.5)
    assert data["means"]["Harmonizer"] == pytest.approx(4.0)
    assert data["means"]["ours"] == pytest.approx(sum(ours.values()) / 2)
    assert data["means"]["input"] == pytest.approx(sum(inputs.values()) / 2)
    assert data["ratios"]["Harmonizer"] == pytest.approx(data["means"]["ours"] / 4.0)
    assert "2 images compared" in stdout and "Harmonizer" in stdout
    mean_line = next(line for line in stdout.splitlines() if line.startswith("mean "))
    assert mean_line.split()[-2:] == ["10.50", "4.00"]

    moved = _published(tmp_path / "moved", inputs, shift=0.05 * min(inputs.values()) + 1)
    code, stdout, err = run_cli(*args, "--no-ssim", "--published", moved, "--json", out)
    assert code == 0, err
    data = json.loads(out.read_text())["published"]
    assert data["compared"] == 1 and [d["name"] for d in data["differ"]] == ["a0003_1_4.png"]
    assert [r["name"] for r in data["images"]] == ["f0003_1_4.png"]
    assert data["means"]["DCCF"] == pytest.approx(11.0)  # only the compared image
    assert "not compared: 1 images" in stdout and "a0003_1_4.png: ours" in stdout


def test_the_256_protocol_matches_nothing_and_says_why(tmp_path):
    root = make_iharmony4_tree(tmp_path / "data", size=300)  # resized to 256: other MSEs
    published = _published(tmp_path / "pub", _input_mse(root))
    code, stdout, err = run_cli(
        "evaluate", "--data", root, "--method", "identity", "--no-ssim", "--published", published
    )
    assert code == 0, err
    assert "0 images compared" in stdout and "--protocol full" in stdout


def test_compare_ignores_a_system_mean_over_fewer_images():
    ours = [
        {"name": "a.jpg", "subset": "S", "input_mse": 10.0, "mse": 5.0},
        {"name": "b.jpg", "subset": "S", "input_mse": 20.0, "mse": 6.0},
        {"name": "c.jpg", "subset": "S", "input_mse": 30.0, "mse": 7.0},
    ]
    theirs = {"composite": {"a": 10.0, "b": 20.0}, "X": {"a": 1.0}}
    result = compare(ours, theirs)
    assert result.missing == ["c.jpg"] and len(result.rows) == 2
    assert "X" not in result.means and result.means["ours"] == 5.5
    assert "X" in result.rows[0] and "X" not in result.rows[1]
    assert "not in the published files: 1 images (c.jpg)" in format_comparison(result)


def test_bad_published_folders_are_one_line_before_the_model_loads(tmp_path, weights_file):
    root = make_iharmony4_tree(tmp_path / "data")
    empty = tmp_path / "empty"
    empty.mkdir()
    columns = tmp_path / "columns"
    columns.mkdir()
    _write(columns / "evaluation_composite.csv", [("a", 1)], header="Image,Score,PSNR")
    value = tmp_path / "value"
    value.mkdir()
    _write(value / "evaluation_composite.csv", [("a", 1), ("b", "nan?")])
    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "evaluation_composite.csv").write_bytes(b"\xff\xfe\x00\x81" * 10)
    unreadable = tmp_path / "unreadable"
    (unreadable / "evaluation_composite.csv").mkdir(parents=True)  # a folder, not a file
    cases = (
        (tmp_path / "absent", "absent: no such folder"),
        (unreadable, "evaluation_composite.csv: cannot be read"),
        (empty, "no evaluation_composite.csv"),
        (columns, "evaluation_composite.csv: expected the columns Name and MSE"),
        (value, "evaluation_composite.csv: line 3: MSE 'nan?' is not a number"),
        (binary, "evaluation_composite.csv: not a text CSV file"),
    )
    for folder, message in cases:
        code, _, err = run_cli(
            "evaluate", "--data", root, "--weights", weights_file, "--published", folder
        )
        assert_user_error(code, err, message)
        assert "loading the model" not in err
    code, _, err = run_cli("evaluate", "--data", root, "--weights", weights_file,
                           "--harmonious", "--published", empty)  # fmt: skip
    assert_user_error(code, err, "leave out --harmonious")


def test_read_published_names_the_known_systems():
    systems = read_published(shared_path("data", "published-scores"))
    assert set(systems) == {"composite", "Harmonizer", "DCCF", "PCT-Net (CNN)", "PCT-Net (ViT)"}
    assert all(len(scores) >= 7404 for scores in systems.values())
    assert "c108140_1698416_1" in systems["Harmonizer"]  # its file writes .jpg


@pytest.mark.slow
def test_dev_set_input_mse_equals_the_published_composite_mse():
    """The full-resolution protocol is PCT-Net's: 35 of the 36 dev images match within 1%."""
    root = shared_path("data", "iharmony4-dev")
    published = read_published(shared_path("data", "published-scores"))
    results = evaluate(root, "identity", protocol="full", progress=False, ssim=False)
    comparison = compare(results["images"], published)
    assert len(comparison.rows) == 35 and comparison.differ == []
    assert comparison.missing == ["f55_1_1.jpg"]
    assert comparison.means["input"] == pytest.approx(553.4, abs=0.1)
    assert comparison.means["Harmonizer"] == pytest.approx(82.5, abs=0.1)
