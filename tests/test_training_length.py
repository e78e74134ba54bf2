"""Training length (max_epochs="auto", max_iter), and the warning for fits that learned
nothing."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_ladder import LadderClassifier, LadderRegressor
from sklearn_ladder._base import AUTO_EPOCHS, AUTO_MIN_UPDATES


def test_auto_length_trains_small_data_longer_and_large_data_as_the_paper():
    clf = LadderClassifier()
    assert clf._n_epochs(60000) == AUTO_EPOCHS == 150  # MNIST: 90,000 updates, as before
    per_epoch = 13  # 1,257 digits rows, 100 at a time
    epochs = clf._n_epochs(1257)
    assert epochs * per_epoch >= AUTO_MIN_UPDATES > (epochs - 1) * per_epoch
    assert clf.set_params(max_epochs=7)._n_epochs(1257) == 7


def test_the_regressor_trains_the_papers_epochs_with_a_floor_of_300_updates():
    rng = np.random.default_rng(0)
    X = rng.random((250, 3)).astype(np.float32)
    y = np.where(np.arange(250) < 40, X.sum(axis=1), np.nan)
    reg = LadderRegressor([8], random_state=0).fit(X, y)
    assert (reg.n_iter_, reg.n_updates_) == (150, 450)  # 3 updates per epoch
    # 700 rows (7 updates per epoch): 150 epochs where the classifier trains 3,000 updates
    assert LadderRegressor()._n_epochs(700) == AUTO_EPOCHS < LadderClassifier()._n_epochs(700)
    assert LadderRegressor()._n_epochs(120) == 150  # 2 per epoch: 300 updates
    assert LadderRegressor()._n_epochs(60) == 300  # 1 per epoch: lengthened to 300


def test_max_iter_sets_the_length_in_updates(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_iter=30, lr_decay_start=0.0, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and clf.n_updates_ == 39  # 13 updates per epoch, rounded up
    assert clf.history_[-1, "lr"] < clf.history_[0, "lr"]  # the decay ran over them


def test_max_iter_and_max_epochs_together_are_refused(digits_semi):
    X, y, _, _ = digits_semi
    with pytest.raises(ValueError, match="both set the training length"):
        LadderClassifier([20], max_iter=30, max_epochs=3).fit(X, y)


def test_a_fit_that_learns_nothing_warns(digits_semi):
    X, y, _, _ = digits_semi
    with pytest.warns(ConvergenceWarning, match="did not learn"):
        LadderClassifier([20], max_epochs=3, learning_rate=1e-9, random_state=0).fit(X, y)


def test_a_regressor_that_learns_nothing_warns():
    rng = np.random.default_rng(0)
    X = rng.random((200, 4)).astype(np.float32)
    y = rng.normal(size=200)  # no relation to X, so nothing above the mean's R² of 0
    y[50:] = np.nan
    with pytest.warns(ConvergenceWarning, match="no better than by chance"):
        LadderRegressor([8], max_epochs=2, learning_rate=1e-9, random_state=0).fit(X, y)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_fit_that_learns_does_not_warn(digits_semi, seed):
    # 10 epochs (130 updates); after 3, seed 0's labeled rows are still at chance (its
    # supervised cost 2.58 > ln 10) and that fit rightly warns.
    X, y, _, _ = digits_semi
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LadderClassifier([20], max_epochs=10, random_state=seed).fit(X, y)
