/* thermo/linalg.h - thermodynamic linear algebra on a simulated stochastic processing unit (SPU).
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_LINALG_H
#define THERMO_LINALG_H

#include <stddef.h>
#include <stdint.h>

#include "thermo/core.h"
#include "thermo/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==================================== thermodynamic linear algebra (linalg) */

/* Normal Computing's stochastic processing unit (SPU; Aifer et al. 2024,
 * Melanson et al., Nat. Commun. 2025; science.md section 5) simulated as a
 * linear stochastic differential equation
 *
 *     dz = -(M z - c) dt + G dW,      x = readout z,
 *
 * whose equilibrium encodes a matrix A: Cov(x) = cov_scale A^-1. Two models:
 *
 * - TH_SPU_RLC, the board: `cells` RLC unit cells, z = (i, v) (inductor
 *   currents, then node voltages), all-to-all coupled by capacitors:
 *       di = L^-1 v dt,  dv = -C^-1 R^-1 v dt - C^-1 i dt + C^-1 sqrt(2 kappa0) dW,
 *   C the Maxwell capacitance matrix. With R = r I, Cov(v) = kappa0 r C^-1.
 *   Time in seconds of simulated hardware.
 * - TH_SPU_OVERDAMPED, the idealisation dx = -(A x - b) dt + sqrt(2) dW, with
 *   equilibrium N(A^-1 b, A^-1). Time in units of 1/gamma, the cells'
 *   relaxation rate.
 *
 * All matrices are float64, row-major, with their shape in a comment. */

/* ------------------------------------------- Matrix Market files (io/mtx.c) */

/* Reads a Matrix Market file ("%%MatrixMarket matrix array|coordinate
 * real|integer|pattern general|symmetric|skew-symmetric") into a dense
 * row-major matrix *data (rows, cols), allocated (free with free()). Every
 * index, count and value is checked (finite, in range, no duplicate
 * coordinate entry, symmetric files give the lower triangle only); at most
 * 2^26 entries. TH_EIO / TH_EFORMAT with a message naming the file and line. */
int th_mtx_read(const char *path, double **data, size_t *rows, size_t *cols);

/* Writes data (rows, cols) as "matrix array real general" with 17
 * significant digits (exact round trip) and an optional comment line
 * (no newline in it). Atomic. */
int th_mtx_write(const char *path, const double *data, size_t rows, size_t cols,
                 const char *comment);

/* ------------------------------- exact Ornstein-Uhlenbeck transitions (ou) */

/* out = e^A for A (n, n): scaling and squaring with the [6/6] Pade
 * approximant, whose denominator is solved by LAPACK (dgesv). */
int th_matrix_expm(const double *A, size_t n, double *out);

/* Solves the Lyapunov equation M S + S M^T = Q for S (n, n) by Bartels and
 * Stewart: the real Schur form M = U T U^T (LAPACK dgees), then the
 * quasi-triangular Sylvester equation T Y + Y T^T = U^T Q U (dtrsyl), S =
 * U Y U^T. Correct for non-normal M. TH_EINVAL when some eigenvalue of M has
 * a real part <= 0 (no stationary state). S is symmetrised when Q is
 * symmetric. */
int th_lyap_solve(const double *M, const double *Q, size_t n, double *S);

typedef enum th_ou_method {
    TH_OU_LYAPUNOV = 0, /* Sigma(h) = S - e^{-Mh} S e^{-M^T h}, M S + S M^T = Q */
    TH_OU_VAN_LOAN = 1  /* one exponential of [[M, Q], [0, -M^T]] h (Van Loan 1978) */
} th_ou_method;

/* The exact transition over a time h of dz = -M z dt + G dW with Q = G G^T:
 * z(t + h) = F z(t) + N(0, Sigma), F = e^{-Mh}. F, Sigma: (n, n). */
int th_ou_transition(const double *M, const double *Q, size_t n, double h,
                     th_ou_method method, double *F, double *Sigma);

/* ------------------------------------------------------- the SPU (spu.c) */

typedef enum th_spu_model {
    TH_SPU_RLC = 0,       /* the underdamped circuit */
    TH_SPU_OVERDAMPED = 1 /* the idealisation dx = -(A x - b) dt + sqrt(2) dW */
} th_spu_model;

typedef struct th_spu_params {
    th_spu_model model;  /* TH_SPU_RLC */
    /* The RLC cell (SI units; illustrative values, not the board's): */
    double inductance;   /* H per cell: 1e-3 */
    double resistance;   /* ohm per cell: 1e3 (R sqrt(C/L) = 1: damped in a period) */
    double cap_max;      /* F: the largest total capacitance C_ii once A is scaled: 1e-9 */
    double kappa0;       /* A^2 s: noise current strength: 1e-14 (about 0.1 V rms) */
    /* Imprecision of the components (both models): */
    unsigned bits;       /* coupling capacitances rounded to one of 2^bits equally
                            spaced levels of [0, largest]: 0 = exact */
    double mismatch;     /* relative sd of every component (couplings, self
                            capacitances, L, R, kappa0): 0 */
    uint64_t copy;       /* which physical copy: keys the mismatch draw and the noise */
    uint64_t hw_seed;    /* seed of the mismatch draws: 1 */
} th_spu_params;

th_spu_params th_spu_params_default(void);

/* How a symmetric A is realised by positive capacitors. Positive coupling
 * capacitors give a Maxwell matrix C with C_ij <= 0 (i != j) and row sums
 * = self capacitances >= 0: a diagonally dominant M-matrix.
 * - DIRECT: A is such a matrix; C = alpha A.
 * - SCALED: A is an M-matrix (C_ij <= 0, positive definite) without
 *   dominant rows: C = alpha D A D with D = diag(u), u > 0, A u > 0, whose
 *   row sums u_i (A u)_i are positive; readout x = D v.
 * - DOUBLED: A has positive off-diagonal entries but its comparison matrix
 *   <A> (|A_ii| on the diagonal, -|A_ij| off it) is an M-matrix: 2d cells
 *   with C = alpha D' [[A_d + A_-, -A_+], [-A_+, A_d + A_-]] D', the
 *   difference readout x = D (v_1 - v_2) / sqrt(2) sees A (the
 *   antisymmetric modes) and its inverse exactly. */
typedef enum th_spu_mapping {
    TH_SPU_DIRECT = 0,
    TH_SPU_SCALED = 1,
    TH_SPU_DOUBLED = 2
} th_spu_mapping;

/* The realisability check. A (d, d) must be symmetric with a positive
 * diagonal. Sets *mapping and u (d, may be NULL) for the scaling D =
 * diag(u); TH_EINVAL when no capacitor network realises A, with a message
 * naming the first failing row and the diagonal shift s that would make
 * A + s I realisable (*shift, may be NULL; 0 when realisable). */
int th_spu_realise(const double *A, size_t d, th_spu_mapping *mapping, double *u,
                   double *shift);

/* The Maxwell capacitance matrix C (cells, cells) of self capacitances
 * self (cells) and coupling capacitances coupling (cells, cells; symmetric,
 * diagonal ignored): C_ii = self_i + sum_j coupling_ij, C_ij = -coupling_ij. */
void th_spu_maxwell(const double *self, const double *coupling, size_t cells, double *C);

/* One programmed SPU. */
typedef struct th_spu {
    th_spu_params params;
    th_spu_mapping mapping;
    size_t d;          /* problem dimension */
    size_t cells;      /* RLC cells (d, or 2d when DOUBLED); d when overdamped */
    size_t n;          /* state dimension: 2 cells (RLC), d (overdamped) */
    double *M;         /* (n, n) drift */
    double *c;         /* (n) constant drive (overdamped: b) */
    double *G;         /* (n, n) noise matrix; Q = G G^T */
    double *readout;   /* (d, n) x = readout z */
    double *b;         /* (d) right-hand side when given, else NULL */
    double *u;         /* (d) the scaling D = diag(u) (1 when DIRECT) */
    double *cap;       /* (cells, cells) Maxwell matrix as built, F (RLC); NULL otherwise */
    double *A_hw;      /* (d, d) overdamped: A as realised by imprecise parts */
    double alpha;      /* farads per unit of the scaled matrix (RLC) */
    double cov_scale;  /* Cov(x) = cov_scale A^-1 for exact parts: kappa0 r / alpha, or 1 */
    double tau;        /* slowest relaxation time: 1 / min Re eig(M) */
    double tau_fast;   /* fastest: 1 / max |eig(M)| */
    int general_drift; /* 1: built by th_spu_alloc_lyap (A need not be symmetric) */
} th_spu;

/* Programs A (d, d) symmetric positive definite (and b (d) or NULL) into an
 * SPU; with imprecise parts the hardware realises a nearby matrix. NULL on
 * failure: not realisable (RLC), not positive definite, bad parameters. */
th_spu *th_spu_alloc(const th_spu_params *p, const double *A, const double *b, size_t d);

/* The overdamped SPU for the Lyapunov equation A S + S A^T = D: drift A
 * (d, d), any matrix whose eigenvalues have positive real parts (symmetric
 * or not), noise G = chol(D), D (d, d) symmetric positive definite; its
 * stationary covariance is S. Component imprecision does not apply. */
th_spu *th_spu_alloc_lyap(const double *A, const double *D, size_t d);
void th_spu_free(th_spu *s);

/* The stationary mean (d) and covariance (d, d) of the readout of s, from a
 * Lyapunov solve: the infinite-time answer of this (possibly imprecise)
 * hardware. Either output may be NULL. */
int th_spu_stationary(const th_spu *s, double *mean, double *cov);

/* ------------------------------------ thermodynamic algorithms (tla.c) */

typedef enum th_tla_integrator {
    TH_TLA_EXACT = 0, /* exact OU transition over each sampling interval */
    TH_TLA_EULER = 1  /* Euler-Maruyama steps of dt */
} th_tla_integrator;

/* The protocol of one run, in the model's time unit (s, or 1/gamma). Zero
 * fields take defaults from the SPU's relaxation time tau. */
typedef struct th_tla_protocol {
    double time;            /* averaging time per chain (required, > 0) */
    double burn_in;         /* discarded start of each chain: 0 = 20 tau */
    double sample_interval; /* time between recorded states: 0 = tau / 2 */
    double dt;              /* Euler step: 0 = min(interval, tau_fast) / 20 */
    size_t chains;          /* independent chains side by side: 4 */
    size_t batches;         /* consecutive windows for batch means: 16 (>= 2) */
    th_tla_integrator integrator;
    uint64_t seed;          /* noise seed: 1 */
    size_t lambda_nodes;    /* logdet: Gauss-Legendre nodes in lambda: 12 */
    double a0;              /* logdet: reference A0 = a0 I: 0 = tr(A) / d */
} th_tla_protocol;

th_tla_protocol th_tla_protocol_default(void);

/* What an algorithm returns: the estimate, its batch-means standard error
 * entry by entry, and the simulated hardware time it took. */
typedef struct th_tla_result {
    size_t rows, cols;
    double *estimate;  /* (rows, cols) */
    double *std_error; /* (rows, cols) */
    double error;      /* sqrt(sum std_error^2): the estimated Frobenius error */
    double sim_time;   /* total simulated time: chains x (burn-in + time), summed over
                          lambda nodes and copies */
    size_t samples;    /* states averaged */
} th_tla_result;

void th_tla_result_free(th_tla_result *r); /* frees the arrays; NULL-safe */

/* Gaussian sampling: s programmed with the precision P = S^-1 of the target
 * N(m, S). samples (n_samples, d) or NULL receives x / sqrt(cov_scale) + m
 * (m (d) may be NULL = 0), taken every sample interval after the burn-in,
 * chain by chain at each time; r gets the sample covariance estimate of S. */
int th_tla_sample(const th_spu *s, const th_tla_protocol *p, const double *m,
                  size_t n_samples, double *samples, th_tla_result *r);

/* A x = b (s built with b): overdamped, the time average of x (first
 * moment); RLC, whose inductors pin the mean voltage at 0, the second
 * moment <x x^T> b / cov_scale. r: (d, 1). */
int th_tla_solve(const th_spu *s, const th_tla_protocol *p, th_tla_result *r);

/* A^-1 = <x x^T> / cov_scale (s built without b). r: (d, d). */
int th_tla_inverse(const th_spu *s, const th_tla_protocol *p, th_tla_result *r);

/* ln det A by thermodynamic integration (a free-energy difference) from
 * A0 = a0 I to A along A(lambda) = (1 - lambda) A0 + lambda A:
 * ln det A = d ln a0 + int_0^1 <x^T (A - A0) x>_lambda / cov_scale dlambda,
 * Gauss-Legendre in lambda, one SPU programmed per node. r: (1, 1). */
int th_tla_logdet(const th_spu_params *hw, const double *A, size_t d,
                  const th_tla_protocol *p, th_tla_result *r);

/* A S + S A^T = D from s = th_spu_alloc_lyap(A, D): S = <x x^T>. r: (d, d). */
int th_tla_lyap(const th_spu *s, const th_tla_protocol *p, th_tla_result *r);

/* Error mitigation: merges the results of k runs on independently
 * mismatched copies (same shape) into out: the mean estimate, and the
 * standard error from the spread between copies (which holds both the
 * noise and the copies' own errors) or from the runs' own errors when
 * larger; sim_time summed. */
int th_tla_merge(const th_tla_result *runs, size_t k, th_tla_result *out);

/* ------------------------------- error against time (linalg/sweep.c) */

/* One algorithm run for a ladder of averaging times T / 2^(P-1), ..., T,
 * each an independent run (seed + k for point k) on `copies` independently
 * mismatched copies whose answers are merged (th_tla_merge). Every point is
 * compared with LAPACK's direct answer and with the hardware floor, the
 * error of the copies' merged infinite-time answer (th_spu_stationary). */
typedef enum th_tla_algorithm {
    TH_TLA_SAMPLE = 0, /* A is the covariance S; the SPU gets its precision S^-1 */
    TH_TLA_SOLVE = 1,  /* A x = b */
    TH_TLA_INVERSE = 2,
    TH_TLA_LOGDET = 3,
    TH_TLA_LYAP = 4    /* A S + S A^T = D, overdamped only */
} th_tla_algorithm;

typedef struct th_tla_problem {
    th_tla_algorithm alg;
    size_t d;
    const double *A; /* (d, d) */
    const double *b; /* (d): solve's right-hand side (required), sample's mean (or NULL) */
    const double *D; /* (d, d): lyap's right-hand side; NULL = the identity */
} th_tla_problem;

struct th_tla_sweep;

typedef struct th_tla_sweep_opts {
    th_spu_params hw;          /* model and imprecision; copy is set per copy */
    th_tla_protocol protocol;  /* chains, batches, integrator, lambda_nodes; time and
                                  seed are set per point */
    double time;               /* T: 0 = 10000 tau (the slowest relaxation time) */
    size_t points;             /* 1 .. TH_TLA_SWEEP_MAX_POINTS */
    size_t copies;             /* 1 .. TH_TLA_SWEEP_MAX_COPIES */
    uint64_t seed;
    size_t n_samples;          /* sample: samples drawn by copy 0 at the last point */
    /* Called after each point k; a nonzero return stops with TH_ECANCELED. */
    int (*on_point)(const struct th_tla_sweep *s, size_t k, void *ctx);
    void *ctx;
} th_tla_sweep_opts;

#define TH_TLA_SWEEP_MAX_POINTS 20
#define TH_TLA_SWEEP_MAX_COPIES 4096

th_tla_sweep_opts th_tla_sweep_opts_default(void); /* 6 points, 1 copy, seed 1 */

/* How far th_tla_sweep_prepare got, so that a caller can explain a failure. */
typedef enum th_tla_sweep_stage {
    TH_SWEEP_CHECKED = 0,   /* nothing computed (the arguments may have been refused) */
    TH_SWEEP_REFERENCE = 1, /* LAPACK's answer computed */
    TH_SWEEP_PROGRAMMED = 2, /* the SPU programmed (tau, mapping known) */
    TH_SWEEP_READY = 3      /* the floor computed: the points can run */
} th_tla_sweep_stage;

typedef struct th_tla_sweep {
    th_tla_algorithm alg;
    size_t d;
    th_tla_sweep_stage stage;
    int absolute;          /* errors are absolute (logdet, nats), else relative Frobenius */
    /* The SPU as programmed (copy 0; for logdet the matrix A itself): */
    th_spu_model model;
    th_spu_mapping mapping;
    size_t cells;
    double alpha, tau, tau_fast;
    double time;           /* T as used */
    /* LAPACK's answer (ref_n: d for solve, 1 for logdet, d * d otherwise) and
     * the best wall time of 5 calls after a warm-up, s. */
    double *reference;
    size_t ref_n;
    double lapack_wall;
    double floor;          /* 0 with exact parts or lyap; -1: not computed (logdet) */
    /* Points done so far (points of them): total simulated time, error
     * against LAPACK, the run's own error estimate (scaled like the error),
     * wall time, s. */
    size_t points;
    double time_sim[TH_TLA_SWEEP_MAX_POINTS], error[TH_TLA_SWEEP_MAX_POINTS];
    double estimate[TH_TLA_SWEEP_MAX_POINTS], wall[TH_TLA_SWEEP_MAX_POINTS];
    th_tla_result last;    /* the merged answer at time T */
    double *samples;       /* sample: (n_samples, d) from the last point, else NULL */
    size_t n_samples;
    /* internal: the matrix programmed (A, or S^-1 for sample) and lyap's D */
    double *prog_, *noise_;
} th_tla_sweep;

/* The whole sweep: th_tla_sweep_prepare, then th_tla_sweep_points. s is
 * zeroed first; free it with th_tla_sweep_free whatever the outcome. */
int th_tla_sweep_run(const th_tla_problem *pb, const th_tla_sweep_opts *o, th_tla_sweep *s);
/* Checks, LAPACK's answer, the programmed SPU, the floor. TH_EINVAL names
 * what is wrong: not symmetric positive definite ("matrix A" or "the
 * covariance S"), not realisable, a lyap drift without a stationary state. */
int th_tla_sweep_prepare(const th_tla_problem *pb, const th_tla_sweep_opts *o,
                         th_tla_sweep *s);
/* Runs the o->points points of a sweep prepared from the same pb and o. */
int th_tla_sweep_points(th_tla_sweep *s, const th_tla_problem *pb, const th_tla_sweep_opts *o);
void th_tla_sweep_free(th_tla_sweep *s);

/* error.csv: header "time_s" (RLC) or "time_1_over_gamma", then
 * "error,error_estimate,floor"; one line per point, %.6e, the floor left
 * empty when not computed. Atomic. */
int th_tla_sweep_write_csv(const char *path, const th_tla_sweep *s);

/* The log-log chart of the sweep: error against LAPACK (red, markers), the
 * run's error estimate (blue, dashed), the hardware floor (grey, dashed,
 * when > 0) and 1/sqrt(time) through the first estimate (green, dashed),
 * with a title, axis titles and a legend. */
th_canvas *th_tla_sweep_chart(const th_tla_sweep *s, size_t width, size_t height);

/* end of section linalg */

#ifdef __cplusplus
}
#endif
#endif /* THERMO_LINALG_H */
