"""The classifier: labels, the -1 convention, probabilities and accuracy."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._base import BaseLadder, fill_docstring

__all__ = ["LadderClassifier", "unlabeled_mask"]

UNLABELED = -1


def unlabeled_mask(y: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows marked unlabeled (the number -1; never a string)."""
    y = np.asarray(y)
    if y.dtype.kind in "US":
        return np.zeros(len(y), bool)
    if y.dtype == object:
        return np.array([isinstance(v, Real) and not isinstance(v, bool) and v == UNLABELED
                         for v in y], dtype=bool)
    return y == UNLABELED


@fill_docstring
class LadderClassifier(ClassifierMixin, BaseLadder):
    """Semi-supervised Ladder network classifier (Rasmus et al., NIPS 2015).

    An encoder (fully connected, or convolutional with ``input_shape``) is trained on the
    labeled rows (cross-entropy of its corrupted pass) while a decoder learns to denoise
    every layer of it on all rows, so the unlabeled rows shape the representation.
    Unlabeled rows are marked by ``y == -1``, as in
    :class:`sklearn.semi_supervised.SelfTrainingClassifier`.

    %(parameters)s
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen among the labeled rows.
    %(attributes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ladder import LadderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> y_semi = np.where(np.arange(len(y)) < 200, y, -1)   # 200 labels, rest unlabeled
    >>> clf = LadderClassifier(layers=[100, 50], max_epochs=3, random_state=0).fit(X, y_semi)
    >>> clf.predict(X[:3]).shape
    (3,)

    The same rows as 1×8×8 images through a small convolutional encoder (the last layer
    has one unit per class; see :mod:`sklearn_ladder.layers`):

    >>> from sklearn_ladder.layers import Conv, Dense, GlobalMeanPool, MaxPool
    >>> layers = [Conv(16, 3), MaxPool(2), Conv(10, 1), GlobalMeanPool(), Dense(10)]
    >>> conv = LadderClassifier(layers, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    >>> conv.fit(X, y_semi).predict_proba(X[:3]).shape
    (3, 10)
    """

    _output = "softmax"
    _supervised_cost = "cross_entropy"

    def _prepare_targets(self, y) -> np.ndarray:
        """Set ``classes_`` from the labeled rows; return indices into it, -1 if unlabeled."""
        y = column_or_1d(y, warn=True)
        if y.dtype.kind in "US":
            if np.any(y == str(UNLABELED)):
                raise ValueError(
                    "y holds the string '-1'. Mark unlabeled rows with the integer -1 in an "
                    "object array, e.g. y = np.array(labels, dtype=object); y[mask] = -1."
                )
        if y.dtype.kind == "f":
            if np.any(~np.isfinite(y)):
                raise ValueError("y contains NaN or infinity.")
            if np.any(y != np.round(y)):
                raise ValueError(
                    "y holds continuous values (floats that are not whole numbers); a "
                    "classifier needs class labels (ints, strings, or integral floats), "
                    "with -1 for unlabeled."
                )
        labeled = ~unlabeled_mask(y)
        if not labeled.any():
            raise ValueError(
                "y has no labeled row: every entry is -1. The ladder needs at least one "
                "labeled row per class."
            )
        y_labeled = y[labeled]
        if y.dtype == object:
            kinds = {isinstance(v, str) for v in y_labeled}
            if len(kinds) > 1:
                raise ValueError("y mixes strings and numbers among the labeled rows.")
            if kinds == {False}:  # numbers in an object array: scikit-learn wants them numeric
                y_labeled = np.array(y_labeled.tolist())
        check_classification_targets(y_labeled)
        self.classes_ = np.unique(y_labeled)
        if len(self.classes_) < 2:
            raise ValueError(
                f"The labeled rows hold only one class ({self.classes_[0]!r}); a classifier "
                f"needs labeled rows of at least 2 classes."
            )
        encoded = np.full(len(y), UNLABELED, dtype=np.int64)
        encoded[labeled] = np.searchsorted(self.classes_, y_labeled)
        return encoded

    def _target_signature(self):
        return self.classes_

    def _n_outputs(self) -> int:
        return len(self.classes_)

    @staticmethod
    def _held_out_score(outputs: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(outputs.argmax(1) == y))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from the clean encoder with the test-time statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; each row sums to 1.
        """
        return torch.softmax(self._outputs(X).double(), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        best = self._outputs(X).argmax(dim=1).numpy()
        return self.classes_[best]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on the labeled rows; rows with ``y == -1`` are ignored.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.
        y : array-like of shape (n_samples,)
            True labels, ``-1`` for rows that do not count.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        float
            Mean accuracy over the labeled rows.
        """
        y = np.asarray(y)
        return self._score_kept_rows(accuracy_score, X, y, ~unlabeled_mask(y), sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags

