/* gemm.c - thermo's matrix products: packing, blocking, threading and the
 * choice of micro-kernel (backend.h says what the result is and why it is
 * thermo's own).
 *
 * The layout follows the BLIS/Goto scheme: op(A) is packed into panels of mr
 * rows and op(B) into panels of nr columns, each laid out depth-major, so that
 * a micro-kernel streams both with unit stride while an (mr, nr) tile of C
 * stays in registers. Depths go in blocks of KC so that a (KC, nr) panel of B
 * stays in the first-level caches while it meets every panel of A. */
#include "internal.h"

#include "backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Depth block: (KC, 32) floats of B are 48 KiB, about a core's L1 data
 * cache on current x86; the packed A of a batch of 256 rows (384 KiB) stays
 * in L2. */
#ifndef KC
#define KC 384
#endif
/* Depths up to which a product packs B whole and runs each tile over the full
 * depth (gemm_driver.inc). */
#define WHOLE_DEPTH 4096
/* Below this many multiply-adds a product runs on the calling thread: waking
 * the team costs more than it saves. */
#define PARALLEL_WORK (1 << 22)
/* The largest mr nr of any kernel (AVX-512 float: 12 x 32). */
#define TILE_MAX 512

/* The portable kernels, and the fallback on CPUs without FMA: plain C, one
 * fmaf/fma per depth, so that they give the vector kernels' bits exactly. */
#define SCALAR_NR 8
#define DEFINE_SCALAR_KERNEL(NAME, REAL, FMA, MR)                                            \
    static void NAME(size_t kc, const REAL *a, const REAL *b, const REAL *acc_in, size_t ld_in, \
                     REAL *out, size_t ld_out, REAL alpha, REAL beta)                         \
    {                                                                                        \
        REAL c[MR * SCALAR_NR];                                                              \
        for (size_t i = 0; i < MR; i++)                                                      \
            for (size_t j = 0; j < SCALAR_NR; j++)                                           \
                c[i * SCALAR_NR + j] = acc_in ? acc_in[i * ld_in + j] : 0;                   \
        for (size_t k = 0; k < kc; k++, a += MR, b += SCALAR_NR)                             \
            for (size_t i = 0; i < MR; i++)                                                  \
                for (size_t j = 0; j < SCALAR_NR; j++)                                       \
                    c[i * SCALAR_NR + j] = FMA(a[i], b[j], c[i * SCALAR_NR + j]);            \
        for (size_t i = 0; i < MR; i++)                                                      \
            for (size_t j = 0; j < SCALAR_NR; j++) {                                         \
                REAL *o = out + i * ld_out + j;                                              \
                *o = beta == 0 ? alpha * c[i * SCALAR_NR + j]                                \
                               : alpha * c[i * SCALAR_NR + j] + beta * *o;                   \
            }                                                                                \
    }
DEFINE_SCALAR_KERNEL(ukernel_scalar_f32_m1, float, fmaf, 1)
DEFINE_SCALAR_KERNEL(ukernel_scalar_f32_m2, float, fmaf, 2)
DEFINE_SCALAR_KERNEL(ukernel_scalar_f32_m4, float, fmaf, 4)
DEFINE_SCALAR_KERNEL(ukernel_scalar_f64_m1, double, fma, 1)
DEFINE_SCALAR_KERNEL(ukernel_scalar_f64_m2, double, fma, 2)
DEFINE_SCALAR_KERNEL(ukernel_scalar_f64_m4, double, fma, 4)

static int always(void) { return 1; }

static const th__gemm_kernel kernel_scalar = {
    .id = {"scalar", always},
    .mr32 = 4,
    .nr32 = SCALAR_NR,
    .run32 = {[1] = ukernel_scalar_f32_m1, [2] = ukernel_scalar_f32_m2,
              [4] = ukernel_scalar_f32_m4},
    .mr64 = 4,
    .nr64 = SCALAR_NR,
    .run64 = {[1] = ukernel_scalar_f64_m1, [2] = ukernel_scalar_f64_m2,
              [4] = ukernel_scalar_f64_m4}};

/* Best first. */
static const th__kernel_id *const kernels[] = {&th__gemm_kernel_avx512.id,
                                               &th__gemm_kernel_avx2.id, &kernel_scalar.id};

static th__kernel_menu gemm_menu = {"matrix-product kernel", "THERMO_GEMM", kernels,
                                    sizeof kernels / sizeof kernels[0], NULL};

/* The kernel of THERMO_GEMM when this CPU runs it, else the best one. */
static const th__gemm_kernel *active_kernel(void)
{
    return (const th__gemm_kernel *)th__kernel_active(&gemm_menu);
}

const char *th_matmul_kernel(void) { return active_kernel()->id.name; }


void th_matmul_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                   const float *A, size_t lda, const float *B, size_t ldb, float beta,
                   float *C, size_t ldc)
{
    th__gemm_f32(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void th_matmul_f64(int trans_a, int trans_b, size_t M, size_t N, size_t K, double alpha,
                   const double *A, size_t lda, const double *B, size_t ldb, double beta,
                   double *C, size_t ldc)
{
    th__gemm_f64(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

struct th_matmul_operand {
    th__packed packed;
};

th_matmul_operand *th_matmul_operand_f32(int trans_b, size_t K, size_t N, const float *B,
                                         size_t ldb)
{
    th_matmul_operand *op = calloc(1, sizeof *op);
    if (!op) {
        th__fail(TH_ENOMEM, "out of memory for a (%zu, %zu) operand", K, N);
        return NULL;
    }
    if (th__pack_f32(&op->packed, trans_b, K, N, B, ldb) != TH_OK) {
        free(op);
        return NULL;
    }
    return op;
}

th__packed *th__operand_packed(th_matmul_operand *op) { return &op->packed; }

void th_matmul_operand_free(th_matmul_operand *op)
{
    if (!op) return;
    th__packed_free(&op->packed);
    free(op);
}

void th_matmul_packed_f32(int trans_a, size_t M, float alpha, const float *A, size_t lda,
                          const th_matmul_operand *B, float beta, float *C, size_t ldc)
{
    TH_ASSERT(B != NULL);
    th__gemm_packed_f32(trans_a, M, alpha, A, lda, &B->packed, beta, C, ldc);
}

void th_matmul_reference_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                             float alpha, const float *A, size_t lda, const float *B,
                             size_t ldb, float beta, float *C, size_t ldc)
{
    th__gemm_ref_f32(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void th_matmul_reference_f64(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                             double alpha, const double *A, size_t lda, const double *B,
                             size_t ldb, double beta, double *C, size_t ldc)
{
    th__gemm_ref_f64(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

size_t th__gemm_rows_per_tile(int is_f64)
{
    return is_f64 ? active_kernel()->mr64 : active_kernel()->mr32;
}

int th_matmul_use(const char *name) { return th__kernel_use(&gemm_menu, name); }

void th__packed_free(th__packed *p)
{
    if (!p) return;
    th__free(p->data);
    p->data = NULL;
}

#define REAL float
#define FN(name) name##_f32
#define FMA fmaf
#define MR mr32
#define NR nr32
#define RUN run32
#define IS_F64 0
#include "gemm_driver.inc"
#undef REAL
#undef FN
#undef FMA
#undef MR
#undef NR
#undef RUN
#undef IS_F64

#define REAL double
#define FN(name) name##_f64
#define FMA fma
#define MR mr64
#define NR nr64
#define RUN run64
#define IS_F64 1
#include "gemm_driver.inc"
#undef REAL
#undef FN
#undef FMA
#undef MR
#undef NR
#undef RUN
#undef IS_F64
