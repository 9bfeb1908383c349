/* report.c - the energy ledger as thermo energy reports it: the text from
 * the bath's line to what the estimate leaves out, and the JSON of --json.
 * Rendering only: every number comes from the th_energy_ledger (book.c),
 * so that a program linking the library prints the same books as the tool.
 * Both are built in memory and handed to the caller; the library never
 * prints. */
#include "core/internal.h"

#include <cjson/cJSON.h>
#include <string.h>

/* Room for a uint64_t with its thousands separators. */
#define NUM 32

/* text wrapped at word boundaries to lines of at most WRAP columns, each
 * line indented by indent columns, the first of them filled by head. */
#define WRAP 92
static void print_wrapped(FILE *f, const char *head, size_t indent, const char *text)
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
        fprintf(f, "%-*s%.*s\n", (int)indent, first ? head : "", (int)take, p);
        first = 0;
        p += take;
        while (*p == ' ') p++;
    }
}

/* A protocol's work and first law per sample: its switches do work on the
 * computer while it computes (science.md section 1). */
static void print_switching(FILE *f, const th_energy_ledger *L)
{
    const th_heat_stats *w = &L->work, *v = &L->potential_change;
    fprintf(f, "  work      mean %.4g kT, sd %.3g kT, range %.4g to %.4g kT\n"
            "            done on the computer by switching its couplings and biases, V_new(x) -\n"
            "            V_old(x) at switch-on and at the %zu boundar%s of its %zu segments\n"
            "            = %.4g J mean at %g K (switching them off after is programming, not "
            "counted)\n", w->mean, w->sd, w->min, w->max, L->segments - 1,
            L->segments > 2 ? "ies" : "y", L->segments,
            L->work_J, L->temperature_K);
    fprintf(f, "  first law dV = W - Q per sample: dV mean %.4g kT, W - Q mean %.4g kT;\n"
            "            |dV - (W - Q)| mean %.3g kT, at most %.3g kT (rounding: it holds\n"
            "            step by step)\n",
            v->mean, w->mean - L->hs.mean, L->first_law_mean_abs, L->first_law_max_abs);
}

/* The heat, work, entropy, time and power of one sample. */
static void print_thermo(FILE *f, const th_energy_ledger *L, const char *png)
{
    const th_heat_stats *hs = &L->hs;
    const int cls = L->classifier;
    const double M = (double)L->trajectories;
    const char *unit = cls ? "classification" : "sample";
    fprintf(f, "\nthe thermodynamic computer, per %s", unit);
    if (cls) fprintf(f, " (%zu trajectories)", L->trajectories);
    fprintf(f, "\n  heat      mean %.4g kT", hs->mean);
    if (cls) fprintf(f, " (%.4g kT a trajectory)", hs->mean / M);
    fprintf(f, ", sd %.3g kT, range %.4g to %.4g kT\n            given to the bath while %s\n",
            hs->sd, hs->min, hs->max, cls ? "the free units run with the inputs clamped"
                                         : "computing (Sekimoto's heat, exact along each step)");
    fprintf(f, "            = %.4g J mean, %.3g J sd at %g K\n", L->heat_J, hs->sd * L->kT_J,
            L->temperature_K);
    fprintf(f, "            %zu of %zu %ss took heat from the bath (Q < 0); the ledger uses the "
            "mean\n", hs->negative, hs->count, unit);
    /* No work: the potential does not depend on time while it computes. */
    if (cls)
        fputs("  work      0: couplings, biases and clamped inputs stay fixed while it computes\n"
              "            (clamping the image and switching the couplings on is programming, "
              "not counted)\n", f);
    else if (L->segments > 1)
        print_switching(f, L);
    else
        fputs("  work      0: couplings and biases stay fixed while it computes; V does not "
              "change in time\n            (switching them on before and off after is "
              "programming, not counted)\n", f);
    fprintf(f, "  entropy   Q/T = %.4g k_B = %.4g J/K produced in the bath (isothermal, %g K)%s\n",
            hs->mean, hs->mean * TH_BOLTZMANN_J_PER_K, L->temperature_K,
            cls ? "" : ";\n            the change of the units' own entropy is not included");
    if (cls)
        fprintf(f, "  time      %llu steps x dt %g x %g s = %.4g s a trajectory; %zu trajectories "
                "side by side\n            take that long, one after another %.4g s\n"
                "  power     heat of one trajectory / its time = %.4g W\n",
                (unsigned long long)L->ops.steps, L->dt, L->time_unit_s, L->compute_s,
                L->trajectories, L->compute_s * M, L->heat_J / M / L->compute_s);
    else
        fprintf(f, "  time      noise equilibration %.4g s, then computing %.4g s (the phase whose "
                "heat is\n            counted), each %llu steps x dt %g x %g s: %.4g s a "
                "sample\n  power     mean heat / computing time = %.4g W\n", L->noise_s,
                L->compute_s, (unsigned long long)L->ops.steps, L->dt, L->time_unit_s,
                L->noise_s + L->compute_s, L->heat_J / L->compute_s);
    if (png)
        fprintf(f, "  histogram %s: %zu bins of %.4g kT from %.4g to %.4g kT; red line: the "
                "mean%s\n",
                png, L->n_bins, (L->bin_hi - L->bin_lo) / (double)L->n_bins, L->bin_lo,
                L->bin_hi, !cls && L->bin_lo < 0 && L->bin_hi > 0 ? ", grey line: 0" : "");
}

/* The digital lines in full, the table of ratios, and the paper's check. */
static void print_digital(FILE *f, const th_energy_ledger *L)
{
    const th_energy_line *a = &L->line[TH_ENERGY_LINE_PAPER], *b = &L->line[TH_ENERGY_LINE_SIM];
    const th_energy_line *c = &L->line[TH_ENERGY_LINE_RAPL], *d = &L->line[TH_ENERGY_LINE_USER];
    const th_energy_sim_ops *o = &L->ops;
    const th_energy_paper *pp = &L->paper;
    const int cls = L->classifier;
    const char *unit = cls ? "classification" : "sample";
    char n1[NUM], n2[NUM], n3[NUM], n4[NUM];
    fprintf(f, "\nthe digital side, per %s, at %g J per multiply-accumulate (MAC)\n", unit,
            L->mac_energy_J);
    fprintf(f, "  (a) %s MACs = %.4g J\n", th_energy_grouped((uint64_t)a->macs, n1, NUM),
            a->joules);
    print_wrapped(f, "", 6, a->assumes);
    fprintf(f, "  (b) %s MACs = %.4g J: this simulation's own arithmetic\n",
            th_energy_grouped((uint64_t)b->macs, n1, NUM), b->joules);
    if (cls) {
        fprintf(f, "        coupling forces and input field %s MACs, on-site update %s MACs\n",
                th_energy_grouped(o->coupling_macs, n1, NUM),
                th_energy_grouped(o->onsite_macs, n2, NUM));
    } else {
        /* two force evaluations for the heat per run (its energies at the
         * start and end), a run per segment */
        char runs[64] = "2 for the heat";
        if (L->segments > 1)
            snprintf(runs, sizeof runs, "2 for the heat in each of %zu segments", L->segments);
        fprintf(f, "        coupling forces %s MACs x %llu (%llu steps + %s) = %s\n"
                "        on-site update  %d MACs x %zu units x %llu steps (both phases) = %s\n"
                "        not counted: %s Gaussian numbers (Philox and Box-Muller), memory "
                "traffic\n", th_energy_grouped(o->coupling_pairs, n1, NUM),
                (unsigned long long)(o->steps + 2 * (L->segments > 1 ? L->segments : 1)),
                (unsigned long long)o->steps, runs,
                th_energy_grouped(o->coupling_macs, n2, NUM), TH_ENERGY_ONSITE_MACS, L->n_units,
                (unsigned long long)(2 * o->steps), th_energy_grouped(o->onsite_macs, n3, NUM),
                th_energy_grouped(o->normals, n4, NUM));
    }
    if (c->available) {
        fprintf(f, "  (c) %.4g J measured (%.4g J over %zu %ss, %zu package zone%s)\n", c->joules,
                L->rapl_J, L->hs.count, unit, L->rapl_zones, L->rapl_zones == 1 ? "" : "s");
        print_wrapped(f, "", 6, c->assumes);
    } else {
        fprintf(f, "  (c) not available here: %s\n", c->why_not);
    }
    fprintf(f, "  (d) %s MACs = %.4g J%s\n", th_energy_grouped((uint64_t)d->macs, n1, NUM),
            d->joules, d->macs == a->macs ? " (the same count as (a))" : "");
    print_wrapped(f, "", 6, d->assumes);

    fprintf(f, "\nratios: digital energy / thermodynamic heat (mean %.4g J a %s)\n", L->heat_J,
            unit);
    fprintf(f, "  line  digital, J   ratio      assumes\n");
    for (size_t k = 0; k < TH_ENERGY_N_LINES; k++) {
        const th_energy_line *e = &L->line[k];
        if (!e->available)
            fprintf(f, "  (%s)   %-12s %-10s not available here: %s\n", e->id, "-", "-", e->label);
        else if (e->ratio_defined)
            fprintf(f, "  (%s)   %-12.4g %-10.3g %s\n", e->id, e->joules, e->ratio, e->label);
        else
            fprintf(f, "  (%s)   %-12.4g %-10s %s\n", e->id, e->joules, "undefined", e->label);
    }
    if (!(L->heat_J > 0))
        fprintf(f, "  undefined: the mean heat is %.4g kT <= 0%s, and a ratio to it means "
                "nothing\n", L->hs.mean,
                cls ? "" : " (the computer took heat from the bath on\n  average)");
    fprintf(f, "paper     %s MACs x %g J = %.4g J against %.2g kT x ",
            th_energy_grouped((uint64_t)pp->macs, n1, NUM), pp->mac_J, pp->macs * pp->mac_J,
            pp->heat_kT);
    if (cls) fprintf(f, "%zu trajectories x ", pp->trajectories);
    fprintf(f, "%.4g J (%g K):\n          ratio %.3g, the %s estimate (\"above %s\")\n", pp->kT_J,
            pp->temperature_K, pp->ratio, cls ? "PNAS paper's" : "paper's own",
            cls ? "1e7" : "1e10");
    if (a->ratio_defined)
        fprintf(f, "ours      %.4g J (line a) against the heat measured here, %.4g kT x %.4g J "
                "(%g K):\n          ratio %.3g\n", a->joules, L->hs.mean, L->kT_J,
                L->temperature_K, a->ratio);
    else if (!cls)
        fprintf(f, "ours      undefined: the measured mean heat is not positive\n");
}

char *th_energy_ledger_text(const th_energy_ledger *L, const char *png)
{
    TH_ASSERT(L != NULL);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) {
        th__fail(TH_ENOMEM, "out of memory for the ledger's report");
        return NULL;
    }
    fprintf(f, "bath      %g K: kT = %.7g J (k_B = %.7g J/K, exact in the SI since 2019)\n",
            L->temperature_K, L->kT_J, TH_BOLTZMANN_J_PER_K);
    print_thermo(f, L, png);
    print_digital(f, L);
    fprintf(f, "\n");
    print_wrapped(f, "left out", 10, L->left_out);
    const int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        th__fail(TH_ENOMEM, "out of memory for the ledger's report");
        return NULL;
    }
    return text;
}

/* ------------------------------------------------------------------ JSON */

/* One number of a JSON object, by name. */
typedef struct named {
    const char *name;
    double value;
} named;

static cJSON *add_numbers(cJSON *o, const named *v, size_t n)
{
    for (size_t k = 0; k < n; k++) cJSON_AddNumberToObject(o, v[k].name, v[k].value);
    return o;
}
/* NUMBERS(obj, {"name", value}, ...) adds the numbers to obj in that order
 * (cJSON keeps it) and gives obj back. */
#define NUMBERS(o, ...)                                    \
    add_numbers((o), (const named[]){__VA_ARGS__},         \
                sizeof((const named[]){__VA_ARGS__}) / sizeof(named))

/* What only a generator's JSON has, after its wall time. */
static void gen_json(cJSON *root, const th_energy_ledger *L, const char *png)
{
    const th_heat_stats *hs = &L->hs;
    cJSON *h = cJSON_AddObjectToObject(root, "heat_per_sample");
    cJSON_AddStringToObject(h, "phase", "computing (couplings on), heat given to the bath "
                                        "(Sekimoto's, exact along each step: Crooks' "
                                        "discrete definition)");
    NUMBERS(h, {"mean_kT", hs->mean}, {"sd_kT", hs->sd}, {"min_kT", hs->min},
            {"max_kT", hs->max}, {"negative_samples", hs->negative}, {"mean_J", L->heat_J},
            {"sd_J", hs->sd * L->kT_J});
    cJSON *hist = NUMBERS(cJSON_AddObjectToObject(h, "histogram"), {"lo_kT", L->bin_lo},
                          {"hi_kT", L->bin_hi});
    cJSON *counts = cJSON_AddArrayToObject(hist, "counts");
    for (size_t k = 0; k < L->n_bins; k++)
        cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)L->bins[k]));
    if (png) cJSON_AddStringToObject(hist, "png", png);
    if (L->segments > 1) {
        const th_heat_stats *ws = &L->work;
        cJSON *w = NUMBERS(cJSON_AddObjectToObject(root, "work_per_sample"), {"kT", ws->mean},
                           {"sd_kT", ws->sd}, {"min_kT", ws->min}, {"max_kT", ws->max},
                           {"mean_J", L->work_J}, {"segments", L->segments});
        cJSON_AddStringToObject(w, "why", "switching the couplings and biases, V_new(x) - "
                                          "V_old(x), at switch-on and at every boundary "
                                          "between segments");
        NUMBERS(cJSON_AddObjectToObject(root, "first_law_per_sample"),
                {"potential_change_mean_kT", L->potential_change.mean},
                {"work_minus_heat_mean_kT", ws->mean - hs->mean},
                {"residual_mean_abs_kT", L->first_law_mean_abs},
                {"residual_max_abs_kT", L->first_law_max_abs});
    } else {
        cJSON *w = NUMBERS(cJSON_AddObjectToObject(root, "work_per_sample"), {"kT", 0});
        cJSON_AddStringToObject(w, "why", "the couplings and biases stay fixed while it "
                                          "computes, so V does not depend on time");
    }
    cJSON *e = NUMBERS(cJSON_AddObjectToObject(root, "entropy_production_per_sample"),
                       {"bath_kB", hs->mean}, {"bath_J_per_K", hs->mean * TH_BOLTZMANN_J_PER_K});
    cJSON_AddStringToObject(e, "note", "Q/T for an isothermal bath; the units' own entropy "
                                       "change is not included");
    NUMBERS(cJSON_AddObjectToObject(root, "time_per_sample_s"),
            {"noise_equilibration", L->noise_s}, {"computing", L->compute_s},
            {"steps_per_phase", L->ops.steps}, {"dt", L->dt});
}

char *th_energy_ledger_json(const th_energy_ledger *L, const char *model, const char *png)
{
    TH_ASSERT(L != NULL && model != NULL);
    const th_heat_stats *hs = &L->hs;
    const int cls = L->classifier;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "thermo_version", th_version());
    cJSON_AddStringToObject(root, "model", model);
    if (cls) {
        cJSON_AddStringToObject(root, "kind", "classifier");
        NUMBERS(root, {"classifications", hs->count}, {"trajectories", L->trajectories},
                {"top1", L->top1}, {"seed", L->seed}, {"temperature_K", L->temperature_K});
    } else {
        NUMBERS(root, {"samples", hs->count}, {"seed", L->seed},
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
        gen_json(root, L, png);
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
    /* cJSON passes a failed allocation up as NULL to every later call. */
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) th__fail(TH_ENOMEM, "out of memory for the ledger's JSON");
    return text;
}

