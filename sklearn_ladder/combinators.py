"""Denoising functions g of the ladder's decoder (Rasmus et al. 2015, eq. 2 and Appendix B).

A combinator takes the corrupted activation ``z_tilde`` of a layer and the top-down signal
``u`` (both of shape ``(..., n_units)`` or, for later image layers, with the unit axis
first) and returns the denoised estimate ``z_hat`` of the same shape. Every combinator
has per-unit parameters and the same two-argument ``forward``.

Besides the paper's default Gaussian denoiser (``"gauss"``), the table holds the four
alternatives of the paper's Appendix B (``"g1"`` .. ``"g4"``) and the per-unit MLP that
Pezeshki et al. (2016) found best (``"amlp"``). All of them start with an output of exactly
0 for every input, the convention of the authors' code for ``"gauss"``.
"""

from collections.abc import Callable
from functools import partial

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "COMBINATOR_NAMES",
    "AMLPCombinator",
    "AdditiveCombinator",
    "GaussCombinator",
    "LinearCombinator",
    "MLPCombinator",
    "make_combinator",
]


def _xi(z_tilde: torch.Tensor, u: torch.Tensor, product: bool = True) -> torch.Tensor:
    """Per-unit feature vector ``[1, z_tilde, u(, z_tilde * u)]`` on a new last axis.

    The inputs are broadcast against each other first so that, as in the element-wise
    Gaussian denoiser, e.g. ``u`` of shape ``(B, 1, n)`` may meet ``z_tilde`` of ``(B, G, n)``.
    """
    z_tilde, u = torch.broadcast_tensors(z_tilde, u)
    feats = [torch.ones_like(z_tilde), z_tilde, u]
    if product:
        feats.append(z_tilde * u)
    return torch.stack(feats, dim=-1)


class _GaussDenoiser(torch.autograd.Function):
    """The Gaussian denoiser's formula with a hand-written backward pass.

    Autograd would record about fifteen element-wise nodes per layer, each parameter row a
    view with its own zero-filled gradient, and a reduction per broadcast; here the
    forward is ten fused ``addcmul``/``sigmoid`` kernels and the backward computes the
    (10, n_units) parameter gradient directly. Same formula, same values up to rounding.
    """

    # vmap (the batched trainer) runs forward and backward per model, as written.
    generate_vmap_rule = True

    @staticmethod
    def forward(z_tilde, u, a):
        a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = a
        s1 = torch.sigmoid(torch.addcmul(a3, a2, u))
        s2 = torch.sigmoid(torch.addcmul(a8, a7, u))
        mu = torch.addcmul(torch.addcmul(a5, a4, u), a1, s1)
        v = torch.addcmul(torch.addcmul(a10, a9, u), a6, s2)
        centred = z_tilde - mu
        return torch.addcmul(mu, centred, v), s1, s2, v, centred

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, u, a = inputs
        _, s1, s2, v, centred = output
        ctx.save_for_backward(u, a, s1, s2, v, centred)
        ctx.mark_non_differentiable(s1, s2, v, centred)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad, *_grad_intermediates):
        u, a, s1, s2, v, centred = ctx.saved_tensors
        a1, a2, _a3, a4, _a5, a6, a7, _a8, a9, _a10 = a  # the biases drop out
        grad_z = grad * v
        grad_v = grad * centred
        grad_mu = grad - grad_z  # ∂ẑ/∂μ = 1 - v
        grad_p1 = torch.ops.aten.sigmoid_backward(grad_mu * a1, s1)
        grad_p2 = torch.ops.aten.sigmoid_backward(grad_v * a6, s2)
        grad_u = None
        if ctx.needs_input_grad[1]:
            # Out of place: vmap (the batched trainer) has no rule for addcmul_.
            grad_u = torch.addcmul(grad_p1 * a2, grad_p2, a7)
            grad_u = torch.addcmul(torch.addcmul(grad_u, grad_mu, a4), grad_v, a9)
        rows = tuple(range(grad.ndim - 1))  # every axis but the units'
        grad_a = torch.stack([
            (grad_mu * s1).sum(rows), (grad_p1 * u).sum(rows), grad_p1.sum(rows),
            (grad_mu * u).sum(rows), grad_mu.sum(rows), (grad_v * s2).sum(rows),
            (grad_p2 * u).sum(rows), grad_p2.sum(rows), (grad_v * u).sum(rows), grad_v.sum(rows),
        ])
        return (grad_z if ctx.needs_input_grad[0] else None), grad_u, grad_a


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
        if z_tilde.shape != u.shape:
            z_tilde, u = torch.broadcast_tensors(z_tilde, u)
        return _GaussDenoiser.apply(z_tilde, u, self.a)[0]


class MLPCombinator(nn.Module):
    r"""Miniature per-unit MLP, the paper's comparison functions g1 and g2 (App. B, eqs. 5-6).

    With the per-unit feature vector :math:`\xi = [1, \tilde z, u, \tilde z u]` (``g1``,
    ``product=True``) or :math:`\xi' = [1, \tilde z, u]` (``g2``, ``product=False``):

    .. math::

        \hat z = a \cdot \xi + b\, \sigma(c \cdot \xi)

    Parameters
    ----------
    n_units : int
        Width of the layer; each unit has its own ``a``, ``b`` and ``c``.
    product : bool, default=True
        Whether :math:`\xi` contains the product term :math:`\tilde z u` (g1) or not (g2).

    Attributes
    ----------
    a : torch.nn.Parameter of shape (n_units, k)
        Linear weights on :math:`\xi`, with ``k = 4`` (g1) or ``k = 3`` (g2).
    b : torch.nn.Parameter of shape (n_units,)
        Weight of the sigmoid term.
    c : torch.nn.Parameter of shape (n_units, k)
        Weights inside the sigmoid.

    Notes
    -----
    The paper gives no initialisation. As for the Gaussian denoiser the output starts at
    exactly 0 for every input: ``a = 0`` and ``b = 0``. ``c`` starts at ``[0, 1, 1, 1]``
    (``[0, 1, 1]`` for g2) rather than 0, so that :math:`\sigma(c \cdot \xi)` depends on the
    inputs from the start and ``b`` gets a useful gradient on the first step; ``c`` itself
    receives gradient once ``b`` has moved away from 0.

    The per-unit vectors are stored with the unit axis first so that they broadcast against
    :math:`\xi`, which is stacked on a new last axis of shape ``(..., n_units, k)``.

    Examples
    --------
    >>> import torch
    >>> g = make_combinator("g1", 4)
    >>> g(torch.zeros(2, 4), torch.ones(2, 4)).shape
    torch.Size([2, 4])
    >>> g.a.shape, MLPCombinator(4, product=False).a.shape
    (torch.Size([4, 4]), torch.Size([4, 3]))
    """

    def __init__(self, n_units: int, product: bool = True):
        super().__init__()
        self.product = product
        k = 4 if product else 3
        self.a = nn.Parameter(torch.zeros(n_units, k))
        self.b = nn.Parameter(torch.zeros(n_units))
        c = torch.ones(n_units, k)
        c[:, 0] = 0.0  # no bias inside the sigmoid at the start
        self.c = nn.Parameter(c)

    def forward(self, z_tilde: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        xi = _xi(z_tilde, u, self.product)
        return (xi * self.a).sum(-1) + self.b * torch.sigmoid((xi * self.c).sum(-1))

    def extra_repr(self) -> str:
        return f"n_units={self.b.shape[0]}, product={self.product}"


class LinearCombinator(nn.Module):
    r"""Per-unit linear combination of :math:`[1, \tilde z, u, \tilde z u]`, the paper's g3.

    .. math::

        \hat z = a \cdot \xi, \quad \xi = [1, \tilde z, u, \tilde z u]
        \quad \text{(App. B, eq. 7)}

    Parameters
    ----------
    n_units : int
        Width of the layer; each unit has its own four weights.

    Attributes
    ----------
    a : torch.nn.Parameter of shape (n_units, 4)
        The weights, unit axis first so that they broadcast against :math:`\xi`.

    Notes
    -----
    The paper gives no initialisation; ``a = 0``, so the initial output is exactly 0.

    Examples
    --------
    >>> import torch
    >>> make_combinator("g3", 4)(torch.zeros(2, 4), torch.ones(2, 4)).shape
    torch.Size([2, 4])
    """

    def __init__(self, n_units: int):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(n_units, 4))

    def forward(self, z_tilde: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return (_xi(z_tilde, u) * self.a).sum(-1)


class AdditiveCombinator(nn.Module):
    r"""Additive denoiser in which ``u`` only shifts the mean, the paper's g4.

    .. math::

        \hat z = a_1 u + a_2 \sigma(a_3 u + a_4) + a_5 \tilde z
                 + a_6 \sigma(a_7 \tilde z + a_8) + a_9
        \quad \text{(App. B, eq. 8)}

    Parameters
    ----------
    n_units : int
        Width of the layer; each unit has its own nine parameters ``a1..a9``.

    Attributes
    ----------
    a : torch.nn.Parameter of shape (9, n_units)
        ``a1..a9`` stacked on the first axis, as in :class:`GaussCombinator`.

    Notes
    -----
    The paper gives no initialisation. Following the Gaussian denoiser, the output weights
    ``a1, a2, a5, a6, a9`` start at 0 (so the initial output is exactly 0) and the sigmoids
    start as plain :math:`\sigma(u)` and :math:`\sigma(\tilde z)`: slopes ``a3 = a7 = 1``,
    offsets ``a4 = a8 = 0``.

    Examples
    --------
    >>> import torch
    >>> make_combinator("g4", 4)(torch.zeros(2, 4), torch.ones(2, 4)).shape
    torch.Size([2, 4])
    """

    def __init__(self, n_units: int):
        super().__init__()
        init = torch.zeros(9, n_units)
        init[[2, 6]] = 1.0  # a3, a7
        # One (9, n_units) tensor rather than nine parameters: one Adam update instead of nine.
        self.a = nn.Parameter(init)

    def forward(self, z_tilde: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        a1, a2, a3, a4, a5, a6, a7, a8, a9 = self.a
        return (
            a1 * u
            + a2 * torch.sigmoid(a3 * u + a4)
            + a5 * z_tilde
            + a6 * torch.sigmoid(a7 * z_tilde + a8)
            + a9
        )


class AMLPCombinator(nn.Module):
    r"""Per-unit MLP denoiser ("AMLP") of Pezeshki et al. (2016).

    Each unit has its own one-hidden-layer MLP on :math:`x = [\tilde z, u, \tilde z u]`:

    .. math::

        h = \mathrm{LeakyReLU}_{0.1}(x W_1 + b_1), \quad \hat z = h \cdot W_2 + b_2

    Pezeshki et al., "Deconstructing the Ladder Network Architecture" (ICML 2016), found it
    the best of the denoising functions they compared on MNIST (1.00 / 0.98 / 0.58 % test
    error with 100 / 1000 / all labels).

    Parameters
    ----------
    n_units : int
        Width of the layer; each unit has its own MLP.
    hidden : int, default=4
        Hidden units of each unit's MLP.

    Attributes
    ----------
    W1 : torch.nn.Parameter of shape (n_units, 3, hidden)
    b1 : torch.nn.Parameter of shape (n_units, hidden)
    W2 : torch.nn.Parameter of shape (n_units, hidden)
    b2 : torch.nn.Parameter of shape (n_units,)
        The per-unit weights, batched on a leading unit axis so that all the MLPs run as
        one ``einsum``.

    Notes
    -----
    The output layer starts at zero (``W2 = 0``, ``b2 = 0``), so the initial output is
    exactly 0 for every input, as for the Gaussian denoiser. ``b1 = 0`` and ``W1`` is drawn
    from :math:`N(0, 1/3)` (variance 1/3, i.e. fan-in 3) with ``generator`` (torch's
    global generator when None). The random ``W1`` makes
    the hidden units differ, so ``W2`` gets distinct gradients on the first step and the
    first layer trains once ``W2`` is non-zero.

    Examples
    --------
    >>> import torch
    >>> g = make_combinator("amlp", 4)
    >>> g(torch.zeros(2, 4), torch.ones(2, 4)).shape
    torch.Size([2, 4])
    >>> g.W1.shape
    torch.Size([4, 3, 4])
    """

    negative_slope = 0.1

    def __init__(self, n_units: int, hidden: int = 4, generator: torch.Generator | None = None):
        super().__init__()
        self.hidden = hidden
        # Drawn in float32 whatever torch's default dtype, so that a seed gives a ladder
        # the same weights either way; then in the default dtype, as torch's modules are.
        W1 = torch.randn(n_units, 3, hidden, generator=generator, dtype=torch.float32)
        self.W1 = nn.Parameter((W1 / 3**0.5).to(torch.get_default_dtype()))
        self.b1 = nn.Parameter(torch.zeros(n_units, hidden))
        self.W2 = nn.Parameter(torch.zeros(n_units, hidden))
        self.b2 = nn.Parameter(torch.zeros(n_units))

    def forward(self, z_tilde: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        x = _xi(z_tilde, u)[..., 1:]  # (..., n_units, 3): drop the constant, b1 is the bias
        h = F.leaky_relu(
            torch.einsum("...ni,nih->...nh", x, self.W1) + self.b1, self.negative_slope
        )
        return torch.einsum("...nh,nh->...n", h, self.W2) + self.b2

    def extra_repr(self) -> str:
        return f"n_units={self.b2.shape[0]}, hidden={self.hidden}"


_COMBINATORS: dict[str, Callable[[int], nn.Module]] = {
    "gauss": GaussCombinator,
    "g1": partial(MLPCombinator, product=True),
    "g2": partial(MLPCombinator, product=False),
    "g3": LinearCombinator,
    "g4": AdditiveCombinator,
    "amlp": AMLPCombinator,
}

# The built-in combinators whose initial weights are random.
_SEEDED = {"amlp"}

#: Names accepted by :func:`make_combinator` (and the estimators' ``combinator`` parameter).
COMBINATOR_NAMES = tuple(_COMBINATORS)


def make_combinator(combinator: str | Callable[[int], nn.Module], n_units: int,
                    generator: torch.Generator | None = None) -> nn.Module:
    """Build a combinator for a layer of ``n_units`` units.

    Parameters
    ----------
    combinator : str or callable
        Either a name from :data:`COMBINATOR_NAMES`:

        - ``"gauss"``: the paper's Gaussian denoiser (eq. 2), :class:`GaussCombinator`;
        - ``"g1"``: miniature MLP with the product term, :class:`MLPCombinator`;
        - ``"g2"``: the same without the product term, ``MLPCombinator(product=False)``;
        - ``"g3"``: linear in ``[1, z_tilde, u, z_tilde * u]``, :class:`LinearCombinator`;
        - ``"g4"``: additive, ``u`` shifts only the mean, :class:`AdditiveCombinator`;
        - ``"amlp"``: per-unit MLP of Pezeshki et al. (2016), :class:`AMLPCombinator`;

        or a user-supplied factory ``factory(n_units: int) -> torch.nn.Module``, e.g. an
        ``nn.Module`` subclass whose ``__init__`` takes ``n_units``. The module it returns
        must map ``forward(z_tilde, u)``, both of shape ``(B, n_units)``, to ``z_hat`` of the
        same shape, element-wise per row (row ``i`` of the output may only depend on row
        ``i`` of the inputs). Its parameters are registered in the network and trained with
        the rest. To pickle a fitted estimator, the factory must be importable (a class or
        function defined at module level, or a :func:`functools.partial` of one), not a
        lambda or a local class.
    n_units : int
        Width of the layer.
    generator : torch.Generator, optional
        Source of the random initial weights (the AMLP's ``W1``). A user factory takes
        no generator: it is called with torch's global generator seeded from this one,
        so its weights are reproducible too, but not thread-safe.

    Returns
    -------
    torch.nn.Module
        A module with ``forward(z_tilde, u) -> z_hat``.

    Raises
    ------
    ValueError
        If ``combinator`` is a string that is not in :data:`COMBINATOR_NAMES`.
    TypeError
        If ``combinator`` is neither a string nor callable, or the factory does not return
        an ``nn.Module``.

    Examples
    --------
    >>> import torch
    >>> make_combinator("g3", 4)(torch.zeros(2, 4), torch.ones(2, 4)).shape
    torch.Size([2, 4])
    >>> make_combinator(GaussCombinator, 4).a.shape
    torch.Size([10, 4])
    """
    if isinstance(combinator, str):
        try:
            factory = _COMBINATORS[combinator]
        except KeyError:
            raise ValueError(
                f"Unknown combinator {combinator!r}; valid names are {list(COMBINATOR_NAMES)} "
                "or a callable factory(n_units) -> nn.Module."
            ) from None
        return factory(n_units, generator=generator) if combinator in _SEEDED else factory(n_units)
    if not callable(combinator):
        raise TypeError(
            "combinator must be one of the names "
            f"{list(COMBINATOR_NAMES)} or a callable factory(n_units) -> nn.Module, "
            f"got {type(combinator).__name__}."
        )
    with torch.random.fork_rng(devices=[], enabled=generator is not None):
        if generator is not None:
            torch.manual_seed(int(torch.randint(2**62, (), generator=generator)))
        module = combinator(n_units)
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"The combinator factory {combinator!r} must return a torch.nn.Module, "
            f"got {type(module).__name__}."
        )
    return module
