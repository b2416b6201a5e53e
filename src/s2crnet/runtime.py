"""Curve prediction on ONNX Runtime: harmonize with numpy, OpenCV, Pillow and onnxruntime
alone (no PyTorch anywhere on this path)::

    from s2crnet import harmonize
    from s2crnet.runtime import OnnxModel

    harmonize("c.jpg", "m.png", model=OnnxModel("model.onnx")).image

Make the ``.onnx`` file with ``s2crnet export-onnx`` (see :mod:`s2crnet.export.onnx`).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

from .config import LabelerConfig, S2CRNetConfig
from .errors import WeightsError
from .labels import LabelGuess, label_index

__all__ = ["CONFIG_KEY", "LABELER_KEY", "OnnxLabeler", "OnnxModel", "labeler_path"]

#: The ONNX metadata key that holds the model configuration (JSON).
CONFIG_KEY = "s2crnet_config"
#: The same for an exported labeler.
LABELER_KEY = "s2crnet_labeler_config"


def _session(path: Path, key: str, what: str, threads: int | None, providers: list[str] | None):
    """An ONNX Runtime session for ``path`` and the JSON config in its metadata ``key``."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise WeightsError("onnxruntime is not installed; pip install onnxruntime") from None
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such ONNX file")
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    # no busy-waiting between runs: a video's encoder needs those cycles
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(
            str(path), options, providers=providers or ["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise WeightsError(f"{path}: not a loadable ONNX model ({exc})") from None
    metadata = session.get_modelmeta().custom_metadata_map
    if key not in metadata:
        raise WeightsError(f"{path}: not an s2crnet export of a {what} (no {key} metadata)")
    return session, json.loads(metadata[key])


def labeler_path(model_path: str | os.PathLike) -> Path:
    """Where ``export-onnx`` puts the labeler of ``model.onnx``: ``model.labeler.onnx``."""
    path = Path(model_path)
    return path.with_name(f"{path.stem}.labeler.onnx")


class _Exported:
    """An ONNX Runtime session of one of our exports and the config in its metadata."""

    KEY: str
    WHAT: str
    CONFIG: type

    def __init__(
        self,
        path: str | os.PathLike,
        threads: int | None = None,
        providers: list[str] | None = None,
    ) -> None:
        self.path, self.threads, self.providers = Path(path), threads, providers
        self.session, values = _session(self.path, self.KEY, self.WHAT, threads, providers)
        self.config = self.CONFIG.from_dict(values)


class OnnxLabeler(_Exported):
    """An exported object-class guesser (:class:`s2crnet.labeler.Labeler`) on ONNX Runtime.

    Input ``view``: float32 ``(B, 3, V, V)`` (:func:`s2crnet.thumbnails.label_view`);
    output ``probabilities``: float32 ``(B, 5)`` in the order of :data:`LABELS`.
    """

    KEY, WHAT, CONFIG = LABELER_KEY, "labeler", LabelerConfig

    def probabilities(self, view: np.ndarray) -> np.ndarray:
        """One view ``(1, 3, V, V)`` -> its five probabilities (float64)."""
        feeds = {"view": np.ascontiguousarray(view, np.float32)}
        return self.session.run(["probabilities"], feeds)[0][0].astype(np.float64)

    def guess(self, view: np.ndarray) -> LabelGuess:
        return LabelGuess.from_probabilities(self.probabilities(view))

    def __repr__(self) -> str:
        return f"OnnxLabeler({str(self.path)!r})"


class OnnxModel(_Exported):
    """An exported S2CRNet on ONNX Runtime, usable wherever a model is (``harmonize``,
    the CLI's ``--backend onnxruntime``).

    Args:
        path: the ``.onnx`` file written by ``s2crnet export-onnx``.
        threads: intra-op threads (default: ONNX Runtime's choice, all cores).
        providers: execution providers (default: CPU).

    Attributes:
        labeler: the exported labeler beside it (``NAME.labeler.onnx``, written with a
            semantic model), which ``label="auto"`` uses; None when there is none.
    """

    KEY, WHAT, CONFIG = CONFIG_KEY, "model", S2CRNetConfig

    @functools.cached_property
    def labeler(self) -> OnnxLabeler | None:
        """The exported labeler beside it (``NAME.labeler.onnx``), loaded on first use."""
        sibling = labeler_path(self.path)
        if not sibling.is_file():
            return None
        return OnnxLabeler(sibling, self.threads, self.providers)

    def curves_from_thumbnails(
        self, foreground: np.ndarray, background: np.ndarray, label: int | None = None
    ) -> np.ndarray:
        """``(1, 3, S, S)`` float32 thumbnails -> ``(stages, 3, L)`` curve parameters."""
        feeds = {
            "foreground": np.ascontiguousarray(foreground, np.float32),
            "background": np.ascontiguousarray(background, np.float32),
        }
        if self.config.semantic:
            feeds["label"] = np.array([label_index(label)], np.int64)
        return self.session.run(["curves"], feeds)[0][0]

    def __repr__(self) -> str:
        return f"OnnxModel({str(self.path)!r}, {self.config})"
