"""batch_size: per-sample, mini-batch and full-batch training through the estimators."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Lasso, LinearRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastgd import SGDClassifier, SGDRegressor


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 20))
    w = rng.normal(size=20)
    w[::3] = 0.0
    y = X @ w + 0.5 * rng.normal(size=20_000)
    return X, y


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("batch_size, kw", [
    (1, {}),
    (32, dict(learning_rate="constant", eta0=0.01)),
    (256, dict(learning_rate="constant", eta0=0.1)),
    ("full", {}),
])
def test_every_batch_size_reaches_least_squares(data, batch_size, kw, sparse):
    X, y = data
    best = LinearRegression().fit(X, y).score(X, y)
    Xf = sp.csr_matrix(X) if sparse else X
    m = SGDRegressor(penalty=None, batch_size=batch_size, max_iter=20, tol=None,
                     random_state=0, **kw).fit(Xf, y)
    assert m.score(X, y) > best - 0.01


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_full_batch_reaches_the_lasso_optimum(data, sparse):
    X, y = data
    alpha = 0.05
    exact = Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y)

    def objective(w, b):
        return 0.5 * np.mean((y - X @ w - b) ** 2) + alpha * np.abs(w).sum()

    f_star = objective(exact.coef_, exact.intercept_)
    Xf = sp.csr_matrix(X) if sparse else X
    m = SGDRegressor(penalty="l1", alpha=alpha, batch_size="full", max_iter=500,
                     tol=None).fit(Xf, y)
    assert (objective(m.coef_, m.intercept_[0]) - f_star) / f_star < 1e-6
    np.testing.assert_array_equal(m.coef_ == 0, exact.coef_ == 0)
    assert np.all(np.diff(m.loss_curve_) <= 0)
    np.testing.assert_allclose(m.loss_curve_[-1], m.objective(Xf, y), rtol=1e-10)


def test_full_batch_is_deterministic_and_monotone():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 10))
    y = np.argmax(X @ rng.normal(size=(10, 3)), axis=1)
    runs = [SGDClassifier(loss=loss, batch_size="full", max_iter=50, tol=None,
                          random_state=seed).fit(X, y)
            for loss in ("log_loss", "hinge") for seed in (0, 1)]
    for a, b in ((runs[0], runs[1]), (runs[2], runs[3])):
        np.testing.assert_array_equal(a.coef_, b.coef_)
        assert np.all(np.diff(a.loss_curve_) <= 1e-12 * np.abs(a.loss_curve_[:-1]))
    assert runs[0].score(X, y) > 0.9


def test_minibatch_threads_change_results_only_by_rounding(data):
    X, y = data
    kw = dict(batch_size=512, learning_rate="constant", eta0=0.05, max_iter=3,
              tol=None, random_state=0)
    a = SGDRegressor(n_jobs=1, **kw).fit(X, y)
    b = SGDRegressor(n_jobs=2, **kw).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10)


def test_minibatch_partial_fit_continues_the_step_counter(data):
    X, y = data
    kw = dict(batch_size=100, shuffle=False, max_iter=1, tol=None,
              learning_rate="constant", eta0=0.01)
    full = SGDRegressor(**kw).fit(X, y)
    part = SGDRegressor(**kw)
    for start in range(0, len(y), 2000):
        part.partial_fit(X[start:start + 2000], y[start:start + 2000])
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-10)
    assert part.t_ == full.t_ == 1 + len(y) // 100


@pytest.mark.parametrize("params, match", [
    (dict(batch_size=0), "'batch_size' parameter"),
    (dict(batch_size="half"), "'batch_size' parameter"),
    (dict(batch_size=8, average=True), "average .* needs batch_size=1"),
    (dict(batch_size="full", learning_rate="pa1", loss="hinge"), "per-sample rule"),
])
def test_bad_batch_settings(params, match):
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match=match):
        SGDClassifier(**params).fit(X, X[:, 0] > 0)


@parametrize_with_checks([SGDRegressor(batch_size="full"),
                          SGDClassifier(batch_size="full")])
def test_full_batch_passes_every_estimator_check(estimator, check):
    check(estimator)
