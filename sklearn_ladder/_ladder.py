"""The ladder network as a torch module: encoders, decoder and costs (Rasmus et al. 2015).

Pure tensor math, no scikit-learn and no skorch, so each equation can be tested on tensors.
Notation follows the paper: layer ``l = 0`` is the input, ``l = L`` the softmax output;
``z`` are batch-normalised pre-activations, ``z_tilde`` their corrupted versions,
``z_hat`` the decoder's reconstructions, ``u`` the top-down signal. Where the paper is
silent, the authors' code decides (the docstrings say where: ε of batch normalisation,
the clean statistics that normalise the reconstructions, the initialisation).

Training batches hold ``B`` labeled rows followed by ``B`` unlabeled rows. Batch
statistics are computed per group (the paper), or, with ``labeled_statistics="unlabeled"``,
the labeled rows borrow those of the unlabeled rows beside them. Inside, a batch is laid out as
``(B, groups, *shape)``, with ``shape`` a layer's ``(units,)`` or
``(channels, height, width)`` and up to three groups: the labeled and the unlabeled rows
of the corrupted encoder and the unlabeled rows of the clean encoder. One matrix product
or convolution per layer serves all the groups, and one parameter-free batch-norm kernel
over the ``(B, groups * channels, ...)`` view normalises every group and channel with its
own statistics, without copies. The maps between layers (dense, convolution, pooling)
live in :mod:`._mappings`.
"""

import math
from functools import partial
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ._mappings import make_mapping
from .combinators import make_combinator
from .layers import as_specs, output_shapes

__all__ = ["Ladder", "LadderCost", "LadderOutput"]

# The authors' epsilon: pixels that are constant in a batch would otherwise divide by zero.
BN_EPS = 1e-10

_ACTIVATIONS = {
    "relu": F.relu,
    # partial, not lambda: the module keeps its activation and must pickle.
    "leaky_relu": partial(F.leaky_relu, negative_slope=0.1),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}
# A scale gamma in front of a positively homogeneous activation is redundant with the next
# layer's weights (and with batch normalisation), so the paper drops it there.
_NEEDS_NO_GAMMA = {"relu", "leaky_relu"}


def _normalize(z: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    return (z - mean) * torch.rsqrt(var + BN_EPS)


class _BatchNormWithLastGroupStatistics(torch.autograd.Function):
    """Parameter-free training batch normalisation of ``(N, G·C, ...)`` per channel that
    also returns the mean and ``1 / sqrt(var + eps)`` of the last group's ``C`` channels,
    differentiably: the clean pass's statistics, which the decoder reuses.

    The batch-norm kernel computes these statistics anyway; differentiating them here
    costs a few operations on one group, where recomputing them would cost a graph of its own.
    Outside vmap only: the batched trainer normalises with :func:`_plain_batch_norm`.
    """

    @staticmethod
    def forward(ctx, z, channels):
        out, mean, inv_std = torch.ops.aten.native_batch_norm(
            z, None, None, None, None, True, 0.0, BN_EPS)
        ctx.save_for_backward(z, mean, inv_std)
        ctx.channels = channels
        return out, mean[-channels:], inv_std[-channels:]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out, grad_mean, grad_inv_std):
        z, mean, inv_std = ctx.saved_tensors
        grad_z = torch.ops.aten.native_batch_norm_backward(
            grad_out, z, None, None, None, mean, inv_std, True, BN_EPS, [True, False, False])[0]
        c = ctx.channels
        n = z.numel() // z.shape[1]
        shape = (1, c) + (1,) * (z.ndim - 2)
        last = grad_z[:, -c:]
        # ∂mean/∂z_i = 1/n and ∂(var + eps)^(-1/2)/∂z_i = -inv_std³ (z_i - mean) / n.
        last.add_((grad_mean / n).view(shape))
        scale = (grad_inv_std * inv_std[-c:].pow(3)).view(shape)
        last.addcmul_(z[:, -c:] - mean[-c:].view(shape), scale, value=-1.0 / n)
        return grad_z, None


def _in_vmap(z: torch.Tensor) -> bool:
    """Whether ``z`` is one model's slice in the batched trainer's vmap."""
    return torch._C._functorch.is_batchedtensor(z)


def _batch_moments(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``z - mean``, the mean and ``1 / sqrt(biased var + eps)`` of ``(N, C, ...)`` per
    channel (the last two shaped to broadcast against ``z``)."""
    dims = [0, *range(2, z.ndim)]
    mean = z.mean(dims, keepdim=True)
    centred = z - mean
    return centred, mean, torch.rsqrt(centred.square().mean(dims, keepdim=True) + BN_EPS)


def _plain_batch_norm(z: torch.Tensor):
    """Batch normalisation of ``(N, C, ...)`` per channel from its formula, with the mean
    and ``1 / sqrt(var + eps)`` per channel. Under vmap the batch-norm kernel's rule moves
    the models' axis among the channels and back, copying every activation twice; these
    element-wise operations and reductions keep the layout."""
    centred, mean, inv_std = _batch_moments(z)
    return centred * inv_std, mean.flatten(), inv_std.flatten()


def _batch_normalize_groups(z: torch.Tensor) -> torch.Tensor:
    """Normalise ``z`` of shape ``(N, G, C, ...)`` per group and channel, in one kernel."""
    if _in_vmap(z):
        return _plain_batch_norm(z.flatten(1, 2))[0].view_as(z)
    return F.batch_norm(z.flatten(1, 2), None, None, training=True, eps=BN_EPS).view_as(z)


def _batch_normalize_groups_with_statistics(z: torch.Tensor):
    """As :func:`_batch_normalize_groups`, with the last group's batch mean and inverse
    standard deviation per channel (shaped ``(1, C, 1, ...)``, differentiable)."""
    channels = z.shape[2]
    if _in_vmap(z):
        out, mean, inv_std = _plain_batch_norm(z.flatten(1, 2))
        mean, inv_std = mean[-channels:], inv_std[-channels:]
    else:
        out, mean, inv_std = _BatchNormWithLastGroupStatistics.apply(z.flatten(1, 2), channels)
    shape = (1, channels) + (1,) * (z.ndim - 3)
    return out.view_as(z), mean.view(shape), inv_std.view(shape)


def _batch_normalize(u: torch.Tensor) -> torch.Tensor:
    """Normalise ``u`` of shape ``(N, C, ...)`` per channel (the decoder's parameter-free BN)."""
    if _in_vmap(u):
        return _plain_batch_norm(u)[0]
    return F.batch_norm(u, None, None, training=True, eps=BN_EPS)


class _EncoderPass(NamedTuple):
    z: list  # z[0] is the (possibly corrupted) input, z[l] the normalised layer l
    h: list  # h[l] the activation of layer l (h[0] = z[0], h[L] the logits)
    means: list  # last group's batch means of the pre-activations, None at l = 0 or when
    inv_stds: list  # not asked for; and 1 / sqrt(biased variance + eps), likewise
    logits: torch.Tensor


class LadderOutput(NamedTuple):
    """What the module returns in training mode.

    Attributes
    ----------
    logits : torch.Tensor of shape (B, n_classes)
        Logits of the corrupted pass on the labeled rows (input of the supervised cost).
    denoising : torch.Tensor of shape (L + 1,)
        Unweighted denoising cost ``C_l`` of each layer; 0 where the layer's λ is 0.
    """

    logits: torch.Tensor
    denoising: torch.Tensor


class Ladder(nn.Module):
    """Ladder network for classification or regression, fully connected or convolutional.

    In training mode ``forward`` takes a batch of ``2 * B`` flat rows, the ``B`` labeled
    rows first, and returns a :class:`LadderOutput`. In evaluation mode it takes any number
    of rows and returns the clean encoder's logits computed with the fixed test-time
    statistics set by :meth:`set_test_statistics`.

    Parameters
    ----------
    input_shape : int or tuple of int
        Layer 0: the number of features, or ``(channels, height, width)`` for images (flat
        rows are reshaped inside, channels first).
    layers : sequence of int or layer specifications
        Layers 1..L, the output layer included (its width is the number of classes);
        an int is a dense layer (see :mod:`sklearn_ladder.layers`).
    denoising_costs : sequence of float of length L + 1
        λ_0..λ_L, the weight of each layer's denoising cost. The decoder is built from
        the top down to the lowest layer with λ > 0 and not below it.
    noise_std : sequence of float of length L + 1
        σ_0..σ_L, standard deviation of the Gaussian noise of the corrupted encoder.
    combinator : str or callable, default="gauss"
        Denoising function g of every decoder layer (per unit, or per channel for maps).
    activation : str, default="relu"
        Non-linearity φ of the hidden dense and convolutional layers.
    output : {"softmax", "linear"}, default="softmax"
        The top layer: class logits fed to a softmax, or linear regression outputs. The
        decoder's top-down signal starts from the corrupted softmax (respectively the
        corrupted outputs), batch-normalised.
    top_scale : bool, default=True
        Whether the top layer has the scale γ (the paper drops it for CIFAR-10).
    labeled_statistics : {"labeled", "unlabeled"}, default="labeled"
        The batch statistics that normalise the labeled rows in training. "labeled" (the
        paper): their own; the test-time statistics are then the labeled set's.
        "unlabeled": those of the corrupted unlabeled rows of the same batch; the
        test-time statistics are then those of every training row. Needs a decoder (the
        supervised baseline's batches hold no unlabeled rows).
    init_seed : int, optional
        Seed of the initial weights, drawn from a generator of their own (torch's global
        generator when None).

    Attributes
    ----------
    noise_generator : torch.Generator or None
        Source of the training noise, on the module's device (torch's global generator
        when None); the training glue sets one per fit. It is not pickled.
    """

    def __init__(
        self,
        input_shape,
        layers,
        denoising_costs,
        noise_std,
        combinator="gauss",
        activation: str = "relu",
        output: str = "softmax",
        top_scale: bool = True,
        labeled_statistics: str = "labeled",
        init_seed: int | None = None,
    ):
        super().__init__()
        if output not in ("softmax", "linear"):
            raise ValueError(f"output must be 'softmax' or 'linear', got {output!r}")
        if labeled_statistics not in ("labeled", "unlabeled"):
            raise ValueError(f"labeled_statistics must be 'labeled' or 'unlabeled', got "
                             f"{labeled_statistics!r}")
        self.output = output
        self.labeled_statistics = labeled_statistics
        self.noise_generator = None
        specs = as_specs(layers)
        self._set_structure(input_shape, specs, denoising_costs, noise_std)
        if labeled_statistics == "unlabeled" and self.lowest_decoded is None:
            raise ValueError(
                "labeled_statistics='unlabeled' borrows the statistics of each batch's "
                "unlabeled rows, but the supervised baseline (no decoder) trains on "
                "batches of labeled rows alone; use labeled_statistics='labeled'."
            )
        init = None if init_seed is None else torch.Generator().manual_seed(init_seed)
        self._build_encoder(activation, top_scale, init)
        self._build_decoder(combinator, init)
        # The rows are float32 whatever torch's default dtype (a user's
        # torch.set_default_dtype(torch.float64) would otherwise build float64 parameters
        # and buffers, a user's combinator included, that the rows cannot meet).
        self.float()

    def _set_structure(self, input_shape, specs, denoising_costs, noise_std) -> None:
        """Shapes, maps, σ and which layers are activated and decoded (no parameters)."""
        shapes = output_shapes(input_shape, specs)
        if len(shapes[-1]) != 1:
            raise ValueError(
                f"the top layer must output a vector (one value per class or output), but "
                f"{specs[-1]} outputs maps of shape {shapes[-1]}; end with GlobalMeanPool() "
                f"or a Dense layer."
            )
        n_layers = len(specs)
        if len(denoising_costs) != n_layers + 1 or len(noise_std) != n_layers + 1:
            raise ValueError(
                f"denoising_costs and noise_std need {n_layers + 1} values (layers 0..{n_layers})"
            )
        self.shapes = shapes
        self.widths = tuple(math.prod(shape) for shape in shapes)
        self.n_layers = n_layers
        self.noise_std = tuple(float(s) for s in noise_std)
        # Python values, not a buffer: reading a device tensor would synchronise every update.
        self.decoded_layers = frozenset(
            l for l, lam in enumerate(denoising_costs) if float(lam) > 0)
        self.lowest_decoded = min(self.decoded_layers) if self.decoded_layers else None
        # The clean pass only supplies targets and statistics for layers above 0.
        self._needs_clean_pass = any(l > 0 for l in self.decoded_layers)
        # mappings[l] takes layer l-1 to layer l.
        self.mappings = [None] + [make_mapping(spec, shapes[l - 1])
                                  for l, spec in enumerate(specs, start=1)]
        self._channels = [shape[0] for shape in shapes]
        self._channel_shapes = [(shape[0],) + (1,) * (len(shape) - 1) for shape in shapes]
        # Pooling layers below the top get no β, γ or φ; the top always gets β (logits).
        self._activated = frozenset(l for l in range(1, n_layers) if self.mappings[l].affine)

    def _build_encoder(self, activation: str, top_scale: bool, init) -> None:
        """W_l, β_l, γ_l and the test-time statistics buffers of layers 1..L."""
        top, channels = self.n_layers, self._channels
        self._phi = _ACTIVATIONS[activation]
        # Keyed by layer: weights["l"] (W_l) maps layer l-1 to layer l.
        self.weights = nn.ParameterDict({
            str(l): nn.Parameter(weight) for l in range(1, top + 1)
            if (weight := self.mappings[l].encoder_weight(init)) is not None
        })
        self.betas = nn.ParameterDict({
            str(l): nn.Parameter(torch.zeros(channels[l]))
            for l in (*sorted(self._activated), top)
        })
        self.gammas = nn.ParameterDict({
            str(l): nn.Parameter(torch.ones(channels[l]))
            for l in (*sorted(self._activated), top)
            if (l == top and top_scale) or (l < top and activation not in _NEEDS_NO_GAMMA)
        })
        for l in range(1, top + 1):
            self.register_buffer(f"test_mean_{l}", torch.zeros(channels[l]))
            self.register_buffer(f"test_var_{l}", torch.ones(channels[l]))

    def _build_decoder(self, combinator, init) -> None:
        """g_l and V_l from the top down to the lowest decoded layer, none below it."""
        decoded = self.decoded_layers
        levels = range(self.lowest_decoded, self.n_layers + 1) if decoded else range(0)
        self.combinators = nn.ModuleDict(
            {str(l): make_combinator(combinator, self._channels[l], init) for l in levels}
        )
        # decoder_weights[l] maps the reconstruction of layer l down to layer l-1 (V_l).
        self.decoder_weights = nn.ParameterDict({
            str(l): nn.Parameter(weight) for l in levels if l > (self.lowest_decoded or 0)
            if (weight := self.mappings[l].decoder_weight(init)) is not None
        })

    def __getstate__(self):
        # A generator may live on a GPU, and a fitted model needs none.
        return {**super().__getstate__(), "noise_generator": None}

    def _images(self, x: torch.Tensor) -> torch.Tensor:
        """Flat rows ``(N, d)`` as ``(N, 1, *input_shape)``: one group."""
        return x.view(x.shape[0], 1, *self.shapes[0])

    def draw_noise(self, n_rows: int, n_groups: int, n_noisy: int,
                   generator: torch.Generator | None, dtype=torch.float32,
                   device=None) -> list:
        """The corrupted encoder's noise σ_l ε for layers 0..L, to add to ``z`` laid out
        as ``(n_rows, n_groups, *shape_l)``: Gaussian on the first ``n_noisy`` groups,
        zero on the others; None where σ_l = 0 or nothing is noisy.

        Drawn from ``generator`` (torch's global one when None) layer after layer, each
        in ``(G, B, ...)`` order, group after group: the random stream of a plain
        implementation that corrupts the labeled rows, then the unlabeled. Drawn apart
        from the forward pass so that the batched trainer can draw each model's noise
        from its own generator.
        """
        noise = []
        for std, shape in zip(self.noise_std, self.shapes):
            if not (std and n_noisy):
                noise.append(None)
                continue
            eps = torch.empty(n_groups, n_rows, *shape, dtype=dtype, device=device)
            eps[:n_noisy].normal_(generator=generator)
            eps[n_noisy:].zero_()
            noise.append(eps.mul_(std).transpose(0, 1))
        return noise

    def training_layout(self) -> tuple[int, int]:
        """``(groups, noisy groups)`` of a training batch: the labeled rows alone for the
        supervised baseline; else the labeled and unlabeled rows, both corrupted, and when
        a hidden layer is decoded the unlabeled rows again, clean."""
        if self.lowest_decoded is None:
            return 1, 1
        return (3 if self._needs_clean_pass else 2), 2

    def _weight(self, parameters: nn.ParameterDict, l: int, dtype) -> torch.Tensor | None:
        key = str(l)
        return parameters[key].to(dtype) if key in parameters else None

    # ------------------------------------------------------------------ encoder
    def _pre_activation(self, l: int, z: torch.Tensor) -> torch.Tensor:
        """γ_l ⊙ (z_l + β_l), per channel: the argument of φ, or the logits at the top."""
        key, shape = str(l), self._channel_shapes[l]
        z = z + self.betas[key].view(shape)
        return z * self.gammas[key].view(shape) if key in self.gammas else z

    def _encode(self, x: torch.Tensor, noise: list | None = None,
                statistics: str = "batch") -> _EncoderPass:
        """Encoder on ``x`` of shape ``(N, G, *input_shape)``: G groups of N rows.

        ``noise`` (from :meth:`draw_noise`, None for none) is added to each layer: the
        groups it corrupts go through the corrupted encoder, the others through the clean
        one; both share every matrix product and kernel. ``statistics`` chooses the
        normalisation: ``"batch"``, each group with its own batch statistics in one fused
        kernel; ``"batch_stats"``, the same, also returning the last group's statistics,
        differentiably (the clean pass's, which the decoder reuses); ``"test"``, the
        fixed test-time statistics, so that every row is processed on its own. Weights
        follow the dtype of ``x``.
        """
        if statistics not in ("batch", "batch_stats", "test"):
            raise ValueError(f"unknown statistics {statistics!r}")
        noise = noise or [None] * (self.n_layers + 1)
        if noise[0] is not None:
            x = x + noise[0]
        zs, hs, means, inv_stds = [x], [x], [None], [None]
        h = x
        for l in range(1, self.n_layers + 1):
            z_pre = self.mappings[l].encode(h, self._weight(self.weights, l, x.dtype))
            mean = inv_std = None
            if statistics == "test":
                shape = self._channel_shapes[l]
                z = _normalize(z_pre, self.test_mean(l).to(x.dtype).view(shape),
                               self.test_var(l).to(x.dtype).view(shape))
            else:
                z, mean, inv_std = self._batch_normalize(z_pre, statistics == "batch_stats")
            if noise[l] is not None:
                z = z + noise[l]
            if l in self._activated:
                h = self._phi(self._pre_activation(l, z))
            else:
                h = self._pre_activation(l, z) if l == self.n_layers else z
            zs.append(z)
            hs.append(h)
            means.append(mean)
            inv_stds.append(inv_std)
        return _EncoderPass(zs, hs, means, inv_stds, h)

    def _batch_normalize(self, z_pre: torch.Tensor, with_statistics: bool):
        """Training normalisation of ``z_pre`` of shape ``(N, G, C, ...)``: each group with
        its own batch statistics, except that with ``labeled_statistics="unlabeled"`` the
        labeled rows (group 0) borrow those of the corrupted unlabeled rows (group 1).
        Returns ``z`` and, ``with_statistics``, the last group's mean and inverse std."""
        borrow = self.labeled_statistics == "unlabeled" and z_pre.shape[1] > 1
        groups = z_pre[:, 1:] if borrow else z_pre
        mean = inv_std = None
        if with_statistics:
            z, mean, inv_std = _batch_normalize_groups_with_statistics(groups)
        else:
            z = _batch_normalize_groups(groups)
        if borrow:
            _, unlabeled_mean, unlabeled_inv_std = _batch_moments(z_pre[:, 1])
            labeled = (z_pre[:, 0] - unlabeled_mean) * unlabeled_inv_std
            z = torch.cat([labeled[:, None], z], dim=1)
        return z, mean, inv_std

    def predict_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Clean encoder with the fixed test-time statistics: float64 logits (n, n_classes).

        Each row is processed independently and in float64: float32 matrix products round
        differently for different numbers of rows, and predictions must not depend on how
        the rows are batched.
        """
        return self._encode(self._images(x.double()), statistics="test").logits[:, 0]

    @torch.no_grad()
    def features(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """Clean activation ``h_layer`` (logits at ``layer = L``), float64, row by row,
        flattened to ``(n, channels * height * width)`` for maps."""
        encoded = self._encode(self._images(x.double()), statistics="test")
        return encoded.h[layer][:, 0].flatten(1)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, noisy: bool = False,
                    generator: torch.Generator | None = None) -> torch.Tensor:
        """The decoder's reconstruction ``z_hat_0`` of the flat input rows, float64.

        The encoder uses the test-time statistics (and the training noise, drawn from
        ``generator``, when ``noisy``);
        the decoder's parameter-free normalisation of ``u`` uses the statistics of the rows
        given, as in training, so pass a batch of typical size.
        """
        if self.lowest_decoded != 0:
            decodes = ("has no decoder" if self.lowest_decoded is None else
                       f"decodes only down to layer {self.lowest_decoded}")
            raise ValueError(
                f"reconstruct needs a decoder down to the input (mode 'full' or 'bottom', "
                f"λ_0 > 0); this ladder {decodes}.")
        noise = self.draw_noise(len(x), 1, int(noisy), generator, torch.float64, x.device)
        encoded = self._encode(self._images(x.double()), noise, statistics="test")
        z_hats = self._denoise([z[:, 0] for z in encoded.z], encoded.logits[:, 0])
        return z_hats[0].flatten(1)

    def test_mean(self, l: int) -> torch.Tensor:
        return getattr(self, f"test_mean_{l}")

    def test_var(self, l: int) -> torch.Tensor:
        return getattr(self, f"test_var_{l}")

    @torch.no_grad()
    def clean_batch_statistics(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Mean and unbiased variance of each layer's pre-activation on one clean batch.

        ``x`` has shape ``(n, d)``. Returns a list over layers 1..L of ``(mean, var)``
        vectors (one value per unit or channel; a channel's statistics run over the rows
        and positions); averaged over the labeled batches they become the test-time
        statistics.
        """
        encoded = self._encode(self._images(x), statistics="batch_stats")
        stats = []
        for shape, mean, inv_std in zip(self.shapes[1:], encoded.means[1:], encoded.inv_stds[1:]):
            n = x.shape[0] * math.prod(shape[1:])
            var = (inv_std.double().reshape(-1).pow(-2) - BN_EPS).clamp_min(0.0)
            stats.append((mean.reshape(-1), (var * (n / (n - 1))).to(mean.dtype)))
        return stats

    @torch.no_grad()
    def set_test_statistics(self, stats) -> None:
        """Fix the statistics used in evaluation mode, one ``(mean, var)`` pair per layer."""
        for l, (mean, var) in enumerate(stats, start=1):
            self.test_mean(l).copy_(mean)
            self.test_var(l).copy_(var)

    # ------------------------------------------------------------------ decoder
    def _denoise(self, z_tilde: list, logits: torch.Tensor) -> dict:
        """Reconstructions ``z_hat_l`` from the top down to the lowest decoded layer.

        ``z_tilde[l]`` are the corrupted layers and ``logits`` the corrupted top output,
        rows on axis 0, no group axis. The top-down signal ``u`` is batch-normalised
        without parameters, per channel for maps.
        """
        z_hats = {}
        top = torch.softmax(logits, dim=-1) if self.output == "softmax" else logits
        u = _batch_normalize(top)
        for l in range(self.n_layers, self.lowest_decoded - 1, -1):
            if l < self.n_layers:
                weight = self._weight(self.decoder_weights, l + 1, u.dtype)
                u = _batch_normalize(self.mappings[l + 1].decode(z_hats[l + 1], weight))
            z_hats[l] = self._combine(l, z_tilde[l], u)
        return z_hats

    def _combine(self, l: int, z_tilde: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """ẑ_l = g(z̃_l, u_l); for maps, channels last so that g's per-unit parameters act
        per channel, shared across positions."""
        g = self.combinators[str(l)]
        if z_tilde.ndim == 2:
            return g(z_tilde, u)
        return g(z_tilde.movedim(1, -1), u.movedim(1, -1)).movedim(-1, 1)

    def _decode(self, encoded: _EncoderPass, x_clean: torch.Tensor) -> torch.Tensor:
        """Unweighted denoising costs C_0..C_L of the unlabeled rows: reconstructions from
        the corrupted group 1, targets and statistics from the clean group 2."""
        z_hats = self._denoise([z[:, 1] for z in encoded.z], encoded.logits[:, 1])
        costs = [x_clean.new_zeros(())] * (self.n_layers + 1)
        for l in sorted(self.decoded_layers):
            if l == 0:
                # Pixels are compared raw: a constant pixel has no variance to divide by.
                estimate, target = z_hats[0], x_clean
            else:
                estimate = (z_hats[l] - encoded.means[l]) * encoded.inv_stds[l]
                target = encoded.z[l][:, 2]
            costs[l] = F.mse_loss(estimate, target)
        return torch.stack(costs)

    def forward(self, x: torch.Tensor, noise: list | None = None):
        """Training: costs of one ``2B``-row batch, corrupted by ``noise`` (drawn from
        ``noise_generator`` when None, see :meth:`draw_noise`); evaluation: test-time
        logits."""
        if not self.training:
            return self.predict_logits(x)
        if x.shape[0] % 2:
            raise ValueError("a training batch holds B labeled then B unlabeled rows")
        n = x.shape[0] // 2
        labeled, unlabeled = x[:n], x[n:]
        n_groups, n_noisy = self.training_layout()
        if noise is None:
            noise = self.draw_noise(n, n_groups, n_noisy, self.noise_generator, x.dtype,
                                    x.device)
        if self.lowest_decoded is None:  # the supervised baseline: no unlabeled rows needed
            encoded = self._encode(self._images(labeled), noise)
            return LadderOutput(encoded.logits[:, 0], x.new_zeros(self.n_layers + 1))
        # Groups side by side, (B, G, *input_shape), so that one matrix product per layer
        # serves them all: the labeled and unlabeled rows for the corrupted encoder and,
        # when a hidden layer is decoded, the unlabeled rows again for the clean encoder.
        parts = [labeled, unlabeled, unlabeled][:n_groups]
        groups = torch.stack(parts, dim=1).view(n, n_groups, *self.shapes[0])
        encoded = self._encode(groups, noise,
                               statistics="batch_stats" if self._needs_clean_pass else "batch")
        return LadderOutput(encoded.logits[:, 0], self._decode(encoded, groups[:, 1]))


class LadderCost(nn.Module):
    """The paper's total cost (eq. 3): ``C = C_supervised + Σ_l λ_l C_l``.

    The supervised term is computed on the corrupted pass's outputs for the labeled rows:
    the cross-entropy of the logits (never of a softmax output) for classification, or
    the mean squared error for regression; with row weights, the weighted mean over the
    rows.

    Parameters
    ----------
    denoising_costs : sequence of float
        λ_0..λ_L, the weights of the layers' denoising costs (the buffer ``lambdas``).
    supervised : {"cross_entropy", "squared_error"}, default="cross_entropy"
        The supervised cost.
    """

    def __init__(self, denoising_costs, supervised: str = "cross_entropy"):
        super().__init__()
        if supervised not in ("cross_entropy", "squared_error"):
            raise ValueError(f"unknown supervised cost {supervised!r}")
        self.supervised = supervised
        self.register_buffer("lambdas", torch.tensor([float(c) for c in denoising_costs],
                                                     dtype=torch.float32))

    def supervised_cost(self, outputs: torch.Tensor, y: torch.Tensor,
                        weight: torch.Tensor | None = None) -> torch.Tensor:
        """Mean cost over the rows, or ``mean(weight * cost)`` with row weights."""
        reduction = "mean" if weight is None else "none"
        if self.supervised == "cross_entropy":
            cost = F.cross_entropy(outputs, y, reduction=reduction)
        else:
            cost = F.mse_loss(outputs, y.to(outputs.dtype), reduction=reduction)
        if weight is None:
            return cost
        return (cost.reshape(len(cost), -1).mean(1) * weight.to(cost.dtype)).mean()

    def terms(self, output: LadderOutput, y: torch.Tensor,
              weight: torch.Tensor | None = None,
              lambdas: torch.Tensor | None = None) -> torch.Tensor:
        """Vector ``[C_supervised, λ_0 C_0, ..., λ_L C_L]`` (sums to the total cost), with
        the buffer ``lambdas`` or the λ given (one model's, in a batch of models)."""
        supervised = self.supervised_cost(output.logits, y, weight)
        lambdas = self.lambdas if lambdas is None else lambdas
        return torch.cat([supervised[None], lambdas * output.denoising])

    def forward(self, output: LadderOutput, y: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        return self.terms(output, y, weight).sum()
