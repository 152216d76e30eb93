# The target and weight of one row for one model row, shared by every kernel (see
# ``TargetsView`` in ``_structs.pxd``).  ``y`` and ``sample_weight`` are the view's
# arrays typed by the caller's ``floating``.

from cython cimport floating

from fastgd._kernels._simd cimport fg_prefetch
from fastgd._kernels._structs cimport TargetsView, checked


cdef inline double sample_target(const TargetsView* T, const floating* y, Py_ssize_t i,
                                 int pos_class) noexcept nogil:
    """+1 / -1 for a class model, ``y[i]`` for a regression model."""
    i = checked(i, T.n_rows, "target")
    if pos_class >= 0:
        return 1.0 if T.y_class[i] == pos_class else -1.0
    return y[i]


cdef inline double sample_weight_of(const floating* sample_weight, Py_ssize_t i,
                                    double target, double w_pos,
                                    double w_neg) noexcept nogil:
    """Class weight of the target's side times the sample weight (if any)."""
    cdef double weight = w_pos if target > 0.0 else w_neg
    if sample_weight != NULL:
        weight = weight * sample_weight[i]
    return weight


cdef inline void prefetch_target(const TargetsView* T, const floating* y,
                                 const floating* sample_weight, Py_ssize_t i,
                                 int pos_class) noexcept nogil:
    """Ask for the target and weight of row i (shuffled rows make them cache misses)."""
    if pos_class >= 0:
        fg_prefetch(&T.y_class[i], 1)
    else:
        fg_prefetch(&y[i], 1)
    if sample_weight != NULL:
        fg_prefetch(&sample_weight[i], 1)


cdef inline double softmax_weight(const TargetsView* T, const floating* soft,
                                  const floating* sample_weight,
                                  Py_ssize_t i) noexcept nogil:
    """Weight of row i in the softmax: its sample weight, times its class's weight
    for hard labels."""
    cdef double weight = sample_weight[i] if sample_weight != NULL else 1.0
    if soft == NULL:
        weight = weight * T.w_pos[T.y_class[i]]
    return weight


cdef inline double softmax_target(const TargetsView* T, const floating* soft,
                                  Py_ssize_t i, Py_ssize_t k) noexcept nogil:
    """Row i's target probability of class k: its soft label, or one-hot."""
    if soft != NULL:
        return soft[i * T.n_classes + k]
    return 1.0 if T.y_class[i] == k else 0.0
