# Point functions of every loss: ``<name>_value(p, y, epsilon)``, its derivative in
# the prediction ``<name>_derivative(p, y, epsilon)`` and its second derivative
# ``<name>_second_derivative(p, y, epsilon)`` (the curvature Newton's method weighs
# each row by; 0 where a non-smooth loss is flat or at its kinks), with ``<name>``
# the loss's row in ``_tables.py``; a loss may add ``<name>_value_and_derivative``
# when the two share work (the table says so).  The generated ``_losses.pxd`` calls them through one
# compile-time dispatch, so every kernel inlines them.
#
# Conventions: regression losses compare p with a real target y; classification losses
# take y in {-1, +1}.  ``squared_error`` is the half squared error, as in
# scikit-learn; ``epsilon`` is the parameter of the huber and epsilon-insensitive
# losses (unused by the others).  Log loss is evaluated without overflow for any
# margin.  Derivatives at kinks are the sub-gradients scikit-learn picks.

from libc.math cimport exp, fabs, log, log1p


cdef inline double log1pexp(double x) noexcept nogil:
    """log(1 + exp(x)) without overflow."""
    if x > 18.0:
        return x + exp(-x)
    if x < -37.0:
        return exp(x)
    return log1p(exp(x))


# ---------------------------------------------------------------- regression

cdef inline double squared_error_value(double p, double y,
                                       double epsilon) noexcept nogil:
    cdef double r = p - y
    return 0.5 * r * r


cdef inline double squared_error_derivative(double p, double y,
                                            double epsilon) noexcept nogil:
    return p - y


cdef inline double squared_error_second_derivative(double p, double y,
                                                   double epsilon) noexcept nogil:
    return 1.0

cdef inline double huber_value(double p, double y, double epsilon) noexcept nogil:
    cdef double r = fabs(p - y)
    if r <= epsilon:
        return 0.5 * r * r
    return epsilon * (r - 0.5 * epsilon)


cdef inline double huber_derivative(double p, double y, double epsilon) noexcept nogil:
    cdef double r = p - y
    if r > epsilon:
        return epsilon
    if r < -epsilon:
        return -epsilon
    return r


cdef inline double huber_second_derivative(double p, double y,
                                           double epsilon) noexcept nogil:
    return 1.0 if fabs(p - y) <= epsilon else 0.0

cdef inline double epsilon_insensitive_value(double p, double y,
                                             double epsilon) noexcept nogil:
    cdef double r = fabs(y - p) - epsilon
    return r if r > 0.0 else 0.0


cdef inline double epsilon_insensitive_derivative(double p, double y,
                                                  double epsilon) noexcept nogil:
    cdef double r = p - y
    if r > epsilon:
        return 1.0
    if r < -epsilon:
        return -1.0
    return 0.0


cdef inline double epsilon_insensitive_second_derivative(
        double p, double y, double epsilon) noexcept nogil:
    return 0.0

cdef inline double squared_epsilon_insensitive_value(double p, double y,
                                                     double epsilon) noexcept nogil:
    cdef double r = fabs(y - p) - epsilon
    return r * r if r > 0.0 else 0.0


cdef inline double squared_epsilon_insensitive_derivative(
        double p, double y, double epsilon) noexcept nogil:
    cdef double r = p - y
    if r > epsilon:
        return 2.0 * (r - epsilon)
    if r < -epsilon:
        return 2.0 * (r + epsilon)
    return 0.0


cdef inline double squared_epsilon_insensitive_second_derivative(
        double p, double y, double epsilon) noexcept nogil:
    return 2.0 if fabs(p - y) > epsilon else 0.0

# ------------------------------------------------------------ classification

cdef inline double log_loss_value(double p, double y, double epsilon) noexcept nogil:
    return log1pexp(-y * p)


cdef inline double log_loss_derivative(double p, double y,
                                       double epsilon) noexcept nogil:
    cdef double z = y * p
    if z > 18.0:
        return -y * exp(-z)
    if z < -18.0:
        return -y
    return -y / (1.0 + exp(z))


cdef inline double log_loss_second_derivative(double p, double y,
                                              double epsilon) noexcept nogil:
    """``sigma(z) (1 - sigma(z))`` at ``z = y p`` (``y^2 = 1``), without overflow."""
    cdef double e = exp(-fabs(y * p))
    return e / ((1.0 + e) * (1.0 + e))

cdef inline double log_loss_value_and_derivative(double p, double y, double epsilon,
                                                 double* derivative) noexcept nogil:
    """The value, with the derivative written to ``derivative``: one exp for both."""
    cdef double z = y * p, e
    if z > 18.0:
        e = exp(-z)
        derivative[0] = -y * e
        return e
    if z < -18.0:
        derivative[0] = -y
        return -z + exp(z)
    e = exp(-z)
    derivative[0] = -y * e / (1.0 + e)
    return log1p(e)


cdef inline double hinge_value(double p, double y, double epsilon) noexcept nogil:
    cdef double z = 1.0 - y * p
    return z if z > 0.0 else 0.0


cdef inline double hinge_derivative(double p, double y, double epsilon) noexcept nogil:
    return -y if y * p <= 1.0 else 0.0


cdef inline double hinge_second_derivative(double p, double y,
                                           double epsilon) noexcept nogil:
    return 0.0

cdef inline double squared_hinge_value(double p, double y,
                                       double epsilon) noexcept nogil:
    cdef double z = 1.0 - y * p
    return z * z if z > 0.0 else 0.0


cdef inline double squared_hinge_derivative(double p, double y,
                                            double epsilon) noexcept nogil:
    cdef double z = 1.0 - y * p
    return -2.0 * y * z if z > 0.0 else 0.0


cdef inline double squared_hinge_second_derivative(double p, double y,
                                                   double epsilon) noexcept nogil:
    return 2.0 if y * p < 1.0 else 0.0

cdef inline double modified_huber_value(double p, double y,
                                        double epsilon) noexcept nogil:
    cdef double z = y * p
    if z >= 1.0:
        return 0.0
    if z >= -1.0:
        return (1.0 - z) * (1.0 - z)
    return -4.0 * z


cdef inline double modified_huber_derivative(double p, double y,
                                             double epsilon) noexcept nogil:
    cdef double z = y * p
    if z >= 1.0:
        return 0.0
    if z >= -1.0:
        return -2.0 * y * (1.0 - z)
    return -4.0 * y


cdef inline double modified_huber_second_derivative(double p, double y,
                                                    double epsilon) noexcept nogil:
    cdef double z = y * p
    return 2.0 if -1.0 <= z < 1.0 else 0.0

cdef inline double perceptron_value(double p, double y, double epsilon) noexcept nogil:
    cdef double z = -y * p
    return z if z > 0.0 else 0.0


cdef inline double perceptron_derivative(double p, double y,
                                         double epsilon) noexcept nogil:
    return -y if y * p <= 0.0 else 0.0


cdef inline double perceptron_second_derivative(double p, double y,
                                                double epsilon) noexcept nogil:
    return 0.0

# -------------------------------------------------- multinomial (softmax) rows

cdef inline double log_sum_exp(const double* z, Py_ssize_t n) noexcept nogil:
    """``log(sum_k exp(z[k]))``, shifted by the largest logit (no overflow)."""
    cdef double zmax = -1e308, total = 0.0
    cdef Py_ssize_t k
    for k in range(n):
        if z[k] > zmax:
            zmax = z[k]
    for k in range(n):
        total = total + exp(z[k] - zmax)
    return zmax + log(total)
