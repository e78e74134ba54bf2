"""
Tuning the ladder's λ and σ with GridSearchCV on 50 labels
==========================================================

Grid search on semi-supervised data needs two changes to scikit-learn's defaults: the
scorer must ignore the unlabeled rows (``y == -1``) and the folds must keep every
unlabeled row in training and score only labeled rows, of every class.
:func:`~sklearn_ladder.model_selection.labeled_scorer` and
:class:`~sklearn_ladder.model_selection.LabeledStratifiedKFold` do both. Here the ladder's
denoising costs λ_0..λ_3 and noise σ are tuned on scikit-learn's 8x8 digits (no download)
with a seeded, stratified 70/30 split and 5 labels per class kept in the training part;
the refitted best model is then scored on the held-out 30 %.

The folds run in parallel through joblib; a Dask or Ray cluster is used the same way,
by wrapping ``search.fit`` in ``joblib.parallel_backend("dask")`` (or ``"ray"``). Run it
with ``python examples/grid_search.py``.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import mask_labels
from sklearn_ladder.model_selection import LabeledStratifiedKFold, labeled_scorer

# layers=[200, 100] gives layers 0..3 (input, two hidden, softmax), so λ has 4 values.
PARAM_GRID = {
    "denoising_costs": [[1000, 10, 0.1, 0.1], [500, 1, 0.1, 0.1], [2000, 20, 0.1, 0.1]],
    "noise_std": [0.2, 0.3],
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Grid search of the ladder on digits")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)  # inputs in [0, 1], as the ladder expects
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y)
    y_semi = mask_labels(y_train, 50, random_state=0)  # 5 labels per class, the rest -1

    search = GridSearchCV(
        LadderClassifier(layers=[200, 100], max_epochs=args.epochs, random_state=0),
        PARAM_GRID,
        # 3 folds: with 5 labels per class every test fold still holds each class.
        cv=LabeledStratifiedKFold(3, shuffle=True, random_state=0),
        scoring=labeled_scorer("accuracy"),
        n_jobs=args.n_jobs,
    )
    start = time.perf_counter()
    search.fit(X_train, y_semi)
    elapsed = time.perf_counter() - start

    test_error = 100 * (1 - search.score(X_test, y_test))
    print(f"best parameters : {search.best_params_}")
    print(f"best CV accuracy: {search.best_score_:.4f} (on the labeled rows of the folds)")
    print(f"test error      : {test_error:.2f} % (refitted best model, {len(y_test)} rows)")
    print(f"wall time       : {elapsed:.0f} s ({len(search.cv_results_['params'])} candidates "
          f"x {search.n_splits_} folds + refit, n_jobs={args.n_jobs})")


if __name__ == "__main__":
    main()
