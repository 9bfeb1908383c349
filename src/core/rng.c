/* rng.c - counter-based random numbers: Philox4x32-10, thermo's streams, and
 * standard normals by the Box-Muller transform.
 *
 * Philox4x32-10 is the generator of J. K. Salmon, M. A. Moraes, R. O. Dror and
 * D. E. Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11: a
 * 10-round Feistel-like bijection of a 128-bit counter under a 64-bit key.
 * Because any block can be computed directly, the noise of a trajectory is a
 * pure function of (seed, stream, step), whatever the threads.
 *
 * th_normal_fill_f32 is the hot path of the Langevin integrator (one normal per
 * unit per step per trajectory). Its definition is the portable fill here,
 * th__normal_fill_f32_ref: it generates Philox blocks into small stack
 * buffers in loops the compiler vectorises, then applies the Box-Muller
 * transform with branch-free polynomial approximations of log, sqrt, sin and
 * cos instead of libm calls (which do not vectorise). Hand-written AVX-512
 * and AVX2 kernels (rng_x86.inc) give the same bits faster; the one used is
 * chosen at the first call (THERMO_NOISE, th_normal_use; end of this file).
 * The f64 version is the straightforward reference, with libm.
 *
 * Reproducibility: the f32 fill uses only integer operations and correctly
 * rounded float +, -, *, / and int-to-float conversions, in a fixed order, so
 * it gives the same bits at any optimisation level and on any vector unit
 * (checked: -O0, -O3, -mavx2, -mavx512f, -march=native), provided that
 * multiply-adds are not fused: gcc's -std=c11 implies -ffp-contract=off, and
 * the pragma below says the same to clang. */
#include "internal.h"

#include "backend.h"

#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* The f32 fill is compiled for several instruction sets (TH__CLONES,
 * internal.h): plain x86-64 has only SSE2, whose 4-lane vectors, and the
 * shuffles around its 32x32 -> 64-bit multiplies, leave Philox barely faster
 * than scalar code; AVX2 and AVX-512 make the whole fill about 1.4 and 1.6
 * times faster (measured on the development machine). Every version gives
 * the same bits (see above). */

/* Salmon et al. (2011): the Philox4x32 multipliers, and the Weyl sequence
 * constants that advance the key between rounds (the fractional parts of the
 * golden ratio and of sqrt(3), times 2^32). */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define PHILOX_ROUNDS 10

/* A Philox4x32 counter or output block, by value so that the rounds stay in
 * registers (and in vector lanes when inlined into a loop over blocks). */
typedef struct philox_ctr {
    uint32_t c0, c1, c2, c3;
} philox_ctr;

/* One Philox4x32 round (Salmon et al. 2011): two 32x32 -> 64-bit
 * products; the high halves are mixed with the other two words and the key,
 * and the words are permuted. Written on 64-bit products so that the compiler
 * can vectorise it (pmuludq). */
static inline philox_ctr philox_round(philox_ctr c, uint32_t k0, uint32_t k1)
{
    uint64_t p0 = (uint64_t)PHILOX_M0 * c.c0;
    uint64_t p1 = (uint64_t)PHILOX_M1 * c.c2;
    philox_ctr y = {(uint32_t)(p1 >> 32) ^ c.c1 ^ k0, (uint32_t)p1,
                    (uint32_t)(p0 >> 32) ^ c.c3 ^ k1, (uint32_t)p0};
    return y;
}

/* Ten rounds, the key advanced by the Weyl increments before each round after
 * the first. */
static inline philox_ctr philox10(philox_ctr c, uint32_t k0, uint32_t k1)
{
#pragma GCC unroll 10
    for (int r = 0; r < PHILOX_ROUNDS; r++) {
        c = philox_round(c, k0, k1);
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    return c;
}

void th_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    TH_ASSERT(ctr && key && out);
    philox_ctr c = {ctr[0], ctr[1], ctr[2], ctr[3]};
    c = philox10(c, key[0], key[1]);
    out[0] = c.c0;
    out[1] = c.c1;
    out[2] = c.c2;
    out[3] = c.c3;
}

/* ------------------------------------------------------------ streams */

void th_rng_init(th_rng *r, uint64_t seed, uint64_t stream)
{
    TH_ASSERT(r);
    r->seed = seed;
    r->stream = stream;
    r->block = 0;
    memset(r->buf, 0, sizeof r->buf);
    r->used = 4;
}

uint32_t th_rng_u32(th_rng *r)
{
    TH_ASSERT(r);
    if (r->used >= 4) {
        const uint32_t ctr[4] = {(uint32_t)r->block, (uint32_t)(r->block >> 32),
                                 (uint32_t)r->stream, (uint32_t)(r->stream >> 32)};
        const uint32_t key[2] = {(uint32_t)r->seed, (uint32_t)(r->seed >> 32)};
        th_philox4x32_10(ctr, key, r->buf);
        r->block++;
        r->used = 0;
    }
    return r->buf[r->used++];
}

double th_rng_uniform(th_rng *r)
{
    /* 53 random bits, the first word high: k in [0, 2^53), u = k 2^-53 on the
     * grid of doubles in [0, 1). k = 0 (probability 2^-53) becomes half a grid
     * step, 2^-54, so that u is strictly inside (0, 1) and -log(u) is finite;
     * (k + 1/2) 2^-53 for every k would not do, since it rounds to 1 for the
     * largest k. */
    uint64_t hi = th_rng_u32(r);
    uint64_t lo = th_rng_u32(r);
    uint64_t k = (hi << 21) | (lo >> 11);
    if (k == 0) return 0x1p-54;
    return (double)k * 0x1p-53;
}

/* ------------------------------------------------------------ normals */

/* Box-Muller (G. E. P. Box and M. E. Muller, Ann. Math. Stat. 29, 610 (1958)):
 * for independent uniform U1 in (0, 1] and angle A uniform in [0, 2 pi),
 * z0 = sqrt(-2 ln U1) cos A and z1 = sqrt(-2 ln U1) sin A are independent
 * standard normals. From a word pair (w0, w1):
 *     U1 = (w0 + 1/2) 2^-32  in (0, 1), so |z| <= sqrt(2 ln 2^33) = 6.764,
 *     A  = 2 pi w1 2^-32.
 * This is the definition both precisions follow; the f64 version evaluates it
 * with libm. */

void th_normal_fill_f64(uint64_t seed, uint64_t stream, uint64_t first_block,
                        double *out, size_t n)
{
    TH_ASSERT(out || n == 0);
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const double two_pi = 6.283185307179586476925;
    for (size_t i = 0; i < n; i += 4) {
        uint64_t q = first_block + i / 4;
        const uint32_t ctr[4] = {(uint32_t)q, (uint32_t)(q >> 32), (uint32_t)stream,
                                 (uint32_t)(stream >> 32)};
        uint32_t w[4];
        th_philox4x32_10(ctr, key, w);
        double z[4];
        for (int p = 0; p < 2; p++) {
            double u1 = ((double)w[2 * p] + 0.5) * 0x1p-32;
            double a = two_pi * ((double)w[2 * p + 1] * 0x1p-32);
            double rad = sqrt(-2.0 * log(u1));
            z[2 * p] = rad * cos(a);
            z[2 * p + 1] = rad * sin(a);
        }
        size_t m = n - i < 4 ? n - i : 4;
        for (size_t j = 0; j < m; j++) out[i + j] = z[j];
    }
}

static int always_available(void) { return 1; }

/* Blocks per chunk of the f32 fill: 64 blocks = 256 normals, 4 KiB of stack
 * buffers, long enough for the vector loops to run at speed, small enough to
 * stay in L1. */
#define CHUNK 64

static inline uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* cond ? a : b, with both sides evaluated: written on the bits so that the
 * compiler neither moves the float arithmetic into branches (which it must
 * not speculate, as it might raise floating-point exceptions) nor gives up on
 * vectorising the loop. */
static inline float select_float(uint32_t cond, float a, float b)
{
    uint32_t mask = 0u - (uint32_t)(cond != 0);
    return bits_float((float_bits(a) & mask) | (float_bits(b) & ~mask));
}

/* -2 ln U1 for U1 = (w + 1/2) 2^-32: the squared radius of Box-Muller, in
 * float with a relative error of a few 1e-7 over the whole range.
 * ln x = e ln 2 + ln(1 + f) with x = 2^e (1 + f), 1 + f in [sqrt(2)/2,
 * sqrt(2)), read from the float bits of x. Near U1 = 1 the float x has lost
 * the information (-ln U1 ~ 1 - U1 can be as small as 2^-33, while float x
 * is only accurate to 2^-25), so there f = U1 - 1 = -(~w + 1/2) 2^-32 is
 * taken from the integer word instead, exact up to one rounding.
 * ln(1 + f) = ln((1 + s) / (1 - s)) = 2 atanh(s) with s = f / (2 + f),
 * |s| <= 0.1716, by the series 2 (s + s^3/3 + s^5/5 + s^7/7 + s^9/9), whose
 * next term is below 2e-9 relative. */
static inline float radius2(uint32_t w)
{
    float x = ((float)w + 0.5f) * 0x1p-32f;
    /* Adding bits(1) - bits(sqrt(2)/2) moves the exponent boundary to
     * sqrt(2)/2, so the exponent field gives e + 127 and the mantissa, put back
     * under the biased exponent of sqrt(2)/2, gives 1 + f in range. */
    uint32_t ix = float_bits(x) + (0x3f800000u - 0x3f3504f3u);
    int32_t e = (int32_t)(ix >> 23) - 127;
    float m = bits_float((ix & 0x007fffffu) + 0x3f3504f3u);
    /* ~w < 2^31 whenever e == 0 (U1 >= 0.707), so the int conversion is
     * exact in range there; elsewhere the value is discarded by the select. */
    float t = ((float)(int32_t)(~w & 0x7fffffffu) + 0.5f) * 0x1p-32f;
    float f = select_float(e == 0, -t, m - 1.0f);
    float s = f / (2.0f + f);
    float s2 = s * s;
    /* -2 ln(1 + f) = -4 s (1 + s^2/3 + ...): the factor -4 is folded into the
     * coefficients (exact: a power of two). */
    float poly = -4.0f / 9.0f;
    poly = poly * s2 - 4.0f / 7.0f;
    poly = poly * s2 - 4.0f / 5.0f;
    poly = poly * s2 - 4.0f / 3.0f;
    poly = poly * s2 - 4.0f;
    /* -2 ln 2 split so that e times the high part is exact (|e| <= 33 needs 6
     * bits; the high part has 16 significant bits). */
    const float m2ln2_hi = -1.38629150390625f;
    const float m2ln2_lo = -2.85721364061883446424e-6f;
    float ef = (float)e;
    return ef * m2ln2_hi + (ef * m2ln2_lo + s * poly);
}

/* sqrt(a) for the squared radius a = -2 ln U1, which lies in [2^-32, 46]:
 * positive and normal. The library is built without -fno-math-errno, so
 * sqrtf would keep its errno branch and stop the loop from vectorising;
 * instead, the reciprocal square root is refined by Newton's method,
 * y <- y (3 - a y^2) / 2, from the classic bit-level first guess
 * (exponent halved and negated, relative error below 3.5%); the relative
 * error squares at each step (3.5e-2, 1.8e-3, 5e-6, 4e-11), so three steps
 * leave only float rounding, a few 1e-8. Plain multiplies and adds round the
 * same way on every vector unit. */
static inline float sqrt_pos(float a)
{
    float y = bits_float(0x5f3759dfu - (float_bits(a) >> 1));
    float h = 0.5f * a;
    y = y * (1.5f - h * y * y);
    y = y * (1.5f - h * y * y);
    y = y * (1.5f - h * y * y);
    return a * y;
}

/* cos and sin of A = 2 pi w 2^-32. The nearest quadrant k = round(4 w 2^-32)
 * is read from the top bits, leaving x = A - k pi/2 in [-pi/4, pi/4), where
 * the Taylor series to x^8 (cos) and x^9 (sin) are accurate to 2.5e-8 and
 * 2e-9 (the next terms x^10/10! and x^11/11! at pi/4); the quadrant then
 * rotates (c, s) by k pi/2. The remainder is a signed 30-bit integer,
 * converted once to float. */
static inline void cos_sin_turn(uint32_t w, float *co, float *si)
{
    uint32_t shifted = w + 0x20000000u;           /* + half a quadrant */
    uint32_t k = shifted >> 30;                   /* nearest quadrant, 0..3 */
    int32_t d = (int32_t)(shifted & 0x3fffffffu) - 0x20000000; /* in [-2^29, 2^29) */
    float x = (float)d * 0x1.921fb6p-30f;         /* (pi/2) 2^-30 */
    float x2 = x * x;
    float c = 1.0f / 40320.0f;
    c = c * x2 - 1.0f / 720.0f;
    c = c * x2 + 1.0f / 24.0f;
    c = c * x2 - 0.5f;
    c = c * x2 + 1.0f;
    float s = 1.0f / 362880.0f;
    s = s * x2 - 1.0f / 5040.0f;
    s = s * x2 + 1.0f / 120.0f;
    s = s * x2 - 1.0f / 6.0f;
    s = s * x2 * x + x;
    /* cos(x + k pi/2), sin(x + k pi/2) for k = 0..3:
     * (c, s), (-s, c), (-c, -s), (s, -c). */
    float cs = select_float(k & 1u, s, c);
    float sc = select_float(k & 1u, c, s);
    uint32_t neg_c = ((k ^ (k >> 1)) & 1u) << 31; /* k = 1, 2 */
    uint32_t neg_s = (k & 2u) << 30;              /* k = 2, 3 */
    *co = bits_float(float_bits(cs) ^ neg_c);
    *si = bits_float(float_bits(sc) ^ neg_s);
}

/* Philox blocks q0 .. q0 + nb - 1 of the stream, word j of block b into
 * w[j][b] (structure of arrays, so that the next loop reads contiguous
 * words). Each iteration of the vector loop advances two blocks, b and
 * b + nb/2, through the rounds side by side: one block alone is a chain of
 * ten dependent multiplies, and two independent chains keep the multiplier
 * busy while the shuffles of the other wait. */
/* Always inlined: the fill below is compiled once per instruction set, and
 * a separate function would be compiled once, for plain x86-64, which is
 * where it then ran (its three callers defeat the inliner's single-caller
 * rule), at a third of the AVX-512 speed. */
static inline __attribute__((always_inline)) void
philox_blocks(uint64_t q0, size_t nb, uint32_t st_lo, uint32_t st_hi,
                          uint32_t key_lo, uint32_t key_hi, uint32_t w[4][CHUNK])
{
    size_t half = nb / 2;
#pragma omp simd
    for (size_t b = 0; b < half; b++) {
        uint64_t qa = q0 + b, qb = q0 + b + half;
        philox_ctr ca = {(uint32_t)qa, (uint32_t)(qa >> 32), st_lo, st_hi};
        philox_ctr cb = {(uint32_t)qb, (uint32_t)(qb >> 32), st_lo, st_hi};
        uint32_t k0 = key_lo, k1 = key_hi;
#pragma GCC unroll 10
        for (int r = 0; r < PHILOX_ROUNDS; r++) {
            ca = philox_round(ca, k0, k1);
            cb = philox_round(cb, k0, k1);
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        w[0][b] = ca.c0;
        w[1][b] = ca.c1;
        w[2][b] = ca.c2;
        w[3][b] = ca.c3;
        w[0][b + half] = cb.c0;
        w[1][b + half] = cb.c1;
        w[2][b + half] = cb.c2;
        w[3][b + half] = cb.c3;
    }
    if (nb % 2) {
        uint64_t q = q0 + nb - 1;
        philox_ctr c = {(uint32_t)q, (uint32_t)(q >> 32), st_lo, st_hi};
        c = philox10(c, key_lo, key_hi);
        w[0][nb - 1] = c.c0;
        w[1][nb - 1] = c.c1;
        w[2][nb - 1] = c.c2;
        w[3][nb - 1] = c.c3;
    }
}

/* The portable reference twin of the hand-written kernels (rng_x86.inc),
 * and the fill on CPUs without them. */
TH__CLONES
void th__normal_fill_f32_ref(uint64_t seed, uint64_t stream, uint64_t first_block,
                             float *out, size_t n)
{
    const uint32_t key_lo = (uint32_t)seed, key_hi = (uint32_t)(seed >> 32);
    const uint32_t st_lo = (uint32_t)stream, st_hi = (uint32_t)(stream >> 32);
    uint32_t w[4][CHUNK];
    float zc[2][CHUNK], zs[2][CHUNK]; /* [pair][block]: r cos A, r sin A */
    uint64_t q = first_block;
    size_t done = 0;
    while (done < n) {
        size_t left = n - done;
        size_t nb = left / 4 + (left % 4 != 0);
        if (nb > CHUNK) nb = CHUNK;
        philox_blocks(q, nb, st_lo, st_hi, key_lo, key_hi, w);
        /* Both pairs of a block in one iteration: two independent chains of
         * dependent operations, which the processor overlaps. */
#pragma omp simd
        for (size_t b = 0; b < nb; b++) {
            float rad0 = sqrt_pos(radius2(w[0][b]));
            float rad1 = sqrt_pos(radius2(w[2][b]));
            float cos0, sin0, cos1, sin1;
            cos_sin_turn(w[1][b], &cos0, &sin0);
            cos_sin_turn(w[3][b], &cos1, &sin1);
            zc[0][b] = rad0 * cos0;
            zs[0][b] = rad0 * sin0;
            zc[1][b] = rad1 * cos1;
            zs[1][b] = rad1 * sin1;
        }
        /* Value 4b + j of the chunk is word j of block b: the pairs (0, 1)
         * and (2, 3) give (r cos A, r sin A) each. */
        float *o = out + done;
        if (left >= 4 * nb) {
            for (size_t b = 0; b < nb; b++) {
                o[4 * b] = zc[0][b];
                o[4 * b + 1] = zs[0][b];
                o[4 * b + 2] = zc[1][b];
                o[4 * b + 3] = zs[1][b];
            }
            done += 4 * nb;
        } else {
            for (size_t i = 0; i < left; i++) {
                size_t b = i / 4, j = i % 4;
                o[i] = (j & 1u) ? zs[j / 2][b] : zc[j / 2][b];
            }
            done = n;
        }
        q += nb;
    }
}

/* The transform of the fill above on given words, block by block, for the
 * tests (backend.h). */
void th__normal_from_words_ref(const uint32_t *w, float *out, size_t nb)
{
    for (size_t b = 0; b < nb; b++, w += 4, out += 4) {
        float rad0 = sqrt_pos(radius2(w[0]));
        float rad1 = sqrt_pos(radius2(w[2]));
        float cos0, sin0, cos1, sin1;
        cos_sin_turn(w[1], &cos0, &sin0);
        cos_sin_turn(w[3], &cos1, &sin1);
        out[0] = rad0 * cos0;
        out[1] = rad0 * sin0;
        out[2] = rad1 * cos1;
        out[3] = rad1 * sin1;
    }
}

/* ------------------------------------------- choosing the f32 kernel */

static const th__normal_kernel kernel_portable = {.id = {"portable", always_available},
                                                  .fill = th__normal_fill_f32_ref,
                                                  .from_words = th__normal_from_words_ref};

/* Best first: the hand-written kernels keep a group of blocks in registers
 * from counter to store, where the portable loop passes through two stack
 * buffers (bench_noise measures the difference). */
static const th__kernel_id *const normal_kernels[] = {
    &th__normal_kernel_avx512.id, &th__normal_kernel_avx2.id, &kernel_portable.id};

static th__kernel_menu normal_menu = {"normal-fill kernel", "THERMO_NOISE", normal_kernels,
                                      sizeof normal_kernels / sizeof normal_kernels[0], NULL};

static const th__normal_kernel *normal_active(void)
{
    return (const th__normal_kernel *)th__kernel_active(&normal_menu);
}

const char *th_normal_kernel(void) { return normal_active()->id.name; }

int th_normal_use(const char *name) { return th__kernel_use(&normal_menu, name); }

void th_normal_fill_f32(uint64_t seed, uint64_t stream, uint64_t first_block, float *out,
                        size_t n)
{
    TH_ASSERT(out || n == 0);
    normal_active()->fill(seed, stream, first_block, out, n);
}
