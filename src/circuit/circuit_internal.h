/* circuit_internal.h - what the circuit modules (netlist.c, units.c, spu_net.c,
 * export.c, data.c, compare*.c) share. */
#ifndef THERMO_CIRCUIT_INTERNAL_H
#define THERMO_CIRCUIT_INTERNAL_H

#include "core/internal.h"

#define TH__NODE_LEN 16
/* Neuron inputs of one netlist. */
#define TH__CIRCUIT_MAX_INPUTS 64

/* The netlist (thermo/circuit.h). One copy of the computer is the
 * subcircuit "computer"; its ports are the clamped units' nodes, then "sw"
 * when the couplings are switched on during the run. */
struct th_circuit {
    th_circuit_info info;
    char name[256];             /* what the computer is, for the comments */
    char *notes;                /* the mapping, lines without the leading "* " (malloc'd) */
    th_circuit_element *el;     /* (n_el) the subcircuit */
    size_t n_el, cap_el;
    char (*port)[TH__NODE_LEN]; /* (n_ports) */
    size_t n_ports;
    int gated;                  /* "sw" is the last port */
    double *clamp_volts;        /* (copies, info.clamped) */
    char (*unit)[TH__NODE_LEN]; /* (info.units) the saved nodes of one copy */
    size_t *unit_index;         /* (info.units) overdamped: the model's unit behind each */
    size_t *clamp_index;        /* (info.clamped) overdamped: the clamped units, in order */
    double t_step;              /* output interval, s */
    double vntol, abstol, chgtol, reltol; /* ngspice's tolerances for these scales */
    char data_path[256];
};

/* An empty netlist for units saved nodes and n_ports ports; NULL: TH_ENOMEM
 * (reported). */
th_circuit *th__circuit_new(size_t units, size_t n_ports);
/* Appends an element (nodes NULL-terminated after the first two: n2, n3 may
 * be NULL). TH_ENOMEM or TH_EINVAL for a name or node too long. */
int th__circuit_add(th_circuit *c, th_element_kind kind, const char *name, const char *n0,
                    const char *n1, const char *n2, const char *n3, double value, double aux);
/* Appends formatted text to c->notes (a line per call, no newline needed). */
int th__circuit_note(th_circuit *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The checks shared by every kind: the limits of thermo/circuit.h. */
int th__circuit_check_limits(const th_circuit *c);
/* What write(f, obj) writes, as a malloc'd string; NULL with TH_ENOMEM
 * (reported, naming what) when memory runs out. */
char *th__circuit_render(void (*write)(FILE *f, const void *obj), const void *obj,
                         const char *what);
/* Copies the options' data path into c (the default when NULL). */
int th__circuit_set_data_path(th_circuit *c, const char *path);

/* A sample's statistics: mean and its standard error, variance (n - 1)
 * and its standard error from the fourth central moment m4,
 * sqrt((m4 - s^4 (n - 3) / (n - 1)) / n). */
typedef struct th__circuit_sample {
    size_t n;
    double mean, mean_se, var, var_se, m4;
} th__circuit_sample;

/* n values x, stride apart (n >= 2). */
void th__circuit_sample_of(const double *x, size_t n, size_t stride, th__circuit_sample *s);



/* A computer loaded from its file, ready to export or to simulate. */
typedef struct th__circuit_source {
    th_circuit_kind kind;
    char path[256];
    th_model *model;           /* generator; neuron (th_neuron_as_model) */
    th_gen_params gp;          /* generator */
    th_neuron_net *net;        /* neuron */
    th_neuron_params np;       /* neuron */
    double *A;                 /* SPU: (d, d) */
    size_t d;
    th_spu *spu;               /* SPU, programmed with o->spu */
} th__circuit_source;

int th__circuit_source_load(const char *path, const th_circuit_opts *o, th__circuit_source *src);
void th__circuit_source_clear(th__circuit_source *src);
/* The neuron inputs of o (the default single 0.5 when none): *z, *n. */
void th__circuit_inputs(const th_circuit_opts *o, const double **z, size_t *n);
/* The comparison's pieces (compare.c, compare_spu.c): a report of n
 * quantities for c, and its verdict once they are filled. */
th_circuit_report *th__circuit_report_new(const th_circuit *c, const char *model, size_t n);
void th__circuit_report_finish(th_circuit_report *r, const th_circuit_compare_opts *co);
int th__circuit_compare_spu(const th__circuit_source *src, const th_circuit *c,
                            const th_circuit_data *d, const th_circuit_compare_opts *co,
                            th_circuit_report *r);

#endif
