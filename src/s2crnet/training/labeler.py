"""Training the object-class guesser (:mod:`s2crnet.labeler`): the ImageNet SqueezeNet
stays as it is; its pooled features of every photo's view are computed once, and one
linear layer is fitted to them, with the classes weighted against their rarity.

A fixed, stratified share of the photos (``holdout``) is set aside before anything is
computed and is never trained on: the report's figures are measured on it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..atomic import write_atomic
from ..config import LabelerConfig
from ..labeler import Labeler
from ..labels import LABELS
from ..thumbnails import label_view, resize_square
from .trainer import TrainingError

__all__ = ["LabelerTrainConfig", "class_weights", "split_holdout", "train_labeler"]

BALANCES = ("none", "sqrt", "inverse")
SQUARE = 256  # the thumbnail the view is cut from, as at inference


@dataclass(frozen=True)
class LabelerTrainConfig:
    """Everything ``s2crnet train-labeler`` takes.

    Attributes:
        photos: folders of photos with masks and a ``labels.csv`` (``semantic_class``).
        out: where ``labeler.safetensors`` and ``report.json`` go.
        backbone_weights: ImageNet SqueezeNet 1.1 features (torchvision names).
        holdout: share of each class's photos set aside for the report (at least one per
            class that has two or more).
        augment: extra views per training photo (random crop and flip, a colour cast on
            the object as in a composite), besides the plain one.
        balance: class weights in the loss: ``none``, ``sqrt`` (1 / sqrt(count)) or
            ``inverse`` (1 / count), normalised to average 1 over the samples.
        epochs, lr, weight_decay: the full-batch Adam fit of the linear layer.
        seed: the split, the views and the fit.
    """

    photos: tuple[str, ...]
    out: str
    backbone_weights: str
    holdout: float = 0.2
    augment: int = 3
    balance: str = "sqrt"
    epochs: int = 400
    lr: float = 1e-2
    weight_decay: float = 1e-3
    seed: int = 0
    view: int = LabelerConfig.view
    context: float = LabelerConfig.context
    dim: float = LabelerConfig.dim

    def validate(self) -> None:
        if not self.photos:
            raise ValueError("give --photos (folders with images/, masks/, labels.csv)")
        if not 0 < self.holdout < 1:
            raise ValueError(f"holdout must be in (0, 1), got {self.holdout}")
        if self.balance not in BALANCES:
            raise ValueError(f"balance must be one of {', '.join(BALANCES)}")
        if self.augment < 0 or self.epochs < 1:
            raise ValueError("augment must be >= 0 and epochs >= 1")
        LabelerConfig(self.view, self.context, self.dim)  # checks the view's fields


def split_holdout(labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A boolean mask of the held-out samples: ``share`` of each class (rounded, at least
    one where a class has two or more), drawn with ``seed``.

    >>> split_holdout(np.array([0, 0, 0, 0, 1, 1, 2]), 0.25, 0).astype(int).tolist().count(1)
    2
    """
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < 2:
            continue
        count = max(1, round(len(members) * share))
        held[rng.choice(members, count, replace=False)] = True
    return held


def class_weights(labels: np.ndarray, balance: str, classes: int = len(LABELS)) -> np.ndarray:
    """Per-class loss weights against rarity, averaging 1 over ``labels``.

    >>> class_weights(np.array([0, 0, 0, 1]), "inverse", 2).round(3).tolist()
    [0.667, 2.0]
    """
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    power = {"none": 0.0, "sqrt": 0.5, "inverse": 1.0}[balance]
    weights = np.where(counts > 0, np.maximum(counts, 1) ** -power, 0.0)
    return weights / (weights[labels].mean() if len(labels) else 1.0)


def _photo_view(image: Path, mask: Path, config: LabelerTrainConfig, rng) -> np.ndarray:
    """One view of a photo: plain (``rng`` None) or with a random crop, flip and cast."""
    from ..data.transforms import random_crop_flip
    from ..images import read_image, read_mask
    from ..pixels import to_uint8

    rgb = read_image(image).rgb
    values = read_mask(mask).oriented()
    if values.shape != rgb.shape[:2]:
        raise TrainingError(f"{mask}: mask size differs from its photo {image}")
    rgb = to_uint8(rgb)
    if rng is None:
        square, square_mask = resize_square(rgb, SQUARE), resize_square(values, SQUARE)
    else:
        square, square_mask = random_crop_flip([rgb, values], rng, SQUARE, min_scale=0.6)
        # a composite's object often has the wrong colours: a cast and gamma on it
        gain = rng.uniform(0.7, 1.3, 3).astype(np.float32)
        gamma = np.float32(rng.uniform(0.7, 1.4))
        cast = np.clip(((square / 255.0) ** gamma) * gain, 0, 1) * 255
        inside = (square_mask > 127)[..., None]
        square = np.where(inside, cast, square).astype(np.uint8)
    if square_mask.max() == 0:
        square_mask = resize_square(values, SQUARE)
        square = resize_square(rgb, SQUARE)
    return label_view(square, square_mask, config.view, config.context, config.dim)


def _features(labeler: Labeler, views: list[np.ndarray]) -> torch.Tensor:
    with torch.inference_mode():
        batch = torch.from_numpy(np.concatenate(views))
        return labeler.features(batch).float()


def _fit(features: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor, config) -> nn.Linear:
    torch.manual_seed(config.seed)
    head = nn.Linear(features.shape[1], len(LABELS))
    opt = torch.optim.Adam(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    for _ in range(config.epochs):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(head(features), labels)
        loss.backward()
        opt.step()
    return head


def confusion_report(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy, per-class recall (accuracy on that class), precision and counts, and the
    confusion matrix (rows: true class, columns: guessed class), on class names."""
    k = len(LABELS)
    matrix = np.zeros((k, k), int)
    np.add.at(matrix, (truth, predicted), 1)
    per_class = {}
    for i, name in enumerate(LABELS):
        count, guessed = int(matrix[i].sum()), int(matrix[:, i].sum())
        per_class[name] = {
            "count": count,
            "recall": matrix[i, i] / count if count else None,
            "precision": matrix[i, i] / guessed if guessed else None,
        }
    recalls = [v["recall"] for v in per_class.values() if v["recall"] is not None]
    return {
        "accuracy": float(np.trace(matrix) / max(1, matrix.sum())),
        "balanced_accuracy": float(np.mean(recalls)) if recalls else 0.0,
        "per_class": per_class,
        "confusion": {"rows_true_columns_guessed": list(LABELS), "matrix": matrix.tolist()},
    }


def format_report(report: dict) -> str:
    """The held-out figures as a small text table."""
    lines = [
        f"held out: {sum(v['count'] for v in report['per_class'].values())} photos; "
        f"accuracy {report['accuracy']:.3f}, balanced {report['balanced_accuracy']:.3f}",
        f"{'class':<9}{'count':>6}{'recall':>8}{'precision':>10}   confusion (guessed as "
        + " ".join(f"{n[:4]:>4}" for n in LABELS)
        + ")",
    ]
    for name, row in zip(LABELS, report["confusion"]["matrix"], strict=True):
        v = report["per_class"][name]
        recall = "-" if v["recall"] is None else f"{v['recall']:.2f}"
        precision = "-" if v["precision"] is None else f"{v['precision']:.2f}"
        cells = " ".join(f"{x:>4}" for x in row)
        lines.append(f"{name:<9}{v['count']:>6}{recall:>8}{precision:>10}   {' ' * 20}{cells}")
    return "\n".join(lines)


def train_labeler(config: LabelerTrainConfig, progress: bool = True) -> dict:
    """Fit the labeler on ``config.photos`` and write it and its report to ``config.out``.

    Returns:
        the report: the held-out accuracy, per class and as a confusion matrix, the
        class counts and weights, and the held-out photos' names.
    """
    from tqdm import tqdm

    from ..data.photos import list_photos
    from ..weights import load_backbone_weights

    config.validate()
    photos = [p for folder in config.photos for p in list_photos(folder)]
    labels = np.array([p.label for p in photos])
    held = split_holdout(labels, config.holdout, config.seed)
    labeler = Labeler(LabelerConfig(config.view, config.context, config.dim)).eval()
    load_backbone_weights(labeler, config.backbone_weights)

    rng = np.random.default_rng(config.seed)
    train_x, train_y, test_x = [], [], []
    bar = tqdm(photos, desc="features", unit="photo", disable=not progress)
    for photo, is_held in zip(bar, held, strict=True):
        views = [_photo_view(photo.image, photo.mask, config, None)]
        if not is_held:
            views += [
                _photo_view(photo.image, photo.mask, config, rng) for _ in range(config.augment)
            ]
        features = _features(labeler, views)
        if is_held:
            test_x.append(features)
        else:
            train_x.append(features)
            train_y += [photo.label] * len(views)
    x, y = torch.cat(train_x), torch.tensor(train_y)
    weights = class_weights(np.array(train_y), config.balance)
    head = _fit(x, y, torch.tensor(weights, dtype=torch.float32), config)
    labeler.head.load_state_dict(head.state_dict())

    with torch.inference_mode():
        guessed = labeler.head(torch.cat(test_x)).argmax(1).numpy()
    report = confusion_report(labels[held], guessed)
    report |= {
        "config": {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
        },
        "train_photos": int((~held).sum()),
        "train_counts": {
            n: int(c) for n, c in zip(LABELS, np.bincount(labels[~held], minlength=5), strict=True)
        },
        "class_weights": {n: round(float(w), 4) for n, w in zip(LABELS, weights, strict=True)},
        "holdout_photos": [str(p.image) for p, h in zip(photos, held, strict=True) if h],
    }
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    labeler.save(out / "labeler.safetensors")
    write_atomic(out / "report.json", json.dumps(report, indent=1) + "\n")
    return report
