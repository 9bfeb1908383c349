/* mlp.c - dense feed-forward networks: allocation, initialisation, the
 * forward and backward passes, input preprocessing and accuracy.
 *
 * Shapes follow the row-major convention of the rest of thermo: a block of B
 * examples is a (B, width) matrix, so layer l computes
 *     Z_l = A_{l-1} W_l^T + 1 b_l^T        (B, width[l+1])
 *     A_l = act(Z_l)  (hidden layers),  A_L = Z_L (the logits),
 * one matrix product (th__gemm_f32, backend.h) per layer. The backward pass of the mean softmax
 * cross-entropy (softmax(z) - onehot(y)) / B runs the same products
 * transposed:
 *     dW_l = dZ_l^T A_{l-1},   db_l = column sums of dZ_l,
 *     dA_{l-1} = dZ_l W_l,     dZ_{l-1} = dA_{l-1} * act'(A_{l-1}),
 * with act' written in terms of the activation itself (1 - a^2 for tanh,
 * [a > 0] for ReLU), so that only the activations are kept.
 *
 * Threads only ever split independent elements (rows of an elementwise pass,
 * columns of a bias sum), every sum runs in a fixed order, and the products
 * go through th__gemm_f32 (gemm.c), which fixes how they are split among
 * threads, so the results do not depend on the number of threads. */
#include "nn/nn_internal.h"

#include <math.h>
#include <string.h>

/* Rows per block of the public forward pass and evaluation: large enough for
 * efficient products, small enough that a 10,000-image test set needs a few
 * megabytes of workspace. */
#define FORWARD_BLOCK 512
/* Elementwise passes smaller than this run in one thread: starting the team
 * costs more than the work. */
#define PARALLEL_MIN 32768
/* A width beyond this is a typo or a damaged file, not a network. */
#define MAX_WIDTH ((size_t)1 << 24)

/* ------------------------------------------------------------- objects */

th_mlp *th_mlp_alloc(int n_layers, const size_t *width, th_activation act)
{
    TH_ASSERT(width != NULL);
    if (n_layers < 1 || n_layers > TH_MLP_MAX_LAYERS) {
        th__fail(TH_EINVAL, "n_layers = %d: expected 1 to %d weight layers", n_layers,
                 TH_MLP_MAX_LAYERS);
        return NULL;
    }
    if (act != TH_ACT_TANH && act != TH_ACT_RELU) {
        th__fail(TH_EINVAL, "activation %d: expected TH_ACT_TANH or TH_ACT_RELU", (int)act);
        return NULL;
    }
    for (int l = 0; l <= n_layers; l++) {
        if (width[l] == 0 || width[l] > MAX_WIDTH) {
            th__fail(TH_EINVAL, "width[%d] = %zu: expected 1 to %zu", l, width[l], MAX_WIDTH);
            return NULL;
        }
    }
    th_mlp *net = calloc(1, sizeof *net);
    if (!net) {
        th__fail(TH_ENOMEM, "out of memory for a network");
        return NULL;
    }
    net->n_layers = n_layers;
    net->act = act;
    net->input = TH_INPUT_STANDARDISED;
    for (int l = 0; l <= n_layers; l++) net->width[l] = width[l];
    for (int l = 0; l < n_layers; l++) {
        net->W[l] = th__calloc(th__mlp_layer_weights(net, l), sizeof(float));
        net->b[l] = th__calloc(width[l + 1], sizeof(float));
        if (!net->W[l] || !net->b[l]) {
            th_mlp_free(net);
            th__fail(TH_ENOMEM, "out of memory for layer %d (%zu x %zu weights)", l,
                     width[l + 1], width[l]);
            return NULL;
        }
    }
    return net;
}

void th_mlp_free(th_mlp *net)
{
    if (!net) return;
    for (int l = 0; l < TH_MLP_MAX_LAYERS; l++) {
        th__free(net->W[l]);
        th__free(net->b[l]);
    }
    free(net);
}

void th_mlp_init(th_mlp *net, uint64_t seed)
{
    TH_ASSERT(net != NULL);
    /* He et al. 2015 for ReLU (variance 2 / fan-in keeps the activations'
     * scale through the layers), LeCun for tanh (1 / fan-in). */
    const double gain = net->act == TH_ACT_RELU ? 2.0 : 1.0;
    for (int l = 0; l < net->n_layers; l++) {
        const size_t count = th__mlp_layer_weights(net, l);
        th_normal_fill_f32(seed, (uint64_t)l, 0, net->W[l], count);
        const float scale = (float)sqrt(gain / (double)net->width[l]);
        for (size_t i = 0; i < count; i++) net->W[l][i] *= scale;
        memset(net->b[l], 0, net->width[l + 1] * sizeof(float));
    }
}

/* ----------------------------------------------------------- workspace */

static size_t max_out_width(const th_mlp *net)
{
    size_t m = 0;
    for (int l = 1; l <= net->n_layers; l++)
        if (net->width[l] > m) m = net->width[l];
    return m;
}

int th__mlp_work_alloc(const th_mlp *net, size_t rows, th__mlp_work *w)
{
    memset(w, 0, sizeof *w);
    w->rows = rows;
    int ok = 1;
    for (int l = 0; l < net->n_layers; l++) {
        w->A[l] = th__alloc(rows * net->width[l + 1] * sizeof(float));
        ok = ok && w->A[l];
    }
    const size_t mw = max_out_width(net);
    for (int k = 0; k < 2; k++) {
        w->delta[k] = th__alloc(rows * mw * sizeof(float));
        ok = ok && w->delta[k];
    }
    w->row_loss = th__alloc(rows * sizeof(double));
    ok = ok && w->row_loss;
    if (!ok) {
        th__mlp_work_free(w);
        return th__fail(TH_ENOMEM, "out of memory for the workspace of %zu examples", rows);
    }
    return TH_OK;
}

void th__mlp_work_free(th__mlp_work *w)
{
    for (int l = 0; l < TH_MLP_MAX_LAYERS; l++) th__free(w->A[l]);
    th__free(w->delta[0]);
    th__free(w->delta[1]);
    th__free(w->row_loss);
    memset(w, 0, sizeof *w);
}

/* ------------------------------------------------------ forward pass */

void th__mlp_forward_rows(const th_mlp *net, const float *X, size_t rows, th__mlp_work *w)
{
    TH_ASSERT(rows <= w->rows);
    if (rows == 0) return;
    const float *in = X;
    for (int l = 0; l < net->n_layers; l++) {
        const size_t n_in = net->width[l], n_out = net->width[l + 1];
        float *out = w->A[l];
        const float *bias = net->b[l];
        const int hidden = l < net->n_layers - 1;
        const th_activation act = net->act;
        /* out = 1 b^T, then out += in W^T */
#pragma omp parallel for schedule(static) if (rows * n_out >= PARALLEL_MIN)
        for (size_t r = 0; r < rows; r++) memcpy(out + r * n_out, bias, n_out * sizeof(float));
        th__gemm_f32(0, 1, rows, n_out, n_in, 1.0f, in, n_in, net->W[l], n_in, 1.0f, out,
                     n_out);
        if (hidden) {
            const size_t total = rows * n_out;
            if (act == TH_ACT_TANH) {
#pragma omp parallel for schedule(static) if (total >= PARALLEL_MIN)
                for (size_t i = 0; i < total; i++) out[i] = tanhf(out[i]);
            } else {
#pragma omp parallel for schedule(static) if (total >= PARALLEL_MIN)
                for (size_t i = 0; i < total; i++) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
            }
        }
        in = out;
    }
}

int th_mlp_forward(const th_mlp *net, const float *X, size_t n, float *logits,
                   float *const *hidden)
{
    TH_ASSERT(net != NULL && (X != NULL || n == 0));
    if (n == 0) return TH_OK;
    const size_t block = n < FORWARD_BLOCK ? n : FORWARD_BLOCK;
    th__mlp_work w;
    int rc = th__mlp_work_alloc(net, block, &w);
    if (rc != TH_OK) return rc;
    const int L = net->n_layers;
    for (size_t r0 = 0; r0 < n; r0 += block) {
        const size_t rows = n - r0 < block ? n - r0 : block;
        th__mlp_forward_rows(net, X + r0 * net->width[0], rows, &w);
        if (logits)
            memcpy(logits + r0 * net->width[L], w.A[L - 1],
                   rows * net->width[L] * sizeof(float));
        if (hidden) {
            for (int l = 0; l < L - 1; l++)
                if (hidden[l])
                    memcpy(hidden[l] + r0 * net->width[l + 1], w.A[l],
                           rows * net->width[l + 1] * sizeof(float));
        }
    }
    th__mlp_work_free(&w);
    return TH_OK;
}

/* ----------------------------------------------------- backward pass */

double th__mlp_backward_rows(const th_mlp *net, const float *X, const uint8_t *labels,
                             size_t rows, double scale, th__mlp_work *w, th_mlp *grad,
                             int accumulate)
{
    const int L = net->n_layers;
    const size_t classes = net->width[L];
    const float *logits = w->A[L - 1];
    float *dZ = w->delta[0];
    const double total = th__softmax_xent_rows(logits, labels, rows, classes, scale, dZ,
                                               w->row_loss);

    const float beta = accumulate ? 1.0f : 0.0f;
    for (int l = L - 1; l >= 0; l--) {
        const size_t n_in = net->width[l], n_out = net->width[l + 1];
        const float *in = l > 0 ? w->A[l - 1] : X;
        /* dW_l = dZ^T A_{l-1}: (n_out, n_in), the inner dimension is the rows */
        th__gemm_f32(1, 0, n_out, n_in, rows, 1.0f, dZ, n_out, in, n_in, beta, grad->W[l],
                     n_in);
        th__column_sums(dZ, rows, n_out, accumulate, grad->b[l]);
        if (l == 0) break;
        /* dA_{l-1} = dZ W_l: (rows, n_in), then through the activation */
        float *dA = w->delta[dZ == w->delta[0] ? 1 : 0];
        th__gemm_f32(0, 0, rows, n_in, n_out, 1.0f, dZ, n_out, net->W[l], n_in, 0.0f, dA,
                     n_in);
        const size_t count = rows * n_in;
        if (net->act == TH_ACT_TANH) {
#pragma omp parallel for schedule(static) if (count >= PARALLEL_MIN)
            for (size_t i = 0; i < count; i++) dA[i] *= 1.0f - in[i] * in[i];
        } else {
#pragma omp parallel for schedule(static) if (count >= PARALLEL_MIN)
            for (size_t i = 0; i < count; i++)
                if (!(in[i] > 0.0f)) dA[i] = 0.0f;
        }
        dZ = dA;
    }
    return total;
}

/* ------------------------------------------- shared with the CNN (cnn.c) */

double th__softmax_xent_rows(const float *logits, const uint8_t *labels, size_t rows,
                             size_t classes, double scale, float *dZ, double *row_loss)
{
    /* Row by row, in double: with m the largest logit,
     * loss = log sum_j exp(z_j - m) - (z_y - m) never overflows. */
#pragma omp parallel for schedule(static) if (rows * classes >= PARALLEL_MIN / 8)
    for (size_t r = 0; r < rows; r++) {
        const float *z = logits + r * classes;
        float *d = dZ + r * classes;
        double m = z[0];
        for (size_t j = 1; j < classes; j++)
            if ((double)z[j] > m) m = z[j];
        double s = 0;
        for (size_t j = 0; j < classes; j++) s += exp((double)z[j] - m);
        const size_t y = labels[r];
        row_loss[r] = log(s) - ((double)z[y] - m);
        for (size_t j = 0; j < classes; j++) {
            double p = exp((double)z[j] - m) / s;
            d[j] = (float)(scale * (p - (j == y ? 1.0 : 0.0)));
        }
    }
    double total = 0;
    for (size_t r = 0; r < rows; r++) total += row_loss[r];
    return total;
}

void th__column_sums(const float *D, size_t rows, size_t cols, int accumulate, float *out)
{
#pragma omp parallel for schedule(static) if (rows * cols >= PARALLEL_MIN)
    for (size_t j = 0; j < cols; j++) {
        double s = 0;
        for (size_t r = 0; r < rows; r++) s += (double)D[r * cols + j];
        out[j] = (float)((accumulate ? (double)out[j] : 0.0) + s);
    }
}

static int same_shape(const th_mlp *a, const th_mlp *b)
{
    if (a->n_layers != b->n_layers) return 0;
    for (int l = 0; l <= a->n_layers; l++)
        if (a->width[l] != b->width[l]) return 0;
    return 1;
}

int th__mlp_check_labels(const th_mlp *net, const uint8_t *labels, size_t n)
{
    const size_t classes = net->width[net->n_layers];
    for (size_t k = 0; k < n; k++)
        if (labels[k] >= classes)
            return th__fail(TH_EINVAL, "label %zu = %u: expected a class below the %zu outputs",
                            k, (unsigned)labels[k], classes);
    return TH_OK;
}

int th_mlp_loss_grad(const th_mlp *net, const float *X, const uint8_t *labels, size_t n,
                     double *loss, th_mlp *grad)
{
    TH_ASSERT(net != NULL && X != NULL && labels != NULL && loss != NULL);
    if (n == 0) return th__fail(TH_EINVAL, "n = 0: the loss of no examples is undefined");
    if (grad && !same_shape(net, grad))
        return th__fail(TH_EINVAL, "grad: expected a network of the same widths");
    int rc = th__mlp_check_labels(net, labels, n);
    if (rc != TH_OK) return rc;
    const size_t block = n < FORWARD_BLOCK ? n : FORWARD_BLOCK;
    th__mlp_work w;
    rc = th__mlp_work_alloc(net, block, &w);
    if (rc != TH_OK) return rc;
    /* Without a gradient wanted, the backward pass still needs somewhere to
     * write: a scratch network of the same shape. */
    th_mlp *scratch = NULL;
    if (!grad) {
        scratch = th_mlp_alloc(net->n_layers, net->width, net->act);
        if (!scratch) {
            th__mlp_work_free(&w);
            return TH_ENOMEM;
        }
    }
    th_mlp *g = grad ? grad : scratch;
    double total = 0;
    for (size_t r0 = 0; r0 < n; r0 += block) {
        const size_t rows = n - r0 < block ? n - r0 : block;
        const float *Xb = X + r0 * net->width[0];
        th__mlp_forward_rows(net, Xb, rows, &w);
        total += th__mlp_backward_rows(net, Xb, labels + r0, rows, 1.0 / (double)n, &w, g,
                                       r0 > 0);
    }
    *loss = total / (double)n;
    th_mlp_free(scratch);
    th__mlp_work_free(&w);
    return TH_OK;
}

/* ------------------------------------------------------------ inputs */

void th__standardise_images(const th_dataset *d, size_t first, size_t n, float *X)
{
    const size_t pix = d->rows * d->cols;
#pragma omp parallel for schedule(static) if (n >= 64)
    for (size_t k = 0; k < n; k++) th_dataset_standardize(d, first + k, X + k * pix);
}

void th__standardise_floats(float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m += (double)x[i];
    m /= (double)n;
    double v = 0;
    for (size_t i = 0; i < n; i++) v += ((double)x[i] - m) * ((double)x[i] - m);
    v /= (double)n;
    const double inv = v > 0 ? 1.0 / sqrt(v) : 0.0;
    for (size_t i = 0; i < n; i++) x[i] = (float)(((double)x[i] - m) * inv);
}

int th_mlp_prepare(const th_mlp *net, const th_dataset *d, size_t first, size_t n, float *X)
{
    TH_ASSERT(net != NULL && d != NULL && (X != NULL || n == 0));
    const size_t pix = d->rows * d->cols;
    if (pix != net->width[0])
        return th__fail(TH_EINVAL, "dataset images have %zu x %zu = %zu pixels; the network "
                        "expects %zu inputs (width[0])", d->rows, d->cols, pix, net->width[0]);
    if (first > d->count || n > d->count - first)
        return th__fail(TH_EINVAL, "images %zu..%zu: the dataset has %zu", first, first + n,
                        d->count);
    if (net->input == TH_INPUT_STANDARDISED) {
        th__standardise_images(d, first, n, X);
        return TH_OK;
    }
    if (net->input != TH_INPUT_PNAS)
        return th__fail(TH_EINVAL, "input %d: expected TH_INPUT_STANDARDISED or TH_INPUT_PNAS",
                        (int)net->input);
    if (!(net->input_norm > 0) || !isfinite(net->input_norm))
        return th__fail(TH_EINVAL, "input_norm = %g: a TH_INPUT_PNAS network needs the common "
                        "L2 norm > 0 (th_mlp_pnas_norm of its training set)", net->input_norm);
    const double norm = net->input_norm;
#pragma omp parallel for schedule(static) if (n >= 64)
    for (size_t k = 0; k < n; k++) {
        const uint8_t *p = d->pixels + (first + k) * pix;
        float *x = X + k * pix;
        double ss = 0;
        for (size_t i = 0; i < pix; i++) {
            double v = (p[i] / 255.0 - TH_PNAS_PIXEL_MEAN) / TH_PNAS_PIXEL_STD;
            ss += v * v;
        }
        /* every pixel maps to a nonzero value (0 -> -0.424), so ss > 0 */
        const double s = ss > 0 ? norm / sqrt(ss) : 0.0;
        for (size_t i = 0; i < pix; i++)
            x[i] = (float)((p[i] / 255.0 - TH_PNAS_PIXEL_MEAN) / TH_PNAS_PIXEL_STD * s);
    }
    return TH_OK;
}

double th_mlp_pnas_norm(const th_dataset *d)
{
    TH_ASSERT(d != NULL);
    const size_t pix = d->rows * d->cols;
    double best = 0;
    for (size_t k = 0; k < d->count; k++) {
        const uint8_t *p = d->pixels + k * pix;
        double ss = 0;
        for (size_t i = 0; i < pix; i++) {
            double v = (p[i] / 255.0 - TH_PNAS_PIXEL_MEAN) / TH_PNAS_PIXEL_STD;
            ss += v * v;
        }
        if (ss > best) best = ss;
    }
    return sqrt(best);
}

/* ---------------------------------------------------------- accuracy */

void th_argmax_rows(const float *logits, size_t n, size_t classes, int *pred)
{
    TH_ASSERT((logits != NULL && pred != NULL) || n == 0);
    for (size_t r = 0; r < n; r++) {
        const float *z = logits + r * classes;
        size_t best = 0;
        for (size_t j = 1; j < classes; j++)
            if (z[j] > z[best]) best = j;
        pred[r] = (int)best;
    }
}

/* Rows whose label is among the k largest logits. */
static size_t topk_hits(const float *logits, size_t n, size_t classes, const uint8_t *labels,
                        size_t k)
{
    size_t hits = 0;
    for (size_t r = 0; r < n; r++) {
        const float *z = logits + r * classes;
        const size_t y = labels[r];
        if (y >= classes) continue;
        size_t above = 0;
        for (size_t j = 0; j < classes; j++)
            if (j != y && z[j] >= z[y]) above += (z[j] > z[y] || j < y);
        hits += above < k;
    }
    return hits;
}

double th_topk_accuracy(const float *logits, size_t n, size_t classes, const uint8_t *labels,
                        size_t k)
{
    TH_ASSERT((logits != NULL && labels != NULL) || n == 0);
    if (n == 0) return 0.0;
    return (double)topk_hits(logits, n, classes, labels, k) / (double)n;
}

static int mlp_prepare(const void *net, const th_dataset *d, size_t first, size_t n, float *X)
{
    return th_mlp_prepare(net, d, first, n, X);
}

static int mlp_logits(const void *net, const float *X, size_t n, float *logits)
{
    return th_mlp_forward(net, X, n, logits, NULL);
}

int th_mlp_evaluate(const th_mlp *net, const th_dataset *d, size_t first, size_t n,
                    double *accuracy, double *top2, size_t *confusion)
{
    TH_ASSERT(net != NULL && d != NULL && accuracy != NULL);
    return th__classifier_evaluate(net, mlp_prepare, mlp_logits, net->width[net->n_layers], d,
                                   first, n, accuracy, top2, confusion);
}

int th_mlp_report_compute(const th_mlp *net, const th_dataset *test, th_mlp_report *r)
{
    TH_ASSERT(net != NULL && test != NULL && r != NULL);
    return th__classifier_report(net, mlp_prepare, mlp_logits, net->width[net->n_layers], test,
                                 r);
}

int th__classifier_evaluate(const void *net, th__prepare_fn prepare, th__logits_fn forward,
                            size_t classes, const th_dataset *d, size_t first, size_t n,
                            double *accuracy, double *top2, size_t *confusion)
{
    if (!d->labels) return th__fail(TH_EINVAL, "the dataset has no labels to evaluate against");
    if (n == 0) return th__fail(TH_EINVAL, "n = 0: no images to evaluate");
    const size_t pix = d->rows * d->cols;
    const size_t block = n < FORWARD_BLOCK ? n : FORWARD_BLOCK;
    float *X = th__alloc(block * pix * sizeof(float));           /* (block, pix) */
    float *logits = th__alloc(block * classes * sizeof(float));  /* (block, classes) */
    int *pred = th__alloc(block * sizeof(int));
    if (!X || !logits || !pred) {
        th__free(X);
        th__free(logits);
        th__free(pred);
        return th__fail(TH_ENOMEM, "out of memory evaluating %zu images", n);
    }
    if (confusion) memset(confusion, 0, classes * classes * sizeof *confusion);
    size_t hits1 = 0, hits2 = 0;
    int rc = TH_OK;
    for (size_t r0 = 0; r0 < n && rc == TH_OK; r0 += block) {
        const size_t rows = n - r0 < block ? n - r0 : block;
        rc = prepare(net, d, first + r0, rows, X);
        if (rc == TH_OK) rc = forward(net, X, rows, logits);
        if (rc != TH_OK) break;
        const uint8_t *y = d->labels + first + r0;
        th_argmax_rows(logits, rows, classes, pred);
        for (size_t r = 0; r < rows; r++) {
            if (y[r] >= classes) {
                rc = th__fail(TH_EINVAL, "label of image %zu = %u: the network has %zu classes",
                              first + r0 + r, (unsigned)y[r], classes);
                break;
            }
            hits1 += (size_t)pred[r] == y[r];
            if (confusion) confusion[(size_t)y[r] * classes + (size_t)pred[r]]++;
        }
        hits2 += topk_hits(logits, rows, classes, y, 2);
    }
    if (rc == TH_OK) {
        *accuracy = (double)hits1 / (double)n;
        if (top2) *top2 = (double)hits2 / (double)n;
    }
    th__free(X);
    th__free(logits);
    th__free(pred);
    return rc;
}
