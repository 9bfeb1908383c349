/* gemm_x86.c - the vector micro-kernels of gemm.c for x86-64: AVX-512 and
 * AVX2 with FMA, compiled for those targets function by function (the rest of
 * the library stays baseline x86-64) and used only where cpuid reports them.
 *
 * Each keeps an (mr, nr) tile of C in registers as 2 mr vectors and, per
 * depth k, loads two vectors of the B panel and broadcasts mr values of the
 * A panel: 2 mr fused multiply-adds per 2 + mr loads. The accumulator of
 * element (i, j) is one fma chain over k in ascending order, which is what
 * makes the bits those of the scalar kernel and of gemm_ref (backend.h).
 * Sizes: AVX-512 has 32 registers, so 12 x 2 accumulators, 2 B vectors and
 * the broadcast fit; AVX2 has 16, so 6 x 2. */
#include "backend.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The tile's epilogue, out = alpha s + beta out (out not read when beta =
 * 0), from the accumulators c0, c1 of a kernel below. */
#define TILE_STORE(REAL, VEC, W, MR, LOADU, STOREU, SET1, MUL, ADD)                          \
    const VEC va = SET1(alpha), vb = SET1(beta);                                             \
    if (beta == 0) {                                                                         \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                \
        {                                                                                    \
            STOREU(out + i * ld_out, MUL(va, c0[i]));                                        \
            STOREU(out + i * ld_out + W, MUL(va, c1[i]));                                    \
        }                                                                                    \
    } else {                                                                                 \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                \
        {                                                                                    \
            REAL *o = out + i * ld_out;                                                      \
            STOREU(o, ADD(MUL(va, c0[i]), MUL(vb, LOADU(o))));                               \
            STOREU(o + W, ADD(MUL(va, c1[i]), MUL(vb, LOADU(o + W))));                       \
        }                                                                                    \
    }

#define DEFINE_VEC_KERNEL(NAME, TARGET, REAL, VEC, W, MR, LOADU, STOREU, SET1, FMADD, ZERO, \
                          MUL, ADD)                                                          \
    __attribute__((target(TARGET))) static void NAME(                                        \
        size_t kc, const REAL *restrict a, const REAL *restrict b, const REAL *acc_in,       \
        size_t ld_in, REAL *out, size_t ld_out, REAL alpha, REAL beta)                       \
    {                                                                                        \
        VEC c0[MR], c1[MR];                                                                  \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                \
        {                                                                                    \
            c0[i] = acc_in ? LOADU(acc_in + i * ld_in) : ZERO();                             \
            c1[i] = acc_in ? LOADU(acc_in + i * ld_in + W) : ZERO();                         \
        }                                                                                    \
        for (size_t k = 0; k < kc; k++) {                                                    \
            const VEC b0 = LOADU(b), b1 = LOADU(b + W);                                      \
            _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                            \
            {                                                                                \
                const VEC ai = SET1(a[i]);                                                   \
                c0[i] = FMADD(ai, b0, c0[i]);                                                \
                c1[i] = FMADD(ai, b1, c1[i]);                                                \
            }                                                                                \
            a += MR;                                                                         \
            b += 2 * W;                                                                      \
        }                                                                                    \
        TILE_STORE(REAL, VEC, W, MR, LOADU, STOREU, SET1, MUL, ADD);                        \
    }

/* The same tile with A read where it lies, row-major with stride lda (the
 * states of a Langevin batch): element (i, k) at a[i lda + k]. The sums are
 * the same fma chains in the same order as the packed kernel's, so the bits
 * are the same; only the packing pass is saved, which in a fused Langevin
 * step (12 rows against all of J, every step) costs as much as the noise.
 * The row pointers are kept apart so that each broadcast is one load. */
#define DEFINE_VEC_KERNEL_ROWS(NAME, TARGET, REAL, VEC, W, MR, LOADU, STOREU, SET1, FMADD,    \
                               ZERO, MUL, ADD)                                               \
    __attribute__((target(TARGET))) static void NAME(size_t kc, const REAL *restrict a,     \
                                                     size_t lda, const REAL *restrict b,    \
                                                     REAL *out, size_t ld_out, REAL alpha,  \
                                                     REAL beta)                             \
    {                                                                                        \
        VEC c0[MR], c1[MR];                                                                  \
        const REAL *ar[MR];                                                                  \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                \
        {                                                                                    \
            c0[i] = ZERO();                                                                  \
            c1[i] = ZERO();                                                                  \
            ar[i] = a + (size_t)i * lda;                                                     \
        }                                                                                    \
        for (size_t k = 0; k < kc; k++) {                                                    \
            const VEC b0 = LOADU(b), b1 = LOADU(b + W);                                      \
            _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                            \
            {                                                                                \
                const VEC ai = SET1(ar[i][k]);                                               \
                c0[i] = FMADD(ai, b0, c0[i]);                                                \
                c1[i] = FMADD(ai, b1, c1[i]);                                                \
            }                                                                                \
            b += 2 * W;                                                                      \
        }                                                                                    \
        TILE_STORE(REAL, VEC, W, MR, LOADU, STOREU, SET1, MUL, ADD);                        \
    }

#define AVX512_F32(MR, NAME)                                                                 \
    DEFINE_VEC_KERNEL(NAME, "avx512f", float, __m512, 16, MR, _mm512_loadu_ps,              \
                      _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_setzero_ps, \
                      _mm512_mul_ps, _mm512_add_ps)
#define AVX512_F64(MR, NAME)                                                                 \
    DEFINE_VEC_KERNEL(NAME, "avx512f", double, __m512d, 8, MR, _mm512_loadu_pd,             \
                      _mm512_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_setzero_pd, \
                      _mm512_mul_pd, _mm512_add_pd)
#define AVX2_F32(MR, NAME)                                                                   \
    DEFINE_VEC_KERNEL(NAME, "avx2,fma", float, __m256, 8, MR, _mm256_loadu_ps,              \
                      _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_setzero_ps, \
                      _mm256_mul_ps, _mm256_add_ps)
#define AVX2_F64(MR, NAME)                                                                   \
    DEFINE_VEC_KERNEL(NAME, "avx2,fma", double, __m256d, 4, MR, _mm256_loadu_pd,            \
                      _mm256_storeu_pd, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_setzero_pd, \
                      _mm256_mul_pd, _mm256_add_pd)

#define AVX512_F32_ROWS(MR, NAME)                                                            \
    DEFINE_VEC_KERNEL_ROWS(NAME, "avx512f", float, __m512, 16, MR, _mm512_loadu_ps,         \
                           _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps,               \
                           _mm512_setzero_ps, _mm512_mul_ps, _mm512_add_ps)
#define AVX2_F32_ROWS(MR, NAME)                                                              \
    DEFINE_VEC_KERNEL_ROWS(NAME, "avx2,fma", float, __m256, 8, MR, _mm256_loadu_ps,         \
                           _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps,               \
                           _mm256_setzero_ps, _mm256_mul_ps, _mm256_add_ps)

/* The main tile and the narrower ones for the last panel of rows. */
AVX512_F32(12, avx512_f32_m12)
AVX512_F32(8, avx512_f32_m8)
AVX512_F32(4, avx512_f32_m4)
AVX512_F32(2, avx512_f32_m2)
AVX512_F32(1, avx512_f32_m1)
AVX512_F64(12, avx512_f64_m12)
AVX512_F64(8, avx512_f64_m8)
AVX512_F64(4, avx512_f64_m4)
AVX512_F64(2, avx512_f64_m2)
AVX512_F64(1, avx512_f64_m1)
AVX2_F32(6, avx2_f32_m6)
AVX2_F32(4, avx2_f32_m4)
AVX2_F32(2, avx2_f32_m2)
AVX2_F32(1, avx2_f32_m1)
AVX2_F64(6, avx2_f64_m6)
AVX2_F64(4, avx2_f64_m4)
AVX2_F64(2, avx2_f64_m2)
AVX2_F64(1, avx2_f64_m1)
AVX512_F32_ROWS(12, avx512_f32_rows_m12)
AVX512_F32_ROWS(8, avx512_f32_rows_m8)
AVX512_F32_ROWS(4, avx512_f32_rows_m4)
AVX512_F32_ROWS(2, avx512_f32_rows_m2)
AVX512_F32_ROWS(1, avx512_f32_rows_m1)
AVX2_F32_ROWS(6, avx2_f32_rows_m6)
AVX2_F32_ROWS(4, avx2_f32_rows_m4)
AVX2_F32_ROWS(2, avx2_f32_rows_m2)
AVX2_F32_ROWS(1, avx2_f32_rows_m1)

static int has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

static int has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const th__gemm_kernel th__gemm_kernel_avx512 = {
    .id = {"avx512", has_avx512},
    .mr32 = 12,
    .nr32 = 32,
    .run32 = {[1] = avx512_f32_m1, [2] = avx512_f32_m2, [4] = avx512_f32_m4,
              [8] = avx512_f32_m8, [12] = avx512_f32_m12},
    .rows32 = {[1] = avx512_f32_rows_m1, [2] = avx512_f32_rows_m2, [4] = avx512_f32_rows_m4,
               [8] = avx512_f32_rows_m8, [12] = avx512_f32_rows_m12},
    .mr64 = 12,
    .nr64 = 16,
    .run64 = {[1] = avx512_f64_m1, [2] = avx512_f64_m2, [4] = avx512_f64_m4,
              [8] = avx512_f64_m8, [12] = avx512_f64_m12}};
const th__gemm_kernel th__gemm_kernel_avx2 = {
    .id = {"avx2", has_avx2},
    .mr32 = 6,
    .nr32 = 16,
    .run32 = {[1] = avx2_f32_m1, [2] = avx2_f32_m2, [4] = avx2_f32_m4, [6] = avx2_f32_m6},
    .rows32 = {[1] = avx2_f32_rows_m1, [2] = avx2_f32_rows_m2, [4] = avx2_f32_rows_m4,
               [6] = avx2_f32_rows_m6},
    .mr64 = 6,
    .nr64 = 8,
    .run64 = {[1] = avx2_f64_m1, [2] = avx2_f64_m2, [4] = avx2_f64_m4, [6] = avx2_f64_m6}};

#else /* not x86-64: the scalar kernel serves */

static int never(void) { return 0; }
const th__gemm_kernel th__gemm_kernel_avx512 = {.id = {"avx512", never}};
const th__gemm_kernel th__gemm_kernel_avx2 = {.id = {"avx2", never}};

#endif
