# cython: language_level=3
"""Mini-batch and full-batch gradients, and the mini-batch proximal SGD epoch.

Design
------
* One fused pass over X: every row's prediction, loss and derivative are computed
  and its contribution ``s_i * dloss_i * x_i`` is added at once, so a dense row is read
  from memory a single time per gradient.
* Parallel over rows (``prange``, static schedule, ``n_threads`` threads).  Each thread
  adds into its own float64 buffer (caller-allocated ``scratch``, one row per thread),
  and the buffers are summed afterwards in thread order: no atomics, and the result
  differs between thread counts only by the order of floating-point additions.
* The loss is a compile-time choice (``LossTag``), as in ``_sgd.pyx``; targets and
  weights follow the same convention (model ``k`` regresses on ``y`` when
  ``pos_classes[k] == -1``, else separates class ``pos_classes[k]`` from the rest).
* Kernels assume validated, C-contiguous input and caller-allocated outputs.
"""

from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from libc.stdint cimport int32_t, int64_t
from libc.math cimport exp, expm1, log, log1p, sqrt
from libc.string cimport memset

from fastgd._enums cimport Loss, Optimizer
from fastgd._losses cimport (
    LossTag, SquaredErrorTag, HuberTag, EpsilonInsensitiveTag,
    SquaredEpsilonInsensitiveTag, LogLossTag, HingeTag, SquaredHingeTag,
    ModifiedHuberTag, PerceptronTag, loss_and_dloss,
)
from fastgd._schedules cimport scheduled_eta
from fastgd._targets cimport sample_target, sample_weight_of
from fastgd._rows cimport index_t, row_add_scaled, row_dot

import numpy as np


# Batches smaller than this are summed by one thread: a parallel region per step
# costs more than it saves on a few rows.
cdef Py_ssize_t MIN_ROWS_PER_PARALLEL_BATCH = 256


cdef inline void add_row_gradient(
    LossTag* tag, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, Py_ssize_t i,
    const floating[:, ::1] coef, const double[::1] intercept, double target,
    double weight, Py_ssize_t k, double eps, double* local, double* loss_sum,
) noexcept nogil:
    """Add row i's loss (to ``loss_sum``) and gradient (to ``local``) for model k."""
    cdef Py_ssize_t n_features = coef.shape[1]
    cdef double p, g
    cdef double* grad = local + k * (n_features + 1)
    p = row_dot(sparse, X, data, indices, indptr, i, &coef[k, 0], n_features)
    p = p + intercept[k]
    loss_sum[0] += weight * loss_and_dloss(tag, p, target, eps, &g)
    g = g * weight
    if g == 0.0:
        return
    row_add_scaled(g, sparse, X, data, indices, indptr, i, grad, n_features)
    grad[n_features] += g


cdef double gradient_rows(
    LossTag* tag, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, const floating[::1] y,
    const int32_t[::1] y_class, const int32_t[::1] pos_classes,
    const floating[::1] sample_weight, const double[::1] w_pos, double w_neg,
    const int32_t[::1] rows, Py_ssize_t n_rows, const floating[:, ::1] coef,
    const double[::1] intercept, double eps, double[:, ::1] scratch, int n_threads,
) noexcept nogil:
    cdef Py_ssize_t r, i, k, n_models = coef.shape[0]
    cdef double total = 0.0, target, weight, row_loss
    cdef double* local
    with parallel(num_threads=n_threads, use_threads_if=n_threads > 1):
        local = &scratch[threadid(), 0]
        for r in prange(n_rows, schedule="static"):
            i = rows[r] if rows.shape[0] > 0 else r
            for k in range(n_models):
                target = sample_target(i, pos_classes[k], y, y_class)
                weight = sample_weight_of(i, target, w_pos[k], w_neg, sample_weight)
                row_loss = 0.0
                add_row_gradient(tag, sparse, X, data, indices, indptr, i, coef,
                                 intercept, target, weight, k, eps, local, &row_loss)
                total += row_loss
    return total


cdef double softmax_rows(
    bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, const floating[:, ::1] Y,
    const int32_t[::1] y_class, const floating[::1] sample_weight,
    const double[::1] class_weight, const int32_t[::1] rows, Py_ssize_t n_rows,
    const floating[:, ::1] coef, const double[::1] intercept, double[:, ::1] scratch,
    int n_threads,
) noexcept nogil:
    """Multinomial cross-entropy over rows: summed loss, and its gradient added to the
    thread buffers.  Targets are ``Y[i]`` (soft labels) when ``Y`` has rows, else the
    one-hot ``y_class[i]`` weighted by ``class_weight``.  The last ``n_classes``
    entries of each thread buffer hold the row's logits and probabilities."""
    cdef Py_ssize_t r, i, k, n_classes = coef.shape[0], n_features = coef.shape[1]
    cdef Py_ssize_t width = scratch.shape[1], grad_width = n_classes * (n_features + 1)
    cdef double total = 0.0, weight, zmax, lse, q, g, row_loss
    cdef double* local
    cdef double* z
    cdef double* grad
    cdef bint soft = Y.shape[0] > 0
    with parallel(num_threads=n_threads, use_threads_if=n_threads > 1):
        local = &scratch[threadid(), 0]
        z = local + grad_width
        for r in prange(n_rows, schedule="static"):
            i = rows[r] if rows.shape[0] > 0 else r
            weight = sample_weight[i] if sample_weight.shape[0] > 0 else 1.0
            if not soft:
                weight = weight * class_weight[y_class[i]]
            zmax = -1e308
            for k in range(n_classes):
                z[k] = row_dot(sparse, X, data, indices, indptr, i, &coef[k, 0],
                               n_features) + intercept[k]
                if z[k] > zmax:
                    zmax = z[k]
            lse = 0.0
            for k in range(n_classes):
                lse = lse + exp(z[k] - zmax)
            lse = zmax + log(lse)
            row_loss = lse
            for k in range(n_classes):
                if soft:
                    q = Y[i, k]
                else:
                    q = 1.0 if y_class[i] == k else 0.0
                row_loss = row_loss - q * z[k]
                # d loss / d z_k = p_k - q_k
                g = weight * (exp(z[k] - lse) - q)
                if g != 0.0:
                    grad = local + k * (n_features + 1)
                    row_add_scaled(g, sparse, X, data, indices, indptr, i, grad,
                                   n_features)
                    grad[n_features] += g
            total += weight * row_loss
    return total


def softmax_gradient(
    bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, const floating[:, ::1] Y,
    const int32_t[::1] y_class, const floating[::1] sample_weight,
    const double[::1] class_weight, const int32_t[::1] rows, Py_ssize_t n_rows,
    const floating[:, ::1] coef, const double[::1] intercept, double[:, ::1] grad,
    double[::1] grad_intercept, double[:, ::1] scratch, int n_threads,
):
    """Summed multinomial cross-entropy and its gradient over rows.

    Parameters
    ----------
    sparse, X, data, indices, indptr
        The input, as in ``batch_gradient``.
    Y : ndarray of shape (n_samples, n_classes) or (0, 0)
        Soft labels (rows of probabilities); empty for hard labels ``y_class``.
    y_class : ndarray of int32
        Class index of every sample (hard labels).
    sample_weight : ndarray of shape (n_samples,) or (0,)
    class_weight : ndarray of float64, shape (n_classes,)
        Weight of each hard label.
    rows, n_rows
        As in ``batch_gradient``.
    coef : ndarray of shape (n_classes, n_features)
    intercept : ndarray of float64, shape (n_classes,)
    grad, grad_intercept
        Outputs, shapes (n_classes, n_features) and (n_classes,).
    scratch : ndarray of float64, shape (>= n_threads, n_classes * (n_features + 2))
    n_threads : int

    Returns
    -------
    loss : float
        ``sum_i s_i * (logsumexp(z_i) - q_i . z_i)``.
    """
    cdef Py_ssize_t width = coef.shape[0] * (coef.shape[1] + 2)
    if scratch.shape[0] < n_threads or scratch.shape[1] != width:
        raise ValueError(f"scratch must have shape (>= {n_threads}, {width})")
    cdef double total
    with nogil:
        clear_buffers(scratch, n_threads)
        total = softmax_rows(sparse, X, data, indices, indptr, Y, y_class,
                             sample_weight, class_weight, rows, n_rows, coef,
                             intercept, scratch, n_threads)
        reduce_buffers(scratch, n_threads, grad, grad_intercept)
    return total


def batch_gradient(
    int loss_id, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, const floating[::1] y,
    const int32_t[::1] y_class, const int32_t[::1] pos_classes,
    const floating[::1] sample_weight, const double[::1] w_pos, double w_neg,
    const int32_t[::1] rows, Py_ssize_t n_rows, const floating[:, ::1] coef,
    const double[::1] intercept, double epsilon, double[:, ::1] grad,
    double[::1] grad_intercept, double[:, ::1] scratch, int n_threads,
):
    """Summed weighted loss and its gradient over rows, for every model row.

    Parameters
    ----------
    loss_id : int
        A member of ``fastgd._enums.Loss``.
    sparse : bool
        Whether X is CSR (``data``, ``indices``, ``indptr``) or dense (``X``).
    X, data, indices, indptr : ndarrays
        The input; unused parts are empty arrays.
    y, y_class, pos_classes, sample_weight, w_pos, w_neg
        Targets and weights, as in ``fastgd._sgd.sgd_epoch``.
    rows : ndarray of int32
        The rows to sum over (a mini-batch), or an empty array for rows 0..n_rows-1.
    n_rows : int
        Number of rows summed over.
    coef : ndarray of shape (n_models, n_features)
    intercept : ndarray of float64, shape (n_models,)
    epsilon : float
    grad : ndarray of float64, shape (n_models, n_features)
        Output: ``sum_i s_i * dloss_i * x_i``.
    grad_intercept : ndarray of float64, shape (n_models,)
        Output: ``sum_i s_i * dloss_i``.
    scratch : ndarray of float64, shape (>= n_threads, n_models * (n_features + 1))
        Thread-local buffers.
    n_threads : int

    Returns
    -------
    loss : float
        ``sum_i s_i * loss_i`` over the rows and models.
    """
    cdef Py_ssize_t width = coef.shape[0] * (coef.shape[1] + 1)
    if scratch.shape[0] < n_threads or scratch.shape[1] != width:
        raise ValueError(f"scratch must have shape (>= {n_threads}, {width})")
    cdef double total
    with nogil:
        clear_buffers(scratch, n_threads)
        if loss_id == Loss.SQUARED_ERROR:
            total = gradient_rows(<SquaredErrorTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        elif loss_id == Loss.HUBER:
            total = gradient_rows(<HuberTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        elif loss_id == Loss.EPSILON_INSENSITIVE:
            total = gradient_rows(<EpsilonInsensitiveTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        elif loss_id == Loss.SQUARED_EPSILON_INSENSITIVE:
            total = gradient_rows(<SquaredEpsilonInsensitiveTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        elif loss_id == Loss.LOG_LOSS:
            total = gradient_rows(<LogLossTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        elif loss_id == Loss.HINGE:
            total = gradient_rows(<HingeTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        elif loss_id == Loss.SQUARED_HINGE:
            total = gradient_rows(<SquaredHingeTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        elif loss_id == Loss.MODIFIED_HUBER:
            total = gradient_rows(<ModifiedHuberTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        elif loss_id == Loss.PERCEPTRON:
            total = gradient_rows(<PerceptronTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, n_rows, coef, intercept, epsilon, scratch, n_threads)
        else:
            with gil:
                raise ValueError(f"unknown loss id {loss_id}")
        reduce_buffers(scratch, n_threads, grad, grad_intercept)
    return total


cdef void clear_buffers(double[:, ::1] scratch, int n_threads) noexcept nogil:
    """Zero the first ``n_threads`` thread buffers (all of them are summed, even if
    OpenMP starts fewer threads than asked for)."""
    memset(&scratch[0, 0], 0, n_threads * scratch.shape[1] * sizeof(double))


cdef void clear_support(double[:, ::1] scratch, int n_threads, Py_ssize_t n_models,
                        Py_ssize_t n_features, const Py_ssize_t* support,
                        Py_ssize_t n_support) noexcept nogil:
    """``clear_buffers`` restricted to the support columns and the intercepts."""
    cdef Py_ssize_t t, k, s
    cdef double* row
    for t in range(n_threads):
        for k in range(n_models):
            row = &scratch[t, k * (n_features + 1)]
            for s in range(n_support):
                row[support[s]] = 0.0
            row[n_features] = 0.0


cdef inline double thread_sum(const double[:, ::1] scratch, int n_threads,
                              Py_ssize_t slot) noexcept nogil:
    """``scratch[0, slot] + scratch[1, slot] + ...``, in thread order."""
    cdef double acc = scratch[0, slot]
    cdef int t
    for t in range(1, n_threads):
        acc = acc + scratch[t, slot]
    return acc


cdef void reduce_buffers(
    const double[:, ::1] scratch, int n_threads, double[:, ::1] grad,
    double[::1] grad_intercept, const Py_ssize_t* columns=NULL, Py_ssize_t n_columns=0,
) noexcept nogil:
    """Sum the thread buffers into (grad, grad_intercept): every column, or only
    ``columns`` when it is given; the intercepts always."""
    cdef Py_ssize_t k, s, j, row, n_models = grad.shape[0], n_features = grad.shape[1]
    for k in range(n_models):
        row = k * (n_features + 1)
        for s in range(n_columns if columns != NULL else n_features):
            j = columns[s] if columns != NULL else s
            grad[k, j] = thread_sum(scratch, n_threads, row + j)
        grad_intercept[k] = thread_sum(scratch, n_threads, row + n_features)


cdef inline double prox_elastic_net(double w, double step, double lam1,
                                    double lam2) noexcept nogil:
    """Exact prox of ``step * (lam1 |w| + lam2 / 2 w^2)``: soft-threshold, then shrink."""
    if w > step * lam1:
        w -= step * lam1
    elif w < -step * lam1:
        w += step * lam1
    else:
        return 0.0
    return w / (1.0 + step * lam2)


ctypedef struct OptimizerRule:
    int kind            # Optimizer
    double momentum
    double beta_1
    double beta_2
    double rho
    double eps
    double log_beta_1   # log(beta_1) and log(beta_2): bias corrections by expm1
    double log_beta_2
    double bias_count   # Adam's last bias corrections, for this step count
    double bias_1       # 1 / (1 - beta_1 ** bias_count)
    double bias_2       # 1 / (1 - beta_2 ** bias_count)


# Per-coordinate optimizer state: two slots, then the number of steps the coordinate
# has taken (its own clock; Adam's bias correction counts these).
DEF N_SLOTS = 3


cdef inline double optimizer_direction(
    OptimizerRule* o, double g, double* state, double* scale,
) noexcept nogil:
    """Turn the gradient ``g`` of one coordinate into a direction ``d`` (returned) and
    a step-size factor ``scale`` (the coordinate moves by ``-eta * scale * d``),
    updating its state ``state[0:3]`` (PyTorch's update rules)."""
    cdef double m_hat, v_hat
    state[2] += 1.0
    scale[0] = 1.0
    if o.kind == Optimizer.MOMENTUM:
        state[0] = o.momentum * state[0] + g
        return state[0]
    if o.kind == Optimizer.NESTEROV:
        state[0] = o.momentum * state[0] + g
        return g + o.momentum * state[0]
    if o.kind == Optimizer.ADAGRAD:
        state[0] += g * g
        scale[0] = 1.0 / (sqrt(state[0]) + o.eps)
        return g
    if o.kind == Optimizer.RMSPROP:
        state[0] = o.rho * state[0] + (1.0 - o.rho) * g * g
        scale[0] = 1.0 / (sqrt(state[0]) + o.eps)
        return g
    if o.kind == Optimizer.ADAM:
        state[0] = o.beta_1 * state[0] + (1.0 - o.beta_1) * g
        state[1] = o.beta_2 * state[1] + (1.0 - o.beta_2) * g * g
        if state[2] != o.bias_count:   # coordinates share it on dense input
            o.bias_count = state[2]
            o.bias_1 = -1.0 / expm1(state[2] * o.log_beta_1)
            o.bias_2 = -1.0 / expm1(state[2] * o.log_beta_2)
        m_hat = state[0] * o.bias_1
        v_hat = state[1] * o.bias_2
        scale[0] = 1.0 / (sqrt(v_hat) + o.eps)
        return m_hat
    return g


cdef inline double coordinate_scale(const OptimizerRule* o,
                                    const double* state) noexcept nogil:
    """The step-size factor the coordinate's current state gives, without a step."""
    if o.kind == Optimizer.ADAGRAD or o.kind == Optimizer.RMSPROP:
        return 1.0 / (sqrt(state[0]) + o.eps)
    if o.kind == Optimizer.ADAM:
        if state[2] == 0.0:
            return 1.0 / o.eps
        return 1.0 / (sqrt(state[1] / -expm1(state[2] * o.log_beta_2)) + o.eps)
    return 1.0


# ---------------------------------------------------------------- lazy updates (CSR)
#
# On CSR input a step touches only the support of its batch: the columns where one of
# its rows has a stored entry.  Every other coordinate has a zero gradient, and all
# that happens to it is the penalty's prox.  Those prox steps are applied when the
# coordinate is next touched (and to all coordinates at the end of the call), in
# closed form from running sums over the steps ("the clock") and a snapshot of them
# taken at the coordinate's last update.
#
# * sgd: exact for every schedule.  k prox steps compose to
#   ``w -> sign(w) max(|w| - T, 0) / P`` with ``P = prod(1 + eta_s lam2)`` and
#   ``T = sum_s eta_s lam1 prod_{r < s}(1 + eta_r lam2)``; the clock keeps the
#   running product and the running sum of those terms (products and sums from the
#   start of the call), reset once the product grows large: a division and a
#   subtraction per caught-up weight, no transcendental functions.
# * adaptive optimizers: a skipped coordinate's step is ``eta_s * c`` with ``c`` its
#   frozen scale; the k steps are composed in closed form with their mean ``eta``,
#   exact for a constant learning rate.  The optimizer state advances only when the
#   coordinate is touched (each coordinate runs the optimizer on its own clock, as
#   PyTorch's SparseAdam and TensorFlow's LazyAdam do; the eager algorithm's momentum
#   drift over untouched steps has no closed form).  For adagrad the state does not
#   change under a zero gradient, so the lazy update equals the eager one.

ctypedef struct LazyClock:
    double step         # steps taken in this call
    double eta_sum      # sum of eta_s
    double product      # prod of (1 + eta_s lam2)
    double threshold    # sum of eta_s lam1 (product before step s)

# snapshot rows of the lazy work array
DEF SNAP_STEP = 0
DEF SNAP_ETA = 1
DEF SNAP_PRODUCT = 2
DEF SNAP_THRESHOLD = 3
DEF N_SNAP = 4
# reset the clock's running product long before it overflows
DEF MAX_PRODUCT = 1e100


cdef inline void advance_clock(LazyClock* clock, double eta, double lam1,
                               double lam2) noexcept nogil:
    clock.threshold += eta * lam1 * clock.product
    clock.product *= 1.0 + eta * lam2
    clock.eta_sum += eta
    clock.step += 1.0


cdef inline void take_snapshot(double[:, ::1] snap, Py_ssize_t j,
                               const LazyClock* clock) noexcept nogil:
    snap[SNAP_STEP, j] = clock.step
    snap[SNAP_ETA, j] = clock.eta_sum
    snap[SNAP_PRODUCT, j] = clock.product
    snap[SNAP_THRESHOLD, j] = clock.threshold


cdef inline double catch_up(double w, const LazyClock* clock,
                            const double[:, ::1] snap, Py_ssize_t j, double c,
                            bint plain, double lam1, double lam2) noexcept nogil:
    """Weight ``w`` of column j after the prox steps it missed since its snapshot."""
    cdef double n = clock.step - snap[SNAP_STEP, j]
    cdef double shrink, thr, a, la
    if n <= 0.0 or w == 0.0:
        return w                     # the prox keeps zero at zero
    if plain:
        shrink = clock.product / snap[SNAP_PRODUCT, j]
        thr = (clock.threshold - snap[SNAP_THRESHOLD, j]) / snap[SNAP_PRODUCT, j]
    else:
        a = c * (clock.eta_sum - snap[SNAP_ETA, j]) / n
        la = log1p(a * lam2)
        shrink = exp(n * la)
        thr = a * lam1 * (expm1(n * la) / (a * lam2) if a * lam2 > 0.0 else n)
    if w > thr:
        return (w - thr) / shrink
    if w < -thr:
        return (w + thr) / shrink
    return 0.0


cdef void catch_up_columns(
    floating[:, ::1] coef, const LazyClock* clock, double[:, ::1] snap,
    const Py_ssize_t* columns, Py_ssize_t n_columns, const OptimizerRule* opt,
    const double[:, :, ::1] opt_state, double lam1, double lam2,
) noexcept nogil:
    """Bring the given columns (all of them when ``columns`` is NULL) up to the clock."""
    cdef Py_ssize_t s, j, k
    cdef bint plain = opt.kind == Optimizer.PLAIN
    cdef double c = 1.0
    for s in range(n_columns):
        j = columns[s] if columns != NULL else s
        if lam1 > 0.0 or lam2 > 0.0:
            for k in range(coef.shape[0]):
                if not plain:
                    c = coordinate_scale(opt, &opt_state[k, j, 0])
                coef[k, j] = <floating>catch_up(coef[k, j], clock, snap, j, c, plain,
                                                lam1, lam2)
        take_snapshot(snap, j, clock)


cdef Py_ssize_t batch_support(
    const index_t[::1] indices, const index_t[::1] indptr, const int32_t[::1] rows,
    int64_t stamp, int64_t[::1] mark, Py_ssize_t* support,
) noexcept nogil:
    """Write the distinct columns stored in ``rows`` to ``support``; return how many."""
    cdef Py_ssize_t r, jj, j, n_support = 0
    for r in range(rows.shape[0]):
        for jj in range(indptr[rows[r]], indptr[rows[r] + 1]):
            j = indices[jj]
            if mark[j] != stamp:
                mark[j] = stamp
                support[n_support] = j
                n_support += 1
    return n_support


cdef inline floating step_coordinate(
    floating w, double g, double eta, OptimizerRule* opt, double* state,
    double lam1, double lam2,
) noexcept nogil:
    """One proximal step of a weight with mean gradient ``g``."""
    cdef double factor = 1.0, d = g
    if opt.kind != Optimizer.PLAIN:
        d = optimizer_direction(opt, g, state, &factor)
    return <floating>prox_elastic_net(w - eta * factor * d, eta * factor, lam1, lam2)


cdef double minibatch_rows(
    LossTag* tag, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, const floating[::1] y,
    const int32_t[::1] y_class, const int32_t[::1] pos_classes,
    const floating[::1] sample_weight, const double[::1] w_pos, double w_neg,
    const int32_t[::1] order, Py_ssize_t batch_size, floating[:, ::1] coef,
    double[::1] intercept, double* t, int schedule, double eta0, double power_t,
    double alpha, double t0, double lam1, double lam2, bint fit_intercept,
    double intercept_decay, double eps, double[:, ::1] grad,
    double[::1] grad_intercept, double[:, ::1] scratch, int n_threads,
    bint multinomial, const floating[:, ::1] Y, const double[::1] class_weight,
    OptimizerRule* opt, double[:, :, ::1] opt_state, double[:, ::1] snap,
    int64_t[::1] mark, Py_ssize_t[::1] support_buffer,
) noexcept nogil:
    cdef Py_ssize_t n = order.shape[0], start, m, k, j, s, n_support = 0
    cdef Py_ssize_t n_models = coef.shape[0], n_features = coef.shape[1]
    cdef double total = 0.0, eta, factor, d
    cdef int threads
    cdef LazyClock clock
    cdef Py_ssize_t* support = &support_buffer[0] if sparse else NULL
    clock.step = clock.eta_sum = clock.threshold = 0.0
    clock.product = 1.0
    start = 0
    while start < n:
        m = min(batch_size, n - start)
        # a parallel region per batch pays off only for large batches
        threads = n_threads if m >= MIN_ROWS_PER_PARALLEL_BATCH else 1
        if sparse:
            n_support = batch_support(indices, indptr, order[start:start + m],
                                      <int64_t>clock.step + 1, mark, support)
            catch_up_columns(coef, &clock, snap, support, n_support, opt, opt_state,
                             lam1, lam2)
            clear_support(scratch, threads, n_models, n_features, support, n_support)
        else:
            clear_buffers(scratch, threads)
        if multinomial:
            total += softmax_rows(sparse, X, data, indices, indptr, Y, y_class,
                                  sample_weight, class_weight, order[start:start + m],
                                  m, coef, intercept, scratch, threads)
        else:
            total += gradient_rows(tag, sparse, X, data, indices, indptr, y, y_class,
                                   pos_classes, sample_weight, w_pos, w_neg,
                                   order[start:start + m], m, coef, intercept, eps,
                                   scratch, threads)
        eta = scheduled_eta(schedule, eta0, power_t, alpha, t0, t[0])
        advance_clock(&clock, eta, lam1, lam2)
        if sparse:
            reduce_buffers(scratch, threads, grad, grad_intercept, support, n_support)
            for s in range(n_support):
                j = support[s]
                for k in range(n_models):
                    coef[k, j] = step_coordinate(coef[k, j], grad[k, j] / m, eta, opt,
                                                 &opt_state[k, j, 0], lam1, lam2)
                take_snapshot(snap, j, &clock)
        else:
            reduce_buffers(scratch, threads, grad, grad_intercept)
            for k in range(n_models):
                for j in range(n_features):
                    coef[k, j] = step_coordinate(coef[k, j], grad[k, j] / m, eta, opt,
                                                 &opt_state[k, j, 0], lam1, lam2)
        if fit_intercept:
            for k in range(n_models):
                factor = 1.0
                d = grad_intercept[k] / m
                if opt.kind != Optimizer.PLAIN:
                    d = optimizer_direction(opt, d, &opt_state[k, n_features, 0],
                                            &factor)
                intercept[k] -= eta * factor * d * intercept_decay
        if sparse and clock.product > MAX_PRODUCT:
            catch_up_columns(coef, &clock, snap, NULL, n_features, opt, opt_state,
                             lam1, lam2)
            clock.eta_sum = clock.threshold = 0.0
            clock.product = 1.0
            for j in range(n_features):
                snap[SNAP_ETA, j] = snap[SNAP_THRESHOLD, j] = 0.0
                snap[SNAP_PRODUCT, j] = 1.0
        t[0] += 1.0
        start += m
    if sparse:
        catch_up_columns(coef, &clock, snap, NULL, n_features, opt, opt_state,
                         lam1, lam2)
    return total


def minibatch_epoch(
    int loss_id, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, const floating[::1] y,
    const int32_t[::1] y_class, const int32_t[::1] pos_classes,
    const floating[::1] sample_weight, const double[::1] w_pos, double w_neg,
    const int32_t[::1] order, Py_ssize_t batch_size, floating[:, ::1] coef,
    double[::1] intercept, double[::1] step, *, double epsilon, int schedule,
    double eta, double power_t, double alpha, double t0, double lam1, double lam2,
    bint fit_intercept, double intercept_decay, double[:, ::1] grad,
    double[::1] grad_intercept, double[:, ::1] scratch, int n_threads,
    bint multinomial=False, const floating[:, ::1] Y=None,
    const double[::1] class_weight=None, int optimizer=Optimizer.PLAIN,
    double momentum=0.9, double beta_1=0.9, double beta_2=0.999, double rho=0.99,
    double eps=1e-8, double[:, :, ::1] optimizer_state=None,
):
    """One epoch of mini-batch proximal SGD over ``order``, in batches of
    ``batch_size`` consecutive entries (the last one may be smaller).

    Each step: the mean gradient of the batch (``gradient_rows``, parallel over its
    rows when the batch is large), then ``w <- prox_{eta R}(w - eta * g)`` for every
    weight (the exact elastic-net prox) and ``b <- b - eta * g_b * intercept_decay``.

    Parameters
    ----------
    loss_id, sparse, X, data, indices, indptr, y, y_class, pos_classes,
    sample_weight, w_pos, w_neg
        As in ``batch_gradient``.
    order : ndarray of int32
        Rows in visiting order.
    batch_size : int
    coef : ndarray of shape (n_models, n_features)
        Updated in place.
    intercept : ndarray of float64, shape (n_models,)
        Updated in place.
    step : ndarray of float64, shape (1,)
        The step counter ``t`` (1 before the first step), updated in place.
    epsilon, schedule, eta, power_t, alpha, t0
        Loss parameter and learning-rate schedule (``fastgd._enums.Schedule``; PA
        rules are not defined for mini-batches).
    lam1, lam2 : float
    fit_intercept : bool
    intercept_decay : float
    grad, grad_intercept, scratch
        Work arrays as in ``batch_gradient`` (``softmax_gradient`` when multinomial).
    n_threads : int
    multinomial : bool, default=False
        Train the rows of ``coef`` jointly on the multinomial cross-entropy, with soft
        labels ``Y`` or hard labels ``y_class`` weighted by ``class_weight``
        (``loss_id`` is then not used).
    Y, class_weight : ndarrays, default=None
    optimizer : int, default=Optimizer.PLAIN
        A member of ``fastgd._enums.Optimizer``; its hyper-parameters ``momentum``,
        ``beta_1``, ``beta_2``, ``rho`` and ``eps`` follow PyTorch's conventions.
    optimizer_state : ndarray of float64, shape (n_models, n_features + 1, 3)
        Per-coordinate state (weights, then the intercept), updated in place: two
        slots of the optimizer, then the number of steps the coordinate has taken
        (Adam's bias correction).  Needed unless ``optimizer`` is PLAIN.

    Notes
    -----
    On CSR input a step updates only the columns stored in its batch's rows, and
    the prox steps the other columns miss are applied in closed form when they are
    next touched (see the design comment of the lazy updates in this module).

    Returns
    -------
    loss : float
        Sum over the epoch of the weighted losses met before each step.
    """
    cdef Py_ssize_t width = coef.shape[0] * (coef.shape[1] + (2 if multinomial else 1))
    if scratch.shape[0] < n_threads or scratch.shape[1] != width:
        raise ValueError(f"scratch must have shape (>= {n_threads}, {width})")
    if multinomial and (Y is None or class_weight is None):
        raise ValueError("multinomial needs Y (possibly empty) and class_weight")
    cdef OptimizerRule opt
    opt.kind = optimizer
    opt.momentum = momentum
    opt.beta_1 = beta_1
    opt.beta_2 = beta_2
    opt.rho = rho
    opt.eps = eps
    opt.log_beta_1 = log(beta_1) if beta_1 > 0.0 else -1e300
    opt.log_beta_2 = log(beta_2) if beta_2 > 0.0 else -1e300
    opt.bias_count = -1.0
    cdef Py_ssize_t n_features = coef.shape[1]
    if optimizer_state is None:
        if optimizer != Optimizer.PLAIN:
            raise ValueError("this optimizer needs optimizer_state")
        optimizer_state = np.zeros((coef.shape[0], n_features + 1, N_SLOTS))
    elif (optimizer_state.shape[0] != coef.shape[0]
          or optimizer_state.shape[1] != n_features + 1
          or optimizer_state.shape[2] != N_SLOTS):
        raise ValueError(f"optimizer_state must have shape (n_models, n_features + 1, "
                         f"{N_SLOTS})")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    # work arrays of the lazy updates: O(n_features), used on CSR input only
    cdef Py_ssize_t n_lazy = n_features if sparse else 1
    cdef double[:, ::1] snap = np.zeros((N_SNAP, n_lazy))
    snap[SNAP_PRODUCT, :] = 1.0
    cdef int64_t[::1] mark = np.zeros(n_lazy, np.int64)
    cdef Py_ssize_t[::1] support = np.zeros(n_lazy, np.intp)
    cdef double total, t = step[0]
    with nogil:
        if loss_id == Loss.SQUARED_ERROR:
            total = minibatch_rows(<SquaredErrorTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        elif loss_id == Loss.HUBER:
            total = minibatch_rows(<HuberTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        elif loss_id == Loss.EPSILON_INSENSITIVE:
            total = minibatch_rows(<EpsilonInsensitiveTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        elif loss_id == Loss.SQUARED_EPSILON_INSENSITIVE:
            total = minibatch_rows(<SquaredEpsilonInsensitiveTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        elif loss_id == Loss.LOG_LOSS:
            total = minibatch_rows(<LogLossTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        elif loss_id == Loss.HINGE:
            total = minibatch_rows(<HingeTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        elif loss_id == Loss.SQUARED_HINGE:
            total = minibatch_rows(<SquaredHingeTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        elif loss_id == Loss.MODIFIED_HUBER:
            total = minibatch_rows(<ModifiedHuberTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        elif loss_id == Loss.PERCEPTRON:
            total = minibatch_rows(<PerceptronTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, order, batch_size, coef, intercept, &t, schedule, eta, power_t, alpha, t0, lam1, lam2, fit_intercept, intercept_decay, epsilon, grad, grad_intercept, scratch, n_threads, multinomial, Y, class_weight, &opt, optimizer_state, snap, mark, support)
        else:
            with gil:
                raise ValueError(f"unknown loss id {loss_id}")
    step[0] = t
    return total
