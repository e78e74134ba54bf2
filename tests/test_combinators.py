import pytest
import torch
from torch import nn

from sklearn_ladder.combinators import (
    COMBINATOR_NAMES,
    AdditiveCombinator,
    AMLPCombinator,
    GaussCombinator,
    LinearCombinator,
    MLPCombinator,
    make_combinator,
)


def test_gauss_initial_output_is_zero():
    g = GaussCombinator(7)
    z, u = torch.randn(5, 7), torch.randn(5, 7)
    assert torch.equal(g(z, u), torch.zeros(5, 7))


def _equation_2(z, u, a):
    mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
    v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
    return (z - mu) * v + mu


def test_gauss_matches_equation_2():
    torch.manual_seed(0)
    g = GaussCombinator(3)
    with torch.no_grad():
        g.a.copy_(torch.randn(10, 3))
    z, u = torch.randn(4, 3), torch.randn(4, 3)
    torch.testing.assert_close(g(z, u), _equation_2(z, u, g.a.detach()))


@pytest.mark.parametrize("z_shape, u_shape", [
    ((6, 5), (6, 5)),  # dense layer
    ((3, 4, 2, 5), (3, 4, 2, 5)),  # feature maps, channels last
    ((6, 2, 5), (6, 1, 5)),  # u broadcast across groups
])
def test_gauss_gradients_match_autograd_of_equation_2(z_shape, u_shape):
    # The hand-written backward pass against autograd through the plain formula, float64.
    torch.manual_seed(0)
    g = GaussCombinator(5).double()
    with torch.no_grad():
        g.a.copy_(torch.randn(10, 5))
    z = torch.randn(z_shape, dtype=torch.double, requires_grad=True)
    u = torch.randn(u_shape, dtype=torch.double, requires_grad=True)
    weights = torch.randn(z_shape, dtype=torch.double)
    got = torch.autograd.grad((g(z, u) * weights).sum(), (z, u, g.a))
    expected = torch.autograd.grad((_equation_2(z, u, g.a) * weights).sum(), (z, u, g.a))
    for name, a, b in zip(("z_tilde", "u", "a"), got, expected):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=name)
    assert torch.autograd.gradcheck(lambda z, u: g(z, u), (z, u))


def test_gauss_needs_no_gradient_for_a_constant_input():
    # Layer 0's z_tilde is the corrupted input, which needs no gradient.
    g = GaussCombinator(3)
    u = torch.randn(4, 3, requires_grad=True)
    g(torch.randn(4, 3), u).sum().backward()
    assert u.grad is not None and g.a.grad.shape == (10, 3)


def test_gauss_with_unit_v_and_zero_mu_is_identity():
    g = GaussCombinator(4)
    with torch.no_grad():
        g.a.zero_()
        g.a[9] = 1.0  # a10: v(u) = 1, mu(u) = 0
    z = torch.randn(3, 4)
    torch.testing.assert_close(g(z, torch.randn(3, 4)), z)


def test_make_combinator_builds_per_unit_parameters():
    g = make_combinator("gauss", 11)
    assert g.a.shape == (10, 11)


# --- All combinators of the table ------------------------------------------------------------


def test_combinator_names():
    assert COMBINATOR_NAMES == ("gauss", "g1", "g2", "g3", "g4", "amlp")


@pytest.mark.parametrize("name", COMBINATOR_NAMES)
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3)])
def test_output_shape_and_initial_zero(name, shape):
    torch.manual_seed(0)
    g = make_combinator(name, shape[-1])
    z, u = torch.randn(shape), torch.randn(shape)
    out = g(z, u)
    assert out.shape == shape
    assert torch.equal(out, torch.zeros(shape))


@pytest.mark.parametrize("name", COMBINATOR_NAMES)
def test_broadcasts_u_over_a_group_axis(name):
    torch.manual_seed(0)
    g = make_combinator(name, 3)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(0.5 * torch.randn_like(p))
    z, u = torch.randn(2, 4, 3), torch.randn(2, 1, 3)
    torch.testing.assert_close(g(z, u), g(z, u.expand(2, 4, 3)))


def _denoising_problem(n=3, batch=32):
    clean = torch.randn(batch, n)
    return clean, clean + 0.5 * torch.randn(batch, n)


@pytest.mark.parametrize("name", COMBINATOR_NAMES)
def test_learns_a_simple_denoising_task(name):
    torch.manual_seed(0)
    clean, noisy = _denoising_problem()
    g = make_combinator(name, 3)
    opt = torch.optim.Adam(g.parameters(), lr=0.05)
    reached = {k: torch.zeros_like(p, dtype=torch.bool) for k, p in g.named_parameters()}
    losses = []
    for step in range(50):
        opt.zero_grad()
        loss = ((g(noisy, clean) - clean) ** 2).mean()
        loss.backward()
        for k, p in g.named_parameters():
            reached[k] |= p.grad != 0
        if step == 4:  # within a few steps the gradient has reached every parameter
            for k, r in reached.items():
                assert r.all(), f"{name}: no gradient reached parts of {k}"
        opt.step()
        losses.append(loss.item())
        if step == 0:
            assert not torch.equal(g(noisy, clean), torch.zeros_like(clean))
    assert losses[-1] < 0.5 * losses[0]


def _set(param, value):
    with torch.no_grad():
        param.copy_(value)


@pytest.mark.parametrize("product", [True, False])
def test_mlp_matches_equations_5_and_6(product):
    torch.manual_seed(0)
    n, k = 3, 4 if product else 3
    g = MLPCombinator(n, product=product)
    a, b, c = torch.randn(n, k), torch.randn(n), torch.randn(n, k)
    _set(g.a, a), _set(g.b, b), _set(g.c, c)
    z, u = torch.randn(5, n), torch.randn(5, n)
    expected = torch.empty(5, n)
    for i in range(5):
        for j in range(n):
            xi = [1.0, z[i, j], u[i, j]] + ([z[i, j] * u[i, j]] if product else [])
            lin = sum(a[j, m] * xi[m] for m in range(k))
            pre = sum(c[j, m] * xi[m] for m in range(k))
            expected[i, j] = lin + b[j] * torch.sigmoid(pre)
    torch.testing.assert_close(g(z, u), expected)


def test_g1_and_g2_from_the_table():
    g1, g2 = make_combinator("g1", 2), make_combinator("g2", 2)
    assert isinstance(g1, MLPCombinator) and g1.product and g1.a.shape == (2, 4)
    assert isinstance(g2, MLPCombinator) and not g2.product and g2.a.shape == (2, 3)
    torch.testing.assert_close(g1.c[0], torch.tensor([0.0, 1.0, 1.0, 1.0]))
    torch.testing.assert_close(g2.c[0], torch.tensor([0.0, 1.0, 1.0]))


def test_linear_matches_equation_7():
    torch.manual_seed(0)
    g = make_combinator("g3", 3)
    assert isinstance(g, LinearCombinator)
    a = torch.randn(3, 4)
    _set(g.a, a)
    z, u = torch.randn(5, 3), torch.randn(5, 3)
    expected = a[:, 0] + a[:, 1] * z + a[:, 2] * u + a[:, 3] * z * u
    torch.testing.assert_close(g(z, u), expected)


def test_additive_matches_equation_8():
    torch.manual_seed(0)
    g = make_combinator("g4", 3)
    assert isinstance(g, AdditiveCombinator)
    init = g.a.detach().clone()
    torch.testing.assert_close(init[[2, 6]], torch.ones(2, 3))
    torch.testing.assert_close(init[[0, 1, 3, 4, 5, 7, 8]], torch.zeros(7, 3))
    a = torch.randn(9, 3)
    _set(g.a, a)
    z, u = torch.randn(5, 3), torch.randn(5, 3)
    a1, a2, a3, a4, a5, a6, a7, a8, a9 = a
    expected = (
        a1 * u + a2 * torch.sigmoid(a3 * u + a4) + a5 * z + a6 * torch.sigmoid(a7 * z + a8) + a9
    )
    torch.testing.assert_close(g(z, u), expected)


def test_amlp_matches_a_per_unit_mlp():
    torch.manual_seed(0)
    n, hidden = 3, 4
    g = make_combinator("amlp", n)
    assert isinstance(g, AMLPCombinator)
    assert g.W1.shape == (n, 3, hidden) and g.b1.shape == (n, hidden)
    assert g.W2.shape == (n, hidden) and g.b2.shape == (n,)
    W1, b1, W2, b2 = (torch.randn(p.shape) for p in (g.W1, g.b1, g.W2, g.b2))
    _set(g.W1, W1), _set(g.b1, b1), _set(g.W2, W2), _set(g.b2, b2)
    z, u = torch.randn(5, n), torch.randn(5, n)
    expected = torch.empty(5, n)
    for i in range(5):
        for j in range(n):
            x = torch.stack([z[i, j], u[i, j], z[i, j] * u[i, j]])
            pre = x @ W1[j] + b1[j]
            h = torch.where(pre > 0, pre, 0.1 * pre)
            expected[i, j] = h @ W2[j] + b2[j]
    torch.testing.assert_close(g(z, u), expected)


def test_amlp_init_is_seeded_by_the_global_rng():
    torch.manual_seed(3)
    g1 = AMLPCombinator(50, hidden=6)
    torch.manual_seed(3)
    g2 = AMLPCombinator(50, hidden=6)
    assert torch.equal(g1.W1, g2.W1)
    assert g1.W1.shape == (50, 3, 6)
    assert abs(g1.W1.var().item() - 1 / 3) < 0.05
    for p in (g1.b1, g1.W2, g1.b2):
        assert torch.equal(p, torch.zeros_like(p))


# --- User-supplied modules ---------------------------------------------------------------------


class _ScaledSum(nn.Module):
    def __init__(self, n_units):
        super().__init__()
        self.w = nn.Parameter(torch.full((n_units,), 0.5))

    def forward(self, z_tilde, u):
        return self.w * (z_tilde + u)


def test_user_module_class_is_accepted():
    g = make_combinator(_ScaledSum, 3)
    assert isinstance(g, _ScaledSum) and g.w.shape == (3,)
    z, u = torch.randn(2, 3), torch.randn(2, 3)
    torch.testing.assert_close(g(z, u), 0.5 * (z + u))


def test_user_factory_must_return_a_module():
    with pytest.raises(TypeError, match=r"must return a torch\.nn\.Module"):
        make_combinator(lambda n: torch.zeros(n), 3)


def test_non_callable_combinator_is_a_type_error():
    with pytest.raises(TypeError, match="callable"):
        make_combinator(3, 3)


def test_unknown_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown combinator 'g5'") as info:
        make_combinator("g5", 3)
    for name in COMBINATOR_NAMES:
        assert repr(name) in str(info.value)
