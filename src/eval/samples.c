/* samples.c - samples files: generated images with the class each was asked
 * for and the heat it cost, as safetensors (th_samples in thermo.h).
 *
 * thermo's safetensors reader handles F32 and F64 tensors only, so the
 * classes travel as floats holding whole numbers; the reader insists that
 * they are whole and in range, because a class of 2.5 or 11 means the file
 * was not written for this judge. */
#include "eval/eval_internal.h"

#include <math.h>
#include <string.h>

void th_samples_free(th_samples *s)
{
    if (!s) return;
    th__free(s->images);
    free(s->classes);
    free(s->heat);
    free(s);
}

static const char *dtype_name(th_dtype t) { return t == TH_F32 ? "F32" : "F64"; }

/* "[3, 784]" into buf. */
static const char *shape_text(const th_tensor *t, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (size_t k = 0; k < t->n_dims && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", k ? ", " : "", t->shape[k]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

/* A one-dimensional tensor of count values, as doubles. */
static int read_vector(const char *path, const th_tensor *t, size_t count, double *out)
{
    char shape[96];
    if (t->n_dims != 1 || t->shape[0] != count)
        return th__fail(TH_EFORMAT, "%s: tensor %s has shape %s; expected [%zu], one value per "
                        "image", path, t->name, shape_text(t, shape, sizeof shape), count);
    for (size_t i = 0; i < count; i++) out[i] = th_ptr_get(t->data, t->dtype, i);
    return TH_OK;
}

int th_samples_read(const char *path, size_t n_pix, size_t n_classes, th_samples **out)
{
    TH_ASSERT(path && out && n_pix > 0);
    *out = NULL;
    th_tensor_file *f = NULL;
    int rc = th_safetensors_read(path, &f);
    if (rc != TH_OK) return rc;
    th_samples *s = calloc(1, sizeof *s);
    double *tmp = NULL;
    char shape[96];
    if (!s) {
        rc = th__fail(TH_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    const th_tensor *im = th_tensor_file_find(f, "images");
    if (!im) {
        rc = th__fail(TH_EFORMAT, "%s: tensor images is missing; expected the generated images "
                      "as F32 [n, %zu] (is this a samples file written by thermo sample?)", path,
                      n_pix);
        goto done;
    }
    size_t width = 0;
    if (im->n_dims == 2) width = im->shape[1];
    if (im->n_dims == 3) width = im->shape[1] * im->shape[2];
    if ((im->n_dims != 2 && im->n_dims != 3) || width != n_pix || im->shape[0] == 0) {
        rc = th__fail(TH_EFORMAT, "%s: tensor images has shape %s; expected [n, %zu] with n >= "
                      "1 (%zu pixels per image, as the judge takes)", path,
                      shape_text(im, shape, sizeof shape), n_pix, n_pix);
        goto done;
    }
    s->count = im->shape[0];
    s->n_pix = n_pix;
    s->images = th__alloc(s->count * n_pix * sizeof(float));
    tmp = malloc(s->count * sizeof *tmp);
    if (!s->images || !tmp) {
        rc = th__fail(TH_ENOMEM, "%s: out of memory for %zu images", path, s->count);
        goto done;
    }
    if (im->dtype == TH_F32) {
        memcpy(s->images, im->data.f32, s->count * n_pix * sizeof(float));
    } else {
        for (size_t i = 0; i < s->count * n_pix; i++) s->images[i] = (float)im->data.f64[i];
    }
    const th_tensor *cl = th_tensor_file_find(f, "classes");
    if (cl) {
        rc = read_vector(path, cl, s->count, tmp);
        if (rc != TH_OK) goto done;
        s->classes = malloc(s->count * sizeof *s->classes);
        if (!s->classes) {
            rc = th__fail(TH_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        for (size_t i = 0; i < s->count; i++) {
            double c = tmp[i];
            if (c != floor(c) || c < -1 || c > (double)n_classes - 1) {
                rc = th__fail(TH_EFORMAT, "%s: tensor classes (%s): entry %zu is %g; expected a "
                              "whole number from -1 (unconditional) to %zu, a class of the "
                              "judge", path, dtype_name(cl->dtype), i, c, n_classes - 1);
                goto done;
            }
            s->classes[i] = (int)c;
        }
    }
    const th_tensor *ht = th_tensor_file_find(f, "heat");
    if (ht) {
        s->heat = malloc(s->count * sizeof *s->heat);
        if (!s->heat) {
            rc = th__fail(TH_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        rc = read_vector(path, ht, s->count, s->heat);
        if (rc != TH_OK) goto done;
    }
done:
    free(tmp);
    th_tensor_file_free(f);
    if (rc != TH_OK) {
        th_samples_free(s);
        return rc;
    }
    *out = s;
    return TH_OK;
}

int th_samples_write(const char *path, const float *images, size_t count, size_t n_pix,
                     const int *classes, const double *heat)
{
    TH_ASSERT(path && images && count > 0 && n_pix > 0);
    th_tensor t[3];
    memset(t, 0, sizeof t);
    size_t n = 0;
    float *cf = NULL;
    snprintf(t[n].name, sizeof t[n].name, "images");
    t[n].dtype = TH_F32;
    t[n].n_dims = 2;
    t[n].shape[0] = count;
    t[n].shape[1] = n_pix;
    t[n].data.f32 = (float *)images;
    n++;
    if (classes) {
        cf = malloc(count * sizeof *cf);
        if (!cf) return th__fail(TH_ENOMEM, "out of memory writing %s", path);
        for (size_t i = 0; i < count; i++) cf[i] = (float)classes[i];
        snprintf(t[n].name, sizeof t[n].name, "classes");
        t[n].dtype = TH_F32;
        t[n].n_dims = 1;
        t[n].shape[0] = count;
        t[n].data.f32 = cf;
        n++;
    }
    if (heat) {
        snprintf(t[n].name, sizeof t[n].name, "heat");
        t[n].dtype = TH_F64;
        t[n].n_dims = 1;
        t[n].shape[0] = count;
        t[n].data.f64 = (double *)heat;
        n++;
    }
    th_meta meta = {0};
    int rc = th_meta_set(&meta, "thermo.kind", "samples");
    if (rc == TH_OK) rc = th_safetensors_write(path, t, n, &meta);
    th_meta_clear(&meta);
    free(cf);
    return rc;
}
