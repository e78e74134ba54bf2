"""The package's warnings point at the user's line, through pipelines and searches."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_ladder import InputScaleWarning, LadderClassifier
from sklearn_ladder.model_selection import LabeledStratifiedKFold, labeled_scorer

FAST = {"layers": [8], "max_iter": 4, "random_state": 0}


@pytest.fixture(scope="module")
def raw_rows():
    """Rows far from unit scale (features of root mean square 100), half labeled."""
    rng = np.random.default_rng(0)
    X = 100 * rng.standard_normal((60, 4))
    y = np.where(np.arange(60) % 2 == 0, (X[:, 0] > 0).astype(int), -1)
    return X, y


def _warned_from(call, category) -> set:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        call()
    return {(r.filename, r.lineno) for r in records if issubclass(r.category, category)}


def test_a_warning_points_at_the_line_that_called_the_library(raw_rows):
    X, y = raw_rows
    ladder = LadderClassifier(input_scaling=None, **FAST)
    cv, scoring = LabeledStratifiedKFold(2), labeled_scorer("accuracy")
    calls = {  # one line each: the line a warning names
        "fit": lambda: ladder.fit(X, y),
        "pipeline": lambda: make_pipeline(FunctionTransformer(), ladder).fit(X, y),
        "cross_val_score": lambda: cross_val_score(ladder, X, y, cv=cv, scoring=scoring),
    }
    for name, call in calls.items():
        line = call.__code__.co_firstlineno
        assert _warned_from(call, InputScaleWarning) == {(__file__, line)}, name


def test_conversion_and_convergence_warnings_point_at_the_user_too(raw_rows, monkeypatch):
    import sklearn_ladder._base as base

    X, y = raw_rows
    monkeypatch.setattr(base, "WARN_DENSE_ENTRIES", X.size)  # a copy worth a warning
    ladder = LadderClassifier(**FAST).fit(X, y)
    same = np.tile(X[:1], (len(X), 1))  # identical rows: nothing to learn
    calls = {
        DataConversionWarning: lambda: ladder.predict(sp.csr_matrix(X)),
        ConvergenceWarning: lambda: LadderClassifier(**FAST).fit(same, y),
    }
    for category, call in calls.items():
        line = call.__code__.co_firstlineno
        assert _warned_from(call, category) == {(__file__, line)}, category.__name__
