# cython: language_level=3
"""Row-parallel kernels over a linear model: decision function, summed loss, and each
row's curvature (the weights of the Hessian ``X' diag(c) X`` of Newton's method).

Design: ``prange`` over rows with a static schedule and ``n_threads`` threads; every
row is independent, so the outputs of ``decision_function`` and ``curvature`` do not
depend on the thread count.  ``loss_sum`` adds in double, each block of rows
(``BLOCK_ROWS`` rows; the number of blocks depends on the rows alone) into its own
partial sum (on a cache line of its own), and the partial sums in block order: the
same bits at every thread count.  The loss is a compile-time choice (the type of the
``loss`` argument, ``AnyLoss``); the kernels read dense and CSR rows through
``_rows.pxd``.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int32_t

from fastgd._kernels._loss_functions cimport log_sum_exp
from fastgd._kernels._losses cimport (
    AnyLoss, ScalarLoss, Softmax, loss_second_derivative, loss_value,
)
from fastgd._kernels._rows cimport row_dot, row_logits
from fastgd._kernels._simd cimport FG_CACHE_LINE
from fastgd._kernels._thread_private cimport thread_sum
from fastgd._kernels._structs cimport Rows, RowsView, Targets, TargetsView
from fastgd._kernels._targets cimport (
    sample_target, sample_weight_of, softmax_target, softmax_weight,
)

import numpy as np

from fastgd._kernels._structs import check_model


def decision_function(Rows X, const floating[:, ::1] coef, const double[::1] intercept,
                      floating[:, ::1] out, int n_threads):
    """Write ``X @ coef.T + intercept`` into ``out`` (n_rows, n_models), rows in
    parallel.

    Parameters
    ----------
    X : Rows
    coef : ndarray of shape (n_models, n_features), X's dtype
    intercept : ndarray of float64, shape (n_models,)
    out : ndarray of shape (n_rows, n_models), X's dtype
    n_threads : int
    """
    cdef Py_ssize_t i, k, n_models = coef.shape[0], n_features = coef.shape[1]
    if np.asarray(coef).dtype != X.dtype:
        raise TypeError(f"coef ({np.asarray(coef).dtype}) must have X's dtype "
                        f"({X.dtype})")
    if (n_features != X.view.n_features or intercept.shape[0] != n_models
            or out.shape[0] != X.view.n_rows or out.shape[1] != n_models):
        raise ValueError("coef, intercept and out do not fit X")
    cdef const floating* values = <const floating*>X.view.values
    with nogil:
        for i in prange(X.view.n_rows, schedule="static", num_threads=n_threads):
            for k in range(n_models):
                out[i, k] = <floating>(row_dot(&X.view, values, i, &coef[k, 0])
                                       + intercept[k])


# rows per block of ``loss_sum``'s partial sums, and the most blocks
BLOCK_ROWS = 4096
MAX_BLOCKS = 64


cdef double scalar_loss_rows(ScalarLoss f, const RowsView* X, const TargetsView* T,
                             const int32_t[::1] rows, const floating[:, ::1] coef,
                             const double[::1] intercept, double[:, ::1] partial,
                             int n_threads) noexcept nogil:
    """The summed weighted loss of every model row; ``partial`` holds a sum per
    block of rows (its first dimension is the number of blocks)."""
    cdef const floating* values = <const floating*>X.values
    cdef const floating* y = <const floating*>T.y
    cdef const floating* sample_weight = <const floating*>T.sample_weight
    cdef Py_ssize_t b, r, i, k, n = rows.shape[0], n_blocks = partial.shape[0]
    cdef double p, target, weight
    # set before the parallel loop, whose private copies Cython initialises from
    # them (an unset pointer there is a compiler warning, not a use)
    cdef double* acc = NULL
    for b in prange(n_blocks, schedule="static", num_threads=n_threads,
                    use_threads_if=n_threads > 1):
        acc = &partial[b, 0]
        for r in range(n * b // n_blocks, n * (b + 1) // n_blocks):
            i = rows[r]
            for k in range(coef.shape[0]):
                target = sample_target(T, y, i, T.pos_class[k])
                weight = sample_weight_of(sample_weight, i, target, T.w_pos[k],
                                          T.w_neg)
                p = row_dot(X, values, i, &coef[k, 0]) + intercept[k]
                acc[0] += weight * loss_value(f, p, target)
    return thread_sum(partial, <int>n_blocks, 0)


cdef double softmax_loss_rows(const RowsView* X, const TargetsView* T,
                              const int32_t[::1] rows, const floating[:, ::1] coef,
                              const double[::1] intercept, double[:, ::1] partial,
                              double[:, ::1] logits, int n_threads) noexcept nogil:
    """The multinomial cross-entropy; ``logits`` holds a row of logits per block,
    ``partial`` a sum per block."""
    cdef const floating* values = <const floating*>X.values
    cdef const floating* soft = <const floating*>T.soft
    cdef const floating* sample_weight = <const floating*>T.sample_weight
    cdef Py_ssize_t b, r, i, k, n_classes = coef.shape[0]
    cdef Py_ssize_t n = rows.shape[0], n_blocks = partial.shape[0]
    cdef double weight, row_loss
    # set before the parallel loop (see scalar_loss_rows)
    cdef double* z = NULL
    cdef double* acc = NULL
    for b in prange(n_blocks, schedule="static", num_threads=n_threads,
                    use_threads_if=n_threads > 1):
        z = &logits[b, 0]
        acc = &partial[b, 0]
        for r in range(n * b // n_blocks, n * (b + 1) // n_blocks):
            i = rows[r]
            weight = softmax_weight(T, soft, sample_weight, i)
            row_logits(X, values, i, &coef[0, 0], &intercept[0], n_classes, z)
            row_loss = log_sum_exp(z, n_classes)
            for k in range(n_classes):
                row_loss = row_loss - softmax_target(T, soft, i, k) * z[k]
            acc[0] += weight * row_loss
    return thread_sum(partial, <int>n_blocks, 0)


def loss_sum(AnyLoss loss, Rows X, Targets targets, const int32_t[::1] rows,
             const floating[:, ::1] coef, const double[::1] intercept, int n_threads):
    """Weighted sum of the loss of every model row over the given rows of X.

    Targets and weights follow ``Targets``: model ``k`` regresses on ``y`` or
    separates its class from the rest, with its class weight times the sample weight;
    the softmax sums the cross-entropy of its classes.

    Returns
    -------
    total : float
    """
    check_model(X, targets, coef, intercept, rows)
    n_blocks = max(1, min(MAX_BLOCKS, (rows.shape[0] + BLOCK_ROWS - 1) // BLOCK_ROWS))
    n_threads = max(1, min(n_threads, n_blocks))
    cdef double total
    cdef double[:, ::1] logits
    # one cache line per block: the blocks' sums do not share lines
    cdef double[:, ::1] partial = np.zeros((n_blocks, FG_CACHE_LINE // sizeof(double)))
    if AnyLoss is Softmax:
        logits = np.empty((n_blocks, coef.shape[0]))
        with nogil:
            total = softmax_loss_rows(&X.view, &targets.view, rows, coef, intercept,
                                      partial, logits, n_threads)
    else:
        with nogil:
            total = scalar_loss_rows(loss, &X.view, &targets.view, rows, coef,
                                     intercept, partial, n_threads)
    return total


def curvature(ScalarLoss loss, Rows X, Targets targets, const int32_t[::1] rows,
              const floating[:, ::1] coef, const double[::1] intercept,
              double[:, ::1] out, int n_threads):
    """Each row's weighted second derivative of the loss at the model, for every model
    row: ``out[k, r] = s_i * w_k(i) * loss''(x_i . coef_k + b_k, y_ik)`` with ``i =
    rows[r]`` (the diagonal of ``X' diag(c) X``, the Hessian of the summed loss in
    the weights and the intercept).  A margin that is not finite gives NaN.

    Parameters
    ----------
    loss : LossFunction
        A loss of one prediction (not the softmax).
    X : Rows
    targets : Targets
    rows : ndarray of int32
    coef : ndarray of shape (n_models, n_features), X's dtype
    intercept : ndarray of float64, shape (n_models,)
    out : ndarray of float64, shape (n_models, len(rows))
    n_threads : int
    """
    check_model(X, targets, coef, intercept, rows)
    if out.shape[0] != coef.shape[0] or out.shape[1] != rows.shape[0]:
        raise ValueError("out must have shape (n_models, len(rows))")
    cdef const floating* values = <const floating*>X.view.values
    cdef const floating* y = <const floating*>targets.view.y
    cdef const floating* sample_weight = <const floating*>targets.view.sample_weight
    cdef const TargetsView* T = &targets.view
    cdef Py_ssize_t r, i, k
    cdef double p, target, weight
    with nogil:
        for r in prange(rows.shape[0], schedule="static",
                        num_threads=max(n_threads, 1)):
            i = rows[r]
            for k in range(coef.shape[0]):
                target = sample_target(T, y, i, T.pos_class[k])
                weight = sample_weight_of(sample_weight, i, target, T.w_pos[k],
                                          T.w_neg)
                p = row_dot(&X.view, values, i, &coef[k, 0]) + intercept[k]
                out[k, r] = weight * loss_second_derivative(loss, p, target)
