"""The object-class guesser behind ``label="auto"``: which of person, animal, food,
vehicle or other the masked object is, for the paper's semantic curve heads (SCRM).

It looks at one view of the object in its context (:func:`s2crnet.thumbnails.label_view`,
made from the thumbnail the curve network already gets), runs ImageNet SqueezeNet 1.1's
features over it, averages them, and maps the 512 numbers to five classes with one
linear layer. The backbone is ImageNet's, unchanged; only the linear layer is trained
(``s2crnet train-labeler``). Weights are safetensors with the config in the metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from .atomic import write_atomic
from .config import LabelerConfig
from .errors import WeightsError
from .labels import LABELS, LabelGuess

__all__ = ["Labeler", "load_labeler"]


FORMAT_NAME = "s2crnet-labeler"


class Labeler(nn.Module):
    """ImageNet SqueezeNet 1.1 features -> average pool -> linear -> five class scores."""

    def __init__(self, config: LabelerConfig | None = None) -> None:
        super().__init__()
        from torchvision.models import squeezenet1_1

        self.config = config or LabelerConfig()
        self.backbone = squeezenet1_1(weights=None).features  # all 13 layers: 512 channels
        self.head = nn.Linear(512, len(LABELS))

    def features(self, view: Tensor) -> Tensor:
        """``(B, 3, V, V)`` views in [0, 1] -> ``(B, 512)`` pooled features."""
        x = view.contiguous(memory_format=torch.channels_last)  # faster CPU convolutions
        return self.backbone(x).mean(dim=(2, 3))

    def forward(self, view: Tensor) -> Tensor:
        """``(B, 3, V, V)`` views in [0, 1] -> ``(B, 5)`` class probabilities."""
        return torch.softmax(self.head(self.features(view)), dim=1)

    def probabilities(self, view: np.ndarray) -> np.ndarray:
        """One numpy view ``(1, 3, V, V)`` -> its five probabilities (float64)."""
        device = self.head.weight.device
        with torch.inference_mode():
            p = self(torch.from_numpy(np.ascontiguousarray(view, np.float32)).to(device))
        return p[0].double().cpu().numpy()

    def guess(self, view: np.ndarray) -> LabelGuess:
        return LabelGuess.from_probabilities(self.probabilities(view))

    def save(self, path: str | Path) -> None:
        """Write the weights and config as safetensors, atomically."""
        from safetensors.torch import save

        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        metadata = {"format": FORMAT_NAME, "config": self.config.to_json()}
        write_atomic(path, save(state, metadata=metadata))


def load_labeler(path: str | Path, device: str = "cpu") -> Labeler:
    """A labeler saved by :meth:`Labeler.save`, in eval mode; strict.

    Raises:
        FileNotFoundError: no such file.
        WeightsError: not a labeler file, wrong keys or shapes, or values not finite.
    """
    from .weights import load_state_dict_strict, read_tensors

    path = Path(path)
    state, metadata = read_tensors(path)
    if metadata.get("format") != FORMAT_NAME:
        raise WeightsError(f"{path}: not an s2crnet labeler file (s2crnet train-labeler)")
    try:
        config = LabelerConfig.from_dict(json.loads(metadata["config"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise WeightsError(f"{path}: bad labeler config in metadata ({exc})") from None
    if not all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
        raise WeightsError(f"{path}: the labeler's weights hold NaN or infinite values")
    labeler = Labeler(config)
    load_state_dict_strict(labeler, state, str(path))
    return labeler.to(device).eval()
