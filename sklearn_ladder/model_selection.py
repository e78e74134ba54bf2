"""Model selection for semi-supervised data: scoring and cross-validation that respect -1.

scikit-learn's tools assume every row has a label. With the semi-supervised convention
(``y == -1`` marks an unlabeled row) two things go wrong in a plain
:class:`~sklearn.model_selection.GridSearchCV`: the scorer counts the -1 rows as a class
the model never predicts, and :class:`~sklearn.model_selection.StratifiedKFold` treats -1
as a class, so unlabeled rows end up in test folds (where they cannot be scored) and out
of training parts (where the ladder would have learned from them).

:func:`labeled_scorer` and :class:`LabeledStratifiedKFold` fix both. They only use the
public scorer and splitter protocols, so they work with any joblib backend (loky,
threading, Dask, Ray) without further code. :class:`LadderGridSearchCV` uses both, and
trains the candidates × folds of a ladder as batches of models.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.base import is_regressor
from sklearn.metrics import get_scorer
from sklearn.model_selection import BaseCrossValidator, StratifiedKFold
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.validation import _num_samples

from ._unlabeled import unlabeled_labels, unlabeled_targets

__all__ = ["LabeledStratifiedKFold", "LadderGridSearchCV", "labeled_scorer"]


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


class LabeledStratifiedKFold(BaseCrossValidator):
    """Stratified K-fold over the labeled rows; every unlabeled row is always trained on.

    The labeled rows (``y != -1``) are split by
    :class:`~sklearn.model_selection.StratifiedKFold`, so every test fold holds labeled
    rows of every class, and so does every training part. The unlabeled rows
    (``y == -1``) have no label to score, so they never go to a test fold; a
    semi-supervised model learns from them, so they go to the training part of every
    fold.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2. Every class needs at least ``n_splits`` labeled rows.
    shuffle : bool, default=False
        Whether to shuffle each class's labeled rows before splitting them into folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling when ``shuffle`` is True; leave it None otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ladder.model_selection import LabeledStratifiedKFold
    >>> y = np.array([0, 0, 1, 1, -1, -1])
    >>> cv = LabeledStratifiedKFold(n_splits=2)
    >>> for train, test in cv.split(np.zeros((6, 1)), y):
    ...     print("train:", train.tolist(), "test:", test.tolist())
    train: [1, 3, 4, 5] test: [0, 2]
    train: [0, 2, 4, 5] test: [1, 3]

    In a grid search, with a semi-supervised model and :func:`labeled_scorer`:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.semi_supervised import SelfTrainingClassifier
    >>> from sklearn_ladder.model_selection import labeled_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = np.where(X[:, 0] > 0, 1, 0)
    >>> y[20:] = -1
    >>> search = GridSearchCV(SelfTrainingClassifier(LogisticRegression()),
    ...                       {"threshold": [0.7, 0.9]}, cv=LabeledStratifiedKFold(2),
    ...                       scoring=labeled_scorer("accuracy")).fit(X, y)
    >>> sorted(search.best_params_)
    ['threshold']
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state=None):
        # Validate here, as scikit-learn's K-fold splitters do: a splitter has no fit, and
        # a bad value should fail where it is written, not deep inside a grid search.
        if not isinstance(n_splits, numbers.Integral) or isinstance(n_splits, bool):
            raise ValueError(f"n_splits must be an integer, got {n_splits!r}.")
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2, got {n_splits}.")
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}.")
        if not shuffle and random_state is not None:
            raise ValueError(
                "random_state has no effect when shuffle=False; leave it None or set "
                "shuffle=True."
            )
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def split(self, X, y, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate the indices of the training part and the test fold of each split.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows; only their number is used.
        y : array-like of shape (n_samples,)
            Class labels, ``-1`` for unlabeled rows (in an object array when the labels
            are strings).
        groups : None
            Ignored; accepted for compatibility with scikit-learn's splitters.

        Yields
        ------
        train : ndarray of int
            Sorted indices of the training part: all unlabeled rows and the labeled rows
            of the other folds.
        test : ndarray of int
            Sorted indices of the test fold: labeled rows only, of every class.

        Raises
        ------
        ValueError
            If ``y`` is None, has no labeled row, or a class has fewer than ``n_splits``
            labeled rows.
        """
        if y is None:
            raise ValueError("LabeledStratifiedKFold needs y: it stratifies the labeled rows.")
        # Not a generator function: the folds are made (and the data checked) at the call,
        # so errors point at the data, and a shared RandomState is drawn from exactly once.
        folds = self._labeled_folds(X, y)
        return self._train_test(_num_samples(X), folds)

    @staticmethod
    def _train_test(n_samples: int, folds: list[np.ndarray]):
        indices = np.arange(n_samples)
        for test in folds:
            # The training part is the complement of the test fold: every unlabeled row
            # plus the labeled rows of the other folds.
            test_mask = np.zeros(n_samples, dtype=bool)
            test_mask[test] = True
            yield indices[~test_mask], indices[test_mask]

    def _labeled_folds(self, X, y) -> list[np.ndarray]:
        """Indices (into all rows) of the labeled rows of each test fold."""
        X, y = indexable(X, y)  # also checks that X and y have the same number of rows
        y = np.asarray(y)
        labeled = np.flatnonzero(~unlabeled_labels(y))
        if len(labeled) == 0:
            raise ValueError(
                "y has no labeled row: every entry is -1, so there is nothing to put in a "
                "test fold."
            )
        y_labeled = y[labeled]
        classes, counts = np.unique(y_labeled, return_counts=True)
        too_few = counts < self.n_splits
        if too_few.any():
            # StratifiedKFold only warns here; a fold missing a class would make the class
            # unscorable in that fold (or unseen in training), so fail with the culprit.
            cls, count = classes[too_few][0], int(counts[too_few][0])
            cls = cls.item() if isinstance(cls, np.generic) else cls  # 2, not np.int64(2)
            raise ValueError(
                f"Class {cls!r} has only {count} labeled row(s), fewer than "
                f"n_splits={self.n_splits}; every class needs at least n_splits labeled rows "
                f"so that each test fold holds one. Lower n_splits or label more rows."
            )
        stratified = StratifiedKFold(self.n_splits, shuffle=self.shuffle,
                                     random_state=self.random_state)
        return [labeled[test]
                for _, test in stratified.split(np.zeros((len(labeled), 1)), y_labeled)]

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored; accepted for compatibility with scikit-learn's splitters.

        Returns
        -------
        int
            ``n_splits``.
        """
        return self.n_splits


# At the end: the search builds on the scorer and the splitter defined above.
from ._search import LadderGridSearchCV  # noqa: E402
