"""The data of a fit in memory, as the epoch factory and the loop read it
(``InMemory``), the split of its rows for early stopping (``split_rows``), and a
quadratic loss's sums from its Hessian without a pass over X (``QuadraticSums``).

A source answers what the factory and the loop ask of the data: the training rows and
their total weight, the sums of loss and gradient at a model (a ``GradientRunner``),
the SGD epochs over the rows (a runner over a visiting order), the rows the curvature
bounds and the constant model read, and the check of X's values.  A fit on a Dask
cluster has a source of the same shape (``fastgd._dask.source.OnCluster``).
"""
import functools

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils.validation import assert_all_finite

from fastgd._kernels import _evaluate
from fastgd._kernels._structs import Rows
from fastgd._solvers.newton import cheap_hessian
from fastgd._training.curvature import sampled_rows
from fastgd._training.epochs import SgdEpochs
from fastgd._training.runners import (
    GradientRunner, HessianRunner, sgd_runner, softmax_moments, visiting_order,
)


def split_rows(plan, n_rows, stratify, sample_weight):
    """Training rows and validation rows (int32): all rows and none without early
    stopping.  Raises when the training rows (or the validation rows) weigh nothing."""
    all_rows = np.arange(n_rows, dtype=np.int32)
    if not plan.early_stopping:
        train, val = all_rows, np.empty(0, dtype=np.int32)
    else:
        splitter = StratifiedShuffleSplit if stratify is not None else ShuffleSplit
        cv = splitter(test_size=plan.validation_fraction,
                      random_state=plan.random_state)
        strat = stratify if stratify is not None else np.zeros(n_rows)
        train, val = next(cv.split(np.zeros((n_rows, 1)), strat))
        if len(train) == 0 or len(val) == 0:
            raise ValueError(
                f"Splitting {n_rows} samples into a train set and a validation set "
                f"with validation_fraction={plan.validation_fraction} led to an "
                f"empty set ({len(train)} and {len(val)} samples). Please either "
                f"change validation_fraction, increase number of samples, or disable "
                f"early_stopping.")
        if sample_weight is not None and not np.any(sample_weight[val] > 0):
            raise ValueError("The sample weights for validation set are all zero, "
                             "consider using a different random state.")
        train, val = np.sort(train).astype(np.int32), np.sort(val).astype(np.int32)
    if sample_weight is not None and not np.any(sample_weight[train] != 0):
        raise ValueError("The sample weights of the training rows are all zero: there "
                         "is nothing to train on"
                         + (" (every row of non-zero weight fell in the validation "
                            "set; consider a different random_state or "
                            "validation_fraction)." if plan.early_stopping
                            else "."))
    return train, val


class QuadraticSums:
    """The sums of a quadratic loss (squared error) at any model, from the sums at
    one model and the Hessian, which does not depend on the model: ``f(x) = f(a) +
    g(a).d + d' H d / 2`` and ``g(x) = g(a) + H d`` with ``d = x - a`` per model row
    (the intercept last), exactly.  Until the Hessian is known (a Newton-type solver
    asks the source for it, once per source), each call is a pass over X, whose
    model becomes the anchor ``a``; after, no call reads X: a fit or a whole path
    then costs the passes of its first evaluation and of the Hessian (what
    scikit-learn's coordinate descent does with its precomputed Gram matrix).

    Parameters
    ----------
    evaluate : callable
        ``(coef, intercept) -> (loss sum, gradient, intercept gradient)`` from a
        pass over X.
    known_hessian : callable
        ``() -> H or None``: the summed Hessian, of shape (n_models, n_features + 1,
        n_features + 1), once the source has it.

    Attributes
    ----------
    last_read_x : bool
        Whether the last call read X (the callers count the passes over X).
    """

    def __init__(self, evaluate, known_hessian):
        self.evaluate, self.known_hessian = evaluate, known_hessian
        self.anchor = None
        self.last_read_x = False

    def __call__(self, coef, intercept):
        H = self.known_hessian()
        w = np.asarray(coef, dtype=np.float64)
        b = np.asarray(intercept, dtype=np.float64).reshape(-1)
        self.last_read_x = H is None or self.anchor is None
        if self.last_read_x:
            value = self.evaluate(coef, intercept)
            self.anchor = (w.copy(), b.copy(), value)
            return value
        a_w, a_b, (total, grad, grad_b) = self.anchor
        d = np.hstack([w - a_w, (b - a_b)[:, None]])
        Hd = np.einsum("kij,kj->ki", H, d)
        g = np.hstack([grad, grad_b[:, None]])
        total = total + float(np.vdot(g, d)) + 0.5 * float(np.vdot(d, Hd))
        g = g + Hd
        return total, g[:, :-1].copy(), g[:, -1].copy()


class InMemory:
    """The rows of a fit in memory.

    Parameters
    ----------
    plan : Plan
    problem : Problem
    rule : StepRule
        The kernels' step rule (for the SGD runners).
    n_threads : int

    Attributes
    ----------
    train_rows, validation_rows : ndarray of int32
        From ``split_rows`` (no validation rows without early stopping).
    population_rows, largest_row : None
        A sample of the data would give the data's rows and largest row here (see
        ``OnCluster``): in memory the curvature bounds read the rows themselves.
    """

    population_rows = largest_row = None

    def __init__(self, plan, problem, rule, n_threads):
        self.plan, self.problem, self.rule = plan, problem, rule
        self.n_threads = n_threads
        self.train_rows, self.validation_rows = split_rows(
            plan, problem.rows.n_rows, problem.stratify, problem.sample_weight)
        # the Hessians computed (Newton's): squared error's once, kept
        self.hessian_evaluations = 0
        self._constant_hessian = None

    @property
    def n_rows(self):
        """The training rows."""
        return len(self.train_rows)

    @property
    def runner_rows(self):
        """The training rows as the runners take them: None when they are all of
        X's rows (read in order, without an index)."""
        return None if self.n_rows == self.problem.rows.n_rows else self.train_rows

    @property
    def objective_rows(self):
        """The rows the constant model's objective and the final check read."""
        return self.train_rows

    def validation_loss(self, coef, intercept):
        """The mean loss of the model on the validation rows (early stopping)."""
        p, rows = self.problem, self.validation_rows
        return _evaluate.loss_sum(p.loss, p.rows, p.targets, rows, coef, intercept,
                                  self.n_threads) / len(rows)

    def zero_model_loss(self):
        """The summed loss over the training rows of the model of zero weights and
        intercepts: it reads the targets, not X (the kernels read a CSR matrix of
        X's rows, one column and no stored value)."""
        p = self.problem
        n_models, n = p.targets.n_models, p.rows.n_rows
        empty = sp.csr_matrix((np.empty(0, dtype=p.rows.dtype),
                               np.empty(0, dtype=np.int32),
                               np.zeros(n + 1, dtype=np.int32)), shape=(n, 1))
        return _evaluate.loss_sum(p.loss, Rows(empty), p.targets, self.train_rows,
                                  np.zeros((n_models, 1), dtype=p.rows.dtype),
                                  np.zeros(n_models), self.n_threads)

    @functools.cached_property
    def total_weight(self):
        """The training rows' summed sample weights (their number without weights)."""
        sw = self.problem.sample_weight
        return (float(np.sum(sw[self.train_rows])) if sw is not None
                else float(len(self.train_rows)))

    @property
    def curvature_sample(self):
        """(X, sample weights, their total) that the curvature bounds read."""
        return self.problem.X, self.problem.sample_weight, self.total_weight

    def loss_and_gradient(self):
        """``(coef, intercept) -> (loss sum, gradient, intercept gradient)`` over the
        training rows: a pass over them, or for a quadratic loss (squared error) once
        its Hessian is known, none (``QuadraticSums``)."""
        p = self.problem
        runner = GradientRunner(p.loss, p.rows, p.targets, self.n_threads)
        rows = self.runner_rows

        def evaluate(coef, b):
            return runner.run(coef, b, rows)
        if p.spec.quadratic:
            return QuadraticSums(evaluate, lambda: self._constant_hessian)
        return evaluate

    def hessian(self):
        """``(coef, intercept) -> Hessian`` (one per model row, the intercept last) of
        the training rows' summed loss: from every training row where that is
        cheap (``newton.cheap_hessian``), else from a fixed sample of at most
        ``CURVATURE_SAMPLE_ROWS`` of them scaled to their total weight
        (``curvature.sampled_rows``); for a quadratic loss (squared error) from
        every training row, once per source: it does not depend on the model.
        ``hessian_evaluations`` counts the Hessians computed."""
        p = self.problem
        runner = HessianRunner(p.loss, p.X, p.rows, p.targets, self.n_threads)
        if p.spec.quadratic:
            rows = self.runner_rows

            def constant(coef, b):
                # kept by the source: the fits of a path share it
                if self._constant_hessian is None:
                    self.hessian_evaluations += 1
                    self._constant_hessian = runner.run(coef, b, rows)
                return self._constant_hessian
            return constant
        stored = (p.X.nnz * self.n_rows // p.rows.n_rows if p.rows.sparse
                  else self.n_rows * p.rows.n_features)
        if cheap_hessian(self.n_rows, p.rows.n_features, stored):
            rows, scale = self.runner_rows, 1.0
        else:
            rows, scale = sampled_rows(self.train_rows, p.sample_weight,
                                       self.total_weight)

        def sampled(coef, b):
            self.hessian_evaluations += 1
            return runner.run(coef, b, rows) * scale
        return sampled

    def loss_gradient_and_moments(self):
        """``(coef, intercept) -> (loss sum, gradient, intercept gradient,
        moments)``: ``loss_and_gradient``'s sums and the weighted second moments of
        X's columns over the training rows, ``sum_i s_i x_ij^2`` with ``sum_i s_i``
        last (one per model row: the class weights count), from one pass (over all
        the training rows: a sample would miss the rare features).  The softmax's
        (one row weight per row, that of its label's class, the same for every
        model row) come from a pass of their own, once (``softmax_moments``)."""
        p = self.problem
        runner = GradientRunner(p.loss, p.rows, p.targets, self.n_threads)
        rows = self.runner_rows
        if self.plan.multinomial:
            def with_moments(coef, b):
                total, grad, grad_b = runner.run(coef, b, rows)
                return (total, grad, grad_b,
                        np.tile(self.softmax_moments, (coef.shape[0], 1)))
            with_moments.extra_passes = 1  # the moments' own pass (callers count)
            return with_moments
        return lambda coef, b: runner.run_with_diagonal(coef, b, rows,
                                                        unit_curvature=True)

    @functools.cached_property
    def softmax_moments(self):
        """The softmax's weighted second moments of X's columns over the training
        rows (``runners.softmax_moments``), computed once."""
        p = self.problem
        rows = self.runner_rows
        return softmax_moments(p.rows, p.targets, self.n_threads, rows)

    def sgd_epochs(self, plan, state, rule=None):
        """(epochs, visiting order) of per-sample or mini-batch SGD, with the step
        rule ``rule`` (default: the fit's)."""
        p = self.problem
        order = visiting_order(plan, p.X, p.rows, self.train_rows,
                               p.targets.n_models, self.n_threads)
        runner = sgd_runner(plan, p.loss, p.rows, p.targets, rule or self.rule,
                            self.n_threads, self.n_rows)
        return SgdEpochs(plan, runner, state, order), order

    def check_finite(self):
        """scikit-learn's error for NaN or infinity in X."""
        assert_all_finite(self.problem.X, input_name="X",
                          estimator_name=self.plan.estimator_name)

    def watch(self, epochs):
        """The epochs as the loop calls them (unchanged in memory)."""
        return epochs
