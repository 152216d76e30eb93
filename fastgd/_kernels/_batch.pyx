# cython: language_level=3
"""Mini-batch and full-batch gradients (and the Hessian's diagonal, L-BFGS's
preconditioner), and the mini-batch proximal SGD epoch.

Design
------
* One fused pass over X: every row's prediction, loss and derivative are computed and
  its contribution ``s_i * dloss_i * x_i`` is added at once, so a dense row is read
  from memory a single time per gradient.
* Parallel over blocks of rows.  The rows are cut into ``row_blocks`` consecutive
  blocks, a number that depends on the number of rows only (one per
  ``min_parallel_rows`` rows, at most as many as ``Workspace.scratch`` has buffers);
  each block adds into its own float64 buffer (a row of ``Workspace.scratch``: its
  gradient and its loss), the threads take the blocks (``prange``, static schedule,
  ``n_threads`` threads), and the buffers are summed afterwards in block order: no
  atomics, no OpenMP reduction (which adds in the order the threads finish), so the
  sums, and the models they make, have the same bits at every thread count.
* The loss is a compile-time choice: the kernels are specialised by the type of their
  ``loss`` argument (``AnyLoss``, see ``_losses.pxd``): a loss of one prediction per
  model row, or the softmax, whose model rows are the classes, trained jointly on the
  multinomial cross-entropy (hard labels, or soft labels: rows of probabilities).
* The mini-batch epoch takes, per batch, the mean gradient and then the exact proximal
  step of the elastic net, through the optimizers of ``_optimizers.pxd``; on CSR input
  only the batch's columns are touched and the others catch up lazily
  (``_batch_lazy.pxd``).
* Input check: a row holding NaN or infinity gives a margin that is not finite, and
  the loss is then reported as NaN (the softmax's log-sum-exp propagates it by
  itself): X is checked by the pass that reads it, not by a pass of its own.
* The kernels assume the validated structs of ``_structs.pxd``; this module sizes and
  allocates its scratch (``Workspace``).
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport NAN, exp, isfinite
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memset

from fastgd._kernels._batch_lazy cimport (
    LazyClock, N_SNAP, advance_clock, catch_up_columns, clear_snapshots,
    coordinate_state, rebase_clock, start_clock, step_coordinate, take_snapshot,
)
from fastgd._kernels._loss_functions cimport log_sum_exp
from fastgd._kernels._losses cimport (
    AnyLoss, ScalarLoss, Softmax, loss_second_derivative, loss_value_and_derivative,
)
from fastgd._kernels._optimizers cimport Optimizer, OptimizerRule, optimizer_direction
from fastgd._kernels._rows cimport (
    csr_range, index_t, row_add_scaled, row_add_squares, row_dot, row_logits,
)
from fastgd._kernels._schedules cimport scheduled_eta
from fastgd._kernels._shuffle cimport VisitingOrder
from fastgd._kernels._structs cimport (
    ModelScalars, Rows, RowsView, StepRule, StepRuleView, Targets, TargetsView,
)

from fastgd._kernels._structs import check_model
from fastgd._kernels._thread_private cimport thread_sum
from fastgd._kernels._targets cimport (
    sample_target, sample_weight_of, softmax_target, softmax_weight,
)

import numpy as np

# reset the lazy clock's running product long before it overflows
cdef double MAX_PRODUCT = 1e100

# the blocks of rows a sum is cut into (``row_blocks``): at most MAX_BLOCKS, whose
# buffers take at most BLOCK_BUFFER_BYTES; they bound the threads that can work on one
# sum.  Each block's buffer is cleared and added up once per sum: on perf.py's sparse
# data (400k x 50k, a buffer of 400 kB) one thread's gradient took 44 ms with one
# buffer, 51 ms with 20 blocks (8 MB) and 47 ms with 10 (4 MB); dense 500k x 100
# (64 blocks of 800 bytes) within noise
MAX_BLOCKS = 64
BLOCK_BUFFER_BYTES = 4 * 2**20


# ------------------------------------------------------------------ gradient sums

cdef inline void add_row_gradient(ScalarLoss f, const RowsView* X,
                                  const floating* values, Py_ssize_t i,
                                  const floating* w, double b, double target,
                                  double weight, double* grad,
                                  double* loss_sum) noexcept nogil:
    """Add row i's weighted loss (to ``loss_sum``) and gradient (to ``grad``: the
    weights', then the intercept's) for the model ``(w, b)``.  A margin that is not
    finite (NaN or infinity in the row) makes the loss NaN, whatever the loss does
    with it: the caller reports the bad input."""
    cdef double p, g
    p = row_dot(X, values, i, w)
    p = p + b
    if not isfinite(p):
        loss_sum[0] = NAN
        return
    loss_sum[0] += weight * loss_value_and_derivative(f, p, target, &g)
    g = g * weight
    if g == 0.0:
        return
    row_add_scaled(g, X, values, i, grad)
    grad[X.n_features] += g


cdef inline Py_ssize_t row_blocks(Py_ssize_t n_rows, Py_ssize_t block_rows,
                                  Py_ssize_t max_blocks) noexcept nogil:
    """The blocks the rows are summed in: one per ``block_rows`` rows (rounded up), at
    least one, at most ``max_blocks``; it depends on the rows alone, not the threads."""
    cdef Py_ssize_t n = (n_rows + block_rows - 1) // block_rows
    return max(1, min(max_blocks, n))


cdef double scalar_rows(ScalarLoss f, const RowsView* X, const TargetsView* T,
                        const int32_t* rows, Py_ssize_t n_rows, const floating* coef,
                        const double* intercept, double[:, ::1] scratch,
                        Py_ssize_t n_blocks, int n_threads) noexcept nogil:
    """Summed weighted loss of every model row over the rows, its gradient added to the
    block buffers (model k's at ``k * (n_features + 1)``, its intercept last; the
    block's loss in the buffer's last entry)."""
    cdef Py_ssize_t b, loss_slot = scratch.shape[1] - 1
    for b in prange(n_blocks, schedule="static", num_threads=n_threads,
                    use_threads_if=n_threads > 1):
        scalar_block(f, X, T, rows, n_rows * b // n_blocks,
                     n_rows * (b + 1) // n_blocks, coef, intercept, &scratch[b, 0],
                     loss_slot)
    return thread_sum(scratch, n_blocks, loss_slot)


cdef void scalar_block(ScalarLoss f, const RowsView* X, const TargetsView* T,
                       const int32_t* rows, Py_ssize_t start, Py_ssize_t stop,
                       const floating* coef, const double* intercept, double* local,
                       Py_ssize_t loss_slot) noexcept nogil:
    """``scalar_rows`` over the rows ``start`` to ``stop`` (one block), into the
    block's buffer ``local``."""
    cdef const floating* values = <const floating*>X.values
    cdef const floating* y = <const floating*>T.y
    cdef const floating* sample_weight = <const floating*>T.sample_weight
    cdef Py_ssize_t r, i, k, n_features = X.n_features
    cdef double target, weight, row_loss
    for r in range(start, stop):
        i = rows[r] if rows != NULL else r
        for k in range(T.n_models):
            target = sample_target(T, y, i, T.pos_class[k])
            weight = sample_weight_of(sample_weight, i, target, T.w_pos[k], T.w_neg)
            row_loss = 0.0
            add_row_gradient(f, X, values, i, coef + k * n_features, intercept[k],
                             target, weight, local + k * (n_features + 1), &row_loss)
            local[loss_slot] += row_loss


cdef double softmax_rows(const RowsView* X, const TargetsView* T, const int32_t* rows,
                         Py_ssize_t n_rows, const floating* coef,
                         const double* intercept, double[:, ::1] scratch,
                         Py_ssize_t n_blocks, int n_threads) noexcept nogil:
    """The multinomial cross-entropy over the rows: summed loss, and its gradient added
    to the block buffers.  Targets are the soft labels when there are some, else the
    one-hot class weighted by its class weight.  Each block buffer holds the gradient,
    then the row's logits (``n_classes`` entries), then the block's loss."""
    cdef const floating* values = <const floating*>X.values
    cdef const floating* soft = <const floating*>T.soft
    cdef const floating* sample_weight = <const floating*>T.sample_weight
    cdef Py_ssize_t b, r, i, k, n_classes = T.n_models, n_features = X.n_features
    cdef Py_ssize_t grad_width = n_classes * (n_features + 1)
    cdef Py_ssize_t loss_slot = scratch.shape[1] - 1
    cdef double weight, lse, q, g, row_loss
    # set before the parallel loop (see scalar_rows)
    cdef double* local = NULL
    cdef double* z = NULL
    cdef double* grad = NULL
    for b in prange(n_blocks, schedule="static", num_threads=n_threads,
                    use_threads_if=n_threads > 1):
        local = &scratch[b, 0]
        z = local + grad_width
        for r in range(n_rows * b // n_blocks, n_rows * (b + 1) // n_blocks):
            i = rows[r] if rows != NULL else r
            weight = softmax_weight(T, soft, sample_weight, i)
            row_logits(X, values, i, coef, intercept, n_classes, z)
            lse = log_sum_exp(z, n_classes)
            row_loss = lse
            for k in range(n_classes):
                q = softmax_target(T, soft, i, k)
                row_loss = row_loss - q * z[k]
                # d loss / d z_k = p_k - q_k
                g = weight * (exp(z[k] - lse) - q)
                if g != 0.0:
                    grad = local + k * (n_features + 1)
                    row_add_scaled(g, X, values, i, grad)
                    grad[n_features] += g
            local[loss_slot] += weight * row_loss
    return thread_sum(scratch, n_blocks, loss_slot)


cdef inline double gradient_rows(AnyLoss f, const RowsView* X, const TargetsView* T,
                                 const int32_t* rows, Py_ssize_t n_rows,
                                 const floating* coef, const double* intercept,
                                 double[:, ::1] scratch, Py_ssize_t n_blocks,
                                 int n_threads) noexcept nogil:
    if AnyLoss is Softmax:
        return softmax_rows(X, T, rows, n_rows, coef, intercept, scratch, n_blocks,
                            n_threads)
    else:
        return scalar_rows(f, X, T, rows, n_rows, coef, intercept, scratch, n_blocks,
                           n_threads)


cdef double diagonal_rows(ScalarLoss f, const RowsView* X, const TargetsView* T,
                          const int32_t* rows, Py_ssize_t n_rows, const floating* coef,
                          const double* intercept, double[:, ::1] scratch,
                          double[:, ::1] gradient_scratch, bint with_gradient,
                          bint unit_curvature, Py_ssize_t n_blocks,
                          int n_threads) noexcept nogil:
    """The diagonal of the summed weighted loss's Hessian of every model row, added
    to the block buffers ``scratch`` as ``scalar_rows`` adds the gradient: ``s_i *
    loss''_i * x_ij^2``, the intercept's ``s_i * loss''_i`` last (``unit_curvature``:
    with ``loss''`` taken as 1, the weighted second moments of the columns).  With
    ``with_gradient``, the summed loss and its gradient too, into
    ``gradient_scratch`` as ``scalar_rows`` adds them (one read of each row for
    both), and the loss is returned (0 otherwise).  A margin that is not finite
    makes the loss NaN and adds NaN to the intercept's diagonal entry."""
    cdef const floating* values = <const floating*>X.values
    cdef const floating* y = <const floating*>T.y
    cdef const floating* sample_weight = <const floating*>T.sample_weight
    cdef Py_ssize_t b, r, i, k, n_features = X.n_features
    cdef Py_ssize_t loss_slot = gradient_scratch.shape[1] - 1
    cdef double target, weight, p, c, g
    # set before the parallel loop (see scalar_rows)
    cdef double* local = NULL
    cdef double* grad = NULL
    for b in prange(n_blocks, schedule="static", num_threads=n_threads,
                    use_threads_if=n_threads > 1):
        for r in range(n_rows * b // n_blocks, n_rows * (b + 1) // n_blocks):
            i = rows[r] if rows != NULL else r
            for k in range(T.n_models):
                local = &scratch[b, k * (n_features + 1)]
                target = sample_target(T, y, i, T.pos_class[k])
                weight = sample_weight_of(sample_weight, i, target, T.w_pos[k],
                                          T.w_neg)
                p = row_dot(X, values, i, coef + k * n_features) + intercept[k]
                if not isfinite(p):
                    local[n_features] += NAN
                    if with_gradient:
                        gradient_scratch[b, loss_slot] += NAN
                    continue
                c = weight if unit_curvature else (
                    weight * loss_second_derivative(f, p, target))
                if c != 0.0:
                    row_add_squares(c, X, values, i, local)
                    local[n_features] += c
                if with_gradient:
                    gradient_scratch[b, loss_slot] += (
                        weight * loss_value_and_derivative(f, p, target, &g))
                    g = g * weight
                    if g != 0.0:
                        grad = &gradient_scratch[b, k * (n_features + 1)]
                        row_add_scaled(g, X, values, i, grad)
                        grad[n_features] += g
    if with_gradient:
        return thread_sum(gradient_scratch, n_blocks, loss_slot)
    return 0.0


cdef void clear_buffers(double[:, ::1] scratch, Py_ssize_t n_blocks) noexcept nogil:
    """Zero the first ``n_blocks`` block buffers."""
    memset(&scratch[0, 0], 0, n_blocks * scratch.shape[1] * sizeof(double))


cdef void clear_support(double[:, ::1] scratch, Py_ssize_t n_blocks, Py_ssize_t n_models,
                        Py_ssize_t n_features, const Py_ssize_t* support,
                        Py_ssize_t n_support) noexcept nogil:
    """``clear_buffers`` restricted to the support columns, the intercepts and the
    loss."""
    cdef Py_ssize_t t, k, s
    cdef double* row
    for t in range(n_blocks):
        for k in range(n_models):
            row = &scratch[t, k * (n_features + 1)]
            for s in range(n_support):
                row[support[s]] = 0.0
            row[n_features] = 0.0
        scratch[t, scratch.shape[1] - 1] = 0.0


cdef void reduce_buffers(
    const double[:, ::1] scratch, Py_ssize_t n_blocks, double[:, ::1] grad,
    double[::1] grad_intercept, const Py_ssize_t* columns=NULL, Py_ssize_t n_columns=0,
) noexcept nogil:
    """Sum the block buffers, in block order, into (grad, grad_intercept): every
    column, or only ``columns`` when it is given; the intercepts always.  Every
    entry is ``b_0 + b_1 + ...`` in block order; all the columns are added a whole
    buffer at a time (contiguous reads), the given ones entry by entry."""
    cdef Py_ssize_t k, s, j, t, row, n_models = grad.shape[0]
    cdef Py_ssize_t n_features = grad.shape[1]
    cdef const double* block
    for k in range(n_models):
        row = k * (n_features + 1)
        if columns != NULL:
            for s in range(n_columns):
                j = columns[s]
                grad[k, j] = thread_sum(scratch, n_blocks, row + j)
        else:
            for j in range(n_features):
                grad[k, j] = scratch[0, row + j]
            for t in range(1, n_blocks):
                block = &scratch[t, row]
                for j in range(n_features):
                    grad[k, j] = grad[k, j] + block[j]
        grad_intercept[k] = thread_sum(scratch, n_blocks, row + n_features)


# ---------------------------------------------------------------- mini-batch epoch

cdef Py_ssize_t batch_support(const index_t* indices, const index_t* indptr,
                              Py_ssize_t n_rows, const int32_t* rows, Py_ssize_t m,
                              int64_t stamp, int64_t[::1] mark,
                              Py_ssize_t* support) noexcept nogil:
    """Write the distinct columns stored in the m ``rows`` to ``support``; return how
    many."""
    cdef Py_ssize_t r, jj, j, start, end, n_support = 0
    for r in range(m):
        csr_range(indptr, rows[r], n_rows, &start, &end)
        for jj in range(start, end):
            j = indices[jj]
            if mark[j] != stamp:
                mark[j] = stamp
                support[n_support] = j
                n_support += 1
    return n_support


ctypedef struct MiniBatchEpoch:
    # what the steps of a mini-batch epoch read, and the work arrays they share
    RowsView X
    TargetsView targets
    StepRuleView rule
    const int32_t* order
    Py_ssize_t n_order
    Py_ssize_t batch_size
    int n_threads
    Py_ssize_t min_parallel_rows    # smaller batches are summed by one thread
    double* opt_state               # (n_models, n_features + 1, n_slots)
    Py_ssize_t n_slots


cdef double minibatch_rows(AnyLoss f, MiniBatchEpoch* E, floating* coef,
                           double* intercept, double* t, Workspace work) noexcept nogil:
    """The epoch's steps; returns the summed loss met before each step."""
    # the rule's numbers in locals: the compiler keeps them in registers across the
    # stores to the weights (and may group their products)
    cdef int schedule = E.rule.schedule
    cdef double eta0 = E.rule.eta, power_t = E.rule.power_t, alpha = E.rule.alpha
    cdef double t0 = E.rule.t0, lam1 = E.rule.lam1, lam2 = E.rule.lam2
    cdef double intercept_decay = E.rule.intercept_decay
    cdef bint fit_intercept = E.rule.fit_intercept
    cdef OptimizerRule opt = E.rule.optimizer
    cdef Py_ssize_t n_models = E.targets.n_models, n_features = E.X.n_features
    cdef Py_ssize_t start = 0, m, k, j, s, n_support = 0
    cdef double total = 0.0, eta, factor, d
    cdef int64_t stamp
    cdef int threads
    cdef Py_ssize_t blocks
    cdef bint sparse = E.X.sparse
    cdef LazyClock clock
    cdef double[:, ::1] scratch = work.scratch_view
    cdef double[:, ::1] grad = work.grad_view
    cdef double[::1] grad_intercept = work.grad_intercept_view
    cdef double[:, ::1] snap = work.snap_view
    cdef Py_ssize_t* support = &work.support_view[0] if sparse else NULL
    start_clock(&clock)
    while start < E.n_order:
        m = min(E.batch_size, E.n_order - start)
        # a parallel region per batch pays off only for large batches: a block per
        # min_parallel_rows rows
        blocks = row_blocks(m, E.min_parallel_rows, scratch.shape[0])
        threads = <int>min(E.n_threads, blocks)
        if sparse:
            stamp = <int64_t>clock.step + 1
            if E.X.wide_indices:
                n_support = batch_support(
                    <const int64_t*>E.X.indices, <const int64_t*>E.X.indptr, E.X.n_rows,
                    E.order + start, m, stamp, work.mark_view, support)
            else:
                n_support = batch_support(
                    <const int32_t*>E.X.indices, <const int32_t*>E.X.indptr, E.X.n_rows,
                    E.order + start, m, stamp, work.mark_view, support)
            catch_up_columns(coef, n_models, n_features, &clock, snap, support,
                             n_support, &opt, E.opt_state, E.n_slots, lam1, lam2)
            clear_support(scratch, blocks, n_models, n_features, support, n_support)
        else:
            clear_buffers(scratch, blocks)
        total += gradient_rows(f, &E.X, &E.targets, E.order + start, m, coef,
                               intercept, scratch, blocks, threads)
        eta = scheduled_eta(schedule, eta0, power_t, alpha, t0, t[0])
        advance_clock(&clock, eta, lam1, lam2)
        if sparse:
            reduce_buffers(scratch, blocks, grad, grad_intercept, support, n_support)
            for s in range(n_support):
                j = support[s]
                for k in range(n_models):
                    coef[k * n_features + j] = step_coordinate(
                        coef[k * n_features + j], grad[k, j] / m, eta, &opt,
                        coordinate_state(E.opt_state, E.n_slots, n_features, k, j),
                        lam1, lam2)
                take_snapshot(snap, j, &clock)
        else:
            reduce_buffers(scratch, blocks, grad, grad_intercept)
            for k in range(n_models):
                for j in range(n_features):
                    coef[k * n_features + j] = step_coordinate(
                        coef[k * n_features + j], grad[k, j] / m, eta, &opt,
                        coordinate_state(E.opt_state, E.n_slots, n_features, k, j),
                        lam1, lam2)
        if fit_intercept:
            for k in range(n_models):
                factor = 1.0
                d = grad_intercept[k] / m
                if opt.kind != Optimizer.PLAIN:
                    d = optimizer_direction(
                        &opt, d, coordinate_state(E.opt_state, E.n_slots, n_features,
                                                  k, n_features), &factor)
                intercept[k] -= eta * factor * d * intercept_decay
        if sparse and clock.product > MAX_PRODUCT:
            catch_up_columns(coef, n_models, n_features, &clock, snap, NULL,
                             n_features, &opt, E.opt_state, E.n_slots, lam1, lam2)
            rebase_clock(&clock, snap)
        t[0] += 1.0
        start += m
    if sparse:
        catch_up_columns(coef, n_models, n_features, &clock, snap, NULL, n_features,
                         &opt, E.opt_state, E.n_slots, lam1, lam2)
    return total


# --------------------------------------------------------------------- Python side

cdef class Workspace:
    """Scratch of ``gradient`` and ``minibatch_epoch`` for one problem, sized and
    allocated here: a buffer per block of rows, the summed gradient, and on CSR input the
    lazy updates' snapshots and the batch's columns.

    Parameters
    ----------
    loss : LossFunction
        The loss (the softmax needs room for the logits).
    X : Rows
    n_models : int
    n_threads : int
    min_parallel_rows : int
        The rows of a block (``row_blocks``): batches of fewer rows are one block,
        summed by one thread (a parallel region per step costs more than it saves
        on a few rows).
    """

    def __init__(self, loss, Rows X, Py_ssize_t n_models, int n_threads, *,
                 Py_ssize_t min_parallel_rows):
        if n_threads < 1:
            raise ValueError(f"n_threads must be >= 1; got {n_threads}")
        self.n_models = n_models
        self.n_features = X.n_features
        self.n_threads = n_threads
        self.min_parallel_rows = min_parallel_rows
        self.sparse = X.sparse
        self.softmax = isinstance(loss, Softmax)
        self.dtype = X.dtype
        # per block of rows: the gradient, the softmax's logits, the block's summed
        # loss; as many blocks as a fixed budget of memory holds (MAX_BLOCKS at most)
        width = n_models * (X.n_features + 1) + (n_models if self.softmax else 0) + 1
        n_blocks = max(1, min(MAX_BLOCKS, BLOCK_BUFFER_BYTES // (8 * width)))
        self.scratch = np.empty((n_blocks, width))
        self.grad = np.empty((n_models, X.n_features))
        self.grad_intercept = np.empty(n_models)
        self.intercept = np.empty(n_models)
        self.scratch_view = self.scratch
        self.grad_view = self.grad
        self.grad_intercept_view = self.grad_intercept
        self.intercept_view = self.intercept
        n_lazy = X.n_features if X.sparse else 1
        self.snap_view = np.empty((N_SNAP, n_lazy))
        self.mark_view = np.empty(n_lazy, np.int64)
        self.support_view = np.empty(n_lazy, np.intp)


cdef check_problem(Rows X, Targets targets, floating[:, ::1] coef, Workspace work,
                   loss, intercept=None, rows=None):
    """Raise unless X, the targets, the weights and the workspace fit together."""
    check_model(X, targets, coef, intercept, rows)
    if isinstance(loss, Softmax) and targets.view.n_models != targets.view.n_classes:
        raise ValueError("the softmax trains one model row per class")
    if (work.n_models != coef.shape[0] or work.n_features != X.view.n_features
            or work.sparse != X.view.sparse or work.dtype != X.dtype
            or work.softmax != isinstance(loss, Softmax)):
        raise ValueError("work was made for another problem: make a Workspace for this "
                         "loss, X and number of models")


def gradient(AnyLoss loss, Rows X, Targets targets, rows, floating[:, ::1] coef,
             const double[::1] intercept, Workspace work):
    """Summed weighted loss and its gradient over rows of X, for every model row.

    Parameters
    ----------
    loss : LossFunction
    X : Rows
    targets : Targets
    rows : ndarray of int32 or None
        The rows to sum over; None for all of them.
    coef : ndarray of shape (n_models, n_features), X's dtype
    intercept : ndarray of float64, shape (n_models,)
    work : Workspace

    Returns
    -------
    loss : float
        ``sum_i s_i * loss_i`` over the rows and models.  The gradient is left in
        ``work.grad`` (``sum_i s_i * dloss_i * x_i``, shape (n_models, n_features)) and
        ``work.grad_intercept`` (``sum_i s_i * dloss_i``).
    """
    check_problem(X, targets, coef, work, loss, intercept, rows)
    cdef const int32_t[::1] subset = rows if rows is not None else None
    cdef Py_ssize_t n_rows = subset.shape[0] if rows is not None else X.view.n_rows
    cdef const int32_t* subset_first = (&subset[0] if rows is not None and n_rows
                                        else NULL)
    cdef const floating* coef_first = &coef[0, 0] if coef.size else NULL
    cdef const double* intercept_first = &intercept[0] if intercept.size else NULL
    cdef double total
    cdef Py_ssize_t n_blocks = row_blocks(n_rows, work.min_parallel_rows,
                                          work.scratch_view.shape[0])
    cdef int n_threads = <int>min(work.n_threads, n_blocks)
    with nogil:
        clear_buffers(work.scratch_view, n_blocks)
        total = gradient_rows(loss, &X.view, &targets.view, subset_first, n_rows,
                              coef_first, intercept_first, work.scratch_view,
                              n_blocks, n_threads)
        reduce_buffers(work.scratch_view, n_blocks, work.grad_view,
                       work.grad_intercept_view)
    return total


def hessian_diagonal(ScalarLoss loss, Rows X, Targets targets, rows,
                     floating[:, ::1] coef, const double[::1] intercept, Workspace work,
                     Workspace gradient_work=None, bint unit_curvature=False):
    """The diagonal of the summed weighted loss's Hessian over rows of X, for every
    model row, summed as ``gradient`` sums (blocks of rows added in block order: the
    same bits at every thread count); with ``gradient_work``, ``gradient``'s sums
    too, from the same read of each row.

    Parameters
    ----------
    loss : LossFunction
        A loss of one prediction (not the softmax).
    X, targets, rows, coef, intercept, work
        As in ``gradient``.
    gradient_work : Workspace or None, default=None
        Made as ``work`` is: where the loss's gradient is left (as ``gradient``
        leaves it in its workspace).
    unit_curvature : bool, default=False
        Take every second derivative as 1: the weighted second moments of the
        columns, ``sum_i s_i * x_ij^2`` (and ``sum_i s_i``), which do not depend on
        the model.

    Returns
    -------
    loss : float
        ``gradient``'s summed loss with ``gradient_work``; 0 without.

    Notes
    -----
    The diagonal is left in ``work.grad`` (``sum_i s_i * loss''_i * x_ij^2``, shape
    (n_models, n_features)) and ``work.grad_intercept`` (``sum_i s_i * loss''_i``):
    the parts of the Hessian of ``sum_i s_i * loss(x_i . w + b)`` that multiply the
    weights' and the intercept's squares.
    """
    check_problem(X, targets, coef, work, loss, intercept, rows)
    cdef bint with_gradient = gradient_work is not None
    if with_gradient:
        check_problem(X, targets, coef, gradient_work, loss, intercept, rows)
        if gradient_work.scratch_view.shape[0] != work.scratch_view.shape[0]:
            raise ValueError("gradient_work must be made as work is")
    cdef double[:, ::1] gradient_scratch = (gradient_work.scratch_view if with_gradient
                                            else work.scratch_view)
    cdef const int32_t[::1] subset = rows if rows is not None else None
    cdef Py_ssize_t n_rows = subset.shape[0] if rows is not None else X.view.n_rows
    cdef const int32_t* subset_first = (&subset[0] if rows is not None and n_rows
                                        else NULL)
    cdef const floating* coef_first = &coef[0, 0] if coef.size else NULL
    cdef const double* intercept_first = &intercept[0] if intercept.size else NULL
    cdef Py_ssize_t n_blocks = row_blocks(n_rows, work.min_parallel_rows,
                                          work.scratch_view.shape[0])
    cdef int n_threads = <int>min(work.n_threads, n_blocks)
    cdef double total
    with nogil:
        clear_buffers(work.scratch_view, n_blocks)
        if with_gradient:
            clear_buffers(gradient_scratch, n_blocks)
        total = diagonal_rows(loss, &X.view, &targets.view, subset_first, n_rows,
                              coef_first, intercept_first, work.scratch_view,
                              gradient_scratch, with_gradient, unit_curvature,
                              n_blocks, n_threads)
        reduce_buffers(work.scratch_view, n_blocks, work.grad_view,
                       work.grad_intercept_view)
    if with_gradient:
        with nogil:
            reduce_buffers(gradient_scratch, n_blocks, gradient_work.grad_view,
                           gradient_work.grad_intercept_view)
    return total


def minibatch_epoch(AnyLoss loss, Rows X, Targets targets, StepRule rule, double eta,
                    VisitingOrder order, Py_ssize_t batch_size, floating[:, ::1] coef,
                    model, Workspace work):
    """One epoch of mini-batch proximal SGD over ``order``, in batches of
    ``batch_size`` consecutive entries (the last one may be smaller).

    Each step: the mean gradient of the batch (parallel over its rows when it is
    large), then ``w <- prox_{eta R}(w - eta * d)`` for every weight, with ``d`` the
    optimizer's direction (the exact elastic-net prox with the coordinate's step) and
    ``b <- b - eta * d_b * intercept_decay``.  On CSR input a step updates only the
    columns stored in its batch's rows; the prox steps the others miss are applied in
    closed form when they are next touched (``_batch_lazy.pxd``).

    Parameters
    ----------
    loss : LossFunction
        The softmax trains the model rows jointly (hard or soft labels).
    X, targets, rule
        As in ``gradient``; ``rule`` has no PA schedule (a per-sample rule).
    eta : float
        The step size of this epoch (FIXED schedules).
    order : VisitingOrder
    batch_size : int
    coef : ndarray of shape (n_models, n_features), X's dtype
        Updated in place.
    model : namespace of ndarrays
        ``scalars`` (``MODEL_SCALARS``: the step counter and intercept are updated)
        and ``optimizer_state`` (``new_optimizer_state``), updated in place.
    work : Workspace

    Returns
    -------
    loss : float
        Sum over the epoch of the weighted losses met before each step.
    """
    check_problem(X, targets, coef, work, loss)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if order.n_rows != X.view.n_rows:
        raise ValueError("order must be over the rows of X")
    cdef Py_ssize_t k, n_models = coef.shape[0], n_features = coef.shape[1]
    cdef ModelScalars[::1] scalars = model.scalars
    cdef double[:, :, ::1] opt_state = model.optimizer_state
    cdef const int32_t[::1] visit = order.order
    if (scalars.shape[0] != n_models or opt_state.shape[0] != n_models
            or opt_state.shape[1] != n_features + 1
            or opt_state.shape[2] != rule.n_optimizer_slots):
        raise ValueError("the model arrays do not fit: see new_optimizer_state")
    cdef MiniBatchEpoch E
    E.X = X.view
    E.targets = targets.view
    E.rule = rule.view
    E.rule.eta = eta
    E.order = &visit[0] if visit.shape[0] else NULL
    E.n_order = visit.shape[0]
    E.batch_size = batch_size
    E.n_threads = work.n_threads
    E.min_parallel_rows = work.min_parallel_rows
    E.opt_state = &opt_state[0, 0, 0] if opt_state.size else NULL
    E.n_slots = opt_state.shape[2]
    cdef double t = scalars[0].t if n_models else 1.0, total
    cdef double[::1] intercept = work.intercept_view
    for k in range(n_models):
        intercept[k] = scalars[k].intercept
    cdef floating* coef_first = &coef[0, 0] if coef.size else NULL
    cdef double* intercept_first = &intercept[0] if n_models else NULL
    with nogil:
        clear_snapshots(work.snap_view)
        work.mark_view[:] = 0
        total = minibatch_rows(loss, &E, coef_first, intercept_first, &t, work)
    for k in range(n_models):
        scalars[k].intercept = intercept[k]
        scalars[k].t = t
    return total


def new_optimizer_state(Py_ssize_t n_models, Py_ssize_t n_features, StepRule rule):
    """The optimizer's state of every coordinate (weights, then the intercept), zeroed:
    shape (n_models, n_features + 1, slots), no slots for plain SGD."""
    return np.zeros((n_models, n_features + 1, rule.n_optimizer_slots))
