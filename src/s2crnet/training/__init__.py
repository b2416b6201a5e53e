"""Training S2CRNet: configuration, losses, discriminator, the resumable loop."""

from .config import TrainConfig, load_yaml, merge
from .trainer import TrainingError, train

__all__ = ["TrainConfig", "TrainingError", "load_yaml", "merge", "train"]
