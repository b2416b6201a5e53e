"""The training losses: hand-computed values, gradients, and the --pixel-loss choice."""

from __future__ import annotations

import pytest
import torch

from s2crnet.training.config import PIXEL_LOSSES, merge
from s2crnet.training.losses import image_mse, pixel_loss, relative_l1


def _pair():
    output = torch.zeros(2, 3, 2, 2)
    target = torch.zeros(2, 3, 2, 2)
    mask = torch.zeros(2, 1, 2, 2)
    mask[0, :, 0, 0] = 1  # image 0: a one-pixel object, off by 0.3 in every channel
    output[0, :, 0, 0] = 0.3
    mask[1] = 1  # image 1: the whole frame, off by 0.1 in every channel
    output[1] = 0.1
    return output, target, mask


def test_relative_l1_normalises_by_the_object_area():
    output, target, mask = _pair()
    # per image: sum |M (I - I_gt)| / sum(M): 0.9 / 1 and 1.2 / 4
    assert relative_l1(output, target, mask).item() == pytest.approx((0.9 + 0.3) / 2)


def test_image_mse_weighs_an_object_by_its_area():
    output, target, mask = _pair()
    # per image: mean over 12 values: 3 * 0.09 / 12 and 0.01
    assert image_mse(output, target, mask).item() == pytest.approx((0.0225 + 0.01) / 2)


@pytest.mark.parametrize("name", PIXEL_LOSSES)
def test_pixel_losses_have_gradients(name):
    gen = torch.Generator().manual_seed(0)
    output = torch.rand(2, 3, 4, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    target = torch.rand(2, 3, 4, 4, generator=gen, dtype=torch.float64)
    mask = (torch.rand(2, 1, 4, 4, generator=gen, dtype=torch.float64) > 0.3).double()
    assert torch.autograd.gradcheck(lambda o: pixel_loss(name)(o, target, mask), (output,))


def test_pixel_loss_choice_is_validated():
    config = merge({"photos": "p", "steps": 1, "pixel_loss": "l2"})
    with pytest.raises(ValueError, match="--pixel-loss must be one of relative-l1, mse"):
        config.validate()
