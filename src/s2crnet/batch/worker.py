"""What each Ray actor runs: one :class:`~s2crnet.session.Harmonizer`, and a batch of
manifest rows in, a batch of result rows out. A row that cannot be harmonized becomes an
error row (its one-line message in ``status``); images are written whole or not at all
(local files: a temporary file renamed into place; object stores: one upload)."""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InputError, WeightsError
from .manifest import filesystem, local_path, output_path, result_schema

__all__ = ["BatchHarmonizer"]


def _decodes(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
    except Exception:  # Pillow raises several types for a damaged file: not done
        return False
    return True


class BatchHarmonizer:
    """A callable for ``Dataset.map_batches``: harmonizes a batch of manifest rows.

    Args:
        output: the folder or URI the images go to (rows without their own ``output``).
        weights, backend: as for :class:`~s2crnet.session.Harmonizer` (None: the shipped
            model on ONNX Runtime; workers need no PyTorch).
        strength: for rows without their own (None: 1).
        resume: skip rows whose output exists and decodes (``resumed`` in the results).
        max_pixels: as for ``harmonize``.
    """

    def __init__(
        self,
        output: str,
        weights: Any = None,
        backend: str | None = None,
        strength: float | None = None,
        resume: bool = False,
        max_pixels: int | None = None,
    ) -> None:
        from ..session import Harmonizer

        self.session = Harmonizer(_one_thread(weights, backend), backend=backend).load()
        self.output, self.strength, self.resume = str(output), strength, resume
        self.max_pixels = max_pixels
        self.scratch = Path(tempfile.mkdtemp(prefix="s2crnet-batch-"))

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "scratch", ""), ignore_errors=True)

    def __call__(self, batch: Any) -> Any:
        """A ``pyarrow.Table`` of manifest rows -> one of result rows, in order."""
        import pyarrow as pa

        return pa.Table.from_pylist([self.row(r) for r in batch.to_pylist()], result_schema())

    # ---- one row
    def row(self, row: dict[str, Any]) -> dict[str, Any]:
        """One manifest row's result row; never raises for a bad row."""
        start = time.perf_counter()
        composite, mask = row.get("composite"), row.get("mask")
        result: dict[str, Any] = {"composite": composite, "mask": mask, "output": None,
                                  "status": "ok", "label": None, "label_source": None,
                                  "strength": None, "curves": None, "resumed": False}  # fmt: skip
        try:
            if not composite:
                raise InputError("the row names no composite")
            result["output"] = out = output_path(self.output, composite, row.get("output"))
            if not mask:
                raise InputError(f"{composite}: the row names no mask")
            if self.resume and self._done(out):
                result["resumed"] = True
            else:
                result.update(self._harmonize(composite, mask, out, row))
        except (InputError, WeightsError, OSError) as exc:
            result["status"] = _one_line(exc)
        except Exception as exc:  # a bug must not stop a million rows: recorded, named
            result["status"] = f"unexpected {type(exc).__name__}: {_one_line(exc)}"
        result["seconds"] = time.perf_counter() - start
        return result

    def _harmonize(self, composite: str, mask: str, out: str, row: dict) -> dict[str, Any]:
        from ..inputs import load_inputs
        from ..labels import LABELS, is_auto, label_index

        picture, values = load_inputs(self._local(composite, "composite"),
                                      self._local(mask, "mask"), self.max_pixels)  # fmt: skip
        label = row.get("label") or None
        if label is not None and not is_auto(label):
            try:
                label_index(label)  # the classes harmonize --label takes
            except ValueError as exc:
                raise InputError(f"{composite}: label: {exc}") from None
        strength = row.get("strength")
        strength = self.strength if strength is None else strength
        strength = 1.0 if strength is None else float(strength)
        image, objects = self.session.harmonize_picture(
            picture, values, labels=[label] if label else None, strength=strength
        )
        self._write(out, image)
        obj = objects[0]
        source = "guessed" if obj.guess is not None else "given" if label else "none"
        table = obj.curves.lut(256)  # (256, 3) uint8
        return {
            "label": LABELS[obj.label] if obj.label is not None else None,
            "label_source": source if obj.label is not None else "none",
            "strength": float(obj.curves.strength),
            "curves": [table[:, c].tolist() for c in range(3)],
        }

    def _local(self, path: str, what: str) -> Path:
        """A local file holding ``path`` (downloaded to the scratch folder for a URI)."""
        local = local_path(path)
        if local is not None:
            if not local.is_file():
                raise InputError(f"{path}: no such {what} file")
            return local
        system, key = filesystem(path)
        target = self.scratch / f"{what}{PurePosixPath(key).suffix}"
        try:
            with system.open_input_stream(key) as stream:
                target.write_bytes(stream.read())
        except FileNotFoundError:
            raise InputError(f"{path}: no such {what} file") from None
        return target

    def _write(self, out: str, image: Any) -> None:
        from ..images import encode_image, write_image

        local = local_path(out)
        if local is not None:
            write_image(local, image)  # a temporary file, renamed
            return
        data = encode_image(PurePosixPath(out).name, image)
        system, key = filesystem(out)
        with system.open_output_stream(key) as stream:  # the object appears when complete
            stream.write(data)

    def _done(self, out: str) -> bool:
        """Whether ``out`` exists and decodes completely."""
        system, key = filesystem(out)
        try:
            with system.open_input_stream(key) as stream:
                return _decodes(stream.read())
        except (FileNotFoundError, OSError):
            return False


def _one_thread(weights: Any, backend: str | None) -> Any:
    """The model for an actor that has one CPU: OpenCV, PyTorch and ONNX Runtime on one
    thread each (workers side by side would otherwise fight over the cores)."""
    import cv2

    from ..loading import DEFAULT_ONNX, choose_backend

    cv2.setNumThreads(1)
    chosen = choose_backend(weights, backend, None)
    if chosen == "torch":
        import torch

        torch.set_num_threads(1)
        return weights
    if weights is None or str(weights).lower().endswith(".onnx"):
        from ..runtime import OnnxModel

        return OnnxModel(DEFAULT_ONNX if weights is None else weights, threads=1)
    return weights


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
