/* pathsolve.c - the exact minimiser of a path objective that is quadratic in
 * the couplings and biases: the normal equations, solved by conjugate
 * gradients. Shared by the generator (gen/solve.c) and the PNAS student
 * (classify/student_solve.c), whose objectives differ only in which units
 * move and where the force is evaluated.
 *
 * The potential is linear in theta = {J_ij on coupled pairs, trained b_i}
 * (science.md section 1), so every moving unit's Euler-Maruyama residual is
 * affine in theta. With a = mu dt, y the state at which the force is taken
 * and c_i the parameter-free part of the residual (the caller's),
 *
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
 * unordered pair): <theta', A theta> = a tr(P K' G K^T). Conjugate gradients
 * with a Jacobi preconditioner solve it; each iteration is one
 * (moving, n) x (n, n+1) matrix product. */
#include "internal.h"

#include <math.h>
#include <string.h>

th_solve_opts th_solve_opts_default(void)
{
    th_solve_opts o;
    memset(&o, 0, sizeof o);
    o.tolerance = 1e-6;
    o.max_iterations = 3000;
    return o;
}

static int moving(const th__quad_problem *pb, size_t i)
{
    return i >= pb->move_begin && i < pb->move_end;
}

/* The ridge weight of pair (i, j), in the normal equations' scale: the
 * ridge between moving units; between a moving and a clamped unit the
 * ridge where the problem says so, else the clamped pairs' own ridge. */
static double pair_ridge(const th__quad_problem *pb, size_t i, size_t j, double ridge2kT,
                         double clamped2kT)
{
    const int mi = moving(pb, i), mj = moving(pb, j);
    if (mi && mj) return ridge2kT;
    if (!(mi || mj)) return 0.0;
    return pb->ridge_clamped ? ridge2kT : clamped2kT;
}

/* F = P K G for the moving rows: F (moving, n+1), rounded the same way for
 * any number of threads (backend.h), since the solve must give the
 * same model for any thread count. */
static void moving_rows_times_G(const th__quad_problem *pb, const double *J, const double *b,
                                double *F)
{
    const size_t n = pb->n, na = n + 1, m0 = pb->move_begin, nm = pb->move_end - m0;
    const double *Gb = pb->G + n * na; /* the constant's row: sums of y */
    th__gemm_f64(TH__N, TH__N, nm, na, n, 1.0, J + m0 * n, n, pb->G, na, 0.0, F, na);
#pragma omp parallel for schedule(static) if (nm * na >= 65536)
    for (size_t r = 0; r < nm; r++)
        for (size_t c = 0; c < na; c++) F[r * na + c] += b[m0 + r] * Gb[c];
}

int th__quad_loss(const th__quad_problem *pb, const th_model *m, double *loss)
{
    TH_ASSERT(pb != NULL && m != NULL && loss != NULL && pb->move_end <= pb->n);
    const size_t n = pb->n, na = n + 1, m0 = pb->move_begin, nm = pb->move_end - m0;
    const double a = pb->a;
    int rc = TH_OK;
    double *J = th__alloc(n * n * sizeof(double)), *b = th__alloc(n * sizeof(double));
    double *F = th__alloc(nm * na * sizeof(double) + 1), *rows = th__alloc(nm * sizeof(double) + 1);
    if (!J || !b || !F || !rows) {
        rc = th__fail(TH_ENOMEM, "out of memory for the loss of %zu units", n);
        goto done;
    }
    for (size_t i = 0; i < n * n; i++) J[i] = th_ptr_get(m->J, m->dtype, i);
    for (size_t i = 0; i < n; i++) b[i] = th_ptr_get(m->b, m->dtype, i);
    moving_rows_times_G(pb, J, b, F);
    /* equation (1): sum over moving rows i of K_i . (2 a H_i + a^2 F_i) */
#pragma omp parallel for schedule(static) if (nm >= 64)
    for (size_t r = 0; r < nm; r++) {
        const size_t i = m0 + r;
        const double *Hi = pb->H + i * na, *Fi = F + r * na;
        double acc = b[i] * (2 * a * Hi[n] + a * a * Fi[n]);
        for (size_t j = 0; j < n; j++) acc += J[i * n + j] * (2 * a * Hi[j] + a * a * Fi[j]);
        rows[r] = acc;
    }
    double sum = pb->q; /* rows in a fixed order: the same for any thread count */
    for (size_t r = 0; r < nm; r++) sum += rows[r];
    *loss = sum / (4.0 * a * pb->kT);
done:
    th__free(J);
    th__free(b);
    th__free(F);
    th__free(rows);
    return rc;
}

/* The parameters as a full symmetric J (n, n) and a bias vector (n) per
 * segment, and which of their entries are parameters (the same in every
 * segment). A stacked solve has S problems of one pattern, whose parameters
 * theta_s are tied by the neighbour penalty (gamma/2) sum_s |theta_{s+1} -
 * theta_s|^2: in the normal equations' scale 2 kT gamma (2 theta_s -
 * theta_{s-1} - theta_{s+1}), one neighbour at either end. */
struct space {
    const th__quad_problem *pb; /* (S) */
    size_t n, S, len;    /* len = n*n + n, one segment's coordinates */
    unsigned char *pair; /* (n, n): 1 where i != j are coupled and some unit moves */
    unsigned char *bias; /* (n): 1 where b_i is trained */
    double ridge2kT[TH__MAX_STACK]; /* each segment's ridge in the normal equations' scale */
    double clamped2kT[TH__MAX_STACK]; /* and its ridge on moving-clamped pairs */
    double bias2kT[TH__MAX_STACK];    /* and on the trained biases */
    double penalty2kT;   /* the neighbour penalty in that scale */
    double *F;           /* (moving, n+1) work: P K G */
};

/* out = A theta (see the file comment) for one segment's problem, J parts
 * symmetric. */
static void apply_A_one(const struct space *sp, size_t s, const double *J, const double *b,
                        double *outJ, double *outb)
{
    const th__quad_problem *pb = &sp->pb[s];
    const double ridge2kT = sp->ridge2kT[s], clamped2kT = sp->clamped2kT[s];
    const size_t n = sp->n, na = n + 1, m0 = pb->move_begin;
    moving_rows_times_G(pb, J, b, sp->F);
#pragma omp parallel for schedule(static) if (n >= 256)
    for (size_t i = 0; i < n; i++) {
        const int mi = moving(pb, i);
        for (size_t j = 0; j < n; j++) {
            double v = 0;
            if (sp->pair[i * n + j]) {
                if (mi) v += sp->F[(i - m0) * na + j];
                if (moving(pb, j)) v += sp->F[(j - m0) * na + i];
                v = pb->a * v + pair_ridge(pb, i, j, ridge2kT, clamped2kT) * J[i * n + j];
            }
            outJ[i * n + j] = v;
        }
        outb[i] = sp->bias[i] ? pb->a * sp->F[(i - m0) * na + n] + sp->bias2kT[s] * b[i] : 0.0;
    }
}

/* out = A x over the stacked coordinates (S segments of len). */
static void apply_A(const struct space *sp, const double *x, double *out)
{
    const size_t nn = sp->n * sp->n, len = sp->len, S = sp->S;
    for (size_t s = 0; s < S; s++)
        apply_A_one(sp, s, x + s * len, x + s * len + nn, out + s * len,
                    out + s * len + nn);
    if (S == 1 || sp->penalty2kT == 0) return;
    const double g = sp->penalty2kT;
#pragma omp parallel for schedule(static) if (len >= 65536)
    for (size_t i = 0; i < len; i++) {
        if (i < nn ? !sp->pair[i] : !sp->bias[i - nn]) continue;
        for (size_t s = 0; s < S; s++) {
            double v = 0;
            if (s > 0) v += x[s * len + i] - x[(s - 1) * len + i];
            if (s + 1 < S) v += x[s * len + i] - x[(s + 1) * len + i];
            out[s * len + i] += g * v;
        }
    }
}

/* <u, v> over one segment's parameters: each unordered pair once, then the
 * biases. The rows are summed in a fixed order, so the result does not
 * depend on the number of threads. */
static double dot_one(const struct space *sp, const double *uJ, const double *ub,
                      const double *vJ, const double *vb, double *row_sums)
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

/* <u, v> over the stacked parameters, segment after segment. */
static double dot(const struct space *sp, const double *u, const double *v, double *row_sums)
{
    const size_t nn = sp->n * sp->n, len = sp->len;
    double sum = dot_one(sp, u, u + nn, v, v + nn, row_sums);
    for (size_t s = 1; s < sp->S; s++)
        sum += dot_one(sp, u + s * len, u + s * len + nn, v + s * len, v + s * len + nn,
                       row_sums);
    return sum;
}

int th__quad_solve(const th__quad_problem *pb, th_model *m, const th_solve_opts *opts,
                   th_solve_result *result)
{
    return th__quad_solve_stacked(pb, 1, NULL, 0.0, &m, opts, result);
}

int th__quad_solve_stacked(const th__quad_problem *pbs, size_t S, const double *ridge_share,
                           double penalty, th_model *const *models, const th_solve_opts *opts,
                           th_solve_result *result)
{
    TH_ASSERT(pbs != NULL && models != NULL && opts != NULL && S >= 1 && S <= TH__MAX_STACK);
    const th__quad_problem *pb = &pbs[0];
    TH_ASSERT(pb->move_end <= pb->n && pb->move_begin < pb->move_end);
    if (!(opts->ridge >= 0) || !isfinite(opts->ridge))
        return th__fail(TH_EINVAL, "ridge = %g: expected a finite value >= 0", opts->ridge);
    if (!(opts->bias_ridge >= 0) || !isfinite(opts->bias_ridge))
        return th__fail(TH_EINVAL, "bias_ridge = %g: expected a finite value >= 0",
                        opts->bias_ridge);
    if (!(opts->clamped_ridge >= 0) || !isfinite(opts->clamped_ridge))
        return th__fail(TH_EINVAL, "clamped_ridge = %g: expected a finite value >= 0",
                        opts->clamped_ridge);
    if (!(penalty >= 0) || !isfinite(penalty))
        return th__fail(TH_EINVAL, "segment penalty = %g: expected a finite value >= 0",
                        penalty);
    if (!(opts->tolerance > 0) || !(opts->tolerance < 1))
        return th__fail(TH_EINVAL, "tolerance = %g: expected a value in (0, 1)",
                        opts->tolerance);
    if (opts->max_iterations == 0)
        return th__fail(TH_EINVAL, "max_iterations = 0: expected at least 1");

    int rc = TH_OK;
    const th_model *m = models[0];
    const size_t n = pb->n, na = n + 1, nn = n * n, nm = pb->move_end - pb->move_begin;
    /* x, r, z, d (search direction), Ad, diag: (n*n + n) each per segment */
    const size_t len = nn + n, total = S * len;
    struct space sp = {.pb = pbs, .n = n, .S = S, .len = len,
                       .penalty2kT = S > 1 ? 2.0 * pb->kT * penalty : 0.0};
    for (size_t s = 0; s < S; s++) {
        const double share = ridge_share ? ridge_share[s] : 1.0;
        sp.ridge2kT[s] = 2.0 * pb->kT * share * opts->ridge;
        sp.clamped2kT[s] = 2.0 * pb->kT * share * opts->clamped_ridge;
        sp.bias2kT[s] = 2.0 * pb->kT * share * opts->bias_ridge;
    }
    sp.pair = th__calloc(nn, 1);
    sp.bias = th__calloc(n, 1);
    sp.F = th__alloc(nm * na * sizeof(double));
    double *vec = th__alloc(6 * total * sizeof(double));
    double *row_sums = th__alloc(n * sizeof(double));
    if (!sp.pair || !sp.bias || !sp.F || !vec || !row_sums) {
        rc = th__fail(TH_ENOMEM, "out of memory for the solve of %zu units in %zu segments", n,
                      S);
        goto done;
    }
    double *x = vec, *r = vec + total, *z = vec + 2 * total, *d = vec + 3 * total;
    double *Ad = vec + 4 * total, *diag = vec + 5 * total;
    for (size_t g = 0; g < m->n_groups; g++)
        for (size_t h = 0; h < m->n_groups; h++) {
            if (!m->couples[g][h]) continue;
            for (size_t i = m->group_start[g]; i < m->group_start[g + 1]; i++)
                for (size_t j = m->group_start[h]; j < m->group_start[h + 1]; j++)
                    if (i != j && (moving(pb, i) || moving(pb, j))) sp.pair[i * n + j] = 1;
        }
    for (size_t i = 0; i < n; i++)
        sp.bias[i] = moving(pb, i) && (!pb->bias_trained || pb->bias_trained(pb->bias_ctx, i));

    /* Jacobi preconditioner, the diagonal of A. A parameter whose diagonal
     * is 0 in every segment (a unit no row ever moved away from 0, and no
     * penalty) does not enter the objective: it keeps its value. */
    unsigned char *keep_pair = th__calloc(nn, 1), *keep_bias = th__calloc(n, 1);
    if (!keep_pair || !keep_bias) {
        th__free(keep_pair);
        th__free(keep_bias);
        rc = th__fail(TH_ENOMEM, "out of memory for the solve of %zu units", n);
        goto done;
    }
    for (size_t s = 0; s < S; s++) {
        const double *G = pbs[s].G;
        const double pen = sp.penalty2kT * (double)((s > 0) + (s + 1 < S));
        double *dg = diag + s * len;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) {
                double v = 0;
                if (sp.pair[i * n + j]) {
                    v = pb->a * ((moving(pb, i) ? G[j * na + j] : 0) +
                                 (moving(pb, j) ? G[i * na + i] : 0)) +
                        pair_ridge(pb, i, j, sp.ridge2kT[s], sp.clamped2kT[s]);
                    if (pen > 0) v += pen;
                }
                dg[i * n + j] = v;
                if (sp.pair[i * n + j] && v > 0) keep_pair[i * n + j] = 1;
            }
            double v = sp.bias[i] ? pb->a * G[n * na + n] + sp.bias2kT[s] : 0;
            if (sp.bias[i] && pen > 0) v += pen;
            dg[nn + i] = v;
            if (sp.bias[i] && v > 0) keep_bias[i] = 1;
        }
    }
    for (size_t i = 0; i < nn; i++) sp.pair[i] = sp.pair[i] && keep_pair[i];
    for (size_t i = 0; i < n; i++) sp.bias[i] = sp.bias[i] && keep_bias[i];
    th__free(keep_pair);
    th__free(keep_bias);

    /* Start from the models' parameters; rhs = -proj(P H). */
    for (size_t s = 0; s < S; s++) {
        const th_model *ms = models[s];
        const double *H = pbs[s].H;
        double *xs = x + s * len, *rhsJ = z + s * len, *rhsb = rhsJ + nn; /* z: the rhs for now */
        for (size_t i = 0; i < nn; i++) xs[i] = sp.pair[i] ? th_ptr_get(ms->J, ms->dtype, i) : 0.0;
        for (size_t i = 0; i < n; i++)
            xs[nn + i] = sp.bias[i] ? th_ptr_get(ms->b, ms->dtype, i) : 0.0;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) {
                double v = 0;
                if (sp.pair[i * n + j]) {
                    if (moving(pb, i)) v += H[i * na + j];
                    if (moving(pb, j)) v += H[j * na + i];
                }
                rhsJ[i * n + j] = -v;
            }
            rhsb[i] = sp.bias[i] ? -H[i * na + n] : 0.0;
        }
    }
    const double rhs_norm = sqrt(dot(&sp, z, z, row_sums));
    apply_A(&sp, x, Ad);
    for (size_t i = 0; i < total; i++) r[i] = z[i] - Ad[i];
    for (size_t i = 0; i < total; i++) z[i] = diag[i] > 0 ? r[i] / diag[i] : 0.0;
    memcpy(d, z, total * sizeof(double));
    double rz = dot(&sp, r, z, row_sums);
    double rel = rhs_norm > 0 ? sqrt(dot(&sp, r, r, row_sums)) / rhs_norm : 0.0;
    size_t it = 0;
    while (rel > opts->tolerance && it < opts->max_iterations) {
        apply_A(&sp, d, Ad);
        const double dAd = dot(&sp, d, Ad, row_sums);
        if (!(dAd > 0)) break; /* d in the null space: nothing left to gain */
        const double alpha = rz / dAd;
        for (size_t i = 0; i < total; i++) {
            x[i] += alpha * d[i];
            r[i] -= alpha * Ad[i];
            z[i] = diag[i] > 0 ? r[i] / diag[i] : 0.0;
        }
        const double rz_next = dot(&sp, r, z, row_sums);
        const double beta = rz_next / rz;
        rz = rz_next;
        for (size_t i = 0; i < total; i++) d[i] = z[i] + beta * d[i];
        rel = sqrt(dot(&sp, r, r, row_sums)) / rhs_norm;
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
    for (size_t s = 0; s < S; s++) {
        th_model *ms = models[s];
        const double *xs = x + s * len;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++)
                if (sp.pair[i * n + j]) {
                    const double v = i < j ? xs[i * n + j] : xs[j * n + i];
                    th_ptr_set(ms->J, ms->dtype, i * n + j, v);
                }
            if (sp.bias[i]) th_ptr_set(ms->b, ms->dtype, i, xs[nn + i]);
        }
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
