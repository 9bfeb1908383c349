/* mlp_file.c - a th_mlp as a safetensors file, and back.
 *
 * Tensors W0, b0, W1, b1, ... in float32, shapes (width[l+1], width[l]) and
 * (width[l+1]); the architecture lives in the metadata ("nn.widths",
 * "nn.activation", "nn.input", "nn.input_norm", marked by "nn.kind" = "mlp"),
 * so that a file can be read without knowing what trained it. The file kind
 * every thermo file carries, "thermo.kind" = "mlp", is written too; a file
 * without it (older) loads on "nn.kind" alone, one with another kind is
 * refused before anything else is read from it. The loader
 * trusts nothing: every key and every tensor is checked against the others,
 * and a mismatch is reported with the file, the field and what was expected,
 * because a judge loaded with the wrong input scale would score images
 * silently wrong. */
#include "nn/nn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define KIND "mlp"
#define KEY_KIND "thermo.kind"
#define MAX_WIDTH ((uint64_t)1 << 24)

static const char *act_name(th_activation a) { return a == TH_ACT_RELU ? "relu" : "tanh"; }
static const char *input_name(th_image_input i)
{
    return i == TH_INPUT_PNAS ? "pnas" : "standardised";
}

int th_mlp_save(const char *path, const th_mlp *net) { return th_mlp_save_meta(path, net, NULL); }

int th_mlp_save_meta(const char *path, const th_mlp *net, const th_meta *extra)
{
    TH_ASSERT(net != NULL && path != NULL);
    th_meta meta = {0};
    int rc = TH_OK;
    if (extra)
        for (size_t i = 0; i < extra->count && rc == TH_OK; i++)
            rc = th_meta_set(&meta, extra->keys[i], extra->values[i]);
    char widths[TH_MLP_MAX_LAYERS * 24 + 8];
    size_t used = 0;
    for (int l = 0; l <= net->n_layers; l++)
        used += (size_t)snprintf(widths + used, sizeof widths - used, "%s%zu", l ? "," : "",
                                 net->width[l]);
    if (rc == TH_OK) rc = th_meta_set(&meta, KEY_KIND, KIND);
    if (rc == TH_OK) rc = th_meta_set(&meta, "nn.kind", KIND);
    if (rc == TH_OK) rc = th_meta_set(&meta, "nn.widths", widths);
    if (rc == TH_OK) rc = th_meta_set(&meta, "nn.activation", act_name(net->act));
    if (rc == TH_OK) rc = th_meta_set(&meta, "nn.input", input_name(net->input));
    /* %.17g: the norm must come back bit for bit, or inputs would shift */
    if (rc == TH_OK) rc = th_meta_setf(&meta, "nn.input_norm", "%.17g", net->input_norm);
    if (rc == TH_OK) rc = th_meta_set(&meta, "thermo.version", TH_VERSION_STRING);
    th_tensor t[2 * TH_MLP_MAX_LAYERS];
    memset(t, 0, sizeof t);
    for (int l = 0; l < net->n_layers; l++) {
        th_tensor *w = &t[2 * l], *b = &t[2 * l + 1];
        snprintf(w->name, sizeof w->name, "W%d", l);
        w->dtype = TH_F32;
        w->n_dims = 2;
        w->shape[0] = net->width[l + 1];
        w->shape[1] = net->width[l];
        w->data.f32 = net->W[l];
        snprintf(b->name, sizeof b->name, "b%d", l);
        b->dtype = TH_F32;
        b->n_dims = 1;
        b->shape[0] = net->width[l + 1];
        b->data.f32 = net->b[l];
    }
    if (rc == TH_OK) rc = th_safetensors_write(path, t, 2 * (size_t)net->n_layers, &meta);
    th_meta_clear(&meta);
    return rc;
}

/* "784,32,32,10" into widths; the count of widths, or 0 when malformed. */
static int parse_widths(const char *text, size_t *width)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        if (n > TH_MLP_MAX_LAYERS) return 0;
        if (*p < '0' || *p > '9') return 0;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v == 0 || v > MAX_WIDTH) return 0;
        width[n++] = (size_t)v;
        if (*end == '\0') break;
        if (*end != ',') return 0;
        p = end + 1;
    }
    return n >= 2 ? n : 0;
}

int th__nn_check_tensor(const char *path, const th_tensor_file *f, const char *name,
                        size_t n_dims, size_t d0, size_t d1, const char *source,
                        const th_tensor **out)
{
    const th_tensor *t = th_tensor_file_find(f, name);
    if (!t)
        return th__fail(TH_EFORMAT, "%s: tensor %s is missing (%s asks for it)", path, name,
                        source);
    if (t->dtype != TH_F32)
        return th__fail(TH_EFORMAT, "%s: tensor %s has dtype F64; expected F32", path, name);
    int ok = t->n_dims == n_dims && t->shape[0] == d0 && (n_dims == 1 || t->shape[1] == d1);
    if (!ok) {
        char got[96] = "";
        size_t used = 0;
        for (size_t k = 0; k < t->n_dims && used < sizeof got; k++)
            used += (size_t)snprintf(got + used, sizeof got - used, "%s%zu", k ? ", " : "",
                                     t->shape[k]);
        if (n_dims == 1)
            return th__fail(TH_EFORMAT, "%s: tensor %s has shape [%s]; expected [%zu] from "
                            "%s", path, name, got, d0, source);
        return th__fail(TH_EFORMAT, "%s: tensor %s has shape [%s]; expected [%zu, %zu] from "
                        "%s", path, name, got, d0, d1, source);
    }
    *out = t;
    return TH_OK;
}

int th_mlp_load(const char *path, th_mlp **out) { return th_mlp_load_meta(path, out, NULL); }

int th_mlp_load_meta(const char *path, th_mlp **out, th_meta *extra_out)
{
    TH_ASSERT(path != NULL && out != NULL);
    *out = NULL;
    th_tensor_file *f = NULL;
    int rc = th_safetensors_read(path, &f);
    if (rc != TH_OK) return rc;
    th_mlp *net = NULL;
    const th_meta *m = &f->meta;
    const char *file_kind = th_meta_get(m, KEY_KIND);
    const char *kind = th_meta_get(m, "nn.kind");
    const char *widths = th_meta_get(m, "nn.widths");
    const char *act = th_meta_get(m, "nn.activation");
    const char *input = th_meta_get(m, "nn.input");
    const char *norm_text = th_meta_get(m, "nn.input_norm");
    size_t width[TH_MLP_MAX_LAYERS + 2];
    int n_widths = 0;
    th_activation a = TH_ACT_TANH;
    th_image_input in = TH_INPUT_STANDARDISED;
    double norm = 0;
    if (file_kind && strcmp(file_kind, KIND) != 0) {
        rc = th__fail(TH_EFORMAT, "%s: metadata " KEY_KIND " is \"%.60s\"; expected \"" KIND
                      "\" (a network saved by thermo classifier train)", path, file_kind);
        goto done;
    }
    if (!kind || strcmp(kind, KIND) != 0) {
        rc = th__fail(TH_EFORMAT, "%s: metadata nn.kind is %s%s%s; expected \"" KIND "\" (is "
                      "this a network saved by thermo classifier train?)", path,
                      kind ? "\"" : "missing", kind ? kind : "", kind ? "\"" : "");
        goto done;
    }
    if (!widths || !(n_widths = parse_widths(widths, width))) {
        rc = th__fail(TH_EFORMAT, "%s: metadata nn.widths is %s%s%s; expected 2 to %d comma-"
                      "separated widths from 1 to %llu, such as \"784,32,32,10\"", path,
                      widths ? "\"" : "missing", widths ? widths : "", widths ? "\"" : "",
                      TH_MLP_MAX_LAYERS + 1, (unsigned long long)MAX_WIDTH);
        goto done;
    }
    if (act && strcmp(act, "tanh") == 0) {
        a = TH_ACT_TANH;
    } else if (act && strcmp(act, "relu") == 0) {
        a = TH_ACT_RELU;
    } else {
        rc = th__fail(TH_EFORMAT, "%s: metadata nn.activation is %s%s%s; expected \"tanh\" or "
                      "\"relu\"", path, act ? "\"" : "missing", act ? act : "", act ? "\"" : "");
        goto done;
    }
    if (input && strcmp(input, "standardised") == 0) {
        in = TH_INPUT_STANDARDISED;
    } else if (input && strcmp(input, "pnas") == 0) {
        in = TH_INPUT_PNAS;
    } else {
        rc = th__fail(TH_EFORMAT, "%s: metadata nn.input is %s%s%s; expected \"standardised\" "
                      "or \"pnas\"", path, input ? "\"" : "missing", input ? input : "",
                      input ? "\"" : "");
        goto done;
    }
    char *end = NULL;
    if (norm_text) {
        errno = 0;
        norm = strtod(norm_text, &end);
    }
    if (!norm_text || end == norm_text || *end != '\0' || errno || !isfinite(norm) || norm < 0 ||
        (in == TH_INPUT_PNAS && !(norm > 0))) {
        rc = th__fail(TH_EFORMAT, "%s: metadata nn.input_norm is %s%s%s; expected a finite "
                      "number >= 0 (> 0 for nn.input \"pnas\")", path,
                      norm_text ? "\"" : "missing", norm_text ? norm_text : "",
                      norm_text ? "\"" : "");
        goto done;
    }
    const int L = n_widths - 1;
    if (f->count != 2 * (size_t)L) {
        /* name a tensor that has no place among W0..W{L-1}, b0..b{L-1} */
        for (size_t i = 0; i < f->count; i++) {
            const char *name = f->tensors[i].name;
            int layer = -1;
            char tail = 0;
            if ((name[0] == 'W' || name[0] == 'b') && sscanf(name + 1, "%d%c", &layer, &tail) == 1
                && layer >= 0 && layer < L)
                continue;
            rc = th__fail(TH_EFORMAT, "%s: tensor %s is not one of W0..W%d, b0..b%d of the %d "
                          "layers in nn.widths \"%s\"", path, name, L - 1, L - 1, L, widths);
            goto done;
        }
    }
    net = th_mlp_alloc(L, width, a);
    if (!net) {
        rc = TH_ENOMEM;
        goto done;
    }
    net->input = in;
    net->input_norm = norm;
    for (int l = 0; l < L && rc == TH_OK; l++) {
        char wn[16], bn[16];
        snprintf(wn, sizeof wn, "W%d", l);
        snprintf(bn, sizeof bn, "b%d", l);
        const th_tensor *tw = NULL, *tb = NULL;
        rc = th__nn_check_tensor(path, f, wn, 2, width[l + 1], width[l], "nn.widths", &tw);
        if (rc == TH_OK)
            rc = th__nn_check_tensor(path, f, bn, 1, width[l + 1], 0, "nn.widths", &tb);
        if (rc == TH_OK) {
            memcpy(net->W[l], tw->data.f32, th__mlp_layer_weights(net, l) * sizeof(float));
            memcpy(net->b[l], tb->data.f32, width[l + 1] * sizeof(float));
        }
    }
    if (rc == TH_OK) rc = th_meta_merge(extra_out, m);
done:
    th_tensor_file_free(f);
    if (rc != TH_OK) {
        th_mlp_free(net);
        return rc;
    }
    *out = net;
    return TH_OK;
}
