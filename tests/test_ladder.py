import pytest
import torch

from sklearn_ladder._ladder import (
    BN_EPS,
    Ladder,
    LadderCost,
    _batch_normalize_groups_with_statistics,
)

WIDTHS = (12, [9, 7, 4])  # input, layers 1..3 (4 classes): L = 3
FULL = [1000.0, 10.0, 0.1, 0.1]


def make(costs=FULL, noise=0.3, **kwargs):
    torch.manual_seed(0)
    return Ladder(*WIDTHS, denoising_costs=costs, noise_std=[noise] * 4, **kwargs)


def batch(B=16, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2 * B, WIDTHS[0], generator=g), torch.randint(0, 4, (B,), generator=g)


@pytest.mark.parametrize("costs, decoded, vs", [
    (FULL, ["0", "1", "2", "3"], ["1", "2", "3"]),
    ([0, 0, 0, 0.5], ["3"], []),           # Γ-model: top combinator only
    ([5000, 0, 0, 0], ["0", "1", "2", "3"], ["1", "2", "3"]),  # bottom: whole decoder
    ([0, 0, 1.0, 0], ["2", "3"], ["3"]),
    ([0, 0, 0, 0], [], []),                # supervised: no decoder
])
def test_decoder_is_built_down_to_the_lowest_nonzero_lambda(costs, decoded, vs):
    ladder = make(costs)
    assert sorted(ladder.combinators) == decoded
    assert sorted(ladder.decoder_weights) == vs


def test_gamma_on_softmax_layer_only_for_relu():
    assert list(make().gammas) == ["3"]
    assert sorted(make(activation="tanh").gammas) == ["1", "2", "3"]


def test_weight_init_scale_is_one_over_sqrt_fan_in():
    torch.manual_seed(0)
    ladder = Ladder(400, [300, 10], [1, 1, 1], [0.3] * 3)
    assert ladder.weights["1"].std().item() == pytest.approx(400 ** -0.5, rel=0.05)
    assert ladder.decoder_weights["1"].std().item() == pytest.approx(300 ** -0.5, rel=0.05)


@pytest.mark.parametrize("costs", [FULL, [0, 0, 0, 0.5], [5000, 0, 0, 0], [0, 0, 0, 0]])
def test_gradient_reaches_every_parameter_involved(costs):
    ladder = make(costs).train()
    x, y = batch()
    optimizer = torch.optim.Adam(ladder.parameters(), lr=0.01)
    # At initialisation g ignores u (a1 = a4 = a6 = a9 = 0), so gradient climbs the
    # decoder one layer per update: after L + 1 updates every parameter has some.
    for _ in range(6):
        optimizer.zero_grad()
        LadderCost(costs)(ladder(x), y).backward()
        optimizer.step()
    for name, p in ladder.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_labeled_and_unlabeled_rows_use_their_own_statistics():
    ladder = make(noise=0.0).train()
    x, _ = batch()
    shifted = x.clone()
    shifted[16:] = shifted[16:] * 5 + 3  # change only the unlabeled rows
    # The labeled rows' logits depend on labeled statistics only.
    torch.testing.assert_close(ladder(x).logits, ladder(shifted).logits)
    encoded = ladder._encode(x.reshape(2, 16, -1).transpose(0, 1))
    for z in encoded.z[1:]:
        torch.testing.assert_close(z.mean(dim=0), torch.zeros_like(z.mean(dim=0)),
                                   atol=1e-5, rtol=0)
        torch.testing.assert_close(z.var(dim=0, unbiased=False), torch.ones_like(z[0]),
                                   atol=1e-4, rtol=0)


def test_labeled_rows_can_borrow_the_unlabeled_rows_statistics():
    own, borrowing = make(noise=0.0).train(), make(noise=0.0, labeled_statistics="unlabeled")
    x, _ = batch()
    groups = x.reshape(2, 16, -1).transpose(0, 1)
    z_own, z_borrowed = own._encode(groups).z[1], borrowing._encode(groups).z[1]
    z_pre = groups @ borrowing.weights["1"]
    unlabeled = z_pre[:, 1]
    expected = (z_pre[:, 0] - unlabeled.mean(0)) / (unlabeled.var(0, unbiased=False)
                                                     + BN_EPS).sqrt()
    torch.testing.assert_close(z_borrowed[:, 0], expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(z_borrowed[:, 1], z_own[:, 1])  # the unlabeled rows' own
    assert not torch.allclose(z_borrowed[:, 0], z_own[:, 0], atol=1e-2)
    # So the labeled rows' logits now follow the unlabeled rows.
    shifted = x.clone()
    shifted[16:] = shifted[16:] * 5 + 3
    assert not torch.allclose(borrowing.train()(x).logits, borrowing(shifted).logits)


def test_borrowed_statistics_need_unlabeled_rows_in_the_batch():
    with pytest.raises(ValueError, match=r"supervised baseline.*labeled_statistics='labeled'"):
        make(costs=[0, 0, 0, 0], labeled_statistics="unlabeled")
    with pytest.raises(ValueError, match="'labeled' or 'unlabeled'"):
        make(labeled_statistics="own")


def test_layer_zero_cost_is_unnormalised():
    # Identity combinator at layer 0: C_0 = mean(noise^2) = σ_0^2, even with constant pixels
    # (normalising them would divide by a zero variance).
    torch.manual_seed(0)
    ladder = Ladder(784, [50, 10], [1.0, 0, 0], [0.3, 0, 0]).train()
    with torch.no_grad():
        ladder.combinators["0"].a.zero_()
        ladder.combinators["0"].a[9] = 1.0
    x = torch.rand(400, 784)
    x[:, :100] = 0.0
    cost = ladder(x).denoising[0].item()
    assert cost == pytest.approx(0.09, rel=0.02)


def test_hidden_cost_normalises_z_hat_with_clean_unlabeled_statistics():
    ladder = make(costs=[0, 0, 0, 1.0], noise=0.0).train()
    x, _ = batch()
    out = ladder(x)
    # With zero noise and the initial combinator, z_hat = 0, so the estimate is
    # -mean/std of the clean unlabeled top pre-activations, the target is their z.
    h = x[16:]
    for l in (1, 2, 3):
        z_pre = h @ ladder.weights[str(l)]
        mean, var = z_pre.mean(0), z_pre.var(0, unbiased=False)
        z = (z_pre - mean) / torch.sqrt(var + BN_EPS)
        h = torch.relu(z + ladder.betas[str(l)])
    expected = (-mean / torch.sqrt(var + BN_EPS) - z).square().mean()
    torch.testing.assert_close(out.denoising[3], expected)


def test_cost_terms_sum_to_total_and_supervised_term_is_cross_entropy():
    ladder = make().train()
    x, y = batch()
    torch.manual_seed(5)
    out = ladder(x)
    cost = LadderCost(FULL)
    terms = cost.terms(out, y)
    torch.testing.assert_close(terms.sum(), cost(out, y))
    torch.testing.assert_close(terms[0], torch.nn.functional.cross_entropy(out.logits, y))
    torch.testing.assert_close(terms[1:], torch.tensor(FULL) * out.denoising)


def test_evaluation_is_row_wise_with_fixed_statistics():
    ladder = make()
    x, _ = batch()
    ladder.set_test_statistics(ladder.clean_batch_statistics(x[:16]))
    ladder.eval()
    whole = ladder(x)
    pieces = torch.cat([ladder(x[i:i + 5]) for i in range(0, len(x), 5)])
    torch.testing.assert_close(whole, pieces)


@pytest.mark.parametrize("shape", [(7, 3, 4), (5, 3, 2, 3, 3)])
def test_batch_norm_statistics_are_differentiable_like_the_formula(shape):
    # The last group's mean and 1/std come from the batch-norm kernel, with a hand-written
    # gradient; compare with autograd through the plain formula, float64.
    torch.manual_seed(0)
    z = torch.randn(shape, dtype=torch.double, requires_grad=True)
    axes = (0, *range(3, len(shape)))
    weights = [torch.randn(shape, dtype=torch.double), torch.randn(shape[2], dtype=torch.double),
               torch.randn(shape[2], dtype=torch.double)]

    def combined(out, mean, inv_std):
        return ((out * weights[0]).sum() + (mean.flatten() * weights[1]).sum()
                + (inv_std.flatten() * weights[2]).sum())

    out, mean, inv_std = _batch_normalize_groups_with_statistics(z)
    plain_mean = z.mean(axes, keepdim=True)
    plain_var = (z - plain_mean).square().mean(axes, keepdim=True)
    plain = ((z - plain_mean) / torch.sqrt(plain_var + BN_EPS), plain_mean[:, -1],
             torch.rsqrt(plain_var[:, -1] + BN_EPS))
    for got, expected in zip((out, mean, inv_std), plain):
        torch.testing.assert_close(got, expected.reshape(got.shape))
    grad, = torch.autograd.grad(combined(out, mean, inv_std), z)
    expected_grad, = torch.autograd.grad(combined(*plain), z)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-10)
    assert torch.autograd.gradcheck(lambda t: _batch_normalize_groups_with_statistics(t), (z,))


def test_noise_leaves_the_clean_groups_untouched_and_follows_a_plain_stream():
    ladder = Ladder(4, [6, 3], [1.0, 1.0, 1.0], [0.5, 0.0, 0.2])
    noise = ladder.draw_noise(50, 3, 2, torch.Generator().manual_seed(0))
    assert noise[1] is None  # σ_1 = 0: nothing drawn, nothing added
    assert [tuple(n.shape) for n in (noise[0], noise[2])] == [(50, 3, 4), (50, 3, 3)]
    assert torch.all(noise[0][:, 2] == 0) and torch.all(noise[2][:, 2] == 0)
    eps = noise[0][:, :2] / 0.5
    assert abs(eps.mean()) < 0.15 and abs(eps.std() - 1) < 0.15
    # The same draws as a plain corruption of the first two groups, group after group,
    # layer after layer.
    g = torch.Generator().manual_seed(1)
    drawn = ladder.draw_noise(50, 3, 2, g)
    g.manual_seed(1)
    plain = [0.5 * torch.randn(2, 50, 4, generator=g), 0.2 * torch.randn(2, 50, 3, generator=g)]
    torch.testing.assert_close(drawn[0][:, :2], plain[0].transpose(0, 1))
    torch.testing.assert_close(drawn[2][:, :2], plain[1].transpose(0, 1))
    assert ladder.draw_noise(50, 1, 0, g) == [None, None, None]


def test_clean_batch_statistics_are_unbiased():
    ladder = make()
    x = torch.rand(10, WIDTHS[0])
    (mean, var), *_ = ladder.clean_batch_statistics(x)
    z_pre = x @ ladder.weights["1"]
    torch.testing.assert_close(mean, z_pre.mean(0))
    torch.testing.assert_close(var, z_pre.var(0, unbiased=True))


def test_training_batch_must_hold_two_equal_groups():
    with pytest.raises(ValueError, match="B labeled then B unlabeled"):
        make().train()(torch.rand(7, WIDTHS[0]))


def test_wrong_number_of_per_layer_values_is_rejected():
    with pytest.raises(ValueError, match="need 4 values"):
        Ladder(*WIDTHS, denoising_costs=[1, 1], noise_std=[0.3] * 4)
