# What one step of per-sample SGD does to a model: the coefficient of its gradient
# step, and its proximal steps kept as scalars, applied lazily ("just in time") on
# sparse rows; see the design comment of ``_sgd.pyx``.
#
# * L2: ``w = C * v`` with the weight scale C (Bottou 2012, "SGD tricks").
# * L1: Tsuruoka et al. (2009): ``U`` is the total penalty a weight could have received,
#   ``q[j]`` what weight j did receive, both in units of v.
# * Sparse rows: a window of steps keeps ``hU`` (U after each step) and prefix sums of C
#   and C * U over the averaged steps, so a weight that no row touched is brought up to
#   date in closed form when a row touches it, and the sum of its averaged path is read
#   off the prefix sums (the zero crossing found by binary search over U).

from cython cimport floating
from libc.math cimport fabs
from libc.stdint cimport int32_t

from fastgd._kernels._enums cimport Schedule
from fastgd._kernels._losses cimport (
    ScalarLoss, is_classification, loss_value, loss_value_and_derivative,
)
from fastgd._kernels._simd cimport vcumulative_l1, vscale
from fastgd._kernels._structs cimport StepRuleView


cdef inline double update_coefficient(
    ScalarLoss f, const StepRuleView* h, double p, double y, double eta,
    double sq_norm, double* step_loss,
) noexcept nogil:
    """Coefficient ``s`` of the gradient step ``w += s * x`` (before sample weights);
    the loss at ``p`` is written to ``step_loss``."""
    cdef double g, l
    if h.schedule == Schedule.PA1 or h.schedule == Schedule.PA2:
        l = loss_value(f, p, y)
        step_loss[0] = l
        if h.schedule == Schedule.PA1:
            if sq_norm == 0.0:
                return 0.0
            g = min(h.eta, l / sq_norm)
        else:
            g = l / (sq_norm + 0.5 / h.eta)
        # direction: towards y for classification, towards the target for regression
        if not is_classification(f):
            y = 1.0 if y - p >= 0.0 else -1.0
        return g * y
    # clip huge derivatives (to 1e12) as scikit-learn does; a run that still overflows
    # is reported by the estimator after the epoch (non-finite weights or objective)
    step_loss[0] = loss_value_and_derivative(f, p, y, &g)
    if g > 1e12:
        g = 1e12
    elif g < -1e12:
        g = -1e12
    return -eta * g




ctypedef struct Lazy:
    # window bookkeeping of the sparse kernel
    double C            # weight scale, w = C * v
    double U            # cumulative L1 penalty, in units of v
    Py_ssize_t k        # steps taken in this window
    double* hU          # hU[m]: U after m steps of the window (m = 0..window)
    double* hC          # prefix sums of (averaged) C after each step
    double* hCU         # prefix sums of (averaged) C * U after each step
    int32_t* last       # window step at which each feature was brought up to date
    double* q           # L1 penalty received by each feature
    bint l1
    bint avg


cdef inline double pending_l1(double v, double U, double q) noexcept nogil:
    """``v`` less the penalty still owed at ``U``: the start of its soft-threshold
    path."""
    if v > 0.0:
        v -= U + q
        return v if v > 0.0 else 0.0
    if v < 0.0:
        v += U - q
        return v if v < 0.0 else 0.0
    return 0.0


cdef inline void fold_scale(double C, floating* v, double* q, double* U,
                            Py_ssize_t n_features, bint l1) noexcept nogil:
    """Express v (and the L1 bookkeeping) in units where C = 1."""
    cdef Py_ssize_t j
    vscale(C, v, n_features)
    if l1:
        U[0] *= C
        for j in range(n_features):
            q[j] *= C


cdef inline double lazy_average_sum(const Lazy* z, double v, Py_ssize_t a,
                                    Py_ssize_t b) noexcept nogil:
    """Sum over steps a..b-1 of the averaged post-step weights of a feature whose path
    from step a on is ``S(v, U - U_a)`` (in units of v)."""
    cdef double av = fabs(v), Ua = z.hU[a], total
    cdef Py_ssize_t lo, hi, mid, m = b
    if av == 0.0:
        return 0.0
    if z.l1 and z.hU[b] - Ua >= av:
        # the weight reaches zero: find the last m in (a, b] with hU[m] - Ua < av
        lo = a          # hU[lo] - Ua = 0 < av
        hi = b          # hU[hi] - Ua >= av
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if z.hU[mid] - Ua < av:
                lo = mid
            else:
                hi = mid
        m = lo
    total = (av + Ua) * (z.hC[m] - z.hC[a]) - (z.hCU[m] - z.hCU[a])
    return total if v > 0.0 else -total


cdef inline void bring_up_to_date(Lazy* z, floating* v, double* avg_sum,
                                  Py_ssize_t j) noexcept nogil:
    cdef Py_ssize_t a = z.last[j], k = z.k
    if a == k:
        return
    if z.avg:
        if z.l1:
            avg_sum[j] += lazy_average_sum(z, pending_l1(v[j], z.hU[a], z.q[j]), a, k)
        else:
            avg_sum[j] += lazy_average_sum(z, v[j], a, k)
    if z.l1:
        vcumulative_l1(&v[j], &z.q[j], z.hU[k], 1)
    z.last[j] = <int32_t>k


cdef inline void close_window(Lazy* z, floating* v, double* avg_sum,
                              Py_ssize_t n_features) noexcept nogil:
    """Bring every weight up to date, fold C into v and start a new window."""
    cdef Py_ssize_t j
    if z.l1 or z.avg:
        for j in range(n_features):
            bring_up_to_date(z, v, avg_sum, j)
            z.last[j] = 0
    fold_scale(z.C, v, z.q, &z.U, n_features, z.l1)
    z.C = 1.0
    z.k = 0
    if z.l1 or z.avg:
        z.hU[0] = z.U
        z.hC[0] = 0.0
        z.hCU[0] = 0.0


cdef inline void open_lazy(Lazy* z, double* hist, Py_ssize_t window, int32_t* last,
                           double* q, bint l1, bint averaging) noexcept nogil:
    """A fresh window over the scratch ``hist`` (3 * (window + 1) doubles) and
    ``last`` (one entry per feature)."""
    z.C = 1.0
    z.U = 0.0
    z.k = 0
    z.hU = hist
    z.hC = hist + (window + 1) if hist != NULL else NULL
    z.hCU = hist + 2 * (window + 1) if hist != NULL else NULL
    z.last = last
    z.q = q
    z.l1 = l1
    z.avg = averaging
