"""scikit-learn's own estimator checks, on small and fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ladder import LadderClassifier, LadderRegressor
from sklearn_ladder.preprocessing import ContrastNormalization, ZCAWhitening

# The checks' data sets are 2-20 standardised features and 30-300 rows: the MNIST default
# λ_0 = 1000 would make the input reconstruction swamp the few labels of a short run.
FAST = LadderClassifier(layers=[16], denoising_costs=[1, 1, 0.1], max_epochs=10,
                        batch_size=32, learning_rate=0.02, random_state=0)


FAST_REGRESSOR = LadderRegressor(layers=[16], denoising_costs=[1, 1, 0.1], max_epochs=10,
                                 batch_size=32, learning_rate=0.02, random_state=0)


# Training draws random batches of the rows; a weight of 2 cannot give the same batches
# (hence the same stochastic fit) as a repeated row.
STOCHASTIC_WEIGHTS = (
    "Weights scale each labeled row's supervised cost; training samples random batches "
    "of rows, so a weight of 2 and a repeated row give different (equally valid) fits."
)


def expected_failed_checks(estimator):
    weights = {f"check_sample_weight_equivalence_on_{kind}_data": STOCHASTIC_WEIGHTS
               for kind in ("dense", "sparse")}
    if isinstance(estimator, (ZCAWhitening, ContrastNormalization)):
        return {}
    if isinstance(estimator, LadderRegressor):
        return weights
    return {
        **weights,
        "check_class_weight_classifiers": (
            "Its problem (50 noisy rows) gives the FAST settings 20 updates, too few for a "
            "class weight to move the predictions that far; tests/test_classifier.py "
            "checks class_weight with enough updates."
        ),
        "check_classifiers_classes": (
            "One of its problems labels the classes -1 and 1, but -1 marks an unlabeled row "
            "(scikit-learn's semi-supervised convention), which leaves one labeled class. "
            "scikit-learn exempts its own semi-supervised estimators from this by name."
        ),
    }


@parametrize_with_checks([FAST, FAST_REGRESSOR, ZCAWhitening(), ContrastNormalization()],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
