/* backend.h - the seam between thermo's computers and the hardware that runs
 * their hot operations.
 *
 * Everything above core reaches matrix products through this header, never
 * through BLAS directly. The CPU implementation (gemm.c, gemm_x86.c) is
 * thermo's own: packed panels and register-tiled micro-kernels for AVX-512,
 * AVX2+FMA and plain C, chosen once by cpuid at run time.
 *
 * Why not OpenBLAS: its result depends on how it partitions a product, and
 * the partition changes with the thread count, the number of rows and the
 * kernel that OPENBLAS_CORETYPE selects (Haswell's sgemm split the sums one
 * way for one thread and another for two). thermo promises the same bits for
 * any thread count, rank count, batch size and CPU, so the sum behind every
 * element is fixed here by definition:
 *
 *     c_ij = alpha * s_ij + beta * c_ij,   s_ij = fma(a_i,K-1, b_K-1,j, ... fma(a_i0, b_0j, 0))
 *
 * one fused multiply-add per k, in ascending k, whatever the tiling, the
 * blocking of k, the thread that computes the tile or the vector width. Any
 * kernel that keeps this chain gives identical bits; tests/test_backend.c
 * checks every kernel on this CPU against the plain loop (gemm_ref) to the
 * bit. With beta = 0, C is only written (NaN in it does not propagate). */
#ifndef THERMO_BACKEND_H
#define THERMO_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* Transposition flags: op(A) = A or A^T as stored row-major. */
#define TH__N 0
#define TH__T 1

/* C (M, N; ldc) = alpha op(A) (M, K) op(B) (K, N) + beta C, row-major. */
void th__gemm_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                  const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                  size_t ldc);
void th__gemm_f64(int trans_a, int trans_b, size_t M, size_t N, size_t K, double alpha,
                  const double *A, size_t lda, const double *B, size_t ldb, double beta,
                  double *C, size_t ldc);

/* The upper triangle (j >= i) of C (N, N) = alpha op(A) op(A)^T + beta C,
 * op(A) (N, K): A^T A for trans = TH__T. The strictly lower triangle is not
 * touched. Each element has the bits th__gemm gives it. */
void th__syrk_f32(int trans, size_t N, size_t K, float alpha, const float *A, size_t lda,
                  float beta, float *C, size_t ldc);
void th__syrk_f64(int trans, size_t N, size_t K, double alpha, const double *A, size_t lda,
                  double beta, double *C, size_t ldc);

/* A right-hand operand packed once and used for many products (the
 * couplings of a Langevin run, multiplied every step): op(B) (K, N) laid out
 * in the panels the selected kernel reads. */
typedef struct th__packed {
    int is_f64;
    int is_bf16;    /* bfloat16 pairs of gemm_bf16.c (then is_f64 = 0 and kernel
                       is the float32 kernel it was first packed for) */
    size_t K, N;
    const struct th__gemm_kernel *kernel; /* the kernel it was packed for */
    void *data;     /* ceil(N / nr) panels of (K, nr), zero-padded */
} th__packed;

/* 0, or TH_ENOMEM (with th_last_error set); th__packed_free is safe on a
 * zeroed or failed pack. */
int th__pack_f32(th__packed *p, int trans_b, size_t K, size_t N, const float *B, size_t ldb);
int th__pack_f64(th__packed *p, int trans_b, size_t K, size_t N, const double *B, size_t ldb);
void th__packed_free(th__packed *p);

/* C (M, N) = alpha op(A) (M, K) Bp (K, N) + beta C, with the same bits as
 * th__gemm_* on the unpacked operand. */
void th__gemm_packed_f32(int trans_a, size_t M, float alpha, const float *A, size_t lda,
                         const th__packed *Bp, float beta, float *C, size_t ldc);
void th__gemm_packed_f64(int trans_a, size_t M, double alpha, const double *A, size_t lda,
                         const th__packed *Bp, double beta, double *C, size_t ldc);

/* The same on the calling thread alone, for callers that split the rows of
 * C among their own threads (the fused Langevin step): work holds
 * th__gemm_packed_work(Bp, M) elements. */
size_t th__gemm_packed_work_f32(const th__packed *Bp, size_t M);
size_t th__gemm_packed_work_f64(const th__packed *Bp, size_t M);
void th__gemm_packed_serial_f32(int trans_a, size_t M, float alpha, const float *A, size_t lda,
                                const th__packed *Bp, float beta, float *C, size_t ldc,
                                float *work);
void th__gemm_packed_serial_f64(int trans_a, size_t M, double alpha, const double *A,
                                size_t lda, const th__packed *Bp, double beta, double *C,
                                size_t ldc, double *work);
/* The rows of C a kernel call covers: a caller that splits rows in multiples
 * of it wastes no padding. */
size_t th__gemm_rows_per_tile(int is_f64);

/* ------------------------------------------- the other hot operations */

/* The fused Langevin step (langevin.c, langevin_kernel.inc): a step of a
 * batch is one parallel loop over panels of th__gemm_rows_per_tile rows, and
 * this does one panel: its coupling product F = X J through the run's packed
 * blocks of J (th__gemm_packed_serial_*), then for each row the noise of its
 * Philox stream (th_normal_fill_f32/f64, rng.c: the normal fills), the
 * on-site force, the Euler-Maruyama update, the work of a changing drive
 * and the divergence check (the heat needs nothing per step: langevin_kernel.inc,
 * run_fast). ctx holds the run (opaque here); work is the calling thread's
 * workspace (the row's work terms, then packing space). A device backend replaces this together
 * with the products; the noise must come from the same streams.
 * The path objective's products (gen/pathloss.c, gen/solve.c) are th__gemm
 * and th__syrk calls over blocks of path steps. */
struct th__step_panel_ctx;
void th__langevin_step_panel_f32(const struct th__step_panel_ctx *ctx, size_t r0, size_t rows,
                                 float *work);
void th__langevin_step_panel_f64(const struct th__step_panel_ctx *ctx, size_t r0, size_t rows,
                                 double *work);

/* Every kernel family (matrix products, bfloat16 products, normals) begins
 * its struct with this identity, so that one menu (kernel_menu.c) chooses
 * among any family's kernels: the one its environment variable names when
 * this CPU runs it, else the first this CPU runs (the lists go best first).
 * A pointer to a kernel struct converts to a pointer to its first member and
 * back (C11 6.7.2.1). */
typedef struct th__kernel_id {
    const char *name;
    int (*available)(void);
} th__kernel_id;

typedef struct th__kernel_menu {
    const char *what;                 /* in messages: "matrix-product kernel" */
    const char *env;                  /* the variable that forces one: THERMO_GEMM */
    const th__kernel_id *const *list; /* best first */
    size_t count;
    const th__kernel_id *chosen;      /* set at the first call; read atomically */
} th__kernel_menu;

/* The chosen kernel. Threads that race here compute the same answer, so the
 * race is benign; the atomic accesses keep it defined. */
const th__kernel_id *th__kernel_active(th__kernel_menu *m);
/* Chooses the kernel of that name; TH_EINVAL naming the kernels this CPU
 * runs when it is not one of them. */
int th__kernel_use(th__kernel_menu *m, const char *name);

/* The float32 normal fill (th_normal_fill_f32, rng.c). Kernels give the bits
 * of the portable reference th__normal_fill_f32_ref for every argument;
 * rng.c picks the best one this CPU runs at the first call (THERMO_NOISE or
 * th_normal_use force one); tests/test_rng.c checks each against the
 * reference to the bit. */
typedef struct th__normal_kernel {
    th__kernel_id id;
    void (*fill)(uint64_t seed, uint64_t stream, uint64_t first_block, float *out, size_t n);
    /* The Box-Muller stage alone, for the tests: nb blocks of given words,
     * w[4 b + j] (word j of block b), to the normals out[4 b + j]. */
    void (*from_words)(const uint32_t *w, float *out, size_t nb);
} th__normal_kernel;
/* rng_avx512.c, rng_avx2.c; their available() answers 0 off x86-64. */
extern const th__normal_kernel th__normal_kernel_avx512, th__normal_kernel_avx2;
void th__normal_fill_f32_ref(uint64_t seed, uint64_t stream, uint64_t first_block, float *out,
                             size_t n);
void th__normal_from_words_ref(const uint32_t *w, float *out, size_t nb);

/* The plain triple loop that defines the result: the reference twin of the
 * kernels, serial and slow. */
void th__gemm_ref_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                      const float *A, size_t lda, const float *B, size_t ldb, float beta,
                      float *C, size_t ldc);
void th__gemm_ref_f64(int trans_a, int trans_b, size_t M, size_t N, size_t K, double alpha,
                      const double *A, size_t lda, const double *B, size_t ldb, double beta,
                      double *C, size_t ldc);

/* The micro-kernels are selected by cpuid at the first product (gemm.c);
 * th_matmul_kernel and th_matmul_use (thermo/core.h) name and force them. */

/* ----------------------------------------- for the kernel files only */

/* One (mr, nr) tile: s_ij = acc_in[i ld_in + j] (0 when acc_in is NULL)
 * followed by one fma per depth k < kc of a[k mr + i] b[k nr + j], in
 * ascending k; then out[i ld_out + j] = alpha s_ij + beta out[...] (two
 * products and a sum, each rounded; out is not read when beta = 0). acc_in
 * and out may be the same memory. With alpha = 1 and beta = 0 the tile
 * stores the running sums exactly, for a later call to continue. */
typedef void (*th__ukernel_f32)(size_t kc, const float *a, const float *b, const float *acc_in,
                                size_t ld_in, float *out, size_t ld_out, float alpha,
                                float beta);
typedef void (*th__ukernel_f64)(size_t kc, const double *a, const double *b,
                                const double *acc_in, size_t ld_in, double *out, size_t ld_out,
                                double alpha, double beta);

/* The same tile with A unpacked, row-major: s_ij sums a[i lda + k] b[k nr + j]
 * over k < kc from zero, in the same order as th__ukernel_f32, so the bits
 * are the same. For products whose B is packed once and whose A is a batch
 * of states read every step (the fused Langevin step). */
typedef void (*th__ukernel_rows_f32)(size_t kc, const float *a, size_t lda, const float *b,
                                     float *out, size_t ld_out, float alpha, float beta);

/* A kernel family: run32[mr] computes tiles of mr rows where it is not NULL;
 * mr32 is the largest, used for every panel but the last, which takes the
 * smallest mr that covers its rows (one row of a batch of 1 costs one row,
 * not mr32). */
#define TH__MR_MAX 12
typedef struct th__gemm_kernel {
    th__kernel_id id;
    size_t mr32, nr32;
    th__ukernel_f32 run32[TH__MR_MAX + 1];
    th__ukernel_rows_f32 rows32[TH__MR_MAX + 1]; /* NULL where A must be packed */
    size_t mr64, nr64;
    th__ukernel_f64 run64[TH__MR_MAX + 1];
} th__gemm_kernel;

/* gemm_x86.c; their available() answers 0 off x86-64. */
extern const th__gemm_kernel th__gemm_kernel_avx512, th__gemm_kernel_avx2;

/* ---------------------------------------- bfloat16 products (gemm_bf16.c)
 *
 * A second precision behind the same seam (--precision bf16): the operands
 * are rounded to bfloat16 as the AVX-512 BF16 conversion VCVTNE2PS2BF16 does
 * (a subnormal float32 read as a zero of its sign, anything else rounded to
 * nearest even as th_bf16_from_f32; checked against the instruction on all
 * 2^32 floats on this project's Zen 5), and the sums run in float32 in pairs
 * of depths, the order of the AVX-512 BF16 instruction VDPBF16PS:
 *
 *     s = 0; for q = 0, 1, ..., ceil(K/2) - 1:
 *         s = ftz(fma(a_2q+1 b_2q+1, s));  s = ftz(fma(a_2q b_2q, s))
 *     c = alpha s + beta c                  (as for float32)
 *
 * with a_K = b_K = 0 for odd K and ftz() flushing a subnormal result to a
 * zero of its sign. Each product of two bfloat16 numbers is exact in float64,
 * so the portable kernel computes fma as (float)((double)a b + s), bit for
 * bit what the instruction gives (tests/test_bf16.c checks both kernels
 * against th__gemm_ref_bf16 to the bit). The packed operand is
 * ceil(N / 32) panels of (ceil(K/2), 32) 32-bit words, the low half depth
 * 2q and the high half depth 2q + 1 of one column. */
#define TH__BF16_NR 32

/* One (mr, 32) tile over kp depth pairs, from zero: a (kp, mr) and b (kp, 32)
 * packed pairs; out[i ld_out + j] = alpha s_ij + beta out[...] (not read
 * when beta = 0). */
typedef void (*th__ukernel_bf16)(size_t kp, const uint32_t *a, const uint32_t *b, float *out,
                                 size_t ld_out, float alpha, float beta);
/* The same tile with A as rows of words where they lie: row i's depth pair q
 * at a[i lda + q] (the states of a Langevin batch, converted row by row). */
typedef void (*th__ukernel_rows_bf16)(size_t kp, const uint32_t *a, size_t lda,
                                      const uint32_t *b, float *out, size_t ld_out, float alpha,
                                      float beta);
typedef struct th__bf16_kernel {
    th__kernel_id id;
    th__ukernel_bf16 run[TH__MR_MAX + 1]; /* by tile height; run[TH__MR_MAX] not NULL */
    th__ukernel_rows_bf16 rows[TH__MR_MAX + 1]; /* NULL where A must be packed */
    /* n floats to ceil(n / 2) words of operands, depth 2q in the low half of
     * word q (th__bf16_operand each; a zero high half for odd n) */
    void (*convert)(const float *x, size_t n, uint32_t *words);
} th__bf16_kernel;
/* One float32 as a bfloat16 operand: the definition the conversions give. */
uint32_t th__bf16_operand(float x);
/* The portable conversion (the reference twin of the kernels' convert). */
void th__bf16_convert_ref(const float *x, size_t n, uint32_t *words);
extern const th__bf16_kernel th__bf16_kernel_avx512; /* gemm_bf16_x86.c */

/* Turns a float32 operand packed by th__pack_f32 into a bfloat16 one in place
 * (the couplings of a bf16 Langevin run): 0 or TH_ENOMEM. From then on the
 * float32 entry points (th__gemm_packed_f32, _serial_f32, _work_f32) run the
 * bfloat16 products on it, their A rounded to bfloat16 as it is packed. */
int th__packed_use_bf16(th__packed *p);
/* The packed operand inside a public th_matmul_operand (gemm.c). */
struct th_matmul_operand;
th__packed *th__operand_packed(struct th_matmul_operand *op);
void th__gemm_packed_bf16(int trans_a, size_t M, float alpha, const float *A, size_t lda,
                          const th__packed *Bp, float beta, float *C, size_t ldc);
size_t th__gemm_packed_work_bf16(const th__packed *Bp, size_t M); /* in floats */
void th__gemm_packed_serial_bf16(int trans_a, size_t M, float alpha, const float *A,
                                 size_t lda, const th__packed *Bp, float beta, float *C,
                                 size_t ldc, float *work);
/* TH_OK, or TH_EINVAL naming what a run with this th_run.precision needs. */
int th__precision_check(int precision, int is_f64, int reference_kernel);
/* The plain loop that defines the bits above. */
void th__gemm_ref_bf16(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                       const float *A, size_t lda, const float *B, size_t ldb, float beta,
                       float *C, size_t ldc);

#endif
