/* Vector primitives of the kernels: dot products, axpy (alone or fused with the next
 * dot product), scaled accumulation, scaling, Tsuruoka's cumulative L1 step, and cache
 * prefetches.
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
 * and the alignment of the threads' private copies (_thread_private.pxd) */
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

/* The AVX2 kernels of one element type: T the C type, S its suffix in fastgd's names
 * (d, s), V the vector type, I the intrinsics' suffix (pd, ps), W the lanes. */
#define FG_DEFINE_AVX2(T, S, V, I, W)                                               \
FG_AVX2 static double fg_dot_##S##_avx2(const T *a, const T *b, ptrdiff_t n) {     \
    V s0 = _mm256_setzero_##I(), s1 = s0, s2 = s0, s3 = s0;                         \
    ptrdiff_t i = 0;                                                                \
    for (; i + 4 * W <= n; i += 4 * W) {                                            \
        s0 = _mm256_fmadd_##I(_mm256_loadu_##I(a + i), _mm256_loadu_##I(b + i), s0);\
        s1 = _mm256_fmadd_##I(_mm256_loadu_##I(a + i + W),                          \
                              _mm256_loadu_##I(b + i + W), s1);                     \
        s2 = _mm256_fmadd_##I(_mm256_loadu_##I(a + i + 2 * W),                      \
                              _mm256_loadu_##I(b + i + 2 * W), s2);                 \
        s3 = _mm256_fmadd_##I(_mm256_loadu_##I(a + i + 3 * W),                      \
                              _mm256_loadu_##I(b + i + 3 * W), s3);                 \
    }                                                                               \
    for (; i + W <= n; i += W)                                                      \
        s1 = _mm256_fmadd_##I(_mm256_loadu_##I(a + i), _mm256_loadu_##I(b + i), s1);\
    if (i < n) {                                                                    \
        __m256i m = fg_mask_##S(n - i);                                             \
        s2 = _mm256_fmadd_##I(_mm256_maskload_##I(a + i, m),                        \
                              _mm256_maskload_##I(b + i, m), s2);                   \
    }                                                                               \
    return fg_hsum_##S(_mm256_add_##I(_mm256_add_##I(s0, s1),                       \
                                      _mm256_add_##I(s2, s3)));                     \
}                                                                                   \
                                                                                    \
/* v += s * x on W elements at p, then acc += v . z there */                        \
FG_AVX2 static inline void fg_axpy_dot_step_##S(V sv, const T *x, T *v,             \
                                                const T *z, ptrdiff_t p, V *acc) {  \
    V u = _mm256_fmadd_##I(sv, _mm256_loadu_##I(x + p), _mm256_loadu_##I(v + p));  \
    _mm256_storeu_##I(v + p, u);                                                    \
    *acc = _mm256_fmadd_##I(u, _mm256_loadu_##I(z + p), *acc);                      \
}                                                                                   \
                                                                                    \
FG_AVX2 static double fg_axpy_dot_##S##_avx2(T s, const T *x, T *v, const T *z,    \
                                             ptrdiff_t n) {                         \
    V sv = _mm256_set1_##I(s);                                                      \
    V s0 = _mm256_setzero_##I(), s1 = s0, s2 = s0, s3 = s0;                         \
    ptrdiff_t i = 0;                                                                \
    for (; i + 4 * W <= n; i += 4 * W) {                                            \
        fg_axpy_dot_step_##S(sv, x, v, z, i, &s0);                                  \
        fg_axpy_dot_step_##S(sv, x, v, z, i + W, &s1);                              \
        fg_axpy_dot_step_##S(sv, x, v, z, i + 2 * W, &s2);                          \
        fg_axpy_dot_step_##S(sv, x, v, z, i + 3 * W, &s3);                          \
    }                                                                               \
    for (; i + W <= n; i += W)                                                      \
        fg_axpy_dot_step_##S(sv, x, v, z, i, &s1);                                  \
    if (i < n) {                                                                    \
        __m256i m = fg_mask_##S(n - i);                                             \
        V u = _mm256_fmadd_##I(sv, _mm256_maskload_##I(x + i, m),                   \
                               _mm256_maskload_##I(v + i, m));                      \
        _mm256_maskstore_##I(v + i, m, u);                                          \
        s2 = _mm256_fmadd_##I(u, _mm256_maskload_##I(z + i, m), s2);                \
    }                                                                               \
    return fg_hsum_##S(_mm256_add_##I(_mm256_add_##I(s0, s1),                       \
                                      _mm256_add_##I(s2, s3)));                     \
}                                                                                   \
                                                                                    \
FG_AVX2 static void fg_axpy_##S##_avx2(T s, const T *x, T *v, ptrdiff_t n) {       \
    V sv = _mm256_set1_##I(s);                                                      \
    ptrdiff_t i = 0;                                                                \
    for (; i + W <= n; i += W)                                                      \
        _mm256_storeu_##I(v + i, _mm256_fmadd_##I(sv, _mm256_loadu_##I(x + i),      \
                                                  _mm256_loadu_##I(v + i)));        \
    for (; i < n; i++)                                                              \
        v[i] += s * x[i];                                                           \
}

FG_DEFINE_AVX2(double, d, __m256d, pd, 4)
FG_DEFINE_AVX2(float, s, __m256, ps, 8)
#undef FG_DEFINE_AVX2

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
