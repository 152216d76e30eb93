# cython: language_level=3
"""Coordinate descent on a quadratic model with the elastic-net penalty: the inner
solver of proximal Newton (``fastgd._solvers.proximal_newton``).

The model of one model row is ``r0.(z - x) + (z - x)' H (z - x) / 2 + lam1 |z_w|_1 +
lam2 / 2 |z_w|^2`` over the weights ``z_w`` (the first ``d`` coordinates) and the
intercept (coordinate ``d``, not penalised), with ``H`` a dense symmetric Hessian of
a few features (``newton.MAX_FEATURES`` at most).  ``sweep`` is one cyclic pass over
given coordinates; it keeps the model's gradient ``r = r0 + H (z - x)`` up to date
with each change (a row of ``H``: ``H`` is symmetric), so a pass costs ``d`` per
coordinate moved and reads nothing else.  Sequential: a few features, and each
coordinate's step depends on the ones before.
"""
from libc.math cimport fabs


def sweep(const double[:, ::1] H, double[::1] z, double[::1] r,
          const Py_ssize_t[::1] coordinates, Py_ssize_t d, double lam1, double lam2,
          double zero_margin):
    """One cyclic pass of coordinate descent over ``coordinates``, updating ``z``
    and the model's gradient ``r`` in place.

    Parameters
    ----------
    H : ndarray of shape (d + 1, d + 1)
        The Hessian (symmetric), the intercept last.
    z, r : ndarray of shape (d + 1,)
        The point and the gradient of the model's smooth part there.
    coordinates : ndarray of intp
        The coordinates to visit, in order (``d`` is the intercept).
    d : int
    lam1, lam2 : float
    zero_margin : float
        A weight leaves zero when its gradient exceeds ``lam1 * zero_margin``.

    Returns
    -------
    float
        The largest change times its curvature.
    """
    cdef Py_ssize_t t, j, i, n = coordinates.shape[0], size = z.shape[0]
    cdef double a, a_w, old, new, u, change, shrunk, largest = 0.0
    cdef const double* row
    with nogil:
        for t in range(n):
            j = coordinates[t]
            a = H[j, j]
            old = z[j]
            if j == d:  # the intercept: not penalised
                if not a > 0:
                    continue
                new = old - r[j] / a
                a_w = a
            else:
                a_w = a + lam2
                if not a_w > 0:
                    continue
                u = a * old - r[j]
                shrunk = fabs(u) - lam1 * zero_margin
                if shrunk <= 0:
                    new = 0.0
                elif u > 0:
                    new = shrunk / a_w
                else:
                    new = -shrunk / a_w
            change = new - old
            if change != 0:
                z[j] = new
                row = &H[j, 0]
                for i in range(size):
                    r[i] += change * row[i]
                if fabs(change) * a_w > largest:
                    largest = fabs(change) * a_w
    return largest
