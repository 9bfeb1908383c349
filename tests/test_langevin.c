/* test_langevin.c - the integrator's machinery: the fast kernel against its
 * reference twin, determinism across threads and across split runs,
 * snapshots, divergence, cancellation and rejected parameters. The physics
 * (equilibrium statistics, the first law) is in test_physics.c. */
#include "harness.h"
#include "thermo.h"
#include "core/backend.h"
#include "core/internal.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static double sine_amplitude(double t, void *ctx)
{
    (void)ctx;
    return 0.8 * sin(6.0 * t) + 0.3;
}

static double nan_after_half(double t, void *ctx)
{
    (void)ctx;
    return t > 0.5 ? (double)NAN : 1.0;
}

/* A model with every feature the kernels handle: three groups with a
 * non-contiguous pattern (0-2 and 1-1 coupled, 0-0 and 2-2 not), random
 * couplings, biases and on-site terms. */
static th_model *mixed_model(th_dtype dtype, size_t n0, size_t n1, size_t n2, uint64_t seed)
{
    size_t sizes[3] = {n0, n1, n2};
    th_model *m = th_model_alloc(3, sizes, dtype);
    th_model_couple(m, 0, 2);
    th_model_couple(m, 1, 1);
    m->kT = 0.3;
    m->mu = 1.3;
    th_rng r;
    th_rng_init(&r, seed, 99);
    for (size_t i = 0; i < m->n; i++) {
        th_ptr_set(m->J2, dtype, i, 0.5 + th_rng_uniform(&r));
        th_ptr_set(m->J4, dtype, i, th_rng_uniform(&r));
        th_ptr_set(m->b, dtype, i, th_rng_uniform(&r) - 0.5);
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j))
                th_model_set_coupling(m, i, j, 0.6 * (th_rng_uniform(&r) - 0.5));
    }
    return m;
}

static void fill_field(th_ptr f, th_dtype dtype, size_t count, uint64_t seed)
{
    th_rng r;
    th_rng_init(&r, seed, 7);
    for (size_t i = 0; i < count; i++) th_ptr_set(f, dtype, i, 2 * th_rng_uniform(&r) - 1);
}

static double max_abs_diff(th_ptr a, th_ptr b, th_dtype dtype, size_t count)
{
    double d = 0;
    for (size_t i = 0; i < count; i++)
        d = fmax(d, fabs(th_ptr_get(a, dtype, i) - th_ptr_get(b, dtype, i)));
    return d;
}

/* The fast kernel (matrix product plan, fused pass, telescoped coupling heat)
 * against the reference (plain loops, heat with the full midpoint force), with
 * clamping, a per-trajectory drive, and a pattern the plan must split. Both
 * draw the same noise, so they differ only by rounding: in double by ~1e-13
 * after 400 steps (tolerance 1e-9), in float by ~1e-6 relative per step,
 * accumulated over 400 contracting steps (tolerance 2e-4 on states of order 1;
 * heat, a sum of 400 x 12 terms, to 2e-3 relative). */
static void twin_check(th_dtype dtype, double tol_x, double tol_rel_heat)
{
    const size_t B = 5;
    th_model *m = mixed_model(dtype, 4, 5, 3, 11);
    th_batch *fast = th_batch_alloc(m, B, 2024);
    th_batch *ref = th_batch_alloc(m, B, 2024);
    unsigned char clamped[12] = {0};
    clamped[2] = clamped[9] = 1;
    th_ptr field = {.v = calloc(B * m->n, th_dtype_size(dtype))};
    fill_field(field, dtype, B * m->n, 5);
    for (size_t i = 0; i < B * m->n; i++) {
        th_ptr_set(th_batch_states(fast), dtype, i, 0.1 * (double)(i % 7) - 0.3);
        th_ptr_set(th_batch_states(ref), dtype, i, 0.1 * (double)(i % 7) - 0.3);
    }
    th_drive drive = {.amplitude = sine_amplitude, .field = field, .per_trajectory = 1};
    th_run r = th_run_default();
    r.n_steps = 400;
    r.dt = 2e-3;
    r.clamped = clamped;
    r.drive = &drive;
    CHECK_EQ_INT(th_langevin_run(m, fast, &r), TH_OK);
    r.kernel = TH_KERNEL_REFERENCE;
    CHECK_EQ_INT(th_langevin_run(m, ref, &r), TH_OK);

    CHECK(max_abs_diff(th_batch_states(fast), th_batch_states(ref), dtype, B * m->n) <= tol_x);
    double heat_scale = 0, work_scale = 0;
    for (size_t k = 0; k < B; k++) {
        heat_scale = fmax(heat_scale, fabs(th_batch_heat(ref)[k]));
        work_scale = fmax(work_scale, fabs(th_batch_work(ref)[k]));
    }
    CHECK(heat_scale > 1); /* the comparison below is not vacuous */
    CHECK(work_scale > 1);
    for (size_t k = 0; k < B; k++) {
        CHECK_CLOSE(th_batch_heat(fast)[k], th_batch_heat(ref)[k], tol_rel_heat * heat_scale);
        CHECK_CLOSE(th_batch_work(fast)[k], th_batch_work(ref)[k], tol_rel_heat * work_scale);
    }
    for (size_t k = 0; k < B; k++) { /* clamped units never move */
        CHECK_CLOSE(th_ptr_get(th_batch_states(fast), dtype, k * m->n + 2), 0.1 * (double)((k * 12 + 2) % 7) - 0.3,
                    1e-7);
        CHECK_CLOSE(th_ptr_get(th_batch_states(ref), dtype, k * m->n + 9), 0.1 * (double)((k * 12 + 9) % 7) - 0.3,
                    1e-7);
    }
    CHECK_EQ_INT(th_batch_step(fast), 400);
    CHECK_CLOSE(th_batch_time(fast), 0.8, 1e-12);
    free(field.v);
    th_batch_free(fast);
    th_batch_free(ref);
    th_model_free(m);
}

static void test_langevin_twin_f64(void) { twin_check(TH_F64, 1e-9, 1e-9); }
static void test_langevin_twin_f32(void) { twin_check(TH_F32, 2e-4, 2e-3); }

static void run_with_threads(int threads, const th_model *m, th_batch *s, const th_run *r)
{
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    th_batch_reset(s);
    CHECK_EQ_INT(th_langevin_run(m, s, r), TH_OK);
}

/* Same seed, one thread or two: bitwise identical states, heat and work. Big
 * enough (B = 32, n = 300, above the kernel's threading threshold) that
 * OpenBLAS and OpenMP really split the work. */
static void test_langevin_threads_identical(void)
{
    th_model *m = mixed_model(TH_F32, 100, 120, 80, 3);
    m->kT = 0.1;
    th_batch *a = th_batch_alloc(m, 32, 77), *b = th_batch_alloc(m, 32, 77);
    th_run r = th_run_default();
    r.n_steps = 60;
    int saved = omp_get_max_threads();
    run_with_threads(1, m, a, &r);
    run_with_threads(2, m, b, &r);
    omp_set_num_threads(saved);
    openblas_set_num_threads(saved);
    CHECK(memcmp(th_batch_states(a).v, th_batch_states(b).v, 32 * m->n * sizeof(float)) == 0);
    CHECK(memcmp(th_batch_heat(a), th_batch_heat(b), 32 * sizeof(double)) == 0);
    CHECK(memcmp(th_batch_work(a), th_batch_work(b), 32 * sizeof(double)) == 0);
    th_batch_free(a);
    th_batch_free(b);
    th_model_free(m);
}

/* Trajectory k is a function of the model, the seed and its stream alone:
 * five trajectories run on their own equal, bit for bit, the same streams
 * inside a batch of 32 (the products' bits do not depend on the batch size,
 * backend.h); and every matrix-product kernel this CPU runs gives the same
 * bits (so does any OpenBLAS kernel, which the step does not use). */
static void test_langevin_batch_and_kernel_invariant(void)
{
    th_model *m = mixed_model(TH_F32, 100, 120, 80, 4);
    m->kT = 0.1;
    const size_t n = m->n;
    th_batch *all = th_batch_alloc(m, 32, 78), *few = th_batch_alloc(m, 5, 78);
    for (size_t k = 0; k < 5; k++) th_batch_set_stream(few, k, 20 + k);
    th_run r = th_run_default();
    r.n_steps = 40;
    CHECK_EQ_INT(th_langevin_run(m, all, &r), TH_OK);
    CHECK_EQ_INT(th_langevin_run(m, few, &r), TH_OK);
    CHECK(memcmp(th_batch_states(few).f32, th_batch_states(all).f32 + 20 * n, 5 * n * sizeof(float)) == 0);
    CHECK(memcmp(th_batch_heat(few), th_batch_heat(all) + 20, 5 * sizeof(double)) == 0);
    const char *saved = th_matmul_kernel();
    static const char *const names[] = {"scalar", "avx2", "avx512"};
    for (size_t kn = 0; kn < 3; kn++) {
        if (th_matmul_use(names[kn]) != TH_OK) continue;
        th_batch_reset(few);
        CHECK_EQ_INT(th_langevin_run(m, few, &r), TH_OK);
        if (memcmp(th_batch_states(few).f32, th_batch_states(all).f32 + 20 * n, 5 * n * sizeof(float)) != 0 ||
            memcmp(th_batch_heat(few), th_batch_heat(all) + 20, 5 * sizeof(double)) != 0) {
            fprintf(stderr, "  kernel %s: the states or heat differ\n", names[kn]);
            th_test_check_failed++;
        }
    }
    CHECK_EQ_INT(th_matmul_use(saved), TH_OK);
    th_batch_free(all);
    th_batch_free(few);
    th_model_free(m);
}

/* The opaque batch through its accessors: shape, dtype, seed, streams 0..b-1
 * by default, the clock after a run, states writable in place. */
static void test_batch_accessors(void)
{
    th_model *m = mixed_model(TH_F64, 3, 4, 5, 9);
    th_batch *s = th_batch_alloc(m, 6, 31);
    CHECK_EQ_INT(th_batch_size(s), 6);
    CHECK_EQ_INT(th_batch_units(s), 12);
    CHECK_EQ_INT(th_batch_dtype(s), TH_F64);
    CHECK_EQ_INT(th_batch_seed(s), 31);
    CHECK_EQ_INT(th_batch_stream(s, 5), 5);
    th_batch_set_stream(s, 5, 77);
    CHECK_EQ_INT(th_batch_stream(s, 5), 77);
    th_batch_states(s).f64[3] = 0.25;
    th_run r = th_run_default();
    r.n_steps = 10;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_OK);
    CHECK_EQ_INT(th_batch_step(s), 10);
    CHECK_CLOSE(th_batch_time(s), 10 * r.dt, 1e-15);
    CHECK(isfinite(th_batch_heat(s)[5]) && th_batch_work(s)[5] == 0);
    th_batch_reset(s);
    CHECK(th_batch_states(s).f64[3] == 0 && th_batch_step(s) == 0 && th_batch_heat(s)[5] == 0);
    th_batch_free(s);
    th_model_free(m);
}

/* Noise is a function of (seed, stream, step), so 100 steps in one run equal
 * 30 + 70 in two, bit for bit in the states; the heat differs only by the
 * rounding of the telescoped coupling term. Snapshots equal the states of
 * separate runs of those lengths. */
static void test_langevin_split_runs_and_snapshots(void)
{
    th_model *m = mixed_model(TH_F64, 6, 6, 6, 8);
    th_batch *one = th_batch_alloc(m, 3, 5), *two = th_batch_alloc(m, 3, 5);
    size_t snap_steps[3] = {0, 30, 100};
    double *snaps = calloc(3 * 3 * m->n, sizeof(double));
    th_run r = th_run_default();
    r.n_steps = 100;
    r.snap_steps = snap_steps;
    r.n_snaps = 3;
    r.snap_out.f64 = snaps;
    CHECK_EQ_INT(th_langevin_run(m, one, &r), TH_OK);
    th_run r2 = th_run_default();
    r2.n_steps = 30;
    CHECK_EQ_INT(th_langevin_run(m, two, &r2), TH_OK);
    CHECK(memcmp(snaps + 3 * m->n, th_batch_states(two).v, 3 * m->n * sizeof(double)) == 0);
    r2.n_steps = 70;
    CHECK_EQ_INT(th_langevin_run(m, two, &r2), TH_OK);
    CHECK(memcmp(th_batch_states(one).v, th_batch_states(two).v, 3 * m->n * sizeof(double)) == 0);
    CHECK(memcmp(snaps + 6 * m->n, th_batch_states(two).v, 3 * m->n * sizeof(double)) == 0);
    for (size_t i = 0; i < 3 * m->n; i++) CHECK_CLOSE(snaps[i], 0, 0);
    for (size_t k = 0; k < 3; k++) CHECK_CLOSE(th_batch_heat(one)[k], th_batch_heat(two)[k], 1e-10);
    CHECK_EQ_INT(th_batch_step(two), 100);
    free(snaps);
    th_batch_free(one);
    th_batch_free(two);
    th_model_free(m);
}

/* Free diffusion (no wells, no couplings, no bias): x_k = x_{k-1} +
 * sigma xi_k exactly, so the states are the running sums of each
 * trajectory's noise, rebuilt here from th_normal_fill_f32 step by step
 * (block step * ceil(n/4) of stream k). Small float32 models, and float64
 * ones with TH_NOISE_F32, draw their noise many steps ahead (langevin.c):
 * the runs of 150 and 250 steps cross both a run boundary and the ahead
 * window, for both kernels. */
static void free_diffusion_check(th_dtype dtype, th_kernel kernel)
{
    size_t sizes[1] = {5};
    th_model *m = th_model_alloc(1, sizes, dtype);
    th_model_set_onsite(m, 0, 0);
    m->kT = 0.5;
    const size_t B = 3, steps[2] = {150, 250};
    th_batch *s = th_batch_alloc(m, B, 21);
    th_batch_set_stream(s, 1, 1000);
    th_run r = th_run_default();
    r.dt = 0.01;
    r.kernel = kernel;
    r.noise = TH_NOISE_F32;
    for (int part = 0; part < 2; part++) {
        r.n_steps = steps[part];
        CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_OK);
    }
    const double sigma = sqrt(2.0 * m->mu * m->kT * r.dt);
    int same = 1;
    for (size_t k = 0; k < B; k++) {
        float x32[5] = {0}, z[5];
        double x64[5] = {0};
        for (uint64_t step = 0; step < 400; step++) {
            th_normal_fill_f32(21, th_batch_stream(s, k), step * 2, z, 5);
            for (size_t i = 0; i < 5; i++) {
                /* the integrator's update with F = 0: x - mudt 0 + sigma xi */
                x32[i] = x32[i] - (float)(m->mu * r.dt) * 0.0f + (float)sigma * z[i];
                x64[i] = x64[i] - m->mu * r.dt * 0.0 + sigma * (double)z[i];
            }
        }
        for (size_t i = 0; i < 5; i++) {
            const double got = th_ptr_get(th_batch_states(s), dtype, k * 5 + i);
            same &= got == (dtype == TH_F32 ? (double)x32[i] : x64[i]);
        }
    }
    CHECK(same);
    th_batch_free(s);
    th_model_free(m);
}

static void test_langevin_noise_layout(void)
{
    free_diffusion_check(TH_F32, TH_KERNEL_FAST);
    free_diffusion_check(TH_F32, TH_KERNEL_REFERENCE);
    free_diffusion_check(TH_F64, TH_KERNEL_FAST);
    free_diffusion_check(TH_F64, TH_KERNEL_REFERENCE);
}

/* dt = 1 in quartic wells: the first steps overshoot and x explodes. The run
 * must stop with TH_EDIVERGED naming the step, and leave only finite states
 * within the bound (never NaN). Checked for both kernels and precisions. */
static void divergence_check(th_dtype dtype, th_kernel kernel)
{
    size_t sizes[1] = {4};
    th_model *m = th_model_alloc(1, sizes, dtype);
    th_batch *s = th_batch_alloc(m, 3, 1);
    th_run r = th_run_default();
    r.dt = 1.0;
    r.n_steps = 100;
    r.kernel = kernel;
    int rc = th_langevin_run(m, s, &r);
    CHECK_EQ_INT(rc, TH_EDIVERGED);
    CHECK_STR_CONTAINS(th_last_error(), "diverged at step");
    CHECK(th_batch_step(s) < 100);
    for (size_t i = 0; i < 3 * 4; i++) {
        double v = th_ptr_get(th_batch_states(s), dtype, i);
        CHECK(isfinite(v) && fabs(v) <= r.blowup);
    }
    th_batch_free(s);
    th_model_free(m);
}

static void test_langevin_divergence_stops(void)
{
    divergence_check(TH_F32, TH_KERNEL_FAST);
    divergence_check(TH_F64, TH_KERNEL_FAST);
    divergence_check(TH_F32, TH_KERNEL_REFERENCE);
}

static int stop_at_40(size_t done, size_t total, void *ctx)
{
    size_t *calls = ctx;
    (*calls)++;
    return done >= 40 && total == 200;
}

static void test_langevin_progress_cancel(void)
{
    size_t sizes[1] = {5};
    th_model *m = th_model_alloc(1, sizes, TH_F32);
    th_batch *s = th_batch_alloc(m, 2, 1);
    th_run r = th_run_default();
    r.n_steps = 200;
    size_t calls = 0;
    r.progress = stop_at_40;
    r.progress_ctx = &calls;
    r.progress_every = 10;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_ECANCELED);
    CHECK_EQ_INT(calls, 4);
    CHECK_EQ_INT(th_batch_step(s), 40);
    CHECK_STR_CONTAINS(th_last_error(), "40 of 200");
    th_batch_free(s);
    th_model_free(m);
}

static int never_stop(size_t done, size_t total, void *ctx)
{
    (void)done, (void)total, (void)ctx;
    return 0;
}

/* A run goes panel by panel through chunks of steps (langevin_kernel.inc,
 * run_by_panels); a progress callback makes the same run go step by step.
 * With and without couplings, 41 trajectories in uneven panels: The two give the same
 * states, heat, work, step and time to the bit, with a drive and on one
 * thread or two; and a run that diverges fails the same way, naming the
 * same step, trajectory, unit and value. */
static void by_panels_check(th_dtype dtype, int coupled)
{
    size_t sizes[1] = {37};
    th_model *m = coupled ? mixed_model(dtype, 10, 18, 9, 77) : th_model_alloc(1, sizes, dtype);
    for (size_t i = 0; !coupled && i < m->n; i++) {
        m->kT = 0.4;
        th_ptr_set(m->J2, dtype, i, 0.5 + 0.01 * (double)i);
        th_ptr_set(m->J4, dtype, i, 1.0);
        th_ptr_set(m->b, dtype, i, 0.1);
    }
    const size_t B = 41, steps = 300; /* more than one chunk of steps */
    th_ptr field = {.v = malloc(B * m->n * th_dtype_size(dtype))};
    fill_field(field, dtype, B * m->n, 5);
    th_drive drive = {sine_amplitude, NULL, field, 1};
    const int saved = omp_get_max_threads();
    th_batch *a = th_batch_alloc(m, B, 9), *b = th_batch_alloc(m, B, 9);
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        th_batch_reset(a);
        th_batch_reset(b);
        th_run r = th_run_default();
        r.n_steps = steps;
        r.dt = 2e-3;
        r.drive = &drive;
        CHECK_EQ_INT(th_langevin_run(m, a, &r), TH_OK);
        r.progress = never_stop;
        r.progress_every = 1;
        CHECK_EQ_INT(th_langevin_run(m, b, &r), TH_OK);
        const size_t es = th_dtype_size(dtype);
        CHECK(memcmp(th_batch_states(a).v, th_batch_states(b).v, B * m->n * es) == 0);
        CHECK(memcmp(th_batch_heat(a), th_batch_heat(b), B * sizeof(double)) == 0);
        CHECK(memcmp(th_batch_work(a), th_batch_work(b), B * sizeof(double)) == 0);
        CHECK(th_batch_step(a) == th_batch_step(b) && th_batch_time(a) == th_batch_time(b));
        CHECK(th_batch_work(a)[3] != 0 && th_batch_heat(a)[3] != 0); /* not vacuous */
    }
    /* Divergence: one trajectory starts far out, where mu dt 12 J4 x^2 >> 1. */
    th_batch_reset(a);
    th_batch_reset(b);
    th_ptr_set(th_batch_states(a), dtype, 17 * m->n + 5, 30.0);
    th_ptr_set(th_batch_states(b), dtype, 17 * m->n + 5, 30.0);
    th_run r = th_run_default();
    r.n_steps = steps;
    r.dt = 2e-2;
    CHECK_EQ_INT(th_langevin_run(m, a, &r), TH_EDIVERGED);
    char first[512];
    snprintf(first, sizeof first, "%s", th_last_error());
    r.progress = never_stop;
    r.progress_every = 1;
    CHECK_EQ_INT(th_langevin_run(m, b, &r), TH_EDIVERGED);
    CHECK(strcmp(first, th_last_error()) == 0);
    CHECK_STR_CONTAINS(first, "trajectory 17, unit 5");
    CHECK(th_batch_step(a) == th_batch_step(b));
    omp_set_num_threads(saved);
    th_batch_free(a);
    th_batch_free(b);
    free(field.v);
    th_model_free(m);
}

static void test_langevin_by_panels_matches_steps(void)
{
    by_panels_check(TH_F32, 0);
    by_panels_check(TH_F64, 0);
    by_panels_check(TH_F32, 1);
    by_panels_check(TH_F64, 1);
}

/* Each invalid run parameter is refused with a message naming it, before any
 * step is taken. */
static void test_langevin_rejects_invalid(void)
{
    size_t sizes[2] = {3, 2};
    th_model *m = th_model_alloc(2, sizes, TH_F64);
    th_batch *s = th_batch_alloc(m, 2, 1);
    th_run r = th_run_default();

    r.dt = 0;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "dt");
    r.dt = -1e-3;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    r.dt = NAN;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    r = th_run_default();

    m->kT = -1;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "kT");
    m->kT = 1;

    size_t bad_order[2] = {5, 3};
    double snaps[2 * 2 * 5];
    r.snap_steps = bad_order;
    r.n_snaps = 2;
    r.snap_out.f64 = snaps;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "ascend");
    size_t beyond[1] = {5000};
    r.snap_steps = beyond;
    r.n_snaps = 1;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "5000");
    r = th_run_default();

    double field[5] = {1, 2, NAN, 0, 0};
    th_drive drive = {.amplitude = sine_amplitude, .field.f64 = field};
    r.drive = &drive;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "field[2]");
    field[2] = 0;
    drive.amplitude = nan_after_half;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "amplitude");
    CHECK(th_batch_step(s) < 1000);
    r = th_run_default();

    size_t other_sizes[1] = {4};
    th_model *other = th_model_alloc(1, other_sizes, TH_F64);
    CHECK_EQ_INT(th_langevin_run(other, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "units");
    th_model_free(other);

    CHECK(th_batch_alloc(m, 0, 1) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "0 trajectories");

    for (size_t i = 0; i < 2 * 5; i++) CHECK(isfinite(th_batch_states(s).f64[i]));
    th_batch_free(s);
    th_model_free(m);
}

/* th__coupling_force (the forces X J of many rows at once, training's path
 * objective) writes every column: the groups' products where a group is
 * coupled, zeros where it is coupled to nothing, at the start, in the
 * middle and at the end of the units, whatever F held before (NaN here).
 * Against a plain double loop over the couplings. */
static void test_coupling_force_every_column(void)
{
    const size_t sizes[5] = {5, 7, 6, 4, 3}, rows = 9;
    for (int d = 0; d < 2; d++) {
        const th_dtype dtype = d ? TH_F64 : TH_F32;
        th_model *m = th_model_alloc(5, sizes, dtype);
        th_model_couple(m, 0, 2); /* group 1 and group 4 coupled to nothing */
        th_model_couple(m, 3, 3);
        th_rng r;
        th_rng_init(&r, 5, 6);
        const size_t n = m->n;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (th_model_groups_couple(m, i, j))
                    th_model_set_coupling(m, i, j, th_rng_uniform(&r) - 0.5);
        th_ptr X = {.v = calloc(rows * n, 8)}, F = {.v = calloc(rows * n, 8)};
        for (size_t q = 0; q < rows * n; q++) {
            th_ptr_set(X, dtype, q, th_rng_uniform(&r) - 0.5);
            th_ptr_set(F, dtype, q, NAN);
        }
        th__force_plan *fp = th__force_plan_alloc(m);
        CHECK(fp != NULL);
        if (fp) th__coupling_force(fp, rows, X, F);
        for (size_t row = 0; row < rows; row++)
            for (size_t i = 0; i < n; i++) {
                double want = 0;
                for (size_t j = 0; j < n; j++)
                    want += th_ptr_get(X, dtype, row * n + j) * th_model_get_coupling(m, j, i);
                const double got = th_ptr_get(F, dtype, row * n + i);
                const size_t g = th_model_group_of(m, i);
                if (g == 1 || g == 4)
                    CHECK_EQ_INT(got == 0, 1);
                else
                    CHECK_CLOSE(got, want, d ? 1e-12 : 1e-5);
            }
        th__force_plan_free(fp);
        free(X.v);
        free(F.v);
        th_model_free(m);
    }
}

void suite_langevin(void)
{
    RUN_TEST(test_langevin_twin_f64);
    RUN_TEST(test_langevin_twin_f32);
    RUN_TEST(test_langevin_threads_identical);
    RUN_TEST(test_langevin_batch_and_kernel_invariant);
    RUN_TEST(test_batch_accessors);
    RUN_TEST(test_langevin_split_runs_and_snapshots);
    RUN_TEST(test_langevin_noise_layout);
    RUN_TEST(test_langevin_divergence_stops);
    RUN_TEST(test_langevin_progress_cancel);
    RUN_TEST(test_langevin_by_panels_matches_steps);
    RUN_TEST(test_langevin_rejects_invalid);
    RUN_TEST(test_coupling_force_every_column);
}
