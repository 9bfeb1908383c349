/* neuron_io.c - a trained network of thermodynamic neurons as a safetensors
 * file: tensors W (width), b (n_layers, width), w (n_layers - 1, width,
 * width), f (width) in float64, and every setting of th_neuron_params as
 * metadata "neuron.<field>" (doubles with %.17g, which round-trips every
 * double exactly, so a reloaded network runs with bit-identical settings).
 * A one-layer network has no couplings and no tensor w. The file is marked
 * "thermo.kind" = "neuron"; older files marked "neuron-network" still load.
 * Loading trusts nothing: each key parsed strictly, each shape checked
 * against the settings, the settings validated. */
#include "classify/neuron_internal.h"
#include "io/io_internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define FIELD(name, kind) {"neuron." #name, kind, offsetof(th_neuron_params, name), 0, NULL, 0}

/* One table for writing and reading (io/meta_fields.c). */
static const th__field fields[] = {
    FIELD(n_layers, TH__FIELD_SIZE), FIELD(width, TH__FIELD_SIZE),
    FIELD(kT, TH__FIELD_DOUBLE),     FIELD(mu, TH__FIELD_DOUBLE),
    FIELD(J2, TH__FIELD_DOUBLE),     FIELD(J3, TH__FIELD_DOUBLE),
    FIELD(J4, TH__FIELD_DOUBLE),     FIELD(dt, TH__FIELD_DOUBLE),
    FIELD(t_f, TH__FIELD_DOUBLE),    FIELD(n_z, TH__FIELD_SIZE),
    FIELD(replicas, TH__FIELD_SIZE), FIELD(blowup, TH__FIELD_DOUBLE),
};
#define N_FIELDS (sizeof fields / sizeof fields[0])
#define KEY_KIND "thermo.kind"
#define KIND "neuron"
/* The marker files carried before every kind of file had one. */
#define OLD_KIND "neuron-network"

int th_neuron_save(const char *path, const th_neuron_net *net, const th_neuron_params *p,
                   const th_meta *extra)
{
    TH_ASSERT(path != NULL && net != NULL && p != NULL);
    int rc = th_neuron_params_validate(p);
    if (rc != TH_OK) return rc;
    if (net->n_layers != p->n_layers || net->width != p->width)
        return th__fail(TH_EINVAL, "%s: network of %zu layers of %zu does not match the "
                        "settings (%zu of %zu)", path, net->n_layers, net->width, p->n_layers,
                        p->width);
    const size_t L = net->n_layers, w = net->width;
    th_tensor t[4];
    memset(t, 0, sizeof t);
    size_t count = 0;
    t[count] = (th_tensor){.name = "W", .dtype = TH_F64, .n_dims = 1, .shape = {w},
                           .data.f64 = net->W};
    count++;
    t[count] = (th_tensor){.name = "b", .dtype = TH_F64, .n_dims = 2, .shape = {L, w},
                           .data.f64 = net->b};
    count++;
    if (L > 1) {
        t[count] = (th_tensor){.name = "w", .dtype = TH_F64, .n_dims = 3,
                               .shape = {L - 1, w, w}, .data.f64 = net->w};
        count++;
    }
    t[count] = (th_tensor){.name = "f", .dtype = TH_F64, .n_dims = 1, .shape = {w},
                           .data.f64 = net->f};
    count++;

    th_meta meta = {0};
    if (extra)
        for (size_t i = 0; i < extra->count && rc == TH_OK; i++)
            rc = th_meta_set(&meta, extra->keys[i], extra->values[i]);
    /* The network's own keys last, so that they win over a caller's. */
    if (rc == TH_OK) rc = th_meta_set(&meta, "thermo.version", TH_VERSION_STRING);
    if (rc == TH_OK) rc = th_meta_set(&meta, KEY_KIND, KIND);
    if (rc == TH_OK) rc = th__fields_to_meta(fields, N_FIELDS, p, &meta);
    if (rc == TH_OK) rc = th_safetensors_write(path, t, count, &meta);
    th_meta_clear(&meta);
    return rc;
}

/* Copies tensor name of the given shape into dst. */
static int take_tensor(const char *path, const th_tensor_file *tf, const char *name,
                       size_t n_dims, const size_t *shape, double *dst)
{
    const th_tensor *t = th_tensor_file_find(tf, name);
    if (!t) return th__fail(TH_EFORMAT, "%s: no tensor '%s'", path, name);
    int same = t->n_dims == n_dims;
    size_t count = 1;
    for (size_t d = 0; d < n_dims && same; d++) {
        same = t->shape[d] == shape[d];
        count *= shape[d];
    }
    if (!same) {
        char want[96];
        size_t used = 0;
        for (size_t d = 0; d < n_dims; d++)
            used += (size_t)snprintf(want + used, sizeof want - used, "%s%zu", d ? ", " : "",
                                     shape[d]);
        return th__fail(TH_EFORMAT, "%s: tensor '%s' has %zu dimensions or a shape other than "
                        "the settings' (%s)", path, name, t->n_dims, want);
    }
    for (size_t k = 0; k < count; k++) dst[k] = th_ptr_get(t->data, t->dtype, k);
    return TH_OK;
}

int th_neuron_load(const char *path, th_neuron_net **net_out, th_neuron_params *p,
                   th_meta *extra_out)
{
    TH_ASSERT(path != NULL && net_out != NULL && p != NULL);
    *net_out = NULL;
    th_tensor_file *tf = NULL;
    int rc = th_safetensors_read(path, &tf);
    if (rc != TH_OK) return rc;
    th_neuron_params q = th_neuron_params_default();
    const char *kind = th_meta_get(&tf->meta, KEY_KIND);
    if (!kind || (strcmp(kind, KIND) != 0 && strcmp(kind, OLD_KIND) != 0))
        rc = th__fail(TH_EFORMAT, "%s: metadata %s = '%.60s': expected '%s' (not a network of "
                      "thermodynamic neurons)", path, KEY_KIND, kind ? kind : "(absent)", KIND);
    if (rc == TH_OK && th__fields_from_meta(fields, N_FIELDS, &tf->meta, &q) != TH_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", th_last_error());
        rc = th__fail(TH_EFORMAT, "%s: metadata %s", path, why);
    }
    if (rc == TH_OK && th_neuron_params_validate(&q) != TH_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        rc = th__fail(TH_EFORMAT, "%s: settings: %s", path, why);
    }
    th_neuron_net *net = NULL;
    if (rc == TH_OK) {
        net = th_neuron_net_alloc(q.n_layers, q.width);
        if (!net) rc = TH_ENOMEM;
    }
    if (rc == TH_OK) {
        const size_t L = q.n_layers, w = q.width;
        const size_t s_W[1] = {w}, s_b[2] = {L, w}, s_w[3] = {L - 1, w, w};
        rc = take_tensor(path, tf, "W", 1, s_W, net->W);
        if (rc == TH_OK) rc = take_tensor(path, tf, "b", 2, s_b, net->b);
        if (rc == TH_OK && L > 1) rc = take_tensor(path, tf, "w", 3, s_w, net->w);
        if (rc == TH_OK) rc = take_tensor(path, tf, "f", 1, s_W, net->f);
    }
    if (rc == TH_OK) rc = th_meta_merge(extra_out, &tf->meta);
    th_tensor_file_free(tf);
    if (rc != TH_OK) {
        th_neuron_net_free(net);
        return rc;
    }
    *p = q;
    *net_out = net;
    return TH_OK;
}
