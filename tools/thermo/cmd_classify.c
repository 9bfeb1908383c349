/* cmd_classify.c - thermo classify: the thermodynamic MNIST classifier of
 * Whitelam's PNAS 2026 paper (science.md section 3).
 *
 *   thermo classify train --teacher T --out M   trains the student on the
 *       teacher's idealised trajectories;
 *   thermo classify eval --model M              classifies the test set by
 *       its own Langevin trajectories, reports top-1 and top-2 accuracy
 *       (outputs averaged over --trajectories) and single-trajectory
 *       accuracy, and the heat per classification against a digital
 *       forward pass of the teacher. */
#include "thermo.h"
#include "tool.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "classify"
#define ALL_IMAGES ((size_t)-1)

/* ---------------------------------------------------------------- train */

typedef struct train_params {
    const char *teacher;
    const char *out;
    const char *data;
    size_t epochs, batch, hidden, limit;
    double lr, t_f, gain, ridge, temperature;
    int solver;
    uint64_t seed;
    int quiet;
} train_params;

enum { SOLVER_EXACT, SOLVER_ADAM };
static const char *const solver_names[] = {"exact", "adam", NULL};

typedef struct train_state {
    tool_progress bar;
} train_state;

static int on_update(size_t update, size_t total, double loss, void *ctx)
{
    (void)loss;
    train_state *st = ctx;
    return tool_progress_update(update, total, &st->bar);
}

static int on_paths(size_t done, size_t total, void *ctx)
{
    return tool_progress_update(done, total, ctx);
}

static int on_iteration(size_t iteration, double residual, void *ctx)
{
    const int *quiet = ctx;
    if (!*quiet && iteration % 100 == 0)
        fprintf(stderr, "  CG iteration %zu: relative residual %.3g\n", iteration, residual);
    return 0;
}

/* The objective's minimiser over epochs * count idealised paths. */
static int train_exact(const train_params *p, const th_student_params *sp, th_model *m,
                       const float *X, const float *A, size_t count, double *epoch_loss)
{
    tool_progress bar;
    tool_progress_begin(&bar, "paths", p->quiet);
    th_student_stats *stats = NULL;
    const double t0 = tool_now();
    int rc = th_student_stats_accumulate(sp, X, A, count, p->epochs * count, 128, on_paths,
                                         &bar, &stats);
    tool_progress_end(&bar);
    if (rc != TH_OK) return rc;
    const double t1 = tool_now();
    th_solve_opts so = th_solve_opts_default();
    so.ridge = p->ridge;
    so.progress = on_iteration;
    so.progress_ctx = (void *)&p->quiet;
    th_solve_result res = {0};
    double before = 0, after = 0;
    if ((rc = th_student_stats_loss(stats, m, &before)) == TH_OK &&
        (rc = th_student_stats_solve(stats, m, &so, &res)) == TH_OK &&
        (rc = th_student_stats_loss(stats, m, &after)) == TH_OK) {
        const double paths = (double)th_student_stats_paths(stats);
        printf("exact     %zu paths accumulated in %.1f s; CG %zu iterations (relative "
               "residual %.2g%s) in %.1f s\n", th_student_stats_paths(stats), t1 - t0,
               res.iterations, res.residual, res.converged ? "" : ", NOT converged",
               tool_now() - t1);
        printf("objective per path %.6f at zero parameters, %.6f at the minimiser\n",
               before / paths, after / paths);
        for (size_t e = 0; e < p->epochs; e++) epoch_loss[e] = after / paths;
    }
    th_student_stats_free(stats);
    return rc;
}

/* Adam on minibatches of paths, epoch by epoch. */
static int train_adam(const train_params *p, const th_student_params *sp,
                      th_student_train_opts *to, th_model *m, const float *X, const float *A,
                      size_t count, double *epoch_loss)
{
    train_state st;
    tool_progress_begin(&st.bar, "updates", p->quiet);
    to->on_update = on_update;
    to->ctx = &st;
    int rc = th_student_train(m, sp, X, A, count, to, epoch_loss);
    tool_progress_end(&st.bar);
    if (rc == TH_OK)
        for (size_t e = 0; e < p->epochs; e++)
            printf("epoch %zu  objective per path %.6f\n", e + 1, epoch_loss[e]);
    return rc;
}

static int classify_train(int argc, char **argv)
{
    th_student_params sp = th_student_params_default();
    th_student_train_opts to = th_student_train_opts_default();
    train_params p = {.teacher = NULL, .out = NULL, .data = "data/mnist", .epochs = to.epochs,
                      .batch = to.batch, .hidden = sp.n_hidden, .limit = ALL_IMAGES,
                      .lr = to.learning_rate, .t_f = sp.t_f, .gain = sp.gain, .seed = sp.seed,
                      .ridge = 1000.0, .solver = SOLVER_EXACT,
                      .temperature = sp.output_temperature};
    const tool_opt opts[] = {
        {"teacher", "FILE", TOOL_OPT_STRING, &p.teacher, NULL,
         "the digital teacher (thermo classifier train --arch teacher)", "required"},
        {"out", "FILE", TOOL_OPT_STRING, &p.out, NULL, "the trained student (safetensors)",
         "required"},
        {"data", "DIR", TOOL_OPT_STRING, &p.data, NULL, "MNIST folder (train-* IDX files)", NULL},
        {"solver", "S", TOOL_OPT_CHOICE, &p.solver, solver_names,
         "exact (the objective's minimiser: one pass and a linear solve) or adam", NULL},
        {"ridge", "L", TOOL_OPT_NONNEG, &p.ridge, NULL,
         "exact: the penalty L |J|^2 / 2 on the couplings", NULL},
        {"epochs", "N", TOOL_OPT_COUNT, &p.epochs, NULL,
         "passes over the training images (exact: idealised paths per image)", NULL},
        {"batch", "N", TOOL_OPT_COUNT, &p.batch, NULL, "idealised paths per Adam update", NULL},
        {"lr", "RATE", TOOL_OPT_POSITIVE, &p.lr, NULL,
         "Adam learning rate (half-cosine decay to 0)", NULL},
        {"hidden", "N", TOOL_OPT_COUNT, &p.hidden, NULL, "hidden units of the student", NULL},
        {"tf", "T", TOOL_OPT_POSITIVE, &p.t_f, NULL, "observation time t_f (dt = 1e-3)", NULL},
        {"gain", "F", TOOL_OPT_NONNEG, &p.gain, NULL,
         "idealised force per unit activation; 0 = the force that ends a noise-free path "
         "at x(t_f) = 1", NULL},
        {"output-temperature", "T", TOOL_OPT_POSITIVE, &p.temperature, NULL,
         "output targets 2 softmax(logits / T) - 1 (the paper: 1)", NULL},
        {"limit", "N", TOOL_OPT_COUNT, &p.limit, NULL, "use only the first N training images",
         "all"},
        {"seed", "S", TOOL_OPT_U64, &p.seed, NULL, "noise of the idealised paths, shuffling",
         NULL},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "no progress bar", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc = tool_parse(CMD " train", opts, n_opts, argc, argv);
    if (rc == TOOL_PARSE_HELP) {
        printf("usage: thermo classify train --teacher FILE --out FILE [options]\n\n"
               "Trains the PNAS 2026 thermodynamic classifier (784 clamped inputs, hidden and\n"
               "10 output units) as a student of a digital teacher: the teacher's activations\n"
               "define idealised trajectories, and training maximises their Onsager-Machlup\n"
               "probability under the student's dynamics: exactly (the objective is quadratic\n"
               "in the parameters, so one pass accumulates its statistics and a conjugate-\n"
               "gradient solve finds the optimum) or by Adam. kT = J2 = J4 = 1, dt = 1e-3.\n"
               "\noptions:\n");
        tool_print_options(opts, n_opts);
        printf("\nExit status: 0 on success, 1 when the run fails, 2 for a bad command line.\n");
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    if (!p.teacher) return tool_usage_error(CMD " train", "--teacher FILE is required");
    if (!p.out) return tool_usage_error(CMD " train", "--out FILE is required");
    sp.n_hidden = p.hidden;
    sp.t_f = p.t_f;
    sp.gain = p.gain;
    sp.output_temperature = p.temperature;
    sp.seed = p.seed;
    to.epochs = p.epochs;
    to.batch = p.batch;
    to.learning_rate = p.lr;
    if (th_student_params_validate(&sp) != TH_OK)
        return tool_usage_error(CMD " train", "%s", th_last_error());
    if (tool_folder_writable(CMD " train", p.out) != 0) return TOOL_EXIT_FAIL;

    th_mlp *teacher = NULL;
    if ((rc = th_mlp_load(p.teacher, &teacher)) != TH_OK) return tool_fail_lib(CMD, rc);
    if (teacher->input != TH_INPUT_PNAS) {
        fprintf(stderr, "thermo " CMD ": teacher %s takes standardised inputs: expected a "
                "network trained on TH_INPUT_PNAS inputs (thermo classifier train --arch "
                "teacher)\n", p.teacher);
        th_mlp_free(teacher);
        return TOOL_EXIT_FAIL;
    }
    sp.n_input = teacher->width[0];
    sp.n_output = teacher->width[teacher->n_layers];
    th_dataset *d = NULL;
    if ((rc = tool_load_labelled(CMD, p.data, "train", p.limit, &d)) != TOOL_EXIT_OK) {
        th_mlp_free(teacher);
        return rc;
    }
    const size_t count = d->count, nf = sp.n_hidden + sp.n_output;
    float *X = malloc(count * sp.n_input * sizeof *X); /* (count, n_input) */
    float *A = malloc(count * nf * sizeof *A);         /* (count, n_free) */
    th_model *m = th_student_model_alloc(&sp, TH_F32);
    int exit_code = TOOL_EXIT_FAIL;
    th_meta meta = {0};
    double *epoch_loss = calloc(p.epochs, sizeof *epoch_loss);
    if (!X || !A || !m || !epoch_loss) {
        fprintf(stderr, "thermo " CMD ": out of memory for %zu training images\n", count);
        goto done;
    }
    double t0 = tool_now();
    if ((rc = th_mlp_prepare(teacher, d, 0, count, X)) != TH_OK ||
        (rc = th_student_targets(&sp, teacher, X, count, A)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    printf("teacher   %s: %d weight layers, %zu inputs, %zu outputs; gain %.6g (force per "
           "unit activation)\n", p.teacher, teacher->n_layers, sp.n_input, sp.n_output,
           th_student_gain(&sp));
    printf("student   %zu input + %zu hidden + %zu output units, t_f = %g (%zu steps), "
           "%zu images x %zu %s", sp.n_input, sp.n_hidden, sp.n_output, sp.t_f,
           th_student_steps(&sp), count, p.epochs,
           p.solver == SOLVER_EXACT ? "paths each, exact solve" : "epochs, Adam");
    if (p.solver == SOLVER_EXACT)
        printf(", ridge %g\n", p.ridge);
    else
        printf(", batch %zu, lr %g\n", p.batch, p.lr);
    fflush(stdout);
    double t1 = tool_now();
    rc = p.solver == SOLVER_EXACT ? train_exact(&p, &sp, m, X, A, count, epoch_loss)
                                  : train_adam(&p, &sp, &to, m, X, A, count, epoch_loss);
    const double train_s = tool_now() - t1;
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    char widths[256] = "";
    for (int l = 0; l <= teacher->n_layers; l++) {
        size_t used = strlen(widths);
        snprintf(widths + used, sizeof widths - used, "%s%zu", l ? "," : "", teacher->width[l]);
    }
    if (th_student_params_to_meta(&sp, &meta) != TH_OK ||
        th_meta_setf(&meta, TOOL_META_INPUT_NORM, "%.17g", teacher->input_norm) != TH_OK ||
        th_meta_set(&meta, TOOL_META_TEACHER_WIDTHS, widths) != TH_OK ||
        th_meta_set(&meta, "student.teacher", p.teacher) != TH_OK ||
        th_meta_setf(&meta, "student.gain_used", "%.17g", th_student_gain(&sp)) != TH_OK ||
        th_meta_set(&meta, "student.hidden_map",
                    "hidden unit h: teacher hidden activation (h mod H) of its hidden layers "
                    "concatenated") != TH_OK ||
        th_meta_set(&meta, "student.output_target",
                    "2 softmax(logits / output_temperature) - 1 of the teacher's logits") !=
            TH_OK ||
        (p.solver == SOLVER_EXACT
             ? th_meta_setf(&meta, "student.train", "images %zu, paths per image %zu, exact "
                            "(normal equations), ridge %g", count, p.epochs, p.ridge)
             : th_meta_setf(&meta, "student.train", "images %zu, epochs %zu, batch %zu, lr %g "
                            "(Adam, half-cosine)", count, p.epochs, p.batch, p.lr)) != TH_OK ||
        th_meta_setf(&meta, "student.final_objective", "%.17g", epoch_loss[p.epochs - 1]) !=
            TH_OK) {
        tool_fail_lib(CMD, TH_ENOMEM);
        goto done;
    }
    if ((rc = th_model_save(p.out, m, &meta)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    printf("saved     %s (training %.1f s, total %.1f s)\n", p.out, train_s, tool_now() - t0);
    exit_code = TOOL_EXIT_OK;
done:
    th_meta_clear(&meta);
    free(epoch_loss);
    th_model_free(m);
    free(X);
    free(A);
    th_dataset_free(d);
    th_mlp_free(teacher);
    return exit_code;
}

/* ----------------------------------------------------------------- eval */

typedef struct eval_params {
    const char *model;
    const char *data;
    const char *json;
    size_t trajectories, limit;
    uint64_t seed;
    const char *seed_text;
    double temperature, mac_energy;
    int quiet;
} eval_params;

static int classify_eval(int argc, char **argv)
{
    eval_params p = {.model = NULL, .data = "data/mnist", .json = NULL, .trajectories = 10,
                     .limit = ALL_IMAGES, .seed_text = NULL, .temperature = 300,
                     .mac_energy = 1e-12};
    const tool_opt opts[] = {
        {"model", "FILE", TOOL_OPT_STRING, &p.model, NULL, "a student (thermo classify train)",
         "required"},
        {"trajectories", "M", TOOL_OPT_COUNT, &p.trajectories, NULL,
         "independent trajectories per image; their outputs are averaged", NULL},
        {"data", "DIR", TOOL_OPT_STRING, &p.data, NULL, "MNIST folder (t10k-* IDX files)", NULL},
        {"limit", "N", TOOL_OPT_COUNT, &p.limit, NULL, "classify only the first N test images",
         "all"},
        {"seed", "S", TOOL_OPT_STRING, &p.seed_text, NULL, "noise of the trajectories",
         "the model's"},
        {"json", "FILE", TOOL_OPT_STRING, &p.json, NULL, "also write the results as JSON",
         "none"},
        {"temperature", "K", TOOL_OPT_POSITIVE, &p.temperature, NULL,
         "bath temperature for joules", NULL},
        {"mac-energy", "J", TOOL_OPT_POSITIVE, &p.mac_energy, NULL,
         "digital energy per multiply-accumulate", NULL},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "no progress bar", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc = tool_parse(CMD " eval", opts, n_opts, argc, argv);
    if (rc == TOOL_PARSE_HELP) {
        printf("usage: thermo classify eval --model FILE [options]\n\n"
               "Classifies the MNIST test images by the student's own Langevin trajectories\n"
               "(inputs clamped to the image, outputs read at t_f): top-1 and top-2 accuracy\n"
               "of the outputs averaged over M trajectories, single-trajectory accuracy, and\n"
               "the heat per classification (kT = 1 in model units) in joules at a bath\n"
               "temperature, against a digital forward pass of the teacher.\n\noptions:\n");
        tool_print_options(opts, n_opts);
        printf("\nExit status: 0 on success, 1 when the run fails, 2 for a bad command line.\n");
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    if (!p.model) return tool_usage_error(CMD " eval", "--model FILE is required");
    if (p.seed_text && tool_to_u64(p.seed_text, &p.seed) != 0)
        return tool_usage_error(CMD " eval", "--seed '%s': expected a whole number >= 0",
                                p.seed_text);
    if (p.json && tool_folder_writable(CMD " eval", p.json) != 0) return TOOL_EXIT_FAIL;

    tool_student st;
    if ((rc = tool_student_load(CMD, p.model, &st)) != TOOL_EXIT_OK) return rc;
    th_student_params sp = st.sp;
    const th_model *m = st.m;
    const char *widths_text = st.widths_text;
    if (p.seed_text) sp.seed = p.seed;

    th_dataset *d = NULL;
    float *X = NULL;                                   /* (count, n_input) */
    if ((rc = tool_student_images(CMD, &st, p.data, p.limit, &d, &X)) != TOOL_EXIT_OK) {
        tool_student_free(&st);
        return rc;
    }
    const size_t count = d->count, no = sp.n_output;
    int exit_code = TOOL_EXIT_FAIL;
    float *mean = malloc(count * no * sizeof *mean);   /* (count, n_output) */
    float *single = malloc(count * no * sizeof *single);
    double *heat = malloc(count * sizeof *heat);
    char *text = NULL;
    if (!mean || !single || !heat) {
        fprintf(stderr, "thermo " CMD ": out of memory for %zu test images\n", count);
        goto done;
    }
    tool_progress bar;
    tool_progress_begin(&bar, "images", p.quiet);
    th_student_eval_opts eo = th_student_eval_opts_default();
    eo.trajectories = p.trajectories;
    eo.progress = tool_progress_update;
    eo.progress_ctx = &bar;
    const double t0 = tool_now();
    rc = th_student_classify(m, &sp, X, count, &eo, mean, single, heat);
    const double wall = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    const double top1 = th_topk_accuracy(mean, count, no, d->labels, 1);
    const double top2 = th_topk_accuracy(mean, count, no, d->labels, 2);
    const double one1 = th_topk_accuracy(single, count, no, d->labels, 1);
    const double one2 = th_topk_accuracy(single, count, no, d->labels, 2);
    th_heat_stats hs;
    if ((rc = th_heat_stats_compute(heat, count, &hs)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    /* Heat per classification: all M trajectories of one image. */
    const double M = (double)p.trajectories;
    const double kT_J = th_energy_kT_joules(p.temperature);
    const double heat_class_kT = hs.mean * M, heat_class_J = heat_class_kT * kT_J;
    uint64_t macs = 0;
    double digital_J = 0, ratio = 0;
    int ratio_ok = 0;
    if (th_energy_mlp_macs(st.widths, st.n_widths, 1, &macs) == TH_OK) {
        digital_J = (double)macs * p.mac_energy;
        ratio_ok = th_energy_ratio(digital_J, heat_class_J, &ratio) == TH_OK;
    }
    printf("model        %s: %zu hidden units, t_f = %g (%zu steps), kT = %g\n", p.model,
           sp.n_hidden, sp.t_f, th_student_steps(&sp), sp.kT);
    printf("images       %zu test images x %zu trajectories, seed %llu, %.1f s\n", count,
           p.trajectories, (unsigned long long)sp.seed, wall);
    printf("accuracy     top-1 %.2f%%  top-2 %.2f%%  (outputs averaged over %zu "
           "trajectories)\n", 100 * top1, 100 * top2, p.trajectories);
    printf("single       top-1 %.2f%%  top-2 %.2f%%  (trajectory 0 alone)\n", 100 * one1,
           100 * one2);
    printf("heat         %.4g kT per trajectory (sd %.3g, %zu of %zu images with heat < 0), "
           "%.4g kT per classification of %zu trajectories\n", hs.mean, hs.sd, hs.negative,
           count, heat_class_kT, p.trajectories);
    printf("joules       %.4g J per classification at %g K (kT = %.4g J)\n", heat_class_J,
           p.temperature, kT_J);
    if (ratio_ok)
        printf("digital      teacher %s forward pass: %llu MACs x %g J = %.4g J; ratio to the "
               "heat %.3g\n", widths_text, (unsigned long long)macs, p.mac_energy, digital_J,
               ratio);
    else
        printf("digital      ratio undefined: the mean heat is not positive\n");
    printf("left out     control, readout, programming the couplings, training, and the "
           "digital side's memory traffic\n");

    if (p.json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "thermo_version", th_version());
        cJSON_AddStringToObject(root, "model", p.model);
        cJSON_AddNumberToObject(root, "images", (double)count);
        cJSON_AddNumberToObject(root, "trajectories", M);
        cJSON_AddNumberToObject(root, "seed", (double)sp.seed);
        cJSON_AddNumberToObject(root, "n_hidden", (double)sp.n_hidden);
        cJSON_AddNumberToObject(root, "t_f", sp.t_f);
        cJSON_AddNumberToObject(root, "kT", sp.kT);
        cJSON_AddNumberToObject(root, "top1", top1);
        cJSON_AddNumberToObject(root, "top2", top2);
        cJSON_AddNumberToObject(root, "single_top1", one1);
        cJSON_AddNumberToObject(root, "single_top2", one2);
        cJSON_AddNumberToObject(root, "heat_per_trajectory_kT", hs.mean);
        cJSON_AddNumberToObject(root, "heat_per_trajectory_sd_kT", hs.sd);
        cJSON_AddNumberToObject(root, "heat_per_classification_kT", heat_class_kT);
        cJSON_AddNumberToObject(root, "heat_per_classification_J", heat_class_J);
        cJSON_AddNumberToObject(root, "temperature_K", p.temperature);
        cJSON_AddStringToObject(root, "teacher_widths", widths_text);
        cJSON_AddNumberToObject(root, "teacher_macs", (double)macs);
        cJSON_AddNumberToObject(root, "mac_energy_J", p.mac_energy);
        cJSON_AddNumberToObject(root, "digital_J", digital_J);
        if (ratio_ok) cJSON_AddNumberToObject(root, "ratio_digital_to_heat", ratio);
        else cJSON_AddNullToObject(root, "ratio_digital_to_heat");
        cJSON_AddNumberToObject(root, "wall_seconds", wall);
        text = cJSON_Print(root);
        cJSON_Delete(root);
        if (!text || tool_write_text(p.json, text) != 0) {
            fprintf(stderr, "thermo " CMD ": cannot write %s: %s\n", p.json,
                    text ? th_last_error() : "out of memory");
            goto done;
        }
    }
    exit_code = TOOL_EXIT_OK;
done:
    free(text);
    free(X);
    free(mean);
    free(single);
    free(heat);
    th_dataset_free(d);
    tool_student_free(&st);
    return exit_code;
}

int cmd_classify(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: thermo classify train|eval [options]\n\n"
                     "  train   train the PNAS 2026 thermodynamic classifier from a teacher\n"
                     "  eval    classify the MNIST test set by its Langevin trajectories\n\n"
                     "Run 'thermo classify train --help' or 'thermo classify eval --help'.\n");
        return argc < 2 ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
    }
    if (strcmp(argv[1], "train") == 0) return classify_train(argc - 1, argv + 1);
    if (strcmp(argv[1], "eval") == 0) return classify_eval(argc - 1, argv + 1);
    return tool_usage_error(CMD, "unknown subcommand '%s': expected train or eval", argv[1]);
}
