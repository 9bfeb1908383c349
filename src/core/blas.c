/* blas.c - which OpenBLAS kernels this CPU should run, and OpenBLAS's
 * products as the yardstick of thermo's own (th_matmul_openblas_*).
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

/* The OpenBLAS twin of th_matmul_*: the only matrix products of thermo that
 * OpenBLAS computes, for benchmarks and independent checks. */
void th_matmul_openblas_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                            float alpha, const float *A, size_t lda, const float *B,
                            size_t ldb, float beta, float *C, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, alpha,
                A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

void th_matmul_openblas_f64(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                            double alpha, const double *A, size_t lda, const double *B,
                            size_t ldb, double beta, double *C, size_t ldc)
{
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, alpha,
                A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}
