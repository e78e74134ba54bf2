"""The semi-supervised target convention, in one place: which rows are unlabeled.

Class labels (what users pass to :class:`~sklearn_ladder.LadderClassifier`): a row is
unlabeled when its label is the number ``-1`` (scikit-learn's convention), the string
``'-1'`` (what a pandas ``str`` column can hold), or a missing value: ``None``, NaN or
``pandas.NA``. None of these is ever trained as a class.

Regression targets (:class:`~sklearn_ladder.LadderRegressor`): a row is unlabeled when
its target is NaN (in every output).

Training targets (what the skorch net trains on, made by the estimators): class indices
with ``-1`` for unlabeled rows, or float targets of shape ``(n, n_outputs)`` with NaN.
"""

import sys
from numbers import Real

import numpy as np

__all__ = ["UNLABELED", "UNLABELED_MARKERS_DOC", "labeled_rows", "mark_unlabeled",
           "unlabeled_labels", "unlabeled_targets"]

UNLABELED = -1

#: How the markers are described in messages and docstrings.
UNLABELED_MARKERS_DOC = "-1, '-1', None, NaN or pandas.NA"


def _missing_values() -> tuple:
    # pandas.NA can only be in y if pandas is imported; no import (and no dependency) else.
    pandas = sys.modules.get("pandas")
    return (None,) if pandas is None else (None, pandas.NA)


def _is_marker(value, missing: tuple) -> bool:
    if any(value is m for m in missing):
        return True
    if isinstance(value, str):
        return value == str(UNLABELED)
    if isinstance(value, Real) and not isinstance(value, (bool, np.bool_)):
        return value == UNLABELED or value != value  # -1 or NaN
    return False


def unlabeled_labels(y) -> np.ndarray:
    """Boolean mask of the class labels that mark an unlabeled row.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels with markers: the number -1, the string '-1', None, NaN or
        ``pandas.NA``.

    Returns
    -------
    ndarray of bool, shape (n_samples,)
    """
    y = np.asarray(y)
    if y.dtype.kind in "US":
        return y == str(UNLABELED)
    if y.dtype.kind == "f":
        return (y == UNLABELED) | np.isnan(y)
    if y.dtype.kind in "iu":
        return y == UNLABELED
    if y.dtype.kind == "b":
        return np.zeros(y.shape, bool)
    missing = _missing_values()
    return np.array([_is_marker(v, missing) for v in y.ravel()], bool).reshape(y.shape)


def unlabeled_targets(y) -> np.ndarray:
    """Boolean mask of the regression rows whose target is NaN (in any output).

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)

    Returns
    -------
    ndarray of bool, shape (n_samples,)
    """
    y = np.asarray(y, dtype=float)
    return np.isnan(y.reshape(len(y), -1)).any(axis=1)


def labeled_rows(y: np.ndarray) -> np.ndarray:
    """Indices of the labeled rows of training targets (class indices or float targets)."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        return np.flatnonzero(~unlabeled_targets(y))
    return np.flatnonzero(y != UNLABELED)


def mark_unlabeled(y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A copy of the training targets with ``rows`` marked unlabeled (-1 or NaN)."""
    y = np.array(y, copy=True)
    y[rows] = np.nan if y.dtype.kind == "f" else UNLABELED
    return y
