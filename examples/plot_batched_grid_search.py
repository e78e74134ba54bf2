"""
A λ × σ grid trained as one batch: LadderGridSearchCV against GridSearchCV
==========================================================================

:class:`~sklearn_ladder.model_selection.LadderGridSearchCV` runs the same search as
scikit-learn's :class:`~sklearn.model_selection.GridSearchCV` (same candidates, folds,
seeds and scores), but trains every (candidate, fold) ladder of one structure as one
batched model: the K forward and backward passes become batched matrix products, and
each model keeps its own λ, σ, seed, rows and optimiser. On a GPU, which a single small
ladder leaves mostly idle, the whole grid costs little more than one fit; on a CPU the
gain is smaller, since the products dominate there.

Here the denoising costs λ_0..λ_3 and the noise σ are tuned on scikit-learn's 8x8 digits
(no download), 5 labels per class, 3 folds of
:class:`~sklearn_ladder.model_selection.LabeledStratifiedKFold`; both searches are timed
on this machine and their mean cross-validation accuracies compared.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import mask_labels
from sklearn_ladder.model_selection import (
    LabeledStratifiedKFold,
    LadderGridSearchCV,
    labeled_scorer,
)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
y_semi = mask_labels(y, 50, random_state=0)  # 5 labels per class, the rest -1

# layers=[200, 100]: layers 0..3 (input, two hidden, softmax), so λ has 4 values.
grid = {"denoising_costs": [[1000, 10, 0.1, 0.1], [100, 1, 0.1, 0.1], [10, 1, 0.1, 0.1]],
        "noise_std": [0.2, 0.3]}
ladder = LadderClassifier(layers=[200, 100], max_epochs=5, random_state=0)
cv = LabeledStratifiedKFold(3)

searches, seconds = {}, {}
for name, search in [
    ("GridSearchCV", GridSearchCV(ladder, grid, cv=cv, scoring=labeled_scorer("accuracy"))),
    ("LadderGridSearchCV", LadderGridSearchCV(ladder, grid, cv=cv, scoring="accuracy")),
]:
    start = time.perf_counter()
    searches[name] = search.fit(X, y_semi)
    seconds[name] = time.perf_counter() - start

plain, batched = searches["GridSearchCV"], searches["LadderGridSearchCV"]
print(f"{len(plain.cv_results_['params'])} candidates x 3 folds; "
      f"LadderGridSearchCV trained them in {batched.n_batches_} batch(es)")
for name in searches:
    print(f"{name:19s} {seconds[name]:5.1f} s   best {searches[name].best_params_}")
print("mean CV accuracy, candidate by candidate (GridSearchCV / batched):")
for params, a, b in zip(plain.cv_results_["params"], plain.cv_results_["mean_test_score"],
                        batched.cv_results_["mean_test_score"]):
    print(f"  λ_0 = {params['denoising_costs'][0]:4d}, σ = {params['noise_std']}: "
          f"{a:.3f} / {b:.3f}")

# %%
# The two searches side by side: the same scores (up to float rounding in training),
# and the time each took on this machine.
fig, (ax_score, ax_time) = plt.subplots(1, 2, figsize=(9, 3.5))
labels = [f"λ0={p['denoising_costs'][0]}\nσ={p['noise_std']}"
          for p in plain.cv_results_["params"]]
positions = np.arange(len(labels))
ax_score.bar(positions - 0.2, plain.cv_results_["mean_test_score"], 0.4, label="GridSearchCV")
ax_score.bar(positions + 0.2, batched.cv_results_["mean_test_score"], 0.4,
             label="LadderGridSearchCV")
ax_score.set_xticks(positions, labels, fontsize=7)
ax_score.set_ylabel("mean CV accuracy (labeled rows)")
ax_score.set_ylim(0, 1)
ax_score.legend(fontsize=7)
ax_time.bar(list(seconds), list(seconds.values()), color=["C0", "C1"])
ax_time.set_ylabel("search time (s)")
fig.tight_layout()
plt.show()
