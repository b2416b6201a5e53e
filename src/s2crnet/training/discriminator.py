"""The released 5-layer patch discriminator (least-squares GAN)."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["Discriminator"]


class Discriminator(nn.Module):
    """conv k5 s2 p1: 3->64 (no BN), 64->128, 128->256, 256->512 (BN), LeakyReLU 0.2,
    then conv 512->1 k4: a map of real/fake scores, one per patch."""

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        widths = [3, channels, channels * 2, channels * 4, channels * 8]
        layers: list[nn.Module] = []
        for i in range(4):
            layers.append(nn.Conv2d(widths[i], widths[i + 1], 5, stride=2, padding=1))
            if i > 0:
                layers.append(nn.BatchNorm2d(widths[i + 1]))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        layers.append(nn.Conv2d(widths[-1], 1, 4))
        self.layers = nn.Sequential(*layers)

    def forward(self, image: Tensor) -> Tensor:
        """``(B, 3, H, W)`` in [0, 1] -> ``(B, 1, h, w)`` scores."""
        return self.layers(image)
