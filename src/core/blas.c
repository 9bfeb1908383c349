/* blas.c - which OpenBLAS kernels this CPU should run.
 *
 * OpenBLAS picks its kernels when it is loaded. Debian's 0.3.21 does not know
 * some newer CPUs (Sapphire Rapids among them) and falls back to its generic
 * "Prescott" SSE3 kernels, about four times slower at SGEMM. The choice can
 * only be overridden through the OPENBLAS_CORETYPE environment variable before
 * the library loads, so thermo's library reports the better core and programs
 * (the thermo tool, the benchmarks) set the variable and re-execute. */
#include "internal.h"

#include <cblas.h>
#include <string.h>

const char *th_blas_core_hint(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const char *core = openblas_get_corename();
    if (!core || strcmp(core, "Prescott") != 0) return NULL; /* recognised: leave it */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

/* Columns of C per product in th__gemm_fixed. */
#define GEMM_SLAB 64

/* OpenBLAS threads one product over its own partition of the work, and for
 * some shapes (tall-skinny products over many rows above all) the partition
 * changes the order of the sums with the number of threads. Here the columns
 * of C go in slabs of a fixed width, each a product of its own spread over
 * the OpenMP threads; inside a parallel region OpenBLAS runs single-threaded,
 * so every element is summed the same way whatever the thread count. */
#define DEFINE_GEMM_FIXED(NAME, REAL, GEMM)                                                 \
    void NAME(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, size_t M, size_t N, size_t K,         \
              REAL alpha, const REAL *A, size_t lda, const REAL *B, size_t ldb, REAL beta,   \
              REAL *C, size_t ldc)                                                           \
    {                                                                                        \
        const size_t n_slabs = (N + GEMM_SLAB - 1) / GEMM_SLAB;                              \
        _Pragma("omp parallel for schedule(dynamic)")                                        \
        for (size_t q = 0; q < n_slabs; q++) {                                               \
            const size_t c0 = q * GEMM_SLAB, w = N - c0 < GEMM_SLAB ? N - c0 : GEMM_SLAB;    \
            const REAL *Bq = tb == CblasNoTrans ? B + c0 : B + c0 * ldb;                     \
            GEMM(CblasRowMajor, ta, tb, (blasint)M, (blasint)w, (blasint)K, alpha, A,        \
                 (blasint)lda, Bq, (blasint)ldb, beta, C + c0, (blasint)ldc);                \
        }                                                                                    \
    }

DEFINE_GEMM_FIXED(th__dgemm_fixed, double, cblas_dgemm)
DEFINE_GEMM_FIXED(th__sgemm_fixed, float, cblas_sgemm)
