/* linalg_internal.h - what the SPU modules (spu.c, ou.c, tla.c) share. */
#ifndef THERMO_LINALG_INTERNAL_H
#define THERMO_LINALG_INTERNAL_H

#include "core/internal.h"

/* Gauss-Legendre nodes (n) and weights (n) on [0, 1] by Golub and Welsch:
 * the eigenvalues of the Jacobi matrix of the Legendre polynomials (LAPACK
 * dstev) and the squared first components of its eigenvectors. */
int th__gauss_legendre(size_t n, double *nodes, double *weights);

/* The eigenvalues' real parts of M (n, n): *re_min (smallest real part) and
 * *abs_max (largest modulus), by LAPACK dgeev. */
int th__eig_range(const double *M, size_t n, double *re_min, double *abs_max);

/* A factor L (n, n) with L L^T = Sigma (symmetric positive semidefinite):
 * Cholesky, or, when Sigma is singular to working precision, U sqrt(max(lambda,
 * 0)) from its eigen-decomposition. */
int th__psd_factor(const double *Sigma, size_t n, double *L);

/* S <- (S + S^T) / 2 for S (n, n). */
void th__symmetrise(double *S, size_t n);

/* The SPU built from A with a given scaling u (NULL = found by
 * th_spu_realise): the logdet path programs A(lambda) with A's own scaling
 * so that every node is realisable and sees the same parts. */
th_spu *th__spu_alloc_scaled(const th_spu_params *p, const double *A, const double *b,
                             size_t d, const double *u_given, th_spu_mapping mapping);

#endif
