/* How to share one sparse per-sample SGD model between threads: Hogwild against
 * replicas.  Both run the same log-loss step over the same rows in the same shuffled
 * order, with the same prefetching, on T threads:
 *
 *   hogwild   one weight vector that every thread reads and writes without locks,
 *             thread k taking steps k, k + T, k + 2T, ... of the order;
 *   replicas  a weight vector per thread (each on cache lines of its own), thread k
 *             taking the k-th share of every round of ROUND_ROWS * T rows, then the
 *             copies are averaged (what fastgd's per-sample kernel does).
 *
 * Usage: sparse_threads DIR MODE THREADS; DIR holds data.bin (float64), indices.bin
 * (int32), indptr.bin (int64), y.bin (+-1, float64) written by run.py.  Prints the time
 * of all epochs (shuffles included) and the training accuracy. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EPOCHS = 5, ROUND_ROWS = 8192, AHEAD = 5, PAD = 64 };
static const double ETA = 0.5;

static void *load(const char *dir, const char *name, size_t item, size_t *count) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    *count = (size_t)ftell(f) / item;
    rewind(f);
    void *p = malloc(*count * item);
    if (fread(p, item, *count, f) != *count) { perror(path); exit(1); }
    fclose(f);
    return p;
}

typedef struct {
    const double *data; const int32_t *indices; const int64_t *indptr; const double *y;
} Rows;

static inline void prefetch_row(const Rows *r, int32_t i) {
    for (int64_t o = r->indptr[i]; o < r->indptr[i + 1]; o += 8)
        __builtin_prefetch(r->data + o);
    for (int64_t o = r->indptr[i]; o < r->indptr[i + 1]; o += 16)
        __builtin_prefetch(r->indices + o);
}

/* one log-loss step on row i; w is the model this thread writes */
static inline void step(const Rows *r, int32_t i, double *w) {
    double p = 0.0;
    for (int64_t jj = r->indptr[i]; jj < r->indptr[i + 1]; jj++)
        p += w[r->indices[jj]] * r->data[jj];
    double g = ETA * r->y[i] / (1.0 + exp(r->y[i] * p));
    for (int64_t jj = r->indptr[i]; jj < r->indptr[i + 1]; jj++)
        w[r->indices[jj]] += g * r->data[jj];
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s DIR hogwild|replicas THREADS\n", argv[0]); return 2; }
    size_t nnz, n_ind, n_ptr, n;
    Rows r;
    r.data = load(argv[1], "data.bin", 8, &nnz);
    r.indices = load(argv[1], "indices.bin", 4, &n_ind);
    r.indptr = load(argv[1], "indptr.bin", 8, &n_ptr);
    r.y = load(argv[1], "y.bin", 8, &n);
    int hogwild = strcmp(argv[2], "hogwild") == 0, T = atoi(argv[3]);
    int32_t d = 0;
    for (size_t k = 0; k < nnz; k++) d = r.indices[k] + 1 > d ? r.indices[k] + 1 : d;
    int32_t *order = malloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = (int32_t)i;
    double *w = calloc((size_t)d, sizeof *w);
    double *copies = calloc((size_t)T * (d + PAD), sizeof *copies);
    uint64_t seed = 88172645463325252ULL;
    double start = omp_get_wtime();
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
        for (size_t i = n - 1; i > 0; i--) {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
            size_t j = seed % (i + 1);
            int32_t t = order[i]; order[i] = order[j]; order[j] = t;
        }
        if (hogwild) {
            #pragma omp parallel num_threads(T)
            {
                size_t k = (size_t)omp_get_thread_num();
                for (size_t s = k; s < n; s += (size_t)T) {
                    if (s + AHEAD * (size_t)T < n) prefetch_row(&r, order[s + AHEAD * T]);
                    step(&r, order[s], w);
                }
            }
        } else {
            for (size_t round = 0; round < n; round += (size_t)ROUND_ROWS * T) {
                #pragma omp parallel num_threads(T)
                {
                    size_t k = (size_t)omp_get_thread_num();
                    double *v = copies + k * (size_t)(d + PAD);
                    memcpy(v, w, (size_t)d * sizeof *v);
                    size_t lo = round + k * ROUND_ROWS, hi = lo + ROUND_ROWS;
                    hi = hi < n ? hi : n;
                    for (size_t s = lo; s < hi; s++) {
                        if (s + AHEAD < hi) prefetch_row(&r, order[s + AHEAD]);
                        step(&r, order[s], v);
                    }
                }
                size_t used = (n - round + ROUND_ROWS - 1) / ROUND_ROWS;
                int k_used = used < (size_t)T ? (int)used : T;
                for (int32_t j = 0; j < d; j++) {
                    double sum = 0.0;
                    for (int k = 0; k < k_used; k++) sum += copies[(size_t)k * (d + PAD) + j];
                    w[j] = sum / k_used;
                }
            }
        }
    }
    double elapsed = omp_get_wtime() - start;
    size_t right = 0;
    for (size_t i = 0; i < n; i++) {
        double p = 0.0;
        for (int64_t jj = r.indptr[i]; jj < r.indptr[i + 1]; jj++)
            p += w[r.indices[jj]] * r.data[jj];
        right += (p > 0) == (r.y[i] > 0);
    }
    printf("%-8s threads %d: %d epochs %.0f ms, accuracy %.4f\n", argv[2], T, EPOCHS,
           elapsed * 1e3, (double)right / n);
    return 0;
}
