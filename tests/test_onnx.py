"""ONNX export, the ONNX Runtime backend, and harmonizing with PyTorch made unimportable."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from _helpers import assert_user_error, make_composite, make_mask, run_cli
from s2crnet import S2CRNet, S2CRNetConfig, WeightsError, harmonize

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from s2crnet.export.onnx import export_onnx, sample_inputs, verify_onnx
from s2crnet.runtime import OnnxModel


@pytest.fixture(scope="module")
def exported(tmp_path_factory, model):
    from s2crnet.export.onnx import export_labeler_onnx
    from s2crnet.loading import default_labeler
    from s2crnet.runtime import labeler_path

    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(model, path)
    export_labeler_onnx(default_labeler(), labeler_path(path))  # for label="auto"
    return path


def test_export_checks_and_matches_pytorch_on_random_and_real_inputs(exported, model):
    real = sample_inputs(model.config.thumbnail)
    assert len(real) == 3
    assert verify_onnx(model, exported, real) <= 1e-4


def test_runtime_reads_the_config_and_takes_any_batch(exported, model):
    runtime = OnnxModel(exported)
    assert runtime.config == model.config
    names = [i.name for i in runtime.session.get_inputs()]
    assert names == ["foreground", "background", "label"]
    fg = np.random.default_rng(0).random((5, 3, 256, 256), np.float32)
    out = runtime.session.run(
        ["curves"], {"foreground": fg, "background": fg, "label": np.arange(5, dtype=np.int64)}
    )[0]
    assert out.shape == (5, 2, 3, 64) and out.dtype == np.float32


def test_plain_model_has_no_label_input(tmp_path):
    torch.manual_seed(0)
    model = S2CRNet(S2CRNetConfig(semantic=False, stages=1, pieces=16, activation="softplus"))
    path = export_onnx(model, tmp_path / "plain.onnx")
    assert [i.name for i in OnnxModel(path).session.get_inputs()] == ["foreground", "background"]
    assert verify_onnx(model, path) <= 1e-4


def test_hidden_head_exports_and_matches(tmp_path):
    torch.manual_seed(0)
    config = S2CRNetConfig(
        semantic=False, stages=1, pieces=16, activation="softplus", head_hidden=8
    )
    model = S2CRNet(config).eval()
    torch.nn.init.normal_(model.heads[0].fc_h.weight, std=0.1)  # the extra path in use
    path = export_onnx(model, tmp_path / "hidden.onnx")
    assert OnnxModel(path).config == config
    assert verify_onnx(model, path) <= 1e-4


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_onnx_backend_matches_torch_backend(exported, model, dtype):
    comp, mask = make_composite(), make_mask()
    if dtype == np.uint16:
        comp = comp.astype(np.uint16) * 257
    elif dtype == np.float32:
        comp = comp.astype(np.float32) / 255
    a = harmonize(comp, mask, model=model, label="food").image.astype(np.float64)
    b = harmonize(comp, mask, model=OnnxModel(exported), label="food").image.astype(np.float64)
    scale = {np.uint8: 1, np.uint16: 257, np.float32: 1 / 255}[dtype]
    assert np.abs(a - b).max() / scale <= 1.0


def test_harmonize_accepts_an_onnx_path(exported, model):
    comp, mask = make_composite(), make_mask()
    np.testing.assert_array_equal(
        harmonize(comp, mask, model=exported).image, harmonize(comp, mask, model=model).image
    )


def test_runtime_errors(tmp_path, weights_file):
    with pytest.raises(FileNotFoundError):
        OnnxModel(tmp_path / "absent.onnx")
    with pytest.raises(WeightsError, match="not a loadable ONNX"):
        OnnxModel(weights_file)
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    onnx.save(helper.make_model(graph), str(tmp_path / "other.onnx"))
    with pytest.raises(WeightsError, match="not an s2crnet export"):
        OnnxModel(tmp_path / "other.onnx")


def test_cli_export_and_onnxruntime_backend(tmp_path, weights_file):
    onnx_path = tmp_path / "m.onnx"
    code, _, err = run_cli("export-onnx", "--weights", weights_file, "-o", onnx_path)
    assert code == 0, err
    assert "ONNX Runtime matches PyTorch" in err
    Image.fromarray(make_composite()).save(tmp_path / "c.png")
    Image.fromarray(make_mask()).save(tmp_path / "m.png")
    for args, out in (
        ([f"--onnx={onnx_path}"], "a.png"),
        (["--weights", str(weights_file)], "b.png"),
    ):
        code, _, err = run_cli(
            "harmonize", tmp_path / "c.png", tmp_path / "m.png", "-o", tmp_path / out, *args
        )
        assert code == 0, err
    a = np.asarray(Image.open(tmp_path / "a.png")).astype(int)
    b = np.asarray(Image.open(tmp_path / "b.png")).astype(int)
    assert np.abs(a - b).max() <= 1
    for args, message in (
        (["export-onnx", "--weights", str(weights_file), "-o", str(tmp_path / "x.pb")], ".onnx"),
        (
            ["export-onnx", "--weights", str(tmp_path / "no.safetensors"), "-o", str(onnx_path)],
            "no such",
        ),
        (
            [
                "harmonize",
                str(tmp_path / "c.png"),
                str(tmp_path / "m.png"),
                "-o",
                str(tmp_path / "d.png"),
                "--backend",
                "torch",
                "--onnx",
                str(onnx_path),
            ],
            "not torch",
        ),
    ):
        code, _, err = run_cli(*args)
        assert_user_error(code, err, message)


def test_onnx_path_runs_with_torch_unimportable(tmp_path, exported):
    Image.fromarray(make_composite()).save(tmp_path / "c.jpg")
    Image.fromarray(make_mask()).save(tmp_path / "m.png")
    script = (
        "import sys\n"
        "sys.modules['torch'] = None  # any 'import torch' now fails\n"
        "from s2crnet.cli import main\n"
        f"main(['harmonize', {str(tmp_path / 'c.jpg')!r}, {str(tmp_path / 'm.png')!r}, '-o',"
        f" {str(tmp_path / 'o.png')!r}, '--onnx', {str(exported)!r}])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o.png").is_file()
    script = (
        "import sys\nsys.modules['torch'] = None\nimport numpy as np\n"
        "from s2crnet import harmonize\nfrom s2crnet.runtime import OnnxModel\n"
        "img = np.full((64, 80, 3), 120, np.uint8)\nm = np.zeros((64, 80), bool)\n"
        "m[10:40, 10:50] = True\n"
        f"r = harmonize(img, m, model=OnnxModel({str(exported)!r}))\n"
        "assert r.image.shape == img.shape\n"
        "assert not [k for k, v in sys.modules.items() if v and k.split('.')[0] == 'torch']\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
