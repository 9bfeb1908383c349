/* book.c - the energy ledger of one computer: the heat it gives to the bath
 * set against the digital lines (a)-(d), each with its assumptions, and the
 * runs that measure the heat. Generators (PRL) and classifiers (PNAS) differ
 * only in the description of kind below and in a few sentences; the rest is
 * one code path.
 *
 * The thermodynamic side is measured: Q (in kT) per sample, the
 * integrator's heat (Sekimoto's, exact along each step), converted to joules as Q k_B T (science.md section 1). The digital
 * side is priced: MAC counts (th_energy_mlp_macs, th_energy_*_ops) at an
 * energy per MAC, and the CPU packages' own counters (RAPL). */
#include "core/internal.h"
#include "gen/gen_internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

const size_t th_energy_prl_network[TH_ENERGY_PRL_LAYERS] = {784, 128, 128, 784};

/* Samples are generated this many at a time, so that the memory for their
 * pictures stays bounded for any count (the heat is kept for all). */
#define CHUNK 1024

/* What a generator's ledger leaves out, as a paragraph and item by item;
 * programming: what of programming the couplings is left out, which a
 * protocol's books count in part (the work of its switches). */
#define GEN_LEFT_OUT_TEXT(programming)                                                      \
    "The heat is that of an ideal computer's units while they compute. Not counted: the "   \
    "control electronics and clocks, reading out the visible units, programming the "       \
    "couplings (" programming "), training, cooling or holding the bath at its "            \
    "temperature, the noise phase, and the simulation's own overheads (a CPU simulating "   \
    "the computer is lines (b) and (c), not the computer). The MAC lines count arithmetic " \
    "only: no memory traffic, data movement or idle power."
#define GEN_LEFT_OUT_LIST(programming)                                                      \
    {"control electronics and clocks", "reading out the visible units", programming,        \
     "training", "cooling or holding the bath at its temperature",                          \
     "the noise phase before computing",                                                    \
     "the simulation's own overheads: a CPU simulating the computer is lines b and c, not " \
     "the computer",                                                                        \
     "for the MAC lines: memory traffic, data movement, activations and idle power"}
static const char GEN_LEFT_OUT[] =
    GEN_LEFT_OUT_TEXT("writing them, switching them on and off for each sample");
static const char *const GEN_LEFT_OUT_ITEMS[] = GEN_LEFT_OUT_LIST(
    "programming the couplings: writing them, switching them on and off for each sample "
    "(work at fixed x, not measured)");
static const char PROTOCOL_LEFT_OUT[] =
    GEN_LEFT_OUT_TEXT("writing them, and switching them off after each sample; the work of "
                      "switching them on and between segments is counted above");
static const char *const PROTOCOL_LEFT_OUT_ITEMS[] = GEN_LEFT_OUT_LIST(
    "programming the couplings: writing them, and switching them off after each sample (the "
    "work of switching them on and between segments is counted)");
#define N_GEN_LEFT_OUT (sizeof GEN_LEFT_OUT_ITEMS / sizeof GEN_LEFT_OUT_ITEMS[0])
static const char STUDENT_LEFT_OUT[] =
    "The heat is that of an ideal computer's free units while they compute. Not counted: the "
    "control electronics and clocks, clamping the input units to the image, reading out the "
    "output units, programming the couplings, training (and the teacher's), cooling or "
    "holding the bath at its temperature, and the simulation's own overheads (lines b and "
    "c). The MAC lines count arithmetic only: no memory traffic, data movement or idle "
    "power.";

th_energy_opts th_energy_opts_default(void)
{
    return (th_energy_opts){
        .temperature_K = 300.0,
        .time_unit_s = 1e-6,
        .mac_energy_J = 1e-12,
        .trajectories = TH_ENERGY_PNAS_TRAJECTORIES,
    };
}

const char *th_energy_grouped(uint64_t v, char *buf, size_t size)
{
    TH_ASSERT(buf != NULL && size > 0);
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

/* 784, 128, 10 -> "784-128-10". */
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

/* ------------------------------------------------------------- line (c) */

void th_energy_meter_start(th_energy_meter *mt, const char *root)
{
    TH_ASSERT(mt != NULL);
    memset(mt, 0, sizeof *mt);
    mt->root = root ? root : TH_RAPL_ROOT;
    if (th_rapl_read(mt->root, &mt->before) != TH_OK)
        snprintf(mt->why_not, sizeof mt->why_not, "%s", th_last_error());
}

void th_energy_meter_stop(th_energy_meter *mt)
{
    TH_ASSERT(mt != NULL);
    th_rapl_reading after;
    double joules = 0;
    if (mt->why_not[0]) return;
    if (th_rapl_read(mt->root, &after) != TH_OK ||
        th_rapl_joules(&mt->before, &after, &joules) != TH_OK) {
        snprintf(mt->why_not, sizeof mt->why_not, "%s", th_last_error());
        return;
    }
    mt->available = 1;
    mt->joules = joules;
    mt->zones = after.count;
}

/* ------------------------------------------------------------ the books */

/* What distinguishes the two kinds of computer in their books. */
typedef struct kind {
    int classifier;
    const size_t *net_a;   /* line (a)'s network, run steps_a times a sample; */
    size_t n_a, steps_a;   /* line (d)'s unless the caller names another */
    const char *pass;      /* one pass of line (d): "denoising step", "pass" */
    double dt;
    double paper_heat_kT;  /* the paper's heat per trajectory */
    size_t paper_trajectories;
} kind;

/* A line priced from its MAC count; its texts are written by the caller. */
static th_energy_line *mac_line(th_energy_ledger *L, int k, const char *id, double macs)
{
    th_energy_line *d = &L->line[k];
    *d = (th_energy_line){.id = id, .available = 1, .macs = macs,
                          .joules = macs * L->mac_energy_J};
    return d;
}

/* Line (d): the caller's network or line (a)'s. */
static void user_line(th_energy_ledger *L, const kind *k, uint64_t macs)
{
    char net[TH_ENERGY_MAX_LAYERS * 21]; /* 20 digits and a '-' a layer */
    network_text(L->network, L->n_layers, net, sizeof net);
    th_energy_line *d = mac_line(L, TH_ENERGY_LINE_USER, "d", (double)macs);
    const char *run = k->pass;
    const char *plural = L->steps == 1 ? "" : (run[strlen(run) - 1] == 's' ? "es" : "s");
    snprintf(d->label, sizeof d->label, "your network: %.80s MLP x %zu %s%s, %g J/MAC", net,
             L->steps, run, plural, L->mac_energy_J);
    snprintf(d->assumes, sizeof d->assumes,
             "the network you named (by default %s): a %s MLP, %zu %s%s, one MAC per weight "
             "at %g J; biases, activations and memory traffic not counted",
             k->classifier ? "the teacher" : "the paper's baseline", net, L->steps, run, plural,
             L->mac_energy_J);
}

/* Everything that does not depend on the heat: settings, lines (a), (b)
 * (but for its assumptions) and (d), times, the paper's ratio. L->ops is
 * set. */
static int begin(th_energy_ledger *L, const kind *k, const th_energy_opts *o)
{
    /* The prices and the clock are the caller's to choose, but a
     * temperature, time unit or MAC energy of 0 or less (or not a number)
     * makes every line of the books meaningless. */
    const double positive[3] = {o->temperature_K, o->time_unit_s, o->mac_energy_J};
    const char *const what[3] = {"temperature %g K", "time unit %g s", "MAC energy %g J"};
    for (int i = 0; i < 3; i++)
        if (!(positive[i] > 0) || !isfinite(positive[i])) {
            char setting[64];
            snprintf(setting, sizeof setting, what[i], positive[i]);
            return th__fail(TH_EINVAL, "%s: expected a finite value > 0", setting);
        }
    L->classifier = k->classifier;
    L->temperature_K = o->temperature_K;
    L->time_unit_s = o->time_unit_s;
    L->mac_energy_J = o->mac_energy_J;
    L->trajectories = k->classifier ? o->trajectories : 1;
    const size_t *net = o->network ? o->network : k->net_a;
    const size_t n_net = o->network ? o->n_layers : k->n_a;
    if (n_net > TH_ENERGY_MAX_LAYERS)
        return th__fail(TH_EINVAL, "a network of %zu layer widths: expected at most %d", n_net,
                        TH_ENERGY_MAX_LAYERS);
    memcpy(L->network, net, n_net * sizeof *net);
    L->n_layers = n_net;
    L->steps = o->steps ? o->steps : k->steps_a;
    uint64_t macs_a, macs_d;
    int rc;
    if ((rc = th_energy_mlp_macs(k->net_a, k->n_a, k->steps_a, &macs_a)) != TH_OK ||
        (rc = th_energy_mlp_macs(L->network, L->n_layers, L->steps, &macs_d)) != TH_OK)
        return rc;
    L->kT_J = th_energy_kT_joules(o->temperature_K);
    L->compute_s = (double)L->ops.steps * k->dt * o->time_unit_s;

    mac_line(L, TH_ENERGY_LINE_PAPER, "a", (double)macs_a);
    th_energy_line *b = mac_line(L, TH_ENERGY_LINE_SIM, "b",
                                 (double)L->ops.coupling_macs + (double)L->ops.onsite_macs);
    snprintf(b->label, sizeof b->label, "simulating this computer, coupling + on-site, "
             "%g J/MAC", L->mac_energy_J);
    L->line[TH_ENERGY_LINE_RAPL] = (th_energy_line){.id = "c"};
    user_line(L, k, macs_d);

    /* The paper's estimate from its own numbers alone (science.md sections
     * 2 and 3): line (a) at 1 pJ a MAC against its heat at 300 K. */
    th_energy_paper *pp = &L->paper;
    pp->macs = (double)macs_a;
    pp->mac_J = TH_ENERGY_PAPER_MAC_J;
    pp->heat_kT = k->paper_heat_kT;
    pp->trajectories = k->paper_trajectories;
    pp->temperature_K = TH_ENERGY_PAPER_TEMPERATURE_K;
    pp->kT_J = th_energy_kT_joules(TH_ENERGY_PAPER_TEMPERATURE_K);
    return th_energy_ratio(pp->macs * pp->mac_J,
                           pp->heat_kT * (double)pp->trajectories * pp->kT_J, &pp->ratio);
}

/* The heat's statistics and histogram, line (c), the ratios, and the check
 * that the settings gave finite numbers. */
static int finish(th_energy_ledger *L, const double *heat, size_t n, const th_energy_meter *mt)
{
    const size_t bins = (size_t)ceil(sqrt((double)n));
    L->n_bins = bins < TH_ENERGY_MIN_BINS   ? TH_ENERGY_MIN_BINS
                : bins > TH_ENERGY_MAX_BINS ? TH_ENERGY_MAX_BINS
                                            : bins;
    int rc;
    if ((rc = th_heat_stats_compute(heat, n, &L->hs)) != TH_OK ||
        (rc = th_histogram_bin(heat, n, L->n_bins, &L->bin_lo, &L->bin_hi, L->bins)) != TH_OK)
        return rc;
    L->heat_J = L->hs.mean * L->kT_J;

    th_energy_line *c = &L->line[TH_ENERGY_LINE_RAPL];
    snprintf(c->label, sizeof c->label, "this CPU's packages over the run (RAPL)");
    snprintf(c->assumes, sizeof c->assumes,
             "the energy counters of the CPU packages (RAPL, %s) read before and after "
             "sampling, divided by the samples: idle power and other processes included; "
             "memory, disks, fans and power supply losses not", mt ? mt->root : TH_RAPL_ROOT);
    if (mt && mt->available) {
        c->available = 1;
        c->joules = mt->joules / (double)n;
        L->rapl_J = mt->joules;
        L->rapl_zones = mt->zones;
    } else {
        snprintf(c->why_not, sizeof c->why_not, "%s", mt ? mt->why_not : "not measured");
    }
    for (size_t k = 0; k < TH_ENERGY_N_LINES; k++) {
        th_energy_line *d = &L->line[k];
        if (d->available)
            d->ratio_defined = th_energy_ratio(d->joules, L->heat_J, &d->ratio) == TH_OK;
    }
    /* Extreme temperatures, time units or MAC energies overflow a double or
     * vanish; books with inf in them are worse than none. A ratio may be
     * undefined only because the heat is not positive. */
    int finite = isfinite(L->heat_J) && isfinite(L->kT_J) && isfinite(L->compute_s) &&
                 L->compute_s > 0 && isfinite(L->heat_J / L->compute_s) &&
                 isfinite(L->hs.mean * TH_BOLTZMANN_J_PER_K);
    for (size_t k = 0; k < TH_ENERGY_N_LINES; k++)
        finite &= isfinite(L->line[k].joules) &&
                  !(L->line[k].available && L->heat_J > 0 && !L->line[k].ratio_defined);
    if (!finite) {
        L->overflow = 1;
        return th__fail(TH_EINVAL, "temperature %g K, time unit %g s, MAC energy %g J: an "
                        "energy, time or power overflows or vanishes", L->temperature_K,
                        L->time_unit_s, L->mac_energy_J);
    }
    return TH_OK;
}

static int begin_gen(const th_model *m, const th_gen_params *p, const th_energy_opts *o,
                     th_energy_ledger *L)
{
    TH_ASSERT(m != NULL && p != NULL && o != NULL && L != NULL);
    memset(L, 0, sizeof *L);
    int rc = th_energy_gen_ops(m, p, &L->ops);
    const kind k = {.classifier = 0, .net_a = th_energy_prl_network,
                    .n_a = TH_ENERGY_PRL_LAYERS, .steps_a = TH_ENERGY_PRL_STEPS,
                    .pass = "denoising step", .dt = p->dt,
                    .paper_heat_kT = TH_ENERGY_PRL_HEAT_KT, .paper_trajectories = 1};
    if (rc != TH_OK || (rc = begin(L, &k, o)) != TH_OK) return rc;
    L->noise_s = L->compute_s; /* both phases last th_gen_steps(p) steps */
    L->seed = p->seed;
    L->dt = p->dt;
    L->n_units = p->n_visible + p->n_hidden;
    L->segments = p->segments;
    L->left_out = p->segments > 1 ? PROTOCOL_LEFT_OUT : GEN_LEFT_OUT;
    L->left_out_items = p->segments > 1 ? PROTOCOL_LEFT_OUT_ITEMS : GEN_LEFT_OUT_ITEMS;
    L->n_left_out = N_GEN_LEFT_OUT;

    const th_energy_sim_ops *ops = &L->ops;
    const double mac_J = L->mac_energy_J;
    char net[TH_ENERGY_MAX_LAYERS * 21], pairs[32], normals[32], evals[96];
    network_text(k.net_a, k.n_a, net, sizeof net);
    if (p->segments > 1)
        snprintf(evals, sizeof evals, "%llu computing steps + 2 for the heat in each of its %zu "
                 "segments", (unsigned long long)ops->steps, p->segments);
    else
        snprintf(evals, sizeof evals, "%llu computing steps + 2 for the heat",
                 (unsigned long long)ops->steps);
    th_energy_line *a = &L->line[TH_ENERGY_LINE_PAPER], *b = &L->line[TH_ENERGY_LINE_SIM];
    snprintf(a->label, sizeof a->label, "paper's baseline %s MLP x %zu steps, %g J/MAC", net,
             k.steps_a, mac_J);
    snprintf(a->assumes, sizeof a->assumes,
             "the PRL paper's baseline: a %s MLP denoiser run for %zu steps, one MAC per "
             "weight at %g J; biases, activations and memory traffic not counted", net,
             k.steps_a, mac_J);
    snprintf(b->assumes, sizeof b->assumes,
             "simulating the computer digitally: %s coupled pairs x %llu force evaluations "
             "(%s) plus %d MACs per unit per step for the "
             "on-site update in both phases, at %g J per MAC; the %s Gaussian numbers and "
             "memory traffic not counted", th_energy_grouped(ops->coupling_pairs, pairs, 32),
             (unsigned long long)(ops->steps + 2 * (p->segments > 1 ? p->segments : 1)), evals,
             TH_ENERGY_ONSITE_MACS, mac_J, th_energy_grouped(ops->normals, normals, 32));
    return TH_OK;
}

static int begin_student(const th_model *m, const th_student_params *p, const size_t *teacher,
                         size_t n_teacher, const th_energy_opts *o, th_energy_ledger *L)
{
    TH_ASSERT(m != NULL && p != NULL && teacher != NULL && o != NULL && L != NULL);
    memset(L, 0, sizeof *L);
    int rc = th_energy_student_ops(m, p, o->trajectories, &L->ops);
    const kind k = {.classifier = 1, .net_a = teacher, .n_a = n_teacher, .steps_a = 1,
                    .pass = "pass", .dt = p->dt, .paper_heat_kT = TH_ENERGY_PNAS_HEAT_KT,
                    .paper_trajectories = TH_ENERGY_PNAS_TRAJECTORIES};
    if (rc != TH_OK || (rc = begin(L, &k, o)) != TH_OK) return rc;
    L->left_out = STUDENT_LEFT_OUT;
    L->seed = p->seed;
    L->dt = p->dt;
    L->n_units = p->n_hidden + p->n_output;

    const th_energy_sim_ops *ops = &L->ops;
    const double mac_J = L->mac_energy_J;
    char net[TH_ENERGY_MAX_LAYERS * 21], normals[32];
    network_text(teacher, n_teacher, net, sizeof net);
    th_energy_line *a = &L->line[TH_ENERGY_LINE_PAPER], *b = &L->line[TH_ENERGY_LINE_SIM];
    snprintf(a->label, sizeof a->label, "the PNAS paper's comparison: the teacher %.60s, one "
             "forward pass, %g J/MAC", net, mac_J);
    snprintf(a->assumes, sizeof a->assumes,
             "the PNAS paper's comparison: one forward pass of the digital teacher (%s MLP) "
             "that the computer learned from, one MAC per weight at %g J; biases, activations "
             "and memory traffic not counted", net, mac_J);
    snprintf(b->assumes, sizeof b->assumes,
             "simulating the computer digitally: %zu trajectories of %llu steps, each with "
             "%llu free-unit coupled pairs x %llu force evaluations, the input field once "
             "(%zu x %zu), and %d MACs per free unit per step for the on-site update, at %g J "
             "per MAC; the %s Gaussian numbers and memory traffic not counted",
             L->trajectories, (unsigned long long)ops->steps,
             (unsigned long long)ops->coupling_pairs, (unsigned long long)(ops->steps + 2),
             p->n_input, p->n_hidden + p->n_output, TH_ENERGY_ONSITE_MACS, mac_J,
             th_energy_grouped(ops->normals, normals, sizeof normals));
    return TH_OK;
}

int th_energy_ledger_gen(const th_model *m, const th_gen_params *p, const th_energy_opts *o,
                         const double *heat, size_t n, const th_energy_meter *meter,
                         th_energy_ledger *L)
{
    TH_ASSERT(p != NULL);
    int rc = th__gen_single_segment(p, "th_energy_ledger_gen");
    if (rc == TH_OK) rc = begin_gen(m, p, o, L);
    return rc != TH_OK ? rc : finish(L, heat, n, meter);
}

/* TH_EINVAL unless pr has the settings' segments. */
static int protocol_matches(const th_gen_protocol *pr, const th_gen_params *p)
{
    const size_t S = th_gen_protocol_segments(pr);
    if (S == p->segments) return TH_OK;
    return th__fail(TH_EINVAL, "the model has %zu segment%s but the settings say %zu", S,
                    S == 1 ? "" : "s", p->segments);
}

/* A protocol's switching work, potential change and first-law residual
 * dV - (W - Q) per sample (science.md section 1: with the work done by the
 * switches, the first law of each trajectory). */
static int finish_protocol(th_energy_ledger *L, const double *heat, const double *work,
                           const double *dV, size_t n)
{
    if (!work || !dV)
        return th__fail(TH_EINVAL, "a protocol of %zu segments: its books need the work and "
                        "the potential change of every sample", L->segments);
    double sum = 0, worst = 0;
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(work[k]) || !isfinite(dV[k]))
            return th__fail(TH_EINVAL, "sample %zu: work %g kT, potential change %g kT: "
                            "expected finite values", k, work[k], dV[k]);
        const double r = fabs(dV[k] - (work[k] - heat[k]));
        sum += r;
        worst = fmax(worst, r);
    }
    int rc = th_heat_stats_compute(work, n, &L->work);
    if (rc == TH_OK) rc = th_heat_stats_compute(dV, n, &L->potential_change);
    if (rc != TH_OK) return rc;
    L->work_J = L->work.mean * L->kT_J;
    L->first_law_mean_abs = sum / (double)n;
    L->first_law_max_abs = worst;
    return TH_OK;
}

int th_energy_ledger_gen_protocol(const th_gen_protocol *pr, const th_gen_params *p,
                                  const th_energy_opts *o, const double *heat,
                                  const double *work, const double *potential_change,
                                  size_t n, const th_energy_meter *meter, th_energy_ledger *L)
{
    TH_ASSERT(pr != NULL && p != NULL);
    int rc = protocol_matches(pr, p);
    if (rc == TH_OK) rc = begin_gen(th_gen_protocol_segment(pr, 0), p, o, L);
    if (rc == TH_OK) rc = finish(L, heat, n, meter);
    if (rc == TH_OK && p->segments > 1)
        rc = finish_protocol(L, heat, work, potential_change, n);
    return rc;
}

int th_energy_ledger_student(const th_model *m, const th_student_params *p,
                             const size_t *teacher, size_t n_teacher,
                             const th_energy_opts *o, const double *heat, size_t n,
                             const th_energy_meter *meter, th_energy_ledger *L)
{
    int rc = begin_student(m, p, teacher, n_teacher, o, L);
    return rc != TH_OK ? rc : finish(L, heat, n, meter);
}

/* ------------------------------------------------------------- the runs */

/* th_gen_sample reports progress within one call; the caller's spans all
 * chunks. */
typedef struct chunk_progress {
    const th_energy_opts *o;
    size_t offset, total;
} chunk_progress;

static int chunk_progress_update(size_t done, size_t total, void *ctx)
{
    (void)total;
    const chunk_progress *cp = ctx;
    return cp->o->progress(cp->offset + done, cp->total, cp->o->progress_ctx);
}

int th_energy_run_gen_protocol(const th_gen_protocol *pr, const th_gen_params *p, size_t n,
                               const th_energy_opts *o, th_energy_ledger *L)
{
    TH_ASSERT(pr != NULL && p != NULL);
    /* The books but for the heat first: a bad setting fails before the run. */
    int rc = protocol_matches(pr, p);
    if (rc == TH_OK) rc = begin_gen(th_gen_protocol_segment(pr, 0), p, o, L);
    if (rc != TH_OK) return rc;
    if (n == 0) return th__fail(TH_EINVAL, "0 samples: expected at least 1");
    /* Switches do work only when there are segments to switch between; the
     * fixed computer's books stay those of its heat alone. */
    const int switching = p->segments > 1;
    double *heat = malloc(n * (switching ? 3 : 1) * sizeof *heat); /* (n) in kT, each */
    if (!heat) return th__fail(TH_ENOMEM, "out of memory for %zu samples", n);
    double *work = switching ? heat + n : NULL, *dV = switching ? heat + 2 * n : NULL;
    const size_t chunk = n < CHUNK ? n : CHUNK;
    float *pixels = malloc(chunk * p->n_visible * sizeof *pixels); /* (chunk, n_visible) */
    if (!pixels) {
        free(heat);
        return th__fail(TH_ENOMEM, "out of memory for %zu samples of %zu pixels", chunk,
                        p->n_visible);
    }
    th_energy_meter mt;
    th_energy_meter_start(&mt, o->rapl_root);
    chunk_progress cp = {o, 0, n};
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.progress = o->progress ? chunk_progress_update : NULL;
    so.progress_ctx = &cp;
    const double t0 = omp_get_wtime();
    for (size_t k0 = 0; k0 < n && rc == TH_OK; k0 += chunk) {
        so.first = k0;
        so.work = switching ? work + k0 : NULL;
        so.potential_change = switching ? dV + k0 : NULL;
        cp.offset = k0;
        rc = th_gen_protocol_sample(pr, p, n - k0 < chunk ? n - k0 : chunk, &so, pixels,
                                    heat + k0);
    }
    const double wall = omp_get_wtime() - t0;
    free(pixels);
    if (rc == TH_OK) {
        th_energy_meter_stop(&mt);
        rc = finish(L, heat, n, &mt);
    }
    if (rc == TH_OK && switching) rc = finish_protocol(L, heat, work, dV, n);
    L->wall_s = wall;
    free(heat);
    return rc;
}

int th_energy_run_gen(const th_model *m, const th_gen_params *p, size_t n,
                      const th_energy_opts *o, th_energy_ledger *L)
{
    TH_ASSERT(m != NULL && p != NULL);
    int rc = th__gen_single_segment(p, "th_energy_run_gen");
    if (rc != TH_OK) return rc;
    th_model *slot;
    const th_gen_protocol view = th__gen_protocol_view(&slot, m);
    return th_energy_run_gen_protocol(&view, p, n, o, L);
}

int th_energy_run_student(const th_model *m, const th_student_params *p,
                          const size_t *teacher, size_t n_teacher, const float *X,
                          const uint8_t *labels, size_t n, const th_energy_opts *o,
                          th_energy_ledger *L)
{
    int rc = begin_student(m, p, teacher, n_teacher, o, L);
    if (rc != TH_OK) return rc;
    TH_ASSERT(X != NULL && labels != NULL);
    if (n == 0) return th__fail(TH_EINVAL, "0 classifications: expected at least 1");
    float *mean = malloc(n * p->n_output * sizeof *mean); /* (n, n_output) */
    double *heat = malloc(n * sizeof *heat);              /* (n) in kT */
    if (!mean || !heat) {
        free(mean);
        free(heat);
        return th__fail(TH_ENOMEM, "out of memory for %zu classifications", n);
    }
    th_energy_meter mt;
    th_energy_meter_start(&mt, o->rapl_root);
    th_student_eval_opts eo = th_student_eval_opts_default();
    eo.trajectories = o->trajectories;
    eo.progress = o->progress;
    eo.progress_ctx = o->progress_ctx;
    const double t0 = omp_get_wtime();
    rc = th_student_classify(m, p, X, n, &eo, mean, NULL, heat);
    L->wall_s = omp_get_wtime() - t0;
    if (rc == TH_OK) {
        th_energy_meter_stop(&mt);
        /* th_student_classify gives the mean over the image's trajectories;
         * a classification costs the heat of all of them. */
        for (size_t k = 0; k < n; k++) heat[k] *= (double)o->trajectories;
        L->top1 = th_topk_accuracy(mean, n, p->n_output, labels, 1);
        rc = finish(L, heat, n, &mt);
    }
    free(mean);
    free(heat);
    return rc;
}
