/* Vector primitives of the dense kernels: dot products, axpy (alone or fused with the
 * next dot product), scaled accumulation, scaling, and a row prefetch.
 *
 * Design: plain C loops written with 16 independent partial sums so that the
 * compiler turns them into several SIMD accumulators (a single accumulator would be
 * bound by the latency of the add).  On x86-64 Linux with GCC every function is also
 * compiled for AVX2 and picked at load time (target_clones), so one build runs
 * everywhere and uses wide vectors where the CPU has them.
 */
#ifndef FASTGD_SIMD_H
#define FASTGD_SIMD_H

#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FG_CLONES
#endif

#define FG_LANES 16

#define FG_DEFINE(T, S)                                                             \
FG_CLONES static double fg_dot_##S(const T *restrict a, const T *restrict b,       \
                                   ptrdiff_t n) {                                   \
    T acc[FG_LANES] = {0};                                                          \
    ptrdiff_t i = 0;                                                                \
    int k;                                                                          \
    for (; i + FG_LANES <= n; i += FG_LANES)                                        \
        for (k = 0; k < FG_LANES; k++)                                              \
            acc[k] += a[i + k] * b[i + k];                                          \
    double total = 0.0;                                                             \
    for (; i < n; i++)                                                              \
        total += (double)a[i] * (double)b[i];                                       \
    for (k = 0; k < FG_LANES; k++)                                                  \
        total += (double)acc[k];                                                    \
    return total;                                                                   \
}                                                                                   \
                                                                                    \
/* v += s * x */                                                                    \
FG_CLONES static void fg_axpy_##S(T s, const T *restrict x, T *restrict v,          \
                                  ptrdiff_t n) {                                    \
    for (ptrdiff_t i = 0; i < n; i++)                                               \
        v[i] += s * x[i];                                                           \
}                                                                                   \
                                                                                    \
/* v += s * x, then return v . z: the update of one row fused with the dot product  \
 * of the next, so v is read once and the next dot product waits for no store */    \
FG_CLONES static double fg_axpy_dot_##S(T s, const T *restrict x, T *restrict v,   \
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
    double total = 0.0;                                                             \
    for (; i < n; i++) {                                                            \
        v[i] += s * x[i];                                                           \
        total += (double)v[i] * (double)z[i];                                       \
    }                                                                               \
    for (k = 0; k < FG_LANES; k++)                                                  \
        total += (double)acc[k];                                                    \
    return total;                                                                   \
}                                                                                   \
                                                                                    \
/* acc += c * v  (acc in double) */                                                 \
FG_CLONES static void fg_acc_scaled_##S(double c, const T *restrict v,              \
                                        double *restrict acc, ptrdiff_t n) {        \
    for (ptrdiff_t i = 0; i < n; i++)                                               \
        acc[i] += c * (double)v[i];                                                 \
}                                                                                   \
                                                                                    \
/* v *= c */                                                                        \
FG_CLONES static void fg_scale_##S(double c, T *restrict v, ptrdiff_t n) {          \
    T cs = (T)c;                                                                    \
    for (ptrdiff_t i = 0; i < n; i++)                                               \
        v[i] *= cs;                                                                 \
}

FG_DEFINE(double, d)
FG_DEFINE(float, s)

/* Ask for the cache lines of [p, p + nbytes) ahead of their use. */
static inline void fg_prefetch(const void *p, ptrdiff_t nbytes) {
#if defined(__GNUC__) || defined(__clang__)
    const char *c = (const char *)p;
    for (ptrdiff_t off = 0; off < nbytes; off += 64)
        __builtin_prefetch(c + off, 0, 3);
#else
    (void)p;
    (void)nbytes;
#endif
}

#endif /* FASTGD_SIMD_H */
