import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

# The benchmark scripts (and their plain reference ladder) are tested too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1], a stratified 70/30 split."""
    X, y = load_digits(return_X_y=True)
    return train_test_split((X / 16.0).astype(np.float32), y, test_size=0.3,
                            random_state=0, stratify=y)


@pytest.fixture(scope="session")
def digits_semi(digits):
    """Digits training rows with 5 labels per class, the rest marked -1."""
    from sklearn_ladder.datasets import mask_labels

    X_train, X_test, y_train, y_test = digits
    return X_train, mask_labels(y_train, 50, random_state=0), X_test, y_test
