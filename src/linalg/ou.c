/* ou.c - exact transitions of linear (Ornstein-Uhlenbeck) stochastic
 * differential equations dz = -M z dt + G dW, Q = G G^T (science.md
 * section 5).
 *
 * Over a time h the state moves to z(t + h) = e^{-Mh} z(t) + N(0, Sigma(h))
 * with Sigma(h) = int_0^h e^{-Ms} Q e^{-M^T s} ds. Two independent ways to
 * get Sigma(h), tested against each other:
 *
 * - Lyapunov: the stationary covariance S solves M S + S M^T = Q, and
 *   Sigma(h) = S - e^{-Mh} S e^{-M^T h} (differentiate both sides in h);
 * - Van Loan (IEEE Trans. Autom. Control 23, 395, 1978): the exponential
 *   of the block matrix [[M, Q], [0, -M^T]] h has e^{-M^T h} in its lower
 *   right block E22 and Sigma(h) = E22^T E12.
 *
 * Neither assumes M normal. The shortcut that takes Sigma from the
 * eigen-decomposition of (M + M^T) / 2 does, and the SPU's drift is not
 * normal (the inductor-capacitor coupling makes it non-symmetric), which is
 * why it is not used here (tests/test_linalg.c shows its error). */
#include "linalg/linalg_internal.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------- matrix exponential */

/* [6/6] Pade coefficients c_k = (2q - k)! q! / ((2q)! k! (q - k)!), q = 6,
 * from the recurrence c_k = c_{k-1} (q - k + 1) / (k (2q - k + 1)). With
 * ||A||_1 <= 1/2 the approximant's relative backward error is below
 * 2^{3-2q} (q!)^2 / ((2q)! (2q+1)!) = 3.4e-16 (Moler and Van Loan, SIAM
 * Review 45, 3, 2003, section 3), so one scaling to that norm and s
 * squarings give e^A to working precision. */
#define PADE_Q 6
#define PADE_NORM 0.5
/* Largest h max|eig(M)| given to the Van Loan block exponential. */
#define VAN_LOAN_MAX_GROWTH 30.0

static double norm1(const double *A, size_t n)
{
    double best = 0.0;
    for (size_t j = 0; j < n; j++) {
        double col = 0.0;
        for (size_t i = 0; i < n; i++) col += fabs(A[i * n + j]);
        if (col > best) best = col;
    }
    return best;
}

int th_matrix_expm(const double *A, size_t n, double *out)
{
    TH_ASSERT(A && out && n > 0);
    double nrm = norm1(A, n);
    if (!isfinite(nrm)) return th__fail(TH_EINVAL, "matrix exponential: the matrix has a "
                                        "non-finite entry");
    int s = 0;
    if (nrm > PADE_NORM) s = (int)ceil(log2(nrm / PADE_NORM));
    if (s > 1000) return th__fail(TH_EINVAL, "matrix exponential: norm %g is too large", nrm);
    const double scale = ldexp(1.0, -s);
    const size_t nn = n * n;
    double *X = th__alloc(nn * sizeof *X);   /* (n, n) A / 2^s */
    double *P = th__alloc(nn * sizeof *P);   /* (n, n) current power X^k */
    double *T = th__alloc(nn * sizeof *T);   /* (n, n) scratch */
    double *N = th__alloc(nn * sizeof *N);   /* (n, n) numerator */
    double *D = th__alloc(nn * sizeof *D);   /* (n, n) denominator */
    lapack_int *piv = th__alloc(n * sizeof *piv);
    int rc = TH_OK;
    if (!X || !P || !T || !N || !D || !piv) {
        rc = th__fail(TH_ENOMEM, "matrix exponential of size %zu: out of memory", n);
        goto done;
    }
    for (size_t i = 0; i < nn; i++) X[i] = A[i] * scale;
    memset(N, 0, nn * sizeof *N);
    memset(D, 0, nn * sizeof *D);
    memcpy(P, X, nn * sizeof *P);
    for (size_t i = 0; i < n; i++) N[i * n + i] = D[i * n + i] = 1.0;
    double c = 1.0;
    for (int k = 1; k <= PADE_Q; k++) {
        c *= (double)(PADE_Q - k + 1) / (double)(k * (2 * PADE_Q - k + 1));
        const double sign = (k % 2) ? -1.0 : 1.0;
        for (size_t i = 0; i < nn; i++) {
            N[i] += c * P[i];
            D[i] += sign * c * P[i];
        }
        if (k < PADE_Q) {
            th__gemm_f64(TH__N, TH__N, (int)n, (int)n, (int)n, 1.0,
                        P, (int)n, X, (int)n, 0.0, T, (int)n);
            double *swap = P;
            P = T;
            T = swap;
        }
    }
    /* D E = N: D is well conditioned for ||X|| <= 1/2 (its eigenvalues lie
     * near 1), so partial pivoting is enough. */
    lapack_int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, D,
                                    (lapack_int)n, piv, N, (lapack_int)n);
    if (info != 0) {
        rc = th__fail(TH_EINVAL, "matrix exponential: the Pade denominator is singular "
                      "(LAPACK dgesv info %d)", (int)info);
        goto done;
    }
    for (int k = 0; k < s; k++) {
        th__gemm_f64(TH__N, TH__N, (int)n, (int)n, (int)n, 1.0, N,
                    (int)n, N, (int)n, 0.0, T, (int)n);
        memcpy(N, T, nn * sizeof *N);
    }
    memcpy(out, N, nn * sizeof *out);
done:
    th__free(X);
    th__free(P);
    th__free(T);
    th__free(N);
    th__free(D);
    th__free(piv);
    return rc;
}

/* ------------------------------------------------------------- Lyapunov */

static int is_symmetric(const double *Q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (Q[i * n + j] != Q[j * n + i]) return 0;
    return 1;
}

void th__symmetrise(double *S, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            double v = 0.5 * (S[i * n + j] + S[j * n + i]);
            S[i * n + j] = S[j * n + i] = v;
        }
}

int th_lyap_solve(const double *M, const double *Q, size_t n, double *S)
{
    TH_ASSERT(M && Q && S && n > 0);
    const size_t nn = n * n;
    double *T = th__alloc(nn * sizeof *T);  /* (n, n) Schur form of M */
    double *U = th__alloc(nn * sizeof *U);  /* (n, n) Schur vectors */
    double *W = th__alloc(nn * sizeof *W);  /* (n, n) scratch */
    double *wr = th__alloc(n * sizeof *wr), *wi = th__alloc(n * sizeof *wi);
    int rc = TH_OK;
    if (!T || !U || !W || !wr || !wi) {
        rc = th__fail(TH_ENOMEM, "Lyapunov solve of size %zu: out of memory", n);
        goto done;
    }
    memcpy(T, M, nn * sizeof *T);
    lapack_int sdim = 0;
    lapack_int info = LAPACKE_dgees(LAPACK_ROW_MAJOR, 'V', 'N', NULL, (lapack_int)n, T,
                                    (lapack_int)n, &sdim, wr, wi, U, (lapack_int)n);
    if (info != 0) {
        rc = th__fail(TH_EINVAL, "Lyapunov solve: the Schur decomposition failed (LAPACK "
                      "dgees info %d)", (int)info);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        if (!(wr[k] > 0.0)) {
            rc = th__fail(TH_EINVAL, "Lyapunov solve: the drift has an eigenvalue %g%+gi "
                          "with real part <= 0: expected every real part > 0 (a stable "
                          "process with a stationary state)", wr[k], wi[k]);
            goto done;
        }
    }
    /* C = U^T Q U into S. */
    th__gemm_f64(TH__T, TH__N, (int)n, (int)n, (int)n, 1.0, U,
                (int)n, Q, (int)n, 0.0, W, (int)n);
    th__gemm_f64(TH__N, TH__N, (int)n, (int)n, (int)n, 1.0, W,
                (int)n, U, (int)n, 0.0, S, (int)n);
    /* T Y + Y T^T = scale C: the eigenvalues of T and -T^T never meet
     * because all real parts are positive, so the solution is unique. */
    double scale = 1.0;
    info = LAPACKE_dtrsyl(LAPACK_ROW_MAJOR, 'N', 'T', 1, (lapack_int)n, (lapack_int)n, T,
                          (lapack_int)n, T, (lapack_int)n, S, (lapack_int)n, &scale);
    if (info < 0 || !(scale > 0.0)) {
        rc = th__fail(TH_EINVAL, "Lyapunov solve: LAPACK dtrsyl failed (info %d, scale %g)",
                      (int)info, scale);
        goto done;
    }
    /* info = 1 means close eigenvalues were perturbed; with real parts all
     * positive that is a conditioning warning, and the residual check in the
     * tests is the judge. S = U Y U^T / scale. */
    th__gemm_f64(TH__N, TH__N, (int)n, (int)n, (int)n, 1.0 / scale,
                U, (int)n, S, (int)n, 0.0, W, (int)n);
    th__gemm_f64(TH__N, TH__T, (int)n, (int)n, (int)n, 1.0, W,
                (int)n, U, (int)n, 0.0, S, (int)n);
    if (is_symmetric(Q, n)) th__symmetrise(S, n);
    for (size_t i = 0; i < nn; i++)
        if (!isfinite(S[i])) {
            rc = th__fail(TH_EINVAL, "Lyapunov solve: non-finite solution (the drift is too "
                          "close to unstable)");
            goto done;
        }
done:
    th__free(T);
    th__free(U);
    th__free(W);
    th__free(wr);
    th__free(wi);
    return rc;
}

/* ---------------------------------------------------------- transitions */

static int transition_lyapunov(const double *M, const double *Q, size_t n, double h, double *F,
                               double *Sigma)
{
    const size_t nn = n * n;
    double *A = th__alloc(nn * sizeof *A), *S = th__alloc(nn * sizeof *S);
    double *W = th__alloc(nn * sizeof *W);
    int rc = TH_OK;
    if (!A || !S || !W) {
        rc = th__fail(TH_ENOMEM, "OU transition of size %zu: out of memory", n);
        goto done;
    }
    for (size_t i = 0; i < nn; i++) A[i] = -h * M[i];
    if ((rc = th_matrix_expm(A, n, F)) != TH_OK) goto done;
    if ((rc = th_lyap_solve(M, Q, n, S)) != TH_OK) goto done;
    th__gemm_f64(TH__N, TH__N, (int)n, (int)n, (int)n, 1.0, F,
                (int)n, S, (int)n, 0.0, W, (int)n);
    th__gemm_f64(TH__N, TH__T, (int)n, (int)n, (int)n, -1.0, W,
                (int)n, F, (int)n, 0.0, Sigma, (int)n);
    for (size_t i = 0; i < nn; i++) Sigma[i] += S[i];
    th__symmetrise(Sigma, n);
done:
    th__free(A);
    th__free(S);
    th__free(W);
    return rc;
}

static int transition_van_loan(const double *M, const double *Q, size_t n, double h,
                               double *F, double *Sigma)
{
    const size_t m = 2 * n;
    double *B = th__calloc(m * m, sizeof *B); /* (2n, 2n) [[M, Q], [0, -M^T]] h */
    double *E = th__alloc(m * m * sizeof *E);
    double *E22T = th__alloc(n * n * sizeof *E22T), *E12 = th__alloc(n * n * sizeof *E12);
    int rc = TH_OK;
    if (!B || !E || !E22T || !E12) {
        rc = th__fail(TH_ENOMEM, "OU transition of size %zu: out of memory", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            B[i * m + j] = h * M[i * n + j];
            B[i * m + n + j] = h * Q[i * n + j];
            B[(n + i) * m + n + j] = -h * M[j * n + i];
        }
    if ((rc = th_matrix_expm(B, m, E)) != TH_OK) goto done;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            /* E22 = e^{-M^T h}, so E22^T = e^{-M h} = F. */
            E22T[i * n + j] = E[(n + j) * m + n + i];
            E12[i * n + j] = E[i * m + n + j];
        }
    memcpy(F, E22T, n * n * sizeof *F);
    th__gemm_f64(TH__N, TH__N, (int)n, (int)n, (int)n, 1.0, E22T,
                (int)n, E12, (int)n, 0.0, Sigma, (int)n);
    th__symmetrise(Sigma, n);
done:
    th__free(B);
    th__free(E);
    th__free(E22T);
    th__free(E12);
    return rc;
}

int th_ou_transition(const double *M, const double *Q, size_t n, double h,
                     th_ou_method method, double *F, double *Sigma)
{
    TH_ASSERT(M && Q && F && Sigma && n > 0);
    if (!(h > 0.0 && isfinite(h)))
        return th__fail(TH_EINVAL, "OU transition: h = %g: expected a finite h > 0", h);
    if (!is_symmetric(Q, n))
        return th__fail(TH_EINVAL, "OU transition: the diffusion matrix Q is not symmetric");
    if (method == TH_OU_VAN_LOAN) {
        /* The block exponential holds e^{+Mh} too, which overflows once h
         * |M| nears 700; well before that it loses Sigma to cancellation. */
        double re_min, abs_max;
        int rc = th__eig_range(M, n, &re_min, &abs_max);
        if (rc != TH_OK) return rc;
        const double growth = h * abs_max;
        if (growth > VAN_LOAN_MAX_GROWTH)
            return th__fail(TH_EINVAL, "OU transition: Van Loan's block exponential needs h "
                            "max|eig(M)| <= %g, got %g: use the Lyapunov method for long "
                            "intervals", VAN_LOAN_MAX_GROWTH, growth);
        return transition_van_loan(M, Q, n, h, F, Sigma);
    }
    return transition_lyapunov(M, Q, n, h, F, Sigma);
}

/* ------------------------------------------------------------- helpers */

int th__gauss_legendre(size_t n, double *nodes, double *weights)
{
    TH_ASSERT(n > 0 && nodes && weights);
    double *diag = th__calloc(n, sizeof *diag), *off = th__calloc(n, sizeof *off);
    double *Z = th__alloc(n * n * sizeof *Z);
    int rc = TH_OK;
    if (!diag || !off || !Z) {
        rc = th__fail(TH_ENOMEM, "Gauss-Legendre rule of %zu nodes: out of memory", n);
        goto done;
    }
    /* Legendre recurrence on [-1, 1]: beta_k = k / sqrt(4 k^2 - 1). */
    for (size_t k = 1; k < n; k++) off[k - 1] = (double)k / sqrt(4.0 * (double)k * (double)k - 1.0);
    lapack_int info = LAPACKE_dstev(LAPACK_ROW_MAJOR, 'V', (lapack_int)n, diag, off, Z,
                                    (lapack_int)n);
    if (info != 0) {
        rc = th__fail(TH_EINVAL, "Gauss-Legendre rule: LAPACK dstev info %d", (int)info);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        nodes[k] = 0.5 * (diag[k] + 1.0);   /* [-1, 1] to [0, 1] */
        weights[k] = Z[k] * Z[k];           /* 2 v_0^2 on [-1, 1], halved */
    }
done:
    th__free(diag);
    th__free(off);
    th__free(Z);
    return rc;
}

int th__eig_range(const double *M, size_t n, double *re_min, double *abs_max)
{
    double *A = th__alloc(n * n * sizeof *A);
    double *wr = th__alloc(n * sizeof *wr), *wi = th__alloc(n * sizeof *wi);
    int rc = TH_OK;
    if (!A || !wr || !wi) {
        rc = th__fail(TH_ENOMEM, "eigenvalues of size %zu: out of memory", n);
        goto done;
    }
    memcpy(A, M, n * n * sizeof *A);
    lapack_int info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, A, (lapack_int)n,
                                    wr, wi, NULL, 1, NULL, 1);
    if (info != 0) {
        rc = th__fail(TH_EINVAL, "eigenvalues of the drift: LAPACK dgeev info %d", (int)info);
        goto done;
    }
    *re_min = INFINITY;
    *abs_max = 0.0;
    for (size_t k = 0; k < n; k++) {
        if (wr[k] < *re_min) *re_min = wr[k];
        double a = hypot(wr[k], wi[k]);
        if (a > *abs_max) *abs_max = a;
    }
done:
    th__free(A);
    th__free(wr);
    th__free(wi);
    return rc;
}

int th__psd_factor(const double *Sigma, size_t n, double *L)
{
    memcpy(L, Sigma, n * n * sizeof *L);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n) == 0) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) L[i * n + j] = 0.0;
        return TH_OK;
    }
    /* Singular to working precision (a short interval, or noise that
     * reaches only some coordinates): the eigen route drops the negative
     * round-off. */
    double *U = th__alloc(n * n * sizeof *U), *w = th__alloc(n * sizeof *w);
    if (!U || !w) {
        th__free(U);
        th__free(w);
        return th__fail(TH_ENOMEM, "factor of size %zu: out of memory", n);
    }
    memcpy(U, Sigma, n * n * sizeof *U);
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)n, U,
                                     (lapack_int)n, w);
    int rc = TH_OK;
    if (info != 0) {
        rc = th__fail(TH_EINVAL, "factor of a covariance: LAPACK dsyevd info %d", (int)info);
    } else {
        for (size_t j = 0; j < n; j++) {
            double r = w[j] > 0.0 ? sqrt(w[j]) : 0.0;
            for (size_t i = 0; i < n; i++) L[i * n + j] = U[i * n + j] * r;
        }
    }
    th__free(U);
    th__free(w);
    return rc;
}
