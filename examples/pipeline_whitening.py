"""
Preprocessing pipelines in front of the ladder
==============================================

The ladder wants inputs on a sensible scale. This example puts scikit-learn and
sklearn-ladder preprocessing in front of :class:`~sklearn_ladder.LadderClassifier` in a
:class:`~sklearn.pipeline.Pipeline`, on digits with 50 labels: pixels scaled to [0, 1],
``StandardScaler``, ``PCA(whiten=True)``, and the paper's contrast normalisation followed
by ZCA whitening. The transformers ignore ``y``, so they are fitted on every training row,
labeled and unlabeled alike. Run it with ``python examples/pipeline_whitening.py``.

The paper's λ_0 = 1000 weighs the reconstruction of inputs in [0, 1]. Standardised or
whitened inputs have unit variance, so their reconstruction cost is far larger and
swamps the few labels: with them, λ_0 = 10 works better (measured on this split:
StandardScaler 21.1 % → 16.7 %, PCA whitening 33.0 % → 18.5 % test error). On digits,
plain [0, 1] pixels remain the best input for the ladder.
"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import mask_labels
from sklearn_ladder.preprocessing import ContrastNormalization, ZCAWhitening

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X.astype(np.float32), y, test_size=0.3, random_state=0, stratify=y)
y_semi = mask_labels(y_train, 50, random_state=0)

steps = {  # name: (preprocessing, λ_0)
    "pixels / 16": ([FunctionTransformer(lambda X: X / 16.0)], 1000),
    "StandardScaler": ([StandardScaler()], 10),
    "PCA(whiten=True, 40)": ([PCA(n_components=40, whiten=True, random_state=0)], 10),
    "contrast norm. + ZCA": ([ContrastNormalization(norm=8.0), ZCAWhitening()], 10),
}
for name, (preprocessing, lambda_0) in steps.items():
    start = time.perf_counter()
    ladder = LadderClassifier(layers=[500, 250, 250], denoising_costs=[lambda_0, 10, 0.1, 0.1, 0.1],
                              max_epochs=20, random_state=0)
    model = make_pipeline(*preprocessing, ladder).fit(X_train, y_semi)
    error = 100 * (1 - model.score(X_test, y_test))
    print(f"{name:22s} λ_0 = {lambda_0:<5d} test error {error:5.2f} %  "
          f"({time.perf_counter() - start:.0f} s)")
