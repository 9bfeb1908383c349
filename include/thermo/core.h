/* thermo/core.h - the engine every computer shares: versions and errors, random streams (Philox), the model, batches of trajectories and the Langevin run.
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_CORE_H
#define THERMO_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TH_VERSION_MAJOR 0
#define TH_VERSION_MINOR 1
#define TH_VERSION_PATCH 0
#define TH_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ errors */

enum th_status {
    TH_OK = 0,
    TH_EINVAL = -1,    /* an argument or parameter is out of its domain */
    TH_ENOMEM = -2,    /* allocation failed */
    TH_EDIVERGED = -3, /* a simulation left its bounded region (dt too large?) */
    TH_ECANCELED = -4, /* a progress callback asked to stop */
    TH_EIO = -5,       /* reading or writing a file failed */
    TH_EFORMAT = -6    /* a file's content is malformed */
};

/* The progress callback of every long call that counts its work (steps,
 * paths, images, samples, rows): done of total so far, and the caller's ctx.
 * A nonzero return cancels the call, which then fails with TH_ECANCELED. */
typedef int (*th_progress_fn)(size_t done, size_t total, void *ctx);

/* A fixed description of a status code ("invalid argument"). */
const char *th_strerror(int status);

/* The detailed message of the most recent failure in this thread, naming the
 * parameter, step or file involved; "" if none. Valid until the next failing
 * call in the same thread. */
const char *th_last_error(void);

const char *th_version(void);

/* The OpenBLAS core type ("SkylakeX", "Haswell") this CPU should use when the
 * loaded OpenBLAS fell back to its generic kernels for want of recognising
 * it; NULL when OpenBLAS chose well. It takes effect only through the
 * environment variable OPENBLAS_CORETYPE set before OpenBLAS loads (the thermo
 * tool does this and re-executes itself). */
const char *th_blas_core_hint(void);

/* ------------------------------------------------------ matrix products */

/* thermo's own matrix products, the ones every computer uses (the backend
 * seam, src/core/backend.h): C (M, N; ldc) = alpha op(A) op(B) + beta C,
 * row-major, op(A) (M, K), op(B) (K, N), trans_* 0 or 1 (A^T as stored). The
 * sum behind each element is fixed, s = fma(a_{K-1} b_{K-1}, ... fma(a_0 b_0,
 * 0)), one fused multiply-add per term in ascending k, then alpha s + beta c
 * (c not read when beta = 0); so the bits do not depend on the thread
 * count, the blocking, the batch size, the CPU's vector unit or OpenBLAS. */
void th_matmul_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                   const float *A, size_t lda, const float *B, size_t ldb, float beta,
                   float *C, size_t ldc);
void th_matmul_f64(int trans_a, int trans_b, size_t M, size_t N, size_t K, double alpha,
                   const double *A, size_t lda, const double *B, size_t ldb, double beta,
                   double *C, size_t ldc);
/* A right-hand operand op(B) (K, N) packed once for many products (the
 * couplings of a simulation, multiplied every step): the same bits as
 * th_matmul_* on the unpacked operand, without repacking B on every call
 * (which costs most when M is small). NULL: TH_ENOMEM. The operand copies B;
 * free it with th_matmul_operand_free (NULL is fine). */
typedef struct th_matmul_operand th_matmul_operand;
th_matmul_operand *th_matmul_operand_f32(int trans_b, size_t K, size_t N, const float *B,
                                         size_t ldb);
void th_matmul_operand_free(th_matmul_operand *op);
void th_matmul_packed_f32(int trans_a, size_t M, float alpha, const float *A, size_t lda,
                          const th_matmul_operand *B, float beta, float *C, size_t ldc);

/* The plain triple loop that defines those bits, serial and slow: the twin
 * to check a kernel (or a backend of your own) against. */
void th_matmul_reference_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                             float alpha, const float *A, size_t lda, const float *B,
                             size_t ldb, float beta, float *C, size_t ldc);
void th_matmul_reference_f64(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                             double alpha, const double *A, size_t lda, const double *B,
                             size_t ldb, double beta, double *C, size_t ldc);

/* The same products by OpenBLAS (cblas_sgemm, cblas_dgemm): the yardstick
 * that the benchmarks measure thermo's kernels against, and an independent
 * check in the tests. Its bits depend on OpenBLAS's kernel
 * (OPENBLAS_CORETYPE) and thread count; no computer of thermo uses it. */
void th_matmul_openblas_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                            float alpha, const float *A, size_t lda, const float *B,
                            size_t ldb, float beta, float *C, size_t ldc);
void th_matmul_openblas_f64(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                            double alpha, const double *A, size_t lda, const double *B,
                            size_t ldb, double beta, double *C, size_t ldc);

/* The micro-kernel in use: "avx512", "avx2" or "scalar", the best this CPU
 * runs unless THERMO_GEMM names another. th_matmul_use picks one from code
 * (TH_EINVAL naming the kernels this CPU runs); results do not change. */
const char *th_matmul_kernel(void);
int th_matmul_use(const char *kernel);

/* bfloat16 (the upper half of a float32: 8 exponent bits, 8 significant
 * bits). th_bf16_from_f32 rounds to nearest, ties to even; infinities stay,
 * values beyond the largest bfloat16 become infinite, a NaN stays a quiet NaN
 * of its sign, subnormals are rounded like any other number.
 * th_bf16_to_f32 is exact. */
uint16_t th_bf16_from_f32(float x);
float th_bf16_to_f32(uint16_t h);

/* Products in bfloat16 (--precision bf16): op(B) rounded to bfloat16 and
 * packed once. th_matmul_packed_f32 on such an operand computes
 * C = alpha bf16(op(A)) B + beta C with float32 sums in a fixed order, that
 * of the AVX-512 BF16 instruction VDPBF16PS: depths in pairs, the odd one
 * first, each a rounded fused multiply-add, subnormal operands and sums
 * flushed to zero (th_matmul_reference_bf16 is the plain loop that defines
 * it). The bits do not depend on the CPU, its kernel, the thread count or the
 * number of rows. NULL: TH_ENOMEM. */
th_matmul_operand *th_matmul_operand_bf16(int trans_b, size_t K, size_t N, const float *B,
                                          size_t ldb);
void th_matmul_reference_bf16(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                              float alpha, const float *A, size_t lda, const float *B,
                              size_t ldb, float beta, float *C, size_t ldc);
/* The bfloat16 kernel in use: "avx512bf16" where the CPU has AVX-512 BF16,
 * else "portable" (plain C), unless THERMO_BF16 names another this CPU runs;
 * th_matmul_bf16_use picks one from code (TH_EINVAL naming those it runs).
 * Results do not change. */
const char *th_matmul_bf16_kernel(void);
int th_matmul_bf16_use(const char *kernel);

/* ------------------------------------------------------- random numbers */

/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11): a counter-based generator.
 * out = bijection of the 128-bit counter ctr under the 64-bit key. */
void th_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* thermo's streams: key = seed; counter = (block lo, block hi, stream lo,
 * stream hi). Block q of stream s yields four 32-bit words, hence four
 * standard normals. Any block can be generated directly, so a trajectory's
 * noise depends only on (seed, stream, step) and never on threads. */
typedef struct th_rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t block;   /* next block to draw */
    uint32_t buf[4];  /* words of block - 1 */
    unsigned used;    /* words of buf already handed out (4 = empty) */
} th_rng;

void th_rng_init(th_rng *r, uint64_t seed, uint64_t stream);
uint32_t th_rng_u32(th_rng *r);
double th_rng_uniform(th_rng *r); /* uniform in (0, 1), 53-bit resolution */

/* n standard normals from blocks first_block, first_block+1, ... of stream
 * (seed, stream): value i comes from block first_block + i/4, word i%4, by the
 * Box-Muller transform of word pairs (0,1) and (2,3). The float and double
 * versions give the same values up to float rounding. */
void th_normal_fill_f32(uint64_t seed, uint64_t stream, uint64_t first_block,
                        float *out, size_t n);
void th_normal_fill_f64(uint64_t seed, uint64_t stream, uint64_t first_block,
                        double *out, size_t n);
/* The float32 fill's kernel: "avx512" or "avx2" (hand-written vector code)
 * where the CPU has the instructions, else "portable" (plain C), unless
 * THERMO_NOISE names another this CPU runs; th_normal_use picks one from code
 * (TH_EINVAL naming those it runs). Every kernel gives the same bits. */
const char *th_normal_kernel(void);
int th_normal_use(const char *kernel);

/* ------------------------------------------------------------- the model */

typedef enum th_dtype { TH_F32 = 0, TH_F64 = 1 } th_dtype;

/* A typed view of an array whose element type is a th_dtype. */
typedef union th_ptr {
    void *v;
    float *f32;
    double *f64;
} th_ptr;

#define TH_MAX_GROUPS 8

typedef struct th_model {
    th_dtype dtype;
    size_t n;                                   /* number of units */
    size_t n_groups;
    size_t group_start[TH_MAX_GROUPS + 1];      /* group g = units [start[g], start[g+1]) */
    unsigned char couples[TH_MAX_GROUPS][TH_MAX_GROUPS]; /* symmetric; 1 = block may be nonzero */
    /* The bath (science.md section 1): every unit feels friction 1/mu and
     * white noise of strength 2 mu kT, so that the stationary density is
     * exp(-V/kT)/Z. */
    double kT;                                  /* bath temperature (energy units); default 1 */
    double mu;                                  /* mobility; time is in units of 1/mu; default 1 */
    /* The on-site polynomial of unit i, U_i(x) = J2_i x^2 + J3_i x^3 +
     * J4_i x^4 + b_i x, dU_i/dx = 2 J2_i x + 3 J3_i x^2 + 4 J4_i x^3 + b_i.
     * J3 = 0 everywhere (the default) is the even quartic well of the PRL
     * computers; J3 != 0 tilts it asymmetrically (the thermodynamic neurons
     * of science.md section 4); J4 > 0 keeps it confining either way. */
    th_ptr J2;                                  /* (n) quadratic coefficients; default 1 */
    th_ptr J3;                                  /* (n) cubic coefficients; default 0 */
    th_ptr J4;                                  /* (n) quartic coefficients, >= 0; default 1 */
    th_ptr b;                                   /* (n) biases (linear terms); default 0 */
    /* The pair terms sum_{i<j} J_ij x_i x_j. */
    th_ptr J;                                   /* (n, n) couplings: symmetric, zero diagonal,
                                                   zero outside coupled blocks; default 0 */
} th_model;

/* n_groups groups of the given sizes, no couplings allowed yet. NULL on
 * failure (see th_last_error). */
th_model *th_model_alloc(size_t n_groups, const size_t *group_sizes, th_dtype dtype);
void th_model_free(th_model *m);

/* Allow couplings between every unit of group g and every unit of group h
 * (g == h: all pairs within the group). */
int th_model_couple(th_model *m, size_t g, size_t h);

/* Sets J_ij = J_ji = value. TH_EINVAL for i == j or a pair whose groups do not
 * couple. */
int th_model_set_coupling(th_model *m, size_t i, size_t j, double value);
double th_model_get_coupling(const th_model *m, size_t i, size_t j);
int th_model_groups_couple(const th_model *m, size_t i, size_t j); /* by unit index */
size_t th_model_group_of(const th_model *m, size_t unit);

/* Every unit gets the same on-site coefficients: th_model_set_onsite the
 * even well (J3 = 0), th_model_set_onsite3 any quartic polynomial. */
void th_model_set_onsite(th_model *m, double J2, double J4);
void th_model_set_onsite3(th_model *m, double J2, double J3, double J4);

/* Whether any unit has J3 != 0. Runs decide this once: a model without a
 * cubic term takes exactly the arithmetic of the even well. */
int th_model_has_cubic(const th_model *m);

/* Element access for code that does not care about precision. */
double th_ptr_get(th_ptr p, th_dtype dtype, size_t i);
void th_ptr_set(th_ptr p, th_dtype dtype, size_t i, double value);
size_t th_dtype_size(th_dtype dtype);

/* Checks kT > 0, mu > 0, finite parameters, J4 >= 0 (J4 > 0 where J3 != 0:
 * a cubic without a quartic has no bounded equilibrium), J symmetric with zero
 * diagonal and zeros outside the coupling pattern. TH_EINVAL with a message
 * naming the first offending parameter. */
int th_model_validate(const th_model *m);

/* Number of nonzero-allowed ordered pairs (i, j), i != j: the multiply-adds of
 * one coupling-force evaluation for one trajectory. */
size_t th_model_coupling_pairs(const th_model *m);

/* ------------------------------------------------------ trajectory batch */

/* B independent trajectories of a model: states, noise streams, and their
 * thermodynamic ledger. Trajectory k draws its noise from stream
 * stream[k] (default first_stream + k) of the batch's seed. */
/* B trajectories of a model's units: states, heat and work so far, noise
 * streams and the position in them. Opaque: read and write it through the
 * functions below, so that a backend may keep it where it computes (a GPU's
 * memory, a padded layout) without callers noticing. */
typedef struct th_batch th_batch;

th_batch *th_batch_alloc(const th_model *m, size_t b, uint64_t seed);
void th_batch_free(th_batch *s);
/* Zero the states, heat and work, set step and time to 0. */
void th_batch_reset(th_batch *s);

size_t th_batch_size(const th_batch *s);   /* trajectories, b */
size_t th_batch_units(const th_batch *s);  /* units per trajectory, n */
th_dtype th_batch_dtype(const th_batch *s);
/* (b, n) current states in the batch's dtype, initially 0: read them, or
 * write them to start the trajectories elsewhere. Valid until freed. */
th_ptr th_batch_states(th_batch *s);
const double *th_batch_heat(const th_batch *s); /* (b) heat given to the bath, kT */
const double *th_batch_work(const th_batch *s); /* (b) work done by the drive, kT */
uint64_t th_batch_seed(const th_batch *s);
uint64_t th_batch_step(const th_batch *s);  /* steps taken: the position in every stream */
double th_batch_time(const th_batch *s);    /* time reached */
/* Trajectory k's noise stream (initially k): setting it lets a batch
 * continue or repeat trajectories of another batch, whatever their place. */
uint64_t th_batch_stream(const th_batch *s, size_t k);
void th_batch_set_stream(th_batch *s, size_t k, uint64_t stream);

/* --------------------------------------------------------------- running */

/* A time-dependent linear term amplitude(t) * sum_i field_i x_i added to V.
 * field has the model's dtype and shape (n), or (b, n) when per_trajectory.
 * The PRL noising protocol, force a(t) s_i, is amplitude = a and field = -s. */
typedef struct th_drive {
    double (*amplitude)(double t, void *ctx);
    void *ctx;
    th_ptr field;
    int per_trajectory;
} th_drive;

/* A device's bath and mobilities where they depart from the ideal: the
 * hardware model's part in the integrator (science.md section 9; thermo/hw.h
 * builds one from its options). With every field 0 (NULL) a run takes
 * exactly the arithmetic of the ideal bath, to the bit.
 *   - temperature: the noise of a step starting at batch time t has
 *     kT_dev(t) = kT (1 + kT_offset + kT_drift t); heat and work stay in
 *     units of the nominal kT;
 *   - mobility: unit i moves with mu mu_scale[i] (friction and noise both);
 *   - coloured noise: with tau_c > 0 the white noise is replaced by an
 *     Ornstein-Uhlenbeck process eta, tau_c d eta = -eta dt + dW, whose
 *     correlation exp(-|t - t'| / tau_c) / (2 tau_c) integrates to 1; each
 *     step adds sqrt(2 mu kT) I_k, I_k the exact integral of eta over the
 *     step, drawn jointly with eta's next value. Trajectory k's eta starts
 *     in its stationary law the first time a run with this tau_c meets the
 *     batch (after an allocation or th_batch_reset) and is then carried from
 *     run to run. Its normals come from the same stream as the white noise,
 *     in blocks far from the white noise's (2^62 onwards). As tau_c -> 0,
 *     I_k -> sqrt(dt) xi_k: Euler-Maruyama. */
typedef struct th_device_bath {
    double kT_offset;       /* relative: > -1 */
    double kT_drift;        /* relative change per unit time (1/mu) */
    double tau_c;           /* >= 0; 0 = white noise */
    const double *mu_scale; /* (n) > 0, or NULL: every unit at the model's mu */
} th_device_bath;

typedef enum th_kernel {
    TH_KERNEL_FAST = 0,     /* matrix product per step, fused on-site update */
    TH_KERNEL_REFERENCE = 1 /* plain per-unit loops; the twin for tests */
} th_kernel;

/* The precision of the thermal noise xi. Float64 batches draw float64
 * normals by default; TH_NOISE_F32 draws float32 normals (th_normal_fill_f32,
 * the same (seed, stream, step) layout) and widens them, four to five times
 * cheaper than the float64 Box-Muller through libm. Float32 batches always
 * draw float32 normals. The thermodynamic neurons run on it: their physics
 * needs no more than 24 bits of each noise sample. */
typedef enum th_noise {
    TH_NOISE_NATIVE = 0, /* the batch's own precision */
    TH_NOISE_F32 = 1     /* float32 normals, widened in a float64 batch */
} th_noise;

/* The precision of the coupling products of a run. TH_PRECISION_BF16
 * (float32 models, fast kernel) rounds the couplings once and the states at
 * every step to bfloat16 for the product F = X J, summed in float32
 * (th_matmul_operand_bf16); the states themselves, the on-site forces, the
 * noise, the update and the heat stay float32, since a step's move (mu dt
 * dV/dx about 1e-3) is below half a bfloat16 ulp of a state near 1. */
typedef enum th_precision {
    TH_PRECISION_NATIVE = 0, /* the model's own: float32 or float64 throughout */
    TH_PRECISION_BF16 = 1    /* bfloat16 couplings and states in the products */
} th_precision;

/* The command-line names of th_precision, in its order ("f32", "bf16"),
 * ending with NULL. */
const char *const *th_precision_names(void);

typedef struct th_run {
    size_t n_steps;
    double dt;
    const unsigned char *clamped; /* (n) nonzero = unit held fixed; NULL = none */
    const th_drive *drive;        /* NULL = none */
    /* Snapshots: the states after snap_steps[j] steps of this run (0 = the
     * starting state) are copied to snap_out + j*b*n. snap_steps ascending. */
    const size_t *snap_steps;
    size_t n_snaps;
    th_ptr snap_out;              /* (n_snaps, b, n) in the model's dtype */
    th_kernel kernel;
    th_noise noise;               /* default TH_NOISE_NATIVE */
    th_precision precision;       /* coupling products; default TH_PRECISION_NATIVE */
    double blowup;                /* |x| beyond this means divergence; default 1e6 */
    const th_device_bath *bath;   /* NULL: the ideal bath (the default) */
    /* Called every progress_every steps; a nonzero return stops the run
     * with TH_ECANCELED. */
    th_progress_fn progress;
    void *progress_ctx;
    size_t progress_every;
} th_run;

th_run th_run_default(void);

/* Advance every trajectory of s by r->n_steps Euler-Maruyama steps:
 *     x <- x - mu dt dV/dx(x, t) + sqrt(2 mu kT dt) xi,
 * accumulating work (sum over steps of V(x_k, t_{k+1}) - V(x_k, t_k)) and
 * heat (sum of V(x_k, t_{k+1}) - V(x_{k+1}, t_{k+1}), the Stratonovich heat
 * along each straight step exactly; Crooks' discrete definition) in units of
 * kT, so that work = V_end - V_start + heat to rounding. Results are identical for any
 * number of threads. On TH_EDIVERGED the message names the step, trajectory
 * and unit; no state is overwritten by a value beyond the bound, so every
 * trajectory holds a finite state (those that diverged, their last one within
 * the bound), and the heat and work are not completed. With r->bath the
 * noise (and the mobilities) are the device's (th_device_bath above). */
int th_langevin_run(const th_model *m, th_batch *s, const th_run *r);

/* Potential energy V(x, t) of each trajectory, drive included when given,
 * computed in double with plain loops. x: (b, n) in the model's dtype;
 * out: (b). */
void th_model_potential(const th_model *m, const th_drive *drive, double t,
                  th_ptr x, size_t b, double *out);

/* ------------------------------------------ one unit in its well (well.c) */

/* One unit alone in its on-site well U(x) = J2 x^2 + J3 x^3 + J4 x^4 + b x
 * at temperature kT, couplings ignored (science.md section 1). Its
 * stationary (Boltzmann) density is exp(-U(x)/kT) / Z. */
typedef struct th_well {
    double J2, J3, J4, b, kT;
} th_well;

/* TH_EINVAL naming the fields unless every value is finite, kT > 0 and the
 * well confines: J4 > 0, or J4 = J3 = 0 with J2 > 0 (a parabola). */
int th_well_validate(const th_well *w);

/* The moments <x>, <x^2>, <x^3>, <x^4> of the Boltzmann density, by
 * Gauss-Legendre quadrature in double on panels a tenth of the density's
 * narrowest local width, over the range where it exceeds e^-80 of its peak
 * (relative error about 1e-14). */
int th_well_moments(const th_well *w, double moments[4]);

/* The same moments for the Euler-Maruyama chain
 *     x' = x - mu dt U'(x) + sqrt(2 mu kT dt) xi,   xi ~ N(0, 1),
 * that th_langevin_run integrates, after `steps` steps from x = 0, or, with
 * steps = 0, of its stationary density, which differs from the Boltzmann
 * density by O(dt). Computed on a grid of a fifth of the step's noise by the
 * chain's exact Gaussian transition (the stationary density by the GTH
 * state reduction): no sampling noise, errors near rounding. TH_EINVAL when
 * the grid would exceed 20000 points (dt too small for the well),
 * TH_EDIVERGED when the chain leaves the well (dt too large). */
int th_well_em_moments(const th_well *w, double mu, double dt, size_t steps, double moments[4]);

/* Draws the state of every unit of every trajectory of s from its own well's
 * Boltzmann density exactly, couplings ignored: the equilibrium of the
 * uncoupled units, which Euler-Maruyama from x = 0 only approaches (and,
 * at a finite dt, misses by O(dt)). Unit i of trajectory k takes its own
 * well (m's J2, J3, J4, b at i, and kT) and draws by rejection from a
 * Gaussian envelope with Philox blocks TH_WELL_FIRST_BLOCK + i 2^32 on of
 * stream th_batch_stream(s, k): the same values for any thread count, batch
 * size or position in the batch, and clear of the blocks that Langevin
 * steps use. Units with clamped[i] nonzero keep their state (clamped may be
 * NULL); the step, time, heat and work are not touched. TH_EINVAL naming
 * the unit when a well does not confine. */
#define TH_WELL_FIRST_BLOCK ((uint64_t)1 << 63)
int th_batch_draw_wells(const th_model *m, th_batch *s, const unsigned char *clamped);

/* ----------------------------------------- a quick simulation (simulate.c) */

/* A model of groups of units with the same on-site terms and bias on every
 * unit, and random symmetric couplings J_ij ~ N(0, coupling^2 / n) on every
 * pair i < j that the links allow, drawn in row order from stream
 * TH_SIM_COUPLING_STREAM of seed (trajectories use streams 0, 1, ..., so
 * the two never share noise); coupling 0 leaves every J_ij at 0. */
#define TH_SIM_COUPLING_STREAM UINT64_MAX
typedef struct th_sim_spec {
    size_t n_groups;
    size_t size[TH_MAX_GROUPS];
    size_t n_links;                                /* pairs of groups that couple */
    size_t link[TH_MAX_GROUPS * TH_MAX_GROUPS][2];
    double coupling;                               /* sigma >= 0 */
    double J2, J4, bias, kT, mu;
    uint64_t seed;
    th_dtype dtype;
} th_sim_spec;

/* The validated model; NULL on failure (th_last_error says why). */
th_model *th_sim_model(const th_sim_spec *spec);

/* What a batch of trajectories from x = 0 ends with. V does not depend on
 * time here, so the heat of a path is (V(x0) - V(xT)) / kT in the
 * continuum limit; law_* measure the discretisation's departure from it. */
typedef struct th_sim_stats {
    double wall;                /* seconds spent in th_langevin_run */
    double x_mean, x_var;       /* over all units and trajectories at the end */
    double heat_mean, heat_sd;  /* per trajectory, kT; sd with n - 1 (0 for one) */
    double law_mean, law_max;   /* |heat - (V(x0) - V(xT)) / kT| over trajectories */
} th_sim_stats;

/* Runs batch trajectories of m (noise from seed) under r and summarises
 * them; TH_EDIVERGED also when a statistic is not finite. */
int th_sim_run(const th_model *m, size_t batch, uint64_t seed, const th_run *r,
               th_sim_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* THERMO_CORE_H */
