"""Helpers that several test modules share (pytest puts this folder on ``sys.path``)."""

import numpy as np


def batch_losses(estimator) -> np.ndarray:
    """The training loss of every update of a fitted ladder, in order."""
    return np.array([b["train_loss"] for epoch in estimator.history_ for b in epoch["batches"]])


def assert_same_fits(separate, batched):
    """The same updates, with the same losses: to float rounding over the first three,
    within 1 % after. Rounding differences grow with the updates (Adam's first steps
    divide by tiny moments): in "bottom" mode (λ_0 = 5000) one fit run with 1 and with 2
    threads differs by 1e-5 in the 4th update and 1e-3 by the 12th, as much as here."""
    for a, b in zip(separate, batched):
        assert b.n_updates_ == a.n_updates_ and b.n_iter_ == a.n_iter_
        np.testing.assert_allclose(batch_losses(b)[:3], batch_losses(a)[:3], rtol=1e-5)
        np.testing.assert_allclose(batch_losses(b), batch_losses(a), rtol=1e-2)
