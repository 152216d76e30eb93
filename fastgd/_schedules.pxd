# Learning-rate schedules evaluated per step inside the kernels.  Schedules that are
# constant within an epoch (constant, adaptive, exponential, linear) are computed in
# Python and arrive here as Schedule.FIXED with their eta.

from libc.math cimport pow, sqrt

from fastgd._enums cimport Schedule


cdef inline double scheduled_eta(int schedule, double eta, double power_t,
                                 double alpha, double t0, double t) noexcept nogil:
    """Step size at step ``t`` (1-based): ``eta`` for FIXED and the PA rules,
    ``1 / (alpha * (t0 + t - 1))`` for OPTIMAL, ``eta / t ** power_t`` for INVSCALING."""
    if schedule == Schedule.OPTIMAL:
        return 1.0 / (alpha * (t0 + t - 1.0))
    if schedule == Schedule.INVSCALING:
        # sqrt is several times cheaper than pow; 0.5 and 0.25 are the defaults
        if power_t == 0.5:
            return eta / sqrt(t)
        if power_t == 0.25:
            return eta / sqrt(sqrt(t))
        return eta / pow(t, power_t)
    return eta
