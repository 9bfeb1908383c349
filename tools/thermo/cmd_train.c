/* cmd_train.c - thermo train: train a generative thermodynamic computer
 * (Whitelam, PRL 2026; science.md section 2), then generate from it, measure
 * its heat, and write the model, the loss curve, a summary and pictures.
 *
 *     RUN/model.safetensors   the trained computer (with every setting)
 *     RUN/checkpoint.safetensors  written every --checkpoint-every updates
 *     RUN/loss.csv            one row per update
 *     RUN/summary.json        losses, heat, recognisability, times, settings
 *     RUN/noising.png         3 noising paths, 10 snapshots each
 *     RUN/denoising.png       10 generation trajectories x 10 snapshots
 *     RUN/samples.png         100 generated samples
 *     RUN/samples.safetensors every sample, its class and its heat (thermo eval)
 *     RUN/fields.png          16 hidden units' couplings to the pixels
 *
 * Beyond the paper: training on the first N images of a dataset (all ten
 * classes), class-conditional computers, and the exact least-squares solver
 * in place of gradient descent. */
#include "thermo.h"
#include "tool.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CMD "train"

enum {
    PRESET_PRL2026 = 0,
    PRESET_TINY,
    PRESET_MNIST10,
    PRESET_MNIST10_COND,
    PRESET_FASHION10_COND
};
static const char *const preset_names[] = {"prl2026", "tiny", "mnist10", "mnist10-cond",
                                           "fashion10-cond", NULL};
static const char *const drive_names[] = {"copy", "projection", NULL};
enum { SOLVER_GD = 0, SOLVER_EXACT = 1 };
static const char *const solver_names[] = {"gd", "exact", NULL};

/* The paper's published heat per generated sample (science.md section 2). */
#define PAPER_HEAT_KT 2.9e3
/* A sample "is" training digit j when its correlation with it is at least
 * this (and inverted when at most minus this); a stated, simple criterion. */
#define RECOGNISED_CORR 0.5
#define N_SNAPS 10

typedef struct train_params {
    int preset;
    const char *out;
    const char *data;
    size_t updates;
    double learning_rate;
    size_t batch;
    size_t samples;
    size_t checkpoint_every;
    int resume;
    int quiet;
    size_t threads;
    uint64_t seed;
    double t_f;
    size_t hidden;
    int hidden_drive;
    size_t pool; /* images are averaged over pool x pool blocks (tiny preset) */
    size_t images;  /* 0: the paper's first 0, 1 and 2; N: the first N training images */
    int classes;    /* class-conditional: the label units and the dataset's labels */
    int class_visible; /* the labels also bias the pixels */
    int solver;     /* SOLVER_GD or SOLVER_EXACT */
    size_t paths;   /* exact solver: noising paths; 0 = one per image */
    size_t stride;  /* exact solver: every stride-th step of a path enters */
    double ridge;   /* exact solver: ridge lambda */
    const char *compare; /* exact solver: a model whose loss on the same paths is reported */
} train_params;

static void set_preset(train_params *p, int preset)
{
    *p = (train_params){
        .preset = preset,
        .out = NULL,
        .data = "data/prl2026",
        .updates = 100,
        .learning_rate = 4e-4,
        .batch = 1,
        .samples = 1000,
        .checkpoint_every = 10,
        .seed = 1,
        .t_f = 2.5,
        .hidden = 512,
        .hidden_drive = TH_HIDDEN_COPY,
        .pool = 1,
        .stride = 1,
    };
    if (preset == PRESET_TINY) { /* seconds, for tests */
        p->updates = 4;
        p->samples = 20;
        p->checkpoint_every = 1;
        p->t_f = 0.1;
        p->hidden = 16;
        p->pool = 4;
    }
    /* All ten classes: the exact solver on one noising path for each of the
     * first 2000 training images (about 200 per class), every 10th step, a
     * ridge of 1 per path on the couplings (without it the exact
     * minimiser's couplings are large and stiff and the samples are noise;
     * measured on 300 paths: a ridge of 0.1 per path gave 6% conditional
     * accuracy, 0.33 gave 41%, 1 gave 72%, 3.3 gave 68%), and per-class
     * pixel biases for the conditional presets (hidden-only class biases
     * gave 8%). The ridge scales with the paths because the data term does.
     * The conditional presets run for t_f = 0.625, a quarter of the paper's:
     * on 300 images t_f = 0.625 gave 90% conditional accuracy, 1.25 gave
     * 88-89%, 2.5 gave 72% and 5 gave 29% (longer autonomous runs drift from
     * the class into the couplings' own attractors). */
    if (preset == PRESET_MNIST10 || preset == PRESET_MNIST10_COND ||
        preset == PRESET_FASHION10_COND) {
        p->data = preset == PRESET_FASHION10_COND ? "data/fashion" : "data/mnist";
        p->images = 2000;
        p->classes = preset != PRESET_MNIST10;
        p->class_visible = p->classes;
        p->solver = SOLVER_EXACT;
        p->stride = 10;
        p->ridge = 1;
        if (p->classes) p->t_f = 0.625;
    }
}

static void print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo train --out RUN [options]\n"
           "\n"
           "Trains a generative thermodynamic computer (Whitelam, PRL 2026): visible units\n"
           "(pixels) and hidden units with visible-hidden and hidden-hidden couplings and\n"
           "hidden biases, by gradient descent on minus the log probability that its own\n"
           "Langevin dynamics runs the time reverse of a noising path. Then generates\n"
           "samples from thermal noise and measures the heat each one gives to the bath.\n"
           "\n"
           "options:\n");
    tool_print_options(opts, n_opts);
    printf("\n"
           "presets:\n"
           "  prl2026  the paper: the first 0, 1 and 2 of the MNIST training set (embedded\n"
           "           in data/prl2026), 784 + 512 units, kT 0.1, J2 = J4 = 1, dt 1e-3,\n"
           "           t_f 2.5, hidden units driven by pixel copies, learning rate 4e-4,\n"
           "           one path per update, 100 updates, 1000 samples.\n"
           "  tiny     a seconds-long check: images pooled to 7x7, 16 hidden units,\n"
           "           t_f 0.1, 4 updates, 20 samples.\n"
           "  mnist10  all ten digits: the first 2000 MNIST training images, one noising\n"
           "           path each, every 10th step, the exact least-squares solver with\n"
           "           ridge 1 per path; otherwise as prl2026.\n"
           "  mnist10-cond    the same, class-conditional: a label unit per digit,\n"
           "           clamped at the class's one-hot code, coupled to the hidden and the\n"
           "           visible units; t_f 0.625.\n"
           "  fashion10-cond  the same on Fashion-MNIST (thermo data fetch fashion).\n"

           "\n"
           "Writes RUN/model.safetensors, loss.csv, summary.json, noising.png,\n"
           "denoising.png, samples.png and fields.png, and a checkpoint that --resume\n"
           "continues from (bit-identical to an uninterrupted run).\n");
}

/* ------------------------------------------------------------ the data */

typedef struct training_set {
    size_t count, rows, cols;
    float *images;       /* (count, rows*cols) standardised */
    int *labels;         /* (count) classes, for a conditional computer; else NULL */
    size_t n_classes;    /* 0: unconditional */
    uint64_t hash;       /* FNV-1a of the raw pixels of the chosen images */
    size_t index[3];     /* the paper's digits: where in the dataset they came from */
} training_set;

/* FNV-1a, 64 bits: a fingerprint of the training data for the model's
 * metadata (not a cryptographic hash). */
static uint64_t fnv1a(uint64_t h, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= bytes[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Image k of d averaged over pool x pool blocks and standardised (zero mean,
 * unit variance over its pixels) into out (rows/pool * cols/pool). */
static void pool_and_standardise(const th_dataset *d, size_t k, size_t pool, float *out)
{
    const size_t npix = d->rows * d->cols, cols = d->cols / pool;
    const size_t nv = (d->rows / pool) * cols;
    memset(out, 0, nv * sizeof(float));
    for (size_t r = 0; r < d->rows; r++)
        for (size_t q = 0; q < d->cols; q++)
            out[(r / pool) * cols + q / pool] += (float)d->pixels[k * npix + r * d->cols + q];
    double mean = 0, var = 0;
    for (size_t i = 0; i < nv; i++) mean += (double)out[i];
    mean /= (double)nv;
    for (size_t i = 0; i < nv; i++) var += ((double)out[i] - mean) * ((double)out[i] - mean);
    const double sd = sqrt(var / (double)nv);
    for (size_t i = 0; i < nv; i++) out[i] = sd > 0 ? (float)(((double)out[i] - mean) / sd) : 0;
}

/* The training images: the paper's (the first 0, 1 and 2 of the folder's
 * training split) or the first p->images of the split, each pooled and
 * standardised; with p->classes, their labels. Returns TH_OK, or prints the
 * problem and returns TOOL_EXIT_FAIL. */
static int load_training_set(const train_params *p, training_set *ts)
{
    th_dataset *d = NULL;
    int rc = th_dataset_load_dir(p->data, "train", &d);
    if (rc != TH_OK) return tool_fail_lib(CMD, rc);
    if (!d->labels || d->rows % p->pool || d->cols % p->pool) {
        fprintf(stderr, "thermo " CMD ": %s: needs labels and images whose sides divide by %zu\n",
                p->data, p->pool);
        th_dataset_free(d);
        return TOOL_EXIT_FAIL;
    }
    if (p->images > d->count) {
        fprintf(stderr, "thermo " CMD ": --images %zu: %s has only %zu training images\n",
                p->images, p->data, d->count);
        th_dataset_free(d);
        return TOOL_EXIT_FAIL;
    }
    const size_t npix = d->rows * d->cols;
    ts->rows = d->rows / p->pool;
    ts->cols = d->cols / p->pool;
    ts->count = p->images ? p->images : 3;
    const size_t nv = ts->rows * ts->cols;
    ts->images = calloc(ts->count * nv, sizeof(float));
    ts->labels = calloc(ts->count, sizeof(int));
    ts->hash = 14695981039346656037ULL;
    if (!ts->images || !ts->labels) {
        th_dataset_free(d);
        return tool_fail_lib(CMD, TH_ENOMEM);
    }
    int max_label = 0;
    for (size_t c = 0; c < ts->count; c++) {
        size_t k = c;
        if (!p->images) { /* the first image of class c */
            k = 0;
            while (k < d->count && d->labels[k] != c) k++;
            if (k == d->count) {
                fprintf(stderr, "thermo " CMD ": %s: the training split lacks a %zu\n", p->data,
                        c);
                th_dataset_free(d);
                return TOOL_EXIT_FAIL;
            }
            ts->index[c] = k;
        }
        ts->hash = fnv1a(ts->hash, d->pixels + k * npix, npix);
        ts->labels[c] = d->labels[k];
        if (ts->labels[c] > max_label) max_label = ts->labels[c];
        pool_and_standardise(d, k, p->pool, ts->images + c * nv);
    }
    th_dataset_free(d);
    ts->n_classes = p->classes ? (size_t)max_label + 1 : 0;
    if (!p->classes) {
        free(ts->labels);
        ts->labels = NULL;
    }
    return TH_OK;
}

/* --------------------------------------------------------- the training */

typedef struct train_state {
    const train_params *tp;
    const th_gen_params *gp;
    const training_set *ts;
    char checkpoint[4096];
    double *loss;
    tool_progress bar;
    int failed; /* a checkpoint could not be written */
} train_state;

/* gp was validated before training, so writing it cannot fail. */
static void settings_meta(const train_params *tp, const th_gen_params *gp,
                          const training_set *ts, th_meta *meta)
{
    if (th_gen_params_to_meta(gp, meta) != TH_OK) th_meta_set(meta, "gen.error", th_last_error());
    th_meta_set(meta, "train.preset", preset_names[tp->preset]);
    if (tp->solver == SOLVER_GD) {
        th_meta_setf(meta, "train.updates", "%zu", tp->updates);
        th_meta_setf(meta, "train.learning_rate", "%.17g", tp->learning_rate);
        th_meta_setf(meta, "train.batch", "%zu", tp->batch);
        th_meta_set(meta, "train.optimizer", "gradient descent");
    } else {
        th_meta_setf(meta, "train.paths", "%zu", tp->paths ? tp->paths : ts->count);
        th_meta_setf(meta, "train.ridge", "%.17g", tp->ridge);
        th_meta_setf(meta, "train.stride", "%zu", tp->stride);
        th_meta_set(meta, "train.optimizer", "exact least squares");
    }
    th_meta_set(meta, "data.source", tp->data);
    if (tp->images)
        th_meta_setf(meta, "data.images", "first %zu of the training split", ts->count);
    else
        th_meta_setf(meta, "data.indices", "%zu,%zu,%zu", ts->index[0], ts->index[1],
                     ts->index[2]);
    th_meta_setf(meta, "data.fnv1a64", "%016llx", (unsigned long long)ts->hash);
    th_meta_setf(meta, "data.rows", "%zu", ts->rows);
    th_meta_setf(meta, "data.cols", "%zu", ts->cols);
    th_meta_setf(meta, "data.pool", "%zu", tp->pool);
}

/* The loss history up to and including update u, for the checkpoint. */
static char *format_losses(const double *loss, size_t n)
{
    char *text = malloc(n * 26 + 1);
    if (!text) return NULL;
    size_t len = 0;
    text[0] = '\0';
    for (size_t k = 0; k < n; k++)
        len += (size_t)sprintf(text + len, "%s%.17g", k ? "," : "", loss[k]);
    return text;
}

static int write_checkpoint(const train_state *st, const th_model *m, size_t done)
{
    th_meta meta = {0};
    settings_meta(st->tp, st->gp, st->ts, &meta);
    th_meta_setf(&meta, "train.done", "%zu", done);
    char *losses = format_losses(st->loss, done);
    int rc = losses ? th_meta_set(&meta, "train.loss", losses) : TH_ENOMEM;
    if (rc == TH_OK) rc = th_model_save(st->checkpoint, m, &meta);
    free(losses);
    th_meta_clear(&meta);
    return rc;
}

static int on_update(size_t u, double loss, const th_model *m, void *ctx)
{
    train_state *st = ctx;
    (void)loss;
    tool_progress_update(u + 1, st->tp->updates, &st->bar);
    if ((u + 1) % st->tp->checkpoint_every == 0 && u + 1 < st->tp->updates) {
        /* Rank 0 writes; every rank learns whether it could, so that all
         * stop together when it could not. */
        int rc = th_dist_rank() == 0 ? write_checkpoint(st, m, u + 1) : TH_OK;
        if (th_dist_any_error(rc) != TH_OK) {
            st->failed = 1;
            return 1;
        }
        /* For the kill-and-resume test: die like a killed process right
         * after the checkpoint of this update, with no chance to clean up. */
        const char *crash = getenv("THERMO_TEST_KILL_AFTER");
        if (crash && strtoull(crash, NULL, 10) == u + 1) raise(SIGKILL);
    }
    return 0;
}

/* A resume failure the library did not describe: printed here, and
 * RESUME_REPORTED returned so the caller does not print again. */
#define RESUME_REPORTED (-100)
static int resume_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int resume_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "thermo " CMD ": cannot resume: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return RESUME_REPORTED;
}

/* Reads a checkpoint written by an earlier run with the same settings:
 * the model, the number of updates done and their losses. */
static int resume_from(train_state *st, th_model **m, size_t *done)
{
    th_meta meta = {0};
    int rc = th_model_load(st->checkpoint, m, &meta);
    if (rc != TH_OK) return rc;
    th_meta want = {0};
    settings_meta(st->tp, st->gp, st->ts, &want);
    for (size_t k = 0; k < want.count && rc == TH_OK; k++) {
        const char *have = th_meta_get(&meta, want.keys[k]);
        if (!have || strcmp(have, want.values[k]) != 0)
            rc = resume_error("%s: was written with %s = %s, this run has %s: "
                                 "resume with the same settings", st->checkpoint, want.keys[k],
                                 have ? have : "(missing)", want.values[k]);
    }
    const char *d = th_meta_get(&meta, "train.done");
    const char *l = th_meta_get(&meta, "train.loss");
    char *end = NULL;
    unsigned long long n = d ? strtoull(d, &end, 10) : 0;
    if (rc == TH_OK && (!d || *end || n > st->tp->updates || !l))
        rc = resume_error("%s: train.done or train.loss missing or malformed",
                             st->checkpoint);
    for (size_t k = 0; rc == TH_OK && k < n; k++) {
        st->loss[k] = strtod(l, &end);
        if (end == l || (*end != ',' && *end != '\0') || !isfinite(st->loss[k]))
            rc = resume_error("%s: train.loss is malformed", st->checkpoint);
        l = *end ? end + 1 : end;
    }
    *done = (size_t)n;
    th_meta_clear(&meta);
    th_meta_clear(&want);
    if (rc != TH_OK) {
        th_model_free(*m);
        *m = NULL;
    }
    return rc;
}

/* What the exact solver did; losses per step and moving unit. */
typedef struct exact_report {
    size_t paths, iterations;
    double residual;
    int converged;
    double loss_zero, loss_solved; /* all parameters 0; the solution */
    double loss_compare;           /* --compare MODEL; NAN without */
    double stats_s, solve_s;
} exact_report;

typedef struct gen_report {
    double heat_mean, heat_sd;
    size_t recognised[3], inverted[3], unrecognised;
    double train_s, sample_s;
    exact_report exact;
} gen_report;

/* ------------------------------------------------------ the exact solver */

static int solve_progress(size_t iteration, double residual, void *ctx)
{
    tool_progress *bar = ctx;
    /* the bar counts decades of the residual from 1 down to the tolerance */
    (void)iteration;
    double decades = residual > 0 ? -log10(residual) : 6;
    tool_progress_update((size_t)fmax(0, fmin(6, decades)), 6, bar);
    return 0;
}

/* Loss per step and moving unit over the statistics' paths. */
static int per_unit_loss(const th_gen_stats *s, const th_gen_params *gp, const th_model *m,
                         double *out)
{
    double loss = 0;
    int rc = th_gen_stats_loss(s, m, &loss);
    *out = loss / ((double)th_gen_stats_rows(s) * (double)(gp->n_visible + gp->n_hidden));
    return rc;
}

/* Accumulates the sufficient statistics of the training paths, solves for
 * the minimiser, and reports the loss before and after (and of --compare). */
static int train_exact(const train_params *tp, const th_gen_params *gp, const training_set *ts,
                       th_model *m, exact_report *r)
{
    const size_t paths = tp->paths ? tp->paths : ts->count;
    th_gen_stats *s = NULL;
    tool_progress bar;
    tool_progress_begin(&bar, "paths", tp->quiet);
    double t0 = tool_now();
    int rc = th_gen_stats_accumulate(gp, TH_F32, ts->images, ts->labels, ts->count, paths,
                                     tp->batch > 1 ? tp->batch : 8, tp->stride,
                                     tool_progress_update, &bar,
                                     &s);
    tool_progress_end(&bar);
    r->stats_s = tool_now() - t0;
    if (rc != TH_OK) return rc;
    r->paths = th_gen_stats_paths(s);
    rc = per_unit_loss(s, gp, m, &r->loss_zero);

    th_solve_opts so = th_solve_opts_default();
    so.ridge = tp->ridge * (double)paths; /* --ridge is per path */
    so.progress = solve_progress;
    so.progress_ctx = &bar;
    th_solve_result res = {0};
    tool_progress_begin(&bar, "solve (decades of residual)", tp->quiet);
    t0 = tool_now();
    if (rc == TH_OK) rc = th_gen_stats_solve(s, m, &so, &res);
    r->solve_s = tool_now() - t0;
    tool_progress_end(&bar);
    r->iterations = res.iterations;
    r->residual = res.residual;
    r->converged = res.converged;
    if (rc == TH_OK) rc = per_unit_loss(s, gp, m, &r->loss_solved);
    r->loss_compare = NAN;
    if (rc == TH_OK && tp->compare) {
        th_model *other = NULL;
        rc = th_model_load(tp->compare, &other, NULL);
        if (rc == TH_OK) rc = per_unit_loss(s, gp, other, &r->loss_compare);
        th_model_free(other);
    }
    th_gen_stats_free(s);
    return rc;
}

/* ---------------------------------------------------------- the outputs */

static int join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static int write_loss_csv(const char *path, const double *loss, size_t n, size_t per_update)
{
    char tmp[4200];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (len < 0 || (size_t)len >= sizeof tmp) return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "update,loss,loss_per_step_and_unit\n");
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%zu,%.9g,%.9g\n", k, loss[k], loss[k] / (double)per_update);
    int bad = ferror(f);
    bad |= fclose(f);
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

static int save_png(const char *dir, const char *name, th_canvas *c, size_t magnify)
{
    char path[4200];
    if (!c || join(path, sizeof path, dir, name)) return TH_EINVAL;
    int rc = th_png_write(path, c, magnify);
    th_canvas_free(c);
    return rc;
}


static void describe(const train_params *tp, const th_gen_params *gp, const double *loss,
                     const gen_report *g, const char *out)
{
    const size_t steps = th_gen_steps(gp), n = gp->n_visible + gp->n_hidden;
    printf("model     %zu visible + %zu hidden units (visible-hidden, hidden-hidden "
           "couplings), hidden drive %s", gp->n_visible, gp->n_hidden,
           drive_names[gp->hidden_drive]);
    if (gp->n_classes) printf("; %zu label units (class-conditional)", gp->n_classes);
    printf("\n");
    if (tp->solver == SOLVER_EXACT) {
        const exact_report *e = &g->exact;
        printf("training  exact least squares on %zu noising paths of %zu steps: statistics "
               "%.2f s, solve %.2f s (%zu conjugate-gradient iterations, residual %.1e%s)\n",
               e->paths, steps, e->stats_s, e->solve_s, e->iterations, e->residual,
               e->converged ? "" : ", NOT converged");
        printf("loss      per step and unit: %.4f with every parameter 0, %.4f at the "
               "solution\n", e->loss_zero, e->loss_solved);
        if (!isnan(e->loss_compare))
            printf("compare   %s on the same paths: %.4f per step and unit\n", tp->compare,
                   e->loss_compare);
    } else {
        printf("training  %zu updates, learning rate %g, %zu path%s each of %zu steps: %.2f s "
               "(%.3f s per update)\n", tp->updates, tp->learning_rate, tp->batch,
               tp->batch == 1 ? "" : "s", steps, g->train_s, g->train_s / (double)tp->updates);
        printf("loss      %.6g at the first update, %.6g at the last (per step and unit: %.4f "
               "-> %.4f)\n", loss[0], loss[tp->updates - 1], loss[0] / (double)(steps * n),
               loss[tp->updates - 1] / (double)(steps * n));
    }
    printf("sampling  %zu samples: %.2f s (%.1f ms per sample)\n", tp->samples, g->sample_s,
           1e3 * g->sample_s / (double)tp->samples);
    printf("heat      %.4g kT per sample (sd %.3g) given to the bath; the paper reports about "
           "%.1e kT\n", g->heat_mean, g->heat_sd, PAPER_HEAT_KT);
    if (!tp->images)
        printf("digits    nearest training digit by correlation >= %.1f: 0: %zu, 1: %zu, 2: %zu; "
               "contrast-inverted: %zu, %zu, %zu; neither: %zu (of %zu)\n", RECOGNISED_CORR,
               g->recognised[0], g->recognised[1], g->recognised[2], g->inverted[0],
               g->inverted[1], g->inverted[2], g->unrecognised, tp->samples);
    printf("wrote     %s/{model.safetensors,%s summary.json, noising.png, denoising.png, "
           "samples.png, samples.safetensors, fields.png}\n", out,
           tp->solver == SOLVER_GD ? " loss.csv," : "");
    if (tp->images)
        printf("judge     thermo eval --samples %s/samples.safetensors (see thermo eval --help)\n",
               out);
}

static int write_summary(const char *path, const train_params *tp, const th_gen_params *gp,
                         const training_set *ts, const double *loss, const gen_report *g)
{
    const size_t steps = th_gen_steps(gp), n = gp->n_visible + gp->n_hidden;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "thermo_version", th_version());
    cJSON_AddStringToObject(root, "preset", preset_names[tp->preset]);
    cJSON *settings = cJSON_AddObjectToObject(root, "settings");
    th_meta meta = {0};
    settings_meta(tp, gp, ts, &meta);
    for (size_t k = 0; k < meta.count; k++)
        cJSON_AddStringToObject(settings, meta.keys[k], meta.values[k]);
    th_meta_clear(&meta);
    cJSON *l = cJSON_AddObjectToObject(root, "loss");
    if (tp->solver == SOLVER_GD) {
        cJSON_AddNumberToObject(l, "first", loss[0]);
        cJSON_AddNumberToObject(l, "last", loss[tp->updates - 1]);
        cJSON_AddNumberToObject(l, "first_per_step_and_unit", loss[0] / (double)(steps * n));
        cJSON_AddNumberToObject(l, "last_per_step_and_unit",
                                loss[tp->updates - 1] / (double)(steps * n));
    } else {
        const exact_report *e = &g->exact;
        cJSON_AddNumberToObject(l, "zero_per_step_and_unit", e->loss_zero);
        cJSON_AddNumberToObject(l, "solved_per_step_and_unit", e->loss_solved);
        if (!isnan(e->loss_compare)) {
            cJSON_AddStringToObject(l, "compared_model", tp->compare);
            cJSON_AddNumberToObject(l, "compared_per_step_and_unit", e->loss_compare);
        }
        cJSON *x = cJSON_AddObjectToObject(root, "exact_solver");
        cJSON_AddNumberToObject(x, "paths", (double)e->paths);
        cJSON_AddNumberToObject(x, "iterations", (double)e->iterations);
        cJSON_AddNumberToObject(x, "relative_residual", e->residual);
        cJSON_AddBoolToObject(x, "converged", e->converged);
        cJSON_AddNumberToObject(x, "statistics_seconds", e->stats_s);
        cJSON_AddNumberToObject(x, "solve_seconds", e->solve_s);
    }
    cJSON *h = cJSON_AddObjectToObject(root, "heat_per_sample_kT");
    cJSON_AddNumberToObject(h, "mean", g->heat_mean);
    cJSON_AddNumberToObject(h, "sd", g->heat_sd);
    cJSON_AddNumberToObject(h, "samples", (double)tp->samples);
    cJSON_AddNumberToObject(h, "paper_approx", PAPER_HEAT_KT);
    cJSON *r = tp->images ? cJSON_CreateObject() : cJSON_AddObjectToObject(root, "recognisable");
    cJSON_AddStringToObject(r, "criterion", "largest |Pearson correlation| with one of the "
                                            "three training digits, at least 0.5");
    const char *names[3] = {"0", "1", "2"};
    cJSON *ok = cJSON_AddObjectToObject(r, "as_digit");
    cJSON *inv = cJSON_AddObjectToObject(r, "as_inverted_digit");
    size_t total = 0;
    for (int c = 0; c < 3; c++) {
        cJSON_AddNumberToObject(ok, names[c], (double)g->recognised[c]);
        cJSON_AddNumberToObject(inv, names[c], (double)g->inverted[c]);
        total += g->recognised[c];
    }
    cJSON_AddNumberToObject(r, "share_recognised", (double)total / (double)tp->samples);
    cJSON_AddNumberToObject(r, "unrecognised", (double)g->unrecognised);
    if (tp->images) cJSON_Delete(r);
    cJSON *t = cJSON_AddObjectToObject(root, "wall_seconds");
    cJSON_AddNumberToObject(t, "training", g->train_s);
    if (tp->solver == SOLVER_GD)
        cJSON_AddNumberToObject(t, "per_update", g->train_s / (double)tp->updates);
    cJSON_AddNumberToObject(t, "sampling", g->sample_s);
    cJSON_AddNumberToObject(t, "per_sample", g->sample_s / (double)tp->samples);
    cJSON_AddNumberToObject(root, "threads", omp_get_max_threads());
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    int rc = text ? tool_write_text(path, text) : -1;
    free(text);
    return rc;
}

/* The grey range of every picture: that of the prepared states, the clean
 * images as the computer's units hold them (the quartic wells compress the
 * standardised pixels), so that digits and samples show at full contrast. */
static int picture_range(const th_gen_params *gp, const training_set *ts, float *lo, float *hi)
{
    const size_t nv = gp->n_visible;
    float *prepared = malloc(3 * nv * sizeof(float));
    if (!prepared) return TH_ENOMEM;
    const uint64_t ids[3] = {0, 1, 2};
    const size_t step0 = 0;
    int rc = th_gen_noising_snapshots(gp, ts->images, ts->labels, ids, 3, &step0, 1, prepared);
    *lo = *hi = 0;
    for (size_t i = 0; rc == TH_OK && i < 3 * nv; i++) {
        *lo = fminf(*lo, prepared[i]);
        *hi = fmaxf(*hi, prepared[i]);
    }
    free(prepared);
    return rc;
}

/* Generation, heat, recognisability, and the four pictures. */
static int generate(const train_params *tp, const th_gen_params *gp, const training_set *ts,
                    const th_model *m, float lo, float hi, gen_report *g)
{
    const size_t nv = gp->n_visible, steps = th_gen_steps(gp), N = tp->samples;
    const size_t rows = ts->rows, cols = ts->cols;
    size_t snap_steps[N_SNAPS];
    for (size_t j = 0; j < N_SNAPS; j++) snap_steps[j] = j * steps / (N_SNAPS - 1);
    size_t traj = N < 10 ? N : 10;
    float *samples = malloc(N * nv * sizeof(float));
    double *heat = malloc(N * sizeof(double));
    float *snaps = malloc(N_SNAPS * 10 * nv * sizeof(float));
    size_t *best = malloc(N * sizeof(size_t));
    double *corr = malloc(N * sizeof(double));
    float *fields = malloc(16 * nv * sizeof(float));
    int rc = TH_ENOMEM;
    if (!samples || !heat || !snaps || !best || !corr || !fields) goto done;

    tool_progress bar;
    tool_progress_begin(&bar, "samples", tp->quiet);
    th_gen_sample_opts so = th_gen_sample_opts_default();
    /* Under MPI each process generates its share of the samples (sample k
     * keeps its own noise stream whoever runs it); rank 0 also records the
     * snapshots of the first ones, then gathers everything. */
    size_t first = 0, mine = 0;
    th_dist_share(N, &first, &mine);
    if (th_dist_rank() == 0) {
        so.snap_steps = snap_steps;
        so.n_snaps = N_SNAPS;
        if (traj > mine) traj = mine; /* rank 0's share is all it can draw */
        so.snap_traj = traj;
        so.snap_out = snaps;
    }
    so.first = first;
    so.progress = tool_progress_update;
    so.progress_ctx = &bar;
    double t0 = tool_now();
    rc = mine ? th_gen_sample(m, gp, mine, &so, samples + first * nv, heat + first) : TH_OK;
    if ((rc = th_dist_any_error(rc)) == TH_OK && (rc = th_dist_gather_f32(samples, N, nv)) == TH_OK)
        rc = th_dist_gather_f64(heat, N, 1);
    g->sample_s = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK) goto done;
    if (th_dist_rank() != 0) goto done; /* only rank 0 writes */

    double sum = 0, sum2 = 0;
    for (size_t k = 0; k < N; k++) sum += heat[k];
    g->heat_mean = sum / (double)N;
    for (size_t k = 0; k < N; k++) sum2 += (heat[k] - g->heat_mean) * (heat[k] - g->heat_mean);
    g->heat_sd = N > 1 ? sqrt(sum2 / (double)(N - 1)) : 0;

    /* The paper's three digits: which one each sample resembles. Larger
     * training sets are judged by thermo eval's classifier instead. */
    for (size_t k = 0; !tp->images && k < N; k++) {
        if (k == 0) th_nearest_by_correlation(samples, N, ts->images, 3, nv, best, corr);
        if (corr[k] >= RECOGNISED_CORR) g->recognised[best[k]]++;
        else if (corr[k] <= -RECOGNISED_CORR) g->inverted[best[k]]++;
        else g->unrecognised++;
    }
    char path[4200];
    if (join(path, sizeof path, tp->out, "samples.safetensors") ||
        (rc = tool_save_samples(path, gp, samples, N, 0, NULL, heat)) != TH_OK)
        goto done;

    /* noising.png: 3 paths (one per training digit) at 10 times */
    float *noise_snaps = malloc(N_SNAPS * 3 * nv * sizeof(float));
    uint64_t ids[3] = {0, 1, 2};
    rc = noise_snaps ? th_gen_noising_snapshots(gp, ts->images, ts->labels, ids, 3, snap_steps, N_SNAPS,
                                                noise_snaps)
                     : TH_ENOMEM;
    if (rc == TH_OK) {
        /* strips want (n_snaps, n_traj, rows, cols): that is the layout */
        rc = save_png(tp->out, "noising.png",
                      th_picture_strips(noise_snaps, N_SNAPS, 3, rows, cols, 2, lo, hi), 3);
    }
    free(noise_snaps);
    if (rc == TH_OK)
        rc = save_png(tp->out, "denoising.png",
                      th_picture_strips(snaps, N_SNAPS, traj, rows, cols, 2, lo, hi), 3);
    if (rc == TH_OK)
        rc = save_png(tp->out, "samples.png",
                      th_picture_grid(samples, N < 100 ? N : 100, rows, cols, 10, 2, lo, hi), 3);
    if (rc == TH_OK) {
        /* fields.png: the couplings J_{i,a} of the 16 hidden units with the
         * largest coupling norm to the pixels, each as an image */
        const size_t n = m->n, nh = gp->n_hidden, shown = nh < 16 ? nh : 16;
        double *norm = calloc(nh, sizeof(double));
        int *taken = calloc(nh, sizeof(int));
        rc = norm && taken ? TH_OK : TH_ENOMEM;
        for (size_t a = 0; rc == TH_OK && a < nh; a++)
            for (size_t i = 0; i < nv; i++) {
                double v = th_get(m->J, m->dtype, i * n + nv + a);
                norm[a] += v * v;
            }
        for (size_t f = 0; rc == TH_OK && f < shown; f++) {
            size_t pick = 0;
            double bestn = -1;
            for (size_t a = 0; a < nh; a++)
                if (!taken[a] && norm[a] > bestn) {
                    bestn = norm[a];
                    pick = a;
                }
            taken[pick] = 1;
            for (size_t i = 0; i < nv; i++)
                fields[f * nv + i] = (float)th_get(m->J, m->dtype, i * n + nv + pick);
        }
        free(norm);
        free(taken);
        if (rc == TH_OK)
            rc = save_png(tp->out, "fields.png",
                          th_picture_fields(fields, shown, rows, cols, 4, 2), 3);
    }
done:
    free(samples);
    free(heat);
    free(snaps);
    free(best);
    free(corr);
    free(fields);
    return rc;
}

/* ---------------------------------------------------------- the command */

static int fail(const char *what)
{
    const char *why = th_last_error();
    fprintf(stderr, "thermo " CMD ": %s%s%s\n", what ? what : "", what && why[0] ? ": " : "",
            why[0] ? why : "");
    return TOOL_EXIT_FAIL;
}

int cmd_train(int argc, char **argv)
{
    /* Under mpirun every rank trains on its share of the paths and samples;
     * rank 0 alone writes files (its stdout alone is shown: main.c). */
    const int lead = th_dist_rank() == 0;
    train_params p;
    set_preset(&p, PRESET_PRL2026);
    const tool_opt opts[] = {
        {"preset", "NAME", TOOL_OPT_CHOICE, &p.preset, preset_names,
         "start from a named configuration (below)", NULL},
        {"out", "RUN", TOOL_OPT_STRING, &p.out, NULL, "folder for the results (required)",
         NULL},
        {"data", "DIR", TOOL_OPT_STRING, &p.data, NULL,
         "folder of IDX files (train-images/labels-idx*-ubyte[.gz])", NULL},
        {"images", "N", TOOL_OPT_SIZE, &p.images, NULL,
         "train on the first N training images; 0 = the paper's first 0, 1 and 2", NULL},
        {"classes", NULL, TOOL_OPT_FLAG, &p.classes, NULL,
         "class-conditional: label units clamped at the class code, coupled to the hidden units",
         NULL},
        {"class-visible", NULL, TOOL_OPT_FLAG, &p.class_visible, NULL,
         "with --classes: also couple the labels to the pixels (per-class pixel biases)", NULL},
        {"solver", "gd|exact", TOOL_OPT_CHOICE, &p.solver, solver_names,
         "gradient descent (the paper) or the exact least-squares minimiser", NULL},
        {"paths", "P", TOOL_OPT_SIZE, &p.paths, NULL,
         "exact solver: noising paths (path q noises image q mod N); 0 = one per image", NULL},
        {"stride", "S", TOOL_OPT_COUNT, &p.stride, NULL,
         "exact solver: only every S-th step of each path enters the statistics", NULL},
        {"ridge", "LAMBDA", TOOL_OPT_NONNEG, &p.ridge, NULL,
         "exact solver: add LAMBDA x paths x |J|^2 / 2 to the objective (couplings between "
         "moving units)", NULL},
        {"compare", "MODEL", TOOL_OPT_STRING, &p.compare, NULL,
         "exact solver: also report this model's loss on the same paths", "none"},
        {"updates", "N", TOOL_OPT_COUNT, &p.updates, NULL, "gradient-descent updates", NULL},
        {"lr", "RATE", TOOL_OPT_POSITIVE, &p.learning_rate, NULL,
         "learning rate on the gradient summed over a path's steps", NULL},
        {"batch", "B", TOOL_OPT_COUNT, &p.batch, NULL, "noising paths per update", NULL},
        {"samples", "N", TOOL_OPT_COUNT, &p.samples, NULL,
         "samples generated after training (heat statistics, pictures)", NULL},
        {"t-f", "TIME", TOOL_OPT_POSITIVE, &p.t_f, NULL,
         "duration of preparation, noising and generation (units of 1/mu)", NULL},
        {"hidden", "N", TOOL_OPT_COUNT, &p.hidden, NULL, "number of hidden units", NULL},
        {"hidden-drive", "copy|projection", TOOL_OPT_CHOICE, &p.hidden_drive, drive_names,
         "how noising drives hidden units: pixel copies or a fixed random projection", NULL},
        {"seed", "S", TOOL_OPT_U64, &p.seed, NULL, "seed of every path and sample", NULL},
        {"checkpoint-every", "K", TOOL_OPT_COUNT, &p.checkpoint_every, NULL,
         "write RUN/checkpoint.safetensors every K updates", NULL},
        {"resume", NULL, TOOL_OPT_FLAG, &p.resume, NULL,
         "continue from RUN/checkpoint.safetensors (same settings required)", NULL},
        {"threads", "T", TOOL_OPT_COUNT, &p.threads, NULL,
         "threads for OpenMP and OpenBLAS; results do not depend on it", "all cores"},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "no progress bars", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc = tool_parse(CMD, opts, n_opts, argc, argv);
    if (rc == TOOL_PARSE_HELP) {
        set_preset(&p, PRESET_PRL2026);
        print_help(opts, n_opts);
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    int preset = p.preset;
    set_preset(&p, preset);
    if (tool_parse(CMD, opts, n_opts, argc, argv) != TOOL_EXIT_OK) return TOOL_EXIT_USAGE;
    if (!p.out) {
        fprintf(stderr, "thermo " CMD ": --out RUN is required\n"
                        "Run 'thermo " CMD " --help' for its options.\n");
        return TOOL_EXIT_USAGE;
    }
    if (p.threads) {
        omp_set_num_threads((int)p.threads);
        openblas_set_num_threads((int)p.threads);
    }
    if (tool_make_folder(CMD, p.out) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;

    training_set ts = {0};
    if (p.solver == SOLVER_EXACT && p.resume) {
        fprintf(stderr, "thermo " CMD ": --resume applies to gradient descent; the exact "
                        "solver has no updates to resume\n");
        return TOOL_EXIT_USAGE;
    }
    if (load_training_set(&p, &ts) != TH_OK) {
        free(ts.images);
        free(ts.labels);
        return TOOL_EXIT_FAIL;
    }

    th_gen_params gp = th_gen_params_default();
    gp.n_visible = ts.rows * ts.cols;
    gp.n_hidden = p.hidden;
    gp.t_f = p.t_f;
    gp.seed = p.seed;
    gp.hidden_drive = (th_hidden_drive)p.hidden_drive;
    gp.n_classes = ts.n_classes;
    gp.label_visible = p.class_visible && ts.n_classes;
    double *loss = calloc(p.updates, sizeof(double));
    th_model *m = NULL;
    int exit_code = TOOL_EXIT_FAIL;
    train_state st = {.tp = &p, .gp = &gp, .ts = &ts, .loss = loss};
    if (!loss || join(st.checkpoint, sizeof st.checkpoint, p.out, "checkpoint.safetensors")) {
        fprintf(stderr, "thermo " CMD ": out of memory or path too long\n");
        goto done;
    }
    if (th_gen_params_validate(&gp) != TH_OK) {
        fail("settings");
        goto done;
    }
    size_t done_updates = 0;
    if (p.resume) {
        rc = resume_from(&st, &m, &done_updates);
        if (rc != TH_OK) {
            if (rc != RESUME_REPORTED) fail("cannot resume");
            goto done;
        }
        if (!p.quiet)
            fprintf(stderr, "resuming from %s after %zu updates\n", st.checkpoint, done_updates);
    } else if (!(m = th_gen_model_alloc(&gp, TH_F32))) {
        fail(NULL);
        goto done;
    }

    gen_report g = {0};
    th_gen_train_opts to = th_gen_train_opts_default();
    to.updates = p.updates;
    to.learning_rate = p.learning_rate;
    to.batch = p.batch;
    to.on_update = on_update;
    to.ctx = &st;
    double t0 = tool_now();
    if (p.solver == SOLVER_EXACT) {
        rc = train_exact(&p, &gp, &ts, m, &g.exact);
    } else {
        tool_progress_begin(&st.bar, "updates", p.quiet);
        rc = th_gen_train(m, &gp, ts.images, ts.labels, ts.count, &to, done_updates, loss);
        tool_progress_end(&st.bar);
    }
    g.train_s = tool_now() - t0;
    if (rc == RESUME_REPORTED) goto done;
    if (rc != TH_OK) {
        fail(st.failed ? "writing the checkpoint failed" : NULL);
        goto done;
    }

    char path[4200];
    th_meta meta = {0};
    settings_meta(&p, &gp, &ts, &meta);
    float lo, hi;
    if (picture_range(&gp, &ts, &lo, &hi) != TH_OK) {
        th_meta_clear(&meta);
        fail(NULL);
        goto done;
    }
    th_meta_setf(&meta, "picture.lo", "%.9g", (double)lo);
    th_meta_setf(&meta, "picture.hi", "%.9g", (double)hi);
    join(path, sizeof path, p.out, "model.safetensors");
    rc = lead ? th_model_save(path, m, &meta) : TH_OK;
    rc = th_dist_any_error(rc);
    th_meta_clear(&meta);
    if (rc != TH_OK) {
        fail(NULL);
        goto done;
    }
    join(path, sizeof path, p.out, "loss.csv");
    if (lead && p.solver == SOLVER_GD &&
        write_loss_csv(path, loss, p.updates,
                       th_gen_steps(&gp) * (gp.n_visible + gp.n_hidden)) != 0) {
        fprintf(stderr, "thermo " CMD ": %s: cannot write: %s\n", path, strerror(errno));
        goto done;
    }
    if (generate(&p, &gp, &ts, m, lo, hi, &g) != TH_OK) {
        fail(NULL);
        goto done;
    }
    if (!lead) {
        exit_code = TOOL_EXIT_OK;
        goto done;
    }
    join(path, sizeof path, p.out, "summary.json");
    if (write_summary(path, &p, &gp, &ts, loss, &g) != 0) {
        fprintf(stderr, "thermo " CMD ": %s: cannot write: %s\n", path, strerror(errno));
        goto done;
    }
    describe(&p, &gp, loss, &g, p.out);
    exit_code = TOOL_EXIT_OK;
done:
    th_model_free(m);
    free(loss);
    free(ts.images);
    free(ts.labels);
    return exit_code;
}
