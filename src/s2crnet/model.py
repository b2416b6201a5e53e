"""S2CRNet: backbones, curve heads and the network that predicts colour curves.

Layout (as in the released code, "fusionv3s"):

* two masked thumbnails, foreground (the mask's bounding box, cropped and resized) and
  background (the whole image, resized), go through one shared backbone as a batch of 2B;
* global average pooling gives ``F_f`` and ``F_b``;
* each cascade stage has its own curve head: ``P = fc_b(F_b) + fc_f(F_f)``, or, in the
  semantic variant, ``P = fc_b(F_b) + fc_f([F_f; E(label)])`` with a 2-layer label MLP ``E``;
  ``head_hidden`` > 0 (ours, not the paper's) adds ``fc_h(relu(fc_in([F_f; F_b])))``;
* ``P`` is reshaped to ``(3, L)`` (R, G, B) and optionally made positive.

The model only predicts curves; :func:`s2crnet.curves.render_curves` applies them, and
:meth:`S2CRNet.render_stages` does so for a batch of composites (as used in training).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import BACKBONES, MODEL_CONFIGS, S2CRNetConfig
from .curves.op import render_curves
from .labels import LABELS, label_tensor
from .thumbnails import object_box
from .weights import load_state_dict_strict, read_model_weights, write_model_weights

__all__ = ["BACKBONE_BUILDERS", "MODEL_CONFIGS", "S2CRNet", "S2CRNetConfig", "make_thumbnails"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_FROZEN_LOCK = threading.Lock()  # S2CRNet.frozen() from several threads
#: Calls that repay making a frozen backbone (see S2CRNet.frozen).
FREEZE_PAYS_AFTER = 32


# --------------------------------------------------------------------------- backbones
def _squeezenet1_1() -> nn.Sequential:
    from torchvision.models import squeezenet1_1

    return squeezenet1_1(weights=None).features[:12]  # through Fire index 11: 512 channels


def _vgg16() -> nn.Sequential:
    from torchvision.models.vgg import cfgs, make_layers

    return make_layers(cfgs["D"])[:30]  # through relu5_3, no pool5: 512 channels


def _alexnet() -> nn.Sequential:
    from torchvision.models import AlexNet

    with torch.device("meta"):  # skip allocating the 58M-parameter classifier
        features = AlexNet().features
    features = features.to_empty(device="cpu")
    for module in features.modules():
        if isinstance(module, nn.Conv2d):
            module.reset_parameters()
    return features  # all 13 layers: 256 channels


#: How to build each backbone of :data:`s2crnet.config.BACKBONES`.
BACKBONE_BUILDERS: dict[str, Callable[[], nn.Sequential]] = {
    "squeezenet1_1": _squeezenet1_1,
    "vgg16": _vgg16,
    "alexnet": _alexnet,
}


# --------------------------------------------------------------------------- thumbnails
def _resize(x: Tensor, size: int) -> Tensor:
    """Antialiased bilinear resize of ``(N, C, h, w)`` (float or uint8) to ``size x size``."""
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def _to_unit(x: Tensor) -> Tensor:
    """uint8 / uint16 / float image tensor -> float32 in [0, 1] (the tensor twin of
    :func:`s2crnet.pixels.to_unit`)."""
    if x.dtype == torch.uint8:
        return x.float() / 255.0
    if x.dtype in (torch.uint16, torch.int32) and not x.is_floating_point():
        return x.float() / 65535.0
    return x.float()


def mask_bbox(mask: Tensor) -> tuple[int, int, int, int]:
    """Bounding box ``(top, bottom, left, right)`` (exclusive ends) of a ``(H, W)`` mask
    tensor (uint8 or float): :func:`s2crnet.thumbnails.object_box` (pixels of at least
    half weight, else any, else the whole image)."""
    return object_box(mask.detach().cpu().numpy())


def make_thumbnails(composite: Tensor, mask: Tensor, size: int = 256) -> tuple[Tensor, Tensor]:
    """The backbone's inputs: masked foreground and background thumbnails.

    Args:
        composite: ``(B, 3, H, W)``, float in ``[0, 1]`` or uint8 in ``[0, 255]``; any
            size and memory layout (a channels-last view of an HxWx3 array is fine).
        mask: ``(B, 1, H, W)``, float in ``[0, 1]`` or uint8 in ``[0, 255]``.
        size: thumbnail side.

    Returns:
        ``(foreground, background)``, each float32 ``(B, 3, size, size)`` in ``[0, 1]``:
        background = the composite resized to the square thumbnail times ``1 - mask``;
        foreground = that thumbnail cropped to the mask's bounding box, resized back, times
        the cropped resized mask (numpy version: :func:`s2crnet.thumbnails.thumbnails`).
    """
    if composite.ndim != 4 or composite.shape[1] != 3:
        raise ValueError(f"composite must be (B, 3, H, W), got {tuple(composite.shape)}")
    if mask.ndim != 4 or mask.shape[1] != 1 or mask.shape[2:] != composite.shape[2:]:
        raise ValueError(
            f"mask must be (B, 1, H, W) matching the composite {tuple(composite.shape)}, "
            f"got {tuple(mask.shape)}"
        )
    if mask.shape[0] != composite.shape[0]:
        raise ValueError("composite and mask batch sizes differ")
    composite, mask = _resize(composite, size), _resize(mask, size)  # the square thumbnails
    background = _to_unit(composite) * (1.0 - _to_unit(mask))
    foregrounds = []
    for image, alpha in zip(composite, mask, strict=True):  # (3, S, S), (1, S, S)
        top, bottom, left, right = mask_bbox(alpha[0])
        crop = image[None, :, top:bottom, left:right]  # (1, 3, h, w)
        crop_mask = alpha[None, :, top:bottom, left:right]  # (1, 1, h, w)
        foregrounds.append(_to_unit(_resize(crop, size)) * _to_unit(_resize(crop_mask, size)))
    return torch.cat(foregrounds), background


def _weights_key(module: nn.Module) -> tuple[tuple[int, int], ...]:
    """Changes when any of the module's tensors is replaced or written in place."""
    return tuple((t.data_ptr(), t._version) for t in (*module.parameters(), *module.buffers()))


def _freeze(backbone: nn.Module, side: int) -> nn.Module | None:
    """A frozen TorchScript trace of ``backbone`` on the CPU whose convolutions and
    activations oneDNN has fused, or None where this PyTorch cannot make one (the module
    itself is used then)."""
    if any(p.device.type != "cpu" for p in backbone.parameters()):
        return None
    example = torch.zeros(2, 3, side, side).contiguous(memory_format=torch.channels_last)
    fusing = torch.jit.onednn_fusion_enabled()
    try:
        with warnings.catch_warnings():
            # TorchScript is deprecated, yet still PyTorch's quickest CPU path here
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.enable_onednn_fusion(True)
            with torch.no_grad():
                # not checked by a second trace here: tests compare it with the module
                frozen = torch.jit.freeze(torch.jit.trace(backbone, example, check_trace=False))
            with torch.inference_mode():
                for _ in range(3):  # the profiling runs, after which the graph is fused
                    frozen(example)
        return frozen
    except (RuntimeError, AttributeError) as exc:  # a PyTorch without TorchScript
        warnings.warn(f"PyTorch cannot freeze the backbone ({exc}); running it as it is",
                      RuntimeWarning, stacklevel=3)  # fmt: skip
        return None
    finally:
        torch.jit.enable_onednn_fusion(fusing)


# --------------------------------------------------------------------------- heads
class CurveHead(nn.Module):
    """One cascade stage: pooled features -> ``3 L`` curve parameters (the CRM / SCRM).

    ``hidden`` > 0 adds ``fc_h(relu(fc_in([F_f; F_b])))`` to the paper's additive
    ``fc_b(F_b) + fc_f(F_f)``; ``fc_h`` starts at zero, so training starts from the paper's
    head."""

    def __init__(self, channels: int, pieces: int, semantic: bool, hidden: int = 0) -> None:
        super().__init__()
        out = 3 * pieces
        self.fc_b = nn.Linear(channels, out)
        if semantic:
            n = len(LABELS)
            self.label_mlp = nn.Sequential(nn.Linear(n, 32), nn.ReLU(), nn.Linear(32, 64))
            self.fc_f = nn.Linear(channels + 64, out)
        else:
            self.label_mlp = None
            self.fc_f = nn.Linear(channels, out)
        self.fc_in = self.fc_h = None
        if hidden:
            self.fc_in = nn.Linear(self.fc_f.in_features + channels, hidden)
            self.fc_h = nn.Linear(hidden, out)
            nn.init.zeros_(self.fc_h.weight)
            nn.init.zeros_(self.fc_h.bias)

    def forward(self, f_fore: Tensor, f_back: Tensor, one_hot: Tensor | None) -> Tensor:
        """``(B, D)``, ``(B, D)``, ``(B, 5)`` or None -> ``(B, 3 L)``."""
        if self.label_mlp is not None:
            f_fore = torch.cat([f_fore, self.label_mlp(one_hot)], dim=1)  # (B, D + 64)
        params = self.fc_b(f_back) + self.fc_f(f_fore)
        if self.fc_in is not None:
            both = torch.cat([f_fore, f_back], dim=1)  # (B, D_f + D)
            params = params + self.fc_h(F.relu(self.fc_in(both)))
        return params


# --------------------------------------------------------------------------- model
class S2CRNet(nn.Module):
    """Predicts per-stage colour curves for the masked object of a composite."""

    def __init__(self, config: S2CRNetConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or S2CRNetConfig()
        spec = BACKBONES[config.backbone]
        self.backbone = BACKBONE_BUILDERS[config.backbone]()
        self.heads = nn.ModuleList(
            CurveHead(spec.channels, config.pieces, config.semantic, config.head_hidden)
            for _ in range(config.stages)
        )
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        # a plain dict, so that nn.Module does not register the frozen copy (see frozen())
        self._frozen: dict[str, Any] = {"copy": None, "key": None, "users": 0}

    # ---- construction and weights
    @classmethod
    def from_name(cls, name: str, **overrides) -> S2CRNet:
        """Build a named configuration from :data:`MODEL_CONFIGS` (random weights)."""
        if name not in MODEL_CONFIGS:
            raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_CONFIGS)}")
        values = asdict(MODEL_CONFIGS[name]) | overrides
        return cls(S2CRNetConfig(**values))

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device = "cpu", semantic: bool | None = None
    ) -> S2CRNet:
        """Load weights in any supported format, strictly, in eval mode (see
        :func:`s2crnet.weights.read_model_weights`; :func:`s2crnet.load_model` is this)."""
        config, state = read_model_weights(path, semantic)
        model = cls(config)
        load_state_dict_strict(model, state, str(path))
        return model.to(device).eval()

    def save(self, path: str | Path) -> None:
        """Write weights and config as safetensors, atomically."""
        write_model_weights(path, self.config, self.state_dict())

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @contextmanager
    def frozen(self, calls: int | None = None) -> Iterator[S2CRNet]:
        """Meanwhile, inference on the CPU runs a frozen TorchScript copy of the backbone
        whose convolutions and activations oneDNN has fused: the same curves, about 1.6x
        faster on one thread for SqueezeNet at 256 (17 against 27 ms). The copy takes
        about 0.3 s to make, what some 30 calls save: it is made when ``calls`` (how many
        are coming; None: many) repay it, and kept for later while the weights stay as
        they are. Calls that record gradients, other devices, and a model in training
        mode use the backbone itself.

        >>> model = S2CRNet(S2CRNetConfig(semantic=False)).eval()
        >>> x = torch.rand(1, 3, 64, 64)
        >>> with torch.inference_mode():
        ...     eager = model(x, x)
        ...     with model.frozen():
        ...         fast = model(x, x)
        >>> bool(torch.allclose(eager, fast, atol=1e-5))
        True
        """
        with _FROZEN_LOCK:
            state = self._frozen
            if not self.training:
                key = _weights_key(self.backbone)
                if state["key"] != key and (calls is None or calls >= FREEZE_PAYS_AFTER):
                    state["copy"], state["key"] = _freeze(self.backbone, self.config.thumbnail), key
                if state["key"] != key:  # weights changed since: not that copy
                    state["copy"] = state["key"] = None
            state["users"] += 1
        try:
            yield self
        finally:
            with _FROZEN_LOCK:
                state["users"] -= 1

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave the frozen copy behind (see :meth:`frozen`)."""
        return {**self.__dict__, "_frozen": {"copy": None, "key": None, "users": 0}}

    def _backbone_for(self, x: Tensor) -> nn.Module:
        """The frozen copy inside :meth:`frozen` where it may serve, else the backbone."""
        state = self._frozen
        usable = state["users"] and state["copy"] is not None and not self.training
        if usable and not torch.is_grad_enabled() and x.device.type == "cpu":
            return state["copy"]
        return self.backbone

    # ---- inference
    def forward(
        self, foreground: Tensor, background: Tensor, label: Tensor | None = None
    ) -> Tensor:
        """Curves from the masked thumbnails.

        Args:
            foreground: ``(B, 3, S, S)`` float in [0, 1], see :func:`make_thumbnails`.
            background: ``(B, 3, S, S)`` float in [0, 1].
            label: ``(B,)`` long class indices (semantic models; None means ``other``).

        Returns:
            ``(B, stages, 3, L)`` curve parameters as they enter Eq. 1.
        """
        b = foreground.shape[0]
        # (2B, 3, S, S); channels-last runs the CPU convolutions about 3x faster
        x = torch.cat([foreground, background], dim=0).contiguous(memory_format=torch.channels_last)
        if self.config.normalize:
            x = (x - self.mean) / self.std
        pooled = self._backbone_for(x)(x).mean(dim=(2, 3))  # (2B, D)
        f_fore, f_back = pooled[:b], pooled[b:]  # (B, D) each
        one_hot = None
        if self.config.semantic:
            if label is None or not isinstance(label, Tensor):
                label = label_tensor(label, b, device=foreground.device)
            one_hot = F.one_hot(label, len(LABELS)).to(pooled.dtype)  # (B, 5)
        stages = [head(f_fore, f_back, one_hot) for head in self.heads]  # each (B, 3L)
        params = torch.stack(stages, dim=1).view(b, self.config.stages, 3, self.config.pieces)
        if self.config.activation == "softplus":
            params = F.softplus(params)
        return params  # (B, stages, 3, L)

    def curves_from_thumbnails(
        self, foreground: np.ndarray, background: np.ndarray, label: int | None = None
    ) -> np.ndarray:
        """Inference on numpy thumbnails (see :func:`s2crnet.thumbnails.thumbnails`).

        Args:
            foreground, background: ``(1, 3, S, S)`` float32 in [0, 1].
            label: class index (semantic models; None means ``other``).

        Returns:
            ``(stages, 3, L)`` float32 curve parameters of the one image.
        """
        device = next(self.parameters()).device
        labels = None
        if label is not None and self.config.semantic:
            labels = torch.tensor([label], device=device)
        with torch.inference_mode():
            fg = torch.from_numpy(foreground).to(device)
            bg = torch.from_numpy(background).to(device)
            curves = self(fg, bg, labels)  # (1, stages, 3, L)
        return curves[0].float().cpu().numpy()

    def predict_curves(self, composite: Tensor, mask: Tensor, label=None) -> Tensor:
        """Curves for composites of any size.

        Args:
            composite: ``(B, 3, H, W)`` float in [0, 1] (or uint8).
            mask: ``(B, 1, H, W)`` float in [0, 1] (or uint8); 1 marks the object.
            label: ``(B,)`` long tensor, a name or index, a list of them, or None.

        Returns:
            ``(B, stages, 3, L)`` curve parameters.
        """
        foreground, background = make_thumbnails(composite, mask, self.config.thumbnail)
        if label is not None and self.config.semantic:
            label = label_tensor(label, composite.shape[0], device=composite.device)
        return self(foreground, background, label)

    @staticmethod
    def render_stages(composite: Tensor, mask: Tensor, curves: Tensor) -> list[Tensor]:
        """Apply predicted curves: the harmonized image after each cascade stage.

        Args:
            composite: ``(B, 3, H, W)`` float in [0, 1].
            mask: ``(B, 1, H, W)`` float in [0, 1].
            curves: ``(B, stages, 3, L)``.

        Returns:
            one ``(B, 3, H, W)`` image per stage: stage ``n`` renders stage ``n-1``'s
            curve output, and each is blended with the composite through the mask.
        """
        outputs, x = [], composite
        for n in range(curves.shape[1]):
            x = render_curves(x, curves[:, n])
            outputs.append(x * mask + composite * (1.0 - mask))
        return outputs
