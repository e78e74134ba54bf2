"""
A convolutional ladder on images
================================

Rows stay flat, as scikit-learn expects; ``input_shape=(channels, height, width)`` tells
the ladder how to read them as images, and ``layers`` lists the encoder with the
specifications of :mod:`sklearn_ladder.layers` (the paper's own networks are the presets
``"conv-small"``, ``"conv-large"`` and ``"conv-fc"``, sized for 28×28 and 32×32 images).
Here a small network for the 8×8 digits, 50 labels: the full convolutional ladder against
the same network trained on the labels alone, then the decoder at work — digits corrupted
with the training noise and their reconstructions.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import mask_labels
from sklearn_ladder.layers import Conv, Dense, GlobalMeanPool, MaxPool, output_shapes

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                    stratify=y)
y_semi = mask_labels(y_train, 50, random_state=0)

layers = [Conv(32, 3), Conv(32, 3, "full"), MaxPool(2), Conv(64, 3), Conv(10, 1),
          GlobalMeanPool(), Dense(10)]
for l, shape in enumerate(output_shapes((1, 8, 8), layers)):
    print(f"layer {l}: {shape}")

models, errors = {}, {}
for mode in ("full", "supervised"):
    models[mode] = LadderClassifier(layers, input_shape=(1, 8, 8), mode=mode, batch_size=32,
                                    max_epochs=15, random_state=0).fit(X_train, y_semi)
    errors[mode] = 100 * (1 - models[mode].score(X_test, y_test))
    print(f"{mode:10s} test error {errors[mode]:.1f} %")

# %%
# ``reconstruct`` returns the decoder's estimate of the clean input, flat like the rows
# given. Here the test digits are corrupted with the input noise of training first.
rows = X_test[:100]
rng = np.random.default_rng(0)
noisy = (rows + models["full"].noise_std_[0] * rng.standard_normal(rows.shape)).astype(
    np.float32)
denoised = models["full"].reconstruct(noisy)
fig, axes = plt.subplots(3, 8, figsize=(8, 3.4))
for column in range(8):
    for row, (images, title) in enumerate(((rows, "clean"), (noisy, "noisy (σ = 0.3)"),
                                           (denoised, "reconstructed"))):
        ax = axes[row, column]
        ax.imshow(images[column].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if column == 0:
            ax.set_ylabel(title, fontsize=8)
fig.suptitle(f"Convolutional ladder, digits with 50 labels: test error "
             f"{errors['full']:.1f} % (labels alone: {errors['supervised']:.1f} %)", fontsize=9)
fig.tight_layout()
plt.show()
