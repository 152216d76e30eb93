"""The objective's terms beside the mean loss, and the constant model's objective.

``regularisation`` is what the objective adds to the mean loss (the penalty, and the
One-Class SVM's ``nu * b``); ``constant_objective`` is the yardstick of the loop's
divergence checks.
"""
import numpy as np
import scipy.sparse as sp

from fastgd._kernels import _evaluate
from fastgd._kernels._structs import Rows
from fastgd._solvers.penalty import penalty_value
from fastgd._training.curvature import sample_rows


def regularisation(plan, coef, intercept):
    """What the objective adds to the mean loss at ``(coef, intercept)``: the
    penalty of the weights (``penalty_value``) and the linear term of the intercept
    (``plan.intercept_drift``: SGDOneClassSVM's ``nu * b``)."""
    value = penalty_value(coef, plan.lam1, plan.lam2)
    drift = plan.intercept_drift
    # no term at all without a drift: 0 * an infinite intercept would be NaN
    return value + drift * float(np.sum(intercept)) if drift else value


def constant_objective(problem, rows, n_threads, max_rows=10_000):
    """Mean loss of the constant model: zero weights, the weighted mean of y as
    intercept (regression) or zero (classification); at least a thousandth of the zero
    model's (where the constant model fits y exactly, a model no better is no
    failure).  The yardstick of the divergence checks: it reads the targets only, not
    X, of at most ``max_rows`` of the rows (a fixed random sample), so that it costs
    next to nothing beside an epoch."""
    sample = sample_rows(len(rows), max_rows)
    rows = rows if isinstance(sample, slice) else rows[sample]
    targets = problem.targets
    y = targets.arrays["y"]
    level = 0.0
    if problem.spec.task == "regression" and y is not None and len(rows):
        sw = problem.sample_weight
        weights = None if sw is None else sw[rows]
        total = len(rows) if weights is None else float(np.sum(weights))
        level = (float(np.average(y[rows], weights=weights)) if total > 0 else 0.0)
    # X of one column and no stored values: every margin is the intercept (its row
    # pointers are zeros, which the kernel reads for the sampled rows only)
    dtype, n = problem.rows.dtype, problem.rows.n_rows
    no_values = Rows(sp.csr_matrix((np.zeros(0, dtype), np.zeros(0, np.int32),
                                    np.zeros(n + 1, np.int32)), shape=(n, 1)))
    totals = [_evaluate.loss_sum(problem.loss, no_values, targets, rows,
                                 np.zeros((targets.n_models, 1), dtype=dtype),
                                 np.full(targets.n_models, intercept), n_threads)
              for intercept in (level, 0.0)]
    return max(totals[0], 1e-3 * totals[1]) / max(len(rows), 1)
