/* cmd_hardware.c - thermo hardware sweep: what the hardware must deliver.
 * A trained generator or classifier is measured (quality and heat) while
 * one part of the hardware model (thermo/hw.h, science.md section 9) varies
 * over a list of values, on several devices; the command writes
 * DIR/sweep.csv and DIR/sweep.png and prints the budget: the fewest bits,
 * the largest mismatch, the longest tau_c or the largest temperature offset
 * that cost at most 1 point of accuracy (classifier) or 5% of quality
 * (generator). The sweep, the budget and the files are the library's
 * (th_hw_target_*, th_hw_sweep_*); this file parses and prints. */
#include "thermo.h"
#include "tool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "hardware sweep"
#define MAX_VALUES 64
#define MAX_COMPARE MAX_VALUES

typedef struct sweep_params {
    const char *model, *out, *values_text, *judge, *data, *compare_text;
    int param;
    size_t devices, samples, images, trajectories, threads;
    int quiet;
    tool_hw hwo; /* what the sweep holds fixed; hwo.device the first device's seed */
} sweep_params;

static void print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo hardware sweep --model M --param bits|mismatch|tau|dkT|adc\n"
           "                             --values V1,V2,... --out DIR [options]\n"
           "\n"
           "Measures a trained computer on imperfect hardware: for each value of the\n"
           "parameter and each of --devices devices (device k: mismatch seed --device + k,\n"
           "thermal noise k), its quality and heat. Quality: top-1 accuracy for a student\n"
           "classifier (thermo classify train), the judge's conditional accuracy for a\n"
           "conditional generator, the share of samples that resemble a training image\n"
           "(|correlation| >= 0.5) for an unconditional one (with --judge, also its Frechet\n"
           "distance). Heat: kT per sample or per classification. The parameters: bits of\n"
           "the couplings and biases, mismatch (relative sd of every part), tau (noise\n"
           "correlation time), dkT (temperature offset), adc (bits of the readout). The\n"
           "other hardware options hold the rest fixed. A time-dependent protocol (thermo\n"
           "train --segments S) runs every segment on the same device, its samples read\n"
           "with the model's readout window (thermo train --readout-window).\n"
           "\n"
           "Writes DIR/sweep.csv (param,value,device,quality,heat[,frechet][,model]; the\n"
           "first rows the ideal computer) and DIR/sweep.png (quality and heat against the\n"
           "parameter, error bars across devices), and prints the budget: the fewest bits,\n"
           "largest mismatch, longest tau or largest |dkT| costing at most 1 point of\n"
           "accuracy (classifier) or 5%% of quality (generator). --compare adds a second\n"
           "curve: one model at every value, or one model per value (hardware-aware\n"
           "training: thermo train --aware-bits B for value B).\n"
           "\n"
           "options:\n");
    tool_print_options(opts, n_opts);
    printf("\nExit status: 0 on success, 1 when the run fails, 2 for a bad command line.\n");
}

/* Splits text at commas into at most max items; the count, or 0 when a
 * piece is empty or there are too many. */
static size_t split(char *text, char **items, size_t max)
{
    size_t n = 0;
    for (char *s = text;; s++) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        if (!*s || n == max) return 0;
        items[n++] = s;
        if (!comma) return n;
        s = comma;
    }
}

static int progress(size_t done, size_t total, void *ctx)
{
    return tool_progress_update(done, total, ctx);
}

static void print_rows(const char *label, const th_hw_sweep *s, int which)
{
    for (size_t v = 0; v < s->n_values; v++) {
        th_hw_measure m, sd;
        th_hw_sweep_stats(s, which, v, &m, &sd);
        printf("%-9s %-10g %8.2f%% %7.2f %11.4g %9.3g", label, s->values[v], 100 * m.quality,
               100 * sd.quality, m.heat, sd.heat);
        if (isfinite(m.frechet)) printf(" %9.1f", m.frechet);
        printf("\n");
    }
}

static void print_budget(const char *label, const th_hw_sweep *s, int which, const char *unit)
{
    static const char *const what[] = {"fewest bits", "largest mismatch", "longest tau_c",
                                       "largest |kT offset|", "fewest ADC bits"};
    th_hw_budget b;
    if (th_hw_sweep_budget(s, which, &b) != TH_OK) return;
    if (!b.found) {
        printf("%-9s %s: none of the values keeps the quality >= %.2f%%\n", label,
               what[s->param], 100 * b.threshold);
        return;
    }
    printf("%-9s %s %g%s: quality %.2f%% (ideal %.2f%%, needed %.2f%%), heat %.4g kT %s\n",
           label, what[s->param], b.value, b.at_edge ? " (the edge of the sweep: maybe beyond)" : "",
           100 * b.quality, 100 * s->ideal.quality, 100 * b.threshold, b.heat, unit);
}

static int run_sweep(const sweep_params *p, const double *values, size_t n_values,
                     char **compare_paths, size_t n_compare)
{
    th_hw_target_opts to = th_hw_target_opts_default();
    to.judge = p->judge;
    to.data = p->data;
    to.samples = p->samples;
    to.images = p->images;
    to.trajectories = p->trajectories;
    th_hw_target *target = NULL, *compare[MAX_COMPARE] = {NULL};
    th_hw_sweep *s = NULL;
    int exit_code = TOOL_EXIT_FAIL, rc = th_hw_target_load(p->model, &to, &target);
    for (size_t k = 0; k < n_compare && rc == TH_OK; k++)
        rc = th_hw_target_load(compare_paths[k], &to, &compare[k]);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    th_hw_sweep_opts so = th_hw_sweep_opts_default();
    so.param = p->param;
    so.values = values;
    so.n_values = n_values;
    so.devices = p->devices;
    so.first_device = p->hwo.hw.device;
    so.base = p->hwo.hw;
    tool_progress bar;
    tool_progress_begin(&bar, "measurements", p->quiet);
    so.progress = progress;
    so.progress_ctx = &bar;
    const double t0 = tool_now();
    rc = th_hw_sweep_run(target, compare, n_compare, &so, &s);
    tool_progress_end(&bar);
    char path[4200], title[512];
    const char *kinds[] = {"generator", "conditional generator", "classifier"};
    const int kind = th_hw_target_kind(target);
    snprintf(title, sizeof title, "%s (%s) against %s", p->model, kinds[kind],
             th_hw_param_names()[p->param]);
    snprintf(path, sizeof path, "%s/sweep.csv", p->out);
    if (rc == TH_OK) rc = th_hw_sweep_write_csv(path, s);
    snprintf(path, sizeof path, "%s/sweep.png", p->out);
    if (rc == TH_OK) rc = th_hw_sweep_write_png(path, s, title);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    const char *unit = kind == TH_HW_CLASSIFIER ? "per classification" : "per sample";
    printf("model     %s: %s; %zu values x %zu devices, %.1f s\n", p->model, kinds[kind],
           n_values, p->devices, tool_now() - t0);
    tool_hw_print("held      ", &p->hwo.hw, 0);
    printf("%-9s %-10s %9s %7s %11s %9s%s\n", "", th_hw_param_names()[p->param], "quality",
           "sd", "heat (kT)", "sd", isfinite(s->ideal.frechet) ? "   frechet" : "");
    printf("%-9s %-10s %8.2f%% %7s %11.4g %9s", "ideal", "-", 100 * s->ideal.quality, "",
           s->ideal.heat, "");
    if (isfinite(s->ideal.frechet)) printf(" %9.1f", s->ideal.frechet);
    printf("\n");
    print_rows("device", s, 0);
    if (s->has_compare) print_rows("aware", s, 1);
    print_budget("budget", s, 0, unit);
    if (s->has_compare) print_budget("aware", s, 1, unit);
    printf("files     %s/sweep.csv, %s/sweep.png\n", p->out, p->out);
    exit_code = TOOL_EXIT_OK;
done:
    th_hw_sweep_free(s);
    th_hw_target_free(target);
    for (size_t k = 0; k < n_compare; k++) th_hw_target_free(compare[k]);
    return exit_code;
}

static int hardware_sweep(int argc, char **argv)
{
    sweep_params p = {.data = "data/mnist", .devices = 3, .samples = 200, .images = 1000,
                      .trajectories = 10, .hwo = tool_hw_default()};
    const tool_opt opts[] = {
        {"model", "M", TOOL_OPT_STRING, &p.model, NULL,
         "a generator (thermo train) or a student (thermo classify train)", "required"},
        {"param", "P", TOOL_OPT_CHOICE, &p.param, th_hw_param_names(),
         "what varies: bits, mismatch, tau, dkT or adc", NULL},
        {"values", "V1,V2,...", TOOL_OPT_STRING, &p.values_text, NULL,
         "the parameter's values, ascending", "required"},
        {"devices", "D", TOOL_OPT_COUNT, &p.devices, NULL, "devices measured at each value",
         NULL},
        {"out", "DIR", TOOL_OPT_STRING, &p.out, NULL, "folder for sweep.csv and sweep.png",
         "required"},
        {"judge", "FILE", TOOL_OPT_STRING, &p.judge, NULL,
         "judge network (generators: conditional accuracy, Frechet distance)", "none"},
        {"data", "DIR", TOOL_OPT_STRING, &p.data, NULL, "the real images (judge, classifier)",
         NULL},
        {"samples", "N", TOOL_OPT_COUNT, &p.samples, NULL, "generator: samples a measurement",
         NULL},
        {"images", "N", TOOL_OPT_COUNT, &p.images, NULL, "classifier: test images a measurement",
         NULL},
        {"trajectories", "M", TOOL_OPT_COUNT, &p.trajectories, NULL,
         "classifier: trajectories per image", NULL},
        {"compare", "M1[,M2...]", TOOL_OPT_STRING, &p.compare_text, NULL,
         "a second computer at every value, or one per value (hardware-aware models)", "none"},
        TOOL_OPT_THREADS(&p.threads),
        TOOL_OPT_QUIET(&p.quiet),
        TOOL_OPTS_HW(&p.hwo),
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int rc;
    if (!tool_parse_or_help(CMD, opts, n_opts, argc, argv, print_help, &rc)) return rc;
    if ((rc = tool_hw_get(CMD, &p.hwo)) != TOOL_EXIT_OK) return rc;
    if (!p.model) return tool_usage_error(CMD, "--model M is required");
    if (!p.out) return tool_usage_error(CMD, "--out DIR is required");
    if (!p.values_text) return tool_usage_error(CMD, "--values V1,V2,... is required");
    char values_buf[4096], compare_buf[8192], *items[MAX_VALUES], *compare[MAX_COMPARE];
    double values[MAX_VALUES];
    snprintf(values_buf, sizeof values_buf, "%s", p.values_text);
    size_t n_values = split(values_buf, items, MAX_VALUES), n_compare = 0;
    if (!n_values)
        return tool_usage_error(CMD, "--values '%s': expected 1 to %d numbers separated by "
                                "commas", p.values_text, MAX_VALUES);
    for (size_t k = 0; k < n_values; k++) {
        th_hw probe = p.hwo.hw;
        if (tool_to_double(items[k], &values[k]) != 0)
            return tool_usage_error(CMD, "--values: '%s' is not a number", items[k]);
        if (th_hw_param_set(&probe, p.param, values[k]) != TH_OK)
            return tool_usage_error(CMD, "--values: %s", th_last_error());
        if (k && !(values[k] > values[k - 1]))
            return tool_usage_error(CMD, "--values: expected ascending values, got %g after %g",
                                    values[k], values[k - 1]);
    }
    if (p.compare_text) {
        snprintf(compare_buf, sizeof compare_buf, "%s", p.compare_text);
        n_compare = split(compare_buf, compare, MAX_COMPARE);
        if (n_compare != 1 && n_compare != n_values)
            return tool_usage_error(CMD, "--compare: expected one model or one per value (%zu), "
                                    "got '%s'", n_values, p.compare_text);
    }
    if ((rc = tool_use_threads(CMD, p.threads)) != TOOL_EXIT_OK) return rc;
    if (tool_make_folder(CMD, p.out) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;
    return run_sweep(&p, values, n_values, compare, n_compare);
}

int cmd_hardware(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: thermo hardware sweep --model M --param P --values V1,V2,... "
                     "--out DIR [options]\n\n"
                     "  sweep   quality and heat of a trained computer against one part of the\n"
                     "          hardware model (bits, mismatch, tau, dkT, adc), and the budget\n\n"
                     "Run 'thermo hardware sweep --help' for its options.\n");
        return argc < 2 ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
    }
    if (strcmp(argv[1], "sweep") == 0) return hardware_sweep(argc - 1, argv + 1);
    return tool_usage_error("hardware", "unknown subcommand '%s': expected sweep", argv[1]);
}
