"""Curve files: the versioned JSON that ``--save-curves`` writes and ``apply-curves`` reads,
and ``.cube`` 1D LUTs for other tools.

JSON schema, version 1 (``format`` and ``version`` are required; the rest as noted)::

    {
      "format": "s2crnet-curves",
      "version": 1,
      "apply": "stages",           # which part to apply: "stages" (default) or "lut"
      "strength": 0.488,           # the effective strength applied to "stages"
                                   # (optional, default 1) =
      "strength_requested": 0.8,   #   the strength the user asked for (--strength) x
      "strength_calibration": 0.61,  # the model's calibrated strength (informational)
      "model": "...",              # informational: the weights, the inputs, the label
      "composite": "...", "mask": "...", "label": "person",
      "stages": [                  # Eq. 1 weights per cascade stage, R, G and B (L each)
        {"r": [...], "g": [...], "b": [...]}
      ],
      "lut": {                     # the composed curve at this strength: output level
        "size": 256,               # (0-255) for each input level 0..size-1
        "r": [...], "g": [...], "b": [...]
      }
    }

To hand-edit a curve, edit ``lut`` and set ``"apply": "lut"`` (``stages`` may then be
left out); editing ``stages`` works with ``"apply": "stages"``. Stage weights must be
finite numbers of magnitude at most 1e30 (:data:`MAX_WEIGHT`).
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple, Protocol

import numpy as np

from ..errors import InputError


class CurveLike(Protocol):
    """What writing a curve file needs of a :class:`s2crnet.curves.Curves` (the value type
    sits above this module and reads and writes through it; this module never imports it)."""

    params: np.ndarray | None
    strength: float

    def apply(self, values: np.ndarray) -> np.ndarray: ...

    def lut(self, levels: int = 256) -> np.ndarray: ...


__all__ = [
    "FORMAT",
    "VERSION",
    "CurveFileContents",
    "curves_to_cube",
    "curves_to_json",
    "parse_curve_file",
]

FORMAT = "s2crnet-curves"
VERSION = 1
CHANNELS = ("r", "g", "b")
#: The largest magnitude of a stage weight: 64 of them still sum to a finite float32.
MAX_WEIGHT = 1e30


def curves_to_json(curves: CurveLike, calibration: float = 1.0, **info: Any) -> str:
    """The JSON text of a curve file; ``info`` (model, composite, mask, label...) is kept
    as informational fields.

    ``calibration`` is the model's calibrated strength that the user's strength was
    multiplied by (``curves.strength`` is the product): both are recorded.
    """
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "apply": "stages" if curves.params is not None else "lut",
        "strength": curves.strength,
        "strength_requested": round(curves.strength / calibration, 10),
        "strength_calibration": calibration,
    }
    data.update(
        {
            k: (str(v) if v is not None and not isinstance(v, int | float) else v)
            for k, v in info.items()
        }
    )
    if curves.params is not None:
        data["stages"] = [
            {name: [round(float(v), 8) for v in stage[c]] for c, name in enumerate(CHANNELS)}
            for stage in curves.params
        ]
    table = curves.lut(256)
    data["lut"] = {"size": 256, **{name: table[:, c].tolist() for c, name in enumerate(CHANNELS)}}
    return json.dumps(data, indent=1) + "\n"


def _numbers(
    value: Any, where: str, source: str, length: int | None = None, limit: float | None = None
) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise InputError(f"{source}: {where} must be a non-empty list of numbers")
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value
    ):
        raise InputError(f"{source}: {where} must hold finite numbers only")
    if limit is not None and any(abs(v) > limit for v in value):
        raise InputError(f"{source}: {where} holds a value beyond +-{limit:g}")
    if length is not None and len(value) != length:
        raise InputError(f"{source}: {where} has {len(value)} values, expected {length}")
    return np.asarray(value, dtype=np.float64)


class CurveFileContents(NamedTuple):
    """What a curve file holds, checked: ``params`` ``(stages, 3, L)`` or None, ``table``
    ``(K, 3)`` in [0, 1] or None, the applied ``strength`` and its ``calibration``."""

    params: np.ndarray | None
    table: np.ndarray | None
    strength: float
    calibration: float


def parse_curve_file(text: str, source: str = "curves") -> CurveFileContents:
    """Check and parse a curve file's text; every problem is an :class:`InputError`
    naming ``source`` (:func:`s2crnet.curves.read_curve_file` makes the :class:`Curves`)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise InputError(f"{source}: not a curve file (JSON nested too deeply)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{source}: not an s2crnet curve file (format must be {FORMAT!r})")
    if data.get("version") != VERSION:
        raise InputError(
            f"{source}: unsupported curve-file version {data.get('version')!r} "
            f"(this s2crnet reads version {VERSION})"
        )
    mode = data.get("apply", "stages")
    if mode not in ("stages", "lut"):
        raise InputError(f"{source}: 'apply' must be 'stages' or 'lut', got {mode!r}")
    strength = data.get("strength", 1.0)
    calibration = data.get("strength_calibration", 1.0)
    for key, value in (("strength", strength), ("strength_calibration", calibration)):
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not (math.isfinite(value) and value >= 0)
        ):
            raise InputError(f"{source}: {key!r} must be a number >= 0")
    if calibration == 0:
        raise InputError(f"{source}: 'strength_calibration' must be above 0")
    if mode == "lut":
        lut = data.get("lut")
        if not isinstance(lut, dict):
            raise InputError(f"{source}: 'apply' is 'lut' but there is no 'lut' object")
        size = lut.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 2:
            raise InputError(f"{source}: lut.size must be an integer >= 2")
        columns = [_numbers(lut.get(name), f"lut.{name}", source, size) for name in CHANNELS]
        table = np.stack(columns, axis=1)
        if table.min() < 0 or table.max() > 255:
            raise InputError(f"{source}: lut values must be output levels in 0-255")
        return CurveFileContents(None, table / 255.0, 1.0, 1.0)
    stages = data.get("stages")
    if not isinstance(stages, list) or not stages:
        raise InputError(f"{source}: 'stages' must be a non-empty list of {{r, g, b}} objects")
    params = []
    for n, stage in enumerate(stages):
        if not isinstance(stage, dict):
            raise InputError(f"{source}: stages[{n}] must be an object with r, g and b")
        first = _numbers(stage.get("r"), f"stages[{n}].r", source, limit=MAX_WEIGHT)
        params.append(
            [first]
            + [
                _numbers(stage.get(name), f"stages[{n}].{name}", source, len(first), MAX_WEIGHT)
                for name in CHANNELS[1:]
            ]
        )
    lengths = {len(stage[0]) for stage in params}
    if len(lengths) != 1:
        raise InputError(f"{source}: every stage must have the same number of pieces")
    return CurveFileContents(np.asarray(params), None, float(strength), float(calibration))


def curves_to_cube(curves: CurveLike, size: int = 1024, title: str = "s2crnet") -> str:
    """The composed curve as an Adobe/Resolve ``.cube`` 1D LUT of ``size`` entries.

    ``title`` goes into the ``TITLE`` line with its quotes and line breaks removed.
    """
    if size < 2:
        raise ValueError("a .cube LUT needs at least 2 entries")
    title = " ".join("".join(c for c in title if c not in '"\\').split())
    ramp = np.linspace(0.0, 1.0, size)[:, None].repeat(3, axis=1)
    values = np.clip(curves.apply(ramp), 0.0, 1.0)
    lines = [
        f'TITLE "{title}"',
        "# composed R, G, B curves written by s2crnet",
        f"LUT_1D_SIZE {size}",
        "DOMAIN_MIN 0.0 0.0 0.0",
        "DOMAIN_MAX 1.0 1.0 1.0",
    ]
    lines += [f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in values]
    return "\n".join(lines) + "\n"
