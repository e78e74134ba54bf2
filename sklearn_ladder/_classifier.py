"""The classifier: labels, the -1 convention, probabilities and accuracy."""

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._base import SHARED_PARAMETERS, BaseLadder, make_init
from ._docstrings import fill_docstring
from ._unlabeled import UNLABELED, UNLABELED_MARKERS_DOC, unlabeled_labels

__all__ = ["LadderClassifier"]


@fill_docstring
class LadderClassifier(ClassifierMixin, BaseLadder):
    """Semi-supervised Ladder network classifier (Rasmus et al., NIPS 2015).

    An encoder (fully connected, or convolutional with ``input_shape``) is trained on the
    labeled rows (cross-entropy of its corrupted pass) while a decoder learns to denoise
    every layer of it on all rows, so the unlabeled rows shape the representation.
    Unlabeled rows are marked by ``y == -1``, as in
    :class:`sklearn.semi_supervised.SelfTrainingClassifier`; the string ``'-1'`` (what a
    pandas string column can hold), ``None``, NaN and ``pandas.NA`` mark them too, and
    are never trained as a class.

    %(parameters)s
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the supervised cost, ``{label: weight}``; ``"balanced"``
        weighs each class by ``n_labeled / (n_classes * n_labeled_in_class)``, over the
        labeled rows. Multiplied with ``sample_weight`` when both are given.

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
    _parameter_constraints: dict = {
        **BaseLadder._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    __init__ = make_init({**SHARED_PARAMETERS, "class_weight": None})

    def _prepare_targets(self, y) -> np.ndarray:
        """Set ``classes_`` from the labeled rows; return indices into it, -1 if unlabeled."""
        integer_labels = getattr(getattr(y, "dtype", None), "kind", "") in "iu"
        y = column_or_1d(y, warn=True)
        unlabeled = unlabeled_labels(y)
        if not (~unlabeled).any():
            raise ValueError(
                f"y has no labeled row: every entry is an unlabeled marker "
                f"({UNLABELED_MARKERS_DOC}). The ladder needs labeled rows of every class."
            )
        y_labeled = _labels(y[~unlabeled], integer_labels)
        check_classification_targets(y_labeled)
        self.classes_ = np.unique(y_labeled)
        if len(self.classes_) < 2:
            raise ValueError(
                f"The labeled rows hold only one class ({self.classes_[0]!r}); a classifier "
                f"needs labeled rows of at least 2 classes.{_minus_one_hint(unlabeled)}"
            )
        encoded = np.full(len(y), UNLABELED, dtype=np.int64)
        encoded[~unlabeled] = np.searchsorted(self.classes_, y_labeled)
        return encoded

    def _class_weights(self, y_encoded: np.ndarray) -> np.ndarray | None:
        if self.class_weight is None:
            return None
        labeled = y_encoded != UNLABELED
        per_class = compute_class_weight(self.class_weight, classes=self.classes_,
                                         y=self.classes_[y_encoded[labeled]])
        if not np.all(np.isfinite(per_class) & (per_class >= 0)):
            raise ValueError(f"class_weight must give every class a finite, non-negative "
                             f"weight, got {self.class_weight!r}.")
        weights = np.ones(len(y_encoded))
        weights[labeled] = per_class[y_encoded[labeled]]
        return weights

    def _target_signature(self):
        return self.classes_

    def _n_outputs(self) -> int:
        return len(self.classes_)

    @staticmethod
    def _held_out_score(outputs: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(outputs.argmax(1) == y))

    @staticmethod
    def _score_above_chance(outputs: np.ndarray, y: np.ndarray) -> float:
        # Balanced: on imbalanced classes, predicting the majority is still chance level.
        return float(balanced_accuracy_score(y, outputs.argmax(1), adjusted=True))

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

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithms of the class probabilities, from the logits directly (finite where
        a probability rounds to 0, so ``log(predict_proba(X))`` would be -inf).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return torch.log_softmax(self._outputs(X).double(), dim=1).numpy()

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
        """Accuracy on the labeled rows; unlabeled rows (``y == -1`` etc.) are ignored.

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
        return self._score_kept_rows(accuracy_score, X, y, ~unlabeled_labels(y), sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


def _minus_one_hint(unlabeled: np.ndarray) -> str:
    """Why a class may be missing: -1 is scikit-learn's unlabeled marker, yet some data
    sets (``make_hastie_10_2``, SVM-style ±1 labels) use it as a class."""
    if not unlabeled.any():
        return ""
    return (f" {unlabeled.sum()} rows are marked unlabeled ({UNLABELED_MARKERS_DOC}); if -1 "
            f"is one of your classes (labels -1 and 1), encode the classes first (e.g. "
            f"y = (y > 0).astype(int) or a LabelEncoder), then mark the unlabeled rows.")


def _labels(y_labeled: np.ndarray, integer_labels: bool) -> np.ndarray:
    """The labeled rows' labels, checked: all strings or all numbers, whole numbers when
    floats (a pandas integer column with missing values arrives as floats: back to int)."""
    if y_labeled.dtype == object:
        kinds = {isinstance(v, str) for v in y_labeled}
        if len(kinds) > 1:
            raise ValueError("y mixes strings and numbers among the labeled rows.")
        if kinds == {False}:  # numbers in an object array: scikit-learn wants them numeric
            y_labeled = np.array(y_labeled.tolist())
    if y_labeled.dtype.kind == "f":
        if not np.all(np.isfinite(y_labeled)):
            raise ValueError("y contains infinity; mark unlabeled rows with -1 or NaN.")
        if np.any(y_labeled != np.round(y_labeled)):
            raise ValueError(
                "y holds continuous values (floats that are not whole numbers); a "
                "classifier needs class labels (ints, strings, or integral floats), "
                f"with {UNLABELED_MARKERS_DOC} for unlabeled rows."
            )
        if integer_labels:
            y_labeled = y_labeled.astype(np.int64)
    return y_labeled
