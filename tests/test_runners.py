"""Runners on slices of the rows, combined by the caller: what threads or the workers
holding the slices will do.  Summed gradients equal the gradient over all rows, and
replicas averaged by hand equal the kernel's own replicas (one model on two threads)."""
import numpy as np
import pytest
import scipy.sparse as sp

from fastgd import SGDRegressor
from fastgd._config import MIN_REPLICA_ROWS
from fastgd._runners import GradientRunner, PerSampleRunner
from fastgd._shuffle import VisitingOrder
from fastgd._state import TrainingState
from fastgd._step_rule import make_step_rule
from fastgd._structs import Rows
from kernels import class_targets, loss, regression_targets


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("name", ["squared_error", "log_loss", "multinomial"])
def test_gradients_of_slices_add_up(name, sparse):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6)) * (rng.random((500, 6)) < 0.7)
    Xf = sp.csr_matrix(X) if sparse else X
    y = rng.integers(3, size=500)
    if name == "squared_error":
        targets, n_models = regression_targets(X @ np.ones(6)), 1
    elif name == "log_loss":
        targets, n_models = class_targets(y, np.arange(3), np.ones(3)), 3
    else:
        targets, n_models = class_targets(y, np.arange(3), [1.0, 2.0, 0.5]), 3
    runner = GradientRunner(loss(name), Rows(Xf), targets, n_threads=2)
    coef, b = rng.normal(size=(n_models, 6)), rng.normal(size=n_models)
    total, grad, grad_b = runner.run(coef, b)
    parts = [runner.run(coef, b, rows) for rows in
             np.array_split(rng.permutation(500).astype(np.int32), 3)]
    np.testing.assert_allclose(sum(p[0] for p in parts), total, rtol=1e-12)
    np.testing.assert_allclose(sum(p[1] for p in parts), grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sum(p[2] for p in parts), grad_b, rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_replicas_averaged_by_the_caller_are_the_kernels_replicas(sparse):
    # one round of two replicas: each starts from the model and runs over its half of
    # the rows; the model becomes their mean (the step counter the furthest's)
    rng = np.random.default_rng(1)
    n = 2 * MIN_REPLICA_ROWS + 100
    X = rng.normal(size=(n, 5)) * (rng.random((n, 5)) < 0.8)
    Xf = sp.csr_matrix(X) if sparse else X
    y = X @ np.arange(1.0, 6.0) + 0.1 * rng.normal(size=n)
    est = SGDRegressor(penalty="l2", alpha=1e-3, learning_rate="invscaling", eta0=0.05)
    rows, targets = Rows(Xf), regression_targets(y)
    rule = make_step_rule(est, rows.sparse)
    f = loss("squared_error")

    def fresh():
        return TrainingState.start(1, 5, np.float64, rule)

    both = fresh()
    PerSampleRunner(f, rows, targets, rule, n_threads=2).run(
        both, VisitingOrder(np.arange(n, dtype=np.int32), n, False, 1), 0.05)
    halves = []
    for part in np.array_split(np.arange(n, dtype=np.int32), 2):
        state = fresh()
        PerSampleRunner(f, rows, targets, rule, n_threads=1).run(
            state, VisitingOrder(part, n, False, 1), 0.05)
        halves.append(state)
    np.testing.assert_array_equal((halves[0].coef + halves[1].coef) / 2, both.coef)
    np.testing.assert_array_equal((halves[0].intercept + halves[1].intercept) / 2,
                                  both.intercept)
    assert both.t == max(h.t for h in halves)
    assert both.scalars["sum_loss"][0] == (halves[0].scalars["sum_loss"][0]
                                           + halves[1].scalars["sum_loss"][0])
