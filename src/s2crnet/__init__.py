"""s2crnet: efficient, high-resolution image harmonization (S2CRNet, ECCV 2022).

Entry points:

* :class:`Harmonizer` - a session holding a loaded model: ``harmonize``, ``curves``,
  ``apply`` (``session.py``); every other entry point builds or takes one;
* :func:`harmonize` - recolour the masked object of a composite in one call (``api.py``);
* :func:`compose` - paste a cut-out onto a photo and harmonize it (``compose.py``);
* :func:`harmonize_video` - a clip, smoothed in time (``video/``);
* :func:`guess_label` - the object's class (person, animal, food, vehicle, other);
* :class:`S2CRNet` / :class:`S2CRNetConfig` - the network (``model.py``, ``config.py``);
* :func:`load_model` - our safetensors or the authors' released checkpoint (``loading.py``);
* :func:`render_curves` - paper Eq. 1 as a differentiable tensor op (``curves/op.py``);
* :class:`Curves` / :func:`curve_lut` - curves as numbers and lookup tables
  (``curves/value.py``).

Names are imported on first use, so ``import s2crnet`` does not import PyTorch: the
ONNX Runtime path (``s2crnet.runtime``) works where PyTorch is not installed.
"""

from __future__ import annotations

from ._lazy import lazy_exports

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "Harmonizer": "session",
    "harmonize": "api",
    "harmonize_video": "video",
    "compose": "compose",
    "guess_label": "api",
    "LabelGuess": "labels",
    "HarmonizeResult": "session",
    "ObjectResult": "session",
    "VideoOptions": "video",
    "NoDefaultModelError": "errors",
    "Curves": "curves.value",
    "curve_lut": "curves.value",
    "render_curves": "curves.op",
    "InputError": "errors",
    "LABELS": "labels",
    "MODEL_CONFIGS": "config",
    "S2CRNetConfig": "config",
    "S2CRNet": "model",
    "WeightsError": "errors",
    "load_model": "loading",
    "save_model": "loading",
    "OutputError": "errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
