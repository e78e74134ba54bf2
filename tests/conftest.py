import signal

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


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


@pytest.fixture(scope="session")
def digits_50_labels():
    """All digits rows scaled to [0, 1], 5 labels per class, the rest marked -1."""
    from sklearn_ladder.datasets import mask_labels

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), mask_labels(y, 50, random_state=0)


@pytest.fixture
def ctrl_c():
    """Python's own Ctrl-C handler (SIGINT raises KeyboardInterrupt) for the test, also
    where the runner inherited SIGINT ignored, as a shell's background job does."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
