"""Denoising functions g of the ladder's decoder (Rasmus et al. 2015, eq. 2).

A combinator takes the corrupted activation ``z_tilde`` of a layer and the top-down signal
``u`` (both of shape ``(..., n_units)`` or, for later image layers, with the unit axis
first) and returns the denoised estimate ``z_hat`` of the same shape. Every combinator
has per-unit parameters and the same two-argument ``forward``.
"""

import torch
from torch import nn

__all__ = ["GaussCombinator", "make_combinator"]


class GaussCombinator(nn.Module):
    r"""The paper's default denoising function g (eq. 2), a per-unit Gaussian denoiser.

    .. math::

        \mu(u) = a_1 \sigma(a_2 u + a_3) + a_4 u + a_5, \quad
        v(u) = a_6 \sigma(a_7 u + a_8) + a_9 u + a_{10}, \quad
        \hat z = (\tilde z - \mu(u))\, v(u) + \mu(u)

    Parameters
    ----------
    n_units : int
        Width of the layer; each unit has its own ten parameters ``a1..a10``.

    Notes
    -----
    Initialised as in the authors' code: ``a2 = a7 = 1`` and every other parameter 0, so
    the initial output is exactly 0 whatever the input.
    """

    def __init__(self, n_units: int):
        super().__init__()
        init = torch.zeros(10, n_units)
        init[[1, 6]] = 1.0
        # One (10, n_units) tensor rather than ten parameters: one Adam update instead of ten.
        self.a = nn.Parameter(init)

    def forward(self, z_tilde: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = self.a
        mu = a1 * torch.sigmoid(a2 * u + a3) + a4 * u + a5
        v = a6 * torch.sigmoid(a7 * u + a8) + a9 * u + a10
        return (z_tilde - mu) * v + mu


_COMBINATORS = {"gauss": GaussCombinator}


def make_combinator(name: str, n_units: int) -> nn.Module:
    """Build the combinator called ``name`` for a layer of ``n_units`` units.

    Parameters
    ----------
    name : str
        A key of the combinator table, e.g. ``"gauss"``.
    n_units : int
        Width of the layer.

    Returns
    -------
    torch.nn.Module
        A module with ``forward(z_tilde, u) -> z_hat``.
    """
    return _COMBINATORS[name](n_units)
