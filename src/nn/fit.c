/* fit.c - the networks thermo trains, from preset to report: the judge and
 * the PNAS teacher as presets, a fresh network shaped for a dataset,
 * training on a whole split, and the test report with its per-class view. */
#include "nn/nn_internal.h"

#include <math.h>
#include <string.h>

th_mlp_preset th_mlp_preset_get(th_mlp_arch arch)
{
    th_mlp_preset a;
    memset(&a, 0, sizeof a);
    a.n_layers = 3;
    a.width[0] = 784;
    a.width[3] = 10;
    if (arch == TH_MLP_TEACHER) {
        a.width[1] = a.width[2] = 32;
        a.act = TH_ACT_TANH;
        a.input = TH_INPUT_PNAS;
        a.epochs = 40;
        a.batch = 64;
        a.learning_rate = 2e-3;
        a.weight_decay = 2e-3;
    } else {
        a.width[1] = 512;
        a.width[2] = 256;
        a.act = TH_ACT_RELU;
        a.input = TH_INPUT_STANDARDISED;
        a.epochs = 12;
        a.batch = 128;
        a.learning_rate = 1e-3;
        a.weight_decay = 0.0;
    }
    return a;
}

int th_mlp_build(const th_mlp_preset *a, const th_dataset *train, uint64_t seed, th_mlp **out)
{
    TH_ASSERT(a != NULL && train != NULL && out != NULL);
    *out = NULL;
    if (train->rows * train->cols != a->width[0])
        return th__fail(TH_EINVAL, "images of %zu x %zu pixels: the network takes %zu inputs",
                        train->rows, train->cols, a->width[0]);
    th_mlp *net = th_mlp_alloc(a->n_layers, a->width, a->act);
    if (!net) return TH_ENOMEM;
    net->input = a->input;
    if (a->input == TH_INPUT_PNAS) net->input_norm = th_mlp_pnas_norm(train);
    th_mlp_init(net, seed);
    *out = net;
    return TH_OK;
}

int th_mlp_fit(th_mlp *net, const th_dataset *train, const th_mlp_train_params *p)
{
    TH_ASSERT(net != NULL && train != NULL && p != NULL);
    if (!train->labels)
        return th__fail(TH_EINVAL, "the training images have no labels: expected a labelled "
                        "split");
    const size_t pix = train->rows * train->cols;
    float *X = malloc((train->count ? train->count : 1) * pix * sizeof *X); /* (count, pix) */
    if (!X) return th__fail(TH_ENOMEM, "out of memory for %zu training images", train->count);
    int rc = th_mlp_prepare(net, train, 0, train->count, X);
    if (rc == TH_OK) rc = th_mlp_train(net, X, train->labels, train->count, p, NULL);
    free(X);
    return rc;
}

int th_mlp_train_meta(const th_mlp_train_params *p, size_t images, th_meta *meta)
{
    TH_ASSERT(p != NULL && meta != NULL);
    int rc = th_meta_setf(meta, "train.images", "%zu", images);
    if (rc == TH_OK) rc = th_meta_setf(meta, "train.epochs", "%zu", p->epochs);
    if (rc == TH_OK) rc = th_meta_setf(meta, "train.batch", "%zu", p->batch);
    if (rc == TH_OK) rc = th_meta_setf(meta, "train.lr", "%.17g", p->learning_rate);
    static const char *const optimizer[2][2] = {
        {"adam", "adam, cosine schedule"},
        {"sgd with momentum", "sgd with momentum, cosine schedule"}};
    if (rc == TH_OK)
        rc = th_meta_set(meta, "train.optimizer",
                         optimizer[p->optimizer == TH_OPT_SGD][p->cosine != 0]);
    if (rc == TH_OK)
        rc = th_meta_setf(meta, "train.seed", "%llu", (unsigned long long)p->seed);
    return rc;
}

void th_mlp_report_free(th_mlp_report *r)
{
    if (!r) return;
    free(r->confusion);
    free(r->class_count);
    free(r->class_accuracy);
    memset(r, 0, sizeof *r);
}

int th__classifier_report(const void *net, th__prepare_fn prepare, th__logits_fn forward,
                          size_t classes, const th_dataset *test, th_mlp_report *r)
{
    memset(r, 0, sizeof *r);
    const size_t C = classes;
    r->count = test->count;
    r->classes = C;
    r->confusion = calloc(C * C, sizeof *r->confusion);
    r->class_count = calloc(C, sizeof *r->class_count);
    r->class_accuracy = calloc(C, sizeof *r->class_accuracy);
    if (!r->confusion || !r->class_count || !r->class_accuracy) {
        th_mlp_report_free(r);
        return th__fail(TH_ENOMEM, "out of memory for a report of %zu classes", C);
    }
    int rc = th__classifier_evaluate(net, prepare, forward, C, test, 0, test->count, &r->accuracy,
                                     &r->top2, r->confusion);
    if (rc != TH_OK) {
        th_mlp_report_free(r);
        return rc;
    }
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < C; j++) r->class_count[c] += r->confusion[c * C + j];
        r->class_accuracy[c] = r->class_count[c]
                                   ? (double)r->confusion[c * C + c] / (double)r->class_count[c]
                                   : (double)NAN;
    }
    return TH_OK;
}
