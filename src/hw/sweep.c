/* sweep.c - what the hardware must deliver: a trained computer measured
 * (quality and heat) while one part of the hardware model varies over a
 * list of values and devices, and the budget read off the result: the
 * fewest bits, the largest mismatch, the longest tau_c and the largest
 * temperature offset that cost at most 1 point of a classifier's accuracy
 * or 5% of a generator's quality (science.md section 9). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "hw/hw_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sample "is" a training image when |correlation| >= this (thermo
 * train's criterion, contrast-inverted copies included). */
#define RECOGNISED 0.5
/* What a budget may lose: a classifier 1 point of accuracy, a generator 5%
 * of its quality. */
#define CLASSIFIER_LOSS 0.01
#define GENERATOR_KEEP 0.95

struct th_hw_target {
    int kind;
    th_hw_target_opts o;
    th_model *model;           /* while loading: the file's first model */
    /* generators: the protocol of gp.segments segments (one: the paper's
     * computer) and the readout its model file records */
    th_gen_protocol *protocol;
    size_t readout_window;
    th_gen_params gp;
    th_gen_training_set *refs; /* unconditional: the training images */
    th_judge judge;            /* judge.cnn or judge.mlp set: with a judge */
    th_dataset *train, *test;  /* with a judge */
    /* classifiers */
    th_student student;
    int has_student;
    th_dataset *images;
    float *X;                  /* (images, n_input) prepared */
};

static const char *const param_names[] = {"bits", "mismatch", "tau", "dkT", "adc", NULL};

const char *const *th_hw_param_names(void) { return param_names; }

th_hw_target_opts th_hw_target_opts_default(void)
{
    th_hw_target_opts o = {NULL, "data/mnist", 200, 1000, 10, 200};
    return o;
}

th_hw_sweep_opts th_hw_sweep_opts_default(void)
{
    th_hw_sweep_opts o;
    memset(&o, 0, sizeof o);
    o.param = TH_HW_PARAM_BITS;
    o.devices = 3;
    o.first_device = 1;
    o.base = th_hw_ideal();
    return o;
}

int th_hw_param_set(th_hw *hw, int param, double v)
{
    TH_ASSERT(hw != NULL);
    const int whole = isfinite(v) && v == floor(v) && v >= 1 && v <= TH_HW_MAX_BITS;
    switch (param) {
    case TH_HW_PARAM_BITS:
    case TH_HW_PARAM_ADC:
        if (!whole)
            return th__fail(TH_EINVAL, "%s = %g: expected a whole number of bits from 1 to %d",
                            param_names[param], v, TH_HW_MAX_BITS);
        *(param == TH_HW_PARAM_BITS ? &hw->bits : &hw->adc_bits) = (unsigned)v;
        break;
    case TH_HW_PARAM_MISMATCH: hw->mismatch = v; break;
    case TH_HW_PARAM_TAU: hw->tau_c = v; break;
    case TH_HW_PARAM_DKT: hw->kT_offset = v; break;
    default: return th__fail(TH_EINVAL, "hardware parameter %d: expected 0 to 4", param);
    }
    return th_hw_validate(hw);
}

/* ---------------------------------------------------------------- targets */

void th_hw_target_free(th_hw_target *t)
{
    if (!t) return;
    th_model_free(t->model);
    th_gen_protocol_free(t->protocol);
    th_gen_training_set_free(t->refs);
    th_judge_free(&t->judge);
    th_dataset_free(t->train);
    th_dataset_free(t->test);
    if (t->has_student) th_student_clear(&t->student);
    th_dataset_free(t->images);
    free(t->X);
    th__free(t);
}

int th_hw_target_kind(const th_hw_target *t) { return t->kind; }

/* Loads the training set at dir/src (dir NULL: src as given), keeping it
 * only if its content hash is the one the model recorded (want, "" or NULL:
 * none recorded). */
static int try_refs(const char *dir, const char *src, size_t images, size_t pooling,
                    const char *want, th_gen_training_set **out)
{
    char where[4096];
    if (dir && snprintf(where, sizeof where, "%s/%s", dir, src) >= (int)sizeof where)
        return TH_EINVAL;
    int rc = th_gen_training_set_load(dir ? where : src, images, pooling, 0, out);
    if (rc != TH_OK || !want || !want[0]) return rc;
    char got[17];
    snprintf(got, sizeof got, "%016llx", (unsigned long long)(*out)->fnv1a64);
    if (strcmp(got, want) == 0) return TH_OK;
    th_gen_training_set_free(*out);
    *out = NULL;
    return th__fail(TH_EFORMAT, "%s: its images' hash is %s, the model recorded data.fnv1a64 "
                    "= %.20s", dir ? where : src, got, want);
}

/* The training images of an unconditional generator, from its data.*
 * metadata: "data.source", "data.pool", and "data.images" ("first N of the
 * training split") or "data.indices" (the paper's three digits). A relative
 * data.source was written relative to where training ran (the repository's
 * root for the presets), so it is looked for from the working folder, then
 * from each folder above the model file, nearest first; data.fnv1a64, the
 * hash of the images the model was trained on, tells the right one. */
static int load_refs(const char *path, const th_meta *meta, th_gen_training_set **out)
{
    const char *src = th_meta_get(meta, "data.source"), *pool = th_meta_get(meta, "data.pool");
    const char *first = th_meta_get(meta, "data.images");
    const char *hash = th_meta_get(meta, "data.fnv1a64");
    size_t images = 0, pooling = 1;
    if (!src || !src[0] || (pool && sscanf(pool, "%zu", &pooling) != 1) ||
        (first && sscanf(first, "first %zu", &images) != 1))
        return th__fail(TH_EFORMAT, "%s: no training set in its data.* metadata (data.source, "
                        "data.images, data.pool): the quality of an unconditional generator "
                        "is the share of samples that resemble a training image", path);
    int rc = try_refs(NULL, src, images, pooling, hash, out);
    if (rc == TH_OK) return TH_OK;
    char why[512]; /* th__fail writes the buffer th_last_error() reads */
    snprintf(why, sizeof why, "%s", th_last_error());
    char other[512] = ""; /* a look-alike passed over, to say so */
    char *dir = src[0] != '/' ? realpath(path, NULL) : NULL;
    for (char *cut = dir ? strrchr(dir, '/') : NULL; cut; cut = strrchr(dir, '/')) {
        *cut = 0; /* the folder above */
        const int tried = try_refs(dir[0] ? dir : "/", src, images, pooling, hash, out);
        if (tried == TH_OK) {
            free(dir);
            return TH_OK;
        }
        if (tried == TH_EFORMAT && !other[0])
            snprintf(other, sizeof other, "; passed over %s", th_last_error());
    }
    free(dir);
    return th__fail(rc, "%s: its training set: %s%s%s", path, why,
                    src[0] != '/' ? " (looked from the working folder and from each folder "
                                    "above the model file)" : "", other);
}

/* A generator's every segment (th_gen_protocol_load) and the readout window
 * its samples are read with ("sample.readout_window", thermo train
 * --readout-window; absent: the state at the end), as thermo sample and
 * thermo eval --model read them. */
static int load_protocol(const char *path, const th_meta *meta, th_hw_target *t)
{
    th_model_free(t->model); /* segment 0 alone, read to tell the kind */
    t->model = NULL;
    int rc = th_gen_protocol_load(path, &t->protocol, &t->gp, NULL);
    if (rc != TH_OK) return rc;
    const char *w = th_meta_get(meta, "sample.readout_window");
    char extra;
    if (w && (sscanf(w, "%zu%c", &t->readout_window, &extra) != 1 || w[0] == '-' ||
              t->readout_window > th_gen_steps(&t->gp)))
        return th__fail(TH_EFORMAT, "%s: sample.readout_window = '%.40s': expected a whole "
                        "number of steps from 0 to %zu", path, w, th_gen_steps(&t->gp));
    return TH_OK;
}

static int load_judge(th_hw_target *t)
{
    int rc = th_judge_load(t->o.judge, &t->judge, NULL);
    if (rc == TH_OK) rc = th_dataset_load_dir(t->o.data, "train", &t->train);
    if (rc == TH_OK) rc = th_dataset_load_dir(t->o.data, "t10k", &t->test);
    if (rc == TH_OK && t->o.reference < t->train->count) t->train->count = t->o.reference;
    return rc;
}

int th_hw_target_load(const char *path, const th_hw_target_opts *o, th_hw_target **out)
{
    TH_ASSERT(path != NULL && o != NULL && out != NULL);
    *out = NULL;
    if (!o->samples || !o->images || !o->trajectories || o->reference < 2)
        return th__fail(TH_EINVAL, "target options: samples, images and trajectories must be "
                        "at least 1, reference at least 2");
    th_hw_target *t = th__calloc(1, sizeof *t);
    if (!t) return th__fail(TH_ENOMEM, "out of memory for a target");
    t->o = *o;
    th_meta meta = {0};
    int rc = th_model_load(path, &t->model, &meta);
    if (rc == TH_OK && th_student_meta_is(&meta)) {
        t->kind = TH_HW_CLASSIFIER;
        th_model_free(t->model);
        t->model = NULL;
        rc = th_student_load(path, &t->student, NULL);
        t->has_student = rc == TH_OK;
        if (rc == TH_OK)
            rc = th_student_images(&t->student, o->data, "t10k", o->images, &t->images, &t->X);
    } else if (rc == TH_OK) {
        if (th_gen_params_from_meta(&meta, &t->gp) != TH_OK)
            rc = th__fail(TH_EFORMAT, "%s: neither a generator (thermo train) nor a student "
                          "classifier (thermo classify train): %s", path, th_last_error());
        t->kind = t->gp.n_classes ? TH_HW_CONDITIONAL : TH_HW_GENERATOR;
        if (rc == TH_OK && t->kind == TH_HW_CONDITIONAL && !o->judge)
            rc = th__fail(TH_EINVAL, "%s is a conditional generator: its quality is the judge's "
                          "conditional accuracy, and no judge was given", path);
        if (rc == TH_OK) rc = load_protocol(path, &meta, t);
        if (rc == TH_OK && t->kind == TH_HW_GENERATOR) rc = load_refs(path, &meta, &t->refs);
        if (rc == TH_OK && o->judge) rc = load_judge(t);
    }
    th_meta_clear(&meta);
    if (rc != TH_OK) {
        th_hw_target_free(t);
        return rc;
    }
    *out = t;
    return TH_OK;
}

/* ------------------------------------------------------------ measuring */

static int measure_generator(const th_hw_target *t, const th_hw *hw, uint64_t noise,
                             th_hw_measure *out)
{
    const size_t S = t->o.samples, nv = t->gp.n_visible;
    th_gen_params gp = t->gp;
    gp.seed += noise;
    th_samples *s = NULL;
    size_t *as_ref = t->refs ? th__calloc(2 * t->refs->count, sizeof *as_ref) : NULL;
    int rc = !t->refs || as_ref
                 ? th_hw_gen_protocol_samples(hw, t->protocol, &gp, S, t->readout_window, &s)
                 : th__fail(TH_ENOMEM, "out of memory");
    if (rc == TH_OK) {
        double h = 0;
        for (size_t k = 0; k < S; k++) h += s->heat[k];
        out->heat = h / (double)S;
        out->frechet = NAN;
    }
    if (rc == TH_OK && t->refs) {
        size_t neither = 0;
        rc = th_gen_recognise(s->images, S, t->refs->images, t->refs->count, nv, RECOGNISED,
                              as_ref, as_ref + t->refs->count, &neither);
        out->quality = 1.0 - (double)neither / (double)S;
    }
    if (rc == TH_OK && (t->judge.cnn || t->judge.mlp)) {
        th_eval_params ep = th_eval_params_default();
        ep.reference_count = t->train->count;
        th_eval_report r;
        rc = th_eval_samples(&t->judge, s, t->train, t->test, &ep, &r);
        out->frechet = r.frechet;
        if (t->kind == TH_HW_CONDITIONAL) out->quality = r.conditional_accuracy;
    }
    th_samples_free(s);
    th__free(as_ref);
    return rc;
}

static int measure_classifier(const th_hw_target *t, const th_hw *hw, uint64_t noise,
                              th_hw_measure *out)
{
    th_student_eval_opts o = th_student_eval_opts_default();
    o.trajectories = t->o.trajectories;
    th_student_params p = t->student.params;
    p.seed += noise;
    th_student_report r;
    int rc = th_hw_student_evaluate(hw, &t->student, &p, t->images, t->X, &o, 300.0, 1e-12, &r);
    out->quality = r.top1;
    out->heat = r.heat_class_kT;
    out->frechet = NAN;
    return rc;
}

int th_hw_target_measure(const th_hw_target *t, const th_hw *hw, uint64_t noise,
                         th_hw_measure *out)
{
    TH_ASSERT(t != NULL && hw != NULL && out != NULL);
    int rc = th_hw_validate(hw);
    if (rc != TH_OK) return rc;
    return t->kind == TH_HW_CLASSIFIER ? measure_classifier(t, hw, noise, out)
                                       : measure_generator(t, hw, noise, out);
}

/* ---------------------------------------------------------------- sweeps */

void th_hw_sweep_free(th_hw_sweep *s)
{
    if (!s) return;
    free(s->values);
    free(s->ideal_points);
    free(s->points);
    free(s->compare);
    free(s);
}

/* Every device's point of one target at one value. */
static int sweep_value(th_hw_target *t, const th_hw_sweep_opts *o, double value, int ideal,
                       th_hw_measure *points, size_t *done, size_t total)
{
    for (size_t k = 0; k < o->devices; k++) {
        th_hw hw = ideal ? th_hw_ideal() : o->base;
        hw.device = o->first_device + k;
        int rc = ideal ? TH_OK : th_hw_param_set(&hw, o->param, value);
        if (rc == TH_OK) rc = th_hw_target_measure(t, &hw, k, &points[k]);
        if (rc != TH_OK) return rc;
        if (o->progress && o->progress(++*done, total, o->progress_ctx))
            return th__fail(TH_ECANCELED, "sweep stopped by its progress callback");
    }
    return TH_OK;
}

int th_hw_sweep_run(th_hw_target *target, th_hw_target *const *compare, size_t n_compare,
                    const th_hw_sweep_opts *o, th_hw_sweep **out)
{
    TH_ASSERT(target != NULL && o != NULL && out != NULL && (n_compare == 0 || compare));
    *out = NULL;
    if (o->n_values == 0 || !o->values || o->devices == 0)
        return th__fail(TH_EINVAL, "a sweep needs at least one value and one device");
    if (n_compare > 1 && n_compare != o->n_values)
        return th__fail(TH_EINVAL, "%zu comparison models for %zu values: expected one, or one "
                        "per value", n_compare, o->n_values);
    for (size_t k = 0; k < n_compare; k++)
        if (th_hw_target_kind(compare[k]) != target->kind)
            return th__fail(TH_EINVAL, "comparison model %zu is not the same kind of computer",
                            k + 1);
    th_hw test = o->base;
    for (size_t v = 0; v < o->n_values; v++) {
        int rc = th_hw_param_set(&test, o->param, o->values[v]);
        if (rc != TH_OK) return rc;
        if (v && !(o->values[v] > o->values[v - 1]))
            return th__fail(TH_EINVAL, "values %g then %g: expected ascending values",
                            o->values[v - 1], o->values[v]);
    }
    th_hw_sweep *s = calloc(1, sizeof *s);
    const size_t nv = o->n_values, D = o->devices;
    if (!s || !(s->values = malloc(nv * sizeof *s->values)) ||
        !(s->ideal_points = malloc(D * sizeof *s->ideal_points)) ||
        !(s->points = malloc(nv * D * sizeof *s->points)) ||
        (n_compare && !(s->compare = malloc(nv * D * sizeof *s->compare)))) {
        th_hw_sweep_free(s);
        return th__fail(TH_ENOMEM, "out of memory for a sweep");
    }
    s->param = o->param;
    s->kind = target->kind;
    s->n_values = nv;
    s->devices = D;
    s->has_compare = n_compare > 0;
    memcpy(s->values, o->values, nv * sizeof *s->values);
    size_t done = 0;
    const size_t total = D * (1 + nv * (n_compare ? 2 : 1));
    int rc = sweep_value(target, o, 0, 1, s->ideal_points, &done, total);
    for (size_t v = 0; v < nv && rc == TH_OK; v++) {
        rc = sweep_value(target, o, s->values[v], 0, s->points + v * D, &done, total);
        if (rc == TH_OK && n_compare)
            rc = sweep_value(compare[n_compare == 1 ? 0 : v], o, s->values[v], 0,
                             s->compare + v * D, &done, total);
    }
    if (rc != TH_OK) {
        th_hw_sweep_free(s);
        return rc;
    }
    s->ideal = s->ideal_points[0];
    for (size_t k = 1; k < D; k++) {
        s->ideal.quality += s->ideal_points[k].quality;
        s->ideal.heat += s->ideal_points[k].heat;
        s->ideal.frechet += s->ideal_points[k].frechet;
    }
    s->ideal.quality /= (double)D;
    s->ideal.heat /= (double)D;
    s->ideal.frechet /= (double)D;
    *out = s;
    return TH_OK;
}

/* How far a value departs from the ideal: fewer bits, more mismatch, a
 * longer tau_c, a larger |offset|. */
static double departure(int param, double v)
{
    if (param == TH_HW_PARAM_BITS || param == TH_HW_PARAM_ADC) return -v;
    return fabs(v);
}

int th_hw_sweep_budget(const th_hw_sweep *s, int which, th_hw_budget *b)
{
    TH_ASSERT(s != NULL && b != NULL);
    if (which && !s->has_compare) return th__fail(TH_EINVAL, "the sweep has no comparison");
    const th_hw_measure *pts = which ? s->compare : s->points;
    const size_t D = s->devices;
    memset(b, 0, sizeof *b);
    b->threshold = s->kind == TH_HW_CLASSIFIER ? s->ideal.quality - CLASSIFIER_LOSS
                                               : GENERATOR_KEEP * s->ideal.quality;
    double best = -INFINITY, edge = -INFINITY;
    for (size_t v = 0; v < s->n_values; v++) edge = fmax(edge, departure(s->param, s->values[v]));
    for (size_t v = 0; v < s->n_values; v++) {
        const double d = departure(s->param, s->values[v]);
        int ok = 1; /* every value that departs no more than this one passes */
        for (size_t u = 0; u < s->n_values && ok; u++) {
            if (departure(s->param, s->values[u]) > d) continue;
            double q = 0;
            for (size_t k = 0; k < D; k++) q += pts[u * D + k].quality;
            ok = q / (double)D >= b->threshold;
        }
        if (!ok || d <= best) continue;
        best = d;
        b->found = 1;
        /* 1 bit is the end of the road, not the edge of the sweep */
        b->at_edge = d == edge && d != -1.0;
        b->value = s->param == TH_HW_PARAM_DKT ? fabs(s->values[v]) : s->values[v];
        b->quality = b->heat = 0;
        for (size_t k = 0; k < D; k++) {
            b->quality += pts[v * D + k].quality / (double)D;
            b->heat += pts[v * D + k].heat / (double)D;
        }
    }
    return TH_OK;
}
