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

/* For the kill-and-resume test: die like a killed process right after the
 * checkpoint of this update, with no chance to clean up. */
static int after_checkpoint(size_t done, void *ctx)
{
    (void)ctx;
    const char *crash = getenv("THERMO_TEST_KILL_AFTER");
    if (crash && strtoull(crash, NULL, 10) == done) raise(SIGKILL);
    return 0;
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
    const double styles_t0 = tool_now();
    if (rc == TH_OK && (rc = th_gen_training_set_styles(ts, p->r.styles, p->r.seed)) != TH_OK)
        th_gen_training_set_free(ts);
    const double styles_s = tool_now() - styles_t0;
    if (rc != TH_OK) return tool_fail_lib(CMD, rc);

    th_gen_params gp;
    const int bad_settings = th_gen_recipe_params(&p->r, ts, &gp) != TH_OK;
    double *loss = calloc(p->r.updates, sizeof(double));
    th_gen_protocol *pr = NULL;
    th_meta settings = {0}, meta = {0};
    int exit_code = TOOL_EXIT_FAIL;
    char checkpoint[4096], path[4200];
    if (!loss || train_join(checkpoint, sizeof checkpoint, p->out, "checkpoint.safetensors")) {
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
        if (th_gen_protocol_checkpoint_load(checkpoint, &settings, p->r.updates, &pr,
                                            &done_updates, loss) != TH_OK) {
            fail("cannot resume");
            goto done;
        }
        if (!p->quiet)
            fprintf(stderr, "resuming from %s after %zu updates\n", checkpoint, done_updates);
    } else if (!(pr = th_gen_protocol_alloc(&gp, TH_F32))) {
        fail(NULL);
        goto done;
    }

    run_report g = {.styles_s = styles_s};
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
        rc = th_gen_protocol_train_checkpointed(pr, &gp, ts->images, ts->labels, ts->count, &to,
                                                &ck, done_updates, loss);
        tool_progress_end(&bar);
    } else {
        rc = train_exact(p, &gp, ts, pr, &g);
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
    train_join(path, sizeof path, p->out, "model.safetensors");
    if (th_dist_any_error(lead ? th_gen_protocol_save(path, pr, &meta) : TH_OK) != TH_OK) {
        fail(NULL);
        goto done;
    }
    train_join(path, sizeof path, p->out, "loss.csv");
    if ((lead && gd && th_gen_loss_csv_write(path, &gp, loss, p->r.updates) != TH_OK) ||
        train_generate(p, &gp, ts, pr, lo, hi, &g) != TH_OK) {
        fail(NULL);
        goto done;
    }
    exit_code = TOOL_EXIT_OK;
    if (!lead) goto done;
    train_join(path, sizeof path, p->out, "summary.json");
    if (train_write_summary(path, p, &gp, &settings, loss, &g) != 0) {
        fprintf(stderr, "thermo " CMD ": %s: cannot write: %s\n", path, strerror(errno));
        exit_code = TOOL_EXIT_FAIL;
        goto done;
    }
    train_describe(p, &gp, loss, &g);
done:
    th_meta_clear(&settings);
    th_meta_clear(&meta);
    th_gen_protocol_free(pr);
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
        {"segments", "S", TOOL_OPT_COUNT, &p.r.segments, NULL,
         "time-dependent protocol: couplings and biases constant over each of S equal "
         "segments of the generation time (1 = the paper's computer)", NULL},
        {"segment-penalty", "G", TOOL_OPT_NONNEG, &p.r.segment_penalty, NULL,
         "exact solver: add G x paths x |theta_s+1 - theta_s|^2 / 2 between neighbouring "
         "segments (0: each segment solved alone)", NULL},
        {"readout-window", "W", TOOL_OPT_SIZE, &p.r.readout_window, NULL,
         "samples: the visible units averaged over the last W steps (an integrating "
         "detector); 0 = the state at the end", NULL},
        {"class-ridge", "L", TOOL_OPT_NONNEG, &p.r.class_ridge, NULL,
         "exact solver: ridge L x paths on the class biases (label couplings)", NULL},
        {"bias-ridge", "L", TOOL_OPT_NONNEG, &p.r.bias_ridge, NULL,
         "exact solver: ridge L x paths on the trained biases", NULL},
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
        {"styles", "K", TOOL_OPT_SIZE, &p.r.styles, NULL,
         "with --classes: K style codes a class (balanced k-means clusters of its images); a "
         "sample draws its style", "0 (one code a class)"},
        {"latent-classes", NULL, TOOL_OPT_FLAG, &p.r.latent_classes, NULL,
         "with --classes: the class is a latent code drawn per sample (an even mixture); "
         "samples recorded as unconditional", NULL},
        {"hidden-double-well", NULL, TOOL_OPT_FLAG, &p.r.hidden_double_well, NULL,
         "hidden units in double wells -J2 x^2 + J4 x^4: a binary latent code", NULL},
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
    if (p.r.styles > 1 && !p.r.classes)
        return tool_usage_error(CMD, "--styles K splits classes into styles: it needs --classes");
    if (p.r.solver == TH_GEN_SOLVER_GD && p.r.segment_penalty > 0)
        return tool_usage_error(CMD, "--segment-penalty applies to the exact solver");
    tool_set_threads(p.threads);
    if (tool_make_folder(CMD, p.out) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;
    return run_train(&p);
}
