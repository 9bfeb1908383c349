/* report.c - the comparison as text and, for the SPU, as a chart. */
#include "circuit/circuit_internal.h"

#include <math.h>
#include <string.h>

static void write_pair(FILE *f, const th_circuit_quantity *q)
{
    fprintf(f, "  %-32s %12.5g +- %-10.3g %12.5g +- %-10.3g %7.2f\n", q->name, q->thermo,
            q->thermo_se, q->spice, q->spice_se, q->z);
}

static void write_mapping(FILE *f, const th_circuit_report *r)
{
    const th_circuit_info *I = &r->info;
    if (I->kind == TH_CIRCUIT_SPU)
        fprintf(f, "board     %zu cells, R = %.6g ohm, largest capacitance %.6g F, noise "
                "temperature kappa0 R / k_B = %.4g K\n", I->units, I->resistance,
                I->capacitance, I->temperature);
    else
        fprintf(f, "mapping   x = v / V0, V0 = %.6g V; t = t_phys / tau0, tau0 = %.6g s; C = %.6g "
                "F, R = %.6g ohm, T = %.6g K for kT = %.6g\n", I->v0, I->tau0, I->capacitance,
                I->resistance, I->temperature, I->kT);
}

static void write_generator(FILE *f, const th_circuit_report *r)
{
    const th_circuit_info *I = &r->info;
    fprintf(f, "compare   the generator %s: ngspice %zu copies, noise step %.6g s; thermo %zu "
            "trajectories, dt %.6g\n", r->model, r->spice_samples, I->noise_step,
            r->thermo_samples, r->thermo_dt);
    write_mapping(f, r);
    fprintf(f, "  %-32s %26s %26s %7s\n", "quantity", "thermo", "ngspice", "z");
    for (size_t k = 0; k < r->n_main; k++) write_pair(f, &r->q[k]);
    const double joules = TH_BOLTZMANN * I->temperature;
    fprintf(f, "heat      ngspice's %.5g kT a copy (path integral of the node voltages) is %.4g J "
            "at %.6g K;\n          the energy balance V(x_switch) - V(x_end) of the same nodes "
            "gives %.5g kT\n", r->q[0].spice, r->q[0].spice * joules, I->temperature,
            r->heat_balance);
    fprintf(f, "per unit  mean and variance at the end of the computing phase\n");
    fprintf(f, "  %-8s %22s %22s %6s %22s %22s %6s\n", "unit", "mean thermo", "mean ngspice", "z",
            "variance thermo", "variance ngspice", "z");
    for (size_t k = r->n_main; k + 1 < r->n; k += 2) {
        const th_circuit_quantity *m = &r->q[k], *v = &r->q[k + 1];
        fprintf(f, "  %-8s %10.4g +- %-8.2g %10.4g +- %-8.2g %6.2f %10.4g +- %-8.2g %10.4g +- "
                "%-8.2g %6.2f\n", m->name + strlen("mean "), m->thermo, m->thermo_se, m->spice,
                m->spice_se, m->z, v->thermo, v->thermo_se, v->spice, v->spice_se, v->z);
    }
}

static void write_neuron(FILE *f, const th_circuit_report *r)
{
    const th_circuit_info *I = &r->info;
    fprintf(f, "compare   the neuron network %s: ngspice %zu copies per input, noise step %.6g s "
            "(%.6g model time units); thermo %zu runs per input, dt %.6g\n", r->model,
            r->spice_samples, I->noise_step, I->noise_step / I->tau0, r->thermo_samples,
            r->thermo_dt);
    write_mapping(f, r);
    fprintf(f, "  %-32s %26s %26s %7s\n", "output of one run at t_f", "thermo", "ngspice", "z");
    for (size_t k = 0; k < r->n; k++) write_pair(f, &r->q[k]);
}

static void write_spu(FILE *f, const th_circuit_report *r)
{
    const th_circuit_info *I = &r->info;
    fprintf(f, "compare   the SPU board for %s: ngspice %zu batch windows, noise step %.6g s; "
            "thermo %zu states (exact OU transitions)\n", r->model, r->spice_samples,
            I->noise_step, r->thermo_samples);
    write_mapping(f, r);
    fprintf(f, "bandwidth TRNOISE's interpolated noise lowers the diagonal by up to %.2f%% here "
            "(-(7/15) kappa0 NT C^-2, first order in NT)\n", 100.0 * r->bandwidth_shift);
    fprintf(f, "  %-16s %12s %12s %24s %6s %24s %6s\n", "entry", "exact", "ngspice exp.",
            "thermo", "z", "ngspice", "z");
    for (size_t k = 0; k < r->n; k++) {
        const th_circuit_quantity *q = &r->q[k];
        if (k == r->n_main) fprintf(f, "  off the diagonal:\n");
        fprintf(f, "  %-16s %12.5g %12.5g %11.5g +- %-9.2g %6.2f %11.5g +- %-9.2g %6.2f\n",
                q->name, q->ideal, q->expected, q->thermo, q->thermo_se, q->z_thermo, q->spice,
                q->spice_se, q->z);
    }
    fprintf(f, "          exact: kappa0 R A^-1 (scaled), the readout's covariance; z of thermo "
            "against it, of ngspice against ngspice exp.\n");
    /* The diagonal on average, relative to the exact values: where the
     * bandwidth shift shows above the noise of single entries. */
    double ts = 0, ss = 0, es = 0, sse = 0;
    for (size_t k = 0; k < r->n_main; k++) {
        const th_circuit_quantity *q = &r->q[k];
        ts += q->thermo / q->ideal;
        ss += q->spice / q->ideal;
        es += q->expected / q->ideal;
        sse += (q->spice_se / q->ideal) * (q->spice_se / q->ideal);
    }
    const double d = (double)r->n_main;
    fprintf(f, "diagonal  on average / exact: thermo %.4f, ngspice %.4f (+- %.4f if the entries were "
            "independent), ngspice expected %.4f\n", ts / d, ss / d, sqrt(sse) / d, es / d);
}

static void write_report(FILE *f, const void *obj)
{
    const th_circuit_report *r = obj;
    switch (r->info.kind) {
    case TH_CIRCUIT_GENERATOR: write_generator(f, r); break;
    case TH_CIRCUIT_NEURON: write_neuron(f, r); break;
    case TH_CIRCUIT_SPU: write_spu(f, r); break;
    }
    fprintf(f, "verdict   %zu z-scores: mean z^2 %.3g, largest |z| %.3g, %.0f%% within 2 standard "
            "errors: %s (|z| <= %g and mean z^2 <= %g)\n", r->n_z, r->chi2, r->max_abs_z,
            r->n_z ? 100.0 * (double)r->within_2se / (double)r->n_z : 0.0,
            r->agree ? "AGREE" : "DISAGREE", r->threshold, r->chi2_limit);
}

char *th_circuit_report_text(const th_circuit_report *r)
{
    TH_ASSERT(r);
    return th__circuit_render(write_report, r, "report");
}

/* ------------------------------------------------------------------ chart */

/* A range [lo, hi] around [min, max] on multiples of a round step (1, 2 or
 * 5 times a power of ten, about a fifth of the span), with its ticks. */
static void nice_axis(double min, double max, th_chart_axis *a)
{
    const double span = max > min ? max - min : fabs(max) + 1e-300;
    const double raw = span / 5.0, p10 = pow(10.0, floor(log10(raw)));
    const double step = raw <= p10 ? p10 : raw <= 2 * p10 ? 2 * p10 : raw <= 5 * p10 ? 5 * p10 : 10 * p10;
    a->fixed = 1;
    a->lo = floor(min / step) * step;
    a->hi = ceil(max / step) * step;
    if (!(a->hi > a->lo)) a->hi = a->lo + step;
    a->ticks = (size_t)nearbyint((a->hi - a->lo) / step) + 1;
}

th_canvas *th_circuit_report_chart(const th_circuit_report *r, size_t width, size_t height)
{
    TH_ASSERT(r);
    if (r->info.kind != TH_CIRCUIT_SPU || r->n == 0) {
        th__fail(TH_EINVAL, "the chart is the SPU's covariance: this report is a %s's",
                 th_circuit_kind_name(r->info.kind));
        return NULL;
    }
    /* One series of one point per entry and side (a line series joins its
     * points), the first of each labelled; the ideal y = x and ngspice's
     * bandwidth-shifted expectation as lines through the sorted entries. */
    const size_t n = r->n, n_series = 2 + 2 * n;
    th_chart_series *S = calloc(n_series, sizeof *S);
    double *line = malloc(4 * n * sizeof *line);
    size_t *order = malloc(n * sizeof *order);
    th_canvas *cv = NULL;
    if (!S || !line || !order) {
        th__fail(TH_ENOMEM, "chart: out of memory");
        goto done;
    }
    for (size_t k = 0; k < n; k++) order[k] = k;
    for (size_t a = 1; a < n; a++) /* insertion sort by the exact value */
        for (size_t b = a; b > 0 && r->q[order[b]].ideal < r->q[order[b - 1]].ideal; b--) {
            size_t t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    double *lx = line, *ly = line + n, *ex = line + 2 * n, *ey = line + 3 * n;
    for (size_t k = 0; k < n; k++) {
        lx[k] = ly[k] = ex[k] = r->q[order[k]].ideal;
        ey[k] = r->q[order[k]].expected;
    }
    S[0] = (th_chart_series){.kind = TH_CHART_LINE, .x = lx, .y = ly, .n = n,
                             .rgb = {120, 120, 120}, .pen = 1, .label = "y = x: exact kappa0 R A^-1"};
    S[1] = (th_chart_series){.kind = TH_CHART_LINE, .x = ex, .y = ey, .n = n,
                             .rgb = {120, 120, 120}, .dashed = 1, .pen = 1,
                             .label = "what ngspice's noise bandwidth leaves"};
    for (size_t k = 0; k < n; k++) {
        const th_circuit_quantity *q = &r->q[k];
        S[2 + k] = (th_chart_series){.kind = TH_CHART_LINE, .x = &q->ideal, .y = &q->thermo,
                                     .n = 1, .rgb = {40, 90, 200}, .markers = 1,
                                     .err = &q->thermo_se,
                                     .label = k == 0 ? "thermo (exact OU steps)" : NULL};
        S[2 + n + k] = (th_chart_series){.kind = TH_CHART_LINE, .x = &q->ideal, .y = &q->spice,
                                         .n = 1, .rgb = {210, 40, 40}, .markers = 1,
                                         .err = &q->spice_se,
                                         .label = k == 0 ? "ngspice (TRNOISE)" : NULL};
    }
    /* One round range for both axes, so that y = x runs corner to corner. */
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (size_t k = 0; k < n; k++) {
        const th_circuit_quantity *q = &r->q[k];
        lo = fmin(lo, fmin(q->ideal, fmin(q->thermo - q->thermo_se, q->spice - q->spice_se)));
        hi = fmax(hi, fmax(q->ideal, fmax(q->thermo + q->thermo_se, q->spice + q->spice_se)));
    }
    th_chart_axis axis = {.numbers = 1, .grid = 1};
    nice_axis(lo, hi, &axis);
    char title[128];
    snprintf(title, sizeof title, "SPU, %zu cells: covariance of the cell voltages, ngspice vs "
             "thermo", r->info.units);
    th_chart ch = {
        .width = width, .height = height, .title = title,
        .x = axis, .y = axis,
        .series = S, .n_series = n_series, .legend = TH_LEGEND_TOP_LEFT};
    ch.x.title = "exact covariance entry kappa0 R (A^-1)_ij (V^2)";
    ch.y.title = "measured covariance entry (V^2), +- 1 standard error";
    cv = th_chart_draw(&ch);
done:
    free(S);
    free(line);
    free(order);
    return cv;
}
