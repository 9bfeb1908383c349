/* netlist.c - the netlist object and its SPICE text (science.md section 10).
 *
 * One copy of the computer is the subcircuit "computer"; the copies are
 * instances of it, each with its own TRNOISE sources (ngspice draws every
 * source's samples independently), so one run of ngspice gives as many
 * independent trajectories as there are copies. The clamped units are the
 * subcircuit's ports, driven by voltage sources at the top level; a
 * generator's couplings listen to gated copies of the unit voltages, V(sw)
 * V(u), with sw stepped from 0 to 1 V when the computing phase starts.
 *
 * The file is plain ngspice: a comment block saying how to run it and what
 * every number means, the subcircuit, the instances, .options with
 * tolerances scaled to these tiny voltages and currents (ngspice's defaults,
 * 1 uV and 1 pA, are the size of the signals here), .tran with uic (every
 * unit starts at 0 V, as thermo's runs start at x = 0), .save, and a
 * .control block that runs and writes the saved vectors with wrdata. */
#include "circuit/circuit_internal.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define DEFAULT_DATA "thermo-spice.data"
#define SAVES_PER_LINE 8

static const char *const KIND_NAMES[] = {"generator", "neuron", "spu"};

const char *th_circuit_kind_name(th_circuit_kind kind)
{
    TH_ASSERT((int)kind >= 0 && (int)kind <= TH_CIRCUIT_SPU);
    return KIND_NAMES[kind];
}

th_circuit_opts th_circuit_opts_default(void)
{
    th_circuit_opts o;
    memset(&o, 0, sizeof o);
    o.capacitance = 1e-12;
    o.temperature = 300.0;
    o.time_unit = 1e-6;
    o.noise_step = 0.0;
    o.copies = 1;
    o.spu = th_spu_params_default();
    o.spu_time = 0.0;
    o.data_path = DEFAULT_DATA;
    return o;
}

th_circuit *th__circuit_new(size_t units, size_t n_ports)
{
    th_circuit *c = calloc(1, sizeof *c);
    if (c) {
        c->unit = calloc(units ? units : 1, sizeof *c->unit);
        c->port = calloc(n_ports ? n_ports : 1, sizeof *c->port);
    }
    if (!c || !c->unit || !c->port) {
        th_circuit_free(c);
        th__fail(TH_ENOMEM, "netlist of %zu units: out of memory", units);
        return NULL;
    }
    c->info.units = units;
    c->n_ports = n_ports;
    c->reltol = 1e-4;
    return c;
}

void th_circuit_free(th_circuit *c)
{
    if (!c) return;
    free(c->notes);
    free(c->el);
    free(c->port);
    free(c->clamp_volts);
    free(c->unit);
    free(c->unit_index);
    free(c->clamp_index);
    free(c);
}

static int copy_name(char *dst, size_t size, const char *src, const char *what)
{
    if (!src) {
        dst[0] = '\0';
        return TH_OK;
    }
    if (strlen(src) >= size)
        return th__fail(TH_EINVAL, "netlist %s '%s' is longer than %zu characters", what, src,
                        size - 1);
    strcpy(dst, src);
    return TH_OK;
}

int th__circuit_add(th_circuit *c, th_element_kind kind, const char *name, const char *n0,
                    const char *n1, const char *n2, const char *n3, double value, double aux)
{
    if (!isfinite(value) || !isfinite(aux))
        return th__fail(TH_EINVAL, "element %s: value %g (%g) is not finite", name, value, aux);
    if (c->n_el == c->cap_el) {
        size_t cap = c->cap_el ? 2 * c->cap_el : 256;
        th_circuit_element *el = realloc(c->el, cap * sizeof *el);
        if (!el) return th__fail(TH_ENOMEM, "netlist of %zu elements: out of memory", cap);
        c->el = el;
        c->cap_el = cap;
    }
    th_circuit_element *e = &c->el[c->n_el];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->value = value;
    e->aux = aux;
    int rc = copy_name(e->name, sizeof e->name, name, "element name");
    const char *nodes[4] = {n0, n1, n2, n3};
    for (size_t k = 0; k < 4 && rc == TH_OK; k++)
        rc = copy_name(e->node[k], sizeof e->node[k], nodes[k], "node");
    if (rc != TH_OK) return rc;
    c->n_el++;
    c->info.elements = c->n_el;
    return TH_OK;
}

int th__circuit_note(th_circuit *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const size_t old = c->notes ? strlen(c->notes) : 0, add = strlen(line);
    char *notes = realloc(c->notes, old + add + 2);
    if (!notes) return th__fail(TH_ENOMEM, "netlist comments: out of memory");
    memcpy(notes + old, line, add);
    notes[old + add] = '\n';
    notes[old + add + 1] = '\0';
    c->notes = notes;
    return TH_OK;
}

int th__circuit_set_data_path(th_circuit *c, const char *path)
{
    if (!path) path = DEFAULT_DATA;
    if (!path[0] || strpbrk(path, " \t\n\r\"'"))
        return th__fail(TH_EINVAL, "data path '%.100s': expected a non-empty file name without "
                        "spaces or quotes (ngspice's wrdata takes one word)", path);
    return copy_name(c->data_path, sizeof c->data_path, path, "data path");
}

int th__circuit_check_limits(const th_circuit *c)
{
    const th_circuit_info *I = &c->info;
    if (I->kind != TH_CIRCUIT_SPU && I->units > TH_CIRCUIT_MAX_UNITS)
        return th__fail(TH_EINVAL, "the %s has %zu moving units: too large for ngspice, which "
                        "takes at most %d units a copy here (a dense block of couplings costs "
                        "a sparse LU of that size at every time point)",
                        th_circuit_kind_name(I->kind), I->units, TH_CIRCUIT_MAX_UNITS);
    if (I->copies * (I->units + I->clamped) > TH_CIRCUIT_MAX_NODES)
        return th__fail(TH_EINVAL, "%zu copies of %zu units: %zu unit nodes, too many for one "
                        "ngspice run (at most %d): fewer copies", I->copies,
                        I->units + I->clamped, I->copies * (I->units + I->clamped),
                        TH_CIRCUIT_MAX_NODES);
    if (I->copies * I->elements > TH_CIRCUIT_MAX_ELEMENTS)
        return th__fail(TH_EINVAL, "%zu copies of %zu elements: %zu elements, too many for one "
                        "ngspice run (at most %d): fewer copies", I->copies, I->elements,
                        I->copies * I->elements, TH_CIRCUIT_MAX_ELEMENTS);
    const double points = I->t_stop / I->noise_step;
    if (!(points <= TH_CIRCUIT_MAX_POINTS))
        return th__fail(TH_EINVAL, "a run of %g s in noise steps of %g s: %.3g steps, more "
                        "than ngspice runs here (at most %d): a longer noise step or a shorter "
                        "run", I->t_stop, I->noise_step, points, TH_CIRCUIT_MAX_POINTS);
    return TH_OK;
}

/* --------------------------------------------------------------- access */

void th_circuit_get_info(const th_circuit *c, th_circuit_info *info)
{
    TH_ASSERT(c && info);
    *info = c->info;
}

const th_circuit_element *th_circuit_elements(const th_circuit *c, size_t *count)
{
    TH_ASSERT(c && count);
    *count = c->n_el;
    return c->el;
}

const th_circuit_element *th_circuit_find(const th_circuit *c, const char *name)
{
    TH_ASSERT(c && name);
    for (size_t k = 0; k < c->n_el; k++)
        if (strcmp(c->el[k].name, name) == 0) return &c->el[k];
    return NULL;
}

void th_circuit_vector_name(const th_circuit *c, size_t k, size_t i, char *out)
{
    TH_ASSERT(c && out && k < c->info.copies && i < c->info.units);
    snprintf(out, 40, "x%zu.%s", k, c->unit[i]);
}

/* ----------------------------------------------------------------- text */

static void write_element(FILE *f, const th_circuit_element *e)
{
    const char *const *n = (const char *const[]){e->node[0], e->node[1], e->node[2], e->node[3]};
    switch (e->kind) {
    case TH_ELEMENT_R:
        fprintf(f, "%s %s %s %.10g\n", e->name, n[0], n[1], e->value);
        break;
    case TH_ELEMENT_C:
    case TH_ELEMENT_L:
        fprintf(f, "%s %s %s %.10g IC=0\n", e->name, n[0], n[1], e->value);
        break;
    case TH_ELEMENT_G:
        fprintf(f, "%s %s %s %s %s %.10g\n", e->name, n[0], n[1], n[2], n[3], e->value);
        break;
    case TH_ELEMENT_NOISE:
        fprintf(f, "%s %s %s DC 0 TRNOISE(%.10g %.10g 0 0)\n", e->name, n[0], n[1], e->value,
                e->aux);
        break;
    case TH_ELEMENT_CUBIC:
        /* Products, not '^': a power of a negative voltage must stay real. */
        fprintf(f, "%s %s %s I = (%.10g)*V(%s)*V(%s)*V(%s)", e->name, n[0], n[1], e->value, n[2],
                n[2], n[2]);
        if (e->aux != 0.0) fprintf(f, " + (%.10g)*V(%s)*V(%s)", e->aux, n[2], n[2]);
        fputc('\n', f);
        break;
    case TH_ELEMENT_GATE:
        fprintf(f, "%s %s %s V = V(%s)*V(%s)\n", e->name, n[0], n[1], n[2], n[3]);
        break;
    case TH_ELEMENT_I:
        fprintf(f, "%s %s %s DC %.10g\n", e->name, n[0], n[1], e->value);
        break;
    }
}

static void write_comment_block(FILE *f, const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        const size_t len = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(f, len ? "* %.*s\n" : "*%.*s\n", (int)len, p);
        p = nl ? nl + 1 : NULL;
    }
}

static void write_header(FILE *f, const th_circuit *c)
{
    const th_circuit_info *I = &c->info;
    fprintf(f, "* thermo %s: the %s %s as a SPICE netlist\n", th_version(),
            th_circuit_kind_name(I->kind), c->name);
    fprintf(f, "*\n"
               "* Run it:  ngspice -b THIS_FILE   (ngspice 39 or later: Debian's 'ngspice')\n"
               "* It writes %s (wrdata): a line of vector names, then a row per %.6g s:\n"
               "* the time and the voltage of every unit node of every copy (xK.NODE).\n"
               "* Compare with thermo's own simulation: thermo spice compare with the same\n"
               "* options as thermo spice export (docs/spice.md).\n"
               "* Copies: %zu independent copies X0 .. X%zu of the subcircuit 'computer', each\n"
               "* with its own noise sources.\n*\n",
            c->data_path, c->t_step, I->copies, I->copies - 1);
    write_comment_block(f, c->notes);
    fprintf(f, "*\n");
}

static void write_top(FILE *f, const th_circuit *c)
{
    const th_circuit_info *I = &c->info;
    if (c->gated)
        /* A step of a thousandth of a noise step: the couplings come on
         * between two time points, as in thermo's run. */
        fprintf(f, "Vsw sw 0 PWL(0 0 %.10g 0 %.10g 1)\n", I->t_switch,
                I->t_switch + 1e-3 * I->noise_step);
    for (size_t k = 0; k < I->copies; k++) {
        for (size_t j = 0; j < I->clamped; j++)
            fprintf(f, "V%zu_%s k%zu_%s 0 DC %.10g\n", k, c->port[j], k, c->port[j],
                    c->clamp_volts[k * I->clamped + j]);
        fprintf(f, "X%zu", k);
        for (size_t j = 0; j < I->clamped; j++) fprintf(f, " k%zu_%s", k, c->port[j]);
        if (c->gated) fprintf(f, " sw");
        fprintf(f, " computer\n");
    }
}

static void write_analysis(FILE *f, const th_circuit *c)
{
    const th_circuit_info *I = &c->info;
    /* interp: output on the grid of t_step (multiples of the noise step),
     * whatever steps the integrator took in between. trtol: the step is set
     * by TRNOISE's breakpoints (at most NT) and tmax, not by the truncation
     * error estimate, which the noise's kinks at every breakpoint would
     * otherwise drive to many rejected tiny steps (twice the time points,
     * measured on the tiny generator). */
    fprintf(f, ".options interp reltol=%.3g vntol=%.6g abstol=%.6g chgtol=%.6g trtol=1000\n",
            c->reltol, c->vntol, c->abstol, c->chgtol);
    fprintf(f, ".tran %.10g %.10g 0 %.10g uic\n", c->t_step, I->t_stop, I->noise_step);
    char name[40];
    for (size_t k = 0; k < I->copies; k++)
        for (size_t i = 0; i < I->units; i++) {
            const size_t q = k * I->units + i;
            th_circuit_vector_name(c, k, i, name);
            fprintf(f, "%sv(%s)", q == 0 ? ".save " : (q % SAVES_PER_LINE ? " " : "\n+ "), name);
        }
    fprintf(f, "\n.control\n"
               "set wr_singlescale\n"
               "set wr_vecnames\n"
               "run\n"
               "wrdata %s all\n"
               "quit\n"
               ".endc\n"
               ".end\n",
            c->data_path);
}

static void write_netlist(FILE *f, const void *obj)
{
    const th_circuit *c = obj;
    write_header(f, c);
    fprintf(f, ".subckt computer");
    for (size_t j = 0; j < c->n_ports; j++) fprintf(f, " %s", c->port[j]);
    fprintf(f, "\n");
    for (size_t k = 0; k < c->n_el; k++) write_element(f, &c->el[k]);
    fprintf(f, ".ends computer\n\n");
    write_top(f, c);
    fprintf(f, "\n");
    write_analysis(f, c);
}

char *th__circuit_render(void (*write)(FILE *f, const void *obj), const void *obj,
                         const char *what)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (f) {
        write(f, obj);
        if (fclose(f) == 0) return text;
        free(text);
    }
    th__fail(TH_ENOMEM, "%s: out of memory", what);
    return NULL;
}

char *th_circuit_text(const th_circuit *c)
{
    TH_ASSERT(c);
    return th__circuit_render(write_netlist, c, "netlist text");
}

int th_circuit_write(const char *path, const th_circuit *c)
{
    TH_ASSERT(path && c);
    char *text = th_circuit_text(c);
    if (!text) return TH_ENOMEM;
    int rc = th_write_text_atomic(path, text);
    free(text);
    return rc;
}
