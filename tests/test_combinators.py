import torch

from sklearn_ladder._combinators import GaussCombinator, make_combinator


def test_gauss_initial_output_is_zero():
    g = GaussCombinator(7)
    z, u = torch.randn(5, 7), torch.randn(5, 7)
    assert torch.equal(g(z, u), torch.zeros(5, 7))


def test_gauss_matches_equation_2():
    torch.manual_seed(0)
    g = GaussCombinator(3)
    with torch.no_grad():
        g.a.copy_(torch.randn(10, 3))
    z, u = torch.randn(4, 3), torch.randn(4, 3)
    a = g.a.detach()
    mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
    v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
    torch.testing.assert_close(g(z, u), (z - mu) * v + mu)


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
