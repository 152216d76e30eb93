# cython: language_level=3
"""Per-sample SGD: one epoch over the rows of X in a given order.

Design
------
* ``sgd_epoch`` trains every model row of ``coef`` (regression / binary: one row;
  one-vs-rest: one row per class) over one epoch; the rows are independent and run in
  parallel (``prange`` over models, ``n_threads`` threads).  The caller runs the epoch
  loop (stopping rules, verbose output, divergence checks); the kernel releases the GIL
  for the whole epoch.
* One model trains on one thread, whatever ``n_jobs``: its model is the same at every
  thread count (per-sample SGD is a sequence of steps; threads go to the models of
  one-vs-rest, the shuffle, mini-batch and full-batch gradients, and prediction).
  Parallel schemes for one model were measured and dropped because the model got worse
  with the thread count (``benchmarks/replicas.py`` simulates them exactly with the
  one-thread kernel on slices; 16 replicas, 5 epochs, defaults; on its problems:
  sparse 400k x 50k log loss accuracy, mean of 3 seeds, one thread 0.895; dense
  500k x 100 L2-logistic objective gap, one thread 2.2e-2, ``average=True`` 7.3e-2):
  - averaged replicas, mixed every 8192 rows per replica (Zinkevich et al. 2010, the
    old scheme): sparse 0.852, dense gap 0.42, averaged 3.8.  Each replica's step
    counter advances 1/16 as fast, so its steps stay 16 times larger and the early,
    large steps are forgotten 16 times more slowly;
  - mixed every 128 rows per replica: sparse 0.850, dense 0.27, averaged 0.89; with
    the counter at 1/4 speed sparse 0.874 but dense 2.5; and on the sparse rows the
    mix would touch 16 x 50,000 weights every 2,048 rows (some 108,000 stored
    values);
  - step counter of the whole round (Stich 2019): sparse 0.869, dense 20;
  - adding the replicas' updates (CoCoA+, Smith et al. 2018): sparse 0.565, dense 9.2
    (every replica makes the same move along the well-conditioned directions);
  - per-feature means over the replicas that saw the feature: sparse 0.856.
  Even 2 replicas lose averaged SGD's gap (sparse 0.902, dense 2.6e-2, averaged
  0.21 against 7.3e-2).
  Hogwild! (Niu et al. 2011) changes the model from run to run, and measured slower
  than replicas on 2 threads (``benchmarks/hogwild``).
* The loss is a compile-time choice: ``sgd_epoch`` is specialised by the type of its
  ``loss`` argument (``ScalarLoss``, see ``_losses.pxd``), which Cython dispatches once
  per call; the element types of X (``floating``) and of CSR indices (``index_t``)
  likewise.
* Each step is a gradient step followed by the proximal step of the penalty
  ``lam1 |w|_1 + lam2 / 2 |w|^2`` (``_sgd_step.pxd``):
  - L2: the exact prox, ``w <- w / (1 + eta lam2)``, kept as a scalar with the
    weight-scale trick ``w = C * v`` (Bottou 2012, "SGD tricks");
  - L1: the cumulative-penalty soft-threshold of Tsuruoka et al. (2009): a positive
    weight is cut to ``max(0, v - (U + q[j]))`` (negative: mirrored).  The penalty that
    clipping at zero could not apply is kept, so weights that gradient noise pushes
    around zero stay exactly zero.  L2 shrinks the pending penalty with the weights.
* Dense rows touch every weight anyway: the penalty is applied eagerly, every step.
* Sparse rows: work per sample is proportional to its non-zeros.  A weight that no row
  touches only receives penalty, so it is brought up to date in closed form when a row
  touches it ("just in time"), averaged SGD included.  At the end of a window
  (``Workspace.window`` steps, when ``C`` gets small, and at the end of the epoch)
  every weight is brought up to date and ``C`` folded back into ``v``: O(n_features)
  per window.  Dense and CSR input therefore give the same model, to rounding.
* Memory: a shuffled epoch is bound by reading rows of X at random.  The kernels
  prefetch each row (a dense row into L2, see ``fg_prefetch_l2``; a sparse row, its
  target and weight into L1) a few steps ahead, and with a windowed shuffle
  (``_shuffle.windowed_shuffle``) they also read ahead along its ``stream``, so X is
  read almost sequentially, one working set of rows ahead.
* Input check: a row holding NaN or infinity gives a non-finite margin (a dot product
  with a non-finite term is never finite); the epoch then reports its loss as NaN and
  the caller names the bad input.  X is thus checked by the epoch that reads it, not by
  a separate pass over X.
* The kernels assume the validated structs of ``_structs.pxd`` and write into arrays
  the caller owns; ``sgd_epoch`` checks that the arrays fit together, and this module
  sizes and allocates its own scratch (``Workspace``).
"""

from cython.parallel cimport prange
from cython cimport floating
from libc.math cimport isfinite, NAN
from libc.stdint cimport int32_t, int64_t

from fastgd._kernels._enums cimport Schedule
from fastgd._kernels._losses cimport ScalarLoss
from fastgd._kernels._thread_private cimport copy_back_and_free, line_aligned_copy
from fastgd._kernels._rows cimport csr_range, dense_row, index_t
from fastgd._kernels._schedules cimport EtaBlock, blocked_eta, start_eta_block
from fastgd._kernels._sgd_step cimport (
    Lazy, bring_up_to_date, close_window, fold_scale, open_lazy, update_coefficient,
)
from fastgd._kernels._shuffle cimport VisitingOrder
from fastgd._kernels._simd cimport (
    fg_prefetch, fg_prefetch_l2, vacc_scaled, vaxpy, vaxpy_dot,
    vcumulative_l1, vdot,
)
from fastgd._kernels._structs cimport (
    ModelScalars, Rows, RowsView, StepRule, StepRuleView, Targets, TargetsView,
)
from fastgd._kernels._targets cimport prefetch_target, sample_target, sample_weight_of

import numpy as np

from fastgd._kernels._structs import MODEL_SCALARS, check_model

cdef double MIN_SCALE = 1e-9
# rows ahead whose cache lines are requested while the current row is processed
cdef Py_ssize_t PREFETCH_ROWS = 5

# Steps between two full catch-ups of the lazy sparse updates: at least this many, and
# at least n_features so that the O(n_features) catch-up costs O(1) per step.
MIN_LAZY_WINDOW = 1024


cdef inline void store_scalars(ModelScalars* out, double t, double b, double avg_count,
                               double avg_b, double sum_loss, bint finite_margins,
                               double U) noexcept nogil:
    out.t = t
    out.intercept = b
    out.avg_count = avg_count
    out.avg_intercept_sum = avg_b
    out.sum_loss = sum_loss if finite_margins else NAN
    out.l1_total = U


# -------------------------------------------------------------------------- dense

cdef void epoch_dense(ScalarLoss f, const Pass* P, Py_ssize_t first, Py_ssize_t last,
                      floating* v, ModelSlot* m) noexcept nogil:
    """One model over dense rows ``order[first:last]``.  Without L1, averaging or PA
    steps (the common case) each row's update is fused with the next row's dot
    product (one pass over v)."""
    cdef const RowsView* X = &P.X
    cdef const StepRuleView* h = &P.rule
    cdef const floating* values = <const floating*>X.values
    cdef const floating* y = <const floating*>P.targets.y
    cdef const floating* sample_weight = <const floating*>P.targets.sample_weight
    cdef const int32_t* order = P.order
    cdef Py_ssize_t n_features = X.n_features, s, i, i_ahead
    cdef Py_ssize_t row_bytes = n_features * sizeof(floating)
    cdef const floating* x
    cdef const floating* x_next
    cdef double C = 1.0, C_inv = 1.0, t = m.scalars.t, b = m.scalars.intercept
    cdef double avg_count = m.scalars.avg_count, avg_b = m.scalars.avg_intercept_sum
    cdef double U = m.scalars.l1_total
    cdef double sum_loss = 0.0, sq_norm = 0.0, p, target, weight, eta, coef, shrink
    cdef double step_loss, dot = 0.0
    cdef bint finite_margins = True
    cdef EtaBlock etas
    cdef bint pa = h.schedule == Schedule.PA1 or h.schedule == Schedule.PA2
    cdef bint l1 = h.lam1 > 0.0
    cdef bint averaging = h.average_start > 0
    cdef bint fused = not (pa or l1 or averaging)

    start_eta_block(&etas)
    if fused and first < last:
        dot = vdot(v, dense_row(X, values, order[first]), n_features)
    for s in range(first, last):
        i = order[s]
        x = dense_row(X, values, i)
        if s + PREFETCH_ROWS < last:
            fg_prefetch_l2(dense_row(X, values, order[s + PREFETCH_ROWS]), row_bytes)
        if s + 3 * PREFETCH_ROWS < last:
            # far ahead: the row's target and weight, and one line of the row to start
            # its page walk early
            i_ahead = order[s + 3 * PREFETCH_ROWS]
            fg_prefetch(dense_row(X, values, i_ahead), 1)
            prefetch_target(&P.targets, y, sample_weight, i_ahead, m.pos_class)
        if P.stream != NULL and s + P.stream_ahead < last:
            # read-ahead of a windowed shuffle: X in nearly sequential order
            fg_prefetch_l2(dense_row(X, values, P.stream[s + P.stream_ahead]),
                           row_bytes)
        target = sample_target(&P.targets, y, i, m.pos_class)
        weight = sample_weight_of(sample_weight, i, target, m.w_pos, P.targets.w_neg)
        if not fused:
            dot = vdot(v, x, n_features)
        p = C * dot + b
        if not isfinite(p):
            finite_margins = False
        if pa:
            sq_norm = vdot(x, x, n_features)
        eta = blocked_eta(&etas, h.schedule, h.eta, h.power_t, h.alpha, h.t0, t)
        coef = weight * update_coefficient(f, h, p, target, eta, sq_norm, &step_loss)
        sum_loss += weight * step_loss
        if fused:
            # update with this row, dot product with the next one (or nothing)
            x_next = dense_row(X, values, order[s + 1]) if s + 1 < last else x
            if coef != 0.0:
                dot = vaxpy_dot(<floating>(coef * C_inv), x, v, x_next, n_features)
            elif s + 1 < last:
                dot = vdot(v, x_next, n_features)
        elif coef != 0.0:
            vaxpy(<floating>(coef * C_inv), x, v, n_features)
        if h.fit_intercept:
            b += (coef - eta * h.intercept_drift) * h.intercept_decay
        if l1:
            U += eta * h.lam1 * C_inv
            vcumulative_l1(v, m.q, U, n_features)
        shrink = 1.0 + eta * h.lam2
        C /= shrink
        C_inv *= shrink
        if averaging and t >= h.average_start:
            avg_count += 1.0
            avg_b += b
            vacc_scaled(C, v, m.avg_sum, n_features)
        if C < MIN_SCALE:
            fold_scale(C, v, m.q, &U, n_features, l1)
            dot *= C
            C = 1.0
            C_inv = 1.0
        t += 1.0

    fold_scale(C, v, m.q, &U, n_features, l1)
    store_scalars(m.scalars, t, b, avg_count, avg_b, sum_loss, finite_margins, U)


# ------------------------------------------------------------------------- sparse

cdef void epoch_sparse(ScalarLoss f, const Pass* P, const index_t* indices,
                       const index_t* indptr, Py_ssize_t first, Py_ssize_t last,
                       floating* v, ModelSlot* m) noexcept nogil:
    """One model over CSR rows ``order[first:last]``, lazily (work per row
    proportional to its non-zeros)."""
    cdef const StepRuleView* h = &P.rule
    cdef const floating* data = <const floating*>P.X.values
    cdef const floating* y = <const floating*>P.targets.y
    cdef const floating* sample_weight = <const floating*>P.targets.sample_weight
    cdef const int32_t* order = P.order
    cdef Py_ssize_t n_rows = P.X.n_rows, n_features = P.X.n_features
    cdef Py_ssize_t s, i, j, jj, start, end, i_ahead
    cdef double t = m.scalars.t, b = m.scalars.intercept
    cdef double avg_count = m.scalars.avg_count, avg_b = m.scalars.avg_intercept_sum
    cdef double sum_loss = 0.0, dot, sq_norm = 0.0, p, target, weight, eta, coef, avg
    cdef double step_loss
    cdef bint finite_margins = True
    cdef EtaBlock etas
    cdef floating step_v
    cdef bint pa = h.schedule == Schedule.PA1 or h.schedule == Schedule.PA2
    cdef Lazy z
    open_lazy(&z, m.hist, P.window, m.last, m.q, h.lam1 > 0.0, h.average_start > 0)
    cdef bint lazy = z.l1 or z.avg

    start_eta_block(&etas)
    z.U = m.scalars.l1_total
    close_window(&z, v, m.avg_sum, 0)  # start the first window
    for s in range(first, last):
        i = order[s]
        # two stages: the row bounds far ahead, then the row itself
        if s + 2 * PREFETCH_ROWS < last:
            fg_prefetch(&indptr[order[s + 2 * PREFETCH_ROWS]], 2 * sizeof(index_t))
        if s + PREFETCH_ROWS < last:
            i_ahead = order[s + PREFETCH_ROWS]
            csr_range(indptr, i_ahead, n_rows, &start, &end)
            fg_prefetch(data + start, (end - start) * sizeof(floating))
            fg_prefetch(indices + start, (end - start) * sizeof(index_t))
            prefetch_target(&P.targets, y, sample_weight, i_ahead, m.pos_class)
        if P.stream != NULL and s + P.stream_ahead + 2 * PREFETCH_ROWS < last:
            # the row bounds of the read-ahead, a few steps before they are read
            fg_prefetch(&indptr[P.stream[s + P.stream_ahead + 2 * PREFETCH_ROWS]],
                        2 * sizeof(index_t))
        if P.stream != NULL and s + P.stream_ahead < last:
            # read-ahead of a windowed shuffle: X in nearly sequential order
            csr_range(indptr, P.stream[s + P.stream_ahead], n_rows, &start, &end)
            fg_prefetch_l2(data + start, (end - start) * sizeof(floating))
            fg_prefetch_l2(indices + start, (end - start) * sizeof(index_t))
        csr_range(indptr, i, n_rows, &start, &end)
        target = sample_target(&P.targets, y, i, m.pos_class)
        weight = sample_weight_of(sample_weight, i, target, m.w_pos, P.targets.w_neg)
        if lazy:
            for jj in range(start, end):
                bring_up_to_date(&z, v, m.avg_sum, indices[jj])
        dot = 0.0
        for jj in range(start, end):
            dot = dot + v[indices[jj]] * data[jj]
        p = z.C * dot + b
        if not isfinite(p):
            finite_margins = False
        if pa:
            sq_norm = 0.0
            for jj in range(start, end):
                sq_norm = sq_norm + data[jj] * data[jj]
        eta = blocked_eta(&etas, h.schedule, h.eta, h.power_t, h.alpha, h.t0, t)
        coef = weight * update_coefficient(f, h, p, target, eta, sq_norm, &step_loss)
        sum_loss += weight * step_loss
        if coef != 0.0:
            step_v = <floating>(coef / z.C)
            for jj in range(start, end):
                j = indices[jj]
                v[j] = v[j] + step_v * data[jj]
        if h.fit_intercept:
            b += (coef - eta * h.intercept_drift) * h.intercept_decay

        z.U += eta * h.lam1 / z.C
        z.C /= 1.0 + eta * h.lam2
        avg = 1.0 if (h.average_start > 0 and t >= h.average_start) else 0.0
        if avg != 0.0:
            avg_count += 1.0
            avg_b += b
        if lazy:
            z.hU[z.k + 1] = z.U
            z.hC[z.k + 1] = z.hC[z.k] + avg * z.C
            z.hCU[z.k + 1] = z.hCU[z.k] + avg * z.C * z.U
            z.k += 1
        if z.C < MIN_SCALE or z.k == P.window:
            close_window(&z, v, m.avg_sum, n_features)
        t += 1.0

    close_window(&z, v, m.avg_sum, n_features)
    store_scalars(m.scalars, t, b, avg_count, avg_b, sum_loss, finite_margins, z.U)


cdef inline void epoch_one_model(ScalarLoss f, const Pass* P, Py_ssize_t first,
                                 Py_ssize_t last, floating* v,
                                 ModelSlot* m) noexcept nogil:
    if not P.X.sparse:
        epoch_dense(f, P, first, last, v, m)
    elif P.X.wide_indices:
        epoch_sparse(f, P, <const int64_t*>P.X.indices, <const int64_t*>P.X.indptr,
                     first, last, v, m)
    else:
        epoch_sparse(f, P, <const int32_t*>P.X.indices, <const int32_t*>P.X.indptr,
                     first, last, v, m)


# ------------------------------------------------------------------------ drivers

cdef void train_models(ScalarLoss f, const Pass* P, floating* coef, const Bank* bank,
                       Py_ssize_t n_models, Py_ssize_t first, Py_ssize_t last,
                       int n_threads) noexcept nogil:
    """Models 0 .. n_models - 1 of ``coef`` and ``bank`` over ``order[first:last]``, in
    parallel, each from its own start (``P.starts``)."""
    cdef Py_ssize_t k, n_features = P.X.n_features
    cdef Py_ssize_t start, end, split, piece
    cdef double first_loss
    cdef bint rotated = P.starts != NULL
    # threads write neighbouring rows of coef (avg_sum, q) on every step; where two
    # rows share a cache line it would move between cores every step, so each thread
    # trains on a copy on lines of its own
    cdef bint own_lines = n_threads > 1 and n_models > 1
    cdef floating* v
    cdef void* v_raw
    cdef void* avg_raw
    cdef void* q_raw
    cdef ModelSlot m
    for k in prange(n_models, schedule="static", num_threads=n_threads):
        m = slot_of(bank, k, &P.targets, k)
        v = coef + k * n_features
        v_raw = NULL
        avg_raw = NULL
        q_raw = NULL
        if own_lines:
            v = <floating*>line_aligned_copy(v, n_features * sizeof(floating), &v_raw)
            m.avg_sum = <double*>line_aligned_copy(
                m.avg_sum, bank.avg_width * sizeof(double), &avg_raw)
            m.q = <double*>line_aligned_copy(m.q, bank.q_width * sizeof(double), &q_raw)
        # model k visits order[split:last] then order[first:split]
        start = first
        end = last
        split = first + (P.starts[k] if rotated else 0)
        first_loss = 0.0
        for piece in range(2):
            if piece == 1:
                if split == start:
                    break
                first_loss = m.scalars.sum_loss
                end = split
                split = start
            epoch_one_model(f, P, split, end, v, &m)
        m.scalars.sum_loss += first_loss
        copy_back_and_free(coef + k * n_features, v, v_raw,
                           n_features * sizeof(floating))
        copy_back_and_free(row_of(bank.avg_sum, bank.avg_width, k), m.avg_sum, avg_raw,
                           bank.avg_width * sizeof(double))
        copy_back_and_free(row_of(bank.q, bank.q_width, k), m.q, q_raw,
                           bank.q_width * sizeof(double))


# --------------------------------------------------------------------- Python side

cdef class Workspace:
    """Scratch of ``sgd_epoch`` for one problem, sized and allocated here: the lazy
    updates' scratch of each model (sparse rows with L1 or averaging).

    Parameters
    ----------
    X : Rows
    n_models : int
        Model rows trained together.
    rule : StepRule
    n_threads : int
        Models train in parallel on up to ``n_threads`` threads; one model trains on
        one thread (see the design notes).
    """

    def __init__(self, Rows X, Py_ssize_t n_models, StepRule rule, int n_threads):
        if n_threads < 1:
            raise ValueError("n_threads must be >= 1")
        self.n_models = n_models
        self.n_features = X.n_features
        self.n_threads = n_threads
        self.sparse = X.sparse
        self.dtype = X.dtype
        self.lazy = X.sparse and (rule.averaging or rule.view.lam1 > 0.0)
        self.window = max(MIN_LAZY_WINDOW, X.n_features)
        self.last = np.zeros((n_models, X.n_features if self.lazy else 0), np.int32)
        self.hist = np.zeros((n_models, 3 * (self.window + 1) if self.lazy else 0))


def new_model_arrays(Py_ssize_t n_models, Py_ssize_t n_features, StepRule rule):
    """The float64 arrays per model row that ``sgd_epoch`` carries from epoch to epoch,
    zeroed, step counters at 1: a namespace of ``scalars`` (``MODEL_SCALARS``),
    ``avg_sum`` (averaged SGD) and ``l1_received`` (L1), each with ``n_models`` rows
    (the last two without columns when unused)."""
    from types import SimpleNamespace

    scalars = np.zeros(n_models, MODEL_SCALARS)
    scalars["t"] = 1.0
    return SimpleNamespace(
        scalars=scalars,
        avg_sum=np.zeros((n_models, n_features if rule.averaging else 0)),
        l1_received=np.zeros((n_models, n_features if rule.view.lam1 > 0.0 else 0)))


cdef Bank bank_of(model, Py_ssize_t n_models, Py_ssize_t n_features, StepRule rule,
                  last, hist) except *:
    """The bank over a model's arrays (checked against the rule) and the scratch."""
    cdef ModelScalars[::1] scalars = model.scalars
    cdef double[:, ::1] avg_sum = model.avg_sum
    cdef double[:, ::1] q = model.l1_received
    cdef int32_t[:, ::1] last_ = last
    cdef double[:, ::1] hist_ = hist
    cdef Bank bank
    if (scalars.shape[0] != n_models or avg_sum.shape[0] != n_models
            or q.shape[0] != n_models
            or avg_sum.shape[1] != (n_features if rule.averaging else 0)
            or q.shape[1] != (n_features if rule.view.lam1 > 0.0 else 0)):
        raise ValueError(f"the model arrays must have {n_models} rows, avg_sum and "
                         f"l1_received {n_features} columns when averaging / L1 is on "
                         f"(else none): see new_model_arrays")
    bank.scalars = &scalars[0] if n_models > 0 else NULL
    bank.avg_width = avg_sum.shape[1]
    bank.avg_sum = &avg_sum[0, 0] if avg_sum.size > 0 else NULL
    bank.q_width = q.shape[1]
    bank.q = &q[0, 0] if q.size > 0 else NULL
    bank.last_width = last_.shape[1]
    bank.last = &last_[0, 0] if last_.size > 0 else NULL
    bank.hist_width = hist_.shape[1]
    bank.hist = &hist_[0, 0] if hist_.size > 0 else NULL
    return bank


cdef const int32_t* first_of(const int32_t[::1] a) noexcept:
    return &a[0] if a.shape[0] > 0 else NULL


def sgd_epoch(ScalarLoss loss, Rows X, Targets targets, StepRule rule, double eta,
              VisitingOrder order, floating[:, ::1] coef, model, Workspace work):
    """Run one epoch of per-sample SGD for every model row of ``coef``.

    Parameters
    ----------
    loss : LossFunction
        A loss of one prediction (``_losses``); the kernel is specialised by its
        type.
    X : Rows
    targets : Targets
        With a model row per row of ``coef``.
    rule : StepRule
    eta : float
        The step size of this epoch (FIXED schedules; the others take ``rule``'s).
    order : VisitingOrder
        This epoch's rows, their read-ahead, and each model's start.
    coef : ndarray of shape (n_models, n_features), X's dtype
        Weights, updated in place.
    model : namespace of ndarrays
        The model's float64 arrays from ``new_model_arrays``, updated in place: the
        scalars (step counter, intercept, averages, the epoch's summed loss in
        ``sum_loss``: NaN when a row's margin was not finite), the averaged weights'
        running sum and the L1 penalty each weight received.
    work : Workspace
        Made for this X, number of models and rule.
    """
    cdef Py_ssize_t n_models = coef.shape[0], n_features = X.view.n_features
    check_model(X, targets, coef)
    if order.n_rows != X.view.n_rows:
        raise ValueError("order must be over the rows of X")
    if (work.n_models != n_models or work.n_features != n_features
            or work.sparse != X.view.sparse or work.dtype != X.dtype
            or work.lazy != (X.view.sparse and (rule.averaging or rule.view.lam1 > 0))):
        raise ValueError("work was made for another problem: make a Workspace for this "
                         "X, number of models and rule")
    cdef const int32_t[::1] visit = order.order
    cdef const int32_t[::1] stream = order.stream
    cdef const int64_t[::1] starts = order.model_starts
    if starts is not None and starts.shape[0] != n_models:
        raise ValueError(f"order has starts for {starts.shape[0]} models, not "
                         f"{n_models}")
    cdef Pass P
    P.X = X.view
    P.targets = targets.view
    P.rule = rule.view
    P.rule.eta = eta
    P.order = first_of(visit)
    P.n_order = visit.shape[0]
    P.stream = first_of(stream)
    P.stream_ahead = order.stream_ahead
    P.starts = &starts[0] if starts is not None and n_models > 0 else NULL
    P.window = work.window
    cdef Bank bank = bank_of(model, n_models, n_features, rule, work.last, work.hist)
    cdef floating* coef_first = &coef[0, 0] if n_models > 0 and n_features > 0 else NULL
    with nogil:
        train_models(loss, &P, coef_first, &bank, n_models, 0, P.n_order,
                     work.n_threads)
