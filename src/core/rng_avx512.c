/* rng_avx512.c - the float32 normal fill on AVX-512F: Philox4x32-10 and the
 * Box-Muller transform of rng.c on 16 blocks at a time, 64 normals, in
 * 512-bit registers (rng_x86.inc has the kernel; this file the instructions).
 * Compiled for AVX-512F function by function (the build needs no -march
 * flag) and used only where cpuid reports it (rng.c chooses).
 *
 * Philox's 32 x 32 -> 64-bit products: VPMULUDQ multiplies the even lanes,
 * and, after a shift by 32 bits, the odd ones; one masked in-pair swap each
 * gathers the 16 high and the 16 low halves. The three-way XOR of a round is
 * one VPTERNLOGD. */
#include "backend.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <string.h>

#define TARGET "avx512f"
#define LANES 16
typedef __m512i vi;
typedef __m512 vf;

/* Lane 4 g + j computes block 4 j + g of the group (rng_x86.inc). */
static const uint32_t lane_block[LANES] = {0, 4, 8, 12, 1, 5, 9, 13,
                                           2, 6, 10, 14, 3, 7, 11, 15};

#define ILOAD(p) _mm512_loadu_si512((const void *)(p))
#define ISET(u) _mm512_set1_epi32((int)(u))
#define FSET(f) _mm512_set1_ps(f)
#define IADD(a, b) _mm512_add_epi32(a, b)
#define ISUB(a, b) _mm512_sub_epi32(a, b)
#define IAND(a, b) _mm512_and_si512(a, b)
#define IANDNOT(a, b) _mm512_andnot_si512(a, b) /* ~a & b */
#define IXOR(a, b) _mm512_xor_si512(a, b)
#define IXOR3(a, b, c) _mm512_ternarylogic_epi32(a, b, c, 0x96)
#define ISHR(a, s) _mm512_srli_epi32(a, s)
#define ISHL(a, s) _mm512_slli_epi32(a, s)
#define U32_TO_F(a) _mm512_cvtepu32_ps(a) /* rounded to nearest, as C's (float)w */
#define I32_TO_F(a) _mm512_cvtepi32_ps(a)
#define FADD(a, b) _mm512_add_ps(a, b)
#define FSUB(a, b) _mm512_sub_ps(a, b)
#define FMUL(a, b) _mm512_mul_ps(a, b)
#define FDIV(a, b) _mm512_div_ps(a, b)
#define AS_F(a) _mm512_castsi512_ps(a)
#define AS_I(a) _mm512_castps_si512(a)
/* a where the lane of cond is nonzero, else b. */
#define SELECT_NZ(cond, a, b) _mm512_mask_blend_ps(_mm512_test_epi32_mask(cond, cond), b, a)
/* hi + 1 where lo = base + offset wrapped past 2^32 (then lo < offset). */
#define CARRY(hi, lo, offset) \
    _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(lo, offset), hi, ISET(1u))
/* hi, lo = the halves of a * m per lane (m the same in both halves of each
 * 64-bit pair): even products in place; odd ones from the shifted lanes;
 * 0xB1 swaps the two lanes of each pair. */
#define MUL_HI_LO(a, m, hi, lo)                                              \
    do {                                                                     \
        vi even_ = _mm512_mul_epu32(a, m);                                   \
        vi odd_ = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);             \
        hi = _mm512_mask_shuffle_epi32(odd_, 0x5555, even_, _MM_PERM_CDAB);  \
        lo = _mm512_mask_shuffle_epi32(even_, 0xAAAA, odd_, _MM_PERM_CDAB);  \
    } while (0)
#define UNPACKLO_PS(a, b) _mm512_unpacklo_ps(a, b)
#define UNPACKHI_PS(a, b) _mm512_unpackhi_ps(a, b)
#define UNPACKLO_PD(a, b) \
    _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
#define UNPACKHI_PD(a, b) \
    _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
#define STOREU(p, v) _mm512_storeu_ps(p, v)

#include "rng_x86.inc"

static int has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

const th__normal_kernel th__normal_kernel_avx512 = {
    .id = {"avx512", has_avx512}, .fill = fill_vec, .from_words = words_vec};

#else /* not x86-64: the portable fill serves */

static int never(void) { return 0; }
const th__normal_kernel th__normal_kernel_avx512 = {.id = {"avx512", never}};

#endif
