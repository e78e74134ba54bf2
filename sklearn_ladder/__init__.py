"""sklearn-ladder: semi-supervised Ladder Networks as scikit-learn estimators.

The ladder network (Rasmus, Valpola, Honkala, Berglund and Raiko, "Semi-Supervised
Learning with Ladder Networks", NIPS 2015) trained through skorch, with scikit-learn's
semi-supervised convention: ``y == -1`` marks an unlabeled row.

Public modules: :mod:`sklearn_ladder.layers` (convolutional encoders and the paper's
architectures), :mod:`sklearn_ladder.combinators` (the denoising functions g, and how to
write your own), :mod:`sklearn_ladder.datasets` (MNIST and CIFAR-10 loaders, label masking),
:mod:`sklearn_ladder.preprocessing` (contrast normalisation, ZCA whitening) and
:mod:`sklearn_ladder.model_selection` (scoring, cross-validation and a batched grid
search that ignore -1 rows). :func:`fit_batched` fits many ladders as batches of models.
"""

from ._batched import fit_batched
from ._classifier import LadderClassifier
from ._input_scaling import InputScaleWarning
from ._regressor import LadderRegressor

__all__ = ["InputScaleWarning", "LadderClassifier", "LadderRegressor", "fit_batched"]
__version__ = "0.1.0"
