"""
Training curves of every cost term
==================================

``history_`` records, for every epoch, the supervised cost, each layer's weighted
denoising cost λ_l C_l and the learning rate (the paper's schedule: constant, then a
linear decay to zero). Plotting them shows which layers the ladder spends its effort on:
the input reconstruction dominates at first, and every term falls as the representation
forms. Digits, 50 labels.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import mask_labels

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
y_semi = mask_labels(y, 50, random_state=0)
clf = LadderClassifier(layers=[500, 250, 250], max_epochs=30, random_state=0).fit(X, y_semi)

history = clf.history_
epochs = history[:, "epoch"]
fig, (costs, rate) = plt.subplots(2, 1, figsize=(7, 6), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]})
costs.plot(epochs, history[:, "supervised_cost"], "k-", lw=2, label="supervised (cross-entropy)")
for layer in range(len(clf.denoising_costs_)):
    key = f"denoising_cost_{layer}"
    if key in history[-1]:
        costs.plot(epochs, history[:, key],
                   label=f"layer {layer}: λ={clf.denoising_costs_[layer]:g} × C_{layer}")
costs.set_yscale("log")
costs.set_ylabel("cost (mean per update)")
costs.legend(fontsize=8, ncol=2)
costs.set_title("LadderClassifier on digits, 50 labels")
rate.plot(epochs, history[:, "lr"], "k-")
rate.set_ylabel("learning rate")
rate.set_xlabel("epoch")
fig.tight_layout()
plt.show()

print(f"final: supervised {history[-1, 'supervised_cost']:.4f}, "
      f"denoising {history[-1, 'denoising_cost']:.3f}")
