/* test_rng.c - Philox4x32-10, thermo's streams, uniforms and normals.
 *
 * The generator is checked against the published known answers; the streams
 * and normals against recomputations from their definitions in thermo.h; the
 * statistics against exact values, with tolerances of 5 standard errors of the
 * sample size (a false alarm has probability below 1e-6 per check, and with
 * fixed seeds the outcome is reproducible anyway). */
#include "harness.h"
#include "thermo.h"

#include <stdint.h>
#include <stdlib.h>

/* Random123's known-answer vectors, the rows "philox4x32 10" of the file
 * tests/kat_vectors of the Random123 distribution (D. E. Shaw Research), as
 * reproduced in DEShawResearch/Random123-Boost,
 * libs/random/test/test_philox.cpp (commit 916db91a): counter[4], key[2],
 * expected[4]. The third uses the hexadecimal digits of pi. */
static void test_philox_known_answers(void)
{
    static const uint32_t kat[3][10] = {
        {0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u,
         0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
        {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
         0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
        {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
         0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u},
    };
    for (int v = 0; v < 3; v++) {
        uint32_t out[4];
        th_philox4x32_10(kat[v], kat[v] + 4, out);
        for (int j = 0; j < 4; j++) CHECK_EQ_INT(out[j], kat[v][6 + j]);
    }
}

/* Word j of block q of stream (seed, stream), straight from the definition in
 * thermo.h: key = seed, counter = (q lo, q hi, stream lo, stream hi). */
static uint32_t stream_word(uint64_t seed, uint64_t stream, uint64_t q, int j)
{
    const uint32_t ctr[4] = {(uint32_t)q, (uint32_t)(q >> 32), (uint32_t)stream,
                             (uint32_t)(stream >> 32)};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t out[4];
    th_philox4x32_10(ctr, key, out);
    return out[j];
}

/* Every half of the 64-bit seed, stream and block reaches the counter or
 * key: values with both halves nonzero, and a block count that carries into
 * the high word. */
static void test_rng_u32_follows_definition(void)
{
    const uint64_t seed = 0x0123456789abcdefull, stream = 0xfedcba9876543210ull;
    th_rng r;
    th_rng_init(&r, seed, stream);
    for (uint64_t q = 0; q < 10; q++)
        for (int j = 0; j < 4; j++)
            CHECK_EQ_INT(th_rng_u32(&r), stream_word(seed, stream, q, j));
    CHECK_EQ_INT(r.block, 10);

    th_rng_init(&r, seed, stream);
    r.block = 0xfffffffeull;
    for (uint64_t q = 0xfffffffeull; q < 0x100000002ull; q++)
        for (int j = 0; j < 4; j++)
            CHECK_EQ_INT(th_rng_u32(&r), stream_word(seed, stream, q, j));
}

static void test_rng_streams_differ(void)
{
    /* Pairs that differ in one half of the seed or the stream only. */
    const uint64_t seeds[4] = {1, 2, 1 + (1ull << 32), 1};
    const uint64_t streams[4] = {5, 5, 5, 5 + (1ull << 32)};
    uint32_t first[4][8];
    for (int g = 0; g < 4; g++) {
        th_rng r;
        th_rng_init(&r, seeds[g], streams[g]);
        for (int i = 0; i < 8; i++) first[g][i] = th_rng_u32(&r);
    }
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++) {
            int same = 0;
            for (int i = 0; i < 8; i++) same += first[a][i] == first[b][i];
            /* Unrelated words agree with probability 2^-32 each. */
            CHECK(same == 0);
        }
}

/* Uniformity of the words: the top 8 bits of 2^20 words into 256 bins.
 * Pearson's chi-square has 255 degrees of freedom, mean 255 and standard
 * deviation sqrt(2 * 255) = 22.6; the bound is mean + 5 sd. */
static void test_rng_u32_chi_square(void)
{
    enum { BINS = 256, N = 1 << 20 };
    static unsigned counts[BINS];
    memset(counts, 0, sizeof counts);
    th_rng r;
    th_rng_init(&r, 2024, 3);
    for (int i = 0; i < N; i++) counts[th_rng_u32(&r) >> 24]++;
    double expected = (double)N / BINS, chi2 = 0;
    for (int k = 0; k < BINS; k++) {
        double d = counts[k] - expected;
        chi2 += d * d / expected;
    }
    CHECK(chi2 < 255 + 5 * sqrt(2.0 * 255));
}

/* u is built from two words, the first high: k = (a << 21) | (b >> 11),
 * u = k 2^-53 (thermo.h: 53-bit resolution). Moments over N = 10^6: mean 1/2
 * with standard error sqrt(1/12 / N); E[(u - 1/2)^2] = 1/12 with standard
 * error sqrt(Var((u - 1/2)^2) / N), Var = 1/80 - 1/144 = 1/180. */
static void test_rng_uniform(void)
{
    th_rng r, twin;
    th_rng_init(&r, 77, 1);
    th_rng_init(&twin, 77, 1);
    for (int i = 0; i < 100; i++) {
        double u = th_rng_uniform(&r);
        uint64_t a = th_rng_u32(&twin), b = th_rng_u32(&twin);
        uint64_t k = (a << 21) | (b >> 11);
        CHECK_CLOSE(u, ldexp((double)k, -53), 0);
    }
    const int n = 1000000;
    double sum = 0, sum2 = 0, lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        double u = th_rng_uniform(&r);
        sum += u;
        sum2 += (u - 0.5) * (u - 0.5);
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    CHECK(lo > 0 && hi < 1);
    CHECK_CLOSE(sum / n, 0.5, 5 * sqrt(1.0 / 12 / n));
    CHECK_CLOSE(sum2 / n, 1.0 / 12, 5 * sqrt(1.0 / 180 / n));

    /* The extreme words, placed in the buffer of thermo.h's th_rng (buf holds
     * the current block, used counts the words handed out): still strictly
     * inside (0, 1), so that -log(u) and -log(1 - u) are finite. */
    const uint32_t extremes[2][4] = {{0, 0, 0, 0}, {~0u, ~0u, ~0u, ~0u}};
    for (int e = 0; e < 2; e++) {
        th_rng_init(&r, 1, 1);
        memcpy(r.buf, extremes[e], sizeof r.buf);
        r.used = 0;
        double u = th_rng_uniform(&r);
        CHECK(u > 0 && u < 1);
        CHECK(isfinite(log(u)) && isfinite(log1p(-u)));
    }
}

/* The normal of thermo.h from the words of its block, evaluated here from
 * the definition: U1 = (w0 + 1/2) 2^-32, A = 2 pi w1 2^-32. */
static double normal_from_definition(uint64_t seed, uint64_t stream, uint64_t first_block,
                                     size_t i)
{
    uint64_t q = first_block + i / 4;
    int pair = (int)(i % 4) / 2;
    double w0 = stream_word(seed, stream, q, 2 * pair);
    double w1 = stream_word(seed, stream, q, 2 * pair + 1);
    double u1 = (w0 + 0.5) / 4294967296.0;
    double angle = 2 * 3.14159265358979323846 * (w1 / 4294967296.0);
    double radius = sqrt(-2 * log(u1));
    return i % 2 ? radius * sin(angle) : radius * cos(angle);
}

/* Both precisions against the definition, with a counter that carries into
 * its high word and seed and stream with both halves set. Tolerances: the
 * double fill may evaluate in another order than this test (a few ulps,
 * 1e-13 with |z| < 7); the float fill is checked at the 2e-6 of
 * test_normal_f32_matches_f64. */
static void test_normal_follows_definition(void)
{
    const uint64_t seed = 0x9e3779b97f4a7c15ull, stream = 0x0000000700000003ull;
    const uint64_t first = 0xfffffff0ull;
    enum { N = 105 }; /* 27 blocks: the odd last one is above 2^32 too */
    double d[N];
    float f[N];
    th_normal_fill_f64(seed, stream, first, d, N);
    th_normal_fill_f32(seed, stream, first, f, N);
    for (size_t i = 0; i < N; i++) {
        double z = normal_from_definition(seed, stream, first, i);
        CHECK_CLOSE(d[i], z, 1e-13);
        CHECK_CLOSE(f[i], z, 2e-6 * fmax(1, fabs(z)));
    }
}

/* Value i comes from block first + i/4, so a fill from block 7 is the fill
 * from block 0 without its first 28 values, exactly, in both precisions, and
 * a shorter fill is a prefix; the lengths cross the f32 fill's internal
 * chunks (256 values). */
static void test_normal_random_access(void)
{
    enum { N = 1000 };
    static float f0[N], f7[N], f70[N], f_short[N];
    static double d0[N], d7[N];
    th_normal_fill_f32(11, 4, 0, f0, N);
    th_normal_fill_f32(11, 4, 7, f7, N - 28);
    th_normal_fill_f32(11, 4, 70, f70, N - 280);
    th_normal_fill_f32(11, 4, 0, f_short, N - 3); /* ends inside a block */
    th_normal_fill_f64(11, 4, 0, d0, N);
    th_normal_fill_f64(11, 4, 7, d7, N - 28);
    int f_bad = 0, d_bad = 0;
    for (size_t i = 0; i + 28 < N; i++) {
        f_bad += f7[i] != f0[i + 28];
        d_bad += d7[i] != d0[i + 28];
    }
    for (size_t i = 0; i + 280 < N; i++) f_bad += f70[i] != f0[i + 280];
    for (size_t i = 0; i + 3 < N; i++) f_bad += f_short[i] != f0[i];
    CHECK_EQ_INT(f_bad, 0);
    CHECK_EQ_INT(d_bad, 0);
}

/* n need not be a multiple of 4 nor out aligned: every length 0..13 at an odd
 * offset gives the prefix of a longer fill and writes nothing past its end. */
static void test_normal_partial_and_unaligned(void)
{
    float ref_f[16], buf_f[20];
    double ref_d[16], buf_d[20];
    th_normal_fill_f32(5, 6, 9, ref_f, 16);
    th_normal_fill_f64(5, 6, 9, ref_d, 16);
    th_normal_fill_f32(5, 6, 9, NULL, 0);
    th_normal_fill_f64(5, 6, 9, NULL, 0);
    for (size_t n = 0; n <= 13; n++) {
        for (int i = 0; i < 20; i++) {
            buf_f[i] = -99.0f;
            buf_d[i] = -99.0;
        }
        th_normal_fill_f32(5, 6, 9, buf_f + 1, n);
        th_normal_fill_f64(5, 6, 9, buf_d + 1, n);
        int bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += buf_f[1 + i] != ref_f[i] || buf_d[1 + i] != ref_d[i];
        for (size_t i = n + 1; i < 20; i++) bad += buf_f[i] != -99.0f || buf_d[i] != -99.0;
        bad += buf_f[0] != -99.0f || buf_d[0] != -99.0;
        CHECK_EQ_INT(bad, 0);
    }
}

/* The fast float fill against the libm double fill over 10^7 values: the
 * float version's own approximations of log, sqrt, sin and cos must agree to
 * 2e-6 relative (absolute below |z| = 1), a few float roundings. This sample
 * includes ~10^4 values with 1 - U1 < 2^-10, where a log of the rounded float
 * U1 would be off by up to 1e-4 and fail. */
static void test_normal_f32_matches_f64(void)
{
    enum { CH = 1 << 16 };
    const size_t total = 10000000;
    float *f = malloc(CH * sizeof *f);
    double *d = malloc(CH * sizeof *d);
    CHECK(f && d);
    if (!f || !d) {
        free(f);
        free(d);
        return;
    }
    double worst = 0, zmax = 0;
    for (size_t start = 0; start < total; start += CH) {
        size_t n = total - start < CH ? total - start : CH;
        th_normal_fill_f32(31, 9, start / 4, f, n);
        th_normal_fill_f64(31, 9, start / 4, d, n);
        for (size_t i = 0; i < n; i++) {
            double err = fabs((double)f[i] - d[i]) / fmax(1, fabs(d[i]));
            if (!(err <= worst)) worst = err; /* NaN is kept as the worst */
            zmax = fmax(zmax, fabs(d[i]));
        }
    }
    CHECK(worst < 2e-6);
    /* U1 >= 2^-33 bounds every value by sqrt(2 ln 2^33) = 6.764. */
    CHECK(zmax < 6.765);
    free(f);
    free(d);
}

/* Raw moments and tails of N normals against the standard normal. For
 * E[z^k] = 0, 1, 0, 3 (k = 1..4) the standard error of the sample mean of z^k
 * is sqrt(Var(z^k) / N) with Var(z^k) = E[z^2k] - E[z^k]^2 = 1, 2, 15, 96
 * (E[z^6] = 15, E[z^8] = 105), so the skewness and kurtosis checks are
 * those of the known-mean moments. A tail fraction P(|z| > a) = erfc(a /
 * sqrt 2) has standard error sqrt(p (1 - p) / N). Every check allows 5
 * standard errors. Neighbouring values (lag 1: the two of a pair; lag 2 and
 * 3: across pairs) must be uncorrelated, E[z_i z_(i+l)] = 0 with standard
 * error 1 / sqrt(N). */
static void check_normal_statistics(const double *z, size_t n)
{
    double m[5] = {0, 0, 0, 0, 0};
    double lag[4] = {0, 0, 0, 0};
    size_t tail[5] = {0, 0, 0, 0, 0};
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        double x = z[i], p = 1;
        finite &= isfinite(x) != 0;
        for (int k = 1; k <= 4; k++) {
            p *= x;
            m[k] += p;
        }
        for (int a = 1; a <= 4; a++) tail[a] += fabs(x) > a;
        for (int l = 1; l <= 3; l++)
            if (i + l < n) lag[l] += x * z[i + l];
    }
    CHECK(finite);
    const double nn = (double)n;
    const double exact[5] = {1, 0, 1, 0, 3}, var[5] = {0, 1, 2, 15, 96};
    for (int k = 1; k <= 4; k++) CHECK_CLOSE(m[k] / nn, exact[k], 5 * sqrt(var[k] / nn));
    for (int a = 1; a <= 4; a++) {
        double p = erfc(a / sqrt(2.0));
        CHECK_CLOSE(tail[a] / nn, p, 5 * sqrt(p * (1 - p) / nn));
    }
    for (int l = 1; l <= 3; l++) CHECK_CLOSE(lag[l] / (nn - l), 0, 5 / sqrt(nn - l));
}

static void test_normal_f32_statistics(void)
{
    const size_t n = 4000000;
    float *f = malloc(n * sizeof *f);
    double *z = malloc(n * sizeof *z);
    CHECK(f && z);
    if (f && z) {
        th_normal_fill_f32(123, 0, 0, f, n);
        for (size_t i = 0; i < n; i++) z[i] = f[i];
        check_normal_statistics(z, n);
    }
    free(f);
    free(z);
}

static void test_normal_f64_statistics(void)
{
    const size_t n = 2000000;
    double *z = malloc(n * sizeof *z);
    CHECK(z != NULL);
    if (z) {
        th_normal_fill_f64(321, 1, 0, z, n);
        check_normal_statistics(z, n);
    }
    free(z);
}

/* Neighbouring streams of one seed, as a batch uses them, are uncorrelated:
 * E[z_s z_(s+1)] = 0, standard error 1 / sqrt(N). */
static void test_normal_streams_uncorrelated(void)
{
    enum { N = 1 << 18 };
    static float a[N], b[N];
    th_normal_fill_f32(42, 0, 0, a, N);
    th_normal_fill_f32(42, 1, 0, b, N);
    double c = 0;
    for (size_t i = 0; i < N; i++) c += (double)a[i] * (double)b[i];
    CHECK_CLOSE(c / N, 0, 5 / sqrt((double)N));
}

void suite_rng(void);
void suite_rng(void)
{
    RUN_TEST(test_philox_known_answers);
    RUN_TEST(test_rng_u32_follows_definition);
    RUN_TEST(test_rng_streams_differ);
    RUN_TEST(test_rng_u32_chi_square);
    RUN_TEST(test_rng_uniform);
    RUN_TEST(test_normal_follows_definition);
    RUN_TEST(test_normal_random_access);
    RUN_TEST(test_normal_partial_and_unaligned);
    RUN_TEST(test_normal_f32_matches_f64);
    RUN_TEST(test_normal_f32_statistics);
    RUN_TEST(test_normal_f64_statistics);
    RUN_TEST(test_normal_streams_uncorrelated);
}
