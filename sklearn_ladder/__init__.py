"""sklearn-ladder: semi-supervised Ladder Networks as scikit-learn estimators.

The ladder network (Rasmus, Valpola, Honkala, Berglund and Raiko, "Semi-Supervised
Learning with Ladder Networks", NIPS 2015) trained through skorch, with scikit-learn's
semi-supervised convention: ``y == -1`` marks an unlabeled row.
"""

from ._classifier import LadderClassifier

__all__ = ["LadderClassifier"]
__version__ = "0.1.0"
