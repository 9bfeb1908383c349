/* student_file.c - a trained PNAS student as the tool reads it, and the test
 * images it classifies, shared by thermo classify eval and thermo energy. */
#include "thermo.h"
#include "tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tool_is_student(const th_meta *meta)
{
    return th_meta_get(meta, "student.n_input") != NULL;
}

/* "784,32,32,10" into w; the count, or 0 when malformed. */
static size_t parse_widths(const char *text, size_t *w, size_t max)
{
    size_t n = 0;
    const char *q = text;
    while (*q && n < max) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(q, &end, 10);
        if (end == q || errno || v == 0) return 0;
        w[n++] = (size_t)v;
        if (*end == ',') q = end + 1;
        else if (*end == '\0') break;
        else return 0;
    }
    return n >= 2 ? n : 0;
}

void tool_student_free(tool_student *s)
{
    th_model_free(s->m);
    th_meta_clear(&s->meta);
    memset(s, 0, sizeof *s);
}

int tool_student_load(const char *cmd, const char *path, tool_student *s)
{
    memset(s, 0, sizeof *s);
    int rc = th_model_load(path, &s->m, &s->meta);
    if (rc != TH_OK) return tool_fail_lib(cmd, rc);
    if ((rc = th_student_params_from_meta(&s->meta, &s->sp)) != TH_OK ||
        (rc = th_student_check_model(s->m, &s->sp)) != TH_OK) {
        fprintf(stderr, "thermo %s: %s: %s\n", cmd, path, th_last_error());
        tool_student_free(s);
        return TOOL_EXIT_FAIL;
    }
    const char *norm_text = th_meta_get(&s->meta, TOOL_META_INPUT_NORM);
    s->widths_text = th_meta_get(&s->meta, TOOL_META_TEACHER_WIDTHS);
    if (!norm_text || tool_to_double(norm_text, &s->input_norm) != 0 ||
        !(s->input_norm > 0) || !s->widths_text ||
        !(s->n_widths = parse_widths(s->widths_text, s->widths, TH_MLP_MAX_LAYERS + 1))) {
        fprintf(stderr, "thermo %s: %s: metadata %s or %s is missing or malformed: expected "
                "a positive norm and layer widths such as 784,32,32,10\n", cmd, path,
                TOOL_META_INPUT_NORM, TOOL_META_TEACHER_WIDTHS);
        tool_student_free(s);
        return TOOL_EXIT_FAIL;
    }
    return TOOL_EXIT_OK;
}

int tool_load_labelled(const char *cmd, const char *dir, const char *split, size_t limit,
                       th_dataset **out)
{
    int rc = th_dataset_load_dir(dir, split, out);
    if (rc != TH_OK) return tool_fail_lib(cmd, rc);
    if (!(*out)->labels) {
        fprintf(stderr, "thermo %s: %s/%s has no labels: expected a labels file\n", cmd, dir,
                split);
        th_dataset_free(*out);
        *out = NULL;
        return TOOL_EXIT_FAIL;
    }
    if (limit < (*out)->count) (*out)->count = limit;
    return TOOL_EXIT_OK;
}

int tool_student_images(const char *cmd, const tool_student *s, const char *dir, size_t limit,
                        th_dataset **d, float **X)
{
    *X = NULL;
    int rc = tool_load_labelled(cmd, dir, "t10k", limit, d);
    if (rc != TOOL_EXIT_OK) return rc;
    const size_t count = (*d)->count, n_in = s->sp.n_input;
    /* The preprocessing of th_mlp_prepare for TH_INPUT_PNAS with the
     * teacher's norm, through a network that only carries those settings. */
    const size_t pw[2] = {n_in, s->sp.n_output};
    th_mlp *prep = th_mlp_alloc(1, pw, TH_ACT_TANH);
    *X = malloc(count * n_in * sizeof **X); /* (count, n_input) */
    if (!prep || !*X) {
        fprintf(stderr, "thermo %s: out of memory for %zu test images\n", cmd, count);
        rc = TOOL_EXIT_FAIL;
    } else {
        prep->input = TH_INPUT_PNAS;
        prep->input_norm = s->input_norm;
        if ((rc = th_mlp_prepare(prep, *d, 0, count, *X)) != TH_OK) rc = tool_fail_lib(cmd, rc);
    }
    th_mlp_free(prep);
    if (rc != TOOL_EXIT_OK) {
        free(*X);
        *X = NULL;
        th_dataset_free(*d);
        *d = NULL;
    }
    return rc;
}
