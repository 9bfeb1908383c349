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
 * on-site, bias and drive force, 2 for the step, 1 for the midpoint, 7 for the
 * force at the midpoint, 1 for the heat and 2 for the work. Each is counted as
 * one MAC. */
#define TH_ENERGY_ONSITE_MACS 20

/* The arithmetic one generated sample costs this simulation (th_gen_sample
 * with the fast kernel): steps = th_gen_steps(p) per phase. */
typedef struct th_energy_sim_ops {
    uint64_t steps;          /* steps of each phase (noise, then computing) */
    uint64_t coupling_pairs; /* th_model_coupling_pairs(m): MACs of one coupling force */
    uint64_t coupling_macs;  /* coupling_pairs * (steps + 1): one force a step of the
                                computing phase and one more at its end for the
                                coupling part of the heat; the uncoupled noise phase
                                has none */
    uint64_t onsite_macs;    /* TH_ENERGY_ONSITE_MACS * n * 2 steps: both phases */
    uint64_t normals;        /* Gaussian numbers drawn: n * 2 steps (not priced as MACs) */
} th_energy_sim_ops;

/* TH_EINVAL when m does not have p's n_visible + n_hidden units or a count
 * overflows. */
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

#ifdef __cplusplus
}
#endif
#endif /* THERMO_ENERGY_H */
