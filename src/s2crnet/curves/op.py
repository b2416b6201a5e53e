"""The curve op of S2CRNet (paper Eq. 1) as a differentiable PyTorch function.

(Lookup tables and numpy evaluation, for applying curves without PyTorch, are in
:mod:`s2crnet.curves.value`.)

A curve is given by ``L`` piece weights ``p_0 .. p_{L-1}`` per colour channel. Piece ``k``
covers the input interval ``[k/L, (k+1)/L)`` and rises by ``p_k / sum(p)`` over it, so the
curve runs from ``y(0) = 0`` to ``y(1) = 1`` and is monotone when every ``p_k >= 0``.
Inputs below 0 map to 0 and inputs above 1 map to 1 (Eq. 1 does not extrapolate).

The direct formula sums ``L`` clamped ramps per pixel, which would need a
``(B, 3, H, W, L)`` tensor. Here the piece index ``i = floor(x L)`` of each pixel and the
exclusive cumulative sum ``C_i = sum_{k<i} p_k`` give the same value in ``O(B 3 H W)``::

    y = (C_i + p_i (x L - i)) / (sum_k p_k + 1e-30)

(the ``1e-30`` is the released code's guard against a zero sum).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .value import SUM_EPS

__all__ = ["render_curves", "render_curves_naive"]


def _check(image: Tensor, params: Tensor) -> None:
    if image.ndim != 4 or params.ndim != 3:
        raise ValueError(
            f"render_curves expects image (B,C,H,W) and params (B,C,L); got image "
            f"{tuple(image.shape)} and params {tuple(params.shape)}"
        )
    if image.shape[:2] != params.shape[:2]:
        raise ValueError(
            f"image {tuple(image.shape)} and params {tuple(params.shape)} disagree on "
            "batch size or channel count"
        )
    if params.shape[-1] < 1:
        raise ValueError("params must have at least one piece (L >= 1)")
    if not image.is_floating_point():
        raise TypeError(f"image must be a floating-point tensor, got {image.dtype}")


def render_curves(image: Tensor, params: Tensor) -> Tensor:
    r"""Apply one piecewise-linear curve per channel (paper Eq. 1, as released).

    Args:
        image: ``(B, C, H, W)`` float tensor, nominally in ``[0, 1]``; values outside are
            allowed (``x <= 0`` maps to 0, ``x >= 1`` maps to 1).
        params: ``(B, C, L)`` piece weights of each channel's curve, any sign, any ``L >= 1``.

    Returns:
        ``(B, C, H, W)`` tensor, same dtype as ``image``; differentiable with respect to
        both arguments. Not clamped: with negative weights the curve may leave ``[0, 1]``.

    Example:
        >>> x = torch.tensor([0.0, 0.25, 0.5, 1.0]).view(1, 1, 1, 4)
        >>> p = torch.tensor([[[1.0, 3.0]]])  # L = 2: a quarter of the rise, then the rest
        >>> render_curves(x, p).flatten().tolist()
        [0.0, 0.125, 0.25, 1.0]
    """
    _check(image, params)
    b, c, h, w = image.shape
    n_pieces = params.shape[-1]
    params = params.to(image.dtype)
    # exclusive cumulative sum: start[..., i] = sum_{k<i} p_k             (B, C, L)
    start = torch.cumsum(params, dim=-1) - params
    total = params.sum(dim=-1, keepdim=True) + SUM_EPS  # (B, C, 1)

    t = image.clamp(0.0, 1.0).reshape(b, c, h * w) * n_pieces  # (B, C, HW) in [0, L]
    idx = t.detach().floor().clamp_(max=n_pieces - 1).long()  # piece index, (B, C, HW)
    frac = t - idx.to(t.dtype)  # position inside the piece, in [0, 1]
    y = torch.gather(start, -1, idx) + torch.gather(params, -1, idx) * frac
    return (y / total).reshape(b, c, h, w)


def render_curves_naive(image: Tensor, params: Tensor) -> Tensor:
    """Eq. 1 written literally, expanding ``(B, C, H, W, L)``: a reference for tests.

    Same arguments and result as :func:`render_curves`; memory grows with ``L H W``.
    """
    _check(image, params)
    n_pieces = params.shape[-1]
    params = params.to(image.dtype)
    k = torch.arange(n_pieces, dtype=image.dtype, device=image.device) / n_pieces  # (L,)
    ramps = (image.unsqueeze(-1) - k).clamp(0.0, 1.0 / n_pieces)  # (B, C, H, W, L)
    weights = params[:, :, None, None, :]  # (B, C, 1, 1, L)
    total = params.sum(-1)[:, :, None, None] + SUM_EPS  # (B, C, 1, 1)
    return n_pieces / total * (ramps * weights).sum(-1)
