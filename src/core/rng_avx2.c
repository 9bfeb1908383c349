/* rng_avx2.c - the float32 normal fill on AVX2: Philox4x32-10 and the
 * Box-Muller transform of rng.c on 8 blocks at a time, 32 normals, in
 * 256-bit registers (rng_x86.inc has the kernel; this file the
 * instructions). Compiled for AVX2 function by function and used only where
 * cpuid reports it (rng.c chooses).
 *
 * AVX2 lacks what AVX-512 gives in one instruction, so: unsigned words are
 * converted to float as hi16 2^16 + lo16, both parts exact in float, so the
 * one rounding is that of the sum, the correctly rounded (float)w of C; the
 * unsigned compare of the counter's carry flips the sign bits; selects are
 * VBLENDVPS on a compare with zero. */
#include "backend.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <string.h>

#define TARGET "avx2"
#define LANES 8
typedef __m256i vi;
typedef __m256 vf;

/* Lane 4 g + j computes block 2 j + g of the group (rng_x86.inc). */
static const uint32_t lane_block[LANES] = {0, 2, 4, 6, 1, 3, 5, 7};

#define ILOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define ISET(u) _mm256_set1_epi32((int)(u))
#define FSET(f) _mm256_set1_ps(f)
#define IADD(a, b) _mm256_add_epi32(a, b)
#define ISUB(a, b) _mm256_sub_epi32(a, b)
#define IAND(a, b) _mm256_and_si256(a, b)
#define IANDNOT(a, b) _mm256_andnot_si256(a, b) /* ~a & b */
#define IXOR(a, b) _mm256_xor_si256(a, b)
#define IXOR3(a, b, c) _mm256_xor_si256(_mm256_xor_si256(a, b), c)
#define ISHR(a, s) _mm256_srli_epi32(a, s)
#define ISHL(a, s) _mm256_slli_epi32(a, s)
#define U32_TO_F(a)                                                                \
    _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(a, 16)),     \
                                _mm256_set1_ps(65536.0f)),                         \
                  _mm256_cvtepi32_ps(_mm256_and_si256(a, _mm256_set1_epi32(0xffff))))
#define I32_TO_F(a) _mm256_cvtepi32_ps(a)
#define FADD(a, b) _mm256_add_ps(a, b)
#define FSUB(a, b) _mm256_sub_ps(a, b)
#define FMUL(a, b) _mm256_mul_ps(a, b)
#define FDIV(a, b) _mm256_div_ps(a, b)
#define AS_F(a) _mm256_castsi256_ps(a)
#define AS_I(a) _mm256_castps_si256(a)
/* a where the lane of cond is nonzero, else b. */
#define SELECT_NZ(cond, a, b) \
    _mm256_blendv_ps(a, b, AS_F(_mm256_cmpeq_epi32(cond, _mm256_setzero_si256())))
/* hi + 1 where lo = base + offset wrapped past 2^32 (then lo < offset,
 * unsigned: a signed compare after flipping both sign bits). */
#define CARRY(hi, lo, offset)                                                        \
    _mm256_sub_epi32(hi, _mm256_cmpgt_epi32(IXOR(offset, ISET(0x80000000u)),        \
                                            IXOR(lo, ISET(0x80000000u))))
/* hi, lo = the halves of a * m per lane: even products in place, odd ones
 * from the shifted lanes, blended. */
#define MUL_HI_LO(a, m, hi, lo)                                                   \
    do {                                                                          \
        vi even_ = _mm256_mul_epu32(a, m);                                        \
        vi odd_ = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);                  \
        hi = _mm256_blend_epi32(_mm256_srli_epi64(even_, 32), odd_, 0xAA);        \
        lo = _mm256_blend_epi32(even_, _mm256_slli_epi64(odd_, 32), 0xAA);        \
    } while (0)
#define UNPACKLO_PS(a, b) _mm256_unpacklo_ps(a, b)
#define UNPACKHI_PS(a, b) _mm256_unpackhi_ps(a, b)
#define UNPACKLO_PD(a, b) \
    _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
#define UNPACKHI_PD(a, b) \
    _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
#define STOREU(p, v) _mm256_storeu_ps(p, v)

#include "rng_x86.inc"

static int has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

const th__normal_kernel th__normal_kernel_avx2 = {
    .id = {"avx2", has_avx2}, .fill = fill_vec, .from_words = words_vec};

#else /* not x86-64: the portable fill serves */

static int never(void) { return 0; }
const th__normal_kernel th__normal_kernel_avx2 = {.id = {"avx2", never}};

#endif
