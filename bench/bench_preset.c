/* bench_preset.c - the prl2026 preset's whole work against the float32
 * matrix-product bound of this CPU, measured in one run (issue 16).
 *
 * The preset (thermo train --preset prl2026; science.md section 2) is 100
 * gradient-descent updates on the paper's three digits (data/prl2026, in
 * the repository) and 1000 samples. This runs exactly that work through the
 * library (th_gen_train, th_gen_sample) and times it, and each phase on its
 * own:
 *   - training: the 100 updates;
 *   - generation, phase 1 (the uncoupled wells' noise, 2500 Euler-Maruyama
 *     steps a sample) and phase 2 (2500 steps under the couplings): phase 2
 *     is the sampling with phase 1 drawn exactly (th_gen_sample_opts.phase1,
 *     the same phase-2 arithmetic and noise) less the exact draws' own time
 *     (th_batch_draw_wells, timed alone), and phase 1 is the default
 *     sampling less phase 2;
 *   - the whole preset again with phase 1 drawn exactly (--phase1 exact),
 *     and phase 2 in bfloat16 (--precision bf16) against the float32
 *     generation bound;
 *   - the unit-steps' price: the noise phase is nothing but unit-steps (a
 *     normal and the update of one unit), so its time per unit-step prices
 *     those of phase 2 and of training's noising paths too. The bound plus
 *     all of them, over the bound, is the ratio the preset would have with
 *     its products exactly at the bound and nothing else outside them (with
 *     --phase1 exact: the draws instead of the noise phase).
 *
 * Its FLOP, derived from the shapes (every multiply-add of the products the
 * code issues counts 2):
 *   - training, per update and step: the coupling forces of the path's
 *     states, 2 x 1,064,448 (the ordered coupled pairs), and the gradient's
 *     products, 2 x 1,064,960 (visible-hidden both ways and hidden-hidden
 *     blocks, rows x columns): 10.65 GFLOP an update, 1.065 TFLOP in all;
 *   - generation, per sample: 2502 coupling-force products (2500 steps, and
 *     one at each end of the run for the energies of the heat), each over
 *     the blocks F[:, visible] = X[:, hidden] J (512 x 784) and
 *     F[:, hidden] = X J (1296 x 512): 1,064,960 multiply-adds: 5.33 TFLOP.
 * The bound is each phase's FLOP at the best float32 product rate measured
 * in the same run at its shapes (generation: a batch of 256 rows times both
 * blocks; training: blocks of 250 steps, the forces and the gradient's
 * transposed products), the best over thermo's kernels (each this CPU runs,
 * plain and with B packed once) and OpenBLAS as loaded
 * (th_matmul_openblas_f32, OPENBLAS_CORETYPE's kernel, printed). The
 * fraction of the bound is wall time over that. Beside the products it
 * prints the multiply-add peak of the vector unit (bench_fma_peak: chains
 * in registers, no memory, on every thread), measured before and after
 * them: how close the products, and so the bound, come to the machine. On a machine shared with
 * other work read the ratios, not the absolute times; the load average is
 * printed.
 *
 * Usage: bench_preset [--quick] [--reps R]
 *   --quick  4 updates and 64 samples: a smoke run (its ratios are not the
 *            preset's: fixed costs weigh more)
 *   --reps R the whole measurement R times; prints each and the median */
#include "thermo.h"
#include "bench_common.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_BATCH 256
#define SGEMM_ROUNDS 5

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_preset: %s failed: %s (%s)\n", what, th_strerror(rc),
            th_last_error());
    exit(1);
}

/* ------------------------------------------------ the products' rate */

/* The products of one phase at its shapes, by one implementation. */
typedef enum impl { THERMO_PLAIN, THERMO_PACKED, OPENBLAS } impl;

typedef struct operands {
    size_t n, v, h;         /* units, visible, hidden */
    float *J, *X, *F, *A;   /* J (n, n); X (rows, n); F (rows, n); A (n, n) */
    th_matmul_operand *Jh, *Jv; /* J[:, v:n] (n, h) and J[v:n, 0:v] (h, v) packed */
} operands;

static void product(impl how, size_t M, size_t N, size_t K, const float *A, size_t lda,
                    const float *B, const th_matmul_operand *Bp, size_t ldb, float *C,
                    size_t ldc, int trans_a, float beta)
{
    if (how == OPENBLAS)
        th_matmul_openblas_f32(trans_a, 0, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    else if (how == THERMO_PACKED && Bp && !trans_a)
        th_matmul_packed_f32(0, M, 1.0f, A, lda, Bp, beta, C, ldc);
    else
        th_matmul_f32(trans_a, 0, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

/* The forces of `rows` states, F[:, v:n] = X J[:, v:n] and
 * F[:, 0:v] = X[:, v:n] J[v:n, 0:v]; with gradient, also the training
 * update's A[g, h] += F[:, g]^T X[:, h] for the coupled blocks. Returns
 * its FLOP. */
static double phase_products(const operands *o, impl how, size_t rows, int gradient)
{
    const size_t n = o->n, v = o->v, h = o->h;
    product(how, rows, h, n, o->X, n, o->J + v, o->Jh, n, o->F + v, n, 0, 0.0f);
    product(how, rows, v, h, o->X + v, n, o->J + v * n, o->Jv, n, o->F, n, 0, 0.0f);
    double mac = (double)rows * (double)(n * h + h * v);
    if (gradient) {
        product(how, v, h, rows, o->F, n, o->X + v, NULL, n, o->A + v, n, 1, 1.0f);
        product(how, h, v, rows, o->F + v, n, o->X, NULL, n, o->A + v * n, n, 1, 1.0f);
        product(how, h, h, rows, o->F + v, n, o->X + v, NULL, n, o->A + v * n + v, n, 1, 1.0f);
        mac += (double)rows * (double)(2 * v * h + h * h);
    }
    return 2 * mac;
}

/* The best rate (FLOP/s) of `how` over SGEMM_ROUNDS rounds of `calls`
 * calls each. */
static double rate(const operands *o, impl how, size_t rows, int gradient, int calls)
{
    phase_products(o, how, rows, gradient); /* warm-up: packing space, threads */
    double best = 0;
    for (int r = 0; r < SGEMM_ROUNDS; r++) {
        double flop = 0;
        const double t0 = bench_now_s();
        for (int c = 0; c < calls; c++) flop += phase_products(o, how, rows, gradient);
        const double t = bench_now_s() - t0;
        if (flop / t > best) best = flop / t;
    }
    return best;
}

/* Rates at the generation's and training's shapes for every implementation
 * this CPU runs; prints them; the best of each into best_gen, best_train. */
static void sgemm_rates(const th_gen_params *p, int calls, double *best_gen, double *best_train)
{
    operands o = {.n = p->n_visible + p->n_hidden, .v = p->n_visible, .h = p->n_hidden};
    const size_t n = o.n, rows = GEN_BATCH > p->block_steps ? GEN_BATCH : p->block_steps;
    o.J = malloc(n * n * sizeof(float));
    o.X = malloc(rows * n * sizeof(float));
    o.F = malloc(rows * n * sizeof(float));
    o.A = calloc(n * n, sizeof(float));
    if (!o.J || !o.X || !o.F || !o.A) die("malloc", TH_ENOMEM);
    th_normal_fill_f32(1, 1, 0, o.J, n * n);
    th_normal_fill_f32(1, 2, 0, o.X, rows * n);
    o.Jh = th_matmul_operand_f32(0, n, o.h, o.J + o.v, n);
    o.Jv = th_matmul_operand_f32(0, o.h, o.v, o.J + o.v * n, n);
    if (!o.Jh || !o.Jv) die("th_matmul_operand_f32", TH_ENOMEM);

    /* the vector unit's own rate, before and after the products (the best
     * of the two: a busy spell of a shared machine lowers one) */
    double peak = fmax(bench_fma_peak(1), bench_fma_peak(0));
    printf("float32 products at the preset's shapes (best of %d rounds of %d calls):\n",
           SGEMM_ROUNDS, calls);
    printf("  %-34s %18s %18s\n", "implementation", "generation B=256", "training M=250");
    const char *kernel0 = th_matmul_kernel();
    static const char *const kernels[] = {"avx512", "avx2", "scalar"};
    *best_gen = *best_train = 0;
    for (int k = 0; k < 3; k++) {
        if (strcmp(kernels[k], "scalar") == 0 || th_matmul_use(kernels[k]) != TH_OK) continue;
        for (int packed = 0; packed < 2; packed++) {
            const impl how = packed ? THERMO_PACKED : THERMO_PLAIN;
            const double g = rate(&o, how, GEN_BATCH, 0, calls);
            const double t = rate(&o, how, p->block_steps, 1, calls);
            char label[64];
            snprintf(label, sizeof label, "thermo %s%s", kernels[k],
                     packed ? " (J packed once)" : "");
            printf("  %-34s %13.1f GF/s %13.1f GF/s\n", label, g * 1e-9, t * 1e-9);
            *best_gen = fmax(*best_gen, g);
            *best_train = fmax(*best_train, t);
        }
    }
    th_matmul_use(kernel0);
    const double g = rate(&o, OPENBLAS, GEN_BATCH, 0, calls);
    const double t = rate(&o, OPENBLAS, p->block_steps, 1, calls);
    char label[64];
    snprintf(label, sizeof label, "OpenBLAS (%s)", openblas_get_corename());
    printf("  %-34s %13.1f GF/s %13.1f GF/s\n", label, g * 1e-9, t * 1e-9);
    *best_gen = fmax(*best_gen, g);
    *best_train = fmax(*best_train, t);
    printf("  %-34s %13.1f GF/s %13.1f GF/s\n", "best", *best_gen * 1e-9, *best_train * 1e-9);
    /* what the vector unit itself allows: the products are near it, so
     * the bound is the machine's, and what is left is work outside them */
    peak = fmax(peak, fmax(bench_fma_peak(1), bench_fma_peak(0)));
    if (peak > 0)
        printf("  %-34s %13.1f GF/s   (registers only; the best products: %.0f%% and %.0f%% "
               "of it)\n", "multiply-add peak, all threads", peak * 1e-9,
               100 * *best_gen / peak, 100 * *best_train / peak);
    th_matmul_operand_free(o.Jh);
    th_matmul_operand_free(o.Jv);
    free(o.J);
    free(o.X);
    free(o.F);
    free(o.A);
}

/* ------------------------------------------------------ the preset */

typedef struct times {
    double train, sample, sample_exact, draws, phase1, phase2, total;
    double sample_bf16;  /* phase 1 drawn exactly, phase 2 in bfloat16 */
    double phase2_bf16;
} times;

static times run_preset(const th_gen_params *p, const th_gen_training_set *ts, size_t updates,
                        size_t samples)
{
    times t = {0};
    th_model *m = th_gen_model_alloc(p, TH_F32);
    double *loss = malloc(updates * sizeof *loss);
    float *out = malloc(samples * p->n_visible * sizeof *out);
    double *heat = malloc(samples * sizeof *heat);
    if (!m || !loss || !out || !heat) die("allocation", TH_ENOMEM);
    th_gen_train_opts to = th_gen_train_opts_default();
    to.updates = updates;
    double t0 = bench_now_s();
    int rc = th_gen_train(m, p, ts->images, ts->labels, ts->count, &to, 0, loss);
    t.train = bench_now_s() - t0;
    if (rc != TH_OK) die("th_gen_train", rc);

    th_gen_sample_opts so = th_gen_sample_opts_default();
    t0 = bench_now_s();
    if ((rc = th_gen_sample(m, p, samples, &so, out, heat)) != TH_OK) die("th_gen_sample", rc);
    t.sample = bench_now_s() - t0;
    so.phase1 = TH_GEN_PHASE1_EXACT;
    t0 = bench_now_s();
    if ((rc = th_gen_sample(m, p, samples, &so, out, heat)) != TH_OK)
        die("th_gen_sample (exact phase 1)", rc);
    t.sample_exact = bench_now_s() - t0;
    so.precision = TH_PRECISION_BF16;
    t0 = bench_now_s();
    if ((rc = th_gen_sample(m, p, samples, &so, out, heat)) != TH_OK)
        die("th_gen_sample (bfloat16)", rc);
    t.sample_bf16 = bench_now_s() - t0;

    /* the exact draws alone, on the noise phase's wells, batch by batch */
    th_model *wells = th_gen_model_alloc(p, TH_F32);
    th_batch *b = wells ? th_batch_alloc(wells, so.batch, p->seed) : NULL;
    if (!b) die("th_batch_alloc", TH_ENOMEM);
    t0 = bench_now_s();
    for (size_t k0 = 0; k0 < samples; k0 += so.batch) {
        for (size_t k = 0; k < so.batch; k++)
            th_batch_set_stream(b, k, TH_GEN_SAMPLE_STREAM + k0 + k);
        if ((rc = th_batch_draw_wells(wells, b, NULL)) != TH_OK) die("th_batch_draw_wells", rc);
    }
    t.draws = bench_now_s() - t0;
    t.phase2 = t.sample_exact - t.draws;
    t.phase2_bf16 = t.sample_bf16 - t.draws;
    t.phase1 = t.sample - t.phase2;
    t.total = t.train + t.sample;
    th_batch_free(b);
    th_model_free(wells);
    th_model_free(m);
    free(loss);
    free(out);
    free(heat);
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int count)
{
    qsort(v, (size_t)count, sizeof *v, cmp_double);
    return count % 2 ? v[count / 2] : (v[count / 2 - 1] + v[count / 2]) / 2;
}

int main(int argc, char **argv)
{
    bench_use_blas_core(argv);
    int quick = 0, reps = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_preset [--quick] [--reps R]\n");
            return 2;
        }
    }
    th_gen_recipe r;
    th_gen_training_set *ts = NULL;
    th_gen_params p;
    int rc = th_gen_recipe_preset("prl2026", &r);
    if (rc == TH_OK) rc = th_gen_training_set_load(r.data, r.images, r.pool, 0, &ts);
    if (rc == TH_OK) rc = th_gen_recipe_params(&r, ts, &p);
    if (rc != TH_OK) die("the prl2026 preset (run from the repository's root)", rc);
    const size_t updates = quick ? 4 : r.updates, samples = quick ? 64 : r.samples;
    const size_t steps = th_gen_steps(&p), n = p.n_visible + p.n_hidden;

    /* FLOP from the shapes (see the file comment) */
    th_model *shape = th_gen_model_alloc(&p, TH_F32);
    if (!shape) die("th_gen_model_alloc", TH_ENOMEM);
    const double pairs = (double)th_model_coupling_pairs(shape);
    const double grad_entries = (double)(2 * p.n_visible * p.n_hidden + p.n_hidden * p.n_hidden);
    const double force_mac = (double)(n * p.n_hidden + p.n_hidden * p.n_visible);
    const double flop_train = (double)updates * (double)steps * 2 * (pairs + grad_entries);
    const double flop_gen = (double)samples * (double)(steps + 2) * 2 * force_mac;
    th_model_free(shape);

    printf("bench_preset (thermo %s): the prl2026 preset's work, %zu updates + %zu samples, "
           "float32%s\n", th_version(), updates, samples, quick ? " (--quick: a smoke run)" : "");
    char load[64];
    printf("threads: OpenMP %d; products: thermo %s; OpenBLAS %s; load average before: %s\n",
           omp_get_max_threads(), th_matmul_kernel(), openblas_get_corename(),
           bench_load_average(load, sizeof load));
    printf("FLOP: training   %8.4f TFLOP = %zu updates x %zu steps x 2 x (%.0f force + %.0f "
           "gradient multiply-adds)\n", flop_train * 1e-12, updates, steps, pairs, grad_entries);
    printf("      generation %8.4f TFLOP = %zu samples x %zu force products x 2 x %.0f "
           "multiply-adds\n", flop_gen * 1e-12, samples, steps + 2, force_mac);
    printf("      total      %8.4f TFLOP\n\n", (flop_train + flop_gen) * 1e-12);
    fflush(stdout);

    double *ratio = malloc(5 * (size_t)reps * sizeof *ratio);
    if (!ratio) die("malloc", TH_ENOMEM);
    double *ratio_exact = ratio + reps, *ratio_bf16 = ratio + 2 * reps;
    double *floor_euler = ratio + 3 * reps, *floor_exact = ratio + 4 * reps;
    /* Unit-steps (a normal and an update of one unit) outside the products:
     * the noise phase, phase 2, and training's noising paths (preparation
     * and noising), every unit of every step. */
    const double unit_steps_1 = (double)samples * (double)steps * (double)n;
    const double unit_steps_2 = unit_steps_1;
    const double unit_steps_train = (double)updates * 2.0 * (double)steps * (double)n;
    for (int rep = 0; rep < reps; rep++) {
        double best_gen, best_train;
        sgemm_rates(&p, quick ? 4 : 20, &best_gen, &best_train);
        const times t = run_preset(&p, ts, updates, samples);
        const double b_train = flop_train / best_train, b_gen = flop_gen / best_gen;
        const double bound = b_train + b_gen;
        ratio[rep] = t.total / bound;
        printf("bound    %.2f s = training %.2f s + generation %.2f s at the best rates\n",
               bound, b_train, b_gen);
        printf("training %8.2f s  %zu updates (%.3f s each)   %.2f x its bound\n", t.train,
               updates, t.train / (double)updates, t.train / b_train);
        printf("phase 1  %8.2f s  %zu samples x %zu Euler-Maruyama steps, uncoupled (drawn "
               "exactly instead: %.3f s)\n", t.phase1, samples, steps, t.draws);
        printf("phase 2  %8.2f s  %zu samples x %zu steps under the couplings   %.2f x the "
               "generation bound\n", t.phase2, samples, steps, t.phase2 / b_gen);
        printf("preset   %8.2f s  wall (training + sampling)   %.2f x the bound   [rep %d of "
               "%d]\n", t.total, t.total / bound, rep + 1, reps);
        ratio_exact[rep] = (t.train + t.sample_exact) / bound;
        ratio_bf16[rep] = t.phase2_bf16 / b_gen;
        printf("  with --phase1 exact %8.2f s wall   %.2f x the bound\n",
               t.train + t.sample_exact, ratio_exact[rep]);
        printf("  phase 2 in bfloat16 %8.2f s (%s)   %.2f x the float32 generation bound\n",
               t.phase2_bf16, th_matmul_bf16_kernel(), ratio_bf16[rep]);
        /* The noise phase is nothing but unit-steps, so its rate prices
         * those the rest of the preset must also take, whatever the speed
         * of its products. */
        const double per_unit_step = t.phase1 / unit_steps_1;
        const double outside = per_unit_step * (unit_steps_1 + unit_steps_2 + unit_steps_train);
        floor_euler[rep] = (bound + outside) / bound;
        floor_exact[rep] = (bound + outside - per_unit_step * unit_steps_1 + t.draws) / bound;
        printf("  unit-steps %6.2f s (%.3g, a normal and an update each, at phase 1's %.2f "
               "ns): bound + these = %.2f x the bound, %.2f with --phase1 exact\n\n",
               outside, unit_steps_1 + unit_steps_2 + unit_steps_train, per_unit_step * 1e9,
               floor_euler[rep], floor_exact[rep]);
        fflush(stdout);
    }
    printf("medians over %d run%s:\n", reps, reps == 1 ? "" : "s");
    printf("  preset / bound                         %.2f (target <= 1.1)\n",
           median_of(ratio, reps));
    printf("  preset with --phase1 exact / bound     %.2f\n", median_of(ratio_exact, reps));
    printf("  bfloat16 phase 2 / float32 gen. bound  %.2f (target <= 0.6)\n",
           median_of(ratio_bf16, reps));
    printf("  (bound + unit-steps) / bound           %.2f, %.2f with --phase1 exact\n",
           median_of(floor_euler, reps), median_of(floor_exact, reps));
    free(ratio);
    th_gen_training_set_free(ts);
    return 0;
}
