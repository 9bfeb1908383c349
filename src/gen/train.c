/* train.c - gradient descent on the reverse-path objective, the published
 * recipe of the PRL paper: one noising path per update, the gradient summed
 * over its steps, learning rate 4e-4, 100 updates (science.md section 2);
 * with a batch of paths the gradient is their average, so the learning rate
 * keeps its meaning. Under MPI each process takes a share of the batch and
 * the gradients are summed across processes. */
#include "gen_internal.h"
#include "thermo/dist.h"

#include <math.h>
#include <string.h>

th_gen_train_opts th_gen_train_opts_default(void)
{
    th_gen_train_opts o;
    memset(&o, 0, sizeof o);
    o.updates = 100;
    o.learning_rate = 4e-4;
    o.batch = 1;
    return o;
}

/* theta <- theta - lr * grad over the trainable parameters: couplings of
 * coupled pairs (both halves, so J stays symmetric) and hidden biases. The
 * gradient is zero elsewhere by construction, so the whole arrays update. */
static int descend(th_model *m, const th_model *grad, double lr, const th_gen_params *p)
{
    const size_t n = m->n;
    /* in double, rounded to the model's type, in a loop per type (a call
     * per element costs more than the arithmetic on n^2 couplings), shared
     * among the threads. A value that is not finite is not written and
     * fails the update (the training stops with an error, so the other
     * values' fate does not matter); the test is a select rather than a way
     * out of the loop, so that the loop vectorises. */
    int bad = 0;
    if (m->dtype == TH_F32) {
        float *J = m->J.f32;
        const float *G = grad->J.f32;
#pragma omp parallel for schedule(static) reduction(| : bad) if (n * n >= 65536)
        for (size_t i = 0; i < n * n; i++) {
            const double v = (double)J[i] - lr * (double)G[i];
            const int ok = isfinite(v);
            bad |= !ok;
            J[i] = ok ? (float)v : J[i];
        }
    } else {
        double *J = m->J.f64;
        const double *G = grad->J.f64;
#pragma omp parallel for schedule(static) reduction(| : bad) if (n * n >= 65536)
        for (size_t i = 0; i < n * n; i++) {
            const double v = J[i] - lr * G[i];
            const int ok = isfinite(v);
            bad |= !ok;
            J[i] = ok ? v : J[i];
        }
    }
    if (bad) return 0;
    for (size_t i = 0; i < n; i++) {
        if (!th__gen_bias_trained(p, i)) continue;
        double v = th_ptr_get(m->b, m->dtype, i) - lr * th_ptr_get(grad->b, m->dtype, i);
        if (!isfinite(v)) return 0;
        th_ptr_set(m->b, m->dtype, i, v);
    }
    return 1;
}

/* Sums the batch's gradient (and loss) over the processes, in double, in
 * rank order, so that every process takes the same step to the bit. */
static int sum_over_processes(const th_gen_protocol *grad, double *loss, double *buf)
{
    const size_t n = grad->seg[0]->n, S = grad->segments, len = n * n + n;
    if (th_dist_size() == 1) return TH_OK;
    for (size_t k = 0; k < S; k++) {
        const th_model *g = grad->seg[k];
        for (size_t i = 0; i < n * n; i++) buf[k * len + i] = th_ptr_get(g->J, g->dtype, i);
        for (size_t i = 0; i < n; i++) buf[k * len + n * n + i] = th_ptr_get(g->b, g->dtype, i);
    }
    buf[S * len] = *loss;
    int rc = th_dist_sum_f64_ordered(buf, S * len + 1);
    if (rc != TH_OK) return rc;
    for (size_t k = 0; k < S; k++) {
        th_model *g = grad->seg[k];
        for (size_t i = 0; i < n * n; i++) th_ptr_set(g->J, g->dtype, i, buf[k * len + i]);
        for (size_t i = 0; i < n; i++) th_ptr_set(g->b, g->dtype, i, buf[k * len + n * n + i]);
    }
    *loss = buf[S * len];
    return TH_OK;
}

int th_gen_train(th_model *m, const th_gen_params *p, const float *images,
                 const int *classes, size_t count, const th_gen_train_opts *opts,
                 size_t first_update, double *loss)
{
    TH_ASSERT(m != NULL && p != NULL);
    int rc = th__gen_single_segment(p, "th_gen_train");
    if (rc != TH_OK) return rc;
    th_model *slot;
    th_gen_protocol view = th__gen_protocol_view(&slot, m);
    return th__gen_protocol_train(&view, p, images, classes, count, opts, first_update, loss,
                                  NULL, NULL);
}

int th_gen_protocol_train(th_gen_protocol *pr, const th_gen_params *p, const float *images,
                          const int *classes, size_t count, const th_gen_train_opts *opts,
                          size_t first_update, double *loss)
{
    return th__gen_protocol_train(pr, p, images, classes, count, opts, first_update, loss, NULL,
                                  NULL);
}

int th__gen_protocol_train(th_gen_protocol *pr, const th_gen_params *p, const float *images,
                           const int *classes, size_t count, const th_gen_train_opts *opts,
                           size_t first_update, double *loss, th__gen_update_fn hook,
                           void *hook_ctx)
{
    TH_ASSERT(pr != NULL && p != NULL && images != NULL && opts != NULL && loss != NULL);
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    if ((rc = th__gen_protocol_check(pr, p, "the model")) != TH_OK) return rc;
    if (count == 0) return th__fail(TH_EINVAL, "no training images");
    if (opts->batch == 0) return th__fail(TH_EINVAL, "batch = 0: expected at least 1 path");
    if (!(opts->learning_rate > 0) || !isfinite(opts->learning_rate))
        return th__fail(TH_EINVAL, "learning rate %g: expected a finite value > 0",
                        opts->learning_rate);
    if (first_update > opts->updates)
        return th__fail(TH_EINVAL, "first update %zu is beyond the %zu updates", first_update,
                        opts->updates);

    if ((rc = th__gen_check_classes(p, classes, count)) != TH_OK) return rc;
    /* once: from here on only descend changes the model (finite steps along
     * a symmetric gradient); a device's models are checked every update */
    for (size_t k = 0; k < pr->segments; k++)
        if ((rc = th_model_validate(pr->seg[k])) != TH_OK) return rc;

    const size_t nv = p->n_visible, S = pr->segments;
    const th_model *m0 = pr->seg[0];
    const size_t n = m0->n, es = th_dtype_size(m0->dtype);
    /* This process's share of each update's paths. */
    size_t first = 0, B = 0;
    th_dist_share(opts->batch, &first, &B);
    th_gen_protocol *grad = th_gen_protocol_alloc(p, m0->dtype);
    th_gen_protocol *dev = opts->device ? th_gen_protocol_alloc(p, m0->dtype) : NULL;
    float *batch_images = th__alloc((B ? B : 1) * nv * sizeof(float));
    int *batch_classes = th__alloc((B ? B : 1) * sizeof(int));
    uint64_t *ids = th__alloc((B ? B : 1) * sizeof(uint64_t));
    double *buf = th_dist_size() > 1 ? th__alloc((S * (n * n + n) + 1) * sizeof(double)) : NULL;
    if (!grad || !batch_images || !batch_classes || !ids || (th_dist_size() > 1 && !buf) ||
        (opts->device && !dev)) {
        rc = grad ? th__fail(TH_ENOMEM, "out of memory for training") : TH_ENOMEM;
        goto done;
    }
    for (size_t u = first_update; u < opts->updates; u++) {
        for (size_t k = 0; k < B; k++) {
            ids[k] = (uint64_t)(u * opts->batch + first + k);
            const size_t image = (size_t)(ids[k] % count);
            memcpy(batch_images + k * nv, images + image * nv, nv * sizeof(float));
            batch_classes[k] = classes ? classes[image] : 0;
        }
        for (size_t k = 0; k < S; k++) {
            memset(grad->seg[k]->J.v, 0, n * n * es);
            memset(grad->seg[k]->b.v, 0, n * es);
        }
        loss[u] = 0;
        /* hardware-aware: the gradient at the device's model, applied to
         * the trained one; every segment on the same device */
        for (size_t k = 0; dev && rc == TH_OK && k < S; k++)
            rc = opts->device(pr->seg[k], u, dev->seg[k], opts->device_ctx);
        if (rc == TH_OK && B)
            rc = th__gen_protocol_path_loss(dev ? dev : pr, p, batch_images,
                                            classes ? batch_classes : NULL, ids, B,
                                            TH_KERNEL_FAST, &loss[u], grad, dev != NULL);
        rc = th_dist_any_error(rc); /* no process waits for one that failed */
        if (rc == TH_OK) rc = sum_over_processes(grad, &loss[u], buf);
        if (rc != TH_OK) goto done;
        loss[u] /= (double)opts->batch;
        int finite = isfinite(loss[u]);
        for (size_t k = 0; finite && k < S; k++)
            finite = descend(pr->seg[k], grad->seg[k], opts->learning_rate / (double)opts->batch,
                             p);
        if (!finite) {
            rc = th__fail(TH_EDIVERGED, "training diverged at update %zu (loss %g): lower the "
                          "learning rate (now %g)", u, loss[u], opts->learning_rate);
            goto done;
        }
        if ((opts->progress && opts->progress(u + 1, opts->updates, opts->progress_ctx)) ||
            (opts->on_update && opts->on_update(u, loss[u], pr->seg[0], opts->ctx)) ||
            (hook && hook(u, loss[u], pr, hook_ctx))) {
            rc = th__fail(TH_ECANCELED, "training stopped after update %zu", u);
            goto done;
        }
    }
done:
    th_gen_protocol_free(grad);
    th_gen_protocol_free(dev);
    th__free(batch_images);
    th__free(batch_classes);
    th__free(ids);
    th__free(buf);
    return rc;
}
