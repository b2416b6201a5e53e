"""Loading and saving S2CRNet weights; one filter function per outside format.

Formats:

* ours: safetensors whose metadata holds the model config (:func:`write_model_weights`);
* the authors' released checkpoint (``S2CRNet_pretrained.pth``):
  :func:`convert_released_state_dict`;
* torchvision backbone weights (``features.N.*``, e.g. ImageNet AlexNet):
  :func:`load_backbone_weights`.

Everything loads strictly: a key that is missing, unexpected or of the wrong shape is an
error that names it. Pickles are read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from .atomic import write_atomic
from .config import BACKBONES, S2CRNetConfig
from .errors import WeightsError

__all__ = [
    "WeightsError",
    "convert_released_state_dict",
    "load_backbone_weights",
    "load_state_dict_strict",
    "read_model_weights",
    "read_tensors",
    "write_model_weights",
]

# moved to s2crnet.loading (which builds the model from what this module reads)

FORMAT_NAME = "s2crnet"
FORMAT_VERSION = "1"


# --------------------------------------------------------------------------- helpers
def _strip_prefix(state: Mapping[str, Tensor], prefix: str = "module.") -> dict[str, Tensor]:
    return {k.removeprefix(prefix): v for k, v in state.items()}


def read_tensors(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    """State dict and (safetensors) metadata of a file, by content, not by name."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    with open(path, "rb") as f:
        head = f.read(9)
    # safetensors: an 8-byte little-endian header length, then the JSON header
    header_length = int.from_bytes(head[:8], "little") if len(head) == 9 else 0
    is_safetensors = head[8:9] == b"{" and 0 < header_length < path.stat().st_size
    if not is_safetensors and (head[:2] == b"PK" or head[:1] == b"\x80"):  # torch.save
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for bad pickles
            raise WeightsError(f"{path}: not a loadable PyTorch checkpoint ({exc})") from exc
        if isinstance(obj, Mapping) and "state_dict" in obj:
            obj = obj["state_dict"]
        if not isinstance(obj, Mapping) or not all(isinstance(v, Tensor) for v in obj.values()):
            raise WeightsError(f"{path}: checkpoint holds no state dict of tensors")
        return dict(obj), {}
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
            return tensors, dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(
            f"{path}: neither a safetensors file nor a PyTorch checkpoint ({exc})"
        ) from exc


def load_state_dict_strict(
    module: torch.nn.Module, state: Mapping[str, Tensor], source: str
) -> None:
    """``load_state_dict(strict=True)`` with an error naming every bad key and shape."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(expected[k].shape)})"
        for k in sorted(set(state) & set(expected))
        if state[k].shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if wrong:
        problems.append("wrong shapes: " + ", ".join(wrong))
    if problems:
        raise WeightsError(f"{source}: weights do not match the model; " + "; ".join(problems))
    module.load_state_dict(state, strict=True)


# --------------------------------------------------------------------------- our format
def write_model_weights(
    path: str | Path, config: S2CRNetConfig, state: Mapping[str, Tensor]
) -> None:
    """Write a state dict as safetensors with ``config`` in the metadata, atomically."""
    from safetensors.torch import save

    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    metadata = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "config": config.to_json()}
    write_atomic(Path(path), save(tensors, metadata=metadata))


# --------------------------------------------------------------------------- released
_RELEASED_BACKBONE_PREFIX = {"squeezenet1_1.": "squeezenet1_1", "model.": "vgg16"}
_RELEASED_HEAD = re.compile(
    r"fusion\.cr(\d+)\.(fc_f_1\.fc1|fc_b_1\.fc1|fc_label_1|fc_label_2|fc_f_label)\.(weight|bias)"
)
# released layer name -> ours, per variant; released layers the variant never uses map to None
_RELEASED_TO_OURS = {
    True: {
        "fc_b_1.fc1": "fc_b",
        "fc_f_label": "fc_f",
        "fc_label_1": "label_mlp.0",
        "fc_label_2": "label_mlp.2",
        "fc_f_1.fc1": None,
    },
    False: {
        "fc_b_1.fc1": "fc_b",
        "fc_f_1.fc1": "fc_f",
        "fc_f_label": None,
        "fc_label_1": None,
        "fc_label_2": None,
    },
}


def convert_released_state_dict(
    state: Mapping[str, Tensor], semantic: bool | None = None
) -> tuple[S2CRNetConfig, dict[str, Tensor]]:
    """The authors' checkpoint -> our config and state dict.

    Args:
        state: the ``state_dict`` entry of ``S2CRNet_pretrained.pth`` (``module.`` prefix
            or not): ``squeezenet1_1.N.*`` or ``model.N.*`` backbone keys and
            ``fusion.cr{n}.{fc_f_1.fc1, fc_b_1.fc1, fc_label_1, fc_label_2, fc_f_label}.*``.
        semantic: force the variant; by default semantic when ``fc_f_label`` is present.

    The released module holds heads its forward never uses; exactly those are dropped
    (``fc_f_1.fc1`` in the semantic model, the label layers in the plain one). Any other
    key that does not fit is kept, so that strict loading reports it.
    """
    state = _strip_prefix(state)
    backbone = next(
        (
            name
            for prefix, name in _RELEASED_BACKBONE_PREFIX.items()
            if any(k.startswith(prefix) for k in state)
        ),
        None,
    )
    if backbone is None:
        raise WeightsError("no released backbone keys (squeezenet1_1.* or model.*) found")
    heads = [m for k in state if (m := _RELEASED_HEAD.fullmatch(k))]
    if not heads:
        raise WeightsError("no released curve-head keys (fusion.cr*) found")
    if semantic is None:
        semantic = any(m.group(2) == "fc_f_label" for m in heads)
    stages = max(int(m.group(1)) for m in heads)
    fc_b = state.get("fusion.cr1.fc_b_1.fc1.weight")
    if fc_b is None or fc_b.shape[0] % 3:
        raise WeightsError("fusion.cr1.fc_b_1.fc1.weight is missing or not 3 x L rows")
    config = S2CRNetConfig(
        backbone=backbone,
        stages=stages,
        semantic=semantic,
        pieces=fc_b.shape[0] // 3,
        activation="none",
        normalize=False,
    )

    renames = _RELEASED_TO_OURS[semantic]
    prefix = next(p for p, name in _RELEASED_BACKBONE_PREFIX.items() if name == backbone)
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.startswith(prefix):
            out["backbone." + key.removeprefix(prefix)] = value
        elif m := _RELEASED_HEAD.fullmatch(key):
            ours = renames[m.group(2)]
            if ours is not None:
                out[f"heads.{int(m.group(1)) - 1}.{ours}.{m.group(3)}"] = value
        else:
            out[key] = value  # unknown: strict loading names it
    return config, out


# --------------------------------------------------------------------------- backbones
def load_backbone_weights(
    model: torch.nn.Module, source: str | Path | Mapping[str, Tensor]
) -> None:
    """Load torchvision-format backbone weights (e.g. ImageNet) into ``model.backbone``
    (an :class:`S2CRNet`'s, or any model whose ``backbone`` is torchvision's layers,
    such as the :class:`s2crnet.labeler.Labeler`).

    ``source`` is a state dict or a file (safetensors or ``torch.save``) with keys
    ``features.N.*`` (a whole torchvision classifier's state dict is fine: the
    classifier and the feature layers the backbone does not keep are ignored).
    """
    name = str(source) if not isinstance(source, Mapping) else "backbone weights"
    state = read_tensors(Path(source))[0] if not isinstance(source, Mapping) else source
    state = _strip_prefix(state)
    backbone = getattr(model.config, "backbone", None)
    depth = BACKBONES[backbone].depth if backbone else len(model.backbone)
    picked = {}
    for key, value in state.items():
        m = re.fullmatch(r"features\.(\d+)\.(.+)", key)
        if m and int(m.group(1)) < depth:
            picked[f"{m.group(1)}.{m.group(2)}"] = value
    if not picked:
        raise WeightsError(f"{name}: no torchvision backbone keys (features.N.*) found")
    load_state_dict_strict(model.backbone, picked, f"{name} ({backbone or 'squeezenet1_1'})")


# --------------------------------------------------------------------------- entry point
def read_model_weights(
    path: str | Path, semantic: bool | None = None
) -> tuple[S2CRNetConfig, dict[str, Tensor]]:
    """The config and state dict of an S2CRNet weights file, in our format or the
    authors' released checkpoint (told by content); :func:`s2crnet.load_model` builds the
    model from them.

    Args:
        path: weights file.
        semantic: for released checkpoints only, force the variant (see
            :func:`convert_released_state_dict`).

    Raises:
        FileNotFoundError: no such file.
        WeightsError: not a weights file, or weights that are not finite.
    """
    path = Path(path)
    state, metadata = read_tensors(path)
    if metadata.get("format") == FORMAT_NAME:
        try:
            config = S2CRNetConfig.from_dict(json.loads(metadata["config"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise WeightsError(f"{path}: bad s2crnet config in metadata ({exc})") from exc
        state = _strip_prefix(state)
    elif any(k.removeprefix("module.").startswith("fusion.cr") for k in state):
        config, state = convert_released_state_dict(state, semantic=semantic)
    elif any(k.removeprefix("module.").startswith("features.") for k in state):
        raise WeightsError(
            f"{path}: these are backbone-only (torchvision) weights, not an S2CRNet model; "
            "use them to start training (--backbone-weights)"
        )
    else:
        raise WeightsError(f"{path}: not an S2CRNet weights file (no config, no known keys)")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(
            f"{path}: the weights hold NaN or infinite values (in {', '.join(sorted(bad)[:3])}"
            f"{', ...' if len(bad) > 3 else ''}); the file is damaged or came from a run "
            "that diverged"
        )
    return config, state
