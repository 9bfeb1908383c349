/* bench_gemm.c - thermo's matrix products against OpenBLAS, at the shapes of
 * the PRL computer (784 visible + 512 hidden units, float32).
 *
 * One Langevin step of a batch of B trajectories is two products:
 * F[:, 784:1296] = X (B, 1296) J (1296, 512) and
 * F[:, 0:784] = X[:, 784:] (B, 512) J (512, 784). For each B this times, in
 * the same run and interleaved within each repetition:
 *   - each of thermo's kernels that this CPU runs (avx512, avx2), with J
 *     packed once (th_matmul_operand_f32) as a Langevin run packs it;
 *   - OpenBLAS (th_matmul_openblas_f32) on the same operands, with whichever kernel
 *     OPENBLAS_CORETYPE selected (printed);
 * and reports GFLOP/s and the ratio thermo / OpenBLAS. It also checks that
 * every kernel gives the same bits as the plain loop
 * (th_matmul_reference_f32). The bfloat16 products of --precision bf16
 * (th_matmul_operand_bf16, each bfloat16 kernel this CPU runs, rows
 * "bf16-<kernel>") are timed the same way against the same-run OpenBLAS
 * float32 rate, their bits checked against th_matmul_reference_bf16, and a
 * last table gives each one's rate over thermo's fastest float32 kernel.
 * Figures are best-of-repetitions; read the ratios, not the absolute rates.
 *
 * Usage: bench_gemm [--quick] */
#include "thermo.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_VISIBLE 784
#define N_HIDDEN 512
#define N_UNITS (N_VISIBLE + N_HIDDEN)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill(float *x, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
}

/* The step's two operands, packed once: J[:, 784:] and J[784:, :784]. */
static void pack_step(const float *J, int bf16, th_matmul_operand **Jh, th_matmul_operand **Jv)
{
    th_matmul_operand *(*make)(int, size_t, size_t, const float *, size_t) =
        bf16 ? th_matmul_operand_bf16 : th_matmul_operand_f32;
    *Jh = make(0, N_UNITS, N_HIDDEN, J + N_VISIBLE, N_UNITS);
    *Jv = make(0, N_HIDDEN, N_VISIBLE, J + (size_t)N_VISIBLE * N_UNITS, N_UNITS);
}

/* Both products of a step with thermo's products on packed blocks of J. */
static void step_thermo(size_t b, const float *X, const th_matmul_operand *Jh,
                        const th_matmul_operand *Jv, float *F)
{
    th_matmul_packed_f32(0, b, 1.0f, X, N_UNITS, Jh, 0.0f, F + N_VISIBLE, N_UNITS);
    th_matmul_packed_f32(0, b, 1.0f, X + N_VISIBLE, N_UNITS, Jv, 0.0f, F, N_UNITS);
}

static void step_openblas(size_t b, const float *X, const float *J, float *F)
{
    th_matmul_openblas_f32(0, 0, (int)b, N_HIDDEN, N_UNITS, 1.0f, X,
                N_UNITS, J + N_VISIBLE, N_UNITS, 0.0f, F + N_VISIBLE, N_UNITS);
    th_matmul_openblas_f32(0, 0, (int)b, N_VISIBLE, N_HIDDEN, 1.0f,
                X + N_VISIBLE, N_UNITS, J + (size_t)N_VISIBLE * N_UNITS, N_UNITS, 0.0f, F,
                N_UNITS);
}

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const int reps = quick ? 3 : 7;
    const double target = quick ? 0.1 : 0.3;
    static const size_t batches[] = {1, 16, 128, 256};
    static const char *names[] = {"avx512", "avx2", "bf16-avx512bf16", "bf16-portable"};
#define N_NAMES (sizeof names / sizeof names[0])
    double best[sizeof batches / sizeof batches[0]][N_NAMES]; /* seconds; 0 = not run */
    memset(best, 0, sizeof best);
    const size_t bmax = 256;

    float *J = malloc(sizeof(float) * N_UNITS * N_UNITS);
    float *X = malloc(sizeof(float) * bmax * N_UNITS);
    float *F = calloc(bmax * N_UNITS, sizeof(float));
    float *R = calloc(bmax * N_UNITS, sizeof(float));
    float *R16 = calloc(bmax * N_UNITS, sizeof(float));
    if (!J || !X || !F || !R || !R16) return 1;
    fill(J, (size_t)N_UNITS * N_UNITS, 1);
    fill(X, bmax * N_UNITS, 2);

    printf("bench_gemm: PRL step products, float32; OpenBLAS core %s, %d threads\n",
           openblas_get_corename(), omp_get_max_threads());
    printf("%6s %16s %12s %12s %10s %8s\n", "B", "kernel", "thermo GF/s", "OpenBLAS GF/s",
           "ratio", "bits");
    int failed = 0;
    for (size_t ib = 0; ib < sizeof batches / sizeof batches[0]; ib++) {
        const size_t b = batches[ib];
        const double flops = 2.0 * (double)b * (N_UNITS * N_HIDDEN + N_HIDDEN * N_VISIBLE);
        /* the reference bits of both products */
        th_matmul_reference_f32(0, 0, b, N_HIDDEN, N_UNITS, 1.0f, X, N_UNITS, J + N_VISIBLE,
                                N_UNITS, 0.0f, R + N_VISIBLE, N_UNITS);
        th_matmul_reference_f32(0, 0, b, N_VISIBLE, N_HIDDEN, 1.0f, X + N_VISIBLE, N_UNITS,
                                J + (size_t)N_VISIBLE * N_UNITS, N_UNITS, 0.0f, R, N_UNITS);
        th_matmul_reference_bf16(0, 0, b, N_HIDDEN, N_UNITS, 1.0f, X, N_UNITS, J + N_VISIBLE,
                                 N_UNITS, 0.0f, R16 + N_VISIBLE, N_UNITS);
        th_matmul_reference_bf16(0, 0, b, N_VISIBLE, N_HIDDEN, 1.0f, X + N_VISIBLE, N_UNITS,
                                 J + (size_t)N_VISIBLE * N_UNITS, N_UNITS, 0.0f, R16, N_UNITS);
        for (size_t kn = 0; kn < N_NAMES; kn++) {
            const int bf16 = kn >= 2;
            if (bf16 ? th_matmul_bf16_use(names[kn] + 5) != TH_OK
                     : th_matmul_use(names[kn]) != TH_OK)
                continue;
            th_matmul_operand *Jh, *Jv;
            pack_step(J, bf16, &Jh, &Jv);
            if (!Jh || !Jv) return 1;
            step_thermo(b, X, Jh, Jv, F);
            const int same = memcmp(F, bf16 ? R16 : R, b * N_UNITS * sizeof(float)) == 0;
            failed |= !same;
            double best_t = INFINITY, best_o = INFINITY;
            for (int r = 0; r < reps; r++) {
                size_t n = 0;
                double t0 = now();
                do step_thermo(b, X, Jh, Jv, F), n++;
                while (now() - t0 < target);
                double t = (now() - t0) / (double)n;
                if (t < best_t) best_t = t;
                n = 0;
                t0 = now();
                do step_openblas(b, X, J, F), n++;
                while (now() - t0 < target);
                t = (now() - t0) / (double)n;
                if (t < best_o) best_o = t;
            }
            best[ib][kn] = best_t;
            printf("%6zu %16s %12.1f %12.1f %10.2f %8s\n", b, names[kn], flops / best_t * 1e-9,
                   flops / best_o * 1e-9, best_o / best_t, same ? "same" : "DIFFER");
            th_matmul_operand_free(Jh);
            th_matmul_operand_free(Jv);
        }
    }
    /* bfloat16 against thermo's fastest float32 kernel, timed in the same run */
    printf("%6s %16s %24s\n", "B", "kernel", "rate / fastest float32");
    for (size_t ib = 0; ib < sizeof batches / sizeof batches[0]; ib++) {
        const double f32 = fmin(best[ib][0] > 0 ? best[ib][0] : (double)INFINITY,
                                best[ib][1] > 0 ? best[ib][1] : (double)INFINITY);
        for (size_t kn = 2; kn < N_NAMES; kn++)
            if (best[ib][kn] > 0)
                printf("%6zu %16s %24.2f\n", batches[ib], names[kn], f32 / best[ib][kn]);
    }
    free(J);
    free(X);
    free(F);
    free(R);
    free(R16);
    if (failed) fprintf(stderr, "bench_gemm: a kernel's bits differ from the plain loop\n");
    return failed;
}
