/* sweep.c - the error against time of a thermodynamic algorithm
 * (science.md section 5): one algorithm on the simulated SPU for a ladder of
 * averaging times, each point compared with LAPACK's direct answer and with
 * the hardware floor (the infinite-time answer of the imprecise board, from
 * a Lyapunov solve), and the table and chart of the result. */
#include "linalg/linalg_internal.h"
#include "io/io_internal.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>
#include <time.h>

/* The default averaging time, in units of the SPU's slowest relaxation
 * time tau. */
#define DEFAULT_TIME_TAU 10000.0
/* LAPACK's time is the best of this many calls after one that warms the
 * library up (its first call starts threads and touches pages, which would
 * be charged to an 8 x 8 solve). */
#define REF_REPEATS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

th_tla_sweep_opts th_tla_sweep_opts_default(void)
{
    th_tla_sweep_opts o;
    memset(&o, 0, sizeof o);
    o.hw = th_spu_params_default();
    o.protocol = th_tla_protocol_default();
    o.points = 6;
    o.copies = 1;
    o.seed = 1;
    return o;
}

/* ----------------------------------------------------------- references */

static int cholesky_inverse(const double *A, size_t d, double *out)
{
    memcpy(out, A, d * d * sizeof *out);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, out, (lapack_int)d) != 0) return -1;
    if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, out, (lapack_int)d) != 0) return -1;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) out[j * d + i] = out[i * d + j];
    return 0;
}

/* A Frobenius norm by BLAS's dnrm2 (scaled, so no overflow), the same
 * arithmetic the published error tables were computed with. */
static double frob(const double *a, size_t n)
{
    return cblas_dnrm2((int)n, a, 1);
}

static double rel_error(const th_tla_sweep *s, const double *est)
{
    double e = 0.0;
    for (size_t k = 0; k < s->ref_n; k++)
        e += (est[k] - s->reference[k]) * (est[k] - s->reference[k]);
    e = sqrt(e);
    return s->absolute ? e : e / frob(s->reference, s->ref_n);
}

static int reference_once(const th_tla_problem *pb, th_tla_sweep *s)
{
    const size_t d = pb->d;
    int bad = 0;
    double *W = NULL;
    switch (pb->alg) {
    case TH_TLA_SAMPLE:
        memcpy(s->reference, pb->A, d * d * sizeof *s->reference);
        bad = cholesky_inverse(pb->A, d, s->prog_);
        break;
    case TH_TLA_INVERSE:
        bad = cholesky_inverse(pb->A, d, s->reference);
        break;
    case TH_TLA_SOLVE:
    case TH_TLA_LOGDET:
        W = th__alloc(d * d * sizeof *W);
        if (!W) return th__fail(TH_ENOMEM, "LAPACK's reference for d = %zu: out of memory", d);
        memcpy(W, pb->A, d * d * sizeof *W);
        if (pb->alg == TH_TLA_SOLVE) {
            memcpy(s->reference, pb->b, d * sizeof *s->reference);
            bad = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, 1, W, (lapack_int)d,
                                s->reference, 1) != 0;
        } else {
            bad = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, W, (lapack_int)d) != 0;
            s->reference[0] = 0.0;
            for (size_t i = 0; i < d && !bad; i++) s->reference[0] += 2.0 * log(W[i * d + i]);
        }
        th__free(W);
        break;
    case TH_TLA_LYAP:
        return th_lyap_solve(pb->A, s->noise_, d, s->reference);
    }
    if (bad)
        return th__fail(TH_EINVAL, "%s: the matrix is not symmetric positive definite (LAPACK's "
                        "Cholesky factorisation failed)", pb->alg == TH_TLA_SAMPLE ?
                        "the covariance S" : "matrix A");
    return TH_OK;
}

static int reference(const th_tla_problem *pb, th_tla_sweep *s)
{
    int rc = reference_once(pb, s);
    s->lapack_wall = INFINITY;
    for (int k = 0; k < REF_REPEATS && rc == TH_OK; k++) {
        double t0 = now();
        rc = reference_once(pb, s);
        s->lapack_wall = fmin(s->lapack_wall, now() - t0);
    }
    return rc;
}

/* ------------------------------------------------------------- running */

static th_spu *program(const th_tla_sweep *s, const th_tla_problem *pb, const th_spu_params *hw)
{
    if (s->alg == TH_TLA_LYAP) return th_spu_alloc_lyap(pb->A, s->noise_, s->d);
    return th_spu_alloc(hw, s->prog_, s->alg == TH_TLA_SOLVE ? pb->b : NULL, s->d);
}

/* The infinite-time answer of one programmed copy, into out (ref_n). */
static int hardware_answer(const th_tla_sweep *sw, const th_tla_problem *pb, const th_spu *s,
                           double *out)
{
    const size_t d = sw->d;
    double *cov = th__alloc(d * d * sizeof *cov), *mean = th__alloc(d * sizeof *mean);
    int rc = cov && mean ? th_spu_stationary(s, mean, cov) : TH_ENOMEM;
    if (rc == TH_OK) {
        if (sw->alg == TH_TLA_SOLVE && s->params.model == TH_SPU_OVERDAMPED) {
            memcpy(out, mean, d * sizeof *out);
        } else if (sw->alg == TH_TLA_SOLVE) {
            for (size_t i = 0; i < d; i++) {
                double v = 0.0;
                for (size_t j = 0; j < d; j++) v += cov[i * d + j] * pb->b[j];
                out[i] = v / s->cov_scale;
            }
        } else {
            for (size_t k = 0; k < d * d; k++) out[k] = cov[k] / s->cov_scale;
        }
    }
    th__free(cov);
    th__free(mean);
    return rc;
}

/* The floor: error of the copies' merged infinite-time answer; -1 when not
 * computed (logdet with imprecise parts). */
static int hardware_floor(th_tla_sweep *s, const th_tla_problem *pb, const th_tla_sweep_opts *o)
{
    s->floor = 0.0;
    if (s->alg == TH_TLA_LYAP || (o->hw.bits == 0 && o->hw.mismatch == 0.0)) return TH_OK;
    if (s->alg == TH_TLA_LOGDET) {
        s->floor = -1.0;
        return TH_OK;
    }
    double *acc = th__calloc(s->ref_n, sizeof *acc), *one = th__alloc(s->ref_n * sizeof *one);
    int rc = acc && one ? TH_OK : th__fail(TH_ENOMEM, "hardware floor: out of memory");
    for (size_t c = 0; c < o->copies && rc == TH_OK; c++) {
        th_spu_params hw = o->hw;
        hw.copy = c;
        th_spu *spu = program(s, pb, &hw);
        if (!spu) {
            rc = TH_EINVAL;
            break;
        }
        rc = hardware_answer(s, pb, spu, one);
        th_spu_free(spu);
        for (size_t k = 0; k < s->ref_n && rc == TH_OK; k++) acc[k] += one[k] / (double)o->copies;
    }
    if (rc == TH_OK) s->floor = rel_error(s, acc);
    th__free(acc);
    th__free(one);
    return rc;
}

/* One point: the copies' runs of the algorithm, merged. samples (n, d) or
 * NULL, drawn by copy 0. */
static int run_point(const th_tla_sweep *s, const th_tla_problem *pb, const th_tla_sweep_opts *o,
                     double time, uint64_t seed, size_t n_samples, double *samples,
                     th_tla_result *out)
{
    th_tla_result *runs = calloc(o->copies, sizeof *runs);
    if (!runs) return th__fail(TH_ENOMEM, "%zu copies: out of memory", o->copies);
    int rc = TH_OK;
    size_t done = 0;
    for (size_t c = 0; c < o->copies && rc == TH_OK; c++) {
        th_spu_params hw = o->hw;
        hw.copy = c;
        th_tla_protocol pr = o->protocol;
        pr.time = time;
        pr.seed = seed;
        if (s->alg == TH_TLA_LOGDET) {
            rc = th_tla_logdet(&hw, pb->A, s->d, &pr, &runs[c]);
        } else {
            th_spu *spu = program(s, pb, &hw);
            if (!spu) {
                rc = TH_EINVAL;
                break;
            }
            switch (s->alg) {
            case TH_TLA_SAMPLE:
                rc = th_tla_sample(spu, &pr, pb->b, c == 0 ? n_samples : 0,
                                   c == 0 ? samples : NULL, &runs[c]);
                break;
            case TH_TLA_SOLVE: rc = th_tla_solve(spu, &pr, &runs[c]); break;
            case TH_TLA_INVERSE: rc = th_tla_inverse(spu, &pr, &runs[c]); break;
            default: rc = th_tla_lyap(spu, &pr, &runs[c]); break;
            }
            th_spu_free(spu);
        }
        if (rc == TH_OK) done++;
    }
    if (rc == TH_OK) rc = th_tla_merge(runs, done, out);
    for (size_t c = 0; c < done; c++) th_tla_result_free(&runs[c]);
    free(runs);
    return rc;
}

/* ------------------------------------------------------------- the sweep */

static int check(const th_tla_problem *pb, const th_tla_sweep_opts *o)
{
    TH_ASSERT(pb != NULL && o != NULL && pb->A != NULL);
    if ((unsigned)pb->alg > TH_TLA_LYAP)
        return th__fail(TH_EINVAL, "sweep algorithm %d: expected 0 (sample) to 4 (lyap)",
                        (int)pb->alg);
    if (pb->d == 0) return th__fail(TH_EINVAL, "sweep of a 0 x 0 matrix: expected d >= 1");
    if (pb->alg == TH_TLA_SOLVE && !pb->b)
        return th__fail(TH_EINVAL, "solve: no right-hand side b: expected a vector of %zu",
                        pb->d);
    if (o->points < 1 || o->points > TH_TLA_SWEEP_MAX_POINTS)
        return th__fail(TH_EINVAL, "sweep of %zu points: expected 1 to %d", o->points,
                        TH_TLA_SWEEP_MAX_POINTS);
    if (o->copies < 1 || o->copies > TH_TLA_SWEEP_MAX_COPIES)
        return th__fail(TH_EINVAL, "sweep over %zu copies: expected 1 to %d", o->copies,
                        TH_TLA_SWEEP_MAX_COPIES);
    if (!(o->time >= 0.0 && isfinite(o->time)))
        return th__fail(TH_EINVAL, "sweep time %g: expected a finite time >= 0 (0: the "
                        "default)", o->time);
    if (pb->alg == TH_TLA_LYAP && o->hw.model != TH_SPU_OVERDAMPED)
        return th__fail(TH_EINVAL, "lyap runs on the overdamped idealisation only (the RLC "
                        "board's drift is fixed by its circuit)");
    return TH_OK;
}

int th_tla_sweep_prepare(const th_tla_problem *pb, const th_tla_sweep_opts *o, th_tla_sweep *s)
{
    memset(s, 0, sizeof *s);
    int rc = check(pb, o);
    if (rc != TH_OK) return rc;
    const size_t d = s->d = pb->d;
    s->alg = pb->alg;
    s->model = o->hw.model;
    s->absolute = pb->alg == TH_TLA_LOGDET;
    s->ref_n = pb->alg == TH_TLA_SOLVE ? d : (pb->alg == TH_TLA_LOGDET ? 1 : d * d);
    s->reference = th__alloc(s->ref_n * sizeof *s->reference);
    s->prog_ = th__alloc(d * d * sizeof *s->prog_);
    if (pb->alg == TH_TLA_LYAP) s->noise_ = th__calloc(d * d, sizeof *s->noise_);
    if (pb->alg == TH_TLA_SAMPLE && o->n_samples > 0) {
        s->n_samples = o->n_samples;
        s->samples = th__alloc(o->n_samples * d * sizeof *s->samples);
    }
    if (!s->reference || !s->prog_ || (pb->alg == TH_TLA_LYAP && !s->noise_) ||
        (s->n_samples && !s->samples))
        return th__fail(TH_ENOMEM, "out of memory for %zu samples", o->n_samples);
    memcpy(s->prog_, pb->A, d * d * sizeof *s->prog_);
    if (s->noise_ && pb->D) memcpy(s->noise_, pb->D, d * d * sizeof *s->noise_);
    for (size_t i = 0; s->noise_ && !pb->D && i < d; i++) s->noise_[i * d + i] = 1.0;

    if ((rc = reference(pb, s)) != TH_OK) return rc;
    s->stage = TH_SWEEP_REFERENCE;
    /* logdet programs A(lambda) node by node; A itself gives tau. */
    th_spu *probe = s->alg == TH_TLA_LOGDET ? th_spu_alloc(&o->hw, pb->A, NULL, d)
                                            : program(s, pb, &o->hw);
    if (!probe) return TH_EINVAL;
    s->mapping = probe->mapping;
    s->cells = probe->cells;
    s->alpha = probe->alpha;
    s->tau = probe->tau;
    s->tau_fast = probe->tau_fast;
    th_spu_free(probe);
    s->time = o->time > 0.0 ? o->time : DEFAULT_TIME_TAU * s->tau;
    s->stage = TH_SWEEP_PROGRAMMED;
    if ((rc = hardware_floor(s, pb, o)) != TH_OK) return rc;
    s->stage = TH_SWEEP_READY;
    return TH_OK;
}

int th_tla_sweep_points(th_tla_sweep *s, const th_tla_problem *pb, const th_tla_sweep_opts *o)
{
    TH_ASSERT(s != NULL && pb != NULL && o != NULL && s->stage == TH_SWEEP_READY);
    TH_ASSERT(pb->alg == s->alg && pb->d == s->d);
    for (size_t k = 0; k < o->points; k++) {
        const double t = s->time / ldexp(1.0, (int)(o->points - 1 - k));
        const int final_point = k + 1 == o->points;
        th_tla_result r;
        double t0 = now();
        int rc = run_point(s, pb, o, t, o->seed + k, final_point ? s->n_samples : 0,
                           final_point ? s->samples : NULL, &r);
        s->wall[k] = now() - t0;
        if (rc != TH_OK) return rc;
        s->time_sim[k] = r.sim_time;
        s->error[k] = rel_error(s, r.estimate);
        s->estimate[k] = s->absolute ? r.error : r.error / frob(s->reference, s->ref_n);
        s->points = k + 1;
        if (final_point) s->last = r;
        else th_tla_result_free(&r);
        if (o->on_point && o->on_point(s, k, o->ctx) != 0)
            return th__fail(TH_ECANCELED, "sweep stopped after point %zu of %zu", k + 1,
                            o->points);
    }
    return TH_OK;
}

int th_tla_sweep_run(const th_tla_problem *pb, const th_tla_sweep_opts *o, th_tla_sweep *s)
{
    int rc = th_tla_sweep_prepare(pb, o, s);
    return rc == TH_OK ? th_tla_sweep_points(s, pb, o) : rc;
}

void th_tla_sweep_free(th_tla_sweep *s)
{
    if (!s) return;
    th_tla_result_free(&s->last);
    th__free(s->reference);
    th__free(s->samples);
    th__free(s->prog_);
    th__free(s->noise_);
    s->reference = s->samples = s->prog_ = s->noise_ = NULL;
}

/* --------------------------------------------------------------- output */

int th_tla_sweep_write_csv(const char *path, const th_tla_sweep *s)
{
    TH_ASSERT(s != NULL && path != NULL);
    th_atomic_file *a = th_atomic_open(path);
    if (!a) return TH_EIO;
    FILE *f = th_atomic_stream(a);
    fprintf(f, "%s,error,error_estimate,floor\n",
            s->model == TH_SPU_RLC ? "time_s" : "time_1_over_gamma");
    for (size_t k = 0; k < s->points; k++) {
        fprintf(f, "%.6e,%.6e,%.6e,", s->time_sim[k], s->error[k], s->estimate[k]);
        if (s->floor >= 0.0) fprintf(f, "%.6e", s->floor);
        fputc('\n', f);
    }
    if (ferror(f)) {
        th_atomic_abort(a);
        return th__fail(TH_EIO, "%s: writing failed", path);
    }
    return th_atomic_commit(a);
}

static const char *const ALGORITHM_NAMES[] = {"sample", "solve", "inv", "logdet", "lyap"};

th_canvas *th_tla_sweep_chart(const th_tla_sweep *s, size_t width, size_t height)
{
    TH_ASSERT(s != NULL);
    const size_t n = s->points;
    if (n == 0) {
        th__fail(TH_EINVAL, "error chart of a sweep with no point: expected at least 1");
        return NULL;
    }
    double guide[TH_TLA_SWEEP_MAX_POINTS], flo[2] = {s->floor, s->floor};
    const double flt[2] = {s->time_sim[0], s->time_sim[n - 1]};
    for (size_t k = 0; k < n; k++) guide[k] = s->estimate[0] * sqrt(s->time_sim[0] / s->time_sim[k]);
    const th_chart_series ser[4] = {
        {.kind = TH_CHART_LINE, .x = s->time_sim, .y = guide, .n = n, .rgb = {60, 160, 60},
         .dashed = 1, .label = "1/sqrt(time)"},
        {.kind = TH_CHART_LINE, .x = s->time_sim, .y = s->estimate, .n = n,
         .rgb = {40, 90, 200}, .dashed = 1, .markers = 1, .label = "estimated error"},
        {.kind = TH_CHART_LINE, .x = s->time_sim, .y = s->error, .n = n, .rgb = {200, 30, 30},
         .markers = 1, .label = "error against LAPACK"},
        {.kind = TH_CHART_LINE, .x = flt, .y = flo, .n = 2, .rgb = {120, 120, 120}, .dashed = 1,
         .label = "hardware floor"},
    };
    char title[96];
    snprintf(title, sizeof title, "thermo linalg %s: error against simulated time (%s)",
             ALGORITHM_NAMES[s->alg], s->model == TH_SPU_RLC ? "RLC board" : "overdamped");
    const th_chart ch = {
        .width = width, .height = height, .title = title,
        .x = {.scale = TH_CHART_LOG, .numbers = 1, .grid = 1,
              .title = s->model == TH_SPU_RLC ? "simulated time (s)"
                                              : "simulated time (1/gamma)"},
        .y = {.scale = TH_CHART_LOG, .numbers = 1, .grid = 1,
              .title = s->absolute ? "absolute error (nats)" : "relative Frobenius error"},
        .series = ser, .n_series = s->floor > 0.0 ? 4 : 3,
    };
    return th_chart_draw(&ch);
}
