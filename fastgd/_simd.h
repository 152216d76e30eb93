/* Vector primitives of the dense kernels: dot products, axpy (alone or fused with the
 * next dot product), scaled accumulation, scaling, and a row prefetch.
 *
 * Design
 * - Per-sample SGD is latency bound: a row's update cannot start before the dot
 *   product of that row is summed.  So the dot products keep four independent vector
 *   accumulators, sum them as a tree, and handle the last n % width elements with a
 *   masked load instead of a serial scalar loop.
 * - On x86-64 with GCC or clang the hot primitives are written with AVX2 + FMA
 *   intrinsics and chosen at run time (one check of the CPU, cached), so one build
 *   runs everywhere and uses wide vectors and fused multiply-adds where the CPU has
 *   them.  Elsewhere, and on CPUs without AVX2, plain C loops with several partial
 *   sums (which compilers vectorise) do the same work.
 * - float32 rows are summed in float32 lanes (twice the elements per instruction)
 *   and returned as double.
 */
#ifndef FASTGD_SIMD_H
#define FASTGD_SIMD_H

#include <stddef.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define FG_X86 1
#include <immintrin.h>
#else
#define FG_X86 0
#endif

#define FG_LANES 8

/* bytes per cache line (x86-64 and most ARM cores): the step of the row prefetches,
 * and the alignment of the threads' private copies (_private_copy.pxd) */
#define FG_CACHE_LINE 64

/* ------------------------------------------------------------ portable versions */

#define FG_DEFINE_GENERIC(T, S)                                                     \
static double fg_dot_##S##_generic(const T *restrict a, const T *restrict b,       \
                                   ptrdiff_t n) {                                   \
    T acc[FG_LANES] = {0};                                                          \
    ptrdiff_t i = 0;                                                                \
    int k;                                                                          \
    for (; i + FG_LANES <= n; i += FG_LANES)                                        \
        for (k = 0; k < FG_LANES; k++)                                              \
            acc[k] += a[i + k] * b[i + k];                                          \
    for (k = 0; k < FG_LANES / 2; k++)                                              \
        acc[k] += acc[k + FG_LANES / 2];                                            \
    double total = (double)(acc[0] + acc[2]) + (double)(acc[1] + acc[3]);           \
    for (; i < n; i++)                                                              \
        total += (double)a[i] * (double)b[i];                                       \
    return total;                                                                   \
}                                                                                   \
                                                                                    \
static void fg_axpy_##S##_generic(T s, const T *restrict x, T *restrict v,          \
                                  ptrdiff_t n) {                                    \
    for (ptrdiff_t i = 0; i < n; i++)                                               \
        v[i] += s * x[i];                                                           \
}                                                                                   \
                                                                                    \
static double fg_axpy_dot_##S##_generic(T s, const T *restrict x, T *restrict v,   \
                                        const T *restrict z, ptrdiff_t n) {         \
    T acc[FG_LANES] = {0};                                                          \
    ptrdiff_t i = 0;                                                                \
    int k;                                                                          \
    for (; i + FG_LANES <= n; i += FG_LANES)                                        \
        for (k = 0; k < FG_LANES; k++) {                                            \
            T u = v[i + k] + s * x[i + k];                                          \
            v[i + k] = u;                                                           \
            acc[k] += u * z[i + k];                                                 \
        }                                                                           \
    for (k = 0; k < FG_LANES / 2; k++)                                              \
        acc[k] += acc[k + FG_LANES / 2];                                            \
    double total = (double)(acc[0] + acc[2]) + (double)(acc[1] + acc[3]);           \
    for (; i < n; i++) {                                                            \
        v[i] += s * x[i];                                                           \
        total += (double)v[i] * (double)z[i];                                       \
    }                                                                               \
    return total;                                                                   \
}                                                                                   \
                                                                                    \
static void fg_acc_scaled_##S##_generic(double c, const T *restrict v,              \
                                        double *restrict acc, ptrdiff_t n) {        \
    for (ptrdiff_t i = 0; i < n; i++)                                               \
        acc[i] += c * (double)v[i];                                                 \
}

FG_DEFINE_GENERIC(double, d)
FG_DEFINE_GENERIC(float, s)

/* --------------------------------------------------------- AVX2 + FMA versions */

#if FG_X86
#define FG_AVX2 __attribute__((target("avx2,fma")))

/* lanes [0, r) set, for the masked tail of r < 4 doubles / r < 8 floats */
FG_AVX2 static inline __m256i fg_mask_d(ptrdiff_t r) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(r), _mm256_setr_epi64x(0, 1, 2, 3));
}
FG_AVX2 static inline __m256i fg_mask_s(ptrdiff_t r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
FG_AVX2 static inline double fg_hsum_d(__m256d a) {
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}
FG_AVX2 static inline double fg_hsum_s(__m256 a) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return (double)_mm_cvtss_f32(h);
}

FG_AVX2 static double fg_dot_d_avx2(const double *a, const double *b, ptrdiff_t n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i), s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 4), _mm256_loadu_pd(b + i + 4), s1);
        s2 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 8), _mm256_loadu_pd(b + i + 8), s2);
        s3 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 12), _mm256_loadu_pd(b + i + 12), s3);
    }
    for (; i + 4 <= n; i += 4)
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i), s1);
    if (i < n) {
        __m256i m = fg_mask_d(n - i);
        s2 = _mm256_fmadd_pd(_mm256_maskload_pd(a + i, m), _mm256_maskload_pd(b + i, m), s2);
    }
    return fg_hsum_d(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
}

FG_AVX2 static double fg_dot_s_avx2(const float *a, const float *b, ptrdiff_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    ptrdiff_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s1);
    if (i < n) {
        __m256i m = fg_mask_s(n - i);
        s2 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s2);
    }
    return fg_hsum_s(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* v += s * x on 4 doubles at p, then acc += v . z there */
#define FG_AXPY_DOT_D(p, acc)                                                       \
    do {                                                                            \
        __m256d u_ = _mm256_fmadd_pd(sv, _mm256_loadu_pd(x + (p)),                  \
                                     _mm256_loadu_pd(v + (p)));                     \
        _mm256_storeu_pd(v + (p), u_);                                              \
        acc = _mm256_fmadd_pd(u_, _mm256_loadu_pd(z + (p)), acc);                   \
    } while (0)
#define FG_AXPY_DOT_S(p, acc)                                                       \
    do {                                                                            \
        __m256 u_ = _mm256_fmadd_ps(sv, _mm256_loadu_ps(x + (p)),                   \
                                    _mm256_loadu_ps(v + (p)));                      \
        _mm256_storeu_ps(v + (p), u_);                                              \
        acc = _mm256_fmadd_ps(u_, _mm256_loadu_ps(z + (p)), acc);                   \
    } while (0)

FG_AVX2 static double fg_axpy_dot_d_avx2(double s, const double *x, double *v,
                                         const double *z, ptrdiff_t n) {
    __m256d sv = _mm256_set1_pd(s);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        FG_AXPY_DOT_D(i, s0);
        FG_AXPY_DOT_D(i + 4, s1);
        FG_AXPY_DOT_D(i + 8, s2);
        FG_AXPY_DOT_D(i + 12, s3);
    }
    for (; i + 4 <= n; i += 4)
        FG_AXPY_DOT_D(i, s1);
    if (i < n) {
        __m256i m = fg_mask_d(n - i);
        __m256d u = _mm256_fmadd_pd(sv, _mm256_maskload_pd(x + i, m),
                                    _mm256_maskload_pd(v + i, m));
        _mm256_maskstore_pd(v + i, m, u);
        s2 = _mm256_fmadd_pd(u, _mm256_maskload_pd(z + i, m), s2);
    }
    return fg_hsum_d(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
}

FG_AVX2 static double fg_axpy_dot_s_avx2(float s, const float *x, float *v,
                                         const float *z, ptrdiff_t n) {
    __m256 sv = _mm256_set1_ps(s);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    ptrdiff_t i = 0;
    for (; i + 32 <= n; i += 32) {
        FG_AXPY_DOT_S(i, s0);
        FG_AXPY_DOT_S(i + 8, s1);
        FG_AXPY_DOT_S(i + 16, s2);
        FG_AXPY_DOT_S(i + 24, s3);
    }
    for (; i + 8 <= n; i += 8)
        FG_AXPY_DOT_S(i, s1);
    if (i < n) {
        __m256i m = fg_mask_s(n - i);
        __m256 u = _mm256_fmadd_ps(sv, _mm256_maskload_ps(x + i, m),
                                   _mm256_maskload_ps(v + i, m));
        _mm256_maskstore_ps(v + i, m, u);
        s2 = _mm256_fmadd_ps(u, _mm256_maskload_ps(z + i, m), s2);
    }
    return fg_hsum_s(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

FG_AVX2 static void fg_axpy_d_avx2(double s, const double *x, double *v, ptrdiff_t n) {
    __m256d sv = _mm256_set1_pd(s);
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(v + i, _mm256_fmadd_pd(sv, _mm256_loadu_pd(x + i),
                                                _mm256_loadu_pd(v + i)));
    for (; i < n; i++)
        v[i] += s * x[i];
}

FG_AVX2 static void fg_axpy_s_avx2(float s, const float *x, float *v, ptrdiff_t n) {
    __m256 sv = _mm256_set1_ps(s);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(v + i, _mm256_fmadd_ps(sv, _mm256_loadu_ps(x + i),
                                                _mm256_loadu_ps(v + i)));
    for (; i < n; i++)
        v[i] += s * x[i];
}

FG_AVX2 static void fg_acc_scaled_d_avx2(double c, const double *v, double *acc,
                                         ptrdiff_t n) {
    __m256d cv = _mm256_set1_pd(c);
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(acc + i, _mm256_fmadd_pd(cv, _mm256_loadu_pd(v + i),
                                                  _mm256_loadu_pd(acc + i)));
    for (; i < n; i++)
        acc[i] += c * v[i];
}

FG_AVX2 static void fg_acc_scaled_s_avx2(double c, const float *v, double *acc,
                                         ptrdiff_t n) {
    __m256d cv = _mm256_set1_pd(c);
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(acc + i, _mm256_fmadd_pd(cv, _mm256_cvtps_pd(_mm_loadu_ps(v + i)),
                                                  _mm256_loadu_pd(acc + i)));
    for (; i < n; i++)
        acc[i] += c * (double)v[i];
}

/* 1 when the CPU has AVX2 and FMA; checked once per extension module */
static int fg_cpu_avx2 = -1;
static inline int fg_has_avx2(void) {
    if (fg_cpu_avx2 < 0) {
        __builtin_cpu_init();
        fg_cpu_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return fg_cpu_avx2;
}
#define FG_DISPATCH(name, ...) \
    (fg_has_avx2() ? name##_avx2(__VA_ARGS__) : name##_generic(__VA_ARGS__))
#else
#define FG_DISPATCH(name, ...) name##_generic(__VA_ARGS__)
#endif

/* ------------------------------------------------------------------ public names */

static inline double fg_dot_d(const double *a, const double *b, ptrdiff_t n) {
    return FG_DISPATCH(fg_dot_d, a, b, n);
}
static inline double fg_dot_s(const float *a, const float *b, ptrdiff_t n) {
    return FG_DISPATCH(fg_dot_s, a, b, n);
}
/* v += s * x */
static inline void fg_axpy_d(double s, const double *x, double *v, ptrdiff_t n) {
    FG_DISPATCH(fg_axpy_d, s, x, v, n);
}
static inline void fg_axpy_s(float s, const float *x, float *v, ptrdiff_t n) {
    FG_DISPATCH(fg_axpy_s, s, x, v, n);
}
/* v += s * x, then return v . z: the update of one row fused with the dot product of
 * the next, so v is read once and the next dot product waits for no store */
static inline double fg_axpy_dot_d(double s, const double *x, double *v,
                                   const double *z, ptrdiff_t n) {
    return FG_DISPATCH(fg_axpy_dot_d, s, x, v, z, n);
}
static inline double fg_axpy_dot_s(float s, const float *x, float *v, const float *z,
                                   ptrdiff_t n) {
    return FG_DISPATCH(fg_axpy_dot_s, s, x, v, z, n);
}
/* acc += c * v  (acc in double) */
static inline void fg_acc_scaled_d(double c, const double *v, double *acc, ptrdiff_t n) {
    FG_DISPATCH(fg_acc_scaled_d, c, v, acc, n);
}
static inline void fg_acc_scaled_s(double c, const float *v, double *acc, ptrdiff_t n) {
    FG_DISPATCH(fg_acc_scaled_s, c, v, acc, n);
}

/* Tsuruoka's cumulative L1 step (see the design comment of _sgd.pyx) of n weights,
 * dense rows all at once, sparse ones one at a time: with U the total penalty so far
 * and q[i] what weight i received, a positive weight falls to max(0, v - (U + q)), a
 * negative one rises to min(0, v + (U - q)), zero stays, and q records what was
 * applied.  Selects instead of branches and restrict pointers, so
 * compilers vectorise the loop (GCC -O3 reports it vectorised). */
#if defined(_MSC_VER)
#define FG_RESTRICT __restrict
#else
#define FG_RESTRICT restrict
#endif
#define FG_CUMULATIVE_L1(NAME, T)                                                  \
    static inline void NAME(T *FG_RESTRICT v, double *FG_RESTRICT q, double U,    \
                            ptrdiff_t n) {                                         \
        for (ptrdiff_t i = 0; i < n; i++) {                                        \
            double w = v[i], owed = q[i];                                          \
            double down = w - (U + owed), up = w + (U - owed);                     \
            down = down > 0.0 ? down : 0.0;                                        \
            up = up < 0.0 ? up : 0.0;                                              \
            double cut = w > 0.0 ? down : (w < 0.0 ? up : 0.0);                    \
            q[i] = owed + (cut - w);                                               \
            v[i] = (T)cut;                                                         \
        }                                                                          \
    }
FG_CUMULATIVE_L1(fg_cumulative_l1_d, double)
FG_CUMULATIVE_L1(fg_cumulative_l1_s, float)
#undef FG_CUMULATIVE_L1

/* v *= c (not on a hot path: compilers vectorise it as it is) */
static inline void fg_scale_d(double c, double *v, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++)
        v[i] *= c;
}
static inline void fg_scale_s(double c, float *v, ptrdiff_t n) {
    float cs = (float)c;
    for (ptrdiff_t i = 0; i < n; i++)
        v[i] *= cs;
}

/* Ask for the cache lines of [p, p + nbytes) ahead of their use, into every cache
 * level (fg_prefetch) or into the outer ones only (fg_prefetch_l2, prefetcht2), the
 * latter for whole rows of X.  A row is 10+ lines: prefetched into L1, a few rows in
 * flight fill the core's L1 miss buffers (and evict the model), and the prefetches
 * stall the loop.  Into L2 the misses are tracked there, and the loads that follow hit
 * L2.  Measured on the dense 500k x 100 case: a shuffled epoch 89 -> 70 ms (uniform
 * order), 38 -> 34 ms (windowed), and two threads in row order 16 ms instead of no
 * gain over one.  (The locality hint must be a constant, hence the macro.) */
#if defined(__GNUC__) || defined(__clang__)
#define FG_DEFINE_PREFETCH(NAME, LOCALITY)                                          \
    static inline void NAME(const void *p, ptrdiff_t nbytes) {                      \
        const char *c = (const char *)p;                                            \
        for (ptrdiff_t off = 0; off < nbytes; off += FG_CACHE_LINE)                 \
            __builtin_prefetch(c + off, 0, LOCALITY);                               \
    }
#else
#define FG_DEFINE_PREFETCH(NAME, LOCALITY)                                          \
    static inline void NAME(const void *p, ptrdiff_t nbytes) {                      \
        (void)p;                                                                    \
        (void)nbytes;                                                               \
    }
#endif
FG_DEFINE_PREFETCH(fg_prefetch, 3)
FG_DEFINE_PREFETCH(fg_prefetch_l2, 1)
#undef FG_DEFINE_PREFETCH

#endif /* FASTGD_SIMD_H */
