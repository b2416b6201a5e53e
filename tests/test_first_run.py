"""A new user's first run: what the commands say, the shipped model everywhere, big and
deep images, and what the package needs installed."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
import warnings
from importlib.metadata import packages_distributions
from pathlib import Path

import numpy as np
import pytest
import tomllib
from PIL import Image

import s2crnet
from _helpers import assert_user_error, make_composite, run_cli
from s2crnet.images import read_image

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "s2crnet"


# --------------------------------------------------------------------------- install
def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    """Distributions named in pyproject.toml: core and every extra a user can ask for."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra, items in project["optional-dependencies"].items():
        if extra != "dev":
            requirements += items
    return {_canonical(re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0]) for r in requirements}


def _third_party_imports() -> dict[str, Path]:
    """Top-level modules the package imports (or asks for with ``require``) -> a file."""
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "require"
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [node.args[0].value]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "s2crnet":
                    found.setdefault(top, path)
    return found


def test_every_third_party_import_is_declared():
    distributions = packages_distributions()
    declared = _declared()
    missing = {}
    for module, path in _third_party_imports().items():
        names = {_canonical(d) for d in distributions.get(module, [module])}
        if not names & declared:
            missing[module] = str(path.relative_to(ROOT))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(s2crnet.__path__, "s2crnet.")]
    names.remove("s2crnet.__main__")  # runs the command
    assert len(names) > 30
    for name in names:
        importlib.import_module(name)


@pytest.mark.parametrize(
    "module, call",
    [
        ("matplotlib", lambda: __import__("s2crnet.visual").visual.curve_plot_png([])),
        ("lpips", lambda: __import__("s2crnet.metrics").metrics.LPIPS()),
        ("onnxruntime", lambda: __import__("s2crnet.runtime").runtime.OnnxModel("x.onnx")),
    ],
)
def test_a_missing_optional_package_says_what_to_install(module, call, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # makes "import module" fail
    with pytest.raises((ImportError, ValueError), match=r"pip install"):
        call()


# --------------------------------------------------------------------------- messages
def test_harmonize_lists_every_file_it_wrote(files, weights_file):
    a, b = np.zeros((120, 160), np.uint8), np.zeros((120, 160), np.uint8)
    a[10:50, 10:60], b[70:110, 90:150] = 255, 255
    Image.fromarray(a).save(files / "a.png")
    Image.fromarray(b).save(files / "b.png")
    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "a.png", files / "b.png", "-o", files / "o.jpg",
        "--weights", weights_file, "--save-curves", files / "k.json",
        "--export-cube", files / "k.cube", "--plot-curves", files / "p.png",
        "--compare", files / "cmp.jpg",
    )  # fmt: skip
    assert code == 0, err
    assert err.splitlines()[0].startswith("s2crnet: loading the model")
    wrote = [line.split()[1] for line in err.splitlines() if line.startswith("wrote ")]
    expected = ["o.jpg", "k-1.json", "k-1.cube", "k-2.json", "k-2.cube", "p.png", "cmp.jpg"]
    assert wrote == [str(files / name) for name in expected]
    assert all((files / name).is_file() for name in expected)
    assert "(the curves of object 2," in err


def test_reference_mask_of_the_wrong_size_names_the_reference_photo(files, weights_file):
    Image.fromarray(make_composite(60, 80)).save(files / "ref.png")
    code, _, err = run_cli(
        "harmonize", files / "c.png", files / "m.png", "-o", files / "o.png",
        "--weights", weights_file, "--reference-image", files / "ref.png",
        "--reference-mask", files / "m.png",
    )  # fmt: skip
    assert_user_error(code, err, "but the reference photo", "ref.png")


def test_16_bit_to_jpeg_warns(files, weights_file):
    deep = (make_composite().astype(np.uint16) * 257)[..., ::-1]
    import cv2

    cv2.imwrite(str(files / "deep.png"), deep)
    with pytest.warns(UserWarning, match=r"o\.jpg: \.jpg stores 8 bits per channel"):
        code, _, err = run_cli(
            "harmonize", files / "deep.png", files / "m.png", "-o", files / "o.jpg",
            "--weights", weights_file,
        )  # fmt: skip
    assert code == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, _, err = run_cli(
            "harmonize", files / "deep.png", files / "m.png", "-o", files / "o.png",
            "--weights", weights_file,
        )  # fmt: skip
    assert code == 0, err


# --------------------------------------------------------------------------- large photos
def test_max_pixels_refuses_with_how_and_opens_on_purpose(files, weights_file):
    args = ["harmonize", files / "c.png", files / "m.png", "-o", files / "o.png"]
    code, _, err = run_cli(*args, "--weights", weights_file, "--max-pixels", 1000)
    line = assert_user_error(code, err, "c.png", "19,200 pixels", "--max-pixels 19200")
    assert "max_pixels=19200" in line
    code, _, err = run_cli(*args, "--weights", weights_file, "--max-pixels", 19200)
    assert code == 0, err
    with pytest.raises(s2crnet.InputError, match="max_pixels=19200"):
        s2crnet.harmonize(files / "c.png", files / "m.png", model=weights_file, max_pixels=100)


def test_pillows_own_limit_neither_warns_nor_refuses(files, monkeypatch):
    """A photo above Pillow's limit (e.g. 12000x8000) opens silently under ours."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)  # 160x120 is 3.8x above it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picture = read_image(files / "c.png")
    assert picture.shape == (120, 160)
    assert Image.MAX_IMAGE_PIXELS == 5000  # Pillow's setting is left as it was


# --------------------------------------------------------------------------- the shipped model
def test_evaluate_and_export_use_the_shipped_model(tmp_path, weights_file, monkeypatch):
    import torch

    import s2crnet.loading
    from _helpers import make_iharmony4_tree
    from s2crnet import S2CRNet, S2CRNetConfig, load_model
    from s2crnet.export.onnx import export_onnx

    exported = export_onnx(load_model(weights_file), tmp_path / "shipped.onnx")
    monkeypatch.setattr(s2crnet.loading, "DEFAULT_WEIGHTS", weights_file)
    monkeypatch.setattr(s2crnet.loading, "DEFAULT_ONNX", exported)  # its ONNX twin
    s2crnet.loading._load_shipped.cache_clear()
    root = make_iharmony4_tree(tmp_path / "data")
    results = {}
    other = tmp_path / "other.safetensors"
    torch.manual_seed(7)
    S2CRNet(S2CRNetConfig()).eval().save(other)  # another model: --weights must matter
    given = (
        ("default", []),  # ONNX Runtime: the shipped model exists as ONNX
        ("given onnx", ["--weights", exported]),
        ("default torch", ["--backend", "torch"]),
        ("given torch", ["--weights", weights_file]),
        ("other", ["--weights", other]),
    )
    for name, extra in given:
        code, out, err = run_cli("evaluate", "--data", root, "--no-ssim", *extra)
        assert code == 0, err
        results[name] = out
    assert results["default"] == results["given onnx"]
    assert results["default torch"] == results["given torch"]
    assert results["other"] != results["default torch"]  # an ignored --weights fails here
    code, out, _ = run_cli("evaluate", "--help")
    assert "default: the model shipped" in " ".join(out.split())
    code, out, _ = run_cli("export-onnx", "--help")
    assert "default: the model shipped" in " ".join(out.split())
    s2crnet.loading._load_shipped.cache_clear()


@pytest.mark.slow
def test_export_onnx_without_weights(tmp_path):
    code, _, err = run_cli("export-onnx", "-o", tmp_path / "m.onnx")
    assert code == 0, err
    assert "loading the model (shipped default)" in err and (tmp_path / "m.onnx").is_file()
