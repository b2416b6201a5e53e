"""Training losses: relative L1 over the foreground (paper Eq. 2) and least-squares GAN."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["lsgan_discriminator_loss", "lsgan_generator_loss", "relative_l1"]


def relative_l1(output: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """``sum |M (I - I_gt)| / sum(M)`` per image (over pixels and channels), batch mean.

    Args:
        output, target: ``(B, 3, H, W)``.
        mask: ``(B, 1, H, W)`` in [0, 1].
    """
    err = (mask * (output - target)).abs().sum(dim=(1, 2, 3))  # (B,)
    return (err / mask.sum(dim=(1, 2, 3)).clamp_min(1.0)).mean()


def lsgan_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """``MSE(D(real), 1) + MSE(D(fake), 0)``."""
    return F.mse_loss(real_scores, torch.ones_like(real_scores)) + F.mse_loss(
        fake_scores, torch.zeros_like(fake_scores)
    )


def lsgan_generator_loss(fake_scores: Tensor) -> Tensor:
    """``MSE(D(fake), 1)``."""
    return F.mse_loss(fake_scores, torch.ones_like(fake_scores))
