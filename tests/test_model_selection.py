"""labeled_scorer and LabeledStratifiedKFold: scoring and CV that respect y == -1."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, get_scorer, make_scorer
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.semi_supervised import SelfTrainingClassifier

from sklearn_ladder import LadderClassifier
from sklearn_ladder.model_selection import LabeledStratifiedKFold, labeled_scorer


@pytest.fixture(scope="module")
def fitted():
    """A classifier fitted on fully labeled data, and that data with ~70 % of y set to -1."""
    X, y = make_classification(n_samples=150, n_features=5, n_informative=3,
                               n_redundant=0, n_classes=3, random_state=0)
    est = LogisticRegression(max_iter=200).fit(X, y)
    y_semi = y.copy()
    y_semi[np.random.RandomState(0).rand(len(y)) < 0.7] = -1
    return est, X, y, y_semi


# ---------------------------------------------------------------- labeled_scorer
def test_scorer_is_accuracy_on_labeled_rows_only(fitted):
    est, X, _, y_semi = fitted
    keep = y_semi != -1
    expected = accuracy_score(y_semi[keep], est.predict(X[keep]))
    assert labeled_scorer("accuracy")(est, X, y_semi) == pytest.approx(expected)
    # The plain scorer counts every -1 row as an error; the test above must not be vacuous.
    assert get_scorer("accuracy")(est, X, y_semi) < expected - 0.5


def test_scorer_ignores_predictions_on_unlabeled_rows(fitted):
    est, X, _, y_semi = fitted
    unlabeled = y_semi == -1
    X_changed = X.copy()
    X_changed[unlabeled] = np.random.RandomState(1).normal(scale=10, size=(unlabeled.sum(),
                                                                           X.shape[1]))
    assert np.any(est.predict(X_changed[unlabeled]) != est.predict(X[unlabeled]))
    scorer = labeled_scorer("accuracy")
    assert scorer(est, X_changed, y_semi) == scorer(est, X, y_semi)


def test_scorer_f1_macro(fitted):
    est, X, _, y_semi = fitted
    keep = y_semi != -1
    expected = f1_score(y_semi[keep], est.predict(X[keep]), average="macro")
    assert labeled_scorer("f1_macro")(est, X, y_semi) == pytest.approx(expected)


def test_scorer_accepts_make_scorer_callable(fitted):
    est, X, _, y_semi = fitted
    keep = y_semi != -1
    scorer = labeled_scorer(make_scorer(f1_score, average="weighted"))
    expected = f1_score(y_semi[keep], est.predict(X[keep]), average="weighted")
    assert scorer(est, X, y_semi) == pytest.approx(expected)
    assert repr(scorer).startswith("labeled_scorer(make_scorer(f1_score")


def test_scorer_string_labels_in_object_array(fitted):
    _, X, y, y_semi = fitted
    names = np.array(["cat", "dog", "eel"])
    est = LogisticRegression(max_iter=200).fit(X, names[y])
    y_obj = names[y].astype(object)
    y_obj[y_semi == -1] = -1
    keep = y_semi != -1
    expected = accuracy_score(names[y][keep], est.predict(X[keep]))
    assert labeled_scorer("accuracy")(est, X, y_obj) == pytest.approx(expected)


def test_scorer_masks_sample_weight_with_the_rows(fitted):
    est, X, _, y_semi = fitted
    keep = y_semi != -1
    weights = np.random.RandomState(2).rand(len(y_semi))
    expected = accuracy_score(y_semi[keep], est.predict(X[keep]), sample_weight=weights[keep])
    got = labeled_scorer("accuracy")(est, X, y_semi, sample_weight=weights)
    assert got == pytest.approx(expected)
    assert got != pytest.approx(labeled_scorer("accuracy")(est, X, y_semi))


def test_scorer_dataframe_keeps_feature_names(fitted):
    pd = pytest.importorskip("pandas")
    _, X, y, y_semi = fitted
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = LogisticRegression(max_iter=200).fit(df, y)
    keep = y_semi != -1
    expected = accuracy_score(y_semi[keep], est.predict(df[keep]))
    # A numpy array reaching the estimator would warn about the missing feature names.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = labeled_scorer("accuracy")(est, df, pd.Series(y_semi))
    assert got == pytest.approx(expected)


def test_scorer_raises_on_fold_without_labeled_rows(fitted):
    est, X, _, _ = fitted
    with pytest.raises(ValueError, match="no labeled row"):
        labeled_scorer("accuracy")(est, X, np.full(len(X), -1))


def test_scorer_repr_pickle_and_bad_scoring():
    scorer = labeled_scorer("f1_macro")
    assert repr(scorer) == "labeled_scorer('f1_macro')"
    assert repr(pickle.loads(pickle.dumps(scorer))) == repr(scorer)
    with pytest.raises(ValueError, match="not a valid scoring"):
        labeled_scorer("no_such_metric")
    with pytest.raises(ValueError, match="single metric"):
        labeled_scorer(["accuracy", "f1_macro"])


def test_scorer_in_dict_of_scorers():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 2))
    y = np.where(X[:, 0] > 0, 1, 0)
    y[rng.rand(len(y)) < 0.6] = -1
    result = cross_validate(
        SelfTrainingClassifier(LogisticRegression()), X, y, cv=LabeledStratifiedKFold(3),
        scoring={"acc": labeled_scorer("accuracy"), "f1": labeled_scorer("f1_macro")})
    for key in ("test_acc", "test_f1"):
        assert np.all(np.isfinite(result[key])) and np.all(result[key] > 0.5)


# ---------------------------------------------------------------- LabeledStratifiedKFold
@pytest.fixture(scope="module")
def y_semi30():
    """300 rows over 3 classes, about 30 % of them labeled."""
    rng = np.random.RandomState(0)
    y = rng.randint(3, size=300)
    y[rng.rand(300) >= 0.3] = -1
    return y


def test_splitter_folds(y_semi30):
    y = y_semi30
    X = np.zeros((len(y), 2))
    labeled = np.flatnonzero(y != -1)
    unlabeled = np.flatnonzero(y == -1)
    splits = list(LabeledStratifiedKFold(4).split(X, y))
    assert len(splits) == LabeledStratifiedKFold(4).get_n_splits() == 4
    for train, test in splits:
        for part in (train, test):
            assert part.dtype.kind == "i" and np.all(np.diff(part) > 0)  # sorted, unique
        assert np.all(y[test] != -1)
        assert set(y[test]) == {0, 1, 2}
        assert np.isin(unlabeled, train).all()
        assert set(y[train][y[train] != -1]) == {0, 1, 2}
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == len(y)
    # The test folds partition the labeled rows.
    all_test = np.concatenate([test for _, test in splits])
    np.testing.assert_array_equal(np.sort(all_test), labeled)


def test_splitter_stratifies(y_semi30):
    y = y_semi30
    counts = np.bincount(y[y != -1])
    for _, test in LabeledStratifiedKFold(3).split(np.zeros(len(y)), y):
        fold_counts = np.bincount(y[test], minlength=3)
        assert np.all(np.abs(fold_counts - counts / 3) <= 1)


def test_splitter_shuffle_reproducible(y_semi30):
    y = y_semi30
    X = np.zeros((len(y), 1))

    def tests(cv):
        return [test.tolist() for _, test in cv.split(X, y)]

    seeded = tests(LabeledStratifiedKFold(3, shuffle=True, random_state=0))
    assert seeded == tests(LabeledStratifiedKFold(3, shuffle=True, random_state=0))
    assert seeded != tests(LabeledStratifiedKFold(3, shuffle=True, random_state=1))
    assert seeded != tests(LabeledStratifiedKFold(3))


def test_splitter_string_labels_in_object_array():
    y = np.array(["a", "b"] * 6 + [-1] * 5, dtype=object)
    for train, test in LabeledStratifiedKFold(3).split(np.zeros((len(y), 1)), y):
        assert set(y[test]) == {"a", "b"}
        assert np.isin(np.arange(12, 17), train).all()


def test_splitter_too_few_labeled_rows_in_a_class():
    y = np.array([0] * 5 + [1] * 5 + [2] * 2 + [-1] * 10)
    with pytest.raises(ValueError, match=r"Class 2 has only 2 labeled row.*n_splits=3"):
        LabeledStratifiedKFold(3).split(np.zeros((len(y), 1)), y)
    list(LabeledStratifiedKFold(2).split(np.zeros((len(y), 1)), y))  # 2 rows suffice for 2


def test_splitter_bad_inputs():
    with pytest.raises(ValueError, match="no labeled row"):
        LabeledStratifiedKFold(2).split(np.zeros((4, 1)), np.full(4, -1))
    with pytest.raises(ValueError, match="needs y"):
        LabeledStratifiedKFold(2).split(np.zeros((4, 1)), None)
    with pytest.raises(ValueError, match="at least 2"):
        LabeledStratifiedKFold(1)
    with pytest.raises(ValueError, match="shuffle"):
        LabeledStratifiedKFold(3, random_state=0)


def test_splitter_repr_and_pickle():
    cv = LabeledStratifiedKFold(3, shuffle=True, random_state=0)
    assert repr(cv) == "LabeledStratifiedKFold(n_splits=3, random_state=0, shuffle=True)"
    assert repr(pickle.loads(pickle.dumps(cv))) == repr(cv)


# ---------------------------------------------------------------- GridSearchCV with the ladder
def _torch_threads(estimator, X, y):
    """Not a score: how many threads torch had in the process that made the fit."""
    import torch

    return torch.get_num_threads()


def _search(n_jobs):
    return GridSearchCV(LadderClassifier(layers=[20], max_epochs=1, random_state=0),
                        {"noise_std": [0.2, 0.3]}, cv=LabeledStratifiedKFold(3),
                        scoring={"accuracy": labeled_scorer("accuracy"),
                                 "threads": _torch_threads},
                        refit="accuracy", n_jobs=n_jobs, error_score="raise")


@pytest.fixture(scope="module")
def sequential(digits_50_labels):
    return _search(n_jobs=1).fit(*digits_50_labels)


def _split_scores(search):
    return np.column_stack([search.cv_results_[f"split{i}_test_accuracy"] for i in range(3)])


def test_grid_search_scores_are_those_of_fits_made_by_hand(sequential, digits_50_labels):
    X, y = digits_50_labels
    train, test = next(LabeledStratifiedKFold(3).split(X, y))
    by_hand = LadderClassifier(layers=[20], max_epochs=1, random_state=0, noise_std=0.3)
    by_hand.fit(X[train], y[train])
    assert _split_scores(sequential)[1, 0] == labeled_scorer("accuracy")(
        by_hand, X[test], y[test])
    best = np.argmax(sequential.cv_results_["mean_test_accuracy"])
    assert sequential.best_params_ == sequential.cv_results_["params"][best]
    assert sequential.best_estimator_.n_iter_ == 1


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_grid_search_in_parallel_reproduces_the_sequential_one(sequential, digits_50_labels,
                                                               backend):
    # Each fit draws from generators of its own, so threads cannot mix their noise, and
    # process workers get the same fits as the main process.
    with joblib.parallel_backend(backend):
        search = _search(n_jobs=2).fit(*digits_50_labels)
    np.testing.assert_array_equal(_split_scores(search), _split_scores(sequential))
    if backend == "loky":  # joblib limits each worker to its share of the cores
        threads = search.cv_results_["mean_test_threads"]
        assert np.all(threads * 2 <= max(joblib.cpu_count(), 2))


def test_grid_search_on_a_dask_cluster(sequential, digits_50_labels):
    # A real cluster: a scheduler and two worker processes, as skorch documents for
    # spreading a search over machines (joblib's "dask" backend).
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), joblib.parallel_backend("dask"):
        search = _search(n_jobs=2).fit(*digits_50_labels)
    np.testing.assert_array_equal(_split_scores(search), _split_scores(sequential))
    # Dask's workers start with OMP_NUM_THREADS=1: no worker oversubscribes the cores.
    assert np.all(search.cv_results_["mean_test_threads"] == 1)


