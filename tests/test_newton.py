"""optimizer='newton' (batch_size='full'): each loss's second derivative against finite
differences of its derivative, the Hessian runner against NumPy, and Newton's method
at the exact optimum (scikit-learn's newton-cholesky, ridge's closed form, L-BFGS) in
a few iterations."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, Ridge

from fastgd import SGDClassifier, SGDRegressor
from fastgd._kernels import _evaluate
from fastgd._kernels._structs import Rows
from fastgd._training import runners
from fastgd._training.runners import HessianRunner
from kernels import CLASSIFY, SCALAR_LOSSES, class_targets, loss, regression_targets
from reference import naive_dloss


def _targets(name, y):
    if name in CLASSIFY:
        return class_targets((y > 0).astype(np.int32), [1], [1.0], n_classes=2)
    return regression_targets(y)


@pytest.mark.parametrize("name", SCALAR_LOSSES)
def test_second_derivatives_are_the_derivatives_slope(name):
    # one feature of 1 and no intercept: the margin is the weight; points off the kinks
    p = np.array([-2.3, -0.6, -0.05, 0.3, 0.8, 1.7])
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0, 1.0]) if name in CLASSIFY else \
        np.array([0.4, 0.2, 0.3, -0.1, 1.1, 0.9])
    X = np.ones((1, 1))
    got = []
    for pi, yi in zip(p, y):
        out = np.empty((1, 1))
        targets = _targets(name, np.array([yi]))
        _evaluate.curvature(loss(name), Rows(X), targets, np.zeros(1, np.int32),
                            np.array([[pi]]), np.zeros(1), out, 1)
        got.append(out[0, 0])
    h = 1e-6
    numeric = (naive_dloss(name, p + h, y, 0.1) - naive_dloss(name, p - h, y, 0.1)) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8)


def _naive_hessian(X, c):
    X1 = np.hstack([X, np.ones((X.shape[0], 1))])
    return X1.T @ (c[:, None] * X1)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_the_hessian_is_x1_diag_c_x1_whatever_the_threads(layout, monkeypatch):
    monkeypatch.setattr(runners, "HESSIAN_SLICE_ROWS", 64)  # many slices and groups
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1000, 7)) * (rng.random((1000, 7)) < 0.6)
    y = (X @ rng.normal(size=7) > 0).astype(np.int32)
    w, b = rng.normal(size=(1, 7)), np.array([0.3])
    f, targets = loss("log_loss"), class_targets(y, [1], [2.0], 0.5)
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    s = np.where(y == 1, 1.0, -1.0)
    z = s * (X @ w[0] + b[0])
    c = np.where(y == 1, 2.0, 0.5) * np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))) ** 2
    rows = np.arange(0, 1000, 3, dtype=np.int32)
    for n_threads in (1, 2, 3):
        runner = HessianRunner(f, Xf, Rows(Xf), targets, n_threads)
        H = runner.run(w, b)
        np.testing.assert_allclose(H[0], _naive_hessian(X, c), rtol=1e-12)
        if n_threads == 1:
            first = H
        np.testing.assert_array_equal(H, first)  # the same bits at every count
        np.testing.assert_allclose(runner.run(w, b, rows)[0],
                                   _naive_hessian(X[rows], c[rows]), rtol=1e-12)


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 20)) * rng.uniform(0.1, 10, size=20)  # unscaled
    y = (X @ rng.normal(size=20) / 5 + rng.normal(size=3000) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_newton_reaches_scikit_learns_optimum_in_a_few_iterations(binary, layout):
    X, y = binary
    alpha = 1e-4
    ref = LogisticRegression(C=1 / (alpha * len(y)), solver="newton-cholesky",
                             tol=1e-12, max_iter=1000).fit(X, y)
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    ours = SGDClassifier(loss="log_loss", alpha=alpha, batch_size="full",
                         optimizer="newton", max_iter=50, tol=None).fit(Xf, y)
    assert ours.n_iter_ <= 15
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)


def test_a_sampled_hessian_still_reaches_the_optimum():
    # over CURVATURE_SAMPLE_ROWS rows the Hessian comes from a fixed sample of them;
    # the gradient and the line search are exact: the same optimum, a few more steps
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50_000, 10)) * rng.uniform(0.5, 3, size=10)
    y = (X @ rng.normal(size=10) + rng.logistic(size=50_000) > 0).astype(int)
    kw = dict(loss="log_loss", alpha=1e-5, batch_size="full", tol=None)
    ours = SGDClassifier(optimizer="newton", max_iter=40, **kw).fit(X, y)
    ref = LogisticRegression(C=1 / (1e-5 * len(y)), solver="newton-cholesky",
                             tol=1e-12, max_iter=1000).fit(X, y)
    assert ours.n_iter_ <= 20
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)


def test_newton_solves_ridge_in_one_step():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 8))
    y = X @ rng.normal(size=8) + 3.0 + rng.normal(size=500)
    alpha = 0.01
    ours = SGDRegressor(alpha=alpha, batch_size="full", optimizer="newton",
                        max_iter=10, tol=None).fit(X, y)
    ref = Ridge(alpha=alpha * len(y)).fit(X, y)  # sum of squares / 2 + n alpha / 2
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10)
    assert ours.n_iter_ <= 2  # one step, then no decrease left


@pytest.mark.parametrize("loss_name", ["huber", "squared_epsilon_insensitive"])
def test_newton_reaches_the_lbfgs_optimum_of_piecewise_losses(loss_name):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(800, 6))
    y = X @ rng.normal(size=6) + rng.standard_t(2, size=800)
    kw = dict(loss=loss_name, alpha=1e-3, batch_size="full", tol=None)
    ours = SGDRegressor(optimizer="newton", max_iter=100, **kw).fit(X, y)
    best = SGDRegressor(optimizer="lbfgs", max_iter=3000, **kw).fit(X, y)
    assert ours.objective(X, y) <= best.objective(X, y) * (1 + 1e-10)


def test_newton_one_vs_rest_and_weights(binary):
    X, y = binary
    y3 = y + (X[:, 0] > 1)  # three classes
    weights = np.random.default_rng(4).integers(1, 3, size=len(y3))
    kw = dict(loss="log_loss", alpha=1e-3, batch_size="full", tol=None,
              class_weight={0: 2.0})
    ours = SGDClassifier(optimizer="newton", max_iter=50, **kw).fit(
        X, y3, sample_weight=weights)
    repeated = SGDClassifier(optimizer="newton", max_iter=50, **kw).fit(
        np.repeat(X, weights, axis=0), np.repeat(y3, weights))
    best = SGDClassifier(optimizer="lbfgs", max_iter=3000, **kw).fit(
        X, y3, sample_weight=weights)
    # weights are repetitions: the same optimum (the iterates stop where the
    # objective no longer falls, the weights then agree to its square root)
    Xr, yr = np.repeat(X, weights, axis=0), np.repeat(y3, weights)
    assert ours.objective(Xr, yr) == pytest.approx(repeated.objective(Xr, yr),
                                                   rel=1e-12)
    np.testing.assert_allclose(ours.coef_, repeated.coef_, rtol=1e-6, atol=1e-8)
    assert (ours.objective(X, y3, weights)
            <= best.objective(X, y3, weights) * (1 + 1e-10))


@pytest.mark.parametrize("params, message", [
    (dict(multi_class="multinomial"), "not available with multi_class"),
    (dict(loss="hinge"), "needs a differentiable loss"),
    (dict(batch_size=32), "needs batch_size='full'"),
])
def test_newton_refuses_what_it_does_not_solve(binary, params, message):
    X, y = binary
    kw = {**dict(loss="log_loss", batch_size="full", optimizer="newton"), **params}
    with pytest.raises(ValueError, match=message):
        SGDClassifier(**kw).fit(X, y)


def test_newton_refuses_too_many_features():
    X = sp.random(20, 5000, density=0.01, format="csr", random_state=0)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="at most 4096 features"):
        SGDClassifier(loss="log_loss", batch_size="full", optimizer="newton").fit(X, y)


def test_the_solvers_stop_on_the_gradient_and_warn_short_of_it():
    # unscaled real data (grams beside millimetres): L-BFGS runs out of iterations
    # and says so; Newton's method meets the tolerance on the gradient in a few
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from realdata import penguins_unscaled

    X, y = penguins_unscaled()
    kw = dict(loss="log_loss", batch_size="full")
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        SGDClassifier(optimizer="lbfgs", max_iter=50, **kw).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        newton = SGDClassifier(optimizer="newton", **kw).fit(X, y)
        tight = SGDClassifier(optimizer="newton", tol=1e-8, **kw).fit(X, y)
    assert newton.n_iter_ <= 20 and newton.score(X, y) == 1.0
    assert newton.n_iter_ <= tight.n_iter_
    # the gradient of the objective at the model, summed by hand
    s = np.where(y[:, None] == tight.classes_[None, :], 1.0, -1.0)
    margin = X @ tight.coef_.T + tight.intercept_
    r = -s / (1 + np.exp(s * margin)) / len(y)
    grad = X.T @ r + tight.alpha * tight.coef_.T
    assert np.max(np.abs(grad)) <= 1e-8 and np.max(np.abs(r.sum(0))) <= 1e-8


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 1.0), ("elasticnet", 0.6)])
def test_proximal_newton_reaches_the_l1_optimum_with_its_zeros(penalty, l1_ratio):
    """With an L1 part, optimizer='newton' is proximal Newton (coordinate descent on
    the quadratic model): scikit-learn's ElasticNet optimum (coordinate descent)
    with the same exact zeros in a couple of iterations for squared error, and
    LogisticRegression's (saga) for log loss, in a few dozen where OWL-QN takes
    hundreds."""
    from sklearn.datasets import make_classification, make_regression
    from sklearn.linear_model import ElasticNet, LogisticRegression

    X, y = make_regression(3000, 20, n_informative=6, noise=5.0, random_state=0)
    y = y / y.std()
    ours = SGDRegressor(penalty=penalty, l1_ratio=l1_ratio, alpha=0.02,
                        batch_size="full", optimizer="newton", tol=1e-12,
                        max_iter=50).fit(X, y)
    ref = ElasticNet(alpha=0.02, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000)
    ref.fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)
    assert 0 < np.sum(ours.coef_ == 0) < 20 and ours.n_iter_ <= 3
    Xc, yc = make_classification(4000, 30, n_informative=8, random_state=0)
    alpha = 2e-3
    kw = dict(loss="log_loss", penalty=penalty, l1_ratio=l1_ratio, alpha=alpha,
              batch_size="full", tol=1e-10, max_iter=5000)
    newton = SGDClassifier(optimizer="newton", **kw).fit(Xc, yc)
    owlqn = SGDClassifier(optimizer="lbfgs", **kw).fit(Xc, yc)
    ref = LogisticRegression(penalty="elasticnet", l1_ratio=l1_ratio,
                             C=1 / (len(yc) * alpha), solver="saga", tol=1e-12,
                             max_iter=100_000).fit(Xc, yc)
    np.testing.assert_allclose(newton.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_array_equal(newton.coef_ == 0, owlqn.coef_ == 0)
    assert np.sum(newton.coef_ == 0) > 0
    assert newton.objective(Xc, yc) <= owlqn.objective(Xc, yc) * (1 + 1e-12)
    assert newton.n_passes_ < owlqn.n_passes_


def test_squared_error_takes_its_exact_hessian_once_on_many_rows():
    """Squared error's Hessian does not depend on the model: beyond the 20,000 rows
    the other losses sample, Newton's method reads it from every row, once, and
    solves ridge (and, as proximal Newton, the elastic net) in one step."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30_000, 12)) * np.logspace(-1, 1, 12)
    y = X @ rng.normal(size=12) + rng.normal(size=30_000)
    alpha = 1e-3
    ours = SGDRegressor(alpha=alpha, batch_size="full", optimizer="newton",
                        tol=1e-10).fit(X, y)
    ridge = Ridge(alpha=alpha * len(y)).fit(X, y)  # sum of squares / 2 + penalty
    np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=1e-8)
    # one Newton step to the optimum (and its gradient), the Hessian read once
    assert ours.n_iter_ <= 2 and ours.n_passes_ <= ours.n_iter_ + 2


def test_coordinate_sweeps_reach_the_quadratic_models_minimiser():
    """``_coordinate.sweep``: without an L1 part, repeated sweeps reach the solution
    of the linear system of the model; with one, the soft-thresholded optimum whose
    zeros satisfy |gradient| <= lam1 (the model's optimality conditions)."""
    from fastgd._kernels import _coordinate

    rng = np.random.default_rng(0)
    d = 6
    A = rng.normal(size=(40, d + 1))
    H = A.T @ A / 40
    g = rng.normal(size=d + 1)
    coordinates = np.arange(d + 1, dtype=np.intp)
    for lam1, lam2 in ((0.0, 0.1), (0.6, 0.1)):
        z, r = np.zeros(d + 1), g.copy()  # the model's gradient at z = x = 0
        for _ in range(2000):
            if _coordinate.sweep(H, z, r, coordinates, d, lam1, lam2, 1.0) < 1e-13:
                break
        np.testing.assert_allclose(r, g + H @ z, atol=1e-12)
        grad = r[:d] + lam2 * z[:d]
        if lam1 == 0:
            ridge = H + np.diag(np.append(np.full(d, lam2), 0.0))
            np.testing.assert_allclose(z, np.linalg.solve(ridge, -g), atol=1e-10)
        else:
            zeros = z[:d] == 0
            assert zeros.any() and not zeros.all()
            assert np.all(np.abs(grad[zeros]) <= lam1 + 1e-12)
            np.testing.assert_allclose(grad[~zeros], -lam1 * np.sign(z[:d][~zeros]),
                                       atol=1e-10)
        assert abs(r[d]) < 1e-10  # the intercept's gradient: zero


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_squared_errors_sums_follow_from_its_hessian_without_a_pass(layout, dtype):
    """Once squared error's Hessian is known, the loss and gradient at any model are
    its Taylor expansion around one evaluated model (exact for a quadratic), with
    no pass over X; several model rows (one-vs-rest), weights and the intercept."""
    from fastgd._training.sources import QuadraticSums
    from fastgd._training.runners import GradientRunner

    rng = np.random.default_rng(3)
    X = (rng.normal(size=(500, 6)) * (rng.random((500, 6)) < 0.7)).astype(dtype)
    Xf = sp.csr_matrix(X) if layout == "csr" else X
    y = rng.integers(0, 3, size=500)
    f = loss("squared_error")
    targets = class_targets(y, [0, 1, 2], [1.0, 2.0, 0.5], 1.0,
                            sample_weight=rng.uniform(0.5, 2.0, size=500), dtype=dtype)
    rows = Rows(Xf)
    runner = GradientRunner(f, rows, targets, 1)
    passes = []

    def evaluate(coef, b):
        passes.append(1)
        return runner.run(coef, b)
    H = HessianRunner(f, Xf, rows, targets, 1).run(np.zeros((3, 6), dtype), np.zeros(3))
    known = [None]
    sums = QuadraticSums(evaluate, lambda: known[0])
    w0, b0 = rng.normal(size=(3, 6)).astype(dtype), rng.normal(size=3)
    sums(w0, b0)  # the anchor: a pass
    assert sums.last_read_x and len(passes) == 1
    known[0] = H
    for _ in range(3):
        w, b = rng.normal(size=(3, 6)).astype(dtype), rng.normal(size=3)
        total, grad, grad_b = sums(w, b)
        assert not sums.last_read_x
        want = runner.run(w, b)
        rtol = 1e-9 if dtype == np.float64 else 1e-5  # float32 sums of the kernels
        np.testing.assert_allclose(total, want[0], rtol=rtol)
        np.testing.assert_allclose(grad, want[1], rtol=rtol, atol=rtol * abs(want[0]))
        np.testing.assert_allclose(grad_b, want[2], rtol=rtol, atol=rtol * abs(want[0]))
    assert len(passes) == 1


def test_a_squared_error_path_reads_x_twice():
    """A path of squared error reads X for its first evaluation and its Hessian;
    every alpha after that solves on the Hessian alone, to scikit-learn's
    coordinate descent's optimum."""
    from sklearn.linear_model import enet_path
    from fastgd._path import fit_path, path_estimator, prepare_path

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 8)) * np.logspace(-1, 1, 8)
    y = X @ rng.normal(size=8) + rng.normal(size=2000)
    alphas = np.geomspace(1.0, 1e-3, 12)
    template = path_estimator("squared_error", penalty="elasticnet", l1_ratio=0.5,
                              tol=1e-10, max_iter=1000, optimizer="newton", n_jobs=1)
    data = prepare_path(template, X, y, None)
    result = fit_path(data, "elasticnet", 0.5, alphas, 1)
    assert result.passes == 2
    _, theirs, _ = enet_path(X - X.mean(axis=0), y - y.mean(), l1_ratio=0.5,
                             alphas=alphas, tol=1e-14, max_iter=100_000)
    np.testing.assert_allclose(result.coefs[:, 0, :].T, theirs, atol=2e-6)


def test_proximal_newton_converges_fast_on_nearly_collinear_columns():
    """Redundant columns make coordinate descent on the quadratic model crawl;
    the Newton system on the sweeps' support keeps proximal Newton quadratic:
    the elastic net's optimality (a NumPy subgradient) to 1e-9 in a few
    iterations."""
    from sklearn.datasets import make_classification

    X, y = make_classification(5000, 20, n_informative=8, n_redundant=6,
                               random_state=0)
    alpha, l1_ratio = 1e-4, 0.15
    m = SGDClassifier(loss="log_loss", penalty="elasticnet", alpha=alpha,
                      l1_ratio=l1_ratio, batch_size="full", optimizer="newton",
                      tol=1e-10).fit(X, y)
    assert m.n_iter_ <= 15
    w, b = m.coef_[0], m.intercept_[0]
    s = np.where(y == 1, 1.0, -1.0)
    dz = -s / (1 + np.exp(s * (X @ w + b)))  # the log loss's derivative
    g = X.T @ dz / len(y) + alpha * (1 - l1_ratio) * w
    lam1 = alpha * l1_ratio
    sub = np.where(w != 0, g + lam1 * np.sign(w),
                   np.sign(g) * np.maximum(np.abs(g) - lam1, 0))
    assert np.max(np.abs(sub)) < 1e-9 and abs(dz.mean()) < 1e-9


def test_a_newton_path_carries_its_last_hessian_to_the_next_alpha(monkeypatch):
    """Along a path, each alpha's first Newton direction uses the Hessian the alpha
    before computed last (the loss's, next to the new start): fewer Hessians than
    iterations, the same optimum as scikit-learn's."""
    from fastgd._path import fit_path, path_estimator, prepare_path

    computed = []
    run = HessianRunner.run

    def counted(self, *args, **kwargs):
        computed.append(1)
        return run(self, *args, **kwargs)
    monkeypatch.setattr(HessianRunner, "run", counted)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 10)) * np.logspace(-1, 1, 10)
    y = (X @ rng.normal(size=10) + rng.normal(size=3000) > 0).astype(int)
    alphas = np.geomspace(1e-1, 1e-5, 10)
    template = path_estimator("log_loss", penalty="l2", l1_ratio=0.0, tol=1e-10,
                              max_iter=100, optimizer="newton", n_jobs=1)
    result = fit_path(prepare_path(template, X, y, None), "l2", 0.0, alphas, 1)
    assert len(computed) <= result.n_iter.sum() - (len(alphas) - 1)
    lr = LogisticRegression(C=1 / (len(y) * alphas[-1]), solver="newton-cholesky",
                            tol=1e-14, max_iter=100).fit(X, y)
    np.testing.assert_allclose(result.coefs[-1, 0], lr.coef_[0], rtol=1e-8)


@pytest.mark.parametrize("seed, n_features, penalty, alpha, fit_intercept", [
    (1, 15, None, 1e-3, True), (6, 15, None, 1e-3, True),  # Newton's system
    (3, 6, "l1", 4e-3, False),  # proximal Newton
])
def test_newton_damps_a_flat_model_of_huber(seed, n_features, penalty, alpha,
                                            fit_intercept):
    """Huber's curvature vanishes beyond epsilon: with targets far from the start
    nearly every row is there, the Hessian is flat along some weights and the
    undamped direction made no progress (these fits stopped after one iteration at
    10 to 30 times the optimal objective, without a warning).  Damped by the
    curvature bound, Newton's method and proximal Newton reach L-BFGS's
    optimum."""
    rng = np.random.default_rng(seed)
    n = 300 if n_features == 15 else 400
    X = rng.normal(size=(n, n_features)) * rng.uniform(0.01, 10, size=n_features)
    y = X @ rng.normal(size=n_features) + rng.normal(size=n)
    kw = dict(loss="huber", penalty=penalty, alpha=alpha, fit_intercept=fit_intercept,
              batch_size="full", max_iter=3000, tol=1e-10)
    newton = SGDRegressor(optimizer="newton", **kw).fit(X, y)
    lbfgs = SGDRegressor(optimizer="lbfgs", **kw).fit(X, y)
    assert newton.n_iter_ > 1
    np.testing.assert_allclose(newton.objective(X, y), lbfgs.objective(X, y),
                               rtol=1e-7)
