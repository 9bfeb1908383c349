/* bench_linalg.c - thermodynamic linear algebra on the simulated SPU: error
 * against simulated time, and the wall time of the simulation beside
 * LAPACK's direct solve (science.md section 5).
 *
 * For d = 8, 64, 512 and condition numbers 10 and 100, solve A x = b on
 * - the overdamped idealisation (first moment, time in units of 1/gamma),
 *   A = Q diag(lambda) Q^T with lambda log-spaced over [1, kappa];
 * - the RLC board (second moment, time in seconds), d = 8 and 64 only, on
 *   an M-matrix A = s I - N (N >= 0 random, s set for the condition
 *   number), which the board realises after diagonal scaling. At d = 512
 *   the board has 1024 state variables and the exact transition needs a
 *   real Schur form of that size per run: minutes here, so it is left out.
 * Each run averages for T = 100, 200, ..., 1600 tau (tau the slowest
 * relaxation time); the table gives the relative error against LAPACK
 * (dposv), the run's own error estimate, and the least-squares slope of log
 * error on log time (-1/2 in theory). Wall times are the best of 20 (after a warm-up call) for
 * LAPACK and one run for the simulation, measured in this one process.
 * Honest reading: a digital simulation of a thermodynamic solver is far
 * slower than LAPACK; what it models is the hardware, whose own time is the
 * simulated time column.
 *
 * Usage: bench_linalg [--quick]   (--quick: d = 8 and 64 only) */
#include "thermo.h"
#include "bench_common.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_TIMES 5
#define BASE_TAU 100.0

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    return ((double)(mix(s) >> 11) + 0.5) * 0x1.0p-53;
}

static double gauss(uint64_t *s)
{
    return sqrt(-2.0 * log(unif(s))) * cos(6.283185307179586 * unif(s));
}

static void random_spd(size_t d, double kappa, uint64_t seed, double *A)
{
    double *Q = malloc(d * d * sizeof *Q), *tau = malloc(d * sizeof *tau);
    for (size_t k = 0; k < d * d; k++) Q[k] = gauss(&seed);
    LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (int)d, (int)d, Q, (int)d, tau);
    LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (int)d, (int)d, (int)d, Q, (int)d, tau);
    for (size_t j = 0; j < d; j++) {
        double s = sqrt(pow(kappa, (double)j / (double)(d - 1)));
        for (size_t i = 0; i < d; i++) Q[i * d + j] *= s;
    }
    th_matmul_openblas_f64(0, 1, (int)d, (int)d, (int)d, 1.0, Q, (int)d,
                Q, (int)d, 0.0, A, (int)d);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) A[j * d + i] = A[i * d + j];
    free(Q);
    free(tau);
}

/* A = s I - N: N symmetric, entries uniform on [0, 1] with probability
 * 4/d (sparse, like a wiring diagram), s = lmax + (lmax - lmin) / (kappa - 1)
 * so that cond(A) = kappa exactly; an M-matrix. */
static void random_m_matrix(size_t d, double kappa, uint64_t seed, double *A)
{
    double *W = malloc(d * d * sizeof *W), *w = malloc(d * sizeof *w);
    memset(A, 0, d * d * sizeof *A);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++)
            if (unif(&seed) < 4.0 / (double)d) A[i * d + j] = A[j * d + i] = -unif(&seed);
    for (size_t k = 0; k < d * d; k++) W[k] = -A[k];
    LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', (int)d, W, (int)d, w);
    double s = w[d - 1] + (w[d - 1] - w[0]) / (kappa - 1.0);
    for (size_t i = 0; i < d; i++) A[i * d + i] = s;
    free(W);
    free(w);
}

static double lapack_solve(const double *A, const double *b, size_t d, double *x)
{
    double *W = malloc(d * d * sizeof *W), best = INFINITY;
    /* One thread: at these sizes OpenBLAS's threaded factorisation waits on
     * its pool, which on a small shared machine cost 0.1 s per 64 x 64 solve
     * and would flatter the simulation. */
    const int threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (int r = 0; r < 21; r++) {
        double t0 = bench_now_s();
        memcpy(W, A, d * d * sizeof *W);
        memcpy(x, b, d * sizeof *x);
        LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (int)d, 1, W, (int)d, x, 1);
        if (r > 0) best = fmin(best, bench_now_s() - t0); /* the first warms up */
    }
    openblas_set_num_threads(threads);
    free(W);
    return best;
}

static void bench_one(th_spu_model model, size_t d, double kappa)
{
    double *A = malloc(d * d * sizeof *A), *b = malloc(d * sizeof *b), *x = malloc(d * sizeof *x);
    uint64_t seed = 1000 * d + (uint64_t)kappa;
    if (model == TH_SPU_OVERDAMPED) random_spd(d, kappa, seed, A);
    else random_m_matrix(d, kappa, seed, A);
    for (size_t i = 0; i < d; i++) b[i] = gauss(&seed);
    double lap = lapack_solve(A, b, d, x);
    double xn = cblas_dnrm2((int)d, x, 1);
    th_spu_params hw = th_spu_params_default();
    hw.model = model;
    double t0 = bench_now_s();
    th_spu *s = th_spu_alloc(&hw, A, b, d);
    double setup = bench_now_s() - t0;
    if (!s) {
        printf("%-10s %4zu %4g  failed: %s\n", model ? "overdamped" : "rlc", d, kappa,
               th_last_error());
        return;
    }
    double lx[N_TIMES], ly[N_TIMES], wall_last = 0.0;
    printf("%-10s d=%-4zu kappa=%-4g tau=%.3g %s, setup %.3f s, LAPACK dposv (1 thread) "
           "%.3g s\n",
           model ? "overdamped" : "rlc", d, kappa, s->tau, model ? "1/gamma" : "s", setup, lap);
    printf("    %-12s %-12s %-12s %-12s %s\n", "T/tau", "sim_time", "rel_error", "estimated",
           "wall_s");
    for (int k = 0; k < N_TIMES; k++) {
        th_tla_protocol p = th_tla_protocol_default();
        p.time = BASE_TAU * pow(2.0, k) * s->tau;
        p.seed = 7 + (uint64_t)k;
        th_tla_result r;
        double w0 = bench_now_s();
        int rc = th_tla_solve(s, &p, &r);
        wall_last = bench_now_s() - w0;
        if (rc != TH_OK) {
            printf("    failed: %s\n", th_last_error());
            break;
        }
        double e = 0.0;
        for (size_t i = 0; i < d; i++) e += (r.estimate[i] - x[i]) * (r.estimate[i] - x[i]);
        e = sqrt(e) / xn;
        printf("    %-12g %-12.4e %-12.4e %-12.4e %.3f\n", BASE_TAU * pow(2.0, k), r.sim_time, e,
               r.error / xn, wall_last);
        lx[k] = log(r.sim_time);
        ly[k] = log(e);
        th_tla_result_free(&r);
    }
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (int k = 0; k < N_TIMES; k++) {
        mx += lx[k] / N_TIMES;
        my += ly[k] / N_TIMES;
    }
    for (int k = 0; k < N_TIMES; k++) {
        sxy += (lx[k] - mx) * (ly[k] - my);
        sxx += (lx[k] - mx) * (lx[k] - mx);
    }
    printf("    slope of log error on log time: %.3f (theory -0.5); longest run %.3g s of wall "
           "time = %.3g x LAPACK\n\n", sxy / sxx, wall_last, wall_last / lap);
    th_spu_free(s);
    free(A);
    free(b);
    free(x);
}

int main(int argc, char **argv)
{
    bench_use_blas_core(argv);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows in a log as it happens */
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: bench_linalg [--quick]\n");
        return 2;
    }
    printf("bench_linalg: solve A x = b on the simulated SPU (exact OU transitions, 4 chains, "
           "16 batches, sample interval tau/2, burn-in 20 tau)\n\n");
    const size_t dims[3] = {8, 64, 512};
    const double kappas[2] = {10.0, 100.0};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < (quick ? 2 : 3); i++)
            for (int k = 0; k < 2; k++) {
                th_spu_model model = m == 0 ? TH_SPU_OVERDAMPED : TH_SPU_RLC;
                if (model == TH_SPU_RLC && dims[i] > 64) continue;
                bench_one(model, dims[i], kappas[k]);
            }
    return 0;
}
