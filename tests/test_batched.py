"""Many ladders at once: fit_batched and LadderGridSearchCV against separate fits."""

import functools
import os
import pickle
import signal
import threading
import warnings

import numpy as np
import pytest
import sklearn
import torch
from _helpers import assert_same_fits, batch_losses, watch_host_reads
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning, UnsetMetadataPassedError
from sklearn.feature_selection import VarianceThreshold
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_ladder import InputScaleWarning, LadderClassifier, LadderRegressor, fit_batched
from sklearn_ladder._batched import batch_groups
from sklearn_ladder.layers import Conv, Dense, GlobalMeanPool, MaxPool
from sklearn_ladder.model_selection import (
    LabeledStratifiedKFold,
    LadderGridSearchCV,
    LadderRandomizedSearchCV,
    labeled_scorer,
)

SMALL = dict(layers=[30, 20], max_epochs=2)
# Different λ (one layer undecoded is a structure of its own, so all decode every layer),
# σ (one with a noiseless layer), learning rates and seeds.
SETTINGS = [
    dict(denoising_costs=[1000, 10, 0.1, 0.1], noise_std=0.3, random_state=0),
    dict(denoising_costs=[100, 1, 0.1, 0.5], noise_std=0.2, learning_rate=0.001,
         random_state=1),
    dict(denoising_costs=[10, 10, 1, 1], noise_std=[0.3, 0.1, 0.0, 0.2], random_state=2),
]


def test_a_batch_of_models_follows_their_separate_fits(digits_50_labels):
    X, y = digits_50_labels
    separate = [LadderClassifier(**SMALL, **s).fit(X, y) for s in SETTINGS]
    batched = [LadderClassifier(**SMALL, **s) for s in SETTINGS]
    assert fit_batched(batched, X, y) == [None, None, None]
    assert_same_fits(separate, batched)
    for a, b in zip(separate, batched):
        np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=1e-4)
        for key in ("supervised_cost", "denoising_cost", "lr"):
            np.testing.assert_allclose(b.history_[:, key], a.history_[:, key], rtol=1e-5)
    # Each module owns its weights (no view of the batch's stacked tensors), and the
    # optimiser holds the Adam state a fit of its own would leave.
    single, many = separate[0].net_, batched[0].net_
    weight = many.module_.weights["1"]
    assert weight.untyped_storage().nbytes() == weight.numel() * 4
    assert len(pickle.dumps(batched[0])) < 1.1 * len(pickle.dumps(separate[0]))
    state_a = single.optimizer_.state_dict()["state"]
    state_b = many.optimizer_.state_dict()["state"]
    for i in state_a:
        assert float(state_b[i]["step"]) == float(state_a[i]["step"])
        torch.testing.assert_close(state_b[i]["exp_avg_sq"], state_a[i]["exp_avg_sq"],
                                   rtol=1e-3, atol=1e-9)


def test_models_with_their_own_rows_and_lengths(digits_50_labels):
    """Folds of different sizes give different epochs and updates per model."""
    X, y = digits_50_labels
    rows = [np.arange(0, 1797), np.arange(0, 1200), np.arange(300, 1797, 2)]
    lengths = [dict(max_epochs=1), dict(max_epochs=3), dict(max_iter=25)]
    make = [dict(layers=[30, 20], random_state=k, **length) for k, length in enumerate(lengths)]
    separate = [LadderClassifier(**m).fit(X[r], y[r]) for m, r in zip(make, rows)]
    batched = [LadderClassifier(**m) for m in make]
    fit_batched(batched, [X[r] for r in rows], [y[r] for r in rows])
    assert_same_fits(separate, batched)
    assert len({b.n_updates_ for b in batched}) == 3


def test_models_given_the_same_rows_share_one_copy_of_them(digits_50_labels, monkeypatch):
    """One tensor of rows per distinct X given (on a GPU one copy on the device, not one
    per model), also where each estimator's validation converts X; in a search, one per
    fold."""
    from sklearn_ladder import _batched

    seen, train = [], _batched.train_batched
    monkeypatch.setattr(_batched, "train_batched", lambda nets, datasets, *args: (
        seen.append([d.X for d in datasets]) or train(nets, datasets, *args)))
    X, y = digits_50_labels
    X64, reversed64 = X.astype(np.float64), X[::-1].astype(np.float64)
    models = [LadderClassifier(layers=[20], max_iter=2, random_state=k) for k in range(4)]
    fit_batched(models, [X64, reversed64, X64, reversed64], [y, y[::-1], y, y[::-1]])
    (rows,) = seen
    assert rows[0] is rows[2] and rows[1] is rows[3] and rows[0] is not rows[1]
    np.testing.assert_array_equal(rows[1].numpy(), X[::-1])
    seen.clear()
    search = LadderGridSearchCV(LadderClassifier(layers=[20], max_iter=2),
                                {"noise_std": [0.1, 0.2, 0.3]}, cv=LabeledStratifiedKFold(2))
    search.fit(X, y)
    assert [len(batch) for batch in seen] == [6]
    assert len({id(rows) for rows in seen[0]}) == 2


def test_models_given_one_x_look_at_its_features_once(digits_50_labels, monkeypatch):
    """The input scaling's look at X's features (sorting every feature for its tails)
    is made once for the estimators given one X, not once each; every estimator keeps
    a scaler of its own, fitted alike."""
    from sklearn_ladder import _input_scaling

    calls, fitted = [], _input_scaling._fitted_scaler
    monkeypatch.setattr(_input_scaling, "_fitted_scaler",
                        lambda X, *args: calls.append(X) or fitted(X, *args))
    X, y = digits_50_labels
    models = [LadderClassifier(layers=[20], max_iter=2, random_state=k) for k in range(3)]
    fit_batched(models, 16 * X, y)
    assert len(calls) == 1
    scalers = [m.input_scaler_ for m in models]
    assert len({id(s) for s in scalers}) == 3
    assert len({s.fitted_key() for s in scalers}) == 1


def test_models_share_rows_scaled_alike(digits_50_labels, monkeypatch):
    """Unscaled rows (digits as integers 0-16): the estimators that scale them alike
    (input_scaling "auto" or "minmax") share one tensor of the scaled rows, the one that
    takes them as given another, the one that maps them by their distribution a third;
    each fits as alone."""
    from sklearn_ladder import _batched

    seen, train = [], _batched.train_batched
    monkeypatch.setattr(_batched, "train_batched", lambda nets, datasets, *args: (
        seen.append([d.X for d in datasets]) or train(nets, datasets, *args)))
    X, y = digits_50_labels
    X16 = 16 * X
    scalings = ["auto", None, "minmax", "quantile"]
    models = [LadderClassifier(layers=[20], max_iter=2, input_scaling=scaling,
                               random_state=0) for scaling in scalings]
    with pytest.warns(InputScaleWarning):  # the one given X as is
        fit_batched(models, X16, y)
    (rows,) = seen
    assert rows[0] is rows[2] and len({id(r) for r in rows}) == 3
    np.testing.assert_allclose(rows[0].numpy(), models[0].input_scaler_.transform(X16))
    np.testing.assert_array_equal(rows[1].numpy(), X16)
    for scaling, model in zip(scalings, models):
        alone = LadderClassifier(layers=[20], max_iter=2, input_scaling=scaling,
                                 random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputScaleWarning)
            alone.fit(X16, y)
        np.testing.assert_allclose(model.predict_proba(X16), alone.predict_proba(X16),
                                   atol=1e-5)


def test_regressors_and_early_stopping_in_a_batch():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(400, 6)).astype(np.float32)
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    y[120:] = np.nan
    # The first model's module runs every model's forward pass, and its held-out score
    # evaluates it at each epoch's end: training must go on in training mode.
    make = [dict(layers=[20, 10], max_epochs=12, random_state=1, early_stopping=True,
                 n_iter_no_change=2, noise_std=0.1, learning_rate=0.02),
            dict(layers=[20, 10], max_epochs=12, random_state=0)]
    separate = [LadderRegressor(**m).fit(X, y) for m in make]
    batched = [LadderRegressor(**m) for m in make]
    fit_batched(batched, X, y)
    assert_same_fits(separate, batched)
    assert batched[0].n_iter_ < 12 == batched[1].n_iter_  # early stopping ended one alone
    np.testing.assert_allclose(batched[0].predict(X), separate[0].predict(X), atol=1e-4)


def test_weighted_and_unweighted_models_in_one_batch(digits_50_labels):
    X, y = digits_50_labels
    make = [dict(class_weight="balanced", random_state=0), dict(random_state=1)]
    weights = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    separate = [LadderClassifier(**SMALL, **m).fit(X, y, sample_weight=weights)
                for m in make]
    batched = [LadderClassifier(**SMALL, **m) for m in make]
    fit_batched(batched, X, y, sample_weight=weights)
    assert_same_fits(separate, batched)


def test_a_diverging_model_fails_alone(digits_50_labels):
    X, y = digits_50_labels
    # One layer noiseless: once the other model has failed, no model in the batch adds
    # noise there.
    quiet = dict(SMALL, noise_std=[0.3, 0.1, 0.0, 0.2], random_state=0)
    good = LadderClassifier(**quiet)
    bad = LadderClassifier(**SMALL, learning_rate=1e6, random_state=0)
    errors = fit_batched([good, bad], X, y, raise_errors=False)
    assert errors[0] is None and isinstance(errors[1], FloatingPointError)
    assert hasattr(good, "net_") and not hasattr(bad, "net_")
    np.testing.assert_allclose(batch_losses(good),
                               batch_losses(LadderClassifier(**quiet).fit(X, y)), rtol=1e-5)
    with pytest.raises(FloatingPointError, match="diverged"):
        fit_batched([LadderClassifier(**SMALL), bad], X, y)


def test_invalid_estimators_are_refused_and_left_untouched(digits_50_labels):
    X, y = digits_50_labels
    fine, wrong = LadderClassifier(**SMALL), LadderClassifier(layers=[30], noise_std=[1, 2])
    with pytest.raises(ValueError, match="noise_std needs one value per layer"):
        fit_batched([fine, wrong], X, y)
    assert not hasattr(fine, "n_features_in_")
    with pytest.raises(ValueError, match="3 arrays for 2 estimators"):
        fit_batched([fine, fine], [X] * 3, y)
    # Plain lists are one data set (rows, labels), not one per estimator.
    two = [LadderClassifier(**SMALL, random_state=k) for k in range(2)]
    assert fit_batched(two, X[:200].tolist(), y[:200].tolist()) == [None, None]
    fitted = LadderClassifier(**SMALL, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start"):
        fit_batched([fitted], X, y)


def test_batches_follow_the_free_memory_and_name_the_fix_when_it_runs_out(
        digits_50_labels, monkeypatch):
    import sklearn_ladder._batched as batched

    X, y = digits_50_labels
    models = [LadderClassifier(**SMALL, random_state=k) for k in range(3)]
    nets = [m._plan_fit(X, y, None).net for m in models]
    per_model = batched._bytes_per_model(nets[0].initialize(), len(X))
    monkeypatch.setattr(batched, "_free_bytes", lambda device: 4.5 * per_model)
    assert batch_groups(nets, [len(X)] * 3) == [[0, 1], [2]]  # half the memory: 2 models

    def out_of_memory(*args):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(batched, "_update", out_of_memory)
    with pytest.raises(MemoryError, match="smaller max_models"):
        fit_batched(models, X, y, max_models=3)
    assert not any(hasattr(m, "net_") for m in models)


def test_batches_are_grouped_by_structure_and_chunked(digits_50_labels):
    X, y = digits_50_labels
    estimators = [LadderClassifier(layers=[30, 20]), LadderClassifier(layers=[30, 20],
                                                                      noise_std=0.1),
                  LadderClassifier(layers=[25, 20]), LadderClassifier(layers=[30, 20],
                                                                      mode="gamma")]
    nets = [e._plan_fit(X, y, None).net for e in estimators]
    assert batch_groups(nets, [len(X)] * 4) == [[0, 1], [2], [3]]
    assert batch_groups(nets, [len(X)] * 4, max_models=1) == [[0], [1], [2], [3]]
    # A net with fewer rows than its batch size updates on all of them: same structure,
    # other rows per update, so another group; above the batch size the count is moot.
    same = [nets[0], nets[1], nets[0], nets[1]]
    assert batch_groups(same, [200, 150, 99, 98]) == [[0, 1], [2], [3]]


def test_grid_search_on_a_table_smaller_than_a_batch(grid_search_data):
    X, y = grid_search_data[0][:70], grid_search_data[1][:70]  # 50 labeled, 20 not
    estimator = LadderClassifier(layers=[20], max_epochs=40, random_state=0)
    cv = LabeledStratifiedKFold(3)  # training folds of 53 or 54 rows, under batch_size
    plain = GridSearchCV(estimator, {"noise_std": [0.1, 0.3]}, cv=cv,
                         scoring=labeled_scorer("accuracy")).fit(X, y)
    batched = LadderGridSearchCV(estimator, {"noise_std": [0.1, 0.3]}, cv=cv).fit(X, y)
    assert batched.n_batches_ == 2
    np.testing.assert_allclose(batched.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], atol=0.02)


@pytest.fixture(scope="module")
def grid_search_data(digits_50_labels):
    X, y = digits_50_labels
    rows = np.r_[np.flatnonzero(y != -1), np.flatnonzero(y == -1)[:550]]
    return X[rows], y[rows]


GRID = {"denoising_costs": [[1000, 10, 0.1], [10, 1, 0.1]], "noise_std": [0.1, 0.3]}


def test_grid_search_gives_grid_search_cv_results(grid_search_data):
    X, y = grid_search_data
    estimator = LadderClassifier(layers=[40], max_epochs=6, random_state=0)
    cv = LabeledStratifiedKFold(3)
    plain = GridSearchCV(estimator, GRID, cv=cv, scoring=labeled_scorer("accuracy")).fit(X, y)
    batched = LadderGridSearchCV(estimator, GRID, cv=cv, scoring="accuracy").fit(X, y)
    assert batched.n_batches_ == 1
    assert batched.best_params_ == plain.best_params_
    np.testing.assert_allclose(batched.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], atol=0.02)
    assert set(batched.cv_results_) == set(plain.cv_results_)
    assert batched.best_estimator_.get_params() == plain.best_estimator_.get_params()
    np.testing.assert_array_equal(batched.predict(X), plain.predict(X))


def test_grid_search_passes_groups_to_its_splitter(grid_search_data):
    X, y = grid_search_data
    groups = np.arange(len(y)) % 4
    estimator = LadderClassifier(layers=[20], max_epochs=3, random_state=0)
    grid, cv = {"noise_std": [0.1, 0.3]}, GroupKFold(4)
    plain = GridSearchCV(estimator, grid, cv=cv, scoring=labeled_scorer("accuracy")).fit(
        X, y, groups=groups)
    batched = LadderGridSearchCV(estimator, grid, cv=cv).fit(X, y, groups=groups)
    assert batched.n_splits_ == 4
    np.testing.assert_allclose(batched.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], atol=0.02)
    with pytest.raises(ValueError, match="groups"):  # GroupKFold without them
        LadderGridSearchCV(estimator, grid, cv=cv).fit(X, y)


def test_randomized_search_gives_randomized_search_cv_results(grid_search_data):
    X, y = grid_search_data
    estimator = LadderClassifier(layers=[40], max_epochs=6, random_state=0)
    distributions = {"noise_std": loguniform(0.05, 0.5),
                     "denoising_costs": [[1000, 10, 0.1], [10, 1, 0.1]]}
    cv = LabeledStratifiedKFold(3)
    plain = RandomizedSearchCV(estimator, distributions, n_iter=3, random_state=1, cv=cv,
                               scoring=labeled_scorer("accuracy")).fit(X, y)
    batched = LadderRandomizedSearchCV(estimator, distributions, n_iter=3, random_state=1,
                                       cv=cv).fit(X, y)
    assert batched.cv_results_["params"] == plain.cv_results_["params"]  # the same draws
    assert batched.n_batches_ == 1 and batched.best_params_ == plain.best_params_
    np.testing.assert_allclose(batched.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], atol=0.02)
    assert clone(batched).get_params()["n_iter"] == 3
    with pytest.raises(ValueError, match="n_iter"):
        LadderRandomizedSearchCV(estimator, distributions, n_iter=0).fit(X, y)


def test_grid_search_with_several_metrics_failures_and_chunks(grid_search_data):
    X, y = grid_search_data
    grid = {"learning_rate": [0.002, 1e6]}  # the second diverges
    search = LadderGridSearchCV(
        LadderClassifier(layers=[40], max_epochs=2, random_state=0), grid, cv=2,
        scoring=["accuracy", "f1_macro"], refit="f1_macro", max_models=1,
        return_train_score=True)
    with pytest.warns(FitFailedWarning, match="2 fits failed"):
        search.fit(X, y)
    assert search.n_batches_ == 4
    results = search.cv_results_
    assert np.isnan(results["mean_test_accuracy"][1]) and results["mean_test_f1_macro"][0] > 0
    assert results["mean_train_accuracy"][0] >= results["mean_test_accuracy"][0] - 0.2
    assert search.best_index_ == 0 and search.best_params_["learning_rate"] == 0.002


def test_grid_search_over_a_pipeline_gives_grid_search_cv_results(grid_search_data,
                                                                  monkeypatch):
    X, y = grid_search_data
    fits = []
    fit = VarianceThreshold.fit  # its fit_transform calls fit
    monkeypatch.setattr(VarianceThreshold, "fit",
                        lambda self, *a, **k: fits.append(1) or fit(self, *a, **k))
    # (A deterministic step: PCA's products differ in their last bits from run to run,
    # which is enough to flip a prediction of a ladder trained this briefly.)
    pipeline = make_pipeline(VarianceThreshold(), LadderClassifier(layers=[40], max_epochs=4,
                                                                   random_state=0))
    grid = {"variancethreshold__threshold": [0.0, 0.05],
            "ladderclassifier__noise_std": [0.1, 0.3]}
    cv, weight = LabeledStratifiedKFold(3), np.linspace(0.5, 1.5, len(y))
    plain = GridSearchCV(pipeline, grid, cv=cv, scoring=labeled_scorer("accuracy")).fit(
        X, y, ladderclassifier__sample_weight=weight)
    fits.clear()
    batched = LadderGridSearchCV(pipeline, grid, cv=cv).fit(
        X, y, ladderclassifier__sample_weight=weight)
    # The step is fitted for each fold and threshold once where the fits are planned and
    # once where they train (3 folds × 2 thresholds each), then for the refit.
    assert len(fits) == 2 * 6 + 1
    assert batched.n_batches_ == 2  # 61 or 37 inputs: two structures
    assert batched.best_params_ == plain.best_params_
    np.testing.assert_allclose(batched.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], atol=0.02)
    np.testing.assert_array_equal(batched.predict(X), plain.predict(X))


def _weight_sum(y_true, y_pred, sample_weight=None):
    """A "score" that tells which weights the scorer got: their sum (-1 without)."""
    return -1.0 if sample_weight is None else float(np.sum(sample_weight))


def _spy_on_fits(monkeypatch) -> list:
    """The (rows, sample_weight) of every ladder fit_batched fits in a search."""
    import sklearn_ladder._search as search

    fits = []

    def spy(ladders, X, y, sample_weight, **kwargs):
        fits.extend(zip(X, sample_weight))
        return fit_batched(ladders, X, y, sample_weight, **kwargs)

    monkeypatch.setattr(search, "fit_batched", spy)
    return fits


@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_routes_metadata_as_grid_search_cv_does(grid_search_data, monkeypatch,
                                                             routing):
    X, y = grid_search_data
    w_scaler, w_ladder = np.linspace(0.5, 1.5, len(y)), np.linspace(2.0, 1.0, len(y))
    cv = list(LabeledStratifiedKFold(2).split(X, y))
    fits = _spy_on_fits(monkeypatch)
    with sklearn.config_context(enable_metadata_routing=routing):
        ladder = LadderClassifier(layers=[20], max_epochs=1, random_state=0)
        scorer = labeled_scorer(make_scorer(_weight_sum))
        if routing:  # the weights under names of their own, the ladder's the scorer's too
            scaler = StandardScaler().set_fit_request(sample_weight="w_scaler")
            ladder.set_fit_request(sample_weight="w_ladder")
            scorer.set_score_request(sample_weight="w_ladder")
            params = dict(w_scaler=w_scaler, w_ladder=w_ladder)
        else:  # a pipeline's prefixed parameters; its scorer gets no weights
            scaler = StandardScaler()
            params = dict(standardscaler__sample_weight=w_scaler,
                          ladderclassifier__sample_weight=w_ladder)
        pipeline = make_pipeline(scaler, ladder)
        grid = {"ladderclassifier__noise_std": [0.1, 0.3]}
        plain = GridSearchCV(pipeline, grid, cv=cv, scoring=scorer).fit(X, y, **params)
        batched = LadderGridSearchCV(pipeline, grid, cv=cv, scoring=scorer).fit(X, y, **params)
    for (train, _), (rows, weight) in zip(cv * 2, fits):
        expected = StandardScaler().fit_transform(X[train], sample_weight=w_scaler[train])
        np.testing.assert_allclose(rows, expected, rtol=1e-6)
        np.testing.assert_array_equal(weight, w_ladder[train])
    assert len(fits) == 4
    for split in range(2):
        key = f"split{split}_test_score"
        np.testing.assert_array_equal(batched.cv_results_[key], plain.cv_results_[key])
        test = cv[split][1]
        expected = w_ladder[test][y[test] != -1].sum() if routing else -1.0
        np.testing.assert_allclose(batched.cv_results_[key], expected)


def test_grid_search_with_routing_refuses_weights_the_ladder_did_not_request(
        grid_search_data):
    X, y = grid_search_data
    with sklearn.config_context(enable_metadata_routing=True):
        search = LadderGridSearchCV(LadderClassifier(layers=[20], max_epochs=1),
                                    {"noise_std": [0.1]})
        with pytest.raises(UnsetMetadataPassedError, match=r"LadderClassifier\.fit"):
            search.fit(X, y, sample_weight=np.ones(len(y)))


def _failing_scorer(estimator, X, y):
    raise RuntimeError("the scorer failed")


def test_a_failing_scorer_scores_error_score_as_in_grid_search_cv(grid_search_data):
    X, y = grid_search_data
    search = LadderGridSearchCV(LadderClassifier(layers=[20], max_epochs=1), {"noise_std": [0.1]},
                                cv=2, scoring=_failing_scorer, refit=False, error_score=-1.0)
    with pytest.warns(UserWarning, match="Scoring failed"):
        search.fit(X, y)
    np.testing.assert_array_equal(search.cv_results_["split0_test_score"], [-1.0])
    with pytest.raises(RuntimeError, match="the scorer failed"):
        search.set_params(error_score="raise").fit(X, y)


@pytest.mark.parametrize("estimator, grid", [
    (LadderClassifier(layers=[20], max_epochs=2, random_state=0),
     {"noise_std": [0.1, -1.0]}),                                  # an invalid parameter
    (make_pipeline(VarianceThreshold(), LadderClassifier(layers=[20], max_epochs=2,
                                                         random_state=0)),
     {"variancethreshold__threshold": [0.0, 10.0]}),               # a failing step
], ids=["ladder", "pipeline"])
def test_a_fit_that_cannot_start_fails_alone_as_in_grid_search_cv(grid_search_data,
                                                                  estimator, grid):
    X, y = grid_search_data
    cv = LabeledStratifiedKFold(3)
    with pytest.warns(FitFailedWarning, match="3 fits failed"):
        plain = GridSearchCV(estimator, grid, cv=cv, scoring=labeled_scorer("accuracy"),
                             return_train_score=True).fit(X, y)
    with pytest.warns(FitFailedWarning, match="3 fits failed"):
        batched = LadderGridSearchCV(estimator, grid, cv=cv, return_train_score=True).fit(X, y)
    for key in ("mean_test_score", "mean_train_score"):
        np.testing.assert_allclose(batched.cv_results_[key], plain.cv_results_[key],
                                   atol=0.02)
        assert np.isnan(batched.cv_results_[key][1])
    assert batched.n_batches_ == 1 and batched.best_index_ == 0
    with pytest.raises(ValueError):
        LadderGridSearchCV(estimator, grid, cv=cv, error_score="raise").fit(X, y)


def test_grid_search_refuses_what_it_cannot_batch(grid_search_data):
    X, y = grid_search_data
    pipeline = make_pipeline(MinMaxScaler(), LogisticRegression())
    with pytest.raises(ValueError, match="GridSearchCV for other estimators"):
        LadderGridSearchCV(pipeline, {"logisticregression__C": [0.1]}).fit(X, y)
    with pytest.raises(TypeError, match="ladderclassifier__sample_weight"):
        LadderGridSearchCV(make_pipeline(MinMaxScaler(), LadderClassifier()),
                           {"ladderclassifier__noise_std": [0.1]}).fit(
            X, y, sample_weight=np.ones(len(y)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match=r"unexpected parameters \['check_input'\]"):
            LadderGridSearchCV(LadderClassifier(), {"noise_std": [0.1]}).fit(
                X, y, check_input=False)


@pytest.mark.parametrize("params", [
    dict(mode="gamma"), dict(mode="bottom"), dict(mode="supervised"),
    dict(combinator="g1"), dict(combinator="g3"), dict(combinator="amlp"),
    dict(activation="tanh"), dict(labeled_statistics="unlabeled"),
    dict(layers=[Conv(4, 3), MaxPool(2), Conv(6, 1), GlobalMeanPool(), Dense(10)],
         input_shape=(1, 8, 8)),
    dict(layers=[Conv(4, 3), GlobalMeanPool(), Dense(10)], input_shape=(1, 8, 8),
         labeled_statistics="unlabeled"),
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items())[:40])
def test_every_kind_of_ladder_trains_in_a_batch(digits_50_labels, params):
    X, y = digits_50_labels
    params = {"layers": [20, 10], "max_iter": 12, **params}
    settings = [dict(random_state=0), dict(random_state=1, noise_std=0.2)]
    separate = [LadderClassifier(**params, **s).fit(X, y) for s in settings]
    batched = [LadderClassifier(**params, **s) for s in settings]
    fit_batched(batched, X, y)
    assert_same_fits(separate, batched)


def test_regressor_search_in_parallel_chunks_matches_grid_search_cv():
    from joblib import parallel_config
    from sklearn.model_selection import KFold

    rng = np.random.RandomState(0)
    X = rng.uniform(size=(300, 5)).astype(np.float32)
    y = X.sum(axis=1) + 0.1 * rng.standard_normal(300)
    y[90:] = np.nan
    estimator = LadderRegressor(layers=[20, 10], max_epochs=4, random_state=0)
    grid = {"noise_std": [0.1, 0.3], "denoising_costs": [[10, 1, 0.1, 0.1], [1, 1, 1, 1]]}
    with parallel_config(backend="threading"):
        batched = LadderGridSearchCV(estimator, grid, cv=3, max_models=5, n_jobs=2).fit(X, y)
    assert batched.n_batches_ == 3  # 12 fits, at most 5 per batch
    # The default folds split the labeled rows (the first 90) and train on every other row.
    splits = [(train, test) for train, test in KFold(3).split(np.arange(90))]
    splits = [(np.r_[train, np.arange(90, 300)], test) for train, test in splits]
    plain = GridSearchCV(estimator, grid, cv=splits, scoring=labeled_scorer("r2")).fit(X, y)
    assert batched.best_params_ == plain.best_params_
    np.testing.assert_allclose(batched.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], atol=0.02)


def test_batches_in_worker_processes_reproduce_the_sequential_search(grid_search_data):
    """n_jobs sends batches to joblib's workers (here loky's processes; a Dask or Ray
    cluster is the same protocol): the same fits, the same scores. The workers get the
    caller's scikit-learn configuration: here metadata routing, which routes the weights
    to a pipeline's steps there."""
    import joblib

    X, y = grid_search_data
    weight = np.linspace(0.5, 1.5, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        pipeline = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=True),
            LadderClassifier(layers=[20], max_epochs=2, random_state=0).set_fit_request(
                sample_weight=True))
        grid = {f"ladderclassifier__{name}": values for name, values in GRID.items()}
        scorer = labeled_scorer("accuracy").set_score_request(sample_weight=False)
        search = LadderGridSearchCV(pipeline, grid, cv=2, max_models=2, scoring=scorer)
        sequential = search.fit(X, y, sample_weight=weight).cv_results_["mean_test_score"]
        with joblib.parallel_backend("loky"):
            parallel = clone(search).set_params(n_jobs=2).fit(X, y, sample_weight=weight)
    assert parallel.n_batches_ == 4 and np.all(np.isfinite(sequential))
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"], sequential)


def test_grid_search_is_a_scikit_learn_estimator_with_max_models():
    search = LadderGridSearchCV(LadderClassifier(), {"noise_std": [0.1]}, max_models=4)
    assert clone(search).get_params()["max_models"] == 4
    assert "max_models=4" in repr(search)
    with pytest.raises(ValueError, match="max_models"):
        LadderGridSearchCV(LadderClassifier(), {"noise_std": [0.1]}, max_models=0).fit(
            np.zeros((4, 2)), np.array([0, 1, -1, -1]))


def test_a_graphed_batch_follows_the_separate_fits(digits_50_labels, monkeypatch):
    """Graphed nets (on a GPU) train as one replayed update; off CUDA nothing is
    captured, so this checks the rest: capturable Adam with the learning rate a tensor
    that the schedule fills, the update's fixed buffers, and a new update once a model
    finishes (it must stop stepping: the first model has one epoch of two), and that
    the update reads nothing back to the host."""
    from sklearn_ladder._training import LadderNet

    X, y = digits_50_labels
    settings = [{**s, "max_epochs": 1 if k == 0 else 2} for k, s in enumerate(SETTINGS)]
    separate = [LadderClassifier(**{**SMALL, **s}).fit(X, y) for s in settings]
    monkeypatch.setattr(LadderNet, "_uses_graphs", lambda self: True)
    host_reads = watch_host_reads(monkeypatch)
    batched = [LadderClassifier(**{**SMALL, **s}) for s in settings]
    assert fit_batched(batched, X, y) == [None] * 3
    assert host_reads == []  # nothing that a CUDA graph's capture would refuse
    assert_same_fits(separate, batched)
    for a, b in zip(separate, batched):
        group = b.net_.optimizer_.param_groups[0]
        assert isinstance(group["lr"], torch.Tensor) and group["capturable"]
        assert float(group["lr"]) == pytest.approx(a.net_.optimizer_.param_groups[0]["lr"])
        np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=1e-4)


def test_a_compiled_batch_follows_the_separate_fits(digits_50_labels, monkeypatch):
    """gpu_update="compiled" (on a GPU): the batched forward pass and cost run through
    torch.compile, vmap and all; off CUDA nothing is captured, so this checks that the
    compiled batch computes the models' own eager fits (to rounding)."""
    import sklearn_ladder._base as base
    from sklearn_ladder import _batched
    from sklearn_ladder._training import LadderNet

    X, y = digits_50_labels
    separate = [LadderClassifier(**{**SMALL, **s}).fit(X, y) for s in SETTINGS]
    compiled, compile_fn = [], torch.compile
    monkeypatch.setattr(torch, "compile",
                        lambda fn, **kwargs: compiled.append(fn) or compile_fn(fn, **kwargs))
    monkeypatch.setattr(_batched, "compiled_for_structure",
                        functools.cache(_batched.compiled_for_structure.__wrapped__))
    monkeypatch.setattr(LadderNet, "_uses_graphs", lambda self: True)
    monkeypatch.setattr(base, "resolve_gpu_update", lambda *args: "compiled")
    batched = [LadderClassifier(**{**SMALL, **s}) for s in SETTINGS]
    assert fit_batched(batched, X, y) == [None] * 3
    assert [fn.__code__.co_code for fn in compiled] == [_batched._vmapped_terms.__code__.co_code]
    assert_same_fits(separate, batched)
    for a, b in zip(separate, batched):
        np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=1e-4)


def test_graphed_batches_train_side_by_side_in_threads(digits_50_labels, monkeypatch,
                                                      ctrl_c):
    """With graphed updates (on a GPU) the batches of a fit_batched call train
    concurrently, a thread each; off CUDA the threads run eager updates, which checks
    the threading: batches of two and a model alone (its own fit) give what they give
    one after the other, a diverging model fails alone, and Ctrl-C stops every batch."""
    from sklearn_ladder import _batched
    from sklearn_ladder._training import LadderNet

    X, y = digits_50_labels
    other = dict(SMALL, layers=[25, 20], random_state=3)  # a structure of its own
    settings = [*(dict(SMALL, **s) for s in SETTINGS),
                dict(SMALL, learning_rate=1e9, denoising_costs=[1e30] * 4), other]
    separate = [LadderClassifier(**s).fit(X, y) for s in settings[:3] + settings[4:]]
    monkeypatch.setattr(LadderNet, "_uses_graphs", lambda self: True)
    batched = [LadderClassifier(**s) for s in settings]
    nets = [m._plan_fit(X, y, None).net for m in batched]
    assert batch_groups(nets, [len(X)] * 5, max_models=2) == [[0, 1], [2, 3], [4]]
    errors = fit_batched(batched, X, y, max_models=2, raise_errors=False)
    assert errors[:3] == [None] * 3 and errors[4] is None
    assert isinstance(errors[3], FloatingPointError) and not hasattr(batched[3], "net_")
    assert_same_fits(separate[:3], batched[:3])
    # Its own fit, to rounding (reductions split over the cores as other threads allow).
    np.testing.assert_allclose(batch_losses(batched[4]), batch_losses(separate[3]),
                               rtol=1e-5)
    assert [name for name, _ in batched[4].net_.callbacks_] == [
        name for name, _ in separate[3].net_.callbacks_]

    pressed = threading.Event()

    class CtrlC(_batched._StopWhenSet):
        def on_batch_begin(self, net, **kwargs):
            if not pressed.is_set():  # Ctrl-C, which Python delivers to the main thread
                pressed.set()
                os.kill(os.getpid(), signal.SIGINT)
            super().on_batch_begin(net, **kwargs)

    monkeypatch.setattr(_batched, "_StopWhenSet", CtrlC)
    models = [LadderClassifier(**s) for s in settings[:2] + settings[4:]]
    with pytest.raises(KeyboardInterrupt):
        fit_batched(models, X, y, max_models=2)
    assert pressed.is_set()
    assert not any(hasattr(m, "net_") for m in models)  # left as they were
