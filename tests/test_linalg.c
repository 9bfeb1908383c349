/* test_linalg.c - the simulated stochastic processing unit and its
 * algorithms (science.md section 5), against independent references:
 * closed forms, Kronecker-product solves, LAPACK's direct factorisations.
 *
 * Statistical checks use fixed seeds and a few-sigma bound on the ratio of
 * the true error to the run's own error estimate: with d^2 entries the
 * ratio ||estimate - exact||_F / error concentrates near 1, so a bound on
 * both sides catches an estimate that is wrong and an error bar that is
 * too wide to mean anything. */
#include "harness.h"

#include "linalg/linalg_internal.h"
#include "thermo.h"

#include <cblas.h>
#include <lapacke.h>
#include <omp.h>
#include <stdlib.h>

/* -------------------------------------------------------------- helpers */

static double gauss(uint64_t *st)
{
    double u1 = test_uniform(st, 1e-300, 1.0), u2 = test_uniform(st, 0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double frob_diff(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(s);
}

static double frob(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += a[k] * a[k];
    return sqrt(s);
}

/* A = Q diag(lambda) Q^T, lambda log-spaced over [1, kappa], Q orthogonal
 * from the QR factors of a Gaussian matrix. */
static void random_spd(size_t d, double kappa, uint64_t seed, double *A)
{
    uint64_t st = seed;
    double *Q = malloc(d * d * sizeof *Q), *tau = malloc(d * sizeof *tau);
    for (size_t k = 0; k < d * d; k++) Q[k] = gauss(&st);
    LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, Q, (lapack_int)d, tau);
    LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, (lapack_int)d, Q,
                   (lapack_int)d, tau);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++) {
                double lam = d > 1 ? pow(kappa, (double)k / (double)(d - 1)) : 1.0;
                s += Q[i * d + k] * lam * Q[j * d + k];
            }
            A[i * d + j] = s;
        }
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) A[j * d + i] = A[i * d + j];
    free(Q);
    free(tau);
}

/* Off-diagonals in [-1, 0] (sign = -1) or [-1, 1] (sign = 0), diagonal
 * margin times the row's |off-diagonal| sum: a dominant matrix. */
static void random_dominant(size_t d, int mixed_signs, double margin, uint64_t seed, double *A)
{
    uint64_t st = seed;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) {
            double v = mixed_signs ? test_uniform(&st, -1.0, 1.0) : -test_uniform(&st, 0.0, 1.0);
            A[i * d + j] = A[j * d + i] = v;
        }
    for (size_t i = 0; i < d; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++)
            if (j != i) s += fabs(A[i * d + j]);
        A[i * d + i] = margin * s + 0.1;
    }
}

static void lapack_inverse(const double *A, size_t d, double *out)
{
    memcpy(out, A, d * d * sizeof *out);
    LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, out, (lapack_int)d);
    LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, out, (lapack_int)d);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) out[j * d + i] = out[i * d + j];
}

static void lapack_solve(const double *A, const double *b, size_t d, double *x)
{
    double *W = malloc(d * d * sizeof *W);
    memcpy(W, A, d * d * sizeof *W);
    memcpy(x, b, d * sizeof *x);
    LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, 1, W, (lapack_int)d, x, 1);
    free(W);
}

static double lapack_logdet(const double *A, size_t d)
{
    double *W = malloc(d * d * sizeof *W);
    memcpy(W, A, d * d * sizeof *W);
    LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, W, (lapack_int)d);
    double s = 0.0;
    for (size_t i = 0; i < d; i++) s += 2.0 * log(W[i * d + i]);
    free(W);
    return s;
}

/* M S + S M^T = Q through the Kronecker form (I (x) M + M (x) I) vec S =
 * vec Q, solved by LAPACK dgesv: independent of the Schur route. */
static void kron_lyap(const double *M, const double *Q, size_t n, double *S)
{
    const size_t m = n * n;
    double *K = calloc(m * m, sizeof *K);
    lapack_int *piv = malloc(m * sizeof *piv);
    /* Row (i, j) of the equation: sum_k M_ik S_kj + S_ik M_jk = Q_ij. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n; k++) {
                K[(i * n + j) * m + k * n + j] += M[i * n + k];
                K[(i * n + j) * m + i * n + k] += M[j * n + k];
            }
    memcpy(S, Q, m * sizeof *S);
    LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)m, 1, K, (lapack_int)m, piv, S, 1);
    free(K);
    free(piv);
}

static th_tla_protocol quick_protocol(double time_in_tau, const th_spu *s, uint64_t seed)
{
    th_tla_protocol p = th_tla_protocol_default();
    p.time = time_in_tau * s->tau;
    p.seed = seed;
    return p;
}

/* ------------------------------------------------------- exponential */

static void test_linalg_expm_closed_forms(void)
{
    /* Upper triangular [[a, b], [0, c]]: e^A = [[e^a, b (e^a - e^c) / (a - c)],
     * [0, e^c]] (a != c); a rotation generator [[0, -w], [w, 0]] gives
     * cos and sin. Large entries exercise scaling and squaring. */
    const double a = -1.3, b = 7.0, c = 0.4;
    double A[4] = {a, b, 0.0, c}, E[4];
    CHECK_EQ_INT(th_matrix_expm(A, 2, E), TH_OK);
    CHECK_REL(E[0], exp(a), 1e-14);
    CHECK_REL(E[1], b * (exp(a) - exp(c)) / (a - c), 1e-13);
    CHECK_CLOSE(E[2], 0.0, 1e-15);
    CHECK_REL(E[3], exp(c), 1e-14);
    const double w = 25.0;
    double R[4] = {0.0, -w, w, 0.0};
    CHECK_EQ_INT(th_matrix_expm(R, 2, E), TH_OK);
    CHECK_CLOSE(E[0], cos(w), 1e-12);
    CHECK_CLOSE(E[1], -sin(w), 1e-12);
    CHECK_CLOSE(E[2], sin(w), 1e-12);
    CHECK_CLOSE(E[3], cos(w), 1e-12);
    /* A symmetric 6 x 6 against its eigen-decomposition. */
    const size_t d = 6;
    double S[36], U[36], lam[6], ref[36], got[36];
    random_spd(d, 30.0, 11, S);
    for (size_t k = 0; k < d * d; k++) S[k] *= -0.2;
    memcpy(U, S, sizeof U);
    LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'L', 6, U, 6, lam);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++) s += U[i * d + k] * exp(lam[k]) * U[j * d + k];
            ref[i * d + j] = s;
        }
    CHECK_EQ_INT(th_matrix_expm(S, d, got), TH_OK);
    CHECK(frob_diff(got, ref, d * d) <= 1e-13 * frob(ref, d * d));
    double bad[4] = {NAN, 0, 0, 0};
    CHECK_EQ_INT(th_matrix_expm(bad, 2, E), TH_EINVAL);
}

/* ------------------------------------------------------------- Lyapunov */

static void test_linalg_lyap_vs_kronecker(void)
{
    /* A non-normal stable drift: SPD plus a large skew part. */
    const size_t n = 6;
    double M[36], Q[36], S[36], ref[36], R[36];
    uint64_t st = 5;
    random_spd(n, 10.0, 21, M);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            double k = 3.0 * gauss(&st);
            M[i * n + j] += k;
            M[j * n + i] -= k;
        }
    random_spd(n, 5.0, 22, Q);
    CHECK_EQ_INT(th_lyap_solve(M, Q, n, S), TH_OK);
    kron_lyap(M, Q, n, ref);
    CHECK(frob_diff(S, ref, n * n) <= 1e-10 * frob(ref, n * n));
    /* Residual M S + S M^T - Q. */
    th_matmul_openblas_f64(0, 0, 6, 6, 6, 1.0, M, 6, S, 6, 0.0, R, 6);
    th_matmul_openblas_f64(0, 1, 6, 6, 6, 1.0, S, 6, M, 6, 1.0, R, 6);
    CHECK(frob_diff(R, Q, n * n) <= 1e-11 * frob(Q, n * n));
    /* An unstable drift has no stationary state. */
    double U2[4] = {-1.0, 0.0, 0.0, 2.0}, Q2[4] = {1, 0, 0, 1}, S2[4];
    CHECK_EQ_INT(th_lyap_solve(U2, Q2, 2, S2), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "real part");
}

/* The RLC drift with exact parts: the Lyapunov stationary covariance of
 * the voltages must be kappa0 r C^-1 (science.md section 5), an analytic
 * result that does not go through any Schur form. */
static void test_linalg_rlc_stationary_analytic(void)
{
    const size_t d = 5;
    double A[25], inv[25], cov[25], mean[5];
    random_dominant(d, 0, 1.2, 31, A);
    th_spu_params p = th_spu_params_default();
    th_spu *s = th_spu_alloc(&p, A, NULL, d);
    CHECK(s != NULL);
    if (!s) return;
    CHECK_EQ_INT(s->mapping, TH_SPU_DIRECT);
    CHECK_EQ_INT(s->n, 2 * d);
    CHECK_EQ_INT(th_spu_stationary(s, mean, cov), TH_OK);
    lapack_inverse(A, d, inv);
    for (size_t k = 0; k < d * d; k++) inv[k] *= p.kappa0 * p.resistance / s->alpha;
    CHECK(frob_diff(cov, inv, d * d) <= 1e-9 * frob(inv, d * d));
    for (size_t i = 0; i < d; i++) CHECK_CLOSE(mean[i], 0.0, 1e-30);
    /* The drift is far from normal: M M^T != M^T M. */
    double MMt[100], MtM[100];
    th_matmul_openblas_f64(0, 1, 10, 10, 10, 1.0, s->M, 10, s->M, 10,
                0.0, MMt, 10);
    th_matmul_openblas_f64(1, 0, 10, 10, 10, 1.0, s->M, 10, s->M, 10,
                0.0, MtM, 10);
    CHECK(frob_diff(MMt, MtM, 100) > 0.1 * frob(MMt, 100));
    th_spu_free(s);
}

/* ---------------------------------------------------------- transitions */

static void test_linalg_transition_methods_agree(void)
{
    const size_t d = 4;
    double A[16];
    random_dominant(d, 0, 1.3, 41, A);
    th_spu_params p = th_spu_params_default();
    th_spu *s = th_spu_alloc(&p, A, NULL, d);
    CHECK(s != NULL);
    if (!s) return;
    const size_t n = s->n;
    double Q[64], F1[64], S1[64], F2[64], S2[64], F4[64], S4[64], W[64], Sinf[64];
    th_matmul_openblas_f64(0, 1, 8, 8, 8, 1.0, s->G, 8, s->G, 8, 0.0, Q, 8);
    th__symmetrise(Q, n);
    const double h = 0.3 * s->tau;
    CHECK_EQ_INT(th_ou_transition(s->M, Q, n, h, TH_OU_LYAPUNOV, F1, S1), TH_OK);
    CHECK_EQ_INT(th_ou_transition(s->M, Q, n, h, TH_OU_VAN_LOAN, F2, S2), TH_OK);
    CHECK(frob_diff(F1, F2, n * n) <= 1e-11 * frob(F1, n * n));
    CHECK(frob_diff(S1, S2, n * n) <= 1e-8 * frob(S1, n * n));
    /* Semigroup: Sigma(2h) = Sigma(h) + F Sigma(h) F^T and F(2h) = F(h)^2. */
    CHECK_EQ_INT(th_ou_transition(s->M, Q, n, 2 * h, TH_OU_VAN_LOAN, F4, S4), TH_OK);
    th_matmul_openblas_f64(0, 0, 8, 8, 8, 1.0, F1, 8, S1, 8, 0.0, W, 8);
    double T[64];
    memcpy(T, S1, sizeof T);
    th_matmul_openblas_f64(0, 1, 8, 8, 8, 1.0, W, 8, F1, 8, 1.0, T, 8);
    CHECK(frob_diff(T, S4, n * n) <= 1e-8 * frob(S4, n * n));
    th_matmul_openblas_f64(0, 0, 8, 8, 8, 1.0, F1, 8, F1, 8, 0.0, W, 8);
    CHECK(frob_diff(W, F4, n * n) <= 1e-11 * frob(F4, n * n));
    /* A long interval forgets the start: Sigma -> S_inf, F -> 0. Van Loan's
     * block exponential would overflow there, and says so. */
    CHECK_EQ_INT(th_ou_transition(s->M, Q, n, 80 * s->tau, TH_OU_LYAPUNOV, F4, S4), TH_OK);
    CHECK_EQ_INT(th_lyap_solve(s->M, Q, n, Sinf), TH_OK);
    CHECK(frob_diff(S4, Sinf, n * n) <= 1e-12 * frob(Sinf, n * n));
    CHECK(frob(F4, n * n) < 1e-30);
    CHECK_EQ_INT(th_ou_transition(s->M, Q, n, 80 * s->tau, TH_OU_VAN_LOAN, F4, S4), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "Lyapunov method");
    CHECK_EQ_INT(th_ou_transition(s->M, Q, n, -1.0, TH_OU_LYAPUNOV, F1, S1), TH_EINVAL);
    th_spu_free(s);
}

/* The non-normal example: dz = -M z dt + dW with M = [[a, b], [0, c]].
 * Closed forms: e^{-Mh} from the triangular exponential, and the stationary
 * covariance from the three scalar equations of M S + S M^T = I:
 * s22 = 1 / (2c), s12 = -b s22 / (a + c), s11 = (1 - 2 b s12) / (2a).
 * The shortcut that builds Sigma(h) from the symmetric part Ms = (M + M^T)/2
 * as Ms^-1 (I - e^{-2 Ms h}) / 2 is wrong here by far more than 3%; thermo
 * agrees with the closed form to rounding. */
static void test_linalg_nonnormal_drift(void)
{
    const double a = 1.0, b = 3.0, c = 2.0, h = 0.7;
    const double M[4] = {a, b, 0.0, c}, Q[4] = {1.0, 0.0, 0.0, 1.0};
    const double s22 = 1.0 / (2 * c), s12 = -b * s22 / (a + c), s11 = (1 - 2 * b * s12) / (2 * a);
    const double S[4] = {s11, s12, s12, s22};
    const double ea = exp(-a * h), ec = exp(-c * h);
    const double F[4] = {ea, -b * (ea - ec) / (c - a), 0.0, ec};
    double FS[4], exact[4];
    /* Sigma(h) = S - F S F^T by hand. */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) FS[i * 2 + j] = F[i * 2] * S[j] + F[i * 2 + 1] * S[2 + j];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            exact[i * 2 + j] = S[i * 2 + j] - (FS[i * 2] * F[j * 2] + FS[i * 2 + 1] * F[j * 2 + 1]);
    for (int method = 0; method < 2; method++) {
        double Fg[4], Sg[4];
        CHECK_EQ_INT(th_ou_transition(M, Q, 2, h, (th_ou_method)method, Fg, Sg), TH_OK);
        CHECK(frob_diff(Fg, F, 4) <= 1e-14);
        CHECK(frob_diff(Sg, exact, 4) <= 1e-13 * frob(exact, 4));
    }
    double Sl[4];
    CHECK_EQ_INT(th_lyap_solve(M, Q, 2, Sl), TH_OK);
    CHECK(frob_diff(Sl, S, 4) <= 1e-14);
    /* The symmetric-part shortcut. */
    double Ms[4] = {a, b / 2, b / 2, c}, lam[2], short_cov[4];
    LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'L', 2, Ms, 2, lam);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double v = 0.0;
            for (int k = 0; k < 2; k++)
                v += Ms[i * 2 + k] * (1.0 - exp(-2 * lam[k] * h)) / (2 * lam[k]) * Ms[j * 2 + k];
            short_cov[i * 2 + j] = v;
        }
    CHECK(frob_diff(short_cov, exact, 4) > 0.03 * frob(exact, 4));
}

/* ------------------------------------------------------- realisability */

static void test_linalg_realise(void)
{
    th_spu_mapping mp;
    double u[4], shift;
    double A[16];
    random_dominant(4, 0, 1.1, 51, A);
    CHECK_EQ_INT(th_spu_realise(A, 4, &mp, u, &shift), TH_OK);
    CHECK_EQ_INT(mp, TH_SPU_DIRECT);
    random_dominant(4, 1, 1.1, 52, A);
    CHECK_EQ_INT(th_spu_realise(A, 4, &mp, u, &shift), TH_OK);
    CHECK_EQ_INT(mp, TH_SPU_DOUBLED);
    /* D0 B D0 with B dominant: an M-matrix whose rows are not dominant. */
    double B[16], d0[4] = {1.0, 6.0, 1.0, 0.5};
    random_dominant(4, 0, 1.05, 53, B);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++) A[i * 4 + j] = d0[i] * B[i * 4 + j] * d0[j];
    CHECK_EQ_INT(th_spu_realise(A, 4, &mp, u, &shift), TH_OK);
    CHECK_EQ_INT(mp, TH_SPU_SCALED);
    for (size_t i = 0; i < 4; i++) {
        double row = 0.0;
        for (size_t j = 0; j < 4; j++) row += u[i] * A[i * 4 + j] * u[j];
        CHECK(u[i] > 0.0 && row > 0.0);
    }
    /* SPD but with a comparison matrix that is not an M-matrix: all-ones
     * off-diagonal 0.9 with positive signs has <A> = 1.9 I - 0.9 J, whose
     * smallest eigenvalue is 1.9 - 0.9 * 4 < 0. */
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++) A[i * 4 + j] = i == j ? 1.0 : 0.3;
    for (size_t i = 0; i < 4; i++) A[i * 4 + (i + 1) % 4] = A[((i + 1) % 4) * 4 + i] = -0.6;
    CHECK_EQ_INT(th_spu_realise(A, 4, &mp, u, &shift), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "not realisable");
    CHECK_STR_CONTAINS(th_last_error(), "row 1");
    CHECK(shift > 0.0);
    for (size_t i = 0; i < 4; i++) A[i * 4 + i] += shift * 1.01;
    CHECK_EQ_INT(th_spu_realise(A, 4, &mp, u, NULL), TH_OK);
    /* The Maxwell matrix of two cells of 1 and 2 nF joined by 0.5 nF. */
    double self[2] = {1.0, 2.0}, cpl[4] = {0.0, 0.5, 0.5, 0.0}, C[4];
    th_spu_maxwell(self, cpl, 2, C);
    CHECK_CLOSE(C[0], 1.5, 0);
    CHECK_CLOSE(C[1], -0.5, 0);
    CHECK_CLOSE(C[2], -0.5, 0);
    CHECK_CLOSE(C[3], 2.5, 0);
    /* Not symmetric; not positive definite. */
    random_dominant(3, 0, 1.2, 54, A);
    A[1] += 0.1;
    th_spu_params p = th_spu_params_default();
    CHECK(th_spu_alloc(&p, A, NULL, 3) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "symmetric");
    double I2[4] = {1.0, 2.0, 2.0, 1.0};
    p.model = TH_SPU_OVERDAMPED;
    CHECK(th_spu_alloc(&p, I2, NULL, 2) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "positive definite");
}

/* Every mapping reproduces A^-1 exactly at equilibrium (Lyapunov solve of
 * the programmed circuit against LAPACK's inverse of A). */
static void test_linalg_mappings_exact(void)
{
    double A[16], B[16], inv[16], cov[16], d0[4] = {1.0, 6.0, 1.0, 0.5};
    for (int which = 0; which < 3; which++) {
        if (which == 0) random_dominant(4, 0, 1.2, 61, A);
        if (which == 1) random_dominant(4, 1, 1.2, 62, A);
        if (which == 2) {
            random_dominant(4, 0, 1.05, 53, B);
            for (size_t i = 0; i < 4; i++)
                for (size_t j = 0; j < 4; j++) A[i * 4 + j] = d0[i] * B[i * 4 + j] * d0[j];
        }
        th_spu_params p = th_spu_params_default();
        th_spu *s = th_spu_alloc(&p, A, NULL, 4);
        CHECK(s != NULL);
        if (!s) continue;
        const th_spu_mapping expect[3] = {TH_SPU_DIRECT, TH_SPU_DOUBLED, TH_SPU_SCALED};
        CHECK_EQ_INT(s->mapping, expect[which]);
        CHECK_EQ_INT(th_spu_stationary(s, NULL, cov), TH_OK);
        lapack_inverse(A, 4, inv);
        for (size_t k = 0; k < 16; k++) cov[k] /= s->cov_scale;
        CHECK(frob_diff(cov, inv, 16) <= 1e-9 * frob(inv, 16));
        th_spu_free(s);
    }
}

/* ---------------------------------------------- algorithms vs LAPACK */

/* ratio = ||est - ref|| / error: near 1 for an honest error estimate. */
static void check_within_error(const char *what, const th_tla_result *r, const double *ref,
                               double lo, double hi)
{
    size_t n = r->rows * r->cols;
    double ratio = frob_diff(r->estimate, ref, n) / r->error;
    if (!(ratio >= lo && ratio <= hi))
        fprintf(stderr, "  %s: |error| / estimated error = %.3g (expected %g .. %g)\n", what,
                ratio, lo, hi);
    CHECK(ratio >= lo && ratio <= hi);
    CHECK(r->sim_time > 0.0 && r->samples > 0);
}

static void test_linalg_inverse_agrees(void)
{
    const size_t d = 6;
    double A[36], inv[36];
    for (int model = 0; model < 2; model++) {
        th_spu_params p = th_spu_params_default();
        p.model = (th_spu_model)model;
        if (model == TH_SPU_RLC) random_dominant(d, 1, 1.3, 71, A);
        else random_spd(d, 10.0, 72, A);
        lapack_inverse(A, d, inv);
        th_spu *s = th_spu_alloc(&p, A, NULL, d);
        CHECK(s != NULL);
        if (!s) continue;
        for (int integ = 0; integ < 2; integ++) {
            /* Euler takes about 100 steps per interval on the RLC board. */
            th_tla_protocol pr = quick_protocol(integ ? (model ? 1500 : 500) : 3000, s,
                                                100 + (uint64_t)integ);
            pr.integrator = (th_tla_integrator)integ;
            th_tla_result r;
            CHECK_EQ_INT(th_tla_inverse(s, &pr, &r), TH_OK);
            check_within_error(model ? "overdamped inverse" : "RLC inverse", &r, inv, 0.3, 2.5);
            /* Relative error of a few percent: the run did average. */
            CHECK(r.error < 0.1 * frob(inv, d * d));
            th_tla_result_free(&r);
        }
        th_spu_free(s);
    }
}

static void test_linalg_solve_agrees(void)
{
    const size_t d = 6;
    double A[36], b[6], x[6];
    uint64_t st = 81;
    for (size_t i = 0; i < d; i++) b[i] = gauss(&st);
    for (int model = 0; model < 2; model++) {
        th_spu_params p = th_spu_params_default();
        p.model = (th_spu_model)model;
        if (model == TH_SPU_RLC) random_dominant(d, 0, 1.3, 82, A);
        else random_spd(d, 10.0, 83, A);
        lapack_solve(A, b, d, x);
        th_spu *s = th_spu_alloc(&p, A, b, d);
        CHECK(s != NULL);
        if (!s) continue;
        th_tla_protocol pr = quick_protocol(3000, s, 7);
        th_tla_result r;
        CHECK_EQ_INT(th_tla_solve(s, &pr, &r), TH_OK);
        CHECK_EQ_INT(r.rows, d);
        check_within_error(model ? "overdamped solve" : "RLC solve", &r, x, 0.1, 3.0);
        th_tla_result_free(&r);
        th_spu_free(s);
    }
}

static void test_linalg_logdet_agrees(void)
{
    const size_t d = 5;
    double A[25];
    for (int model = 0; model < 2; model++) {
        th_spu_params p = th_spu_params_default();
        p.model = (th_spu_model)model;
        if (model == TH_SPU_RLC) random_dominant(d, 1, 1.3, 91, A);
        else random_spd(d, 20.0, 92, A);
        const double ref = lapack_logdet(A, d);
        th_spu *probe = th_spu_alloc(&p, A, NULL, d);
        CHECK(probe != NULL);
        if (!probe) continue;
        th_tla_protocol pr = quick_protocol(1000, probe, 9);
        th_spu_free(probe);
        pr.lambda_nodes = 8;
        th_tla_result r;
        CHECK_EQ_INT(th_tla_logdet(&p, A, d, &pr, &r), TH_OK);
        /* One number: within 3.5 sigma, and sigma itself small. */
        double z = fabs(r.estimate[0] - ref) / r.error;
        if (!(z <= 3.5)) fprintf(stderr, "  logdet %.6g vs %.6g, error %.3g\n", r.estimate[0], ref,
                                 r.error);
        CHECK(z <= 3.5);
        CHECK(r.error < 0.05 * fabs(ref) + 0.05);
        th_tla_result_free(&r);
    }
}

static void test_linalg_sample_agrees(void)
{
    /* Target N(m, S): the SPU is programmed with the precision P = S^-1. */
    const size_t d = 4, n_samples = 2000;
    double S[16], P[16];
    random_dominant(d, 0, 1.3, 101, P);
    lapack_inverse(P, d, S);
    const double m[4] = {1.0, -2.0, 0.5, 3.0};
    th_spu_params p = th_spu_params_default();
    th_spu *s = th_spu_alloc(&p, P, NULL, d);
    CHECK(s != NULL);
    if (!s) return;
    th_tla_protocol pr = quick_protocol(3000, s, 3);
    double *x = malloc(n_samples * d * sizeof *x);
    th_tla_result r;
    CHECK_EQ_INT(th_tla_sample(s, &pr, m, n_samples, x, &r), TH_OK);
    check_within_error("sample covariance", &r, S, 0.3, 2.5);
    /* The handed-out samples have mean m: within 5 standard errors of a
     * correlated sequence (interval tau/2, so about 2 states per
     * independent one: a factor sqrt(2) on the naive error). */
    for (size_t i = 0; i < d; i++) {
        double mean = 0.0;
        for (size_t k = 0; k < n_samples; k++) mean += x[k * d + i];
        mean /= (double)n_samples;
        CHECK_CLOSE(mean, m[i], 5.0 * sqrt(2.0 * S[i * d + i] / (double)n_samples) * 2.0);
    }
    free(x);
    th_tla_result_free(&r);
    th_spu_free(s);
}

static void test_linalg_lyap_agrees(void)
{
    /* A S + S A^T = D with a non-symmetric A: reference by the Kronecker
     * solve. */
    const size_t d = 4;
    double A[16], D[16], ref[16];
    uint64_t st = 111;
    random_spd(d, 5.0, 112, A);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) {
            double k = gauss(&st);
            A[i * d + j] += k;
            A[j * d + i] -= k;
        }
    random_spd(d, 3.0, 113, D);
    kron_lyap(A, D, d, ref);
    th_spu *s = th_spu_alloc_lyap(A, D, d);
    CHECK(s != NULL);
    if (!s) return;
    th_tla_protocol pr = quick_protocol(3000, s, 5);
    th_tla_result r;
    CHECK_EQ_INT(th_tla_lyap(s, &pr, &r), TH_OK);
    check_within_error("lyap", &r, ref, 0.3, 2.5);
    th_tla_result_free(&r);
    CHECK_EQ_INT(th_tla_inverse(s, &pr, &r), TH_EINVAL);
    th_spu_free(s);
    /* Unstable drift. */
    double U[4] = {-1.0, 0.0, 0.0, 1.0}, I2[4] = {1, 0, 0, 1};
    CHECK(th_spu_alloc_lyap(U, I2, 2) == NULL);
}

/* ------------------------------------------------- error against time */

/* Error against LAPACK at times T, 4T, 16T, 64T, averaged over three
 * seeds: the least-squares slope of log error on log time is -1/2 in
 * theory; the bound is loose for so few runs. */
static void test_linalg_error_falls_as_inverse_sqrt_time(void)
{
    const size_t d = 4;
    double A[16], inv[16];
    random_spd(d, 10.0, 121, A);
    lapack_inverse(A, d, inv);
    th_spu_params p = th_spu_params_default();
    p.model = TH_SPU_OVERDAMPED;
    th_spu *s = th_spu_alloc(&p, A, NULL, d);
    CHECK(s != NULL);
    if (!s) return;
    double lx[4], ly[4];
    for (int k = 0; k < 4; k++) {
        double err = 0.0, t = 0.0;
        for (uint64_t seed = 1; seed <= 3; seed++) {
            th_tla_protocol pr = quick_protocol(100.0 * pow(4.0, k), s, 1000 * seed + (uint64_t)k);
            th_tla_result r;
            CHECK_EQ_INT(th_tla_inverse(s, &pr, &r), TH_OK);
            err += frob_diff(r.estimate, inv, d * d) / 3.0;
            t = r.sim_time;
            th_tla_result_free(&r);
        }
        lx[k] = log(t);
        ly[k] = log(err);
    }
    double mx = (lx[0] + lx[1] + lx[2] + lx[3]) / 4, my = (ly[0] + ly[1] + ly[2] + ly[3]) / 4;
    double sxy = 0.0, sxx = 0.0;
    for (int k = 0; k < 4; k++) {
        sxy += (lx[k] - mx) * (ly[k] - my);
        sxx += (lx[k] - mx) * (lx[k] - mx);
    }
    double slope = sxy / sxx;
    if (!(slope > -0.8 && slope < -0.25)) fprintf(stderr, "  slope %.3f\n", slope);
    CHECK(slope > -0.8 && slope < -0.25);
    th_spu_free(s);
}

/* ---------------------------------------------- hardware imprecision */

/* The infinite-time answer of a programmed SPU: its stationary covariance
 * over cov_scale. */
static void hardware_inverse(const th_spu *s, double *out)
{
    size_t d = s->d;
    CHECK_EQ_INT(th_spu_stationary(s, NULL, out), TH_OK);
    for (size_t k = 0; k < d * d; k++) out[k] /= s->cov_scale;
}

static void test_linalg_quantisation_floor(void)
{
    const size_t d = 6;
    double A[36], inv[36], hw[36];
    random_dominant(d, 1, 1.2, 131, A);
    lapack_inverse(A, d, inv);
    double floor_at[4];
    const unsigned bits[4] = {2, 4, 8, 12};
    th_spu_params p = th_spu_params_default();
    for (int k = 0; k < 4; k++) {
        p.bits = bits[k];
        th_spu *s = th_spu_alloc(&p, A, NULL, d);
        CHECK(s != NULL);
        if (!s) return;
        hardware_inverse(s, hw);
        floor_at[k] = frob_diff(hw, inv, d * d) / frob(inv, d * d);
        th_spu_free(s);
    }
    /* Fewer bits, higher floor; 12 bits is far below 2. */
    CHECK(floor_at[0] > floor_at[1] && floor_at[1] > floor_at[2] && floor_at[2] > floor_at[3]);
    CHECK(floor_at[0] > 0.02 && floor_at[3] < 1e-3);
    /* A long run at 2 bits lands on the hardware's own answer, not on A^-1:
     * its error against A^-1 stays near the floor however long it runs. */
    p.bits = 2;
    th_spu *s = th_spu_alloc(&p, A, NULL, d);
    CHECK(s != NULL);
    if (!s) return;
    hardware_inverse(s, hw);
    th_tla_protocol pr = quick_protocol(20000, s, 17);
    th_tla_result r;
    CHECK_EQ_INT(th_tla_inverse(s, &pr, &r), TH_OK);
    check_within_error("2-bit run vs its hardware answer", &r, hw, 0.2, 3.0);
    double err = frob_diff(r.estimate, inv, d * d) / frob(inv, d * d);
    CHECK(err > 0.5 * floor_at[0] && r.error < 0.5 * floor_at[0] * frob(inv, d * d));
    th_tla_result_free(&r);
    th_spu_free(s);
}

/* Mismatch: each copy's infinite-time error is first order in sigma with
 * zero mean, so the average over K copies keeps only the second-order
 * bias: the single-copy error doubles when sigma doubles, the error of the
 * average over many copies quadruples (eps -> eps^2). Deterministic: the
 * copies' answers are Lyapunov solves. */
static double mitigated_error(const double *A, const double *inv, size_t d, double sigma,
                              size_t K, double *single_rms)
{
    double *acc = calloc(d * d, sizeof *acc), *hw = malloc(d * d * sizeof *hw);
    double ss = 0.0;
    for (size_t c = 0; c < K; c++) {
        th_spu_params p = th_spu_params_default();
        p.mismatch = sigma;
        p.copy = c;
        th_spu *s = th_spu_alloc(&p, A, NULL, d);
        CHECK(s != NULL);
        if (!s) break;
        hardware_inverse(s, hw);
        double e = frob_diff(hw, inv, d * d);
        ss += e * e;
        for (size_t k = 0; k < d * d; k++) acc[k] += hw[k] / (double)K;
        th_spu_free(s);
    }
    *single_rms = sqrt(ss / (double)K);
    double e = frob_diff(acc, inv, d * d);
    free(acc);
    free(hw);
    return e;
}

static void test_linalg_mismatch_mitigation(void)
{
    const size_t d = 4, K = 2000;
    double A[16], inv[16];
    random_dominant(d, 0, 1.2, 141, A);
    lapack_inverse(A, d, inv);
    const double scale = frob(inv, d * d);
    double one_a, one_b;
    double many_a = mitigated_error(A, inv, d, 0.1, K, &one_a) / scale;
    double many_b = mitigated_error(A, inv, d, 0.2, K, &one_b) / scale;
    one_a /= scale;
    one_b /= scale;
    /* Single copies: error linear in sigma, about sigma itself. */
    CHECK(one_b / one_a > 1.7 && one_b / one_a < 2.4);
    CHECK(one_a > 0.03 && one_a < 0.3);
    /* The average over K copies: the first-order part shrinks as
     * 1/sqrt(K); what stays is the bias, of order sigma^2 (0.01 and 0.04
     * here), which quadruples when sigma doubles. */
    double bias_a = sqrt(fmax(0.0, many_a * many_a - one_a * one_a / (double)K));
    double bias_b = sqrt(fmax(0.0, many_b * many_b - one_b * one_b / (double)K));
    if (!(bias_b / bias_a > 2.8 && bias_b / bias_a < 5.5 && many_a < 0.1 * one_a))
        fprintf(stderr, "  single %.3g %.3g, merged %.3g %.3g, bias %.3g %.3g\n", one_a, one_b,
                many_a, many_b, bias_a, bias_b);
    CHECK(many_a < 0.1 * one_a);
    CHECK(many_a < 0.1 * 0.1 * 2.0);
    CHECK(bias_b / bias_a > 2.8 && bias_b / bias_a < 5.5);

    /* Simulated runs: 8 copies merged by th_tla_merge beat one copy, and
     * the merged error bar covers the spread. */
    const size_t copies = 8;
    th_tla_result runs[8], merged;
    double single_err = 0.0;
    for (size_t c = 0; c < copies; c++) {
        th_spu_params p = th_spu_params_default();
        p.mismatch = 0.05;
        p.copy = c;
        th_spu *s = th_spu_alloc(&p, A, NULL, d);
        CHECK(s != NULL);
        if (!s) return;
        th_tla_protocol pr = quick_protocol(4000, s, 23);
        CHECK_EQ_INT(th_tla_inverse(s, &pr, &runs[c]), TH_OK);
        single_err += frob_diff(runs[c].estimate, inv, d * d) / (double)copies;
        th_spu_free(s);
    }
    CHECK_EQ_INT(th_tla_merge(runs, copies, &merged), TH_OK);
    double merged_err = frob_diff(merged.estimate, inv, d * d);
    CHECK(merged_err < 0.6 * single_err);
    CHECK(merged_err < 3.0 * merged.error);
    double total_time = 0.0;
    for (size_t c = 0; c < copies; c++) total_time += runs[c].sim_time;
    CHECK_CLOSE(merged.sim_time, total_time, 1e-12 * total_time);
    for (size_t c = 0; c < copies; c++) th_tla_result_free(&runs[c]);
    th_tla_result_free(&merged);
}

/* ------------------------------------------------------ determinism */

static void test_linalg_reproducible_any_threads(void)
{
    const size_t d = 5;
    double A[25];
    random_dominant(d, 0, 1.3, 151, A);
    th_spu_params p = th_spu_params_default();
    th_spu *s = th_spu_alloc(&p, A, NULL, d);
    CHECK(s != NULL);
    if (!s) return;
    th_tla_protocol pr = quick_protocol(200, s, 77);
    pr.chains = 7;
    th_tla_result r1, r2, r3;
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_EQ_INT(th_tla_inverse(s, &pr, &r1), TH_OK);
    omp_set_num_threads(2);
    CHECK_EQ_INT(th_tla_inverse(s, &pr, &r2), TH_OK);
    omp_set_num_threads(saved);
    CHECK(memcmp(r1.estimate, r2.estimate, d * d * sizeof(double)) == 0);
    pr.seed = 78;
    CHECK_EQ_INT(th_tla_inverse(s, &pr, &r3), TH_OK);
    CHECK(memcmp(r1.estimate, r3.estimate, d * d * sizeof(double)) != 0);
    th_tla_result_free(&r1);
    th_tla_result_free(&r2);
    th_tla_result_free(&r3);
    /* Bad protocols name the field. */
    pr.time = 0.0;
    CHECK_EQ_INT(th_tla_inverse(s, &pr, &r1), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "time");
    pr.time = 10 * s->tau;
    pr.batches = 1;
    CHECK_EQ_INT(th_tla_inverse(s, &pr, &r1), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "batches");
    CHECK_EQ_INT(th_tla_solve(s, &pr, &r1), TH_EINVAL); /* no b */
    th_spu_free(s);
}

static void test_linalg_gauss_legendre(void)
{
    /* n nodes integrate polynomials of degree 2n - 1 exactly on [0, 1]. */
    double x[5], w[5];
    CHECK_EQ_INT(th__gauss_legendre(5, x, w), TH_OK);
    for (int deg = 0; deg <= 9; deg++) {
        double s = 0.0;
        for (int k = 0; k < 5; k++) s += w[k] * pow(x[k], deg);
        CHECK_CLOSE(s, 1.0 / (deg + 1), 1e-14);
    }
}

static void test_linalg_plot(void)
{
    const double t[4] = {1e-4, 1e-3, 1e-2, 1e-1}, e[4] = {0.3, 0.1, 0.03, 0.01};
    th_chart_series ser = {.kind = TH_CHART_LINE, .x = t, .y = e, .n = 4, .rgb = {200, 30, 30},
                           .markers = 1};
    th_chart ch = {.width = 480, .height = 320, .title = "error",
                   .x = {.scale = TH_CHART_LOG, .numbers = 1, .grid = 1, .title = "time"},
                   .y = {.scale = TH_CHART_LOG, .numbers = 1, .grid = 1, .title = "error"},
                   .series = &ser, .n_series = 1};
    th_canvas *c = th_chart_draw(&ch);
    CHECK(c != NULL);
    if (!c) return;
    size_t red = 0, black = 0;
    for (size_t k = 0; k < c->width * c->height; k++) {
        const uint8_t *px = c->rgb + 3 * k;
        red += px[0] == 200 && px[1] == 30 && px[2] == 30;
        black += px[0] == 0 && px[1] == 0 && px[2] == 0;
    }
    CHECK(red > 200);
    CHECK(black > 400);
    th_canvas_free(c);
    const double bad[2] = {-1.0, NAN};
    th_chart_series none = {.kind = TH_CHART_LINE, .x = bad, .y = bad, .n = 2};
    th_chart nothing = ch;
    nothing.series = &none;
    CHECK(th_chart_draw(&nothing) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "x axis");
    ch.width = ch.height = 20;
    CHECK(th_chart_draw(&ch) == NULL);
}

/* The sweep's result struct holds what its CSV prints: one line per point
 * with the simulated time, the error, the estimate and the floor. */
static void test_linalg_sweep_matches_csv(void)
{
    const double A[4] = {2.0, -0.5, -0.5, 1.5};
    th_tla_problem pb = {.alg = TH_TLA_INVERSE, .d = 2, .A = A};
    th_tla_sweep_opts o = th_tla_sweep_opts_default();
    o.hw.model = TH_SPU_OVERDAMPED;
    o.hw.bits = 3;
    o.time = 200.0;
    o.points = 3;
    th_tla_sweep s;
    CHECK_EQ_INT(th_tla_sweep_run(&pb, &o, &s), TH_OK);
    CHECK_EQ_INT((int)s.points, 3);
    CHECK(s.floor > 0.0);
    CHECK(s.time_sim[0] < s.time_sim[1] && s.time_sim[1] < s.time_sim[2]);
    /* LAPACK's inverse of [[2, -0.5], [-0.5, 1.5]]: [[1.5, 0.5], [0.5, 2]] / 2.75. */
    CHECK_CLOSE(s.reference[0], 1.5 / 2.75, 1e-14);
    CHECK_CLOSE(s.reference[1], 0.5 / 2.75, 1e-14);
    CHECK(s.error[2] < 0.2);
    const char *path = "/tmp/thermo_test_sweep.csv";
    CHECK_EQ_INT(th_tla_sweep_write_csv(path, &s), TH_OK);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        char line[256];
        CHECK(fgets(line, sizeof line, f) != NULL);
        CHECK(strcmp(line, "time_1_over_gamma,error,error_estimate,floor\n") == 0);
        for (size_t k = 0; k < 3; k++) {
            double t, e, est, fl;
            CHECK(fscanf(f, "%lf,%lf,%lf,%lf", &t, &e, &est, &fl) == 4);
            CHECK_REL(t, s.time_sim[k], 1e-6);
            CHECK_REL(e, s.error[k], 1e-6);
            CHECK_REL(est, s.estimate[k], 1e-6);
            CHECK_REL(fl, s.floor, 1e-6);
        }
        fclose(f);
    }
    remove(path);
    th_canvas *c = th_tla_sweep_chart(&s, 640, 420);
    CHECK(c != NULL);
    th_canvas_free(c);
    th_tla_sweep_free(&s);

    /* Not positive definite: named, nothing run. */
    const double N[4] = {1.0, 2.0, 2.0, 1.0};
    pb.A = N;
    o.hw.bits = 0;
    CHECK_EQ_INT(th_tla_sweep_run(&pb, &o, &s), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "matrix A: the matrix is not symmetric positive");
    CHECK_EQ_INT((int)s.points, 0);
    th_tla_sweep_free(&s);
}

void suite_linalg(void)
{
    RUN_TEST(test_linalg_expm_closed_forms);
    RUN_TEST(test_linalg_lyap_vs_kronecker);
    RUN_TEST(test_linalg_rlc_stationary_analytic);
    RUN_TEST(test_linalg_transition_methods_agree);
    RUN_TEST(test_linalg_nonnormal_drift);
    RUN_TEST(test_linalg_realise);
    RUN_TEST(test_linalg_mappings_exact);
    RUN_TEST(test_linalg_gauss_legendre);
    RUN_TEST(test_linalg_inverse_agrees);
    RUN_TEST(test_linalg_solve_agrees);
    RUN_TEST(test_linalg_logdet_agrees);
    RUN_TEST(test_linalg_sample_agrees);
    RUN_TEST(test_linalg_lyap_agrees);
    RUN_TEST(test_linalg_error_falls_as_inverse_sqrt_time);
    RUN_TEST(test_linalg_quantisation_floor);
    RUN_TEST(test_linalg_mismatch_mitigation);
    RUN_TEST(test_linalg_reproducible_any_threads);
    RUN_TEST(test_linalg_plot);
    RUN_TEST(test_linalg_sweep_matches_csv);
}
