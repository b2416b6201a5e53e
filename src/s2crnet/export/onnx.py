"""Export the curve predictor to ONNX and check it against PyTorch.

The graph takes the masked thumbnails exactly as the backbone receives them
(:func:`s2crnet.thumbnails.thumbnails`):

* ``foreground``, ``background``: float32 ``(B, 3, S, S)`` in [0, 1];
* ``label``: int64 ``(B,)`` (semantic models only);

and returns ``curves``: float32 ``(B, stages, 3, L)``, the values ``predict_curves``
returns. The batch axis is dynamic. The model configuration is stored in the file's
metadata, so :class:`s2crnet.runtime.OnnxModel` needs nothing else.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ..atomic import OutputSet, scratch_file, write_atomic
from ..config import LabelerConfig
from ..errors import require
from ..labeler import Labeler
from ..model import S2CRNet
from ..runtime import CONFIG_KEY, LABELER_KEY, OnnxLabeler, OnnxModel

__all__ = [
    "export_labeler_onnx",
    "export_onnx",
    "sample_inputs",
    "verify_labeler_onnx",
    "verify_onnx",
]

OPSET = 18


class _Graph(nn.Module):
    """The exported function: thumbnails (and label) -> curves."""

    def __init__(self, model: S2CRNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, foreground: Tensor, background: Tensor, label: Tensor | None = None):
        return self.model(foreground, background, label)


def _export(
    module: nn.Module,
    inputs: dict[str, Tensor],
    output: str,
    metadata: tuple[str, str],
    path: str | Path,
    opset: int,
    check: Callable[[Path], None] | None,
    outputs: OutputSet | None,
) -> Path:
    """``module(*inputs)`` as ONNX with a dynamic batch axis and one ``metadata`` entry,
    checked by the ONNX checker and ``check``, then written atomically (staged in
    ``outputs`` when given, to be renamed with the others)."""
    require("onnx", "export-onnx", extra="onnx")
    require("onnxscript", "export-onnx", extra="onnx")
    import onnx

    batch = torch.export.Dim("batch", min=1, max=4096)
    path = Path(path)
    with scratch_file(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*axis name.*", category=UserWarning)
        program = torch.onnx.export(
            module.eval(),
            tuple(inputs.values()),
            input_names=list(inputs),
            output_names=[output],
            dynamic_shapes={name: {0: batch} for name in inputs},
            opset_version=opset,
            dynamo=True,
            verbose=False,
        )
        program.save(str(tmp))
        proto = onnx.load(str(tmp))
        entry = proto.metadata_props.add()
        entry.key, entry.value = metadata
        proto.producer_name = "s2crnet"
        onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, str(tmp))
        if check is not None:
            check(tmp)
    if outputs is None:
        write_atomic(path, proto.SerializeToString())
    else:
        outputs.add(path, proto.SerializeToString())
    return path


def export_onnx(
    model: S2CRNet,
    path: str | Path,
    opset: int = OPSET,
    check: Callable[[Path], None] | None = None,
    outputs: OutputSet | None = None,
) -> Path:
    """Write ``model`` as ONNX (checked by the ONNX checker), atomically.

    ``check(path)`` runs on the finished file before it takes the name ``path`` (e.g.
    :func:`verify_onnx`); if it raises, nothing is written. With ``outputs`` the file is
    staged there and renamed with the set's other files.
    """
    model = model.eval().cpu()
    size = model.config.thumbnail
    g = torch.Generator().manual_seed(0)
    inputs = {
        "foreground": torch.rand(2, 3, size, size, generator=g),
        "background": torch.rand(2, 3, size, size, generator=g),
    }
    if model.config.semantic:
        inputs["label"] = torch.tensor([0, 4])
    metadata = (CONFIG_KEY, model.config.to_json())
    return _export(_Graph(model), inputs, "curves", metadata, path, opset, check, outputs)


def export_labeler_onnx(
    labeler: Labeler,
    path: str | Path,
    opset: int = OPSET,
    check: Callable[[Path], None] | None = None,
    outputs: OutputSet | None = None,
) -> Path:
    """Write the object-class guesser as ONNX (input ``view``, output ``probabilities``;
    see :class:`s2crnet.runtime.OnnxLabeler`), as :func:`export_onnx` does."""
    labeler = labeler.eval().cpu()
    size = labeler.config.view
    view = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    metadata = (LABELER_KEY, labeler.config.to_json())
    return _export(labeler, {"view": view}, "probabilities", metadata, path, opset, check, outputs)


def verify_labeler_onnx(labeler: Labeler, path: str | Path, tolerance: float = 1e-5) -> float:
    """Largest absolute difference of the probabilities, ONNX Runtime vs PyTorch, on
    random views (batches of 1 and 3) and on views of scikit-image's sample photos.

    Raises:
        AssertionError: the difference exceeds ``tolerance``.
    """
    runtime = OnnxLabeler(path)
    size = labeler.config.view
    rng = np.random.default_rng(0)
    views = [rng.random((b, 3, size, size), np.float32) for b in (1, 3)]
    views += _sample_views(labeler.config)
    worst = 0.0
    labeler = labeler.eval().cpu()
    for view in views:
        got = runtime.session.run(["probabilities"], {"view": view})[0]
        with torch.inference_mode():
            expected = labeler(torch.from_numpy(view)).numpy()
        worst = max(worst, float(np.abs(got - expected).max()))
    if worst > tolerance:
        raise AssertionError(f"{path}: ONNX Runtime differs from PyTorch by {worst:.2e}")
    return worst


def _sample_views(config: LabelerConfig) -> list[np.ndarray]:
    """Labeler views of the example shipped with the package: as it is, mirrored, darkened."""
    from ..inputs import load_inputs
    from ..loading import ASSETS
    from ..thumbnails import label_view, resize_square

    picture, values = load_inputs(ASSETS / "example-composite.jpg", ASSETS / "example-mask.png")
    rgb, views = picture.rgb, []
    for image, mask in ((rgb, values), (rgb[:, ::-1], values[:, ::-1]), (rgb // 2, values)):
        square, square_mask = (
            resize_square(np.ascontiguousarray(image), 256),
            resize_square(np.ascontiguousarray(mask), 256),
        )
        views.append(label_view(square, square_mask, config.view, config.context, config.dim))
    return views


def sample_inputs(size: int, pairs: list[tuple[str, str]] | None = None):
    """Real thumbnails for :func:`verify_onnx`, ``(foreground, background, label)``: from
    ``(composite, mask)`` files, or from the example shipped with the package (a photo of
    scikit-image's, public domain), as it is, mirrored, and darkened."""
    from ..inputs import load_inputs
    from ..loading import ASSETS
    from ..thumbnails import thumbnails

    samples = []
    if pairs:
        for composite, mask in pairs:
            picture, values = load_inputs(composite, mask)
            samples.append((*thumbnails(picture.rgb, values, size), 4))
        return samples
    picture, values = load_inputs(ASSETS / "example-composite.jpg", ASSETS / "example-mask.png")
    rgb = picture.rgb
    variants = (rgb, np.ascontiguousarray(rgb[:, ::-1]), (rgb // 2).astype(np.uint8))
    masks = (values, np.ascontiguousarray(values[:, ::-1]), values)
    for index, (image, mask) in enumerate(zip(variants, masks, strict=True)):
        samples.append((*thumbnails(image, mask, size), index))
    return samples


def verify_onnx(
    model: S2CRNet,
    path: str | Path,
    inputs: list[tuple[np.ndarray, np.ndarray, int]] | None = None,
    tolerance: float = 1e-4,
) -> float:
    """Largest absolute difference of the curve parameters, ONNX Runtime vs PyTorch, on
    random thumbnails (batches of 1 and 3) and on ``inputs`` (real thumbnails, labels).

    Raises:
        AssertionError: the difference exceeds ``tolerance``.
    """
    runtime = OnnxModel(path)
    size = model.config.thumbnail
    rng = np.random.default_rng(0)
    cases = [
        (
            rng.random((b, 3, size, size), np.float32),
            rng.random((b, 3, size, size), np.float32),
            rng.integers(0, 5, b),
        )
        for b in (1, 3)
    ]
    cases += [(fg, bg, np.array([label])) for fg, bg, label in inputs or []]
    worst = 0.0
    model = model.eval().cpu()
    for fg, bg, labels in cases:
        feeds = {"foreground": fg, "background": bg}
        if model.config.semantic:
            feeds["label"] = labels.astype(np.int64)
        got = runtime.session.run(["curves"], feeds)[0]
        with torch.inference_mode():
            label = torch.from_numpy(labels.astype(np.int64)) if model.config.semantic else None
            expected = model(torch.from_numpy(fg), torch.from_numpy(bg), label).numpy()
        worst = max(worst, float(np.abs(got - expected).max()))
    if worst > tolerance:
        raise AssertionError(f"{path}: ONNX Runtime differs from PyTorch by {worst:.2e}")
    return worst
