# Typed views of the vector primitives in _simd.h, one name per operation for both
# float32 and float64 (chosen at compile time through the ``floating`` fused type).
from cython cimport floating

cdef extern from "_simd.h" nogil:
    const size_t FG_CACHE_LINE
    double fg_dot_d(const double* a, const double* b, Py_ssize_t n)
    double fg_dot_s(const float* a, const float* b, Py_ssize_t n)
    void fg_axpy_d(double s, const double* x, double* v, Py_ssize_t n)
    void fg_axpy_s(float s, const float* x, float* v, Py_ssize_t n)
    double fg_axpy_dot_d(double s, const double* x, double* v, const double* z, Py_ssize_t n)
    double fg_axpy_dot_s(float s, const float* x, float* v, const float* z, Py_ssize_t n)
    void fg_acc_scaled_d(double c, const double* v, double* acc, Py_ssize_t n)
    void fg_acc_scaled_s(double c, const float* v, double* acc, Py_ssize_t n)
    void fg_scale_d(double c, double* v, Py_ssize_t n)
    void fg_cumulative_l1_d(double* v, double* q, double U, Py_ssize_t n)
    void fg_cumulative_l1_s(float* v, double* q, double U, Py_ssize_t n)
    void fg_scale_s(double c, float* v, Py_ssize_t n)
    void fg_prefetch(const void* p, Py_ssize_t nbytes)
    void fg_prefetch_l2(const void* p, Py_ssize_t nbytes)


cdef inline double vdot(const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    if floating is double:
        return fg_dot_d(a, b, n)
    else:
        return fg_dot_s(a, b, n)


cdef inline void vaxpy(floating s, const floating* x, floating* v, Py_ssize_t n) noexcept nogil:
    if floating is double:
        fg_axpy_d(s, x, v, n)
    else:
        fg_axpy_s(s, x, v, n)


cdef inline double vaxpy_dot(floating s, const floating* x, floating* v, const floating* z,
                             Py_ssize_t n) noexcept nogil:
    if floating is double:
        return fg_axpy_dot_d(s, x, v, z, n)
    else:
        return fg_axpy_dot_s(s, x, v, z, n)


cdef inline void vacc_scaled(double c, const floating* v, double* acc, Py_ssize_t n) noexcept nogil:
    if floating is double:
        fg_acc_scaled_d(c, v, acc, n)
    else:
        fg_acc_scaled_s(c, v, acc, n)


cdef inline void vscale(double c, floating* v, Py_ssize_t n) noexcept nogil:
    if floating is double:
        fg_scale_d(c, v, n)
    else:
        fg_scale_s(c, v, n)


cdef inline void vcumulative_l1(floating* v, double* q, double U,
                                Py_ssize_t n) noexcept nogil:
    if floating is double:
        fg_cumulative_l1_d(v, q, U, n)
    else:
        fg_cumulative_l1_s(v, q, U, n)
