"""scikit-learn's estimator checks.  The only expected failures are the ones
scikit-learn's own SGD estimators also fail (``fastgd.expected_failed_checks``):
sample weights are not equivalent to repeating samples, because the number of SGD
steps per epoch changes; full batch passes every check."""
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from fastgd import SGDClassifier, SGDRegressor, expected_failed_checks


@parametrize_with_checks([SGDRegressor(), SGDClassifier(),
                          SGDRegressor(batch_size="full"),
                          SGDClassifier(batch_size="full", optimizer="lbfgs",
                                        loss="log_loss")],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_check_estimator_reports_no_failure():
    for estimator in (SGDRegressor(), SGDClassifier()):
        results = check_estimator(estimator, on_fail=None,
                                  expected_failed_checks=expected_failed_checks(
                                      estimator))
        failed = [r for r in results if r["status"] == "failed"]
        assert not failed, failed
        xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
        assert xfailed == set(expected_failed_checks(estimator))
