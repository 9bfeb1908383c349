/* cnn_train.c - training a th_cnn with augmentation, and its accuracy.
 *
 * The judge must recognise generated images, which differ from the
 * training images in two ways that carry no class information: where the
 * figure sits (a generator's digit may be off by a pixel or two) and the
 * thermal jitter of every visible unit (roughly independent Gaussian noise
 * per pixel, science.md section 2). So every epoch each training image is
 * moved by a few whole pixels and, half of the time, given pixel noise of a
 * random strength before it is standardised again, as a generated sample is
 * by thermo eval. Dropout on the hidden units adds the usual regularisation.
 *
 * Each image's augmentation and dropout mask come from Philox streams keyed
 * by (epoch, image index), drawn inside the parallel loop over the batch, so
 * the weights depend on the seed alone, not on the thread count. The update
 * is mlp.c's optimiser (train.c) on each parameter tensor. */
#include "nn/nn_internal.h"

#include <math.h>
#include <string.h>

/* Stream bases of the augmentation and the dropout masks, far above the
 * shuffles' streams 0..epochs-1 and the initialisation's 0..tensors-1. */
#define AUGMENT_STREAM ((uint64_t)1 << 40)
#define DROPOUT_STREAM ((uint64_t)2 << 40)
/* The normals of an image's noise start at this block of its stream, past
 * the few uniforms drawn before them. */
#define NOISE_BLOCK 16
/* Pixels of a batch below which it is augmented on one thread. */
#define PARALLEL_MIN 32768

th_cnn_train_params th_cnn_train_params_default(void)
{
    th_cnn_train_params p;
    memset(&p, 0, sizeof p);
    p.opt = th_mlp_train_params_default();
    p.opt.epochs = 15;
    p.opt.batch = 64;
    p.shift = 2;
    p.noise = 0.6;
    p.noise_share = 0.5;
    p.dropout = 0.25;
    return p;
}

static int check_params(const th_cnn *net, const th_dataset *train, const th_cnn_train_params *p)
{
    int rc = th__nn_check_train_params(&p->opt);
    if (rc != TH_OK) return rc;
    const th_cnn_shape *s = &net->shape;
    if (train->rows != s->rows || train->cols != s->cols)
        return th__fail(TH_EINVAL, "images of %zu x %zu pixels: the network takes %zu x %zu",
                        train->rows, train->cols, s->rows, s->cols);
    if (!train->labels)
        return th__fail(TH_EINVAL, "the training images have no labels: expected a labelled "
                        "split");
    if (train->count == 0) return th__fail(TH_EINVAL, "no training images");
    if (p->shift >= s->rows || p->shift >= s->cols)
        return th__fail(TH_EINVAL, "shift = %zu: expected less than the image side", p->shift);
    if (!(p->noise >= 0) || !isfinite(p->noise))
        return th__fail(TH_EINVAL, "noise = %g: expected a finite value >= 0", p->noise);
    if (!(p->noise_share >= 0 && p->noise_share <= 1))
        return th__fail(TH_EINVAL, "noise_share = %g: expected 0 to 1", p->noise_share);
    if (!(p->dropout >= 0 && p->dropout < 1))
        return th__fail(TH_EINVAL, "dropout = %g: expected 0 <= dropout < 1", p->dropout);
    return th__cnn_check_labels(net, train->labels, train->count);
}

void th__cnn_augment(const th_dataset *d, size_t k, const th_cnn_train_params *p, size_t epoch,
                     float *x)
{
    const size_t rows = d->rows, cols = d->cols, pix = rows * cols;
    const uint64_t stream = AUGMENT_STREAM + (uint64_t)epoch * d->count + k;
    th_rng r;
    th_rng_init(&r, p->opt.seed, stream);
    const size_t span = 2 * p->shift + 1;
    size_t sy = (size_t)(th_rng_uniform(&r) * (double)span);
    size_t sx = (size_t)(th_rng_uniform(&r) * (double)span);
    sy = sy < span ? sy : span - 1;
    sx = sx < span ? sx : span - 1;
    const int noisy = th_rng_uniform(&r) < p->noise_share;
    const double sd = th_rng_uniform(&r) * p->noise;
    /* out(y, x) = in(y - dy, x - dx) with dy = sy - shift, 0 outside */
    const uint8_t *src = d->pixels + k * pix;
    for (size_t y = 0; y < rows; y++)
        for (size_t c = 0; c < cols; c++) {
            const size_t yy = y + p->shift - sy, xx = c + p->shift - sx; /* wraps when < 0 */
            x[y * cols + c] = yy < rows && xx < cols ? (float)src[yy * cols + xx] : 0.0f;
        }
    th__standardise_floats(x, pix);
    if (!noisy || !(sd > 0)) return;
    float *z = x + pix; /* the caller's scratch row after x */
    th_normal_fill_f32(p->opt.seed, stream, NOISE_BLOCK, z, pix);
    for (size_t i = 0; i < pix; i++) x[i] += (float)sd * z[i];
    th__standardise_floats(x, pix);
}

/* Dropout factors of image k at epoch e: 0 with probability rate, else
 * 1 / (1 - rate), so that the expected activation is unchanged. */
static void dropout_mask(uint64_t seed, size_t count, size_t k, size_t epoch, double rate,
                         size_t hidden, float *mask)
{
    th_rng r;
    th_rng_init(&r, seed, DROPOUT_STREAM + (uint64_t)epoch * count + k);
    const float keep = (float)(1.0 / (1.0 - rate));
    for (size_t j = 0; j < hidden; j++) mask[j] = th_rng_uniform(&r) < rate ? 0.0f : keep;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int th_cnn_train(th_cnn *net, const th_dataset *train, const th_cnn_train_params *p,
                 double *epoch_loss)
{
    TH_ASSERT(net != NULL && train != NULL && p != NULL);
    int rc = check_params(net, train, p);
    if (rc != TH_OK) return rc;
    const th_mlp_train_params *o = &p->opt;
    const size_t n = train->count, pix = train->rows * train->cols;
    const size_t batch = o->batch < n ? o->batch : n;
    const size_t per_epoch = (n + batch - 1) / batch, total = per_epoch * o->epochs;
    const size_t hidden = net->shape.hidden;
    const int dropout = p->dropout > 0;
    th__cnn_work w;
    rc = th__cnn_work_alloc(net, batch, 1, &w);
    if (rc != TH_OK) return rc;
    th_cnn *grad = th_cnn_alloc(&net->shape);
    float *s1 = th__calloc(net->n_params, sizeof(float));
    float *s2 = th__calloc(net->n_params, sizeof(float));
    size_t *order = malloc(n * sizeof *order);
    float *Xb = th__alloc(batch * pix * sizeof(float));          /* (batch, pix) */
    float *scratch = th__alloc(batch * 2 * pix * sizeof(float)); /* an image and its noise */
    uint8_t *yb = malloc(batch);
    if (!grad || !s1 || !s2 || !order || !Xb || !scratch || !yb) {
        rc = th__fail(TH_ENOMEM, "out of memory for training on batches of %zu", batch);
        goto done;
    }
    th__cnn_tensor t[TH__CNN_MAX_TENSORS], gt[TH__CNN_MAX_TENSORS];
    const size_t n_tensors = th__cnn_tensors(net, t);
    th__cnn_tensors(grad, gt);

    size_t step = 0;
    for (size_t e = 0; e < o->epochs && rc == TH_OK; e++) {
        th__nn_shuffle(order, n, o->seed, e);
        double epoch_sum = 0;
        for (size_t q = 0; q < per_epoch; q++) {
            const size_t r0 = q * batch, rows = n - r0 < batch ? n - r0 : batch;
#pragma omp parallel for schedule(static) if (rows * pix >= PARALLEL_MIN)
            for (size_t r = 0; r < rows; r++) {
                const size_t k = order[r0 + r];
                float *x = scratch + r * 2 * pix;
                th__cnn_augment(train, k, p, e, x);
                memcpy(Xb + r * pix, x, pix * sizeof(float));
                yb[r] = train->labels[k];
                if (dropout)
                    dropout_mask(o->seed, n, k, e, p->dropout, hidden, w.mask + r * hidden);
            }
            th__cnn_forward_rows(net, Xb, rows, &w, dropout);
            const double sum = th__cnn_backward_rows(net, yb, rows, 1.0 / (double)rows, &w, grad,
                                                     0, dropout);
            if (!isfinite(sum)) {
                rc = th__fail(TH_EDIVERGED, "epoch %zu, update %zu: the loss is %g (learning "
                              "rate %g too large?)", e, q, sum, o->learning_rate);
                break;
            }
            epoch_sum += sum;
            step++;
            double bc1, bc2;
            const double lr = th__nn_rate(o, step, total, &bc1, &bc2);
            for (size_t i = 0; i < n_tensors; i++) {
                const size_t off = (size_t)(t[i].data - net->params);
                th__nn_update(o, t[i].data, gt[i].data, s1 + off, s2 + off, t[i].rows * t[i].cols,
                              lr, t[i].is_weight ? o->weight_decay : 0.0, bc1, bc2);
            }
            if (o->progress && o->progress(step, total, o->progress_ctx)) {
                rc = th__fail(TH_ECANCELED, "training stopped by its progress callback at "
                              "epoch %zu, update %zu", e, q);
                break;
            }
        }
        if (rc != TH_OK) break;
        if (!all_finite(net->params, net->n_params)) {
            rc = th__fail(TH_EDIVERGED, "epoch %zu: a weight is not finite (learning rate %g "
                          "too large?)", e, o->learning_rate);
            break;
        }
        const double mean = epoch_sum / (double)n;
        if (epoch_loss) epoch_loss[e] = mean;
        if (p->on_epoch && p->on_epoch(e, mean, net, p->epoch_ctx))
            rc = th__fail(TH_ECANCELED, "training stopped after epoch %zu by its callback", e);
    }
done:
    th__cnn_work_free(&w);
    th_cnn_free(grad);
    th__free(s1);
    th__free(s2);
    free(order);
    th__free(Xb);
    th__free(scratch);
    free(yb);
    return rc;
}

int th_cnn_train_meta(const th_cnn_train_params *p, size_t images, th_meta *meta)
{
    TH_ASSERT(p != NULL && meta != NULL);
    int rc = th_mlp_train_meta(&p->opt, images, meta);
    if (rc == TH_OK) rc = th_meta_setf(meta, "train.shift", "%zu", p->shift);
    if (rc == TH_OK) rc = th_meta_setf(meta, "train.noise", "%.17g", p->noise);
    if (rc == TH_OK) rc = th_meta_setf(meta, "train.noise_share", "%.17g", p->noise_share);
    if (rc == TH_OK) rc = th_meta_setf(meta, "train.dropout", "%.17g", p->dropout);
    return rc;
}

/* ---------------------------------------------------------- accuracy */

static int cnn_prepare(const void *net, const th_dataset *d, size_t first, size_t n, float *X)
{
    const th_cnn *c = net;
    if (d->rows != c->shape.rows || d->cols != c->shape.cols)
        return th__fail(TH_EINVAL, "images of %zu x %zu pixels: the network takes %zu x %zu",
                        d->rows, d->cols, c->shape.rows, c->shape.cols);
    if (first > d->count || n > d->count - first)
        return th__fail(TH_EINVAL, "images %zu..%zu: the dataset has %zu", first, first + n,
                        d->count);
    th__standardise_images(d, first, n, X);
    return TH_OK;
}

static int cnn_logits(const void *net, const float *X, size_t n, float *logits)
{
    return th_cnn_forward(net, X, n, logits, NULL);
}

int th_cnn_evaluate(const th_cnn *net, const th_dataset *d, size_t first, size_t n,
                    double *accuracy, double *top2, size_t *confusion)
{
    TH_ASSERT(net != NULL && d != NULL && accuracy != NULL);
    return th__classifier_evaluate(net, cnn_prepare, cnn_logits, net->shape.classes, d, first, n,
                                   accuracy, top2, confusion);
}

int th__cnn_report(const th_cnn *net, const th_dataset *test, th_mlp_report *r)
{
    return th__classifier_report(net, cnn_prepare, cnn_logits, net->shape.classes, test, r);
}
