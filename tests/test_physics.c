/* test_physics.c - the Langevin engine against physics it must reproduce.
 *
 * Every expected value comes from outside the engine: closed forms for the
 * discrete-time Euler-Maruyama (EM) process, quadrature of the Boltzmann
 * weight, LAPACK inverses, and plain recursions written here (science.md
 * section 1).
 *
 * Statistical tolerances come from the sample itself. Trajectories use
 * independent noise streams, so their time averages are independent draws and
 * the spread across trajectories gives the standard error (SE) of the grand
 * mean, whatever the autocorrelation inside a trajectory. Checks allow 5 SE
 * (a Gaussian exceeds that with probability 6e-7) plus any known O(dt) bias
 * where the reference is a continuum quantity. Seeds are fixed, so a run is
 * deterministic; the margins guard against changes in how noise is drawn.
 *
 * Test inputs (random couplings, fields, starts) come from a private
 * splitmix64 so that they do not depend on the generator under test. */
#include "harness.h"
#include "thermo.h"

#include <lapacke.h>
#include <stdint.h>
#include <stdlib.h>

#define TWO_PI 6.283185307179586


/* Mean of v (n) and the standard error of that mean, sd / sqrt(n). */
static void mean_se(const double *v, size_t n, double *mean, double *se)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += v[i];
    double mu = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (v[i] - mu) * (v[i] - mu);
    *mean = mu;
    *se = sqrt(ss / (double)(n - 1) / (double)n);
}

/* Advances s by n_steps; reports the engine's message on failure. */
static int advance(const th_model *m, th_batch *s, size_t n_steps, double dt,
                   const unsigned char *clamped, const th_drive *drive)
{
    th_run r = th_run_default();
    r.n_steps = n_steps;
    r.dt = dt;
    r.clamped = clamped;
    r.drive = drive;
    int rc = th_langevin_run(m, s, &r);
    if (rc != TH_OK)
        fprintf(stderr, "  th_langevin_run: %s (%s)\n", th_strerror(rc), th_last_error());
    return rc;
}

/* inv (n, n) = H^-1 for a symmetric positive definite H (n, n), by Cholesky
 * (dpotrf) and its inverse (dpotri), which fills one triangle; 0 on success. */
static int spd_inverse(const double *H, size_t n, double *inv)
{
    memcpy(inv, H, n * n * sizeof *inv);
    lapack_int nn = (lapack_int)n;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', nn, inv, nn) != 0) return -1;
    if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', nn, inv, nn) != 0) return -1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) inv[i * n + j] = inv[j * n + i];
    return 0;
}

/* ------------------------------------------------------------------------ */

/* One harmonic unit, V = J2 x^2, at a step large enough that EM's stationary
 * law differs clearly from the continuum one. The EM update is
 *     x' = (1 - c) x + s xi,   c = 2 J2 mu dt,   s^2 = 2 mu kT dt,
 * so the stationary variance solves var = (1 - c)^2 var + s^2:
 *     var = s^2 / (1 - (1 - c)^2) = s^2 / (c (2 - c))
 *         = 2 mu kT dt / (2 J2 mu dt (2 - 2 J2 mu dt))
 *         = kT / (2 J2 (1 - J2 mu dt)),
 * against kT / (2 J2) in the continuum. Here c = 0.2: 0.5556 against 0.5. */
static void test_phys_harmonic_discrete_variance(void)
{
    const double J2 = 1.0, kT = 1.0, mu = 1.0, dt = 0.1;
    /* The variance relaxes like (1 - c)^(2k) = 0.64^k from x = 0: 100 steps
     * leave 4e-20 of the start. x^2 at lag k correlates like 0.64^k, an
     * integrated autocorrelation time of 1.64 / 0.36 = 4.6 steps, so samples
     * 5 steps apart are nearly independent and 4000 x 200 of them give a
     * relative SE near sqrt(2 / 8e5) = 0.16%. Each trajectory holds n
     * uncoupled copies of the unit: independent chains that share a step. */
    const size_t n = 4, B = 1000, burn = 100, stride = 5, n_sample = 200;
    th_model *m = th_model_alloc(1, &n, TH_F64);
    CHECK(m != NULL);
    if (!m) return;
    th_model_set_onsite(m, J2, 0.0);
    m->kT = kT;
    m->mu = mu;
    th_batch *s = th_batch_alloc(m, B, 101);
    double *x2 = calloc(B * n, sizeof *x2); /* (B, n) time averages of x^2 */
    double *x1 = calloc(B * n, sizeof *x1); /* (B, n) time averages of x */
    CHECK(s != NULL && x2 && x1);
    if (!s || !x2 || !x1) goto done;

    int ok = advance(m, s, burn, dt, NULL, NULL) == TH_OK;
    for (size_t k = 0; ok && k < n_sample; k++) {
        ok = advance(m, s, stride, dt, NULL, NULL) == TH_OK;
        for (size_t c = 0; c < B * n; c++) {
            double x = th_batch_states(s).f64[c];
            x1[c] += x / (double)n_sample;
            x2[c] += x * x / (double)n_sample;
        }
    }
    CHECK(ok);
    if (!ok) goto done;

    double mean, se_mean, var, se_var;
    mean_se(x1, B * n, &mean, &se_mean);
    mean_se(x2, B * n, &var, &se_var); /* the true mean is 0, so <x^2> is the variance */
    const double var_em = kT / (2 * J2 * (1 - J2 * mu * dt));
    const double var_continuum = kT / (2 * J2);
    CHECK_CLOSE(mean, 0.0, 5 * se_mean);
    CHECK_CLOSE(var, var_em, 5 * se_var);
    /* The check has power: the continuum value lies 10% away, about 11
     * tolerances (55 SE), and must be rejected. */
    CHECK(fabs(var - var_continuum) > 5 * (5 * se_var));

done:
    free(x1);
    free(x2);
    th_batch_free(s);
    th_model_free(m);
}

/* ------------------------------------------------------------------------ */

/* <x^p> under the Boltzmann weight exp(-(J2 x^2 + J4 x^4) / kT), by composite
 * Simpson on [-5, 5]: there V / kT >= 650 at kT <= 1, so the tails are below
 * e^-600, and 20000 intervals put 400 points in one thermal width at kT = 0.1,
 * far below any tolerance here. */
static double boltzmann_moment(double J2, double J4, double kT, int p)
{
    const double L = 5.0;
    const size_t n = 20000; /* even */
    const double h = 2 * L / (double)n;
    double num = 0, den = 0;
    for (size_t i = 0; i <= n; i++) {
        double x = -L + h * (double)i;
        double w = (i == 0 || i == n) ? 1.0 : (i % 2 ? 4.0 : 2.0);
        double e = w * exp(-(J2 * x * x + J4 * x * x * x * x) / kT);
        den += e;
        num += e * pow(x, p);
    }
    return num / den;
}

/* Uncoupled quartic units, V = x^2 + x^4 each, sampled at one temperature;
 * checks <x^2> and <x^4> against quadrature. */
static void quartic_boltzmann_at(double kT, uint64_t seed)
{
    const double J2 = 1.0, J4 = 1.0, mu = 1.0, dt = 1e-3;
    /* Near x = 0 the curvature V'' >= 2 sets a relaxation time 1/(mu V'')
     * <= 0.5 for x and 0.25 for x^2; 2 time units of burn-in are 8 of the
     * latter (e^-8 of the start). x^2 decorrelates in about 0.4 time units,
     * so 1.5 time units of sampling give about 4 independent samples per
     * chain, and 4000 chains (n uncoupled copies in each of B trajectories)
     * estimate <x^2> to a relative SE near sqrt(2 / 1.6e4) = 1.1%. */
    const size_t n = 4, B = 1000, burn = 2000, stride = 10, n_sample = 150;
    th_model *m = th_model_alloc(1, &n, TH_F64);
    CHECK(m != NULL);
    if (!m) return;
    th_model_set_onsite(m, J2, J4);
    m->kT = kT;
    m->mu = mu;
    th_batch *s = th_batch_alloc(m, B, seed);
    double *x2 = calloc(B * n, sizeof *x2); /* (B, n) time averages of x^2 */
    double *x4 = calloc(B * n, sizeof *x4); /* (B, n) time averages of x^4 */
    CHECK(s != NULL && x2 && x4);
    if (!s || !x2 || !x4) goto done;

    int ok = advance(m, s, burn, dt, NULL, NULL) == TH_OK;
    for (size_t k = 0; ok && k < n_sample; k++) {
        ok = advance(m, s, stride, dt, NULL, NULL) == TH_OK;
        for (size_t c = 0; c < B * n; c++) {
            double xx = th_batch_states(s).f64[c] * th_batch_states(s).f64[c];
            x2[c] += xx / (double)n_sample;
            x4[c] += xx * xx / (double)n_sample;
        }
    }
    CHECK(ok);
    if (!ok) goto done;

    double m2, se2, m4, se4;
    mean_se(x2, B * n, &m2, &se2);
    mean_se(x4, B * n, &m4, &se4);
    const double ref2 = boltzmann_moment(J2, J4, kT, 2);
    const double ref4 = boltzmann_moment(J2, J4, kT, 4);
    /* EM's O(dt) bias: for a harmonic well of curvature k the stationary
     * variance is too large by the factor 1 / (1 - mu dt k / 2) (see the test
     * above), so <x^p> = (p/2 - 1)!! var^(p/2) is off by p mu dt k / 4
     * relatively. Taking k as the mean curvature <V''> = 2 J2 + 12 J4 <x^2>
     * and a factor 2 for the anharmonicity bounds the bias by
     * p mu dt <V''> / 2: 0.25% (kT = 0.1) to 0.5% (kT = 1) for x^2, small
     * beside the 4-6% statistical allowance. */
    const double curv = 2 * J2 + 12 * J4 * ref2;
    const double bias2 = 2 * mu * dt * curv / 2 * ref2;
    const double bias4 = 4 * mu * dt * curv / 2 * ref4;
    const double tol2 = 5 * se2 + bias2;
    CHECK_CLOSE(m2, ref2, tol2);
    CHECK_CLOSE(m4, ref4, 5 * se4 + bias4);
    /* Power: the quartic term shifts <x^2> away from the Gaussian kT / (2 J2),
     * by 18% at kT = 0.1 and 53% at kT = 1; the same check against the
     * Gaussian value must fail, with room to spare. */
    CHECK(fabs(m2 - kT / (2 * J2)) > 2 * tol2);

done:
    free(x2);
    free(x4);
    th_batch_free(s);
    th_model_free(m);
}

static void test_phys_quartic_boltzmann(void)
{
    quartic_boltzmann_at(0.1, 201);
    quartic_boltzmann_at(1.0, 202);
}

/* ------------------------------------------------------------------------ */

/* Five coupled harmonic units: the stationary law of dx = -mu H x dt + noise,
 * H = 2 diag(J2) + J, is Gaussian with covariance kT H^-1 (Boltzmann weight
 * of V = x^T H x / 2). */
#define COV_N 5
static void test_phys_coupled_covariance(void)
{
    const size_t n = COV_N;
    const double kT = 0.8, mu = 1.0, dt = 0.01;
    const double J2[COV_N] = {1.0, 0.8, 1.2, 0.9, 1.1};
    /* Symmetric couplings, upper triangle. H is positive definite: by
     * Gershgorin its eigenvalues lie in [0.75, 3.45] (row 1: 1.6 - 0.85, row
     * 2: 2.4 + 1.05); LAPACK's dsyev puts them at 1.19 ... 2.76. */
    const double J[COV_N][COV_N] = {
        {0, 0.30, -0.20, 0.10, 0.25},
        {0, 0, 0.35, -0.15, 0.05},
        {0, 0, 0, 0.20, -0.30},
        {0, 0, 0, 0, 0.15},
        {0, 0, 0, 0, 0},
    };
    /* Slowest rate of the covariance: 2 mu lambda_min = 2.37, so 5 time units
     * of burn-in leave e^-12 of the start. Products x_i x_j decorrelate in
     * about 1 / lambda time, so 10 time units per trajectory give ~10 samples
     * each, and 2000 trajectories a relative SE near 0.7% on C_ii. */
    const size_t B = 2000, burn = 500, stride = 5, n_sample = 200;
    const size_t n_pair = COV_N * (COV_N + 1) / 2;

    th_model *m = th_model_alloc(1, &n, TH_F64);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_EQ_INT(th_model_couple(m, 0, 0), TH_OK);
    double H[COV_N * COV_N] = {0}, C[COV_N * COV_N];
    m->kT = kT;
    m->mu = mu;
    for (size_t i = 0; i < n; i++) {
        m->J2.f64[i] = J2[i];
        m->J4.f64[i] = 0;
        H[i * n + i] = 2 * J2[i];
        for (size_t j = i + 1; j < n; j++) {
            CHECK_EQ_INT(th_model_set_coupling(m, i, j, J[i][j]), TH_OK);
            H[i * n + j] = H[j * n + i] = J[i][j];
        }
    }
    CHECK_EQ_INT(spd_inverse(H, n, C), 0);
    for (size_t i = 0; i < n * n; i++) C[i] *= kT;

    th_batch *s = th_batch_alloc(m, B, 301);
    double *acc = calloc(B * n_pair, sizeof *acc); /* (B, n_pair) averages of x_i x_j, i <= j */
    double *col = malloc(B * sizeof *col);         /* (B) one pair's averages */
    CHECK(s != NULL && acc && col);
    if (!s || !acc || !col) goto done;

    int ok = advance(m, s, burn, dt, NULL, NULL) == TH_OK;
    for (size_t k = 0; ok && k < n_sample; k++) {
        ok = advance(m, s, stride, dt, NULL, NULL) == TH_OK;
        for (size_t t = 0; t < B; t++) {
            const double *x = th_batch_states(s).f64 + t * n;
            double *a = acc + t * n_pair;
            for (size_t i = 0, p = 0; i < n; i++)
                for (size_t j = i; j < n; j++, p++) a[p] += x[i] * x[j] / (double)n_sample;
        }
    }
    CHECK(ok);
    if (!ok) goto done;

    /* EM's stationary covariance solves C' = A C' A + 2 mu kT dt I with
     * A = I - mu dt H, so C' = kT H^-1 (I - mu dt H / 2)^-1 and
     *     C' - kT H^-1 = (kT mu dt / 2) (I - mu dt H / 2)^-1,
     * whose entries are bounded by (kT mu dt / 2) / (1 - mu dt lambda_max / 2)
     * (0.004 here, against C_ii from 0.36 to 0.55). */
    double lambda_max = 0;
    for (size_t i = 0; i < n; i++) {
        double r = H[i * n + i];
        for (size_t j = 0; j < n; j++)
            if (j != i) r += fabs(H[i * n + j]);
        lambda_max = fmax(lambda_max, r);
    }
    const double bias = kT * mu * dt / 2 / (1 - mu * dt * lambda_max / 2);

    double worst_uncoupled = 0; /* largest |measured - uncoupled| / tolerance */
    for (size_t i = 0, p = 0; i < n; i++)
        for (size_t j = i; j < n; j++, p++) {
            for (size_t t = 0; t < B; t++) col[t] = acc[t * n_pair + p];
            double c, se;
            mean_se(col, B, &c, &se); /* the true mean is 0: <x_i x_j> = C_ij */
            double tol = 5 * se + bias;
            CHECK_CLOSE(c, C[i * n + j], tol);
            double uncoupled = i == j ? kT / (2 * J2[i]) : 0.0;
            worst_uncoupled = fmax(worst_uncoupled, fabs(c - uncoupled) / tol);
        }
    /* Power: an engine that ignored the couplings would give kT / (2 J2_i)
     * on the diagonal and 0 elsewhere, about 5 tolerances away here. */
    CHECK(worst_uncoupled > 3);

done:
    free(col);
    free(acc);
    th_batch_free(s);
    th_model_free(m);
}

/* ------------------------------------------------------------------------ */

/* Linear drift: the EM mean obeys m_{k+1} = (I - mu dt H) m_k - mu dt b
 * exactly (the noise has mean zero), with no dt error at all, and its fixed
 * point H m = -b is the continuum one. */
#define REL_N 3
static void test_phys_mean_relaxation(void)
{
    const size_t n = REL_N;
    const double kT = 0.05, mu = 1.0, dt = 0.02;
    const double J2[REL_N] = {1.0, 0.7, 1.3};
    const double b[REL_N] = {0.5, -0.3, 0.2};
    const double x0[REL_N] = {1.5, -1.0, 0.8};
    /* Gershgorin puts the eigenvalues of H in [0.75, 3.15] (dsyev: 1.11 ...
     * 2.73); 800 steps = 16 time units leave e^-17 of the start, so the last
     * check is at equilibrium. */
    const double J01 = 0.4, J02 = -0.3, J12 = 0.25;
    const size_t checkpoints[] = {1, 5, 20, 100, 400, 800};
    const size_t n_check = sizeof checkpoints / sizeof checkpoints[0];
    const size_t B = 1000;

    th_model *m = th_model_alloc(1, &n, TH_F64);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_EQ_INT(th_model_couple(m, 0, 0), TH_OK);
    m->kT = kT;
    m->mu = mu;
    double H[REL_N * REL_N] = {0}, Hinv[REL_N * REL_N];
    for (size_t i = 0; i < n; i++) {
        m->J2.f64[i] = J2[i];
        m->J4.f64[i] = 0;
        m->b.f64[i] = b[i];
        H[i * n + i] = 2 * J2[i];
    }
    CHECK_EQ_INT(th_model_set_coupling(m, 0, 1, J01), TH_OK);
    CHECK_EQ_INT(th_model_set_coupling(m, 0, 2, J02), TH_OK);
    CHECK_EQ_INT(th_model_set_coupling(m, 1, 2, J12), TH_OK);
    H[0 * n + 1] = H[1 * n + 0] = J01;
    H[0 * n + 2] = H[2 * n + 0] = J02;
    H[1 * n + 2] = H[2 * n + 1] = J12;
    CHECK_EQ_INT(spd_inverse(H, n, Hinv), 0);
    double fixed[REL_N] = {0}; /* -H^-1 b */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) fixed[i] -= Hinv[i * n + j] * b[j];

    th_batch *s = th_batch_alloc(m, B, 401);
    double *col = malloc(B * sizeof *col); /* (B) one unit across trajectories */
    CHECK(s != NULL && col);
    if (!s || !col) goto done;
    for (size_t t = 0; t < B; t++)
        for (size_t i = 0; i < n; i++) th_batch_states(s).f64[t * n + i] = x0[i];

    double mk[REL_N], next[REL_N]; /* the recursion's mean after `steps` steps */
    memcpy(mk, x0, sizeof mk);
    size_t steps = 0;
    for (size_t c = 0; c < n_check; c++) {
        if (advance(m, s, checkpoints[c] - steps, dt, NULL, NULL) != TH_OK) {
            CHECK(0);
            goto done;
        }
        for (; steps < checkpoints[c]; steps++) {
            for (size_t i = 0; i < n; i++) {
                double f = b[i];
                for (size_t j = 0; j < n; j++) f += H[i * n + j] * mk[j];
                next[i] = mk[i] - mu * dt * f;
            }
            memcpy(mk, next, sizeof mk);
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t t = 0; t < B; t++) col[t] = th_batch_states(s).f64[t * n + i];
            double mean, se;
            mean_se(col, B, &mean, &se);
            /* After one step the spread is only sqrt(2 mu kT dt) = 0.045, so
             * 5 SE is 0.007 against a drift of mu dt |H m_0 + b| ~ 0.05. */
            CHECK_CLOSE(mean, mk[i], 5 * se);
            if (c == n_check - 1) CHECK_CLOSE(mean, fixed[i], 5 * se);
        }
    }

done:
    free(col);
    th_batch_free(s);
    th_model_free(m);
}

/* ------------------------------------------------------------------------ */

/* The first law along each path, W = Delta V + Q (science.md section 1): a
 * two-group model (J2 = 1, J4 as given) with couplings between the groups and
 * within group 1, biases, and optionally a drive a(t) = sin(2 pi t) on a
 * random field per trajectory. */
#define FL_B 500
#define FL_N 6
struct first_law {
    double mean_abs_r;    /* mean over trajectories of |W - Delta V / kT - Q| */
    double max_abs_r;     /* the largest such residual */
    double mean_abs_heat; /* mean |Q| */
    double max_abs_work;  /* max |W| */
    double t_end;         /* the batch's time after the run */
    int ok;
};

static double amplitude_sin(double t, void *ctx)
{
    (void)ctx;
    return sin(TWO_PI * t);
}

static struct first_law first_law_run(double dt, size_t n_steps, int driven, double J4,
                                       uint64_t seed)
{
    struct first_law out = {0, 0, 0, 0, 0, 0};
    const size_t sizes[2] = {3, 3};
    const size_t B = FL_B, n = FL_N;
    th_model *m = th_model_alloc(2, sizes, TH_F64);
    th_batch *s = m ? th_batch_alloc(m, B, seed) : NULL;
    double *field = malloc(B * n * sizeof *field); /* (B, n) drive fields */
    double *v0 = malloc(B * sizeof *v0);           /* (B) V(x_0, 0) */
    double *v1 = malloc(B * sizeof *v1);           /* (B) V(x_end, t_end) */
    if (!m || !s || !field || !v0 || !v1) goto done;

    m->kT = 0.5;
    th_model_set_onsite(m, 1.0, J4);
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    /* Pairs (ci, cj) with value cv: three across the groups, one more across,
     * three within group 1. */
    const size_t ci[] = {0, 1, 2, 0, 3, 4, 3};
    const size_t cj[] = {3, 4, 5, 5, 4, 5, 5};
    const double cv[] = {0.3, -0.2, 0.25, 0.1, 0.2, -0.15, 0.1};
    for (size_t p = 0; p < sizeof cv / sizeof cv[0]; p++)
        if (th_model_set_coupling(m, ci[p], cj[p], cv[p]) != TH_OK) goto done;
    const double bias[FL_N] = {0.1, -0.2, 0, 0.3, 0, -0.1};
    for (size_t i = 0; i < n; i++) m->b.f64[i] = bias[i];

    /* The same random starts and fields for every dt: only the time step and
     * the noise realisation change between runs. */
    uint64_t state = 0x5eed;
    for (size_t i = 0; i < B * n; i++) th_batch_states(s).f64[i] = test_uniform(&state, -0.5, 0.5);
    for (size_t i = 0; i < B * n; i++) field[i] = test_uniform(&state, -1.0, 1.0);
    th_drive drive = {amplitude_sin, NULL, {.f64 = field}, 1};
    const th_drive *d = driven ? &drive : NULL;

    th_model_potential(m, d, 0.0, th_batch_states(s), B, v0);
    if (advance(m, s, n_steps, dt, NULL, d) != TH_OK) goto done;
    th_model_potential(m, d, th_batch_time(s), th_batch_states(s), B, v1);

    for (size_t t = 0; t < B; t++) {
        double r = th_batch_work(s)[t] - (v1[t] - v0[t]) / m->kT - th_batch_heat(s)[t];
        out.mean_abs_r += fabs(r) / (double)B;
        out.max_abs_r = fmax(out.max_abs_r, fabs(r));
        out.mean_abs_heat += fabs(th_batch_heat(s)[t]) / (double)B;
        out.max_abs_work = fmax(out.max_abs_work, fabs(th_batch_work(s)[t]));
    }
    out.t_end = th_batch_time(s);
    out.ok = 1;

done:
    free(v1);
    free(v0);
    free(field);
    th_batch_free(s);
    th_model_free(m);
    return out;
}

/* Heat and work are Crooks' discrete definitions (langevin_kernel.inc,
 * run_fast): a step's work is V(x_k; t_k+1) - V(x_k; t_k), its heat
 * V(x_k; t_k+1) - V(x_k+1; t_k+1), the exact Stratonovich integral of
 * -dV/dx along the step. So the first law holds per trajectory to rounding,
 * at any dt and for any wells, here against th_model_potential (plain double
 * loops, independent of the integrator's ledger) for a driven, coupled
 * quartic computer at two time steps, without a drive (no work at all), and
 * with quadratic wells. A wrong sign, a missing term, or the drive taken at
 * the wrong time (t_k instead of t_k+1 shifts the heat by
 * sum_k (a_k+1 - a_k) h . dx_k) breaks it by far more than 1e-9. The earlier
 * midpoint sum missed by the midpoint rule's O(dt) instead. */
static void test_phys_first_law(void)
{
    const double T = 1.0; /* one period of the drive */
    struct first_law coarse = first_law_run(2e-3, 500, 1, 1.0, 501);
    struct first_law fine = first_law_run(5e-4, 2000, 1, 1.0, 502);
    CHECK(coarse.ok && fine.ok);
    if (!coarse.ok || !fine.ok) return;
    CHECK_CLOSE(coarse.t_end, T, 1e-9);
    CHECK_CLOSE(fine.t_end, T, 1e-9);
    /* The drive does work: the check below is not 0 = 0. */
    CHECK(coarse.max_abs_work > 0.1);
    CHECK(coarse.mean_abs_heat > 0.5);
    CHECK(coarse.max_abs_r < 1e-9);
    CHECK(fine.max_abs_r < 1e-9);
    if (!(coarse.max_abs_r < 1e-9 && fine.max_abs_r < 1e-9))
        fprintf(stderr, "  first law: max |r| %g at dt = 2e-3, %g at 5e-4\n", coarse.max_abs_r,
                fine.max_abs_r);

    /* Time-independent V: no work at all (V(x_k, t_{k+1}) = V(x_k, t_k)
     * exactly), and the heat is the drop of V. */
    struct first_law still = first_law_run(2e-3, 500, 0, 1.0, 503);
    CHECK(still.ok);
    if (!still.ok) return;
    CHECK(still.max_abs_work == 0);
    CHECK(still.mean_abs_heat > 0.5);
    CHECK(still.max_abs_r < 1e-9);

    /* Quadratic V (J4 = 0) as well. Rounding: 500 steps of terms below 1 in
     * double, ~1e-13. */
    struct first_law linear = first_law_run(2e-3, 500, 1, 0.0, 504);
    CHECK(linear.ok);
    if (!linear.ok) return;
    CHECK(linear.max_abs_work > 0.1);
    CHECK(linear.mean_abs_heat > 0.5);
    CHECK(linear.max_abs_r < 1e-9);
    if (!(linear.max_abs_r < 1e-9))
        fprintf(stderr, "  quadratic V: max |W - Delta V / kT - Q| = %g (mean |Q| %g)\n",
                linear.max_abs_r, linear.mean_abs_heat);
}

/* ------------------------------------------------------------------------ */

/* Units 2 and 3 clamped at c; units 0 and 1 free and harmonic. The free units
 * see the linear drift -mu (H_ff x_f + b_f + J_fc c), so their EM mean
 * converges to the solution of H_ff m = -(b_f + J_fc c) with no dt error; with
 * a single coupling it is -J c / (2 J2). The clamped-clamped
 * coupling J_23 must have no effect. */
static void test_phys_clamped(void)
{
    const size_t n = 4, B = 1000;
    const double kT = 0.5, dt = 0.01;
    const double c2 = 1.5, c3 = -1.2, b0 = 0.1;
    const double J2_0 = 1.0, J2_1 = 0.8;
    const double J01 = 0.3, J02 = 0.5, J03 = 0.2, J13 = -0.4, J23 = 0.6;
    const unsigned char clamped[4] = {0, 0, 1, 1};
    /* The eigenvalues of H_ff = [[2, 0.3], [0.3, 1.6]] are 1.44 and 2.16, so 7
     * time units of burn-in leave e^-10 of the start. x decorrelates in about
     * 1 / 1.44 time units, far beyond the sampling stride of 0.05. */
    const size_t burn = 700, stride = 5, n_sample = 200;

    th_model *m = th_model_alloc(1, &n, TH_F64);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_EQ_INT(th_model_couple(m, 0, 0), TH_OK);
    m->kT = kT;
    m->J2.f64[0] = J2_0;
    m->J2.f64[1] = J2_1;
    m->J4.f64[0] = m->J4.f64[1] = 0;
    m->b.f64[0] = b0;
    CHECK_EQ_INT(th_model_set_coupling(m, 0, 1, J01), TH_OK);
    CHECK_EQ_INT(th_model_set_coupling(m, 0, 2, J02), TH_OK);
    CHECK_EQ_INT(th_model_set_coupling(m, 0, 3, J03), TH_OK);
    CHECK_EQ_INT(th_model_set_coupling(m, 1, 3, J13), TH_OK);
    CHECK_EQ_INT(th_model_set_coupling(m, 2, 3, J23), TH_OK);

    /* Cramer's rule on [[2 J2_0, J01], [J01, 2 J2_1]] m = r. */
    const double r0 = -(b0 + J02 * c2 + J03 * c3), r1 = -(J13 * c3);
    const double det = 4 * J2_0 * J2_1 - J01 * J01;
    const double m0 = (r0 * 2 * J2_1 - J01 * r1) / det;
    const double m1 = (2 * J2_0 * r1 - J01 * r0) / det;

    th_batch *s = th_batch_alloc(m, B, 601);
    double *a0 = calloc(B, sizeof *a0); /* (B) time average of x_0 */
    double *a1 = calloc(B, sizeof *a1); /* (B) time average of x_1 */
    CHECK(s != NULL && a0 && a1);
    if (!s || !a0 || !a1) goto done;
    for (size_t t = 0; t < B; t++) {
        th_batch_states(s).f64[t * n + 2] = c2;
        th_batch_states(s).f64[t * n + 3] = c3;
    }

    int ok = advance(m, s, burn, dt, clamped, NULL) == TH_OK;
    size_t moved = 0; /* clamped entries that differ from c in any bit */
    for (size_t k = 0; ok && k < n_sample; k++) {
        ok = advance(m, s, stride, dt, clamped, NULL) == TH_OK;
        for (size_t t = 0; t < B; t++) {
            const double *x = th_batch_states(s).f64 + t * n;
            a0[t] += x[0] / (double)n_sample;
            a1[t] += x[1] / (double)n_sample;
            moved += memcmp(&x[2], &c2, sizeof c2) != 0;
            moved += memcmp(&x[3], &c3, sizeof c3) != 0;
        }
    }
    CHECK(ok);
    if (!ok) goto done;
    CHECK_EQ_INT(moved, 0);

    double mean0, se0, mean1, se1;
    mean_se(a0, B, &mean0, &se0);
    mean_se(a1, B, &mean1, &se1);
    CHECK_CLOSE(mean0, m0, 5 * se0);
    CHECK_CLOSE(mean1, m1, 5 * se1);
    /* Power: both means sit well away from 0 (m0 = -0.27, m1 = -0.25 while
     * 5 SE is near 0.03). */
    CHECK(fabs(m0) > 5 * (5 * se0) && fabs(m1) > 5 * (5 * se1));

    /* The reference kernel holds clamped units too. */
    th_run r = th_run_default();
    r.n_steps = 50;
    r.dt = dt;
    r.clamped = clamped;
    r.kernel = TH_KERNEL_REFERENCE;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_OK);
    moved = 0;
    for (size_t t = 0; t < B; t++) {
        moved += memcmp(&th_batch_states(s).f64[t * n + 2], &c2, sizeof c2) != 0;
        moved += memcmp(&th_batch_states(s).f64[t * n + 3], &c3, sizeof c3) != 0;
    }
    CHECK_EQ_INT(moved, 0);

done:
    free(a1);
    free(a0);
    th_batch_free(s);
    th_model_free(m);
}

/* ------------------------------------------------------------------------ */

/* The same two-group quartic model in both precisions. */
static th_model *f32_f64_model(th_dtype dtype)
{
    const size_t sizes[2] = {4, 4};
    th_model *m = th_model_alloc(2, sizes, dtype);
    if (!m) return NULL;
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    uint64_t state = 0xf32f64;
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 4; j < 8; j++)
            th_model_set_coupling(m, i, j, test_uniform(&state, -0.3, 0.3));
    for (size_t i = 4; i < 8; i++)
        for (size_t j = i + 1; j < 8; j++)
            th_model_set_coupling(m, i, j, test_uniform(&state, -0.3, 0.3));
    for (size_t i = 0; i < 8; i++) th_ptr_set(m->b, dtype, i, test_uniform(&state, -0.5, 0.5));
    return m;
}

/* Both precisions draw the same noise up to float rounding and the dynamics
 * contracts (J2, J4 > 0 wells), so per-step rounding of 6e-8 relative does not
 * grow: after 300 steps it adds up to at most 300 * 6e-8 * |x| ~ 2e-5, and
 * typically sqrt(300) times less (6e-7 measured). 1e-4 leaves room for the
 * float Box-Muller's extra error on the rare near-zero radius. */
static void test_phys_f32_matches_f64(void)
{
    const size_t B = 64, n = 8, n_steps = 300;
    const double dt = 1e-3;
    th_model *m32 = f32_f64_model(TH_F32);
    th_model *m64 = f32_f64_model(TH_F64);
    th_batch *s32 = m32 ? th_batch_alloc(m32, B, 701) : NULL;
    th_batch *s64 = m64 ? th_batch_alloc(m64, B, 701) : NULL;
    th_batch *other = m64 ? th_batch_alloc(m64, B, 702) : NULL;
    CHECK(m32 && m64 && s32 && s64 && other);
    if (!m32 || !m64 || !s32 || !s64 || !other) goto done;
    CHECK_EQ_INT(advance(m32, s32, n_steps, dt, NULL, NULL), TH_OK);
    CHECK_EQ_INT(advance(m64, s64, n_steps, dt, NULL, NULL), TH_OK);
    CHECK_EQ_INT(advance(m64, other, n_steps, dt, NULL, NULL), TH_OK);

    double max_diff = 0, max_abs = 0, max_other = 0, max_heat = 0;
    for (size_t i = 0; i < B * n; i++) {
        double x64 = th_batch_states(s64).f64[i];
        max_diff = fmax(max_diff, fabs((double)th_batch_states(s32).f32[i] - x64));
        max_abs = fmax(max_abs, fabs(x64));
        max_other = fmax(max_other, fabs(th_batch_states(other).f64[i] - x64));
    }
    for (size_t t = 0; t < B; t++)
        max_heat = fmax(max_heat, fabs(th_batch_heat(s32)[t] - th_batch_heat(s64)[t]));
    CHECK(max_diff < 1e-4);
    /* Heat sums n_steps * n = 2400 terms F dx of size ~0.05, each off by float
     * rounding (~6e-8 of it): 7e-6 if every rounding went the same way, a
     * random walk near 1e-7 otherwise, plus the effect of the state
     * difference above (4e-6 measured in all). */
    CHECK(max_heat < 1e-4);
    /* Power: the states are not trivially small, and another seed differs by
     * far more than the tolerance. */
    CHECK(max_abs > 0.1);
    CHECK(max_other > 0.1);
    if (!(max_diff < 1e-4) || !(max_heat < 1e-4))
        fprintf(stderr, "  max |x32 - x64| = %g, max |heat32 - heat64| = %g\n", max_diff,
                max_heat);

done:
    th_batch_free(other);
    th_batch_free(s64);
    th_batch_free(s32);
    th_model_free(m64);
    th_model_free(m32);
}

/* ------------------------------------------------------------------------ */

/* The cubic on-site term J3 x^3 (science.md section 4): dV/dx gains
 * 3 J3 x^2 in the force and in the Stratonovich midpoint heat. */

/* A two-group model with every on-site coefficient different, J3 of both
 * signs, couplings across and within group 1, and biases; from splitmix64. */
static th_model *cubic_model(uint64_t seed)
{
    const size_t sizes[2] = {3, 4};
    th_model *m = th_model_alloc(2, sizes, TH_F64);
    if (!m) return NULL;
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    m->kT = 0.4;
    m->mu = 1.2;
    for (size_t i = 0; i < m->n; i++) {
        m->J2.f64[i] = test_uniform(&seed, 0.5, 1.5);
        m->J3.f64[i] = test_uniform(&seed, -1.0, 1.0);
        m->J4.f64[i] = test_uniform(&seed, 0.5, 1.5);
        m->b.f64[i] = test_uniform(&seed, -0.3, 0.3);
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j))
                th_model_set_coupling(m, i, j, test_uniform(&seed, -0.3, 0.3));
    }
    return m;
}

/* V(x) written out here, independently of th_model_potential: sum_i (J2 x^2 +
 * J3 x^3 + J4 x^4 + b x) + sum_{i<j} J_ij x_i x_j. */
static double cubic_energy(const th_model *m, const double *x)
{
    const size_t n = m->n;
    double v = 0;
    for (size_t i = 0; i < n; i++) {
        const double xi = x[i];
        v += m->J2.f64[i] * xi * xi + m->J3.f64[i] * xi * xi * xi +
             m->J4.f64[i] * xi * xi * xi * xi + m->b.f64[i] * xi;
        for (size_t j = i + 1; j < n; j++) v += m->J.f64[i * n + j] * xi * x[j];
    }
    return v;
}

/* The force the fast kernel applies is dV/dx of V by central differences.
 * One step at mu dt = 1 and kT = 1e-300 moves x to x - dV/dx + (noise of
 * size 1e-150), so dV/dx = x - x' to the rounding of numbers of order 10;
 * the central difference with h = 1e-5 is off by h^2 V''' / 6 ~ 1e-10 plus
 * rounding 1e-16 / h. th_model_potential gives the V written here. */
static void test_phys_cubic_force_fd(void)
{
    th_model *m = cubic_model(31);
    const size_t B = 3;
    th_batch *s = m ? th_batch_alloc(m, B, 7) : NULL;
    CHECK(m && s);
    if (!m || !s) goto done;
    const size_t n = m->n;
    m->kT = 1e-300;
    m->mu = 1;
    double x0[3 * 7], pot[3];
    uint64_t state = 99;
    for (size_t i = 0; i < B * n; i++) th_batch_states(s).f64[i] = x0[i] = test_uniform(&state, -1.2, 1.2);
    th_model_potential(m, NULL, 0, th_batch_states(s), B, pot);
    for (size_t k = 0; k < B; k++) CHECK_CLOSE(pot[k], cubic_energy(m, x0 + k * n), 1e-13);
    CHECK_EQ_INT(advance(m, s, 1, 1.0, NULL, NULL), TH_OK);
    const double h = 1e-5;
    double cubic_part = 0;
    for (size_t k = 0; k < B; k++)
        for (size_t i = 0; i < n; i++) {
            double xp[7], xm[7];
            memcpy(xp, x0 + k * n, n * sizeof *xp);
            memcpy(xm, x0 + k * n, n * sizeof *xm);
            xp[i] += h;
            xm[i] -= h;
            const double fd = (cubic_energy(m, xp) - cubic_energy(m, xm)) / (2 * h);
            const double applied = x0[k * n + i] - th_batch_states(s).f64[k * n + i];
            CHECK_CLOSE(applied, fd, 1e-8);
            const double xi = x0[k * n + i];
            cubic_part = fmax(cubic_part, fabs(3 * m->J3.f64[i] * xi * xi));
        }
    CHECK(cubic_part > 0.5); /* the cubic term is a large part of some force */
done:
    th_batch_free(s);
    th_model_free(m);
}

static double drive_sin(double t, void *ctx)
{
    (void)ctx;
    return 0.7 * sin(TWO_PI * t) + 0.2;
}

/* The fast kernel (fused row with 3 J3 x^2, telescoped coupling heat)
 * against the reference twin (plain loops, the full midpoint force) with
 * J3 != 0, a clamped unit and a per-trajectory drive: the same noise, so
 * states, heat and work agree to float64 rounding (~1e-13 after 400 steps;
 * tolerance 1e-9). Without the cubic term the states differ by far more, so
 * the comparison does involve it. */
static void test_phys_cubic_fast_matches_reference(void)
{
    const size_t B = 6;
    th_model *m = cubic_model(41);
    th_batch *fast = m ? th_batch_alloc(m, B, 808) : NULL;
    th_batch *ref = m ? th_batch_alloc(m, B, 808) : NULL;
    th_batch *even = m ? th_batch_alloc(m, B, 808) : NULL;
    double *field = m ? malloc(B * m->n * sizeof *field) : NULL;
    CHECK(m && fast && ref && even && field);
    if (!m || !fast || !ref || !even || !field) goto done;
    const size_t n = m->n;
    unsigned char clamped[7] = {0, 0, 1, 0, 0, 0, 0};
    uint64_t state = 5;
    for (size_t i = 0; i < B * n; i++) {
        const double x = test_uniform(&state, -0.8, 0.8);
        th_batch_states(fast).f64[i] = th_batch_states(ref).f64[i] = th_batch_states(even).f64[i] = x;
        field[i] = test_uniform(&state, -1, 1);
    }
    th_drive drive = {drive_sin, NULL, {.f64 = field}, 1};
    th_run r = th_run_default();
    r.n_steps = 400;
    r.dt = 2e-3;
    r.clamped = clamped;
    r.drive = &drive;
    CHECK_EQ_INT(th_langevin_run(m, fast, &r), TH_OK);
    r.kernel = TH_KERNEL_REFERENCE;
    CHECK_EQ_INT(th_langevin_run(m, ref, &r), TH_OK);
    double dx = 0, heat_scale = 0, work_scale = 0;
    for (size_t i = 0; i < B * n; i++) dx = fmax(dx, fabs(th_batch_states(fast).f64[i] - th_batch_states(ref).f64[i]));
    CHECK(dx <= 1e-9);
    for (size_t k = 0; k < B; k++) {
        heat_scale = fmax(heat_scale, fabs(th_batch_heat(ref)[k]));
        work_scale = fmax(work_scale, fabs(th_batch_work(ref)[k]));
    }
    CHECK(heat_scale > 1 && work_scale > 0.1);
    for (size_t k = 0; k < B; k++) {
        CHECK_CLOSE(th_batch_heat(fast)[k], th_batch_heat(ref)[k], 1e-9 * heat_scale);
        CHECK_CLOSE(th_batch_work(fast)[k], th_batch_work(ref)[k], 1e-9 * work_scale);
        CHECK_CLOSE(th_batch_states(fast).f64[k * n + 2], th_batch_states(even).f64[k * n + 2], 0.0); /* held */
    }
    for (size_t i = 0; i < n; i++) m->J3.f64[i] = 0;
    r.kernel = TH_KERNEL_FAST;
    CHECK_EQ_INT(th_langevin_run(m, even, &r), TH_OK);
    double dx_even = 0;
    for (size_t i = 0; i < B * n; i++)
        dx_even = fmax(dx_even, fabs(th_batch_states(fast).f64[i] - th_batch_states(even).f64[i]));
    CHECK(dx_even > 1e-3);
done:
    free(field);
    th_batch_free(even);
    th_batch_free(ref);
    th_batch_free(fast);
    th_model_free(m);
}

/* <x^p> under exp(-(J2 x^2 + J3 x^3 + J4 x^4) / kT), by composite Simpson
 * on [-6, 6]; at kT = 0.5 with J4 = 1 the weight there is below e^-2000. */
static double cubic_moment(double J2, double J3, double J4, double kT, int p)
{
    const double L = 6.0;
    const size_t n = 24000; /* even */
    const double h = 2 * L / (double)n;
    double num = 0, den = 0;
    for (size_t i = 0; i <= n; i++) {
        const double x = -L + h * (double)i;
        const double w = (i == 0 || i == n) ? 1.0 : (i % 2 ? 4.0 : 2.0);
        const double e = w * exp(-(J2 * x * x + J3 * x * x * x + J4 * x * x * x * x) / kT);
        den += e;
        num += e * pow(x, p);
    }
    return num / den;
}

/* Uncoupled units in the asymmetric well V = x^2 + 1.5 x^3 + x^4 (a single
 * well: 9 J3^2 < 32 J2 J4) at kT = 0.5, sampled by the fast kernel: <x> and
 * <x^2> against quadrature of the Boltzmann density exp(-V/kT)/Z. Sampling
 * as in quartic_boltzmann_at: 4000 chains, 2 time units of burn-in, 150
 * samples 10 steps apart; allowance 5 SE plus a bound on EM's O(dt) bias,
 * mu dt <V''> / 2 times the scale of the moment (<V''> = 2 J2 + 6 J3 <x> +
 * 12 J4 <x^2>). Quadrature gives <x> = -0.233 and <x^2> = 0.266, against
 * 0 and 0.17 for the even well, so both checks have power. */
static void test_phys_cubic_boltzmann(void)
{
    const double J2 = 1.0, J3 = 1.5, J4 = 1.0, kT = 0.5, mu = 1.0, dt = 1e-3;
    const size_t n = 4, B = 1000, burn = 2000, stride = 10, n_sample = 150;
    th_model *m = th_model_alloc(1, &n, TH_F64);
    th_batch *s = m ? th_batch_alloc(m, B, 909) : NULL;
    double *x1 = calloc(B * n, sizeof *x1); /* (B, n) time averages of x */
    double *x2 = calloc(B * n, sizeof *x2); /* (B, n) time averages of x^2 */
    CHECK(m && s && x1 && x2);
    if (!m || !s || !x1 || !x2) goto done;
    th_model_set_onsite3(m, J2, J3, J4);
    m->kT = kT;
    m->mu = mu;
    int ok = advance(m, s, burn, dt, NULL, NULL) == TH_OK;
    for (size_t k = 0; ok && k < n_sample; k++) {
        ok = advance(m, s, stride, dt, NULL, NULL) == TH_OK;
        for (size_t c = 0; c < B * n; c++) {
            x1[c] += th_batch_states(s).f64[c] / (double)n_sample;
            x2[c] += th_batch_states(s).f64[c] * th_batch_states(s).f64[c] / (double)n_sample;
        }
    }
    CHECK(ok);
    if (!ok) goto done;
    double m1, se1, m2, se2;
    mean_se(x1, B * n, &m1, &se1);
    mean_se(x2, B * n, &m2, &se2);
    const double ref1 = cubic_moment(J2, J3, J4, kT, 1);
    const double ref2 = cubic_moment(J2, J3, J4, kT, 2);
    const double curv = 2 * J2 + 6 * J3 * ref1 + 12 * J4 * ref2;
    const double tol1 = 5 * se1 + mu * dt * curv / 2 * sqrt(ref2);
    const double tol2 = 5 * se2 + 2 * mu * dt * curv / 2 * ref2;
    CHECK_CLOSE(m1, ref1, tol1);
    CHECK_CLOSE(m2, ref2, tol2);
    CHECK(fabs(m1) > 4 * tol1);
    CHECK(fabs(m2 - cubic_moment(J2, 0, J4, kT, 2)) > 2 * tol2);
done:
    free(x1);
    free(x2);
    th_batch_free(s);
    th_model_free(m);
}

/* The first law W = Delta V / kT + Q on every path with J3 != 0 under a
 * drive (science.md section 1). The midpoint rule integrates the cubic
 * term's quadratic force with an error (f''/24) dx^3 = J3 dx^3 / 4 per unit
 * and step, besides the quartic's, so the residual is O(dt) as in
 * test_phys_first_law: small beside the heat, and a quarter of the step
 * gives about a quarter of it. */
struct cubic_law {
    double mean_r, mean_heat, max_work;
    int ok;
};

static struct cubic_law cubic_first_law(double dt, size_t n_steps, uint64_t seed)
{
    struct cubic_law out = {0, 0, 0, 0};
    const size_t B = 400;
    th_model *m = cubic_model(51);
    th_batch *s = m ? th_batch_alloc(m, B, seed) : NULL;
    double *field = m ? malloc(B * m->n * sizeof *field) : NULL;
    double *v0 = malloc(B * sizeof *v0), *v1 = malloc(B * sizeof *v1);
    if (!m || !s || !field || !v0 || !v1) goto done;
    uint64_t state = 0xc0b1c;
    for (size_t i = 0; i < B * m->n; i++) th_batch_states(s).f64[i] = test_uniform(&state, -0.5, 0.5);
    for (size_t i = 0; i < B * m->n; i++) field[i] = test_uniform(&state, -1, 1);
    th_drive drive = {drive_sin, NULL, {.f64 = field}, 1};
    th_model_potential(m, &drive, 0.0, th_batch_states(s), B, v0);
    if (advance(m, s, n_steps, dt, NULL, &drive) != TH_OK) goto done;
    th_model_potential(m, &drive, th_batch_time(s), th_batch_states(s), B, v1);
    for (size_t k = 0; k < B; k++) {
        const double r = th_batch_work(s)[k] - (v1[k] - v0[k]) / m->kT - th_batch_heat(s)[k];
        out.mean_r += fabs(r) / (double)B;
        out.mean_heat += fabs(th_batch_heat(s)[k]) / (double)B;
        out.max_work = fmax(out.max_work, fabs(th_batch_work(s)[k]));
    }
    out.ok = 1;
done:
    free(v1);
    free(v0);
    free(field);
    th_batch_free(s);
    th_model_free(m);
    return out;
}

static void test_phys_cubic_first_law(void)
{
    const struct cubic_law coarse = cubic_first_law(2e-3, 500, 601);
    const struct cubic_law fine = cubic_first_law(5e-4, 2000, 602);
    CHECK(coarse.ok && fine.ok);
    if (!coarse.ok || !fine.ok) return;
    CHECK(coarse.max_work > 0.1); /* the drive does work */
    CHECK(coarse.mean_heat > 0.5);
    /* Crooks' heat and work (test_phys_first_law): the first law to
     * rounding, the cubic term included */
    CHECK(coarse.mean_r < 1e-10 && fine.mean_r < 1e-10);
    if (!(coarse.mean_r < 1e-10 && fine.mean_r < 1e-10))
        fprintf(stderr, "  cubic first law: mean |r| %g at dt = 2e-3, %g at 5e-4\n",
                coarse.mean_r, fine.mean_r);
}

void suite_physics(void)
{
    RUN_TEST(test_phys_harmonic_discrete_variance);
    RUN_TEST(test_phys_quartic_boltzmann);
    RUN_TEST(test_phys_coupled_covariance);
    RUN_TEST(test_phys_mean_relaxation);
    RUN_TEST(test_phys_first_law);
    RUN_TEST(test_phys_clamped);
    RUN_TEST(test_phys_f32_matches_f64);
    RUN_TEST(test_phys_cubic_force_fd);
    RUN_TEST(test_phys_cubic_fast_matches_reference);
    RUN_TEST(test_phys_cubic_boltzmann);
    RUN_TEST(test_phys_cubic_first_law);
}
