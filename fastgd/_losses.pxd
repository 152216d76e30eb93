# Point functions of every loss: value ``loss(tag, p, y, eps)`` and derivative with
# respect to the prediction ``dloss(tag, p, y, eps)``.
#
# Design: the loss is a compile-time choice.  Each loss is an empty struct "tag" and
# ``LossTag`` is a fused type over them, so a kernel written once as
# ``kernel(LossTag* tag, ...)`` is specialised by Cython into one C function per loss,
# with the point functions inlined; the loss is picked once per kernel call (see
# ``dispatch`` chains in the kernel modules), never per sample.
#
# Conventions: regression losses compare p with a real target y; classification
# losses take y in {-1, +1}.  ``squared_error`` is the half squared error, as in
# scikit-learn.  Log loss is evaluated without overflow for any margin.

from libc.math cimport exp, log1p, fabs

ctypedef struct SquaredErrorTag:
    char _
ctypedef struct HuberTag:
    char _
ctypedef struct EpsilonInsensitiveTag:
    char _
ctypedef struct SquaredEpsilonInsensitiveTag:
    char _
ctypedef struct LogLossTag:
    char _
ctypedef struct HingeTag:
    char _
ctypedef struct SquaredHingeTag:
    char _
ctypedef struct ModifiedHuberTag:
    char _
ctypedef struct PerceptronTag:
    char _

ctypedef fused LossTag:
    SquaredErrorTag
    HuberTag
    EpsilonInsensitiveTag
    SquaredEpsilonInsensitiveTag
    LogLossTag
    HingeTag
    SquaredHingeTag
    ModifiedHuberTag
    PerceptronTag


cdef inline double log1pexp(double x) noexcept nogil:
    """log(1 + exp(x)) without overflow."""
    if x > 18.0:
        return x + exp(-x)
    if x < -37.0:
        return exp(x)
    return log1p(exp(x))


cdef inline double loss(LossTag* tag, double p, double y, double eps) noexcept nogil:
    cdef double r, z
    if LossTag is SquaredErrorTag:
        r = p - y
        return 0.5 * r * r
    elif LossTag is HuberTag:
        r = fabs(p - y)
        if r <= eps:
            return 0.5 * r * r
        return eps * (r - 0.5 * eps)
    elif LossTag is EpsilonInsensitiveTag:
        r = fabs(y - p) - eps
        return r if r > 0.0 else 0.0
    elif LossTag is SquaredEpsilonInsensitiveTag:
        r = fabs(y - p) - eps
        return r * r if r > 0.0 else 0.0
    elif LossTag is LogLossTag:
        return log1pexp(-y * p)
    elif LossTag is HingeTag:
        z = 1.0 - y * p
        return z if z > 0.0 else 0.0
    elif LossTag is SquaredHingeTag:
        z = 1.0 - y * p
        return z * z if z > 0.0 else 0.0
    elif LossTag is ModifiedHuberTag:
        z = y * p
        if z >= 1.0:
            return 0.0
        if z >= -1.0:
            return (1.0 - z) * (1.0 - z)
        return -4.0 * z
    else:  # PerceptronTag
        z = -y * p
        return z if z > 0.0 else 0.0


cdef inline double dloss(LossTag* tag, double p, double y, double eps) noexcept nogil:
    cdef double r, z
    if LossTag is SquaredErrorTag:
        return p - y
    elif LossTag is HuberTag:
        r = p - y
        if r > eps:
            return eps
        if r < -eps:
            return -eps
        return r
    elif LossTag is EpsilonInsensitiveTag:
        r = p - y
        if r > eps:
            return 1.0
        if r < -eps:
            return -1.0
        return 0.0
    elif LossTag is SquaredEpsilonInsensitiveTag:
        r = p - y
        if r > eps:
            return 2.0 * (r - eps)
        if r < -eps:
            return 2.0 * (r + eps)
        return 0.0
    elif LossTag is LogLossTag:
        z = y * p
        if z > 18.0:
            return -y * exp(-z)
        if z < -18.0:
            return -y
        return -y / (1.0 + exp(z))
    elif LossTag is HingeTag:
        return -y if y * p <= 1.0 else 0.0
    elif LossTag is SquaredHingeTag:
        z = 1.0 - y * p
        return -2.0 * y * z if z > 0.0 else 0.0
    elif LossTag is ModifiedHuberTag:
        z = y * p
        if z >= 1.0:
            return 0.0
        if z >= -1.0:
            return -2.0 * y * (1.0 - z)
        return -4.0 * y
    else:  # PerceptronTag
        return -y if y * p <= 0.0 else 0.0


cdef inline double loss_and_dloss(LossTag* tag, double p, double y, double eps,
                                  double* deriv) noexcept nogil:
    """Loss value, with its derivative written to ``deriv``; log loss shares one exp."""
    cdef double z, e
    if LossTag is LogLossTag:
        z = y * p
        if z > 18.0:
            e = exp(-z)
            deriv[0] = -y * e
            return e
        if z < -18.0:
            deriv[0] = -y
            return -z + exp(z)
        e = exp(-z)
        deriv[0] = -y * e / (1.0 + e)
        return log1p(e)
    else:
        deriv[0] = dloss(tag, p, y, eps)
        return loss(tag, p, y, eps)
