/* thermo/energy.h - the energy ledger: heat per sample, digital comparisons, ratios.
 * Part of the public API; include <thermo.h> for all of it. */
#ifndef THERMO_ENERGY_H
#define THERMO_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#include "thermo/core.h"
#include "thermo/io.h"
#include "thermo/gen.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================ energy ledger */

/* The energy books of a generative thermodynamic computer against digital
 * computing (science.md sections 2 and 7): heat in units of kT converted to
 * joules at a chosen temperature, multiply-accumulate (MAC) counts of dense
 * networks and of the simulation itself priced at an energy per MAC, their
 * ratio to the heat, the CPU's own energy counters (Linux powercap/RAPL), and
 * the binning and drawing of a heat histogram. Pure arithmetic: the heat
 * itself comes from th_gen_sample (Stratonovich, th_langevin_run). */

/* Boltzmann's constant in J/K, exact by definition of the SI since 2019
 * (BIPM SI Brochure, 9th edition; CODATA 2018). */
#define TH_BOLTZMANN_J_PER_K 1.380649e-23

/* k_B T in joules for a temperature in kelvin (300 K: 4.141947e-21 J). */
double th_energy_kT_joules(double temperature_K);

/* MACs of steps forward passes of a dense network with layer widths
 * sizes[0], ..., sizes[n_sizes - 1]: steps * sum_l sizes[l] * sizes[l + 1],
 * one MAC per weight; biases and activation functions are not counted. The
 * PRL baseline, 784-128-128-784 for 10 steps, is 2,170,880. TH_EINVAL for
 * fewer than 2 widths, a width or steps of 0, or a count beyond 2^64 - 1. */
int th_energy_mlp_macs(const size_t *sizes, size_t n_sizes, size_t steps, uint64_t *macs);

/* Multiplications per unit per step in the fused Euler-Maruyama update of
 * th_langevin_run's fast kernel (langevin_kernel.inc, fused_row): 7 for the
 * on-site, bias and drive force and 2 for the step, each counted as one MAC.
 * The heat costs nothing per step (it telescopes to two energies a run); the
 * work's 2 per unit are spent only on steps where a drive changes, which no
 * run priced here has. (Before the heat telescoped: 20.) */
#define TH_ENERGY_ONSITE_MACS 9

/* The arithmetic one generated sample costs this simulation (th_gen_sample
 * with the fast kernel): steps = th_gen_steps(p) per phase. */
typedef struct th_energy_sim_ops {
    uint64_t steps;          /* steps of each phase (noise, then computing) */
    uint64_t coupling_pairs; /* th_model_coupling_pairs(m): MACs of one coupling force */
    uint64_t coupling_macs;  /* coupling_pairs * (steps + 2): one force a step of the
                                computing phase and two more for the heat, the
                                energies at its start and end; the uncoupled noise
                                phase has none */
    uint64_t onsite_macs;    /* TH_ENERGY_ONSITE_MACS * n * 2 steps: both phases */
    uint64_t normals;        /* Gaussian numbers drawn: n * 2 steps (not priced as MACs) */
} th_energy_sim_ops;

/* TH_EINVAL when m does not have p's n_visible + n_hidden units or a count
 * overflows. A protocol of p->segments > 1 segments runs th_langevin_run
 * once per segment, each with its two force evaluations for the heat:
 * coupling_macs = coupling_pairs * (steps + 2 segments). */
int th_energy_gen_ops(const th_model *m, const th_gen_params *p, th_energy_sim_ops *out);

/* ratio = digital_J / heat_J. The ratio of an energy to a heat that is zero
 * or negative (heat taken from the bath on average) means nothing: then
 * TH_EINVAL, *ratio = 0, and th_last_error() says the ratio is undefined. */
int th_energy_ratio(double digital_J, double heat_J, double *ratio);

/* Summary of the heat per sample (kT): mean, sample standard deviation (n - 1;
 * 0 for one sample), range, and the number of samples with heat < 0 (heat
 * taken from the bath). TH_EINVAL for n = 0 or a non-finite value. */
typedef struct th_heat_stats {
    size_t count;
    double mean, sd, min, max;
    size_t negative;
} th_heat_stats;

int th_heat_stats_compute(const double *heat, size_t n, th_heat_stats *out);

/* Equal-width bins over [lo, hi] = [min, max] of values (n): bin k holds
 * edge(k) <= v < edge(k + 1), the last bin also v = hi, with
 * edge(k) = lo + (hi - lo) * k / n_bins. When every value is the same the
 * range is [v - 0.5, v + 0.5]. counts: (n_bins), summing to n. TH_EINVAL for
 * n or n_bins = 0 or a non-finite value. */
int th_histogram_bin(const double *values, size_t n, size_t n_bins, double *lo, double *hi,
                     size_t *counts);

/* A bar chart of counts (n_bins) over [lo, hi] on a width x height canvas,
 * without text: white background, black axes along the left and the bottom
 * with a tick at every bin edge, bars in steel blue, the tallest count
 * filling the plot's height; marks (n_marks, in the units of lo and hi, may
 * be NULL) as vertical lines where they fall inside [lo, hi], marks[0] red,
 * the others dark grey. NULL on failure (too small a canvas for the bins). */
th_canvas *th_picture_histogram(const size_t *counts, size_t n_bins, double lo, double hi,
                                const double *marks, size_t n_marks, size_t width,
                                size_t height);

/* The CPU packages' energy counters of Linux powercap (Intel RAPL, also
 * exposed for AMD): the top-level zones root/intel-rapl:N whose name starts
 * with "package" (a platform "psys" zone would count the packages twice;
 * sub-zones such as core or dram are parts or siblings of a package and are
 * left out), each with energy_uj, which counts microjoules up to
 * max_energy_range_uj and then wraps to 0. */
#define TH_RAPL_MAX_ZONES 16
typedef struct th_rapl_reading {
    size_t count;                                 /* zones read */
    char zone[TH_RAPL_MAX_ZONES][32];             /* folder names: "intel-rapl:0" */
    char name[TH_RAPL_MAX_ZONES][32];             /* zone names: "package-0" */
    uint64_t energy_uj[TH_RAPL_MAX_ZONES];        /* counters, microjoules */
    uint64_t max_energy_range_uj[TH_RAPL_MAX_ZONES];
} th_rapl_reading;

/* Reads every package zone under root (normally "/sys/class/powercap").
 * TH_EIO when there is none or one cannot be read (no such folder, a
 * counter readable by root only), TH_EFORMAT for a malformed value; the
 * message names the file. */
int th_rapl_read(const char *root, th_rapl_reading *out);

/* Joules used between two readings of the same zones: the sum over zones of
 * after - before, or max_energy_range_uj - before + after when a counter
 * wrapped (at most one wrap can be seen: the usual range, 262,143 J, lasts
 * 22 minutes at 200 W). TH_EINVAL when the zones differ or a counter lies
 * beyond its range. */
int th_rapl_joules(const th_rapl_reading *before, const th_rapl_reading *after,
                   double *joules);

/* ================================================ the ledger of a computer */

/* The papers' own numbers, against which every ledger checks itself.
 * Whitelam, "Generative thermodynamic computing", PRL 136, 037101 (2026;
 * science.md section 2): a digital denoiser, the 784-128-128-784 MLP run for
 * 10 steps (2,170,880 MACs) at about 1 pJ per multiply-accumulate, against
 * about 2.9e3 kT of heat per generated sample at 300 K: "above 1e10".
 * Whitelam, PNAS 2026 (science.md section 3): one forward pass of the digital
 * teacher against about 2.3e4 kT per trajectory, 10 trajectories per
 * classification: "above 1e7". */
#define TH_ENERGY_PAPER_MAC_J 1e-12
#define TH_ENERGY_PAPER_TEMPERATURE_K 300.0
#define TH_ENERGY_PRL_HEAT_KT 2.9e3
#define TH_ENERGY_PRL_STEPS 10
#define TH_ENERGY_PRL_LAYERS 4
extern const size_t th_energy_prl_network[TH_ENERGY_PRL_LAYERS]; /* 784, 128, 128, 784 */
#define TH_ENERGY_PNAS_HEAT_KT 2.3e4
#define TH_ENERGY_PNAS_TRAJECTORIES 10

/* Layer widths a digital network of line (d) may have. */
#define TH_ENERGY_MAX_LAYERS 64
/* The heat histogram has about sqrt(N) bins, at least MIN, at most MAX. */
#define TH_ENERGY_MIN_BINS 5
#define TH_ENERGY_MAX_BINS 40
/* Where Linux exposes the RAPL counters. */
#define TH_RAPL_ROOT "/sys/class/powercap"

/* 2170880 -> "2,170,880" into buf (size >= 27 holds any uint64_t); buf. */
const char *th_energy_grouped(uint64_t v, char *buf, size_t size);

/* The digital side of a ledger, one line each, per sample (a classification
 * for a classifier):
 *   (a) the paper's comparison: the PRL denoiser (generators) or one forward
 *       pass of the teacher the classifier learned from (PNAS);
 *   (b) this simulation's own arithmetic (th_energy_sim_ops);
 *   (c) the CPU packages' energy over the run, measured (RAPL);
 *   (d) a network the caller names, by default that of line (a). */
enum {
    TH_ENERGY_LINE_PAPER,
    TH_ENERGY_LINE_SIM,
    TH_ENERGY_LINE_RAPL,
    TH_ENERGY_LINE_USER,
    TH_ENERGY_N_LINES
};

typedef struct th_energy_line {
    const char *id;        /* "a" .. "d" */
    char label[160];       /* the assumptions in short, for a table of ratios */
    char assumes[TH_ENERGY_MAX_LAYERS * 21 + 256]; /* what the number takes for granted */
    int available;         /* 0: no number here (line c unread) */
    char why_not[512];     /* when not available */
    double macs;           /* MACs per sample; 0 for a measurement */
    double joules;         /* per sample: macs x mac_energy_J, or measured */
    int ratio_defined;     /* 0 when the mean heat is not positive */
    double ratio;          /* joules / heat_J (th_energy_ratio) */
} th_energy_line;

/* The paper's estimate, from its numbers alone: line (a)'s MACs priced at
 * TH_ENERGY_PAPER_MAC_J against heat_kT x trajectories x k_B x 300 K. */
typedef struct th_energy_paper {
    double macs;
    double mac_J;          /* TH_ENERGY_PAPER_MAC_J */
    double heat_kT;        /* per trajectory: PRL 2.9e3, PNAS 2.3e4 */
    size_t trajectories;   /* per sample: 1 (PRL), 10 (PNAS) */
    double temperature_K;  /* TH_ENERGY_PAPER_TEMPERATURE_K */
    double kT_J;           /* k_B x temperature_K */
    double ratio;          /* macs mac_J / (heat_kT trajectories kT_J) */
} th_energy_paper;

/* What a ledger is asked: the bath, the clock and the digital prices. */
typedef struct th_energy_opts {
    double temperature_K;   /* of the bath: 300 */
    double time_unit_s;     /* seconds per unit of time 1/mu: 1e-6 (electrical hardware) */
    double mac_energy_J;    /* joules per digital multiply-accumulate: 1e-12 */
    const size_t *network;  /* line (d)'s layer widths; NULL: line (a)'s network */
    size_t n_layers;
    size_t steps;           /* passes of it per sample; 0: 10 (PRL), 1 (classifier) */
    size_t trajectories;    /* classifiers: per classification: 10 */
    /* th_energy_run_*: the powercap folder of line (c) (NULL: TH_RAPL_ROOT),
     * and progress(done, total) in samples (images) done; nonzero stops. */
    const char *rapl_root;
    th_progress_fn progress;
    void *progress_ctx;
} th_energy_opts;

th_energy_opts th_energy_opts_default(void);

/* Line (c) and the reading it rests on: the RAPL counters read before a run
 * (start) and after it (stop). A reading that fails leaves the line
 * unavailable, with the reason, and is not an error of the run. */
typedef struct th_energy_meter {
    const char *root;       /* the powercap folder; the caller keeps it alive */
    th_rapl_reading before;
    int available;          /* both readings succeeded */
    char why_not[512];      /* otherwise th_last_error() of the failed reading */
    double joules;          /* used by the packages over the run */
    size_t zones;           /* package zones read */
} th_energy_meter;

void th_energy_meter_start(th_energy_meter *mt, const char *root);
void th_energy_meter_stop(th_energy_meter *mt);

/* The energy ledger of one computer over N samples (generations, or
 * classifications of trajectories runs each): its heat, converted at the
 * bath's temperature, against the digital lines, with every assumption
 * written beside its number. Heat in joules Q k_B T; the entropy produced in
 * the isothermal bath Q / T (hs.mean k_B); no work while the couplings stay
 * fixed. */
typedef struct th_energy_ledger {
    int classifier;          /* 0: a generator (PRL), 1: a classifier (PNAS) */
    double temperature_K, time_unit_s, mac_energy_J; /* as asked */
    size_t trajectories;     /* per sample: 1 for a generator */
    size_t network[TH_ENERGY_MAX_LAYERS]; /* line (d), resolved */
    size_t n_layers;
    size_t steps;            /* passes of it per sample, resolved */
    th_energy_sim_ops ops;   /* per sample */
    th_heat_stats hs;        /* heat per sample, kT (a classification: all its trajectories) */
    size_t bins[TH_ENERGY_MAX_BINS]; /* histogram of the heat over [bin_lo, bin_hi] kT */
    size_t n_bins;
    double bin_lo, bin_hi;
    double kT_J;             /* k_B T */
    double heat_J;           /* mean heat per sample, J */
    double noise_s;          /* physical time of a generator's noise phase (0: none) */
    double compute_s;        /* of the computing phase (one trajectory) */
    double rapl_J;           /* line (c) over all samples */
    size_t rapl_zones;
    th_energy_line line[TH_ENERGY_N_LINES];
    th_energy_paper paper;
    const char *left_out;    /* what the estimate does not count, as a paragraph */
    const char *const *left_out_items; /* and item by item (generators; else NULL) */
    size_t n_left_out;
    uint64_t seed;           /* of the samples' (classifications') noise */
    double dt;               /* the computer's time step, units of 1/mu */
    size_t n_units;          /* units that move: visible + hidden, or a classifier's free */
    double wall_s;           /* th_energy_run_*: seconds of sampling (classifying) */
    double top1;             /* th_energy_run_student: accuracy of the classifications */
    int overflow;            /* set, with TH_EINVAL, when temperature, time unit or MAC
                                energy make an energy, time or power overflow or vanish */
    /* A generator's segments (th_gen_params.segments; 0 for a classifier).
     * With more than one the couplings switch while it computes, and the
     * books also hold, per sample in kT (th_gen_sample_opts.work and
     * potential_change): the work the switches do on the computer, at
     * switch-on and at every boundary between segments; the potential change
     * V_end - V_start of the computing phase; and the first law's residual
     * dV - (W - Q), whose mean and largest magnitude are rounding (the
     * integrator's heat and work satisfy it exactly, th_langevin_run). One segment: all of them 0, and the
     * books are those of fixed couplings. */
    size_t segments;
    th_heat_stats work;
    th_heat_stats potential_change;
    double work_J;                 /* mean work per sample, J */
    double first_law_mean_abs;     /* mean |dV - (W - Q)|, kT */
    double first_law_max_abs;      /* largest |dV - (W - Q)|, kT */
} th_energy_ledger;

/* The ledger of generator m (p its settings) from heat (n) per sample in kT,
 * as th_gen_sample gives it; meter: line (c) around the run, or NULL (then
 * "not measured"). TH_EINVAL for a model that does not match p, a network of
 * line (d) that o->network and o->steps make invalid or overflow, n = 0 or
 * non-finite heat, or (with L->overflow) settings that overflow. */
int th_energy_ledger_gen(const th_model *m, const th_gen_params *p, const th_energy_opts *o,
                         const double *heat, size_t n, const th_energy_meter *meter,
                         th_energy_ledger *L);

/* The ledger of a time-dependent protocol pr (p->segments segments) from
 * heat, work and potential_change (n) per sample in kT, as
 * th_gen_protocol_sample gives them (its heat, opts.work,
 * opts.potential_change): the heat's books as above, and the work, the
 * potential change and the first law check. One segment: work and
 * potential_change are not used (may be NULL), and the books are
 * th_energy_ledger_gen's of its model to the bit. TH_EINVAL, besides the
 * failures above, for a protocol that does not match p, or work or
 * potential_change NULL or not finite with several segments. */
int th_energy_ledger_gen_protocol(const th_gen_protocol *pr, const th_gen_params *p,
                                  const th_energy_opts *o, const double *heat,
                                  const double *work, const double *potential_change,
                                  size_t n, const th_energy_meter *meter, th_energy_ledger *L);

/* The ledger of classifier m (p its settings; teacher: the digital teacher's
 * n_teacher layer widths, line a) from heat (n) per classification in kT:
 * the sum over its o->trajectories trajectories. Failures as above. */
struct th_student_params;
int th_energy_ledger_student(const th_model *m, const struct th_student_params *p,
                             const size_t *teacher, size_t n_teacher,
                             const th_energy_opts *o, const double *heat, size_t n,
                             const th_energy_meter *meter, th_energy_ledger *L);

/* Measure, then keep the books: n samples of generator m (th_gen_sample,
 * TH_GEN_SAMPLE_STREAM + k for sample k, in chunks that bound the memory of
 * their pictures) between two readings of the RAPL counters, then
 * th_energy_ledger_gen. Failures of th_gen_sample and TH_ENOMEM besides. */
int th_energy_run_gen(const th_model *m, const th_gen_params *p, size_t n,
                      const th_energy_opts *o, th_energy_ledger *L);

/* The same for a protocol (th_gen_protocol_sample, with the work and the
 * potential change when it has several segments), then
 * th_energy_ledger_gen_protocol. One segment: th_energy_run_gen's books. */
int th_energy_run_gen_protocol(const th_gen_protocol *pr, const th_gen_params *p, size_t n,
                               const th_energy_opts *o, th_energy_ledger *L);

/* The same for classifier m: images X (n, n_input), preprocessed as the
 * student was trained, classified by o->trajectories trajectories each
 * (th_student_classify); labels (n) give L->top1; the heat of a
 * classification is that of all its trajectories. */
int th_energy_run_student(const th_model *m, const struct th_student_params *p,
                          const size_t *teacher, size_t n_teacher, const float *X,
                          const uint8_t *labels, size_t n, const th_energy_opts *o,
                          th_energy_ledger *L);

/* The ledger as thermo energy reports it, from the bath's line to what the
 * estimate leaves out: the heat, work, entropy, time and power of a sample,
 * lines (a)-(d) with their assumptions, the table of ratios and the papers'
 * checks; png names the histogram's picture (NULL: none drawn). A string to
 * free(), or NULL with TH_ENOMEM's message in th_last_error(). */
char *th_energy_ledger_text(const th_energy_ledger *L, const char *png);

/* The ledger as the JSON of thermo energy --json, model the name it records
 * for the model (its file), png as above; free() it. NULL when out of
 * memory. */
char *th_energy_ledger_json(const th_energy_ledger *L, const char *model, const char *png);

#ifdef __cplusplus
}
#endif
#endif /* THERMO_ENERGY_H */
