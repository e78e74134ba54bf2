"""Model selection for semi-supervised data: scoring and cross-validation that respect -1.

scikit-learn's tools assume every row has a label. With the semi-supervised convention
(``y == -1`` marks an unlabeled row) two things go wrong in a plain
:class:`~sklearn.model_selection.GridSearchCV`: the scorer counts the -1 rows as a class
the model never predicts, and :class:`~sklearn.model_selection.StratifiedKFold` treats -1
as a class, so unlabeled rows end up in test folds (where they cannot be scored) and out
of training parts (where the ladder would have learned from them).

:func:`labeled_scorer` and :class:`LabeledStratifiedKFold` fix both. They only use the
public scorer and splitter protocols, so they work with any joblib backend (loky,
threading, Dask, Ray) without further code. :class:`LadderGridSearchCV` and
:class:`LadderRandomizedSearchCV` use both, and train the candidates × folds of a ladder
as batches of models.
"""

from ._scoring import labeled_scorer
from ._search import LadderGridSearchCV, LadderRandomizedSearchCV
from ._split import LabeledStratifiedKFold

__all__ = [
    "LabeledStratifiedKFold",
    "LadderGridSearchCV",
    "LadderRandomizedSearchCV",
    "labeled_scorer",
]
