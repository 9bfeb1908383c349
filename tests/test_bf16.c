/* test_bf16.c - the bfloat16 precision (--precision bf16; src/core/gemm_bf16.c).
 *
 * - Rounding float32 -> bfloat16: known answers (ties both ways, infinities,
 *   overflow, NaN, subnormals, signed zero), and random floats against an
 *   independent definition (the nearest of the two neighbouring bfloat16
 *   values, an exact tie to the even one).
 * - The product's definition (th_matmul_reference_bf16) against a float64
 *   sum of the same bfloat16-rounded operands, to the bound of float32
 *   recursive summation.
 * - Every bfloat16 kernel this CPU runs (portable, avx512bf16) against the
 *   definition to the bit, on shapes across tile edges, both transpositions,
 *   alpha and beta, one and two threads; and, where the CPU has AVX-512 BF16,
 *   the portable kernel against the instruction on operands across the whole
 *   float range (underflow, overflow, subnormals flushed).
 * - Runs: the same bits for any kernel, thread count and batch, different
 *   bits from float32, and the same equilibrium moments as float32 within
 *   their error bars. */
#include "harness.h"

#include "core/backend.h"
#include "thermo.h"

#include <float.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const bf16_kernel_names[] = {"portable", "avx512bf16"};
#define N_BF16_KERNELS 2

static float from_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static uint32_t to_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float rounded(float x) { return th_bf16_to_f32(th_bf16_from_f32(x)); }

/* ------------------------------------------------------------- rounding */

static void test_bf16_rounding_known_answers(void)
{
    static const uint32_t cases[][2] = {
        {0x3f800000, 0x3f80}, /* 1 */
        {0x3f807fff, 0x3f80}, /* just below half an ulp above 1: down */
        {0x3f808000, 0x3f80}, /* a tie, 1 is even: down */
        {0x3f808001, 0x3f81}, /* just above the tie: up */
        {0x3f818000, 0x3f82}, /* a tie from an odd value: up to even */
        {0xbf808000, 0xbf80}, /* the same ties below zero */
        {0xbf818000, 0xbf82},
        {0x3fffffff, 0x4000}, /* carry into the exponent */
        {0x7f7f7fff, 0x7f7f}, /* the largest bfloat16 */
        {0x7f7f8000, 0x7f80}, /* a tie above it, odd: to infinity */
        {0x7f7fffff, 0x7f80}, /* FLT_MAX: infinity */
        {0x7f800000, 0x7f80}, /* +inf */
        {0xff800000, 0xff80}, /* -inf */
        {0x7fc00000, 0x7fc0}, /* quiet NaN */
        {0xffc00000, 0xffc0}, /* negative NaN */
        {0x7f800001, 0x7fc0}, /* NaN with payload only in the dropped half: still NaN */
        {0x7fa00000, 0x7fe0}, /* signalling NaN: made quiet */
        {0x00000000, 0x0000}, /* zeros keep their sign */
        {0x80000000, 0x8000},
        {0x00000001, 0x0000}, /* the smallest subnormal float: to zero */
        {0x00008000, 0x0000}, /* a subnormal tie, even: down */
        {0x00018000, 0x0002}, /* a subnormal tie, odd: up */
        {0x00010000, 0x0001}, /* the smallest bfloat16 subnormal, exact */
        {0x80008001, 0x8001}, /* just above a tie, negative */
        {0x007fffff, 0x0080}, /* the largest subnormal rounds up to FLT_MIN */
        {0x00800000, 0x0080}, /* FLT_MIN */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const uint16_t got = th_bf16_from_f32(from_bits(cases[c][0]));
        if (got != cases[c][1]) {
            fprintf(stderr, "  bf16(0x%08x) = 0x%04x, expected 0x%04x\n", cases[c][0], got,
                    cases[c][1]);
            th_test_check_failed++;
        }
    }
    /* Widening is exact and every bfloat16 but NaN rounds back to itself. */
    int back = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        const float x = th_bf16_to_f32((uint16_t)h);
        back += to_bits(x) == h << 16 &&
                (isnan(x) ? isnan(th_bf16_to_f32(th_bf16_from_f32(x)))
                          : th_bf16_from_f32(x) == h);
    }
    CHECK_EQ_INT(back, 0x10000);
}

/* The nearest bfloat16 by its definition: the two candidates around x (x
 * with its low 16 bits cleared, and the next one away from zero) and the
 * distances to each in float64, which holds them exactly. */
static void test_bf16_rounding_is_nearest_even(void)
{
    uint64_t st = 11;
    int bad = 0;
    for (int t = 0; t < 200000; t++) {
        uint32_t u = (uint32_t)splitmix64(&st);
        if (t % 4 == 0) u = (u & 0x8000ffffu) | 0x3f800000u; /* near 1, all low bits */
        const float x = from_bits(u);
        if (isnan(x) || isinf(x)) continue;
        const double lo = (double)from_bits(u & 0xffff0000u);
        const uint32_t hi_bits = (u & 0xffff0000u) + 0x10000u; /* may be infinite */
        const double hi = isinf(from_bits(hi_bits))
                              ? copysign(ldexp(1.0, 128), (double)x) /* past FLT_MAX */
                              : (double)from_bits(hi_bits);
        const double dl = fabs((double)x - lo), dh = fabs((double)x - hi);
        const int lo_even = ((u >> 16) & 1u) == 0;
        const double want = dl < dh ? lo : dh < dl ? hi : lo_even ? lo : hi;
        const double got = (double)rounded(x);
        const double want_f = fabs(want) >= ldexp(1.0, 128) ? copysign(HUGE_VAL, want) : want;
        bad += !(got == want_f && !signbit(got) == !signbit(x));
    }
    CHECK_EQ_INT(bad, 0);
}

/* -------------------------------------------------------------- products */

/* M, N, K: across the 12 x 32 tile, odd and even depths, one depth. */
static const size_t shapes[][3] = {{1, 1, 1},    {3, 5, 7},    {12, 32, 16}, {13, 33, 385},
                                   {25, 17, 800}, {7, 70, 1},  {40, 9, 390}, {1, 100, 64},
                                   {6, 64, 2},   {11, 31, 1297}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static float *random_f32(size_t n, uint64_t seed, double lo, double hi)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    uint64_t s = seed;
    for (size_t i = 0; x && i < n; i++) x[i] = (float)test_uniform(&s, lo, hi);
    return x;
}

static float op_elem(int trans, const float *A, size_t ld, size_t i, size_t k)
{
    return trans ? A[k * ld + i] : A[i * ld + k];
}

/* The definition (a float32 chain) against the exact-as-can-be float64 sum
 * of the same rounded operands: |error| <= K u sum |a b|, u = 2^-24, the
 * bound of recursive summation with K roundings. */
static void test_bf16_reference_against_float64(void)
{
    for (size_t sh = 0; sh < N_SHAPES; sh++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const size_t M = shapes[sh][0], N = shapes[sh][1], K = shapes[sh][2];
                const size_t lda = ta ? M : K, ldb = tb ? K : N;
                float *A = random_f32(M * K, 1 + sh, -1, 1), *B = random_f32(K * N, 50 + sh, -1, 1);
                float *C = malloc(M * N * sizeof *C), *C32 = malloc(M * N * sizeof *C32);
                th_matmul_reference_bf16(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
                th_matmul_reference_f32(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C32, N);
                int within = 1, rounded_inputs = 0;
                for (size_t i = 0; i < M; i++)
                    for (size_t j = 0; j < N; j++) {
                        double s = 0, mag = 0;
                        for (size_t k = 0; k < K; k++) {
                            const double p = (double)rounded(op_elem(ta, A, lda, i, k)) *
                                             (double)rounded(op_elem(!tb, B, ldb, j, k));
                            s += p;
                            mag += fabs(p);
                        }
                        const double tol = (double)K * ldexp(mag, -24) + 1e-300;
                        within &= fabs((double)C[i * N + j] - s) <= tol;
                        rounded_inputs |= fabs((double)C32[i * N + j] - s) > tol;
                    }
                if (!within) {
                    fprintf(stderr, "  (%zu, %zu, %zu) ta %d tb %d: beyond the float64 bound\n",
                            M, N, K, ta, tb);
                    th_test_check_failed++;
                }
                /* The float32 product of the unrounded operands is far off:
                 * the rounding really happens (one element is enough). */
                if (K > 8) CHECK(rounded_inputs);
                free(A);
                free(B);
                free(C);
                free(C32);
            }
}

/* An operand packed once, products of any number of rows, with alpha and
 * beta: the definition's bits from every kernel, with one thread and two. */
static int kernel_matches_reference(size_t sh, int ta, int tb, float alpha, float beta)
{
    const size_t M = shapes[sh][0], N = shapes[sh][1], K = shapes[sh][2];
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    float *A = random_f32(M * K, 7 + sh, -2, 2), *B = random_f32(K * N, 70 + sh, -2, 2);
    float *C = random_f32(M * N, 700 + sh, -1, 1), *R = malloc(M * N * sizeof *R);
    memcpy(R, C, M * N * sizeof *R);
    th_matmul_reference_bf16(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, R, N);
    th_matmul_operand *op = th_matmul_operand_bf16(tb, K, N, B, ldb);
    th_matmul_packed_f32(ta, M, alpha, A, lda, op, beta, C, N);
    const int same = memcmp(C, R, M * N * sizeof *C) == 0;
    th_matmul_operand_free(op);
    free(A);
    free(B);
    free(C);
    free(R);
    return same;
}

static void test_bf16_kernels_match_reference_bits(void)
{
    const char *saved = th_matmul_bf16_kernel();
    const int threads = omp_get_max_threads();
    static const float ab[][2] = {{1, 0}, {0.5f, -1.5f}, {-2, 1}};
    int ran = 0;
    for (size_t kn = 0; kn < N_BF16_KERNELS; kn++) {
        if (th_matmul_bf16_use(bf16_kernel_names[kn]) != TH_OK) continue;
        ran++;
        for (int t = 1; t <= 2; t++) {
            omp_set_num_threads(t);
            for (size_t sh = 0; sh < N_SHAPES; sh++)
                for (int ta = 0; ta < 2; ta++)
                    for (int tb = 0; tb < 2; tb++)
                        for (size_t c = 0; c < 3; c++)
                            if (!kernel_matches_reference(sh, ta, tb, ab[c][0], ab[c][1])) {
                                fprintf(stderr, "  kernel %s, %d threads, (%zu, %zu, %zu) ta %d "
                                        "tb %d alpha %g beta %g: bits differ\n",
                                        bf16_kernel_names[kn], t, shapes[sh][0], shapes[sh][1],
                                        shapes[sh][2], ta, tb, (double)ab[c][0],
                                        (double)ab[c][1]);
                                th_test_check_failed++;
                            }
        }
    }
    omp_set_num_threads(threads);
    CHECK(ran >= 1);
    CHECK_EQ_INT(th_matmul_bf16_use(saved), TH_OK);
    CHECK(th_matmul_bf16_use("no-such-kernel") == TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "portable");
}

/* A float of random sign and significand with its exponent in [e0, e0 + span). */
static float random_float(uint64_t *st, int e0, int span)
{
    const uint64_t r = splitmix64(st);
    int e = e0 + (int)(r % (uint64_t)span);
    if (e < 0) e = 0;
    if (e > 255) e = 255;
    return from_bits((uint32_t)((r >> 32) & 0x807fffffu) | (uint32_t)e << 23);
}

/* The portable kernel against the instruction itself, on operands whose
 * products underflow, sit at FLT_MIN, overflow, or are subnormal (read as
 * zero), and on random bits of every exponent: the same bits, NaN for NaN. */
static void test_bf16_portable_is_the_instruction(void)
{
    if (th_matmul_bf16_use("avx512bf16") != TH_OK) {
        printf("     (skipped: this CPU has no AVX-512 BF16; the portable kernel is checked "
               "against the definition above)\n");
        return;
    }
    const size_t M = 13, N = 40;
    static const size_t depths[] = {1, 2, 3, 8, 33};
    /* exponent windows of A and B: around 1, products near FLT_MIN (2^-63 each),
     * subnormal and tiny, products near overflow, anything */
    static const int windows[][2] = {{120, 16}, {60, 8}, {0, 4}, {180, 16}, {0, 256}};
    uint64_t st = 2024;
    int mismatches = 0, cases = 0;
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++)
        for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
            const size_t K = depths[d];
            float *A = malloc(M * K * sizeof *A), *B = malloc(K * N * sizeof *B);
            float *Ch = malloc(M * N * sizeof *Ch), *Cp = malloc(M * N * sizeof *Cp);
            for (size_t i = 0; i < M * K; i++) A[i] = random_float(&st, windows[w][0], windows[w][1]);
            for (size_t i = 0; i < K * N; i++)
                B[i] = random_float(&st, w == 2 ? 120 : windows[w][0], w == 2 ? 16 : windows[w][1]);
            th_matmul_operand *op = th_matmul_operand_bf16(0, K, N, B, N);
            th_matmul_bf16_use("avx512bf16");
            th_matmul_packed_f32(0, M, 1.0f, A, K, op, 0.0f, Ch, N);
            th_matmul_bf16_use("portable");
            th_matmul_packed_f32(0, M, 1.0f, A, K, op, 0.0f, Cp, N);
            for (size_t i = 0; i < M * N; i++, cases++)
                mismatches += isnan(Ch[i]) ? !isnan(Cp[i]) : to_bits(Ch[i]) != to_bits(Cp[i]);
            th_matmul_operand_free(op);
            free(A);
            free(B);
            free(Ch);
            free(Cp);
        }
    th_matmul_bf16_use("avx512bf16");
    CHECK_EQ_INT(mismatches, 0);
    CHECK(cases > 10000);
}

/* The operand conversion: known answers of the definition (a subnormal read
 * as a zero of its sign even where rounding would reach FLT_MIN, which is
 * what VCVTNE2PS2BF16 does), then every conversion kernel this CPU runs
 * against the definition, word for word, on every subnormal float (2^24
 * patterns), the largest finite floats, infinities, NaNs, and a million
 * random patterns, at row lengths that end mid-vector and at an odd length. */
static void test_bf16_operand_conversion(void)
{
    static const uint32_t known[][2] = {
        {0x3f800000, 0x3f80}, {0x3f808000, 0x3f80}, {0x3f818000, 0x3f82}, /* ties to even */
        {0x00800000, 0x0080}, /* FLT_MIN stays */
        {0x007fffff, 0x0000}, /* the largest subnormal: zero, not FLT_MIN */
        {0x807f8000, 0x8000}, /* a negative subnormal: -0 */
        {0x00000001, 0x0000}, {0x7f7fffff, 0x7f80}, /* the largest float rounds to inf */
        {0x7f800000, 0x7f80}, {0xff800000, 0xff80}, /* infinities */
        {0x7f800001, 0x7fc0}, /* a signalling NaN is made quiet */
    };
    for (size_t c = 0; c < sizeof known / sizeof known[0]; c++) {
        const uint32_t got = th__bf16_operand(from_bits(known[c][0]));
        if (got != known[c][1]) {
            fprintf(stderr, "  operand(0x%08x) = 0x%04x, expected 0x%04x\n", known[c][0], got,
                    known[c][1]);
            th_test_check_failed++;
        }
    }
    const size_t n = (1u << 24) + (1u << 20) + 8;
    float *x = malloc(n * sizeof *x);
    uint32_t *want = malloc((n / 2 + 1) * sizeof *want), *got = malloc((n / 2 + 1) * sizeof *got);
    size_t m = 0;
    for (uint32_t u = 0; u < (1u << 23); u++) x[m++] = from_bits(u), x[m++] = from_bits(u | 0x80000000u);
    static const uint32_t edges[] = {0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000,
                                     0x7fc00000, 0x7f800001, 0xffffffff, 0x7f7f8000};
    for (size_t e = 0; e < 8; e++) x[m++] = from_bits(edges[e]);
    uint64_t st = 99;
    while (m < n) x[m++] = from_bits((uint32_t)splitmix64(&st));
    th__bf16_convert_ref(x, n, want);
    int bad = 0;
    for (size_t i = 0; i < n / 2; i++)
        bad += want[i] != (th__bf16_operand(x[2 * i]) | th__bf16_operand(x[2 * i + 1]) << 16);
    CHECK_EQ_INT(bad, 0);
    const char *saved = th_matmul_bf16_kernel();
    for (size_t kn = 0; kn < N_BF16_KERNELS; kn++) {
        if (th_matmul_bf16_use(bf16_kernel_names[kn]) != TH_OK) continue;
        const th__bf16_kernel *kr = kn == 0 ? NULL : &th__bf16_kernel_avx512;
        if (!kr) continue; /* the portable kernel's conversion is the reference itself */
        kr->convert(x, n, got);
        int differ = memcmp(got, want, (n / 2) * sizeof *got) != 0;
        /* short rows: every length up to 40 ends mid-vector; odd lengths
         * leave a zero high half */
        for (size_t len = 1; len <= 40; len++) {
            uint32_t a[21] = {0}, b[21] = {0};
            th__bf16_convert_ref(x + (1u << 24) + 3 * len, len, a);
            kr->convert(x + (1u << 24) + 3 * len, len, b);
            differ |= memcmp(a, b, sizeof a) != 0;
        }
        if (differ) {
            fprintf(stderr, "  kernel %s: its conversion differs from the definition\n",
                    bf16_kernel_names[kn]);
            th_test_check_failed++;
        }
    }
    CHECK_EQ_INT(th_matmul_bf16_use(saved), TH_OK);
    free(x);
    free(want);
    free(got);
}

/* ------------------------------------------------------------------ runs */

/* Semi-restricted like the PRL computer: group 0 couples to group 1, group
 * 1 to itself; couplings uniform in [-c, c), random biases. */
static th_model *semi_restricted(size_t n0, size_t n1, double c, double kT, uint64_t seed)
{
    size_t sizes[2] = {n0, n1};
    th_model *m = th_model_alloc(2, sizes, TH_F32);
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    m->kT = kT;
    th_model_set_onsite(m, 0.5, 0.25);
    uint64_t st = seed;
    for (size_t i = 0; i < m->n; i++) {
        th_ptr_set(m->b, TH_F32, i, test_uniform(&st, -0.3, 0.3));
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j))
                th_model_set_coupling(m, i, j, test_uniform(&st, -c, c));
    }
    return m;
}

static void test_bf16_run_rejects(void)
{
    th_model *m = semi_restricted(4, 4, 0.3, 1, 1);
    th_batch *s = th_batch_alloc(m, 2, 1);
    th_run r = th_run_default();
    r.n_steps = 3;
    r.precision = TH_PRECISION_BF16;
    r.kernel = TH_KERNEL_REFERENCE;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "fast kernel");
    r.kernel = TH_KERNEL_FAST;
    r.precision = (th_precision)7;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "precision 7");
    th_batch_free(s);
    th_model_free(m);
    size_t one[1] = {3};
    th_model *m64 = th_model_alloc(1, one, TH_F64);
    th_batch *s64 = th_batch_alloc(m64, 2, 1);
    r.precision = TH_PRECISION_BF16;
    CHECK_EQ_INT(th_langevin_run(m64, s64, &r), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "float64");
    th_batch_free(s64);
    th_model_free(m64);
    CHECK(strcmp(th_precision_names()[TH_PRECISION_BF16], "bf16") == 0);
    CHECK(th_precision_names()[2] == NULL);
}

/* Trajectories 20..24 of a batch of 32 equal a batch of 5 on those streams
 * (other panel positions and tile heights), with every bfloat16 kernel and
 * one or two threads; and a bfloat16 run is not the float32 run. */
static void test_bf16_run_same_bits_any_kernel_thread_batch(void)
{
    th_model *m = semi_restricted(50, 40, 0.4, 0.1, 3);
    const size_t n = m->n;
    th_batch *all = th_batch_alloc(m, 32, 78), *few = th_batch_alloc(m, 5, 78);
    for (size_t k = 0; k < 5; k++) th_batch_set_stream(few, k, 20 + k);
    th_run r = th_run_default();
    r.n_steps = 60;
    r.dt = 0.01;
    CHECK_EQ_INT(th_langevin_run(m, few, &r), TH_OK);
    float *f32 = malloc(5 * n * sizeof *f32);
    memcpy(f32, th_batch_states(few).f32, 5 * n * sizeof *f32);
    r.precision = TH_PRECISION_BF16;
    CHECK_EQ_INT(th_langevin_run(m, all, &r), TH_OK);
    const char *saved = th_matmul_bf16_kernel();
    const int threads = omp_get_max_threads();
    for (size_t kn = 0; kn < N_BF16_KERNELS; kn++) {
        if (th_matmul_bf16_use(bf16_kernel_names[kn]) != TH_OK) continue;
        for (int t = 1; t <= 2; t++) {
            omp_set_num_threads(t);
            th_batch_reset(few);
            CHECK_EQ_INT(th_langevin_run(m, few, &r), TH_OK);
            if (memcmp(th_batch_states(few).f32, th_batch_states(all).f32 + 20 * n,
                       5 * n * sizeof(float)) != 0 ||
                memcmp(th_batch_heat(few), th_batch_heat(all) + 20, 5 * sizeof(double)) != 0) {
                fprintf(stderr, "  kernel %s, %d threads: the states or heat differ\n",
                        bf16_kernel_names[kn], t);
                th_test_check_failed++;
            }
        }
    }
    omp_set_num_threads(threads);
    CHECK_EQ_INT(th_matmul_bf16_use(saved), TH_OK);
    /* the products really ran in bfloat16, and stayed close to float32 */
    double most = 0;
    for (size_t i = 0; i < 5 * n; i++) {
        const double d = fabs((double)f32[i] - (double)th_batch_states(few).f32[i]);
        if (d > most) most = d;
    }
    CHECK(most > 0);
    CHECK(most < 0.1);
    free(f32);
    th_batch_free(all);
    th_batch_free(few);
    th_model_free(m);
}

/* Per trajectory, over snapshots after the burn-in: mean x, mean x^2 and the
 * coupling energy sum_{i<j} J_ij x_i x_j. */
#define N_MOMENTS 3
static int equilibrium_moments(const th_model *m, th_precision precision, uint64_t seed,
                               size_t B, double mean[N_MOMENTS], double se[N_MOMENTS])
{
    enum { BURN = 300, EVERY = 40, SNAPS = 40 };
    const size_t n = m->n;
    size_t steps[SNAPS];
    for (size_t j = 0; j < SNAPS; j++) steps[j] = BURN + j * EVERY;
    float *snaps = malloc(SNAPS * B * n * sizeof *snaps);
    double *per = calloc(B * N_MOMENTS, sizeof *per);
    th_batch *s = th_batch_alloc(m, B, seed);
    th_run r = th_run_default();
    r.dt = 0.01;
    r.n_steps = steps[SNAPS - 1];
    r.snap_steps = steps;
    r.n_snaps = SNAPS;
    r.snap_out.f32 = snaps;
    r.precision = precision;
    int rc = th_langevin_run(m, s, &r);
    for (size_t j = 0; rc == TH_OK && j < SNAPS; j++)
        for (size_t k = 0; k < B; k++) {
            const float *x = snaps + (j * B + k) * n;
            double m1 = 0, m2 = 0, ec = 0;
            for (size_t i = 0; i < n; i++) {
                const double xi = (double)x[i];
                m1 += xi;
                m2 += xi * xi;
                for (size_t l = i + 1; l < n; l++)
                    ec += (double)m->J.f32[i * n + l] * xi * (double)x[l];
            }
            per[k * N_MOMENTS + 0] += m1 / (double)n / SNAPS;
            per[k * N_MOMENTS + 1] += m2 / (double)n / SNAPS;
            per[k * N_MOMENTS + 2] += ec / SNAPS;
        }
    for (size_t q = 0; q < N_MOMENTS; q++) {
        double s1 = 0, s2 = 0;
        for (size_t k = 0; k < B; k++) s1 += per[k * N_MOMENTS + q];
        mean[q] = s1 / (double)B;
        for (size_t k = 0; k < B; k++) s2 += pow(per[k * N_MOMENTS + q] - mean[q], 2);
        se[q] = sqrt(s2 / (double)(B - 1) / (double)B);
    }
    th_batch_free(s);
    free(snaps);
    free(per);
    return rc;
}

/* The equilibrium of a small semi-restricted computer with strong couplings,
 * from independent noise: float32 and bfloat16 products give the same mean
 * state, second moment and coupling energy within 4 combined standard
 * errors; the coupling energy is itself many standard errors from zero, so
 * the comparison can see the couplings. */
static void test_bf16_equilibrium_matches_f32(void)
{
    th_model *m = semi_restricted(16, 16, 0.8, 0.5, 9);
    double m32[N_MOMENTS], s32[N_MOMENTS], mb[N_MOMENTS], sb[N_MOMENTS];
    /* one thread: the bits do not depend on it, and two threads meeting
     * every step of a 32-unit model cost more than they save on a busy
     * machine */
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_EQ_INT(equilibrium_moments(m, TH_PRECISION_NATIVE, 101, 256, m32, s32), TH_OK);
    CHECK_EQ_INT(equilibrium_moments(m, TH_PRECISION_BF16, 202, 256, mb, sb), TH_OK);
    omp_set_num_threads(threads);
    static const char *const names[N_MOMENTS] = {"<x>", "<x^2>", "coupling energy"};
    for (size_t q = 0; q < N_MOMENTS; q++) {
        const double err = sqrt(s32[q] * s32[q] + sb[q] * sb[q]);
        if (!(fabs(m32[q] - mb[q]) <= 4 * err)) {
            fprintf(stderr, "  %s: float32 %.5g +- %.2g, bfloat16 %.5g +- %.2g\n", names[q],
                    m32[q], s32[q], mb[q], sb[q]);
            th_test_check_failed++;
        }
    }
    if (getenv("THERMO_TEST_VERBOSE"))
        for (size_t q = 0; q < N_MOMENTS; q++)
            printf("     %s: float32 %.5g +- %.2g, bfloat16 %.5g +- %.2g\n", names[q], m32[q],
                   s32[q], mb[q], sb[q]);
    CHECK(fabs(m32[2]) > 20 * s32[2]);
    th_model_free(m);
}

void suite_bf16(void)
{
    RUN_TEST(test_bf16_rounding_known_answers);
    RUN_TEST(test_bf16_rounding_is_nearest_even);
    RUN_TEST(test_bf16_reference_against_float64);
    RUN_TEST(test_bf16_kernels_match_reference_bits);
    RUN_TEST(test_bf16_portable_is_the_instruction);
    RUN_TEST(test_bf16_operand_conversion);
    RUN_TEST(test_bf16_run_rejects);
    RUN_TEST(test_bf16_run_same_bits_any_kernel_thread_batch);
    RUN_TEST(test_bf16_equilibrium_matches_f32);
}
