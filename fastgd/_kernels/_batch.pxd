# The workspace of the batch kernels (see ``_batch.pyx``).

from libc.stdint cimport int64_t


cdef class Workspace:
    cdef readonly Py_ssize_t n_models, n_features, min_parallel_rows
    cdef readonly int n_threads
    cdef readonly bint sparse, softmax
    cdef readonly object dtype
    # thread buffers, one row per thread: each model's gradient and intercept, then
    # (softmax) the row's logits
    cdef readonly object scratch, grad, grad_intercept, intercept
    cdef double[:, ::1] scratch_view
    cdef double[:, ::1] grad_view
    cdef double[::1] grad_intercept_view
    cdef double[::1] intercept_view
    # lazy updates on CSR: snapshots of the clock, batch marks and the batch's columns
    cdef double[:, ::1] snap_view
    cdef int64_t[::1] mark_view
    cdef Py_ssize_t[::1] support_view
