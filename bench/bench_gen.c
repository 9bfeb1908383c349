/* bench_gen.c - speed of one training update of the generative computer.
 *
 * The prl2026 preset (th_gen_params_default(): Whitelam, PRL 136, 037101
 * (2026), science.md section 2): 784 visible + 512 hidden units, kT = 0.1,
 * dt = 1e-3, t_f = 2.5, float32. One update of the published recipe is one
 * noising path (B = 1): th_gen_path_loss with a gradient, which prepares the
 * path (2500 steps), noises it (2500 steps) and evaluates the reverse-path
 * objective and its gradient over the 2500 noising steps. The couplings are
 * random and small, J_ij ~ N(0, 0.01^2), so every coupling is nonzero (speed
 * does not depend on the values, but zeros could hide a kernel that skips
 * them).
 *
 * Measured:
 *   - the update with TH_KERNEL_FAST at the full t_f, and the noising paths
 *     alone (th_gen_noising_snapshots keeping only the last state), so the
 *     objective's share is the difference; the path alone also on one
 *     thread, as the one path's units are shared among the threads;
 *   - the update with TH_KERNEL_REFERENCE, which at about 2 ms per step
 *     would take seconds per measurement at the full t_f: it is timed at
 *     t_f = 0.05 and 0.1 (50 and 100 steps, each one block) and its cost per
 *     step is the slope between the two, so that the fixed cost of a call
 *     drops out; the full update is estimated as the 50-step time plus 2450
 *     steps at that slope. The output says so. (The full update has 10
 *     blocks, and each further block's fixed cost, the model copied to double,
 *     a few ms, is left out: about 1% of the estimate.)
 *   - useful GFLOP/s of the fast update: per step 2 B pairs flops for the
 *     coupling forces and 2 B (sum over coupled blocks of rows x cols) for the
 *     gradient's products, over the whole update's time and over the
 *     objective's share alone;
 *   - OpenBLAS SGEMM on exactly the products the fast objective issues (forces
 *     and gradient, block by block), as the ceiling it can reach: on a machine
 *     with few cores that ceiling, not the kernel, bounds the ratio to the
 *     single-threaded reference.
 * Every figure is the best (minimum time) of several repetitions, and the
 * fast, paths and SGEMM timings are interleaved so that a noisy spell hits
 * them alike. The fast objective runs in OpenBLAS's threads while the
 * reference runs on one core, so on a small machine shared with other work
 * the ratio falls when a core is busy (a thread pool waiting on a descheduled
 * thread): the load average is printed with the results to read them by.
 *
 * Usage: bench_gen [--quick]   (--quick: fewer repetitions) */
#include "thermo.h"
#include "bench_common.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COUPLING_SD 0.01
#define MODEL_SEED 20260101u
#define REF_SHORT_T_F 0.05
#define REF_LONG_T_F 0.1

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_gen: %s failed: %s (%s)\n", what, th_strerror(rc), th_last_error());
    exit(1);
}

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

/* The preset's model with couplings J_ij ~ N(0, COUPLING_SD^2) on every
 * allowed pair; row i's normals come from stream i of MODEL_SEED, so the model
 * is the same in every run. */
static th_model *prl_model(const th_gen_params *p)
{
    th_model *m = th_gen_model_alloc(p, TH_F32);
    if (!m) die("th_gen_model_alloc", TH_ENOMEM);
    double *z = malloc(m->n * sizeof *z); /* (n) normals for one row */
    if (!z) die("malloc", TH_ENOMEM);
    for (size_t i = 0; i < m->n; i++) {
        th_normal_fill_f64(MODEL_SEED, i, 0, z, m->n);
        for (size_t j = i + 1; j < m->n; j++) {
            if (!th_model_groups_couple(m, i, j)) continue;
            int rc = th_model_set_coupling(m, i, j, COUPLING_SD * z[j]);
            if (rc != TH_OK) die("th_model_set_coupling", rc);
        }
    }
    free(z);
    return m;
}

/* A standardised 28 x 28 image (zero mean, unit variance): a ring, like a
 * zero; the cost does not depend on the picture. */
static void ring_image(float *s, size_t nv)
{
    const size_t side = (size_t)llround(sqrt((double)nv));
    double mean = 0, var = 0;
    for (size_t i = 0; i < nv; i++) {
        const double r = hypot((double)(i / side) - 13.5, (double)(i % side) - 13.5);
        s[i] = (float)exp(-(r - 8) * (r - 8) / 8);
        mean += (double)s[i];
    }
    mean /= (double)nv;
    for (size_t i = 0; i < nv; i++) var += ((double)s[i] - mean) * ((double)s[i] - mean);
    const double sd = sqrt(var / (double)nv);
    for (size_t i = 0; i < nv; i++) s[i] = (float)(((double)s[i] - mean) / sd);
}

/* One update: th_gen_path_loss with a gradient; returns seconds. */
static double time_update(const th_model *m, const th_gen_params *p, const float *image,
                          th_kernel kernel, th_model *grad)
{
    const uint64_t id = 0;
    double loss = 0;
    memset(grad->J.v, 0, m->n * m->n * sizeof(float));
    memset(grad->b.v, 0, m->n * sizeof(float));
    const double t0 = bench_now_s();
    int rc = th_gen_path_loss(m, p, image, NULL, &id, 1, kernel, &loss, grad);
    const double t = bench_now_s() - t0;
    if (rc != TH_OK) die("th_gen_path_loss", rc);
    if (!isfinite(loss)) die("th_gen_path_loss (loss not finite)", TH_EDIVERGED);
    return t;
}

/* The noising path alone (preparation and noising, no objective). */
static double time_paths(const th_gen_params *p, const float *image)
{
    const uint64_t id = 0;
    const size_t last = th_gen_steps(p); /* one snapshot: the path's end */
    float *end = malloc(p->n_visible * sizeof(float));
    if (!end) die("malloc", TH_ENOMEM);
    const double t0 = bench_now_s();
    int rc = th_gen_noising_snapshots(p, image, NULL, &id, 1, &last, 1, end);
    const double t = bench_now_s() - t0;
    if (rc != TH_OK) die("th_gen_noising_snapshots", rc);
    free(end);
    return t;
}

/* Sum over coupled blocks (g, h) of rows x cols: the multiply-adds of the
 * gradient's products R[:, g]^T X1[:, h] per row of the block. */
static double gradient_block_entries(const th_model *m)
{
    double sum = 0;
    for (size_t g = 0; g < m->n_groups; g++)
        for (size_t h = 0; h < m->n_groups; h++)
            if (m->couples[g][h])
                sum += (double)(m->group_start[g + 1] - m->group_start[g]) *
                       (double)(m->group_start[h + 1] - m->group_start[h]);
    return sum;
}

/* The matrix products the fast objective issues for one update, timed alone
 * on the same shapes (B = 1: blocks of M = block_steps rows): per block the
 * coupling forces, one product per coupled block row,
 *     F[:, 0:v] = X1[:, v:n] J[v:n, 0:v],   F[:, v:n] = X1 J[:, v:n],
 * and the gradient, one product per coupled block,
 *     A[g, h] += F[:, g]^T X1[:, h]  for (g, h) = (0, 1), (1, 0), (1, 1).
 * Their time is the ceiling the objective can reach with this BLAS. */
static double time_sgemm(const th_model *m, const th_gen_params *p)
{
    const size_t n = m->n, v = p->n_visible, h = n - v, steps = th_gen_steps(p);
    const size_t M = p->block_steps < steps ? p->block_steps : steps;
    const size_t blocks = (steps + M - 1) / M;
    float *X = malloc((M + 1) * n * sizeof *X), *F = malloc(M * n * sizeof *F);
    float *A = calloc(n * n, sizeof *A);
    if (!X || !F || !A) die("malloc", TH_ENOMEM);
    th_normal_fill_f32(MODEL_SEED, 0, 0, X, (M + 1) * n);
    const float *J = m->J.f32, *X1 = X + n;
    const int ni = (int)n, vi = (int)v, hi = (int)h, Mi = (int)M;
    const double t0 = bench_now_s();
    for (size_t b = 0; b < blocks; b++) {
        th_matmul_openblas_f32(0, 0, Mi, vi, hi, 1.0f, X1 + v, ni,
                    J + v * n, ni, 0.0f, F, ni);
        th_matmul_openblas_f32(0, 0, Mi, hi, ni, 1.0f, X1, ni, J + v,
                    ni, 0.0f, F + v, ni);
        th_matmul_openblas_f32(1, 0, vi, hi, Mi, 1.0f, F, ni, X1 + v, ni,
                    1.0f, A + v, ni);
        th_matmul_openblas_f32(1, 0, hi, vi, Mi, 1.0f, F + v, ni, X1, ni,
                    1.0f, A + v * n, ni);
        th_matmul_openblas_f32(1, 0, hi, hi, Mi, 1.0f, F + v, ni, X1 + v,
                    ni, 1.0f, A + v * n + v, ni);
    }
    const double t = bench_now_s() - t0;
    free(X);
    free(F);
    free(A);
    return t;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_gen [--quick]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench_use_blas_core(argv);
    int reps = 7, ref_reps = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            reps = 2;
            ref_reps = 1;
        } else {
            usage();
        }
    }

    const double t_start = bench_now_s();
    const th_gen_params p = th_gen_params_default();
    th_model *m = prl_model(&p);
    th_model *grad = th_gen_model_alloc(&p, TH_F32);
    if (!grad) die("th_gen_model_alloc", TH_ENOMEM);
    float *image = malloc(p.n_visible * sizeof *image);
    if (!image) die("malloc", TH_ENOMEM);
    ring_image(image, p.n_visible);
    const size_t n = m->n, pairs = th_model_coupling_pairs(m), steps = th_gen_steps(&p);

    printf("bench_gen (thermo %s): prl2026 preset, n = %zu (%zu visible + %zu hidden), "
           "%zu coupling pairs, float32\n",
           th_version(), n, p.n_visible, p.n_hidden, pairs);
    printf("one training update: B = 1 path, t_f = %g (%zu preparation + %zu noising steps), "
           "blocks of %zu steps, objective + gradient; J_ij ~ N(0, %g^2)\n",
           p.t_f, steps, steps, p.block_steps, COUPLING_SD);
    printf("threads: OpenMP %d, OpenBLAS %d; OpenBLAS %s (core %s); OPENBLAS_CORETYPE=%s\n",
           omp_get_max_threads(), openblas_get_num_threads(), openblas_get_config(),
           openblas_get_corename(), getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE")
                                                                 : "(unset)");
    char load[64] = "(unknown)";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (!fgets(load, sizeof load, lf)) strcpy(load, "(unknown)");
        load[strcspn(load, "\n")] = 0;
        fclose(lf);
    }
    printf("load average before the run: %s\n", load);
    printf("best of %d repetitions (reference: best of %d)\n\n", reps, ref_reps);
    fflush(stdout);

    th_gen_params p_short = p, p_long = p;
    p_short.t_f = REF_SHORT_T_F;
    p_long.t_f = REF_LONG_T_F;
    const size_t steps_short = th_gen_steps(&p_short), steps_long = th_gen_steps(&p_long);

    /* Warm-up: page faults, thread pools, caches. */
    time_update(m, &p, image, TH_KERNEL_FAST, grad);
    time_update(m, &p_short, image, TH_KERNEL_REFERENCE, grad);

    time_sgemm(m, &p);
    double t_fast = INFINITY, t_paths = INFINITY, t_sgemm = INFINITY;
    double t_ref_short = INFINITY, t_ref_long = INFINITY;
    double t_paths_short = INFINITY, t_paths_long = INFINITY, t_paths_one = INFINITY;
    for (int rep = 0; rep < reps; rep++) {
        t_fast = min_d(t_fast, time_update(m, &p, image, TH_KERNEL_FAST, grad));
        t_paths = min_d(t_paths, time_paths(&p, image));
        /* the one path on one thread: what the unit split (noising.c) saves */
        const int threads = omp_get_max_threads();
        omp_set_num_threads(1);
        t_paths_one = min_d(t_paths_one, time_paths(&p, image));
        omp_set_num_threads(threads);
        t_sgemm = min_d(t_sgemm, time_sgemm(m, &p));
        if (rep < ref_reps) {
            t_ref_short = min_d(t_ref_short,
                                time_update(m, &p_short, image, TH_KERNEL_REFERENCE, grad));
            t_ref_long = min_d(t_ref_long,
                               time_update(m, &p_long, image, TH_KERNEL_REFERENCE, grad));
            t_paths_short = min_d(t_paths_short, time_paths(&p_short, image));
            t_paths_long = min_d(t_paths_long, time_paths(&p_long, image));
        }
    }

    /* The reference's cost per step is the slope between its two lengths; the
     * full update is the short one plus the remaining steps at that slope. The
     * same for its objective alone, with the paths' time taken off. */
    const double ref_per_step = (t_ref_long - t_ref_short) / (double)(steps_long - steps_short);
    const double t_ref = t_ref_short + ref_per_step * (double)(steps - steps_short);
    const double ref_obj_per_step = ((t_ref_long - t_paths_long) - (t_ref_short - t_paths_short)) /
                                    (double)(steps_long - steps_short);
    const double t_ref_obj = (t_ref_short - t_paths_short) +
                             ref_obj_per_step * (double)(steps - steps_short);
    const double t_fast_obj = t_fast - t_paths;

    const double flops = (double)steps * (2.0 * (double)pairs + 2.0 * gradient_block_entries(m));
    printf("fast update:      %8.3f s  (noising paths %.3f s, objective + gradient %.3f s)\n",
           t_fast, t_paths, t_fast_obj);
    printf("noising path alone: %.3f s on 1 thread, %.3f s on %d (%.2fx)\n", t_paths_one,
           t_paths, omp_get_max_threads(), t_paths_one / t_paths);
    printf("reference update: %8.3f s  ESTIMATED: timed at t_f = %g and %g (%.3f s and %.3f s),"
           " %.2f ms per step from the slope, scaled to %zu steps\n",
           t_ref, REF_SHORT_T_F, REF_LONG_T_F, t_ref_short, t_ref_long, 1e3 * ref_per_step,
           steps);
    printf("reference objective + gradient alone: %.3f s (estimated the same way)\n\n",
           t_ref_obj);
    const double ratio = t_ref / t_fast, ratio_obj = t_ref_obj / t_fast_obj;
    printf("reference / fast, whole update:       %6.1fx (target >= 20x: %s)\n", ratio,
           ratio >= 20 ? "met" : "MISSED");
    printf("reference / fast, objective + gradient: %4.1fx\n", ratio_obj);
    printf("fast update: %.2f GFLOP per update (2 x %zu pairs for the forces + 2 x %.0f block "
           "entries for the gradient, per step), %.1f GFLOP/s over the update, %.1f GFLOP/s "
           "over the objective alone\n",
           flops * 1e-9, pairs, gradient_block_entries(m), flops / t_fast * 1e-9,
           flops / t_fast_obj * 1e-9);
    printf("SGEMM ceiling: the objective's products alone take %.3f s (%.1f GFLOP/s): the fast "
           "objective runs at %.0f%% of it\n",
           t_sgemm, flops / t_sgemm * 1e-9, 100 * t_sgemm / t_fast_obj);
    printf("projection: the PRL's 100 updates take %.1f s fast, %.0f s reference (estimated)\n",
           100 * t_fast, 100 * t_ref);
    printf("bench time: %.1f s\n", bench_now_s() - t_start);

    free(image);
    th_model_free(grad);
    th_model_free(m);
    return 0;
}
