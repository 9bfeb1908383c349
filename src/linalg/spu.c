/* spu.c - the stochastic processing unit: from a matrix A to capacitors,
 * from capacitors to the linear SDE the board obeys (science.md section 5).
 *
 * The board (Melanson et al., Nat. Commun. 2025): cells k = 1..cells, each a
 * node to ground through a self capacitance, an inductor L_k, a resistor R_k
 * and a Gaussian current source sqrt(2 kappa0_k) dW_k, every pair of nodes
 * joined by a switched coupling capacitor. Kirchhoff's current law at the
 * nodes gives C dv = -R^-1 v dt - i dt + sqrt(2 kappa0) dW with C the Maxwell
 * capacitance matrix, and the inductors L di = v dt; in z = (i, v)
 *
 *     dz = -M z dt + G dW,  M = [[0, -L^-1], [C^-1, C^-1 R^-1]],
 *                           G = [[0], [C^-1 sqrt(2 kappa0)]],
 *
 * whose stationary law, for R = r I and kappa0 alike in every cell, is
 * Cov(v) = kappa0 r C^-1 and Cov(i) = kappa0 r L^-1 (check: M S + S M^T =
 * G G^T block by block). So programming C = alpha A makes the voltages
 * sample N(0, (kappa0 r / alpha) A^-1). Mismatched R or kappa0 break the
 * proportionality, which is one way imprecise parts set an error floor.
 *
 * The overdamped idealisation (Aifer et al. 2024) is dx = -(A x - b) dt +
 * sqrt(2) dW, N(A^-1 b, A^-1) at equilibrium, time in units of 1/gamma. Its
 * "components" are read the same way, couplings |A_ij| and self terms
 * A_ii - sum_j |A_ij|, so that the same quantisation and mismatch apply. */
#include "linalg/linalg_internal.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

/* The mismatch draws come from their own stream, far from the noise
 * streams of tla.c (which stay below 2^48). */
#define MISMATCH_STREAM ((uint64_t)1 << 56)
/* Jacobi sweeps tried for the scaling u before a direct solve. */
#define JACOBI_SWEEPS 200
/* Relative asymmetry accepted in an input "symmetric" matrix. */
#define SYM_TOL 1e-12
/* A mismatched L, R or kappa0 is kept at least this fraction of nominal. */
#define MIN_PART_FACTOR 1e-3
#define MAX_BITS 52

th_spu_params th_spu_params_default(void)
{
    th_spu_params p;
    memset(&p, 0, sizeof p);
    p.model = TH_SPU_RLC;
    p.inductance = 1e-3;
    p.resistance = 1e3;
    p.cap_max = 1e-9;
    p.kappa0 = 1e-14;
    p.bits = 0;
    p.mismatch = 0.0;
    p.copy = 0;
    p.hw_seed = 1;
    return p;
}

static int check_params(const th_spu_params *p)
{
    if (p->model != TH_SPU_RLC && p->model != TH_SPU_OVERDAMPED)
        return th__fail(TH_EINVAL, "spu model = %d: expected TH_SPU_RLC or TH_SPU_OVERDAMPED",
                        (int)p->model);
    const struct { const char *name; double v; } pos[] = {
        {"inductance", p->inductance}, {"resistance", p->resistance},
        {"cap_max", p->cap_max}, {"kappa0", p->kappa0}};
    for (size_t k = 0; k < sizeof pos / sizeof pos[0]; k++)
        if (!(pos[k].v > 0.0 && isfinite(pos[k].v)))
            return th__fail(TH_EINVAL, "spu %s = %g: expected a finite value > 0", pos[k].name,
                            pos[k].v);
    if (!(p->mismatch >= 0.0 && p->mismatch <= 0.5))
        return th__fail(TH_EINVAL, "spu mismatch = %g: expected a relative sd in [0, 0.5]",
                        p->mismatch);
    if (p->bits > MAX_BITS)
        return th__fail(TH_EINVAL, "spu bits = %u: expected 0 (exact) to %d", p->bits, MAX_BITS);
    return TH_OK;
}

static int check_symmetric(const double *A, size_t d, const char *what)
{
    for (size_t i = 0; i < d; i++) {
        if (!isfinite(A[i * d + i]))
            return th__fail(TH_EINVAL, "%s: entry (%zu, %zu) is not finite", what, i + 1, i + 1);
        for (size_t j = 0; j < i; j++) {
            double a = A[i * d + j], b = A[j * d + i];
            if (!isfinite(a) || !isfinite(b))
                return th__fail(TH_EINVAL, "%s: entry (%zu, %zu) is not finite", what, i + 1,
                                j + 1);
            if (fabs(a - b) > SYM_TOL * fmax(fabs(a), fabs(b)))
                return th__fail(TH_EINVAL, "%s: entries (%zu, %zu) = %.17g and (%zu, %zu) = "
                                "%.17g differ: expected a symmetric matrix", what, i + 1, j + 1,
                                a, j + 1, i + 1, b);
        }
    }
    return TH_OK;
}

/* ------------------------------------------------------- realisability */

/* The comparison matrix <A>: |A_ii| on the diagonal, -|A_ij| off it. */
static void comparison(const double *A, size_t d, double *out)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            out[i * d + j] = i == j ? fabs(A[i * d + j]) : -fabs(A[i * d + j]);
}

/* Smallest eigenvalue of the symmetric S (d, d). */
static int min_eigenvalue(const double *S, size_t d, double *out)
{
    double *W = th__alloc(d * d * sizeof *W), *w = th__alloc(d * sizeof *w);
    int rc = TH_OK;
    if (!W || !w) {
        rc = th__fail(TH_ENOMEM, "eigenvalues of size %zu: out of memory", d);
    } else {
        memcpy(W, S, d * d * sizeof *W);
        if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', (lapack_int)d, W, (lapack_int)d, w) != 0)
            rc = th__fail(TH_EINVAL, "eigenvalues: LAPACK dsyevd failed");
        else
            *out = w[0];
    }
    th__free(W);
    th__free(w);
    return rc;
}

/* Whether <A> u > 0 entry by entry. */
static int scaled_rows_positive(const double *K, const double *u, size_t d)
{
    for (size_t i = 0; i < d; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++) s += K[i * d + j] * u[j];
        if (!(s > 0.0)) return 0;
    }
    return 1;
}

int th_spu_realise(const double *A, size_t d, th_spu_mapping *mapping, double *u_out,
                   double *shift)
{
    TH_ASSERT(A && mapping && d > 0);
    if (shift) *shift = 0.0;
    int rc = check_symmetric(A, d, "matrix A");
    if (rc != TH_OK) return rc;
    int z_pattern = 1;
    size_t first_weak = d;
    for (size_t i = 0; i < d; i++) {
        if (!(A[i * d + i] > 0.0))
            return th__fail(TH_EINVAL, "matrix A: diagonal entry (%zu, %zu) = %g: expected > 0 "
                            "(a capacitance, and positive definite)", i + 1, i + 1,
                            A[i * d + i]);
        double off = 0.0;
        for (size_t j = 0; j < d; j++) {
            if (j == i) continue;
            off += fabs(A[i * d + j]);
            if (A[i * d + j] > 0.0) z_pattern = 0;
        }
        if (off > A[i * d + i] && first_weak == d) first_weak = i;
    }
    double *K = th__alloc(d * d * sizeof *K);  /* (d, d) <A> */
    double *u = th__alloc(d * sizeof *u), *v = th__alloc(d * sizeof *v);
    if (!K || !u || !v) {
        rc = th__fail(TH_ENOMEM, "realisability check of size %zu: out of memory", d);
        goto done;
    }
    comparison(A, d, K);
    int found = 0;
    if (first_weak == d) {
        /* Dominant rows: the self capacitances are already >= 0. */
        for (size_t i = 0; i < d; i++) u[i] = 1.0;
        found = 1;
    } else {
        /* A positive u with <A> u > 0 exists exactly when <A> is an
         * M-matrix (Berman and Plemmons, Nonnegative Matrices, ch. 6,
         * condition I27). Jacobi sweeps u <- D^-1 (1 + N u) on <A> = D - N
         * keep u positive and converge to <A>^-1 1 when it is; they
         * usually succeed within a few sweeps of O(d^2). */
        for (size_t i = 0; i < d; i++) u[i] = 1.0 / K[i * d + i];
        for (int sweep = 0; sweep < JACOBI_SWEEPS && !found; sweep++) {
            if (scaled_rows_positive(K, u, d)) {
                found = 1;
                break;
            }
            for (size_t i = 0; i < d; i++) {
                double s = 1.0;
                for (size_t j = 0; j < d; j++)
                    if (j != i) s -= K[i * d + j] * u[j];
                v[i] = s / K[i * d + i];
            }
            memcpy(u, v, d * sizeof *u);
        }
        if (!found) {
            /* Slow convergence: decide with a direct solve of <A> u = 1. */
            double *W = th__alloc(d * d * sizeof *W);
            if (!W) {
                rc = th__fail(TH_ENOMEM, "realisability check: out of memory");
                goto done;
            }
            memcpy(W, K, d * d * sizeof *W);
            for (size_t i = 0; i < d; i++) u[i] = 1.0;
            if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, 1, W, (lapack_int)d, u,
                              1) == 0) {
                found = 1;
                for (size_t i = 0; i < d; i++)
                    if (!(u[i] > 0.0)) found = 0;
                if (found) found = scaled_rows_positive(K, u, d);
            }
            th__free(W);
        }
    }
    if (!found) {
        double lmin = 0.0;
        if ((rc = min_eigenvalue(K, d, &lmin)) != TH_OK) goto done;
        double s = lmin < 0.0 ? -lmin : 0.0;
        if (shift) *shift = s;
        double off = 0.0;
        for (size_t j = 0; j < d; j++)
            if (j != first_weak) off += fabs(A[first_weak * d + j]);
        rc = th__fail(TH_EINVAL, "matrix A is not realisable by positive capacitors: row %zu has "
                      "|off-diagonal| sum %g > diagonal %g, and no positive scaling of the "
                      "rows fixes it (the comparison matrix <A> is not an M-matrix; its "
                      "smallest eigenvalue is %g). A + s I is realisable for s > %g; or use "
                      "the overdamped idealisation (--model overdamped)", first_weak + 1, off,
                      A[first_weak * d + first_weak], lmin, s);
        goto done;
    }
    *mapping = z_pattern ? (first_weak == d ? TH_SPU_DIRECT : TH_SPU_SCALED) : TH_SPU_DOUBLED;
    if (u_out) memcpy(u_out, u, d * sizeof *u);
done:
    th__free(K);
    th__free(u);
    th__free(v);
    return rc;
}

void th_spu_maxwell(const double *self, const double *coupling, size_t cells, double *C)
{
    TH_ASSERT(self && coupling && C);
    for (size_t i = 0; i < cells; i++) {
        double diag = self[i];
        for (size_t j = 0; j < cells; j++) {
            if (j == i) continue;
            diag += coupling[i * cells + j];
            C[i * cells + j] = -coupling[i * cells + j];
        }
        C[i * cells + i] = diag;
    }
}

/* --------------------------------------------------------- imprecision */

/* Rounds every coupling (cells, cells; symmetric, >= 0) to one of 2^bits
 * equal levels of [0, largest], 0 included: a b-bit capacitor bank whose
 * full scale is the largest coupling needed. Capacitances are never
 * negative, so the bank is unsigned (2^bits - 1 steps, where the signed
 * couplings of thermo/hw.h have 2^(bits-1) - 1 each way); the rounding is
 * the hardware model's one rule, th_hw_round. */
static void quantise(double *coupling, size_t cells, unsigned bits)
{
    if (bits == 0) return;
    double top = 0.0;
    for (size_t k = 0; k < cells * cells; k++) top = fmax(top, coupling[k]);
    if (!(top > 0.0)) return;
    const double levels = ldexp(1.0, (int)bits) - 1.0, step = top / levels;
    for (size_t k = 0; k < cells * cells; k++) coupling[k] = th_hw_round(coupling[k], step, levels);
}

/* Multiplies each part by 1 + sigma xi, xi ~ N(0, 1) from the copy's own
 * stream, in a fixed order (couplings i < j by rows, self capacitances,
 * then L, R, kappa0 of each cell), so that a copy is the same hardware
 * whatever it computes. Capacitors stay >= 0; L, R and kappa0 positive. */
static int mismatch(const th_spu_params *p, size_t cells, double *coupling, double *self,
                    double *L, double *R, double *kappa)
{
    if (p->mismatch == 0.0) return TH_OK;
    const size_t n_pairs = cells * (cells - 1) / 2;
    const size_t count = n_pairs + 4 * cells;
    double *xi = th__alloc(count * sizeof *xi);
    if (!xi) return th__fail(TH_ENOMEM, "mismatch draws: out of memory");
    th_normal_fill_f64(p->hw_seed, MISMATCH_STREAM + p->copy, 0, xi, count);
    size_t q = 0;
    for (size_t i = 0; i < cells; i++)
        for (size_t j = i + 1; j < cells; j++) {
            double f = fmax(0.0, 1.0 + p->mismatch * xi[q++]);
            coupling[i * cells + j] *= f;
            coupling[j * cells + i] = coupling[i * cells + j];
        }
    for (size_t i = 0; i < cells; i++) self[i] *= fmax(0.0, 1.0 + p->mismatch * xi[q++]);
    for (size_t i = 0; i < cells; i++) {
        L[i] *= fmax(MIN_PART_FACTOR, 1.0 + p->mismatch * xi[q++]);
        R[i] *= fmax(MIN_PART_FACTOR, 1.0 + p->mismatch * xi[q++]);
        kappa[i] *= fmax(MIN_PART_FACTOR, 1.0 + p->mismatch * xi[q++]);
    }
    th__free(xi);
    return TH_OK;
}

/* ------------------------------------------------------------ building */

static th_spu *spu_new(size_t d, size_t cells, size_t n)
{
    th_spu *s = th__calloc(1, sizeof *s);
    if (!s) return NULL;
    s->d = d;
    s->cells = cells;
    s->n = n;
    s->M = th__calloc(n * n, sizeof *s->M);
    s->c = th__calloc(n, sizeof *s->c);
    s->G = th__calloc(n * n, sizeof *s->G);
    s->readout = th__calloc(d * n, sizeof *s->readout);
    s->u = th__calloc(d, sizeof *s->u);
    if (!s->M || !s->c || !s->G || !s->readout || !s->u) {
        th_spu_free(s);
        return NULL;
    }
    return s;
}

void th_spu_free(th_spu *s)
{
    if (!s) return;
    th__free(s->M);
    th__free(s->c);
    th__free(s->G);
    th__free(s->readout);
    th__free(s->b);
    th__free(s->u);
    th__free(s->cap);
    th__free(s->A_hw);
    th__free(s);
}

static int relaxation_times(th_spu *s)
{
    double re_min, abs_max;
    int rc = th__eig_range(s->M, s->n, &re_min, &abs_max);
    if (rc != TH_OK) return rc;
    if (!(re_min > 0.0))
        return th__fail(TH_EINVAL, "the programmed SPU is not stable: its drift has an "
                        "eigenvalue with real part %g <= 0", re_min);
    s->tau = 1.0 / re_min;
    s->tau_fast = 1.0 / abs_max;
    return TH_OK;
}

/* Cholesky check that S (d, d) is positive definite. */
static int positive_definite(const double *S, size_t d)
{
    double *W = th__alloc(d * d * sizeof *W);
    if (!W) return 0;
    memcpy(W, S, d * d * sizeof *W);
    int ok = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, W, (lapack_int)d) == 0;
    th__free(W);
    return ok;
}

static th_spu *build_overdamped(const th_spu_params *p, const double *A, const double *b,
                                size_t d)
{
    th_spu *s = spu_new(d, d, d);
    double *coupling = th__calloc(d * d, sizeof *coupling), *self = th__calloc(d, sizeof *self);
    double *one = th__alloc(3 * d * sizeof *one);
    if (!s || !coupling || !self || !one) {
        th__fail(TH_ENOMEM, "SPU of size %zu: out of memory", d);
        goto fail;
    }
    s->params = *p;
    s->mapping = TH_SPU_DIRECT;
    s->A_hw = th__alloc(d * d * sizeof *s->A_hw);
    if (!s->A_hw) {
        th__fail(TH_ENOMEM, "SPU of size %zu: out of memory", d);
        goto fail;
    }
    for (size_t i = 0; i < d; i++) {
        double off = 0.0;
        for (size_t j = 0; j < d; j++)
            if (j != i) {
                coupling[i * d + j] = fabs(A[i * d + j]);
                off += coupling[i * d + j];
            }
        self[i] = A[i * d + i] - off; /* may be negative: the idealisation has no parts limit */
    }
    quantise(coupling, d, p->bits);
    for (size_t k = 0; k < 3 * d; k++) one[k] = 1.0;
    if (mismatch(p, d, coupling, self, one, one + d, one + 2 * d) != TH_OK) goto fail;
    for (size_t i = 0; i < d; i++) {
        double diag = self[i];
        for (size_t j = 0; j < d; j++)
            if (j != i) {
                double sign = A[i * d + j] < 0.0 ? -1.0 : 1.0;
                s->A_hw[i * d + j] = sign * coupling[i * d + j];
                diag += coupling[i * d + j];
            }
        s->A_hw[i * d + i] = diag;
    }
    if (!positive_definite(s->A_hw, d)) {
        th__fail(TH_EINVAL, "the imprecise parts (bits %u, mismatch %g) realise a matrix that "
                 "is not positive definite: fewer bits or less mismatch needed", p->bits,
                 p->mismatch);
        goto fail;
    }
    memcpy(s->M, s->A_hw, d * d * sizeof *s->M);
    for (size_t i = 0; i < d; i++) {
        s->G[i * d + i] = sqrt(2.0);
        s->readout[i * d + i] = 1.0;
        s->u[i] = 1.0;
        if (b) s->c[i] = b[i];
    }
    s->cov_scale = 1.0;
    s->alpha = 1.0;
    th__free(coupling);
    th__free(self);
    th__free(one);
    return s;
fail:
    th_spu_free(s);
    th__free(coupling);
    th__free(self);
    th__free(one);
    return NULL;
}

static th_spu *build_rlc(const th_spu_params *p, const double *A, size_t d, const double *u,
                         th_spu_mapping mapping)
{
    const size_t cells = mapping == TH_SPU_DOUBLED ? 2 * d : d;
    const size_t n = 2 * cells;
    th_spu *s = spu_new(d, cells, n);
    double *Am = th__calloc(cells * cells, sizeof *Am);       /* (cells, cells) mapped A */
    double *coupling = th__calloc(cells * cells, sizeof *coupling);
    double *self = th__calloc(cells, sizeof *self);
    double *parts = th__alloc(3 * cells * sizeof *parts);     /* L, R, kappa0 per cell */
    double *Cinv = th__alloc(cells * cells * sizeof *Cinv);
    if (!s || !Am || !coupling || !self || !parts || !Cinv) {
        th__fail(TH_ENOMEM, "SPU of %zu cells: out of memory", cells);
        goto fail;
    }
    s->params = *p;
    s->mapping = mapping;
    memcpy(s->u, u, d * sizeof *u);
    s->cap = th__alloc(cells * cells * sizeof *s->cap);
    if (!s->cap) {
        th__fail(TH_ENOMEM, "SPU of %zu cells: out of memory", cells);
        goto fail;
    }
    /* D A D, split into the sign-definite parts of the doubled network. */
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double a = u[i] * A[i * d + j] * u[j];
            if (mapping != TH_SPU_DOUBLED) {
                Am[i * cells + j] = a;
            } else if (i == j || a <= 0.0) {
                Am[i * cells + j] = a;
                Am[(i + d) * cells + j + d] = a;
            } else {
                Am[i * cells + j + d] = -a;
                Am[(i + d) * cells + j] = -a;
            }
        }
    double top = 0.0;
    for (size_t i = 0; i < cells; i++) top = fmax(top, Am[i * cells + i]);
    s->alpha = p->cap_max / top;
    for (size_t i = 0; i < cells; i++) {
        double row = 0.0;
        for (size_t j = 0; j < cells; j++) {
            row += Am[i * cells + j];
            if (j != i) coupling[i * cells + j] = -s->alpha * Am[i * cells + j];
        }
        /* Row sums are >= 0 by the mapping; clear round-off below zero. */
        self[i] = fmax(0.0, s->alpha * row);
    }
    for (size_t k = 0; k < cells; k++) {
        parts[k] = p->inductance;
        parts[cells + k] = p->resistance;
        parts[2 * cells + k] = p->kappa0;
    }
    quantise(coupling, cells, p->bits);
    if (mismatch(p, cells, coupling, self, parts, parts + cells, parts + 2 * cells) != TH_OK)
        goto fail;
    th_spu_maxwell(self, coupling, cells, s->cap);
    memcpy(Cinv, s->cap, cells * cells * sizeof *Cinv);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)cells, Cinv, (lapack_int)cells) != 0 ||
        LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)cells, Cinv, (lapack_int)cells) != 0) {
        th__fail(TH_EINVAL, "the capacitance matrix of %zu cells is not positive definite "
                 "(bits %u, mismatch %g): fewer bits or less mismatch needed", cells, p->bits,
                 p->mismatch);
        goto fail;
    }
    for (size_t i = 0; i < cells; i++)
        for (size_t j = 0; j < i; j++) Cinv[j * cells + i] = Cinv[i * cells + j];
    /* z = (i_1..i_cells, v_1..v_cells). */
    for (size_t i = 0; i < cells; i++) {
        s->M[i * n + cells + i] = -1.0 / parts[i];
        for (size_t j = 0; j < cells; j++) {
            const double ci = Cinv[i * cells + j];
            s->M[(cells + i) * n + j] = ci;
            s->M[(cells + i) * n + cells + j] = ci / parts[cells + j];
            s->G[(cells + i) * n + cells + j] = ci * sqrt(2.0 * parts[2 * cells + j]);
        }
    }
    for (size_t j = 0; j < d; j++) {
        if (mapping == TH_SPU_DOUBLED) {
            s->readout[j * n + cells + j] = u[j] / sqrt(2.0);
            s->readout[j * n + cells + d + j] = -u[j] / sqrt(2.0);
        } else {
            s->readout[j * n + cells + j] = u[j];
        }
    }
    s->cov_scale = p->kappa0 * p->resistance / s->alpha;
    th__free(Am);
    th__free(coupling);
    th__free(self);
    th__free(parts);
    th__free(Cinv);
    return s;
fail:
    th_spu_free(s);
    th__free(Am);
    th__free(coupling);
    th__free(self);
    th__free(parts);
    th__free(Cinv);
    return NULL;
}

th_spu *th__spu_alloc_scaled(const th_spu_params *p, const double *A, const double *b,
                             size_t d, const double *u_given, th_spu_mapping mapping)
{
    TH_ASSERT(p && A && d > 0);
    if (check_params(p) != TH_OK) return NULL;
    if (check_symmetric(A, d, "matrix A") != TH_OK) return NULL;
    if (b)
        for (size_t i = 0; i < d; i++)
            if (!isfinite(b[i])) {
                th__fail(TH_EINVAL, "right-hand side b: entry %zu is not finite", i + 1);
                return NULL;
            }
    if (!positive_definite(A, d)) {
        th__fail(TH_EINVAL, "matrix A (%zu x %zu) is not positive definite: the SPU's "
                 "equilibrium N(A^-1 b, A^-1) needs a symmetric positive-definite A", d, d);
        return NULL;
    }
    th_spu *s = NULL;
    if (p->model == TH_SPU_OVERDAMPED) {
        s = build_overdamped(p, A, b, d);
    } else {
        double *u = th__alloc(d * sizeof *u);
        if (!u) {
            th__fail(TH_ENOMEM, "SPU of size %zu: out of memory", d);
            return NULL;
        }
        int rc = TH_OK;
        if (u_given)
            memcpy(u, u_given, d * sizeof *u);
        else
            rc = th_spu_realise(A, d, &mapping, u, NULL);
        if (rc == TH_OK) s = build_rlc(p, A, d, u, mapping);
        th__free(u);
    }
    if (!s) return NULL;
    if (b) {
        s->b = th__alloc(d * sizeof *s->b);
        if (!s->b) {
            th__fail(TH_ENOMEM, "SPU of size %zu: out of memory", d);
            th_spu_free(s);
            return NULL;
        }
        memcpy(s->b, b, d * sizeof *b);
    }
    if (relaxation_times(s) != TH_OK) {
        th_spu_free(s);
        return NULL;
    }
    return s;
}

th_spu *th_spu_alloc(const th_spu_params *p, const double *A, const double *b, size_t d)
{
    return th__spu_alloc_scaled(p, A, b, d, NULL, TH_SPU_DIRECT);
}

th_spu *th_spu_alloc_lyap(const double *A, const double *D, size_t d)
{
    TH_ASSERT(A && D && d > 0);
    for (size_t k = 0; k < d * d; k++)
        if (!isfinite(A[k])) {
            th__fail(TH_EINVAL, "drift A: entry (%zu, %zu) is not finite", k / d + 1, k % d + 1);
            return NULL;
        }
    if (check_symmetric(D, d, "noise matrix D") != TH_OK) return NULL;
    th_spu *s = spu_new(d, d, d);
    if (!s) {
        th__fail(TH_ENOMEM, "SPU of size %zu: out of memory", d);
        return NULL;
    }
    s->params = th_spu_params_default();
    s->params.model = TH_SPU_OVERDAMPED;
    s->general_drift = 1;
    memcpy(s->M, A, d * d * sizeof *A);
    memcpy(s->G, D, d * d * sizeof *D);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, s->G, (lapack_int)d) != 0) {
        th__fail(TH_EINVAL, "noise matrix D (%zu x %zu) is not positive definite", d, d);
        th_spu_free(s);
        return NULL;
    }
    for (size_t i = 0; i < d; i++) {
        for (size_t j = i + 1; j < d; j++) s->G[i * d + j] = 0.0;
        s->readout[i * d + i] = 1.0;
        s->u[i] = 1.0;
    }
    s->cov_scale = 1.0;
    s->alpha = 1.0;
    if (relaxation_times(s) != TH_OK) {
        th__fail(TH_EINVAL, "drift A: an eigenvalue has real part <= 0: the Lyapunov "
                 "equation A S + S A^T = D has no stationary (positive-definite) solution");
        th_spu_free(s);
        return NULL;
    }
    return s;
}

int th_spu_stationary(const th_spu *s, double *mean, double *cov)
{
    TH_ASSERT(s);
    const size_t n = s->n, d = s->d;
    int rc = TH_OK;
    double *Q = th__alloc(n * n * sizeof *Q), *S = th__alloc(n * n * sizeof *S);
    double *W = th__alloc(d * n * sizeof *W), *mz = th__alloc(n * sizeof *mz);
    double *Mc = th__alloc(n * n * sizeof *Mc);
    lapack_int *piv = th__alloc(n * sizeof *piv);
    if (!Q || !S || !W || !mz || !Mc || !piv) {
        rc = th__fail(TH_ENOMEM, "stationary state of size %zu: out of memory", n);
        goto done;
    }
    if (cov) {
        th__gemm_f64(TH__N, TH__T, (int)n, (int)n, (int)n, 1.0, s->G,
                    (int)n, s->G, (int)n, 0.0, Q, (int)n);
        th__symmetrise(Q, n);
        if ((rc = th_lyap_solve(s->M, Q, n, S)) != TH_OK) goto done;
        th__gemm_f64(TH__N, TH__N, (int)d, (int)n, (int)n, 1.0,
                    s->readout, (int)n, S, (int)n, 0.0, W, (int)n);
        th__gemm_f64(TH__N, TH__T, (int)d, (int)d, (int)n, 1.0, W,
                    (int)n, s->readout, (int)n, 0.0, cov, (int)d);
    }
    if (mean) {
        memcpy(Mc, s->M, n * n * sizeof *Mc);
        memcpy(mz, s->c, n * sizeof *mz);
        if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, 1, Mc, (lapack_int)n, piv, mz, 1) != 0) {
            rc = th__fail(TH_EINVAL, "stationary mean: the drift is singular");
            goto done;
        }
        th__gemm_f64(TH__N, TH__N, d, 1, n, 1.0, s->readout, n, mz, 1, 0.0, mean, 1);
    }
done:
    th__free(Q);
    th__free(S);
    th__free(W);
    th__free(mz);
    th__free(Mc);
    th__free(piv);
    return rc;
}
