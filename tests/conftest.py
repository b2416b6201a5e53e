"""The shared fixtures: random-weight models (released, monotone, semantic) and saved
weights, a composite and its mask in a folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from _helpers import make_composite, make_mask
from s2crnet import S2CRNet, S2CRNetConfig


@pytest.fixture(scope="session")
def model() -> S2CRNet:
    """The released architecture with random weights (deterministic)."""
    torch.manual_seed(0)
    return S2CRNet(S2CRNetConfig()).eval()


@pytest.fixture(scope="session")
def monotone_model() -> S2CRNet:
    """A model without classes whose curves are always monotone (softplus), random."""
    torch.manual_seed(1)
    return S2CRNet(S2CRNetConfig(activation="softplus", semantic=False)).eval()


@pytest.fixture(scope="session")
def semantic_model() -> S2CRNet:
    """The semantic (released) architecture with monotone curves (softplus), random."""
    torch.manual_seed(5)
    return S2CRNet(S2CRNetConfig(activation="softplus")).eval()


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory, model) -> Path:
    path = tmp_path_factory.mktemp("weights") / "model.safetensors"
    model.save(path)
    return path


@pytest.fixture
def files(tmp_path) -> Path:
    """A folder holding ``c.png`` (a 160x120 composite) and ``m.png`` (its mask)."""
    Image.fromarray(make_composite()).save(tmp_path / "c.png")
    Image.fromarray(make_mask()).save(tmp_path / "m.png")
    return tmp_path
