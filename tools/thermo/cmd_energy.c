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
#include <cjson/cJSON.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "energy"
#define MAX_THREADS 4096
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
           "ratios (digital energy / heat) and what the estimate leaves out.\n"
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
           "used is named), 2 for a command line that cannot be used.\n", TH_ENERGY_MIN_BINS, TH_ENERGY_MAX_BINS);
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

/* text wrapped at word boundaries to lines of at most WRAP columns, each
 * line indented by indent columns, the first of them filled by head. */
#define WRAP 92
static void print_wrapped(const char *head, size_t indent, const char *text)
{
    const char *p = text;
    int first = 1;
    while (*p) {
        size_t room = WRAP - indent, len = strlen(p);
        size_t take = len;
        if (len > room) {
            take = room;
            while (take > 0 && p[take] != ' ') take--;
            if (take == 0) take = room; /* one word longer than the line */
        }
        printf("%-*s%.*s\n", (int)indent, first ? head : "", (int)take, p);
        first = 0;
        p += take;
        while (*p == ' ') p++;
    }
}

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
    printf("bath      %g K: kT = %.7g J (k_B = %.7g J/K, exact in the SI since 2019)\n",
           L->temperature_K, L->kT_J, TH_BOLTZMANN_J_PER_K);
}

/* The heat, work, entropy, time and power of one sample. */
static void print_thermo(const energy_params *p, const th_energy_ledger *L, double dt)
{
    const th_heat_stats *hs = &L->hs;
    const int cls = L->classifier;
    const double M = (double)L->trajectories;
    const char *unit = cls ? "classification" : "sample";
    printf("\nthe thermodynamic computer, per %s", unit);
    if (cls) printf(" (%zu trajectories)", L->trajectories);
    printf("\n  heat      mean %.4g kT", hs->mean);
    if (cls) printf(" (%.4g kT a trajectory)", hs->mean / M);
    printf(", sd %.3g kT, range %.4g to %.4g kT\n            given to the bath while %s\n",
           hs->sd, hs->min, hs->max, cls ? "the free units run with the inputs clamped"
                                         : "computing (Stratonovich heat, Sekimoto)");
    printf("            = %.4g J mean, %.3g J sd at %g K\n", L->heat_J, hs->sd * L->kT_J,
           L->temperature_K);
    printf("            %zu of %zu %ss took heat from the bath (Q < 0); the ledger uses the "
           "mean\n", hs->negative, hs->count, unit);
    printf("%s", cls ? "  work      0: couplings, biases and clamped inputs stay fixed while it "
                       "computes\n            (clamping the image and switching the couplings "
                       "on is programming, not counted)\n"
                     : "  work      0: couplings and biases stay fixed while it computes; V does "
                       "not change in time\n            (switching them on before and off "
                       "after is programming, not counted)\n");
    printf("  entropy   Q/T = %.4g k_B = %.4g J/K produced in the bath (isothermal, %g K)%s\n",
           hs->mean, hs->mean * TH_BOLTZMANN_J_PER_K, L->temperature_K,
           cls ? "" : ";\n            the change of the units' own entropy is not included");
    if (cls)
        printf("  time      %llu steps x dt %g x %g s = %.4g s a trajectory; %zu trajectories "
               "side by side\n            take that long, one after another %.4g s\n"
               "  power     heat of one trajectory / its time = %.4g W\n",
               (unsigned long long)L->ops.steps, dt, L->time_unit_s, L->compute_s,
               L->trajectories, L->compute_s * M, L->heat_J / M / L->compute_s);
    else
        printf("  time      noise equilibration %.4g s, then computing %.4g s (the phase whose "
               "heat is\n            counted), each %llu steps x dt %g x %g s: %.4g s a "
               "sample\n  power     mean heat / computing time = %.4g W\n", L->noise_s,
               L->compute_s, (unsigned long long)L->ops.steps, dt, L->time_unit_s,
               L->noise_s + L->compute_s, L->heat_J / L->compute_s);
    if (p->histogram)
        printf("  histogram %s: %zu bins of %.4g kT from %.4g to %.4g kT; red line: the mean%s\n",
               p->histogram, L->n_bins, (L->bin_hi - L->bin_lo) / (double)L->n_bins, L->bin_lo,
               L->bin_hi, !cls && L->bin_lo < 0 && L->bin_hi > 0 ? ", grey line: 0" : "");
}

/* The digital lines in full, the table of ratios, and the paper's check. */
static void print_digital(const th_energy_ledger *L, size_t n_units)
{
    const th_energy_line *a = &L->line[TH_ENERGY_LINE_PAPER], *b = &L->line[TH_ENERGY_LINE_SIM];
    const th_energy_line *c = &L->line[TH_ENERGY_LINE_RAPL], *d = &L->line[TH_ENERGY_LINE_USER];
    const th_energy_sim_ops *o = &L->ops;
    const th_energy_paper *pp = &L->paper;
    const int cls = L->classifier;
    const char *unit = cls ? "classification" : "sample";
    char n1[32], n2[32], n3[32], n4[32];
    printf("\nthe digital side, per %s, at %g J per multiply-accumulate (MAC)\n", unit,
           L->mac_energy_J);
    printf("  (a) %s MACs = %.4g J\n", th_energy_grouped((uint64_t)a->macs, n1, 32), a->joules);
    print_wrapped("", 6, a->assumes);
    printf("  (b) %s MACs = %.4g J: this simulation's own arithmetic\n",
           th_energy_grouped((uint64_t)b->macs, n1, 32), b->joules);
    if (cls)
        printf("        coupling forces and input field %s MACs, on-site update %s MACs\n",
               th_energy_grouped(o->coupling_macs, n1, 32),
               th_energy_grouped(o->onsite_macs, n2, 32));
    else
        printf("        coupling forces %s MACs x %llu (%llu steps + 1 for the heat) = %s\n"
               "        on-site update  %d MACs x %zu units x %llu steps (both phases) = %s\n"
               "        not counted: %s Gaussian numbers (Philox and Box-Muller), memory "
               "traffic\n", th_energy_grouped(o->coupling_pairs, n1, 32),
               (unsigned long long)(o->steps + 1), (unsigned long long)o->steps,
               th_energy_grouped(o->coupling_macs, n2, 32), TH_ENERGY_ONSITE_MACS, n_units,
               (unsigned long long)(2 * o->steps), th_energy_grouped(o->onsite_macs, n3, 32),
               th_energy_grouped(o->normals, n4, 32));
    if (c->available) {
        printf("  (c) %.4g J measured (%.4g J over %zu %ss, %zu package zone%s)\n", c->joules,
               L->rapl_J, L->hs.count, unit, L->rapl_zones, L->rapl_zones == 1 ? "" : "s");
        print_wrapped("", 6, c->assumes);
    } else {
        printf("  (c) not available here: %s\n", c->why_not);
    }
    printf("  (d) %s MACs = %.4g J%s\n", th_energy_grouped((uint64_t)d->macs, n1, 32),
           d->joules, d->macs == a->macs ? " (the same count as (a))" : "");
    print_wrapped("", 6, d->assumes);

    printf("\nratios: digital energy / thermodynamic heat (mean %.4g J a %s)\n", L->heat_J,
           unit);
    printf("  line  digital, J   ratio      assumes\n");
    for (size_t k = 0; k < TH_ENERGY_N_LINES; k++) {
        const th_energy_line *e = &L->line[k];
        if (!e->available)
            printf("  (%s)   %-12s %-10s not available here: %s\n", e->id, "-", "-", e->label);
        else if (e->ratio_defined)
            printf("  (%s)   %-12.4g %-10.3g %s\n", e->id, e->joules, e->ratio, e->label);
        else
            printf("  (%s)   %-12.4g %-10s %s\n", e->id, e->joules, "undefined", e->label);
    }
    if (!(L->heat_J > 0))
        printf("  undefined: the mean heat is %.4g kT <= 0%s, and a ratio to it means nothing\n",
               L->hs.mean, cls ? "" : " (the computer took heat from the bath on\n  average)");
    printf("paper     %s MACs x %g J = %.4g J against %.2g kT x ",
           th_energy_grouped((uint64_t)pp->macs, n1, 32), pp->mac_J, pp->macs * pp->mac_J,
           pp->heat_kT);
    if (cls) printf("%zu trajectories x ", pp->trajectories);
    printf("%.4g J (%g K):\n          ratio %.3g, the %s estimate (\"above %s\")\n", pp->kT_J,
           pp->temperature_K, pp->ratio, cls ? "PNAS paper's" : "paper's own",
           cls ? "1e7" : "1e10");
    if (a->ratio_defined)
        printf("ours      %.4g J (line a) against the heat measured here, %.4g kT x %.4g J "
               "(%g K):\n          ratio %.3g\n", a->joules, L->hs.mean, L->kT_J,
               L->temperature_K, a->ratio);
    else if (!cls)
        printf("ours      undefined: the measured mean heat is not positive\n");
}

/* ------------------------------------------------------------- JSON */

typedef struct named { const char *name; double value; } named;

static cJSON *add_numbers(cJSON *o, const named *v, size_t n)
{
    for (size_t k = 0; k < n; k++) cJSON_AddNumberToObject(o, v[k].name, v[k].value);
    return o;
}
/* NUMBERS(obj, {"name", value}, ...): the numbers in that order. */
#define NUMBERS(o, ...) \
    add_numbers((o), (const named[]){__VA_ARGS__}, sizeof((const named[]){__VA_ARGS__}) / sizeof(named))

/* What only a generator's JSON has, after its wall time. */
static void gen_json(cJSON *root, const energy_params *p, const th_energy_ledger *L, double dt)
{
    const th_heat_stats *hs = &L->hs;
    cJSON *h = cJSON_AddObjectToObject(root, "heat_per_sample");
    cJSON_AddStringToObject(h, "phase", "computing (couplings on), Stratonovich heat given "
                                        "to the bath");
    NUMBERS(h, {"mean_kT", hs->mean}, {"sd_kT", hs->sd}, {"min_kT", hs->min},
            {"max_kT", hs->max}, {"negative_samples", hs->negative}, {"mean_J", L->heat_J},
            {"sd_J", hs->sd * L->kT_J});
    cJSON *hist = NUMBERS(cJSON_AddObjectToObject(h, "histogram"), {"lo_kT", L->bin_lo},
                          {"hi_kT", L->bin_hi});
    cJSON *counts = cJSON_AddArrayToObject(hist, "counts");
    for (size_t k = 0; k < L->n_bins; k++)
        cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)L->bins[k]));
    if (p->histogram) cJSON_AddStringToObject(hist, "png", p->histogram);
    cJSON *w = NUMBERS(cJSON_AddObjectToObject(root, "work_per_sample"), {"kT", 0});
    cJSON_AddStringToObject(w, "why", "the couplings and biases stay fixed while it computes, "
                                      "so V does not depend on time");
    cJSON *e = NUMBERS(cJSON_AddObjectToObject(root, "entropy_production_per_sample"),
                       {"bath_kB", hs->mean}, {"bath_J_per_K", hs->mean * TH_BOLTZMANN_J_PER_K});
    cJSON_AddStringToObject(e, "note", "Q/T for an isothermal bath; the units' own entropy "
                                       "change is not included");
    NUMBERS(cJSON_AddObjectToObject(root, "time_per_sample_s"),
            {"noise_equilibration", L->noise_s}, {"computing", L->compute_s},
            {"steps_per_phase", L->ops.steps}, {"dt", dt});
}

static char *ledger_json(const energy_params *p, const th_energy_ledger *L, uint64_t seed,
                         double dt)
{
    const th_heat_stats *hs = &L->hs;
    const int cls = L->classifier;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "thermo_version", th_version());
    cJSON_AddStringToObject(root, "model", p->model);
    if (cls) {
        cJSON_AddStringToObject(root, "kind", "classifier");
        NUMBERS(root, {"classifications", hs->count}, {"trajectories", L->trajectories},
                {"top1", L->top1}, {"seed", seed}, {"temperature_K", L->temperature_K});
    } else {
        NUMBERS(root, {"samples", hs->count}, {"seed", seed},
                {"temperature_K", L->temperature_K}, {"boltzmann_J_per_K", TH_BOLTZMANN_J_PER_K});
    }
    NUMBERS(root, {"kT_J", L->kT_J}, {"time_unit_s", L->time_unit_s},
            {"mac_energy_J", L->mac_energy_J}, {"wall_seconds", L->wall_s});
    if (cls) {
        NUMBERS(cJSON_AddObjectToObject(root, "heat_per_classification"), {"mean_kT", hs->mean},
                {"per_trajectory_kT", hs->mean / (double)L->trajectories}, {"sd_kT", hs->sd},
                {"min_kT", hs->min}, {"max_kT", hs->max}, {"negative", hs->negative},
                {"mean_J", L->heat_J});
        NUMBERS(root, {"work_kT", 0}, {"trajectory_time_s", L->compute_s},
                {"steps_per_trajectory", L->ops.steps});
    } else {
        gen_json(root, p, L, dt);
    }
    /* The simulation's operation counts (coupling_pairs: a classifier's
     * among its free units) and the digital lines. */
    NUMBERS(cJSON_AddObjectToObject(root, cls ? "simulation_ops_per_classification"
                                              : "simulation_ops_per_sample"),
            {"coupling_pairs", L->ops.coupling_pairs}, {"coupling_macs", L->ops.coupling_macs},
            {"onsite_macs", L->ops.onsite_macs}, {"gaussian_numbers", L->ops.normals});
    cJSON *lines = cJSON_AddArrayToObject(root, "digital");
    for (size_t k = 0; k < TH_ENERGY_N_LINES; k++) {
        const th_energy_line *d = &L->line[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "line", d->id);
        cJSON_AddStringToObject(o, "what", d->label);
        cJSON_AddBoolToObject(o, "available", d->available);
        if (d->available && d->macs > 0) NUMBERS(o, {"macs", d->macs});
        if (d->available) NUMBERS(o, {"energy_J", d->joules});
        else cJSON_AddStringToObject(o, "why_not", d->why_not);
        if (d->ratio_defined) NUMBERS(o, {"ratio", d->ratio});
        else cJSON_AddNullToObject(o, "ratio");
        cJSON_AddStringToObject(o, "assumes", d->assumes);
        cJSON_AddItemToArray(lines, o);
    }
    const th_energy_paper *pp = &L->paper;
    cJSON *paper = NUMBERS(cJSON_AddObjectToObject(root, "paper_check"), {"macs", pp->macs});
    if (cls)
        NUMBERS(paper, {"heat_kT_per_trajectory", pp->heat_kT},
                {"trajectories", pp->trajectories}, {"ratio", pp->ratio});
    else
        NUMBERS(paper, {"mac_energy_J", pp->mac_J}, {"heat_kT", pp->heat_kT},
                {"temperature_K", pp->temperature_K}, {"ratio", pp->ratio});
    if (L->n_left_out) {
        cJSON *left = cJSON_AddArrayToObject(root, "left_out");
        for (size_t k = 0; k < L->n_left_out; k++)
            cJSON_AddItemToArray(left, cJSON_CreateString(L->left_out_items[k]));
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
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
    const double dt = sp ? sp->dt : gp->dt;
    if (p->json) {
        char *text = ledger_json(p, L, sp ? sp->seed : gp->seed, dt);
        if (!text) {
            fprintf(stderr, "thermo " CMD ": out of memory for the JSON\n");
            return TOOL_EXIT_FAIL;
        }
        int bad = tool_write_text(p->json, text);
        free(text);
        if (bad) return tool_fail_lib(CMD, TH_EIO);
    }
    print_head(p, L, m, gp, sp);
    print_thermo(p, L, dt);
    print_digital(L, gp ? gp->n_visible + gp->n_hidden : 0);
    printf("\n");
    print_wrapped("left out", 10, L->left_out);
    if (p->json) printf("json      %s\n", p->json);
    return TOOL_EXIT_OK;
}

/* A classifier's books: its first --samples test images classified by
 * --trajectories runs each. */
static int run_student(const energy_params *p, uint64_t seed, const th_energy_opts *o,
                       th_energy_ledger *L)
{
    tool_student st;
    th_dataset *d = NULL;
    float *X = NULL;
    int exit_code = TOOL_EXIT_FAIL;
    if (tool_student_load(CMD, p->model, &st) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;
    if (p->seed_text) st.sp.seed = seed;
    if (tool_student_images(CMD, &st, p->data, p->samples, &d, &X) == TOOL_EXIT_OK) {
        tool_progress bar;
        tool_progress_begin(&bar, "images", p->quiet);
        th_energy_opts so = *o;
        so.progress_ctx = &bar;
        int rc = th_energy_run_student(st.m, &st.sp, st.widths, st.n_widths, X, d->labels,
                                       d->count, &so, L);
        tool_progress_end(&bar);
        exit_code = render(p, rc, L, st.m, NULL, &st.sp);
    }
    free(X);
    th_dataset_free(d);
    tool_student_free(&st);
    return exit_code;
}

static int run_energy(const energy_params *p, uint64_t seed, th_energy_ledger *L)
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
    th_meta meta = {0};
    th_gen_params gp;
    int rc = th_model_load(p->model, &m, &meta), exit_code = TOOL_EXIT_FAIL;
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
    } else if (tool_is_student(&meta)) {
        th_meta_clear(&meta);
        th_model_free(m);
        return run_student(p, seed, &o, L);
    } else if (!th_meta_get(&meta, "gen.n_visible")) {
        fprintf(stderr, "thermo " CMD ": %s: neither generator (gen.*) nor classifier "
                        "(student.*) settings in its metadata: expected a model written by "
                        "thermo train or thermo classify train\n", p->model);
    } else if (th_gen_params_from_meta(&meta, &gp) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s: %s\n", p->model, th_last_error());
    } else {
        if (p->seed_text) gp.seed = seed;
        tool_progress bar;
        tool_progress_begin(&bar, "samples", p->quiet);
        o.progress_ctx = &bar;
        rc = th_energy_run_gen(m, &gp, p->samples, &o, L);
        tool_progress_end(&bar);
        exit_code = render(p, rc, L, m, &gp, NULL);
    }
    th_meta_clear(&meta);
    th_model_free(m);
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
        {"threads", "T", TOOL_OPT_COUNT, &p.threads, NULL,
         "threads for OpenMP and OpenBLAS; results do not depend on it",
         "OMP_NUM_THREADS or all cores"},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL,
         "no progress bar (it is drawn only on a terminal anyway)", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];

    int rc = tool_parse(CMD, opts, n_opts, argc, argv);
    if (rc == TOOL_PARSE_HELP) {
        print_help(opts, n_opts);
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    if (!p.model) return tool_usage_error(CMD, "--model FILE is required");
    uint64_t seed = 0;
    if (p.seed_text && tool_to_u64(p.seed_text, &seed) != 0)
        return tool_usage_error(CMD, "--seed: expected a whole number >= 0, got '%s'", p.seed_text);
    if (p.samples > TH_GEN_SAMPLE_STREAM)
        return tool_usage_error(CMD, "--samples %zu: at most %llu", p.samples,
                           (unsigned long long)TH_GEN_SAMPLE_STREAM);
    if (p.threads > MAX_THREADS)
        return tool_usage_error(CMD, "--threads: expected at most %d, got %zu", MAX_THREADS, p.threads);
    if (p.network && parse_network(p.network, p.widths, &p.n_widths) != 0)
        return tool_usage_error(CMD, "--network: expected 2 to %d layer widths >= 1 separated by commas, "
                           "such as 784,128,128,784; got '%s'", TH_ENERGY_MAX_LAYERS, p.network);
    uint64_t macs;
    if (p.network && th_energy_mlp_macs(p.widths, p.n_widths, p.steps ? p.steps : 1, &macs) != TH_OK)
        return tool_usage_error(CMD, "--network %s --steps %zu: %s", p.network, p.steps, th_last_error());
    if (p.trajectories > ((size_t)1 << 20))
        return tool_usage_error(CMD, "--trajectories %zu: expected at most 2^20", p.trajectories);
    if (p.threads > 0) {
        omp_set_num_threads((int)p.threads);
        openblas_set_num_threads((int)p.threads);
    }
    static th_energy_ledger L; /* 10 kB of text, off the stack */
    return run_energy(&p, seed, &L);
}
