"""The unlabeled-row convention: every marker users reach for, and never a marker as a class."""

import numpy as np
import pandas as pd
import pytest

from sklearn_ladder import LadderClassifier, LadderRegressor
from sklearn_ladder._unlabeled import (
    labeled_rows,
    mark_unlabeled,
    unlabeled_labels,
    unlabeled_targets,
)
from sklearn_ladder.model_selection import labeled_scorer

rng = np.random.default_rng(0)
X = np.r_[rng.normal(-2, 1, (30, 3)), rng.normal(2, 1, (30, 3))].astype(np.float32)
LABELS = np.array(["cat"] * 30 + ["dog"] * 30, dtype=object)
LABELED = np.arange(60) % 5 == 0  # 12 labeled rows, both classes


@pytest.mark.parametrize("y, expected", [
    (np.array([0, -1, 2]), [False, True, False]),
    (np.array([0.0, -1.0, np.nan, 2.0]), [False, True, True, False]),
    (np.array(["a", "-1", "b"]), [False, True, False]),
    (np.array(["a", -1, "-1", None, np.nan, pd.NA, "b"], dtype=object),
     [False, True, True, True, True, True, False]),
    (np.array([1, 2], dtype=np.uint8), [False, False]),
    (np.array([True, False]), [False, False]),
    (pd.Series(["a", None, "-1"], dtype="str"), [False, True, True]),
    (pd.Series([1, pd.NA, -1], dtype="Int64"), [False, True, True]),
])
def test_every_marker_is_unlabeled_and_nothing_else(y, expected):
    assert unlabeled_labels(y).tolist() == expected


def test_regression_targets_are_unlabeled_when_nan():
    y = np.array([[1.0, 2.0], [np.nan, np.nan], [-1.0, 0.0]])
    assert unlabeled_targets(y).tolist() == [False, True, False]  # -1 is a real target
    assert labeled_rows(y).tolist() == [0, 2]


def test_training_targets_are_marked_in_a_copy():
    y = np.array([0, 1, 2])
    marked = mark_unlabeled(y, [1])
    assert marked.tolist() == [0, -1, 2] and y.tolist() == [0, 1, 2]
    assert np.isnan(mark_unlabeled(np.ones((3, 1)), [0])[0, 0])


@pytest.mark.parametrize("marker", ["-1", None, np.nan, pd.NA])
def test_a_marker_in_an_object_array_is_never_a_class(marker):
    y = LABELS.copy()
    y[~LABELED] = marker
    clf = LadderClassifier([8], max_epochs=3, denoising_costs=[1, 1, 0.1],
                           random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["cat", "dog"]
    assert set(clf.predict(X)) <= {"cat", "dog"}


def test_pandas_string_series_with_minus_one_and_missing_values():
    y = pd.Series(np.where(LABELED, LABELS, "-1"), dtype="str")
    y.iloc[1] = None
    clf = LadderClassifier([8], max_epochs=2, random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["cat", "dog"]


def test_pandas_nullable_integers_keep_integer_classes():
    y = pd.Series(np.where(LABELED, np.arange(60) // 30, 0), dtype="Int64")
    y[~LABELED] = pd.NA
    clf = LadderClassifier([8], max_epochs=2, random_state=0).fit(X, y)
    assert clf.classes_.tolist() == [0, 1] and clf.classes_.dtype.kind == "i"
    assert clf.score(X, y) == clf.score(X[LABELED], np.arange(60)[LABELED] // 30)


def test_regressor_scorer_leaves_nan_rows_out():
    from sklearn.model_selection import cross_val_score

    y = X.sum(axis=1).astype(float)
    y[~LABELED] = np.nan
    reg = LadderRegressor([8], max_epochs=2, random_state=0)
    scores = cross_val_score(reg, X, y, cv=3, scoring=labeled_scorer("r2"))
    assert np.isfinite(scores).all()
    reg.fit(X, y)
    assert labeled_scorer("r2")(reg, X, y) == pytest.approx(reg.score(X, y))
