"""Scoring on the labeled rows only: :func:`labeled_scorer`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import is_regressor
from sklearn.metrics import get_scorer
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import get_routing_for_object

from ._unlabeled import unlabeled_labels, unlabeled_targets

__all__ = ["labeled_scorer"]


class _LabeledScorer:
    """Scorer that evaluates ``scorer`` on the labeled rows: for a classifier, those whose
    label is no unlabeled marker (-1, '-1', None, NaN, pandas.NA); for a regressor, those
    whose target is not NaN.

    A module-level class rather than a closure so that it pickles: process-based joblib
    backends (loky, Dask, Ray) ship the scorer to their workers.
    """

    def __init__(self, scorer: Callable[..., Any], scoring: str | Callable[..., Any]):
        self._scorer = scorer
        self._scoring = scoring

    def __call__(self, estimator, X, y, sample_weight=None) -> float:
        if y is None:
            raise ValueError("labeled_scorer needs y to tell labeled rows from unlabeled ones.")
        unlabeled = unlabeled_targets(y) if is_regressor(estimator) else unlabeled_labels(y)
        keep = np.flatnonzero(~unlabeled)
        if len(keep) == 0:
            raise ValueError(
                f"{self!r} got a test fold with no labeled row (every y is -1 or NaN), so "
                f"there is "
                f"nothing to score. Use sklearn_ladder.model_selection.LabeledStratifiedKFold "
                f"as cv, which puts labeled rows of every class in every test fold."
            )
        # _safe_indexing keeps DataFrames/Series as such (column names reach the estimator).
        X_kept = _safe_indexing(X, keep)
        y_kept = _safe_indexing(y, keep)
        if sample_weight is None:
            # Pass nothing rather than None: a plain callable need not accept sample_weight.
            return self._scorer(estimator, X_kept, y_kept)
        weights = _safe_indexing(sample_weight, keep)
        return self._scorer(estimator, X_kept, y_kept, sample_weight=weights)

    def __repr__(self) -> str:
        return f"labeled_scorer({self._scoring!r})"

    # Without metadata routing, scikit-learn's multi-metric scorer asks each scorer of a
    # dict whether it takes sample_weight; this one passes it on, so ask the wrapped one.
    def _accept_sample_weight(self) -> bool:
        accepts = getattr(self._scorer, "_accept_sample_weight", None)
        if accepts is not None:
            return accepts()
        try:
            return "sample_weight" in inspect.signature(self._scorer).parameters
        except (TypeError, ValueError):  # a callable without an introspectable signature
            return False

    # With metadata routing enabled, the wrapped scorer's requests (set_score_request) are
    # the ones that count, so route through it.
    def get_metadata_routing(self):
        return get_routing_for_object(self._scorer)  # empty for a plain callable

    def set_score_request(self, **kwargs) -> _LabeledScorer:
        self._scorer.set_score_request(**kwargs)
        return self


def labeled_scorer(scoring: str | Callable[..., Any]) -> Callable[..., float]:
    """Make a scorer that ignores the unlabeled rows (``y == -1``, or NaN for a regressor).

    The returned scorer drops every unlabeled row (together with its ``X`` row and
    weight) and evaluates ``scoring`` on the rest: for a classifier, the rows marked
    -1, '-1', None, NaN or ``pandas.NA``; for a regressor (such as
    :class:`~sklearn_ladder.LadderRegressor`), the rows whose target is NaN. Use it as
    ``scoring`` in :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_validate` and friends, alone or as a value of
    a dict of scorers, when the test folds may hold unlabeled rows.

    Parameters
    ----------
    scoring : str or callable
        A scorer name (e.g. ``"accuracy"``, ``"f1_macro"``; see
        :func:`sklearn.metrics.get_scorer_names`) or a scorer callable
        ``(estimator, X, y, sample_weight=None) -> float`` such as one made by
        :func:`sklearn.metrics.make_scorer`.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None) -> float``, evaluated on the
        labeled rows. It raises a ValueError when there is no such row.

    Raises
    ------
    ValueError
        If ``scoring`` is an unknown scorer name, or a list/dict of several metrics.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ladder.model_selection import labeled_scorer
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    >>> y = np.array([0, 0, -1, -1, 1, 1])
    >>> clf = LogisticRegression().fit(X[y != -1], y[y != -1])
    >>> scorer = labeled_scorer("accuracy")
    >>> scorer
    labeled_scorer('accuracy')
    >>> float(scorer(clf, X, y))  # the two -1 rows do not count as errors
    1.0

    With several metrics, wrap each one:

    >>> scoring = {"acc": labeled_scorer("accuracy"), "f1": labeled_scorer("f1_macro")}
    """
    # A list or dict names several metrics; wrapping it whole would hide the names from
    # GridSearchCV's refit logic, so ask for one wrapper per metric instead.
    if isinstance(scoring, (list, tuple, set, dict)):
        raise ValueError(
            f"labeled_scorer takes a single metric, got {scoring!r}. For several metrics "
            f"pass a dict of them: {{'acc': labeled_scorer('accuracy'), "
            f"'f1': labeled_scorer('f1_macro')}}."
        )
    scorer = get_scorer(scoring)  # a str gives a fresh copy; a callable comes back as is
    if not callable(scorer):
        raise ValueError(f"scoring must be a scorer name or a callable, got {scoring!r}.")
    return _LabeledScorer(scorer, scoring)
