/* ledger.c - the energy ledger's arithmetic: heat in joules, the MACs of
 * digital networks and of the simulation, their ratio to the heat, the CPU's
 * RAPL energy counters, and the binning of a heat histogram.
 *
 * The comparison follows Whitelam's estimate (PRL 136, 037101, 2026;
 * science.md section 2): a digital denoiser priced at an energy per
 * multiply-accumulate against the heat the thermodynamic computer gives to
 * its bath, Q (in kT) * k_B T joules. */
#include "core/internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

double th_energy_kT_joules(double temperature_K)
{
    return TH_BOLTZMANN_J_PER_K * temperature_K;
}

/* a * b and a + b in uint64_t; 0 on overflow, 1 otherwise. */
static int mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}

static int add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > UINT64_MAX - a) return 0;
    *out = a + b;
    return 1;
}

int th_energy_mlp_macs(const size_t *sizes, size_t n_sizes, size_t steps, uint64_t *macs)
{
    TH_ASSERT(macs != NULL);
    *macs = 0;
    if (!sizes || n_sizes < 2)
        return th__fail(TH_EINVAL, "a network of %zu layer widths: expected at least 2 "
                        "(inputs and outputs)", sizes ? n_sizes : 0);
    if (steps == 0) return th__fail(TH_EINVAL, "steps = 0: expected at least 1");
    uint64_t per_pass = 0;
    for (size_t l = 0; l < n_sizes; l++) {
        if (sizes[l] == 0)
            return th__fail(TH_EINVAL, "layer %zu has width 0: expected at least 1", l);
        uint64_t layer;
        if (l + 1 < n_sizes && (!mul_u64(sizes[l], sizes[l + 1], &layer) ||
                                !add_u64(per_pass, layer, &per_pass)))
            return th__fail(TH_EINVAL, "the network's MAC count overflows 64 bits");
    }
    if (!mul_u64(per_pass, steps, macs))
        return th__fail(TH_EINVAL, "%zu steps of %llu MACs overflow 64 bits", steps,
                        (unsigned long long)per_pass);
    return TH_OK;
}

int th_energy_gen_ops(const th_model *m, const th_gen_params *p, th_energy_sim_ops *out)
{
    TH_ASSERT(m != NULL && p != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (m->n != th_gen_units(p))
        return th__fail(TH_EINVAL, "the model has %zu units: expected %zu visible + %zu hidden",
                        m->n, p->n_visible, p->n_hidden);
    const uint64_t steps = th_gen_steps(p);
    const uint64_t pairs = th_model_coupling_pairs(m);
    uint64_t unit_steps;
    /* The fast kernel evaluates the coupling force once a step and twice
     * more a run, for the energies at its start and end that its heat
     * telescopes to (langevin_kernel.inc, run_fast): steps + 2. A protocol
     * runs once per segment, each run with its own two: steps + 2 segments. */
    const uint64_t runs = p->segments > 1 ? p->segments : 1;
    if (!mul_u64(pairs, steps + 2 * runs, &out->coupling_macs) ||
        !mul_u64(m->n, 2 * steps, &unit_steps) ||
        !mul_u64(unit_steps, TH_ENERGY_ONSITE_MACS, &out->onsite_macs))
        return th__fail(TH_EINVAL, "the simulation's operation count overflows 64 bits");
    out->steps = steps;
    out->coupling_pairs = pairs;
    out->normals = unit_steps;
    return TH_OK;
}

int th_energy_student_ops(const th_model *m, const th_student_params *p, size_t trajectories,
                          th_energy_sim_ops *out)
{
    TH_ASSERT(m != NULL && p != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    int rc = th_student_params_validate(p);
    if (rc == TH_OK) rc = th_student_check_model(m, p);
    if (rc != TH_OK) return rc;
    if (trajectories == 0) return th__fail(TH_EINVAL, "trajectories = 0: expected at least 1");
    const size_t n_in = p->n_input, nf = p->n_hidden + p->n_output;
    uint64_t ff = 0; /* ordered coupled pairs among the free units */
    for (size_t i = n_in; i < m->n; i++)
        for (size_t j = n_in; j < m->n; j++) ff += i != j && th_model_groups_couple(m, i, j);
    const uint64_t steps = th_student_steps(p), M = trajectories;
    uint64_t per_traj, all_traj, field, unit_steps, onsite_one;
    /* Each trajectory evaluates the free units' coupling force steps + 2
     * times (as th_energy_gen_ops explains); the clamped inputs enter as the
     * field s . J_in, computed once per image for all its trajectories
     * (student_eval.c); the on-site update runs on the free units only. */
    if (!mul_u64(ff, steps + 2, &per_traj) || !mul_u64(per_traj, M, &all_traj) ||
        !mul_u64(n_in, nf, &field) || all_traj > UINT64_MAX - field ||
        !mul_u64(nf, steps, &unit_steps) || !mul_u64(unit_steps, M, &out->normals) ||
        !mul_u64(out->normals, TH_ENERGY_ONSITE_MACS, &onsite_one))
        return th__fail(TH_EINVAL, "the simulation's operation count overflows 64 bits");
    out->steps = steps;
    out->coupling_pairs = ff;
    out->coupling_macs = all_traj + field;
    out->onsite_macs = onsite_one;
    return TH_OK;
}

int th_energy_ratio(double digital_J, double heat_J, double *ratio)
{
    TH_ASSERT(ratio != NULL);
    *ratio = 0;
    if (!isfinite(digital_J) || digital_J < 0)
        return th__fail(TH_EINVAL, "digital energy %g J: expected a finite value >= 0",
                        digital_J);
    if (!isfinite(heat_J) || !(heat_J > 0))
        return th__fail(TH_EINVAL, "heat %g J: the ratio is undefined unless the heat is "
                        "positive and finite", heat_J);
    const double r = digital_J / heat_J;
    if (!isfinite(r))
        return th__fail(TH_EINVAL, "%g J / %g J overflows a double", digital_J, heat_J);
    *ratio = r;
    return TH_OK;
}

int th_heat_stats_compute(const double *heat, size_t n, th_heat_stats *out)
{
    TH_ASSERT(out != NULL);
    memset(out, 0, sizeof *out);
    if (!heat || n == 0) return th__fail(TH_EINVAL, "no heat values to summarise");
    double sum = 0, lo = heat[0], hi = heat[0];
    size_t negative = 0;
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(heat[k]))
            return th__fail(TH_EINVAL, "heat[%zu] = %g: expected a finite value", k, heat[k]);
        sum += heat[k];
        lo = fmin(lo, heat[k]);
        hi = fmax(hi, heat[k]);
        negative += heat[k] < 0;
    }
    const double mean = sum / (double)n;
    /* Two passes: the spread can be small against the mean, and the
     * one-pass formula would lose it to cancellation. */
    double ss = 0;
    for (size_t k = 0; k < n; k++) ss += (heat[k] - mean) * (heat[k] - mean);
    out->count = n;
    out->mean = mean;
    out->sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    out->min = lo;
    out->max = hi;
    out->negative = negative;
    return TH_OK;
}

/* ------------------------------------------------------------- histogram */

static double bin_edge(double lo, double hi, size_t k, size_t n_bins)
{
    return lo + (hi - lo) * (double)k / (double)n_bins;
}

int th_histogram_bin(const double *values, size_t n, size_t n_bins, double *lo, double *hi,
                     size_t *counts)
{
    TH_ASSERT(lo != NULL && hi != NULL);
    if (!values || n == 0) return th__fail(TH_EINVAL, "no values to bin");
    if (n_bins == 0 || !counts) return th__fail(TH_EINVAL, "0 bins: expected at least 1");
    double a = values[0], b = values[0];
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(values[k]))
            return th__fail(TH_EINVAL, "value %zu = %g: expected a finite value", k, values[k]);
        a = fmin(a, values[k]);
        b = fmax(b, values[k]);
    }
    if (!(a < b)) {
        a -= 0.5;
        b += 0.5;
    }
    memset(counts, 0, n_bins * sizeof *counts);
    for (size_t k = 0; k < n; k++) {
        const double v = values[k];
        /* A first guess by scaling, then a nudge so that the bin agrees with
         * the edges as documented, whatever the rounding of the guess. */
        double guess = (v - a) * (double)n_bins / (b - a);
        size_t j = guess <= 0 ? 0 : guess >= (double)n_bins ? n_bins - 1 : (size_t)guess;
        while (j > 0 && v < bin_edge(a, b, j, n_bins)) j--;
        while (j + 1 < n_bins && v >= bin_edge(a, b, j + 1, n_bins)) j++;
        counts[j]++;
    }
    *lo = a;
    *hi = b;
    return TH_OK;
}

/* ------------------------------------------------------------------ RAPL */

/* A whole number from a one-line sysfs file such as "123456\n". */
static int read_u64_file(const char *path, uint64_t *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int err = errno;
        return th__fail(TH_EIO, "%s: %s%s", path, strerror(err),
                        err == EACCES ? " (Linux lets only root read the RAPL counters, "
                                        "since the fix for CVE-2020-8694)"
                                      : "");
    }
    char buf[64];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) return th__fail(TH_EIO, "%s: read error", path);
    buf[len] = '\0';
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) buf[--len] = '\0';
    if (len == 0 || len > 20) return th__fail(TH_EFORMAT, "%s: expected a whole number", path);
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] < '0' || buf[i] > '9' || v > (UINT64_MAX - (uint64_t)(buf[i] - '0')) / 10)
            return th__fail(TH_EFORMAT, "%s: '%s' is not a whole number below 2^64", path, buf);
        v = 10 * v + (uint64_t)(buf[i] - '0');
    }
    *out = v;
    return TH_OK;
}

/* The zone's "name" file into name (size 32); the folder name when the file
 * is absent (very old kernels). */
static void read_zone_name(const char *dir, const char *folder, char name[32])
{
    char path[4300]; /* dir is shorter than 4200 (th_rapl_read) */
    snprintf(path, sizeof path, "%s/name", dir);
    snprintf(name, 32, "%s", folder);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char buf[32];
    if (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = '\0';
        if (buf[0]) snprintf(name, 32, "%s", buf);
    }
    fclose(f);
}

int th_rapl_read(const char *root, th_rapl_reading *out)
{
    TH_ASSERT(root != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(root, &st) != 0) return th__fail(TH_EIO, "%s: %s", root, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return th__fail(TH_EIO, "%s: not a folder", root);
    for (size_t z = 0; z < TH_RAPL_MAX_ZONES; z++) {
        char folder[32], dir[4200], path[4300];
        snprintf(folder, sizeof folder, "intel-rapl:%zu", z);
        int len = snprintf(dir, sizeof dir, "%s/%s", root, folder);
        if (len < 0 || (size_t)len >= sizeof dir)
            return th__fail(TH_EIO, "%.80s...: path too long", root);
        /* Zone numbers may have gaps (a socket taken offline). */
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        const size_t k = out->count;
        read_zone_name(dir, folder, out->name[k]);
        if (strncmp(out->name[k], "package", 7) != 0 && strcmp(out->name[k], folder) != 0) {
            memset(out->name[k], 0, sizeof out->name[k]);
            continue;
        }
        snprintf(out->zone[k], sizeof out->zone[k], "%s", folder);
        int rc;
        snprintf(path, sizeof path, "%s/energy_uj", dir);
        if ((rc = read_u64_file(path, &out->energy_uj[k])) != TH_OK) return rc;
        snprintf(path, sizeof path, "%s/max_energy_range_uj", dir);
        if ((rc = read_u64_file(path, &out->max_energy_range_uj[k])) != TH_OK) return rc;
        if (out->max_energy_range_uj[k] == 0 ||
            out->energy_uj[k] > out->max_energy_range_uj[k])
            return th__fail(TH_EFORMAT, "%s: energy_uj %llu outside its range 0 to "
                            "max_energy_range_uj %llu", dir,
                            (unsigned long long)out->energy_uj[k],
                            (unsigned long long)out->max_energy_range_uj[k]);
        out->count++;
    }
    if (out->count == 0)
        return th__fail(TH_EIO, "%s: no RAPL package zone (intel-rapl:N named package-N)",
                        root);
    return TH_OK;
}

int th_rapl_joules(const th_rapl_reading *before, const th_rapl_reading *after,
                   double *joules)
{
    TH_ASSERT(before != NULL && after != NULL && joules != NULL);
    *joules = 0;
    if (before->count != after->count)
        return th__fail(TH_EINVAL, "readings of %zu and %zu RAPL zones", before->count,
                        after->count);
    double uj = 0;
    for (size_t k = 0; k < before->count; k++) {
        const uint64_t e0 = before->energy_uj[k], e1 = after->energy_uj[k];
        const uint64_t range = before->max_energy_range_uj[k];
        if (strcmp(before->zone[k], after->zone[k]) != 0 ||
            range != after->max_energy_range_uj[k])
            return th__fail(TH_EINVAL, "RAPL zone %s before, %s after", before->zone[k],
                            after->zone[k]);
        if (e0 > range || e1 > range)
            return th__fail(TH_EINVAL, "RAPL zone %s: counter beyond max_energy_range_uj %llu",
                            before->zone[k], (unsigned long long)range);
        /* The counter runs 0 .. range and starts again from 0: a smaller
         * value after means it wrapped once. */
        uj += e1 >= e0 ? (double)(e1 - e0) : (double)(range - e0) + (double)e1;
    }
    *joules = 1e-6 * uj;
    return TH_OK;
}
