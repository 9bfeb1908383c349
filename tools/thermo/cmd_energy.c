/* cmd_energy.c - thermo energy: the energy ledger of a trained generative
 * thermodynamic computer, reported with every assumption beside its number.
 *
 * The thermodynamic side is measured: N generations with th_gen_sample, each
 * giving its Stratonovich heat (in kT) to the bath while it computes; the
 * heat in joules is Q k_B T at the chosen temperature, the entropy produced
 * in an isothermal bath is Q / T, and no work is done while the couplings
 * stay fixed. The digital side is priced: the PRL paper's MLP denoiser
 * (Whitelam, PRL 136, 037101, 2026; science.md section 2), the arithmetic
 * of this very simulation, the CPU's own energy counters where Linux
 * exposes them (RAPL), and a network the user names. The ratios of the two
 * reproduce the paper's estimate and say what they leave out. */
#include "thermo.h"
#include "tool.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "energy"
#define MAX_THREADS 4096
/* The paper's own numbers (science.md section 2): heat per sample (approx.),
 * energy per MAC, temperature, and its baseline network. */
#define PAPER_HEAT_KT 2.9e3
#define PAPER_MAC_J 1e-12
#define PAPER_TEMPERATURE_K 300.0
#define PAPER_STEPS 10
static const size_t PAPER_NETWORK[] = {784, 128, 128, 784};
#define PAPER_LAYERS (sizeof PAPER_NETWORK / sizeof PAPER_NETWORK[0])
/* The PNAS paper's (science.md section 3): heat per trajectory, trajectories
 * per classification; its digital side is the teacher's forward pass. */
#define PNAS_HEAT_KT 2.3e4
#define PNAS_TRAJECTORIES 10
/* Layer widths --network accepts; a deeper network is a typo. */
#define MAX_LAYERS 64
/* Samples are generated this many at a time, so that memory for their
 * pictures stays bounded for any --samples (the heat is kept for all). */
#define CHUNK 1024
/* The histogram: about sqrt(N) bins, at least MIN_BINS, at most MAX_BINS. */
#define MIN_BINS 5
#define MAX_BINS 40
#define CHART_WIDTH 640
#define CHART_HEIGHT 360
#define POWERCAP_ROOT "/sys/class/powercap"

typedef struct energy_params {
    const char *model;
    size_t samples;
    double temperature; /* K */
    double time_unit;   /* seconds per unit of 1/mu */
    double mac_energy;  /* J per multiply-accumulate */
    const char *network;  /* NULL: the model kind's baseline */
    size_t steps;         /* 0: the model kind's baseline */
    const char *data;     /* classifiers: the MNIST folder */
    size_t trajectories;  /* classifiers: trajectories per classification */
    const char *json;
    const char *histogram;
    const char *seed_text; /* NULL = the model's gen.seed */
    size_t threads;
    int quiet;
} energy_params;

/* One line of the digital side: MACs (or a measurement) per sample. */
typedef struct digital_line {
    const char *id;       /* "a" .. "d" */
    char label[160];      /* the assumptions in short, for the ratio table */
    char assumes[MAX_LAYERS * 21 + 256]; /* what the number takes for granted */
    int available;        /* 0: the line has no number here */
    char why_not[512];    /* when not available */
    double macs;          /* MACs per sample; 0 for a measurement */
    double joules;        /* per sample */
    int ratio_defined;
    double ratio;         /* joules / mean heat in joules */
} digital_line;

enum { LINE_PAPER, LINE_SIM, LINE_RAPL, LINE_USER, N_LINES };

typedef struct ledger {
    th_gen_params gp;       /* generators */
    th_student_params sp;   /* classifiers */
    th_energy_sim_ops ops;
    th_heat_stats hs;
    double kT_J;            /* k_B T at the chosen temperature */
    double heat_J;          /* mean heat per sample, J */
    double noise_s;         /* physical time of the noise phase, s */
    double compute_s;       /* and of the computing phase */
    double wall;            /* s in th_gen_sample */
    size_t n_bins;
    double bin_lo, bin_hi;
    size_t *bins;           /* (n_bins) */
    size_t network[MAX_LAYERS];
    size_t n_layers;
    double paper_ratio;     /* the paper's numbers only */
    int classifier;         /* the model is a classifier (thermo classify train) */
    double top1;            /* classifiers: accuracy of the classifications measured */
    double rapl_total_J;    /* line (c) over the whole sampling */
    size_t rapl_zones;
    digital_line line[N_LINES];
} ledger;

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
           "THERMO_POWERCAP names another folder than " POWERCAP_ROOT " for line (c).\n"
           "\n"
           "Exit status: 0 on success, 1 when the run fails (a model file that cannot be\n"
           "used is named), 2 for a command line that cannot be used.\n", MIN_BINS, MAX_BINS);
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
        if (len == 0 || len >= sizeof word || *n == MAX_LAYERS) return -1;
        memcpy(word, p, len);
        word[len] = '\0';
        if (tool_to_u64(word, &v) != 0 || v == 0 || v > SIZE_MAX) return -1;
        widths[(*n)++] = (size_t)v;
        if (!comma) break;
        p = comma + 1;
    }
    return *n >= 2 ? 0 : -1;
}

/* 2170880 -> "2,170,880": counts of this size are read, not parsed. */
static const char *grouped(uint64_t v, char *buf, size_t size)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t out = 0;
    for (int i = 0; i < len && out + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[out++] = ',';
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

static void network_text(const size_t *widths, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t l = 0; l < n && used < size; l++) {
        int w = snprintf(buf + used, size - used, "%s%zu", l ? "-" : "", widths[l]);
        if (w < 0) break;
        used += (size_t)w;
    }
}


/* ---------------------------------------------------------- sampling */

/* The library reports progress within one call; the bar spans all chunks. */
typedef struct chunk_progress {
    tool_progress *bar;
    size_t offset, total;
} chunk_progress;

static int chunk_progress_update(size_t done, size_t total, void *ctx)
{
    (void)total;
    chunk_progress *cp = ctx;
    return tool_progress_update(cp->offset + done, cp->total, cp->bar);
}

/* N samples in chunks; heat (N) in kT. 0, or -1 after printing. */
static int sample_heat(const energy_params *p, const th_model *m, const th_gen_params *gp,
                       double *heat, double *wall)
{
    const size_t chunk = p->samples < CHUNK ? p->samples : CHUNK;
    float *pixels = malloc(chunk * gp->n_visible * sizeof *pixels); /* (chunk, n_visible) */
    if (!pixels) {
        fprintf(stderr, "thermo " CMD ": out of memory for %zu samples of %zu pixels\n", chunk,
                gp->n_visible);
        return -1;
    }
    tool_progress bar;
    tool_progress_begin(&bar, "samples", p->quiet);
    chunk_progress cp = {&bar, 0, p->samples};
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.progress = chunk_progress_update;
    so.progress_ctx = &cp;
    int rc = TH_OK;
    double t0 = tool_now();
    for (size_t k0 = 0; k0 < p->samples && rc == TH_OK; k0 += chunk) {
        const size_t nb = p->samples - k0 < chunk ? p->samples - k0 : chunk;
        so.first = k0;
        cp.offset = k0;
        rc = th_gen_sample(m, gp, nb, &so, pixels, heat + k0);
    }
    *wall = tool_now() - t0;
    tool_progress_end(&bar);
    free(pixels);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ the ledger */

static void set_ratio(digital_line *d, double heat_J)
{
    d->ratio_defined = th_energy_ratio(d->joules, heat_J, &d->ratio) == TH_OK;
}

/* A line priced from its MAC count at --mac-energy; the caller writes its
 * label and assumptions. */
static digital_line *mac_line(digital_line *d, const char *id, double macs, double mac_J)
{
    *d = (digital_line){.id = id, .available = 1, .macs = macs, .joules = macs * mac_J};
    return d;
}

/* Line (b), but for its assumptions: the simulation's own arithmetic. */
static digital_line *sim_line(const energy_params *p, ledger *L)
{
    const th_energy_sim_ops *o = &L->ops;
    digital_line *b = mac_line(&L->line[LINE_SIM], "b",
                               (double)o->coupling_macs + (double)o->onsite_macs, p->mac_energy);
    snprintf(b->label, sizeof b->label, "simulating this computer, coupling + on-site, "
             "%g J/MAC", p->mac_energy);
    return b;
}

/* Line (d): the network the user named, or the model kind's baseline; runs
 * says what one pass of it is ("denoising step", "pass"). */
static void price_user_line(const energy_params *p, ledger *L, const char *run)
{
    uint64_t macs = 0;
    char net[MAX_LAYERS * 21]; /* 20 digits and a '-' a layer */
    th_energy_mlp_macs(L->network, L->n_layers, p->steps, &macs); /* checked before */
    network_text(L->network, L->n_layers, net, sizeof net);
    digital_line *d = mac_line(&L->line[LINE_USER], "d", (double)macs, p->mac_energy);
    const char *plural = p->steps == 1 ? "" : (run[strlen(run) - 1] == 's' ? "es" : "s");
    snprintf(d->label, sizeof d->label, "your network: %.80s MLP x %zu %s%s, %g J/MAC", net,
             p->steps, run, plural, p->mac_energy);
    snprintf(d->assumes, sizeof d->assumes,
             "the network you named (by default %s): a %s MLP, %zu %s%s, one MAC per weight "
             "at %g J; biases, activations and memory traffic not counted",
             L->classifier ? "the teacher" : "the paper's baseline", net, p->steps, run, plural,
             p->mac_energy);
}

/* Lines (a), (b), (d): MAC counts priced at --mac-energy. */
static int price_lines(const energy_params *p, ledger *L)
{
    uint64_t macs;
    char num[32], normals[32];
    if (th_energy_mlp_macs(PAPER_NETWORK, PAPER_LAYERS, PAPER_STEPS, &macs) != TH_OK)
        return tool_fail_lib(CMD, TH_EINVAL);
    digital_line *a = mac_line(&L->line[LINE_PAPER], "a", (double)macs, p->mac_energy);
    snprintf(a->label, sizeof a->label, "paper's baseline 784-128-128-784 MLP x %d steps, "
             "%g J/MAC", PAPER_STEPS, p->mac_energy);
    snprintf(a->assumes, sizeof a->assumes,
             "the PRL paper's baseline: a 784-128-128-784 MLP denoiser run for %d steps, "
             "one MAC per weight at %g J; biases, activations and memory traffic not counted",
             PAPER_STEPS, p->mac_energy);

    const th_energy_sim_ops *o = &L->ops;
    digital_line *b = sim_line(p, L);
    snprintf(b->assumes, sizeof b->assumes,
             "simulating the computer digitally: %s coupled pairs x %llu force evaluations "
             "(%llu computing steps + 1 for the heat) plus %d MACs per unit per step for the "
             "on-site update in both phases, at %g J per MAC; the %s Gaussian numbers and "
             "memory traffic not counted", grouped(o->coupling_pairs, num, sizeof num),
             (unsigned long long)(o->steps + 1), (unsigned long long)o->steps,
             TH_ENERGY_ONSITE_MACS, p->mac_energy,
             grouped(o->normals, normals, sizeof normals));
    price_user_line(p, L, "denoising step");
    return TOOL_EXIT_OK;
}

/* Line (c), first half: the counters before sampling. When they cannot be
 * read the line says why, and the second half does nothing. */
static void measured_begin(ledger *L, const char *root, th_rapl_reading *before)
{
    digital_line *c = &L->line[LINE_RAPL];
    *c = (digital_line){.id = "c"};
    snprintf(c->label, sizeof c->label, "this CPU's packages over the run (RAPL)");
    snprintf(c->assumes, sizeof c->assumes,
             "the energy counters of the CPU packages (RAPL, %s) read before and after "
             "sampling, divided by the samples: idle power and other processes included; "
             "memory, disks, fans and power supply losses not", root);
    if (th_rapl_read(root, before) != TH_OK)
        snprintf(c->why_not, sizeof c->why_not, "%s", th_last_error());
}

/* Line (c), second half: the energy used since measured_begin, per sample. */
static void measured_end(const energy_params *p, ledger *L, const char *root,
                         const th_rapl_reading *before)
{
    digital_line *c = &L->line[LINE_RAPL];
    th_rapl_reading after;
    double joules = 0;
    if (c->why_not[0]) return;
    if (th_rapl_read(root, &after) != TH_OK || th_rapl_joules(before, &after, &joules) != TH_OK) {
        snprintf(c->why_not, sizeof c->why_not, "%s", th_last_error());
        return;
    }
    c->available = 1;
    c->joules = joules / (double)p->samples;
    L->rapl_total_J = joules;
    L->rapl_zones = after.count;
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

static void print_line_ratio(const digital_line *d)
{
    if (!d->available)
        printf("  (%s)   %-12s %-10s not available here: %s\n", d->id, "-", "-", d->label);
    else if (d->ratio_defined)
        printf("  (%s)   %-12.4g %-10.3g %s\n", d->id, d->joules, d->ratio, d->label);
    else
        printf("  (%s)   %-12.4g %-10s %s\n", d->id, d->joules, "undefined", d->label);
}

/* Lines (c) and (d) in full, then the table of ratios; unit: what one
 * sample is, count: how many were measured. */
static void print_lines_cd_and_ratios(const ledger *L, const char *unit, size_t count)
{
    const digital_line *a = &L->line[LINE_PAPER], *c = &L->line[LINE_RAPL];
    const digital_line *d = &L->line[LINE_USER];
    char n1[32];
    if (c->available) {
        printf("  (c) %.4g J measured (%.4g J over %zu %ss, %zu package zone%s)\n", c->joules,
               L->rapl_total_J, count, unit, L->rapl_zones, L->rapl_zones == 1 ? "" : "s");
        print_wrapped("", 6, c->assumes);
    } else {
        printf("  (c) not available here: %s\n", c->why_not);
    }
    printf("  (d) %s MACs = %.4g J%s\n", grouped((uint64_t)d->macs, n1, sizeof n1), d->joules,
           d->macs == a->macs ? " (the same count as (a))" : "");
    print_wrapped("", 6, d->assumes);

    printf("\nratios: digital energy / thermodynamic heat (mean %.4g J a %s)\n", L->heat_J,
           unit);
    printf("  line  digital, J   ratio      assumes\n");
    for (size_t k = 0; k < N_LINES; k++) print_line_ratio(&L->line[k]);
}

static void print_report(const energy_params *p, const th_model *m, const ledger *L)
{
    const th_gen_params *gp = &L->gp;
    const th_heat_stats *hs = &L->hs;
    const th_energy_sim_ops *o = &L->ops;
    char n1[32], n2[32], n3[32];
    printf("model     %s: generative computer, %zu visible + %zu hidden units\n", p->model,
           gp->n_visible, gp->n_hidden);
    printf("          %s coupled pairs (ordered), kT %g, dt %g, t_f %g: %llu steps a phase\n",
           grouped(o->coupling_pairs, n1, sizeof n1), m->kT, gp->dt, gp->t_f,
           (unsigned long long)o->steps);
    printf("samples   %zu, seed %llu%s, %.3g s wall (%.3g s a sample)\n"
           "          threads %d (OpenMP), %d (OpenBLAS)\n", p->samples,
           (unsigned long long)gp->seed,
           p->seed_text ? "" : " (the model's)", L->wall, L->wall / (double)p->samples,
           omp_get_max_threads(), openblas_get_num_threads());
    printf("bath      %g K: kT = %.7g J (k_B = %.7g J/K, exact in the SI since 2019)\n",
           p->temperature, L->kT_J, TH_BOLTZMANN_J_PER_K);

    printf("\nthe thermodynamic computer, per sample\n");
    printf("  heat      mean %.4g kT, sd %.3g kT, range %.4g to %.4g kT\n", hs->mean, hs->sd,
           hs->min, hs->max);
    printf("            given to the bath while computing (Stratonovich heat, Sekimoto)\n");
    printf("            = %.4g J mean, %.3g J sd at %g K\n", L->heat_J, hs->sd * L->kT_J,
           p->temperature);
    printf("            %zu of %zu samples took heat from the bath (Q < 0); the ledger uses the "
           "mean\n", hs->negative, hs->count);
    printf("  work      0: couplings and biases stay fixed while it computes; V does not "
           "change in time\n"
           "            (switching them on before and off after is programming, not counted)\n");
    printf("  entropy   Q/T = %.4g k_B = %.4g J/K produced in the bath (isothermal, %g K);\n"
           "            the change of the units' own entropy is not included\n", hs->mean,
           hs->mean * TH_BOLTZMANN_J_PER_K, p->temperature);
    printf("  time      noise equilibration %.4g s, then computing %.4g s (the phase whose heat "
           "is\n            counted), each %llu steps x dt %g x %g s: %.4g s a sample\n",
           L->noise_s, L->compute_s, (unsigned long long)o->steps, gp->dt, p->time_unit,
           L->noise_s + L->compute_s);
    printf("  power     mean heat / computing time = %.4g W\n", L->heat_J / L->compute_s);
    if (p->histogram)
        printf("  histogram %s: %zu bins of %.4g kT from %.4g to %.4g kT; red line: the mean%s\n",
               p->histogram, L->n_bins, (L->bin_hi - L->bin_lo) / (double)L->n_bins, L->bin_lo,
               L->bin_hi, L->bin_lo < 0 && L->bin_hi > 0 ? ", grey line: 0" : "");

    const digital_line *a = &L->line[LINE_PAPER], *b = &L->line[LINE_SIM];
    printf("\nthe digital side, per sample, at %g J per multiply-accumulate (MAC)\n",
           p->mac_energy);
    printf("  (a) %s MACs = %.4g J\n", grouped((uint64_t)a->macs, n1, sizeof n1), a->joules);
    print_wrapped("", 6, a->assumes);
    printf("  (b) %s MACs = %.4g J: this simulation's own arithmetic\n",
           grouped((uint64_t)b->macs, n1, sizeof n1), b->joules);
    printf("        coupling forces %s MACs x %llu (%llu steps + 1 for the heat) = %s\n",
           grouped(o->coupling_pairs, n1, sizeof n1),
           (unsigned long long)(o->steps + 1), (unsigned long long)o->steps,
           grouped(o->coupling_macs, n2, sizeof n2));
    printf("        on-site update  %d MACs x %zu units x %llu steps (both phases) = %s\n",
           TH_ENERGY_ONSITE_MACS, gp->n_visible + gp->n_hidden,
           (unsigned long long)(2 * o->steps), grouped(o->onsite_macs, n3, sizeof n3));
    printf("        not counted: %s Gaussian numbers (Philox and Box-Muller), memory traffic\n",
           grouped(o->normals, n1, sizeof n1));
    print_lines_cd_and_ratios(L, "sample", p->samples);
    if (!(L->heat_J > 0))
        printf("  undefined: the mean heat is %.4g kT <= 0 (the computer took heat from the "
               "bath on\n  average), and a ratio to it means nothing\n", hs->mean);
    const double paper_kT_J = th_energy_kT_joules(PAPER_TEMPERATURE_K);
    printf("paper     %s MACs x %g J = %.4g J against %.2g kT x %.4g J (%g K):\n"
           "          ratio %.3g, the paper's own estimate (\"above 1e10\")\n",
           grouped((uint64_t)a->macs, n1, sizeof n1), PAPER_MAC_J, a->macs * PAPER_MAC_J,
           PAPER_HEAT_KT, paper_kT_J, PAPER_TEMPERATURE_K, L->paper_ratio);
    if (a->ratio_defined)
        printf("ours      %.4g J (line a) against the heat measured here, %.4g kT x %.4g J "
               "(%g K):\n          ratio %.3g\n", a->joules, hs->mean, L->kT_J,
               p->temperature, a->ratio);
    else
        printf("ours      undefined: the measured mean heat is not positive\n");
    printf("\n");
    print_wrapped("left out", 10,
                  "The heat is that of an ideal computer's units while they compute. Not "
                  "counted: the control electronics and clocks, reading out the visible "
                  "units, programming the couplings (writing them, switching them on and off "
                  "for each sample), training, cooling or holding the bath at its "
                  "temperature, the noise phase, and the simulation's own overheads (a CPU "
                  "simulating the computer is lines (b) and (c), not the computer). The MAC "
                  "lines count arithmetic only: no memory traffic, data movement or idle "
                  "power.");
    if (p->json) printf("json      %s\n", p->json);
}

/* ------------------------------------------------------------- JSON */

static const char *const LEFT_OUT[] = {
    "control electronics and clocks",
    "reading out the visible units",
    "programming the couplings: writing them, switching them on and off for each sample "
    "(work at fixed x, not measured)",
    "training",
    "cooling or holding the bath at its temperature",
    "the noise phase before computing",
    "the simulation's own overheads: a CPU simulating the computer is lines b and c, not the "
    "computer",
    "for the MAC lines: memory traffic, data movement, activations and idle power",
};

static void add_line_json(cJSON *arr, const digital_line *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "line", d->id);
    cJSON_AddStringToObject(o, "what", d->label);
    cJSON_AddBoolToObject(o, "available", d->available);
    if (d->available) {
        if (d->macs > 0) cJSON_AddNumberToObject(o, "macs", d->macs);
        cJSON_AddNumberToObject(o, "energy_J", d->joules);
        if (d->ratio_defined) cJSON_AddNumberToObject(o, "ratio", d->ratio);
        else cJSON_AddNullToObject(o, "ratio");
    } else {
        cJSON_AddStringToObject(o, "why_not", d->why_not);
        cJSON_AddNullToObject(o, "ratio");
    }
    cJSON_AddStringToObject(o, "assumes", d->assumes);
    cJSON_AddItemToArray(arr, o);
}

/* The simulation's operation counts (coupling_pairs: a classifier's among
 * its free units) and the digital lines. */
static void add_ops_and_lines_json(cJSON *root, const char *ops_name, const ledger *L)
{
    cJSON *sim = cJSON_AddObjectToObject(root, ops_name);
    cJSON_AddNumberToObject(sim, "coupling_pairs", (double)L->ops.coupling_pairs);
    cJSON_AddNumberToObject(sim, "coupling_macs", (double)L->ops.coupling_macs);
    cJSON_AddNumberToObject(sim, "onsite_macs", (double)L->ops.onsite_macs);
    cJSON_AddNumberToObject(sim, "gaussian_numbers", (double)L->ops.normals);
    cJSON *lines = cJSON_AddArrayToObject(root, "digital");
    for (size_t k = 0; k < N_LINES; k++) add_line_json(lines, &L->line[k]);
}

static char *ledger_json(const energy_params *p, const ledger *L)
{
    const th_heat_stats *hs = &L->hs;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "thermo_version", th_version());
    cJSON_AddStringToObject(root, "model", p->model);
    cJSON_AddNumberToObject(root, "samples", (double)p->samples);
    cJSON_AddNumberToObject(root, "seed", (double)L->gp.seed);
    cJSON_AddNumberToObject(root, "temperature_K", p->temperature);
    cJSON_AddNumberToObject(root, "boltzmann_J_per_K", TH_BOLTZMANN_J_PER_K);
    cJSON_AddNumberToObject(root, "kT_J", L->kT_J);
    cJSON_AddNumberToObject(root, "time_unit_s", p->time_unit);
    cJSON_AddNumberToObject(root, "mac_energy_J", p->mac_energy);
    cJSON_AddNumberToObject(root, "wall_seconds", L->wall);

    cJSON *h = cJSON_AddObjectToObject(root, "heat_per_sample");
    cJSON_AddStringToObject(h, "phase", "computing (couplings on), Stratonovich heat given "
                                        "to the bath");
    cJSON_AddNumberToObject(h, "mean_kT", hs->mean);
    cJSON_AddNumberToObject(h, "sd_kT", hs->sd);
    cJSON_AddNumberToObject(h, "min_kT", hs->min);
    cJSON_AddNumberToObject(h, "max_kT", hs->max);
    cJSON_AddNumberToObject(h, "negative_samples", (double)hs->negative);
    cJSON_AddNumberToObject(h, "mean_J", L->heat_J);
    cJSON_AddNumberToObject(h, "sd_J", hs->sd * L->kT_J);
    cJSON *hist = cJSON_AddObjectToObject(h, "histogram");
    cJSON_AddNumberToObject(hist, "lo_kT", L->bin_lo);
    cJSON_AddNumberToObject(hist, "hi_kT", L->bin_hi);
    cJSON *counts = cJSON_AddArrayToObject(hist, "counts");
    for (size_t k = 0; k < L->n_bins; k++)
        cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)L->bins[k]));
    if (p->histogram) cJSON_AddStringToObject(hist, "png", p->histogram);

    cJSON *w = cJSON_AddObjectToObject(root, "work_per_sample");
    cJSON_AddNumberToObject(w, "kT", 0);
    cJSON_AddStringToObject(w, "why", "the couplings and biases stay fixed while it computes, "
                                      "so V does not depend on time");
    cJSON *e = cJSON_AddObjectToObject(root, "entropy_production_per_sample");
    cJSON_AddNumberToObject(e, "bath_kB", hs->mean);
    cJSON_AddNumberToObject(e, "bath_J_per_K", hs->mean * TH_BOLTZMANN_J_PER_K);
    cJSON_AddStringToObject(e, "note", "Q/T for an isothermal bath; the units' own entropy "
                                       "change is not included");
    cJSON *t = cJSON_AddObjectToObject(root, "time_per_sample_s");
    cJSON_AddNumberToObject(t, "noise_equilibration", L->noise_s);
    cJSON_AddNumberToObject(t, "computing", L->compute_s);
    cJSON_AddNumberToObject(t, "steps_per_phase", (double)L->ops.steps);
    cJSON_AddNumberToObject(t, "dt", L->gp.dt);

    add_ops_and_lines_json(root, "simulation_ops_per_sample", L);

    cJSON *paper = cJSON_AddObjectToObject(root, "paper_check");
    cJSON_AddNumberToObject(paper, "macs", L->line[LINE_PAPER].macs);
    cJSON_AddNumberToObject(paper, "mac_energy_J", PAPER_MAC_J);
    cJSON_AddNumberToObject(paper, "heat_kT", PAPER_HEAT_KT);
    cJSON_AddNumberToObject(paper, "temperature_K", PAPER_TEMPERATURE_K);
    cJSON_AddNumberToObject(paper, "ratio", L->paper_ratio);
    cJSON *left = cJSON_AddArrayToObject(root, "left_out");
    for (size_t k = 0; k < sizeof LEFT_OUT / sizeof LEFT_OUT[0]; k++)
        cJSON_AddItemToArray(left, cJSON_CreateString(LEFT_OUT[k]));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}


/* -------------------------------------------------------------- run */

static char *student_json(const energy_params *p, size_t count, const ledger *L);

static int write_outputs(const energy_params *p, const ledger *L)
{
    if (p->histogram) {
        const double marks[2] = {L->hs.mean, 0.0};
        th_canvas *c = th_picture_histogram(L->bins, L->n_bins, L->bin_lo, L->bin_hi, marks, 2,
                                            CHART_WIDTH, CHART_HEIGHT);
        int rc = c ? th_png_write(p->histogram, c, 1) : TH_ENOMEM;
        th_canvas_free(c);
        if (rc != TH_OK) return tool_fail_lib(CMD, rc);
    }
    if (p->json) {
        char *text = L->classifier ? student_json(p, p->samples, L) : ledger_json(p, L);
        if (!text) {
            fprintf(stderr, "thermo " CMD ": out of memory for the JSON\n");
            return TOOL_EXIT_FAIL;
        }
        int bad = tool_write_text(p->json, text);
        free(text);
        if (bad) {
            fprintf(stderr, "thermo " CMD ": %s\n", th_last_error());
            return TOOL_EXIT_FAIL;
        }
    }
    return TOOL_EXIT_OK;
}

static int run_energy_student(const energy_params *p, uint64_t seed, ledger *L);

static int run_energy(const energy_params *p_in, uint64_t seed, ledger *L)
{
    /* The baseline of line (d) unless the user named one: the PRL paper's
     * denoiser for a generator, the teacher for a classifier. */
    energy_params resolved = *p_in;
    const energy_params *p = &resolved;
    th_model *m = NULL;
    th_meta meta = {0};
    double *heat = NULL;
    int exit_code = TOOL_EXIT_FAIL;
    int rc;

    if ((p->json && tool_folder_writable(CMD, p->json) != 0) ||
        (p->histogram && tool_folder_writable(CMD, p->histogram) != 0))
        goto done;
    if ((rc = th_model_load(p->model, &m, &meta)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    if (tool_is_student(&meta)) {
        th_meta_clear(&meta);
        th_model_free(m);
        return run_energy_student(p, seed, L);
    }
    if (!th_meta_get(&meta, "gen.n_visible")) {
        fprintf(stderr, "thermo " CMD ": %s: neither generator (gen.*) nor classifier "
                        "(student.*) settings in its metadata: expected a model written by "
                        "thermo train or thermo classify train\n", p->model);
        goto done;
    }
    if (!p->network) {
        memcpy(L->network, PAPER_NETWORK, sizeof PAPER_NETWORK);
        L->n_layers = PAPER_LAYERS;
    }
    if (!p->steps) resolved.steps = PAPER_STEPS;
    if ((rc = th_gen_params_from_meta(&meta, &L->gp)) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s: %s\n", p->model, th_last_error());
        goto done;
    }
    if (p->seed_text) L->gp.seed = seed;
    if ((rc = th_energy_gen_ops(m, &L->gp, &L->ops)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    heat = malloc(p->samples * sizeof *heat); /* (samples) in kT */
    size_t bins = (size_t)ceil(sqrt((double)p->samples));
    L->n_bins = bins < MIN_BINS ? MIN_BINS : bins > MAX_BINS ? MAX_BINS : bins;
    L->bins = malloc(L->n_bins * sizeof *L->bins);
    if (!heat || !L->bins) {
        fprintf(stderr, "thermo " CMD ": out of memory for %zu samples\n", p->samples);
        goto done;
    }

    const char *root = getenv("THERMO_POWERCAP");
    if (!root || !root[0]) root = POWERCAP_ROOT;
    th_rapl_reading before;
    measured_begin(L, root, &before);
    if (sample_heat(p, m, &L->gp, heat, &L->wall) != 0) goto done;
    measured_end(p, L, root, &before);

    if ((rc = th_heat_stats_compute(heat, p->samples, &L->hs)) != TH_OK ||
        (rc = th_histogram_bin(heat, p->samples, L->n_bins, &L->bin_lo, &L->bin_hi,
                               L->bins)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    L->kT_J = th_energy_kT_joules(p->temperature);
    L->heat_J = L->hs.mean * L->kT_J;
    L->noise_s = (double)L->ops.steps * L->gp.dt * p->time_unit;
    L->compute_s = L->noise_s; /* both phases last th_gen_steps(p) steps */
    if (price_lines(p, L) != TOOL_EXIT_OK) goto done;
    for (size_t k = 0; k < N_LINES; k++)
        if (L->line[k].available) set_ratio(&L->line[k], L->heat_J);
    if (th_energy_ratio(L->line[LINE_PAPER].macs * PAPER_MAC_J,
                        PAPER_HEAT_KT * th_energy_kT_joules(PAPER_TEMPERATURE_K),
                        &L->paper_ratio) != TH_OK) {
        tool_fail_lib(CMD, TH_EINVAL);
        goto done;
    }
    /* Extreme --temperature, --time-unit or --mac-energy can overflow a
     * double; a report with inf in it is worse than none. */
    int finite = isfinite(L->heat_J) && isfinite(L->kT_J) && isfinite(L->compute_s) &&
                 L->compute_s > 0 && isfinite(L->heat_J / L->compute_s) &&
                 isfinite(L->hs.mean * TH_BOLTZMANN_J_PER_K);
    for (size_t k = 0; k < N_LINES; k++)
        finite &= isfinite(L->line[k].joules) &&
                  !(L->line[k].available && L->heat_J > 0 && !L->line[k].ratio_defined);
    if (!finite) {
        fprintf(stderr, "thermo " CMD ": --temperature %g, --time-unit %g, --mac-energy %g: an "
                        "energy, time or power overflows or vanishes\n", p->temperature,
                p->time_unit, p->mac_energy);
        goto done;
    }
    if ((exit_code = write_outputs(p, L)) != TOOL_EXIT_OK) goto done;
    print_report(p, m, L);
    exit_code = TOOL_EXIT_OK;
done:
    free(heat);
    th_meta_clear(&meta);
    th_model_free(m);
    return exit_code;
}

/* ------------------------------------------------------ classifiers */

/* Lines (a), (b), (d) of a classifier, per classification. */
static void price_student_lines(const energy_params *p, const tool_student *st, ledger *L)
{
    char net[MAX_LAYERS * 21], normals[32];
    uint64_t macs = 0;
    th_energy_mlp_macs(st->widths, st->n_widths, 1, &macs); /* checked at load */
    network_text(st->widths, st->n_widths, net, sizeof net);
    digital_line *a = mac_line(&L->line[LINE_PAPER], "a", (double)macs, p->mac_energy);
    snprintf(a->label, sizeof a->label, "the PNAS paper's comparison: the teacher %.60s, one "
             "forward pass, %g J/MAC", net, p->mac_energy);
    snprintf(a->assumes, sizeof a->assumes,
             "the PNAS paper's comparison: one forward pass of the digital teacher (%s MLP) "
             "that the computer learned from, one MAC per weight at %g J; biases, activations "
             "and memory traffic not counted", net, p->mac_energy);

    const th_energy_sim_ops *o = &L->ops;
    digital_line *b = sim_line(p, L);
    snprintf(b->assumes, sizeof b->assumes,
             "simulating the computer digitally: %zu trajectories of %llu steps, each with "
             "%llu free-unit coupled pairs x %llu force evaluations, the input field once "
             "(%zu x %zu), and %d MACs per free unit per step for the on-site update, at %g J "
             "per MAC; the %s Gaussian numbers and memory traffic not counted",
             p->trajectories, (unsigned long long)o->steps,
             (unsigned long long)o->coupling_pairs, (unsigned long long)(o->steps + 1),
             L->sp.n_input, L->sp.n_hidden + L->sp.n_output, TH_ENERGY_ONSITE_MACS,
             p->mac_energy, grouped(o->normals, normals, sizeof normals));
    price_user_line(p, L, "pass");
}

static void print_student_report(const energy_params *p, size_t count, const ledger *L)
{
    const th_student_params *sp = &L->sp;
    const th_heat_stats *hs = &L->hs;
    const th_energy_sim_ops *o = &L->ops;
    const double M = (double)p->trajectories;
    char n1[32], n2[32];
    printf("model     %s: thermodynamic classifier, %zu inputs + %zu hidden + %zu output units\n",
           p->model, sp->n_input, sp->n_hidden, sp->n_output);
    printf("          kT %g, dt %g, t_f %g: %llu steps a trajectory\n", sp->kT, sp->dt, sp->t_f,
           (unsigned long long)o->steps);
    printf("samples   %zu classifications of MNIST test images (%s), %zu trajectories each, "
           "seed %llu%s\n          top-1 %.2f%% on them; %.3g s wall (%.3g s a "
           "classification)\n", count, p->data, p->trajectories, (unsigned long long)sp->seed,
           p->seed_text ? "" : " (the model's)", 100 * L->top1, L->wall,
           L->wall / (double)count);
    printf("bath      %g K: kT = %.7g J (k_B = %.7g J/K, exact in the SI since 2019)\n",
           p->temperature, L->kT_J, TH_BOLTZMANN_J_PER_K);

    printf("\nthe thermodynamic computer, per classification (%zu trajectories)\n",
           p->trajectories);
    printf("  heat      mean %.4g kT (%.4g kT a trajectory), sd %.3g kT, range %.4g to %.4g kT\n",
           hs->mean, hs->mean / M, hs->sd, hs->min, hs->max);
    printf("            given to the bath while the free units run with the inputs clamped\n");
    printf("            = %.4g J mean, %.3g J sd at %g K\n", L->heat_J, hs->sd * L->kT_J,
           p->temperature);
    printf("            %zu of %zu classifications took heat from the bath (Q < 0); the ledger "
           "uses the mean\n", hs->negative, hs->count);
    printf("  work      0: couplings, biases and clamped inputs stay fixed while it computes\n"
           "            (clamping the image and switching the couplings on is programming, "
           "not counted)\n");
    printf("  entropy   Q/T = %.4g k_B = %.4g J/K produced in the bath (isothermal, %g K)\n",
           hs->mean, hs->mean * TH_BOLTZMANN_J_PER_K, p->temperature);
    printf("  time      %llu steps x dt %g x %g s = %.4g s a trajectory; %zu trajectories "
           "side by side\n            take that long, one after another %.4g s\n",
           (unsigned long long)o->steps, sp->dt, p->time_unit, L->compute_s, p->trajectories,
           L->compute_s * M);
    printf("  power     heat of one trajectory / its time = %.4g W\n",
           L->heat_J / M / L->compute_s);
    if (p->histogram)
        printf("  histogram %s: %zu bins of %.4g kT from %.4g to %.4g kT; red line: the mean\n",
               p->histogram, L->n_bins, (L->bin_hi - L->bin_lo) / (double)L->n_bins, L->bin_lo,
               L->bin_hi);

    const digital_line *a = &L->line[LINE_PAPER], *b = &L->line[LINE_SIM];
    printf("\nthe digital side, per classification, at %g J per multiply-accumulate (MAC)\n",
           p->mac_energy);
    printf("  (a) %s MACs = %.4g J\n", grouped((uint64_t)a->macs, n1, sizeof n1), a->joules);
    print_wrapped("", 6, a->assumes);
    printf("  (b) %s MACs = %.4g J: this simulation's own arithmetic\n",
           grouped((uint64_t)b->macs, n1, sizeof n1), b->joules);
    printf("        coupling forces and input field %s MACs, on-site update %s MACs\n",
           grouped(o->coupling_macs, n1, sizeof n1), grouped(o->onsite_macs, n2, sizeof n2));
    print_lines_cd_and_ratios(L, "classification", count);
    if (!(L->heat_J > 0))
        printf("  undefined: the mean heat is %.4g kT <= 0, and a ratio to it means nothing\n",
               hs->mean);
    printf("paper     %s MACs x %g J = %.4g J against %.2g kT x %d trajectories x %.4g J "
           "(%g K):\n          ratio %.3g, the PNAS paper's estimate (\"above 1e7\")\n",
           grouped((uint64_t)a->macs, n1, sizeof n1), PAPER_MAC_J, a->macs * PAPER_MAC_J,
           PNAS_HEAT_KT, PNAS_TRAJECTORIES, th_energy_kT_joules(PAPER_TEMPERATURE_K),
           PAPER_TEMPERATURE_K, L->paper_ratio);
    if (a->ratio_defined)
        printf("ours      %.4g J (line a) against the heat measured here, %.4g kT x %.4g J "
               "(%g K):\n          ratio %.3g\n", a->joules, hs->mean, L->kT_J,
               p->temperature, a->ratio);
    printf("\n");
    print_wrapped("left out", 10,
                  "The heat is that of an ideal computer's free units while they compute. Not "
                  "counted: the control electronics and clocks, clamping the input units to "
                  "the image, reading out the output units, programming the couplings, "
                  "training (and the teacher's), cooling or holding the bath at its "
                  "temperature, and the simulation's own overheads (lines b and c). The MAC "
                  "lines count arithmetic only: no memory traffic, data movement or idle "
                  "power.");
    if (p->json) printf("json      %s\n", p->json);
}

static char *student_json(const energy_params *p, size_t count, const ledger *L)
{
    const th_heat_stats *hs = &L->hs;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "thermo_version", th_version());
    cJSON_AddStringToObject(root, "model", p->model);
    cJSON_AddStringToObject(root, "kind", "classifier");
    cJSON_AddNumberToObject(root, "classifications", (double)count);
    cJSON_AddNumberToObject(root, "trajectories", (double)p->trajectories);
    cJSON_AddNumberToObject(root, "top1", L->top1);
    cJSON_AddNumberToObject(root, "seed", (double)L->sp.seed);
    cJSON_AddNumberToObject(root, "temperature_K", p->temperature);
    cJSON_AddNumberToObject(root, "kT_J", L->kT_J);
    cJSON_AddNumberToObject(root, "time_unit_s", p->time_unit);
    cJSON_AddNumberToObject(root, "mac_energy_J", p->mac_energy);
    cJSON_AddNumberToObject(root, "wall_seconds", L->wall);
    cJSON *h = cJSON_AddObjectToObject(root, "heat_per_classification");
    cJSON_AddNumberToObject(h, "mean_kT", hs->mean);
    cJSON_AddNumberToObject(h, "per_trajectory_kT", hs->mean / (double)p->trajectories);
    cJSON_AddNumberToObject(h, "sd_kT", hs->sd);
    cJSON_AddNumberToObject(h, "min_kT", hs->min);
    cJSON_AddNumberToObject(h, "max_kT", hs->max);
    cJSON_AddNumberToObject(h, "negative", (double)hs->negative);
    cJSON_AddNumberToObject(h, "mean_J", L->heat_J);
    cJSON_AddNumberToObject(root, "work_kT", 0);
    cJSON_AddNumberToObject(root, "trajectory_time_s", L->compute_s);
    cJSON_AddNumberToObject(root, "steps_per_trajectory", (double)L->ops.steps);
    add_ops_and_lines_json(root, "simulation_ops_per_classification", L);
    cJSON *paper = cJSON_AddObjectToObject(root, "paper_check");
    cJSON_AddNumberToObject(paper, "macs", L->line[LINE_PAPER].macs);
    cJSON_AddNumberToObject(paper, "heat_kT_per_trajectory", PNAS_HEAT_KT);
    cJSON_AddNumberToObject(paper, "trajectories", PNAS_TRAJECTORIES);
    cJSON_AddNumberToObject(paper, "ratio", L->paper_ratio);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

/* The ledger of a classifier: the first --samples test images classified
 * by --trajectories runs each; one sample is one classification. */
static int run_energy_student(const energy_params *p_in, uint64_t seed, ledger *L)
{
    energy_params resolved = *p_in;
    const energy_params *p = &resolved;
    tool_student st;
    th_dataset *d = NULL;
    float *X = NULL, *mean = NULL;
    double *heat = NULL;
    int exit_code = TOOL_EXIT_FAIL, rc;
    if (tool_student_load(CMD, p->model, &st) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;
    L->sp = st.sp;
    L->classifier = 1;
    if (p->seed_text) L->sp.seed = seed;
    if (!p->network) {
        memcpy(L->network, st.widths, st.n_widths * sizeof st.widths[0]);
        L->n_layers = st.n_widths;
    }
    if (!p->steps) resolved.steps = 1;
    uint64_t macs;
    if (th_energy_mlp_macs(L->network, L->n_layers, p->steps, &macs) != TH_OK ||
        th_energy_mlp_macs(st.widths, st.n_widths, 1, &macs) != TH_OK ||
        (rc = th_energy_student_ops(st.m, &L->sp, p->trajectories, &L->ops)) != TH_OK) {
        tool_fail_lib(CMD, TH_EINVAL);
        goto done;
    }
    if (tool_student_images(CMD, &st, p->data, p->samples, &d, &X) != TOOL_EXIT_OK) goto done;
    const size_t count = d->count, no = L->sp.n_output;
    const double M = (double)p->trajectories;
    mean = malloc(count * no * sizeof *mean);
    heat = malloc(count * sizeof *heat); /* per classification, kT */
    size_t bins = (size_t)ceil(sqrt((double)count));
    L->n_bins = bins < MIN_BINS ? MIN_BINS : bins > MAX_BINS ? MAX_BINS : bins;
    L->bins = malloc(L->n_bins * sizeof *L->bins);
    if (!mean || !heat || !L->bins) {
        fprintf(stderr, "thermo " CMD ": out of memory for %zu classifications\n", count);
        goto done;
    }
    const char *root = getenv("THERMO_POWERCAP");
    if (!root || !root[0]) root = POWERCAP_ROOT;
    th_rapl_reading before;
    measured_begin(L, root, &before);
    tool_progress bar;
    tool_progress_begin(&bar, "images", p->quiet);
    th_student_eval_opts eo = th_student_eval_opts_default();
    eo.trajectories = p->trajectories;
    eo.progress = tool_progress_update;
    eo.progress_ctx = &bar;
    const double t0 = tool_now();
    rc = th_student_classify(st.m, &L->sp, X, count, &eo, mean, NULL, heat);
    L->wall = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    resolved.samples = count; /* line (c) per classification */
    measured_end(p, L, root, &before);
    for (size_t k = 0; k < count; k++) heat[k] *= M; /* all trajectories of the image */
    L->top1 = th_topk_accuracy(mean, count, no, d->labels, 1);
    if ((rc = th_heat_stats_compute(heat, count, &L->hs)) != TH_OK ||
        (rc = th_histogram_bin(heat, count, L->n_bins, &L->bin_lo, &L->bin_hi, L->bins)) !=
            TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    L->kT_J = th_energy_kT_joules(p->temperature);
    L->heat_J = L->hs.mean * L->kT_J;
    L->compute_s = (double)L->ops.steps * L->sp.dt * p->time_unit;
    price_student_lines(p, &st, L);
    for (size_t k = 0; k < N_LINES; k++)
        if (L->line[k].available) set_ratio(&L->line[k], L->heat_J);
    if (th_energy_ratio(L->line[LINE_PAPER].macs * PAPER_MAC_J,
                        PNAS_HEAT_KT * PNAS_TRAJECTORIES *
                            th_energy_kT_joules(PAPER_TEMPERATURE_K),
                        &L->paper_ratio) != TH_OK) {
        tool_fail_lib(CMD, TH_EINVAL);
        goto done;
    }
    int finite = isfinite(L->heat_J) && isfinite(L->kT_J) && L->compute_s > 0 &&
                 isfinite(L->compute_s) && isfinite(L->heat_J / L->compute_s);
    for (size_t k = 0; k < N_LINES; k++)
        finite &= isfinite(L->line[k].joules) &&
                  !(L->line[k].available && L->heat_J > 0 && !L->line[k].ratio_defined);
    if (!finite) {
        fprintf(stderr, "thermo " CMD ": --temperature %g, --time-unit %g, --mac-energy %g: an "
                        "energy, time or power overflows or vanishes\n", p->temperature,
                p->time_unit, p->mac_energy);
        goto done;
    }
    if (write_outputs(p, L) != TOOL_EXIT_OK) goto done;
    print_student_report(p, count, L);
    exit_code = TOOL_EXIT_OK;
done:
    free(X);
    free(mean);
    free(heat);
    th_dataset_free(d);
    tool_student_free(&st);
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
        .trajectories = PNAS_TRAJECTORIES,
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
    ledger L;
    memset(&L, 0, sizeof L);
    if (p.network && parse_network(p.network, L.network, &L.n_layers) != 0)
        return tool_usage_error(CMD, "--network: expected 2 to %d layer widths >= 1 separated by commas, "
                           "such as 784,128,128,784; got '%s'", MAX_LAYERS, p.network);
    uint64_t macs;
    if (p.network && th_energy_mlp_macs(L.network, L.n_layers, p.steps ? p.steps : 1, &macs) != TH_OK)
        return tool_usage_error(CMD, "--network %s --steps %zu: %s", p.network, p.steps, th_last_error());
    if (p.trajectories > ((size_t)1 << 20))
        return tool_usage_error(CMD, "--trajectories %zu: expected at most 2^20", p.trajectories);
    if (p.threads > 0) {
        omp_set_num_threads((int)p.threads);
        openblas_set_num_threads((int)p.threads);
    }
    rc = run_energy(&p, seed, &L);
    free(L.bins);
    return rc;
}
