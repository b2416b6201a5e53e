"""Which model runs, and on what: the shipped default, a weights file (ours, the authors'
checkpoint, or ONNX), or a model object; and the same for the class guesser (the labeler).

:func:`choose_backend` picks ONNX Runtime or PyTorch (``auto``: ONNX Runtime wherever the
model exists as ONNX and PyTorch is not asked for); :func:`load_model` builds an
:class:`S2CRNet` from a weights file; :func:`resolve_model` and :func:`resolve_labeler`
turn whatever a user passed into something that predicts. Heavy modules (PyTorch, ONNX
Runtime) are imported only when the chosen path needs them: the shipped models exist as
ONNX, so the light install (no PyTorch) harmonizes.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .config import LabelerConfig, S2CRNetConfig
from .errors import InputError, NoDefaultModelError, WeightsError

if TYPE_CHECKING:
    import torch

    from .model import S2CRNet

__all__ = [
    "BACKENDS",
    "DEFAULT_LABELER",
    "DEFAULT_LABELER_ONNX",
    "DEFAULT_ONNX",
    "DEFAULT_WEIGHTS",
    "CurvePredictor",
    "LabelPredictor",
    "choose_backend",
    "default_labeler",
    "default_model",
    "load_model",
    "resolve_labeler",
    "resolve_model",
    "save_model",
]

PathLike = str | os.PathLike

#: The shipped models, inside the package (see docs/model-card.md), for PyTorch and, the
#: same weights exported by ``s2crnet export-onnx``, for ONNX Runtime.
ASSETS = Path(__file__).parent / "assets"
DEFAULT_WEIGHTS = ASSETS / "s2crnet-default.safetensors"
DEFAULT_LABELER = ASSETS / "s2crnet-labeler.safetensors"
DEFAULT_ONNX = ASSETS / "s2crnet-default.onnx"
DEFAULT_LABELER_ONNX = ASSETS / "s2crnet-labeler.onnx"
#: Where a model runs: chosen (``auto``), PyTorch, or ONNX Runtime (no PyTorch).
BACKENDS = ("auto", "torch", "onnxruntime")


class CurvePredictor(Protocol):
    """What harmonizing needs of a model: an :class:`S2CRNet` or an
    :class:`s2crnet.runtime.OnnxModel`."""

    config: S2CRNetConfig

    def curves_from_thumbnails(
        self, foreground: np.ndarray, background: np.ndarray, label: int | None
    ) -> np.ndarray: ...


class LabelPredictor(Protocol):
    """What guessing the class needs: a :class:`s2crnet.labeler.Labeler` or an
    :class:`s2crnet.runtime.OnnxLabeler`."""

    config: LabelerConfig

    def probabilities(self, view: np.ndarray) -> np.ndarray: ...


def _is_onnx(weights: Any) -> bool:
    return isinstance(weights, str | os.PathLike) and Path(weights).suffix.lower() == ".onnx"


def choose_backend(
    weights: Any = None, backend: str | None = "auto", device: str | None = None
) -> str:
    """``torch`` or ``onnxruntime`` for ``weights`` (a file, a loaded model or None for the
    shipped one). ``auto`` runs ONNX Runtime where the model exists as ONNX (a given
    ``.onnx``, the shipped model) and PyTorch is not asked for (``device="cuda"``),
    PyTorch otherwise. A choice that contradicts the weights is an :class:`InputError`.

    >>> choose_backend("model.onnx"), choose_backend("model.safetensors")
    ('onnxruntime', 'torch')
    """
    backend = backend or "auto"
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if weights is not None and not isinstance(weights, str | os.PathLike):
        return "onnxruntime" if hasattr(weights, "session") else "torch"  # a loaded model
    onnx = _is_onnx(weights)
    if weights is not None and backend != "auto" and onnx != (backend == "onnxruntime"):
        kind = "an ONNX model runs on onnxruntime" if onnx else "weights run on torch"
        raise InputError(f"{weights}: {kind}, not on backend {backend}")
    if backend != "auto":
        return backend
    if weights is None:
        return "torch" if device == "cuda" or not DEFAULT_ONNX.is_file() else "onnxruntime"
    return "onnxruntime" if onnx else "torch"


def require_torch(feature: str) -> None:
    """:class:`MissingDependencyError` naming the ``[torch]`` extra when PyTorch is absent."""
    from .errors import require

    require("torch", feature, extra="torch")


def load_model(
    path: PathLike | None = None, device: str | torch.device = "cpu", semantic: bool | None = None
) -> S2CRNet:
    """Load an S2CRNet from our safetensors format or the authors' released checkpoint.

    Args:
        path: weights file; the format is told from its content. None: the model shipped
            with the package (a fresh copy; :func:`default_model` shares one).
        device: where to put the model.
        semantic: for released checkpoints only, force the variant (see
            :func:`s2crnet.weights.convert_released_state_dict`).

    Returns:
        the model in eval mode.

    Raises:
        FileNotFoundError: no such file.
        WeightsError: not a weights file, keys/shapes that do not match (named), or
            weights that are not finite.
    """
    require_torch(f"{path or 'the shipped model'}: running PyTorch weights")
    from .model import S2CRNet

    if path is None:
        path = _shipped_weights()
    return S2CRNet.from_pretrained(Path(path), device, semantic)


def _shipped_weights() -> Path:
    """The shipped model's file, or :class:`NoDefaultModelError` (never random weights)."""
    if not DEFAULT_WEIGHTS.is_file():
        raise NoDefaultModelError(
            f"no trained default model in this installation ({DEFAULT_WEIGHTS} is missing); "
            "give weights explicitly (CLI: --weights PATH; Python: model=PATH)"
        )
    return DEFAULT_WEIGHTS


def save_model(model: S2CRNet, path: PathLike) -> None:
    """Write ``model`` as safetensors with its config in the metadata, atomically."""
    model.save(path)


def default_model(device: str = "cpu") -> CurvePredictor:
    """The trained model shipped with the package, loaded once per device.

    Raises:
        NoDefaultModelError: the package holds no trained model (never random weights).
    """
    _shipped_weights()
    return _load_shipped("model", str(device))


def default_labeler(device: str = "cpu") -> LabelPredictor:
    """The object-class guesser shipped with the package, loaded once per device.

    Raises:
        WeightsError: the package holds no labeler.
    """
    if not DEFAULT_LABELER.is_file():
        raise WeightsError(
            f"no labeler in this installation ({DEFAULT_LABELER} is missing); "
            "give the object's class (label=...) or a labeler"
        )
    return _load_shipped("labeler", str(device))


@functools.cache
def _load_shipped(which: str, device: str) -> Any:
    """A shipped model, loaded once per device (the paths are read when called, so that
    tests may point them elsewhere)."""
    if which == "model":
        return load_model(DEFAULT_WEIGHTS, device=device)
    if which == "onnx":
        from .runtime import OnnxModel

        return OnnxModel(DEFAULT_ONNX)
    if which == "labeler-onnx":
        from .runtime import OnnxLabeler

        return OnnxLabeler(DEFAULT_LABELER_ONNX)
    require_torch("the class guesser on PyTorch")
    from .labeler import load_labeler

    return load_labeler(DEFAULT_LABELER, device)


def resolve_model(
    model: Any,
    device: str | None = None,
    providers: list[str] | None = None,
    backend: str | None = "auto",
) -> CurvePredictor:
    """A model object, a weights path (``.onnx`` runs on ONNX Runtime with ``providers``,
    anything else is loaded with :func:`load_model`), or None for the shipped model (as
    ONNX or for PyTorch: :func:`choose_backend`)."""
    if model is None:
        if choose_backend(None, backend, device) == "onnxruntime":
            _shipped_weights()
            return _load_shipped("onnx", "cpu")
        return default_model(device or "cpu")
    if isinstance(model, str | os.PathLike):
        if _is_onnx(model):
            from .runtime import OnnxModel

            return OnnxModel(model, providers=providers)
        return load_model(Path(model), device=device or "cpu")
    if device is not None and hasattr(model, "to"):
        model = model.to(device)
    return model


def resolve_labeler(labeler: Any = None, model: Any = None) -> LabelPredictor:
    """A labeler object, a file (``.onnx`` runs on ONNX Runtime, anything else is loaded
    with :func:`s2crnet.labeler.load_labeler`), or None: the one exported beside an ONNX
    ``model`` (``NAME.labeler.onnx``), else the one shipped with the package (as ONNX
    beside an ONNX model or without PyTorch)."""
    if labeler is None:
        if getattr(model, "labeler", None) is not None:
            return model.labeler
        onnx = hasattr(model, "session") or not _torch_installed()
        if onnx and DEFAULT_LABELER_ONNX.is_file():
            return _load_shipped("labeler-onnx", "cpu")
        return default_labeler()
    if isinstance(labeler, str | os.PathLike):
        if Path(labeler).suffix.lower() == ".onnx":
            from .runtime import OnnxLabeler

            return OnnxLabeler(labeler)
        require_torch(f"{labeler}: a class guesser's PyTorch weights")
        from .labeler import load_labeler

        return load_labeler(labeler)
    return labeler


def _torch_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None
