/* test_gen_run.c - the training run around the generator's optimisers: the
 * training set (the paper's three digits standardised, pooling averages
 * blocks), the recipes, checkpoints (a save and load round-trips the model
 * and the descent's state bit for bit; a resumed run equals an
 * uninterrupted one), the CSV tables, and what is shown of a trained model
 * (sampling spread over processes, the grey range from metadata or
 * percentiles, recognition, the strongest fields). */
#include "harness.h"
#include "thermo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A labelled in-memory dataset of count images rows x cols with pixel values
 * from a fixed pattern, so that every block differs. */
static th_dataset *pattern_dataset(size_t count, size_t rows, size_t cols)
{
    th_dataset *d = calloc(1, sizeof *d);
    d->count = count;
    d->rows = rows;
    d->cols = cols;
    d->pixels = malloc(count * rows * cols);
    d->labels = malloc(count);
    for (size_t k = 0; k < count; k++) {
        d->labels[k] = (uint8_t)(k % 3);
        for (size_t i = 0; i < rows * cols; i++)
            d->pixels[k * rows * cols + i] = (uint8_t)((i * 37 + k * 11 + (i * i) % 7) % 256);
    }
    return d;
}

static void check_standardised(const float *x, size_t n)
{
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) mean += (double)x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
    CHECK_CLOSE(mean, 0, 1e-6);
    CHECK_CLOSE(var / (double)n, 1, 1e-5);
}

/* The paper's digits from data/prl2026: three images, the first 0, 1 and 2
 * of the split, each with zero mean and unit variance over its pixels. */
static void test_gen_run_paper_digits_standardised(void)
{
    th_gen_training_set *ts = NULL;
    int rc = th_gen_training_set_load("data/prl2026", 0, 1, 1, &ts);
    CHECK_EQ_INT(rc, TH_OK);
    if (rc != TH_OK) {
        fprintf(stderr, "  %s\n", th_last_error());
        return;
    }
    CHECK_EQ_INT(ts->count, 3);
    CHECK_EQ_INT(ts->rows, 28);
    CHECK_EQ_INT(ts->cols, 28);
    CHECK_EQ_INT(ts->n_classes, 3);
    for (size_t c = 0; c < 3; c++) {
        CHECK_EQ_INT(ts->labels[c], (int)c);
        check_standardised(ts->images + c * 784, 784);
    }
    th_gen_training_set_free(ts);
    /* Without labels asked for there are none, and the set is unconditional. */
    CHECK_EQ_INT(th_gen_training_set_load("data/prl2026", 0, 4, 0, &ts), TH_OK);
    CHECK(ts->labels == NULL);
    CHECK_EQ_INT(ts->n_classes, 0);
    CHECK_EQ_INT(ts->rows * ts->cols, 49);
    th_gen_training_set_free(ts);
}

/* Pooling 28 x 28 to 14 x 14 averages 2 x 2 blocks: the result is the
 * standardised image of the block means. */
static void test_gen_run_pooling_averages_blocks(void)
{
    th_dataset *d = pattern_dataset(2, 28, 28);
    float got[196];
    double mean[196];
    for (size_t r = 0; r < 14; r++)
        for (size_t c = 0; c < 14; c++) {
            const uint8_t *p = d->pixels + 784 + (2 * r) * 28 + 2 * c;
            mean[r * 14 + c] = (p[0] + p[1] + p[28] + p[29]) / 4.0;
        }
    th_gen_pool_standardise(d, 1, 2, got);
    check_standardised(got, 196);
    /* Standardise the block means by hand and compare. */
    double mu = 0, var = 0;
    for (size_t i = 0; i < 196; i++) mu += mean[i];
    mu /= 196;
    for (size_t i = 0; i < 196; i++) var += (mean[i] - mu) * (mean[i] - mu);
    const double sd = sqrt(var / 196);
    for (size_t i = 0; i < 196; i++) CHECK_CLOSE(got[i], (mean[i] - mu) / sd, 1e-5);
    /* pool 1 is plain standardisation */
    float one[784], ref[784];
    th_gen_pool_standardise(d, 0, 1, one);
    th_dataset_standardize(d, 0, ref);
    for (size_t i = 0; i < 784; i++) CHECK_CLOSE(one[i], ref[i], 1e-6);
    th_dataset_free(d);
}

static void test_gen_run_training_set_rejects(void)
{
    th_dataset *d = pattern_dataset(4, 28, 28);
    th_gen_training_set *ts = NULL;
    CHECK_EQ_INT(th_gen_training_set_from_dataset(d, "mem", 0, 3, 0, &ts), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "divide by 3");
    CHECK_EQ_INT(th_gen_training_set_from_dataset(d, "mem", 5, 1, 0, &ts), TH_EINVAL);
    CHECK(ts == NULL);
    /* the first N: labels in order, the fingerprint depends on the images */
    CHECK_EQ_INT(th_gen_training_set_from_dataset(d, "mem", 4, 2, 1, &ts), TH_OK);
    CHECK_EQ_INT(ts->count, 4);
    CHECK_EQ_INT(ts->labels[3], 0);
    const uint64_t h4 = ts->fnv1a64;
    th_gen_training_set_free(ts);
    CHECK_EQ_INT(th_gen_training_set_from_dataset(d, "mem", 3, 2, 1, &ts), TH_OK);
    CHECK(ts->fnv1a64 != h4);
    th_gen_training_set_free(ts);
    for (size_t k = 0; k < 4; k++) d->labels[k] = 0; /* no 1 or 2 */
    CHECK_EQ_INT(th_gen_training_set_from_dataset(d, "mem", 0, 1, 0, &ts), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "lacks a 1");
    th_dataset_free(d);
}

static void test_gen_run_recipes(void)
{
    const char *const *names = th_gen_recipe_names();
    CHECK(strcmp(names[0], "prl2026") == 0);
    th_gen_recipe r;
    for (size_t k = 0; names[k]; k++) {
        CHECK_EQ_INT(th_gen_recipe_preset(names[k], &r), TH_OK);
        CHECK(strcmp(r.name, names[k]) == 0);
    }
    CHECK_EQ_INT(th_gen_recipe_preset("prl2026", &r), TH_OK);
    CHECK_EQ_INT(r.updates, 100);
    CHECK_CLOSE(r.learning_rate, 4e-4, 0);
    CHECK_EQ_INT(r.hidden, 512);
    CHECK_EQ_INT(r.solver, TH_GEN_SOLVER_GD);
    CHECK_EQ_INT(th_gen_recipe_preset("mnist10-cond", &r), TH_OK);
    CHECK_EQ_INT(r.solver, TH_GEN_SOLVER_EXACT);
    CHECK(r.classes && r.class_visible);
    CHECK_EQ_INT(th_gen_recipe_preset("nonesuch", &r), TH_EINVAL);
}

/* A tiny generator on the pooled paper digits, its settings and images. */
typedef struct tiny_run {
    th_gen_recipe r;
    th_gen_params p;
    th_gen_training_set *ts;
    th_meta settings;
} tiny_run;

static int tiny_setup(tiny_run *t)
{
    memset(t, 0, sizeof *t);
    if (th_gen_recipe_preset("tiny", &t->r) != TH_OK ||
        th_gen_training_set_load(t->r.data, 0, t->r.pool, 0, &t->ts) != TH_OK ||
        th_gen_recipe_params(&t->r, t->ts, &t->p) != TH_OK ||
        th_gen_recipe_to_meta(&t->r, &t->p, t->ts, &t->settings) != TH_OK) {
        fprintf(stderr, "  tiny setup: %s\n", th_last_error());
        return -1;
    }
    return 0;
}

static void tiny_free(tiny_run *t)
{
    th_gen_training_set_free(t->ts);
    th_meta_clear(&t->settings);
}

static int same_model(const th_model *a, const th_model *b)
{
    const size_t es = th_dtype_size(a->dtype);
    return a->n == b->n && a->dtype == b->dtype && memcmp(a->J.v, b->J.v, a->n * a->n * es) == 0 &&
           memcmp(a->b.v, b->b.v, a->n * es) == 0 && memcmp(a->J2.v, b->J2.v, a->n * es) == 0 &&
           memcmp(a->J4.v, b->J4.v, a->n * es) == 0 && a->kT == b->kT && a->mu == b->mu;
}

static void temp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/thermo_test_gen_run_%ld_%s", (long)getpid(), name);
}

/* Save and load: the model, the updates done and their losses come back bit
 * for bit; other settings are refused, naming the key. */
static void test_gen_run_checkpoint_round_trip(void)
{
    tiny_run t;
    if (tiny_setup(&t) != 0) {
        CHECK(0);
        return;
    }
    th_model *m = th_gen_model_alloc(&t.p, TH_F32);
    double loss[4] = {0};
    th_gen_train_opts o = th_gen_train_opts_default();
    o.updates = 3;
    CHECK_EQ_INT(th_gen_train(m, &t.p, t.ts->images, NULL, t.ts->count, &o, 0, loss), TH_OK);
    loss[1] = 1.0 / 3.0; /* a value %.9g would not round-trip */
    char path[256];
    temp_path(path, sizeof path, "ck.safetensors");
    CHECK_EQ_INT(th_gen_checkpoint_save(path, m, &t.settings, 3, loss), TH_OK);
    th_model *back = NULL;
    double again[4] = {0};
    size_t done = 0;
    CHECK_EQ_INT(th_gen_checkpoint_load(path, &t.settings, 4, &back, &done, again), TH_OK);
    CHECK_EQ_INT(done, 3);
    CHECK(back && same_model(m, back));
    CHECK(memcmp(loss, again, 3 * sizeof(double)) == 0);
    th_model_free(back);
    /* fewer updates than the checkpoint has done */
    CHECK_EQ_INT(th_gen_checkpoint_load(path, &t.settings, 2, &back, &done, again), TH_EFORMAT);
    CHECK(back == NULL);
    th_meta other = {0};
    th_gen_recipe r2 = t.r;
    r2.learning_rate = 1e-3;
    CHECK_EQ_INT(th_gen_recipe_to_meta(&r2, &t.p, t.ts, &other), TH_OK);
    CHECK_EQ_INT(th_gen_checkpoint_load(path, &other, 4, &back, &done, again), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "train.learning_rate");
    th_meta_clear(&other);
    remove(path);
    th_model_free(m);
    tiny_free(&t);
}

/* What the checkpoint hook saw. */
typedef struct hook_log {
    size_t calls, last;
} hook_log;

static int on_written(size_t done, void *ctx)
{
    hook_log *h = ctx;
    h->calls++;
    h->last = done;
    return done == 2; /* stop after the checkpoint of update 2: an interruption */
}

/* Interrupted after the checkpoint at update 2, resumed from it: the same
 * model and losses as a run never interrupted. */
static void test_gen_run_resume_equals_uninterrupted(void)
{
    tiny_run t;
    if (tiny_setup(&t) != 0) {
        CHECK(0);
        return;
    }
    const size_t U = 5;
    th_gen_train_opts o = th_gen_train_opts_default();
    o.updates = U;
    o.batch = 2;
    th_model *whole = th_gen_model_alloc(&t.p, TH_F32);
    double loss_whole[5] = {0};
    CHECK_EQ_INT(th_gen_train(whole, &t.p, t.ts->images, NULL, t.ts->count, &o, 0, loss_whole),
                 TH_OK);

    char path[256];
    temp_path(path, sizeof path, "resume.safetensors");
    hook_log h = {0};
    const th_gen_checkpoint_opts ck = {.path = path, .every = 1, .settings = &t.settings,
                                       .written = on_written, .ctx = &h};
    th_model *first = th_gen_model_alloc(&t.p, TH_F32);
    double loss[5] = {0};
    CHECK_EQ_INT(th_gen_train_checkpointed(first, &t.p, t.ts->images, NULL, t.ts->count, &o,
                                           &ck, 0, loss),
                 TH_ECANCELED);
    CHECK_EQ_INT(h.calls, 2);
    th_model_free(first);

    th_model *m = NULL;
    double resumed[5] = {0};
    size_t done = 0;
    CHECK_EQ_INT(th_gen_checkpoint_load(path, &t.settings, U, &m, &done, resumed), TH_OK);
    CHECK_EQ_INT(done, 2);
    const th_gen_checkpoint_opts ck2 = {.path = path, .every = 1, .settings = &t.settings};
    CHECK_EQ_INT(th_gen_train_checkpointed(m, &t.p, t.ts->images, NULL, t.ts->count, &o, &ck2,
                                           done, resumed),
                 TH_OK);
    CHECK(m && same_model(m, whole));
    CHECK(memcmp(resumed, loss_whole, U * sizeof(double)) == 0);
    /* no checkpoint after the last update: the file holds update 4 */
    th_model *last = NULL;
    CHECK_EQ_INT(th_gen_checkpoint_load(path, &t.settings, U, &last, &done, resumed), TH_OK);
    CHECK_EQ_INT(done, 4);
    th_model_free(last);
    /* an unwritable checkpoint (its folder would sit under a plain file)
     * stops training with the reason */
    char blocker[256], bad_path[300];
    temp_path(blocker, sizeof blocker, "blocker");
    fclose(fopen(blocker, "w"));
    snprintf(bad_path, sizeof bad_path, "%s/x/ck.safetensors", blocker);
    const th_gen_checkpoint_opts bad = {.path = bad_path, .every = 1, .settings = &t.settings};
    th_model *m2 = th_gen_model_alloc(&t.p, TH_F32);
    CHECK_EQ_INT(th_gen_train_checkpointed(m2, &t.p, t.ts->images, NULL, t.ts->count, &o, &bad,
                                           0, resumed),
                 TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "writing the checkpoint failed");
    CHECK_STR_CONTAINS(th_last_error(), "blocker");
    th_model_free(m2);
    remove(blocker);
    remove(path);
    th_model_free(m);
    th_model_free(whole);
    tiny_free(&t);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 4096);
    if (buf) fread(buf, 1, 4095, f);
    fclose(f);
    return buf;
}

static void test_gen_run_csv_tables(void)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 3;
    p.n_hidden = 1;
    p.t_f = 0.002; /* 2 steps, 4 moving units: 8 per update */
    char path[256];
    temp_path(path, sizeof path, "loss.csv");
    const double loss[2] = {4, 2};
    CHECK_EQ_INT(th_gen_loss_csv_write(path, &p, loss, 2), TH_OK);
    char *text = slurp(path);
    CHECK(text && strcmp(text, "update,loss,loss_per_step_and_unit\n0,4,0.5\n1,2,0.25\n") == 0);
    free(text);
    remove(path);
    temp_path(path, sizeof path, "heat.csv");
    const double heat[2] = {1.5, -2};
    CHECK_EQ_INT(th_gen_heat_csv_write(path, heat, 2, 7), TH_OK);
    text = slurp(path);
    CHECK(text && strcmp(text, "sample,heat_kT\n7,1.5\n8,-2\n") == 0);
    free(text);
    remove(path);
}

static void test_gen_run_picture_from_meta(void)
{
    th_meta meta = {0};
    th_gen_picture pic;
    CHECK_EQ_INT(th_gen_picture_from_meta("m", &meta, 784, &pic), TH_OK);
    CHECK(pic.rows == 28 && pic.cols == 28 && !pic.range_from_file);
    CHECK_EQ_INT(th_gen_picture_from_meta("m", &meta, 49, &pic), TH_EFORMAT);
    th_meta_set(&meta, "data.rows", "7");
    th_meta_set(&meta, "data.cols", "7");
    th_meta_set(&meta, "picture.lo", "-1.5");
    th_meta_set(&meta, "picture.hi", "2");
    CHECK_EQ_INT(th_gen_picture_from_meta("m", &meta, 49, &pic), TH_OK);
    CHECK(pic.rows == 7 && pic.range_from_file && pic.lo == -1.5f && pic.hi == 2.0f);
    CHECK_EQ_INT(th_gen_picture_from_meta("m", &meta, 50, &pic), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "7 x 7");
    th_meta_set(&meta, "picture.hi", "-3");
    CHECK_EQ_INT(th_gen_picture_from_meta("m", &meta, 49, &pic), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "picture.lo");
    th_meta_set(&meta, "data.rows", "x");
    CHECK_EQ_INT(th_gen_picture_from_meta("m", &meta, 49, &pic), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "data.rows");
    th_meta_clear(&meta);
    /* percentiles: 0..100 -> 1 and 99; constant -> a range around it */
    float v[101];
    for (int i = 0; i <= 100; i++) v[i] = (float)(100 - i);
    CHECK_EQ_INT(th_gen_picture_percentiles(v, 101, 0.01, 0.99, &pic), TH_OK);
    CHECK_CLOSE(pic.lo, 1, 1e-5);
    CHECK_CLOSE(pic.hi, 99, 1e-5);
    for (int i = 0; i <= 100; i++) v[i] = 4;
    CHECK_EQ_INT(th_gen_picture_percentiles(v, 101, 0.01, 0.99, &pic), TH_OK);
    CHECK(pic.lo < 4 && pic.hi > 4);
}

/* Recognition counts and the strongest fields on hand-made inputs. */
static void test_gen_run_recognise_and_fields(void)
{
    const float refs[2 * 4] = {1, 0, 0, -1, 0, 1, -1, 0};
    const float samples[3 * 4] = {2, 0, 0, -2, 0, -1, 1, 0, 1, 1, 1, 1};
    size_t as_ref[2], inverted[2], neither = 9;
    CHECK_EQ_INT(th_gen_recognise(samples, 3, refs, 2, 4, 0.5, as_ref, inverted, &neither),
                 TH_OK);
    CHECK(as_ref[0] == 1 && as_ref[1] == 0 && inverted[0] == 0 && inverted[1] == 1);
    CHECK_EQ_INT(neither, 1);

    th_gen_params p = th_gen_params_default();
    p.n_visible = 2;
    p.n_hidden = 3;
    th_model *m = th_gen_model_alloc(&p, TH_F64);
    th_model_set_coupling(m, 0, 3, 0.5); /* hidden 1: norm 0.25 + 4 */
    th_model_set_coupling(m, 1, 3, -2);
    th_model_set_coupling(m, 0, 4, 3);   /* hidden 2: norm 9 */
    float fields[2 * 2];
    CHECK_EQ_INT(th_gen_strongest_fields(m, &p, 2, fields), TH_OK);
    CHECK(fields[0] == 3 && fields[1] == 0 && fields[2] == 0.5f && fields[3] == -2);
    th_model_free(m);
}

/* Sampling through th_gen_sample_dist, and the showcase: with one process
 * th_gen_sample's samples, heat and snapshots exactly; the showcase's heat
 * statistics are those of its heat. */
static void test_gen_run_sample_dist_and_showcase(void)
{
    tiny_run t;
    if (tiny_setup(&t) != 0) {
        CHECK(0);
        return;
    }
    th_model *m = th_gen_model_alloc(&t.p, TH_F32);
    th_gen_train_opts o = th_gen_train_opts_default();
    o.updates = 2;
    double loss[2];
    CHECK_EQ_INT(th_gen_train(m, &t.p, t.ts->images, NULL, t.ts->count, &o, 0, loss), TH_OK);
    const size_t N = 5, nv = t.p.n_visible, steps[2] = {0, th_gen_steps(&t.p)};
    float *a = malloc(N * nv * sizeof(float)), *b = malloc(N * nv * sizeof(float));
    float *sa = malloc(2 * 2 * nv * sizeof(float)), *sb = malloc(2 * 2 * nv * sizeof(float));
    double ha[5], hb[5];
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.snap_steps = steps;
    so.n_snaps = 2;
    so.snap_traj = 2;
    so.snap_out = sa;
    CHECK_EQ_INT(th_gen_sample(m, &t.p, N, &so, a, ha), TH_OK);
    so.snap_out = sb;
    CHECK_EQ_INT(th_gen_sample_dist(m, &t.p, N, &so, b, hb), TH_OK);
    CHECK(memcmp(a, b, N * nv * sizeof(float)) == 0);
    CHECK(memcmp(ha, hb, sizeof ha) == 0);
    CHECK(memcmp(sa, sb, 2 * 2 * nv * sizeof(float)) == 0);

    th_gen_showcase_opts sh = th_gen_showcase_opts_default();
    sh.samples = N;
    th_gen_showcase *s = NULL;
    CHECK_EQ_INT(th_gen_showcase_make(m, &t.p, t.ts, &sh, &s), TH_OK);
    if (s) {
        CHECK(memcmp(s->samples, a, N * nv * sizeof(float)) == 0);
        CHECK_EQ_INT(s->trajectories, N);
        CHECK_EQ_INT(s->n_fields, 16);
        th_heat_stats hs;
        CHECK_EQ_INT(th_heat_stats_compute(ha, N, &hs), TH_OK);
        CHECK(s->heat_mean == hs.mean && s->heat_sd == hs.sd);
        CHECK_EQ_INT(s->recognised[0] + s->recognised[1] + s->recognised[2] + s->inverted[0] +
                         s->inverted[1] + s->inverted[2] + s->unrecognised,
                     N);
        /* the first generation snapshot is the noise the samples start from */
        CHECK(memcmp(s->generation, sa, 2 * nv * sizeof(float)) == 0);
    }
    th_gen_showcase_free(s);
    float lo = 1, hi = -1;
    CHECK_EQ_INT(th_gen_prepared_range(&t.p, t.ts->images, NULL, 3, &lo, &hi), TH_OK);
    CHECK(lo < 0 && hi > 0);
    free(a);
    free(b);
    free(sa);
    free(sb);
    th_model_free(m);
    tiny_free(&t);
}

void suite_gen_run(void)
{
    RUN_TEST(test_gen_run_paper_digits_standardised);
    RUN_TEST(test_gen_run_pooling_averages_blocks);
    RUN_TEST(test_gen_run_training_set_rejects);
    RUN_TEST(test_gen_run_recipes);
    RUN_TEST(test_gen_run_checkpoint_round_trip);
    RUN_TEST(test_gen_run_resume_equals_uninterrupted);
    RUN_TEST(test_gen_run_csv_tables);
    RUN_TEST(test_gen_run_picture_from_meta);
    RUN_TEST(test_gen_run_recognise_and_fields);
    RUN_TEST(test_gen_run_sample_dist_and_showcase);
}
