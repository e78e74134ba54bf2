"""
The ladder against scikit-learn's semi-supervised methods
=========================================================

Test error on digits as the number of labels grows, for the ladder network, its encoder
trained alone (the supervised baseline, the paper's noise 0.3 / 0.5),
``LabelSpreading`` and ``SelfTrainingClassifier`` around a logistic regression. Every
model sees the same labeled rows and the same unlabeled rows; one seeded 70/30 split.
On this split the ladder is best with 20 labels and close to LabelSpreading above; the
unlabeled rows cut its encoder's error by a third or more at every label count.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import mask_labels

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                    stratify=y)
LAYERS = [500, 250, 250]
models = {
    "ladder (full)": lambda: LadderClassifier(LAYERS, max_epochs=20, random_state=0),
    "supervised baseline": lambda: LadderClassifier(
        LAYERS, mode="supervised", noise_std=[0.3, 0.5, 0.5, 0.5, 0.5], max_epochs=20,
        random_state=0),
    "LabelSpreading": lambda: LabelSpreading(kernel="knn", n_neighbors=7),
    "SelfTraining(LogReg)": lambda: SelfTrainingClassifier(LogisticRegression(max_iter=1000)),
}
label_counts = [20, 50, 100, 200]
errors = {name: [] for name in models}
start = time.perf_counter()
for n_labels in label_counts:
    y_semi = mask_labels(y_train, n_labels, random_state=0)
    for name, make in models.items():
        with warnings.catch_warnings():
            # LabelSpreading divides by zero for rows none of whose neighbours is labeled
            # yet (with 20 labels); its predictions are still defined.
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            error = 100 * (1 - make().fit(X_train, y_semi).score(X_test, y_test))
        errors[name].append(error)
    print(f"{n_labels:4d} labels: " + ", ".join(f"{n} {e[-1]:.1f} %" for n, e in errors.items()))
print(f"({time.perf_counter() - start:.0f} s)")

fig, ax = plt.subplots(figsize=(6.5, 4))
for name, values in errors.items():
    ax.plot(label_counts, values, marker="o", label=name)
ax.set_xscale("log")
ax.set_xticks(label_counts, [str(n) for n in label_counts])
ax.minorticks_off()
ax.set_xlabel("labeled training rows (of 1,257)")
ax.set_ylabel("test error %")
ax.set_title("Digits: error against the number of labels")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()
