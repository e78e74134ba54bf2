"""
The learned denoising functions
===============================

Each decoder layer denoises its units with the paper's function g (eq. 2): for a given
top-down signal u, ẑ = g(z̃, u) is linear in the corrupted activation z̃, with a slope
v(u) and an intercept that depend on u. After training, the slope is below one (the noise
is shrunk away) and u moves the line: the higher layers tell each unit what value to
expect. This plots ẑ against z̃ for a few units of the first hidden layer and three values
of u, as in the paper's Figure 1. Digits, 50 labels.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import mask_labels

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
y_semi = mask_labels(y, 50, random_state=0)
clf = LadderClassifier(layers=[500, 250, 250], max_epochs=30, random_state=0).fit(X, y_semi)

layer = 1
g = clf.net_.module_.combinators[str(layer)]
n_units = clf.net_.module_.widths[layer]
units = [0, 1, 2, 3]
z_tilde = torch.linspace(-3, 3, 121)
fig, axes = plt.subplots(2, 2, figsize=(8, 6.5), sharex=True, sharey=True)
with torch.no_grad():
    for ax, unit in zip(axes.flat, units):
        for u_value, color in zip((-1.5, 0.0, 1.5), ("tab:blue", "tab:gray", "tab:red")):
            z = z_tilde[:, None].expand(-1, n_units)
            u = torch.full_like(z, u_value)
            ax.plot(z_tilde, g(z, u)[:, unit], color=color, label=f"u = {u_value:g}")
        ax.plot(z_tilde, z_tilde, "k:", lw=1, label="ẑ = z̃")
        ax.set_title(f"layer {layer}, unit {unit}")
        ax.grid(alpha=0.3)
for ax in axes[1]:
    ax.set_xlabel("corrupted z̃")
for ax in axes[:, 0]:
    ax.set_ylabel("denoised ẑ = g(z̃, u)")
axes[0, 1].legend(fontsize=8)
fig.tight_layout()
plt.show()

a = g.a.detach()
u = torch.zeros(n_units)
slope = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]  # v(u) at u = 0
print(f"slope v(0) over the {n_units} units of layer {layer}: median {slope.median():.2f}, "
      f"range {slope.min():.2f} to {slope.max():.2f}")
