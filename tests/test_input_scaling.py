"""The network's inputs (input_scaling): the scale and tail checks, the scaler a fit keeps,
and the warnings for inputs taken as given."""

import warnings

import numpy as np
import pytest
from _helpers import sparse_small_rows
from sklearn.preprocessing import MinMaxScaler, QuantileTransformer

from sklearn_ladder import InputScaleWarning, LadderClassifier, LadderRegressor
from sklearn_ladder._input_scaling import (
    FAR_TAIL,
    InputScaler,
    SmallValuesMinMaxScaler,
    feature_spread,
    fit_input_scaler,
    shared_fits,
    tail_ratios,
)
from sklearn_ladder.layers import Conv, GlobalMeanPool


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


def test_inputs_in_the_unit_interval_do_not_warn_and_are_taken_as_given(digits_semi):
    """Inputs in [0, 1] are what the defaults were chosen on: "auto" leaves them as they
    are (the paper's pixels stay the paper's), so the fit is input_scaling=None's."""
    X, y, _, _ = digits_semi
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputScaleWarning)
        auto = LadderClassifier([20], max_epochs=1, random_state=0).fit(X, y)
    given = LadderClassifier([20], input_scaling=None, max_epochs=1,
                             random_state=0).fit(X, y)
    assert auto.input_scaler_ is None
    np.testing.assert_array_equal(auto.predict_proba(X), given.predict_proba(X))


def test_sparse_rows_of_small_values_are_mapped_to_the_unit_interval():
    """TF-IDF-like rows (unit norm over 400 features, 20 nonzero): in [0, 1], but of a
    root mean square of 0.05. "auto" maps them by each feature's minimum and maximum;
    taken as given, they warn."""
    X, y = sparse_small_rows(20)
    auto = LadderClassifier([20], max_iter=2, random_state=0).fit(X, y)
    assert auto.input_scaler_.minmax_ is not None
    np.testing.assert_allclose(auto.input_scaler_.minmax_.data_max_, X.max(axis=0))
    with pytest.warns(InputScaleWarning, match="X has a root mean square of 0.05"):
        LadderClassifier([20], input_scaling=None, max_iter=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("to_unit_scale", ["standardise", "whiten", "to [-1, 1]"])
def test_tables_of_unit_scale_beyond_the_unit_interval_are_mapped_to_it(digits_semi,
                                                                       to_unit_scale):
    """A Pipeline's StandardScaler, PCA whitening or MaxAbs-like [-1, 1] map: "auto" maps
    the table to [0, 1] by each feature's minimum and maximum, without a warning; images
    of unit scale (input_shape) stay as given."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    X, y, _, _ = digits_semi
    rows = {"standardise": lambda: StandardScaler().fit_transform(X),
            "whiten": lambda: PCA(20, whiten=True, random_state=0).fit_transform(X),
            "to [-1, 1]": lambda: 2 * X - 1}[to_unit_scale]()
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputScaleWarning)
        table = LadderClassifier([20], max_iter=2, random_state=0).fit(rows, y)
    assert table.input_scaler_.kind() == "minmax"
    mapped = table.input_scaler_.transform(rows)
    np.testing.assert_allclose([mapped.min(), mapped.max()], [0, 1], atol=1e-6)
    if to_unit_scale != "whiten":
        images = LadderClassifier([Conv(10, 3), GlobalMeanPool()], input_shape=(1, 8, 8),
                                  max_iter=2, random_state=0).fit(rows, y)
        assert images.input_scaler_ is None


@pytest.mark.parametrize("scale, offset", [(16.0, 0.0), (16e6, 0.0), (1e-3, 0.0),
                                           (6.0, 3.0)])
def test_auto_scaling_fits_as_a_minmax_pipeline(digits_semi, scale, offset):
    """Inputs far from unit scale (digits as integers 0-16, ×1e6, ×1e-6, shifted to
    [3, 9]) are scaled to [0, 1] inside the estimator: the same fit, predictions and
    features as MinMaxScaler() in a Pipeline, and the reconstruction in X's units."""
    from sklearn.pipeline import make_pipeline

    X, y, X_test, _ = digits_semi
    X, X_test = offset + scale * X, offset + scale * X_test
    params = dict(layers=[20], max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputScaleWarning)
        auto = LadderClassifier(**params).fit(X, y)
    pipeline = make_pipeline(MinMaxScaler(), LadderClassifier(input_scaling=None, **params))
    pipeline.fit(X, y)
    scaler, ladder = pipeline[0], pipeline[-1]
    assert auto.input_scaler_.quantile_features_.size == 0
    np.testing.assert_allclose(auto.input_scaler_.minmax_.data_range_, scaler.data_range_)
    np.testing.assert_allclose(auto.predict_proba(X_test), pipeline.predict_proba(X_test),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(auto.transform(X_test), ladder.transform(
        scaler.transform(X_test)), rtol=1e-5, atol=1e-6)
    expected = scaler.inverse_transform(ladder.reconstruct(scaler.transform(X_test)))
    np.testing.assert_allclose(auto.reconstruct(X_test), expected, rtol=1e-4,
                               atol=1e-5 * scale)


@pytest.mark.parametrize("dtype, unit", [(np.float32, 1e-7), (np.float64, 1e-20)])
def test_features_of_small_values_are_mapped_and_constant_ones_zeroed(dtype, unit):
    """scikit-learn's MinMaxScaler zeroes a float32 feature whose range is below 1.2e-6
    (a float64 one below 2.2e-15); the input map keeps it, and still zeroes a feature
    that is constant or differs by rounding alone."""
    rng = np.random.default_rng(0)
    varying = rng.normal(size=(50, 2))
    constant = np.full(50, 0.3)
    rounded = np.where(np.arange(50) % 2 == 0, dtype(0.3), np.nextafter(dtype(0.3), dtype(1)))
    X = np.c_[unit * varying, constant, rounded].astype(dtype)
    mapped = SmallValuesMinMaxScaler().fit(X).transform(X)
    expected = (varying - varying.min(0)) / np.ptp(varying, axis=0)
    np.testing.assert_allclose(mapped[:, :2], expected, rtol=1e-5, atol=1e-6)
    assert np.abs(mapped[:, 2:]).max() < 1e-6  # not stretched to [0, 1]
    unit_scale = np.c_[varying, rng.uniform(-5, 5, 50)].astype(dtype)
    np.testing.assert_array_equal(SmallValuesMinMaxScaler().fit_transform(unit_scale),
                                  MinMaxScaler().fit_transform(unit_scale))


def test_float32_features_of_small_values_fit_as_at_unit_scale(digits_semi):
    """Digits as float32 at 1e-7 of their units (lengths in metres): the fit a Pipeline's
    MinMaxScaler gives at unit scale, not a network of zeroed inputs."""
    from sklearn.pipeline import make_pipeline

    X, y, _, _ = digits_semi
    params = dict(layers=[20], max_epochs=2, random_state=0)
    small = LadderClassifier(**params).fit(X * np.float32(1e-7), y)
    pipeline = make_pipeline(MinMaxScaler(), LadderClassifier(input_scaling=None, **params))
    # The training rows: a feature constant in them (a border pixel) passes through both
    # maps unscaled, so other rows would differ in it by the factor 1e-7.
    np.testing.assert_allclose(small.predict_proba(X * np.float32(1e-7)),
                               pipeline.fit(X, y).predict_proba(X), rtol=1e-4, atol=1e-5)


def test_the_regressor_scales_raw_inputs_as_a_minmax_pipeline():
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    # e.g. measurements in grams, float64: mapped in float64 both ways, then float32
    X = rng.uniform(0, 500, (300, 5))
    y = np.sin(X[:, 0] / 100) + X[:, 1] / 500
    y[60:] = np.nan
    params = dict(layers=[16], max_epochs=3, random_state=0)
    auto = LadderRegressor(**params).fit(X, y)
    pipeline = make_pipeline(MinMaxScaler(), LadderRegressor(input_scaling=None, **params))
    np.testing.assert_allclose(auto.predict(X), pipeline.fit(X, y).predict(X), rtol=1e-5,
                               atol=1e-6)


def test_a_feature_far_from_zero_is_mapped_before_float32_rounds_it():
    # Timestamps in seconds: float32 holds 1.7e9 only to 128 s, so 1.7e9 + 10 and
    # 1.7e9 + 40 are one float32; mapped in float64 first, the network tells them apart.
    rng = np.random.default_rng(0)
    seconds = rng.uniform(0, 1000, 200)
    X = np.c_[1.7e9 + seconds, rng.normal(size=200)]
    y = np.where(np.arange(200) % 4 == 0, (seconds > 500).astype(int), -1)
    clf = LadderClassifier([16], max_iter=20, random_state=0).fit(X, y)
    assert clf.input_scaler_.minmax_.data_min_[0] == X[:, 0].min()
    rows = np.array([[1.7e9 + 10, 0.0], [1.7e9 + 40, 0.0]])
    assert np.float32(rows[0, 0]) == np.float32(rows[1, 0])
    proba = clf.predict_proba(rows)
    assert not np.array_equal(proba[0], proba[1])


def test_minmax_scales_inputs_of_unit_scale_too(digits_semi):
    X, y, _, _ = digits_semi
    fit = LadderClassifier([20], input_scaling="minmax", max_epochs=1, random_state=0)
    fit.fit(0.5 * X, y)
    np.testing.assert_allclose(fit.input_scaler_.minmax_.data_max_, X.max(0) * 0.5)


def test_a_continued_fit_keeps_the_first_fits_scaling(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=1, warm_start=True, random_state=0)
    clf.fit(16 * X, y)
    scaler = clf.input_scaler_
    clf.fit(32 * X, y)  # as a user's next batch of rows: the network's inputs stay put
    assert clf.input_scaler_ is scaler and clf.n_iter_ == 2
    # "auto" on X in [0, 1]: as given; "minmax", "quantile": mapped
    for first, changed in (("minmax", None), ("auto", "minmax"), ("minmax", "quantile")):
        fitted = LadderClassifier([20], max_epochs=1, warm_start=True, random_state=0,
                                  input_scaling=first)
        fitted.fit(X, y)
        before = fitted.predict_proba(X)
        with pytest.raises(ValueError, match=r"input_scaling=.* asks otherwise"):
            fitted.set_params(input_scaling=changed).fit(X, y)
        np.testing.assert_array_equal(fitted.predict_proba(X), before)


def _log_normal(rng, n):
    return np.exp(rng.normal(0.0, 1.0, n))


def test_tails_of_bounded_gaussian_floored_and_binary_features_are_near():
    """Features a min-max map serves: Gaussian (about 1 even on 50,000 rows), uniform,
    pixels with a floor of black (70 % zeros, the rest spread over (0, 1]), binary and
    constant ones; none is far."""
    rng = np.random.default_rng(0)
    n = 50_000
    pixels = np.where(rng.random(n) < 0.7, 0.0, rng.uniform(0.01, 1, n))
    X = np.column_stack([rng.normal(size=n), rng.uniform(size=n), pixels,
                         rng.integers(0, 2, n), np.full(n, 3.0)]).astype(np.float32)
    ratios = tail_ratios(X)
    assert ratios[0] < 1.2 and ratios[1] < 0.1 and ratios[2] < 0.1
    np.testing.assert_array_equal(ratios[3:], 0.0)
    assert ratios.max() < FAR_TAIL


def test_tails_of_amounts_counts_and_mistyped_values_are_far():
    """Log-normal amounts, counts with a floor of zeros and a log-normal rest, Gaussian
    values with one mistyped a thousandfold, high or low (a single low value is not a
    floor)."""
    rng = np.random.default_rng(1)
    n = 2000
    counts = np.where(rng.random(n) < 0.4, 0.0, np.round(10 * _log_normal(rng, n)))
    high, low = rng.normal(size=n), rng.normal(size=n)
    high[7] = 1000.0
    low[11] = -1000.0
    ratios = tail_ratios(np.column_stack([_log_normal(rng, n), counts, high, low]))
    assert np.all(ratios > FAR_TAIL), ratios


def _digits_with_amount(X, rng):
    """X with feature 20 replaced by log-normal amounts."""
    X = X.copy()
    X[:, 20] = 40 * _log_normal(rng, len(X))
    return X


def test_auto_maps_far_tailed_features_by_their_distribution(digits_semi):
    """Raw digits (0-16) with one feature of amounts: the amounts are mapped by their
    empirical distribution function, every other feature by its minimum and maximum;
    the map undoes itself (reconstruct is in X's units)."""
    X, y, X_test, _ = digits_semi
    rng = np.random.default_rng(0)
    X, X_test = 16 * _digits_with_amount(X, rng), 16 * _digits_with_amount(X_test, rng)
    clf = LadderClassifier([20], max_epochs=1, random_state=0).fit(X, y)
    scaler = clf.input_scaler_
    np.testing.assert_array_equal(scaler.quantile_features_, [20])
    mapped = scaler.transform(X_test)
    expected = QuantileTransformer(n_quantiles=1000, subsample=None).fit(X[:, [20]])
    np.testing.assert_allclose(mapped[:, 20], expected.transform(X_test[:, [20]])[:, 0])
    others = np.delete(np.arange(X.shape[1]), 20)
    np.testing.assert_allclose(mapped[:, others], scaler.minmax_.transform(X_test)[:, others])
    assert scaler.transform(X).min() == 0 and scaler.transform(X).max() == 1
    np.testing.assert_allclose(scaler.inverse_transform(mapped), X_test, rtol=1e-4,
                               atol=1e-3)
    assert clf.reconstruct(X_test).max() > 100  # the amounts' units, not [0, 1]


def test_auto_on_unit_interval_inputs_maps_only_the_far_tailed_features(digits_semi):
    """Inputs in [0, 1] with one feature of amounts (divided by their largest): the other
    features stay as given, the amounts are mapped by their distribution function."""
    X, y, _, _ = digits_semi
    X = _digits_with_amount(X, np.random.default_rng(0))
    X[:, 20] /= X[:, 20].max()
    clf = LadderClassifier([20], max_epochs=1, random_state=0).fit(X, y)
    scaler = clf.input_scaler_
    assert scaler.minmax_ is None
    np.testing.assert_array_equal(scaler.quantile_features_, [20])
    mapped = scaler.transform(X)
    np.testing.assert_array_equal(np.delete(mapped, 20, axis=1), np.delete(X, 20, axis=1))
    assert mapped[:, 20].min() == 0 and mapped[:, 20].max() == 1


def test_far_tails_taken_as_given_warn(digits_semi):
    X, y, _, _ = digits_semi
    X = _digits_with_amount(X, np.random.default_rng(0)) / 100  # of unit scale
    with pytest.warns(InputScaleWarning, match=r"feature 20 of X reaches .* middle 90 %.*"
                                               r"QuantileTransformer\(\)"):
        LadderClassifier([20], input_scaling=None, max_epochs=1, random_state=0).fit(X, y)


def test_quantile_maps_every_feature(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], input_scaling="quantile", max_epochs=1,
                           random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.input_scaler_.quantile_features_,
                                  np.arange(X.shape[1]))
    expected = QuantileTransformer(n_quantiles=1000, subsample=None).fit_transform(X)
    np.testing.assert_allclose(clf.input_scaler_.transform(X), expected)


def test_the_scalers_key_tells_maps_apart():
    """fit_batched shares rows between estimators whose scalers have one key: equal fits
    are equal, other data or another kind of map differ."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    key = InputScaler(quantile_features=[1]).fit(X).fitted_key()
    assert InputScaler(quantile_features=[1]).fit(X.copy()).fitted_key() == key
    assert InputScaler(quantile_features=[1]).fit(2 * X).fitted_key() != key
    assert InputScaler(quantile_features=[2]).fit(X).fitted_key() != key
    assert InputScaler(minmax=False, quantile_features=[1]).fit(X).fitted_key() != key


def test_shared_fits_look_at_each_x_once_per_setting(monkeypatch):
    """Within shared_fits (fit_batched's and a search's planning), fit_input_scaler fits
    once per X object and setting and hands out copies; another array, even one that
    takes the id of an array gone, and any X outside the block are fitted anew."""
    from sklearn_ladder import _input_scaling

    calls, fitted = [], _input_scaling._fitted_scaler
    monkeypatch.setattr(_input_scaling, "_fitted_scaler",
                        lambda X, *args: calls.append(X) or fitted(X, *args))
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(300, 4))  # far tailed, beyond [0, 1]: a scaler to fit
    with shared_fits():
        first = fit_input_scaler(X, "auto", True)
        again = fit_input_scaler(X, "auto", True)
        assert again is not first and again.fitted_key() == first.fitted_key()
        assert fit_input_scaler(X, "minmax", True).fitted_key() != first.fitted_key()
        assert len(calls) == 2
        for _ in range(3):  # arrays that come and go, CPython reusing their ids
            Z = rng.lognormal(size=(300, 4)) * rng.uniform(1, 9)
            assert (fit_input_scaler(Z, "auto", True).fitted_key()
                    == fitted(Z, "auto", True).fitted_key())
            del Z
        assert len(calls) == 5
    fit_input_scaler(X, "auto", True)
    assert len(calls) == 6


def test_images_are_not_judged_by_their_pixels_tails():
    """A convolutional ladder's pixels share one scale: no pixel gets a map of its own
    (a pixel far tailed in a table's terms stays as given, with no warning)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(120, 16)).astype(np.float32)
    X[7, 5] = 20.0  # mistyped, yet X keeps its unit scale
    y = np.r_[np.arange(20) % 2, np.full(100, -1)]
    table = LadderClassifier([4], max_iter=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(table.input_scaler_.quantile_features_, [5])
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputScaleWarning)
        images = LadderClassifier([Conv(2, 3), GlobalMeanPool()], input_shape=(1, 4, 4),
                                  input_scaling=None, max_iter=1, random_state=0)
        images.fit(X, y)
        images.set_params(input_scaling="auto").fit(X, y)
    assert images.input_scaler_ is None


def test_feature_spread_is_the_root_mean_square_of_the_feature_deviations():
    """Summed a chunk of rows at a time in float64, about each feature's mean: features
    far from zero keep their small spread in float32 rows."""
    rng = np.random.default_rng(0)
    X = (1000 + rng.normal(size=(9000, 3)) * [0.01, 0.02, 0.0]).astype(np.float32)
    expected = np.sqrt(np.mean(np.asarray(X, dtype=np.float64).std(axis=0) ** 2))
    np.testing.assert_allclose(feature_spread(X), expected, rtol=1e-6)
    assert feature_spread(np.empty((0, 3))) == 0.0 == feature_spread(np.ones((5, 2)))
