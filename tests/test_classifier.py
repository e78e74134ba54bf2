import numpy as np
import pytest
from sklearn.base import clone

from sklearn_ladder import LadderClassifier

FAST = {"layers": [30, 20], "max_epochs": 2, "random_state": 0}


def test_fit_predict_shapes_and_probabilities(digits_semi):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[proba.argmax(1)])
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.n_features_in_ == 64
    assert clf.denoising_costs_.tolist() == [1000, 10, 0.1, 0.1]


def test_same_random_state_gives_identical_predictions(digits_semi):
    X, y, X_test, _ = digits_semi
    a = LadderClassifier(**FAST).fit(X, y).predict_proba(X_test)
    b = LadderClassifier(**FAST).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(a, b)
    c = LadderClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X_test)
    assert not np.array_equal(a, c)


def test_fit_leaves_global_torch_random_state_alone(digits_semi):
    import torch

    X, y, _, _ = digits_semi
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    LadderClassifier(**FAST).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_predictions_do_not_depend_on_batching(digits_semi):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    whole = clf.predict_proba(X_test)
    pieces = np.concatenate([clf.predict_proba(X_test[i:i + 7])
                             for i in range(0, len(X_test), 7)])
    np.testing.assert_allclose(whole, pieces, rtol=1e-12)


def test_string_labels_round_trip(digits_semi):
    X, y, X_test, _ = digits_semi
    # Names that sort like the digits, so that output unit k means the same class.
    names = np.array([f"digit {k}" for k in range(10)], dtype=object)
    y_str = np.where(y >= 0, names[np.maximum(y, 0)], -1).astype(object)
    clf = LadderClassifier(**FAST).fit(X, y_str)
    assert set(clf.classes_) == set(names)
    pred = clf.predict(X_test)
    assert set(pred) <= set(names)
    expected = LadderClassifier(**FAST).fit(X, y).predict(X_test)
    np.testing.assert_array_equal(pred, names[expected])


def test_all_rows_labeled_is_valid(digits):
    X, X_test, y, y_test = digits
    # Every row labeled: the labeled and unlabeled streams are the same rows.
    clf = LadderClassifier(**{**FAST, "max_epochs": 10}, denoising_costs=[10, 1, 0.1, 0.1])
    assert clf.fit(X, y).score(X_test, y_test) > 0.85


def test_score_ignores_unlabeled_rows(digits_semi):
    X, y, X_test, y_test = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    y_partly = y_test.copy()
    y_partly[::2] = -1
    expected = np.mean(clf.predict(X_test[1::2]) == y_test[1::2])
    assert clf.score(X_test, y_partly) == pytest.approx(expected)


def test_dataframe_input_sets_feature_names(digits_semi):
    pd = pytest.importorskip("pandas")
    X, y, X_test, _ = digits_semi
    columns = [f"pixel{i}" for i in range(64)]
    clf = LadderClassifier(**FAST).fit(pd.DataFrame(X, columns=columns), y)
    np.testing.assert_array_equal(clf.feature_names_in_, columns)
    assert clf.predict(pd.DataFrame(X_test, columns=columns)).shape == (len(X_test),)


@pytest.mark.parametrize("mode, n_decoders", [("full", 4), ("gamma", 1), ("bottom", 4),
                                             ("supervised", 0)])
def test_modes_build_their_decoders(digits_semi, mode, n_decoders):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**{**FAST, "max_epochs": 1}, mode=mode).fit(X, y)
    assert len(clf.net_.module_.combinators) == n_decoders


def test_explicit_lambda_overrides_the_mode_default(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**{**FAST, "max_epochs": 1}, mode="gamma",
                           denoising_costs=[0, 0, 0, 3.0]).fit(X, y)
    assert clf.denoising_costs_.tolist() == [0, 0, 0, 3.0]


def test_clone_gives_an_unfitted_copy_with_equal_parameters(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "net_")


def test_ladder_beats_supervised_baseline_on_digits(digits_semi):
    # The paper's network with 50 labels: on seeds 0 and 1 the ladder's error was 3.2
    # points below its encoder trained alone (7.8 vs 10.9 %, 8.3 vs 11.5 %); a decoder
    # that does not help leaves them level.
    X, y, X_test, y_test = digits_semi
    ladder = LadderClassifier(max_epochs=15, random_state=0).fit(X, y)
    baseline = LadderClassifier(mode="supervised", noise_std=[0.3] + [0.5] * 6, max_epochs=15,
                                random_state=0).fit(X, y)
    assert 1 - ladder.score(X_test, y_test) < 1 - baseline.score(X_test, y_test) - 0.015
