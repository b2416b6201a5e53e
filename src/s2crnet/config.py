"""Model configuration, free of PyTorch: what defines an S2CRNet and its named variants."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace

__all__ = [
    "ACTIVATIONS",
    "BACKBONES",
    "MODEL_CONFIGS",
    "BackboneSpec",
    "LabelerConfig",
    "S2CRNetConfig",
]

ACTIVATIONS = ("none", "softplus")


@dataclass(frozen=True)
class BackboneSpec:
    """A feature extractor's output channels and the torchvision ``features.N`` it keeps."""

    channels: int
    depth: int


BACKBONES: dict[str, BackboneSpec] = {
    "squeezenet1_1": BackboneSpec(512, 12),  # features[:12]: the last Fire module dropped
    "vgg16": BackboneSpec(512, 30),  # features[:30]: through relu5_3, no pool5
    "alexnet": BackboneSpec(256, 13),  # all of features
}


@dataclass(frozen=True)
class S2CRNetConfig:
    """Everything that defines an S2CRNet; the defaults are the released model.

    Attributes:
        backbone: one of :data:`BACKBONES`.
        stages: cascade stages (curves applied one after another).
        semantic: whether the curve heads take the object's class (Semantic-CRM).
        pieces: pieces ``L`` per channel curve.
        activation: ``"none"`` (released: raw, any sign) or ``"softplus"`` (always
            positive, so every curve is monotone).
        thumbnail: side of the square thumbnails the backbone sees.
        normalize: apply ImageNet mean/std to the masked thumbnails (released: False).
        head_hidden: width of an extra hidden layer (ReLU) over ``[F_f; F_b]`` in each curve
            head, whose output adds to the paper's ``fc_b(F_b) + fc_f(F_f)``; it lets the
            curves depend on how object and background relate, which the additive head
            cannot express. 0 (released): the paper's head alone.
        curve_strength: the strength at which the predicted curves are applied
            (:class:`s2crnet.Curves` ``strength``: below 1 moves the composed curve towards
            the identity); a user's ``strength`` multiplies it. 1 as released; a model may
            be calibrated lower so that it leaves already harmonious images nearly alone.
            Training ignores it (the loss sees the raw curves).
    """

    backbone: str = "squeezenet1_1"
    stages: int = 2
    semantic: bool = True
    pieces: int = 64
    activation: str = "none"
    thumbnail: int = 256
    normalize: bool = False
    head_hidden: int = 0
    curve_strength: float = 1.0

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(
                f"unknown backbone {self.backbone!r}; choose from {', '.join(BACKBONES)}"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; choose from {', '.join(ACTIVATIONS)}"
            )
        for name, least in (("stages", 1), ("pieces", 1), ("thumbnail", 1), ("head_hidden", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if not (isinstance(self.curve_strength, int | float) and 0 < self.curve_strength < 10):
            raise ValueError(f"curve_strength must be in (0, 10), got {self.curve_strength!r}")
        if self.thumbnail < 32:
            raise ValueError(f"thumbnail must be at least 32, got {self.thumbnail}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict) -> S2CRNetConfig:
        return _from_dict(cls, values, "S2CRNet")

    def architecture(self) -> S2CRNetConfig:
        """This config without its calibration (:data:`CALIBRATION_FIELDS` at their
        defaults): two models with equal architectures can share weights."""
        return replace(self, **{name: _DEFAULTS[name] for name in CALIBRATION_FIELDS})


#: Fields that calibrate a trained model rather than shape it (training ignores them).
CALIBRATION_FIELDS = ("curve_strength",)
_DEFAULTS = {f.name: f.default for f in fields(S2CRNetConfig)}


@dataclass(frozen=True)
class LabelerConfig:
    """The object-class guesser (:mod:`s2crnet.labeler`): ImageNet SqueezeNet 1.1
    features, average-pooled, and one linear layer to the five classes.

    Attributes:
        view: side of the square view it sees (:func:`s2crnet.thumbnails.label_view`).
        context: the view's box is the object's box grown this many times (context).
        dim: brightness of the context around the object in the view (1 = as is).
    """

    view: int = 128
    context: float = 2.0
    dim: float = 0.5

    def __post_init__(self) -> None:
        view_ok = isinstance(self.view, int) and not isinstance(self.view, bool)
        if not view_ok or not 32 <= self.view <= 1024:
            raise ValueError(f"view must be an integer in [32, 1024], got {self.view!r}")
        if not (isinstance(self.context, int | float) and 1 <= self.context <= 16):
            raise ValueError(f"context must be a number in [1, 16], got {self.context!r}")
        if not (isinstance(self.dim, int | float) and 0 <= self.dim <= 1):
            raise ValueError(f"dim must be in [0, 1], got {self.dim!r}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict) -> LabelerConfig:
        return _from_dict(cls, values, "labeler")


def _from_dict(cls: type, values: dict, what: str):
    """``cls(**values)``, naming any field ``cls`` does not have."""
    unknown = sorted(set(values) - {f.name for f in fields(cls)})
    if unknown:
        raise ValueError(f"unknown {what} config fields: {', '.join(unknown)}")
    return cls(**values)


#: Named configurations (``S2CRNet.from_name``).
MODEL_CONFIGS: dict[str, S2CRNetConfig] = {
    # the released S2CRNet-SqueezeNet (cascaded semantic CRM, 0.95M parameters)
    "s2crnet-squeezenet": S2CRNetConfig(),
    # the paper's S2CRNet-VGG16 (15.14M parameters)
    "s2crnet-vgg16": S2CRNetConfig(backbone="vgg16"),
    # AlexNet backbone for fine-tuning from the ImageNet weights available here
    "s2crnet-alexnet": S2CRNetConfig(
        backbone="alexnet", semantic=False, activation="softplus", normalize=True
    ),
}
