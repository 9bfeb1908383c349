/* solve.c - exact training of the generator by linear least squares.
 *
 * The potential is linear in the parameters (science.md section 1), so the
 * residual of the reverse-path objective (section 2) is affine in them and
 * the objective is a quadratic whose minimiser solves normal equations in
 * the sufficient statistics G, H, q (core/pathsolve.c derives them and
 * solves them). Here the force is taken at the step's end point, y = x_{k+1},
 * and the moving units' parameter-free part of the residual is
 *
 *     c_i = -Dx_i + a (2 J2 y_i + 4 J4 y_i^3),   a = mu dt
 * (-J2 on hidden units in double wells, th_gen_params.hidden_double_well).
 *
 * Accumulation streams over blocks of steps exactly like the objective's
 * evaluation (pathloss.c): per block, G gets X1^T X1 (a rank-k update) and H
 * gets C^T X1 over the block's rows (the steps the stride keeps), computed in
 * the paths' precision and added into double. */
#include "gen_internal.h"
#include "thermo/dist.h"

#include <math.h>
#include <string.h>

/* One segment's statistics, from the transitions that train it. */
struct seg_stats {
    double *G;      /* (n+1, n+1), symmetric */
    double *H;      /* (n, n+1), rows of the moving units; label rows 0 */
    double q;
    size_t rows;
};

struct th_gen_stats {
    th_gen_params p;
    size_t n;       /* units */
    size_t paths;
    struct seg_stats *seg; /* (p.segments) */
};

void th_gen_stats_free(th_gen_stats *s)
{
    if (!s) return;
    for (size_t k = 0; s->seg && k < s->p.segments; k++) {
        th__free(s->seg[k].G);
        th__free(s->seg[k].H);
    }
    free(s->seg);
    free(s);
}

size_t th_gen_stats_paths(const th_gen_stats *s) { return s->paths; }

size_t th_gen_stats_rows(const th_gen_stats *s)
{
    size_t rows = 0;
    for (size_t k = 0; k < s->p.segments; k++) rows += s->seg[k].rows;
    return rows;
}

size_t th_gen_stats_segments(const th_gen_stats *s) { return s->p.segments; }

size_t th_gen_stats_segment_rows(const th_gen_stats *s, size_t seg)
{
    TH_ASSERT(s != NULL && seg < s->p.segments);
    return s->seg[seg].rows;
}

/* ------------------------------------------------------- accumulation */

struct acc_ctx {
    th_gen_stats *s;
    th_dtype dtype;
    th_ptr C;       /* (rows, n) on-site residual parts c */
    th_ptr Gb;      /* (n, n) the rows' X1^T X1, upper triangle */
    th_ptr Hb;      /* (n, n) the rows' C^T X1 */
    double *row_q;  /* (rows) */
};

#define REAL float
#define FN(name) name##_f32
#define MEMBER f32
#define SYRK th__syrk_f32
#define GEMM th__gemm_f32
#include "solve_kernel.inc"
#undef REAL
#undef FN
#undef MEMBER
#undef SYRK
#undef GEMM

#define REAL double
#define FN(name) name##_f64
#define MEMBER f64
#define SYRK th__syrk_f64
#define GEMM th__gemm_f64
#include "solve_kernel.inc"
#undef REAL
#undef FN
#undef MEMBER
#undef SYRK
#undef GEMM

/* The rows of each segment go to its own statistics: noising step k is
 * the time reverse of generation step K-1-k. The rows are step-major, and a
 * segment's steps are contiguous, so they come in runs. */
static int on_rows(th_ptr x, th_ptr y, size_t rows, size_t B, size_t first_step,
                   size_t step_stride, void *vctx)
{
    struct acc_ctx *c = vctx;
    const th_gen_params *p = &c->s->p;
    const size_t K = th_gen_steps(p), n = c->s->n, es = th_dtype_size(c->dtype);
    const size_t n_steps = rows / B;
    for (size_t j0 = 0; j0 < n_steps;) {
        const size_t seg = th_gen_segment_of_step(p, K - 1 - (first_step + j0 * step_stride));
        size_t j1 = j0 + 1;
        while (j1 < n_steps &&
               th_gen_segment_of_step(p, K - 1 - (first_step + j1 * step_stride)) == seg)
            j1++;
        const size_t at = j0 * B * n * es, M = (j1 - j0) * B;
        th_ptr xs = {.v = (char *)x.v + at}, ys = {.v = (char *)y.v + at};
        if (c->dtype == TH_F32)
            accumulate_rows_f32(c, &c->s->seg[seg], xs, ys, M);
        else
            accumulate_rows_f64(c, &c->s->seg[seg], xs, ys, M);
        j0 = j1;
    }
    return TH_OK;
}

int th_gen_stats_accumulate(const th_gen_params *p, th_dtype dtype, const float *images,
                            const int *classes, size_t count, size_t n_paths, size_t batch,
                            size_t stride, th_progress_fn progress,
                            void *progress_ctx, th_gen_stats **out)
{
    TH_ASSERT(p != NULL && images != NULL && out != NULL);
    *out = NULL;
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    if (count == 0) return th__fail(TH_EINVAL, "no training images");
    if (n_paths == 0) return th__fail(TH_EINVAL, "0 paths: expected at least 1");
    if (batch == 0) return th__fail(TH_EINVAL, "batch = 0: expected at least 1 path");
    if (stride == 0 || stride > th_gen_steps(p))
        return th__fail(TH_EINVAL, "stride = %zu: expected 1 to the %zu steps of a path", stride,
                        th_gen_steps(p));
    if (dtype != TH_F32 && dtype != TH_F64)
        return th__fail(TH_EINVAL, "precision %d: expected float32 or float64", (int)dtype);
    if ((rc = th__gen_check_classes(p, classes, count)) != TH_OK) return rc;

    const size_t n = th_gen_units(p), na = n + 1, nv = p->n_visible;
    const size_t steps = th_gen_steps(p);
    const size_t block = p->block_steps < steps ? p->block_steps : steps;
    /* the rows of one block: every step, or the steps the stride keeps */
    const size_t rows = batch * (stride == 1 ? block : (block + stride - 1) / stride);
    const size_t es = th_dtype_size(dtype);
    th_gen_stats *s = calloc(1, sizeof *s);
    struct acc_ctx c = {.s = s, .dtype = dtype};
    float *batch_images = th__alloc(batch * nv * sizeof(float));
    int *batch_classes = th__alloc(batch * sizeof(int));
    uint64_t *ids = th__alloc(batch * sizeof(uint64_t));
    const size_t S = p->segments;
    int ok = s != NULL;
    if (s) {
        s->p = *p;
        s->n = n;
        s->seg = calloc(S, sizeof *s->seg);
        ok = s->seg != NULL;
        for (size_t k = 0; ok && k < S; k++) {
            s->seg[k].G = th__calloc(na * na, sizeof(double));
            s->seg[k].H = th__calloc(n * na, sizeof(double));
            ok = s->seg[k].G && s->seg[k].H;
        }
    }
    c.C.v = th__alloc(rows * n * es);
    c.Gb.v = th__alloc(n * n * es);
    c.Hb.v = th__alloc(n * n * es);
    c.row_q = th__alloc(rows * sizeof(double));
    if (!ok || !c.C.v || !c.Gb.v || !c.Hb.v || !c.row_q || !batch_images || !batch_classes ||
        !ids) {
        rc = th__fail(TH_ENOMEM, "out of memory for the statistics of %zu units in %zu "
                      "segments", n, S);
    }

    /* This process's share of the paths; the sums are combined below. A
     * failure is carried to the meeting point so no process waits forever.
     * One noiser serves every full batch (its memory allocated once), and
     * another the last, shorter one. */
    size_t first = 0, mine = 0;
    th_dist_share(n_paths, &first, &mine);
    th__noiser *z = NULL;
    size_t z_paths = 0;
    for (size_t q0 = 0; rc == TH_OK && q0 < mine; q0 += batch) {
        const size_t B = mine - q0 < batch ? mine - q0 : batch;
        for (size_t k = 0; k < B; k++) {
            ids[k] = (uint64_t)(first + q0 + k);
            const size_t image = (size_t)(ids[k] % count);
            memcpy(batch_images + k * nv, images + image * nv, nv * sizeof(float));
            batch_classes[k] = classes ? classes[image] : 0;
        }
        if (z_paths != B) {
            th__gen_noiser_free(z);
            z_paths = B;
            if (!(z = th__gen_noiser_alloc(p, B, stride, dtype))) {
                rc = TH_ENOMEM;
                break;
            }
        }
        rc = th__gen_noiser_rows(z, batch_images, classes ? batch_classes : NULL, ids, on_rows,
                                 &c);
        if (rc != TH_OK) break;
        s->paths += B;
        if (progress && progress(q0 + B, mine, progress_ctx))
            rc = th__fail(TH_ECANCELED, "stopped after %zu of %zu paths", q0 + B, mine);
    }
    th__gen_noiser_free(z);
    if ((rc = th_dist_any_error(rc)) != TH_OK) goto done;
    /* The blocks filled the upper triangle of G's (n, n) part (rank-k
     * updates); mirror it. */
    for (size_t k = 0; k < S; k++) {
        double *G = s->seg[k].G;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) G[j * na + i] = G[i * na + j];
        for (size_t j = 0; j < n; j++) G[j * na + n] = G[n * na + j];
        G[n * na + n] = (double)s->seg[k].rows;
    }

    if (th_dist_size() > 1) {
        /* In rank order, so every process holds the same statistics to the
         * bit and solves to the same model. */
        double tail[1 + 2 * TH_GEN_MAX_SEGMENTS];
        tail[0] = (double)s->paths;
        for (size_t k = 0; k < S; k++) {
            tail[1 + 2 * k] = s->seg[k].q;
            tail[2 + 2 * k] = (double)s->seg[k].rows;
        }
        for (size_t k = 0; k < S; k++)
            if ((rc = th_dist_sum_f64_ordered(s->seg[k].G, na * na)) != TH_OK ||
                (rc = th_dist_sum_f64_ordered(s->seg[k].H, n * na)) != TH_OK)
                goto done;
        if ((rc = th_dist_sum_f64_ordered(tail, 1 + 2 * S)) != TH_OK) goto done;
        s->paths = (size_t)llround(tail[0]);
        for (size_t k = 0; k < S; k++) {
            s->seg[k].q = tail[1 + 2 * k];
            s->seg[k].rows = (size_t)llround(tail[2 + 2 * k]);
        }
    }
done:
    th__free(batch_images);
    th__free(batch_classes);
    th__free(ids);
    th__free(c.C.v);
    th__free(c.Gb.v);
    th__free(c.Hb.v);
    th__free(c.row_q);
    if (rc != TH_OK) {
        th_gen_stats_free(s);
        return rc;
    }
    *out = s;
    return TH_OK;
}

/* ------------------------------------------------------------ the solve */

static int gen_bias_trained(const void *ctx, size_t i)
{
    return th__gen_bias_trained(ctx, i);
}

/* Segment seg's statistics as the shared quadratic problem (pathsolve.c):
 * the visible and hidden units move, the labels are clamped. */
static int as_problem(const th_gen_stats *s, size_t seg, const th_model *m,
                      th__quad_problem *pb)
{
    const th_gen_params *p = &s->p;
    int rc = th__gen_check_architecture(m, p, "the model");
    if (rc != TH_OK) return rc;
    const struct seg_stats *t = &s->seg[seg];
    *pb = (th__quad_problem){.n = s->n, .G = t->G, .H = t->H, .q = t->q, .move_begin = 0,
                             .move_end = p->n_visible + p->n_hidden,
                             .bias_trained = gen_bias_trained, .bias_ctx = p,
                             .a = p->mu * p->dt, .kT = p->kT};
    return TH_OK;
}

/* TH_EINVAL unless the statistics have one segment (the th_model calls). */
static int one_segment(const th_gen_stats *s, const char *fn)
{
    if (s->p.segments == 1) return TH_OK;
    return th__fail(TH_EINVAL, "%s: the statistics have %zu segments: use its protocol twin",
                    fn, s->p.segments);
}

int th_gen_stats_loss(const th_gen_stats *s, const th_model *m, double *loss)
{
    TH_ASSERT(s != NULL && m != NULL && loss != NULL);
    int rc = one_segment(s, "th_gen_stats_loss");
    return rc == TH_OK ? th_gen_stats_segment_loss(s, 0, m, loss) : rc;
}

int th_gen_stats_segment_loss(const th_gen_stats *s, size_t seg, const th_model *m,
                              double *loss)
{
    TH_ASSERT(s != NULL && m != NULL && loss != NULL);
    if (seg >= s->p.segments)
        return th__fail(TH_EINVAL, "segment %zu: the statistics have %zu", seg, s->p.segments);
    th__quad_problem pb;
    int rc = as_problem(s, seg, m, &pb);
    return rc == TH_OK ? th__quad_loss(&pb, m, loss) : rc;
}

int th_gen_stats_protocol_loss(const th_gen_stats *s, const th_gen_protocol *pr, double *loss)
{
    TH_ASSERT(s != NULL && pr != NULL && loss != NULL);
    int rc = th__gen_protocol_check(pr, &s->p, "the protocol");
    double sum = 0;
    for (size_t k = 0; rc == TH_OK && k < pr->segments; k++) {
        double l = 0;
        if ((rc = th_gen_stats_segment_loss(s, k, pr->seg[k], &l)) == TH_OK)
            sum = k ? sum + l : l;
    }
    if (rc == TH_OK) *loss = sum;
    return rc;
}

int th_gen_stats_solve(const th_gen_stats *s, th_model *m, const th_solve_opts *opts,
                       th_solve_result *result)
{
    TH_ASSERT(s != NULL && m != NULL && opts != NULL);
    int rc = one_segment(s, "th_gen_stats_solve");
    th__quad_problem pb;
    if (rc == TH_OK) rc = as_problem(s, 0, m, &pb);
    return rc == TH_OK ? th__quad_solve(&pb, m, opts, result) : rc;
}

int th_gen_stats_protocol_solve(const th_gen_stats *s, th_gen_protocol *pr, double penalty,
                                const th_solve_opts *opts, th_solve_result *result)
{
    TH_ASSERT(s != NULL && pr != NULL && opts != NULL);
    int rc = th__gen_protocol_check(pr, &s->p, "the protocol");
    if (rc != TH_OK) return rc;
    if (!(penalty >= 0) || !isfinite(penalty))
        return th__fail(TH_EINVAL, "segment penalty = %g: expected a finite value >= 0",
                        penalty);
    const size_t S = pr->segments;
    th__quad_problem pbs[TH_GEN_MAX_SEGMENTS];
    for (size_t k = 0; k < S; k++)
        if ((rc = as_problem(s, k, pr->seg[k], &pbs[k])) != TH_OK) return rc;
    /* The ridge is shared among the segments in proportion to their rows,
     * as the data term is: the segments' ridges add up to the one-segment
     * ridge, so that a protocol held constant meets the one-segment
     * objective. */
    double share[TH_GEN_MAX_SEGMENTS];
    const size_t rows = th_gen_stats_rows(s);
    for (size_t k = 0; k < S; k++)
        share[k] = S == 1 ? 1.0 : rows ? (double)s->seg[k].rows / (double)rows : 1.0 / (double)S;
    if (S == 1 || penalty > 0)
        return th__quad_solve_stacked(pbs, S, S == 1 ? NULL : share, penalty, pr->seg, opts,
                                      result);
    /* Without a penalty the segments are independent problems: solved one
     * by one, each to the tolerance. */
    th_solve_result all = {.converged = 1};
    for (size_t k = 0; k < S; k++) {
        th_solve_result one = {0};
        if ((rc = th__quad_solve_stacked(&pbs[k], 1, &share[k], 0.0, &pr->seg[k], opts, &one)) !=
            TH_OK)
            return rc;
        all.iterations += one.iterations;
        all.residual = fmax(all.residual, one.residual);
        all.converged = all.converged && one.converged;
    }
    if (result) *result = all;
    return TH_OK;
}
