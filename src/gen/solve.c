/* solve.c - exact training of the generator by linear least squares.
 *
 * The potential is linear in the parameters theta = {J_ij on coupled pairs,
 * trained biases b_i} (science.md section 1), so the residual of the reverse-
 * path objective (section 2) is affine in theta. With a = mu dt, y = x_{k+1}
 * and the moving units' on-site part
 *
 *     c_i = -Dx_i + a (2 J2 y_i + 4 J4 y_i^3),
 *     e_i = c_i + a ( sum_j J_ij y_j + b_i ) = c_i + a (K y~)_i,
 *
 * where K = [J | b] is (n, n+1) and y~ = (y, 1), the objective over all rows
 * (steps of paths) is
 *
 *     L = sum_rows sum_{i moving} e_i^2 / (4 a kT)
 *       = [ q + 2 a <P K, H> + a^2 <P K, P K G> ] / (4 a kT),          (1)
 *
 * with P keeping the moving units' rows and the sufficient statistics
 *
 *     G = sum_rows y~ y~^T  (n+1, n+1),  H = sum_rows c y~^T  (n, n+1),
 *     q = sum_rows |c|^2.
 *
 * J_ij = J_ji is one parameter that appears in rows i and j, so
 *
 *     dL/dJ_ij = [ (PH + a PKG)_ij + (PH + a PKG)_ji ] / (2 kT),
 *     dL/db_i  = (PH + a PKG)_{i,n} / (2 kT),                          (2)
 *
 * and the minimiser solves the normal equations A theta = -proj(PH) with
 * A theta = a proj(P K(theta) G), proj the map (2) onto the parameters. A is
 * symmetric positive semi-definite in the coordinates theta (one number per
 * unordered pair): <theta', A theta> = a tr(P K' G K^T). It is solved by
 * conjugate gradients with a Jacobi preconditioner; each iteration is one
 * (n, n) x (n, n+1) matrix product.
 *
 * Accumulation streams over blocks of steps exactly like the objective's
 * evaluation (pathloss.c): per block, G gets X1^T X1 (a rank-k update) and H
 * gets C^T X1, computed in the paths' precision and added into double. */
#include "gen_internal.h"
#include "dist/dist.h"

#include <cblas.h>
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
    size_t stride;  /* steps k with k mod stride = 0 enter */
    th_ptr X1;      /* (rows, n) the chosen steps' end states, when stride > 1 */
    th_ptr C;       /* (block * B, n) on-site residual parts c */
    th_ptr Gb;      /* (n, n) block's X1^T X1, upper triangle */
    th_ptr Hb;      /* (n, n) block's C^T X1 */
    double *row_q;  /* (block * B) */
};

#define REAL float
#define FN(name) name##_f32
#define MEMBER f32
#define SYRK cblas_ssyrk
#define GEMM cblas_sgemm
#include "solve_kernel.inc"
#undef REAL
#undef FN
#undef MEMBER
#undef SYRK
#undef GEMM

#define REAL double
#define FN(name) name##_f64
#define MEMBER f64
#define SYRK cblas_dsyrk
#define GEMM cblas_dgemm
#include "solve_kernel.inc"
#undef REAL
#undef FN
#undef MEMBER
#undef SYRK
#undef GEMM

static int on_block(th_ptr states, size_t T, size_t B, size_t first_step, void *vctx)
{
    struct acc_ctx *c = vctx;
    if (c->dtype == TH_F32)
        accumulate_block_f32(c, states, T, B, first_step);
    else
        accumulate_block_f64(c, states, T, B, first_step);
    return TH_OK;
}

int th_gen_stats_accumulate(const th_gen_params *p, th_dtype dtype, const float *images,
                            const int *classes, size_t count, size_t n_paths, size_t batch,
                            size_t stride,
                            int (*progress)(size_t done, size_t total, void *ctx),
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
    const size_t es = th_dtype_size(dtype);
    th_gen_stats *s = calloc(1, sizeof *s);
    struct acc_ctx c = {.s = s, .dtype = dtype, .stride = stride};
    float *batch_images = th__alloc(batch * nv * sizeof(float));
    int *batch_classes = th__alloc(batch * sizeof(int));
    uint64_t *ids = th__alloc(batch * sizeof(uint64_t));
    if (s) {
        s->p = *p;
        s->n = n;
        s->G = th__calloc(na * na, sizeof(double));
        s->H = th__calloc(n * na, sizeof(double));
    }
    c.C.v = th__alloc(block * batch * n * es);
    c.X1.v = stride > 1 ? th__alloc(2 * (block / stride + 1) * batch * n * es) : NULL;
    c.Gb.v = th__alloc(n * n * es);
    c.Hb.v = th__alloc(n * n * es);
    c.row_q = th__alloc(block * batch * sizeof(double));
    if (!s || !s->G || !s->H || !c.C.v || (stride > 1 && !c.X1.v) || !c.Gb.v || !c.Hb.v || !c.row_q || !batch_images ||
        !batch_classes || !ids) {
        rc = th__fail(TH_ENOMEM, "out of memory for the statistics of %zu units", n);
    }

    /* This process's share of the paths; the sums are combined below. A
     * failure is carried to the meeting point so no process waits forever. */
    size_t first = 0, mine = 0;
    th_dist_share(n_paths, &first, &mine);
    for (size_t q0 = 0; rc == TH_OK && q0 < mine; q0 += batch) {
        const size_t B = mine - q0 < batch ? mine - q0 : batch;
        for (size_t k = 0; k < B; k++) {
            ids[k] = (uint64_t)(first + q0 + k);
            const size_t image = (size_t)(ids[k] % count);
            memcpy(batch_images + k * nv, images + image * nv, nv * sizeof(float));
            batch_classes[k] = classes ? classes[image] : 0;
        }
        rc = th__gen_noising_paths(p, batch_images, classes ? batch_classes : NULL, ids, B,
                                   dtype, on_block, &c);
        if (rc != TH_OK) break;
        s->paths += B;
        if (progress && progress(q0 + B, mine, progress_ctx))
            rc = th__fail(TH_ECANCELED, "stopped after %zu of %zu paths", q0 + B, mine);
    }
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
    th__free(c.X1.v);
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

/* The parameters as a full symmetric J (n, n) and a bias vector (n), and
 * which of their entries are parameters. */
struct space {
    const th_gen_stats *s;
    size_t n;
    unsigned char *pair;   /* (n, n): 1 where i != j are coupled */
    unsigned char *bias;   /* (n): 1 where b_i is trained */
    double a;              /* mu dt */
    double ridge2kT;       /* the ridge in the normal equations' scale */
    double *F;             /* (n, n+1) work: K G */
};

/* out = A theta (see the file comment), J parts symmetric. */
static void apply_A(const struct space *sp, const double *J, const double *b, double *outJ,
                    double *outb)
{
    const size_t n = sp->n, na = n + 1;
    const double *G = sp->s->G;
    /* F = J G[0:n, :] + b G[n, :] */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n, (blasint)na,
                (blasint)n, 1.0, J, (blasint)n, G, (blasint)na, 0.0, sp->F, (blasint)na);
    cblas_dger(CblasRowMajor, (blasint)n, (blasint)na, 1.0, b, 1, G + n * na, 1, sp->F,
               (blasint)na);
    const size_t n_moving = sp->s->p.n_visible + sp->s->p.n_hidden;
#pragma omp parallel for schedule(static) if (n >= 256)
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            double v = 0;
            if (sp->pair[i * n + j]) {
                if (i < n_moving) v += sp->F[i * na + j];
                if (j < n_moving) v += sp->F[j * na + i];
                v = sp->a * v + (i < n_moving && j < n_moving ? sp->ridge2kT : 0.0) * J[i * n + j];
            }
            outJ[i * n + j] = v;
        }
        outb[i] = sp->bias[i] ? sp->a * sp->F[i * na + n] : 0.0;
    }
}

/* <u, v> over the parameters: each unordered pair once, then the biases. The
 * rows are summed in a fixed order, so the result does not depend on the
 * number of threads. */
static double dot(const struct space *sp, const double *uJ, const double *ub, const double *vJ,
                  const double *vb, double *row_sums)
{
    const size_t n = sp->n;
#pragma omp parallel for schedule(static) if (n >= 256)
    for (size_t i = 0; i < n; i++) {
        double acc = sp->bias[i] ? ub[i] * vb[i] : 0.0;
        for (size_t j = i + 1; j < n; j++)
            if (sp->pair[i * n + j]) acc += uJ[i * n + j] * vJ[i * n + j];
        row_sums[i] = acc;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += row_sums[i];
    return sum;
}

th_gen_solve_opts th_gen_solve_opts_default(void)
{
    th_gen_solve_opts o;
    memset(&o, 0, sizeof o);
    o.tolerance = 1e-6;
    o.max_iterations = 3000;
    return o;
}

int th_gen_stats_loss(const th_gen_stats *s, const th_model *m, double *loss)
{
    TH_ASSERT(s != NULL && m != NULL && loss != NULL);
    const th_gen_params *p = &s->p;
    int rc = th__gen_check_architecture(m, p, "the model");
    if (rc != TH_OK) return rc;
    const size_t n = s->n, na = n + 1, n_moving = p->n_visible + p->n_hidden;
    const double a = p->mu * p->dt;
    double *J = th__alloc(n * n * sizeof(double)), *b = th__alloc(n * sizeof(double));
    double *F = th__alloc(n * na * sizeof(double)), *rows = th__alloc(n * sizeof(double));
    if (!J || !b || !F || !rows) {
        rc = th__fail(TH_ENOMEM, "out of memory for the loss of %zu units", n);
        goto done;
    }
    for (size_t i = 0; i < n * n; i++) J[i] = th_get(m->J, m->dtype, i);
    for (size_t i = 0; i < n; i++) b[i] = th_get(m->b, m->dtype, i);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n, (blasint)na,
                (blasint)n, 1.0, J, (blasint)n, s->G, (blasint)na, 0.0, F, (blasint)na);
    cblas_dger(CblasRowMajor, (blasint)n, (blasint)na, 1.0, b, 1, s->G + n * na, 1, F,
               (blasint)na);
    /* equation (1): sum over moving rows i of K_i . (2 a H_i + a^2 F_i) */
#pragma omp parallel for schedule(static) if (n >= 256)
    for (size_t i = 0; i < n_moving; i++) {
        double acc = b[i] * (2 * a * s->H[i * na + n] + a * a * F[i * na + n]);
        for (size_t j = 0; j < n; j++)
            acc += J[i * n + j] * (2 * a * s->H[i * na + j] + a * a * F[i * na + j]);
        rows[i] = acc;
    }
    double sum = s->q;
    for (size_t i = 0; i < n_moving; i++) sum += rows[i];
    *loss = sum / (4.0 * a * p->kT);
done:
    th__free(J);
    th__free(b);
    th__free(F);
    th__free(rows);
    return rc;
}

int th_gen_stats_solve(const th_gen_stats *s, th_model *m, const th_gen_solve_opts *opts,
                       th_gen_solve_result *result)
{
    TH_ASSERT(s != NULL && m != NULL && opts != NULL);
    const th_gen_params *p = &s->p;
    int rc = th__gen_check_architecture(m, p, "the model");
    if (rc != TH_OK) return rc;
    if (!(opts->ridge >= 0) || !isfinite(opts->ridge))
        return th__fail(TH_EINVAL, "ridge = %g: expected a finite value >= 0", opts->ridge);
    if (!(opts->tolerance > 0) || !(opts->tolerance < 1))
        return th__fail(TH_EINVAL, "tolerance = %g: expected a value in (0, 1)",
                        opts->tolerance);
    if (opts->max_iterations == 0)
        return th__fail(TH_EINVAL, "max_iterations = 0: expected at least 1");

    const size_t n = s->n, na = n + 1, nn = n * n, n_moving = p->n_visible + p->n_hidden;
    struct space sp = {.s = s, .n = n, .a = p->mu * p->dt,
                       .ridge2kT = 2.0 * p->kT * opts->ridge};
    sp.pair = th__calloc(nn, 1);
    sp.bias = th__calloc(n, 1);
    sp.F = th__alloc(n * na * sizeof(double));
    /* x, r, z, d (search direction), Ad, diag: (n*n + n) each */
    const size_t len = nn + n;
    double *vec = th__alloc(6 * len * sizeof(double));
    double *row_sums = th__alloc(n * sizeof(double));
    if (!sp.pair || !sp.bias || !sp.F || !vec || !row_sums) {
        rc = th__fail(TH_ENOMEM, "out of memory for the solve of %zu units", n);
        goto done;
    }
    double *x = vec, *r = vec + len, *z = vec + 2 * len, *d = vec + 3 * len;
    double *Ad = vec + 4 * len, *diag = vec + 5 * len;
    for (size_t g = 0; g < m->n_groups; g++)
        for (size_t h = 0; h < m->n_groups; h++) {
            if (!m->couples[g][h]) continue;
            for (size_t i = m->group_start[g]; i < m->group_start[g + 1]; i++)
                for (size_t j = m->group_start[h]; j < m->group_start[h + 1]; j++)
                    if (i != j) sp.pair[i * n + j] = 1;
        }
    for (size_t i = 0; i < n; i++) sp.bias[i] = (unsigned char)th__gen_bias_trained(p, i);

    /* Jacobi preconditioner, the diagonal of A. A parameter whose diagonal
     * is 0 (a label no path carried) does not enter the objective: it keeps
     * its value. */
    const double *G = s->G;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            double v = 0;
            if (sp.pair[i * n + j])
                v = sp.a * ((i < n_moving ? G[j * na + j] : 0) + (j < n_moving ? G[i * na + i] : 0)) +
                    (i < n_moving && j < n_moving ? sp.ridge2kT : 0.0);
            diag[i * n + j] = v;
            if (sp.pair[i * n + j] && !(v > 0)) sp.pair[i * n + j] = 0;
        }
        diag[nn + i] = sp.bias[i] ? sp.a * G[n * na + n] : 0;
        if (sp.bias[i] && !(diag[nn + i] > 0)) sp.bias[i] = 0;
    }

    /* Start from the model's parameters; rhs = -proj(P H). */
    for (size_t i = 0; i < nn; i++) x[i] = sp.pair[i] ? th_get(m->J, m->dtype, i) : 0.0;
    for (size_t i = 0; i < n; i++) x[nn + i] = sp.bias[i] ? th_get(m->b, m->dtype, i) : 0.0;
    double *rhsJ = z, *rhsb = z + nn; /* z holds the rhs until the loop starts */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            double v = 0;
            if (sp.pair[i * n + j]) {
                if (i < n_moving) v += s->H[i * na + j];
                if (j < n_moving) v += s->H[j * na + i];
            }
            rhsJ[i * n + j] = -v;
        }
        rhsb[i] = sp.bias[i] ? -s->H[i * na + n] : 0.0;
    }
    const double rhs_norm = sqrt(dot(&sp, rhsJ, rhsb, rhsJ, rhsb, row_sums));
    apply_A(&sp, x, x + nn, Ad, Ad + nn);
    for (size_t i = 0; i < len; i++) r[i] = z[i] - Ad[i];
    for (size_t i = 0; i < len; i++) z[i] = diag[i] > 0 ? r[i] / diag[i] : 0.0;
    memcpy(d, z, len * sizeof(double));
    double rz = dot(&sp, r, r + nn, z, z + nn, row_sums);
    double rel = rhs_norm > 0 ? sqrt(dot(&sp, r, r + nn, r, r + nn, row_sums)) / rhs_norm : 0.0;
    size_t it = 0;
    while (rel > opts->tolerance && it < opts->max_iterations) {
        apply_A(&sp, d, d + nn, Ad, Ad + nn);
        const double dAd = dot(&sp, d, d + nn, Ad, Ad + nn, row_sums);
        if (!(dAd > 0)) break; /* d in the null space: nothing left to gain */
        const double alpha = rz / dAd;
        for (size_t i = 0; i < len; i++) {
            x[i] += alpha * d[i];
            r[i] -= alpha * Ad[i];
            z[i] = diag[i] > 0 ? r[i] / diag[i] : 0.0;
        }
        const double rz_next = dot(&sp, r, r + nn, z, z + nn, row_sums);
        const double beta = rz_next / rz;
        rz = rz_next;
        for (size_t i = 0; i < len; i++) d[i] = z[i] + beta * d[i];
        rel = sqrt(dot(&sp, r, r + nn, r, r + nn, row_sums)) / rhs_norm;
        it++;
        if (!isfinite(rel)) {
            rc = th__fail(TH_EDIVERGED, "the conjugate-gradient solve diverged at iteration %zu",
                          it);
            goto done;
        }
        if (opts->progress && opts->progress(it, rel, opts->progress_ctx)) {
            rc = th__fail(TH_ECANCELED, "solve stopped after %zu iterations", it);
            goto done;
        }
    }
    /* Write the parameters back, both halves of each pair. */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            if (sp.pair[i * n + j]) {
                const double v = i < j ? x[i * n + j] : x[j * n + i];
                th_set(m->J, m->dtype, i * n + j, v);
            }
        if (sp.bias[i]) th_set(m->b, m->dtype, i, x[nn + i]);
    }
    if (result) {
        result->iterations = it;
        result->residual = rel;
        result->converged = rel <= opts->tolerance;
    }
done:
    th__free(sp.pair);
    th__free(sp.bias);
    th__free(sp.F);
    th__free(vec);
    th__free(row_sums);
    return rc;
}
