/* test_hw.c - the hardware model (science.md section 9): the quantiser's
 * levels against known answers, the mismatch draw reproducible per device
 * seed, coloured noise against the OU process's exact statistics and its
 * white-noise limit, temperature offset and drift against the free
 * diffusion's variance, the fast kernel against its twin under a device
 * bath, zero imperfection bit-identical to the ideal run for every
 * computer, and the sweep's budget rule. */
#include "harness.h"
#include "thermo.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ quantiser */

static void test_hw_quantiser_levels(void)
{
    /* b = 3: levels q/3, q in -3..3 (scale 1). */
    CHECK_CLOSE(th_hw_quantise(0.5, 3, 1.0), 2.0 / 3.0, 1e-15);
    CHECK_CLOSE(th_hw_quantise(0.1, 3, 1.0), 0.0, 0);
    CHECK_CLOSE(th_hw_quantise(-0.9, 3, 1.0), -1.0, 1e-15);
    CHECK_CLOSE(th_hw_quantise(2.0, 3, 1.0), 1.0, 1e-15);   /* clipped */
    CHECK_CLOSE(th_hw_quantise(-0.45, 2, 0.8), -0.8, 1e-15); /* b = 2: {-s, 0, s} */
    CHECK_CLOSE(th_hw_quantise(0.39, 2, 0.8), 0.0, 0);
    /* b = 1: sign(v) scale, zero stays zero */
    CHECK_CLOSE(th_hw_quantise(-0.2, 1, 0.7), -0.7, 0);
    CHECK_CLOSE(th_hw_quantise(3.0, 1, 0.7), 0.7, 0);
    CHECK_CLOSE(th_hw_quantise(0.0, 1, 0.7), 0.0, 0);
    CHECK_CLOSE(th_hw_quantise(0.123, 0, 5.0), 0.123, 0); /* 0 bits: exact */
    double v[4] = {0.3, -0.6, 0.0, 0.9}, w[4];
    memcpy(w, v, sizeof v);
    th_hw_quantise_array(w, 4, 2); /* scale 0.9: {-0.9, 0, 0.9} */
    CHECK_CLOSE(w[0], 0.0, 0);
    CHECK_CLOSE(w[1], -0.9, 0);
    CHECK_CLOSE(w[2], 0.0, 0);
    CHECK_CLOSE(w[3], 0.9, 0);
    memcpy(w, v, sizeof v);
    th_hw_quantise_array(w, 4, 1); /* scale = mean |nonzero| = 0.6 */
    CHECK_CLOSE(w[0], 0.6, 1e-15);
    CHECK_CLOSE(w[1], -0.6, 1e-15);
    CHECK_CLOSE(w[2], 0.0, 0);
    CHECK_CLOSE(w[3], 0.6, 1e-15);
    /* b bits over a dense range: 2^b - 1 distinct levels, symmetric, zero
     * among them, error at most half a step. */
    for (unsigned b = 2; b <= 6; b++) {
        enum { N = 2001 };
        double x[N], q[N], levels[64];
        size_t n_levels = 0;
        for (int k = 0; k < N; k++) x[k] = q[k] = -1.0 + 2.0 * k / (N - 1);
        th_hw_quantise_array(q, N, b);
        const double step = 1.0 / (ldexp(1.0, (int)b - 1) - 1.0);
        double err = 0;
        for (int k = 0; k < N; k++) {
            err = fmax(err, fabs(q[k] - x[k]));
            size_t j = 0;
            while (j < n_levels && levels[j] != q[k]) j++;
            if (j == n_levels && n_levels < 64) levels[n_levels++] = q[k];
        }
        CHECK_EQ_INT(n_levels, (1u << b) - 1);
        CHECK(err <= 0.5 * step + 1e-12);
        int has_zero = 0;
        for (size_t j = 0; j < n_levels; j++) {
            has_zero |= levels[j] == 0.0;
            CHECK_CLOSE(levels[j] / step, nearbyint(levels[j] / step), 1e-9);
        }
        CHECK(has_zero);
    }
    /* The ADC: 3 bits over [-2, 2], steps of 2/3 */
    float a[4] = {0.4f, -1.1f, 5.0f, 0.0f};
    th_hw_adc_apply(3, 2.0, a, 4);
    CHECK_CLOSE(a[0], 2.0 / 3.0, 1e-6);
    CHECK_CLOSE(a[1], -4.0 / 3.0, 1e-6);
    CHECK_CLOSE(a[2], 2.0, 0);
    CHECK_CLOSE(a[3], 0.0, 0);
}

/* Two groups of 5 and 4 units, coupled 0-1 and 1-1, random couplings and
 * biases, kT 0.5. */
static th_model *small_model(th_dtype dtype, uint64_t seed)
{
    size_t sizes[2] = {5, 4};
    th_model *m = th_model_alloc(2, sizes, dtype);
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    m->kT = 0.5;
    uint64_t s = seed;
    for (size_t i = 0; i < m->n; i++) {
        th_ptr_set(m->b, dtype, i, test_uniform(&s, -1, 1));
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j))
                th_model_set_coupling(m, i, j, test_uniform(&s, -0.5, 0.5));
    }
    return m;
}

static void test_hw_quantise_model_blocks_and_rows(void)
{
    th_model *m = small_model(TH_F64, 3);
    th_model *q = small_model(TH_F64, 3);
    const size_t n = m->n;
    /* per block: block (0,1) and block (1,1) each on their own grid */
    CHECK_EQ_INT(th_hw_quantise_model(q, 3, TH_HW_PER_BLOCK), TH_OK);
    CHECK_EQ_INT(th_model_validate(q), TH_OK);
    double top01 = 0, top11 = 0;
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 5; j < n; j++) top01 = fmax(top01, fabs(m->J.f64[i * n + j]));
    for (size_t i = 5; i < n; i++)
        for (size_t j = i + 1; j < n; j++) top11 = fmax(top11, fabs(m->J.f64[i * n + j]));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (!th_model_groups_couple(m, i, j)) continue;
            const double step = (i < 5 ? top01 : top11) / 3.0, v = q->J.f64[i * n + j];
            CHECK_CLOSE(v / step, nearbyint(v / step), 1e-9);
            CHECK(fabs(v - m->J.f64[i * n + j]) <= 0.5 * step + 1e-12);
            CHECK(v == q->J.f64[j * n + i]);
        }
    /* per row: no coupling clipped, J symmetric, pair (i, j) on the finer row's grid */
    th_model *r = small_model(TH_F64, 3);
    CHECK_EQ_INT(th_hw_quantise_model(r, 2, TH_HW_PER_ROW), TH_OK);
    CHECK_EQ_INT(th_model_validate(r), TH_OK);
    double row[9];
    for (size_t i = 0; i < n; i++) {
        row[i] = fabs(m->b.f64[i]);
        for (size_t j = 0; j < n; j++) row[i] = fmax(row[i], fabs(m->J.f64[i * n + j]));
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const double v = r->J.f64[i * n + j], s = fmin(row[i], row[j]);
            if (m->J.f64[i * n + j] == 0) continue;
            CHECK(v == 0 || fabs(fabs(v) - s) < 1e-15); /* b = 2: {-s, 0, s} */
            CHECK(v == r->J.f64[j * n + i]);
        }
    th_model_free(m);
    th_model_free(q);
    th_model_free(r);
}

/* ------------------------------------------------------------- mismatch */

static void test_hw_mismatch_reproducible_per_device(void)
{
    th_hw hw = th_hw_ideal();
    hw.mismatch = 0.1;
    hw.device = 7;
    th_model *m = small_model(TH_F32, 11);
    th_hw_device *a = NULL, *b = NULL, *c = NULL;
    CHECK_EQ_INT(th_hw_device_make(&hw, m, &a), TH_OK);
    CHECK_EQ_INT(th_hw_device_make(&hw, m, &b), TH_OK);
    hw.device = 8;
    CHECK_EQ_INT(th_hw_device_make(&hw, m, &c), TH_OK);
    const size_t n = m->n;
    CHECK(memcmp(a->model->J.f32, b->model->J.f32, n * n * sizeof(float)) == 0);
    CHECK(memcmp(a->model->b.f32, b->model->b.f32, n * sizeof(float)) == 0);
    CHECK(memcmp(a->model->J4.f32, b->model->J4.f32, n * sizeof(float)) == 0);
    CHECK(memcmp(a->mu_scale, b->mu_scale, n * sizeof(double)) == 0);
    CHECK(memcmp(a->model->J.f32, c->model->J.f32, n * n * sizeof(float)) != 0);
    CHECK(memcmp(a->mu_scale, c->mu_scale, n * sizeof(double)) != 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const float v = a->model->J.f32[i * n + j];
            CHECK(v == a->model->J.f32[j * n + i]);
            if (m->J.f32[i * n + j] == 0) CHECK(v == 0);
        }
    CHECK(a->bath.mu_scale == a->mu_scale);
    th_hw_device_free(a);
    th_hw_device_free(b);
    th_hw_device_free(c);
    th_model_free(m);

    /* The factors: mean 1 and sd sigma over many couplings (5 standard errors). */
    size_t sizes[1] = {120};
    th_model *big = th_model_alloc(1, sizes, TH_F64);
    th_model_couple(big, 0, 0);
    for (size_t i = 0; i < 120; i++)
        for (size_t j = i + 1; j < 120; j++) th_model_set_coupling(big, i, j, 1.0);
    double *mu = malloc(120 * sizeof *mu);
    CHECK_EQ_INT(th_hw_mismatch_model(big, 0.05, 3, mu), TH_OK);
    double s = 0, q = 0;
    const size_t pairs = 120 * 119 / 2;
    for (size_t i = 0; i < 120; i++)
        for (size_t j = i + 1; j < 120; j++) {
            const double f = big->J.f64[i * 120 + j] - 1.0;
            s += f;
            q += f * f;
        }
    const double mean = s / (double)pairs, sd = sqrt(q / (double)pairs - mean * mean);
    CHECK_CLOSE(mean, 0.0, 5 * 0.05 / sqrt((double)pairs));
    CHECK_CLOSE(sd, 0.05, 5 * 0.05 / sqrt(2.0 * (double)pairs));
    free(mu);
    th_model_free(big);
}

/* -------------------------------------------------------- the bath: noise */

/* n free units (no potential at all: J2 = J4 = 0), f64: then each step
 * moves x by sqrt(2 mu kT) I_k exactly, whatever dt. */
static th_model *free_units(size_t n, double kT)
{
    size_t sizes[1] = {n};
    th_model *m = th_model_alloc(1, sizes, TH_F64);
    th_model_set_onsite(m, 0.0, 0.0);
    m->kT = kT;
    return m;
}

/* Trajectories of free units under bath, snapshots after every step:
 * snaps (steps + 1, B, n). */
static double *free_paths(size_t B, size_t n, size_t steps, double dt,
                          const th_device_bath *bath, uint64_t seed)
{
    th_model *m = free_units(n, 0.5); /* 2 mu kT = 1 */
    th_batch *s = th_batch_alloc(m, B, seed);
    size_t *at = malloc((steps + 1) * sizeof *at);
    double *snaps = malloc((steps + 1) * B * n * sizeof *snaps);
    for (size_t k = 0; k <= steps; k++) at[k] = k;
    th_run r = th_run_default();
    r.n_steps = steps;
    r.dt = dt;
    r.bath = bath;
    r.snap_steps = at;
    r.n_snaps = steps + 1;
    r.snap_out.f64 = snaps;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_OK);
    free(at);
    th_batch_free(s);
    th_model_free(m);
    return snaps;
}

/* The covariance of the increments Dx_k and Dx_{k+lag}, averaged over the
 * steps of each of the `series` = B n independent series, with the standard
 * error from the spread between series. */
static void increment_cov(const double *snaps, size_t steps, size_t series, size_t lag,
                          double *mean, double *se)
{
    double s = 0, q = 0;
    for (size_t c = 0; c < series; c++) {
        double acc = 0;
        for (size_t k = 0; k + lag < steps; k++) {
            const double d0 = snaps[(k + 1) * series + c] - snaps[k * series + c];
            const double d1 = snaps[(k + lag + 1) * series + c] - snaps[(k + lag) * series + c];
            acc += d0 * d1;
        }
        acc /= (double)(steps - lag);
        s += acc;
        q += acc * acc;
    }
    *mean = s / (double)series;
    *se = sqrt((q / (double)series - *mean * *mean) / (double)(series - 1));
}

/* Coloured noise: Var I_k = dt - tau (1 - a) and Cov(I_k, I_{k+m}) =
 * tau (1 - a)^2 a^(m-1) / 2 are the integrals of the OU correlation
 * exp(-|t - t'| / tau) / (2 tau) over the steps (science.md section 9; the
 * section's Var I_k is the variance given eta_k, this one adds eta_k's
 * share); for dt << tau the increments per dt sample that correlation
 * itself. Tolerances: 5 standard errors. */
static void test_hw_coloured_noise_autocorrelation(void)
{
    const size_t B = 32, n = 64, steps = 300, series = B * n;
    const double dt = 0.01, tau = 0.1, a = exp(-dt / tau);
    th_device_bath bath = {0, 0, tau, NULL};
    double *snaps = free_paths(B, n, steps, dt, &bath, 21);
    const double var_i = dt - tau * (1 - a);
    const size_t lags[4] = {0, 1, 5, 20};
    for (int k = 0; k < 4; k++) {
        double c, se;
        increment_cov(snaps, steps, series, lags[k], &c, &se);
        const size_t m = lags[k];
        const double exact = m == 0 ? var_i : 0.5 * tau * (1 - a) * (1 - a) * pow(a, (double)m - 1);
        CHECK_CLOSE(c, exact, 5 * se);
        if (m > 0) { /* the continuum correlation, to O(dt / tau) */
            const double corr = exp(-(double)m * dt / tau) / (2 * tau);
            CHECK_REL(c / (dt * dt), corr, 5 * se / (dt * dt * corr) + 0.1);
        }
    }
    /* The integral of eta over T: Var = T - tau (1 - exp(-T / tau)). */
    const double T = (double)steps * dt, want = T - tau * (1 - exp(-T / tau));
    double v = 0;
    for (size_t c = 0; c < series; c++) {
        const double d = snaps[steps * series + c] - snaps[c];
        v += d * d;
    }
    v /= (double)series;
    CHECK_CLOSE(v, want, 5 * want * sqrt(2.0 / (double)series));
    free(snaps);

    /* tau -> 0: white noise. Var x(T) -> T, the increments uncorrelated,
     * and the path that of the white integrator with the same normals, the
     * difference shrinking like sqrt(tau) (the OU state's share of each
     * step, sqrt(tau / 2) per step). */
    th_device_bath fast = {0, 0, 1e-10, NULL}, slower = {0, 0, 1e-6, NULL};
    double *col = free_paths(B, n, steps, dt, &fast, 21);
    double *col6 = free_paths(B, n, steps, dt, &slower, 21);
    double *white = free_paths(B, n, steps, dt, NULL, 21);
    double c1, se1, dmax = 0, rms10 = 0, rms6 = 0;
    increment_cov(col, steps, series, 1, &c1, &se1);
    CHECK_CLOSE(c1, 0.0, 5 * se1);
    v = 0;
    for (size_t c = 0; c < series; c++) v += col[steps * series + c] * col[steps * series + c];
    v /= (double)series;
    CHECK_CLOSE(v, T, 5 * T * sqrt(2.0 / (double)series));
    for (size_t k = 0; k < (steps + 1) * series; k++) dmax = fmax(dmax, fabs(col[k] - white[k]));
    CHECK(dmax < 1e-3);
    for (size_t c = 0; c < series; c++) {
        const size_t e = steps * series + c;
        rms10 += (col[e] - white[e]) * (col[e] - white[e]);
        rms6 += (col6[e] - white[e]) * (col6[e] - white[e]);
    }
    CHECK_CLOSE(sqrt(rms6 / (double)series), sqrt(1e-6 / 2 * (double)steps), 0.1 * sqrt(1e-6 / 2 * (double)steps));
    CHECK(rms6 / rms10 > 0.5e4 && rms6 / rms10 < 2e4);
    free(col6);
    free(col);
    free(white);
}

/* Temperature offset and drift: free diffusion has Var x(T) = 2 mu dt
 * sum_k kT (1 + delta + r t_k), and each unit moves with mu mu_scale_i. */
static void test_hw_temperature_and_mobility(void)
{
    const size_t B = 64, n = 32, steps = 200, series = B * n;
    const double dt = 0.01, delta = 0.3, r = 0.8;
    double scale[32];
    for (size_t i = 0; i < n; i++) scale[i] = i < 16 ? 1.0 : 2.0;
    th_device_bath bath = {delta, r, 0, scale};
    double *snaps = free_paths(B, n, steps, dt, &bath, 5);
    double sum_kT = 0;
    for (size_t k = 0; k < steps; k++) sum_kT += 1 + delta + r * (double)k * dt;
    for (int half = 0; half < 2; half++) {
        double v = 0;
        size_t count = 0;
        for (size_t c = 0; c < series; c++) {
            if ((c % n >= 16) != half) continue;
            v += snaps[steps * series + c] * snaps[steps * series + c];
            count++;
        }
        v /= (double)count;
        const double want = (half ? 2.0 : 1.0) * dt * sum_kT; /* 2 mu kT = 1 */
        CHECK_CLOSE(v, want, 5 * want * sqrt(2.0 / (double)count));
    }
    free(snaps);
    /* a device temperature that falls to 0 stops the run, naming it */
    th_model *m = free_units(4, 0.5);
    th_batch *s = th_batch_alloc(m, 2, 1);
    th_device_bath cold = {0, -1.0, 0, NULL};
    th_run run = th_run_default();
    run.n_steps = 2000;
    run.bath = &cold;
    CHECK_EQ_INT(th_langevin_run(m, s, &run), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "device temperature");
    th_device_bath bad = {0, 0, INFINITY, NULL};
    run.bath = &bad;
    CHECK_EQ_INT(th_langevin_run(m, s, &run), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "tau_c");
    th_batch_free(s);
    th_model_free(m);
}

/* The fast kernel and its twin under a full device bath (offset, drift,
 * coloured noise, per-unit mobilities) on a coupled model: the same
 * trajectories to rounding; and the same bits for 1 and 2 threads. */
static void test_hw_bath_kernels_agree(void)
{
    th_model *m = small_model(TH_F64, 9);
    double scale[9];
    for (size_t i = 0; i < 9; i++) scale[i] = 0.8 + 0.05 * (double)i;
    th_device_bath bath = {0.1, 0.5, 0.05, scale};
    th_batch *f = th_batch_alloc(m, 6, 3), *r = th_batch_alloc(m, 6, 3);
    th_run run = th_run_default();
    run.n_steps = 300;
    run.bath = &bath;
    CHECK_EQ_INT(th_langevin_run(m, f, &run), TH_OK);
    CHECK_EQ_INT(th_langevin_run(m, f, &run), TH_OK); /* eta carried over */
    run.kernel = TH_KERNEL_REFERENCE;
    CHECK_EQ_INT(th_langevin_run(m, r, &run), TH_OK);
    CHECK_EQ_INT(th_langevin_run(m, r, &run), TH_OK);
    double d = 0, h = 0;
    for (size_t k = 0; k < 6 * 9; k++)
        d = fmax(d, fabs(th_batch_states(f).f64[k] - th_batch_states(r).f64[k]));
    for (size_t k = 0; k < 6; k++) h = fmax(h, fabs(th_batch_heat(f)[k] - th_batch_heat(r)[k]));
    CHECK(d < 1e-9);
    CHECK(h < 1e-6);
    /* threads */
    th_model *big = small_model(TH_F32, 9);
    th_batch *a = th_batch_alloc(big, 700, 4), *b = th_batch_alloc(big, 700, 4);
    run.kernel = TH_KERNEL_FAST;
    run.n_steps = 50;
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_EQ_INT(th_langevin_run(big, a, &run), TH_OK);
    omp_set_num_threads(2);
    CHECK_EQ_INT(th_langevin_run(big, b, &run), TH_OK);
    omp_set_num_threads(threads);
    CHECK(memcmp(th_batch_states(a).f32, th_batch_states(b).f32, 700 * 9 * sizeof(float)) == 0);
    th_batch_free(a);
    th_batch_free(b);
    th_model_free(big);
    th_batch_free(f);
    th_batch_free(r);
    th_model_free(m);
}

/* ------------------------------------------ zero imperfection = the ideal */

static void test_hw_zero_imperfection_is_ideal(void)
{
    const th_hw ideal = th_hw_ideal();
    CHECK(th_hw_is_ideal(&ideal));
    /* the integrator: a device made with no imperfection, and its bath */
    th_model *m = small_model(TH_F32, 4);
    th_hw_device *d = NULL;
    CHECK_EQ_INT(th_hw_device_make(&ideal, m, &d), TH_OK);
    th_batch *a = th_batch_alloc(m, 5, 2), *b = th_batch_alloc(m, 5, 2);
    th_run run = th_run_default();
    run.n_steps = 100;
    CHECK_EQ_INT(th_langevin_run(m, a, &run), TH_OK);
    run.bath = &d->bath;
    CHECK_EQ_INT(th_langevin_run(d->model, b, &run), TH_OK);
    CHECK(memcmp(th_batch_states(a).f32, th_batch_states(b).f32, 5 * 9 * sizeof(float)) == 0);
    CHECK(memcmp(th_batch_heat(a), th_batch_heat(b), 5 * sizeof(double)) == 0);
    th_batch_free(a);
    th_batch_free(b);
    th_hw_device_free(d);

    /* the generator */
    th_gen_params gp = test_gen_tiny_params(2);
    th_model *g = test_gen_random_model(&gp, TH_F32, 0.3, 8);
    const size_t S = 6, nv = gp.n_visible;
    float *x0 = malloc(S * nv * sizeof *x0), *x1 = malloc(S * nv * sizeof *x1);
    double h0[6], h1[6];
    th_gen_sample_opts so = th_gen_sample_opts_default();
    CHECK_EQ_INT(th_gen_sample(g, &gp, S, &so, x0, h0), TH_OK);
    CHECK_EQ_INT(th_hw_gen_sample(&ideal, g, &gp, S, &so, x1, h1), TH_OK);
    CHECK(memcmp(x0, x1, S * nv * sizeof *x0) == 0);
    CHECK(memcmp(h0, h1, sizeof h0) == 0);
    /* and a real imperfection changes it */
    th_hw four = ideal;
    four.bits = 2;
    CHECK_EQ_INT(th_hw_gen_sample(&four, g, &gp, S, &so, x1, h1), TH_OK);
    CHECK(memcmp(x0, x1, S * nv * sizeof *x0) != 0);
    free(x0);
    free(x1);
    th_model_free(g);

    /* the student classifier */
    th_student_params sp = th_student_params_default();
    sp.n_input = 6;
    sp.n_hidden = 4;
    sp.n_output = 3;
    sp.t_f = 0.02;
    th_student st;
    memset(&st, 0, sizeof st);
    st.params = sp;
    st.model = th_student_model_alloc(&sp, TH_F32);
    uint64_t seed = 17;
    for (size_t i = 0; i < st.model->n; i++)
        for (size_t j = i + 1; j < st.model->n; j++)
            if (th_model_groups_couple(st.model, i, j))
                th_model_set_coupling(st.model, i, j, test_uniform(&seed, -0.5, 0.5));
    float images[2 * 6], o0[2 * 3], o1[2 * 3];
    double c0[2], c1[2];
    for (size_t k = 0; k < 12; k++) images[k] = (float)test_uniform(&seed, -1, 1);
    th_student_eval_opts eo = th_student_eval_opts_default(), e1;
    eo.trajectories = 3;
    th_hw_student *ds = NULL;
    CHECK_EQ_INT(th_student_classify(st.model, &sp, images, 2, &eo, o0, NULL, c0), TH_OK);
    CHECK_EQ_INT(th_hw_student_make(&ideal, &st, &eo, &ds, &e1), TH_OK);
    CHECK_EQ_INT(th_student_classify(ds->student.model, &sp, images, 2, &e1, o1, NULL, c1), TH_OK);
    CHECK(memcmp(o0, o1, sizeof o0) == 0);
    CHECK(memcmp(c0, c1, sizeof c0) == 0);
    th_hw_student_free(ds);
    /* with an ADC the averaged outputs are means of 3 levels */
    th_hw adc = ideal;
    adc.adc_bits = 2;
    adc.adc_range = 1.0;
    CHECK_EQ_INT(th_hw_student_make(&adc, &st, &eo, &ds, &e1), TH_OK);
    CHECK_EQ_INT(th_student_classify(ds->student.model, &sp, images, 2, &e1, o1, NULL, c1), TH_OK);
    for (size_t k = 0; k < 6; k++) CHECK_CLOSE(3 * o1[k], nearbyint(3 * o1[k]), 1e-5);
    th_hw_student_free(ds);
    th_model_free(st.model);

    /* the neurons */
    th_neuron_params np = th_neuron_params_default();
    np.n_layers = 2;
    np.width = 3;
    np.n_z = 4;
    np.t_f = 0.2;
    th_neuron_net *net = th_neuron_net_alloc(2, 3);
    for (size_t k = 0; k < net->n_params; k++) net->theta[k] = test_uniform(&seed, -0.5, 0.5);
    th_neuron_eval e0, ehw;
    CHECK_EQ_INT(th_neuron_evaluate(&np, net, 8, 3, &e0), TH_OK);
    CHECK_EQ_INT(th_hw_neuron_evaluate(&ideal, &np, net, 8, 3, &ehw), TH_OK);
    CHECK(memcmp(e0.loss, ehw.loss, sizeof e0.loss) == 0);
    CHECK(memcmp(e0.y, ehw.y, 4 * sizeof *e0.y) == 0);
    th_neuron_eval_free(&ehw);
    /* the ADC at 1 bit: y is +-1.25 at every time of the curve */
    th_hw one = ideal;
    one.adc_bits = 1;
    CHECK_EQ_INT(th_hw_neuron_evaluate(&one, &np, net, 8, 3, &ehw), TH_OK);
    for (size_t j = 0; j < 4; j++) CHECK_CLOSE(fabs(ehw.y[j]), 1.25, 1e-6);
    th_neuron_eval_free(&ehw);
    th_hw drift = ideal;
    drift.tau_c = 0.1;
    CHECK_EQ_INT(th_hw_neuron_evaluate(&drift, &np, net, 8, 3, &ehw), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "tau_c");
    th_neuron_eval_free(&e0);
    th_neuron_net_free(net);
    th_model_free(m);
}

/* ---------------------------------------------- validation and the budget */

static void test_hw_validation_names_the_field(void)
{
    th_hw hw = th_hw_ideal();
    hw.bits = 33;
    CHECK_EQ_INT(th_hw_validate(&hw), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "bits");
    hw = th_hw_ideal();
    hw.mismatch = -0.1;
    CHECK_EQ_INT(th_hw_validate(&hw), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "mismatch");
    hw = th_hw_ideal();
    hw.tau_c = NAN;
    CHECK_EQ_INT(th_hw_validate(&hw), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "tau_c");
    hw = th_hw_ideal();
    hw.kT_offset = -1;
    CHECK_EQ_INT(th_hw_validate(&hw), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "kT offset");
    hw = th_hw_ideal();
    CHECK_EQ_INT(th_hw_param_set(&hw, TH_HW_PARAM_BITS, 2.5), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "bits");
    CHECK_EQ_INT(th_hw_param_set(&hw, TH_HW_PARAM_BITS, 4), TH_OK);
    CHECK_EQ_INT(hw.bits, 4);
    char text[128];
    th_hw_describe(&hw, text, sizeof text);
    CHECK_STR_CONTAINS(text, "4 bits per block");
}

static void test_hw_budget_rule(void)
{
    /* A classifier swept over bits 1..5 (2 devices): ideal 0.9; needs 0.89.
     * 3 bits passes but 4 does not: the budget is 5, where every larger
     * value passes too. */
    double values[5] = {1, 2, 3, 4, 5};
    th_hw_measure pts[10], ideal[2] = {{0.9, 100, NAN}, {0.9, 100, NAN}};
    const double q[5] = {0.5, 0.85, 0.895, 0.88, 0.9};
    for (int v = 0; v < 5; v++)
        for (int k = 0; k < 2; k++) pts[2 * v + k] = (th_hw_measure){q[v] + (k ? 0.002 : -0.002), 10.0 * v, NAN};
    th_hw_sweep s = {.param = TH_HW_PARAM_BITS, .kind = TH_HW_CLASSIFIER, .n_values = 5,
                     .devices = 2, .values = values, .ideal = ideal[0], .ideal_points = ideal,
                     .points = pts};
    th_hw_budget b;
    CHECK_EQ_INT(th_hw_sweep_budget(&s, 0, &b), TH_OK);
    CHECK(b.found);
    CHECK_CLOSE(b.value, 5, 0);
    CHECK_CLOSE(b.threshold, 0.89, 1e-12);
    CHECK_CLOSE(b.heat, 40, 1e-12);
    CHECK(b.at_edge == 0);
    for (int v = 0; v < 5; v++) pts[2 * v] = pts[2 * v + 1] = (th_hw_measure){0.9, 1, NAN};
    CHECK_EQ_INT(th_hw_sweep_budget(&s, 0, &b), TH_OK);
    CHECK(b.found && b.value == 1 && !b.at_edge); /* no fewer bits than 1 */
    /* a temperature offset over -0.2 .. 0.2: passes up to |0.1| */
    double dkt[5] = {-0.2, -0.1, 0, 0.1, 0.2};
    const double qd[5] = {0.85, 0.895, 0.9, 0.9, 0.89};
    for (int v = 0; v < 5; v++) pts[2 * v] = pts[2 * v + 1] = (th_hw_measure){qd[v], 1, NAN};
    s.param = TH_HW_PARAM_DKT;
    s.values = dkt;
    CHECK_EQ_INT(th_hw_sweep_budget(&s, 0, &b), TH_OK);
    CHECK(b.found);
    CHECK_CLOSE(b.value, 0.1, 0);
    /* a generator keeps 95% of its quality */
    s.kind = TH_HW_GENERATOR;
    CHECK_EQ_INT(th_hw_sweep_budget(&s, 0, &b), TH_OK);
    CHECK_CLOSE(b.threshold, 0.855, 1e-12);
    CHECK_CLOSE(b.value, 0.1, 0); /* -0.2 fails */
    pts[0] = pts[1] = (th_hw_measure){0.86, 1, NAN};
    CHECK_EQ_INT(th_hw_sweep_budget(&s, 0, &b), TH_OK);
    CHECK_CLOSE(b.value, 0.2, 0);
    CHECK(b.at_edge);
    CHECK_EQ_INT(th_hw_sweep_budget(&s, 1, &b), TH_EINVAL); /* no comparison */
}

void suite_hw(void)
{
    RUN_TEST(test_hw_quantiser_levels);
    RUN_TEST(test_hw_quantise_model_blocks_and_rows);
    RUN_TEST(test_hw_mismatch_reproducible_per_device);
    RUN_TEST(test_hw_coloured_noise_autocorrelation);
    RUN_TEST(test_hw_temperature_and_mobility);
    RUN_TEST(test_hw_bath_kernels_agree);
    RUN_TEST(test_hw_zero_imperfection_is_ideal);
    RUN_TEST(test_hw_validation_names_the_field);
    RUN_TEST(test_hw_budget_rule);
}
