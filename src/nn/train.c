/* train.c - minibatch training of a th_mlp on the softmax cross-entropy.
 *
 * Each epoch visits the examples in an order drawn from Philox stream e of
 * the seed (a Fisher-Yates shuffle), in minibatches of p->batch examples;
 * every minibatch gives the gradient of its mean loss (mlp.c) and one update
 * of Adam (Kingma & Ba, ICLR 2015, Algorithm 1, with bias correction) or of
 * SGD with heavy-ball momentum (v <- momentum v + g, theta <- theta - lr v).
 * An optional half-cosine schedule takes the rate from learning_rate to 0
 * over all updates (Loshchilov & Hutter 2017, without restarts). The updates
 * are elementwise, the gradient deterministic (mlp.c), so the weights after
 * training depend on the seed only, not on the number of threads. */
#include "nn/nn_internal.h"

#include <math.h>
#include <string.h>

#define PI 3.14159265358979323846

th_mlp_train_params th_mlp_train_params_default(void)
{
    th_mlp_train_params p;
    memset(&p, 0, sizeof p);
    p.epochs = 10;
    p.batch = 128;
    p.optimizer = TH_OPT_ADAM;
    p.learning_rate = 1e-3;
    p.cosine = 1;
    p.momentum = 0.9;
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.epsilon = 1e-8;
    p.weight_decay = 0.0;
    p.seed = 1;
    return p;
}

int th__nn_check_train_params(const th_mlp_train_params *p)
{
    if (p->epochs == 0) return th__fail(TH_EINVAL, "epochs = 0: expected at least 1");
    if (p->batch == 0) return th__fail(TH_EINVAL, "batch = 0: expected at least 1");
    if (p->optimizer != TH_OPT_ADAM && p->optimizer != TH_OPT_SGD)
        return th__fail(TH_EINVAL, "optimizer %d: expected TH_OPT_ADAM or TH_OPT_SGD",
                        (int)p->optimizer);
    if (!(p->learning_rate > 0) || !isfinite(p->learning_rate))
        return th__fail(TH_EINVAL, "learning_rate = %g: expected a finite value > 0",
                        p->learning_rate);
    if (!(p->momentum >= 0 && p->momentum < 1))
        return th__fail(TH_EINVAL, "momentum = %g: expected 0 <= momentum < 1", p->momentum);
    if (!(p->beta1 >= 0 && p->beta1 < 1))
        return th__fail(TH_EINVAL, "beta1 = %g: expected 0 <= beta1 < 1", p->beta1);
    if (!(p->beta2 >= 0 && p->beta2 < 1))
        return th__fail(TH_EINVAL, "beta2 = %g: expected 0 <= beta2 < 1", p->beta2);
    if (!(p->epsilon > 0) || !isfinite(p->epsilon))
        return th__fail(TH_EINVAL, "epsilon = %g: expected a finite value > 0", p->epsilon);
    if (!(p->weight_decay >= 0) || !isfinite(p->weight_decay))
        return th__fail(TH_EINVAL, "weight_decay = %g: expected a finite value >= 0",
                        p->weight_decay);
    return TH_OK;
}

void th__nn_shuffle(size_t *order, size_t n, uint64_t seed, uint64_t epoch)
{
    for (size_t i = 0; i < n; i++) order[i] = i;
    th_rng r;
    th_rng_init(&r, seed, epoch);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(th_rng_uniform(&r) * (double)i);
        if (j >= i) j = i - 1; /* uniform() < 1, but never trust rounding */
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* One optimiser step on an array of parameters: theta (count) with gradient
 * g, state s1 (momentum or Adam's first moment) and s2 (Adam's second). */
void th__nn_update(const th_mlp_train_params *p, float *theta, const float *g, float *s1,
                   float *s2, size_t count, double lr, double decay, double bc1, double bc2)
{
    const float fm = (float)p->momentum, flr = (float)lr, fdecay = (float)decay;
    if (p->optimizer == TH_OPT_SGD) {
#pragma omp parallel for schedule(static) if (count >= 65536)
        for (size_t i = 0; i < count; i++) {
            float gi = g[i] + fdecay * theta[i];
            s1[i] = fm * s1[i] + gi;
            theta[i] -= flr * s1[i];
        }
        return;
    }
    const float b1 = (float)p->beta1, b2 = (float)p->beta2;
    /* Algorithm 1's bias corrections folded into the step and epsilon:
     * lr * m/bc1 / (sqrt(v/bc2) + eps). */
    const float step = (float)(lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    const float eps = (float)p->epsilon;
#pragma omp parallel for schedule(static) if (count >= 65536)
    for (size_t i = 0; i < count; i++) {
        float gi = g[i] + fdecay * theta[i];
        s1[i] = b1 * s1[i] + (1.0f - b1) * gi;
        s2[i] = b2 * s2[i] + (1.0f - b2) * gi * gi;
        theta[i] -= step * s1[i] / (sqrtf(s2[i]) * inv_sqrt_bc2 + eps);
    }
}

double th__nn_rate(const th_mlp_train_params *p, size_t t, size_t total, double *bc1,
                   double *bc2)
{
    double lr = p->learning_rate;
    if (p->cosine) lr *= 0.5 * (1.0 + cos(PI * (double)(t - 1) / (double)total));
    *bc1 = 1.0 - pow(p->beta1, (double)t);
    *bc2 = 1.0 - pow(p->beta2, (double)t);
    return lr;
}

static int all_finite(const th_mlp *net, int *bad_layer)
{
    for (int l = 0; l < net->n_layers; l++) {
        const size_t count = th__mlp_layer_weights(net, l);
        for (size_t i = 0; i < count; i++)
            if (!isfinite(net->W[l][i])) {
                *bad_layer = l;
                return 0;
            }
        for (size_t i = 0; i < net->width[l + 1]; i++)
            if (!isfinite(net->b[l][i])) {
                *bad_layer = l;
                return 0;
            }
    }
    return 1;
}

int th_mlp_train(th_mlp *net, const float *X, const uint8_t *labels, size_t n,
                 const th_mlp_train_params *p, double *epoch_loss)
{
    TH_ASSERT(net != NULL && p != NULL && X != NULL && labels != NULL);
    int rc = th__nn_check_train_params(p);
    if (rc != TH_OK) return rc;
    if (n == 0) return th__fail(TH_EINVAL, "n = 0: no examples to train on");
    rc = th__mlp_check_labels(net, labels, n);
    if (rc != TH_OK) return rc;

    const size_t batch = p->batch < n ? p->batch : n;
    const size_t per_epoch = (n + batch - 1) / batch;
    const size_t total = per_epoch * p->epochs;
    const size_t n_in = net->width[0];
    th__mlp_work w;
    rc = th__mlp_work_alloc(net, batch, &w);
    if (rc != TH_OK) return rc;
    th_mlp *grad = th_mlp_alloc(net->n_layers, net->width, net->act);
    th_mlp *s1 = th_mlp_alloc(net->n_layers, net->width, net->act);
    th_mlp *s2 = th_mlp_alloc(net->n_layers, net->width, net->act);
    size_t *order = malloc(n * sizeof *order);
    float *Xb = th__alloc(batch * n_in * sizeof(float)); /* (batch, n_in) */
    uint8_t *yb = malloc(batch);
    if (!grad || !s1 || !s2 || !order || !Xb || !yb) {
        rc = th__fail(TH_ENOMEM, "out of memory for training on batches of %zu", batch);
        goto done;
    }

    size_t t = 0; /* updates done */
    for (size_t e = 0; e < p->epochs && rc == TH_OK; e++) {
        th__nn_shuffle(order, n, p->seed, e);
        double epoch_sum = 0;
        for (size_t q = 0; q < per_epoch; q++) {
            const size_t r0 = q * batch;
            const size_t rows = n - r0 < batch ? n - r0 : batch;
            for (size_t r = 0; r < rows; r++) {
                memcpy(Xb + r * n_in, X + order[r0 + r] * n_in, n_in * sizeof(float));
                yb[r] = labels[order[r0 + r]];
            }
            th__mlp_forward_rows(net, Xb, rows, &w);
            double sum = th__mlp_backward_rows(net, Xb, yb, rows, 1.0 / (double)rows, &w, grad, 0);
            if (!isfinite(sum)) {
                rc = th__fail(TH_EDIVERGED, "epoch %zu, update %zu: the loss is %g (learning "
                              "rate %g too large?)", e, q, sum, p->learning_rate);
                break;
            }
            epoch_sum += sum;
            t++;
            double bc1, bc2;
            const double lr = th__nn_rate(p, t, total, &bc1, &bc2);
            for (int l = 0; l < net->n_layers; l++) {
                th__nn_update(p, net->W[l], grad->W[l], s1->W[l], s2->W[l],
                              th__mlp_layer_weights(net, l), lr, p->weight_decay, bc1, bc2);
                th__nn_update(p, net->b[l], grad->b[l], s1->b[l], s2->b[l], net->width[l + 1],
                              lr, 0.0, bc1, bc2);
            }
            if (p->progress && p->progress(t, total, p->progress_ctx)) {
                rc = th__fail(TH_ECANCELED, "training stopped by its progress callback at "
                              "epoch %zu, update %zu", e, q);
                break;
            }
        }
        if (rc != TH_OK) break;
        int bad = 0;
        if (!all_finite(net, &bad)) {
            rc = th__fail(TH_EDIVERGED, "epoch %zu: layer %d holds a weight that is not finite "
                          "(learning rate %g too large?)", e, bad, p->learning_rate);
            break;
        }
        const double mean = epoch_sum / (double)n;
        if (epoch_loss) epoch_loss[e] = mean;
        if (p->on_epoch && p->on_epoch(e, mean, net, p->epoch_ctx))
            rc = th__fail(TH_ECANCELED, "training stopped after epoch %zu by its callback", e);
    }

done:
    th__mlp_work_free(&w);
    th_mlp_free(grad);
    th_mlp_free(s1);
    th_mlp_free(s2);
    free(order);
    th__free(Xb);
    free(yb);
    return rc;
}
