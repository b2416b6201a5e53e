"""The light install: the shipped models as ONNX (equal to a fresh export), the backend
choosing itself, and a new environment with ``pip install .`` alone (no PyTorch) that
harmonizes like the PyTorch path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from s2crnet import Harmonizer, InputError
from s2crnet.loading import (
    DEFAULT_LABELER_ONNX,
    DEFAULT_ONNX,
    choose_backend,
    default_labeler,
    default_model,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "composite.jpg", ROOT / "examples" / "mask.png"


def test_the_shipped_onnx_files_equal_a_fresh_export(tmp_path):
    pytest.importorskip("onnx")
    from s2crnet.export.onnx import export_labeler_onnx, export_onnx, sample_inputs
    from s2crnet.runtime import OnnxLabeler, OnnxModel

    fresh = OnnxModel(export_onnx(default_model(), tmp_path / "m.onnx"))
    shipped = OnnxModel(DEFAULT_ONNX)
    assert shipped.config == default_model().config
    for foreground, background, _ in sample_inputs(256):
        a = shipped.curves_from_thumbnails(foreground, background, None)
        b = fresh.curves_from_thumbnails(foreground, background, None)
        np.testing.assert_allclose(a, b, atol=1e-4)
    export_labeler_onnx(default_labeler(), tmp_path / "l.onnx")
    view = np.random.default_rng(0).random((1, 3, 128, 128), np.float32)
    np.testing.assert_allclose(
        OnnxLabeler(DEFAULT_LABELER_ONNX).probabilities(view),
        OnnxLabeler(tmp_path / "l.onnx").probabilities(view),
        atol=1e-5,
    )


def test_the_backend_chooses_itself(tmp_path):
    assert choose_backend(None) == "onnxruntime"  # the shipped model exists as ONNX
    assert choose_backend(None, device="cuda") == "torch"  # PyTorch asked for
    assert choose_backend(None, "torch") == "torch"
    assert choose_backend("m.onnx") == "onnxruntime"
    assert choose_backend("S2CRNet_pretrained.pth") == "torch"
    assert choose_backend(default_model()) == "torch"
    with pytest.raises(InputError, match="not on backend torch"):
        choose_backend("m.onnx", "torch")
    with pytest.raises(InputError, match="backend must be one of"):
        choose_backend(None, "tensorflow")
    assert Harmonizer().backend == "onnxruntime"
    assert type(Harmonizer().model).__name__ == "OnnxModel"


def test_both_backends_of_the_shipped_model_agree_within_one_level():
    light = Harmonizer().harmonize(*EXAMPLE).image.astype(int)
    full = Harmonizer(backend="torch").harmonize(*EXAMPLE).image.astype(int)
    assert np.abs(light - full).max() <= 1


def _light_environment(folder: Path) -> Path:
    """A new virtual environment with ``pip install ROOT`` and nothing else."""
    venv.EnvBuilder(with_pip=True).create(folder)
    python = folder / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"pip install . failed:\n{proc.stderr[-3000:]}")
    return python


def test_pip_install_alone_harmonizes_without_pytorch(tmp_path):
    python = _light_environment(tmp_path / "env")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*args], capture_output=True, text=True, env=env, check=False,
                              cwd=tmp_path)  # fmt: skip

    proc = run(str(python), "-c", "import torch")
    assert proc.returncode != 0 and "No module named 'torch'" in proc.stderr
    command = tmp_path / "env" / "bin" / "s2crnet"
    proc = run(str(command), "harmonize", *map(str, EXAMPLE), "-o", "cli.png")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    script = (
        "import sys, numpy as np, s2crnet\n"
        f"r = s2crnet.harmonize({str(EXAMPLE[0])!r}, {str(EXAMPLE[1])!r})\n"
        "np.save('api.npy', r.image)\n"
        "print(sorted({k.split('.')[0] for k in sys.modules} & {'torch', 'torchvision'}))\n"
    )
    proc = run(str(python), "-c", script)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().replace("'", '"')) == []
    # what needs PyTorch says so in one line naming the extra
    proc = run(str(command), "export-onnx", "-o", "x.onnx")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "pip install 's2crnet[torch]'" in proc.stderr
    full = Harmonizer(backend="torch").harmonize(*EXAMPLE).image.astype(int)
    for result in (np.asarray(Image.open(tmp_path / "cli.png")), np.load(tmp_path / "api.npy")):
        assert np.abs(result.astype(int) - full).max() <= 1
    assert sys.prefix != str(tmp_path / "env")  # the test's own environment is untouched
