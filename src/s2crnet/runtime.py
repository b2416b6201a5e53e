"""Curve prediction on ONNX Runtime: harmonize with numpy, OpenCV, Pillow and onnxruntime
alone (no PyTorch anywhere on this path)::

    from s2crnet import harmonize
    from s2crnet.runtime import OnnxModel

    harmonize("c.jpg", "m.png", model=OnnxModel("model.onnx")).image

Make the ``.onnx`` file with ``s2crnet export-onnx`` (see :mod:`s2crnet.export.onnx`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .config import S2CRNetConfig
from .errors import WeightsError
from .labels import label_index

__all__ = ["CONFIG_KEY", "OnnxModel"]

#: The ONNX metadata key that holds the model configuration (JSON).
CONFIG_KEY = "s2crnet_config"


class OnnxModel:
    """An exported S2CRNet on ONNX Runtime, usable wherever a model is (``harmonize``,
    the CLI's ``--backend onnxruntime``).

    Args:
        path: the ``.onnx`` file written by ``s2crnet export-onnx``.
        threads: intra-op threads (default: ONNX Runtime's choice, all cores).
        providers: execution providers (default: CPU).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        threads: int | None = None,
        providers: list[str] | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise WeightsError(
                "onnxruntime is not installed; pip install 's2crnet[onnx]' (or onnxruntime)"
            ) from None
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such ONNX file")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=providers or ["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise WeightsError(f"{path}: not a loadable ONNX model ({exc})") from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        if CONFIG_KEY not in metadata:
            raise WeightsError(f"{path}: not an s2crnet export (no {CONFIG_KEY} metadata)")
        self.config = S2CRNetConfig.from_dict(json.loads(metadata[CONFIG_KEY]))
        self.path = path

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
