"""scikit-learn's own estimator checks, on small and fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ladder import LadderClassifier, LadderRegressor

# The checks' data sets are 2-20 standardised features and 30-300 rows: the MNIST default
# λ_0 = 1000 would make the input reconstruction swamp the few labels of a short run.
FAST = LadderClassifier(layers=[16], denoising_costs=[1, 1, 0.1], max_epochs=10,
                        batch_size=32, learning_rate=0.02, random_state=0)


FAST_REGRESSOR = LadderRegressor(layers=[16], denoising_costs=[1, 1, 0.1], max_epochs=10,
                                 batch_size=32, learning_rate=0.02, random_state=0)


def expected_failed_checks(estimator):
    if isinstance(estimator, LadderRegressor):
        return {}
    return {
        "check_classifiers_classes": (
            "One of its problems labels the classes -1 and 1, but -1 marks an unlabeled row "
            "(scikit-learn's semi-supervised convention), which leaves one labeled class. "
            "scikit-learn exempts its own semi-supervised estimators from this by name."
        ),
    }


@parametrize_with_checks([FAST, FAST_REGRESSOR], expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
