"""scikit-learn's estimator checks.  The only expected failures are the ones
scikit-learn's own SGD estimators also fail: sample weights are not equivalent to
repeating samples, because the number of SGD steps per epoch changes."""
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastgd import SGDClassifier, SGDRegressor

SAMPLE_WEIGHT_REASON = ("per-sample SGD takes one step per row: a row of weight 2 is "
                        "not two steps, so weights are not equivalent to repetitions "
                        "(scikit-learn's SGD estimators fail this check too)")


def expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_REASON,
        "check_sample_weight_equivalence_on_sparse_data": SAMPLE_WEIGHT_REASON,
    }


@parametrize_with_checks([SGDRegressor(), SGDClassifier()],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
