"""The :class:`Harmonizer`: one session per loaded model, and the only way in.

A Harmonizer holds the curve model (PyTorch or ONNX Runtime) and where it runs, the
object-class guesser (loaded on first use), the calibration and the thumbnail size. The
public functions (:func:`s2crnet.harmonize`, :func:`s2crnet.compose`,
:func:`s2crnet.harmonize_video`), the evaluation, the demo and every CLI command build or
take one, as rembg's sessions do::

    from s2crnet import Harmonizer

    h = Harmonizer()                       # the shipped model; or Harmonizer("w.onnx")
    result = h.harmonize("composite.jpg", "mask.png", strength=0.8)
    objects = h.curves("composite.jpg", "mask.png")          # the curves alone
    image = h.apply("other.jpg", "mask.png", objects[0].curves)

A request flows: the inputs (:mod:`s2crnet.inputs`) -> one square thumbnail of the
picture and its background (:mod:`s2crnet.thumbnails`) -> per object: its class if
guessed (:func:`s2crnet.predict.guess_object`), its Eq. 1 weights
(:func:`s2crnet.predict.object_params`), a :class:`~s2crnet.curves.Curves` at
:meth:`Harmonizer.strength` (:func:`s2crnet.strength.applied_strength`) -> the curves
rendered at full resolution through the mask (:func:`s2crnet.render.apply_curves`).
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .config import S2CRNetConfig
from .curves.value import Curves, load_curve_file
from .errors import InputError
from .images import Picture
from .inputs import (
    Reference,
    as_picture,
    check_overlaps,
    like_input,
    load_inputs,
    load_objects,
    load_reference,
    source_name,
    union,
)
from .labels import AUTO, LabelGuess, object_labels
from .loading import (
    CurvePredictor,
    LabelPredictor,
    choose_backend,
    resolve_labeler,
    resolve_model,
)
from .predict import LABEL_SQUARE, guess_object, object_params
from .render import apply_curves
from .strength import applied_strength
from .thumbnails import background_thumbnail, resize_square

__all__ = ["HarmonizeResult", "Harmonizer", "ObjectResult", "as_harmonizer"]

PathLike = str | os.PathLike


@dataclass(frozen=True)
class ObjectResult:
    """One harmonized object: its curves (``curves.params``: ``(stages, 3, L)``), the
    class index a semantic model used (None for other models), its mask's name, and,
    when the class was guessed (``label="auto"``), the guess with its probabilities."""

    curves: Curves
    label: int | None
    mask: str = "mask"
    guess: LabelGuess | None = None


@dataclass(frozen=True)
class HarmonizeResult:
    """What :meth:`Harmonizer.harmonize` returns.

    Attributes:
        image: the harmonized image, of the input's kind: a numpy array of the input's
            dtype and shape, a PIL image of the input's mode (CMYK and other modes come
            back as RGB), a :class:`s2crnet.images.Picture` for a Picture, or, for a file
            path, the decoded array (upright, RGB or grey, alpha last).
        objects: one :class:`ObjectResult` per mask, in order.
    """

    image: Any
    objects: tuple[ObjectResult, ...]

    @property
    def curves(self) -> Curves:
        """The curves of the (first) object."""
        return self.objects[0].curves

    @property
    def label(self) -> int | None:
        """The class index of the (first) object."""
        return self.objects[0].label


class Harmonizer:
    """A loaded model and everything harmonizing needs of it.

    Args:
        weights: our ``.safetensors``, the authors' checkpoint, an exported ``.onnx``, a
            loaded model (:class:`s2crnet.S2CRNet` or :class:`s2crnet.runtime.OnnxModel`),
            or None for the model shipped with the package.
        backend: ``"auto"`` (the default, also None): ONNX Runtime where the model exists
            as ONNX (the shipped model, a ``.onnx``) and PyTorch is not asked for
            (``device="cuda"``), PyTorch otherwise; or ``"torch"``, ``"onnxruntime"``
            (:func:`s2crnet.loading.choose_backend`).
        device: ``"cpu"`` or ``"cuda"`` (default: where a given model is, else CPU).
        labeler: the class guesser for ``label="auto"`` (semantic models): a file or a
            loaded one; None: the one exported beside an ONNX model, else the shipped one.
            Loaded when first needed.
        calibration: the strength that ``strength=1`` means (default: the model's
            calibrated ``config.curve_strength``).
        thumbnail: the side of the square the network sees (default: the model's).

    The model is loaded when first needed (:meth:`load` loads it now).
    """

    def __init__(
        self,
        weights: Any = None,
        *,
        backend: str | None = None,
        device: str | None = None,
        labeler: Any = None,
        calibration: float | None = None,
        thumbnail: int | None = None,
    ) -> None:
        self.backend = choose_backend(weights, backend, device)
        if calibration is not None:
            applied_strength(1.0, calibration)  # refused here, as given, if not a number >= 0
        if thumbnail is not None and (not isinstance(thumbnail, int) or thumbnail < 32):
            raise InputError(f"thumbnail must be an integer side of at least 32, got {thumbnail!r}")
        self._weights, self.device = weights, device
        self._labeler, self._calibration, self._thumbnail = labeler, calibration, thumbnail
        self._model: CurvePredictor | None = None

    def __repr__(self) -> str:
        weights = "shipped" if self._weights is None else self._weights
        if not isinstance(weights, str | os.PathLike | type(None)):
            weights = type(weights).__name__
        return f"Harmonizer({weights!s}, backend={self.backend}, device={self.device or 'cpu'})"

    # ---- what the session holds
    def load(self) -> Harmonizer:
        """Load the model now (it is loaded on first use otherwise); returns the session."""
        _ = self.model
        return self

    @property
    def model(self) -> CurvePredictor:
        """The curve predictor, loaded on first use."""
        if self._weights is None:  # the shipped model: loaded once per backend, shared
            return resolve_model(None, self.device, backend=self.backend)
        if self._model is None:
            self._model = resolve_model(self._weights, self.device, self._providers())
        return self._model

    def _providers(self) -> list[str] | None:
        """ONNX Runtime's providers for ``device`` (None: its default, the CPU)."""
        if self.device != "cuda" or self.backend != "onnxruntime":
            return None
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise InputError("device cuda: this onnxruntime has no CUDA provider "
                             "(install onnxruntime-gpu)")  # fmt: skip
        return ["CUDAExecutionProvider"]

    @contextmanager
    def streaming(self, predictions: int | None = None) -> Iterator[None]:
        """Meanwhile (a video's frames), a PyTorch model runs on one thread (the encoder
        wants every core, and PyTorch's idle threads wait busily; ONNX Runtime's are told
        not to), with its backbone frozen where ``predictions`` (how many are coming;
        None: many) repay it (:meth:`s2crnet.S2CRNet.frozen`: the same curves, faster)."""
        if self.backend != "torch" or "torch" not in sys.modules:
            yield
            return
        import torch

        model = self.model
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with model.frozen(predictions) if hasattr(model, "frozen") else nullcontext():
                yield
        finally:
            torch.set_num_threads(before)

    @property
    def config(self) -> S2CRNetConfig:
        return self.model.config

    @property
    def name(self) -> str:
        """How curve files and messages name the model: its file, or ``default``."""
        if self._weights is None:
            return "default"
        if isinstance(self._weights, str | os.PathLike):
            return str(self._weights)
        return str(getattr(self.model, "path", None) or "model")

    @property
    def calibration(self) -> float:
        """What ``strength=1`` means: the model's calibrated strength unless given."""
        if self._calibration is not None:
            return float(self._calibration)
        return self.config.curve_strength

    @property
    def thumbnail(self) -> int:
        return self._thumbnail or self.config.thumbnail

    @property
    def semantic(self) -> bool:
        return self.config.semantic

    @property
    def labeler(self) -> LabelPredictor:
        """The class guesser, loaded on first use."""
        if self._labeler is None:  # the one beside an ONNX model, else the shipped one
            self._labeler = resolve_labeler(None, self.model)
        elif isinstance(self._labeler, str | os.PathLike):
            self._labeler = resolve_labeler(self._labeler)
        return self._labeler

    def load_labeler(self) -> Harmonizer:
        """Load the class guesser now if this model uses one (a bad file fails here)."""
        if self.semantic:
            _ = self.labeler
        return self

    # ---- strength
    def strength(self, requested: float | None = 1.0) -> float:
        """The strength this session's new curves are applied at (see
        :func:`s2crnet.strength.applied_strength`)."""
        return applied_strength(requested, self.calibration)

    def at_strength(
        self, curves: Curves, strength: float | None, calibration: float | None = None
    ) -> Curves:
        """Given curves (a curve file's, or this session's) at a requested strength: None
        keeps their own; ``S`` means what ``strength=S`` means for :meth:`harmonize`, times
        ``calibration``, the one they were made with (a curve file's
        ``strength_calibration``; default this session's)."""
        if strength is None:
            return curves
        made_with = self.calibration if calibration is None else calibration
        return curves.with_strength(applied_strength(strength, made_with, curves.strength))

    # ---- one object on thumbnails (video smooths these weights in time)
    def object_params(
        self,
        square: np.ndarray,
        square_mask: np.ndarray,
        background: np.ndarray,
        label: int | None,
    ) -> np.ndarray:
        """``(stages, 3, L)`` Eq. 1 weights of the object ``square_mask`` marks in the
        square thumbnail ``square`` (``(S, S, 3)``, ``(S, S)``, ``S`` = :attr:`thumbnail`),
        against ``background`` (``(1, 3, S, S)`` float32 in [0, 1])."""
        return object_params(self.model, square, square_mask, background, label)

    def guess(self, square: np.ndarray, square_mask: np.ndarray) -> LabelGuess:
        """The class of the object ``square_mask`` marks in ``square``."""
        return guess_object(self.labeler, square, square_mask)

    def object_labels(self, labels: Any, count: int) -> list[int | str | None]:
        """One class index per object (:data:`s2crnet.labels.AUTO` where to guess)."""
        return object_labels(labels, count, self.semantic)

    # ---- pictures
    def picture_curves(
        self,
        picture: Picture,
        masks: np.ndarray | list[np.ndarray],
        *,
        labels: Any = None,
        names: list[str] | None = None,
        strength: float = 1.0,
        reference: Reference | tuple[np.ndarray, np.ndarray | None] | None = None,
    ) -> list[ObjectResult]:
        """The curves of each object of a decoded picture (see :meth:`curves`)."""
        masks = [masks] if isinstance(masks, np.ndarray) else list(masks)
        names = names or [f"mask {i + 1}" if len(masks) > 1 else "mask" for i in range(len(masks))]
        check_overlaps(masks, names)
        indices = self.object_labels(labels, len(masks))
        every = union(masks)
        if reference is None and every.any() and every.min() == 255:
            raise InputError(
                f"{names[0] if len(masks) == 1 else 'the masks'}: the mask covers the "
                "whole image; there is no background to harmonize against"
            )
        applied = self.strength(strength)
        size = self.thumbnail
        square = resize_square(picture.rgb, size)  # the thumbnail, made once for every object
        if reference is not None:
            reference = Reference(*reference) if isinstance(reference, tuple) else reference
            background = background_thumbnail(reference.rgb, reference.mask, size)
        else:
            background = background_thumbnail(square, resize_square(every, size), size)
        results = []
        for values, name, index in zip(masks, names, indices, strict=True):
            if not values.any():
                warnings.warn(f"{name}: the mask is empty; its object is left unchanged",
                              stacklevel=3)  # fmt: skip
                identity = Curves.identity(self.config.stages, self.config.pieces)
                index = None if index == AUTO else index  # nothing to guess
                results.append(ObjectResult(identity.with_strength(applied), index, name))
                continue
            square_mask = resize_square(values, size)
            guess = None
            if index == AUTO:
                guess = self.guess(square, square_mask)
                index = guess.index
            params = self.object_params(square, square_mask, background, index)
            results.append(ObjectResult(Curves(params, applied), index, name, guess))
        return results

    def harmonize_picture(
        self,
        picture: Picture,
        masks: np.ndarray | list[np.ndarray],
        *,
        labels: Any = None,
        names: list[str] | None = None,
        strength: float = 1.0,
        reference: Reference | tuple[np.ndarray, np.ndarray | None] | None = None,
    ) -> tuple[Picture, list[ObjectResult]]:
        """Harmonize the objects of a decoded picture (``masks``: ``(H, W)`` uint8, one
        or a list of non-overlapping ones); see :meth:`harmonize`."""
        masks = [masks] if isinstance(masks, np.ndarray) else list(masks)
        objects = self.picture_curves(
            picture, masks, labels=labels, names=names, strength=strength, reference=reference
        )
        rgb = picture.rgb
        for values, obj in zip(masks, objects, strict=True):
            if values.any():
                rgb = apply_curves(rgb, values, obj.curves)
        if rgb is picture.rgb:
            rgb = rgb.copy()
        return replace(picture, rgb=rgb), objects

    def _load(self, composite, mask, label_map, reference, reference_mask, max_pixels):
        if (mask is None) == (label_map is None):
            raise InputError("give a mask (or a list of masks) or a label_map, not both or neither")
        picture = as_picture(composite, max_pixels)
        name = source_name(composite, "composite")
        masks, names = load_objects(picture, mask, label_map, name, max_pixels)
        ref = None
        if reference is not None:
            ref = load_reference(reference, reference_mask, max_pixels)
        return picture, masks, names, ref

    def curves(
        self,
        composite: PathLike | np.ndarray | Any,
        mask: PathLike | np.ndarray | Any | list[Any] | None = None,
        *,
        label: str | int | list[str | int | None] | None = None,
        strength: float = 1.0,
        label_map: PathLike | np.ndarray | Any | None = None,
        reference: PathLike | np.ndarray | Any | None = None,
        reference_mask: PathLike | np.ndarray | Any | None = None,
        max_pixels: int | None = None,
    ) -> tuple[ObjectResult, ...]:
        """The curves of each object, without rendering them (the arguments are
        :meth:`harmonize`'s); apply them with :meth:`apply`, save them with
        ``Curves.to_json(h.calibration)``."""
        picture, masks, names, ref = self._load(
            composite, mask, label_map, reference, reference_mask, max_pixels
        )
        objects = self.picture_curves(
            picture, masks, labels=label, names=names, strength=strength, reference=ref
        )
        return tuple(objects)

    def harmonize(
        self,
        composite: PathLike | np.ndarray | Any,
        mask: PathLike | np.ndarray | Any | list[Any] | None = None,
        *,
        label: str | int | list[str | int | None] | None = None,
        strength: float = 1.0,
        label_map: PathLike | np.ndarray | Any | None = None,
        reference: PathLike | np.ndarray | Any | None = None,
        reference_mask: PathLike | np.ndarray | Any | None = None,
        max_pixels: int | None = None,
    ) -> HarmonizeResult:
        """Recolour the masked object(s) of ``composite`` so that they match the background.

        Args:
            composite: a file path, a numpy array (``(H, W)``, ``(H, W, 3)`` or
                ``(H, W, 4)``; uint8, uint16 or float in [0, 1]), a PIL image or a
                :class:`s2crnet.images.Picture`. Any resolution. Alpha is kept and ignored
                for colour; grey images come back grey.
            mask: same size as the composite: a file (grey, RGB or RGBA), a PIL image or
                an array (bool; uint8 0/255; float in [0, 1]). 1 / 255 marks the object;
                with a binary mask every pixel outside it is returned bit for bit, soft
                masks blend. A list of masks harmonizes several objects, each with its own
                curves, against the region outside all of them (masks must not overlap).
            label: the object's class for semantic models: a name, an index, or
                ``"auto"`` (the default, also for None): guessed by the labeler, the guess
                kept in ``result.objects[i].guess``. A list gives one per object. Models
                without classes ignore it (with a warning when one is given).
            strength: 0 changes nothing, 1 is the model's curve at :attr:`calibration`
                (which this multiplies), between interpolates the curve, above 1
                exaggerates it (see :class:`s2crnet.curves.Curves`).
            label_map: instead of ``mask``: an integer image, 0 = background, 1..N =
                objects.
            reference: another photo whose background guides the colours (paper Fig. 9):
                everything outside ``reference_mask``, or all of it.
            reference_mask: the object mask of ``reference`` (optional).
            max_pixels: open image files up to this many pixels (default
                :data:`s2crnet.images.DEFAULT_MAX_PIXELS`, 256 megapixels, a guard against
                decompression bombs; 0 = no limit). Arrays and PIL images are not limited.

        Returns:
            a :class:`HarmonizeResult`.

        Raises:
            InputError: unreadable input, size mismatch, overlapping masks, no background.
        """
        picture, masks, names, ref = self._load(
            composite, mask, label_map, reference, reference_mask, max_pixels
        )
        result, objects = self.harmonize_picture(
            picture, masks, labels=label, names=names, strength=strength, reference=ref
        )
        return HarmonizeResult(image=like_input(composite, result), objects=tuple(objects))

    def apply(
        self,
        image: PathLike | np.ndarray | Any,
        mask: PathLike | np.ndarray | Any,
        curves: Curves | PathLike,
        *,
        strength: float | None = None,
        calibration: float | None = None,
        max_pixels: int | None = None,
    ) -> Any:
        """Apply given curves (a :class:`Curves` or a curve file) inside ``mask``.

        Args:
            image, mask, max_pixels: as for :meth:`harmonize`.
            curves: curves, or a curve file (``--save-curves``, possibly hand-edited).
            strength: None applies them at their own strength; ``S`` as for
                :meth:`harmonize` (see :meth:`at_strength`).
            calibration: what the curves' strength 1 meant (a file records it; default
                this session's :attr:`calibration`).

        Returns:
            the image with the curves applied, of the input's kind.
        """
        if not isinstance(curves, Curves):
            curves, recorded = load_curve_file(Path(curves))
            calibration = recorded if calibration is None else calibration
        if strength is not None:
            curves = self.at_strength(curves, strength, calibration)
        picture, values = load_inputs(image, mask, max_pixels)
        return like_input(image, replace(picture, rgb=apply_curves(picture.rgb, values, curves)))

    def guess_label(
        self,
        image: PathLike | np.ndarray | Any,
        mask: PathLike | np.ndarray | Any,
        *,
        max_pixels: int | None = None,
    ) -> LabelGuess:
        """The class of the masked object: person, animal, food, vehicle or other.

        Raises:
            InputError: unreadable inputs, sizes that differ, or an empty mask.
        """
        picture, values = load_inputs(image, mask, max_pixels)
        if not values.any():
            name = source_name(mask, "mask")
            raise InputError(f"{name}: the mask is empty; there is no object to label")
        square = resize_square(picture.rgb, LABEL_SQUARE)
        square_mask = resize_square(values, LABEL_SQUARE)
        return guess_object(self.labeler, square, square_mask)


@functools.cache
def _default_session() -> Harmonizer:
    return Harmonizer()


def as_harmonizer(model: Any = None, device: str | None = None, labeler: Any = None) -> Harmonizer:
    """The session for what a function was given: a :class:`Harmonizer` as it is, else a
    new one for ``model`` (a weights file or a loaded model) on ``device`` with
    ``labeler``; nothing at all gives the shared session of the shipped model."""
    if isinstance(model, Harmonizer):
        if device is not None or labeler is not None:
            raise InputError("a Harmonizer already holds its device and labeler: give neither")
        return model
    if model is None and device is None and labeler is None:
        return _default_session()
    return Harmonizer(model, device=device, labeler=labeler)
