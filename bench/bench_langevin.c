/* bench_langevin.c - speed of the Langevin kernels on the PRL architecture.
 *
 * The model is the generative computer of Whitelam, PRL 136, 037101 (2026),
 * science.md section 2: 784 visible + 512 hidden units, visible-hidden and
 * hidden-hidden couplings, kT = 0.1, J2 = J4 = 1, dt = 1e-3, float32. The
 * couplings are random and small, J_ij ~ N(0, 0.01^2), so that every coupling
 * is nonzero (speed does not depend on the values, but a model of zeros could
 * hide a kernel that skips them) and the dynamics stays in its wells.
 *
 * For B = 1, 16 and 128 trajectories it measures, in the same run:
 *   - the reference kernel and the fast kernel, as unit-updates per second
 *     (B * n * steps / seconds), and their ratio;
 *   - the fast kernel's useful GFLOP/s, 2 * B * th_model_coupling_pairs(m)
 *     flops per step (the coupling products only; the on-site update, noise
 *     and heat are counted as cost, not as useful work);
 *   - OpenBLAS SGEMM on exactly the products the fast kernel issues per step,
 *     F[:, 0:784] = X[:, 784:1296] J[784:1296, 0:784] and
 *     F[:, 784:1296] = X J[:, 784:1296], as the ceiling the kernel can reach;
 *   - the noise alone (B * n normals per step through th_normal_fill_f32,
 *     threaded as the kernel threads it), to say where a step's time goes.
 * The machine is shared and noisy, so every figure is the best (minimum time)
 * of several repetitions, and the measurements are interleaved within each
 * repetition so that a noisy spell hits all of them alike; the ratios are the
 * numbers to read, the absolute rates only describe this run.
 *
 * Usage: bench_langevin [--quick]   (--quick: fewer, shorter repetitions) */
#include "thermo.h"
#include "bench_common.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#define N_VISIBLE 784
#define N_HIDDEN 512
#define COUPLING_SD 0.01
#define MODEL_SEED 20260101u
#define NOISE_SEED 7u

/* The PRL generation workload the projection prices: samples x steps. */
#define PRL_SAMPLES 1000
#define PRL_STEPS 2500

static const size_t batch_sizes[] = {1, 16, 128};
#define N_BATCH_SIZES (sizeof batch_sizes / sizeof batch_sizes[0])

struct settings {
    int reps;           /* repetitions of the fast, SGEMM and noise timings */
    int ref_reps;       /* repetitions of the reference timing (it is slow) */
    double target_s;    /* length of one fast / SGEMM / noise measurement */
    double ref_target_s;
};

/* One batch size under test: the model, a batch, and the buffers the SGEMM and
 * noise timings use (separate from the batch, so those timings leave the
 * batch's state alone). */
struct bench_case {
    th_model *m;
    th_batch *s;
    size_t b;
    float *gx;    /* (b, n) a copy of equilibrated states: SGEMM's input */
    float *gf;    /* (b, n) SGEMM's output */
    float *noise; /* (b, n) noise timing's output */
    uint64_t noise_step;
};

/* Results for one batch size; every time is the best over repetitions. */
struct result {
    size_t b;
    double ref_step_s;   /* reference kernel, seconds per step */
    double fast_step_s;  /* fast kernel, seconds per step */
    double gemm_step_s;  /* the step's two SGEMM calls */
    double noise_step_s; /* the step's B * n normals */
    double call_s;       /* fixed cost of one fast th_langevin_run call (0 steps) */
};

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_langevin: %s failed: %s (%s)\n", what, th_strerror(rc),
            th_last_error());
    exit(1);
}

/* The PRL model with couplings J_ij ~ N(0, COUPLING_SD^2) on every allowed
 * pair. Row i's normals come from stream i of MODEL_SEED, so the model is the
 * same in every run. */
static th_model *prl_model(void)
{
    const size_t sizes[2] = {N_VISIBLE, N_HIDDEN};
    th_model *m = th_model_alloc(2, sizes, TH_F32);
    if (!m) die("th_model_alloc", TH_ENOMEM);
    int rc;
    if ((rc = th_model_couple(m, 0, 1)) != TH_OK) die("th_model_couple(0, 1)", rc);
    if ((rc = th_model_couple(m, 1, 1)) != TH_OK) die("th_model_couple(1, 1)", rc);
    m->kT = 0.1;
    th_model_set_onsite(m, 1.0, 1.0);
    double *z = malloc(m->n * sizeof *z); /* (n) normals for one row */
    if (!z) die("malloc", TH_ENOMEM);
    for (size_t i = 0; i < m->n; i++) {
        th_normal_fill_f64(MODEL_SEED, i, 0, z, m->n);
        for (size_t j = i + 1; j < m->n; j++) {
            if (!th_model_groups_couple(m, i, j)) continue;
            if ((rc = th_model_set_coupling(m, i, j, COUPLING_SD * z[j])) != TH_OK)
                die("th_model_set_coupling", rc);
        }
    }
    free(z);
    if ((rc = th_model_validate(m)) != TH_OK) die("th_model_validate", rc);
    return m;
}

static double time_kernel(struct bench_case *c, th_kernel kernel, size_t steps)
{
    th_run r = th_run_default();
    r.n_steps = steps;
    r.dt = 1e-3;
    r.kernel = kernel;
    double t0 = bench_now_s();
    int rc = th_langevin_run(c->m, c->s, &r);
    double t = bench_now_s() - t0;
    if (rc != TH_OK) die("th_langevin_run", rc);
    return t;
}

static double time_fast(struct bench_case *c, size_t steps)
{
    return time_kernel(c, TH_KERNEL_FAST, steps);
}

static double time_reference(struct bench_case *c, size_t steps)
{
    return time_kernel(c, TH_KERNEL_REFERENCE, steps);
}

/* The fast kernel's products for one step, one per coupled block row, with
 * the leading dimension n because each operand is a block of a full matrix:
 *   visible targets: F[:, 0:v] = X[:, v:n] (B x h) * J[v:n, 0:v] (h x v)
 *   hidden targets:  F[:, v:n] = X        (B x n) * J[:, v:n]   (n x h)
 * 2 * B * (h v + n h) flops: 2 * B * coupling pairs, plus 2 * B * h for the
 * hidden-hidden diagonal, which is zero but sits inside the dense block. */
static double time_sgemm(struct bench_case *c, size_t steps)
{
    const th_model *m = c->m;
    const int n = (int)m->n, v = (int)m->group_start[1], h = n - v, b = (int)c->b;
    const float *J = m->J.f32;
    double t0 = bench_now_s();
    for (size_t k = 0; k < steps; k++) {
        th_matmul_openblas_f32(0, 0, b, v, h, 1.0f, c->gx + v, n,
                    J + (size_t)v * m->n, n, 0.0f, c->gf, n);
        th_matmul_openblas_f32(0, 0, b, h, n, 1.0f, c->gx, n, J + v,
                    n, 0.0f, c->gf + v, n);
    }
    return bench_now_s() - t0;
}

static double sgemm_flops_per_step(const th_model *m, size_t b)
{
    const double n = (double)m->n, v = (double)m->group_start[1], h = n - v;
    return 2.0 * (double)b * (h * v + n * h);
}

/* A step's noise as the fast kernel draws it: trajectory j's n normals from
 * its own stream j at the step's block offset, trajectories split over the
 * OpenMP threads. The seed is arbitrary: the cost does not depend on it. */
static double time_noise(struct bench_case *c, size_t steps)
{
    const size_t n = c->m->n, b = c->b, blocks = (n + 3) / 4;
    float *out = c->noise;
    double t0 = bench_now_s();
    for (size_t k = 0; k < steps; k++) {
        const uint64_t first = c->noise_step++ * blocks;
#pragma omp parallel for schedule(static)
        for (size_t j = 0; j < b; j++)
            th_normal_fill_f32(NOISE_SEED, j, first, out + j * n, n);
    }
    return bench_now_s() - t0;
}

typedef double (*timer_fn)(struct bench_case *, size_t);

/* How many steps make one measurement last about target seconds beyond the
 * fixed cost offset of a call: grows the count until a trial's steps last an
 * eighth of the target, then scales. The trials double as warm-up (caches,
 * page faults, thread pools). */
static size_t calibrate(timer_fn timer, struct bench_case *c, double offset, double target)
{
    size_t count = 1;
    for (;;) {
        double t = timer(c, count) - offset;
        if (t >= target / 8 || count >= ((size_t)1 << 30)) {
            double scaled = ceil((double)count * target / (t > 1e-9 ? t : 1e-9));
            return scaled < 1 ? 1 : (size_t)scaled;
        }
        count *= 4;
    }
}

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

static struct result bench_batch(th_model *m, size_t b, const struct settings *cfg)
{
    struct bench_case c = {.m = m, .b = b};
    c.s = th_batch_alloc(m, b, 1000 + b);
    if (!c.s) die("th_batch_alloc", TH_ENOMEM);
    const size_t bn = b * m->n;
    c.gx = malloc(bn * sizeof(float));
    c.gf = malloc(bn * sizeof(float));
    c.noise = malloc(bn * sizeof(float));
    if (!c.gx || !c.gf || !c.noise) die("malloc", TH_ENOMEM);

    /* Leave x = 0 behind (50 steps: |x| ~ 0.1) so the products see typical
     * values; SGEMM gets a copy of the same states. */
    time_fast(&c, 50);
    memcpy(c.gx, th_batch_states(c.s).f32, bn * sizeof(float));

    /* A call costs more than its steps (validation, setup, and for the fast
     * kernel the coupling products before the first and after the last step);
     * it is measured apart, with 0 steps, and subtracted, so that the step
     * times are those of a long run such as the PRL's 2500 steps. */
    double call_fast = INFINITY, call_ref = INFINITY;
    for (int k = 0; k < 3; k++) {
        call_fast = min_d(call_fast, time_fast(&c, 0));
        call_ref = min_d(call_ref, time_reference(&c, 0));
    }
    const size_t fast_steps = calibrate(time_fast, &c, call_fast, cfg->target_s);
    const size_t gemm_steps = calibrate(time_sgemm, &c, 0, cfg->target_s);
    const size_t noise_steps = calibrate(time_noise, &c, 0, cfg->target_s / 2);
    const size_t ref_steps = calibrate(time_reference, &c, call_ref, cfg->ref_target_s);

    double t_fast = INFINITY, t_gemm = INFINITY, t_noise = INFINITY, t_ref = INFINITY;
    for (int rep = 0; rep < cfg->reps; rep++) {
        t_fast = min_d(t_fast, time_fast(&c, fast_steps));
        t_gemm = min_d(t_gemm, time_sgemm(&c, gemm_steps));
        t_noise = min_d(t_noise, time_noise(&c, noise_steps));
        call_fast = min_d(call_fast, time_fast(&c, 0));
        if (rep < cfg->ref_reps) {
            t_ref = min_d(t_ref, time_reference(&c, ref_steps));
            call_ref = min_d(call_ref, time_reference(&c, 0));
        }
    }
    struct result res = {
        .b = b,
        .ref_step_s = (t_ref - call_ref) / (double)ref_steps,
        .fast_step_s = (t_fast - call_fast) / (double)fast_steps,
        .gemm_step_s = t_gemm / (double)gemm_steps,
        .noise_step_s = t_noise / (double)noise_steps,
        .call_s = call_fast,
    };
    printf("B = %zu: steps per measurement: fast %zu, SGEMM %zu, noise %zu, reference %zu\n", b,
           fast_steps, gemm_steps, noise_steps, ref_steps);
    fflush(stdout);

    free(c.gx);
    free(c.gf);
    free(c.noise);
    th_batch_free(c.s);
    return res;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_langevin [--quick]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench_use_blas_core(argv);
    struct settings cfg = {.reps = 7, .ref_reps = 3, .target_s = 0.25, .ref_target_s = 0.5};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            cfg = (struct settings){.reps = 3, .ref_reps = 1, .target_s = 0.1,
                                    .ref_target_s = 0.25};
        else
            usage();
    }

    double t_start = bench_now_s();
    th_model *m = prl_model();
    const size_t n = m->n, pairs = th_model_coupling_pairs(m);

    printf("bench_langevin (thermo %s): PRL architecture, n = %zu (%d visible + %d hidden), "
           "%zu coupling pairs, float32\n",
           th_version(), n, N_VISIBLE, N_HIDDEN, pairs);
    printf("kT = %g, J2 = J4 = 1, dt = 1e-3, J_ij ~ N(0, %g^2)\n", m->kT, COUPLING_SD);
    printf("threads: OpenMP %d, OpenBLAS %d; OpenBLAS %s (core %s)\n", omp_get_max_threads(),
           openblas_get_num_threads(), openblas_get_config(), openblas_get_corename());
    /* The settings that change these numbers most on a small shared machine:
     * how idle OpenMP threads wait (spinning threads of OpenMP and of
     * OpenBLAS's own pool compete for the same cores) and which kernels
     * OpenBLAS picked for this CPU. */
    const char *env_names[] = {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS",
                               "OPENBLAS_CORETYPE"};
    printf("environment:");
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++) {
        const char *val = getenv(env_names[i]);
        printf(" %s=%s", env_names[i], val ? val : "(unset)");
    }
    printf("\n");
    /* OpenBLAS falls back to its SSE3 kernels (Prescott) on a CPU model it
     * does not know, such as a newer Xeon than the release: several times
     * slower than the AVX-512 kernels the CPU can run. */
    const char *core = openblas_get_corename();
    if (core && (strcmp(core, "Prescott") == 0 || strcmp(core, "Core2") == 0 ||
                 strcmp(core, "Nehalem") == 0))
        printf("note: OpenBLAS runs its %s kernels; if this CPU has AVX2 or AVX-512, "
               "OPENBLAS_CORETYPE=Haswell or SkylakeX selects faster ones\n", core);
    printf("best of %d repetitions (reference kernel: best of %d), interleaved\n\n", cfg.reps,
           cfg.ref_reps);
    fflush(stdout);

    struct result res[N_BATCH_SIZES];
    for (size_t i = 0; i < N_BATCH_SIZES; i++) res[i] = bench_batch(m, batch_sizes[i], &cfg);

    printf("\n    B | reference   fast        fast/ | fast     SGEMM    fast/\n");
    printf("      | updates/s   updates/s   ref   | GFLOP/s  GFLOP/s  SGEMM\n");
    printf("------+-------------------------------+-------------------------\n");
    for (size_t i = 0; i < N_BATCH_SIZES; i++) {
        const struct result *r = &res[i];
        const double units = (double)r->b * (double)n;
        const double ref_rate = units / r->ref_step_s, fast_rate = units / r->fast_step_s;
        const double fast_gf = 2.0 * (double)r->b * (double)pairs / r->fast_step_s * 1e-9;
        const double gemm_gf = sgemm_flops_per_step(m, r->b) / r->gemm_step_s * 1e-9;
        printf("  %3zu | %9.3g   %9.3g %5.1fx | %7.1f  %7.1f  %4.0f%%\n", r->b, ref_rate,
               fast_rate, fast_rate / ref_rate, fast_gf, gemm_gf, 100.0 * fast_gf / gemm_gf);
    }

    /* The fast step's time against its parts, each timed alone: what is
     * neither SGEMM nor noise is the fused on-site update, heat, state copy,
     * divergence check and the threads' start and stop. The fixed cost of a
     * call (validation, setup, two extra products) is apart, in "per call". */
    printf("\nfast step, microseconds: a step of a long run and its parts timed alone\n");
    printf("    B |     step    SGEMM    noise    other | per call\n");
    for (size_t i = 0; i < N_BATCH_SIZES; i++) {
        const struct result *r = &res[i];
        printf("  %3zu | %8.1f %8.1f %8.1f %8.1f | %8.1f\n", r->b, 1e6 * r->fast_step_s,
               1e6 * r->gemm_step_s, 1e6 * r->noise_step_s,
               1e6 * (r->fast_step_s - r->gemm_step_s - r->noise_step_s), 1e6 * r->call_s);
    }

    const struct result *big = &res[N_BATCH_SIZES - 1];
    const double big_fast_gf = 2.0 * (double)big->b * (double)pairs / big->fast_step_s * 1e-9;
    const double big_gemm_gf = sgemm_flops_per_step(m, big->b) / big->gemm_step_s * 1e-9;
    const double ratio_gemm = big_fast_gf / big_gemm_gf;
    const double ratio_ref = big->ref_step_s / big->fast_step_s;
    printf("\ntargets at B = %zu: fast/SGEMM %.0f%% (target >= 50%%: %s), "
           "fast/reference %.0fx (target >= 20x: %s)\n",
           big->b, 100.0 * ratio_gemm, ratio_gemm >= 0.5 ? "met" : "MISSED", ratio_ref,
           ratio_ref >= 20 ? "met" : "MISSED");

    /* Generation in the PRL: each sample is one trajectory of PRL_STEPS steps
     * of the coupled computer; at the B = 128 rate the cost is the number of
     * unit-updates over the rate; run as whole batches, ceil(samples / B)
     * calls of PRL_STEPS steps, each call with its fixed cost. */
    const double big_rate = (double)big->b * (double)n / big->fast_step_s;
    const size_t batches = (PRL_SAMPLES + big->b - 1) / big->b;
    printf("projection: PRL generation, %d samples x %d steps at the B = %zu rate: %.1f s "
           "(%zu whole batches: %.1f s)\n",
           PRL_SAMPLES, PRL_STEPS, big->b,
           (double)PRL_SAMPLES * PRL_STEPS * (double)n / big_rate, batches,
           (double)batches * (PRL_STEPS * big->fast_step_s + big->call_s));
    printf("bench time: %.1f s\n", bench_now_s() - t_start);

    th_model_free(m);
    return 0;
}
