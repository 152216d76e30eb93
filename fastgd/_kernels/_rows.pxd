# Reading one row of X, dense (C order) or CSR with int32 or int64 indices: its
# dot product with a weight vector and its scaled addition (of its values, or of their
# squares) to a float64 accumulator.
# Every kernel reads a row through these, the per-sample epochs through their typed
# pieces (``dense_row``, ``csr_range``).
#
# ``values`` is ``X.values`` typed by the caller's ``floating`` (see ``_structs.pxd``).

from cython cimport floating
from libc.stdint cimport int32_t, int64_t

from fastgd._kernels._simd cimport vacc_scaled, vdot
from fastgd._kernels._structs cimport RowsView, checked

ctypedef fused index_t:
    int32_t
    int64_t


cdef inline const floating* dense_row(const RowsView* X, const floating* values,
                                      Py_ssize_t i) noexcept nogil:
    """The first value of dense row ``i``."""
    return values + checked(i, X.n_rows, "row") * X.n_features


cdef inline void csr_range(const index_t* indptr, Py_ssize_t i, Py_ssize_t n_rows,
                           Py_ssize_t* start, Py_ssize_t* end) noexcept nogil:
    """The stored values of CSR row ``i``: positions ``start`` to ``end - 1``."""
    i = checked(i, n_rows, "row")
    start[0] = indptr[i]
    end[0] = indptr[i + 1]


cdef inline double csr_dot(const index_t* indices, const index_t* indptr,
                           const floating* data, Py_ssize_t n_rows, Py_ssize_t i,
                           const floating* w) noexcept nogil:
    cdef double acc = 0.0
    cdef Py_ssize_t jj, start, end
    csr_range(indptr, i, n_rows, &start, &end)
    for jj in range(start, end):
        acc = acc + w[indices[jj]] * data[jj]
    return acc


cdef inline void csr_add_scaled(double g, const index_t* indices, const index_t* indptr,
                                const floating* data, Py_ssize_t n_rows, Py_ssize_t i,
                                double* acc) noexcept nogil:
    cdef Py_ssize_t jj, start, end
    csr_range(indptr, i, n_rows, &start, &end)
    for jj in range(start, end):
        acc[indices[jj]] += g * data[jj]


cdef inline double row_dot(const RowsView* X, const floating* values, Py_ssize_t i,
                           const floating* w) noexcept nogil:
    """``x_i . w``."""
    if not X.sparse:
        return vdot(w, dense_row(X, values, i), X.n_features)
    if X.wide_indices:
        return csr_dot(<const int64_t*>X.indices, <const int64_t*>X.indptr, values,
                       X.n_rows, i, w)
    return csr_dot(<const int32_t*>X.indices, <const int32_t*>X.indptr, values,
                   X.n_rows, i, w)


cdef inline void row_add_scaled(double g, const RowsView* X, const floating* values,
                                Py_ssize_t i, double* acc) noexcept nogil:
    """``acc += g * x_i``."""
    if not X.sparse:
        vacc_scaled(g, dense_row(X, values, i), acc, X.n_features)
    elif X.wide_indices:
        csr_add_scaled(g, <const int64_t*>X.indices, <const int64_t*>X.indptr, values,
                       X.n_rows, i, acc)
    else:
        csr_add_scaled(g, <const int32_t*>X.indices, <const int32_t*>X.indptr, values,
                       X.n_rows, i, acc)


cdef inline void csr_add_squares(double c, const index_t* indices,
                                 const index_t* indptr, const floating* data,
                                 Py_ssize_t n_rows, Py_ssize_t i,
                                 double* acc) noexcept nogil:
    cdef Py_ssize_t jj, start, end
    csr_range(indptr, i, n_rows, &start, &end)
    for jj in range(start, end):
        acc[indices[jj]] += c * data[jj] * data[jj]


cdef inline void row_add_squares(double c, const RowsView* X, const floating* values,
                                 Py_ssize_t i, double* acc) noexcept nogil:
    """``acc += c * x_i ** 2`` (entrywise: the row's part of a Hessian's
    diagonal)."""
    cdef Py_ssize_t j
    cdef const floating* row
    if not X.sparse:
        row = dense_row(X, values, i)
        for j in range(X.n_features):
            acc[j] += c * row[j] * row[j]
    elif X.wide_indices:
        csr_add_squares(c, <const int64_t*>X.indices, <const int64_t*>X.indptr, values,
                        X.n_rows, i, acc)
    else:
        csr_add_squares(c, <const int32_t*>X.indices, <const int32_t*>X.indptr, values,
                        X.n_rows, i, acc)


cdef inline void row_logits(const RowsView* X, const floating* values, Py_ssize_t i,
                            const floating* coef, const double* intercept,
                            Py_ssize_t n_models, double* z) noexcept nogil:
    """``z[k] = x_i . coef[k] + intercept[k]`` for every model row k."""
    cdef Py_ssize_t k
    for k in range(n_models):
        z[k] = row_dot(X, values, i, coef + k * X.n_features) + intercept[k]
