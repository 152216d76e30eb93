# cython: language_level=3
"""Row-parallel kernels over a fitted linear model: decision function and summed loss.

Design: ``prange`` over rows with a static schedule and ``n_threads`` threads; every
row is independent, so the output of ``decision_function`` does not depend on the
thread count.  ``sum_loss`` reduces in double with an OpenMP reduction.  The loss is a
compile-time choice (``LossTag``); both kernels handle dense C-contiguous and CSR X.
"""

from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t

from fastgd._enums cimport Loss
from fastgd._rows cimport index_t, row_dot
from fastgd._targets cimport sample_target, sample_weight_of
from fastgd._losses cimport (
    LossTag, SquaredErrorTag, HuberTag, EpsilonInsensitiveTag,
    SquaredEpsilonInsensitiveTag, LogLossTag, HingeTag, SquaredHingeTag,
    ModifiedHuberTag, PerceptronTag, loss,
)

ctypedef fused floating:
    float
    double



def decision_function(
    bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, Py_ssize_t n_rows,
    const floating[:, ::1] coef, const double[::1] intercept, floating[:, ::1] out,
    int n_threads,
):
    """Write ``X @ coef.T + intercept`` into ``out`` (n_rows, n_models), rows in parallel.

    Parameters
    ----------
    sparse : bool
        Whether X is CSR (``data``, ``indices``, ``indptr``) or dense (``X``).
    X, data, indices, indptr : ndarrays
        The input; unused parts are empty arrays.
    n_rows : int
    coef : ndarray of shape (n_models, n_features)
    intercept : ndarray of float64, shape (n_models,)
    out : ndarray of shape (n_rows, n_models)
    n_threads : int
    """
    cdef Py_ssize_t i, k, n_models = coef.shape[0], n_features = coef.shape[1]
    with nogil:
        for i in prange(n_rows, schedule="static", num_threads=n_threads):
            for k in range(n_models):
                out[i, k] = <floating>(row_dot(sparse, X, data, indices, indptr, i,
                                               &coef[k, 0], n_features) + intercept[k])


cdef double sum_loss_rows(
    LossTag* tag, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, const floating[::1] y,
    const int32_t[::1] y_class, const int32_t[::1] pos_classes,
    const floating[::1] sample_weight, const double[::1] w_pos, double w_neg,
    const int32_t[::1] rows, const floating[:, ::1] coef, const double[::1] intercept,
    double eps, int n_threads,
) noexcept nogil:
    cdef Py_ssize_t r, i, k, n_models = coef.shape[0], n_features = coef.shape[1]
    cdef double total = 0.0, p, target, weight
    for r in prange(rows.shape[0], schedule="static", num_threads=n_threads):
        i = rows[r]
        for k in range(n_models):
            target = sample_target(i, pos_classes[k], y, y_class)
            weight = sample_weight_of(i, target, w_pos[k], w_neg, sample_weight)
            p = row_dot(sparse, X, data, indices, indptr, i, &coef[k, 0],
                        n_features) + intercept[k]
            total += weight * loss(tag, p, target, eps)
    return total


def sum_loss(
    int loss_id, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, const floating[::1] y,
    const int32_t[::1] y_class, const int32_t[::1] pos_classes,
    const floating[::1] sample_weight, const double[::1] w_pos, double w_neg,
    const int32_t[::1] rows, const floating[:, ::1] coef, const double[::1] intercept,
    double epsilon, int n_threads,
):
    """Weighted sum of the loss of every model row over the given rows of X.

    Targets and weights follow ``fastgd._sgd.sgd_epoch``: model ``k`` regresses on
    ``y`` when ``pos_classes[k] == -1`` and otherwise separates class
    ``pos_classes[k]`` (+1) from the rest (-1), with weights ``w_pos[k]`` / ``w_neg``
    times ``sample_weight``.

    Returns
    -------
    total : float
    """
    cdef double total
    with nogil:
        if loss_id == Loss.SQUARED_ERROR:
            total = sum_loss_rows(<SquaredErrorTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        elif loss_id == Loss.HUBER:
            total = sum_loss_rows(<HuberTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        elif loss_id == Loss.EPSILON_INSENSITIVE:
            total = sum_loss_rows(<EpsilonInsensitiveTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        elif loss_id == Loss.SQUARED_EPSILON_INSENSITIVE:
            total = sum_loss_rows(<SquaredEpsilonInsensitiveTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        elif loss_id == Loss.LOG_LOSS:
            total = sum_loss_rows(<LogLossTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        elif loss_id == Loss.HINGE:
            total = sum_loss_rows(<HingeTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        elif loss_id == Loss.SQUARED_HINGE:
            total = sum_loss_rows(<SquaredHingeTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        elif loss_id == Loss.MODIFIED_HUBER:
            total = sum_loss_rows(<ModifiedHuberTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        elif loss_id == Loss.PERCEPTRON:
            total = sum_loss_rows(<PerceptronTag*>NULL, sparse, X, data, indices, indptr, y, y_class, pos_classes, sample_weight, w_pos, w_neg, rows, coef, intercept, epsilon, n_threads)
        else:
            with gil:
                raise ValueError(f"unknown loss id {loss_id}")
    return total
