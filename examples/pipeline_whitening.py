"""
Preprocessing pipelines in front of the ladder
==============================================

The ladder wants inputs on a sensible scale. This example puts scikit-learn and
sklearn-ladder preprocessing in front of :class:`~sklearn_ladder.LadderClassifier` in a
:class:`~sklearn.pipeline.Pipeline`, on digits with 50 labels: pixels scaled to [0, 1],
``StandardScaler``, ``PCA(whiten=True)``, and the paper's contrast normalisation followed
by ZCA whitening. The transformers ignore ``y``, so they are fitted on every training row,
labeled and unlabeled alike. Run it with ``python examples/pipeline_whitening.py``.

The paper's λ_0 = 1000 weighs the reconstruction of inputs in [0, 1], and every default
was chosen on such inputs. Standardised or whitened features reach beyond [0, 1], so
``input_scaling="auto"`` (the default) maps each of them to [0, 1] by its minimum and
maximum over the training rows before the network sees it; ``input_scaling=None`` hands
the network the pipeline's output as it is. Each pipeline runs both ways (test error on
this split, 20 epochs):

======================  ======================  =====================
preprocessing           ``"auto"`` (default)    ``None``
======================  ======================  =====================
pixels / 16             6.85 %                  6.85 % (the same fit)
StandardScaler          7.22 %                  44.26 %
PCA(whiten=True, 40)    23.15 %                 27.78 %
contrast norm. + ZCA    44.26 %                 14.07 %
======================  ======================  =====================

Standardised as given, the rare pixels' large values make the input reconstruction
(λ_0 = 1000) swamp the few labels. ZCA whitening goes the other way: it spreads the
digits' signal evenly over all 64 directions, and mapped to [0, 1] each keeps too
little of it beside the input noise σ_0 = 0.3, so after ZCA pass
``input_scaling=None`` (the paper whitens images for its convolutional ladders, whose
inputs, with ``input_shape``, are taken as given anyway).
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

preprocessing = {
    "pixels / 16": [FunctionTransformer(lambda X: X / 16.0)],
    "StandardScaler": [StandardScaler()],
    "PCA(whiten=True, 40)": [PCA(n_components=40, whiten=True, random_state=0)],
    "contrast norm. + ZCA": [ContrastNormalization(norm=8.0), ZCAWhitening()],
}
for name, steps in preprocessing.items():
    for input_scaling in ("auto", None):
        start = time.perf_counter()
        ladder = LadderClassifier(layers=[500, 250, 250], input_scaling=input_scaling,
                                  max_epochs=20, random_state=0)
        model = make_pipeline(*steps, ladder).fit(X_train, y_semi)
        error = 100 * (1 - model.score(X_test, y_test))
        print(f"{name:22s} input_scaling={input_scaling!s:5s} test error {error:5.2f} %  "
              f"({time.perf_counter() - start:.0f} s)")
