# One row of X, dense (C-contiguous) or CSR: its dot product with a weight vector and
# its scaled addition to a float64 accumulator.  Shared by the batch, softmax and
# prediction kernels so that every kernel reads a row the same way.

from cython cimport floating
from libc.stdint cimport int32_t, int64_t

from fastgd._simd cimport vacc_scaled, vdot

ctypedef fused index_t:
    int32_t
    int64_t


cdef inline double row_dot(
    bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, Py_ssize_t i,
    const floating* w, Py_ssize_t n_features,
) noexcept nogil:
    """``x_i . w``."""
    cdef double acc = 0.0
    cdef Py_ssize_t jj
    if sparse:
        for jj in range(indptr[i], indptr[i + 1]):
            acc = acc + w[indices[jj]] * data[jj]
        return acc
    return vdot(w, &X[i, 0], n_features)


cdef inline void row_add_scaled(
    double g, bint sparse, const floating[:, ::1] X, const floating[::1] data,
    const index_t[::1] indices, const index_t[::1] indptr, Py_ssize_t i,
    double* acc, Py_ssize_t n_features,
) noexcept nogil:
    """``acc += g * x_i``."""
    cdef Py_ssize_t jj
    if sparse:
        for jj in range(indptr[i], indptr[i + 1]):
            acc[indices[jj]] += g * data[jj]
    else:
        vacc_scaled(g, &X[i, 0], acc, n_features)
