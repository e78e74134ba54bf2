"""Training length (max_epochs="auto", max_iter), and the warnings for unscaled inputs and
for fits that learned nothing."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_ladder import LadderClassifier, LadderRegressor
from sklearn_ladder._base import AUTO_EPOCHS, AUTO_MIN_UPDATES, InputScaleWarning


def test_auto_length_trains_small_data_longer_and_large_data_as_the_paper():
    clf = LadderClassifier()
    assert clf._n_epochs(60000) == AUTO_EPOCHS == 150  # MNIST: 90,000 updates, as before
    per_epoch = 13  # 1,257 digits rows, 100 at a time
    epochs = clf._n_epochs(1257)
    assert epochs * per_epoch >= AUTO_MIN_UPDATES > (epochs - 1) * per_epoch
    assert clf.set_params(max_epochs=7)._n_epochs(1257) == 7


def test_max_iter_sets_the_length_in_updates(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_iter=30, lr_decay_start=0.0, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and clf.n_updates_ == 39  # 13 updates per epoch, rounded up
    assert clf.history_[-1, "lr"] < clf.history_[0, "lr"]  # the decay ran over them


def test_max_iter_and_max_epochs_together_are_refused(digits_semi):
    X, y, _, _ = digits_semi
    with pytest.raises(ValueError, match="both set the training length"):
        LadderClassifier([20], max_iter=30, max_epochs=3).fit(X, y)


@pytest.mark.parametrize("factor", [16.0, 16e6, 1e-3])
def test_unscaled_inputs_kept_as_given_warn_and_name_the_fix(digits_semi, factor):
    X, y, _, _ = digits_semi  # in [0, 1]: digits / 16
    with pytest.warns(InputScaleWarning,
                      match=r"input_scaling='auto'.*MinMaxScaler\(\).*StandardScaler\(\)"):
        LadderClassifier([20], input_scaling=None, max_epochs=1, random_state=0).fit(
            X * factor, y)


def test_one_feature_far_from_unit_scale_is_enough_to_warn(digits_semi):
    """As raw iris (its largest feature's root mean square 5.9, X's as a whole 4.0):
    X's root mean square alone would not tell."""
    X, y, _, _ = digits_semi
    X = X.copy()
    X[:, 10] = 3 + 6 * X[:, 10]
    with pytest.warns(InputScaleWarning, match="feature 10 of X has a root mean square"):
        LadderClassifier([20], input_scaling=None, max_epochs=1, random_state=0).fit(X, y)


def test_scaled_inputs_do_not_warn_and_are_taken_as_given(digits_semi):
    """Inputs in [0, 1] and standardised ones are of unit scale: "auto" leaves them as
    they are (the paper's pixels stay the paper's), so the fit is input_scaling=None's."""
    from sklearn.preprocessing import StandardScaler

    X, y, _, _ = digits_semi
    for rows in (X, StandardScaler().fit_transform(X)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", InputScaleWarning)
            auto = LadderClassifier([20], max_epochs=1, random_state=0).fit(rows, y)
        given = LadderClassifier([20], input_scaling=None, max_epochs=1,
                                 random_state=0).fit(rows, y)
        assert auto.input_scaler_ is None
        np.testing.assert_array_equal(auto.predict_proba(rows), given.predict_proba(rows))


@pytest.mark.parametrize("scale, offset", [(16.0, 0.0), (16e6, 0.0), (1e-3, 0.0),
                                           (6.0, 3.0)])
def test_auto_scaling_fits_as_a_minmax_pipeline(digits_semi, scale, offset):
    """Inputs far from unit scale (digits as integers 0-16, ×1e6, ×1e-6, shifted to
    [3, 9]) are scaled to [0, 1] inside the estimator: the same fit, predictions and
    features as MinMaxScaler() in a Pipeline, and the reconstruction in X's units."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y, X_test, _ = digits_semi
    X, X_test = offset + scale * X, offset + scale * X_test
    params = dict(layers=[20], max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputScaleWarning)
        auto = LadderClassifier(**params).fit(X, y)
    pipeline = make_pipeline(MinMaxScaler(), LadderClassifier(input_scaling=None, **params))
    pipeline.fit(X, y)
    scaler, ladder = pipeline[0], pipeline[-1]
    np.testing.assert_allclose(auto.input_scaler_.data_range_, scaler.data_range_)
    np.testing.assert_allclose(auto.predict_proba(X_test), pipeline.predict_proba(X_test),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(auto.transform(X_test), ladder.transform(
        scaler.transform(X_test)), rtol=1e-5, atol=1e-6)
    expected = scaler.inverse_transform(ladder.reconstruct(scaler.transform(X_test)))
    np.testing.assert_allclose(auto.reconstruct(X_test), expected, rtol=1e-4,
                               atol=1e-5 * scale)


def test_the_regressor_scales_raw_inputs_as_a_minmax_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    rng = np.random.default_rng(0)
    # e.g. measurements in grams; float32, as the estimator scales them: the pipeline's
    # scaler then rounds as the estimator's does (float64 rows differ by a rounding)
    X = rng.uniform(0, 500, (300, 5)).astype(np.float32)
    y = np.sin(X[:, 0] / 100) + X[:, 1] / 500
    y[60:] = np.nan
    params = dict(layers=[16], max_epochs=3, random_state=0)
    auto = LadderRegressor(**params).fit(X, y)
    pipeline = make_pipeline(MinMaxScaler(), LadderRegressor(input_scaling=None, **params))
    np.testing.assert_allclose(auto.predict(X), pipeline.fit(X, y).predict(X), rtol=1e-5,
                               atol=1e-6)


def test_minmax_scales_inputs_of_unit_scale_too(digits_semi):
    X, y, _, _ = digits_semi
    fit = LadderClassifier([20], input_scaling="minmax", max_epochs=1, random_state=0)
    fit.fit(0.5 * X, y)
    np.testing.assert_allclose(fit.input_scaler_.data_max_, X.max(0) * 0.5)


def test_a_continued_fit_keeps_the_first_fits_scaling(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=1, warm_start=True, random_state=0)
    clf.fit(16 * X, y)
    scaler = clf.input_scaler_
    clf.fit(32 * X, y)  # as a user's next batch of rows: the network's inputs stay put
    assert clf.input_scaler_ is scaler and clf.n_iter_ == 2
    for changed in (None, "minmax"):
        fitted = LadderClassifier([20], max_epochs=1, warm_start=True, random_state=0,
                                  input_scaling="auto" if changed else "minmax")
        fitted.fit(X, y)  # "auto" on X in [0, 1]: as given; "minmax": scaled
        before = fitted.predict_proba(X)
        with pytest.raises(ValueError, match=r"input_scaling=.* asks otherwise"):
            fitted.set_params(input_scaling=changed).fit(X, y)
        np.testing.assert_array_equal(fitted.predict_proba(X), before)


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
