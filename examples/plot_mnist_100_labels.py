"""
MNIST with 100 labels (when the data is present)
================================================

The paper's headline setting: permutation-invariant MNIST, 100 labels (10 per class), the
full ladder with the paper's network and λ. A short schedule here (3 epochs, a couple of
minutes on 2 cores); the paper's 150 epochs bring it to about 1 % (see
``benchmarks/reproduce.py``). The data is read from ``$SKLEARN_LADDER_DATA`` (the four
original IDX files); without it the example says so and stops.
"""

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import load_mnist, mask_labels

try:
    mnist = load_mnist()
except FileNotFoundError as missing:
    mnist = None
    print(f"Skipped: {missing}")

if mnist is not None:
    y_semi = mask_labels(mnist.y_train, 100, random_state=0)
    clf = LadderClassifier(max_epochs=3, random_state=0, verbose=1).fit(mnist.X_train, y_semi)
    error = 100 * (1 - clf.score(mnist.X_test, mnist.y_test))
    print(f"test error after 3 epochs: {error:.2f} %")
