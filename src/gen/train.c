/* train.c - gradient descent on the reverse-path objective, the published
 * recipe of the PRL paper: one noising path per update, the gradient summed
 * over its steps, learning rate 4e-4, 100 updates (science.md section 2). */
#include "gen_internal.h"

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
static int descend(th_model *m, const th_model *grad, double lr, size_t n_visible)
{
    const size_t n = m->n;
    for (size_t i = 0; i < n * n; i++) {
        double v = th_get(m->J, m->dtype, i) - lr * th_get(grad->J, m->dtype, i);
        if (!isfinite(v)) return 0;
        th_set(m->J, m->dtype, i, v);
    }
    for (size_t i = n_visible; i < n; i++) {
        double v = th_get(m->b, m->dtype, i) - lr * th_get(grad->b, m->dtype, i);
        if (!isfinite(v)) return 0;
        th_set(m->b, m->dtype, i, v);
    }
    return 1;
}

int th_gen_train(th_model *m, const th_gen_params *p, const float *images, size_t count,
                 const th_gen_train_opts *opts, size_t first_update, double *loss)
{
    TH_ASSERT(m != NULL && p != NULL && images != NULL && opts != NULL && loss != NULL);
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    if (count == 0) return th__fail(TH_EINVAL, "no training images");
    if (opts->batch == 0) return th__fail(TH_EINVAL, "batch = 0: expected at least 1 path");
    if (!(opts->learning_rate > 0) || !isfinite(opts->learning_rate))
        return th__fail(TH_EINVAL, "learning rate %g: expected a finite value > 0",
                        opts->learning_rate);
    if (first_update > opts->updates)
        return th__fail(TH_EINVAL, "first update %zu is beyond the %zu updates", first_update,
                        opts->updates);

    const size_t B = opts->batch, nv = p->n_visible;
    th_model *grad = th_gen_model_alloc(p, m->dtype);
    float *batch_images = th__alloc(B * nv * sizeof(float));
    uint64_t *ids = th__alloc(B * sizeof(uint64_t));
    if (!grad || !batch_images || !ids) {
        rc = grad ? th__fail(TH_ENOMEM, "out of memory for training") : TH_ENOMEM;
        goto done;
    }
    for (size_t u = first_update; u < opts->updates; u++) {
        for (size_t k = 0; k < B; k++) {
            ids[k] = (uint64_t)(u * B + k);
            memcpy(batch_images + k * nv, images + (ids[k] % count) * nv, nv * sizeof(float));
        }
        memset(grad->J.v, 0, m->n * m->n * th_dtype_size(m->dtype));
        memset(grad->b.v, 0, m->n * th_dtype_size(m->dtype));
        rc = th_gen_path_loss(m, p, batch_images, ids, B, TH_KERNEL_FAST, &loss[u], grad);
        if (rc != TH_OK) goto done;
        if (!isfinite(loss[u]) || !descend(m, grad, opts->learning_rate, nv)) {
            rc = th__fail(TH_EDIVERGED, "training diverged at update %zu (loss %g): lower the "
                          "learning rate (now %g)", u, loss[u], opts->learning_rate);
            goto done;
        }
        if (opts->on_update && opts->on_update(u, loss[u], m, opts->ctx)) {
            rc = th__fail(TH_ECANCELED, "training stopped after update %zu", u);
            goto done;
        }
    }
done:
    th_model_free(grad);
    th__free(batch_images);
    th__free(ids);
    return rc;
}
