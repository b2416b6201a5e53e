"""Shared fixtures: random-weight models and their saved weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from s2crnet import S2CRNet, S2CRNetConfig


@pytest.fixture(scope="session")
def model() -> S2CRNet:
    """The released architecture with random weights (deterministic)."""
    torch.manual_seed(0)
    return S2CRNet(S2CRNetConfig()).eval()


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory, model) -> Path:
    path = tmp_path_factory.mktemp("weights") / "model.safetensors"
    model.save(path)
    return path
