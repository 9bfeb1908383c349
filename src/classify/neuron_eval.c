/* neuron_eval.c - what a trained network of thermodynamic neurons does
 * away from its training: its loss at other observation times (the curve
 * of the paper's Fig. 3: a network trained for t_f is good near t_f only)
 * and its output at t_f against the target, plus the training's record as
 * metadata. */
#include "classify/neuron_internal.h"

#include <stdio.h>
#include <string.h>

#define CHART_WIDTH 640
#define CHART_HEIGHT 400
/* Longer folder names than this are refused rather than cut. */
#define MAX_PATH 4096

/* t = k t_f / CURVE_DIV for k = CURVE_FIRST .. CURVE_FIRST + points - 1. */
#define CURVE_DIV 20
#define CURVE_FIRST 2

void th_neuron_eval_free(th_neuron_eval *e)
{
    if (!e) return;
    free(e->z);
    memset(e, 0, sizeof *e);
}

int th_neuron_evaluate(const th_neuron_params *p, const th_neuron_net *net, size_t replicas,
                       uint64_t seed, th_neuron_eval *out)
{
    TH_ASSERT(p != NULL && net != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    th_neuron_params q = *p;
    q.replicas = replicas;
    int rc = th_neuron_params_validate(&q);
    if (rc != TH_OK) return rc;
    out->seed = seed + TH_NEURON_EVAL_SEED_OFFSET;
    out->t_f = p->t_f;
    out->replicas = replicas;
    for (size_t k = 0; k < TH_NEURON_CURVE_POINTS; k++)
        out->times[k] = p->t_f * (double)(CURVE_FIRST + k) / CURVE_DIV;
    rc = th_neuron_loss_curve(&q, net, replicas, out->seed, out->times, TH_NEURON_CURVE_POINTS,
                              out->loss);
    if (rc != TH_OK) return rc;
    for (size_t k = 1; k < TH_NEURON_CURVE_POINTS; k++)
        if (out->loss[k] < out->loss[out->best]) out->best = k;
    out->loss_half = out->loss[10 - CURVE_FIRST];
    out->loss_tf = out->loss[20 - CURVE_FIRST];
    out->loss_double = out->loss[40 - CURVE_FIRST];
    out->n_z = q.n_z;
    out->z = malloc(3 * q.n_z * sizeof *out->z);
    if (!out->z) {
        memset(out, 0, sizeof *out);
        return th__fail(TH_ENOMEM, "out of memory for the fit at %zu inputs", q.n_z);
    }
    out->y = out->z + q.n_z;
    out->target = out->y + q.n_z;
    double fit_loss = 0;
    /* The curve's seed and streams: y is the curve's output at t_f. */
    rc = th_neuron_loss(&q, net, out->seed, 0, &fit_loss, out->y);
    if (rc != TH_OK) {
        th_neuron_eval_free(out);
        return rc;
    }
    for (size_t j = 0; j < q.n_z; j++) {
        out->z[j] = th_neuron_input(&q, j);
        out->target[j] = th_neuron_target(out->z[j]);
    }
    return TH_OK;
}

int th_ga_to_meta(const th_ga_opts *o, const th_ga_history *h, th_meta *meta)
{
    TH_ASSERT(o != NULL && h != NULL && meta != NULL && o->generations > 0);
    int rc = th_meta_setf(meta, "ga.population", "%zu", o->population);
    if (rc == TH_OK) rc = th_meta_setf(meta, "ga.elite", "%zu", o->elite);
    if (rc == TH_OK) rc = th_meta_setf(meta, "ga.generations", "%zu", o->generations);
    if (rc == TH_OK) rc = th_meta_setf(meta, "ga.init_sd", "%.17g", o->init_sd);
    if (rc == TH_OK) rc = th_meta_setf(meta, "ga.mutation_sd", "%.17g", o->mutation_sd);
    if (rc == TH_OK) rc = th_meta_setf(meta, "ga.seed", "%llu", (unsigned long long)o->seed);
    if (rc == TH_OK)
        rc = th_meta_setf(meta, "ga.final_best_loss", "%.9g", h->best[o->generations - 1]);
    return rc;
}

/* dir/name into buf; TH_EIO when it does not fit. */
static int join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n > 0 && (size_t)n < size) return TH_OK;
    return th__fail(TH_EIO, "%.80s...: path too long", dir);
}

/* A CSV file of three columns: the header, then row k of a[k], b[k], c[k]
 * printed with fmt. */
static int write_rows(const char *path, const char *header, const char *fmt,
                      const double *a, const double *b, const double *c, size_t rows)
{
    th_atomic_file *f = th_atomic_open(path);
    if (!f) return TH_EIO;
    FILE *s = th_atomic_stream(f);
    fprintf(s, "%s\n", header);
    for (size_t k = 0; k < rows; k++) fprintf(s, fmt, a[k], b[k], c[k]);
    return th_atomic_commit(f);
}

static int write_chart(const char *path, th_canvas *c)
{
    if (!c) return TH_EINVAL; /* th_picture_curves said why */
    int rc = th_png_write(path, c, 1);
    th_canvas_free(c);
    return rc;
}

int th_neuron_eval_write(const char *dir, const th_neuron_eval *e)
{
    TH_ASSERT(dir != NULL && e != NULL);
    char path[MAX_PATH];
    double ratio[TH_NEURON_CURVE_POINTS];
    for (size_t k = 0; k < TH_NEURON_CURVE_POINTS; k++) ratio[k] = e->times[k] / e->t_f;
    int rc = join(path, sizeof path, dir, "loss_vs_time.csv");
    if (rc == TH_OK)
        rc = write_rows(path, "t,t_over_tf,loss", "%.9g,%.4g,%.9g\n", e->times, ratio, e->loss,
                        TH_NEURON_CURVE_POINTS);
    if (rc == TH_OK) rc = join(path, sizeof path, dir, "loss_vs_time.png");
    if (rc == TH_OK)
        rc = write_chart(path, th_picture_curves(e->times, e->loss, 1, TH_NEURON_CURVE_POINTS,
                                                 &e->t_f, 1, CHART_WIDTH, CHART_HEIGHT));
    if (rc == TH_OK) rc = join(path, sizeof path, dir, "fit.csv");
    if (rc == TH_OK)
        rc = write_rows(path, "z,y,cos_2pi_z", "%.9g,%.9g,%.9g\n", e->z, e->y, e->target,
                        e->n_z);
    /* y and target lie one after the other: the two curves (2, n_z) */
    if (rc == TH_OK && e->n_z >= 2) rc = join(path, sizeof path, dir, "fit.png");
    if (rc == TH_OK && e->n_z >= 2)
        rc = write_chart(path, th_picture_curves(e->z, e->y, 2, e->n_z, NULL, 0, CHART_WIDTH,
                                                 CHART_HEIGHT));
    return rc;
}

int th_ga_history_write_csv(const char *path, const th_ga_history *h, size_t generations)
{
    TH_ASSERT(path != NULL && h != NULL);
    th_atomic_file *f = th_atomic_open(path);
    if (!f) return TH_EIO;
    FILE *s = th_atomic_stream(f);
    fprintf(s, "generation,best_loss,median_loss\n");
    for (size_t g = 0; g < generations; g++)
        fprintf(s, "%zu,%.9g,%.9g\n", g, h->best[g], h->median[g]);
    return th_atomic_commit(f);
}

int th_ga_history_alloc(th_ga_history *h, size_t generations)
{
    TH_ASSERT(h != NULL);
    const size_t n = generations ? generations : 1;
    h->best = malloc(n * sizeof *h->best);
    h->median = malloc(n * sizeof *h->median);
    h->diverged = malloc(n * sizeof *h->diverged);
    if (h->best && h->median && h->diverged) return TH_OK;
    th_ga_history_free(h);
    return th__fail(TH_ENOMEM, "out of memory for the history of %zu generations", generations);
}

void th_ga_history_free(th_ga_history *h)
{
    if (!h) return;
    free(h->best);
    free(h->median);
    free(h->diverged);
    memset(h, 0, sizeof *h);
}
