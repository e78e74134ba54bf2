import inspect
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from sklearn_ladder import LadderClassifier, LadderRegressor

FAST = {"layers": [40, 20], "max_epochs": 15, "random_state": 0,
        "denoising_costs": [10, 1, 0.1, 0.1]}


def data(seed=0, n=600, n_labeled=100):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 8)).astype(np.float32)
    y = 3 * X[:, 0] - 2 * X[:, 1] ** 2 + 10
    y_semi = y.copy()
    y_semi[n_labeled:] = np.nan
    return X, y, y_semi


def test_fits_and_predicts_on_the_target_scale():
    X, y, y_semi = data()
    reg = LadderRegressor(**FAST).fit(X, y_semi)
    pred = reg.predict(X)
    assert pred.shape == (600,)
    assert reg.y_mean_[0] == pytest.approx(np.nanmean(y_semi))
    assert abs(pred.mean() - y.mean()) < 0.5  # un-standardised
    assert reg.score(X, y) > 0.8


def test_an_output_labeled_with_one_value_is_predicted_as_that_value():
    X, y, y_semi = data()
    targets = np.c_[y_semi, np.where(np.isnan(y_semi), np.nan, 7.5)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # nothing to learn is no failure
        reg = LadderRegressor(**FAST).fit(X, targets)
    pred = reg.predict(X)
    np.testing.assert_array_equal(pred[:, 1], 7.5)
    assert reg.y_scale_[1] == 0 and r2_score(y, pred[:, 0]) > 0.8


def test_score_ignores_nan_rows():
    X, y, y_semi = data()
    reg = LadderRegressor(**FAST).fit(X, y_semi)
    partly = y.copy()
    partly[::2] = np.nan
    from sklearn.metrics import r2_score

    assert reg.score(X, partly) == pytest.approx(r2_score(y[1::2], reg.predict(X[1::2])))


def test_nan_rows_never_enter_the_supervised_cost():
    X, _, y_semi = data()
    reg = LadderRegressor(**FAST).fit(X, y_semi)
    assert np.isfinite(reg.history_[:, "supervised_cost"]).all()


def test_multi_output_targets():
    X, y, _ = data()
    Y = np.column_stack([y, -y])
    Y[100:] = np.nan
    reg = LadderRegressor(**FAST).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (600, 2)


@pytest.mark.parametrize("y_bad, message", [
    (np.full(600, np.nan), "labeled row"),
    (np.where(np.arange(600) < 3, np.inf, np.nan), "infinity"),
])
def test_bad_targets(y_bad, message):
    X, _, _ = data()
    with pytest.raises(ValueError, match=message):
        LadderRegressor(**FAST).fit(X, y_bad)


def test_partly_nan_rows_are_refused():
    X, y, _ = data()
    Y = np.column_stack([y, y])
    Y[5, 1] = np.nan
    with pytest.raises(ValueError, match="some outputs only"):
        LadderRegressor(**FAST).fit(X, Y)


def test_modes_and_persistence_shared_with_the_classifier():
    import pickle

    X, _, y_semi = data()
    reg = LadderRegressor(**{**FAST, "max_epochs": 2, "denoising_costs": None},
                          mode="gamma").fit(X, y_semi)
    assert sorted(reg.net_.module_.combinators) == ["3"]
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    assert reg.transform(X).shape == (600, 20)


def test_early_stopping_uses_r2_on_held_out_rows():
    X, _, y_semi = data()
    reg = LadderRegressor(**{**FAST, "max_epochs": 40}, early_stopping=True,
                          validation_fraction=0.2, n_iter_no_change=3).fit(X, y_semi)
    scores = reg.history_[:, "valid_score"]
    assert max(scores) > 0.5 and reg.n_iter_ == len(scores)
    # The best epoch's weights are kept: the model scores its held-out rows as then.
    held_out = dict(reg.net_.callbacks_)["valid_score"]
    outputs = reg.net_.forward(held_out.X, training=False).numpy()
    assert r2_score(held_out.y, outputs) == pytest.approx(max(scores), abs=1e-6)


def test_each_estimator_documents_its_own_noise():
    # The shared parameter documentation is filled in per class, with its own σ.
    for cls in (LadderClassifier, LadderRegressor):
        assert inspect.signature(cls).parameters["noise_std"].default == "auto"
        assert ('default="auto"\n        σ, the standard deviation' in cls.__doc__
                and f"σ = {cls._auto_noise_std!r} on every layer" in cls.__doc__)
