/* thermo/circuit.h - thermodynamic computers as circuits: SPICE netlists that ngspice runs, and the comparison of ngspice's answer with thermo's own simulation.
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_CIRCUIT_H
#define THERMO_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include "thermo/core.h"
#include "thermo/io.h"
#include "thermo/classify.h"
#include "thermo/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================== circuits and SPICE (circuit) */

/* An overdamped unit as a circuit (science.md section 10): the node voltage
 * v = V0 x across a capacitor C to ground, a resistor R to ground for the
 * friction and the Johnson-Nyquist noise, current sources for the rest of the
 * force, so that
 *
 *     C dv/dt = -(1/R) V0 dV/dx(v / V0) + i_noise,
 *
 * which is the model's dx = -mu dV/dx dt + sqrt(2 mu kT) dW in the time
 * t_phys = tau0 t exactly when tau0 = mu R C and V0 = sqrt(k_B T / (C kT))
 * (T the resistors' temperature, kT the model's). The noise is ngspice's
 * TRNOISE: a white sample of rms NA every NT, linearly interpolated, with
 * NA = sqrt(2 k_B T / (R NT)) (two-sided density NA^2 NT = 2 k_B T / R).
 *
 * The SPU board (science.md section 5) is a circuit already: its RLC cells,
 * coupling capacitors and noise currents go into the netlist as they are. */

#define TH_BOLTZMANN 1.380649e-23 /* J/K, exact in the SI since 2019 */

/* The computers thermo exports. */
typedef enum th_circuit_kind {
    TH_CIRCUIT_GENERATOR = 0, /* a generative computer (thermo train): noise phase, then the
                                 couplings switched on for the computing phase */
    TH_CIRCUIT_NEURON = 1,    /* a network of thermodynamic neurons (thermo neuron train),
                                 its input z a clamped voltage */
    TH_CIRCUIT_SPU = 2        /* the SPU board programmed with a matrix (thermo linalg) */
} th_circuit_kind;

/* "generator", "neuron", "spu". */
const char *th_circuit_kind_name(th_circuit_kind kind);

/* What kind of computer the file path holds: a Matrix Market matrix (an SPU
 * problem), or a model file whose "thermo.kind" is "neuron" (or the older
 * "neuron-network") or which carries a generator's "gen.*" settings.
 * TH_EINVAL naming the file and its kind for anything else (a student, a
 * digital network, a samples file, an unknown kind); TH_EIO / TH_EFORMAT
 * when it cannot be read. */
int th_circuit_kind_of(const char *path, th_circuit_kind *kind);

/* What ngspice can run here, in one netlist: units of one copy of an
 * overdamped computer (a dense block of that many couplings costs ngspice a
 * sparse LU of that size at every time point), unit nodes in all copies,
 * elements in all copies (the file's lines), and time points (stop time over
 * the noise step). Beyond them the export fails with TH_EINVAL naming the
 * limit. The PRL generator (1296 units, 1,064,448 coupling sources) is past
 * the first two. */
#define TH_CIRCUIT_MAX_UNITS 256
#define TH_CIRCUIT_MAX_NODES 50000
#define TH_CIRCUIT_MAX_ELEMENTS 2000000
#define TH_CIRCUIT_MAX_POINTS 10000000

/* The settings of an export (numbers: the defaults). */
typedef struct th_circuit_opts {
    /* Overdamped computers (generator, neuron): the physical scales. */
    double capacitance;   /* C of every unit, F: 1e-12 */
    double temperature;   /* T of the resistors, K: 300 */
    double time_unit;     /* tau0 = mu R C, seconds per model time unit 1/mu: 1e-6 */
    /* TRNOISE's step NT in the computer's own time (model units, or seconds
     * for the SPU board): 0 = the model's dt (overdamped computers; thermo's
     * Euler-Maruyama step), or the board's fastest relaxation time / 20. */
    double noise_step;
    size_t copies;        /* independent copies of the computer (per input for neurons): 1 */
    /* Neurons: the inputs z, one group of copies each; NULL = the single
     * input 0.5. */
    const double *inputs;
    size_t n_inputs;
    /* Conditional generators: the class the label units hold: 0. */
    size_t label;
    /* The SPU: its parts (th_spu_params_default(); exact parts only) and the
     * simulated time of each copy, s: 0 = 100 tau (the slowest relaxation; run
     * the netlist several times rather than longer, docs/spice.md). */
    th_spu_params spu;
    double spu_time;
    /* The file ngspice's wrdata writes, as written into the netlist:
     * "thermo-spice.data". */
    const char *data_path;
} th_circuit_opts;

th_circuit_opts th_circuit_opts_default(void);

/* One element of the netlist. Currents of G, I and B (I=) sources flow from
 * node[0] through the source to node[1], SPICE's convention, so a positive
 * value takes current out of node[0]. */
typedef enum th_element_kind {
    TH_ELEMENT_R = 0,      /* resistor, ohm */
    TH_ELEMENT_C = 1,      /* capacitor, F (starts at 0 V) */
    TH_ELEMENT_L = 2,      /* inductor, H (starts at 0 A) */
    TH_ELEMENT_G = 3,      /* linear VCCS: value * (V(node[2]) - V(node[3])), siemens */
    TH_ELEMENT_NOISE = 4,  /* current source TRNOISE(value aux 0 0): rms A every aux s */
    TH_ELEMENT_CUBIC = 5,  /* B source, current value V(node[2])^3 + aux V(node[2])^2:
                              A/V^3 and A/V^2 */
    TH_ELEMENT_GATE = 6,   /* B source, voltage V(node[2]) * V(node[3]) at node[0] */
    TH_ELEMENT_I = 7       /* DC current source, A */
} th_element_kind;

typedef struct th_circuit_element {
    th_element_kind kind;
    char name[24];        /* the SPICE name, its first letter the element's */
    char node[4][16];     /* node[2], node[3]: the controlling nodes of G, CUBIC, GATE */
    double value;
    double aux;
} th_circuit_element;

/* A netlist: one copy of the computer as a subcircuit, its copies, the
 * clamped inputs, the analysis and what is saved. Opaque. */
typedef struct th_circuit th_circuit;

/* The numbers a netlist was built with; times in seconds. */
typedef struct th_circuit_info {
    th_circuit_kind kind;
    size_t units;          /* moving units (cells for the SPU) of one copy */
    size_t clamped;        /* clamped units of one copy (voltage sources) */
    size_t copies;         /* copies in the netlist */
    size_t elements;       /* elements of one copy (the subcircuit) */
    double v0;             /* volts per model unit (1 for the SPU: its states are volts) */
    double resistance;     /* R, ohm */
    double capacitance;    /* C, F (SPU: the largest Maxwell diagonal) */
    double tau0;           /* seconds per model time unit (1 for the SPU) */
    double kT;             /* the model's (SPU: kappa0 R, in J) */
    double temperature;    /* K: of the resistors, or the SPU's noise temperature kappa0 R / k_B */
    double noise_step;     /* NT, s */
    double noise_rms;      /* NA, A */
    double t_switch;       /* couplings switched on (generator), s; 0 = none */
    double t_stop;         /* end of the transient, s */
    double model_dt;       /* the model's own time step, model units (SPU: 0) */
} th_circuit_info;

/* The netlist of a computer: the generator or neuron model file, or the
 * Matrix Market matrix of an SPU problem (kind from th_circuit_kind_of).
 * TH_EINVAL naming the reason when it cannot be exported: an unknown kind, a
 * computer past the limits above, a matrix no capacitor network realises (the
 * row at fault, th_spu_realise), bad options. *out: free with
 * th_circuit_free. */
int th_circuit_export(const char *model_path, const th_circuit_opts *o, th_circuit **out);

/* The netlist of one overdamped computer given as a model (any th_model):
 * the units with clamped[i] nonzero are voltage sources at clamp_values (copies,
 * n_clamped) model units (copy k's clamped units, in unit order; NULL = all
 * 0), the others RC units. t_noise model time units of uncoupled wells (no
 * couplings, no biases: the generator's noise phase; 0 = none), then t_run
 * with everything on; dt the model's step. name describes the computer in
 * the netlist's comments. */
int th_circuit_from_model(const th_model *m, const unsigned char *clamped,
                          const double *clamp_values, double dt, double t_noise, double t_run,
                          const th_circuit_opts *o, th_circuit_kind kind, const char *name,
                          th_circuit **out);

/* The netlist of a programmed SPU board (RLC model, exact parts): cells of a
 * self capacitance, an inductor, a resistor and a TRNOISE current each,
 * coupling capacitors between them, as s->cap describes. */
int th_circuit_from_spu(const th_spu *s, const th_circuit_opts *o, const char *name,
                        th_circuit **out);

void th_circuit_free(th_circuit *c);

void th_circuit_get_info(const th_circuit *c, th_circuit_info *info);
/* The elements of one copy (the subcircuit), in the order written. */
const th_circuit_element *th_circuit_elements(const th_circuit *c, size_t *count);
/* The element named name, or NULL. */
const th_circuit_element *th_circuit_find(const th_circuit *c, const char *name);
/* The vector names ngspice writes for unit i of copy k ("x3.u12", the
 * subcircuit's node), i over the moving units (cells) in unit order;
 * out has room for 40 characters. */
void th_circuit_vector_name(const th_circuit *c, size_t k, size_t i, char *out);

/* The netlist as text (malloc'd; NULL: TH_ENOMEM), and written atomically
 * to path. */
char *th_circuit_text(const th_circuit *c);
int th_circuit_write(const char *path, const th_circuit *c);

/* What ngspice's TRNOISE (a white sample every noise_step s, linearly
 * interpolated: spectrum 2 kappa0 sinc^4(f NT)) leaves of the SPU's
 * stationary readout covariance, to first order in NT: th_spu_stationary's
 * covariance minus (7/15) kappa0 NT Ro C^-2 Ro^T, Ro the readout of the cell
 * voltages, C the Maxwell matrix (docs/spice.md). expected (d, d), V^2. */
int th_circuit_spu_expected(const th_spu *s, double noise_step, double *expected);

/* The neuron network as a model: unit 0 is the input (clamp it at z), units
 * 1 .. N the neurons layer by layer, J2, J3, J4 of p, biases -b, couplings
 * J = -w between adjacent layers and J_{0,i} = -W_i to the first layer, so
 * that its potential is the network's (classify.h) up to a constant. */
int th_neuron_as_model(const th_neuron_params *p, const th_neuron_net *net, th_model **out);

/* ----------------------------------------- ngspice against thermo (compare) */

/* ngspice's output (wrdata with wr_singlescale and wr_vecnames: a line of
 * vector names, then one row of numbers per time point), the columns of the
 * netlist's saved vectors, in the order of th_circuit_vector_name over copies
 * and units. A netlist run n_runs times (each ngspice run draws new noise)
 * gives n_runs files with the same time grid, read together: n_runs x copies
 * independent copies. TH_EIO / TH_EFORMAT naming the file, line and column,
 * or the file whose time grid differs. */
typedef struct th_circuit_data {
    size_t n_runs, n_rows, n_vectors;
    double *time;   /* (n_rows) s */
    double *v;      /* (n_runs, n_rows, n_vectors) volts */
} th_circuit_data;

int th_circuit_data_read(const char *const *paths, size_t n_runs, const th_circuit *c,
                         th_circuit_data **out);
void th_circuit_data_free(th_circuit_data *d);

/* One compared quantity: thermo's simulation and ngspice's run, each with
 * its standard error; where the ideal computer's value is known exactly (the
 * SPU's covariance) also that value and what ngspice should give with its
 * finite noise bandwidth (NAN where unknown). z: ngspice against what it
 * should give (else against thermo, with both errors); z_thermo: thermo
 * against the exact value (NAN without one). */
typedef struct th_circuit_quantity {
    char name[48];
    double ideal;
    double expected;
    double thermo, thermo_se;
    double spice, spice_se;
    double z, z_thermo;
} th_circuit_quantity;

/* The comparison of ngspice's run of a netlist with thermo's simulation of
 * the same computer. */
typedef struct th_circuit_report {
    th_circuit_info info;
    char model[256];
    size_t spice_samples;   /* copies (per input for neurons), or batch windows (SPU) */
    size_t thermo_samples;  /* trajectories (per input), or states averaged (SPU) */
    double thermo_dt;       /* thermo's step, model time units (SPU: its sampling interval, s) */
    size_t n;               /* quantities */
    th_circuit_quantity *q; /* (n); the first n_main are the headline ones */
    size_t n_main;
    /* generator: the heat by the energy balance V(x_switch) - V(x_end) from
     * ngspice's node voltages (kT, mean over copies), beside the path integral */
    double heat_balance;
    double bandwidth_shift; /* SPU: the largest relative shift of a diagonal entry */
    double chi2;            /* mean z^2 over every z and z_thermo */
    double max_abs_z;
    size_t within_2se;      /* of n_z values, |z| <= 2 */
    size_t n_z;
    double threshold;       /* agreement: max |z| <= threshold and chi2 <= chi2_limit */
    double chi2_limit;
    int agree;
} th_circuit_report;

typedef struct th_circuit_compare_opts {
    size_t trajectories;    /* thermo's trajectories (generator; neuron: per input): 4096 */
    double spu_time;        /* thermo's SPU averaging time per chain, s: 0 = 20000 tau */
    uint64_t seed;          /* thermo's noise: 1 */
    double threshold;       /* |z| above it is a disagreement: 4.5 */
    double chi2_limit;      /* mean z^2 above it is a disagreement: 3 (the SPU's entries
                               are correlated, so their mean z^2 spreads more than chi^2) */
} th_circuit_compare_opts;

th_circuit_compare_opts th_circuit_compare_opts_default(void);

/* Runs thermo's simulation of the computer c was exported from (model_path,
 * with the same options o) and compares it with ngspice's data:
 *  - generator: per-unit mean and variance at the end of the computing
 *    phase over the copies, and the heat of the computing phase (Sekimoto,
 *    -C integral of the restoring force times dv, from the node voltages),
 *    against trajectories of th_langevin_run from the same start;
 *  - neuron: mean and standard deviation of the output y = sum f_i x_i(t_f)
 *    of one run, for each input, against th_neuron_run at the same step;
 *  - SPU: every entry of the stationary covariance of the readout (V^2),
 *    batch means over each copy after 20 tau, against th_tla_inverse, with
 *    the exact kappa0 R A^-1 (scaled) and its bandwidth-shifted value.
 * *out: free with th_circuit_report_free. */
int th_circuit_compare(const char *model_path, const th_circuit_opts *o, const th_circuit *c,
                       const th_circuit_data *d, const th_circuit_compare_opts *co,
                       th_circuit_report **out);
void th_circuit_report_free(th_circuit_report *r);

/* The report as text: the mapping, both sides with their standard errors,
 * and the verdict. malloc'd; NULL: TH_ENOMEM. */
char *th_circuit_report_text(const th_circuit_report *r);

/* SPU: ngspice (red) and thermo (blue) against the exact covariance entries,
 * with error bars, the line y = x and the bandwidth-shifted expectation
 * (grey, dashed); title and axis titles. NULL for other kinds. */
th_canvas *th_circuit_report_chart(const th_circuit_report *r, size_t width, size_t height);

/* end of section circuit */

#ifdef __cplusplus
}
#endif
#endif /* THERMO_CIRCUIT_H */
