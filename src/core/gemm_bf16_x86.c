/* gemm_bf16_x86.c - the AVX-512 BF16 micro-kernel of gemm_bf16.c, compiled
 * for that target function by function (the build needs no -march flag) and
 * used only where cpuid reports avx512_bf16.
 *
 * The tile is the float32 kernel's, 12 x 32 float accumulators in 24
 * registers, but each VDPBF16PS takes two depths: per depth pair it loads
 * two vectors of the B panel (16 columns x 2 depths each) and broadcasts
 * each row's pair of A, 24 instructions for 64 depths x 12 rows x 32 columns
 * of multiply-adds, twice the float32 kernel's work per instruction and half
 * its bytes of B. Lane j of accumulator i is the chain backend.h defines for
 * element (i, j), which the instruction computes exactly as the portable
 * kernel does (gemm_bf16.c). */
#include "backend.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define BF16_TARGET "avx512bf16,avx512f,avx512bw,avx512vl"

#define DEFINE_BF16_KERNEL(NAME, MR)                                                          \
    __attribute__((target(BF16_TARGET))) static void NAME(                                    \
        size_t kp, const uint32_t *restrict a, const uint32_t *restrict b, float *out,        \
        size_t ld_out, float alpha, float beta)                                               \
    {                                                                                         \
        __m512 c0[MR], c1[MR];                                                                \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) c0[i] = c1[i] =                 \
            _mm512_setzero_ps();                                                              \
        for (size_t q = 0; q < kp; q++) {                                                     \
            const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);                              \
            const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);                         \
            _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                             \
            {                                                                                 \
                const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);                   \
                c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);                                      \
                c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);                                      \
            }                                                                                 \
            a += MR;                                                                          \
            b += 32;                                                                          \
        }                                                                                     \
        const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                   \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                 \
        {                                                                                     \
            float *o = out + i * ld_out;                                                      \
            if (beta == 0) {                                                                  \
                _mm512_storeu_ps(o, _mm512_mul_ps(va, c0[i]));                                \
                _mm512_storeu_ps(o + 16, _mm512_mul_ps(va, c1[i]));                           \
            } else {                                                                          \
                _mm512_storeu_ps(o, _mm512_add_ps(_mm512_mul_ps(va, c0[i]),                   \
                                                  _mm512_mul_ps(vb, _mm512_loadu_ps(o))));    \
                _mm512_storeu_ps(o + 16,                                                      \
                                 _mm512_add_ps(_mm512_mul_ps(va, c1[i]),                      \
                                               _mm512_mul_ps(vb, _mm512_loadu_ps(o + 16))));  \
            }                                                                                 \
        }                                                                                     \
    }

DEFINE_BF16_KERNEL(avx512bf16_m12, 12)
DEFINE_BF16_KERNEL(avx512bf16_m8, 8)
DEFINE_BF16_KERNEL(avx512bf16_m6, 6)
DEFINE_BF16_KERNEL(avx512bf16_m4, 4)
DEFINE_BF16_KERNEL(avx512bf16_m2, 2)
DEFINE_BF16_KERNEL(avx512bf16_m1, 1)

static int has_avx512bf16(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

const th__bf16_kernel th__bf16_kernel_avx512 = {
    .id = {"avx512bf16", has_avx512bf16},
    .run = {[1] = avx512bf16_m1, [2] = avx512bf16_m2, [4] = avx512bf16_m4, [6] = avx512bf16_m6,
            [8] = avx512bf16_m8, [12] = avx512bf16_m12}};

#else /* not x86-64: the portable kernel serves */

static int never(void) { return 0; }
const th__bf16_kernel th__bf16_kernel_avx512 = {.id = {"avx512bf16", never}};

#endif
