/* metrics.c - the numbers behind thermo eval: the Frechet distance between
 * Gaussians, feature moments, nearest-neighbour distances, skewness, entropy
 * and quantiles.
 *
 * The Frechet (2-Wasserstein) distance between N(m1, S1) and N(m2, S2) is
 *     |m1 - m2|^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})
 * (Dowson & Landau 1982; the FID of Heusel et al. 2017 is this distance
 * between Inception features). The cross term is computed here from two
 * symmetric eigen-decompositions rather than a general matrix square root of
 * S1 S2: R = S1^{1/2} from the eigenvectors of S1, then the eigenvalues of
 * the symmetric R S2 R, whose square roots sum to the trace wanted. Both are
 * positive semi-definite in exact arithmetic, so eigenvalues rounding left
 * slightly negative are zeros, not imaginary parts to discard. */
#include "eval/eval_internal.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

/* Rows of B compared at once: the (rows of A, NEAREST_BLOCK) products stay
 * a few megabytes. */
#define NEAREST_BLOCK 2048

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static int check_symmetric(const double *S, size_t d, const char *name)
{
    double scale = 0;
    for (size_t i = 0; i < d * d; i++) scale = fmax(scale, fabs(S[i]));
    for (size_t i = 0; i < d; i++)
        for (size_t j = i + 1; j < d; j++)
            if (fabs(S[i * d + j] - S[j * d + i]) > 1e-9 * scale)
                return th__fail(TH_EINVAL, "%s is not symmetric: entry (%zu, %zu) = %g, "
                                "(%zu, %zu) = %g", name, i, j, S[i * d + j], j, i, S[j * d + i]);
    return TH_OK;
}

/* R = S^{1/2} = V diag(sqrt(max(l, 0))) V^T; work (d, d), w (d). */
static int sqrt_psd(const double *S, size_t d, double *R, double *V, double *w)
{
    memcpy(V, S, d * d * sizeof(double));
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, V,
                                     (lapack_int)d, w);
    if (info != 0)
        return th__fail(TH_EINVAL, "the eigen-decomposition of a %zu x %zu covariance failed "
                        "(LAPACK dsyevd info %d)", d, d, (int)info);
    /* columns of V are eigenvectors: scale column k by l_k^{1/4}, then
     * R = (V D^{1/4}) (V D^{1/4})^T = V D^{1/2} V^T, symmetric by construction */
    for (size_t k = 0; k < d; k++) {
        double s = sqrt(sqrt(w[k] > 0 ? w[k] : 0.0));
        for (size_t i = 0; i < d; i++) V[i * d + k] *= s;
    }
    th__syrk_f64(TH__N, d, d, 1.0, V, d, 0.0, R, d);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) R[i * d + j] = R[j * d + i];
    return TH_OK;
}

int th_frechet_distance(const double *m1, const double *S1, const double *m2, const double *S2,
                        size_t d, double *out)
{
    TH_ASSERT(m1 && S1 && m2 && S2 && out && d > 0);
    if (!all_finite(m1, d) || !all_finite(m2, d) || !all_finite(S1, d * d) ||
        !all_finite(S2, d * d))
        return th__fail(TH_EINVAL, "Frechet distance: a mean or covariance entry is not finite");
    int rc = check_symmetric(S1, d, "the first covariance");
    if (rc == TH_OK) rc = check_symmetric(S2, d, "the second covariance");
    if (rc != TH_OK) return rc;
    double *R = th__alloc(d * d * sizeof(double));
    double *V = th__alloc(d * d * sizeof(double));
    double *T = th__alloc(d * d * sizeof(double));
    double *w = th__alloc(d * sizeof(double));
    if (!R || !V || !T || !w) {
        rc = th__fail(TH_ENOMEM, "out of memory for %zu x %zu covariances", d, d);
        goto done;
    }
    rc = sqrt_psd(S1, d, R, V, w);
    if (rc != TH_OK) goto done;
    /* M = R S2 R: T = S2 R, then V = R T (S2 checked symmetric above) */
    th__gemm_f64(TH__N, TH__N, d, d, d, 1.0, S2, d, R, d, 0.0, T, d);
    th__gemm_f64(TH__N, TH__N, d, d, d, 1.0, R, d, T, d, 0.0, V, d);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) {
            double avg = 0.5 * (V[i * d + j] + V[j * d + i]);
            V[i * d + j] = V[j * d + i] = avg;
        }
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, V,
                                     (lapack_int)d, w);
    if (info != 0) {
        rc = th__fail(TH_EINVAL, "the eigenvalues of S1^1/2 S2 S1^1/2 (%zu x %zu) failed "
                      "(LAPACK dsyevd info %d)", d, d, (int)info);
        goto done;
    }
    double cross = 0, tr = 0, dm = 0;
    for (size_t k = 0; k < d; k++) cross += sqrt(w[k] > 0 ? w[k] : 0.0);
    for (size_t k = 0; k < d; k++) {
        tr += S1[k * d + k] + S2[k * d + k];
        dm += (m1[k] - m2[k]) * (m1[k] - m2[k]);
    }
    double fd = dm + tr - 2 * cross;
    /* exactly 0 for identical Gaussians; rounding may leave -1e-12 */
    *out = fd > 0 ? fd : 0.0;
done:
    th__free(R);
    th__free(V);
    th__free(T);
    th__free(w);
    return rc;
}

int th_feature_moments(const float *F, size_t n, size_t d, double *mean, double *cov)
{
    TH_ASSERT(F && mean && cov && d > 0);
    if (n < 2) return th__fail(TH_EINVAL, "n = %zu: a covariance needs at least 2 rows", n);
    for (size_t j = 0; j < d; j++) mean[j] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) mean[j] += (double)F[i * d + j];
    for (size_t j = 0; j < d; j++) mean[j] /= (double)n;
    /* centred rows in double, then cov = Xc^T Xc / (n - 1) by dsyrk in
     * blocks of rows, so that memory stays (block, d) */
    const size_t block = 1024;
    double *Xc = th__alloc((n < block ? n : block) * d * sizeof(double));
    if (!Xc) return th__fail(TH_ENOMEM, "out of memory for the covariance of %zu x %zu", n, d);
    memset(cov, 0, d * d * sizeof(double));
    for (size_t r0 = 0; r0 < n; r0 += block) {
        const size_t rows = n - r0 < block ? n - r0 : block;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < d; j++) Xc[i * d + j] = (double)F[(r0 + i) * d + j] - mean[j];
        th__syrk_f64(TH__T, d, rows, 1.0, Xc, d, 1.0, cov, d);
    }
    const double inv = 1.0 / (double)(n - 1);
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            cov[i * d + j] *= inv;
            cov[j * d + i] = cov[i * d + j];
        }
    th__free(Xc);
    return TH_OK;
}

static double exact_distance(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t k = 0; k < d; k++) {
        double t = (double)a[k] - (double)b[k];
        s += t * t;
    }
    return sqrt(s);
}

int th_nearest_distances(const float *A, size_t na, const float *B, size_t nb, size_t d,
                         double *dist, size_t *index)
{
    TH_ASSERT((A && dist) || na == 0);
    TH_ASSERT(B && nb > 0 && d > 0);
    if (na == 0) return TH_OK;
    const size_t bb = nb < NEAREST_BLOCK ? nb : NEAREST_BLOCK;
    float *G = th__alloc(na * bb * sizeof(float));     /* (na, bb) products a.b */
    double *nA = th__alloc(na * sizeof(double));
    double *nB = th__alloc(nb * sizeof(double));
    double *best = th__alloc(na * sizeof(double));     /* smallest approximate d^2 */
    size_t *arg = th__alloc(na * sizeof(size_t));
    int rc = TH_OK;
    if (!G || !nA || !nB || !best || !arg) {
        rc = th__fail(TH_ENOMEM, "out of memory comparing %zu images with %zu", na, nb);
        goto done;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < na; i++) {
        double s = 0;
        for (size_t k = 0; k < d; k++) s += (double)A[i * d + k] * (double)A[i * d + k];
        nA[i] = s;
        best[i] = INFINITY;
        arg[i] = 0;
    }
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < nb; j++) {
        double s = 0;
        for (size_t k = 0; k < d; k++) s += (double)B[j * d + k] * (double)B[j * d + k];
        nB[j] = s;
    }
    for (size_t j0 = 0; j0 < nb; j0 += bb) {
        const size_t cols = nb - j0 < bb ? nb - j0 : bb;
        th__gemm_f32(0, 1, na, cols, d, 1.0f, A, d, B + j0 * d, d, 0.0f, G, cols);
        /* rows scanned in a fixed order: strict < keeps the lowest index */
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < na; i++) {
            const float *g = G + i * cols;
            for (size_t j = 0; j < cols; j++) {
                double d2 = nA[i] + nB[j0 + j] - 2.0 * (double)g[j];
                if (d2 < best[i]) {
                    best[i] = d2;
                    arg[i] = j0 + j;
                }
            }
        }
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < na; i++) {
        dist[i] = exact_distance(A + i * d, B + arg[i] * d, d);
        if (index) index[i] = arg[i];
    }
done:
    th__free(G);
    th__free(nA);
    th__free(nB);
    th__free(best);
    th__free(arg);
    return rc;
}

double th_stats_skewness(const float *x, size_t n)
{
    TH_ASSERT(x || n == 0);
    if (n == 0) return 0.0;
    double m = 0;
    for (size_t i = 0; i < n; i++) m += (double)x[i];
    m /= (double)n;
    double m2 = 0, m3 = 0;
    for (size_t i = 0; i < n; i++) {
        double c = (double)x[i] - m;
        m2 += c * c;
        m3 += c * c * c;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    if (!(m2 > 0)) return 0.0;
    return m3 / (m2 * sqrt(m2));
}

double th_entropy_counts(const size_t *counts, size_t k)
{
    TH_ASSERT(counts || k == 0);
    double total = 0;
    for (size_t c = 0; c < k; c++) total += (double)counts[c];
    if (total == 0) return 0.0;
    double h = 0;
    for (size_t c = 0; c < k; c++)
        if (counts[c]) {
            double p = (double)counts[c] / total;
            h -= p * log(p);
        }
    return h;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double th_stats_quantile(const double *values, size_t n, double q)
{
    TH_ASSERT(values && n > 0 && q >= 0 && q <= 1);
    double *v = malloc(n * sizeof *v);
    TH_ASSERT(v != NULL);
    memcpy(v, values, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) lo = n - 1;
    double r = lo + 1 < n ? v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]) : v[lo];
    free(v);
    return r;
}
