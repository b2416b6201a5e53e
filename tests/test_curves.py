"""The curve op (paper Eq. 1) and the lookup tables baked from it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from s2crnet import Curves, curve_lut, render_curves
from s2crnet.curves import render_curves_naive


def test_constant_parameters_give_the_identity():
    for n_pieces in (1, 2, 7, 64):
        x = torch.linspace(0, 1, 101, dtype=torch.float64).view(1, 1, 1, -1).repeat(2, 3, 1, 1)
        p = torch.full((2, 3, n_pieces), 0.37, dtype=torch.float64)
        torch.testing.assert_close(render_curves(x, p), x)


def test_hand_computed_values():
    # L = 2, p = (1, 3): the first half rises by 1/4, the second by 3/4
    x = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]).view(1, 1, 1, -1)
    p = torch.tensor([[[1.0, 3.0]]])
    expected = torch.tensor([0.0, 0.125, 0.25, 0.625, 1.0])
    torch.testing.assert_close(render_curves(x, p).flatten(), expected)


def test_inputs_outside_unit_range_are_not_extrapolated():
    x = torch.tensor([-3.0, -0.01, 1.01, 7.0]).view(1, 1, 1, -1)
    p = torch.tensor([[[2.0, 1.0, 5.0]]])
    torch.testing.assert_close(render_curves(x, p).flatten(), torch.tensor([0.0, 0.0, 1.0, 1.0]))


def test_negative_parameters_match_the_naive_formula():
    torch.manual_seed(1)
    x = torch.rand(2, 3, 9, 11, dtype=torch.float64) * 1.4 - 0.2
    p = torch.randn(2, 3, 16, dtype=torch.float64)
    torch.testing.assert_close(render_curves(x, p), render_curves_naive(x, p))


@pytest.mark.parametrize("n_pieces", [1, 3, 64, 100])
def test_agrees_with_naive_implementation(n_pieces):
    torch.manual_seed(n_pieces)
    x = torch.rand(3, 3, 13, 17) * 1.2 - 0.1
    p = torch.rand(3, 3, n_pieces) + 0.01
    torch.testing.assert_close(render_curves(x, p), render_curves_naive(x, p), atol=1e-5, rtol=1e-5)


def test_monotone_for_positive_parameters():
    torch.manual_seed(2)
    x = torch.linspace(-0.1, 1.1, 1001).view(1, 1, 1, -1).repeat(4, 3, 1, 1)
    p = torch.rand(4, 3, 64)
    y = render_curves(x, p)
    assert (y.diff(dim=-1) >= -1e-7).all()
    assert y.min() >= 0 and y.max() <= 1 + 1e-6


def test_memory_does_not_grow_with_pieces_times_pixels():
    # the naive expansion would need 3 * 256 * 256 * 200_000 floats (~157 GB)
    x = torch.rand(1, 3, 256, 256)
    p = torch.rand(1, 3, 200_000)
    y = render_curves(x, p)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_gradcheck_float64():
    torch.manual_seed(3)
    # keep inputs away from the piece boundaries k/L, where Eq. 1 has kinks
    n_pieces = 5
    x = (torch.randint(0, n_pieces, (1, 3, 3, 4)) + 0.2 + 0.6 * torch.rand(1, 3, 3, 4)) / n_pieces
    x = x.double().requires_grad_()
    p = (torch.rand(1, 3, n_pieces, dtype=torch.float64) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(render_curves, (x, p))


def test_gradcheck_negative_parameters_and_out_of_range_inputs():
    x = torch.tensor([-0.5, 0.13, 0.61, 1.5], dtype=torch.float64).view(1, 1, 1, 4)
    x.requires_grad_()
    p = torch.tensor([[[0.7, -0.3, 1.1]]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(render_curves, (x, p))


@pytest.mark.parametrize(
    ("image_shape", "param_shape"),
    [
        ((3, 8, 8), (1, 3, 4)),
        ((1, 3, 8, 8), (1, 3)),
        ((2, 3, 8, 8), (1, 3, 4)),
        ((1, 3, 8, 8), (1, 2, 4)),
    ],
)
def test_bad_shapes_raise(image_shape, param_shape):
    with pytest.raises(ValueError):
        render_curves(torch.rand(image_shape), torch.rand(param_shape))


def test_integer_images_are_rejected():
    with pytest.raises(TypeError):
        render_curves(torch.zeros(1, 3, 2, 2, dtype=torch.uint8), torch.rand(1, 3, 4))


def test_lut_matches_exact_render_and_composes_stages():
    torch.manual_seed(4)
    params = torch.rand(2, 3, 64) + 0.05
    lut = curve_lut(params, 256)
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    x = (torch.arange(256, dtype=torch.float64) / 255).view(1, 1, 1, -1).repeat(1, 3, 1, 1)
    y = render_curves(render_curves(x, params[:1].double()), params[1:].double())
    expected = (y.clamp(0, 1) * 255).round()[0, :, 0].T.numpy()
    np.testing.assert_array_equal(lut, expected)
    lut16 = curve_lut(params, 65536)
    assert lut16.dtype == np.uint16 and lut16.shape == (65536, 3)
    # the 16-bit table agrees with the 8-bit one on the shared levels
    assert np.abs(lut16[::257].astype(int) // 257 - lut.astype(int)).max() <= 1


def test_lut_of_identity_is_identity():
    lut = curve_lut(np.ones((1, 3, 64)), 256)
    np.testing.assert_array_equal(lut, np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, 1))


def test_a_curves_table_is_made_once_and_handed_out_as_a_copy():
    curves = Curves(np.linspace(2.0, 0.5, 16)[None, None].repeat(3, axis=1))
    first = curves.lut(256)
    first[:] = 0  # the caller's own copy
    again = curves.lut(256)
    np.testing.assert_array_equal(again, curve_lut(curves.params, 256))
    assert list(curves._luts) == [256] and curves == Curves(curves.params)  # not compared
    assert curves.lut(1024).dtype == np.uint16 and list(curves._luts) == [256]  # not kept


def test_curves_object_validates_and_applies():
    with pytest.raises(ValueError):
        Curves(np.ones((3, 64)))
    curves = Curves.identity(stages=2, pieces=8)
    assert (curves.stages, curves.pieces) == (2, 8)
    x = np.random.default_rng(0).random((4, 5, 3))
    np.testing.assert_allclose(curves.apply(x), x)


def test_numpy_evaluation_matches_the_torch_op_everywhere():
    rng = np.random.default_rng(5)
    params = rng.normal(0.5, 1.0, (2, 3, 16))  # negative weights too
    x = rng.uniform(-0.3, 1.3, (7, 9, 3))
    expected = torch.from_numpy(x).permute(2, 0, 1)[None]
    for stage in torch.from_numpy(params):
        expected = render_curves(expected, stage[None])
    np.testing.assert_allclose(
        Curves(params).apply(x), expected[0].permute(1, 2, 0).numpy(), rtol=1e-5, atol=1e-5
    )


def test_all_zero_weights_give_zero_not_nan_in_both_implementations():
    # the released code adds 1e-30 to the sum (SUM_EPS): a curve of zero weights is 0
    image = torch.linspace(0, 1, 11).view(1, 1, 1, 11).repeat(1, 3, 1, 1)
    zeros = torch.zeros(1, 3, 8)
    out = render_curves(image, zeros)
    assert torch.equal(out, torch.zeros_like(out))
    numpy_out = Curves(zeros.numpy()).apply(image[0].permute(1, 2, 0).numpy())
    np.testing.assert_array_equal(numpy_out, 0.0)
    assert (curve_lut(zeros.numpy()) == 0).all()
    zeros.requires_grad_(True)
    render_curves(image, zeros).sum().backward()
    assert torch.isfinite(zeros.grad).all()


@pytest.mark.parametrize("dtype, tolerance", [(torch.float16, 2e-3), (torch.bfloat16, 1.6e-2)])
def test_half_precision_images_keep_their_dtype_and_agree(dtype, tolerance):
    torch.manual_seed(0)
    image = torch.rand(2, 3, 16, 16)
    params = torch.rand(2, 3, 16) + 0.05
    expected = render_curves(image, params)
    out = render_curves(image.to(dtype), params)
    assert out.dtype == dtype and out.shape == expected.shape
    torch.testing.assert_close(out.float(), expected, atol=tolerance, rtol=0)
