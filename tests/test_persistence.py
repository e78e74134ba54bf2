"""Pickling, joblib, clone, set_params, warm starts and early stopping."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning

from sklearn_ladder import LadderClassifier

FAST = {"layers": [30, 20], "max_epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def fitted(digits_semi):
    X, y, _, _ = digits_semi
    return LadderClassifier(**FAST).fit(X, y)


def test_pickle_round_trip_preserves_predictions_exactly(fitted, digits_semi):
    X_test = digits_semi[2]
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X_test), fitted.predict_proba(X_test))
    assert restored.history_[-1, "train_loss"] == fitted.history_[-1, "train_loss"]


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
def test_every_activation_pickles(digits_semi, activation):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**{**FAST, "max_epochs": 1}, activation=activation).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))


def test_joblib_round_trip_preserves_predictions_exactly(fitted, digits_semi, tmp_path):
    X_test = digits_semi[2]
    joblib.dump(fitted, tmp_path / "ladder.joblib")
    restored = joblib.load(tmp_path / "ladder.joblib")
    np.testing.assert_array_equal(restored.predict_proba(X_test), fitted.predict_proba(X_test))


def test_model_saved_from_a_cuda_device_loads_on_cpu(fitted, digits_semi, monkeypatch):
    # What a GPU-trained model carries is its device setting; skorch maps its tensors to
    # the CPU when CUDA is missing. (No GPU here, so the tensors themselves are CPU ones.)
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    state = pickle.dumps(fitted)
    saved = pickle.loads(state)
    saved.net_.device = "cuda"
    buffer = io.BytesIO()
    pickle.dump(saved, buffer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch says it maps CUDA to CPU
        restored = pickle.loads(buffer.getvalue())
    assert str(restored.net_.device) == "cpu"
    X_test = digits_semi[2]
    np.testing.assert_array_equal(restored.predict(X_test), fitted.predict(X_test))


def test_clone_is_unfitted_and_set_params_takes_effect(fitted, digits_semi):
    X, y, _, _ = digits_semi
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "net_")
    copy.set_params(max_epochs=3, noise_std=0.2)
    copy.fit(X, y)
    assert copy.n_iter_ == 3
    assert copy.net_.module_.noise_std == (0.2,) * 4


def test_get_params_lists_every_constructor_parameter():
    import inspect

    names = set(inspect.signature(LadderClassifier).parameters)
    assert set(LadderClassifier().get_params()) == names
    assert names == set(LadderClassifier._parameter_constraints)


def test_html_representation_renders():
    html = LadderClassifier(layers=[10])._repr_html_()
    assert "LadderClassifier" in html and "layers" in html


def test_warm_start_continues_training(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**FAST, warm_start=True).fit(X, y)
    weights = clf.net_.module_.weights["1"].detach().clone()
    first_loss = clf.history_[-1, "train_loss"]
    clf.fit(X, y)
    assert clf.n_iter_ == 4 and len(clf.history_) == 4
    assert not np.allclose(weights.numpy(), clf.net_.module_.weights["1"].detach().numpy())
    assert clf.history_[-1, "train_loss"] < first_loss
    cold = LadderClassifier(**FAST).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 2


def test_a_diverging_warm_fit_leaves_the_model_as_it_was(digits_semi):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**FAST, warm_start=True).fit(X, y)
    state = {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}
    proba = clf.predict_proba(X_test)
    clf.set_params(learning_rate=1e8)
    with pytest.raises(FloatingPointError):
        clf.fit(X * 1e20, y)
    after = clf.net_.module_.state_dict()
    assert all(torch.equal(state[k], after[k]) for k in state)  # no NaN written in place
    assert clf.n_iter_ == len(clf.history_) == 2
    np.testing.assert_array_equal(clf.predict_proba(X_test), proba)
    clf.set_params(learning_rate=0.002).fit(X, y)  # a sane warm fit
    assert clf.n_iter_ == len(clf.history_) == 4
    assert np.isfinite(clf.predict_proba(X_test)).all()


def test_warm_start_refuses_a_different_network(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**FAST, warm_start=True).fit(X, y)
    clf.set_params(layers=[30, 10])
    with pytest.raises(ValueError, match=r"layers.*changed"):
        clf.fit(X, y)


def test_early_stopping_keeps_the_best_epoch(digits):
    X, _, y, _ = digits
    y_semi = np.where(np.arange(len(y)) % 4 == 0, y, -1)  # ~315 labels
    clf = LadderClassifier(layers=[30, 20], max_epochs=30, learning_rate=0.05,
                           early_stopping=True, n_iter_no_change=3, random_state=0)
    clf.fit(X, y_semi)
    scores = clf.history_[:, "valid_score"]
    assert clf.n_iter_ < 30  # stopped early
    best = int(np.argmax(scores))
    # The kept weights are the best epoch's: recompute its validation accuracy.
    held_out = dict(clf.net_.callbacks_)["valid_score"]
    predicted = clf.predict(held_out.X)
    assert np.mean(predicted == clf.classes_[held_out.y]) == pytest.approx(scores[best])


def test_early_stopping_needs_enough_labels(digits_semi):
    X, y, _, _ = digits_semi
    with pytest.raises(ValueError, match="validation_fraction"):
        LadderClassifier(**FAST, early_stopping=True).fit(X, y)  # 5 held-out < 10 classes


def test_sparse_input_is_densified_quietly_and_predicts_as_dense(digits_semi):
    X, y, X_test, _ = digits_semi
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a small copy: no warning on every call
        clf = LadderClassifier(**FAST).fit(sp.csr_matrix(X), y)
        sparse_pred = clf.predict_proba(sp.csr_matrix(X_test))
    dense = LadderClassifier(**FAST).fit(X, y)
    np.testing.assert_allclose(sparse_pred, dense.predict_proba(X_test))


def test_a_large_dense_copy_of_sparse_input_is_warned_of(monkeypatch, digits_semi):
    import sklearn_ladder._base as base

    X, y, _, _ = digits_semi
    monkeypatch.setattr(base, "WARN_DENSE_ENTRIES", X.size)
    with pytest.warns(DataConversionWarning, match="dense float32 array"):
        clf = LadderClassifier(**FAST).fit(sp.csr_matrix(X), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict(sp.csr_matrix(X[:-1]))  # one row short of the line


def test_huge_sparse_input_is_refused(monkeypatch):
    import sklearn_ladder._base as base

    monkeypatch.setattr(base, "MAX_DENSE_ENTRIES", 100)
    X = sp.random(40, 6, density=0.5, format="csr", random_state=0)
    with pytest.raises(ValueError, match="TruncatedSVD"):
        LadderClassifier(layers=[4], max_epochs=1).fit(X, np.tile([0, 1, -1, -1], 10))
