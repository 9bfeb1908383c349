/* solve.c - exact training of the generator by linear least squares.
 *
 * The potential is linear in the parameters (science.md section 1), so the
 * residual of the reverse-path objective (section 2) is affine in them and
 * the objective is a quadratic whose minimiser solves normal equations in
 * the sufficient statistics G, H, q (core/pathsolve.c derives them and
 * solves them). Here the force is taken at the step's end point, y = x_{k+1},
 * and the moving units' parameter-free part of the residual is
 *
 *     c_i = -Dx_i + a (2 J2 y_i + 4 J4 y_i^3),   a = mu dt.
 *
 * Accumulation streams over blocks of steps exactly like the objective's
 * evaluation (pathloss.c): per block, G gets X1^T X1 (a rank-k update) and H
 * gets C^T X1 over the block's rows (the steps the stride keeps), computed in
 * the paths' precision and added into double. */
#include "gen_internal.h"
#include "thermo/dist.h"

#include <math.h>
#include <string.h>

struct th_gen_stats {
    th_gen_params p;
    size_t n;       /* units */
    double *G;      /* (n+1, n+1), symmetric */
    double *H;      /* (n, n+1), rows of the moving units; label rows 0 */
    double q;
    size_t paths, rows;
};

void th_gen_stats_free(th_gen_stats *s)
{
    if (!s) return;
    th__free(s->G);
    th__free(s->H);
    free(s);
}

size_t th_gen_stats_paths(const th_gen_stats *s) { return s->paths; }
size_t th_gen_stats_rows(const th_gen_stats *s) { return s->rows; }

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

static int on_rows(th_ptr x, th_ptr y, size_t rows, void *vctx)
{
    struct acc_ctx *c = vctx;
    if (c->dtype == TH_F32)
        accumulate_rows_f32(c, x, y, rows);
    else
        accumulate_rows_f64(c, x, y, rows);
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
    if (s) {
        s->p = *p;
        s->n = n;
        s->G = th__calloc(na * na, sizeof(double));
        s->H = th__calloc(n * na, sizeof(double));
    }
    c.C.v = th__alloc(rows * n * es);
    c.Gb.v = th__alloc(n * n * es);
    c.Hb.v = th__alloc(n * n * es);
    c.row_q = th__alloc(rows * sizeof(double));
    if (!s || !s->G || !s->H || !c.C.v || !c.Gb.v || !c.Hb.v || !c.row_q || !batch_images ||
        !batch_classes || !ids) {
        rc = th__fail(TH_ENOMEM, "out of memory for the statistics of %zu units", n);
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
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) s->G[j * na + i] = s->G[i * na + j];
    for (size_t j = 0; j < n; j++) s->G[j * na + n] = s->G[n * na + j];
    s->G[n * na + n] = (double)s->rows;

    if (th_dist_size() > 1) {
        /* In rank order, so every process holds the same statistics to the
         * bit and solves to the same model. */
        double tail[3] = {s->q, (double)s->paths, (double)s->rows};
        if ((rc = th_dist_sum_f64_ordered(s->G, na * na)) != TH_OK ||
            (rc = th_dist_sum_f64_ordered(s->H, n * na)) != TH_OK ||
            (rc = th_dist_sum_f64_ordered(tail, 3)) != TH_OK)
            goto done;
        s->q = tail[0];
        s->paths = (size_t)llround(tail[1]);
        s->rows = (size_t)llround(tail[2]);
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

/* The generator's statistics as the shared quadratic problem (pathsolve.c):
 * the visible and hidden units move, the labels are clamped. */
static int as_problem(const th_gen_stats *s, const th_model *m, th__quad_problem *pb)
{
    const th_gen_params *p = &s->p;
    int rc = th__gen_check_architecture(m, p, "the model");
    if (rc != TH_OK) return rc;
    *pb = (th__quad_problem){.n = s->n, .G = s->G, .H = s->H, .q = s->q, .move_begin = 0,
                             .move_end = p->n_visible + p->n_hidden,
                             .bias_trained = gen_bias_trained, .bias_ctx = p,
                             .a = p->mu * p->dt, .kT = p->kT};
    return TH_OK;
}

int th_gen_stats_loss(const th_gen_stats *s, const th_model *m, double *loss)
{
    TH_ASSERT(s != NULL && m != NULL && loss != NULL);
    th__quad_problem pb;
    int rc = as_problem(s, m, &pb);
    return rc == TH_OK ? th__quad_loss(&pb, m, loss) : rc;
}

int th_gen_stats_solve(const th_gen_stats *s, th_model *m, const th_solve_opts *opts,
                       th_solve_result *result)
{
    TH_ASSERT(s != NULL && m != NULL && opts != NULL);
    th__quad_problem pb;
    int rc = as_problem(s, m, &pb);
    return rc == TH_OK ? th__quad_solve(&pb, m, opts, result) : rc;
}
