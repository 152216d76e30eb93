"""Runners: one epoch of an algorithm over given rows, from a given model.

Every runner is made once per fit for a loss, the rows of X, the targets and the
threads, and is then called once per epoch (or per evaluation):

* ``PerSampleRunner.run(state, order, eta)`` and ``MiniBatchRunner.run(...)`` train the
  model of a ``TrainingState`` in place over the rows of a ``VisitingOrder`` and return
  the summed loss met before each step: what a caller combines is the new model.
* ``GradientRunner.run(coef, intercept, rows)`` returns the summed loss and gradient
  at a model over the given rows: what a caller combines is a sum.

A runner reads only the rows it is given, so several can run on slices of the rows (on
threads, or on the workers that hold the slices) and their results be combined by the
caller: summed gradients (the workers of a cluster, for instance).
``FullBatchEpochs`` is such a caller on one machine: proximal gradient descent or
L-BFGS on the summed gradients.
"""
import numpy as np

from fastgd._kernels import _batch
from fastgd._kernels import _sgd
from fastgd._config import MIN_ROWS_PER_PARALLEL_BATCH
from fastgd._solvers.proximal import ProximalGradient
from fastgd._solvers.quasi_newton import QuasiNewton


class PerSampleRunner:
    """Per-sample SGD (``_sgd.sgd_epoch``): one step per row, every model row at once
    (in parallel over the model rows).

    Parameters
    ----------
    loss : LossFunction
    X : Rows
    targets : Targets
    rule : StepRule
    n_threads : int
    """

    def __init__(self, loss, X, targets, rule, n_threads):
        self.loss, self.X, self.targets, self.rule = loss, X, targets, rule
        self.work = _sgd.Workspace(X, targets.n_models, rule, n_threads)

    def run(self, state, order, eta):
        """One epoch over ``order``; returns the summed (weighted) loss over the rows
        and models, NaN when a row's margin was not finite (NaN or inf in X)."""
        _sgd.sgd_epoch(self.loss, self.X, self.targets, self.rule, eta, order,
                       state.coef, state, self.work)
        return state.scalars["sum_loss"].sum()


class MiniBatchRunner:
    """Mini-batch proximal SGD with an optimizer (``_batch.minibatch_epoch``).

    Parameters
    ----------
    loss, X, targets, rule, n_threads
        As in ``PerSampleRunner``; the softmax trains the model rows jointly.
    batch_size : int
    """

    def __init__(self, loss, X, targets, rule, n_threads, batch_size):
        self.loss, self.X, self.targets, self.rule = loss, X, targets, rule
        self.batch_size = batch_size
        self.work = _batch.Workspace(loss, X, targets.n_models, n_threads,
                                     min_parallel_rows=MIN_ROWS_PER_PARALLEL_BATCH)

    def run(self, state, order, eta):
        """One epoch over ``order`` in batches; returns the summed loss met before
        each step."""
        return _batch.minibatch_epoch(self.loss, self.X, self.targets, self.rule, eta,
                                      order, self.batch_size, state.coef, state,
                                      self.work)


class GradientRunner:
    """The summed loss and gradient at a model (``_batch.gradient``, one fused pass
    over the rows).

    Parameters
    ----------
    loss : LossFunction
    X : Rows
    targets : Targets
    n_threads : int
    """

    def __init__(self, loss, X, targets, n_threads):
        self.loss, self.X, self.targets = loss, X, targets
        self.work = _batch.Workspace(loss, X, targets.n_models, n_threads,
                                     min_parallel_rows=MIN_ROWS_PER_PARALLEL_BATCH)

    def run(self, coef, intercept, rows=None):
        """(loss sum, gradient of the weights, gradient of the intercepts) over
        ``rows`` (all rows when None), as new arrays."""
        total = _batch.gradient(self.loss, self.X, self.targets, rows, coef,
                                np.ascontiguousarray(intercept, dtype=np.float64),
                                self.work)
        return total, self.work.grad.copy(), self.work.grad_intercept.copy()


class FullBatchEpochs:
    """A solver of the whole objective on the weighted mean loss, one iteration per
    call: proximal gradient descent, ISTA or FISTA (Beck & Teboulle 2009), with a
    backtracking line search from a Lipschitz estimate (``_proximal``; subgradient
    steps with the best point kept for the non-smooth losses), or L-BFGS / OWL-QN
    (``_quasi_newton``).

    The objective is ``sum_i s_i loss_i / sum_i s_i`` plus the penalty, so a row of
    weight 2 is the same as two copies of it.  Where the sums come from is the
    caller's: a ``GradientRunner`` on one machine, a tree reduction over the workers
    of a Dask cluster (``_distributed``).

    Parameters
    ----------
    loss_and_gradient : callable
        ``(coef, intercept) -> (loss sum, gradient sum of the weights, of the
        intercepts)`` over the training rows, ``coef`` in X's dtype.
    total_weight : float
        The training rows' summed sample weights (their number without weights).
    state : TrainingState
        Its model is replaced by the solver's iterate after every call.
    lipschitz : callable or None
        ``() -> (L_w, L_b)``: the curvature bounds of the weight and intercept blocks
        (``block_lipschitz``) that start proximal gradient's line search; None for
        L-BFGS.
    spec : LossSpec
        The loss's table row (smoothness).
    lam1, lam2 : float
    fit_intercept : bool
    method : {"ista", "fista", "lbfgs"}

    Attributes
    ----------
    converged : bool
        Whether the last iteration found no decrease left (the optimum to rounding).
    """

    def __init__(self, loss_and_gradient, total_weight, state, lipschitz, spec, lam1,
                 lam2, fit_intercept, method):
        self.state = state
        self.converged = False
        self.total_weight = float(total_weight)
        if not self.total_weight > 0:
            raise ValueError(
                "batch_size='full' minimises the weighted mean loss, which needs "
                "training rows whose sample weights sum to a positive number; they sum "
                f"to {self.total_weight:g}.")
        dtype = state.coef.dtype

        def smooth(w, b):
            coef = np.ascontiguousarray(w, dtype=dtype)
            total, grad, grad_b = loss_and_gradient(coef, b)
            return (total / self.total_weight, grad / self.total_weight,
                    grad_b / self.total_weight)

        if method == "lbfgs":
            self.solver = QuasiNewton(smooth, state.coef, state.intercept, lam1=lam1,
                                      lam2=lam2, fit_intercept=fit_intercept)
        else:
            L_w, L_b = lipschitz()
            self.solver = ProximalGradient(
                smooth, state.coef, state.intercept, lam1=lam1, lam2=lam2,
                fit_intercept=fit_intercept, lipschitz=L_w, lipschitz_intercept=L_b,
                accelerated=method == "fista", differentiable=spec.smooth)

    def __call__(self, eta):
        """One iteration; returns the exact objective, which never increases (NaN
        when X holds NaN or infinity: the first pass over X found it)."""
        solver, scalars = self.solver, self.state.scalars
        if not np.isfinite(solver.F):
            return float("nan")
        self.converged = not solver.step()
        self.state.coef[:] = solver.w
        scalars["intercept"] = solver.b
        scalars["t"] += 1.0
        scalars["sum_loss"] = solver.f * self.total_weight
        return solver.F


class SgdEpochs:
    """Epochs of a per-sample or mini-batch runner over a visiting order, one per call;
    returns the epoch's mean loss met before each step plus ``regularisation(coef,
    intercept)`` at its end (``_step_rule.regularisation``: the penalty, and the
    One-Class SVM's ``nu * b``)."""

    # SGD has no point at which it knows it is done (see FullBatchEpochs.converged)
    converged = False

    def __init__(self, runner, state, order, regularisation):
        self.runner, self.state, self.order = runner, state, order
        self.regularisation = regularisation

    def __call__(self, eta):
        total = self.runner.run(self.state, self.order, eta)
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported
            return (total / max(len(self.order), 1)
                    + self.regularisation(self.state.coef, self.state.intercept))
