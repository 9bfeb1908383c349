/* test_noise.c - the hand-written kernels of the float32 normal fill
 * (rng_avx512.c, rng_avx2.c) against the portable reference of rng.c, to
 * the bit.
 *
 * The reference itself is tested in test_rng.c (the definition, the libm
 * double fill, the moments); a kernel is correct when it gives the same bits
 * for every argument. Three angles: whole fills over many (seed, stream,
 * first block, n), output offsets and lengths (every n = 0..70, the tails of
 * a vector group, counters that carry into their high word or wrap); the
 * transform alone on chosen words, which Philox would rarely produce (the
 * ends of the range, the branch point of the logarithm, the quadrant edges
 * of the angle) plus a sweep of the whole 32-bit range; and the choice of
 * kernel (THERMO_NOISE's names, th_normal_use). Each kernel this CPU lacks
 * is skipped with a note. */
#include "harness.h"
#include "thermo.h"
#include "core/backend.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const th__normal_kernel *const vector_kernels[] = {&th__normal_kernel_avx512,
                                                          &th__normal_kernel_avx2};
#define N_VECTOR_KERNELS (sizeof vector_kernels / sizeof vector_kernels[0])

static int kernel_runs(const th__normal_kernel *k)
{
    if (k->id.available()) return 1;
    printf("     (this CPU has no %s: its normal-fill kernel is not tested)\n", k->id.name);
    return 0;
}

/* Fills of (seed, stream, first, n) by kernel and reference, the kernel's
 * written at out + offset into a buffer of sentinels: returns the number of
 * values whose bits differ plus the sentinels overwritten. */
static size_t fill_mismatches(const th__normal_kernel *k, uint64_t seed, uint64_t stream,
                              uint64_t first, size_t n, size_t offset, float *ref, float *buf)
{
    const uint32_t sentinel = 0x7fc0dead; /* a NaN no fill produces */
    th__normal_fill_f32_ref(seed, stream, first, ref, n);
    for (size_t i = 0; i < n + offset + 8; i++) memcpy(buf + i, &sentinel, sizeof sentinel);
    k->fill(seed, stream, first, buf + offset, n);
    size_t bad = 0;
    for (size_t i = 0; i < offset; i++) bad += memcmp(buf + i, &sentinel, 4) != 0;
    bad += memcmp(buf + offset, ref, n * sizeof *ref) != 0;
    for (size_t i = n + offset; i < n + offset + 8; i++) bad += memcmp(buf + i, &sentinel, 4) != 0;
    return bad;
}

/* Every n = 0..70 at offsets 0..3 (so unaligned stores and every tail of a
 * 64- or 32-value group), at first blocks where the counter's low word
 * carries or the whole counter wraps inside a group, and seeds and streams
 * with both 32-bit halves in use; then long fills. */
static void test_noise_kernels_match_reference_fills(void)
{
    enum { MAX_N = 70000 };
    float *ref = malloc(MAX_N * sizeof *ref), *buf = malloc((MAX_N + 16) * sizeof *buf);
    CHECK(ref && buf);
    if (!ref || !buf) goto done;
    const uint64_t seeds[] = {0, 1, 0x0123456789abcdefull, UINT64_MAX};
    const uint64_t streams[] = {0, 7, 0xfedcba9876543210ull, UINT64_MAX};
    const uint64_t firsts[] = {0, 3, 0xfffffffbull, 0x1fffffff9ull, UINT64_MAX - 4};
    for (size_t ki = 0; ki < N_VECTOR_KERNELS; ki++) {
        const th__normal_kernel *k = vector_kernels[ki];
        if (!kernel_runs(k)) continue;
        size_t bad = 0, fills = 0;
        for (size_t a = 0; a < 4; a++)
            for (size_t f = 0; f < 5; f++)
                for (size_t n = 0; n <= 70; n++, fills++)
                    bad += fill_mismatches(k, seeds[a], streams[(a + f) % 4], firsts[f], n,
                                           (n + f) % 4, ref, buf);
        /* Long fills: many groups, and lengths just off their multiples. */
        const size_t long_n[] = {4096, 4097, 65535, MAX_N};
        for (size_t i = 0; i < 4; i++, fills++)
            bad += fill_mismatches(k, 20260101u + i, 3 * i, 1000 * i, long_n[i], i % 2, ref,
                                   buf);
        if (bad) printf("     kernel %s: %zu mismatches in %zu fills\n", k->id.name, bad, fills);
        CHECK_EQ_INT(bad, 0);
    }
done:
    free(ref);
    free(buf);
}

/* Words that Philox seldom yields, for each of the four positions of a
 * block: the ends of the range and of each sign, the branch point of the
 * logarithm (U1 = sqrt(2)/2, w near 0xb504f333, where the float exponent
 * changes and the integer path takes over), and the edges of the four
 * quadrants of the angle (multiples of 2^30, plus or minus half a quadrant);
 * each with its 32 neighbours on both sides. */
static const uint32_t special_words[] = {0x00000000u, 0x7fffffffu, 0x80000000u, 0xffffffffu,
                                         0xb504f333u, 0x20000000u, 0x60000000u, 0xa0000000u,
                                         0xe0000000u, 0x40000000u, 0xc0000000u};
#define N_SPECIAL (sizeof special_words / sizeof special_words[0])
#define SPREAD 32

/* Blocks of words: each special word with its neighbours in every position,
 * the other positions filled from a sweep of the whole range by an odd
 * stride (about 2^20 values of each word, every exponent and quadrant). */
static size_t make_word_blocks(uint32_t *w, size_t max_blocks)
{
    size_t nb = 0;
    for (size_t s = 0; s < N_SPECIAL; s++)
        for (int d = -SPREAD; d <= SPREAD; d++)
            for (int j = 0; j < 4 && nb < max_blocks; j++, nb++)
                for (int i = 0; i < 4; i++)
                    w[4 * nb + i] = i == j ? special_words[s] + (uint32_t)d
                                           : (uint32_t)(nb * 2654435761u + (uint32_t)i);
    uint32_t sweep = 12345u;
    for (; nb < max_blocks; nb++)
        for (int i = 0; i < 4; i++, sweep += 4093u) w[4 * nb + i] = sweep;
    return nb;
}

static void test_noise_kernels_match_reference_words(void)
{
    enum { BLOCKS = 1 << 20 };
    uint32_t *w = malloc(4 * (size_t)BLOCKS * sizeof *w);
    float *ref = malloc(4 * (size_t)BLOCKS * sizeof *ref);
    float *got = malloc(4 * (size_t)BLOCKS * sizeof *got);
    CHECK(w && ref && got);
    if (!w || !ref || !got) goto done;
    size_t nb = make_word_blocks(w, BLOCKS);
    th__normal_from_words_ref(w, ref, nb);
    /* The transform on Philox's words is the fill: from_words is the fill's
     * own arithmetic, so what it checks holds for the fill. */
    {
        enum { NB = 1000 };
        static uint32_t pw[4 * NB];
        static float pz[4 * NB], fz[4 * NB];
        for (uint64_t q = 0; q < NB; q++) {
            const uint32_t ctr[4] = {(uint32_t)q, 0, 5, 0}, key[2] = {9, 0};
            th_philox4x32_10(ctr, key, pw + 4 * q);
        }
        th__normal_from_words_ref(pw, pz, NB);
        th__normal_fill_f32_ref(9, 5, 0, fz, 4 * NB);
        CHECK(memcmp(pz, fz, sizeof pz) == 0);
    }
    for (size_t ki = 0; ki < N_VECTOR_KERNELS; ki++) {
        const th__normal_kernel *k = vector_kernels[ki];
        if (!kernel_runs(k)) continue;
        memset(got, 0, 4 * nb * sizeof *got);
        k->from_words(w, got, nb);
        size_t bad = 0, first_bad = 0;
        for (size_t i = 0; i < 4 * nb; i++)
            if (memcmp(got + i, ref + i, sizeof *got) != 0 && bad++ == 0) first_bad = i;
        if (bad)
            printf("     kernel %s: %zu of %zu values differ, first: word %08x, %.9g vs %.9g\n",
                   k->id.name, bad, 4 * nb, (unsigned)w[first_bad], (double)got[first_bad],
                   (double)ref[first_bad]);
        CHECK_EQ_INT(bad, 0);
    }
done:
    free(w);
    free(ref);
    free(got);
}

/* th_normal_use accepts each kernel this CPU runs, names the one in use, and
 * refuses unknown names with TH_EINVAL naming the choices; the public fill
 * then gives the reference's bits under each. */
static void test_noise_kernel_choice(void)
{
    const char *saved = th_normal_kernel();
    CHECK(strcmp(saved, "avx512") == 0 || strcmp(saved, "avx2") == 0 ||
          strcmp(saved, "portable") == 0);
    float ref[203], got[203];
    th__normal_fill_f32_ref(77, 2, 11, ref, 203);
    const char *names[] = {"portable", "avx2", "avx512"};
    for (int i = 0; i < 3; i++) {
        int code = th_normal_use(names[i]);
        if (code != TH_OK) {
            CHECK(i > 0); /* portable runs everywhere */
            continue;
        }
        CHECK(strcmp(th_normal_kernel(), names[i]) == 0);
        th_normal_fill_f32(77, 2, 11, got, 203);
        CHECK(memcmp(got, ref, sizeof ref) == 0);
    }
    CHECK_EQ_INT(th_normal_use("sse9"), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "sse9");
    CHECK_STR_CONTAINS(th_last_error(), "portable");
    CHECK_EQ_INT(th_normal_use(saved), TH_OK);
}

void suite_noise(void);
void suite_noise(void)
{
    RUN_TEST(test_noise_kernels_match_reference_fills);
    RUN_TEST(test_noise_kernels_match_reference_words);
    RUN_TEST(test_noise_kernel_choice);
}
