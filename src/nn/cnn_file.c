/* cnn_file.c - a th_cnn as a safetensors file, and back.
 *
 * Tensors conv_W0, conv_b0, ..., fc_W0, fc_b0, fc_W1, fc_b1 in float32, the
 * convolution kernels as (channels, kernel * kernel * in channels); the
 * shape lives in the metadata ("cnn.input", "cnn.kernel", "cnn.channels",
 * "cnn.pool", "cnn.hidden", "cnn.classes") and the file kind in
 * "thermo.kind" = "cnn". As for the MLP (mlp_file.c), the loader checks
 * every field against the others and names the file and the field: a judge
 * read with the wrong shape would score images silently wrong. */
#include "nn/nn_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define KIND "cnn"
#define KEY_KIND "thermo.kind"

/* Comma-separated whole numbers from lo to hi into v (at most max of them);
 * the count, or 0 when malformed. */
static int parse_list(const char *text, size_t *v, int max, size_t lo, size_t hi)
{
    if (!text) return 0;
    int n = 0;
    const char *p = text;
    for (;;) {
        if (n >= max || *p < '0' || *p > '9') return 0;
        errno = 0;
        char *end;
        unsigned long long x = strtoull(p, &end, 10);
        if (errno || x < lo || x > hi) return 0;
        v[n++] = (size_t)x;
        if (*end == '\0') return n;
        if (*end != ',') return 0;
        p = end + 1;
    }
}

static void format_list(char *buf, size_t size, const size_t *v, int n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? "," : "", v[i]);
}

static void tensor_name(char *buf, size_t size, size_t i, int n_conv)
{
    const int conv = (int)i < 2 * n_conv;
    const size_t layer = conv ? i / 2 : (i - 2 * (size_t)n_conv) / 2;
    snprintf(buf, size, "%s_%s%zu", conv ? "conv" : "fc", i % 2 ? "b" : "W", layer);
}

int th_cnn_save_meta(const char *path, const th_cnn *net, const th_meta *extra)
{
    TH_ASSERT(path != NULL && net != NULL);
    const th_cnn_shape *s = &net->shape;
    th_meta meta = {0};
    int rc = TH_OK;
    if (extra)
        for (size_t i = 0; i < extra->count && rc == TH_OK; i++)
            rc = th_meta_set(&meta, extra->keys[i], extra->values[i]);
    size_t pool[TH_CNN_MAX_CONV];
    for (int l = 0; l < s->n_conv; l++) pool[l] = (size_t)s->pool[l];
    char channels[TH_CNN_MAX_CONV * 24], pools[TH_CNN_MAX_CONV * 4];
    format_list(channels, sizeof channels, s->channels, s->n_conv);
    format_list(pools, sizeof pools, pool, s->n_conv);
    if (rc == TH_OK) rc = th_meta_set(&meta, KEY_KIND, KIND);
    if (rc == TH_OK) rc = th_meta_setf(&meta, "cnn.input", "%zu,%zu", s->rows, s->cols);
    if (rc == TH_OK) rc = th_meta_setf(&meta, "cnn.kernel", "%zu", s->kernel);
    if (rc == TH_OK) rc = th_meta_set(&meta, "cnn.channels", channels);
    if (rc == TH_OK) rc = th_meta_set(&meta, "cnn.pool", pools);
    if (rc == TH_OK) rc = th_meta_setf(&meta, "cnn.hidden", "%zu", s->hidden);
    if (rc == TH_OK) rc = th_meta_setf(&meta, "cnn.classes", "%zu", s->classes);
    if (rc == TH_OK) rc = th_meta_set(&meta, "thermo.version", TH_VERSION_STRING);
    th__cnn_tensor t[TH__CNN_MAX_TENSORS];
    th_tensor out[TH__CNN_MAX_TENSORS];
    memset(out, 0, sizeof out);
    const size_t n = th__cnn_tensors(net, t);
    for (size_t i = 0; i < n; i++) {
        tensor_name(out[i].name, sizeof out[i].name, i, s->n_conv);
        out[i].dtype = TH_F32;
        out[i].n_dims = t[i].is_weight ? 2 : 1;
        out[i].shape[0] = t[i].rows;
        out[i].shape[1] = t[i].is_weight ? t[i].cols : 0;
        out[i].data.f32 = t[i].data;
    }
    if (rc == TH_OK) rc = th_safetensors_write(path, out, n, &meta);
    th_meta_clear(&meta);
    return rc;
}

/* The shape from the metadata m of path, or TH_EFORMAT naming the key. */
static int read_shape(const char *path, const th_meta *m, th_cnn_shape *s)
{
    memset(s, 0, sizeof *s);
    static const char *const keys[] = {"cnn.input", "cnn.kernel", "cnn.channels", "cnn.pool",
                                       "cnn.hidden", "cnn.classes"};
    static const char *const expect[] = {
        "two sides such as \"28,28\"", "an odd kernel side from 1 to 15",
        "1 to 4 channel counts such as \"32,64\"", "a 0 or 1 per block such as \"1,1\"",
        "a unit count from 1", "a class count from 2 to 256"};
    size_t input[2] = {0, 0}, kernel = 0, pool[TH_CNN_MAX_CONV] = {0}, hidden = 0, classes = 0;
    const int counts[6] = {
        parse_list(th_meta_get(m, keys[0]), input, 2, 1, 4096),
        parse_list(th_meta_get(m, keys[1]), &kernel, 1, 1, 15),
        parse_list(th_meta_get(m, keys[2]), s->channels, TH_CNN_MAX_CONV, 1, 4096),
        parse_list(th_meta_get(m, keys[3]), pool, TH_CNN_MAX_CONV, 0, 1),
        parse_list(th_meta_get(m, keys[4]), &hidden, 1, 1, (size_t)1 << 20),
        parse_list(th_meta_get(m, keys[5]), &classes, 1, 2, 256)};
    const int wanted[6] = {2, 1, counts[2], counts[2], 1, 1};
    for (int k = 0; k < 6; k++) {
        if (counts[k] > 0 && counts[k] == wanted[k] && (k != 1 || kernel % 2 == 1)) continue;
        const char *v = th_meta_get(m, keys[k]);
        return th__fail(TH_EFORMAT, "%s: metadata %s is %s%s%s; expected %s%s", path, keys[k],
                        v ? "\"" : "missing", v ? v : "", v ? "\"" : "", expect[k],
                        k == 3 ? ", as many as cnn.channels" : "");
    }
    s->rows = input[0];
    s->cols = input[1];
    s->kernel = kernel;
    s->n_conv = counts[2];
    for (int l = 0; l < s->n_conv; l++) s->pool[l] = (int)pool[l];
    s->hidden = hidden;
    s->classes = classes;
    return TH_OK;
}

int th_cnn_load_meta(const char *path, th_cnn **out, th_meta *extra_out)
{
    TH_ASSERT(path != NULL && out != NULL);
    *out = NULL;
    th_tensor_file *f = NULL;
    int rc = th_safetensors_read(path, &f);
    if (rc != TH_OK) return rc;
    th_cnn *net = NULL;
    const th_meta *m = &f->meta;
    const char *kind = th_meta_get(m, KEY_KIND);
    th_cnn_shape shape;
    if (!kind || strcmp(kind, KIND) != 0) {
        rc = th__fail(TH_EFORMAT, "%s: metadata " KEY_KIND " is %s%.60s%s; expected \"" KIND "\" "
                      "(a judge saved by thermo classifier train --arch judge)", path,
                      kind ? "\"" : "missing", kind ? kind : "", kind ? "\"" : "");
        goto done;
    }
    if ((rc = read_shape(path, m, &shape)) != TH_OK) goto done;
    if (th__cnn_check_shape(&shape) != TH_OK) {
        rc = th__fail(TH_EFORMAT, "%s: the shape in its cnn.* metadata: %s", path,
                      th_last_error());
        goto done;
    }
    /* every tensor checked against the shape before anything is allocated:
     * the file, not its metadata, justifies the memory */
    th__cnn_tensor t[TH__CNN_MAX_TENSORS];
    const size_t n = th__cnn_tensor_shapes(&shape, t);
    if (f->count != n) {
        rc = th__fail(TH_EFORMAT, "%s: %zu tensors; the shape in cnn.* has %zu (conv_W0 .. "
                      "fc_b1)", path, f->count, n);
        goto done;
    }
    const th_tensor *found[TH__CNN_MAX_TENSORS];
    for (size_t i = 0; i < n && rc == TH_OK; i++) {
        char name[32];
        tensor_name(name, sizeof name, i, shape.n_conv);
        rc = th__nn_check_tensor(path, f, name, t[i].is_weight ? 2 : 1, t[i].rows, t[i].cols,
                                 "the cnn.* shape", &found[i]);
    }
    if (rc != TH_OK) goto done;
    if (!(net = th_cnn_alloc(&shape))) {
        rc = TH_ENOMEM;
        goto done;
    }
    th__cnn_tensors(net, t);
    for (size_t i = 0; i < n; i++)
        memcpy(t[i].data, found[i]->data.f32, t[i].rows * t[i].cols * sizeof(float));
    if (rc == TH_OK) rc = th_meta_merge(extra_out, m);
done:
    th_tensor_file_free(f);
    if (rc != TH_OK) {
        th_cnn_free(net);
        return rc;
    }
    *out = net;
    return TH_OK;
}
