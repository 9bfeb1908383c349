/* gemm_bf16.c - the bfloat16 products of --precision bf16 (backend.h says
 * what they compute): rounding, packing, the portable kernel, the drivers,
 * and the choice between the portable kernel and the AVX-512 BF16 one
 * (gemm_bf16_x86.c).
 *
 * Why these bits. A bfloat16 number has 8 significant bits, so the product
 * of two has at most 16 and is exact in float32 as in float64; what can
 * differ between implementations is only how the products are summed. The
 * instruction that makes bfloat16 fast on x86, VDPBF16PS, fixes that: each
 * float32 lane takes two depths, the odd one first, each as a fused
 * multiply-add rounded to nearest even, subnormal inputs read as zero and
 * subnormal results flushed to zero whatever MXCSR says (Intel SDM,
 * "VDPBF16PS"; checked on this project's Zen 5 against 8 million random
 * lanes, and by tests/test_bf16.c on every CPU that has the instruction).
 * thermo defines its bfloat16 product as that chain, so the portable kernel,
 * one correctly rounded fmaf per depth and a flush, gives the instruction's
 * bits on any CPU, and every row keeps its bits whatever tile, thread or
 * batch computes it. */
#include "internal.h"

#include "backend.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define NR TH__BF16_NR
#define MR TH__MR_MAX /* 12: every tile's height but a batch's last */
/* Below this many multiply-adds a product runs on the calling thread. */
#define PARALLEL_WORK (1 << 22)

/* Round to nearest even (the public th_bf16_from_f32), inline for the
 * packing loops. */
static inline uint32_t round_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    /* Adding 0x7fff carries into the kept half exactly when the dropped half
     * is above one half; the kept half's lowest bit adds the one more that
     * makes an exact half round to even. A carry out of the significand
     * raises the exponent, so the largest values become infinity. A NaN
     * keeps its sign and top payload and is made quiet. */
    const uint32_t nearest = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    return (u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x0040u : nearest;
}

uint16_t th_bf16_from_f32(float x) { return (uint16_t)round_bf16(x); }

float th_bf16_to_f32(uint16_t h)
{
    const uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

const char *const *th_precision_names(void)
{
    static const char *const names[] = {"f32", "bf16", NULL};
    return names;
}

int th__precision_check(int precision, int is_f64, int reference_kernel)
{
    if (precision == TH_PRECISION_NATIVE) return TH_OK;
    if (precision != TH_PRECISION_BF16)
        return th__fail(TH_EINVAL, "precision %d: expected TH_PRECISION_NATIVE or "
                                   "TH_PRECISION_BF16", precision);
    if (is_f64)
        return th__fail(TH_EINVAL, "precision bf16: the model is float64; bfloat16 products "
                                   "take a float32 model");
    if (reference_kernel)
        return th__fail(TH_EINVAL, "precision bf16 runs on the fast kernel: the reference "
                                   "kernel's products are the model's own precision");
    return TH_OK;
}

/* ------------------------------------------------- operands and the chain */

/* An operand as the kernels read it: VCVTNE2PS2BF16's conversion. A
 * subnormal float32 (exponent field 0) is read as a zero of its sign; any
 * other is rounded to nearest even, which never gives a subnormal bfloat16
 * (the two formats share their exponent range), so VDPBF16PS, which reads
 * subnormal operands as zero, sees exactly these values. */
static inline uint32_t operand(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u & 0x7f800000u) ? round_bf16(x) : (u >> 16) & 0x8000u;
}

uint32_t th__bf16_operand(float x) { return operand(x); }

static inline float f32_of_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* op(A)[i][k] for a row-major A stored as given (ta) or transposed. */
static inline float element(int trans, const float *A, size_t lda, size_t i, size_t k)
{
    return trans == TH__N ? A[i * lda + k] : A[k * lda + i];
}

/* Depths 2q (low half) and 2q + 1 (high half) of row i of op(A), zero past
 * depth K. */
static inline uint32_t depth_pair(int trans, const float *A, size_t lda, size_t K, size_t i,
                                  size_t q)
{
    const size_t k = 2 * q;
    uint32_t w = operand(element(trans, A, lda, i, k));
    if (k + 1 < K) w |= operand(element(trans, A, lda, i, k + 1)) << 16;
    return w;
}

static inline float flush_subnormal(float s) { return fabsf(s) < FLT_MIN ? copysignf(0.0f, s) : s; }

/* One multiply-add of VDPBF16PS: a fused multiply-add (the product of two
 * bfloat16 numbers is exact, so this is its sum with s rounded once), a
 * subnormal result flushed. fmaf is correctly rounded on every C11 system;
 * where the CPU has FMA the compiler makes it one instruction. */
static inline float fma_flush(float a, float b, float s) { return flush_subnormal(fmaf(a, b, s)); }

static inline float high_half(uint32_t w) { return f32_of_bits(w & 0xffff0000u); }
static inline float low_half(uint32_t w) { return f32_of_bits(w << 16); }

/* One lane of VDPBF16PS: the high (odd) depth, then the low (even) one. */
static inline float dot_pair(float s, uint32_t a, uint32_t b)
{
    s = fma_flush(high_half(a), high_half(b), s);
    return fma_flush(low_half(a), low_half(b), s);
}

static inline float epilogue(float s, float alpha, float beta, const float *c)
{
    return beta == 0 ? alpha * s : alpha * s + beta * *c;
}

void th__gemm_ref_bf16(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                       const float *A, size_t lda, const float *B, size_t ldb, float beta,
                       float *C, size_t ldc)
{
    /* op(B)[k][j] is op(B^T)[j][k]: the pair of column j. */
    const int tb_as_rows = trans_b == TH__N ? TH__T : TH__N;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            float s = 0;
            for (size_t q = 0; q < (K + 1) / 2; q++)
                s = dot_pair(s, depth_pair(trans_a, A, lda, K, i, q),
                             depth_pair(tb_as_rows, B, ldb, K, j, q));
            C[i * ldc + j] = epilogue(s, alpha, beta, C + i * ldc + j);
        }
}

void th_matmul_reference_bf16(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                              float alpha, const float *A, size_t lda, const float *B,
                              size_t ldb, float beta, float *C, size_t ldc)
{
    th__gemm_ref_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ------------------------------------------------------ portable kernel */

static void store_tile(const float *c, size_t rows, float *out, size_t ld_out, float alpha,
                       float beta)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < NR; j++)
            out[i * ld_out + j] = epilogue(c[i * NR + j], alpha, beta, out + i * ld_out + j);
}

/* The chain of dot_pair, with each depth pair of B widened once for all
 * rows. Compiled for several vector units (TH__CLONES): no contraction, so
 * each gives the same bits. */
#define DEFINE_PORTABLE_KERNEL(NAME, ROWS)                                                    \
    TH__CLONES static void NAME(size_t kp, const uint32_t *a, const uint32_t *b, float *out,  \
                                size_t ld_out, float alpha, float beta)                       \
    {                                                                                         \
        float c[ROWS * NR];                                                                   \
        float b_hi[NR], b_lo[NR];                                                            \
        for (size_t t = 0; t < ROWS * NR; t++) c[t] = 0;                                      \
        for (size_t q = 0; q < kp; q++, a += ROWS, b += NR) {                                 \
            for (size_t j = 0; j < NR; j++) b_hi[j] = high_half(b[j]), b_lo[j] = low_half(b[j]); \
            for (size_t i = 0; i < ROWS; i++) {                                               \
                const float a_hi = high_half(a[i]), a_lo = low_half(a[i]);                   \
                float *ci = c + i * NR;                                                       \
                for (size_t j = 0; j < NR; j++)                                               \
                    ci[j] = fma_flush(a_lo, b_lo[j], fma_flush(a_hi, b_hi[j], ci[j]));        \
            }                                                                                 \
        }                                                                                     \
        store_tile(c, ROWS, out, ld_out, alpha, beta);                                        \
    }
DEFINE_PORTABLE_KERNEL(portable_m1, 1)
DEFINE_PORTABLE_KERNEL(portable_m2, 2)
DEFINE_PORTABLE_KERNEL(portable_m4, 4)
DEFINE_PORTABLE_KERNEL(portable_m6, 6)
DEFINE_PORTABLE_KERNEL(portable_m8, 8)
DEFINE_PORTABLE_KERNEL(portable_m12, 12)

static int always(void) { return 1; }

/* Depth pairs of one contiguous row x of n values into words: one loop the
 * compiler vectorises (TH__CLONES). */
TH__CLONES void th__bf16_convert_ref(const float *restrict x, size_t n,
                                     uint32_t *restrict words)
{
    for (size_t q = 0; q < n / 2; q++)
        words[q] = operand(x[2 * q]) | operand(x[2 * q + 1]) << 16;
    if (n & 1) words[n / 2] = operand(x[n - 1]);
}

static const th__bf16_kernel kernel_portable = {
    .id = {"portable", always},
    .run = {[1] = portable_m1, [2] = portable_m2, [4] = portable_m4, [6] = portable_m6,
            [8] = portable_m8, [12] = portable_m12},
    .convert = th__bf16_convert_ref};

/* Best first. */
static const th__kernel_id *const bf16_kernels[] = {&th__bf16_kernel_avx512.id,
                                                    &kernel_portable.id};

static th__kernel_menu bf16_menu = {"bfloat16 kernel", "THERMO_BF16", bf16_kernels,
                                    sizeof bf16_kernels / sizeof bf16_kernels[0], NULL};

static const th__bf16_kernel *bf16_active(void)
{
    return (const th__bf16_kernel *)th__kernel_active(&bf16_menu);
}

const char *th_matmul_bf16_kernel(void) { return bf16_active()->id.name; }

int th_matmul_bf16_use(const char *name) { return th__kernel_use(&bf16_menu, name); }

/* -------------------------------------------------------------- packing */

int th__packed_use_bf16(th__packed *p)
{
    TH_ASSERT(p != NULL && p->data != NULL && !p->is_f64 && !p->is_bf16 && p->kernel != NULL);
    const size_t K = p->K, N = p->N, kp = (K + 1) / 2, np = (N + NR - 1) / NR;
    const size_t src_nr = p->kernel->nr32, count = np * kp * NR;
    uint32_t *dst = th__alloc((count ? count : 1) * sizeof *dst);
    if (!dst)
        return th__fail(TH_ENOMEM, "out of memory packing a (%zu, %zu) bfloat16 operand", K, N);
    /* The float32 panels (gemm_driver.inc): column j, depth k at
     * (j / nr) K nr + k nr + j % nr; read as the rows of a transposed B. */
    const float *src = p->data;
    for (size_t jp = 0; jp < np; jp++)
        for (size_t j = 0; j < NR; j++) {
            const size_t col = jp * NR + j;
            const float *c = src + (col / src_nr) * K * src_nr + col % src_nr;
            for (size_t q = 0; q < kp; q++)
                dst[(jp * kp + q) * NR + j] = col < N ? depth_pair(TH__T, c, src_nr, K, 0, q) : 0;
        }
    th__free(p->data);
    p->data = dst;
    p->is_bf16 = 1;
    return TH_OK;
}

th_matmul_operand *th_matmul_operand_bf16(int trans_b, size_t K, size_t N, const float *B,
                                          size_t ldb)
{
    th_matmul_operand *op = th_matmul_operand_f32(trans_b, K, N, B, ldb);
    if (op && th__packed_use_bf16(th__operand_packed(op)) != TH_OK) {
        th_matmul_operand_free(op);
        return NULL;
    }
    return op;
}

/* ------------------------------------------------------------- drivers */

/* C = alpha bf16(op(A)) Bp + beta C, the tiles of (MR, NR) each one kernel
 * call over the whole depth: A packed in (kp, MR) panels of pairs. */
struct bf16_job {
    const th__bf16_kernel *kr;
    size_t M, N, K, kp, mp, np, mr_last;
    float alpha, beta;
    uint32_t *apack;
    const uint32_t *B;
    float *C;
    size_t ldc;
};

static struct bf16_job bf16_job(size_t M, float alpha, const th__packed *Bp, float beta,
                                float *C, size_t ldc, uint32_t *apack)
{
    struct bf16_job j = {bf16_active(), M, Bp->N, Bp->K, (Bp->K + 1) / 2, (M + MR - 1) / MR,
                         (Bp->N + NR - 1) / NR, 0, alpha, beta, apack, Bp->data, C, ldc};
    j.mr_last = M - (j.mp - 1) * MR; /* the narrowest kernel that covers the last rows */
    while (!j.kr->run[j.mr_last]) j.mr_last++;
    return j;
}

/* Rows [i0, i0 + mr) of op(A) into the (kp, mr) panel at ip, zero past row
 * M. A row of an untransposed A is contiguous: it is converted in chunks
 * and then spread over the panel. */
#define ROW_CHUNK 256 /* depth pairs */
/* Whether panel ip is converted row by row into (mr, kp) words that a row
 * kernel reads, rather than packed (kp, mr): a row of an untransposed A
 * converts in one vector pass, where spreading it over a packed panel is a
 * scatter. */
static int bf16_panel_rows(const struct bf16_job *j, int ta, size_t ip)
{
    const size_t mr = ip + 1 < j->mp ? MR : j->mr_last;
    return ta == TH__N && j->kr->rows[mr] && j->M - ip * MR >= mr;
}

static void bf16_pack_panel(const struct bf16_job *j, int ta, const float *A, size_t lda,
                            size_t ip)
{
    const size_t i0 = ip * MR, mr = ip + 1 < j->mp ? MR : j->mr_last, kp = j->kp;
    const size_t rows = j->M - i0 < mr ? j->M - i0 : mr;
    uint32_t *dst = j->apack + ip * MR * kp;
    if (bf16_panel_rows(j, ta, ip)) {
        for (size_t i = 0; i < mr; i++) j->kr->convert(A + (i0 + i) * lda, j->K, dst + i * kp);
        return;
    }
    uint32_t words[ROW_CHUNK];
    for (size_t i = 0; i < mr; i++)
        for (size_t q0 = 0; q0 < kp; q0 += ROW_CHUNK) {
            const size_t qn = kp - q0 < ROW_CHUNK ? kp - q0 : ROW_CHUNK;
            if (i >= rows)
                for (size_t q = 0; q < qn; q++) words[q] = 0;
            else if (ta == TH__N)
                j->kr->convert(A + (i0 + i) * lda + 2 * q0,
                               j->K - 2 * q0 < 2 * qn ? j->K - 2 * q0 : 2 * qn, words);
            else
                for (size_t q = 0; q < qn; q++)
                    words[q] = depth_pair(ta, A, lda, j->K, i0 + i, q0 + q);
            for (size_t q = 0; q < qn; q++) dst[(q0 + q) * mr + i] = words[q];
        }
}

/* Whole tiles go straight to C; edge tiles through a padded buffer. */
static void bf16_tile(const struct bf16_job *j, int ta, size_t jp, size_t ip)
{
    const size_t i0 = ip * MR, j0 = jp * NR, mr = ip + 1 < j->mp ? MR : j->mr_last;
    const size_t rows = j->M - i0 < mr ? j->M - i0 : mr;
    const size_t cols = j->N - j0 < NR ? j->N - j0 : NR;
    const uint32_t *a = j->apack + ip * MR * j->kp, *b = j->B + jp * j->kp * NR;
    float *out = j->C + i0 * j->ldc + j0;
    const int by_rows = bf16_panel_rows(j, ta, ip);
    if (rows == mr && cols == NR) {
        if (by_rows)
            j->kr->rows[mr](j->kp, a, j->kp, b, out, j->ldc, j->alpha, j->beta);
        else
            j->kr->run[mr](j->kp, a, b, out, j->ldc, j->alpha, j->beta);
        return;
    }
    float buf[MR * NR] __attribute__((aligned(64)));
    if (by_rows)
        j->kr->rows[mr](j->kp, a, j->kp, b, buf, NR, 1, 0);
    else
        j->kr->run[mr](j->kp, a, b, buf, NR, 1, 0);
    for (size_t i = 0; i < rows; i++)
        for (size_t c = 0; c < cols; c++)
            out[i * j->ldc + c] = epilogue(buf[i * NR + c], j->alpha, j->beta,
                                           out + i * j->ldc + c);
}

size_t th__gemm_packed_work_bf16(const th__packed *Bp, size_t M)
{
    return ((M + MR - 1) / MR) * MR * ((Bp->K + 1) / 2) + 1;
}

void th__gemm_packed_serial_bf16(int trans_a, size_t M, float alpha, const float *A,
                                 size_t lda, const th__packed *Bp, float beta, float *C,
                                 size_t ldc, float *work)
{
    TH_ASSERT(Bp != NULL && Bp->data != NULL && Bp->is_bf16 && work != NULL);
    if (M == 0 || Bp->N == 0) return;
    /* work is float storage used as 32-bit words: allocated memory takes the
     * type of what is stored in it. */
    const struct bf16_job j = bf16_job(M, alpha, Bp, beta, C, ldc, (uint32_t *)(void *)work);
    for (size_t ip = 0; ip < j.mp; ip++) bf16_pack_panel(&j, trans_a, A, lda, ip);
    for (size_t jp = 0; jp < j.np; jp++)
        for (size_t ip = 0; ip < j.mp; ip++) bf16_tile(&j, trans_a, jp, ip);
}

/* The chain over the packed operand, element by element: the fallback when
 * memory for the packed A runs out. */
static void bf16_ref_packed(int ta, size_t M, float alpha, const float *A, size_t lda,
                            const th__packed *Bp, float beta, float *C, size_t ldc)
{
    const size_t kp = (Bp->K + 1) / 2;
    const uint32_t *P = Bp->data;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < Bp->N; j++) {
            const uint32_t *col = P + (j / NR) * kp * NR + j % NR;
            float s = 0;
            for (size_t q = 0; q < kp; q++)
                s = dot_pair(s, depth_pair(ta, A, lda, Bp->K, i, q), col[q * NR]);
            C[i * ldc + j] = epilogue(s, alpha, beta, C + i * ldc + j);
        }
}

void th__gemm_packed_bf16(int trans_a, size_t M, float alpha, const float *A, size_t lda,
                          const th__packed *Bp, float beta, float *C, size_t ldc)
{
    TH_ASSERT(Bp != NULL && Bp->data != NULL && Bp->is_bf16);
    if (M == 0 || Bp->N == 0) return;
    uint32_t *apack = th__alloc(th__gemm_packed_work_bf16(Bp, M) * sizeof *apack);
    if (!apack) {
        bf16_ref_packed(trans_a, M, alpha, A, lda, Bp, beta, C, ldc);
        return;
    }
    const struct bf16_job j = bf16_job(M, alpha, Bp, beta, C, ldc, apack);
    const double work = (double)M * (double)j.N * (double)j.K;
#pragma omp parallel if (work >= PARALLEL_WORK)
    {
#pragma omp for schedule(static)
        for (size_t ip = 0; ip < j.mp; ip++) bf16_pack_panel(&j, trans_a, A, lda, ip);
#pragma omp for collapse(2) schedule(dynamic)
        for (size_t jp = 0; jp < j.np; jp++)
            for (size_t ip = 0; ip < j.mp; ip++) bf16_tile(&j, trans_a, jp, ip);
    }
    th__free(apack);
}
