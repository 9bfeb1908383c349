/* well.c - one unit alone in its on-site well: the Boltzmann density
 * exp(-U(x)/kT)/Z of U(x) = J2 x^2 + J3 x^3 + J4 x^4 + b x (science.md
 * section 1 without couplings), its moments by quadrature, exact draws from
 * it by rejection, and the density that Euler-Maruyama at a finite time step
 * holds instead.
 *
 * Why: generation starts with the uncoupled units equilibrating for t_f
 * (science.md section 2, phase 1: 2500 steps per sample in the paper's
 * recipe). The units are independent, so that phase only has to deliver
 * each unit's equilibrium, which can be drawn directly, at a fraction of
 * the cost and without the O(dt) bias of the discretised dynamics; and that
 * bias can be computed exactly for one well (th_well_em_moments) to tell
 * when the two are interchangeable.
 *
 * Exact draws (th_batch_draw_wells): rejection sampling (von Neumann) from
 * a Gaussian proposal N(m, s^2) with m and s near the density's mean and
 * standard deviation. The bound M of p(x)/q(x) is the exact maximum of the
 * quartic polynomial f(x) = -(U(x) - U_min)/kT + (x - m)^2 / (2 s^2), found
 * at the real roots of the cubic f'(x) = 0 (closed form, polished by
 * Newton's method), plus a margin of 1e-9 in the logarithm: the margin
 * lowers the acceptance, never the exactness. The proposal's normal comes
 * from 53-bit uniforms, so it reaches 8.6 standard deviations; the mass it
 * misses beyond is below 1e-17. */
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* The quadrature's range ends where the density has fallen by e^-80 from
 * its peak (1.8e-35): nothing below double precision is lost. */
#define TAIL_DECAY 80.0
/* Gauss-Legendre nodes and weights of order 8 on [-1, 1] (Abramowitz and
 * Stegun, Table 25.4), applied on panels of at most a tenth of the
 * narrowest local width of the density: the rule is then exact to rounding
 * for this smooth integrand. */
static const double gl_node[4] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267,
                                  0.9602898564975363};
static const double gl_weight[4] = {0.3626837833783620, 0.3137066458778873,
                                    0.2223810344533745, 0.1012285362903763};
#define PANEL_FRACTION 0.1
#define MAX_PANELS 2000000
/* The rejection bound's margin in its logarithm, and the proposals a unit
 * may take before the draw gives up (a sensible envelope accepts more than
 * one in ten: the chance of 2^20 rejections is then below e^-100000). */
#define LOG_BOUND_MARGIN 1e-9
#define MAX_PROPOSALS ((size_t)1 << 20)
/* The Euler-Maruyama grid: spacing a fifth of the step's noise, the kernel
 * cut at 12 of its standard deviations beyond the drift. The trapezoid rule
 * on a Gaussian of 5 spacings' width is exact to exp(-2 pi^2 25). */
#define EM_SPACING 0.2
#define EM_KERNEL_SDS 12.0
#define EM_MAX_GRID 20000
#define EM_MAX_LEAK 1e-12

static double well_u(const th_well *w, double x)
{
    return ((w->J4 * x + w->J3) * x + w->J2) * x * x + w->b * x;
}

static double well_du(const th_well *w, double x)
{
    return ((4 * w->J4 * x + 3 * w->J3) * x + 2 * w->J2) * x + w->b;
}

static double well_d2u(const th_well *w, double x)
{
    return (12 * w->J4 * x + 6 * w->J3) * x + 2 * w->J2;
}

int th_well_validate(const th_well *w)
{
    TH_ASSERT(w != NULL);
    if (!isfinite(w->J2) || !isfinite(w->J3) || !isfinite(w->J4) || !isfinite(w->b))
        return th__fail(TH_EINVAL, "well J2 = %g, J3 = %g, J4 = %g, b = %g: expected finite "
                        "values", w->J2, w->J3, w->J4, w->b);
    if (!(w->kT > 0) || !isfinite(w->kT))
        return th__fail(TH_EINVAL, "well kT = %g: expected a finite temperature > 0", w->kT);
    if (w->J4 > 0 || (w->J4 == 0 && w->J3 == 0 && w->J2 > 0)) return TH_OK;
    return th__fail(TH_EINVAL, "well J2 = %g, J3 = %g, J4 = %g: no equilibrium (expected "
                    "J4 > 0, or J4 = J3 = 0 and J2 > 0)", w->J2, w->J3, w->J4);
}

/* The real roots of a x^3 + b x^2 + c x + d (a != 0, or a lower degree),
 * each polished by Newton's method; their count. */
static int poly_roots(double a, double b, double c, double d, double r[3])
{
    int n = 0;
    if (a == 0 && b == 0) {
        if (c != 0) r[n++] = -d / c;
        return n;
    }
    if (a == 0) {
        const double disc = c * c - 4 * b * d;
        if (disc < 0) return 0;
        /* the stable pair of formulas */
        const double q = -0.5 * (c + copysign(sqrt(disc), c));
        r[n++] = q / b;
        if (q != 0) r[n++] = d / q;
        return n;
    }
    /* depressed cubic t^3 + p t + q = 0, x = t - b / (3 a) */
    const double B = b / a, C = c / a, D = d / a;
    const double p = C - B * B / 3, q = 2 * B * B * B / 27 - B * C / 3 + D;
    const double shift = -B / 3;
    const double disc = q * q / 4 + p * p * p / 27;
    if (disc < 0) { /* three real roots (p < 0): the trigonometric form */
        const double rad = 2 * sqrt(-p / 3);
        const double arg = fmax(-1.0, fmin(1.0, 3 * q / (p * rad)));
        const double phi = acos(arg) / 3;
        for (int k = 0; k < 3; k++) r[n++] = rad * cos(phi - 2.0943951023931957 * k) + shift;
    } else {
        const double s = sqrt(disc);
        r[n++] = cbrt(-q / 2 + s) + cbrt(-q / 2 - s) + shift;
    }
    for (int k = 0; k < n; k++)
        for (int it = 0; it < 4; it++) {
            const double x = r[k];
            const double f = ((a * x + b) * x + c) * x + d, df = (3 * a * x + 2 * b) * x + c;
            if (df == 0 || !isfinite(f / df)) break;
            r[k] = x - f / df;
        }
    return n;
}

/* What the quadrature of one well needs. */
typedef struct well_shape {
    th_well w;
    double umin;       /* the lowest U */
    double lo, hi;     /* the range: U - umin <= TAIL_DECAY kT inside, and more beyond */
    double panel;      /* the panel width */
} well_shape;

static int well_shape_make(const th_well *w, well_shape *sh)
{
    int rc = th_well_validate(w);
    if (rc != TH_OK) return rc;
    sh->w = *w;
    double crit[3];
    const int nc = poly_roots(4 * w->J4, 3 * w->J3, 2 * w->J2, w->b, crit);
    TH_ASSERT(nc >= 1); /* a confining well has a minimum */
    double left = crit[0], right = crit[0];
    sh->umin = INFINITY;
    /* the narrowest local scale: at each minimum sqrt(kT / U''), or the
     * quartic's own (kT / J4)^(1/4) where U'' vanishes */
    double width = w->J4 > 0 ? pow(w->kT / w->J4, 0.25) : sqrt(w->kT / w->J2);
    for (int k = 0; k < nc; k++) {
        left = fmin(left, crit[k]);
        right = fmax(right, crit[k]);
        sh->umin = fmin(sh->umin, well_u(w, crit[k]));
        const double curv = well_d2u(w, crit[k]);
        if (curv > 0) width = fmin(width, sqrt(w->kT / curv));
    }
    /* out from the outermost critical points until the density is gone */
    double step = width;
    while ((well_u(w, left - step) - sh->umin) / w->kT < TAIL_DECAY) step *= 1.25;
    sh->lo = left - step;
    step = width;
    while ((well_u(w, right + step) - sh->umin) / w->kT < TAIL_DECAY) step *= 1.25;
    sh->hi = right + step;
    sh->panel = PANEL_FRACTION * width;
    if ((sh->hi - sh->lo) / sh->panel > MAX_PANELS)
        return th__fail(TH_EINVAL, "well J2 = %g, J3 = %g, J4 = %g, kT = %g: its density is "
                        "too narrow for its range (more than %d quadrature panels)", w->J2,
                        w->J3, w->J4, w->kT, MAX_PANELS);
    return TH_OK;
}

/* z = integral of exp(-(U - umin)/kT), and the moments <x^k>, k = 1..4,
 * about the origin. */
static void well_integrate(const well_shape *sh, double *z, double mom[4])
{
    const size_t panels = (size_t)ceil((sh->hi - sh->lo) / sh->panel);
    const double h = (sh->hi - sh->lo) / (double)panels;
    double acc[5] = {0, 0, 0, 0, 0};
    for (size_t q = 0; q < panels; q++) {
        const double mid = sh->lo + ((double)q + 0.5) * h;
        for (int j = 0; j < 8; j++) {
            const double x = mid + (j < 4 ? -1 : 1) * gl_node[j % 4] * h / 2;
            const double wt = gl_weight[j % 4] * h / 2 *
                              exp(-(well_u(&sh->w, x) - sh->umin) / sh->w.kT);
            double xp = 1;
            for (int k = 0; k < 5; k++, xp *= x) acc[k] += wt * xp;
        }
    }
    *z = acc[0];
    for (int k = 0; k < 4; k++) mom[k] = acc[k + 1] / acc[0];
}

int th_well_moments(const th_well *w, double moments[4])
{
    TH_ASSERT(w != NULL && moments != NULL);
    well_shape sh;
    int rc = well_shape_make(w, &sh);
    if (rc != TH_OK) return rc;
    double z;
    well_integrate(&sh, &z, moments);
    return TH_OK;
}

/* ------------------------------------------------------- exact draws */

/* The envelope of one well: a Gaussian N(m, s^2) (or the density itself
 * when the well is a parabola) and the log of the bound. */
typedef struct well_sampler {
    th_well w;
    double umin, m, s, log_bound;
    double acceptance;  /* the expected share of proposals accepted */
    int gaussian;       /* J4 = J3 = 0: N(-b / (2 J2), kT / (2 J2)) drawn directly */
} well_sampler;

/* log f at x for the envelope (m, s): -(U - umin)/kT + (x - m)^2 / (2 s^2) */
static double envelope_log(const well_sampler *e, double x)
{
    const double z = (x - e->m) / e->s;
    return -(well_u(&e->w, x) - e->umin) / e->w.kT + 0.5 * z * z;
}

/* The exact maximum of envelope_log: at a root of its derivative,
 * U'(x) - kT (x - m) / s^2 = 0, a cubic. */
static double envelope_bound(const well_sampler *e)
{
    const th_well *w = &e->w;
    const double k = w->kT / (e->s * e->s);
    double r[3];
    const int nr = poly_roots(4 * w->J4, 3 * w->J3, 2 * w->J2 - k, w->b + k * e->m, r);
    double best = envelope_log(e, e->m);
    for (int j = 0; j < nr; j++) best = fmax(best, envelope_log(e, r[j]));
    return best + LOG_BOUND_MARGIN;
}

static int well_sampler_make(const th_well *w, well_sampler *e)
{
    memset(e, 0, sizeof *e);
    e->w = *w;
    if (w->J4 == 0) {
        int rc = th_well_validate(w);
        if (rc != TH_OK) return rc;
        e->gaussian = 1;
        e->m = -w->b / (2 * w->J2);
        e->s = sqrt(w->kT / (2 * w->J2));
        e->acceptance = 1;
        return TH_OK;
    }
    well_shape sh;
    int rc = well_shape_make(w, &sh);
    if (rc != TH_OK) return rc;
    double z, mom[4];
    well_integrate(&sh, &z, mom);
    e->umin = sh.umin;
    e->m = mom[0];
    const double sd = sqrt(fmax(mom[1] - mom[0] * mom[0], 0.0));
    /* The widths tried: the best acceptance z / (bound sqrt(2 pi) s) wins. */
    static const double factor[] = {0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5, 2.0, 3.0};
    double best_s = sd, best_acc = -1, best_bound = 0;
    for (size_t j = 0; j < sizeof factor / sizeof factor[0]; j++) {
        e->s = factor[j] * sd;
        if (!(e->s > 0)) continue;
        const double bound = envelope_bound(e);
        const double acc = z / (exp(bound) * 2.5066282746310002 * e->s);
        if (acc > best_acc) {
            best_acc = acc;
            best_s = e->s;
            best_bound = bound;
        }
    }
    if (!(best_acc > 0))
        return th__fail(TH_EINVAL, "well J2 = %g, J3 = %g, J4 = %g, kT = %g: no envelope for "
                        "exact draws", w->J2, w->J3, w->J4, w->kT);
    e->s = best_s;
    e->log_bound = best_bound;
    e->acceptance = best_acc;
    return TH_OK;
}

/* A standard normal from two 53-bit uniforms (Box-Muller, the cosine half). */
static double rng_normal(th_rng *r)
{
    const double u1 = th_rng_uniform(r), u2 = th_rng_uniform(r);
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* One draw for (seed, stream, unit i): proposals from blocks
 * TH_WELL_FIRST_BLOCK + i 2^32 on, three uniforms each (the normal's two,
 * then the test's). */
static int well_draw(const well_sampler *e, uint64_t seed, uint64_t stream, size_t i,
                     double *x)
{
    th_rng r;
    th_rng_init(&r, seed, stream);
    r.block = TH_WELL_FIRST_BLOCK + ((uint64_t)i << 32);
    if (e->gaussian) {
        *x = e->m + e->s * rng_normal(&r);
        return TH_OK;
    }
    for (size_t t = 0; t < MAX_PROPOSALS; t++) {
        const double z = rng_normal(&r);
        const double y = e->m + e->s * z;
        const double log_ratio = -(well_u(&e->w, y) - e->umin) / e->w.kT + 0.5 * z * z;
        if (log(th_rng_uniform(&r)) <= log_ratio - e->log_bound) {
            *x = y;
            return TH_OK;
        }
    }
    return th__fail(TH_EDIVERGED, "unit %zu: none of %zu proposals accepted (expected share "
                    "%.3g)", i, MAX_PROPOSALS, e->acceptance);
}

/* Unit i's well in model m. */
static th_well unit_well(const th_model *m, size_t i)
{
    th_well w = {.J2 = th_ptr_get(m->J2, m->dtype, i), .J3 = th_ptr_get(m->J3, m->dtype, i),
                 .J4 = th_ptr_get(m->J4, m->dtype, i), .b = th_ptr_get(m->b, m->dtype, i),
                 .kT = m->kT};
    return w;
}

static int same_well(const th_well *a, const th_well *b)
{
    return a->J2 == b->J2 && a->J3 == b->J3 && a->J4 == b->J4 && a->b == b->b;
}

int th_batch_draw_wells(const th_model *m, th_batch *s, const unsigned char *clamped)
{
    TH_ASSERT(m != NULL && s != NULL);
    if (s->n != m->n || s->dtype != m->dtype)
        return th__fail(TH_EINVAL, "batch of %zu units does not fit the model's %zu (or its "
                        "precision)", s->n, m->n);
    if (m->n > ((size_t)1 << 31))
        return th__fail(TH_EINVAL, "%zu units: at most 2^31 supported", m->n);
    const size_t n = m->n, B = s->b;
    /* One envelope per run of units with the same well (the generator's
     * units all share one): sampler[i] points into the list. */
    well_sampler *list = th__alloc(n * sizeof *list);
    size_t *which = th__alloc(n * sizeof *which);
    int rc = list && which ? TH_OK : th__fail(TH_ENOMEM, "out of memory for %zu wells", n);
    size_t n_list = 0;
    for (size_t i = 0; rc == TH_OK && i < n; i++) {
        if (clamped && clamped[i]) continue;
        const th_well w = unit_well(m, i);
        if (!n_list || !same_well(&w, &list[n_list - 1].w)) {
            if ((rc = well_sampler_make(&w, &list[n_list])) != TH_OK) {
                rc = th__fail(rc, "unit %zu: %s", i, th_last_error());
                break;
            }
            n_list++;
        }
        which[i] = n_list - 1;
    }
    /* Trajectories in parallel: each unit's draw depends on its stream and
     * index alone. The first failure in unit order is reported. */
    int *bad = rc == TH_OK ? th__calloc(B, sizeof(int)) : NULL;
    if (rc == TH_OK && !bad) rc = th__fail(TH_ENOMEM, "out of memory for %zu trajectories", B);
    if (rc == TH_OK) {
#pragma omp parallel for schedule(dynamic, 4) if (B * n >= 4096)
        for (size_t k = 0; k < B; k++) {
            for (size_t i = 0; i < n && !bad[k]; i++) {
                if (clamped && clamped[i]) continue;
                double x = 0;
                if (well_draw(&list[which[i]], s->seed, s->stream[k], i, &x) != TH_OK)
                    bad[k] = (int)(i + 1);
                else
                    th_ptr_set(s->x, s->dtype, k * n + i, x);
            }
        }
        for (size_t k = 0; k < B && rc == TH_OK; k++)
            if (bad[k])
                rc = th__fail(TH_EDIVERGED, "trajectory %zu, unit %d: no proposal of the exact "
                              "draw was accepted in %zu tries", k, bad[k] - 1, MAX_PROPOSALS);
    }
    th__free(bad);
    th__free(list);
    th__free(which);
    return rc;
}

/* ------------------------------------------ the Euler-Maruyama density */

/* The chain x' = x - mu dt U'(x) + sigma xi, sigma = sqrt(2 mu kT dt), on a
 * grid y_i = lo + i h, as a Markov chain between grid points: from x_j it
 * moves to y_i with probability P_ji proportional to
 * N(y_i; x_j - mu dt U'(x_j), sigma^2), the trapezoid rule on the exact
 * Gaussian transition, whose integrand spans 5 grid spacings (error far
 * below rounding). Each row is normalised to sum 1; the mass a row loses
 * off the grid before that is checked to be negligible where the density
 * lives. P is banded: |i - j| <= band. */
typedef struct em_grid {
    size_t N, band, width;  /* width = 2 band + 1 entries a row */
    double lo, h;
    double *P;              /* (N, width): P_ji at P[j width + (i - j + band)] */
    double leak;            /* the largest mass a row lost off the grid */
} em_grid;

static double *em_at(em_grid *g, size_t j, size_t i)
{
    return &g->P[j * g->width + (i + g->band - j)];
}

static int em_grid_make(const th_well *w, double mu, double dt, em_grid *g)
{
    well_shape sh;
    int rc = well_shape_make(w, &sh);
    if (rc != TH_OK) return rc;
    const double sigma = sqrt(2 * mu * w->kT * dt);
    const double pad = EM_KERNEL_SDS * sigma + 0.25 * (sh.hi - sh.lo);
    g->lo = sh.lo - pad;
    const double hi = sh.hi + pad;
    g->h = EM_SPACING * sigma;
    if ((hi - g->lo) / g->h > EM_MAX_GRID)
        return th__fail(TH_EINVAL, "dt = %g: the step's noise (%g) is too small for a grid "
                        "over the well (at most %d points); take a larger dt", dt, sigma,
                        EM_MAX_GRID);
    g->N = (size_t)ceil((hi - g->lo) / g->h) + 1;
    double drift = 0;
    for (size_t j = 0; j < g->N; j++)
        drift = fmax(drift, fabs(mu * dt * well_du(w, g->lo + (double)j * g->h)));
    g->band = (size_t)ceil((drift + EM_KERNEL_SDS * sigma) / g->h) + 1;
    if (g->band >= g->N) g->band = g->N - 1;
    g->width = 2 * g->band + 1;
    g->P = th__calloc(g->width * g->N, sizeof(double));
    if (!g->P) return th__fail(TH_ENOMEM, "out of memory for a grid of %zu points", g->N);
    g->leak = 0;
    const double norm = g->h / (sigma * 2.5066282746310002);
    for (size_t j = 0; j < g->N; j++) {
        const double xj = g->lo + (double)j * g->h;
        const double mean = xj - mu * dt * well_du(w, xj);
        const size_t i0 = j > g->band ? j - g->band : 0;
        const size_t i1 = j + g->band < g->N ? j + g->band : g->N - 1;
        double sum = 0;
        for (size_t i = i0; i <= i1; i++) {
            const double z = (g->lo + (double)i * g->h - mean) / sigma;
            sum += *em_at(g, j, i) = norm * exp(-0.5 * z * z);
        }
        /* only rows inside the well's range matter for the leak */
        if (xj >= sh.lo && xj <= sh.hi) g->leak = fmax(g->leak, fabs(1 - sum));
        if (sum > 0)
            for (size_t i = i0; i <= i1; i++) *em_at(g, j, i) /= sum;
    }
    if (g->leak > EM_MAX_LEAK) {
        th__free(g->P);
        g->P = NULL;
        return th__fail(TH_EDIVERGED, "dt = %g: the Euler-Maruyama chain leaves the well's "
                        "range in one step (mass %g lost); dt is too large for these wells",
                        dt, g->leak);
    }
    return TH_OK;
}

/* out_i = sum_j p_j P_ji: one step of the density (as masses on the grid). */
static void em_step(em_grid *g, const double *p, double *out)
{
    memset(out, 0, g->N * sizeof(double));
    for (size_t j = 0; j < g->N; j++) {
        const size_t i0 = j > g->band ? j - g->band : 0;
        const size_t i1 = j + g->band < g->N ? j + g->band : g->N - 1;
        const double *row = em_at(g, j, i0);
        for (size_t i = i0; i <= i1; i++) out[i] += p[j] * row[i - i0];
    }
}

/* The stationary masses by the GTH algorithm (Grassmann, Taksar and Heyman,
 * Oper. Res. 33, 1107 (1985)): the states are eliminated from the last
 * down, each time folding its transitions into the others (no
 * subtractions, so every entry keeps its relative accuracy), then the
 * masses are built up from the first. Elimination stays inside the band,
 * so the work is N band^2. P is overwritten. */
static int em_stationary(em_grid *g, double *p)
{
    const size_t N = g->N, band = g->band;
    for (size_t k = N - 1; k >= 1; k--) {
        const size_t lo = k > band ? k - band : 0;
        double s = 0;
        for (size_t j = lo; j < k; j++) s += *em_at(g, k, j);
        if (!(s > 0))
            return th__fail(TH_EDIVERGED, "the Euler-Maruyama chain on the grid never moves "
                            "down from point %zu of %zu: dt is too large for these wells", k, N);
        for (size_t i = lo; i < k; i++) {
            double *pik = em_at(g, i, k);
            *pik /= s;
            if (*pik == 0) continue;
            for (size_t j = lo; j < k; j++) {
                /* both |i - j| and the fill stay inside the band */
                *em_at(g, i, j) += *pik * *em_at(g, k, j);
            }
        }
    }
    p[0] = 1;
    for (size_t j = 1; j < N; j++) {
        const size_t lo = j > band ? j - band : 0;
        double acc = 0;
        for (size_t i = lo; i < j; i++) acc += p[i] * *em_at(g, i, j);
        p[j] = acc;
        if (acc > 1e250) /* the tails start far below the peak: rescale */
            for (size_t i = 0; i <= j; i++) p[i] *= 1e-250;
    }
    return TH_OK;
}

int th_well_em_moments(const th_well *w, double mu, double dt, size_t steps, double moments[4])
{
    TH_ASSERT(w != NULL && moments != NULL);
    if (!(mu > 0) || !isfinite(mu))
        return th__fail(TH_EINVAL, "mu = %g: expected a finite mobility > 0", mu);
    if (!(dt > 0) || !isfinite(dt))
        return th__fail(TH_EINVAL, "dt = %g: expected a finite time step > 0", dt);
    em_grid g = {0};
    int rc = em_grid_make(w, mu, dt, &g);
    if (rc != TH_OK) return rc;
    double *p = th__alloc(g.N * sizeof(double)), *q = th__alloc(g.N * sizeof(double));
    if (!p || !q) {
        rc = th__fail(TH_ENOMEM, "out of memory for a grid of %zu points", g.N);
        goto done;
    }
    if (steps == 0) {
        if ((rc = em_stationary(&g, p)) != TH_OK) goto done;
    } else {
        /* The first step from x = 0 is exactly N(-mu dt b, sigma^2); then
         * steps - 1 applications of the kernel. */
        const double sigma = sqrt(2 * mu * w->kT * dt), mean = -mu * dt * w->b;
        for (size_t i = 0; i < g.N; i++) {
            const double z = (g.lo + (double)i * g.h - mean) / sigma;
            p[i] = exp(-0.5 * z * z);
        }
        for (size_t t = 1; t < steps; t++) {
            em_step(&g, p, q);
            double *tmp = p;
            p = q;
            q = tmp;
        }
    }
    double acc[5] = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < g.N; i++) {
        const double y = g.lo + (double)i * g.h;
        double yp = 1;
        for (int k = 0; k < 5; k++, yp *= y) acc[k] += p[i] * yp;
    }
    /* the mass at the grid's two ends must be nothing */
    if (!(acc[0] > 0) || fabs(p[0]) + fabs(p[g.N - 1]) > 1e-14 * acc[0]) {
        rc = th__fail(TH_EDIVERGED, "dt = %g: the Euler-Maruyama density reaches the edge of its "
                      "grid; dt is too large for these wells", dt);
        goto done;
    }
    for (int k = 0; k < 4; k++) moments[k] = acc[k + 1] / acc[0];
done:
    th__free(p);
    th__free(q);
    th__free(g.P);
    return rc;
}
