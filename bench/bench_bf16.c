/* bench_bf16.c - the bfloat16 path (--precision bf16) of generation against
 * float32, on the PRL computer (784 visible + 512 hidden units, visible-hidden
 * and hidden-hidden couplings, kT = 0.1, J2 = J4 = 1, dt = 1e-3; random
 * couplings J_ij ~ N(0, 0.01^2), every one nonzero).
 *
 * For each batch B it measures, in the same run and interleaved within each
 * repetition (the machine is shared: read the ratios):
 *   - the step's two coupling products alone, F[:, 784:] = X J[:, 784:] and
 *     F[:, :784] = X[:, 784:] J[784:, :784], on operands packed once, with
 *     thermo's float32 kernel (the bound's rate) and its bfloat16 kernel;
 *   - whole fused Langevin steps (th_langevin_run) in float32 and bfloat16;
 * and reports GFLOP/s (2 B x coupling pairs per step), the bfloat16 step's
 * time against the float32 step's, and against the float32 bound: the time
 * the step's products take at the float32 product rate. The last line
 * projects the preset's computing phase (1000 samples of 2500 steps in
 * batches of 256) both ways.
 *
 * Usage: bench_bf16 [--quick] */
#include "thermo.h"
#include "bench_common.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_VISIBLE 784
#define N_HIDDEN 512
#define N_UNITS (N_VISIBLE + N_HIDDEN)
#define PRL_SAMPLES 1000
#define PRL_STEPS 2500
#define PRL_BATCH 256

static void die(const char *what)
{
    fprintf(stderr, "bench_bf16: %s failed: %s\n", what, th_last_error());
    exit(1);
}

/* The PRL architecture through th_sim_model: J_ij ~ N(0, coupling^2 / n). */
static th_model *prl_model(void)
{
    th_sim_spec sp = {.n_groups = 2, .size = {N_VISIBLE, N_HIDDEN}, .n_links = 2,
                      .link = {{0, 1}, {1, 1}}, .coupling = 0.01 * sqrt((double)N_UNITS),
                      .J2 = 1, .J4 = 1, .bias = 0, .kT = 0.1, .mu = 1, .seed = 20260101u,
                      .dtype = TH_F32};
    th_model *m = th_sim_model(&sp);
    if (!m) die("th_sim_model");
    return m;
}

/* The step's two products on operands packed once. */
struct products {
    th_matmul_operand *hidden, *visible; /* J[:, 784:] (1296, 512), J[784:, :784] (512, 784) */
};

static struct products pack(const th_model *m, int bf16)
{
    const float *J = m->J.f32;
    th_matmul_operand *(*make)(int, size_t, size_t, const float *, size_t) =
        bf16 ? th_matmul_operand_bf16 : th_matmul_operand_f32;
    struct products p = {make(0, N_UNITS, N_HIDDEN, J + N_VISIBLE, N_UNITS),
                         make(0, N_HIDDEN, N_VISIBLE, J + (size_t)N_VISIBLE * N_UNITS, N_UNITS)};
    if (!p.hidden || !p.visible) die("packing the couplings");
    return p;
}

static void products_run(const struct products *p, size_t b, const float *X, float *F)
{
    th_matmul_packed_f32(0, b, 1.0f, X, N_UNITS, p->hidden, 0.0f, F + N_VISIBLE, N_UNITS);
    th_matmul_packed_f32(0, b, 1.0f, X + N_VISIBLE, N_UNITS, p->visible, 0.0f, F, N_UNITS);
}

/* Seconds per call, the mean over calls repeated for about target_s. */
static double time_products(const struct products *p, size_t b, const float *X, float *F,
                            double target_s)
{
    size_t n = 0;
    const double t0 = bench_now_s();
    do products_run(p, b, X, F), n++;
    while (bench_now_s() - t0 < target_s);
    return (bench_now_s() - t0) / (double)n;
}

/* Seconds per step of `steps` fused steps of batch s. */
static double time_steps(const th_model *m, th_batch *s, th_precision precision, size_t steps)
{
    th_run r = th_run_default();
    r.n_steps = steps;
    r.dt = 1e-3;
    r.precision = precision;
    const double t0 = bench_now_s();
    if (th_langevin_run(m, s, &r) != TH_OK) die("th_langevin_run");
    return (bench_now_s() - t0) / (double)steps;
}

int main(int argc, char **argv)
{
    bench_use_blas_core(argv);
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: bench_bf16 [--quick]\n");
        return 2;
    }
    const int reps = quick ? 2 : 3;
    const double target = quick ? 0.1 : 0.3;
    /* A run packs the couplings and computes two extra products for the
     * heat's coupling energy at its ends (langevin.c); the sampler's runs
     * are 2500 steps long, so time runs long enough for that to vanish
     * (at 10 steps it was a fifth of the time per step). */
    const size_t steps = quick ? 100 : 400;
    static const size_t batches[] = {16, 128, PRL_BATCH};

    th_model *m = prl_model();
    const double flops_per_row = 2.0 * (double)th_model_coupling_pairs(m);
    struct products p32 = pack(m, 0), p16 = pack(m, 1);
    float *X = malloc(sizeof(float) * PRL_BATCH * N_UNITS);
    float *F = calloc((size_t)PRL_BATCH * N_UNITS, sizeof(float));
    if (!X || !F) die("malloc");
    uint64_t st = 5;
    th_normal_fill_f32(st, 0, 0, X, (size_t)PRL_BATCH * N_UNITS);
    for (size_t i = 0; i < (size_t)PRL_BATCH * N_UNITS; i++) X[i] *= 0.3f;

    printf("bench_bf16: the PRL step, float32 against bfloat16 (%s kernel; float32 %s), "
           "%d threads\n", th_matmul_bf16_kernel(), th_matmul_kernel(), omp_get_max_threads());
    printf("%5s %12s %12s %10s %12s %12s %10s %12s\n", "B", "f32 GEMM", "bf16 GEMM", "GEMM x",
           "f32 step", "bf16 step", "step x", "bf16/bound");
    printf("%5s %12s %12s %10s %12s %12s %10s %12s\n", "", "GF/s", "GF/s", "", "GF/s", "GF/s",
           "", "");
    double step32_prl = 0, step16_prl = 0, gemm32_prl = 0;
    for (size_t ib = 0; ib < sizeof batches / sizeof batches[0]; ib++) {
        const size_t b = batches[ib];
        th_batch *s32 = th_batch_alloc(m, b, 1), *s16 = th_batch_alloc(m, b, 1);
        if (!s32 || !s16) die("th_batch_alloc");
        /* leave x = 0 behind, so that both precisions step through wells */
        time_steps(m, s32, TH_PRECISION_NATIVE, 50);
        time_steps(m, s16, TH_PRECISION_BF16, 50);
        double g32 = HUGE_VAL, g16 = HUGE_VAL, t32 = HUGE_VAL, t16 = HUGE_VAL;
        for (int r = 0; r < reps; r++) {
            g32 = fmin(g32, time_products(&p32, b, X, F, target));
            g16 = fmin(g16, time_products(&p16, b, X, F, target));
            t32 = fmin(t32, time_steps(m, s32, TH_PRECISION_NATIVE, steps));
            t16 = fmin(t16, time_steps(m, s16, TH_PRECISION_BF16, steps));
        }
        const double flops = flops_per_row * (double)b;
        printf("%5zu %12.1f %12.1f %10.2f %12.1f %12.1f %10.2f %12.2f\n", b, flops / g32 * 1e-9,
               flops / g16 * 1e-9, g32 / g16, flops / t32 * 1e-9, flops / t16 * 1e-9, t32 / t16,
               t16 / g32);
        if (b == PRL_BATCH) step32_prl = t32, step16_prl = t16, gemm32_prl = g32;
        th_batch_free(s32);
        th_batch_free(s16);
    }
    /* 1000 samples in batches of 256: three full and one of 232, each a
     * batch of 256 rows of work in this projection (a slight overcount). */
    const double batches_prl = ceil((double)PRL_SAMPLES / PRL_BATCH);
    const double phase2_32 = batches_prl * PRL_STEPS * step32_prl;
    const double phase2_16 = batches_prl * PRL_STEPS * step16_prl;
    const double bound = flops_per_row * PRL_SAMPLES * PRL_STEPS /
                         (flops_per_row * PRL_BATCH / gemm32_prl);
    printf("preset computing phase (%d samples x %d steps, B = %d): float32 %.1f s, bfloat16 "
           "%.1f s; float32 product bound %.1f s; bfloat16 / bound %.2f\n", PRL_SAMPLES,
           PRL_STEPS, PRL_BATCH, phase2_32, phase2_16, bound, phase2_16 / bound);
    th_matmul_operand_free(p32.hidden);
    th_matmul_operand_free(p32.visible);
    th_matmul_operand_free(p16.hidden);
    th_matmul_operand_free(p16.visible);
    free(X);
    free(F);
    th_model_free(m);
    return 0;
}
