# cython: language_level=3
"""Mini-batch and full-batch gradients: the summed loss and its gradient over rows.

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
from libc.string cimport memset

from fastgd._enums cimport Loss
from fastgd._losses cimport (
    LossTag, SquaredErrorTag, HuberTag, EpsilonInsensitiveTag,
    SquaredEpsilonInsensitiveTag, LogLossTag, HingeTag, SquaredHingeTag,
    ModifiedHuberTag, PerceptronTag, loss_and_dloss,
)
from fastgd._simd cimport vacc_scaled, vdot

ctypedef fused index_t:
    int32_t
    int64_t


cdef inline void add_row_gradient(
    LossTag* tag, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, Py_ssize_t i,
    const floating[:, ::1] coef, const double[::1] intercept, double target,
    double weight, Py_ssize_t k, double eps, double* local, double* loss_sum,
) noexcept nogil:
    """Add row i's loss (to ``loss_sum``) and gradient (to ``local``) for model k."""
    cdef Py_ssize_t n_features = coef.shape[1], jj
    cdef double p = 0.0, g
    cdef double* grad = local + k * (n_features + 1)
    cdef const floating* x
    if sparse:
        for jj in range(indptr[i], indptr[i + 1]):
            p = p + coef[k, indices[jj]] * data[jj]
    else:
        x = &X[i, 0]
        p = vdot(&coef[k, 0], x, n_features)
    p = p + intercept[k]
    loss_sum[0] += weight * loss_and_dloss(tag, p, target, eps, &g)
    g = g * weight
    if g == 0.0:
        return
    if sparse:
        for jj in range(indptr[i], indptr[i + 1]):
            grad[indices[jj]] += g * data[jj]
    else:
        vacc_scaled(g, x, grad, n_features)
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
    cdef Py_ssize_t width = scratch.shape[1]
    # zero every buffer: OpenMP may start fewer threads than asked for
    memset(&scratch[0, 0], 0, n_threads * width * sizeof(double))
    with parallel(num_threads=n_threads):
        local = &scratch[threadid(), 0]
        for r in prange(n_rows, schedule="static"):
            i = rows[r] if rows.shape[0] > 0 else r
            for k in range(n_models):
                if pos_classes[k] >= 0:
                    target = 1.0 if y_class[i] == pos_classes[k] else -1.0
                else:
                    target = y[i]
                weight = w_pos[k] if target > 0.0 else w_neg
                if sample_weight.shape[0] > 0:
                    weight = weight * sample_weight[i]
                row_loss = 0.0
                add_row_gradient(tag, sparse, X, data, indices, indptr, i, coef,
                                 intercept, target, weight, k, eps, local, &row_loss)
                total += row_loss
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
    cdef Py_ssize_t n_models = coef.shape[0], n_features = coef.shape[1], t, k, j
    cdef Py_ssize_t width = n_models * (n_features + 1)
    if scratch.shape[0] < n_threads or scratch.shape[1] != width:
        raise ValueError(f"scratch must have shape (>= {n_threads}, {width})")
    cdef double total
    with nogil:
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
        # reduce the thread buffers in thread order
        for k in range(n_models):
            for j in range(n_features):
                grad[k, j] = 0.0
            grad_intercept[k] = 0.0
        for t in range(n_threads):
            for k in range(n_models):
                for j in range(n_features):
                    grad[k, j] += scratch[t, k * (n_features + 1) + j]
                grad_intercept[k] += scratch[t, k * (n_features + 1) + n_features]
    return total
