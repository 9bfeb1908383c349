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

/* The tile's epilogue, out = alpha s + beta out (out not read when beta =
 * 0), from the accumulators c0, c1 of a kernel below. */
#define BF16_TILE_STORE(MR)                                                                   \
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                       \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                     \
    {                                                                                         \
        float *o = out + i * ld_out;                                                          \
        if (beta == 0) {                                                                      \
            _mm512_storeu_ps(o, _mm512_mul_ps(va, c0[i]));                                    \
            _mm512_storeu_ps(o + 16, _mm512_mul_ps(va, c1[i]));                               \
        } else {                                                                              \
            _mm512_storeu_ps(o, _mm512_add_ps(_mm512_mul_ps(va, c0[i]),                       \
                                              _mm512_mul_ps(vb, _mm512_loadu_ps(o))));        \
            _mm512_storeu_ps(o + 16, _mm512_add_ps(_mm512_mul_ps(va, c1[i]),                  \
                                                   _mm512_mul_ps(vb, _mm512_loadu_ps(o + 16)))); \
        }                                                                                     \
    }

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
        BF16_TILE_STORE(MR);                                                                  \
    }

/* The tile with A as rows of words (th__ukernel_rows_bf16): the same
 * instructions in the same order, each row's pair broadcast from its row. */
#define DEFINE_BF16_ROWS_KERNEL(NAME, MR)                                                     \
    __attribute__((target(BF16_TARGET))) static void NAME(                                    \
        size_t kp, const uint32_t *restrict a, size_t lda, const uint32_t *restrict b,        \
        float *out, size_t ld_out, float alpha, float beta)                                   \
    {                                                                                         \
        __m512 c0[MR], c1[MR];                                                                \
        const uint32_t *ar[MR];                                                               \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                 \
        {                                                                                     \
            c0[i] = c1[i] = _mm512_setzero_ps();                                              \
            ar[i] = a + (size_t)i * lda;                                                      \
        }                                                                                     \
        for (size_t q = 0; q < kp; q++) {                                                     \
            const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);                              \
            const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);                         \
            _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                             \
            {                                                                                 \
                const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)ar[i][q]);               \
                c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);                                      \
                c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);                                      \
            }                                                                                 \
            b += 32;                                                                          \
        }                                                                                     \
        BF16_TILE_STORE(MR);                                                                  \
    }

DEFINE_BF16_ROWS_KERNEL(avx512bf16_rows_m12, 12)
DEFINE_BF16_ROWS_KERNEL(avx512bf16_rows_m8, 8)
DEFINE_BF16_ROWS_KERNEL(avx512bf16_rows_m6, 6)
DEFINE_BF16_ROWS_KERNEL(avx512bf16_rows_m4, 4)
DEFINE_BF16_ROWS_KERNEL(avx512bf16_rows_m2, 2)
DEFINE_BF16_ROWS_KERNEL(avx512bf16_rows_m1, 1)

/* A row of floats to words of operands with VCVTNE2PS2BF16: 32 floats to 16
 * words per instruction, in memory order (the low half of word q is depth
 * 2q); the last part through masked loads, which read zeros past n. The
 * instruction's rounding is the definition (th__bf16_operand; the tests
 * check the two agree on every float of chosen classes). */
__attribute__((target(BF16_TARGET))) static void convert_avx512bf16(const float *x, size_t n,
                                                                    uint32_t *words)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 lo = _mm512_loadu_ps(x + i), hi = _mm512_loadu_ps(x + i + 16);
        _mm512_storeu_si512(words + i / 2, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    if (i < n) {
        const size_t rest = n - i, lo_n = rest < 16 ? rest : 16, hi_n = rest - lo_n;
        const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)((1u << lo_n) - 1), x + i);
        const __m512 hi = _mm512_maskz_loadu_ps((__mmask16)((1u << hi_n) - 1), x + i + 16);
        _mm512_mask_storeu_epi32(words + i / 2, (__mmask16)((1u << ((rest + 1) / 2)) - 1),
                                 (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
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
            [8] = avx512bf16_m8, [12] = avx512bf16_m12},
    .rows = {[1] = avx512bf16_rows_m1, [2] = avx512bf16_rows_m2, [4] = avx512bf16_rows_m4,
             [6] = avx512bf16_rows_m6, [8] = avx512bf16_rows_m8, [12] = avx512bf16_rows_m12},
    .convert = convert_avx512bf16};

#else /* not x86-64: the portable kernel serves */

static int never(void) { return 0; }
const th__bf16_kernel th__bf16_kernel_avx512 = {.id = {"avx512bf16", never}};

#endif
