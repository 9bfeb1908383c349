/* tla.c - thermodynamic linear algebra on a simulated SPU (Aifer et al.
 * 2024; Melanson et al., Nat. Commun. 2025; science.md section 5).
 *
 * Every algorithm is one protocol on the hardware: start from rest (z = 0),
 * let the chains equilibrate for the burn-in, then record the readout x
 * every sampling interval for the averaging time, and read the answer off
 * the time averages of x and x x^T. The error estimate is by batch means:
 * the averaging window is cut into consecutive batches (all chains
 * together), each batch gives its own estimate, and the standard error is
 * their standard deviation over sqrt(batches). Batches much longer than the
 * correlation time tau are nearly independent, so this error is honest
 * when time / batches >> tau (the default batches = 16 asks for time >> 16
 * tau); the estimate itself needs no such assumption.
 *
 * Noise: chain k of a run with stream base q draws the n normals of its
 * step t (sub-steps of Euler included) from stream q + k of the protocol's
 * seed, blocks t ceil(n/4) onwards, so results never depend on threads. */
#include "linalg/linalg_internal.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

/* Rows of readout states collected before one rank-k update of the second
 * moment. */
#define FLUSH_ROWS 256
/* A run longer than this many recorded states per chain is surely a typo. */
#define MAX_SAMPLES_PER_CHAIN 1e10
/* Streams: copy << 36 | lambda node << 20 | chain. */
#define COPY_SHIFT 36
#define NODE_SHIFT 20
#define MAX_CHAINS ((size_t)1 << NODE_SHIFT)
#define MAX_NODES 4096
/* Normals per step from which the draw is split over threads. */
#define NOISE_PARALLEL_MIN 16384

th_tla_protocol th_tla_protocol_default(void)
{
    th_tla_protocol p;
    memset(&p, 0, sizeof p);
    p.time = 0.0;
    p.chains = 4;
    p.batches = 16;
    p.integrator = TH_TLA_EXACT;
    p.seed = 1;
    p.lambda_nodes = 12;
    return p;
}

void th_tla_result_free(th_tla_result *r)
{
    if (!r) return;
    th__free(r->estimate);
    th__free(r->std_error);
    r->estimate = r->std_error = NULL;
}

static int result_init(th_tla_result *r, size_t rows, size_t cols)
{
    memset(r, 0, sizeof *r);
    r->rows = rows;
    r->cols = cols;
    r->estimate = th__calloc(rows * cols, sizeof *r->estimate);
    r->std_error = th__calloc(rows * cols, sizeof *r->std_error);
    if (!r->estimate || !r->std_error) {
        th_tla_result_free(r);
        return th__fail(TH_ENOMEM, "result of %zu x %zu: out of memory", rows, cols);
    }
    return TH_OK;
}

static void result_finish(th_tla_result *r)
{
    double e2 = 0.0;
    for (size_t k = 0; k < r->rows * r->cols; k++) e2 += r->std_error[k] * r->std_error[k];
    r->error = sqrt(e2);
}

/* ---------------------------------------------------------- the runner */

/* A linear functional of one batch's moments: mean (d) = <x>, second
 * (d, d) = <x x^T>; writes k values to out. */
typedef void (*batch_fn)(const double *mean, const double *second, size_t d, double *out,
                         const void *ctx);

typedef struct run_spec {
    batch_fn fn;
    const void *ctx;
    size_t k;                 /* values per batch */
    uint64_t stream_base;
    const double *shift;      /* (d) added to recorded samples after scaling; NULL = 0 */
    size_t n_samples;         /* states to hand out (samples) */
    double *samples;          /* (n_samples, d) x / sqrt(cov_scale) + shift */
} run_spec;

typedef struct resolved {
    double h, burn, dt;
    size_t chains, batches, per_batch, burn_steps, substeps;
} resolved;

static int resolve(const th_spu *s, const th_tla_protocol *p, resolved *r)
{
    if (!(p->time > 0.0 && isfinite(p->time)))
        return th__fail(TH_EINVAL, "protocol time = %g: expected a finite averaging time > 0 "
                        "(%s)", p->time, s->params.model == TH_SPU_RLC ? "seconds" :
                        "units of 1/gamma");
    const double fields[3] = {p->burn_in, p->sample_interval, p->dt};
    const char *names[3] = {"burn_in", "sample_interval", "dt"};
    for (int k = 0; k < 3; k++)
        if (!(fields[k] >= 0.0 && isfinite(fields[k])))
            return th__fail(TH_EINVAL, "protocol %s = %g: expected >= 0 (0 = default)",
                            names[k], fields[k]);
    r->h = p->sample_interval > 0.0 ? p->sample_interval : 0.5 * s->tau;
    r->burn = p->burn_in > 0.0 ? p->burn_in : 20.0 * s->tau;
    r->chains = p->chains ? p->chains : 4;
    r->batches = p->batches ? p->batches : 16;
    if (r->chains > MAX_CHAINS)
        return th__fail(TH_EINVAL, "protocol chains = %zu: expected at most %zu", r->chains,
                        MAX_CHAINS);
    if (r->batches < 2)
        return th__fail(TH_EINVAL, "protocol batches = %zu: expected >= 2 for an error "
                        "estimate", r->batches);
    double per_chain = ceil(p->time / r->h);
    if (per_chain > MAX_SAMPLES_PER_CHAIN)
        return th__fail(TH_EINVAL, "protocol: time %g / interval %g = %g states per chain: "
                        "expected at most %g", p->time, r->h, per_chain, MAX_SAMPLES_PER_CHAIN);
    size_t n = (size_t)per_chain;
    r->per_batch = (n + r->batches - 1) / r->batches;
    r->burn_steps = (size_t)ceil(r->burn / r->h);
    r->substeps = 1;
    r->dt = r->h;
    if (p->integrator == TH_TLA_EULER) {
        double dt = p->dt > 0.0 ? p->dt : fmin(r->h, s->tau_fast) / 20.0;
        double sub = ceil(r->h / dt);
        if (sub > 1e7)
            return th__fail(TH_EINVAL, "protocol: %g Euler steps per sample interval: expected "
                            "a larger dt", sub);
        r->substeps = (size_t)sub;
        r->dt = r->h / (double)r->substeps;
    } else if (p->integrator != TH_TLA_EXACT) {
        return th__fail(TH_EINVAL, "protocol integrator = %d: expected TH_TLA_EXACT or "
                        "TH_TLA_EULER", (int)p->integrator);
    }
    return TH_OK;
}

typedef struct workspace {
    double *F, *Lf, *minf;        /* exact: (n, n), (n, n), (n) */
    double *Z, *Znew, *Xi;        /* (chains, n) */
    double *X;                    /* (chains, d) */
    double *buf;                  /* (FLUSH_ROWS + chains, d) */
    double *sum_x, *sum_xx;       /* (d), (d, d) */
    double *mean, *second;        /* (d), (d, d) */
    double *val, *avg, *m2;       /* (k) */
} workspace;

static void workspace_free(workspace *w)
{
    double **all[] = {&w->F, &w->Lf, &w->minf, &w->Z, &w->Znew, &w->Xi, &w->X, &w->buf,
                      &w->sum_x, &w->sum_xx, &w->mean, &w->second, &w->val, &w->avg, &w->m2};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        th__free(*all[k]);
        *all[k] = NULL;
    }
}

/* The exact transition over h: z <- minf + F (z - minf) + Lf xi with
 * minf = M^-1 c. */
static int prepare_exact(const th_spu *s, double h, workspace *w)
{
    const size_t n = s->n;
    double *Q = th__alloc(n * n * sizeof *Q), *Sig = th__alloc(n * n * sizeof *Sig);
    double *Mc = th__alloc(n * n * sizeof *Mc);
    lapack_int *piv = th__alloc(n * sizeof *piv);
    int rc = TH_OK;
    if (!Q || !Sig || !Mc || !piv) {
        rc = th__fail(TH_ENOMEM, "exact transition of size %zu: out of memory", n);
        goto done;
    }
    th__gemm_f64(TH__N, TH__T, (int)n, (int)n, (int)n, 1.0, s->G,
                (int)n, s->G, (int)n, 0.0, Q, (int)n);
    th__symmetrise(Q, n);
    if ((rc = th_ou_transition(s->M, Q, n, h, TH_OU_LYAPUNOV, w->F, Sig)) != TH_OK) goto done;
    if ((rc = th__psd_factor(Sig, n, w->Lf)) != TH_OK) goto done;
    memcpy(Mc, s->M, n * n * sizeof *Mc);
    memcpy(w->minf, s->c, n * sizeof *w->minf);
    if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, 1, Mc, (lapack_int)n, piv, w->minf, 1) != 0)
        rc = th__fail(TH_EINVAL, "exact transition: the drift is singular");
done:
    th__free(Q);
    th__free(Sig);
    th__free(Mc);
    th__free(piv);
    return rc;
}

/* Draws the noise of step t for every chain into Xi (chains, n). */
static void draw_noise(uint64_t seed, uint64_t stream_base, uint64_t t, size_t chains, size_t n,
                       double *Xi)
{
    const uint64_t blocks = (n + 3) / 4;
    /* Threads only pay off for long draws: a parallel region per short
     * step costs more than the draw, and far more on a loaded machine. */
    #pragma omp parallel for schedule(static) if (chains * n >= NOISE_PARALLEL_MIN)
    for (size_t k = 0; k < chains; k++)
        th_normal_fill_f64(seed, stream_base + k, t * blocks, Xi + k * n, n);
}

/* One sampling interval for all chains; t counts the steps drawn so far. */
static int advance(const th_spu *s, const resolved *r, const th_tla_protocol *p,
                   uint64_t stream_base, workspace *w, uint64_t *t)
{
    const size_t n = s->n, B = r->chains;
    if (p->integrator == TH_TLA_EXACT) {
        draw_noise(p->seed, stream_base, (*t)++, B, n, w->Xi);
        for (size_t k = 0; k < B; k++)
            for (size_t i = 0; i < n; i++) w->Z[k * n + i] -= w->minf[i];
        /* Znew = (Z - minf) F^T + Xi Lf^T, then + minf. */
        th__gemm_f64(TH__N, TH__T, (int)B, (int)n, (int)n, 1.0, w->Z,
                    (int)n, w->F, (int)n, 0.0, w->Znew, (int)n);
        th__gemm_f64(TH__N, TH__T, (int)B, (int)n, (int)n, 1.0, w->Xi,
                    (int)n, w->Lf, (int)n, 1.0, w->Znew, (int)n);
        for (size_t k = 0; k < B; k++)
            for (size_t i = 0; i < n; i++) w->Z[k * n + i] = w->Znew[k * n + i] + w->minf[i];
    } else {
        const double dt = r->dt, sq = sqrt(r->dt);
        for (size_t q = 0; q < r->substeps; q++) {
            draw_noise(p->seed, stream_base, (*t)++, B, n, w->Xi);
            /* Znew = Z - dt (Z M^T - c) + sqrt(dt) Xi G^T. */
            memcpy(w->Znew, w->Z, B * n * sizeof *w->Z);
            for (size_t k = 0; k < B; k++)
                for (size_t i = 0; i < n; i++) w->Znew[k * n + i] += dt * s->c[i];
            th__gemm_f64(TH__N, TH__T, (int)B, (int)n, (int)n, -dt,
                        w->Z, (int)n, s->M, (int)n, 1.0, w->Znew, (int)n);
            th__gemm_f64(TH__N, TH__T, (int)B, (int)n, (int)n, sq,
                        w->Xi, (int)n, s->G, (int)n, 1.0, w->Znew, (int)n);
            double *swap = w->Z;
            w->Z = w->Znew;
            w->Znew = swap;
        }
    }
    for (size_t i = 0; i < B * n; i++)
        if (!isfinite(w->Z[i]))
            return th__fail(TH_EDIVERGED, "the SPU simulation diverged at step %llu (chain %zu, "
                            "coordinate %zu): the Euler step dt = %g is too large for the "
                            "fastest time %g", (unsigned long long)*t, i / n, i % n, r->dt,
                            s->tau_fast);
    return TH_OK;
}

static void flush(workspace *w, size_t rows, size_t d)
{
    if (rows == 0) return;
    th__syrk_f64(TH__T, d, rows, 1.0, w->buf, d, 1.0, w->sum_xx, d);
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < d; i++) w->sum_x[i] += w->buf[r * d + i];
}

/* Runs the protocol on s; est, se: (spec->k); *sim_time, *states. */
static int run_moments(const th_spu *s, const th_tla_protocol *p, const run_spec *spec,
                       double *est, double *se, double *sim_time, size_t *states)
{
    resolved r;
    int rc = resolve(s, p, &r);
    if (rc != TH_OK) return rc;
    const size_t n = s->n, d = s->d, B = r.chains, k = spec->k;
    workspace w;
    memset(&w, 0, sizeof w);
    if (p->integrator == TH_TLA_EXACT) {
        w.F = th__alloc(n * n * sizeof *w.F);
        w.Lf = th__alloc(n * n * sizeof *w.Lf);
        w.minf = th__alloc(n * sizeof *w.minf);
    }
    w.Z = th__calloc(B * n, sizeof *w.Z);
    w.Znew = th__alloc(B * n * sizeof *w.Znew);
    w.Xi = th__alloc(B * n * sizeof *w.Xi);
    w.X = th__alloc(B * d * sizeof *w.X);
    w.buf = th__alloc((FLUSH_ROWS + B) * d * sizeof *w.buf);
    w.sum_x = th__alloc(d * sizeof *w.sum_x);
    w.sum_xx = th__alloc(d * d * sizeof *w.sum_xx);
    w.mean = th__alloc(d * sizeof *w.mean);
    w.second = th__alloc(d * d * sizeof *w.second);
    w.val = th__alloc(k * sizeof *w.val);
    w.avg = th__calloc(k, sizeof *w.avg);
    w.m2 = th__calloc(k, sizeof *w.m2);
    if (!w.Z || !w.Znew || !w.Xi || !w.X || !w.buf || !w.sum_x || !w.sum_xx || !w.mean ||
        !w.second || !w.val || !w.avg || !w.m2 ||
        (p->integrator == TH_TLA_EXACT && (!w.F || !w.Lf || !w.minf))) {
        rc = th__fail(TH_ENOMEM, "SPU run of %zu chains x %zu states: out of memory", B, n);
        goto done;
    }
    if (p->integrator == TH_TLA_EXACT && (rc = prepare_exact(s, r.h, &w)) != TH_OK) goto done;

    uint64_t t = 0;
    for (size_t q = 0; q < r.burn_steps; q++)
        if ((rc = advance(s, &r, p, spec->stream_base, &w, &t)) != TH_OK) goto done;

    const double inv_sqrt_scale = 1.0 / sqrt(s->cov_scale);
    size_t handed = 0;
    for (size_t bat = 0; bat < r.batches; bat++) {
        memset(w.sum_x, 0, d * sizeof *w.sum_x);
        memset(w.sum_xx, 0, d * d * sizeof *w.sum_xx);
        size_t rows = 0;
        for (size_t q = 0; q < r.per_batch; q++) {
            if ((rc = advance(s, &r, p, spec->stream_base, &w, &t)) != TH_OK) goto done;
            /* X = Z readout^T, straight into the buffer. */
            th__gemm_f64(TH__N, TH__T, (int)B, (int)d, (int)n, 1.0,
                        w.Z, (int)n, s->readout, (int)n, 0.0, w.buf + rows * d, (int)d);
            for (size_t c = 0; c < B && handed < spec->n_samples; c++, handed++)
                for (size_t i = 0; i < d; i++)
                    spec->samples[handed * d + i] = w.buf[(rows + c) * d + i] * inv_sqrt_scale +
                                                    (spec->shift ? spec->shift[i] : 0.0);
            rows += B;
            if (rows >= FLUSH_ROWS) {
                flush(&w, rows, d);
                rows = 0;
            }
        }
        flush(&w, rows, d);
        const double inv = 1.0 / ((double)r.per_batch * (double)B);
        for (size_t i = 0; i < d; i++) {
            w.mean[i] = w.sum_x[i] * inv;
            for (size_t j = i; j < d; j++)
                w.second[i * d + j] = w.second[j * d + i] = w.sum_xx[i * d + j] * inv;
        }
        spec->fn(w.mean, w.second, d, w.val, spec->ctx);
        /* Welford's running mean and sum of squares over batches. */
        for (size_t j = 0; j < k; j++) {
            double delta = w.val[j] - w.avg[j];
            w.avg[j] += delta / (double)(bat + 1);
            w.m2[j] += delta * (w.val[j] - w.avg[j]);
        }
    }
    for (size_t j = 0; j < k; j++) {
        est[j] = w.avg[j];
        se[j] = sqrt(w.m2[j] / (double)(r.batches - 1) / (double)r.batches);
        if (!isfinite(est[j]) || !isfinite(se[j])) {
            rc = th__fail(TH_EDIVERGED, "the SPU run gave a non-finite estimate (entry %zu)", j);
            goto done;
        }
    }
    *sim_time = (double)B * (double)(r.burn_steps + r.batches * r.per_batch) * r.h;
    *states = B * r.batches * r.per_batch;
done:
    workspace_free(&w);
    return rc;
}

/* ------------------------------------------------------ the estimators */

typedef struct scaled_ctx {
    double inv_scale;
    const double *vec;    /* (d) solve: b */
    const double *mat;    /* (d, d) logdet: A - A0 */
} scaled_ctx;

static void fn_second(const double *mean, const double *second, size_t d, double *out,
                      const void *ctx)
{
    (void)mean;
    const scaled_ctx *c = ctx;
    for (size_t i = 0; i < d * d; i++) out[i] = second[i] * c->inv_scale;
}

static void fn_mean(const double *mean, const double *second, size_t d, double *out,
                    const void *ctx)
{
    (void)second;
    (void)ctx;
    memcpy(out, mean, d * sizeof *out);
}

static void fn_second_times_b(const double *mean, const double *second, size_t d, double *out,
                              const void *ctx)
{
    (void)mean;
    const scaled_ctx *c = ctx;
    for (size_t i = 0; i < d; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++) s += second[i * d + j] * c->vec[j];
        out[i] = s * c->inv_scale;
    }
}

static void fn_trace(const double *mean, const double *second, size_t d, double *out,
                     const void *ctx)
{
    (void)mean;
    const scaled_ctx *c = ctx;
    double s = 0.0;
    for (size_t i = 0; i < d * d; i++) s += c->mat[i] * second[i];
    out[0] = s * c->inv_scale;
}

static uint64_t copy_streams(const th_spu *s)
{
    return s->params.copy << COPY_SHIFT;
}

/* Runs the protocol into r's estimate and errors, then finishes r (its
 * norms); on failure r is freed. The tail every algorithm shares. */
static int run_into_result(const th_spu *s, const th_tla_protocol *p, run_spec *spec,
                           th_tla_result *r)
{
    int rc = run_moments(s, p, spec, r->estimate, r->std_error, &r->sim_time, &r->samples);
    if (rc != TH_OK) {
        th_tla_result_free(r);
        return rc;
    }
    result_finish(r);
    return TH_OK;
}

int th_tla_sample(const th_spu *s, const th_tla_protocol *p, const double *m,
                  size_t n_samples, double *samples, th_tla_result *r)
{
    TH_ASSERT(s && p && r && (samples || n_samples == 0));
    memset(r, 0, sizeof *r);
    if (s->general_drift)
        return th__fail(TH_EINVAL, "sample: this SPU was programmed for the Lyapunov "
                        "equation; program it with the precision matrix (th_spu_alloc)");
    if (s->b && s->params.model == TH_SPU_OVERDAMPED)
        return th__fail(TH_EINVAL, "sample: program the SPU without b and pass the mean m");
    int rc = result_init(r, s->d, s->d);
    if (rc != TH_OK) return rc;
    scaled_ctx c = {1.0 / s->cov_scale, NULL, NULL};
    run_spec spec = {fn_second, &c, s->d * s->d, copy_streams(s), m, n_samples, samples};
    rc = run_moments(s, p, &spec, r->estimate, r->std_error, &r->sim_time, &r->samples);
    if (rc == TH_OK && r->samples < n_samples) {
        rc = th__fail(TH_EINVAL, "sample: the run recorded %zu states, fewer than the %zu "
                      "samples asked for: raise the time", r->samples, n_samples);
    }
    if (rc != TH_OK) {
        th_tla_result_free(r);
        return rc;
    }
    result_finish(r);
    return TH_OK;
}

int th_tla_solve(const th_spu *s, const th_tla_protocol *p, th_tla_result *r)
{
    TH_ASSERT(s && p && r);
    memset(r, 0, sizeof *r);
    if (!s->b || s->general_drift)
        return th__fail(TH_EINVAL, "solve: the SPU was programmed without a right-hand side b");
    int rc = result_init(r, s->d, 1);
    if (rc != TH_OK) return rc;
    scaled_ctx c = {1.0 / s->cov_scale, s->b, NULL};
    run_spec spec = {s->params.model == TH_SPU_OVERDAMPED ? fn_mean : fn_second_times_b, &c,
                     s->d, copy_streams(s), NULL, 0, NULL};
    return run_into_result(s, p, &spec, r);
}

int th_tla_inverse(const th_spu *s, const th_tla_protocol *p, th_tla_result *r)
{
    TH_ASSERT(s && p && r);
    memset(r, 0, sizeof *r);
    if (s->general_drift)
        return th__fail(TH_EINVAL, "inverse: this SPU was programmed for the Lyapunov equation");
    if (s->b && s->params.model == TH_SPU_OVERDAMPED)
        return th__fail(TH_EINVAL, "inverse: program the overdamped SPU without b (its mean "
                        "would bias <x x^T>)");
    int rc = result_init(r, s->d, s->d);
    if (rc != TH_OK) return rc;
    scaled_ctx c = {1.0 / s->cov_scale, NULL, NULL};
    run_spec spec = {fn_second, &c, s->d * s->d, copy_streams(s), NULL, 0, NULL};
    return run_into_result(s, p, &spec, r);
}

int th_tla_lyap(const th_spu *s, const th_tla_protocol *p, th_tla_result *r)
{
    TH_ASSERT(s && p && r);
    memset(r, 0, sizeof *r);
    if (!s->general_drift)
        return th__fail(TH_EINVAL, "lyap: program the SPU with th_spu_alloc_lyap(A, D)");
    int rc = result_init(r, s->d, s->d);
    if (rc != TH_OK) return rc;
    scaled_ctx c = {1.0, NULL, NULL};
    run_spec spec = {fn_second, &c, s->d * s->d, copy_streams(s), NULL, 0, NULL};
    return run_into_result(s, p, &spec, r);
}

/* Thermodynamic integration rather than Jarzynski or Crooks: the
 * equilibrium average at each lambda is an unbiased time average with an
 * honest batch-means error, and Gauss-Legendre in lambda converges
 * geometrically because <x^T (A - A0) x>_lambda = cov_scale tr(A(lambda)^-1
 * (A - A0)) is analytic in lambda on [0, 1]. Jarzynski's exponential work
 * average is biased for a finite number of switches and its variance grows
 * like e^{dissipated work / kT}, which for a d-dimensional switch grows with
 * d; a switching protocol slow enough to avoid that is an equilibrium
 * average in disguise. A0 = a0 I with a0 = tr(A) / d (the mean
 * eigenvalue) puts the poles of the integrand, at lambda = a0 / (a0 - mu_k),
 * away from [0, 1] on both sides. */
int th_tla_logdet(const th_spu_params *hw, const double *A, size_t d,
                  const th_tla_protocol *p, th_tla_result *r)
{
    TH_ASSERT(hw && A && p && r && d > 0);
    memset(r, 0, sizeof *r);
    const size_t nodes = p->lambda_nodes ? p->lambda_nodes : 12;
    if (nodes > MAX_NODES)
        return th__fail(TH_EINVAL, "protocol lambda_nodes = %zu: expected at most %d", nodes,
                        MAX_NODES);
    double a0 = p->a0;
    if (a0 == 0.0) {
        for (size_t i = 0; i < d; i++) a0 += A[i * d + i];
        a0 /= (double)d;
    }
    if (!(a0 > 0.0 && isfinite(a0)))
        return th__fail(TH_EINVAL, "logdet: a0 = %g: expected a finite reference a0 > 0", a0);
    int rc = result_init(r, 1, 1);
    if (rc != TH_OK) return rc;
    double *x = th__alloc(nodes * sizeof *x), *wt = th__alloc(nodes * sizeof *wt);
    double *Al = th__alloc(d * d * sizeof *Al), *diff = th__alloc(d * d * sizeof *diff);
    double *u = th__alloc(d * sizeof *u);
    th_spu_mapping mapping = TH_SPU_DIRECT;
    if (!x || !wt || !Al || !diff || !u) {
        rc = th__fail(TH_ENOMEM, "logdet of size %zu: out of memory", d);
        goto done;
    }
    if ((rc = th__gauss_legendre(nodes, x, wt)) != TH_OK) goto done;
    if (hw->model == TH_SPU_RLC && (rc = th_spu_realise(A, d, &mapping, u, NULL)) != TH_OK)
        goto done;
    for (size_t i = 0; i < d * d; i++) diff[i] = A[i];
    for (size_t i = 0; i < d; i++) diff[i * d + i] -= a0;
    double total = (double)d * log(a0), var = 0.0;
    for (size_t j = 0; j < nodes; j++) {
        for (size_t i = 0; i < d * d; i++) Al[i] = x[j] * A[i];
        for (size_t i = 0; i < d; i++) Al[i * d + i] += (1.0 - x[j]) * a0;
        th_spu *s = th__spu_alloc_scaled(hw, Al, NULL, d,
                                         hw->model == TH_SPU_RLC ? u : NULL, mapping);
        if (!s) {
            rc = TH_EINVAL;
            goto done;
        }
        scaled_ctx c = {1.0 / s->cov_scale, NULL, diff};
        run_spec spec = {fn_trace, &c, 1, copy_streams(s) + ((uint64_t)j << NODE_SHIFT), NULL, 0,
                         NULL};
        double est, se, tsim;
        size_t states;
        rc = run_moments(s, p, &spec, &est, &se, &tsim, &states);
        th_spu_free(s);
        if (rc != TH_OK) goto done;
        total += wt[j] * est;
        var += wt[j] * wt[j] * se * se;
        r->sim_time += tsim;
        r->samples += states;
    }
    r->estimate[0] = total;
    r->std_error[0] = sqrt(var);
    result_finish(r);
done:
    th__free(x);
    th__free(wt);
    th__free(Al);
    th__free(diff);
    th__free(u);
    if (rc != TH_OK) th_tla_result_free(r);
    return rc;
}

int th_tla_merge(const th_tla_result *runs, size_t k, th_tla_result *out)
{
    TH_ASSERT(runs && out);
    memset(out, 0, sizeof *out);
    if (k == 0) return th__fail(TH_EINVAL, "merge of 0 runs: expected at least 1");
    for (size_t c = 1; c < k; c++)
        if (runs[c].rows != runs[0].rows || runs[c].cols != runs[0].cols)
            return th__fail(TH_EINVAL, "merge: run %zu is %zu x %zu, run 0 is %zu x %zu", c,
                            runs[c].rows, runs[c].cols, runs[0].rows, runs[0].cols);
    int rc = result_init(out, runs[0].rows, runs[0].cols);
    if (rc != TH_OK) return rc;
    const double K = (double)k;
    for (size_t i = 0; i < out->rows * out->cols; i++) {
        double mean = 0.0, within = 0.0;
        for (size_t c = 0; c < k; c++) {
            mean += runs[c].estimate[i];
            within += runs[c].std_error[i] * runs[c].std_error[i];
        }
        mean /= K;
        within = within / (K * K);
        double between = 0.0;
        if (k > 1) {
            for (size_t c = 0; c < k; c++)
                between += (runs[c].estimate[i] - mean) * (runs[c].estimate[i] - mean);
            between /= (K - 1.0) * K;
        }
        out->estimate[i] = mean;
        out->std_error[i] = sqrt(fmax(within, between));
    }
    for (size_t c = 0; c < k; c++) {
        out->sim_time += runs[c].sim_time;
        out->samples += runs[c].samples;
    }
    result_finish(out);
    return TH_OK;
}
