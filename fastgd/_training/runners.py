"""Runners: one epoch of an algorithm over given rows, from a given model.

Every runner is made once per fit for a loss, the rows of X, the targets and the
threads, and is then called once per epoch (or per evaluation):

* ``PerSampleRunner.run(state, order, eta)`` and ``MiniBatchRunner.run(...)`` train the
  model of a ``TrainingState`` in place over the rows of a ``VisitingOrder`` and return
  the summed loss met before each step: what a caller combines is the new model.
* ``GradientRunner.run(coef, intercept, rows)`` returns the summed loss and gradient
  at a model over the given rows (``hessian_diagonal`` the Hessian's diagonal), and
  ``HessianRunner.run(coef, intercept, rows)`` the summed Hessian: what a caller
  combines is a sum.

A runner reads only the rows it is given, so several can run on slices of the rows (on
threads, or on the workers of a Dask cluster that hold the slices) and their results be
combined by the caller: a model handed on, or summed gradients.  ``sgd_runner`` and
``visiting_order`` make the SGD runner and its order of a plan, for the fit in memory
and for each chunk on a cluster alike.
"""
import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import scipy.sparse as sp

from fastgd._config import MIN_ROWS_PER_PARALLEL_BATCH
from fastgd._kernels import _batch, _evaluate, _sgd
from fastgd._kernels._losses import SquaredError
from fastgd._kernels._shuffle import VisitingOrder
from fastgd._kernels._structs import Targets
from fastgd._training.plan import PER_SAMPLE

# the Hessian is summed over slices of this many rows, in groups of at most
# HESSIAN_GROUPS consecutive slices that threads take; the groups' sums are added in
# their order, so the Hessian does not depend on the number of threads
HESSIAN_SLICE_ROWS = 4096
HESSIAN_GROUPS = 16

# shuffle_window='auto' draws a uniform permutation for X up to this size, windows
# of WINDOW_ROWS rows beyond
UNIFORM_SHUFFLE_MAX_BYTES = 32 * 2**20
WINDOW_ROWS = 32


def sgd_runner(plan, loss, rows, targets, rule, n_threads, n_train_rows):
    """The runner of the plan's SGD algorithm: ``PerSampleRunner`` or
    ``MiniBatchRunner`` (batches of ``plan.batch_rows(n_train_rows)`` rows)."""
    if plan.algorithm == PER_SAMPLE:
        return PerSampleRunner(loss, rows, targets, rule, n_threads)
    return MiniBatchRunner(loss, rows, targets, rule, n_threads,
                           plan.batch_rows(n_train_rows))


def visiting_order(plan, X, rows, train_rows, n_models, n_threads):
    """The ``VisitingOrder`` of the training rows ``train_rows`` of ``X`` (``rows``:
    X as the kernels read it), shuffled as the plan says (a full batch sums over every
    row: its order does not matter)."""
    return VisitingOrder(train_rows, rows.n_rows,
                         plan.shuffle and plan.batch_size is not None,
                         shuffle_window(plan, X), n_models, n_threads)


def shuffle_window(plan, X):
    """The window of the visiting order: ``shuffle_window``, with ``'auto'`` resolved.

    The windowed shuffle reads X nearly in sequence, which pays once X is larger
    than the caches; on rows that come ordered (by the target, by time) it leaves
    more of the order in the model.  Measured on ggplot2's diamonds (54k rows ordered
    by price, 11 MB), averaged SGD, ridge, 50 epochs, relative gap to the exact
    optimum over three seeds: windows of 32 rows 0.95-1.11e-3, a uniform permutation
    0.44-0.49e-3, scikit-learn 0.43-0.47e-3.  Costs of the uniform permutation, per-
    sample SGD on dense rows (100 features): +1% at 16 MB, +7% at 40 MB, +9% at 80
    MB, +29% at 160 MB, +33% at 400 MB.  So ``'auto'`` is uniform up to
    ``UNIFORM_SHUFFLE_MAX_BYTES`` (a size fixed here, not read off the machine, so
    that the model does not depend on the machine), windowed beyond.
    """
    if plan.shuffle_window != "auto":
        return plan.shuffle_window
    size = (X.data.nbytes + X.indices.nbytes if hasattr(X, "indptr")
            else X.nbytes)
    return 1 if size <= UNIFORM_SHUFFLE_MAX_BYTES else WINDOW_ROWS


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
    over the rows), or the diagonal of the summed loss's Hessian
    (``_batch.hessian_diagonal``, a pass too).

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

    def hessian_diagonal(self, coef, intercept, rows=None, unit_curvature=False):
        """The diagonal of the summed loss's Hessian over ``rows`` (all rows when
        None), per model row: shape (n_models, n_features + 1), the intercept last
        (``unit_curvature``: every second derivative taken as 1, the weighted second
        moments of the columns).  A loss of one prediction only (not the
        softmax)."""
        work = self._diagonal_work
        _batch.hessian_diagonal(self.loss, self.X, self.targets, rows, coef,
                                np.ascontiguousarray(intercept, dtype=np.float64),
                                work, None, unit_curvature)
        return np.hstack([work.grad, work.grad_intercept[:, None]])

    def run_with_diagonal(self, coef, intercept, rows=None, unit_curvature=False):
        """``run``'s (loss sum, gradient, intercept gradient) and
        ``hessian_diagonal``'s diagonal, from one pass over the rows."""
        work = self._diagonal_work
        total = _batch.hessian_diagonal(
            self.loss, self.X, self.targets, rows, coef,
            np.ascontiguousarray(intercept, dtype=np.float64), work, self.work,
            unit_curvature)
        return (total, self.work.grad.copy(), self.work.grad_intercept.copy(),
                np.hstack([work.grad, work.grad_intercept[:, None]]))

    @functools.cached_property
    def _diagonal_work(self):
        """The diagonal's buffers, made on the first call: as the gradient's."""
        return _batch.Workspace(self.loss, self.X, self.targets.n_models,
                                self.work.n_threads,
                                min_parallel_rows=self.work.min_parallel_rows)


def softmax_moments(rows, targets, n_threads, train_rows=None):
    """The softmax's weighted second moments of X's columns, ``sum_i r_i x_ij^2``
    with ``sum_i r_i`` last (shape (n_features + 1,)), ``r_i`` the row's sample
    weight times its label's class weight (soft labels: the sample weight), over
    ``train_rows`` (all rows when None): the moments of a one-model problem with
    those row weights (they do not depend on the loss), by the kernels' parallel
    pass (``GradientRunner.hessian_diagonal``)."""
    n, arrays = rows.n_rows, targets.arrays
    weights = (np.ones(n) if arrays["sample_weight"] is None
               else np.asarray(arrays["sample_weight"], dtype=np.float64))
    if arrays["soft"] is None:
        weights = weights * np.asarray(arrays["w_pos"])[arrays["y_class"]]
    dtype = rows.dtype
    one_model = Targets(dtype, n, [-1], [1.0], 1.0, y=np.zeros(n, dtype=dtype),
                        sample_weight=weights.astype(dtype))
    runner = GradientRunner(SquaredError(), rows, one_model, n_threads)
    return runner.hessian_diagonal(np.zeros((1, rows.n_features), dtype=dtype),
                                   np.zeros(1), train_rows, unit_curvature=True)[0]


class HessianRunner:
    """The summed Hessian of the loss at a model: ``X1' diag(c_k) X1`` for every model
    row ``k``, with ``X1 = [X, 1]`` (the intercept last) and ``c_k`` each row's
    weighted second derivative of the loss (``_evaluate.curvature``, parallel over
    rows).

    The products are BLAS's (dense X) or SciPy's (CSR), over slices of
    ``HESSIAN_SLICE_ROWS`` rows; ``HESSIAN_GROUPS`` groups of consecutive slices are
    summed by up to ``n_threads`` threads and added in their order: the same bits at
    every thread count.  Memory: ``HESSIAN_GROUPS`` Hessians of ``(n_features + 1)^2``
    per model row.

    Parameters
    ----------
    loss : LossFunction
        A loss of one prediction.
    X : ndarray or CSR matrix
    rows : Rows
        X as the kernels read it.
    targets : Targets
    n_threads : int
    """

    def __init__(self, loss, X, rows, targets, n_threads):
        self.loss, self.X, self.rows, self.targets = loss, X, rows, targets
        self.n_threads = n_threads

    def run(self, coef, intercept, rows=None):
        """The Hessians over ``rows`` (all rows when None): an array of shape
        (n_models, n_features + 1, n_features + 1)."""
        n_models, d = coef.shape
        rows = (np.arange(self.rows.n_rows, dtype=np.int32) if rows is None
                else np.asarray(rows, dtype=np.int32))
        weights = np.empty((n_models, len(rows)))
        _evaluate.curvature(self.loss, self.rows, self.targets, rows, coef,
                            np.ascontiguousarray(intercept, dtype=np.float64),
                            weights, self.n_threads)
        starts = np.arange(0, len(rows), HESSIAN_SLICE_ROWS)
        groups = [g for g in np.array_split(starts, min(HESSIAN_GROUPS, len(starts)))
                  if len(g)] if len(starts) else []
        all_rows = len(rows) == self.rows.n_rows

        def group_sum(group):
            total = np.zeros((n_models, d + 1, d + 1))
            for start in group:
                stop = start + HESSIAN_SLICE_ROWS
                block = (self.X[start:stop] if all_rows
                         else self.X[rows[start:stop]])
                self._add_slice(total, block, weights[:, start:stop])
            return total

        if self.n_threads > 1 and len(groups) > 1:
            with ThreadPoolExecutor(min(self.n_threads, len(groups))) as pool:
                parts = list(pool.map(group_sum, groups))
        else:
            parts = [group_sum(group) for group in groups]
        hessian = np.zeros((n_models, d + 1, d + 1))
        for part in parts:  # in the groups' order
            hessian += part
        return hessian

    @staticmethod
    def _add_slice(total, block, weights):
        """Add ``[X_b, 1]' diag(c) [X_b, 1]`` of a slice of rows to every model's
        Hessian."""
        d = block.shape[1]
        for k in range(total.shape[0]):
            c = weights[k]
            if sp.issparse(block):
                scaled = sp.diags(c) @ block
                total[k, :d, :d] += (block.T @ scaled).toarray()
                column = np.asarray(scaled.sum(axis=0)).ravel()
            else:
                scaled = block * c[:, None].astype(block.dtype)
                total[k, :d, :d] += block.T @ scaled
                column = scaled.sum(axis=0, dtype=np.float64)
            total[k, :d, d] += column
            total[k, d, :d] += column
            total[k, d, d] += c.sum()
