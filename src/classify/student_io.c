/* student_io.c - a trained student as a file, and the images it reads.
 *
 * A student is a model file (th_model_save) whose metadata carries the file
 * kind ("thermo.kind" = "student"), the settings (student.*), and what the
 * student keeps of its teacher: the PNAS input norm, without which its
 * inputs cannot be prepared, and the layer widths, which price the digital
 * forward pass it is compared with. The file lives in the library so that a
 * C program loads exactly what the tool saved. */
#include "classify_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#define KEY_KIND "thermo.kind"
#define KEY_NORM "student.input_norm"
#define KEY_WIDTHS "student.teacher_widths"
/* The older marker: every student file has held its settings. */
#define KEY_OLD_MARK "student.n_input"

int th_student_meta_is(const th_meta *meta)
{
    TH_ASSERT(meta != NULL);
    const char *kind = th_meta_get(meta, KEY_KIND);
    if (kind) return strcmp(kind, TH_STUDENT_KIND) == 0;
    return th_meta_get(meta, KEY_OLD_MARK) != NULL;
}

void th_student_clear(th_student *s)
{
    if (!s) return;
    th_model_free(s->model);
    memset(s, 0, sizeof *s);
}

/* "784,32,32,10" into w (at most max widths, each >= 1); the count, or 0
 * when malformed or shorter than 2. */
static size_t parse_widths(const char *text, size_t *w, size_t max)
{
    size_t n = 0;
    const char *q = text;
    for (;;) {
        if (n == max || !isdigit((unsigned char)*q)) return 0;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(q, &end, 10);
        if (errno || v == 0 || v > SIZE_MAX) return 0;
        w[n++] = (size_t)v;
        if (*end == '\0') break;
        if (*end != ',') return 0;
        q = end + 1;
    }
    return n >= 2 ? n : 0;
}

/* A whole finite number > 0, nothing before or after it. */
static int parse_norm(const char *text, double *out)
{
    if (!text || !text[0] || isspace((unsigned char)text[0])) return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*end != '\0' || errno || !isfinite(v) || !(v > 0)) return -1;
    *out = v;
    return 0;
}

/* The student's own entries: what loading needs, then what a reader of the
 * file needs to know about the targets it learned. */
static int own_meta(const th_student *s, th_meta *meta)
{
    char widths[(TH_MLP_MAX_LAYERS + 1) * 21] = "";
    size_t used = 0;
    for (size_t l = 0; l < s->n_widths; l++)
        used += (size_t)snprintf(widths + used, sizeof widths - used, "%s%zu", l ? "," : "",
                                 s->widths[l]);
    int rc = th_meta_set(meta, KEY_KIND, TH_STUDENT_KIND);
    if (rc == TH_OK) rc = th_student_params_to_meta(&s->params, meta);
    if (rc == TH_OK) rc = th_meta_setf(meta, KEY_NORM, "%.17g", s->input_norm);
    if (rc == TH_OK) rc = th_meta_set(meta, KEY_WIDTHS, widths);
    if (rc == TH_OK)
        rc = th_meta_setf(meta, "student.gain_used", "%.17g", th_student_gain(&s->params));
    if (rc == TH_OK)
        rc = th_meta_set(meta, "student.hidden_map", "hidden unit h: teacher hidden activation "
                         "(h mod H) of its hidden layers concatenated");
    if (rc == TH_OK)
        rc = th_meta_set(meta, "student.output_target",
                         "2 softmax(logits / output_temperature) - 1 of the teacher's logits");
    return rc;
}

int th_student_save(const char *path, const th_student *s, const th_meta *extra)
{
    TH_ASSERT(path != NULL && s != NULL && s->model != NULL);
    if (!(s->input_norm > 0) || !isfinite(s->input_norm))
        return th__fail(TH_EINVAL, "%s: input_norm = %g: expected the teacher's norm > 0", path,
                        s->input_norm);
    if (s->n_widths < 2 || s->n_widths > TH_MLP_MAX_LAYERS + 1)
        return th__fail(TH_EINVAL, "%s: %zu teacher widths: expected 2 to %d", path,
                        s->n_widths, TH_MLP_MAX_LAYERS + 1);
    int rc = th_student_check_model(s->model, &s->params);
    if (rc != TH_OK) return rc;
    th_meta meta = {0};
    rc = own_meta(s, &meta);
    if (extra)
        for (size_t i = 0; i < extra->count && rc == TH_OK; i++)
            if (!th_meta_get(&meta, extra->keys[i]))
                rc = th_meta_set(&meta, extra->keys[i], extra->values[i]);
    if (rc == TH_OK) rc = th_model_save(path, s->model, &meta);
    th_meta_clear(&meta);
    return rc;
}

/* The kind check before the model is read, so that another kind of file is
 * named as such rather than failing on a missing model tensor. */
static int check_kind(const char *path)
{
    th_tensor_file *f = NULL;
    int rc = th_safetensors_read(path, &f);
    if (rc != TH_OK) return rc;
    const char *kind = th_meta_get(&f->meta, KEY_KIND);
    if (kind && strcmp(kind, TH_STUDENT_KIND) != 0)
        rc = th__fail(TH_EFORMAT, "%s: metadata %s = '%.60s': expected '%s' (a student written "
                      "by thermo classify train)", path, KEY_KIND, kind, TH_STUDENT_KIND);
    else if (!kind && !th_meta_get(&f->meta, KEY_OLD_MARK))
        rc = th__fail(TH_EFORMAT, "%s: no metadata %s and no student.* settings: expected "
                      "%s '%s' (a student written by thermo classify train)", path, KEY_KIND,
                      KEY_KIND, TH_STUDENT_KIND);
    th_tensor_file_free(f);
    return rc;
}

int th_student_load(const char *path, th_student *s, th_meta *meta_out)
{
    TH_ASSERT(path != NULL && s != NULL);
    memset(s, 0, sizeof *s);
    int rc = check_kind(path);
    if (rc != TH_OK) return rc;
    th_meta meta = {0};
    if ((rc = th_model_load(path, &s->model, &meta)) != TH_OK) {
        th_meta_clear(&meta);
        return rc;
    }
    if ((rc = th_student_params_from_meta(&meta, &s->params)) != TH_OK ||
        (rc = th_student_check_model(s->model, &s->params)) != TH_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", th_last_error());
        rc = th__fail(TH_EFORMAT, "%s: %s", path, why);
    } else if (parse_norm(th_meta_get(&meta, KEY_NORM), &s->input_norm) != 0 ||
               !th_meta_get(&meta, KEY_WIDTHS) ||
               !(s->n_widths = parse_widths(th_meta_get(&meta, KEY_WIDTHS), s->widths,
                                            TH_MLP_MAX_LAYERS + 1))) {
        rc = th__fail(TH_EFORMAT, "%s: metadata %s or %s is missing or malformed: expected a "
                      "positive norm and layer widths such as 784,32,32,10", path, KEY_NORM,
                      KEY_WIDTHS);
    } else if (s->widths[0] != s->params.n_input ||
               s->widths[s->n_widths - 1] != s->params.n_output) {
        rc = th__fail(TH_EFORMAT, "%s: metadata %s = '%.60s': expected %zu inputs and %zu "
                      "outputs, the student's", path, KEY_WIDTHS, th_meta_get(&meta, KEY_WIDTHS),
                      s->params.n_input, s->params.n_output);
    }
    if (rc == TH_OK && meta_out) {
        th_meta_clear(meta_out);
        *meta_out = meta;
        return TH_OK;
    }
    th_meta_clear(&meta);
    if (rc != TH_OK) th_student_clear(s);
    return rc;
}

/* ------------------------------------------------------------- images */

int th_student_dataset(const char *dir, const char *split, size_t limit, th_dataset **out)
{
    TH_ASSERT(dir != NULL && split != NULL && out != NULL);
    int rc = th_dataset_load_dir(dir, split, out);
    if (rc != TH_OK) return rc;
    if (!(*out)->labels) {
        th_dataset_free(*out);
        *out = NULL;
        return th__fail(TH_EFORMAT, "%s/%s has no labels: expected a labels file", dir, split);
    }
    if (limit < (*out)->count) (*out)->count = limit;
    return TH_OK;
}

int th_student_prepare(const th_student *s, const th_dataset *d, size_t first, size_t n,
                       float *X)
{
    TH_ASSERT(s != NULL && d != NULL);
    /* th_mlp_prepare reads only the input width and preprocessing, so a
     * network without weights carries the teacher's. */
    th_mlp shell;
    memset(&shell, 0, sizeof shell);
    shell.n_layers = 1;
    shell.width[0] = s->params.n_input;
    shell.width[1] = s->params.n_output;
    shell.input = TH_INPUT_PNAS;
    shell.input_norm = s->input_norm;
    return th_mlp_prepare(&shell, d, first, n, X);
}

int th_student_images(const th_student *s, const char *dir, const char *split, size_t limit,
                      th_dataset **d, float **X)
{
    TH_ASSERT(s != NULL && d != NULL && X != NULL);
    *X = NULL;
    int rc = th_student_dataset(dir, split, limit, d);
    if (rc != TH_OK) return rc;
    const size_t count = (*d)->count, n_in = s->params.n_input;
    *X = malloc((count ? count : 1) * n_in * sizeof **X);
    if (!*X)
        rc = th__fail(TH_ENOMEM, "out of memory for %zu images of %zu inputs", count, n_in);
    else
        rc = th_student_prepare(s, *d, 0, count, *X);
    if (rc != TH_OK) {
        free(*X);
        *X = NULL;
        th_dataset_free(*d);
        *d = NULL;
    }
    return rc;
}
