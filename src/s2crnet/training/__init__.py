"""Training S2CRNet: configuration, losses, discriminator, the resumable loop.

Names are imported on first use, so reading a configuration does not import PyTorch.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "config",
    "load_yaml": "config",
    "merge": "config",
    "TrainingError": "trainer",
    "train": "trainer",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
