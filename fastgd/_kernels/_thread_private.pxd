# What the threads of a kernel keep to themselves.  Copies on cache lines of their own,
# for arrays that several threads write side by side (one-vs-rest models):
# where two threads' rows share a cache line, it moves between the cores on every step
# (false sharing).  And per-thread sums, added in thread order afterwards, so that a
# given thread count always adds in the same order (an OpenMP reduction adds in the
# order the threads finish).

from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from fastgd._kernels._simd cimport FG_CACHE_LINE


cdef inline void* line_aligned_copy(void* src, size_t nbytes,
                                    void** raw) noexcept nogil:
    """A copy of ``src`` that starts on a fresh cache line and owns the lines it ends
    on; ``raw`` receives the block to free.  On allocation failure (or for nothing to
    copy), ``src`` itself."""
    cdef char* p
    raw[0] = NULL
    if src == NULL or nbytes == 0:
        return src
    raw[0] = malloc(nbytes + 2 * FG_CACHE_LINE)
    if raw[0] == NULL:
        return src
    p = <char*>raw[0] + (FG_CACHE_LINE - <size_t>raw[0] % FG_CACHE_LINE)
    memcpy(p, src, nbytes)
    return p


cdef inline void copy_back_and_free(void* dst, void* copy, void* raw,
                                    size_t nbytes) noexcept nogil:
    """Undo ``line_aligned_copy``: write the trained copy back."""
    if raw != NULL:
        memcpy(dst, copy, nbytes)
        free(raw)


cdef inline double thread_sum(const double[:, ::1] scratch, int n_threads,
                              Py_ssize_t slot) noexcept nogil:
    """``scratch[0, slot] + scratch[1, slot] + ...``, in thread order."""
    cdef double acc = scratch[0, slot]
    cdef int t
    for t in range(1, n_threads):
        acc = acc + scratch[t, slot]
    return acc
