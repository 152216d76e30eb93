# cython: language_level=3
"""Whether OpenMP is compiled in, and how many threads it offers.

When the extensions are built without OpenMP (the serial fall-back of ``setup.py``),
the ``prange`` loops of the kernels run serially and these report one thread.
"""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define FASTGD_OPENMP 1
    static int fastgd_max_threads(void) { return omp_get_max_threads(); }
    #else
    #define FASTGD_OPENMP 0
    static int fastgd_max_threads(void) { return 1; }
    #endif
    """
    int FASTGD_OPENMP
    int fastgd_max_threads() noexcept nogil


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(FASTGD_OPENMP)


def omp_max_threads():
    """``omp_get_max_threads()``: the thread count OpenMP uses by default (it follows
    ``OMP_NUM_THREADS`` and threadpoolctl limits); 1 without OpenMP."""
    return fastgd_max_threads()
