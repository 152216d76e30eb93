# The target and weight of one sample for one model row, shared by every kernel.
#
# Model rows either regress on ``y`` (``pos_class == -1``) or separate class index
# ``pos_class`` (+1) from the others (-1); the positive samples weigh ``w_pos``, the
# others ``w_neg``, both times the sample weight when there is one.

from cython cimport floating
from libc.stdint cimport int32_t


cdef inline double sample_target(
    Py_ssize_t i, int pos_class, const floating[::1] y, const int32_t[::1] y_class,
) noexcept nogil:
    """+1 / -1 for a class model, ``y[i]`` for a regression model."""
    if pos_class >= 0:
        return 1.0 if y_class[i] == pos_class else -1.0
    return y[i]


cdef inline double sample_weight_of(
    Py_ssize_t i, double target, double w_pos, double w_neg,
    const floating[::1] sample_weight,
) noexcept nogil:
    """Class weight of the target's side times the sample weight (if any)."""
    cdef double weight = w_pos if target > 0.0 else w_neg
    if sample_weight.shape[0] > 0:
        weight = weight * sample_weight[i]
    return weight
