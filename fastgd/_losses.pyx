# cython: language_level=3
"""Element-wise loss values and derivatives over arrays (used by the tests and by
``fastgd.losses``-style diagnostics); the point functions live in ``_losses.pxd``."""

from fastgd._enums cimport Loss
from fastgd._losses cimport (
    LossTag, SquaredErrorTag, HuberTag, EpsilonInsensitiveTag,
    SquaredEpsilonInsensitiveTag, LogLossTag, HingeTag, SquaredHingeTag,
    ModifiedHuberTag, PerceptronTag, loss_and_dloss,
)

import numpy as np


cdef void _eval(LossTag* tag, const double[::1] p, const double[::1] y, double eps,
                double[::1] value, double[::1] deriv) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(p.shape[0]):
        value[i] = loss_and_dloss(tag, p[i], y[i], eps, &deriv[i])


def loss_and_derivative(int loss_id, p, y, double epsilon=0.1):
    """Loss value and its derivative with respect to the prediction, element-wise.

    Parameters
    ----------
    loss_id : int
        A member of ``fastgd._enums.Loss``.
    p, y : array-like of float64, same shape
        Predictions and targets (classification losses take ``y`` in {-1, +1}).
    epsilon : float, default=0.1
        Parameter of the huber and epsilon-insensitive losses.

    Returns
    -------
    value, derivative : ndarray of float64
    """
    cdef const double[::1] p_ = np.ascontiguousarray(p, dtype=np.float64).ravel()
    cdef const double[::1] y_ = np.ascontiguousarray(y, dtype=np.float64).ravel()
    if p_.shape[0] != y_.shape[0]:
        raise ValueError("p and y must have the same length")
    value = np.empty(p_.shape[0])
    deriv = np.empty(p_.shape[0])
    cdef double[::1] v = value, d = deriv
    with nogil:
        if loss_id == Loss.SQUARED_ERROR:
            _eval(<SquaredErrorTag*>NULL, p_, y_, epsilon, v, d)
        elif loss_id == Loss.HUBER:
            _eval(<HuberTag*>NULL, p_, y_, epsilon, v, d)
        elif loss_id == Loss.EPSILON_INSENSITIVE:
            _eval(<EpsilonInsensitiveTag*>NULL, p_, y_, epsilon, v, d)
        elif loss_id == Loss.SQUARED_EPSILON_INSENSITIVE:
            _eval(<SquaredEpsilonInsensitiveTag*>NULL, p_, y_, epsilon, v, d)
        elif loss_id == Loss.LOG_LOSS:
            _eval(<LogLossTag*>NULL, p_, y_, epsilon, v, d)
        elif loss_id == Loss.HINGE:
            _eval(<HingeTag*>NULL, p_, y_, epsilon, v, d)
        elif loss_id == Loss.SQUARED_HINGE:
            _eval(<SquaredHingeTag*>NULL, p_, y_, epsilon, v, d)
        elif loss_id == Loss.MODIFIED_HUBER:
            _eval(<ModifiedHuberTag*>NULL, p_, y_, epsilon, v, d)
        elif loss_id == Loss.PERCEPTRON:
            _eval(<PerceptronTag*>NULL, p_, y_, epsilon, v, d)
        else:
            with gil:
                raise ValueError(f"unknown loss id {loss_id}")
    return value, deriv
