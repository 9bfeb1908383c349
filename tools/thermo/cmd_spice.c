/* cmd_spice.c - thermo spice: a trained computer as a SPICE netlist, and
 * ngspice's answer against thermo's own simulation (science.md section 10).
 *
 *     thermo spice export --model M --out net.cir     th_circuit_export, th_circuit_write
 *     thermo spice compare --model M --out net.cir    the same netlist rebuilt and checked
 *         against the file, ngspice's data read back (th_circuit_data_read) and compared
 *         with thermo's simulation (th_circuit_compare, th_circuit_report_text) */
#include "thermo.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "spice"
#define MAX_INPUTS 64
#define MAX_RUNS 256
#define CHART_WIDTH 640
#define CHART_HEIGHT 480

typedef struct spice_params {
    const char *model, *out, *data, *inputs_text, *chart, *results;
    th_circuit_opts o;
    double inputs[MAX_INPUTS];
    char data_buf[4096];
    th_circuit_compare_opts co;
} spice_params;

static void print_help(const tool_opt *opts, size_t n_opts, int compare)
{
    if (!compare)
        printf("usage: thermo spice export --model M --out net.cir [options]\n"
               "\n"
               "Writes a trained computer as a SPICE netlist that 'ngspice -b net.cir' runs:\n"
               "  a generator (thermo train): its noise phase, then its couplings switched on;\n"
               "  a neuron network (thermo neuron train), its input z a clamped voltage;\n"
               "  the SPU board of thermo linalg programmed with a matrix (Matrix Market).\n"
               "Each overdamped unit is a capacitor C and a resistor R to ground, with linear\n"
               "VCCS and behavioural sources for the rest of its force, the couplings and the\n"
               "bias, and a TRNOISE current for the resistor's Johnson noise; x = v / V0 with\n"
               "V0 = sqrt(k_B T / (C kT)) and model time t = t_phys / (mu R C). The netlist's\n"
               "comments give every number; docs/spice.md the derivation.\n"
               "\n"
               "options:\n");
    else
        printf("usage: thermo spice compare --model M --out net.cir [options]\n"
               "\n"
               "Reads what 'ngspice -b net.cir' wrote and compares it with thermo's own\n"
               "simulation of the same computer, both sides with their standard errors: a\n"
               "generator's per-unit means and variances and its heat over the computing\n"
               "phase; a neuron network's output (mean and spread) for each input; the SPU's\n"
               "stationary covariance against kappa0 R A^-1 (scaled). Give the options the\n"
               "netlist was exported with: net.cir must be what they export.\n"
               "\n"
               "options:\n");
    tool_print_options(opts, n_opts);
    printf("\nExit status: 0 on success (compare: the two agree), 1 when the model cannot be\n"
           "exported (unknown kind, too large for ngspice, couplings the circuit cannot\n"
           "realise) or the two disagree, 2 for a command line that cannot be used.\n");
}

/* --inputs "0,0.25,1" into p->inputs. 0, or the usage status. */
static int parse_inputs(spice_params *p)
{
    if (!p->inputs_text) return TOOL_EXIT_OK;
    char buf[1024];
    if (strlen(p->inputs_text) >= sizeof buf)
        return tool_usage_error(CMD, "--inputs: too long a list");
    strcpy(buf, p->inputs_text);
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == MAX_INPUTS)
            return tool_usage_error(CMD, "--inputs: more than %d values", MAX_INPUTS);
        if (tool_to_double(t, &p->inputs[n]) != 0)
            return tool_usage_error(CMD, "--inputs: '%s' is not a number (expected a comma "
                                    "separated list such as 0,0.5,1)", t);
        n++;
    }
    if (n == 0) return tool_usage_error(CMD, "--inputs: expected at least one value");
    p->o.inputs = p->inputs;
    p->o.n_inputs = n;
    return TOOL_EXIT_OK;
}

/* The data file: --data, else --out with its extension replaced by .data. */
static int data_path(spice_params *p)
{
    if (p->data) {
        p->o.data_path = p->data;
        return TOOL_EXIT_OK;
    }
    const char *dot = strrchr(p->out, '.'), *slash = strrchr(p->out, '/');
    const size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - p->out) : strlen(p->out);
    if (stem + 6 > sizeof p->data_buf) return tool_usage_error(CMD, "--out: path too long");
    memcpy(p->data_buf, p->out, stem);
    strcpy(p->data_buf + stem, ".data");
    p->o.data_path = p->data_buf;
    return TOOL_EXIT_OK;
}

static void print_export(const spice_params *p, const th_circuit *c)
{
    th_circuit_info I;
    th_circuit_get_info(c, &I);
    printf("netlist   %s: the %s %s, %zu cop%s\n", p->out,
           I.kind == TH_CIRCUIT_SPU ? "SPU board for" : th_circuit_kind_name(I.kind), p->model,
           I.copies, I.copies == 1 ? "y" : "ies");
    printf("          %zu %s%s, %zu elements a copy, %zu in all\n", I.units,
           I.kind == TH_CIRCUIT_SPU ? "RLC cells" : "moving units",
           I.clamped ? " and clamped inputs" : "", I.elements, I.elements * I.copies);
    if (I.kind == TH_CIRCUIT_SPU)
        printf("mapping   the board's own parts: R = %.6g ohm; noise temperature kappa0 R / k_B "
               "= %.4g K\n", I.resistance, I.temperature);
    else
        printf("mapping   V0 = %.6g V per model unit, C = %.6g F, R = %.6g ohm, tau0 = %.6g s, "
               "T = %.6g K (model kT %.6g)\n", I.v0, I.capacitance, I.resistance, I.tau0,
               I.temperature, I.kT);
    printf("noise     TRNOISE %.6g A rms every %.6g s\n", I.noise_rms, I.noise_step);
    printf("run       ngspice -b %s  (%.6g s of circuit time; writes %s)\n", p->out, I.t_stop,
           p->o.data_path);
}

static int run_export(spice_params *p)
{
    th_circuit *c = NULL;
    int rc = th_circuit_export(p->model, &p->o, &c);
    if (rc == TH_OK) rc = th_circuit_write(p->out, c);
    if (rc != TH_OK) {
        th_circuit_free(c);
        return tool_fail_lib(CMD, rc);
    }
    print_export(p, c);
    th_circuit_free(c);
    return TOOL_EXIT_OK;
}

/* text without its comment lines (those starting with '*'), in place. */
static void drop_comments(char *text)
{
    char *out = text;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        const size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (*p != '*') {
            memmove(out, p, len);
            out += len;
        }
        p += len;
    }
    *out = '\0';
}

/* Whether the netlist file at path is text but for its comments (which name
 * the model's path as given): 1, 0, or -1 when it cannot be read. */
static int same_netlist(const char *path, const char *text)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *file = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *grown = realloc(file, cap = 2 * cap + 8192);
            if (!grown) break;
            file = grown;
        }
        const size_t got = fread(file + len, 1, 4096, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    char *mine = strdup(text);
    int same = -1;
    if (file && mine) {
        file[len] = '\0';
        drop_comments(file);
        drop_comments(mine);
        const size_t n = strlen(mine);
        /* th_write_text_atomic ends the file with a newline */
        same = strcmp(file, mine) == 0 ||
               (strlen(file) == n + 1 && strncmp(file, mine, n) == 0 && file[n] == '\n');
    }
    free(file);
    free(mine);
    return same;
}

static int run_compare(spice_params *p)
{
    th_circuit *c = NULL;
    th_circuit_data *d = NULL;
    th_circuit_report *r = NULL;
    int exit_code = TOOL_EXIT_FAIL;
    int rc = th_circuit_export(p->model, &p->o, &c);
    if (rc != TH_OK) return tool_fail_lib(CMD, rc);
    char *text = th_circuit_text(c);
    const int same = text ? same_netlist(p->out, text) : -1;
    free(text);
    if (same != 1) {
        fprintf(stderr, "thermo " CMD ": %s %s: give compare the options the netlist was "
                "exported with\n", p->out, same < 0 ? "cannot be read" : "differs from what "
                "these options export");
        goto done;
    }
    /* --results a,b,c: runs of the same netlist; default its own data file */
    char list[4096];
    const char *paths[MAX_RUNS];
    size_t n_runs = 0;
    snprintf(list, sizeof list, "%s", p->results ? p->results : p->o.data_path);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t && n_runs < MAX_RUNS;
         t = strtok_r(NULL, ",", &save))
        paths[n_runs++] = t;
    if (n_runs == 0) {
        tool_usage_error(CMD, "--results: expected file names");
        goto done;
    }
    if ((rc = th_circuit_data_read(paths, n_runs, c, &d)) != TH_OK ||
        (rc = th_circuit_compare(p->model, &p->o, c, d, &p->co, &r)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    char *report = th_circuit_report_text(r);
    if (!report) {
        tool_fail_lib(CMD, TH_ENOMEM);
        goto done;
    }
    fputs(report, stdout);
    free(report);
    if (p->chart && r->info.kind == TH_CIRCUIT_SPU) {
        th_canvas *cv = th_circuit_report_chart(r, CHART_WIDTH, CHART_HEIGHT);
        rc = cv ? th_png_write(p->chart, cv, 1) : TH_ENOMEM;
        th_canvas_free(cv);
        if (rc != TH_OK) {
            tool_fail_lib(CMD, rc);
            goto done;
        }
        printf("chart     %s\n", p->chart);
    }
    exit_code = r->agree ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
done:
    th_circuit_report_free(r);
    th_circuit_data_free(d);
    th_circuit_free(c);
    return exit_code;
}

int cmd_spice(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "export") != 0 && strcmp(argv[1], "compare") != 0)) {
        if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
            printf("usage: thermo spice export|compare --model M --out net.cir [options]\n"
                   "Run 'thermo spice export --help' or 'thermo spice compare --help'.\n");
            return TOOL_EXIT_OK;
        }
        return tool_usage_error(CMD, "expected a sub-command: export or compare");
    }
    const int compare = strcmp(argv[1], "compare") == 0;
    spice_params p;
    memset(&p, 0, sizeof p);
    p.o = th_circuit_opts_default();
    p.co = th_circuit_compare_opts_default();
    const tool_opt opts[] = {
        {"model", "M", TOOL_OPT_STRING, &p.model, NULL,
         "the computer: a generator or neuron model file, or a matrix (.mtx) for the SPU "
         "(required)", ""},
        {"out", "FILE", TOOL_OPT_STRING, &p.out, NULL, "the netlist (required)", ""},
        {"data", "FILE", TOOL_OPT_STRING, &p.data, NULL,
         "what ngspice writes (wrdata), as named in the netlist; a relative path is taken "
         "from the folder ngspice runs in", "--out with .data"},
        {"capacitance", "F", TOOL_OPT_POSITIVE, &p.o.capacitance, NULL, "C of every unit", NULL},
        {"temperature", "K", TOOL_OPT_POSITIVE, &p.o.temperature, NULL,
         "temperature of the resistors (their Johnson noise)", NULL},
        {"time-unit", "S", TOOL_OPT_POSITIVE, &p.o.time_unit, NULL,
         "seconds per model time unit 1/mu (tau0 = mu R C sets R)", NULL},
        {"noise-step", "T", TOOL_OPT_NONNEG, &p.o.noise_step, NULL,
         "TRNOISE's step NT in model time (SPU: seconds)",
         "the model's dt; SPU: fastest relaxation time / 20"},
        {"copies", "K", TOOL_OPT_COUNT, &p.o.copies, NULL,
         "independent copies in the netlist (neurons: per input)", NULL},
        {"inputs", "Z,Z,..", TOOL_OPT_STRING, &p.inputs_text, NULL, "neuron: the inputs z", "0.5"},
        {"label", "C", TOOL_OPT_SIZE, &p.o.label, NULL,
         "conditional generator: the code its label units hold (the class; with --styles K, "
         "class x K + style)", NULL},
        {"spu-time", "S", TOOL_OPT_NONNEG, &p.o.spu_time, NULL,
         "SPU: circuit time of each copy, s", "100 slowest relaxation times"},
        {"inductance", "H", TOOL_OPT_POSITIVE, &p.o.spu.inductance, NULL, "SPU: L per cell", NULL},
        {"resistance", "OHM", TOOL_OPT_POSITIVE, &p.o.spu.resistance, NULL, "SPU: R per cell", NULL},
        {"cap-max", "F", TOOL_OPT_POSITIVE, &p.o.spu.cap_max, NULL,
         "SPU: the largest total capacitance of a cell", NULL},
        {"kappa0", "A2S", TOOL_OPT_POSITIVE, &p.o.spu.kappa0, NULL,
         "SPU: noise current strength, A^2 s", NULL},
        {"results", "F,F,..", TOOL_OPT_STRING, &p.results, NULL,
         "compare: the files of one or more ngspice runs of the netlist", "the netlist's data file"},
        {"trajectories", "N", TOOL_OPT_COUNT, &p.co.trajectories, NULL,
         "compare: thermo's trajectories (generator, neuron)", NULL},
        {"seed", "S", TOOL_OPT_U64, &p.co.seed, NULL, "compare: thermo's noise seed", NULL},
        {"threshold", "Z", TOOL_OPT_POSITIVE, &p.co.threshold, NULL,
         "compare: largest |z| that still agrees", NULL},
        {"chart", "F.png", TOOL_OPT_STRING, &p.chart, NULL,
         "compare, SPU: ngspice and thermo against the exact covariance entries", "none"},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0] - (compare ? 0 : 5);
    int exit_code = tool_parse(CMD, opts, n_opts, argc - 1, argv + 1);
    if (exit_code == TOOL_PARSE_HELP) {
        print_help(opts, n_opts, compare);
        return TOOL_EXIT_OK;
    }
    if (exit_code != TOOL_EXIT_OK) return exit_code;
    if (!p.model) return tool_usage_error(CMD, "--model is required");
    if (!p.out) return tool_usage_error(CMD, "--out is required");
    if ((exit_code = parse_inputs(&p)) != TOOL_EXIT_OK) return exit_code;
    if ((exit_code = data_path(&p)) != TOOL_EXIT_OK) return exit_code;
    return compare ? run_compare(&p) : run_export(&p);
}
