"""SGDOneClassSVM: the kernel against the naive loop, scikit-learn's estimator on the
same data, its API and its errors."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model
from sklearn.utils.estimator_checks import check_estimator

import fastgd
from fastgd._training.step_rule import SPARSE_INTERCEPT_DECAY
from reference import reference_sgd
from test_sgd_reference import Etas


def blob(n=3000, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) + 2.0


def objective(est, X):
    """``mean max(0, 1 - (x.w + b)) + nu/4 |w|^2 + nu b`` of a fitted model."""
    b = 1.0 - est.offset_[0]
    w = np.ravel(est.coef_)
    return (np.mean(np.maximum(0.0, 1.0 - X @ w - b)) + est.nu / 4 * w @ w
            + est.nu * b)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("schedule", ["constant", "optimal", "invscaling"])
@pytest.mark.parametrize("average", [False, 7])
def test_kernel_equals_the_naive_loop(sparse, schedule, average):
    rng = np.random.default_rng(1)
    X = 0.5 * rng.standard_normal((40, 6)) * (rng.random((40, 6)) < 0.6) + 0.3
    X = sp.csr_matrix(X) if sparse else X
    est = fastgd.SGDOneClassSVM(nu=0.3, learning_rate=schedule, eta0=0.05,
                                max_iter=3, tol=None, shuffle=False, average=average)
    est.fit(X)
    w, b, w_avg, b_avg = reference_sgd(
        X, np.ones(40), loss="hinge", lam2=est.nu / 2, etas=Etas(est, 3),
        intercept_decay=SPARSE_INTERCEPT_DECAY if sparse else 1.0,
        average_start=int(average), intercept_drift=est.nu)
    np.testing.assert_allclose(est.coef_, w_avg, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est.offset_, [1.0 - b_avg], rtol=1e-9, atol=1e-12)
    assert est.coef_.shape == (6,) and est.offset_.shape == (1,)


@pytest.mark.parametrize("nu", [0.05, 0.2, 0.5])
def test_against_scikit_learn(nu):
    X = blob()
    rng = np.random.default_rng(2)
    X_test = np.vstack([blob(500, seed=3), rng.uniform(-6, 6, (500, 8))])
    ours = fastgd.SGDOneClassSVM(nu=nu, random_state=0).fit(X)
    theirs = linear_model.SGDOneClassSVM(nu=nu, random_state=0).fit(X)
    # nu bounds the fraction of training rows outside the boundary (as for theirs)
    assert np.mean(ours.predict(X) == -1) <= nu + 0.02
    assert np.mean(ours.predict(X) == -1) == pytest.approx(
        np.mean(theirs.predict(X) == -1), abs=0.02)
    # the same boundary direction, the same decisions on inliers and outliers
    cosine = ours.coef_ @ theirs.coef_ / (np.linalg.norm(ours.coef_)
                                          * np.linalg.norm(theirs.coef_))
    assert cosine > 0.9999
    assert np.mean(ours.predict(X_test) == theirs.predict(X_test)) > 0.98
    # and an objective at least as low; the estimator computes its own
    assert objective(ours, X) <= objective(theirs, X) + 1e-9
    assert ours.objective(X) == pytest.approx(objective(ours, X), rel=1e-10)


def test_api_as_scikit_learn():
    X = blob(500)
    est = fastgd.SGDOneClassSVM(random_state=0).fit(X)
    decision = est.decision_function(X)
    np.testing.assert_allclose(decision, X @ est.coef_ - est.offset_, rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(est.score_samples(X), X @ est.coef_, rtol=1e-12)
    np.testing.assert_array_equal(est.predict(X), np.where(decision >= 0, 1, -1))
    np.testing.assert_array_equal(est.fit_predict(X), est.predict(X))
    assert sorted(est.get_params()) == sorted(
        linear_model.SGDOneClassSVM().get_params())
    # partial_fit continues; offset_init and coef_init start a fit
    again = fastgd.SGDOneClassSVM(random_state=0, learning_rate="constant", eta0=0.01)
    again.partial_fit(X)
    t = again.t_
    again.partial_fit(X)
    assert again.t_ == t + X.shape[0]
    warm = fastgd.SGDOneClassSVM(max_iter=1, tol=None, learning_rate="constant",
                                 eta0=1e-12, shuffle=False)
    warm.fit(X, coef_init=est.coef_, offset_init=est.offset_)
    np.testing.assert_allclose(warm.coef_, est.coef_, rtol=1e-6)
    np.testing.assert_allclose(warm.offset_, est.offset_, rtol=1e-6)


def test_model_file_round_trip(tmp_path):
    X = blob(500)
    est = fastgd.SGDOneClassSVM(nu=0.2, random_state=0).fit(X)
    fastgd.save_model(est, tmp_path / "oc.npz")
    back = fastgd.load_model(tmp_path / "oc.npz")
    np.testing.assert_array_equal(back.decision_function(X), est.decision_function(X))
    est.partial_fit(X)
    back.partial_fit(X)
    np.testing.assert_array_equal(back.coef_, est.coef_)


@pytest.mark.parametrize("params, message", [
    (dict(nu=0.0), "'nu' parameter"),
    (dict(nu=1.5), "'nu' parameter"),
    (dict(learning_rate="constant"), "eta0 must be > 0"),
    (dict(learning_rate="pa1"), "'learning_rate' parameter"),
])
def test_bad_parameters(params, message):
    est = fastgd.SGDOneClassSVM(**params)
    with pytest.raises(ValueError, match=message):
        est.fit(blob(50))
    assert not hasattr(est, "coef_")


def test_scikit_learn_estimator_checks():
    est = fastgd.SGDOneClassSVM(random_state=0)
    check_estimator(est, expected_failed_checks=fastgd.expected_failed_checks(est))
