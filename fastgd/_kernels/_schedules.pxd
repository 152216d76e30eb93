# Learning-rate schedules evaluated per step inside the kernels.  Schedules that are
# constant within an epoch (constant, adaptive, exponential, linear) are computed in
# Python and arrive here as Schedule.FIXED with their eta.

from libc.math cimport pow, sqrt

from fastgd._kernels._enums cimport Schedule


cdef inline double scheduled_eta(int schedule, double eta, double power_t,
                                 double alpha, double t0, double t) noexcept nogil:
    """Step size at step ``t`` (1-based): ``eta`` for FIXED and the PA rules,
    ``1 / (alpha * (t0 + t - 1))`` for OPTIMAL, ``eta / t ** power_t`` for
    INVSCALING."""
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


# Per-sample kernels take one step per row and need the step size of every step.  The
# per-step schedules cost a division and square roots (or a pow) each, tens of cycles;
# computed one at a time they sit in the row loop's way.  An EtaBlock holds the step
# sizes of the next ETA_BLOCK steps, computed together in one loop that compilers
# vectorise (square root and division are exactly rounded: the values are the same).
cdef enum:
    ETA_BLOCK = 64

ctypedef struct EtaBlock:
    double first                # step counter of etas[0]
    double etas[ETA_BLOCK]      # etas[k]: step size at step first + k


cdef inline void start_eta_block(EtaBlock* block) noexcept nogil:
    block.first = -1e18  # no step is in the block yet


cdef inline void fill_eta_block(EtaBlock* block, int schedule, double eta,
                                double power_t, double alpha, double t0,
                                double t) noexcept nogil:
    # the schedule's branches do not depend on k: compilers take them out of the loop
    # and vectorise each version (GCC -O3 reports it; pow stays scalar)
    cdef int k
    block.first = t
    for k in range(ETA_BLOCK):
        block.etas[k] = scheduled_eta(schedule, eta, power_t, alpha, t0, t + k)


cdef inline double blocked_eta(EtaBlock* block, int schedule, double eta,
                               double power_t, double alpha, double t0,
                               double t) noexcept nogil:
    """``scheduled_eta`` at step ``t`` through ``block``."""
    cdef double k
    if schedule != Schedule.OPTIMAL and schedule != Schedule.INVSCALING:
        return eta
    k = t - block.first
    if not (k >= 0.0 and k < ETA_BLOCK):
        fill_eta_block(block, schedule, eta, power_t, alpha, t0, t)
        k = 0.0
    return block.etas[<int>k]
