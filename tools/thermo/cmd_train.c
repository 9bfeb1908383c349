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
 * Presets, training images, checkpoints, the exact fit and what is shown of
 * the model are the library's (th_gen_recipe_*, th_gen_training_set_*,
 * th_gen_train_checkpointed, th_gen_stats_fit, th_gen_showcase_make); this
 * file parses options, calls them, renders text (train_report.c), JSON, PNG. */
#include "thermo.h"
#include "tool.h"
#include "train_report.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "train"
static const char *const drive_names[] = {"copy", "projection", NULL};
static const char *const solver_names[] = {"gd", "exact", NULL};
static const char *const phase1_names[] = {"euler", "exact", NULL}; /* th_gen_phase1 */

static void set_preset(train_params *p, int preset)
{
    *p = (train_params){.preset = preset};
    th_gen_recipe_preset(th_gen_recipe_names()[preset], &p->r);
}

/* "thermo train: WHAT: <the library's message>". */
static int fail(const char *what)
{
    const char *why = th_last_error();
    fprintf(stderr, "thermo " CMD ": %s%s%s\n", what ? what : "", what && why[0] ? ": " : "",
            why);
    return TOOL_EXIT_FAIL;
}

static int join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* For the kill-and-resume test: die like a killed process right after the
 * checkpoint of this update, with no chance to clean up. */
static int after_checkpoint(size_t done, void *ctx)
{
    (void)ctx;
    const char *crash = getenv("THERMO_TEST_KILL_AFTER");
    if (crash && strtoull(crash, NULL, 10) == done) raise(SIGKILL);
    return 0;
}

/* The solve's bar counts decades of the residual from 1 down to 1e-6. */
static int solve_progress(size_t iteration, double residual, void *ctx)
{
    (void)iteration;
    double decades = residual > 0 ? -log10(residual) : 6;
    return tool_progress_update((size_t)fmax(0, fmin(6, decades)), 6, ctx);
}

static int train_exact(const train_params *p, const th_gen_params *gp,
                       const th_gen_training_set *ts, th_model *m, run_report *g)
{
    th_gen_stats *s = NULL;
    tool_progress bar;
    tool_progress_begin(&bar, "paths", p->quiet);
    double t0 = tool_now();
    int rc = th_gen_stats_accumulate(gp, TH_F32, ts->images, ts->labels, ts->count,
                                     p->r.paths ? p->r.paths : ts->count,
                                     p->r.batch > 1 ? p->r.batch : 8, p->r.stride,
                                     tool_progress_update, &bar, &s);
    tool_progress_end(&bar);
    g->stats_s = tool_now() - t0;
    if (rc != TH_OK) return rc;
    th_solve_opts so = th_solve_opts_default();
    so.progress = solve_progress;
    so.progress_ctx = &bar;
    tool_progress_begin(&bar, "solve (decades of residual)", p->quiet);
    t0 = tool_now();
    rc = th_gen_stats_fit(s, gp, p->r.ridge, p->compare, &so, m, &g->exact);
    g->solve_s = tool_now() - t0;
    tool_progress_end(&bar);
    th_gen_stats_free(s);
    return rc;
}

static int save_png(const char *dir, const char *name, th_canvas *c)
{
    char path[4200];
    int rc = !c || join(path, sizeof path, dir, name) ? TH_EINVAL : th_png_write(path, c, 3);
    th_canvas_free(c);
    return rc;
}

/* Generation, heat, recognisability (th_gen_showcase_make), then on rank 0
 * the samples file and four pictures. */
static int generate(const train_params *p, const th_gen_params *gp,
                    const th_gen_training_set *ts, const th_model *m, float lo, float hi,
                    run_report *g)
{
    const size_t rows = ts->rows, cols = ts->cols, N = p->r.samples;
    th_gen_showcase_opts so = th_gen_showcase_opts_default();
    so.samples = N;
    /* Larger training sets are judged by thermo eval's classifier instead. */
    so.threshold = p->r.images ? 0 : RECOGNISED_CORR;
    so.precision = p->precision;
    so.phase1 = p->phase1;
    tool_progress bar;
    so.progress = tool_progress_update;
    so.progress_ctx = &bar;
    th_gen_showcase *s = NULL;
    tool_progress_begin(&bar, "samples", p->quiet);
    double t0 = tool_now();
    int rc = th_gen_showcase_make(m, gp, ts, &so, &s);
    g->sample_s = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK || th_dist_rank() != 0) goto done; /* only rank 0 writes */
    g->heat_mean = s->heat_mean;
    g->heat_sd = s->heat_sd;
    memcpy(g->recognised, s->recognised, sizeof g->recognised);
    memcpy(g->inverted, s->inverted, sizeof g->inverted);
    g->unrecognised = s->unrecognised;
    char path[4200];
    if (join(path, sizeof path, p->out, "samples.safetensors") ||
        (rc = tool_save_samples(path, gp, s->samples, N, 0, NULL, s->heat)) != TH_OK)
        goto done;
    /* strips want (n_snaps, n_traj, rows, cols), the snapshots' layout */
    rc = save_png(p->out, "noising.png", th_picture_strips(s->noising, s->n_snaps, s->n_paths,
                                                           rows, cols, 2, lo, hi));
    if (rc == TH_OK)
        rc = save_png(p->out, "denoising.png",
                      th_picture_strips(s->generation, s->n_snaps, s->trajectories, rows, cols,
                                        2, lo, hi));
    if (rc == TH_OK)
        rc = save_png(p->out, "samples.png",
                      th_picture_grid(s->samples, N < 100 ? N : 100, rows, cols, 10, 2, lo, hi));
    if (rc == TH_OK)
        rc = save_png(p->out, "fields.png",
                      th_picture_fields(s->fields, s->n_fields, rows, cols, 4, 2));
done:
    th_gen_showcase_free(s);
    return rc;
}

/* Trains, saves, generates and reports; p is parsed. Under mpirun every rank
 * takes part in the library's calls and rank 0 alone writes files (its
 * stdout alone is shown: main.c). */
static int run_train(const train_params *p)
{
    const int lead = th_dist_rank() == 0;
    const int gd = p->r.solver == TH_GEN_SOLVER_GD;
    th_dataset *d = NULL;
    int rc = th_dataset_load_dir(p->r.data, "train", &d);
    if (rc != TH_OK) return tool_fail_lib(CMD, rc);
    if (p->r.images > d->count) {
        fprintf(stderr, "thermo " CMD ": --images %zu: %s has only %zu training images\n",
                p->r.images, p->r.data, d->count);
        th_dataset_free(d);
        return TOOL_EXIT_FAIL;
    }
    th_gen_training_set *ts = NULL;
    rc = th_gen_training_set_from_dataset(d, p->r.data, p->r.images, p->r.pool, p->r.classes,
                                          &ts);
    th_dataset_free(d);
    if (rc != TH_OK) return tool_fail_lib(CMD, rc);

    th_gen_params gp;
    const int bad_settings = th_gen_recipe_params(&p->r, ts, &gp) != TH_OK;
    double *loss = calloc(p->r.updates, sizeof(double));
    th_model *m = NULL;
    th_meta settings = {0}, meta = {0};
    int exit_code = TOOL_EXIT_FAIL;
    char checkpoint[4096], path[4200];
    if (!loss || join(checkpoint, sizeof checkpoint, p->out, "checkpoint.safetensors")) {
        fprintf(stderr, "thermo " CMD ": out of memory or path too long\n");
        goto done;
    }
    if (bad_settings) {
        fail("settings");
        goto done;
    }
    if (th_gen_recipe_to_meta(&p->r, &gp, ts, &settings) != TH_OK ||
        th_hw_train_meta(&p->aware.hw, &settings) != TH_OK) {
        fail(NULL);
        goto done;
    }
    size_t done_updates = 0;
    if (p->resume) {
        if (th_gen_checkpoint_load(checkpoint, &settings, p->r.updates, &m, &done_updates,
                                   loss) != TH_OK) {
            fail("cannot resume");
            goto done;
        }
        if (!p->quiet)
            fprintf(stderr, "resuming from %s after %zu updates\n", checkpoint, done_updates);
    } else if (!(m = th_gen_model_alloc(&gp, TH_F32))) {
        fail(NULL);
        goto done;
    }

    run_report g = {0};
    double t0 = tool_now();
    if (gd) {
        th_gen_train_opts to = th_gen_train_opts_default();
        to.updates = p->r.updates;
        to.learning_rate = p->r.learning_rate;
        to.batch = p->r.batch;
        to.device = th_hw_is_ideal(&p->aware.hw) ? NULL : th_hw_train_device;
        to.device_ctx = (void *)&p->aware.hw;
        tool_progress bar;
        to.progress = tool_progress_update;
        to.progress_ctx = &bar;
        const th_gen_checkpoint_opts ck = {.path = checkpoint, .every = p->r.checkpoint_every,
                                           .settings = &settings, .written = after_checkpoint};
        tool_progress_begin(&bar, "updates", p->quiet);
        rc = th_gen_train_checkpointed(m, &gp, ts->images, ts->labels, ts->count, &to, &ck,
                                       done_updates, loss);
        tool_progress_end(&bar);
    } else {
        rc = train_exact(p, &gp, ts, m, &g);
    }
    g.train_s = tool_now() - t0;
    float lo, hi;
    if (rc != TH_OK || th_gen_prepared_range(&gp, ts->images, ts->labels, 3, &lo, &hi) != TH_OK ||
        th_gen_recipe_to_meta(&p->r, &gp, ts, &meta) != TH_OK ||
        th_hw_train_meta(&p->aware.hw, &meta) != TH_OK ||
        th_meta_setf(&meta, "picture.lo", "%.9g", (double)lo) != TH_OK ||
        th_meta_setf(&meta, "picture.hi", "%.9g", (double)hi) != TH_OK) {
        fail(NULL);
        goto done;
    }
    join(path, sizeof path, p->out, "model.safetensors");
    if (th_dist_any_error(lead ? th_model_save(path, m, &meta) : TH_OK) != TH_OK) {
        fail(NULL);
        goto done;
    }
    join(path, sizeof path, p->out, "loss.csv");
    if ((lead && gd && th_gen_loss_csv_write(path, &gp, loss, p->r.updates) != TH_OK) ||
        generate(p, &gp, ts, m, lo, hi, &g) != TH_OK) {
        fail(NULL);
        goto done;
    }
    exit_code = TOOL_EXIT_OK;
    if (!lead) goto done;
    join(path, sizeof path, p->out, "summary.json");
    if (train_write_summary(path, p, &gp, &settings, loss, &g) != 0) {
        fprintf(stderr, "thermo " CMD ": %s: cannot write: %s\n", path, strerror(errno));
        exit_code = TOOL_EXIT_FAIL;
        goto done;
    }
    train_describe(p, &gp, loss, &g);
done:
    th_meta_clear(&settings);
    th_meta_clear(&meta);
    th_model_free(m);
    free(loss);
    th_gen_training_set_free(ts);
    return exit_code;
}

int cmd_train(int argc, char **argv)
{
    train_params p;
    set_preset(&p, 0);
    const tool_opt opts[] = {
        {"preset", "NAME", TOOL_OPT_CHOICE, &p.preset, th_gen_recipe_names(),
         "start from a named configuration (below)", NULL},
        {"out", "RUN", TOOL_OPT_STRING, &p.out, NULL, "folder for the results (required)",
         NULL},
        {"data", "DIR", TOOL_OPT_STRING, &p.r.data, NULL,
         "folder of IDX files (train-images/labels-idx*-ubyte[.gz])", NULL},
        {"images", "N", TOOL_OPT_SIZE, &p.r.images, NULL,
         "train on the first N training images; 0 = the paper's first 0, 1 and 2", NULL},
        {"classes", NULL, TOOL_OPT_FLAG, &p.r.classes, NULL,
         "class-conditional: label units clamped at the class code, coupled to the hidden units",
         NULL},
        {"class-visible", NULL, TOOL_OPT_FLAG, &p.r.class_visible, NULL,
         "with --classes: also couple the labels to the pixels (per-class pixel biases)", NULL},
        {"solver", "gd|exact", TOOL_OPT_CHOICE, &p.r.solver, solver_names,
         "gradient descent (the paper) or the exact least-squares minimiser", NULL},
        {"paths", "P", TOOL_OPT_SIZE, &p.r.paths, NULL,
         "exact solver: noising paths (path q noises image q mod N); 0 = one per image", NULL},
        {"stride", "S", TOOL_OPT_COUNT, &p.r.stride, NULL,
         "exact solver: only every S-th step of each path enters the statistics", NULL},
        {"ridge", "LAMBDA", TOOL_OPT_NONNEG, &p.r.ridge, NULL,
         "exact solver: add LAMBDA x paths x |J|^2 / 2 to the objective (couplings between "
         "moving units)", NULL},
        {"compare", "MODEL", TOOL_OPT_STRING, &p.compare, NULL,
         "exact solver: also report this model's loss on the same paths", "none"},
        {"updates", "N", TOOL_OPT_COUNT, &p.r.updates, NULL, "gradient-descent updates", NULL},
        {"lr", "RATE", TOOL_OPT_POSITIVE, &p.r.learning_rate, NULL,
         "learning rate on the gradient summed over a path's steps", NULL},
        {"batch", "B", TOOL_OPT_COUNT, &p.r.batch, NULL, "noising paths per update", NULL},
        {"samples", "N", TOOL_OPT_COUNT, &p.r.samples, NULL,
         "samples generated after training (heat statistics, pictures)", NULL},
        {"precision", "f32|bf16", TOOL_OPT_CHOICE, &p.precision, th_precision_names(),
         "coupling products of the sampling: float32, or bfloat16 with float32 sums", NULL},
        {"phase1", "euler|exact", TOOL_OPT_CHOICE, &p.phase1, phase1_names,
         "samples' noise phase: t_f of Euler-Maruyama, or the wells' equilibrium drawn", NULL},
        {"t-f", "TIME", TOOL_OPT_POSITIVE, &p.r.t_f, NULL,
         "duration of preparation, noising and generation (units of 1/mu)", NULL},
        {"hidden", "N", TOOL_OPT_COUNT, &p.r.hidden, NULL, "number of hidden units", NULL},
        {"hidden-drive", "copy|projection", TOOL_OPT_CHOICE, &p.r.hidden_drive, drive_names,
         "how noising drives hidden units: pixel copies or a fixed random projection", NULL},
        {"visible-bias", NULL, TOOL_OPT_FLAG, &p.r.visible_bias, NULL,
         "also train the pixels' biases (breaks the x -> -x symmetry: no inverted samples)",
         NULL},
        {"drive", "A", TOOL_OPT_POSITIVE, &p.r.drive, NULL,
         "noise schedule: the image force A s while preparing, falling to 0 while noising", NULL},
        {"ramp", "F", TOOL_OPT_POSITIVE, &p.r.ramp_fraction, NULL,
         "noise schedule: the force reaches 0 at F t_f (0 < F <= 1)", NULL},
        {"seed", "S", TOOL_OPT_U64, &p.r.seed, NULL, "seed of every path and sample", NULL},
        {"checkpoint-every", "K", TOOL_OPT_COUNT, &p.r.checkpoint_every, NULL,
         "write RUN/checkpoint.safetensors every K updates", NULL},
        {"aware-bits", "B", TOOL_OPT_COUNT, &p.aware.bits, NULL,
         "gradient descent: gradients taken at the couplings quantised to B bits", "off"},
        {"aware-mismatch", "S", TOOL_OPT_NONNEG, &p.aware.mismatch, NULL,
         "gradient descent: and on a new device of mismatch S every update", "off"},
        {"resume", NULL, TOOL_OPT_FLAG, &p.resume, NULL,
         "continue from RUN/checkpoint.safetensors (same settings required)", NULL},
        {"threads", "T", TOOL_OPT_COUNT, &p.threads, NULL,
         "threads for OpenMP and OpenBLAS; results do not depend on it", "all cores"},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "no progress bars", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc = tool_parse(CMD, opts, n_opts, argc, argv);
    if (rc == TOOL_PARSE_HELP) {
        set_preset(&p, 0);
        train_print_help(opts, n_opts);
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    /* The preset first, then every other option over it. */
    set_preset(&p, p.preset);
    if (tool_parse(CMD, opts, n_opts, argc, argv) != TOOL_EXIT_OK || tool_hw_get(CMD, &p.aware))
        return TOOL_EXIT_USAGE;
    if (!p.out) return tool_usage_error(CMD, "--out RUN is required");
    if (p.r.solver == TH_GEN_SOLVER_EXACT && (p.resume || !th_hw_is_ideal(&p.aware.hw)))
        return tool_usage_error(CMD, "--resume and --aware-* apply to gradient descent; the "
                                "exact solver has no updates");
    tool_set_threads(p.threads);
    if (tool_make_folder(CMD, p.out) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;
    return run_train(&p);
}
