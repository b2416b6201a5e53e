"""Training losses: the pixel losses (the paper's relative L1, Eq. 2, or the whole-image
MSE the benchmark reports) and the least-squares GAN."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "image_mse",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "pixel_loss",
    "relative_l1",
]


def relative_l1(output: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """``sum |M (I - I_gt)| / sum(M)`` per image (over pixels and channels), batch mean.

    Args:
        output, target: ``(B, 3, H, W)``.
        mask: ``(B, 1, H, W)`` in [0, 1].
    """
    err = (mask * (output - target)).abs().sum(dim=(1, 2, 3))  # (B,)
    return (err / mask.sum(dim=(1, 2, 3)).clamp_min(1.0)).mean()


def image_mse(output: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over the whole image (0-1 scale), per image, batch mean.

    The benchmark's MSE up to the factor ``255**2``: unlike :func:`relative_l1` it weighs
    an object by its area, as the reported figure does. ``mask`` is unused (the output
    equals the composite outside it); it is taken so that both losses share a signature.

    Args:
        output, target: ``(B, 3, H, W)`` in [0, 1].
        mask: ``(B, 1, H, W)``.

    >>> image_mse(torch.full((1, 3, 2, 2), 0.5), torch.zeros(1, 3, 2, 2), torch.ones(1, 1, 2, 2))
    tensor(0.2500)
    """
    return (output - target).pow(2).mean(dim=(1, 2, 3)).mean()


def pixel_loss(name: str) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """The pixel loss called ``name`` (see ``TrainConfig.pixel_loss``)."""
    return {"relative-l1": relative_l1, "mse": image_mse}[name]


def lsgan_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """``MSE(D(real), 1) + MSE(D(fake), 0)``."""
    return F.mse_loss(real_scores, torch.ones_like(real_scores)) + F.mse_loss(
        fake_scores, torch.zeros_like(fake_scores)
    )


def lsgan_generator_loss(fake_scores: Tensor) -> Tensor:
    """``MSE(D(fake), 1)``."""
    return F.mse_loss(fake_scores, torch.ones_like(fake_scores))
