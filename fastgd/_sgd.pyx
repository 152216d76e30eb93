# cython: language_level=3
"""Per-sample SGD: one epoch over the rows of X in a given order.

Design
------
* One call trains every model row of ``coef`` (regression / binary: one row; one-vs-rest:
  one row per class) over one epoch; the rows are independent and run in parallel
  (``prange`` over models, ``n_threads`` threads).  Python runs the epoch loop
  (stopping rules, verbose output, divergence checks); the kernel releases the GIL for
  the whole epoch.
* One model on several threads (``round_rows > 0``, ``epoch_rows``): each thread
  trains a copy of the model (on cache lines of its own) over its share of a round of
  rows, and the copies are averaged after every round (parameter mixing), all within
  one call.  Measured against shared lock-free (Hogwild!) updates with the same step,
  rows and prefetching (``benchmarks/hogwild``, sparse 400k x 50k, 2 threads, 5
  epochs): replicas 0.60-0.65 s, Hogwild 0.66-0.96 s, one thread 1.20 s.  Hogwild
  loses the cache lines of the frequent features to the other core on every row (and,
  on dense rows, every line of the model); it would also need the weight scale and the
  lazy-penalty totals shared, and gives a different model on every run.  Replicas are
  reproducible for a given number of threads.
* The loss is a compile-time choice (``LossTag`` fused type, see ``_losses.pxd``): the
  dispatch chain in ``sgd_epoch`` picks one specialised loop per call.
* Each step is a gradient step followed by the proximal step of the penalty
  ``lam1 |w|_1 + lam2 / 2 |w|^2``:
  - L2: the exact prox, ``w <- w / (1 + eta lam2)``, kept as a scalar with the
    weight-scale trick ``w = C * v`` (Bottou 2012, "SGD tricks");
  - L1: the cumulative-penalty soft-threshold of Tsuruoka et al. (2009): ``U`` is the
    total penalty a weight could have received, ``q[j]`` what weight ``j`` did receive,
    and a positive weight is cut to ``max(0, v - (U + q[j]))`` (negative: mirrored).
    The penalty that clipping at zero could not apply is kept, so weights that gradient
    noise pushes around zero stay exactly zero.  L2 shrinks the pending penalty with the
    weights (everything is stored in units of ``v``).
* Dense rows touch every weight anyway: the penalty is applied eagerly, every step.
* Sparse rows: work per sample is proportional to its non-zeros.  A weight that no row
  touches only receives penalty, so its path between touches is known in closed form
  (a soft-threshold by the growth of ``U``); it is brought up to date when a row touches
  it ("just in time").  Averaged SGD is lazy too: the sum of a weight's path between
  touches is read off prefix sums of ``C`` and ``C * U`` kept for a window of steps, the
  zero crossing found by binary search over ``U``.  At the end of a window (``window``
  steps, when ``C`` gets small, and at the end of the epoch) every weight is brought up
  to date and ``C`` folded back into ``v``: O(n_features) per window.  Dense and CSR
  input therefore give the same model, to rounding.
* Memory: a shuffled epoch is bound by reading rows of X at random.  The kernels
  prefetch each row (a dense row into L2, see ``fg_prefetch_l2``; a sparse row, its
  target and weight into L1) a few steps ahead, and with a windowed shuffle
  (``_shuffle.windowed_shuffle``) they also read ahead along ``stream``, the windows
  in the order they will be opened, so X is read almost sequentially, one working set
  of rows ahead.
* Input check: a row holding NaN or infinity gives a non-finite margin (a dot product
  with a non-finite term is never finite); the epoch then reports its loss as NaN and
  the caller names the bad input.  X is thus checked by the epoch that reads it, not by
  a separate pass over X.
* Kernels assume validated, C-contiguous input and write into caller-allocated
  arrays; all checks and allocations are in Python (``_estimators.py``).
"""

from cython.parallel cimport prange
from libc.math cimport fabs, isfinite, NAN
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from cython cimport floating
from libc.stdint cimport int32_t, int64_t

from fastgd._enums cimport Loss, Schedule, State
from fastgd._losses cimport (
    LossTag, SquaredErrorTag, HuberTag, EpsilonInsensitiveTag,
    SquaredEpsilonInsensitiveTag, LogLossTag, HingeTag, SquaredHingeTag,
    ModifiedHuberTag, PerceptronTag, loss, loss_and_dloss,
)
from fastgd._rows cimport index_t
from fastgd._schedules cimport EtaBlock, blocked_eta, start_eta_block
from fastgd._targets cimport sample_target, sample_weight_of
from fastgd._simd cimport (
    vdot, vaxpy, vaxpy_dot, vacc_scaled, vscale, vcumulative_l1, fg_prefetch,
    fg_prefetch_l2,
)



cdef double MIN_SCALE = 1e-9
cdef double MAX_DLOSS = 1e12
# rows ahead whose cache lines are requested while the current row is processed
cdef Py_ssize_t PREFETCH_ROWS = 5
cdef size_t CACHE_LINE = 64


ctypedef struct Hyper:
    double eps          # epsilon of huber / epsilon-insensitive losses
    int schedule        # Schedule
    double eta          # eta for FIXED; eta0 for INVSCALING and PA
    double power_t
    double alpha        # for OPTIMAL
    double t0           # OPTIMAL offset
    double lam1         # L1 strength
    double lam2         # L2 strength
    double average_start  # first step (1-based t) that is averaged; 0 = no averaging
    bint fit_intercept
    double intercept_decay
    double w_pos        # weight of target > 0 (class weight)
    double w_neg


cdef inline double update_coefficient(
    LossTag* tag, const Hyper* h, double p, double y, double eta, double sq_norm,
    double* loss_value,
) noexcept nogil:
    """Coefficient ``s`` of the gradient step ``w += s * x`` (before sample weights);
    the loss at ``p`` is written to ``loss_value``."""
    cdef double g, l
    if h.schedule == Schedule.PA1 or h.schedule == Schedule.PA2:
        l = loss(tag, p, y, h.eps)
        loss_value[0] = l
        if h.schedule == Schedule.PA1:
            if sq_norm == 0.0:
                return 0.0
            g = min(h.eta, l / sq_norm)
        else:
            g = l / (sq_norm + 0.5 / h.eta)
        # direction: towards y for classification, towards the target for regression
        if LossTag is not HingeTag:
            y = 1.0 if y - p >= 0.0 else -1.0
        return g * y
    # clip huge derivatives as scikit-learn does; a run that still overflows is
    # reported by the estimator after the epoch (non-finite weights or objective)
    loss_value[0] = loss_and_dloss(tag, p, y, h.eps, &g)
    if g > MAX_DLOSS:
        g = MAX_DLOSS
    elif g < -MAX_DLOSS:
        g = -MAX_DLOSS
    return -eta * g


cdef inline void target_and_weight(
    const Hyper* h, Py_ssize_t i, const floating[::1] y, const int32_t[::1] y_class,
    int pos_class, const floating[::1] sample_weight, double* target, double* weight,
) noexcept nogil:
    target[0] = sample_target(i, pos_class, y, y_class)
    weight[0] = sample_weight_of(i, target[0], h.w_pos, h.w_neg, sample_weight)


cdef inline double pending_l1(double v, double U, double q) noexcept nogil:
    """``v`` less the penalty still owed at ``U``: the start of its soft-threshold path."""
    if v > 0.0:
        v -= U + q
        return v if v > 0.0 else 0.0
    if v < 0.0:
        v += U - q
        return v if v < 0.0 else 0.0
    return 0.0


cdef inline void prefetch_target(
    Py_ssize_t i, const floating[::1] y, const int32_t[::1] y_class, int pos_class,
    const floating[::1] sample_weight,
) noexcept nogil:
    """Ask for the target and weight of row i (shuffled rows make them cache misses)."""
    if pos_class >= 0:
        fg_prefetch(&y_class[i], 1)
    else:
        fg_prefetch(&y[i], 1)
    if sample_weight.shape[0] > 0:
        fg_prefetch(&sample_weight[i], 1)


# --------------------------------------------------------------------------- dense

cdef void epoch_dense(
    LossTag* tag, const Hyper* h, const floating[:, ::1] X, const floating[::1] y,
    const int32_t[::1] y_class, int pos_class, const floating[::1] sample_weight,
    const int32_t[::1] order, const int32_t[::1] stream, Py_ssize_t stream_ahead,
    floating* v, double* avg_sum, double* q, double* state,
) noexcept nogil:
    """One epoch over dense rows.  Without L1, averaging or PA steps (the common case)
    each row's update is fused with the next row's dot product (one pass over v)."""
    cdef Py_ssize_t n_features = X.shape[1], s, i, j, i_ahead
    cdef const floating* x
    cdef const floating* x_next
    cdef double C = 1.0, C_inv = 1.0, t = state[<int>State.T]
    cdef double b = state[<int>State.INTERCEPT]
    cdef double avg_count = state[<int>State.AVG_COUNT]
    cdef double avg_b = state[<int>State.AVG_INTERCEPT_SUM]
    cdef double U = state[<int>State.L1_TOTAL]
    cdef double sum_loss = 0.0, sq_norm = 0.0, p, target, weight, eta, coef, shrink
    cdef double loss_value
    cdef bint finite_margins = True
    cdef EtaBlock etas
    cdef double dot = 0.0
    cdef bint pa = h.schedule == Schedule.PA1 or h.schedule == Schedule.PA2
    cdef bint l1 = h.lam1 > 0.0
    cdef bint averaging = h.average_start > 0
    cdef bint fused = not (pa or l1 or averaging)
    cdef Py_ssize_t n_rows = order.shape[0], row_bytes = n_features * sizeof(floating)

    start_eta_block(&etas)
    if fused and n_rows > 0:
        dot = vdot(v, &X[order[0], 0], n_features)
    for s in range(n_rows):
        i = order[s]
        x = &X[i, 0]
        if s + PREFETCH_ROWS < n_rows:
            i_ahead = order[s + PREFETCH_ROWS]
            fg_prefetch_l2(&X[i_ahead, 0], row_bytes)
        if s + 3 * PREFETCH_ROWS < n_rows:
            # far ahead: the row's target and weight, and one line of the row to start
            # its page walk early
            i_ahead = order[s + 3 * PREFETCH_ROWS]
            fg_prefetch(&X[i_ahead, 0], 1)
            prefetch_target(i_ahead, y, y_class, pos_class, sample_weight)
        if s + stream_ahead < stream.shape[0]:
            # read-ahead of a windowed shuffle: X in nearly sequential order
            fg_prefetch_l2(&X[stream[s + stream_ahead], 0], row_bytes)
        target_and_weight(h, i, y, y_class, pos_class, sample_weight, &target, &weight)
        if not fused:
            dot = vdot(v, x, n_features)
        p = C * dot + b
        if not isfinite(p):
            finite_margins = False
        if pa:
            sq_norm = vdot(x, x, n_features)
        eta = blocked_eta(&etas, h.schedule, h.eta, h.power_t, h.alpha, h.t0, t)
        coef = weight * update_coefficient(tag, h, p, target, eta, sq_norm, &loss_value)
        sum_loss += weight * loss_value
        if fused:
            # update with this row, dot product with the next one (or nothing)
            x_next = &X[order[s + 1], 0] if s + 1 < n_rows else x
            if coef != 0.0:
                dot = vaxpy_dot(<floating>(coef * C_inv), x, v, x_next, n_features)
            elif s + 1 < n_rows:
                dot = vdot(v, x_next, n_features)
        elif coef != 0.0:
            vaxpy(<floating>(coef * C_inv), x, v, n_features)
        if h.fit_intercept:
            b += coef * h.intercept_decay
        if l1:
            U += eta * h.lam1 * C_inv
            vcumulative_l1(v, q, U, n_features)
        shrink = 1.0 + eta * h.lam2
        C /= shrink
        C_inv *= shrink
        if averaging and t >= h.average_start:
            avg_count += 1.0
            avg_b += b
            vacc_scaled(C, v, avg_sum, n_features)
        if C < MIN_SCALE:
            fold_scale(C, v, q, &U, n_features, l1)
            dot *= C
            C = 1.0
            C_inv = 1.0
        t += 1.0

    fold_scale(C, v, q, &U, n_features, l1)
    state[<int>State.T] = t
    state[<int>State.INTERCEPT] = b
    state[<int>State.AVG_COUNT] = avg_count
    state[<int>State.AVG_INTERCEPT_SUM] = avg_b
    state[<int>State.SUM_LOSS] = sum_loss if finite_margins else NAN
    state[<int>State.L1_TOTAL] = U


cdef inline void fold_scale(double C, floating* v, double* q, double* U,
                            Py_ssize_t n_features, bint l1) noexcept nogil:
    """Express v (and the L1 bookkeeping) in units where C = 1."""
    cdef Py_ssize_t j
    vscale(C, v, n_features)
    if l1:
        U[0] *= C
        for j in range(n_features):
            q[j] *= C


# -------------------------------------------------------------------------- sparse

ctypedef struct Lazy:
    # window bookkeeping of the sparse kernel (see module docstring)
    double C            # weight scale, w = C * v
    double U            # cumulative L1 penalty, in units of v
    Py_ssize_t k        # steps taken in this window
    double* hU          # hU[m]: U after m steps of the window (m = 0..window)
    double* hC          # prefix sums of (averaged) C after each step
    double* hCU         # prefix sums of (averaged) C * U after each step
    int32_t* last       # window step at which each feature was brought up to date
    double* q           # L1 penalty received by each feature
    bint l1
    bint avg


cdef inline double lazy_average_sum(const Lazy* z, double v, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """Sum over steps a..b-1 of the averaged post-step weights of a feature whose path
    from step a on is ``S(v, U - U_a)`` (in units of v)."""
    cdef double av = fabs(v), Ua = z.hU[a], total
    cdef Py_ssize_t lo, hi, mid, m = b
    if av == 0.0:
        return 0.0
    if z.l1 and z.hU[b] - Ua >= av:
        # the weight reaches zero: find the last m in (a, b] with hU[m] - Ua < av
        lo = a          # hU[lo] - Ua = 0 < av
        hi = b          # hU[hi] - Ua >= av
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if z.hU[mid] - Ua < av:
                lo = mid
            else:
                hi = mid
        m = lo
    total = (av + Ua) * (z.hC[m] - z.hC[a]) - (z.hCU[m] - z.hCU[a])
    return total if v > 0.0 else -total


cdef inline void bring_up_to_date(Lazy* z, floating* v, double* avg_sum, Py_ssize_t j) noexcept nogil:
    cdef Py_ssize_t a = z.last[j], k = z.k
    if a == k:
        return
    if z.avg:
        if z.l1:
            avg_sum[j] += lazy_average_sum(z, pending_l1(v[j], z.hU[a], z.q[j]), a, k)
        else:
            avg_sum[j] += lazy_average_sum(z, v[j], a, k)
    if z.l1:
        vcumulative_l1(&v[j], &z.q[j], z.hU[k], 1)
    z.last[j] = <int32_t>k


cdef void close_window(Lazy* z, floating* v, double* avg_sum, Py_ssize_t n_features) noexcept nogil:
    """Bring every weight up to date, fold C into v and start a new window."""
    cdef Py_ssize_t j
    if z.l1 or z.avg:
        for j in range(n_features):
            bring_up_to_date(z, v, avg_sum, j)
            z.last[j] = 0
    fold_scale(z.C, v, z.q, &z.U, n_features, z.l1)
    z.C = 1.0
    z.k = 0
    if z.l1 or z.avg:
        z.hU[0] = z.U
        z.hC[0] = 0.0
        z.hCU[0] = 0.0


cdef void epoch_sparse(
    LossTag* tag, const Hyper* h, const floating[::1] data, const index_t[::1] indices,
    const index_t[::1] indptr, Py_ssize_t n_features, const floating[::1] y,
    const int32_t[::1] y_class, int pos_class, const floating[::1] sample_weight,
    const int32_t[::1] order, const int32_t[::1] stream, Py_ssize_t stream_ahead,
    floating* v, double* avg_sum, double* state, Lazy* z, Py_ssize_t window,
) noexcept nogil:
    cdef Py_ssize_t s, i, j, jj, start, end, i_ahead, n_rows = order.shape[0]
    cdef double t = state[<int>State.T], b = state[<int>State.INTERCEPT]
    cdef double avg_count = state[<int>State.AVG_COUNT]
    cdef double avg_b = state[<int>State.AVG_INTERCEPT_SUM]
    cdef double sum_loss = 0.0, dot, sq_norm = 0.0, p, target, weight, eta, coef, m
    cdef double loss_value
    cdef bint finite_margins = True
    cdef EtaBlock etas
    cdef floating step_v
    cdef bint pa = h.schedule == Schedule.PA1 or h.schedule == Schedule.PA2
    cdef bint lazy = z.l1 or z.avg

    start_eta_block(&etas)
    z.U = state[<int>State.L1_TOTAL]
    close_window(z, v, avg_sum, 0)  # start the first window
    for s in range(n_rows):
        i = order[s]
        # two stages: the row bounds far ahead, then the row itself
        if s + 2 * PREFETCH_ROWS < n_rows:
            fg_prefetch(&indptr[order[s + 2 * PREFETCH_ROWS]], 2 * sizeof(index_t))
        if s + PREFETCH_ROWS < n_rows:
            i_ahead = order[s + PREFETCH_ROWS]
            start = indptr[i_ahead]
            end = indptr[i_ahead + 1]
            fg_prefetch(&data[start], (end - start) * sizeof(floating))
            fg_prefetch(&indices[start], (end - start) * sizeof(index_t))
            prefetch_target(i_ahead, y, y_class, pos_class, sample_weight)
        if s + stream_ahead + 2 * PREFETCH_ROWS < stream.shape[0]:
            # the row bounds of the read-ahead, a few steps before they are read
            fg_prefetch(&indptr[stream[s + stream_ahead + 2 * PREFETCH_ROWS]],
                        2 * sizeof(index_t))
        if s + stream_ahead < stream.shape[0]:
            # read-ahead of a windowed shuffle: X in nearly sequential order
            i_ahead = stream[s + stream_ahead]
            start = indptr[i_ahead]
            end = indptr[i_ahead + 1]
            fg_prefetch_l2(&data[start], (end - start) * sizeof(floating))
            fg_prefetch_l2(&indices[start], (end - start) * sizeof(index_t))
        start = indptr[i]
        end = indptr[i + 1]
        target_and_weight(h, i, y, y_class, pos_class, sample_weight, &target, &weight)
        if lazy:
            for jj in range(start, end):
                bring_up_to_date(z, v, avg_sum, indices[jj])
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
        coef = weight * update_coefficient(tag, h, p, target, eta, sq_norm, &loss_value)
        sum_loss += weight * loss_value
        if coef != 0.0:
            step_v = <floating>(coef / z.C)
            for jj in range(start, end):
                j = indices[jj]
                v[j] = v[j] + step_v * data[jj]
        if h.fit_intercept:
            b += coef * h.intercept_decay

        z.U += eta * h.lam1 / z.C
        z.C /= 1.0 + eta * h.lam2
        m = 1.0 if (h.average_start > 0 and t >= h.average_start) else 0.0
        if m != 0.0:
            avg_count += 1.0
            avg_b += b
        if lazy:
            z.hU[z.k + 1] = z.U
            z.hC[z.k + 1] = z.hC[z.k] + m * z.C
            z.hCU[z.k + 1] = z.hCU[z.k] + m * z.C * z.U
            z.k += 1
        if z.C < MIN_SCALE or z.k == window:
            close_window(z, v, avg_sum, n_features)
        t += 1.0

    close_window(z, v, avg_sum, n_features)
    state[<int>State.T] = t
    state[<int>State.INTERCEPT] = b
    state[<int>State.AVG_COUNT] = avg_count
    state[<int>State.AVG_INTERCEPT_SUM] = avg_b
    state[<int>State.SUM_LOSS] = sum_loss if finite_margins else NAN
    state[<int>State.L1_TOTAL] = z.U


# ------------------------------------------------------------------------- drivers

cdef void epoch_one_model(
    LossTag* tag, const Hyper* h, bint sparse, const floating[:, ::1] X,
    const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
    Py_ssize_t n_features, const floating[::1] y, const int32_t[::1] y_class,
    int pos_class, const floating[::1] sample_weight, const int32_t[::1] order,
    const int32_t[::1] stream, Py_ssize_t stream_ahead,
    floating* v, double* avg_sum, double* q, double* state, int32_t* last, double* hist,
    Py_ssize_t window,
) noexcept nogil:
    cdef Lazy z
    if not sparse:
        epoch_dense(tag, h, X, y, y_class, pos_class, sample_weight, order, stream,
                    stream_ahead, v, avg_sum, q, state)
        return
    z.C = 1.0
    z.U = 0.0
    z.k = 0
    z.hU = hist
    z.hC = hist + (window + 1)
    z.hCU = hist + 2 * (window + 1)
    z.last = last
    z.q = q
    z.l1 = h.lam1 > 0.0
    z.avg = h.average_start > 0
    epoch_sparse(tag, h, data, indices, indptr, n_features, y, y_class, pos_class,
                 sample_weight, order, stream, stream_ahead, v, avg_sum, state, &z,
                 window)


cdef void epoch_all_models(
    LossTag* tag, const Hyper* h, bint sparse, const floating[:, ::1] X,
    const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
    Py_ssize_t n_features, const floating[::1] y, const int32_t[::1] y_class,
    const int32_t[::1] pos_classes, const floating[::1] sample_weight,
    const double[::1] w_pos, const int32_t[::1] order, const int32_t[::1] stream,
    Py_ssize_t stream_ahead, floating[:, ::1] coef, double[:, ::1] avg_sum,
    double[:, ::1] l1_received, double[:, ::1] state, int32_t[:, ::1] last,
    double[:, ::1] hist, int n_threads, bint replicas,
    const int64_t[::1] order_starts, Py_ssize_t first_row, Py_ssize_t end_row,
    Py_ssize_t n_models,
) noexcept nogil:
    """Model rows 0 .. n_models - 1 over order[first_row:end_row] (replicas: each its
    share of it), in parallel."""
    cdef Py_ssize_t k, n_rows = end_row - first_row
    cdef Py_ssize_t start, end, split, piece
    cdef Py_ssize_t window = (hist.shape[1] // 3) - 1
    cdef double first_loss
    cdef bint streaming = stream.shape[0] > 0
    cdef bint rotated = order_starts is not None and not replicas
    # threads write neighbouring rows of coef (avg_sum, l1_received) on every step;
    # where two rows share a cache line it would move between cores every step, so
    # each thread trains on a copy on lines of its own
    cdef bint own_lines = n_threads > 1 and n_models > 1
    cdef floating* v
    cdef double* avg
    cdef double* q
    cdef void* v_raw
    cdef void* avg_raw
    cdef void* q_raw
    cdef Hyper hk
    for k in prange(n_models, schedule="static", num_threads=n_threads):
        v = &coef[k, 0]
        avg = &avg_sum[k, 0] if avg_sum.shape[1] > 0 else NULL
        q = &l1_received[k, 0] if l1_received.shape[1] > 0 else NULL
        v_raw = NULL
        avg_raw = NULL
        q_raw = NULL
        if own_lines:
            v = <floating*>line_aligned_copy(v, n_features * sizeof(floating), &v_raw)
            avg = <double*>line_aligned_copy(avg, avg_sum.shape[1] * sizeof(double),
                                             &avg_raw)
            q = <double*>line_aligned_copy(q, l1_received.shape[1] * sizeof(double),
                                           &q_raw)
        hk = h[0]
        hk.w_pos = w_pos[0 if replicas else k]
        if replicas:
            # row k of every array is a replica of model 0 and takes the k-th share
            # of the rows
            start = first_row + k * n_rows // n_models
            end = first_row + (k + 1) * n_rows // n_models
            split = start
        else:
            # model k visits order[split:] then order[:split]
            start = first_row
            end = end_row
            split = first_row + (order_starts[k] if rotated else 0)
        first_loss = 0.0
        for piece in range(2):
            if piece == 1:
                if split == start:
                    break
                first_loss = state[k, <int>State.SUM_LOSS]
                end = split
                split = start
            epoch_one_model(tag, &hk, sparse, X, data, indices, indptr, n_features, y,
                            y_class, pos_classes[0 if replicas else k], sample_weight,
                            order[split:end],
                            stream[split:end] if streaming else stream,
                            stream_ahead, v, avg, q,
                            &state[k, 0], &last[k, 0] if last.shape[1] > 0 else NULL,
                            &hist[k, 0] if hist.shape[1] > 0 else NULL, window)
        state[k, <int>State.SUM_LOSS] += first_loss
        copy_back_and_free(&coef[k, 0], v, v_raw, n_features * sizeof(floating))
        if avg_sum.shape[1] > 0:
            copy_back_and_free(&avg_sum[k, 0], avg, avg_raw,
                               avg_sum.shape[1] * sizeof(double))
        if l1_received.shape[1] > 0:
            copy_back_and_free(&l1_received[k, 0], q, q_raw,
                               l1_received.shape[1] * sizeof(double))


cdef void* line_aligned_copy(void* src, size_t nbytes, void** raw) noexcept nogil:
    """A copy of ``src`` that starts on a fresh cache line and owns the lines it ends
    on; ``raw`` receives the block to free.  On allocation failure (or for nothing to
    copy), ``src`` itself."""
    cdef char* p
    raw[0] = NULL
    if src == NULL or nbytes == 0:
        return src
    raw[0] = malloc(nbytes + 2 * CACHE_LINE)
    if raw[0] == NULL:
        return src
    p = <char*>raw[0] + (CACHE_LINE - <size_t>raw[0] % CACHE_LINE)
    memcpy(p, src, nbytes)
    return p


cdef inline void copy_back_and_free(void* dst, void* copy, void* raw,
                                    size_t nbytes) noexcept nogil:
    """Undo ``line_aligned_copy``: write the trained copy back."""
    if raw != NULL:
        memcpy(dst, copy, nbytes)
        free(raw)



cdef inline double replica_mean(const double[:, ::1] a, Py_ssize_t col,
                                Py_ssize_t k) noexcept nogil:
    """Mean of column ``col`` over the first ``k`` replicas."""
    cdef double acc = 0.0
    cdef Py_ssize_t r
    for r in range(k):
        acc = acc + a[r, col]
    return acc / k


cdef void epoch_rows(
    LossTag* tag, const Hyper* h, bint sparse, const floating[:, ::1] X,
    const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
    Py_ssize_t n_features, const floating[::1] y, const int32_t[::1] y_class,
    const int32_t[::1] pos_classes, const floating[::1] sample_weight,
    const double[::1] w_pos, const int32_t[::1] order, const int32_t[::1] stream,
    Py_ssize_t stream_ahead, floating[:, ::1] coef, double[:, ::1] avg_sum,
    double[:, ::1] l1_received, double[:, ::1] state, int32_t[:, ::1] last,
    double[:, ::1] hist, int n_threads, const int64_t[::1] order_starts,
    floating[:, ::1] replica_coef, double[:, ::1] replica_avg,
    double[:, ::1] replica_l1, double[:, ::1] replica_state, Py_ssize_t round_rows,
    Py_ssize_t min_share,
) noexcept nogil:
    """One epoch: separate models (round_rows == 0) or one model on replicas."""
    cdef Py_ssize_t start, end, k, r, j, n_rows = order.shape[0]
    cdef Py_ssize_t n_avg = avg_sum.shape[1], n_l1 = l1_received.shape[1]
    cdef double total_loss = 0.0, acc
    cdef int col
    if round_rows == 0:
        epoch_all_models(tag, h, sparse, X, data, indices, indptr, n_features, y,
                         y_class, pos_classes, sample_weight, w_pos, order, stream,
                         stream_ahead, coef, avg_sum, l1_received, state, last, hist,
                         n_threads, False, order_starts, 0, n_rows, coef.shape[0])
        return
    start = 0
    while start < n_rows:
        end = min(start + round_rows * n_threads, n_rows)
        # a short round is run by one replica: copies of a few steps each would
        # average into a smaller step
        k = n_threads if end - start >= n_threads * min_share else 1
        for r in range(k):
            for j in range(n_features):
                replica_coef[r, j] = coef[0, j]
            for j in range(n_avg):
                replica_avg[r, j] = 0.0
            for j in range(n_l1):
                replica_l1[r, j] = l1_received[0, j]
            for col in range(<int>State.N_STATE):
                replica_state[r, col] = state[0, col]
            replica_state[r, <int>State.AVG_COUNT] = 0.0
            replica_state[r, <int>State.AVG_INTERCEPT_SUM] = 0.0
        epoch_all_models(tag, h, sparse, X, data, indices, indptr, n_features, y,
                         y_class, pos_classes, sample_weight, w_pos, order, stream,
                         stream_ahead, replica_coef, replica_avg, replica_l1,
                         replica_state, last, hist, k, True, order_starts, start, end, k)
        for j in range(n_features):
            acc = 0.0
            for r in range(k):
                acc = acc + replica_coef[r, j]
            coef[0, j] = <floating>(acc / k)
        for j in range(n_l1):
            l1_received[0, j] = replica_mean(replica_l1, j, k)
        for j in range(n_avg):
            for r in range(k):
                avg_sum[0, j] += replica_avg[r, j]
        state[0, <int>State.INTERCEPT] = replica_mean(replica_state,
                                                      <int>State.INTERCEPT, k)
        state[0, <int>State.L1_TOTAL] = replica_mean(replica_state,
                                                     <int>State.L1_TOTAL, k)
        for r in range(k):
            state[0, <int>State.T] = max(state[0, <int>State.T],
                                         replica_state[r, <int>State.T])
            state[0, <int>State.AVG_COUNT] += replica_state[r, <int>State.AVG_COUNT]
            state[0, <int>State.AVG_INTERCEPT_SUM] += replica_state[
                r, <int>State.AVG_INTERCEPT_SUM]
            total_loss += replica_state[r, <int>State.SUM_LOSS]
        start = end
    state[0, <int>State.SUM_LOSS] = total_loss


def sgd_epoch(
    int loss_id, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, Py_ssize_t n_features,
    const floating[::1] y, const int32_t[::1] y_class, const int32_t[::1] pos_classes,
    const floating[::1] sample_weight, const double[::1] w_pos, double w_neg,
    const int32_t[::1] order, const int32_t[::1] stream, Py_ssize_t stream_ahead,
    floating[:, ::1] coef, double[:, ::1] avg_sum, double[:, ::1] l1_received,
    double[:, ::1] state, int32_t[:, ::1] last, double[:, ::1] hist, *,
    double epsilon, int schedule, double eta, double power_t, double alpha, double t0,
    double lam1, double lam2, double average_start, bint fit_intercept,
    double intercept_decay, int n_threads, const int64_t[::1] order_starts=None,
    floating[:, ::1] replica_coef=None, double[:, ::1] replica_avg=None,
    double[:, ::1] replica_l1=None, double[:, ::1] replica_state=None,
    Py_ssize_t round_rows=0, Py_ssize_t min_share=1,
):
    """Run one epoch of per-sample SGD for every model row of ``coef``.

    Parameters
    ----------
    loss_id : int
        A member of ``fastgd._enums.Loss``.
    sparse : bool
        Whether X is given as CSR (``data``, ``indices``, ``indptr``) or dense (``X``).
    X : ndarray of shape (n_samples, n_features), C-contiguous
        Dense input; a (0, 0) array when ``sparse``.
    data, indices, indptr : ndarrays
        CSR input; empty arrays when dense.
    n_features : int
    y : ndarray of shape (n_samples,)
        Regression targets (used when a model's positive class is -1).
    y_class : ndarray of int32, shape (n_samples,)
        Class index of every sample (classification).
    pos_classes : ndarray of int32, shape (n_models,)
        Positive class of each model row; -1 for regression on ``y``.
    sample_weight : ndarray of shape (n_samples,) or (0,)
    w_pos : ndarray of shape (n_models,)
        Weight of the positive class of each model; ``w_neg`` of the others.
    order : ndarray of int32
        Rows to visit, in order.
    stream, stream_ahead : ndarray of int32, int
        Read-ahead order of a windowed shuffle (``_shuffle.windowed_shuffle``) and how
        many steps ahead of ``order`` it runs; an empty array for none.
    coef : ndarray of shape (n_models, n_features)
        Weights, updated in place.
    avg_sum : ndarray of float64, shape (n_models, n_features) or (n_models, 0)
        Running sums of the averaged weights (averaged SGD).
    l1_received : ndarray of float64, shape (n_models, n_features) or (n_models, 0)
        L1 penalty each weight has received (cumulative-penalty L1, when lam1 > 0).
    state : ndarray of float64, shape (n_models, State.N_STATE)
        Scalars carried between epochs, see ``fastgd._enums.State``.
    last, hist : ndarrays
        Scratch of the sparse lazy updates, shapes (n_models, n_features) and
        (n_models, 3 * (window + 1)); (n_models, 0) when unused.
    epsilon, schedule, eta, power_t, alpha, t0 : float
        Loss parameter and learning-rate schedule (``fastgd._enums.Schedule``).
    lam1, lam2 : float
        L1 and L2 strengths of the proximal step.
    average_start : float
        First step counter value that is averaged; 0 for no averaging.
    fit_intercept : bool
    intercept_decay : float
        Factor of the intercept updates (smaller on sparse data).
    n_threads : int
        Threads across model rows.
    order_starts : ndarray of int64, shape (n_models,), default=None
        Model k visits ``order[order_starts[k]:]`` and then ``order[:order_starts[k]]``:
        each model its own rotation of the epoch's order (None: all start at 0).
        Models that met the same rows in the same order would share their last
        steps' noise, which biases one-vs-rest towards the classes seen last.
    replica_coef, replica_avg, replica_l1, replica_state : ndarrays, default=None
        Scratch for one model (``coef`` of one row) trained on ``n_threads`` replicas,
        shaped like ``coef``, ``avg_sum``, ``l1_received``, ``state`` with
        ``n_threads`` rows (``last`` and ``hist`` too).  The epoch runs in rounds of
        ``round_rows`` rows per thread: every replica starts from the model, takes its
        share of the round, and the model becomes their average (weights, intercept,
        L1 bookkeeping; averaged SGD sums the iterates of all).  The step counter
        advances by one share per round.  A round shorter than ``n_threads *
        min_share`` rows is run by one replica.
    round_rows, min_share : int
        See ``replica_coef``; ``round_rows=0`` trains the rows of ``coef`` as
        separate models.
    """
    cdef Hyper h
    h.eps = epsilon
    h.schedule = schedule
    h.eta = eta
    h.power_t = power_t
    h.alpha = alpha
    h.t0 = t0
    h.lam1 = lam1
    h.lam2 = lam2
    h.average_start = average_start
    h.fit_intercept = fit_intercept
    h.intercept_decay = intercept_decay
    h.w_neg = w_neg
    if round_rows > 0 and (
            replica_coef is None or replica_avg is None or replica_l1 is None
            or replica_state is None or coef.shape[0] != 1
            or replica_coef.shape[0] < n_threads or replica_state.shape[0] < n_threads
            or last.shape[0] < n_threads or hist.shape[0] < n_threads):
        raise ValueError("round_rows > 0 trains one model (coef of one row) and needs "
                         "replica arrays, last and hist with n_threads rows")
    if order_starts is not None and (
            order_starts.shape[0] != coef.shape[0]
            or (order.shape[0] > 0 and not all(
                0 <= order_starts[k] < order.shape[0] for k in range(coef.shape[0])))):
        raise ValueError(f"order_starts must hold one position in [0, {order.shape[0]}) "
                         f"per model row ({coef.shape[0]})")
    with nogil:
        if loss_id == Loss.SQUARED_ERROR:
            epoch_rows(<SquaredErrorTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        elif loss_id == Loss.HUBER:
            epoch_rows(<HuberTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        elif loss_id == Loss.EPSILON_INSENSITIVE:
            epoch_rows(<EpsilonInsensitiveTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        elif loss_id == Loss.SQUARED_EPSILON_INSENSITIVE:
            epoch_rows(<SquaredEpsilonInsensitiveTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        elif loss_id == Loss.LOG_LOSS:
            epoch_rows(<LogLossTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        elif loss_id == Loss.HINGE:
            epoch_rows(<HingeTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        elif loss_id == Loss.SQUARED_HINGE:
            epoch_rows(<SquaredHingeTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        elif loss_id == Loss.MODIFIED_HUBER:
            epoch_rows(<ModifiedHuberTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        elif loss_id == Loss.PERCEPTRON:
            epoch_rows(<PerceptronTag*>NULL, &h, sparse, X, data, indices, indptr, n_features, y, y_class, pos_classes, sample_weight, w_pos, order, stream, stream_ahead, coef, avg_sum, l1_received, state, last, hist, n_threads, order_starts, replica_coef, replica_avg, replica_l1, replica_state, round_rows, min_share)
        else:
            with gil:
                raise ValueError(f"unknown loss id {loss_id}")
