"""Full-batch proximal gradient (ISTA / monotone FISTA) against exact optima."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

from fastgd._params import LOSS_SPECS
from fastgd._solvers.penalty import penalty_value, prox_elastic_net
from fastgd._solvers.proximal import ProximalGradient
from fastgd._training.curvature import lipschitz_estimate
from kernels import class_targets, gradient, loss, regression_targets

CURVATURE = {name: spec.curvature for name, spec in LOSS_SPECS.items()}


def make_smooth(name, X, y, classify, n_threads=1):
    """``(w, b) -> (mean loss, grad_w, grad_b)`` through the batch gradient kernel."""
    n = X.shape[0]
    targets = (class_targets(y, [1], [1.0], 1.0, n_classes=2) if classify
               else regression_targets(y))

    def smooth(w, b):
        total, grad, grad_b = gradient(loss(name), X, targets, w, b,
                                       n_threads=n_threads)
        return total / n, grad / n, grad_b / n

    return smooth


def proximal_gradient(smooth, w0, b0, *, lam1, lam2, fit_intercept, lipschitz,
                      max_iter, tol, accelerated):
    """Iterate ``ProximalGradient`` until the objective decreases by less than
    ``tol * max(1, |F|)`` in an iteration that made progress; return the iterate, the
    objective after every iteration and the number of iterations."""
    solver = ProximalGradient(smooth, w0, b0, lam1=lam1, lam2=lam2,
                              fit_intercept=fit_intercept, lipschitz=lipschitz,
                              accelerated=accelerated)
    history = []
    for n_iter in range(1, max_iter + 1):
        previous = solver.F
        progressed = solver.step()
        history.append(solver.F)
        if not progressed:
            break
        decrease = previous - solver.F
        # a rejected FISTA step (no decrease) is not convergence
        if (tol is not None and decrease < tol * max(1.0, abs(solver.F))
                and (decrease > 0.0 or not accelerated)):
            break
    return solver.w, solver.b, history, n_iter


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 30))
    w = rng.normal(size=30)
    w[::2] = 0.0
    y = X @ w + 0.5 * rng.normal(size=5000)
    yc = (X @ w + rng.normal(size=5000) > 0).astype(int)
    return X, y, yc


def test_prox_is_the_exact_minimiser():
    rng = np.random.default_rng(0)
    v = rng.normal(size=50)
    p = prox_elastic_net(v, 0.3, 0.5, 2.0)
    # optimality: 0 in p - v + step * (lam1 * sign(p) + lam2 * p) (subgradient at 0)
    r = p - v + 0.3 * 2.0 * p
    nz = p != 0
    np.testing.assert_allclose(r[nz] + 0.3 * 0.5 * np.sign(p[nz]), 0, atol=1e-12)
    assert np.all(np.abs(r[~nz]) <= 0.3 * 0.5 + 1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("accelerated", [False, True], ids=["ista", "fista"])
def test_lasso_optimum_and_zero_pattern(data, sparse, accelerated):
    X, y, _ = data
    alpha = 0.05
    exact = Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y)
    f_star = (0.5 * np.mean((y - X @ exact.coef_ - exact.intercept_) ** 2)
              + alpha * np.abs(exact.coef_).sum())
    Xf = sp.csr_matrix(X) if sparse else X
    L = lipschitz_estimate(Xf, None, CURVATURE["squared_error"], True)
    w, b, history, _ = proximal_gradient(
        make_smooth("squared_error", Xf, y, False), np.zeros((1, 30)), np.zeros(1),
        lam1=alpha, lam2=0.0, fit_intercept=True, lipschitz=L, max_iter=2000,
        tol=1e-15, accelerated=accelerated)
    assert (history[-1] - f_star) / f_star < 1e-6
    np.testing.assert_array_equal(w[0] == 0, exact.coef_ == 0)
    assert np.all(np.diff(history) <= 1e-12 * np.abs(history[:-1]))


@pytest.mark.parametrize("accelerated", [False, True], ids=["ista", "fista"])
def test_ridge_and_logistic_optima(data, accelerated):
    X, y, yc = data
    n = len(y)
    lam2 = 1e-2
    r = Ridge(alpha=lam2 * n, tol=1e-14).fit(X, y)
    f_star = 0.5 * np.mean((y - X @ r.coef_ - r.intercept_) ** 2) + lam2 / 2 * r.coef_ @ r.coef_
    w, b, hist, _ = proximal_gradient(
        make_smooth("squared_error", X, y, False), np.zeros((1, 30)), np.zeros(1),
        lam1=0.0, lam2=lam2, fit_intercept=True,
        lipschitz=lipschitz_estimate(X, None, 1.0, True), max_iter=2000, tol=1e-15,
        accelerated=accelerated)
    assert (hist[-1] - f_star) / f_star < 1e-8
    lr = LogisticRegression(C=1 / (lam2 * n), tol=1e-14, max_iter=10_000).fit(X, yc)
    s = 2 * yc - 1
    f_star = (np.mean(np.logaddexp(0, -s * (X @ lr.coef_[0] + lr.intercept_[0])))
              + lam2 / 2 * lr.coef_[0] @ lr.coef_[0])
    w, b, hist, _ = proximal_gradient(
        make_smooth("log_loss", X, yc, True), np.zeros((1, 30)), np.zeros(1),
        lam1=0.0, lam2=lam2, fit_intercept=True,
        lipschitz=lipschitz_estimate(X, None, 0.25, True), max_iter=3000, tol=1e-15,
        accelerated=accelerated)
    assert (hist[-1] - f_star) / f_star < 1e-6


@pytest.mark.parametrize("name", ["hinge", "epsilon_insensitive", "perceptron"])
def test_non_smooth_losses_never_increase_the_objective(data, name):
    X, y, yc = data
    target = yc if name != "epsilon_insensitive" else y
    for accelerated in (False, True):
        w, b, hist, n_iter = proximal_gradient(
            make_smooth(name, X, target, name != "epsilon_insensitive"),
            np.zeros((1, 30)), np.zeros(1), lam1=1e-3, lam2=1e-3, fit_intercept=True,
            lipschitz=lipschitz_estimate(X, None, 1.0, True), max_iter=200, tol=None,
            accelerated=accelerated)
        assert np.all(np.diff(hist) <= 1e-12 * np.abs(np.asarray(hist[:-1])))
        if name != "perceptron":  # w = 0 already minimises the perceptron loss
            assert hist[-1] < 0.9 * hist[0]


def test_lipschitz_estimate_matches_the_spectrum(data):
    X, _, _ = data
    X1 = np.hstack([X, np.ones((len(X), 1))])
    exact = np.linalg.eigvalsh(X1.T @ X1)[-1] / len(X)
    est = lipschitz_estimate(X, None, 1.0, True, n_iter=30, margin=1.0)
    assert 0.9 * exact <= est <= exact * (1 + 1e-9)
    assert penalty_value(np.array([[1.0, -2.0]]), 0.5, 2.0) == pytest.approx(1.5 + 5.0)
