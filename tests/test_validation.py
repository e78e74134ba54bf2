"""Bad input raises a ValueError that names the problem and leaves no fitted state."""

import numpy as np
import pytest
from skorch.callbacks import BatchScoring, EpochScoring

from sklearn_ladder import LadderClassifier

rng = np.random.default_rng(0)
X = rng.random((40, 6)).astype(np.float32)
y = np.tile([0, 1, -1, -1], 10)


def x_with(value):
    bad = X.copy()
    bad[3, 2] = value
    return bad


BAD_FIT = [
    ({}, X[:0], y[:0], "0 sample"),
    ({}, X[:, 0], y, "Expected 2D array"),
    ({}, X.reshape(40, 2, 3), y, "dim 3"),
    ({}, X, np.full(40, -1), "no labeled row"),
    ({}, x_with(np.nan), y, "NaN"),
    ({}, x_with(np.inf), y, "infinity"),
    ({}, X, y[:-1], "inconsistent numbers of samples"),
    ({}, X, np.where(y >= 0, 0, -1), "only one class"),
    ({}, X, np.where(y % 2 == 0, 1, -1), "if -1 is one of your classes"),  # ±1 labels
    ({}, X, np.where(y >= 0, 0.5, -1.0), "not whole numbers"),
    ({}, X, np.where(y >= 0, "a", "-1"), "only one class"),  # '-1' is no class
    ({"feature_layer": 3, "layers": [4]}, X, y, "feature_layer=3 but this ladder has"),
    ({"device": "cuda:x"}, X, y, "not a torch device"),
    ({"device": "meta"}, X, y, "'cpu' or 'cuda' devices"),
    ({}, X, np.where(y >= 0, y, np.inf), "infinity"),
    ({}, X, np.array(["a", 1, -1, -1] * 10, dtype=object), "mixes strings and numbers"),
    ({"denoising_costs": [1, 2]}, X, y, "denoising_costs needs one value per layer"),
    ({"denoising_costs": [1, -2, 0, 0]}, X, y, "non-negative"),
    ({"denoising_costs": [1e39, 1, 0, 0]}, X, y, "finite \\(in float32\\)"),
    ({"noise_std": -0.1}, X, y, "noise_std"),
    ({"noise_std": [0.3, 0.3]}, X, y, "noise_std needs one value per layer"),
    ({"mode": "weird"}, X, y, "mode"),
    ({"combinator": "weird"}, X, y, "combinator"),
    ({"device": "tpu"}, X, y, "device"),
    ({"layers": []}, X, y, "layers"),
    ({"layers": [10, 0]}, X, y, "layers"),
    ({"batch_size": 1}, X, y, "batch_size"),
    ({"mode": "gamma", "denoising_costs": [1, 0, 0, 1]}, X, y, "mode='gamma' allows"),
    ({"callbacks": [EpochScoring("accuracy", on_train=True)]}, X, y, "EpochScoring cannot"),
    ({"callbacks": [("acc", BatchScoring("accuracy"))]}, X, y, "BatchScoring cannot"),
]


@pytest.mark.parametrize("params, X_bad, y_bad, message", BAD_FIT)
def test_bad_fit_input_raises_and_leaves_no_fitted_state(params, X_bad, y_bad, message):
    clf = LadderClassifier(**{"layers": [8, 4], "max_epochs": 1, **params})
    with pytest.raises(ValueError, match=message):
        clf.fit(X_bad, y_bad)
    assert not hasattr(clf, "net_") and not hasattr(clf, "n_iter_")


@pytest.fixture(scope="module")
def fitted():
    return LadderClassifier([8, 4], max_epochs=1, random_state=0).fit(X, y)


@pytest.mark.parametrize("params, X_bad, y_bad, message", BAD_FIT)
def test_bad_refit_leaves_a_fitted_estimator_as_it_was(fitted, params, X_bad, y_bad, message):
    before = {k: v for k, v in vars(fitted).items() if k.endswith("_")}
    proba = fitted.predict_proba(X)
    original = fitted.get_params()
    fitted.set_params(**params)
    try:
        with pytest.raises(ValueError, match=message):
            fitted.fit(X_bad, y_bad)
    finally:
        fitted.set_params(**original)
    after = {k: v for k, v in vars(fitted).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    np.testing.assert_array_equal(fitted.predict_proba(X), proba)


def test_cuda_without_cuda_says_so(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA device"):
        LadderClassifier([8], max_epochs=1, device="cuda").fit(X, y)


def test_predict_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LadderClassifier().predict(X)


def test_predict_with_wrong_number_of_features_raises():
    clf = LadderClassifier([8], max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="6 features"):
        clf.predict(X[:, :5])


def test_cuda_device_strings_and_torch_devices_are_accepted(monkeypatch):
    import torch

    from sklearn_ladder._base import _resolve_device

    assert _resolve_device(torch.device("cpu")) == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert _resolve_device("cuda:1") == "cuda:1"
    assert _resolve_device(torch.device("cuda", 0)) == "cuda:0"
    with pytest.raises(ValueError, match="sees 2 CUDA device"):
        _resolve_device("cuda:2")


def test_a_torch_device_trains_and_clones():
    import torch
    from sklearn.base import clone

    clf = LadderClassifier([4], max_epochs=1, device=torch.device("cpu"), random_state=0)
    clf.fit(X, y)
    assert clf.net_.device == "cpu" and clone(clf).device == torch.device("cpu")


def test_score_without_labeled_rows_says_so():
    clf = LadderClassifier([4], max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="score got no labeled row"):
        clf.score(X, np.full(len(X), -1))
