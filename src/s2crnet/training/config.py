"""The training configuration: one dataclass, loadable from YAML, every field a flag."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..config import S2CRNetConfig
from ..data.synthetic import DEFAULT_OPS, TRANSFER_SOURCES, ColourFamily

__all__ = ["PIXEL_LOSSES", "TrainConfig", "field_base_types", "load_yaml", "merge"]

#: ``--pixel-loss`` choices: the paper's relative L1, or the whole-image MSE the benchmark
#: reports (:mod:`s2crnet.training.losses`).
PIXEL_LOSSES = ("relative-l1", "mse")


@dataclass(frozen=True)
class TrainConfig(S2CRNetConfig):
    """Everything a training run needs (the defaults are the paper's optimisation).

    The model's own fields (backbone, stages, semantic, pieces, activation, thumbnail,
    normalize, head_hidden) are inherited from :class:`S2CRNetConfig`; :meth:`model_config`
    gives the model's part alone, which is what the saved weights record.

    Data: ``photos`` (folders of photos with masks, pooled; composites made on the fly) or
    ``iharmony4`` (the benchmark root, its ``_train`` lists). ``harmonious_fraction`` of
    the samples show the untouched photo (or real image) as the input, so that the model
    learns to leave an already harmonious image alone. ``transfer_from``: ``"any"`` or
    ``"same-kind"`` (see :class:`s2crnet.data.photos.PhotoComposites`); ``photo_jitter``:
    the fraction of photos recoloured as a whole first (target included). Every photo and
    mask is checked when a run starts (decodable, same size, an object that is neither
    empty nor everything): bad pairs stop the run with a list of them, or, with
    ``skip_bad_photos``, are left out with a warning. ``init_weights``
    starts from a whole trained model (ours or the released checkpoint; same model config,
    except that a model without the hidden head may grow one) to fine-tune it.
    ``warmup_steps`` ramps the learning rate up linearly;
    ``backbone_lr_scale`` trains the backbone at that fraction of ``lr`` (a pretrained
    backbone at full rate can lose all its activations). ``pixel_loss``: ``"relative-l1"``
    (the paper's) or ``"mse"`` (the whole-image MSE the benchmark reports; it weighs an
    object by its area). Length: ``steps`` optimizer steps in total, or ``epochs`` over
    the data when ``steps`` is not given. Saving: ``last.safetensors`` and the resumable
    ``state.pt`` every ``save_every`` steps; ``keep_every`` > 0 also keeps the weights of
    every ``keep_every``-th step as ``step-NNNNNN.safetensors`` (to compare or average
    checkpoints).
    """

    # data
    photos: list[str] | None = None
    iharmony4: str | None = None
    subsets: list[str] | None = None
    labels: str | None = None
    image_size: int = 256
    crop_min_scale: float = 0.5
    flip: bool = True
    colour_ops: list[str] = dataclasses.field(default_factory=lambda: list(DEFAULT_OPS))
    colour_max_ops: int = 3
    colour_strength: float = 1.0
    harmonious_fraction: float = 0.0
    transfer_from: str = "any"
    photo_jitter: float = 0.0
    skip_bad_photos: bool = False
    backbone_weights: str | None = None
    from_scratch: bool = False
    init_weights: str | None = None
    # optimisation
    steps: int | None = None
    epochs: float | None = None
    batch_size: int = 8
    lr: float = 2e-4
    weight_decay: float = 1e-2
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    backbone_lr_scale: float = 1.0
    pixel_loss: str = "relative-l1"
    adv_weight: float = 0.01
    ema: float = 0.0
    # run
    out: str = "runs/s2crnet"
    seed: int = 0
    workers: int = 2
    device: str = "auto"
    amp: bool = True
    log_every: int = 10
    save_every: int = 200
    keep_every: int = 0
    eval_data: str | None = None
    eval_every: int = 0
    eval_subsets: list[str] | None = None

    def validate(self) -> None:
        """Raise ValueError for settings that cannot work together."""
        if (self.photos is None) == (self.iharmony4 is None):
            raise ValueError("give exactly one of --photos DIR or --iharmony4 DIR")
        if self.steps is None and self.epochs is None:
            raise ValueError("give --steps N (or epochs in the config)")
        if self.steps is not None and self.steps < 1:
            raise ValueError("--steps must be at least 1")
        if self.backbone_weights and self.from_scratch:
            raise ValueError("--backbone-weights and --from-scratch contradict each other")
        if self.init_weights and self.backbone_weights:
            raise ValueError("--init-weights and --backbone-weights contradict each other")
        if self.warmup_steps < 0:
            raise ValueError("--warmup-steps must be >= 0")
        if self.backbone_lr_scale < 0:
            raise ValueError("--backbone-lr-scale must be >= 0")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError("--lr-schedule must be constant or cosine")
        if self.pixel_loss not in PIXEL_LOSSES:
            raise ValueError(f"--pixel-loss must be one of {', '.join(PIXEL_LOSSES)}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError("--device must be auto, cpu or cuda")
        for name in ("batch_size", "log_every", "save_every", "image_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        if self.adv_weight > 0 and self.image_size < 80:
            raise ValueError(
                "--image-size must be at least 80 for the discriminator "
                "(or turn it off with --adv-weight 0)"
            )
        if self.transfer_from not in TRANSFER_SOURCES:
            raise ValueError(f"--transfer-from must be one of {', '.join(TRANSFER_SOURCES)}")
        if not 0 <= self.photo_jitter <= 1:
            raise ValueError("--photo-jitter must be in [0, 1]")
        if self.photo_jitter > 0 and not self.photos:
            raise ValueError("--photo-jitter needs --photos (it recolours the training photos)")
        if not 0 <= self.harmonious_fraction < 1:
            raise ValueError("--harmonious-fraction must be in [0, 1)")
        if not 0 <= self.ema < 1:
            raise ValueError("--ema must be in [0, 1): 0 turns it off, 0.999 is typical")
        if self.keep_every < 0:
            raise ValueError("--keep-every must be >= 0 (0 keeps no snapshots)")
        if self.eval_every and not self.eval_data:
            raise ValueError("--eval-every needs --eval-data DIR")
        self.model_config()
        self.colour_family()

    def model_config(self) -> S2CRNetConfig:
        return S2CRNetConfig(**{f.name: getattr(self, f.name) for f in fields(S2CRNetConfig)})

    def colour_family(self) -> ColourFamily:
        return ColourFamily(
            ops=tuple(self.colour_ops), max_ops=self.colour_max_ops, strength=self.colour_strength
        )

    def total_steps(self, dataset_size: int, world: int = 1) -> int:
        if self.steps is not None:
            return self.steps
        return max(1, math.ceil(self.epochs * dataset_size / (self.batch_size * world)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(TrainConfig)


def _base_type(kind: Any) -> Any:
    """``X | None`` -> ``X``; anything else as it is."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return next(a for a in typing.get_args(kind) if a is not type(None))
    return kind


def _coerce(name: str, value: Any) -> Any:
    """A YAML or flag value -> the field's type (lists may be comma-separated strings)."""
    kind = _field_types()[name]
    if value is None:
        return None
    base = _base_type(kind)
    if typing.get_origin(base) is list:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        items = [v for item in value for v in str(item).split(",") if v]
        return items
    if base is bool:
        if isinstance(value, str):
            if value.lower() in ("true", "yes", "1"):
                return True
            if value.lower() in ("false", "no", "0"):
                return False
            raise ValueError(f"{name}: expected true or false, got {value!r}")
        return bool(value)
    try:
        return base(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected {base.__name__}, got {value!r}") from None


def field_base_types() -> dict[str, Any]:
    """Each field's type without ``| None`` (for building command-line flags)."""
    return {name: _base_type(kind) for name, kind in _field_types().items()}


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config: a mapping of TrainConfig field names to values."""
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config must be a mapping of field: value")
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown config fields: {', '.join(unknown)}")
    return data


def merge(*layers: dict[str, Any]) -> TrainConfig:
    """Defaults, then each layer in turn (YAML, saved config, flags); None means unset."""
    values: dict[str, Any] = {}
    for layer in layers:
        values.update({k: _coerce(k, v) for k, v in layer.items() if v is not None})
    return TrainConfig(**values)
