/* judge_net.c - th_judge: either network that can judge generated images,
 * the convolutional judge (cnn.c) or the earlier MLP judge (mlp.c), behind
 * one set of calls, so that thermo eval can run both on the same samples
 * and report where they disagree. Both take images standardised per image
 * and give logits and the features of their penultimate layer. */
#include "nn/nn_internal.h"

#include <string.h>

int th_judge_load(const char *path, th_judge *out, th_meta *meta_out)
{
    TH_ASSERT(path != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    th_tensor_file *f = NULL;
    int rc = th_safetensors_read(path, &f);
    if (rc != TH_OK) return rc;
    const char *kind = th_meta_get(&f->meta, "thermo.kind");
    const char *nn_kind = th_meta_get(&f->meta, "nn.kind");
    const int is_cnn = kind && strcmp(kind, "cnn") == 0;
    const int is_mlp = kind ? strcmp(kind, "mlp") == 0 : nn_kind && strcmp(nn_kind, "mlp") == 0;
    if (!is_cnn && !is_mlp)
        rc = th__fail(TH_EFORMAT, "%s: metadata thermo.kind is %s%.60s%s; expected \"cnn\" (thermo "
                      "classifier train --arch judge) or \"mlp\" (--arch judge-mlp)", path,
                      kind ? "\"" : "missing", kind ? kind : "", kind ? "\"" : "");
    th_tensor_file_free(f);
    if (rc != TH_OK) return rc;
    if (is_cnn) return th_cnn_load_meta(path, &out->cnn, meta_out);
    rc = th_mlp_load_meta(path, &out->mlp, meta_out);
    if (rc != TH_OK) return rc;
    const int pnas = out->mlp->input != TH_INPUT_STANDARDISED, layers = out->mlp->n_layers;
    if (!pnas && layers >= 2) return TH_OK;
    th_judge_free(out);
    return th__fail(TH_EFORMAT, "%s: an MLP on %s inputs with %d layer%s: a judge takes "
                    "standardised images and needs a hidden layer (thermo classifier train "
                    "--arch judge-mlp)", path, pnas ? "PNAS" : "standardised", layers,
                    layers == 1 ? "" : "s");
}

void th_judge_free(th_judge *judge)
{
    if (!judge) return;
    th_cnn_free(judge->cnn);
    th_mlp_free(judge->mlp);
    memset(judge, 0, sizeof *judge);
}

const char *th_judge_kind(const th_judge *judge)
{
    TH_ASSERT(judge != NULL);
    return judge->cnn ? "cnn" : "mlp";
}

size_t th_judge_inputs(const th_judge *judge)
{
    TH_ASSERT(judge != NULL && (judge->cnn || judge->mlp));
    return judge->cnn ? judge->cnn->shape.rows * judge->cnn->shape.cols : judge->mlp->width[0];
}

size_t th_judge_classes(const th_judge *judge)
{
    TH_ASSERT(judge != NULL && (judge->cnn || judge->mlp));
    return judge->cnn ? judge->cnn->shape.classes : judge->mlp->width[judge->mlp->n_layers];
}

size_t th_judge_features(const th_judge *judge)
{
    TH_ASSERT(judge != NULL && (judge->cnn || judge->mlp));
    return judge->cnn ? judge->cnn->shape.hidden : judge->mlp->width[judge->mlp->n_layers - 1];
}

int th_judge_forward(const th_judge *judge, const float *X, size_t n, float *logits,
                     float *features)
{
    TH_ASSERT(judge != NULL && (judge->cnn || judge->mlp));
    if (judge->cnn) return th_cnn_forward(judge->cnn, X, n, logits, features);
    const th_mlp *m = judge->mlp;
    float *hidden[TH_MLP_MAX_LAYERS] = {NULL};
    if (m->n_layers >= 2) hidden[m->n_layers - 2] = features;
    return th_mlp_forward(m, X, n, logits, hidden);
}

int th_judge_report_compute(const th_judge *judge, const th_dataset *test, th_mlp_report *r)
{
    TH_ASSERT(judge != NULL && (judge->cnn || judge->mlp) && test != NULL && r != NULL);
    if (judge->cnn) return th__cnn_report(judge->cnn, test, r);
    return th_mlp_report_compute(judge->mlp, test, r);
}
