/* test_backend.c - thermo's matrix products (src/core/backend.h).
 *
 * The bits of every product are defined by the plain loop th__gemm_ref: one
 * fma per depth in ascending order. Every kernel this CPU runs must give
 * those bits exactly, for every shape (edges of tiles, depths beyond one
 * block), both transpositions, alpha and beta, packed or not, one thread or
 * two, and one row at a time or a whole batch. The plain loop itself is
 * checked against an independent computation (long double sums, and
 * OpenBLAS) to a tolerance. */
#include "harness.h"

#include "core/backend.h"
#include "thermo.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>

static const char *const kernel_names[] = {"scalar", "avx2", "avx512"};
#define N_KERNEL_NAMES (sizeof kernel_names / sizeof kernel_names[0])

/* Shapes that cross tile edges (12 x 32, 6 x 16, 4 x 8) and the depth block
 * (384): M, N, K. */
static const size_t shapes[][3] = {{1, 1, 1},   {3, 5, 7},     {12, 32, 16}, {13, 33, 385},
                                   {25, 17, 800}, {7, 70, 1},  {40, 9, 390}, {1, 100, 64}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static void fill_f32(float *x, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) x[i] = (float)test_uniform(&s, -1, 1);
}

static void fill_f64(double *x, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) x[i] = test_uniform(&s, -1, 1);
}

/* Every kernel, every shape, both transpositions, three (alpha, beta): the
 * bits of the plain loop. ld's exceed the widths so that strides are used. */
static void test_backend_kernels_match_reference_bits(void)
{
    const char *saved = th_matmul_kernel();
    int tried = 0;
    for (size_t kn = 0; kn < N_KERNEL_NAMES; kn++) {
        if (th_matmul_use(kernel_names[kn]) != TH_OK) continue;
        tried++;
        for (size_t s = 0; s < N_SHAPES; s++)
            for (int t = 0; t < 4; t++)
                for (int ab = 0; ab < 3; ab++) {
                    const size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                    const int ta = t & 1, tb = (t >> 1) & 1;
                    const size_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
                    const size_t na = (ta ? K : M) * lda, nb = (tb ? N : K) * ldb, nc = M * ldc;
                    const double alpha = ab == 1 ? -0.75 : 1, beta = ab == 2 ? 0.5 : 0;
                    float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4),
                          *R = malloc(nc * 4);
                    double *Ad = malloc(na * 8), *Bd = malloc(nb * 8), *Cd = malloc(nc * 8),
                           *Rd = malloc(nc * 8);
                    fill_f32(A, na, 1 + s);
                    fill_f32(B, nb, 2 + s);
                    fill_f32(C, nc, 3 + s);
                    memcpy(R, C, nc * 4);
                    fill_f64(Ad, na, 4 + s);
                    fill_f64(Bd, nb, 5 + s);
                    fill_f64(Cd, nc, 6 + s);
                    memcpy(Rd, Cd, nc * 8);
                    th__gemm_f32(ta, tb, M, N, K, (float)alpha, A, lda, B, ldb, (float)beta, C,
                                 ldc);
                    th__gemm_ref_f32(ta, tb, M, N, K, (float)alpha, A, lda, B, ldb, (float)beta,
                                     R, ldc);
                    th__gemm_f64(ta, tb, M, N, K, alpha, Ad, lda, Bd, ldb, beta, Cd, ldc);
                    th__gemm_ref_f64(ta, tb, M, N, K, alpha, Ad, lda, Bd, ldb, beta, Rd, ldc);
                    if (memcmp(C, R, nc * 4) != 0 || memcmp(Cd, Rd, nc * 8) != 0) {
                        fprintf(stderr, "  kernel %s, M N K = %zu %zu %zu, trans %d %d, "
                                        "alpha %g beta %g: bits differ from the plain loop\n",
                                kernel_names[kn], M, N, K, ta, tb, alpha, beta);
                        th_test_check_failed++;
                    }
                    free(A), free(B), free(C), free(R), free(Ad), free(Bd), free(Cd), free(Rd);
                }
    }
    CHECK(tried >= 1);
    CHECK_EQ_INT(th_matmul_use(saved), TH_OK);
}

/* The plain loop against sums in long double, and against OpenBLAS: it is a
 * matrix product to rounding. */
static void test_backend_reference_is_a_product(void)
{
    const size_t M = 9, N = 11, K = 500;
    float *A = malloc(M * K * 4), *B = malloc(K * N * 4), *C = malloc(M * N * 4),
          *O = malloc(M * N * 4);
    fill_f32(A, M * K, 10);
    fill_f32(B, K * N, 11);
    th__gemm_ref_f32(TH__N, TH__N, M, N, K, 2.0f, A, K, B, N, 0.0f, C, N);
    th_matmul_openblas_f32(0, 0, (int)M, (int)N, (int)K, 2.0f, A,
                (int)K, B, (int)N, 0.0f, O, (int)N);
    double worst = 0, worst_blas = 0;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            long double s = 0, mag = 0;
            for (size_t k = 0; k < K; k++) {
                s += (long double)A[i * K + k] * B[k * N + j];
                mag += fabsl((long double)A[i * K + k] * B[k * N + j]);
            }
            const double e = (double)(fabsl(C[i * N + j] - 2 * s) / (2 * mag));
            const double eb = fabs((double)C[i * N + j] - (double)O[i * N + j]) / (double)(2 * mag);
            if (e > worst) worst = e;
            if (eb > worst_blas) worst_blas = eb;
        }
    /* the error of a K-term float sum is below K u relative to the sum of
     * magnitudes; in practice far below */
    CHECK(worst < (double)K * 6e-8);
    CHECK(worst_blas < (double)K * 6e-8 * 2);
    free(A), free(B), free(C), free(O);
}

/* One thread or two, the whole batch or one row at a time, packed or not:
 * the same bits. */
static void test_backend_threads_rows_and_packing_invariant(void)
{
    const size_t M = 70, N = 130, K = 900;
    float *A = malloc(M * K * 4), *B = malloc(K * N * 4), *C1 = malloc(M * N * 4),
          *C2 = malloc(M * N * 4), *C3 = malloc(M * N * 4), *C4 = malloc(M * N * 4);
    fill_f32(A, M * K, 20);
    fill_f32(B, K * N, 21);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    th__gemm_f32(TH__N, TH__N, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N);
    omp_set_num_threads(2);
    th__gemm_f32(TH__N, TH__N, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N);
    for (size_t i = 0; i < M; i++)
        th__gemm_f32(TH__N, TH__N, 1, N, K, 1.0f, A + i * K, K, B, N, 0.0f, C3 + i * N, N);
    th__packed P;
    CHECK_EQ_INT(th__pack_f32(&P, TH__N, K, N, B, N), TH_OK);
    th__gemm_packed_f32(TH__N, M, 1.0f, A, K, &P, 0.0f, C4, N);
    th__packed_free(&P);
    omp_set_num_threads(saved);
    CHECK(memcmp(C1, C2, M * N * 4) == 0);
    CHECK(memcmp(C1, C3, M * N * 4) == 0);
    CHECK(memcmp(C1, C4, M * N * 4) == 0);
    free(A), free(B), free(C1), free(C2), free(C3), free(C4);
}

/* The upper triangle of A^T A with the bits of the full product; the lower
 * triangle untouched. */
static void test_backend_syrk_upper(void)
{
    const size_t N = 45, K = 400;
    double *A = malloc(K * N * 8), *S = malloc(N * N * 8), *G = malloc(N * N * 8);
    fill_f64(A, K * N, 30);
    for (size_t i = 0; i < N * N; i++) S[i] = -7;
    th__syrk_f64(TH__T, N, K, 1.0, A, N, 0.0, S, N);
    th__gemm_f64(TH__T, TH__N, N, N, K, 1.0, A, N, A, N, 0.0, G, N);
    int same = 1, untouched = 1;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            if (j >= i && memcmp(&S[i * N + j], &G[i * N + j], 8) != 0) same = 0;
            if (j < i && S[i * N + j] != -7) untouched = 0;
        }
    CHECK(same);
    CHECK(untouched);
    free(A), free(S), free(G);
}

/* The public face (thermo/core.h): th_matmul_f32, a packed operand and the
 * reference loop agree to the bit. */
static void test_matmul_public_api(void)
{
    const size_t M = 17, N = 41, K = 300;
    float *A = malloc(M * K * 4), *B = malloc(N * K * 4), *C1 = malloc(M * N * 4),
          *C2 = malloc(M * N * 4), *C3 = malloc(M * N * 4);
    fill_f32(A, M * K, 40);
    fill_f32(B, N * K, 41);
    th_matmul_f32(0, 1, M, N, K, 1.5f, A, K, B, K, 0.0f, C1, N);
    th_matmul_reference_f32(0, 1, M, N, K, 1.5f, A, K, B, K, 0.0f, C2, N);
    th_matmul_operand *op = th_matmul_operand_f32(1, K, N, B, K);
    CHECK(op != NULL);
    if (op) th_matmul_packed_f32(0, M, 1.5f, A, K, op, 0.0f, C3, N);
    th_matmul_operand_free(op);
    CHECK(memcmp(C1, C2, M * N * 4) == 0);
    CHECK(op == NULL || memcmp(C1, C3, M * N * 4) == 0);
    CHECK(strcmp(th_matmul_kernel(), "avx512") == 0 || strcmp(th_matmul_kernel(), "avx2") == 0 ||
          strcmp(th_matmul_kernel(), "scalar") == 0);
    free(A), free(B), free(C1), free(C2), free(C3);
}

static void test_backend_rejects_unknown_kernel(void)
{
    CHECK_EQ_INT(th_matmul_use("sse9"), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "sse9");
    CHECK_STR_CONTAINS(th_last_error(), "scalar");
}

void suite_backend(void)
{
    RUN_TEST(test_backend_kernels_match_reference_bits);
    RUN_TEST(test_backend_reference_is_a_product);
    RUN_TEST(test_backend_threads_rows_and_packing_invariant);
    RUN_TEST(test_backend_syrk_upper);
    RUN_TEST(test_matmul_public_api);
    RUN_TEST(test_backend_rejects_unknown_kernel);
}
