/* test_well.c - one unit in its well (src/core/well.c): the moments of the
 * Boltzmann density against a Simpson table written here, the Euler-
 * Maruyama density against the Ornstein-Uhlenbeck chain's closed form and
 * against thermo's own Langevin integrator, and the exact draws against the
 * Boltzmann density (moments within their standard errors, a chi-square
 * test on equiprobable bins, a Kolmogorov-Smirnov test), their
 * reproducibility, and bad input. */
#include "harness.h"
#include "thermo.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* The density of a well tabulated by composite Simpson on a fine grid over
 * [-L, L]: the cumulative distribution at the grid's even points and the
 * moments <x^k>, k = 0..8. Independent of the library's Gauss-Legendre
 * panels: uniform spacing, its own range. */
typedef struct table {
    double L, h;         /* grid x_i = -L + i h, i = 0 .. 2 half */
    size_t half;         /* Simpson pairs */
    double *cdf;         /* (half + 1) F at x_{2j} */
    double mom[9];
} table;

static double u_of(const th_well *w, double x)
{
    return w->J2 * x * x + w->J3 * x * x * x + w->J4 * x * x * x * x + w->b * x;
}

static table tabulate(const th_well *w, double L)
{
    table t = {.L = L, .half = 200000};
    t.h = 2 * L / (double)(2 * t.half);
    t.cdf = calloc(t.half + 1, sizeof(double));
    /* the weight's peak on the grid sets the scale, so exp never overflows */
    double umin = INFINITY;
    for (size_t i = 0; i <= 2 * t.half; i++) umin = fmin(umin, u_of(w, -L + (double)i * t.h));
    double acc[9] = {0};
    for (size_t j = 0; j < t.half; j++) {
        double seg = 0;
        for (int q = 0; q < 3; q++) {
            const double x = -L + (double)(2 * j + (size_t)q) * t.h;
            const double wt = (q == 1 ? 4.0 : 1.0) * t.h / 3 * exp(-(u_of(w, x) - umin) / w->kT);
            seg += wt;
            double xp = 1;
            for (int k = 0; k < 9; k++, xp *= x) acc[k] += wt * xp;
        }
        t.cdf[j + 1] = t.cdf[j] + seg;
    }
    for (size_t j = 0; j <= t.half; j++) t.cdf[j] /= t.cdf[t.half];
    for (int k = 0; k < 9; k++) t.mom[k] = acc[k] / acc[0];
    return t;
}

/* F(x), linear between the table's points (their spacing, 1e-5 L, is far
 * below anything the tests resolve). */
static double table_cdf(const table *t, double x)
{
    const double s = (x + t->L) / (2 * t->h);
    if (s <= 0) return 0;
    if (s >= (double)t->half) return 1;
    const size_t j = (size_t)s;
    return t->cdf[j] + (s - (double)j) * (t->cdf[j + 1] - t->cdf[j]);
}

/* The wells of the tests: the PRL generator's (kT 0.1, J2 = J4 = 1), a
 * double well, a tilted asymmetric well, and a parabola. */
static const th_well wells[4] = {
    {.J2 = 1, .J3 = 0, .J4 = 1, .b = 0, .kT = 0.1},
    {.J2 = -1, .J3 = 0, .J4 = 1, .b = 0, .kT = 0.2},
    {.J2 = 0.5, .J3 = 0.8, .J4 = 1, .b = 0.3, .kT = 0.5},
    {.J2 = 2, .J3 = 0, .J4 = 0, .b = -1, .kT = 0.3},
};

/* Quadrature moments against the Simpson table (and the parabola's closed
 * form: mean -b / (2 J2) = 0.25, variance kT / (2 J2) = 0.075). */
static void test_well_moments_quadrature(void)
{
    for (int k = 0; k < 4; k++) {
        double m[4];
        CHECK_EQ_INT(th_well_moments(&wells[k], m), TH_OK);
        table t = tabulate(&wells[k], 6.0);
        const double scale = sqrt(t.mom[2]);
        for (int p = 0; p < 4; p++)
            CHECK_CLOSE(m[p], t.mom[p + 1], 1e-10 * pow(scale, p + 1));
        free(t.cdf);
    }
    double m[4];
    CHECK_EQ_INT(th_well_moments(&wells[3], m), TH_OK);
    CHECK_CLOSE(m[0], 0.25, 1e-13);
    CHECK_CLOSE(m[1] - m[0] * m[0], 0.075, 1e-13);
}

/* The Ornstein-Uhlenbeck chain x' = (1 - 2 J2 mu dt) x - mu dt b + s xi:
 * stationary mean -b / (2 J2) and variance kT / (2 J2 (1 - J2 mu dt)), and
 * after n steps from 0 the variance times 1 - (1 - 2 J2 mu dt)^(2n). */
static void test_well_em_ou_closed_form(void)
{
    const th_well w = {.J2 = 1.5, .b = 0.4, .kT = 0.2};
    const double mu = 0.8, dt = 0.02, a = 2 * w.J2 * mu * dt;
    const double var = w.kT / (2 * w.J2 * (1 - w.J2 * mu * dt)), mean = -w.b / (2 * w.J2);
    double m[4];
    CHECK_EQ_INT(th_well_em_moments(&w, mu, dt, 0, m), TH_OK);
    CHECK_CLOSE(m[0], mean, 1e-12);
    CHECK_REL(m[1] - m[0] * m[0], var, 1e-11);
    CHECK_CLOSE(m[2] - 3 * m[0] * m[1] + 2 * pow(m[0], 3), 0, 1e-12); /* no skew */
    const size_t n = 30;
    CHECK_EQ_INT(th_well_em_moments(&w, mu, dt, n, m), TH_OK);
    CHECK_REL(m[0], mean * (1 - pow(1 - a, (double)n)), 1e-11);
    CHECK_REL(m[1] - m[0] * m[0], var * (1 - pow(1 - a, 2.0 * (double)n)), 1e-11);
}

/* thermo's Langevin integrator against the grid: uncoupled units in the PRL
 * well at dt = 0.05, where Euler-Maruyama's stationary variance is 5% above
 * Boltzmann's. 65536 samples (512 units x 128 trajectories, float32) after 10 steps
 * from x = 0, and after 80 more (t = 4.5, relaxed), give <x^2> and <x^4> to
 * 0.5% and 1%: within 4.5 SE of th_well_em_moments at both times, and the
 * relaxed <x^2> more than 5 SE from the Boltzmann value, which the check
 * therefore tells apart. */
static void test_well_em_matches_langevin(void)
{
    const th_well w = wells[0];
    const double dt = 0.05;
    const size_t n = 512, B = 128, N = n * B;
    th_model *m = th_model_alloc(1, &n, TH_F32);
    th_model_set_onsite(m, w.J2, w.J4);
    m->kT = w.kT;
    th_batch *s = th_batch_alloc(m, B, 77);
    th_run r = th_run_default();
    r.dt = dt;
    const size_t steps[2] = {10, 80};
    size_t done = 0;
    double boltz[4];
    CHECK_EQ_INT(th_well_moments(&w, boltz), TH_OK);
    for (int stage = 0; stage < 2; stage++) {
        r.n_steps = steps[stage];
        CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_OK);
        done += steps[stage];
        double em[4], x2 = 0, x4 = 0, x8 = 0;
        CHECK_EQ_INT(th_well_em_moments(&w, m->mu, dt, done, em), TH_OK);
        for (size_t i = 0; i < N; i++) {
            const double x = th_batch_states(s).f32[i], xx = x * x;
            x2 += xx / (double)N;
            x4 += xx * xx / (double)N;
            x8 += xx * xx * xx * xx / (double)N;
        }
        const double se2 = sqrt((x4 - x2 * x2) / (double)N), se4 = sqrt((x8 - x4 * x4) / (double)N);
        CHECK_CLOSE(x2, em[1], 4.5 * se2);
        CHECK_CLOSE(x4, em[3], 4.5 * se4);
        if (stage == 1) CHECK(fabs(x2 - boltz[1]) > 5 * se2);
    }
    th_batch_free(s);
    th_model_free(m);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* N exact draws of one well (n units x B trajectories, float64): moments
 * 1 to 4 within 4.5 standard errors of the Simpson table's, the chi-square
 * of 50 bins of equal probability below 111 (its 1 - 1e-6 quantile for 49
 * degrees of freedom, by Wilson-Hilferty), and the Kolmogorov-Smirnov
 * statistic sqrt(N) D below 2.7 (tail probability 1e-6). */
static void check_draws(const th_well *w, uint64_t seed)
{
    const size_t n = 400, B = 500, N = n * B, bins = 50;
    th_model *m = th_model_alloc(1, &n, TH_F64);
    th_model_set_onsite3(m, w->J2, w->J3, w->J4);
    for (size_t i = 0; i < n; i++) th_ptr_set(m->b, TH_F64, i, w->b);
    m->kT = w->kT;
    th_batch *s = th_batch_alloc(m, B, seed);
    CHECK_EQ_INT(th_batch_draw_wells(m, s, NULL), TH_OK);
    table t = tabulate(w, 6.0);
    double mom[4] = {0};
    size_t count[50] = {0};
    double *u = malloc(N * sizeof *u);
    for (size_t i = 0; i < N; i++) {
        const double x = th_batch_states(s).f64[i];
        double xp = x;
        for (int k = 0; k < 4; k++, xp *= x) mom[k] += xp / (double)N;
        u[i] = table_cdf(&t, x);
        size_t b = (size_t)(u[i] * (double)bins);
        count[b < bins ? b : bins - 1]++;
    }
    for (int k = 0; k < 4; k++) {
        const double se = sqrt((t.mom[2 * k + 2] - t.mom[k + 1] * t.mom[k + 1]) / (double)N);
        CHECK_CLOSE(mom[k], t.mom[k + 1], 4.5 * se);
    }
    double chi2 = 0;
    const double expect = (double)N / (double)bins;
    for (size_t b = 0; b < bins; b++) chi2 += pow((double)count[b] - expect, 2) / expect;
    CHECK(chi2 < 111);
    /* D = sup |F_N - F| over the sorted u */
    qsort(u, N, sizeof *u, cmp_double);
    double D = 0;
    for (size_t i = 0; i < N; i++)
        D = fmax(D, fmax(fabs((double)(i + 1) / (double)N - u[i]), fabs(u[i] - (double)i / (double)N)));
    CHECK(sqrt((double)N) * D < 2.7);
    free(u);
    free(t.cdf);
    th_batch_free(s);
    th_model_free(m);
}

static void test_well_draws_boltzmann(void)
{
    for (int k = 0; k < 4; k++) check_draws(&wells[k], 100 + (uint64_t)k);
}

/* Unit i of the trajectory on stream q draws the same value whatever the
 * batch, its place in it and the threads; clamped units keep their state;
 * step, heat and work are untouched. */
static void test_well_draws_reproducible(void)
{
    const size_t n = 7, B = 6;
    th_model *m = th_model_alloc(1, &n, TH_F32);
    th_model_set_onsite(m, 1, 1);
    m->kT = 0.1;
    th_batch *big = th_batch_alloc(m, B, 9), *small = th_batch_alloc(m, 2, 9);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_EQ_INT(th_batch_draw_wells(m, big, NULL), TH_OK);
    omp_set_num_threads(2);
    th_batch_set_stream(small, 0, 4);
    th_batch_set_stream(small, 1, 1);
    unsigned char clamped[7] = {0, 0, 1, 0, 0, 0, 0};
    th_batch_states(small).f32[2] = 5.0f;
    CHECK_EQ_INT(th_batch_draw_wells(m, small, clamped), TH_OK);
    omp_set_num_threads(saved);
    const float *xb = th_batch_states(big).f32, *xs = th_batch_states(small).f32;
    for (size_t i = 0; i < n; i++) {
        if (i == 2) continue;
        CHECK(xs[i] == xb[4 * n + i]);
        CHECK(xs[n + i] == xb[1 * n + i]);
    }
    CHECK(xs[2] == 5.0f);
    CHECK(xb[0] != xb[1] && xb[0] != xb[n]);
    CHECK(th_batch_step(small) == 0 && th_batch_heat(small)[0] == 0);
    th_batch_free(big);
    th_batch_free(small);
    th_model_free(m);
}

static void test_well_rejects_bad_input(void)
{
    th_well w = {.J2 = 1, .J4 = -1, .kT = 0.1};
    double m[4];
    CHECK_EQ_INT(th_well_moments(&w, m), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "J4");
    w = (th_well){.J2 = 1, .J3 = 1, .kT = 0.1};
    CHECK_EQ_INT(th_well_validate(&w), TH_EINVAL);
    w = (th_well){.J2 = 1, .J4 = 1, .kT = 0};
    CHECK_EQ_INT(th_well_validate(&w), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "kT");
    w = (th_well){.J2 = 1, .J4 = 1, .kT = 0.1};
    CHECK_EQ_INT(th_well_em_moments(&w, 1, 0.5, 0, m), TH_EDIVERGED);
    CHECK_EQ_INT(th_well_em_moments(&w, 1, 1e-9, 0, m), TH_EINVAL);
    CHECK_EQ_INT(th_well_em_moments(&w, 1, -1, 0, m), TH_EINVAL);
    /* a unit with no equilibrium: J2 < 0 and no quartic */
    const size_t n = 3;
    th_model *mod = th_model_alloc(1, &n, TH_F64);
    th_model_set_onsite(mod, 1, 1);
    th_ptr_set(mod->J2, TH_F64, 1, -1.0);
    th_ptr_set(mod->J4, TH_F64, 1, 0.0);
    th_batch *s = th_batch_alloc(mod, 2, 1);
    CHECK_EQ_INT(th_batch_draw_wells(mod, s, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "unit 1");
    th_batch_free(s);
    th_model_free(mod);
}

void suite_well(void)
{
    RUN_TEST(test_well_moments_quadrature);
    RUN_TEST(test_well_em_ou_closed_form);
    RUN_TEST(test_well_em_matches_langevin);
    RUN_TEST(test_well_draws_boltzmann);
    RUN_TEST(test_well_draws_reproducible);
    RUN_TEST(test_well_rejects_bad_input);
}
