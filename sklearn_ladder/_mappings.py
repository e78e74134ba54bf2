"""The maps between adjacent ladder layers, one class per kind of layer.

Each map takes layer ``l - 1`` to layer ``l`` in the encoder (``encode``, with the weights
W_l) and the decoder's reconstruction of layer ``l`` back to the shape of layer ``l - 1``
(``decode``, with its own weights V_l), following the paper's rules: a dense layer's
inverse is a dense map the other way, a convolution's inverse swaps valid and full
convolution (a same convolution's is a same convolution), a max-pool's inverse is
nearest-neighbour up-sampling, a global mean pool's inverse is broadcasting. The maps
hold no tensors; the :class:`~sklearn_ladder._ladder.Ladder` owns the parameters and
passes them in.

Encoder tensors carry a group axis after the rows, ``(N, G, *shape)`` (labeled and
unlabeled rows side by side); decoder tensors do not, ``(N, *shape)``.
"""

import math

import torch
from torch.nn import functional as F

from .layers import Conv, Dense, GlobalMeanPool, MaxPool

__all__ = ["make_mapping"]


def _gaussian(*shape: int, fan_in: int, generator: torch.Generator | None) -> torch.Tensor:
    """The authors' initialisation: N(0, 1) / sqrt(fan_in)."""
    return torch.randn(*shape, generator=generator, dtype=torch.float32) / math.sqrt(fan_in)


def _merge_groups(h: torch.Tensor) -> torch.Tensor:
    """``(N, G, C, H, W)`` as ``(N * G, C, H, W)`` for the 2-D kernels (a view)."""
    return h.flatten(0, 1)


class _Mapping:
    """Layer ``l - 1`` (of shape ``in_shape``) to layer ``l`` and back."""

    #: Whether β, γ and the activation follow (pooling layers: not below the top).
    affine = True

    def __init__(self, spec, in_shape: tuple):
        self.spec = spec
        self.in_shape = in_shape

    def encoder_weight(self, generator: torch.Generator | None = None) -> torch.Tensor | None:
        """Initial W_l drawn from ``generator``, or None for a map without weights."""
        return None

    def decoder_weight(self, generator: torch.Generator | None = None) -> torch.Tensor | None:
        """Initial V_l drawn from ``generator``, or None for a map without weights."""
        return None

    def encode(self, h: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z_hat: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError


class _DenseMapping(_Mapping):
    def encoder_weight(self, generator=None):
        n_in = math.prod(self.in_shape)
        return _gaussian(n_in, self.spec.units, fan_in=n_in, generator=generator)

    def decoder_weight(self, generator=None):
        return _gaussian(self.spec.units, math.prod(self.in_shape), fan_in=self.spec.units,
                         generator=generator)

    def encode(self, h, weight):
        # One 2-D product over every row and group: under vmap (the batched trainer) a
        # 3-D operand would become a batch of tiny per-row products.
        rows = h.flatten(2)  # a no-op view for (N, G, units)
        return (rows.reshape(-1, rows.shape[-1]) @ weight).view(*rows.shape[:2], -1)

    def decode(self, z_hat, weight):
        return (z_hat @ weight).unflatten(1, self.in_shape)


class _ConvMapping(_Mapping):
    def encoder_weight(self, generator=None):
        k, c_in = self.spec.kernel_size, self.in_shape[0]
        return _gaussian(self.spec.channels, c_in, k, k, fan_in=c_in * k * k,
                         generator=generator)

    def decoder_weight(self, generator=None):
        k, c_in, c_out = self.spec.kernel_size, self.in_shape[0], self.spec.channels
        # Shaped for conv_transpose2d (in, out, k, k) or conv2d (out, in, k, k); see decode().
        shape = (c_out, c_in) if self.spec.padding == "valid" else (c_in, c_out)
        return _gaussian(*shape, k, k, fan_in=c_out * k * k, generator=generator)

    def encode(self, h, weight):
        z = F.conv2d(_merge_groups(h), weight, padding=self.spec.pad)
        return z.unflatten(0, h.shape[:2])

    def decode(self, z_hat, weight):
        # Valid and full swap, which restores the size of the layer below. The full
        # convolution is computed as a transposed convolution: the same map up to a flip
        # of the (freely learned) kernel, without multiplying the k - 1 rows of zero
        # padding; for Conv-FC's 26×26 kernel on 3×3 maps that is 80 times fewer products.
        # A same convolution's inverse is a same convolution.
        if self.spec.padding == "valid":
            return F.conv_transpose2d(z_hat, weight)
        return F.conv2d(z_hat, weight, padding=self.spec.pad if self.spec.padding == "same"
                        else 0)


class _MaxPoolMapping(_Mapping):
    affine = False

    def encode(self, h, weight):
        return F.max_pool2d(_merge_groups(h), self.spec.size).unflatten(0, h.shape[:2])

    def decode(self, z_hat, weight):
        # To the exact size below, also where pooling dropped an odd last row or column.
        return F.interpolate(z_hat, size=self.in_shape[1:], mode="nearest")


class _GlobalMeanPoolMapping(_Mapping):
    affine = False

    def encode(self, h, weight):
        return h.mean(dim=(-2, -1))

    def decode(self, z_hat, weight):
        return z_hat[..., None, None].expand(-1, -1, *self.in_shape[1:])


_MAPPINGS = {Dense: _DenseMapping, Conv: _ConvMapping, MaxPool: _MaxPoolMapping,
             GlobalMeanPool: _GlobalMeanPoolMapping}


def make_mapping(spec, in_shape: tuple) -> _Mapping:
    """The map of a layer specification whose input has shape ``in_shape``."""
    return _MAPPINGS[type(spec)](spec, tuple(in_shape))
