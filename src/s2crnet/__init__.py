"""s2crnet: efficient, high-resolution image harmonization (S2CRNet, ECCV 2022).

Entry points:

* :func:`harmonize` - recolour the masked object of a composite (``api.py``);
* :class:`S2CRNet` / :class:`S2CRNetConfig` - the network (``model.py``);
* :func:`load_model` - our safetensors or the authors' released checkpoint (``weights.py``);
* :func:`render_curves` - paper Eq. 1 as a differentiable tensor op (``curves.py``).
"""

from .api import HarmonizeResult, NoDefaultModelError, harmonize
from .config import MODEL_CONFIGS, S2CRNetConfig
from .curves import Curves, curve_lut, render_curves
from .images import InputError
from .labels import LABELS
from .model import S2CRNet
from .weights import WeightsError, load_model, save_model

__version__ = "0.1.0"

__all__ = [
    "LABELS",
    "MODEL_CONFIGS",
    "Curves",
    "HarmonizeResult",
    "InputError",
    "NoDefaultModelError",
    "S2CRNet",
    "S2CRNetConfig",
    "WeightsError",
    "__version__",
    "curve_lut",
    "harmonize",
    "load_model",
    "render_curves",
    "save_model",
]
