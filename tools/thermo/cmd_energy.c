/* cmd_energy.c - thermo energy: the energy ledger of a trained thermodynamic
 * computer, reported with every assumption beside its number.
 *
 * The library measures and keeps the books (th_energy_run_gen,
 * th_energy_run_student: heat per sample against the digital lines (a)-(d)
 * and the papers' own estimates, src/energy/book.c); this command parses
 * options, loads the model (and a classifier's test images), and renders
 * the ledger as text, JSON and a histogram. */
#include "thermo.h"
#include "tool.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "energy"
#define CHART_WIDTH 640
#define CHART_HEIGHT 360

typedef struct energy_params {
    const char *model;
    size_t samples;
    double temperature; /* K */
    double time_unit;   /* seconds per unit of 1/mu */
    double mac_energy;  /* J per multiply-accumulate */
    const char *network;  /* NULL: the model kind's baseline */
    size_t widths[TH_ENERGY_MAX_LAYERS]; /* --network parsed */
    size_t n_widths;
    size_t steps;         /* 0: the model kind's baseline */
    const char *data;     /* classifiers: the MNIST folder */
    size_t trajectories;  /* classifiers: trajectories per classification */
    const char *json;
    const char *histogram;
    const char *seed_text; /* NULL = the model's gen.seed */
    size_t threads;
    int quiet;
} energy_params;

static void print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo energy --model FILE [options]\n"
           "\n"
           "The energy ledger of a trained generative computer (thermo train): generates N\n"
           "samples, measures the heat each gives to the bath while it computes, converts\n"
           "it to joules at a temperature, and sets it against digital computing: (a) the\n"
           "PRL paper's 784-128-128-784 MLP denoiser run for 10 steps, (b) the arithmetic\n"
           "of this simulation, (c) the energy the CPU packages used for the run, where\n"
           "Linux exposes RAPL counters to this user, (d) the network given by --network\n"
           "and --steps. Every line is printed with its assumptions, then one table of\n"
           "ratios (digital energy / heat) and what the estimate leaves out. A time-\n"
           "dependent protocol (thermo train --segments S) runs all its segments; the\n"
           "ledger adds the work its switches do and checks dV = W - Q per sample.\n"
           "\n"
           "For a thermodynamic classifier (thermo classify train) a sample is one\n"
           "classification: --trajectories runs on one of the first N MNIST test images,\n"
           "the heat of all of them; line (a) is then the PNAS paper's comparison, one\n"
           "forward pass of the digital teacher, and (d) defaults to the same network.\n"
           "\n"
           "options:\n");
    tool_print_options(opts, n_opts);
    printf("\n"
           "The histogram has about sqrt(N) bins (%d to %d) spanning the smallest to the\n"
           "largest heat; the report states the range. The environment variable\n"
           "THERMO_POWERCAP names another folder than " TH_RAPL_ROOT " for line (c).\n"
           "\n"
           "Exit status: 0 on success, 1 when the run fails (a model file that cannot be\n"
           "used is named), 2 for a command line that cannot be used.\n", TH_ENERGY_MIN_BINS,
           TH_ENERGY_MAX_BINS);
}


/* "784,128,128,784" into widths; 0, or -1 when malformed. */
static int parse_network(const char *text, size_t *widths, size_t *n)
{
    *n = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char word[32];
        uint64_t v;
        if (len == 0 || len >= sizeof word || *n == TH_ENERGY_MAX_LAYERS) return -1;
        memcpy(word, p, len);
        word[len] = '\0';
        if (tool_to_u64(word, &v) != 0 || v == 0 || v > SIZE_MAX) return -1;
        widths[(*n)++] = (size_t)v;
        if (!comma) break;
        p = comma + 1;
    }
    return *n >= 2 ? 0 : -1;
}

/* ------------------------------------------------------------ report */

/* The model and the run: what a generator or a classifier is. */
static void print_head(const energy_params *p, const th_energy_ledger *L, const th_model *m,
                       const th_gen_params *gp, const th_student_params *sp)
{
    const double n = (double)L->hs.count;
    char n1[32];
    if (!L->classifier) {
        printf("model     %s: generative computer, %zu visible + %zu hidden units\n"
               "          %s coupled pairs (ordered), kT %g, dt %g, t_f %g: %llu steps a phase\n",
               p->model, gp->n_visible, gp->n_hidden,
               th_energy_grouped(L->ops.coupling_pairs, n1, sizeof n1), m->kT, gp->dt, gp->t_f,
               (unsigned long long)L->ops.steps);
        if (gp->segments > 1)
            printf("          a time-dependent protocol: couplings and biases switch between "
                   "%zu segments\n", gp->segments);
        printf("samples   %zu, seed %llu%s, %.3g s wall (%.3g s a sample)\n"
               "          threads %d (OpenMP), %d (OpenBLAS)\n", L->hs.count,
               (unsigned long long)gp->seed, p->seed_text ? "" : " (the model's)", L->wall_s,
               L->wall_s / n, omp_get_max_threads(), openblas_get_num_threads());
    } else {
        printf("model     %s: thermodynamic classifier, %zu inputs + %zu hidden + %zu output "
               "units\n          kT %g, dt %g, t_f %g: %llu steps a trajectory\n", p->model,
               sp->n_input, sp->n_hidden, sp->n_output, sp->kT, sp->dt, sp->t_f,
               (unsigned long long)L->ops.steps);
        printf("samples   %zu classifications of MNIST test images (%s), %zu trajectories each, "
               "seed %llu%s\n          top-1 %.2f%% on them; %.3g s wall (%.3g s a "
               "classification)\n", L->hs.count, p->data, L->trajectories,
               (unsigned long long)sp->seed, p->seed_text ? "" : " (the model's)",
               100 * L->top1, L->wall_s, L->wall_s / n);
    }
}

/* -------------------------------------------------------------- run */

/* After the library's run: its failure, or the picture, the JSON and the
 * report. gp for a generator, sp for a classifier. */
static int render(const energy_params *p, int rc, const th_energy_ledger *L, const th_model *m,
                  const th_gen_params *gp, const th_student_params *sp)
{
    if (rc != TH_OK && !L->overflow) return tool_fail_lib(CMD, rc);
    if (rc != TH_OK) {
        fprintf(stderr, "thermo " CMD ": --temperature %g, --time-unit %g, --mac-energy %g: an "
                        "energy, time or power overflows or vanishes\n", p->temperature,
                p->time_unit, p->mac_energy);
        return TOOL_EXIT_FAIL;
    }
    if (p->histogram) {
        const double marks[2] = {L->hs.mean, 0.0};
        th_canvas *c = th_picture_histogram(L->bins, L->n_bins, L->bin_lo, L->bin_hi, marks, 2,
                                            CHART_WIDTH, CHART_HEIGHT);
        rc = c ? th_png_write(p->histogram, c, 1) : TH_ENOMEM;
        th_canvas_free(c);
        if (rc != TH_OK) return tool_fail_lib(CMD, rc);
    }
    if (p->json) {
        char *json = th_energy_ledger_json(L, p->model, p->histogram);
        if (!json) {
            fprintf(stderr, "thermo " CMD ": out of memory for the JSON\n");
            return TOOL_EXIT_FAIL;
        }
        int bad = tool_write_text(p->json, json);
        free(json);
        if (bad) return tool_fail_lib(CMD, TH_EIO);
    }
    char *text = th_energy_ledger_text(L, p->histogram);
    if (!text) return tool_fail_lib(CMD, TH_ENOMEM);
    print_head(p, L, m, gp, sp);
    fputs(text, stdout);
    free(text);
    if (p->json) printf("json      %s\n", p->json);
    return TOOL_EXIT_OK;
}

/* A classifier's books: its first --samples test images classified by
 * --trajectories runs each. */
static int run_student(const energy_params *p, uint64_t seed, const th_energy_opts *o)
{
    th_energy_ledger L;
    th_student st;
    th_dataset *d = NULL;
    float *X = NULL;
    int rc = th_student_load(p->model, &st, NULL);
    if (rc != TH_OK) return tool_fail_lib(CMD, rc);
    if (p->seed_text) st.params.seed = seed;
    rc = th_student_images(&st, p->data, "t10k", p->samples, &d, &X);
    int exit_code = TOOL_EXIT_FAIL;
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
    } else {
        tool_progress bar;
        tool_progress_begin(&bar, "images", p->quiet);
        th_energy_opts so = *o;
        so.progress_ctx = &bar;
        rc = th_energy_run_student(st.model, &st.params, st.widths, st.n_widths, X, d->labels,
                                   d->count, &so, &L);
        tool_progress_end(&bar);
        exit_code = render(p, rc, &L, st.model, NULL, &st.params);
    }
    free(X);
    th_dataset_free(d);
    th_student_clear(&st);
    return exit_code;
}

static int run_energy(const energy_params *p, uint64_t seed)
{
    if ((p->json && tool_folder_writable(CMD, p->json) != 0) ||
        (p->histogram && tool_folder_writable(CMD, p->histogram) != 0))
        return TOOL_EXIT_FAIL;
    th_energy_opts o = th_energy_opts_default();
    o.temperature_K = p->temperature;
    o.time_unit_s = p->time_unit;
    o.mac_energy_J = p->mac_energy;
    o.network = p->network ? p->widths : NULL;
    o.n_layers = p->n_widths;
    o.steps = p->steps;
    o.trajectories = p->trajectories;
    o.rapl_root = getenv("THERMO_POWERCAP");
    if (o.rapl_root && !o.rapl_root[0]) o.rapl_root = NULL;
    o.progress = tool_progress_update;

    th_model *m = NULL;
    th_gen_protocol *pr = NULL;
    th_meta meta = {0};
    th_gen_params gp;
    th_energy_ledger L;
    int rc = th_model_load(p->model, &m, &meta), exit_code = TOOL_EXIT_FAIL;
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
    } else if (th_student_meta_is(&meta)) {
        th_meta_clear(&meta);
        th_model_free(m);
        return run_student(p, seed, &o);
    } else if (!th_meta_get(&meta, "gen.n_visible")) {
        fprintf(stderr, "thermo " CMD ": %s: neither generator (gen.*) nor classifier "
                        "(student.*) settings in its metadata: expected a model written by "
                        "thermo train or thermo classify train\n", p->model);
    } else if (th_gen_params_from_meta(&meta, &gp) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s: %s\n", p->model, th_last_error());
    } else if ((rc = th_gen_protocol_load(p->model, &pr, &gp, NULL)) != TH_OK) {
        tool_fail_lib(CMD, rc); /* every segment of a time-dependent protocol */
    } else {
        if (p->seed_text) gp.seed = seed;
        tool_progress bar;
        tool_progress_begin(&bar, "samples", p->quiet);
        o.progress_ctx = &bar;
        rc = th_energy_run_gen_protocol(pr, &gp, p->samples, &o, &L);
        tool_progress_end(&bar);
        exit_code = render(p, rc, &L, m, &gp, NULL);
    }
    th_meta_clear(&meta);
    th_model_free(m);
    th_gen_protocol_free(pr);
    return exit_code;
}

int cmd_energy(int argc, char **argv)
{
    energy_params p = {
        .model = NULL,
        .samples = 1000,
        .temperature = 300,
        .time_unit = 1e-6,
        .mac_energy = 1e-12,
        .network = NULL,
        .steps = 0,
        .data = "data/mnist",
        .trajectories = TH_ENERGY_PNAS_TRAJECTORIES,
        .json = NULL,
        .histogram = NULL,
        .seed_text = NULL,
        .threads = 0,
        .quiet = 0,
    };
    const tool_opt opts[] = {
        {"model", "FILE", TOOL_OPT_STRING, &p.model, NULL,
         "the trained generative computer, such as RUN/model.safetensors, or a "
         "classifier (thermo classify train) (required)", ""},
        {"samples", "N", TOOL_OPT_COUNT, &p.samples, NULL,
         "generations (classifications) whose heat is measured", NULL},
        {"temperature", "K", TOOL_OPT_POSITIVE, &p.temperature, NULL,
         "bath temperature in kelvin: kT = k_B T joules", NULL},
        {"time-unit", "S", TOOL_OPT_POSITIVE, &p.time_unit, NULL,
         "seconds per unit of time 1/mu (about 1e-6 for electrical hardware)", NULL},
        {"mac-energy", "J", TOOL_OPT_POSITIVE, &p.mac_energy, NULL,
         "joules per digital multiply-accumulate", NULL},
        {"network", "W0,W1,...", TOOL_OPT_STRING, &p.network, NULL,
         "layer widths of a digital MLP to compare with (line d)",
         "784,128,128,784; a classifier's teacher"},
        {"steps", "S", TOOL_OPT_COUNT, &p.steps, NULL,
         "passes of that network per sample (line d)", "10; 1 for a classifier"},
        {"data", "DIR", TOOL_OPT_STRING, &p.data, NULL,
         "classifiers: the MNIST folder whose test images are classified", NULL},
        {"trajectories", "M", TOOL_OPT_COUNT, &p.trajectories, NULL,
         "classifiers: trajectories per classification", NULL},
        {"json", "FILE", TOOL_OPT_STRING, &p.json, NULL,
         "also write the ledger as JSON, each line with its assumptions", "none"},
        {"histogram", "FILE.png", TOOL_OPT_STRING, &p.histogram, NULL,
         "draw the heat per sample as a histogram (no text; the report gives the range)",
         "none"},
        {"seed", "S", TOOL_OPT_STRING, &p.seed_text, NULL, "seed of the samples' noise",
         "the model's gen.seed"},
        TOOL_OPT_THREADS(&p.threads),
        TOOL_OPT_QUIET(&p.quiet),
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];

    int rc;
    if (!tool_parse_or_help(CMD, opts, n_opts, argc, argv, print_help, &rc)) return rc;
    if (!p.model) return tool_usage_error(CMD, "--model FILE is required");
    uint64_t seed = 0;
    if (p.seed_text && tool_to_u64(p.seed_text, &seed) != 0)
        return tool_usage_error(CMD, "--seed: expected a whole number >= 0, got '%s'", p.seed_text);
    if (p.samples > TH_GEN_SAMPLE_STREAM)
        return tool_usage_error(CMD, "--samples %zu: at most %llu", p.samples,
                                (unsigned long long)TH_GEN_SAMPLE_STREAM);
    if ((rc = tool_use_threads(CMD, p.threads)) != TOOL_EXIT_OK) return rc;
    if (p.network && parse_network(p.network, p.widths, &p.n_widths) != 0)
        return tool_usage_error(CMD, "--network: expected 2 to %d layer widths >= 1 separated "
                                "by commas, such as 784,128,128,784; got '%s'",
                                TH_ENERGY_MAX_LAYERS, p.network);
    uint64_t macs;
    if (p.network &&
        th_energy_mlp_macs(p.widths, p.n_widths, p.steps ? p.steps : 1, &macs) != TH_OK)
        return tool_usage_error(CMD, "--network %s --steps %zu: %s", p.network, p.steps,
                                th_last_error());
    if (p.trajectories > ((size_t)1 << 20))
        return tool_usage_error(CMD, "--trajectories %zu: expected at most 2^20", p.trajectories);
    return run_energy(&p, seed);
}
