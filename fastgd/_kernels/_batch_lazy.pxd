# The penalty's proximal step in mini-batch SGD, and its lazy application on CSR input.
#
# On CSR input a step touches only the support of its batch: the columns where one of
# its rows has a stored entry.  Every other coordinate has a zero gradient, and all
# that happens to it is the penalty's prox.  Those prox steps are applied when the
# coordinate is next touched (and to all coordinates at the end of the call), in
# closed form from running sums over the steps ("the clock") and a snapshot of them
# taken at the coordinate's last update.
#
# * sgd: exact for every schedule.  k prox steps compose to
#   ``w -> sign(w) max(|w| - T, 0) / P`` with ``P = prod(1 + eta_s lam2)`` and
#   ``T = sum_s eta_s lam1 prod_{r < s}(1 + eta_r lam2)``; the clock keeps the
#   running product and the running sum of those terms (products and sums from the
#   start of the call), reset once the product grows large: a division and a
#   subtraction per caught-up weight, no transcendental functions.
# * adaptive optimizers: a skipped coordinate's step is ``eta_s * c`` with ``c`` its
#   frozen scale; the k steps are composed in closed form with their mean ``eta``,
#   exact for a constant learning rate.  The optimizer state advances only when the
#   coordinate is touched (each coordinate runs the optimizer on its own clock, as
#   PyTorch's SparseAdam and TensorFlow's LazyAdam do; the eager algorithm's momentum
#   drift over untouched steps has no closed form).  For adagrad the state does not
#   change under a zero gradient, so the lazy update equals the eager one.

from cython cimport floating
from libc.math cimport exp, expm1, log1p

from fastgd._kernels._optimizers cimport (
    Optimizer, OptimizerRule, coordinate_scale, optimizer_direction,
)

ctypedef struct LazyClock:
    double step         # steps taken in this call
    double eta_sum      # sum of eta_s
    double product      # prod of (1 + eta_s lam2)
    double threshold    # sum of eta_s lam1 (product before step s)

# rows of the snapshot array (N_SNAP x n_features)
cdef enum:
    SNAP_STEP = 0
    SNAP_ETA = 1
    SNAP_PRODUCT = 2
    SNAP_THRESHOLD = 3
    N_SNAP = 4


cdef inline double prox_elastic_net(double w, double step, double lam1,
                                    double lam2) noexcept nogil:
    """Exact prox of ``step * (lam1 |w| + lam2 / 2 w^2)``: soft-threshold, then
    shrink."""
    if w > step * lam1:
        w -= step * lam1
    elif w < -step * lam1:
        w += step * lam1
    else:
        return 0.0
    return w / (1.0 + step * lam2)


cdef inline floating step_coordinate(floating w, double g, double eta,
                                     OptimizerRule* opt, double* state, double lam1,
                                     double lam2) noexcept nogil:
    """One proximal step of a weight with mean gradient ``g``."""
    cdef double factor = 1.0, d = g
    if opt.kind != Optimizer.PLAIN:
        d = optimizer_direction(opt, g, state, &factor)
    return <floating>prox_elastic_net(w - eta * factor * d, eta * factor, lam1, lam2)


cdef inline void start_clock(LazyClock* clock) noexcept nogil:
    clock.step = clock.eta_sum = clock.threshold = 0.0
    clock.product = 1.0


cdef inline void advance_clock(LazyClock* clock, double eta, double lam1,
                               double lam2) noexcept nogil:
    clock.threshold += eta * lam1 * clock.product
    clock.product *= 1.0 + eta * lam2
    clock.eta_sum += eta
    clock.step += 1.0


cdef inline void take_snapshot(double[:, ::1] snap, Py_ssize_t j,
                               const LazyClock* clock) noexcept nogil:
    snap[<int>SNAP_STEP, j] = clock.step
    snap[<int>SNAP_ETA, j] = clock.eta_sum
    snap[<int>SNAP_PRODUCT, j] = clock.product
    snap[<int>SNAP_THRESHOLD, j] = clock.threshold


cdef inline void clear_snapshots(double[:, ::1] snap) noexcept nogil:
    """Every column as if just caught up at the clock's start."""
    cdef Py_ssize_t j
    for j in range(snap.shape[1]):
        snap[<int>SNAP_STEP, j] = 0.0
        snap[<int>SNAP_ETA, j] = 0.0
        snap[<int>SNAP_PRODUCT, j] = 1.0
        snap[<int>SNAP_THRESHOLD, j] = 0.0


cdef inline void rebase_clock(LazyClock* clock, double[:, ::1] snap) noexcept nogil:
    """Restart the clock's running product and sums (not its step count) once every
    column has been caught up, long before the product overflows."""
    cdef Py_ssize_t j
    clock.eta_sum = clock.threshold = 0.0
    clock.product = 1.0
    for j in range(snap.shape[1]):
        snap[<int>SNAP_ETA, j] = snap[<int>SNAP_THRESHOLD, j] = 0.0
        snap[<int>SNAP_PRODUCT, j] = 1.0


cdef inline double catch_up(double w, const LazyClock* clock,
                            const double[:, ::1] snap, Py_ssize_t j, double c,
                            bint plain, double lam1, double lam2) noexcept nogil:
    """Weight ``w`` of column j after the prox steps it missed since its snapshot."""
    cdef double n = clock.step - snap[<int>SNAP_STEP, j]
    cdef double shrink, thr, a, la
    if n <= 0.0 or w == 0.0:
        return w                     # the prox keeps zero at zero
    if plain:
        shrink = clock.product / snap[<int>SNAP_PRODUCT, j]
        thr = ((clock.threshold - snap[<int>SNAP_THRESHOLD, j])
               / snap[<int>SNAP_PRODUCT, j])
    else:
        a = c * (clock.eta_sum - snap[<int>SNAP_ETA, j]) / n
        la = log1p(a * lam2)
        shrink = exp(n * la)
        thr = a * lam1 * (expm1(n * la) / (a * lam2) if a * lam2 > 0.0 else n)
    if w > thr:
        return (w - thr) / shrink
    if w < -thr:
        return (w + thr) / shrink
    return 0.0


cdef inline double* coordinate_state(double* opt_state, Py_ssize_t n_slots,
                                     Py_ssize_t n_features, Py_ssize_t k,
                                     Py_ssize_t j) noexcept nogil:
    """The optimizer state of coordinate j of model k (j == n_features: its intercept)
    in a C-ordered (n_models, n_features + 1, n_slots) array."""
    return opt_state + (k * (n_features + 1) + j) * n_slots


cdef inline void catch_up_columns(
    floating* coef, Py_ssize_t n_models, Py_ssize_t n_features,
    const LazyClock* clock, double[:, ::1] snap, const Py_ssize_t* columns,
    Py_ssize_t n_columns, OptimizerRule* opt, double* opt_state, Py_ssize_t n_slots,
    double lam1, double lam2,
) noexcept nogil:
    """Bring the given columns (all of them when ``columns`` is NULL) up to the
    clock."""
    cdef Py_ssize_t s, j, k
    cdef bint plain = opt.kind == Optimizer.PLAIN
    cdef double c = 1.0
    cdef floating* w
    for s in range(n_columns):
        j = columns[s] if columns != NULL else s
        if lam1 > 0.0 or lam2 > 0.0:
            for k in range(n_models):
                if not plain:
                    c = coordinate_scale(
                        opt, coordinate_state(opt_state, n_slots, n_features, k, j))
                w = &coef[k * n_features + j]
                w[0] = <floating>catch_up(w[0], clock, snap, j, c, plain, lam1, lam2)
        take_snapshot(snap, j, clock)
