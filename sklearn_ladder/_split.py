"""Cross-validation that tests labeled rows only: :class:`LabeledStratifiedKFold`."""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np
from sklearn.model_selection import BaseCrossValidator, StratifiedKFold
from sklearn.utils import indexable
from sklearn.utils.validation import _num_samples

from ._unlabeled import unlabeled_labels

__all__ = ["LabeledStratifiedKFold"]


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
