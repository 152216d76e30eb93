"""Convergence to the exact optimum of the convex objective (closed form, lbfgs,
coordinate descent), within 1e-3 relative objective gap, dense and CSR."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

import fastgd

N, D = 20_000, 20


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    w = rng.normal(size=D)
    w[::3] = 0.0
    y = X @ w + 0.5 * rng.normal(size=N)
    yc = (X @ w + rng.normal(size=N) > 0).astype(int)
    return X, y, yc


def half_mse(X, y, w, b):
    r = y - X @ w - b
    return 0.5 * np.mean(r**2)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_ridge_reaches_closed_form(data, sparse):
    X, y, _ = data
    alpha = 1e-3
    exact = Ridge(alpha=alpha * N).fit(X, y)
    f_star = half_mse(X, y, exact.coef_, exact.intercept_) + alpha / 2 * exact.coef_ @ exact.coef_
    Xf = sp.csr_matrix(X) if sparse else X
    m = fastgd.SGDRegressor(alpha=alpha, average=True, learning_rate="constant",
                            eta0=0.01, max_iter=10, tol=None, random_state=0)
    m.fit(Xf, y)
    f = half_mse(X, y, m.coef_, m.intercept_[0]) + alpha / 2 * m.coef_ @ m.coef_
    assert (f - f_star) / f_star < 1e-3
    # the estimator's own objective kernel agrees with the NumPy formula
    np.testing.assert_allclose(m.objective(Xf, y), f, rtol=1e-10)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_lasso_reaches_coordinate_descent_optimum(data, sparse):
    X, y, _ = data
    alpha = 0.01
    exact = Lasso(alpha=alpha, tol=1e-12, max_iter=10_000).fit(X, y)

    def objective(w, b):
        return half_mse(X, y, w, b) + alpha * np.abs(w).sum()

    f_star = objective(exact.coef_, exact.intercept_)
    Xf = sp.csr_matrix(X) if sparse else X
    kw = dict(penalty="l1", alpha=alpha, tol=None, random_state=0)
    avg = fastgd.SGDRegressor(average=True, eta0=0.01, max_iter=10, **kw).fit(Xf, y)
    assert (objective(avg.coef_, avg.intercept_[0]) - f_star) / f_star < 1e-3
    # the plain proximal iterate lands on exact zeros where the optimum is zero
    last = fastgd.SGDRegressor(learning_rate="constant", eta0=0.002, max_iter=5,
                               **kw).fit(Xf, y)
    np.testing.assert_array_equal(last.coef_ == 0, exact.coef_ == 0)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_logistic_reaches_lbfgs_optimum(data, sparse):
    X, _, yc = data
    alpha = 1e-3
    s = 2 * yc - 1

    def objective(w, b):
        return np.mean(np.logaddexp(0, -s * (X @ w + b))) + alpha / 2 * w @ w

    exact = LogisticRegression(C=1 / (alpha * N), tol=1e-12, max_iter=10_000).fit(X, yc)
    f_star = objective(exact.coef_.ravel(), exact.intercept_[0])
    Xf = sp.csr_matrix(X) if sparse else X
    m = fastgd.SGDClassifier(loss="log_loss", alpha=alpha, average=True,
                             learning_rate="invscaling", eta0=0.5, power_t=0.5,
                             max_iter=20, tol=None, random_state=0).fit(Xf, yc)
    f = objective(m.coef_.ravel(), m.intercept_[0])
    assert (f - f_star) / f_star < 1e-3
    np.testing.assert_allclose(m.objective(Xf, yc), f, rtol=1e-10)
