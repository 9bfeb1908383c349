/* student_solve.c - exact training of the PNAS student: the minimiser of its
 * Onsager-Machlup objective (student.c, equation (1)) over a set of
 * idealised paths, from sufficient statistics.
 *
 * The objective is a convex quadratic in the couplings and biases. With the
 * force at the step's start point, y = x_k, a = mu dt and
 *
 *     c_{k,i} = Dx_{k,i} + a (2 J2 x_{k,i} + 4 J4 x_{k,i}^3)     (free i),
 *
 * the residual is e_i = c_i + a (sum_j J_ij y_j + b_i) over y = (s, x_k),
 * s the clamped image; core/pathsolve.c solves the normal equations in
 *
 *     G = sum_rows y~ y~^T,  H = sum_rows c y~^T,  q = sum_rows |c|^2.
 *
 * The image is the same on every step of a path, so the blocks that involve
 * it need one product per path rather than per step: with the step sums
 * X_p = sum_k x_k and C_p = sum_k c_k of path p,
 *
 *     G_ss = K sum_p s_p s_p^T,  G_sx = sum_p s_p X_p^T,  H_xs = sum_p C_p s_p^T,
 *
 * and only the free units' blocks G_xx = sum x x^T and H_xx = sum c x^T run
 * over every step. A pass over 60000 paths of 200 steps costs about as much
 * as one epoch of gradient descent, and gives the optimum that descent only
 * approaches. */
#include "classify_internal.h"

#include <math.h>
#include <string.h>

struct th_student_stats {
    th_student_params p;
    size_t n;         /* n_input + n_free: the model's units */
    double *G;        /* (n+1, n+1) */
    double *H;        /* (n, n+1); the free units' rows */
    double q;
    size_t paths, rows;
};

void th_student_stats_free(th_student_stats *s)
{
    if (!s) return;
    th__free(s->G);
    th__free(s->H);
    free(s);
}

size_t th_student_stats_paths(const th_student_stats *s) { return s->paths; }

/* The accumulators by block, all in double. */
struct acc {
    double *Gss;   /* (n_in, n_in) upper triangle: sum_p s s^T (times K at the end) */
    double *Gsx;   /* (n_in, nf) */
    double *Gxx;   /* (nf, nf) upper triangle */
    double *Hxs;   /* (nf, n_in) */
    double *Hxx;   /* (nf, nf) */
    double *s1;    /* (n_in) sum_p s */
    double *x1;    /* (nf) sum_rows x */
    double *c1;    /* (nf) sum_rows c */
    double q;
    /* per batch */
    double *S;     /* (B, n_in) the images */
    double *paths; /* (B, K+1, nf) */
    double *X, *C; /* (B K, nf) start points and on-site residual parts */
    double *XP, *CP; /* (B, nf) per-path step sums */
    double *row_q; /* (B) */
    double *tmp;   /* (max(n_in, nf)^2) one block product, added into its accumulator */
    uint64_t *ids; /* (B) */
    float *targets; /* (B, nf) */
};

static void acc_free(struct acc *a)
{
    double *d[] = {a->Gss, a->Gsx, a->Gxx, a->Hxs, a->Hxx, a->s1, a->x1, a->c1, a->S,
                   a->paths, a->X, a->C, a->XP, a->CP, a->row_q, a->tmp};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) th__free(d[i]);
    th__free(a->ids);
    th__free(a->targets);
}

static void add_into(double *acc, const double *v, size_t count)
{
#pragma omp parallel for schedule(static) if (count >= 65536)
    for (size_t i = 0; i < count; i++) acc[i] += v[i];
}

/* The upper triangle of the (n, n) block v into acc. */
static void add_upper(double *acc, const double *v, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= 256)
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) acc[i * n + j] += v[i * n + j];
}

/* Adds the B paths in a->paths (images a->S) to the accumulators. */
static void add_batch(const th_student_params *p, struct acc *a, size_t B)
{
    const size_t n_in = p->n_input, nf = th__student_free(p), K = th_student_steps(p);
    const size_t M = B * K;
    const double h = p->mu * p->dt, J2 = p->J2, J4 = p->J4;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) {
        const double *path = a->paths + b * (K + 1) * nf;
        double *xp = a->XP + b * nf, *cp = a->CP + b * nf;
        for (size_t i = 0; i < nf; i++) xp[i] = cp[i] = 0;
        double qq = 0;
        for (size_t k = 0; k < K; k++) {
            const double *x = path + k * nf, *y = x + nf;
            double *xr = a->X + (b * K + k) * nf, *cr = a->C + (b * K + k) * nf;
            for (size_t i = 0; i < nf; i++) {
                const double v = x[i];
                const double c = (y[i] - v) + h * (2 * J2 * v + 4 * J4 * v * v * v);
                xr[i] = v;
                cr[i] = c;
                xp[i] += v;
                cp[i] += c;
                qq += c * c;
            }
        }
        a->row_q[b] = qq;
    }
    /* Sums over paths in path order: the same for any number of threads. */
    for (size_t b = 0; b < B; b++) {
        a->q += a->row_q[b];
        for (size_t i = 0; i < nf; i++) {
            a->x1[i] += a->XP[b * nf + i];
            a->c1[i] += a->CP[b * nf + i];
        }
        for (size_t j = 0; j < n_in; j++) a->s1[j] += a->S[b * n_in + j];
    }
    /* Each product into a scratch block, then added in path order; the
     * products round the same way for any number of threads (backend.h). */
    const int T = TH__T, N = TH__N;
    th__gemm_f64(T, N, nf, nf, M, 1.0, a->X, nf, a->X, nf, 0.0, a->tmp, nf);
    add_upper(a->Gxx, a->tmp, nf);
    th__gemm_f64(T, N, nf, nf, M, 1.0, a->C, nf, a->X, nf, 0.0, a->tmp, nf);
    add_into(a->Hxx, a->tmp, nf * nf);
    th__gemm_f64(T, N, n_in, n_in, B, 1.0, a->S, n_in, a->S, n_in, 0.0, a->tmp, n_in);
    add_upper(a->Gss, a->tmp, n_in);
    th__gemm_f64(T, N, n_in, nf, B, 1.0, a->S, n_in, a->XP, nf, 0.0, a->tmp, nf);
    add_into(a->Gsx, a->tmp, n_in * nf);
    th__gemm_f64(T, N, nf, n_in, B, 1.0, a->CP, nf, a->S, n_in, 0.0, a->tmp, n_in);
    add_into(a->Hxs, a->tmp, nf * n_in);
}

/* The blocks into the full G and H of the model's unit order (inputs, then
 * hidden and output units) with the constant last. */
static void assemble(const th_student_params *p, const struct acc *a, th_student_stats *s)
{
    const size_t n_in = p->n_input, nf = th__student_free(p), n = s->n, na = n + 1;
    const double K = (double)th_student_steps(p);
    double *G = s->G, *H = s->H;
    for (size_t i = 0; i < n_in; i++) {
        for (size_t j = i; j < n_in; j++) G[i * na + j] = G[j * na + i] = K * a->Gss[i * n_in + j];
        for (size_t f = 0; f < nf; f++)
            G[i * na + n_in + f] = G[(n_in + f) * na + i] = a->Gsx[i * nf + f];
        G[i * na + n] = G[n * na + i] = K * a->s1[i];
    }
    for (size_t f = 0; f < nf; f++) {
        const size_t u = n_in + f;
        for (size_t g = f; g < nf; g++) G[u * na + n_in + g] = G[(n_in + g) * na + u] = a->Gxx[f * nf + g];
        G[u * na + n] = G[n * na + u] = a->x1[f];
        for (size_t j = 0; j < n_in; j++) H[u * na + j] = a->Hxs[f * n_in + j];
        for (size_t g = 0; g < nf; g++) H[u * na + n_in + g] = a->Hxx[f * nf + g];
        H[u * na + n] = a->c1[f];
    }
    G[n * na + n] = (double)s->rows;
    s->q = a->q;
}

int th_student_stats_accumulate(const th_student_params *p, const float *images,
                                const float *targets, size_t count, size_t n_paths,
                                size_t batch, th_progress_fn progress,
                                void *progress_ctx, th_student_stats **out)
{
    TH_ASSERT(p != NULL && images != NULL && targets != NULL && out != NULL);
    *out = NULL;
    int rc = th_student_params_validate(p);
    if (rc != TH_OK) return rc;
    if (count == 0) return th__fail(TH_EINVAL, "no training images");
    if (n_paths == 0) return th__fail(TH_EINVAL, "0 paths: expected at least 1");
    if (batch == 0) return th__fail(TH_EINVAL, "batch = 0: expected at least 1 path");
    if (batch > n_paths) batch = n_paths;
    const size_t n_in = p->n_input, nf = th__student_free(p), K = th_student_steps(p);
    const size_t n = n_in + nf, na = n + 1;

    th_student_stats *s = calloc(1, sizeof *s);
    struct acc a = {0};
    a.Gss = th__calloc(n_in * n_in, sizeof(double));
    a.Gsx = th__calloc(n_in * nf, sizeof(double));
    a.Gxx = th__calloc(nf * nf, sizeof(double));
    a.Hxs = th__calloc(nf * n_in, sizeof(double));
    a.Hxx = th__calloc(nf * nf, sizeof(double));
    a.s1 = th__calloc(n_in, sizeof(double));
    a.x1 = th__calloc(nf, sizeof(double));
    a.c1 = th__calloc(nf, sizeof(double));
    a.S = th__alloc(batch * n_in * sizeof(double));
    a.paths = th__alloc(batch * (K + 1) * nf * sizeof(double));
    a.X = th__alloc(batch * K * nf * sizeof(double));
    a.C = th__alloc(batch * K * nf * sizeof(double));
    a.XP = th__alloc(batch * nf * sizeof(double));
    a.CP = th__alloc(batch * nf * sizeof(double));
    a.row_q = th__alloc(batch * sizeof(double));
    const size_t wide = n_in > nf ? n_in : nf;
    a.tmp = th__alloc(wide * wide * sizeof(double));
    a.ids = th__alloc(batch * sizeof(uint64_t));
    a.targets = th__alloc(batch * nf * sizeof(float));
    if (s) {
        s->p = *p;
        s->n = n;
        s->G = th__calloc(na * na, sizeof(double));
        s->H = th__calloc(n * na, sizeof(double));
    }
    if (!s || !s->G || !s->H || !a.Gss || !a.Gsx || !a.Gxx || !a.Hxs || !a.Hxx || !a.s1 ||
        !a.x1 || !a.c1 || !a.S || !a.paths || !a.X || !a.C || !a.XP || !a.CP || !a.row_q || !a.tmp ||
        !a.ids || !a.targets) {
        rc = th__fail(TH_ENOMEM, "out of memory for the statistics of %zu paths of %zu steps "
                      "at a time", batch, K);
        goto done;
    }
    for (size_t q0 = 0; q0 < n_paths; q0 += batch) {
        const size_t B = n_paths - q0 < batch ? n_paths - q0 : batch;
        for (size_t b = 0; b < B; b++) {
            a.ids[b] = (uint64_t)(q0 + b);
            const size_t image = (size_t)(a.ids[b] % count);
            for (size_t j = 0; j < n_in; j++) a.S[b * n_in + j] = (double)images[image * n_in + j];
            memcpy(a.targets + b * nf, targets + image * nf, nf * sizeof(float));
        }
        rc = th_student_ideal_paths(p, a.targets, a.ids, B, a.paths);
        if (rc != TH_OK) goto done;
        add_batch(p, &a, B);
        s->paths += B;
        s->rows += B * K;
        if (progress && progress(q0 + B, n_paths, progress_ctx)) {
            rc = th__fail(TH_ECANCELED, "stopped after %zu of %zu paths", q0 + B, n_paths);
            goto done;
        }
    }
    assemble(p, &a, s);
    if (!isfinite(s->q)) rc = th__fail(TH_EDIVERGED, "the statistics are not finite: a path "
                                       "or an image holds a value out of range");
done:
    acc_free(&a);
    if (rc != TH_OK) {
        th_student_stats_free(s);
        return rc;
    }
    *out = s;
    return TH_OK;
}

/* The statistics as the shared quadratic problem: the free units move, the
 * inputs are clamped, every free unit's bias is trained; the ridge also
 * covers the input couplings. The model's on-site terms must be those the
 * statistics assumed. */
static int as_problem(const th_student_stats *s, const th_model *m, th__quad_problem *pb)
{
    const th_student_params *p = &s->p;
    int rc = th_student_check_model(m, p);
    if (rc != TH_OK) return rc;
    const size_t n_in = p->n_input;
    for (size_t i = n_in; i < s->n; i++)
        if (th_ptr_get(m->J2, m->dtype, i) != p->J2 || th_ptr_get(m->J4, m->dtype, i) != p->J4)
            return th__fail(TH_EINVAL, "student model unit %zu has J2 = %g, J4 = %g: the "
                            "statistics assumed J2 = %g, J4 = %g", i,
                            th_ptr_get(m->J2, m->dtype, i), th_ptr_get(m->J4, m->dtype, i), p->J2,
                            p->J4);
    *pb = (th__quad_problem){.n = s->n, .G = s->G, .H = s->H, .q = s->q, .move_begin = n_in,
                             .move_end = s->n, .a = p->mu * p->dt, .kT = p->kT,
                             .ridge_clamped = 1};
    return TH_OK;
}

int th_student_stats_loss(const th_student_stats *s, const th_model *m, double *loss)
{
    TH_ASSERT(s != NULL && m != NULL && loss != NULL);
    th__quad_problem pb;
    int rc = as_problem(s, m, &pb);
    return rc == TH_OK ? th__quad_loss(&pb, m, loss) : rc;
}

int th_student_stats_solve(const th_student_stats *s, th_model *m, const th_solve_opts *opts,
                           th_solve_result *result)
{
    TH_ASSERT(s != NULL && m != NULL && opts != NULL);
    th__quad_problem pb;
    int rc = as_problem(s, m, &pb);
    return rc == TH_OK ? th__quad_solve(&pb, m, opts, result) : rc;
}
