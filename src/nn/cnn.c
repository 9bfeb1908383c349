/* cnn.c - small convolutional networks: shapes, allocation, initialisation,
 * the forward and backward passes, the loss and its gradient.
 *
 * Activations are (image, y, x, channel) with the channels innermost, so a
 * block of B images at side h x w with c channels is a (B h w, c) matrix.
 * A convolution with kernels W (c_out, k, k, c_in) and zero padding k/2 is
 * then one matrix product:
 *     P = im2col(A)           (B h w, k k c_in): row (b, y, x) holds the
 *                              input pixels (y + dy - k/2, x + dx - k/2) for
 *                              dy, dx < k, all channels, zeros outside
 *     Z = P W^T + 1 b^T        (B h w, c_out), then A' = max(Z, 0)
 * and its backward pass the same products transposed (dZ masked by Z > 0):
 *     dW = dZ^T P,  db = column sums of dZ,  dP = dZ W,  dA = col2im(dP),
 * col2im adding each patch entry back onto the pixel it was copied from.
 * A 2x2 max pool of stride 2 keeps the position of each maximum (the first
 * on ties), through which its gradient flows back. The dense layers follow
 * mlp.c. Every product is th__gemm_f32 (backend.h: the same bits for any
 * thread count); im2col, col2im and pooling split images among threads, each
 * image's sums in a fixed order, so the whole pass is thread-independent.
 * The products over the rows of a block (dW) go in fixed chunks of
 * DW_CHUNK rows accumulated in order: the long depth would otherwise leave
 * thermo's kernel its slow blocked path. */
#include "nn/nn_internal.h"

#include <math.h>
#include <string.h>

/* Rows of the depth chunks of dW = dZ^T P (at most the kernel's whole-depth
 * limit, gemm.c). */
#define DW_CHUNK 4096
/* Images per block of the public forward pass: the patches of a 28 x 28
 * judge take 40 MB at 64 images. */
#define FORWARD_BLOCK 64
#define MAX_SIDE 4096
#define MAX_CHANNELS 4096
#define PARALLEL_MIN 32768

/* ---------------------------------------------------------- geometry */

th_cnn_shape th_cnn_judge_shape(size_t rows, size_t cols)
{
    th_cnn_shape s;
    memset(&s, 0, sizeof s);
    s.rows = rows;
    s.cols = cols;
    s.kernel = 5;
    s.n_conv = 2;
    s.channels[0] = 32;
    s.channels[1] = 64;
    s.pool[0] = s.pool[1] = 1;
    s.hidden = 256;
    s.classes = 10;
    return s;
}

/* Sides and channels of every block, from a shape already checked. */
static void geometry(const th_cnn_shape *s, th__cnn_geom *g)
{
    memset(g, 0, sizeof *g);
    g->n_conv = s->n_conv;
    g->k = s->kernel;
    g->pad = s->kernel / 2;
    size_t h = s->rows, w = s->cols, c = 1;
    for (int l = 0; l < s->n_conv; l++) {
        g->h[l] = h;
        g->w[l] = w;
        g->cin[l] = c;
        g->cout[l] = s->channels[l];
        g->patch[l] = s->kernel * s->kernel * c;
        if (s->pool[l]) {
            h /= 2;
            w /= 2;
        }
        g->ph[l] = h;
        g->pw[l] = w;
        c = s->channels[l];
    }
    g->flat = h * w * c;
    g->hidden = s->hidden;
    g->classes = s->classes;
}

int th__cnn_check_shape(const th_cnn_shape *s)
{
    if (s->rows == 0 || s->cols == 0 || s->rows > MAX_SIDE || s->cols > MAX_SIDE)
        return th__fail(TH_EINVAL, "image of %zu x %zu pixels: expected sides 1 to %d", s->rows,
                        s->cols, MAX_SIDE);
    if (s->kernel == 0 || s->kernel % 2 == 0 || s->kernel > 15)
        return th__fail(TH_EINVAL, "kernel %zu: expected an odd side from 1 to 15", s->kernel);
    if (s->n_conv < 1 || s->n_conv > TH_CNN_MAX_CONV)
        return th__fail(TH_EINVAL, "%d convolution blocks: expected 1 to %d", s->n_conv,
                        TH_CNN_MAX_CONV);
    size_t h = s->rows, w = s->cols;
    for (int l = 0; l < s->n_conv; l++) {
        if (s->channels[l] == 0 || s->channels[l] > MAX_CHANNELS)
            return th__fail(TH_EINVAL, "block %d: %zu channels; expected 1 to %d", l,
                            s->channels[l], MAX_CHANNELS);
        if (s->pool[l] != 0 && s->pool[l] != 1)
            return th__fail(TH_EINVAL, "block %d: pool %d; expected 0 or 1", l, s->pool[l]);
        if (s->pool[l] && (h < 2 || w < 2))
            return th__fail(TH_EINVAL, "block %d: a 2x2 pool of a %zu x %zu image leaves no "
                            "pixels", l, h, w);
        if (s->pool[l]) {
            h /= 2;
            w /= 2;
        }
    }
    if (s->hidden == 0 || s->hidden > ((size_t)1 << 20))
        return th__fail(TH_EINVAL, "hidden = %zu: expected 1 to %zu units", s->hidden,
                        (size_t)1 << 20);
    if (s->classes < 2 || s->classes > 256)
        return th__fail(TH_EINVAL, "classes = %zu: expected 2 to 256", s->classes);
    return TH_OK;
}

int th__cnn_same_shape(const th_cnn_shape *a, const th_cnn_shape *b)
{
    if (a->rows != b->rows || a->cols != b->cols || a->kernel != b->kernel ||
        a->n_conv != b->n_conv || a->hidden != b->hidden || a->classes != b->classes)
        return 0;
    for (int l = 0; l < a->n_conv; l++)
        if (a->channels[l] != b->channels[l] || a->pool[l] != b->pool[l]) return 0;
    return 1;
}

size_t th_cnn_flat_width(const th_cnn_shape *shape, size_t *h, size_t *w)
{
    TH_ASSERT(shape != NULL);
    th__cnn_geom g;
    geometry(shape, &g);
    const int last = shape->n_conv - 1;
    if (h) *h = g.ph[last];
    if (w) *w = g.pw[last];
    return g.flat;
}

/* ----------------------------------------------------------- objects */

th_cnn *th_cnn_alloc(const th_cnn_shape *shape)
{
    TH_ASSERT(shape != NULL);
    if (th__cnn_check_shape(shape) != TH_OK) return NULL;
    th__cnn_geom g;
    geometry(shape, &g);
    th_cnn *net = calloc(1, sizeof *net);
    if (!net) {
        th__fail(TH_ENOMEM, "out of memory for a network");
        return NULL;
    }
    net->shape = *shape;
    th__cnn_tensor t[TH__CNN_MAX_TENSORS];
    const size_t count = th__cnn_tensor_shapes(shape, t);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) n += t[i].rows * t[i].cols;
    net->n_params = n;
    net->params = th__calloc(n, sizeof(float));
    if (!net->params) {
        free(net);
        th__fail(TH_ENOMEM, "out of memory for %zu parameters", n);
        return NULL;
    }
    th__cnn_tensors(net, t);
    for (int l = 0; l < shape->n_conv; l++) {
        net->conv_W[l] = t[2 * l].data;
        net->conv_b[l] = t[2 * l + 1].data;
    }
    for (int l = 0; l < 2; l++) {
        net->fc_W[l] = t[2 * shape->n_conv + 2 * l].data;
        net->fc_b[l] = t[2 * shape->n_conv + 2 * l + 1].data;
    }
    return net;
}

void th_cnn_free(th_cnn *net)
{
    if (!net) return;
    th__free(net->params);
    free(net);
}

size_t th__cnn_tensor_shapes(const th_cnn_shape *shape, th__cnn_tensor *t)
{
    th__cnn_geom g;
    geometry(shape, &g);
    size_t n = 0;
    for (int l = 0; l < g.n_conv; l++) {
        t[n++] = (th__cnn_tensor){NULL, g.cout[l], g.patch[l], 1};
        t[n++] = (th__cnn_tensor){NULL, g.cout[l], 1, 0};
    }
    t[n++] = (th__cnn_tensor){NULL, g.hidden, g.flat, 1};
    t[n++] = (th__cnn_tensor){NULL, g.hidden, 1, 0};
    t[n++] = (th__cnn_tensor){NULL, g.classes, g.hidden, 1};
    t[n++] = (th__cnn_tensor){NULL, g.classes, 1, 0};
    return n;
}

size_t th__cnn_tensors(const th_cnn *net, th__cnn_tensor *t)
{
    const size_t n = th__cnn_tensor_shapes(&net->shape, t);
    float *p = net->params;
    for (size_t i = 0; i < n; i++) {
        t[i].data = p;
        p += t[i].rows * t[i].cols;
    }
    return n;
}

void th_cnn_init(th_cnn *net, uint64_t seed)
{
    TH_ASSERT(net != NULL);
    /* He et al. 2015: every layer feeds a ReLU or the logits, and variance
     * 2 / fan-in keeps the activations' scale through the blocks. */
    th__cnn_tensor t[TH__CNN_MAX_TENSORS];
    const size_t n = th__cnn_tensors(net, t);
    for (size_t i = 0; i < n; i++) {
        const size_t count = t[i].rows * t[i].cols;
        if (!t[i].is_weight) {
            memset(t[i].data, 0, count * sizeof(float));
            continue;
        }
        th_normal_fill_f32(seed, (uint64_t)i, 0, t[i].data, count);
        const float scale = (float)sqrt(2.0 / (double)t[i].cols);
        for (size_t k = 0; k < count; k++) t[i].data[k] *= scale;
    }
}

/* ----------------------------------------------------------- workspace */

void th__cnn_work_free(th__cnn_work *w)
{
    for (int l = 0; l < TH_CNN_MAX_CONV; l++) {
        th__free(w->cols[l]);
        th__free(w->conv[l]);
        th__free(w->pool[l]);
        th__free(w->arg[l]);
    }
    th__free(w->hid);
    th__free(w->mask);
    th__free(w->logits);
    th__free(w->d[0]);
    th__free(w->d[1]);
    th__free(w->dcols);
    th__free(w->row_loss);
    memset(w, 0, sizeof *w);
}

int th__cnn_work_alloc(const th_cnn *net, size_t rows, int backward, th__cnn_work *w)
{
    memset(w, 0, sizeof *w);
    geometry(&net->shape, &w->g);
    const th__cnn_geom *g = &w->g;
    w->rows = rows;
    int ok = 1;
    size_t dmax = g->flat > g->hidden ? g->flat : g->hidden, dcols = 0;
    if (g->classes > dmax) dmax = g->classes;
    for (int l = 0; l < g->n_conv; l++) {
        const size_t pix = rows * g->h[l] * g->w[l], pooled = rows * g->ph[l] * g->pw[l];
        w->cols[l] = th__alloc(pix * g->patch[l] * sizeof(float));
        w->conv[l] = th__alloc(pix * g->cout[l] * sizeof(float));
        ok = ok && w->cols[l] && w->conv[l];
        if (net->shape.pool[l]) {
            w->pool[l] = th__alloc(pooled * g->cout[l] * sizeof(float));
            w->arg[l] = th__alloc(pooled * g->cout[l] * sizeof(uint32_t));
            ok = ok && w->pool[l] && w->arg[l];
        }
        if (pix * g->cout[l] > dmax) dmax = pix * g->cout[l];
        if (pix * g->cin[l] > dmax) dmax = pix * g->cin[l];
        if (l > 0 && pix * g->patch[l] > dcols) dcols = pix * g->patch[l];
    }
    if (dmax < rows * g->flat) dmax = rows * g->flat;
    if (dmax < rows * g->hidden) dmax = rows * g->hidden;
    w->hid = th__alloc(rows * g->hidden * sizeof(float));
    w->logits = th__alloc(rows * g->classes * sizeof(float));
    ok = ok && w->hid && w->logits;
    if (backward) {
        w->mask = th__alloc(rows * g->hidden * sizeof(float));
        w->d[0] = th__alloc(dmax * sizeof(float));
        w->d[1] = th__alloc(dmax * sizeof(float));
        w->dcols = dcols ? th__alloc(dcols * sizeof(float)) : NULL;
        w->row_loss = th__alloc(rows * sizeof(double));
        ok = ok && w->mask && w->d[0] && w->d[1] && (w->dcols || !dcols) && w->row_loss;
    }
    if (!ok) {
        th__cnn_work_free(w);
        return th__fail(TH_ENOMEM, "out of memory for the workspace of %zu images", rows);
    }
    return TH_OK;
}

/* ------------------------------------------------------- convolution */

/* The patches of rows images A (rows, h, w, c) into P (rows h w, k k c). */
static void im2col(const float *A, size_t rows, size_t h, size_t w, size_t c, size_t k,
                   size_t pad, float *P)
{
    const size_t patch = k * k * c;
#pragma omp parallel for schedule(static) if (rows * h * w * patch >= PARALLEL_MIN)
    for (size_t b = 0; b < rows; b++)
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w; x++) {
                float *dst = P + ((b * h + y) * w + x) * patch;
                for (size_t dy = 0; dy < k; dy++) {
                    const size_t yy = y + dy - pad; /* wraps below 0 to a huge value */
                    for (size_t dx = 0; dx < k; dx++, dst += c) {
                        const size_t xx = x + dx - pad;
                        if (yy < h && xx < w)
                            memcpy(dst, A + ((b * h + yy) * w + xx) * c, c * sizeof(float));
                        else
                            memset(dst, 0, c * sizeof(float));
                    }
                }
            }
}

/* The adjoint of im2col: dA (rows, h, w, c) = the sum, over every patch
 * entry, of dP at that entry, on the pixel it came from. Image by image, in
 * a fixed order. */
static void col2im(const float *dP, size_t rows, size_t h, size_t w, size_t c, size_t k,
                   size_t pad, float *dA)
{
    const size_t patch = k * k * c;
#pragma omp parallel for schedule(static) if (rows * h * w * patch >= PARALLEL_MIN)
    for (size_t b = 0; b < rows; b++) {
        float *img = dA + b * h * w * c;
        memset(img, 0, h * w * c * sizeof(float));
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w; x++) {
                const float *src = dP + ((b * h + y) * w + x) * patch;
                for (size_t dy = 0; dy < k; dy++) {
                    const size_t yy = y + dy - pad;
                    for (size_t dx = 0; dx < k; dx++, src += c) {
                        const size_t xx = x + dx - pad;
                        if (yy >= h || xx >= w) continue;
                        float *to = img + (yy * w + xx) * c;
                        for (size_t i = 0; i < c; i++) to[i] += src[i];
                    }
                }
            }
    }
}

/* out (rows, n_out) = 1 b^T + in (rows, n_in) W^T, then ReLU when relu. */
static void dense(const float *in, size_t rows, size_t n_in, const float *W, const float *b,
                  size_t n_out, int relu, float *out)
{
#pragma omp parallel for schedule(static) if (rows * n_out >= PARALLEL_MIN)
    for (size_t r = 0; r < rows; r++) memcpy(out + r * n_out, b, n_out * sizeof(float));
    th__gemm_f32(TH__N, TH__T, rows, n_out, n_in, 1.0f, in, n_in, W, n_in, 1.0f, out, n_out);
    if (!relu) return;
    const size_t total = rows * n_out;
#pragma omp parallel for schedule(static) if (total >= PARALLEL_MIN)
    for (size_t i = 0; i < total; i++) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
}

/* 2x2 max pool of stride 2 of A (rows, h, w, c) into out (rows, h/2, w/2, c)
 * with the index in A of each maximum (the first of equals). */
static void max_pool(const float *A, size_t rows, size_t h, size_t w, size_t c, float *out,
                     uint32_t *arg)
{
    const size_t oh = h / 2, ow = w / 2;
#pragma omp parallel for schedule(static) if (rows * h * w * c >= PARALLEL_MIN)
    for (size_t b = 0; b < rows; b++)
        for (size_t y = 0; y < oh; y++)
            for (size_t x = 0; x < ow; x++)
                for (size_t i = 0; i < c; i++) {
                    size_t best = ((b * h + 2 * y) * w + 2 * x) * c + i;
                    for (size_t q = 1; q < 4; q++) {
                        const size_t at = ((b * h + 2 * y + q / 2) * w + 2 * x + q % 2) * c + i;
                        if (A[at] > A[best]) best = at;
                    }
                    const size_t o = ((b * oh + y) * ow + x) * c + i;
                    out[o] = A[best];
                    arg[o] = (uint32_t)(best - b * h * w * c); /* within the image */
                }
}

/* ------------------------------------------------------ forward pass */

void th__cnn_forward_rows(const th_cnn *net, const float *X, size_t rows, th__cnn_work *w,
                          int dropout)
{
    TH_ASSERT(rows <= w->rows);
    if (rows == 0) return;
    const th__cnn_geom *g = &w->g;
    const float *in = X;
    for (int l = 0; l < g->n_conv; l++) {
        const size_t pix = rows * g->h[l] * g->w[l];
        im2col(in, rows, g->h[l], g->w[l], g->cin[l], g->k, g->pad, w->cols[l]);
        dense(w->cols[l], pix, g->patch[l], net->conv_W[l], net->conv_b[l], g->cout[l], 1,
              w->conv[l]);
        if (net->shape.pool[l]) {
            max_pool(w->conv[l], rows, g->h[l], g->w[l], g->cout[l], w->pool[l], w->arg[l]);
            in = w->pool[l];
        } else {
            in = w->conv[l];
        }
    }
    dense(in, rows, g->flat, net->fc_W[0], net->fc_b[0], g->hidden, 1, w->hid);
    if (dropout) {
        const size_t total = rows * g->hidden;
#pragma omp parallel for schedule(static) if (total >= PARALLEL_MIN)
        for (size_t i = 0; i < total; i++) w->hid[i] *= w->mask[i];
    }
    dense(w->hid, rows, g->hidden, net->fc_W[1], net->fc_b[1], g->classes, 0, w->logits);
}

/* The output of the last block: the dense layers' input. */
static const float *last_block(const th_cnn *net, const th__cnn_work *w)
{
    const int l = w->g.n_conv - 1;
    return net->shape.pool[l] ? w->pool[l] : w->conv[l];
}

int th_cnn_forward(const th_cnn *net, const float *X, size_t n, float *logits, float *features)
{
    TH_ASSERT(net != NULL && (X != NULL || n == 0));
    if (n == 0) return TH_OK;
    const size_t block = n < FORWARD_BLOCK ? n : FORWARD_BLOCK;
    th__cnn_work w;
    int rc = th__cnn_work_alloc(net, block, 0, &w);
    if (rc != TH_OK) return rc;
    const size_t pix = net->shape.rows * net->shape.cols;
    for (size_t r0 = 0; r0 < n; r0 += block) {
        const size_t rows = n - r0 < block ? n - r0 : block;
        th__cnn_forward_rows(net, X + r0 * pix, rows, &w, 0);
        if (logits) memcpy(logits + r0 * w.g.classes, w.logits, rows * w.g.classes * sizeof(float));
        if (features) memcpy(features + r0 * w.g.hidden, w.hid, rows * w.g.hidden * sizeof(float));
    }
    th__cnn_work_free(&w);
    return TH_OK;
}

/* ----------------------------------------------------- backward pass */

/* dW (n_out, n_in) (+)= dZ^T A over rows, in chunks of DW_CHUNK rows; db the
 * column sums of dZ. */
static void weight_grad(const float *dZ, const float *A, size_t rows, size_t n_in, size_t n_out,
                        int accumulate, float *dW, float *db)
{
    for (size_t r0 = 0; r0 < rows; r0 += DW_CHUNK) {
        const size_t m = rows - r0 < DW_CHUNK ? rows - r0 : DW_CHUNK;
        const float beta = (accumulate || r0 > 0) ? 1.0f : 0.0f;
        th__gemm_f32(TH__T, TH__N, n_out, n_in, m, 1.0f, dZ + r0 * n_out, n_out, A + r0 * n_in,
                     n_in, beta, dW, n_in);
    }
    th__column_sums(dZ, rows, n_out, accumulate, db);
}

/* dX (count) *= [A > 0] (the ReLU's derivative at its output). */
static void relu_mask(const float *A, size_t count, float *dX)
{
#pragma omp parallel for schedule(static) if (count >= PARALLEL_MIN)
    for (size_t i = 0; i < count; i++)
        if (!(A[i] > 0.0f)) dX[i] = 0.0f;
}

double th__cnn_backward_rows(const th_cnn *net, const uint8_t *labels, size_t rows,
                             double scale, th__cnn_work *w, th_cnn *grad, int accumulate,
                             int dropout)
{
    const th__cnn_geom *g = &w->g;
    float *dZ = w->d[0], *dA = w->d[1];
    const double total = th__softmax_xent_rows(w->logits, labels, rows, g->classes, scale, dZ,
                                               w->row_loss);
    /* logits = hid W1^T + b1 */
    weight_grad(dZ, w->hid, rows, g->hidden, g->classes, accumulate, grad->fc_W[1],
                grad->fc_b[1]);
    th__gemm_f32(TH__N, TH__N, rows, g->hidden, g->classes, 1.0f, dZ, g->classes, net->fc_W[1],
                 g->hidden, 0.0f, dA, g->hidden);
    relu_mask(w->hid, rows * g->hidden, dA);
    if (dropout) {
        const size_t count = rows * g->hidden;
#pragma omp parallel for schedule(static) if (count >= PARALLEL_MIN)
        for (size_t i = 0; i < count; i++) dA[i] *= w->mask[i];
    }
    /* hid = relu(flat W0^T + b0) */
    const float *flat = last_block(net, w);
    weight_grad(dA, flat, rows, g->flat, g->hidden, accumulate, grad->fc_W[0], grad->fc_b[0]);
    th__gemm_f32(TH__N, TH__N, rows, g->flat, g->hidden, 1.0f, dA, g->hidden, net->fc_W[0],
                 g->flat, 0.0f, dZ, g->flat);
    /* dZ now holds the gradient of the last block's output */
    for (int l = g->n_conv - 1; l >= 0; l--) {
        const size_t img = g->h[l] * g->w[l] * g->cout[l], pix = rows * g->h[l] * g->w[l];
        float *dconv = dZ;
        if (net->shape.pool[l]) {
            const size_t pooled = g->ph[l] * g->pw[l] * g->cout[l];
            const uint32_t *arg = w->arg[l];
            const float *dpool = dZ;
            dconv = dA;
#pragma omp parallel for schedule(static) if (rows * img >= PARALLEL_MIN)
            for (size_t b = 0; b < rows; b++) {
                float *d = dconv + b * img;
                memset(d, 0, img * sizeof(float));
                for (size_t o = 0; o < pooled; o++) d[arg[b * pooled + o]] = dpool[b * pooled + o];
            }
        }
        relu_mask(w->conv[l], pix * g->cout[l], dconv);
        weight_grad(dconv, w->cols[l], pix, g->patch[l], g->cout[l], accumulate, grad->conv_W[l],
                    grad->conv_b[l]);
        if (l == 0) break;
        th__gemm_f32(TH__N, TH__N, pix, g->patch[l], g->cout[l], 1.0f, dconv, g->cout[l],
                     net->conv_W[l], g->patch[l], 0.0f, w->dcols, g->patch[l]);
        float *dprev = dconv == w->d[0] ? w->d[1] : w->d[0];
        col2im(w->dcols, rows, g->h[l], g->w[l], g->cin[l], g->k, g->pad, dprev);
        dZ = dprev;
        dA = dconv;
    }
    return total;
}

/* ----------------------------------------------------- loss, gradient */

int th__cnn_check_labels(const th_cnn *net, const uint8_t *labels, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (labels[k] >= net->shape.classes)
            return th__fail(TH_EINVAL, "label %zu = %u: expected a class below the %zu outputs",
                            k, (unsigned)labels[k], net->shape.classes);
    return TH_OK;
}

int th_cnn_loss_grad(const th_cnn *net, const float *X, const uint8_t *labels, size_t n,
                     double *loss, th_cnn *grad)
{
    TH_ASSERT(net != NULL && X != NULL && labels != NULL && loss != NULL);
    if (n == 0) return th__fail(TH_EINVAL, "n = 0: the loss of no images is undefined");
    if (grad && !th__cnn_same_shape(&grad->shape, &net->shape))
        return th__fail(TH_EINVAL, "grad: expected a network of the same shape");
    int rc = th__cnn_check_labels(net, labels, n);
    if (rc != TH_OK) return rc;
    const size_t block = n < FORWARD_BLOCK ? n : FORWARD_BLOCK;
    th__cnn_work w;
    rc = th__cnn_work_alloc(net, block, 1, &w);
    if (rc != TH_OK) return rc;
    th_cnn *g = grad ? grad : th_cnn_alloc(&net->shape);
    if (!g) {
        th__cnn_work_free(&w);
        return TH_ENOMEM;
    }
    const size_t pix = net->shape.rows * net->shape.cols;
    double total = 0;
    for (size_t r0 = 0; r0 < n; r0 += block) {
        const size_t rows = n - r0 < block ? n - r0 : block;
        th__cnn_forward_rows(net, X + r0 * pix, rows, &w, 0);
        total += th__cnn_backward_rows(net, labels + r0, rows, 1.0 / (double)n, &w, g, r0 > 0, 0);
    }
    *loss = total / (double)n;
    if (!grad) th_cnn_free(g);
    th__cnn_work_free(&w);
    return TH_OK;
}
