"""Semantic classes of the foreground object (the paper's Semantic-CRM)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError

if TYPE_CHECKING:  # torch is imported only where tensors are made
    import torch
    from torch import Tensor

__all__ = [
    "AUTO",
    "DEFAULT_LABEL",
    "LABELS",
    "LabelGuess",
    "is_auto",
    "label_index",
    "label_tensor",
    "object_labels",
]

#: Class names by index, as in the released demo labels (index 3 is the paper's vehicle).
LABELS: tuple[str, ...] = ("person", "animal", "food", "vehicle", "other")
#: What a semantic model uses when it is given no label.
DEFAULT_LABEL = LABELS.index("other")

#: The label that asks for the class to be guessed (:func:`s2crnet.guess_label`).
AUTO = "auto"

LabelLike = str | int


def is_auto(label: object) -> bool:
    """Whether ``label`` asks for a guess (``"auto"``, any case).

    >>> is_auto("Auto"), is_auto("animal"), is_auto(None)
    (True, False, False)
    """
    return isinstance(label, str) and label.strip().lower() == AUTO


@dataclass(frozen=True)
class LabelGuess:
    """The object's class as guessed from the image (:func:`s2crnet.guess_label`).

    Attributes:
        label: the most probable class name (one of :data:`LABELS`).
        probabilities: each class name's probability, in the order of :data:`LABELS`.
    """

    label: str
    probabilities: dict[str, float]

    @classmethod
    def from_probabilities(cls, probabilities: np.ndarray) -> LabelGuess:
        """From the five probabilities in the order of :data:`LABELS`.

        >>> LabelGuess.from_probabilities(np.array([0.1, 0.6, 0.1, 0.1, 0.1]))
        LabelGuess(label='animal', probabilities={'person': 0.1, 'animal': 0.6, ...})
        """
        p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
        if p.shape != (len(LABELS),):
            raise ValueError(f"expected {len(LABELS)} probabilities, got {p.shape}")
        values = {name: float(v) for name, v in zip(LABELS, p, strict=True)}
        return cls(LABELS[int(p.argmax())], values)

    @property
    def index(self) -> int:
        return LABELS.index(self.label)

    @property
    def probability(self) -> float:
        """The probability of the chosen class."""
        return self.probabilities[self.label]

    def __str__(self) -> str:
        return f"{self.label} (p={self.probability:.2f})"


def label_index(label: LabelLike | None) -> int:
    """Turn a class name (``"person"``, case-insensitive) or index (``0``..``4``) into an index.

    ``None`` means "not given" and gives the ``other`` class. Digits in a string are
    accepted (``"0"``), since labels often come from the command line or text files.

    >>> label_index("Animal"), label_index(3), label_index(None)
    (1, 3, 4)
    """
    if label is None:
        return DEFAULT_LABEL
    if isinstance(label, bool):  # bool is an int subclass: reject it explicitly
        raise ValueError(f"invalid label {label!r}")
    if isinstance(label, int):
        index = label
    elif isinstance(label, str):
        name = label.strip().lower()
        if name.isdigit():
            index = int(name)
        elif name in LABELS:
            return LABELS.index(name)
        elif name == "others":
            return DEFAULT_LABEL
        else:
            raise ValueError(f"unknown label {label!r}; expected one of {', '.join(LABELS)} or 0-4")
    else:
        raise ValueError(f"invalid label {label!r}; expected a name or an index")
    if not 0 <= index < len(LABELS):
        raise ValueError(f"label index {index} out of range 0-{len(LABELS) - 1}")
    return index


def label_tensor(
    labels: Tensor | Sequence[LabelLike | None] | LabelLike | None,
    batch: int,
    device: torch.device | str | None = None,
) -> Tensor:
    """A ``(batch,)`` long tensor of class indices from names, indices, a tensor or None."""
    import torch

    if isinstance(labels, torch.Tensor):
        out = labels.to(device=device, dtype=torch.long).reshape(-1)
        if out.numel() == 1 and batch > 1:
            out = out.expand(batch)
        if out.shape != (batch,):
            raise ValueError(
                f"expected {batch} labels, got a tensor of shape {tuple(labels.shape)}"
            )
        if out.numel() and (out.min() < 0 or out.max() >= len(LABELS)):
            raise ValueError(f"label indices must be in 0-{len(LABELS) - 1}")
        return out
    if labels is None or isinstance(labels, str | int):
        indices = [label_index(labels)] * batch
    else:
        indices = [label_index(x) for x in labels]
        if len(indices) != batch:
            raise ValueError(f"expected {batch} labels, got {len(indices)}")
    return torch.tensor(indices, dtype=torch.long, device=device)


def object_labels(labels: Any, count: int, semantic: bool) -> list[int | str | None]:
    """One class index per object: :data:`AUTO` where it is to be guessed (semantic
    models: ``"auto"`` or None), None for every object of a model without classes (a
    label given to one is ignored with a warning).

    Args:
        labels: None, one label for every object, or a list of one per object.
        count: the number of objects.
        semantic: whether the model takes classes.

    >>> object_labels(["animal", None], 2, semantic=True)
    [1, 'auto']
    """
    import warnings

    many = isinstance(labels, list | tuple)
    if not semantic:
        given = [] if labels is None else list(labels) if many else [labels]
        if any(x is not None and not is_auto(x) for x in given):  # "auto" asks for nothing
            warnings.warn("the model is not semantic: the label is ignored", stacklevel=4)
        return [None] * count
    if not many:
        labels = [labels]
    if len(labels) == 1:
        labels = list(labels) * count
    if len(labels) != count:
        raise InputError(f"{len(labels)} labels for {count} objects; give one, or one each")
    return [AUTO if x is None or is_auto(x) else label_index(x) for x in labels]
