"""The batch gradient kernel against NumPy: loss sums and gradients of every loss,
dense and CSR, float32 and float64, one-vs-rest rows, mini-batch rows, thread counts;
the Hessian's diagonal against finite differences of the gradient."""
import numpy as np
import pytest
import scipy.sparse as sp

from fastgd._kernels import _batch
from fastgd._kernels._enums import Schedule
from fastgd._kernels._shuffle import VisitingOrder
from fastgd._training.state import TrainingState
from fastgd._kernels._structs import Rows, StepRule
from fastgd._training.plan import LOSS_SPECS
from kernels import (CLASSIFY, SCALAR_LOSSES, class_targets, gradient,
                     hessian_diagonal, loss, regression_targets)
from reference import naive_dloss, naive_loss


def numpy_gradient(name, X, target, weight, coef, intercept, eps):
    p = X @ coef + intercept
    g = weight * naive_dloss(name, p, target, eps)
    return np.sum(weight * naive_loss(name, p, target, eps)), X.T @ g, g.sum()


def run_kernel(name, X, y, y_class, pos_classes, sw, w_pos, w_neg, rows, coef, b,
               n_threads, eps=0.2):
    dtype = X.dtype
    if y is not None:
        targets = regression_targets(y, sw, dtype)
    else:
        targets = class_targets(y_class, pos_classes, w_pos, w_neg, sw, dtype)
    return gradient(loss(name, eps), X, targets, coef, b,
                    rows=rows if len(rows) else None, n_threads=n_threads)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("name", SCALAR_LOSSES)
def test_gradient_matches_numpy(name, sparse, dtype, n_threads):
    rng = np.random.default_rng(0)
    n, d = 300, 7
    Xd = rng.normal(size=(n, d)) * (rng.random((n, d)) < (0.4 if sparse else 1.0))
    Xd = Xd.astype(dtype)
    X = sp.csr_matrix(Xd) if sparse else Xd
    sw = rng.uniform(0.5, 2.0, n).astype(dtype)
    rows = np.sort(rng.choice(n, 120, replace=False)).astype(np.int32)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10,
                                                                      atol=1e-10)
    X64 = Xd.astype(np.float64)
    if name in CLASSIFY:
        y_class = rng.integers(0, 3, n).astype(np.int32)
        pos = np.arange(3, dtype=np.int32)
        w_pos = np.array([1.0, 2.0, 0.5])
        coef = rng.normal(size=(3, d)).astype(dtype)
        b = rng.normal(size=3)
        total, grad, grad_b = run_kernel(name, X, None, y_class, pos, sw, w_pos, 1.0,
                                         rows, coef, b, n_threads)
        expect_total = 0.0
        for k in range(3):
            target = np.where(y_class[rows] == k, 1.0, -1.0)
            weight = sw[rows] * np.where(target > 0, w_pos[k], 1.0)
            lk, gk, gbk = numpy_gradient(name, X64[rows], target, weight,
                                         coef[k].astype(np.float64), b[k], 0.2)
            expect_total += lk
            np.testing.assert_allclose(grad[k], gk, **tol)
            np.testing.assert_allclose(grad_b[k], gbk, **tol)
    else:
        y = rng.normal(size=n).astype(dtype)
        coef = rng.normal(size=(1, d)).astype(dtype)
        b = np.array([0.3])
        total, grad, grad_b = run_kernel(name, X, y, None, None, sw, None, None,
                                         rows, coef, b, n_threads)
        expect_total, g0, gb0 = numpy_gradient(name, X64[rows], y[rows].astype(float),
                                               sw[rows].astype(float),
                                               coef[0].astype(np.float64), 0.3, 0.2)
        np.testing.assert_allclose(grad[0], g0, **tol)
        np.testing.assert_allclose(grad_b[0], gb0, **tol)
    np.testing.assert_allclose(total, expect_total, **tol)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("name", [n for n in SCALAR_LOSSES if LOSS_SPECS[n].smooth])
def test_hessian_diagonal_is_the_gradients_derivative(name, sparse, dtype, n_threads):
    """Entry j of the diagonal is the derivative of the gradient's entry j along
    coordinate j: central differences of the (float64) gradient kernel, per model
    row, with sample and class weights and a subset of rows."""
    rng = np.random.default_rng(3)
    n, d = 200, 5
    Xd = rng.normal(size=(n, d)) * (rng.random((n, d)) < (0.5 if sparse else 1.0))
    rows = np.sort(rng.choice(n, 150, replace=False)).astype(np.int32)
    sw = rng.uniform(0.5, 2.0, n)
    if name in CLASSIFY:
        y_class = rng.integers(0, 2, n).astype(np.int32)
        pos, w_pos = np.arange(2, dtype=np.int32), np.array([1.5, 0.5])

        def targets(dt):
            return class_targets(y_class, pos, w_pos, 1.0, sw.astype(dt), dt)
    else:
        y = rng.normal(size=n)

        def targets(dt):
            return regression_targets(y.astype(dt), sw.astype(dt), dt)
    n_models = 2 if name in CLASSIFY else 1
    coef = 0.5 * rng.normal(size=(n_models, d))
    b = rng.normal(size=n_models)
    Xk = Xd.astype(dtype)
    diag, diag_b = hessian_diagonal(loss(name, 0.2), sp.csr_matrix(Xk) if sparse
                                    else Xk, targets(dtype), coef.astype(dtype), b,
                                    rows, n_threads)
    X64 = Xk.astype(np.float64)
    f, h = loss(name, 0.2), 1e-6
    for k in range(n_models):
        for j in range(d + 1):
            step_w, step_b = np.zeros_like(coef), np.zeros_like(b)
            if j < d:
                step_w[k, j] = h
            else:
                step_b[k] = h
            up = gradient(f, X64, targets(np.float64), coef + step_w, b + step_b, rows)
            down = gradient(f, X64, targets(np.float64), coef - step_w, b - step_b,
                            rows)
            got = diag[k, j] if j < d else diag_b[k]
            want = ((up[1][k, j] - down[1][k, j]) if j < d
                    else (up[2][k] - down[2][k])) / (2 * h)
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_the_diagonal_and_the_gradient_from_one_pass_are_each_alone(sparse,
                                                                     n_threads):
    """``hessian_diagonal`` with a gradient workspace gives the bits of
    ``gradient`` and of the diagonal alone (NaN in X: a NaN loss, as ``gradient``)."""
    from fastgd._training.runners import GradientRunner

    rng = np.random.default_rng(4)
    Xd = rng.normal(size=(5000, 9)) * (rng.random((5000, 9)) < (0.3 if sparse else 1))
    X = sp.csr_matrix(Xd) if sparse else Xd
    y_class = rng.integers(0, 3, 5000).astype(np.int32)
    targets = class_targets(y_class, np.arange(3, dtype=np.int32),
                            np.array([1.0, 2.0, 0.5]), 1.0,
                            rng.uniform(0.5, 2, 5000), np.float64)
    coef, b = rng.normal(size=(3, 9)), rng.normal(size=3)
    rows = np.sort(rng.choice(5000, 3000, replace=False)).astype(np.int32)
    runner = GradientRunner(loss("log_loss", 0.1), Rows(X), targets, n_threads)
    for subset in (None, rows):
        total, grad, grad_b, diag = runner.run_with_diagonal(coef, b, subset)
        alone = runner.run(coef, b, subset)
        assert total == alone[0]
        np.testing.assert_array_equal(grad, alone[1])
        np.testing.assert_array_equal(grad_b, alone[2])
        np.testing.assert_array_equal(diag, runner.hessian_diagonal(coef, b, subset))
    Xd[7, 2] = np.nan
    X = sp.csr_matrix(Xd) if sparse else Xd
    bad = GradientRunner(loss("log_loss", 0.1), Rows(X), targets, n_threads)
    assert np.isnan(bad.run_with_diagonal(coef, b)[0])


def test_all_rows_and_thread_counts_agree():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, 30))
    y = X @ rng.normal(size=30)
    coef = rng.normal(size=(1, 30))
    args = ("squared_error", X, y, None, None, None, None, None,
            np.empty(0, np.int32), coef, np.zeros(1))
    one = run_kernel(*args, n_threads=1)
    two = run_kernel(*args, n_threads=2)
    r = X @ coef[0] - y
    np.testing.assert_allclose(one[1][0], X.T @ r, rtol=1e-10)
    np.testing.assert_allclose(one[0], 0.5 * r @ r, rtol=1e-12)
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_workspace_and_arrays_must_fit_the_problem():
    X = np.ones((3, 2))
    f = loss("squared_error")
    targets = regression_targets(np.ones(3))
    other = _batch.Workspace(f, Rows(np.ones((3, 4))), 1, 1, min_parallel_rows=1)
    with pytest.raises(ValueError, match="another problem"):
        _batch.gradient(f, Rows(X), targets, None, np.zeros((1, 2)), np.zeros(1), other)
    work = _batch.Workspace(f, Rows(X), 1, 1, min_parallel_rows=1)
    with pytest.raises(ValueError, match="coef must have shape"):
        _batch.gradient(f, Rows(X), targets, None, np.zeros((1, 3)), np.zeros(1), work)
    with pytest.raises(TypeError, match="dtype"):
        _batch.gradient(f, Rows(X), targets, None, np.zeros((1, 2), np.float32),
                        np.zeros(1), work)
    with pytest.raises(ValueError, match="rows must lie"):
        _batch.gradient(f, Rows(X), targets, np.array([0, 3], np.int32),
                        np.zeros((1, 2)), np.zeros(1), work)


def naive_minibatch(name, X, target, weight, order, batch_size, n_epochs, etas, lam1,
                    lam2, decay, eps=0.1):
    """Mini-batch proximal SGD, one NumPy statement per textbook step; every epoch
    visits ``order`` in batches of ``batch_size`` (the last one may be smaller)."""
    w, b, t = np.zeros(X.shape[1]), 0.0, 1
    for _ in range(n_epochs):
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            p = X[rows] @ w + b
            g = weight[rows] * naive_dloss(name, p, target[rows], eps)
            eta = etas(t)
            w = w - eta * (X[rows].T @ g) / len(rows)
            w = np.sign(w) * np.maximum(np.abs(w) - eta * lam1, 0) / (1 + eta * lam2)
            b -= eta * g.sum() / len(rows) * decay
            t += 1
    return w, b, t


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("batch_size", [1, 7, 64, 1000])
@pytest.mark.parametrize("name, lam1, lam2", [("squared_error", 0.0, 0.05),
                                              ("log_loss", 0.02, 0.01),
                                              ("hinge", 0.01, 0.0),
                                              ("huber", 0.0, 0.0)])
def test_minibatch_epoch_matches_naive(name, lam1, lam2, batch_size, sparse):
    rng = np.random.default_rng(2)
    n, d = 300, 6
    Xd = 0.5 * rng.normal(size=(n, d)) * (rng.random((n, d)) < (0.5 if sparse else 1))
    X = sp.csr_matrix(Xd) if sparse else Xd
    classify = name in CLASSIFY
    score = Xd @ rng.normal(size=d)
    y = (score > 0).astype(np.int32) if classify else score
    target = np.where(y == 1, 1.0, -1.0) if classify else y
    sw = rng.uniform(0.5, 2.0, n)
    order = VisitingOrder(rng.permutation(n).astype(np.int32), n, False, 1)
    targets = (class_targets(y, [1], [1.0], 1.0, sw) if classify
               else regression_targets(y, sw))
    rule = StepRule(schedule=Schedule.INVSCALING, eta0=0.1, power_t=0.5, alpha=0.0,
                    t0=0.0, lam1=lam1, lam2=lam2, average_start=0.0,
                    fit_intercept=True, intercept_decay=0.5)
    f, R = loss(name, 0.1), Rows(X)
    state = TrainingState.start(1, d, np.float64, rule)
    work = _batch.Workspace(f, R, 1, 2, min_parallel_rows=256)
    for epoch in range(2):
        _batch.minibatch_epoch(f, R, targets, rule, 0.1, order, batch_size, state.coef,
                               state, work)
    w_ref, b_ref, t_ref = naive_minibatch(name, Xd, target, sw, order.order,
                                          batch_size, 2, lambda t: 0.1 / np.sqrt(t),
                                          lam1, lam2, 0.5)
    np.testing.assert_allclose(state.coef[0], w_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(state.intercept[0], b_ref, rtol=1e-9, atol=1e-12)
    assert state.t == t_ref
