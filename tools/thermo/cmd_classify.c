/* cmd_classify.c - thermo classify: the thermodynamic MNIST classifier of
 * Whitelam's PNAS 2026 paper (science.md section 3). train fits the student
 * to a teacher's idealised trajectories (th_student_fit); eval classifies
 * the test set by its own Langevin trajectories and weighs the heat against
 * the teacher's forward pass (th_student_evaluate). */
#include "thermo.h"
#include "tool.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "classify"
#define ALL_IMAGES ((size_t)-1)

/* ---------------------------------------------------------------- train */

typedef struct train_params {
    const char *teacher;
    const char *out;
    const char *data;
    size_t limit;
    int quiet;
    tool_progress bar;
} train_params;

static const char *const solver_names[] = {"exact", "adam", NULL};

static int on_paths(size_t done, size_t total, void *ctx)
{
    train_params *p = ctx;
    return tool_progress_update(done, total, &p->bar);
}

static int on_update(size_t update, size_t total, double loss, void *ctx)
{
    (void)loss;
    return on_paths(update, total, ctx);
}

static int on_iteration(size_t iteration, double residual, void *ctx)
{
    if (!((const train_params *)ctx)->quiet && iteration % 100 == 0)
        fprintf(stderr, "  CG iteration %zu: relative residual %.3g\n", iteration, residual);
    return 0;
}

static int classify_train(int argc, char **argv)
{
    th_student_params sp = th_student_params_default();
    th_student_fit_opts fo = th_student_fit_opts_default();
    train_params p = {.data = "data/mnist", .limit = ALL_IMAGES};
    int solver = (int)fo.solver;
    const tool_opt opts[] = {
        {"teacher", "FILE", TOOL_OPT_STRING, &p.teacher, NULL,
         "the digital teacher (thermo classifier train --arch teacher)", "required"},
        {"out", "FILE", TOOL_OPT_STRING, &p.out, NULL, "the trained student (safetensors)",
         "required"},
        {"data", "DIR", TOOL_OPT_STRING, &p.data, NULL, "MNIST folder (train-* IDX files)", NULL},
        {"solver", "S", TOOL_OPT_CHOICE, &solver, solver_names,
         "exact (the objective's minimiser: one pass and a linear solve) or adam", NULL},
        {"ridge", "L", TOOL_OPT_NONNEG, &fo.ridge, NULL,
         "exact: the penalty L |J|^2 / 2 on the couplings per path (the objective per path "
         "plus it; L times the paths in all, as thermo train's --ridge)",
         "1/60: 1000 in all for 60000 images"},
        {"epochs", "N", TOOL_OPT_COUNT, &fo.train.epochs, NULL,
         "passes over the training images (exact: idealised paths per image)", NULL},
        {"batch", "N", TOOL_OPT_COUNT, &fo.train.batch, NULL, "idealised paths per Adam update",
         NULL},
        {"lr", "RATE", TOOL_OPT_POSITIVE, &fo.train.learning_rate, NULL,
         "Adam learning rate (half-cosine decay to 0)", NULL},
        {"hidden", "N", TOOL_OPT_COUNT, &sp.n_hidden, NULL, "hidden units of the student", NULL},
        {"tf", "T", TOOL_OPT_POSITIVE, &sp.t_f, NULL, "observation time t_f (dt = 1e-3)", NULL},
        {"gain", "F", TOOL_OPT_NONNEG, &sp.gain, NULL,
         "idealised force per unit activation; 0 = the force that ends a noise-free path "
         "at x(t_f) = 1", NULL},
        {"output-temperature", "T", TOOL_OPT_POSITIVE, &sp.output_temperature, NULL,
         "output targets 2 softmax(logits / T) - 1 (the paper: 1)", NULL},
        {"limit", "N", TOOL_OPT_COUNT, &p.limit, NULL, "use only the first N training images",
         "all"},
        {"seed", "S", TOOL_OPT_U64, &sp.seed, NULL, "noise of the idealised paths, shuffling",
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
               "--ridge is per path: the exact solve minimises the objective per path plus\n"
               "L |J|^2 / 2, so the same L weighs the same against the data for any --limit\n"
               "or --epochs.\n\noptions:\n");
        tool_print_options(opts, n_opts);
        printf("\nExit status: 0 on success, 1 when the run fails, 2 for a bad command line.\n");
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    if (!p.teacher) return tool_usage_error(CMD " train", "--teacher FILE is required");
    if (!p.out) return tool_usage_error(CMD " train", "--out FILE is required");
    fo.solver = (th_student_solver)solver;
    if (th_student_params_validate(&sp) != TH_OK)
        return tool_usage_error(CMD " train", "%s", th_last_error());
    if (tool_folder_writable(CMD " train", p.out) != 0) return TOOL_EXIT_FAIL;

    th_mlp *teacher = NULL;
    th_dataset *d = NULL;
    th_student st = {0};
    th_meta meta = {0};
    int exit_code = TOOL_EXIT_FAIL;
    if ((rc = th_mlp_load(p.teacher, &teacher)) != TH_OK) return tool_fail_lib(CMD, rc);
    if ((rc = th_student_params_for_teacher(teacher, &sp)) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s: %s\n", p.teacher, th_last_error());
        goto done;
    }
    if ((rc = th_student_dataset(p.data, "train", p.limit, &d)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    const double t0 = tool_now();
    const int exact = fo.solver == TH_STUDENT_EXACT;
    printf("teacher   %s: %d weight layers, %zu inputs, %zu outputs; gain %.6g (force per "
           "unit activation)\n", p.teacher, teacher->n_layers, sp.n_input, sp.n_output,
           th_student_gain(&sp));
    printf("student   %zu input + %zu hidden + %zu output units, t_f = %g (%zu steps), "
           "%zu images x %zu %s", sp.n_input, sp.n_hidden, sp.n_output, sp.t_f,
           th_student_steps(&sp), d->count, fo.train.epochs,
           exact ? "paths each, exact solve" : "epochs, Adam");
    if (exact) printf(", ridge %g per path\n", fo.ridge);
    else printf(", batch %zu, lr %g\n", fo.train.batch, fo.train.learning_rate);
    fflush(stdout);
    fo.on_paths = on_paths;
    fo.on_iteration = on_iteration;
    fo.ctx = &p;
    fo.train.on_update = on_update;
    fo.train.ctx = &p;
    double *epoch_loss = calloc(fo.train.epochs, sizeof *epoch_loss);
    if (!epoch_loss) {
        fprintf(stderr, "thermo " CMD ": out of memory for %zu epochs\n", fo.train.epochs);
        goto done;
    }
    th_student_fit_report r;
    tool_progress_begin(&p.bar, exact ? "paths" : "updates", p.quiet);
    const double t1 = tool_now();
    rc = th_student_fit(teacher, d, &sp, &fo, &st, &r, epoch_loss);
    const double train_s = tool_now() - t1;
    tool_progress_end(&p.bar);
    if (rc == TH_OK && exact) {
        printf("exact     %zu paths accumulated in %.1f s; CG %zu iterations (relative "
               "residual %.2g%s) in %.1f s\n", r.paths, r.accumulate_seconds, r.solve.iterations,
               r.solve.residual, r.solve.converged ? "" : ", NOT converged", r.solve_seconds);
        printf("objective per path %.6f at zero parameters, %.6f at the minimiser\n",
               r.objective_zero, r.objective);
    } else if (rc == TH_OK) {
        for (size_t e = 0; e < fo.train.epochs; e++)
            printf("epoch %zu  objective per path %.6f\n", e + 1, epoch_loss[e]);
    }
    free(epoch_loss);
    if (rc != TH_OK || (rc = th_meta_set(&meta, "student.teacher", p.teacher)) != TH_OK ||
        (rc = th_student_fit_meta(&fo, &r, &meta)) != TH_OK ||
        (rc = th_student_save(p.out, &st, &meta)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    printf("saved     %s (training %.1f s, total %.1f s)\n", p.out, train_s, tool_now() - t0);
    exit_code = TOOL_EXIT_OK;
done:
    th_meta_clear(&meta);
    th_student_clear(&st);
    th_dataset_free(d);
    th_mlp_free(teacher);
    return exit_code;
}

/* ----------------------------------------------------------------- eval */

typedef struct json_number {
    const char *key;
    double value;
} json_number;

static void add_numbers(cJSON *root, const json_number *n, size_t count)
{
    for (size_t k = 0; k < count; k++) cJSON_AddNumberToObject(root, n[k].key, n[k].value);
}

typedef struct eval_params {
    const char *model, *data, *json, *seed_text;
    size_t trajectories, limit;
    uint64_t seed;
    double temperature, mac_energy;
    int quiet;
    tool_hw hwo; /* the hardware options; hwo.hw what they say */
} eval_params;

static int classify_eval(int argc, char **argv)
{
    eval_params p = {.model = NULL, .data = "data/mnist", .json = NULL, .trajectories = 10,
                     .limit = ALL_IMAGES, .seed_text = NULL, .temperature = 300,
                     .mac_energy = 1e-12, .hwo = tool_hw_default()};
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
        TOOL_OPTS_HW(&p.hwo),
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
    if (rc != TOOL_EXIT_OK || (rc = tool_hw_get(CMD " eval", &p.hwo))) return rc;
    if (!p.model) return tool_usage_error(CMD " eval", "--model FILE is required");
    if (p.seed_text && tool_to_u64(p.seed_text, &p.seed) != 0)
        return tool_usage_error(CMD " eval", "--seed '%s': expected a whole number", p.seed_text);
    if (p.json && tool_folder_writable(CMD " eval", p.json) != 0) return TOOL_EXIT_FAIL;

    th_student st;
    th_meta meta = {0};
    if ((rc = th_student_load(p.model, &st, &meta)) != TH_OK) return tool_fail_lib(CMD, rc);
    th_student_params sp = st.params;
    const char *widths_text = th_meta_get(&meta, "student.teacher_widths");
    if (p.seed_text) sp.seed = p.seed;

    th_dataset *d = NULL;
    float *X = NULL;                                   /* (count, n_input) */
    const th_hw *hw = &p.hwo.hw;
    char *text = NULL;
    int exit_code = TOOL_EXIT_FAIL;
    th_student_report r;
    if ((rc = th_student_images(&st, p.data, "t10k", p.limit, &d, &X)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    tool_progress bar;
    tool_progress_begin(&bar, "images", p.quiet);
    th_student_eval_opts eo = th_student_eval_opts_default();
    eo.trajectories = p.trajectories;
    eo.progress = tool_progress_update;
    eo.progress_ctx = &bar;
    const double t0 = tool_now();
    rc = th_hw_student_evaluate(hw, &st, &sp, d, X, &eo, p.temperature, p.mac_energy, &r);
    const double wall = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    printf("model        %s: %zu hidden units, t_f = %g (%zu steps), kT = %g\n", p.model,
           sp.n_hidden, sp.t_f, th_student_steps(&sp), sp.kT);
    printf("images       %zu test images x %zu trajectories, seed %llu, %.1f s\n", r.images,
           p.trajectories, (unsigned long long)sp.seed, wall);
    printf("accuracy     top-1 %.2f%%  top-2 %.2f%%  (outputs averaged over %zu "
           "trajectories)\n", 100 * r.top1, 100 * r.top2, p.trajectories);
    printf("single       top-1 %.2f%%  top-2 %.2f%%  (trajectory 0 alone)\n",
           100 * r.single_top1, 100 * r.single_top2);
    printf("heat         %.4g kT per trajectory (sd %.3g, %zu of %zu images with heat < 0), "
           "%.4g kT per classification of %zu trajectories\n", r.heat.mean, r.heat.sd,
           r.heat.negative, r.images, r.heat_class_kT, p.trajectories);
    printf("joules       %.4g J per classification at %g K (kT = %.4g J)\n", r.heat_class_J,
           p.temperature, r.kT_J);
    if (r.ratio_defined)
        printf("digital      teacher %s forward pass: %llu MACs x %g J = %.4g J; ratio to the "
               "heat %.3g\n", widths_text, (unsigned long long)r.teacher_macs, p.mac_energy,
               r.digital_J, r.ratio);
    else
        printf("digital      ratio undefined: the mean heat is not positive\n");
    printf("left out     control, readout, programming the couplings, training, and the "
           "digital side's memory traffic\n");
    tool_hw_print("hardware     ", hw, 1);

    if (p.json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "thermo_version", th_version());
        cJSON_AddStringToObject(root, "model", p.model);
        const json_number numbers[] = {
            {"images", (double)r.images}, {"trajectories", (double)p.trajectories},
            {"seed", (double)sp.seed}, {"n_hidden", (double)sp.n_hidden}, {"t_f", sp.t_f},
            {"kT", sp.kT}, {"top1", r.top1}, {"top2", r.top2},
            {"single_top1", r.single_top1}, {"single_top2", r.single_top2},
            {"heat_per_trajectory_kT", r.heat.mean}, {"heat_per_trajectory_sd_kT", r.heat.sd},
            {"heat_per_classification_kT", r.heat_class_kT},
            {"heat_per_classification_J", r.heat_class_J}, {"temperature_K", p.temperature},
            {"teacher_macs", (double)r.teacher_macs}, {"mac_energy_J", p.mac_energy},
            {"digital_J", r.digital_J},
        };
        add_numbers(root, numbers, sizeof numbers / sizeof numbers[0]);
        cJSON_AddStringToObject(root, "teacher_widths", widths_text);
        if (r.ratio_defined) cJSON_AddNumberToObject(root, "ratio_digital_to_heat", r.ratio);
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
    th_dataset_free(d);
    th_meta_clear(&meta);
    th_student_clear(&st);
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
