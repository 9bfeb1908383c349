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
 *     RUN/fields.png          16 hidden units' couplings to the pixels */
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

enum { PRESET_PRL2026 = 0, PRESET_TINY = 1 };
static const char *const preset_names[] = {"prl2026", "tiny", NULL};
static const char *const drive_names[] = {"copy", "projection", NULL};

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
    };
    if (preset == PRESET_TINY) { /* for tests: seconds, not minutes */
        p->updates = 4;
        p->samples = 20;
        p->checkpoint_every = 1;
        p->t_f = 0.1;
        p->hidden = 16;
        p->pool = 4;
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
           "\n"
           "Writes RUN/model.safetensors, loss.csv, summary.json, noising.png,\n"
           "denoising.png, samples.png and fields.png, and a checkpoint that --resume\n"
           "continues from (bit-identical to an uninterrupted run).\n");
}

/* ------------------------------------------------------------ the data */

typedef struct training_set {
    size_t count, rows, cols;
    float *images;       /* (count, rows*cols) standardised */
    uint64_t hash;       /* FNV-1a of the raw pixels of the chosen images */
    size_t index[3];     /* where in the dataset they came from */
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

/* The paper's training set: the first 0, 1 and 2 of the folder's training
 * split, each averaged over pool x pool blocks and standardised. */
static int load_training_set(const train_params *p, training_set *ts)
{
    th_dataset *d = NULL;
    int rc = th_dataset_load_dir(p->data, "train", &d);
    if (rc != TH_OK) return rc;
    if (!d->labels || d->rows % p->pool || d->cols % p->pool) {
        th_dataset_free(d);
        return -1;
    }
    ts->count = 3;
    ts->rows = d->rows / p->pool;
    ts->cols = d->cols / p->pool;
    const size_t npix = d->rows * d->cols, nv = ts->rows * ts->cols;
    ts->images = calloc(3 * nv, sizeof(float));
    float *full = calloc(npix, sizeof(float));
    ts->hash = 14695981039346656037ULL;
    size_t found = 0;
    for (size_t c = 0; c < 3 && ts->images && full; c++) {
        size_t k = 0;
        while (k < d->count && d->labels[k] != c) k++;
        if (k == d->count) break;
        ts->index[c] = k;
        ts->hash = fnv1a(ts->hash, d->pixels + k * npix, npix);
        for (size_t r = 0; r < d->rows; r++)
            for (size_t q = 0; q < d->cols; q++)
                ts->images[c * nv + (r / p->pool) * ts->cols + q / p->pool] +=
                    (float)d->pixels[k * npix + r * d->cols + q];
        /* standardise the pooled image: zero mean, unit variance */
        double mean = 0, var = 0;
        float *s = ts->images + c * nv;
        for (size_t i = 0; i < nv; i++) mean += (double)s[i];
        mean /= (double)nv;
        for (size_t i = 0; i < nv; i++) var += ((double)s[i] - mean) * ((double)s[i] - mean);
        const double sd = sqrt(var / (double)nv);
        for (size_t i = 0; i < nv; i++) s[i] = sd > 0 ? (float)(((double)s[i] - mean) / sd) : 0;
        found++;
    }
    free(full);
    th_dataset_free(d);
    if (found < 3) {
        free(ts->images);
        ts->images = NULL;
        return -2;
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
    th_meta_setf(meta, "train.updates", "%zu", tp->updates);
    th_meta_setf(meta, "train.learning_rate", "%.17g", tp->learning_rate);
    th_meta_setf(meta, "train.batch", "%zu", tp->batch);
    th_meta_set(meta, "train.optimizer", "gradient descent");
    th_meta_set(meta, "data.source", tp->data);
    th_meta_setf(meta, "data.indices", "%zu,%zu,%zu", ts->index[0], ts->index[1], ts->index[2]);
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
        if (write_checkpoint(st, m, u + 1) != TH_OK) {
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

typedef struct gen_report {
    double heat_mean, heat_sd;
    size_t recognised[3], inverted[3], unrecognised;
    double train_s, sample_s;
} gen_report;

static void describe(const train_params *tp, const th_gen_params *gp, const double *loss,
                     const gen_report *g, const char *out)
{
    const size_t steps = th_gen_steps(gp), n = gp->n_visible + gp->n_hidden;
    printf("model     %zu visible + %zu hidden units (visible-hidden, hidden-hidden "
           "couplings), hidden drive %s\n", gp->n_visible, gp->n_hidden,
           drive_names[gp->hidden_drive]);
    printf("training  %zu updates, learning rate %g, %zu path%s each of %zu steps: %.2f s "
           "(%.3f s per update)\n", tp->updates, tp->learning_rate, tp->batch,
           tp->batch == 1 ? "" : "s", steps, g->train_s, g->train_s / (double)tp->updates);
    printf("loss      %.6g at the first update, %.6g at the last (per step and unit: %.4f -> "
           "%.4f)\n", loss[0], loss[tp->updates - 1],
           loss[0] / (double)(steps * n * tp->batch),
           loss[tp->updates - 1] / (double)(steps * n * tp->batch));
    printf("sampling  %zu samples: %.2f s (%.1f ms per sample)\n", tp->samples, g->sample_s,
           1e3 * g->sample_s / (double)tp->samples);
    printf("heat      %.4g kT per sample (sd %.3g) given to the bath; the paper reports about "
           "%.1e kT\n", g->heat_mean, g->heat_sd, PAPER_HEAT_KT);
    printf("digits    nearest training digit by correlation >= %.1f: 0: %zu, 1: %zu, 2: %zu; "
           "contrast-inverted: %zu, %zu, %zu; neither: %zu (of %zu)\n", RECOGNISED_CORR,
           g->recognised[0], g->recognised[1], g->recognised[2], g->inverted[0], g->inverted[1],
           g->inverted[2], g->unrecognised, tp->samples);
    printf("wrote     %s/{model.safetensors, loss.csv, summary.json, noising.png, "
           "denoising.png, samples.png, fields.png}\n", out);
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
    cJSON_AddNumberToObject(l, "first", loss[0]);
    cJSON_AddNumberToObject(l, "last", loss[tp->updates - 1]);
    cJSON_AddNumberToObject(l, "first_per_step_and_unit", loss[0] / (double)(steps * n * tp->batch));
    cJSON_AddNumberToObject(l, "last_per_step_and_unit",
                            loss[tp->updates - 1] / (double)(steps * n * tp->batch));
    cJSON *h = cJSON_AddObjectToObject(root, "heat_per_sample_kT");
    cJSON_AddNumberToObject(h, "mean", g->heat_mean);
    cJSON_AddNumberToObject(h, "sd", g->heat_sd);
    cJSON_AddNumberToObject(h, "samples", (double)tp->samples);
    cJSON_AddNumberToObject(h, "paper_approx", PAPER_HEAT_KT);
    cJSON *r = cJSON_AddObjectToObject(root, "recognisable");
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
    cJSON *t = cJSON_AddObjectToObject(root, "wall_seconds");
    cJSON_AddNumberToObject(t, "training", g->train_s);
    cJSON_AddNumberToObject(t, "per_update", g->train_s / (double)tp->updates);
    cJSON_AddNumberToObject(t, "sampling", g->sample_s);
    cJSON_AddNumberToObject(t, "per_sample", g->sample_s / (double)tp->samples);
    cJSON_AddNumberToObject(root, "threads", omp_get_max_threads());
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return -1;
    char tmp[4200];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = len > 0 && (size_t)len < sizeof tmp ? fopen(tmp, "w") : NULL;
    int bad = !f;
    if (f) {
        bad |= fputs(text, f) < 0 || fputc('\n', f) == EOF;
        bad |= fclose(f) != 0;
    }
    free(text);
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
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
    int rc = th_gen_noising_snapshots(gp, ts->images, NULL, ids, 3, &step0, 1, prepared);
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
    const size_t traj = N < 10 ? N : 10;
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
    so.snap_steps = snap_steps;
    so.n_snaps = N_SNAPS;
    so.snap_traj = traj;
    so.snap_out = snaps;
    so.progress = tool_progress_update;
    so.progress_ctx = &bar;
    double t0 = tool_now();
    rc = th_gen_sample(m, gp, N, &so, samples, heat);
    g->sample_s = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK) goto done;

    double sum = 0, sum2 = 0;
    for (size_t k = 0; k < N; k++) sum += heat[k];
    g->heat_mean = sum / (double)N;
    for (size_t k = 0; k < N; k++) sum2 += (heat[k] - g->heat_mean) * (heat[k] - g->heat_mean);
    g->heat_sd = N > 1 ? sqrt(sum2 / (double)(N - 1)) : 0;

    th_nearest_by_correlation(samples, N, ts->images, 3, nv, best, corr);
    for (size_t k = 0; k < N; k++) {
        if (corr[k] >= RECOGNISED_CORR) g->recognised[best[k]]++;
        else if (corr[k] <= -RECOGNISED_CORR) g->inverted[best[k]]++;
        else g->unrecognised++;
    }

    /* noising.png: 3 paths (one per training digit) at 10 times */
    float *noise_snaps = malloc(N_SNAPS * 3 * nv * sizeof(float));
    uint64_t ids[3] = {0, 1, 2};
    rc = noise_snaps ? th_gen_noising_snapshots(gp, ts->images, NULL, ids, 3, snap_steps, N_SNAPS,
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
    train_params p;
    set_preset(&p, PRESET_PRL2026);
    const tool_opt opts[] = {
        {"preset", "NAME", TOOL_OPT_CHOICE, &p.preset, preset_names,
         "start from a named configuration (below)", NULL},
        {"out", "RUN", TOOL_OPT_STRING, &p.out, NULL, "folder for the results (required)",
         NULL},
        {"data", "DIR", TOOL_OPT_STRING, &p.data, NULL,
         "folder of IDX files; the first 0, 1 and 2 of its training split are used", NULL},
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
    if (mkdir(p.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "thermo " CMD ": %s: cannot create the folder: %s\n", p.out,
                strerror(errno));
        return TOOL_EXIT_FAIL;
    }

    training_set ts = {0};
    rc = load_training_set(&p, &ts);
    if (rc == -1) {
        fprintf(stderr, "thermo " CMD ": %s: needs labels and images whose sides divide by %zu\n",
                p.data, p.pool);
        return TOOL_EXIT_FAIL;
    }
    if (rc == -2) {
        fprintf(stderr, "thermo " CMD ": %s: the training split lacks a 0, a 1 or a 2\n", p.data);
        return TOOL_EXIT_FAIL;
    }
    if (rc != TH_OK) return fail(NULL);

    th_gen_params gp = th_gen_params_default();
    gp.n_visible = ts.rows * ts.cols;
    gp.n_hidden = p.hidden;
    gp.t_f = p.t_f;
    gp.seed = p.seed;
    gp.hidden_drive = (th_hidden_drive)p.hidden_drive;
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
    tool_progress_begin(&st.bar, "updates", p.quiet);
    double t0 = tool_now();
    rc = th_gen_train(m, &gp, ts.images, NULL, ts.count, &to, done_updates, loss);
    g.train_s = tool_now() - t0;
    tool_progress_end(&st.bar);
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
    rc = th_model_save(path, m, &meta);
    th_meta_clear(&meta);
    if (rc != TH_OK) {
        fail(NULL);
        goto done;
    }
    join(path, sizeof path, p.out, "loss.csv");
    if (write_loss_csv(path, loss, p.updates,
                       th_gen_steps(&gp) * (gp.n_visible + gp.n_hidden) * p.batch) != 0) {
        fprintf(stderr, "thermo " CMD ": %s: cannot write: %s\n", path, strerror(errno));
        goto done;
    }
    if (generate(&p, &gp, &ts, m, lo, hi, &g) != TH_OK) {
        fail(NULL);
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
    return exit_code;
}
