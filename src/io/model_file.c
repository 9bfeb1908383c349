/* model_file.c - a model as a safetensors file.
 *
 * Tensors J2, J4, b of shape (n) and J of shape (n, n), all in the model's
 * dtype, and J3 (n) only when some J3_i != 0: a model without a cubic term
 * writes the same bytes as before the term existed, and a file without J3
 * loads with J3 = 0; metadata "thermo.version", "model.groups" ("784,512"),
 * "model.couples" ("0-1,1-1", each unordered pair of coupled groups once,
 * g <= h; "" when nothing couples), "model.kT" and "model.mu" (printed with
 * %.17g, which round-trips every double exactly), plus the caller's entries.
 * The model's own keys always describe the model being saved: a caller's
 * entry with one of those keys (say, metadata loaded from an earlier file) is
 * replaced, not an error. Loading trusts nothing: every key is parsed
 * strictly, every shape checked against the group sizes, and the result
 * validated as a model; tensors other than these five are ignored. */
#include "io/io_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#define KEY_VERSION "thermo.version"
#define KEY_GROUPS "model.groups"
#define KEY_COUPLES "model.couples"
#define KEY_KT "model.kT"
#define KEY_MU "model.mu"

static int is_model_key(const char *key)
{
    return strcmp(key, KEY_VERSION) == 0 || strcmp(key, KEY_GROUPS) == 0 ||
           strcmp(key, KEY_COUPLES) == 0 || strcmp(key, KEY_KT) == 0 ||
           strcmp(key, KEY_MU) == 0;
}

/* ------------------------------------------------------------------ save */

/* The model's own metadata, then the caller's other entries. */
static int build_meta(const th_model *m, const th_meta *extra, th_meta *meta)
{
    /* Eight groups of at most 20 digits, and 36 pairs "g-h,": both fit. */
    char groups[TH_MAX_GROUPS * 22], couples[TH_MAX_GROUPS * TH_MAX_GROUPS * 8];
    size_t used = 0;
    groups[0] = couples[0] = '\0';
    for (size_t g = 0; g < m->n_groups; g++)
        used += (size_t)snprintf(groups + used, sizeof groups - used, "%s%zu", g ? "," : "",
                                 m->group_start[g + 1] - m->group_start[g]);
    used = 0;
    for (size_t g = 0; g < m->n_groups; g++)
        for (size_t h = g; h < m->n_groups; h++)
            if (m->couples[g][h])
                used += (size_t)snprintf(couples + used, sizeof couples - used, "%s%zu-%zu",
                                         used ? "," : "", g, h);
    int rc;
    if ((rc = th_meta_set(meta, KEY_VERSION, TH_VERSION_STRING)) ||
        (rc = th_meta_set(meta, KEY_GROUPS, groups)) ||
        (rc = th_meta_set(meta, KEY_COUPLES, couples)) ||
        (rc = th_meta_setf(meta, KEY_KT, "%.17g", m->kT)) ||
        (rc = th_meta_setf(meta, KEY_MU, "%.17g", m->mu)))
        return rc;
    if (extra)
        for (size_t i = 0; i < extra->count; i++) {
            TH_ASSERT(extra->keys[i] != NULL && extra->values[i] != NULL);
            if (is_model_key(extra->keys[i])) continue;
            if ((rc = th_meta_set(meta, extra->keys[i], extra->values[i]))) return rc;
        }
    return TH_OK;
}

int th_model_save(const char *path, const th_model *m, const th_meta *extra)
{
    return th__model_save_more(path, m, extra, NULL, 0);
}

int th__model_save_more(const char *path, const th_model *m, const th_meta *extra,
                        const th_tensor *more, size_t n_more)
{
    TH_ASSERT(path != NULL && m != NULL);
    int rc = th_model_validate(m);
    if (rc) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        return th__fail(rc, "%s: not saving an invalid model: %s", path, why);
    }
    th_meta meta = {0};
    if ((rc = build_meta(m, extra, &meta))) {
        th_meta_clear(&meta);
        return rc;
    }
    const int count = th_model_has_cubic(m) ? 5 : 4;
    th_tensor *t = calloc((size_t)count + n_more, sizeof *t);
    if (!t) {
        th_meta_clear(&meta);
        return th__fail(TH_ENOMEM, "%s: out of memory", path);
    }
    const char *names[5] = {"J2", "J4", "b", "J", "J3"};
    th_ptr data[5] = {m->J2, m->J4, m->b, m->J, m->J3};
    for (int k = 0; k < count; k++) {
        snprintf(t[k].name, sizeof t[k].name, "%s", names[k]);
        t[k].dtype = m->dtype;
        t[k].n_dims = k == 3 ? 2 : 1;
        t[k].shape[0] = t[k].shape[1] = m->n;
        t[k].data = data[k];
    }
    for (size_t k = 0; k < n_more; k++) t[(size_t)count + k] = more[k];
    rc = th_safetensors_write(path, t, (size_t)count + n_more, &meta);
    free(t);
    th_meta_clear(&meta);
    return rc;
}

/* ------------------------------------------------------------------ load */

/* Reads decimal digits at *p (at least one, no sign, no spaces) into *value;
 * values beyond limit fail. Advances *p. */
static int scan_size(const char **p, size_t limit, size_t *value)
{
    const char *s = *p;
    size_t v = 0;
    if (!isdigit((unsigned char)*s)) return 0;
    for (; isdigit((unsigned char)*s); s++) {
        v = v * 10 + (size_t)(*s - '0');
        if (v > limit) return 0;
    }
    *p = s;
    *value = v;
    return 1;
}

/* A metadata value that must be present. */
static int require(const char *path, const th_meta *meta, const char *key, const char **value)
{
    *value = th_meta_get(meta, key);
    if (!*value)
        return th__fail(TH_EFORMAT, "%s: no metadata \"%s\": not a thermo model file", path,
                        key);
    return TH_OK;
}

/* "784,512": 1 to TH_MAX_GROUPS positive sizes. */
static int parse_groups(const char *path, const char *text, size_t *sizes, size_t *n_groups,
                        size_t *n)
{
    const char *p = text;
    *n_groups = 0;
    *n = 0;
    for (;;) {
        size_t v;
        if (*n_groups == TH_MAX_GROUPS || !scan_size(&p, (size_t)1 << 40, &v) || v == 0)
            return th__fail(TH_EFORMAT, "%s: metadata %s = \"%.60s\": expected 1 to %d "
                            "positive group sizes separated by commas", path, KEY_GROUPS,
                            text, TH_MAX_GROUPS);
        sizes[(*n_groups)++] = v;
        *n += v; /* at most 8 * 2^40: no overflow */
        if (*p == '\0') return TH_OK;
        if (*p++ != ',')
            return th__fail(TH_EFORMAT, "%s: metadata %s = \"%.60s\": expected 1 to %d "
                            "positive group sizes separated by commas", path, KEY_GROUPS,
                            text, TH_MAX_GROUPS);
    }
}

/* "0-1,1-1" (or "") into the coupling pattern of m. */
static int parse_couples(const char *path, const char *text, th_model *m)
{
    const char *p = text;
    if (*p == '\0') return TH_OK;
    for (;;) {
        size_t g, h;
        if (!scan_size(&p, 1000, &g) || *p++ != '-' || !scan_size(&p, 1000, &h) ||
            (*p != '\0' && *p != ','))
            return th__fail(TH_EFORMAT, "%s: metadata %s = \"%.60s\": expected pairs \"g-h\" "
                            "of group indices separated by commas", path, KEY_COUPLES, text);
        if (g >= m->n_groups || h >= m->n_groups)
            return th__fail(TH_EFORMAT, "%s: metadata %s = \"%.60s\": pair %zu-%zu names a "
                            "group beyond the %zu of %s", path, KEY_COUPLES, text, g, h,
                            m->n_groups, KEY_GROUPS);
        m->couples[g][h] = m->couples[h][g] = 1;
        if (*p == '\0') return TH_OK;
        p++;
    }
}

/* A finite number written whole (no leading space, nothing after it). */
static int parse_number(const char *path, const th_meta *meta, const char *key, double *value)
{
    const char *text;
    int rc = require(path, meta, key, &text);
    if (rc) return rc;
    char *end = NULL;
    double v = 0;
    errno = 0;
    if (text[0] && !isspace((unsigned char)text[0])) v = strtod(text, &end);
    if (!end || *end != '\0' || !isfinite(v) || errno == ERANGE)
        return th__fail(TH_EFORMAT, "%s: metadata %s = \"%.60s\": expected a finite number",
                        path, key, text);
    *value = v;
    return TH_OK;
}

/* Tensor name with the given dtype and shape (1 or 2 dimensions of n). */
int th__model_find_tensor(const char *path, const th_tensor_file *f, const char *name,
                       size_t n_dims, size_t n, const char *groups, const th_tensor **out)
{
    const th_tensor *t = th_tensor_file_find(f, name);
    if (!t) return th__fail(TH_EFORMAT, "%s: no tensor \"%s\"", path, name);
    int ok = t->n_dims == n_dims;
    for (size_t k = 0; ok && k < n_dims; k++) ok = t->shape[k] == n;
    if (!ok) {
        char got[128];
        size_t used = (size_t)snprintf(got, sizeof got, "(");
        for (size_t k = 0; k < t->n_dims && used < sizeof got; k++)
            used += (size_t)snprintf(got + used, sizeof got - used, "%s%zu", k ? ", " : "",
                                     t->shape[k]);
        if (used < sizeof got) snprintf(got + used, sizeof got - used, ")");
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\" has shape %s, expected %s with n = %zu "
                        "units (%s = \"%.60s\")", path, name, got,
                        n_dims == 1 ? "(n)" : "(n, n)", n, KEY_GROUPS, groups);
    }
    *out = t;
    return TH_OK;
}

int th_model_load(const char *path, th_model **out, th_meta *extra_out)
{
    TH_ASSERT(path != NULL && out != NULL);
    *out = NULL;
    th_tensor_file *f = NULL;
    int rc = th_safetensors_read(path, &f);
    if (rc) return rc;
    rc = th__model_from_file(path, f, out, extra_out);
    th_tensor_file_free(f);
    return rc;
}

int th__model_from_file(const char *path, th_tensor_file *f, th_model **out,
                        th_meta *extra_out)
{
    TH_ASSERT(path != NULL && f != NULL && out != NULL);
    *out = NULL;
    int rc = TH_OK;
    th_model *m = NULL;
    const char *version, *groups, *couples;
    size_t sizes[TH_MAX_GROUPS], n_groups, n;
    double kT, mu;
    const th_tensor *t[5];
    const char *names[5] = {"J2", "J4", "b", "J", "J3"};
    if ((rc = require(path, &f->meta, KEY_VERSION, &version)) ||
        (rc = require(path, &f->meta, KEY_GROUPS, &groups)) ||
        (rc = require(path, &f->meta, KEY_COUPLES, &couples)) ||
        (rc = parse_groups(path, groups, sizes, &n_groups, &n)) ||
        (rc = parse_number(path, &f->meta, KEY_KT, &kT)) ||
        (rc = parse_number(path, &f->meta, KEY_MU, &mu)))
        goto done;
    for (int k = 0; k < 4; k++)
        if ((rc = th__model_find_tensor(path, f, names[k], k == 3 ? 2 : 1, n, groups, &t[k])))
            goto done;
    /* J3 is optional: files of even wells (all files before the cubic term)
     * have none. */
    const int has_j3 = th_tensor_file_find(f, names[4]) != NULL;
    if (has_j3 && (rc = th__model_find_tensor(path, f, names[4], 1, n, groups, &t[4]))) goto done;
    for (int k = 1; k < 4 + has_j3; k++)
        if (t[k]->dtype != t[0]->dtype) {
            rc = th__fail(TH_EFORMAT, "%s: tensor \"%s\" is %s but \"J2\" is %s: a model has "
                          "one dtype", path, names[k], t[k]->dtype == TH_F32 ? "F32" : "F64",
                          t[0]->dtype == TH_F32 ? "F32" : "F64");
            goto done;
        }

    /* The tensors exist with n and n^2 elements, so n is bounded by the
     * file's size; th_model_alloc still has the final word on it. */
    m = th_model_alloc(n_groups, sizes, t[0]->dtype);
    if (!m) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        rc = th__fail(TH_EFORMAT, "%s: cannot build the model: %s", path, why);
        goto done;
    }
    if ((rc = parse_couples(path, couples, m))) goto done;
    m->kT = kT;
    m->mu = mu;
    size_t es = th_dtype_size(m->dtype);
    memcpy(m->J2.v, t[0]->data.v, n * es);
    memcpy(m->J4.v, t[1]->data.v, n * es);
    if (has_j3) memcpy(m->J3.v, t[4]->data.v, n * es);
    memcpy(m->b.v, t[2]->data.v, n * es);
    memcpy(m->J.v, t[3]->data.v, n * n * es);
    if ((rc = th_model_validate(m))) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        rc = th__fail(TH_EFORMAT, "%s: the model in the file is not valid: %s", path, why);
        goto done;
    }
    if (extra_out) {
        th_meta_clear(extra_out);
        *extra_out = f->meta;
        memset(&f->meta, 0, sizeof f->meta);
    }
    *out = m;
    m = NULL;
done:
    th_model_free(m);
    return rc;
}
