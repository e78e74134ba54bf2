"""A straightforward ladder network in eager PyTorch: the yardstick for speed and results.

Written the way the paper reads, with no tricks: a clean pass over the whole batch
(labeled and unlabeled rows), a corrupted pass, a decoder, each statistic computed where it
is used, and the ten combinator parameters of each layer as ten tensors. It draws its noise
in the same order as :class:`sklearn_ladder._ladder.Ladder` (input, then each layer, over
all ``2B`` rows), so with the same seed and weights both compute the same costs.
"""

import math
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

EPS = 1e-10


def split_batchnorm(z, n_labeled):
    """Normalise labeled and unlabeled rows with their own mean and biased variance."""
    parts = []
    stats = []
    for part in (z[:n_labeled], z[n_labeled:]):
        mean = part.mean(dim=0)
        var = part.var(dim=0, unbiased=False)
        parts.append((part - mean) / torch.sqrt(var + EPS))
        stats.append((mean, var))
    return torch.cat(parts), stats


def batchnorm(z):
    mean = z.mean(dim=0)
    var = z.var(dim=0, unbiased=False)
    return (z - mean) / torch.sqrt(var + EPS)


class ReferenceLadder(nn.Module):
    """Plain ladder for a ReLU MLP: ``forward(x, y)`` returns the total cost and its terms.

    Parameters
    ----------
    widths : sequence of int
        Layer widths, input first, classes last.
    denoising_costs, noise_std : sequence of float
        λ_l and σ_l for layers 0..L.
    """

    def __init__(self, widths, denoising_costs, noise_std):
        super().__init__()
        self.widths = list(widths)
        self.L = len(widths) - 1
        self.lambdas = list(denoising_costs)
        self.noise = list(noise_std)
        self.W = nn.ParameterList(
            [nn.Parameter(torch.randn(a, b) / math.sqrt(a)) for a, b in pairwise(widths)])
        self.beta = nn.ParameterList([nn.Parameter(torch.zeros(b)) for b in widths[1:]])
        self.gamma_top = nn.Parameter(torch.ones(widths[-1]))
        self.V = nn.ParameterList(
            [nn.Parameter(torch.randn(b, a) / math.sqrt(b)) for a, b in pairwise(widths)])
        self.comb = nn.ModuleList()
        for width in widths:
            params = nn.ParameterList([nn.Parameter(torch.zeros(width)) for _ in range(10)])
            params[1].data.fill_(1.0)
            params[6].data.fill_(1.0)
            self.comb.append(params)

    def load_from(self, ladder):
        """Copy the weights of an MLP ``sklearn_ladder`` module into this one. A ladder of
        another mode builds no decoder below its lowest λ > 0; those layers of the
        reference keep their initial values, which λ = 0 leaves out of the cost."""
        with torch.no_grad():
            for l in range(1, self.L + 1):
                self.W[l - 1].copy_(ladder.weights[str(l)])
                self.beta[l - 1].copy_(ladder.betas[str(l)])
                if str(l) in ladder.decoder_weights:
                    self.V[l - 1].copy_(ladder.decoder_weights[str(l)])
            self.gamma_top.copy_(ladder.gammas[str(self.L)])
            for l in range(self.L + 1):
                if str(l) in ladder.combinators:
                    for k in range(10):
                        self.comb[l][k].copy_(ladder.combinators[str(l)].a[k])
        return self

    def g(self, l, z_tilde, u):
        a = self.comb[l]
        mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
        v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
        return (z_tilde - mu) * v + mu

    def encoder(self, x, n_labeled, noisy):
        h = x + self.noise[0] * torch.randn_like(x) if noisy else x
        zs, stats = [h], [None]
        for l in range(1, self.L + 1):
            z, st = split_batchnorm(h @ self.W[l - 1], n_labeled)
            if noisy:
                z = z + self.noise[l] * torch.randn_like(z)
            zs.append(z)
            stats.append(st)
            pre = z + self.beta[l - 1]
            h = pre * self.gamma_top if l == self.L else F.relu(pre)
        return zs, stats, h

    def forward(self, x, y):
        n = len(y)
        clean_z, clean_stats, _ = self.encoder(x, n, noisy=False)
        noisy_z, _, logits = self.encoder(x, n, noisy=True)
        supervised = F.cross_entropy(logits[:n], y)
        terms = [supervised]
        z_hat = None
        for l in range(self.L, -1, -1):
            if l == self.L:
                u = batchnorm(torch.softmax(logits[n:], dim=1))
            else:
                u = batchnorm(z_hat @ self.V[l])
            z_hat = self.g(l, noisy_z[l][n:], u)
            if l == 0:
                z_hat_bn, target = z_hat, x[n:]
            else:
                mean, var = clean_stats[l][1]
                z_hat_bn = (z_hat - mean) / torch.sqrt(var + EPS)
                target = clean_z[l][n:]
            terms.append(self.lambdas[l] * ((z_hat_bn - target) ** 2).mean())
        return sum(terms), terms
