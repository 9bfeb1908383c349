/* cmd_simulate.c - thermo simulate: run a batch of Langevin trajectories of a
 * model built from options, and report the speed, the final states and the
 * heat (science.md section 1).
 *
 * The report ends with a check of the first law: V here does not depend on
 * time, so the heat given to the bath along a path is V(x0) - V(xT) in the
 * continuum limit, and their difference measures the discretisation. */
#include "thermo.h"
#include "tool.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define CMD "simulate"

/* The random couplings come from the far end of the stream space of the run's
 * seed; trajectories use streams 0, 1, ..., so the two never share noise. */
#define COUPLING_STREAM UINT64_MAX
/* Normals drawn per call when filling couplings: a multiple of 4, the values
 * per Philox block, so chunk c starts at block c * CHUNK / 4. */
#define COUPLING_CHUNK 1024
/* More threads than this is a typo, and (int) must hold the value. */
#define MAX_THREADS 4096
/* Progress callbacks per run: enough for a smooth bar, too few to cost. */
#define PROGRESS_CALLS 200

enum { PRESET_NONE = 0, PRESET_DEMO = 1 };
static const char *const preset_names[] = {"none", "demo", NULL};
/* Indexed by th_kernel and th_dtype. */
static const char *const kernel_names[] = {"fast", "reference", NULL};
static const char *const precision_names[] = {"f32", "f64", NULL};

/* Groups of units and which pairs of groups couple. */
typedef struct architecture {
    size_t n_groups;
    size_t size[TH_MAX_GROUPS];
    const char *name[TH_MAX_GROUPS];
    size_t n_links;
    size_t link[TH_MAX_GROUPS * TH_MAX_GROUPS][2];
} architecture;

/* Generative computer of Whitelam, PRL 136, 037101 (science.md section 2):
 * every visible-hidden and hidden-hidden pair couples, no visible-visible. */
static const architecture demo_architecture = {
    .n_groups = 2,
    .size = {784, 512},
    .name = {"visible", "hidden"},
    .n_links = 2,
    .link = {{0, 1}, {1, 1}},
};

typedef struct simulate_params {
    int preset;        /* PRESET_* */
    size_t units;      /* N */
    double coupling;   /* SIGMA: J_ij ~ N(0, SIGMA^2 / N) on every allowed pair */
    double J2, J4;     /* on-site coefficients, the same for every unit */
    double bias;       /* b_i, the same for every unit */
    double kT, mu, dt;
    size_t steps;
    size_t batch;      /* B trajectories */
    uint64_t seed;     /* noise and random couplings */
    size_t threads;    /* 0 = leave OpenMP and OpenBLAS as they are */
    int kernel;        /* th_kernel */
    int precision;     /* th_dtype */
    int quiet;
} simulate_params;

typedef struct simulate_result {
    double wall;                /* seconds spent in th_langevin_run */
    double x_mean, x_var;       /* over all units and trajectories at t_f */
    double heat_mean, heat_sd;  /* per trajectory, in kT */
    double law_mean, law_max;   /* |heat - (V(x0) - V(xT)) / kT| over trajectories */
} simulate_result;

static void set_defaults(simulate_params *p)
{
    *p = (simulate_params){
        .preset = PRESET_NONE,
        .units = 64,
        .coupling = 0.0,
        .J2 = 1.0,
        .J4 = 1.0,
        .bias = 0.0,
        .kT = 1.0,
        .mu = 1.0,
        .dt = 1e-3,
        .steps = 1000,
        .batch = 64,
        .seed = 1,
        .threads = 0,
        .kernel = TH_KERNEL_FAST,
        .precision = TH_F32,
        .quiet = 0,
    };
}

/* Values of science.md section 2; options given with the preset override
 * them, so they are applied before the options are read. */
static void apply_preset(simulate_params *p, int preset)
{
    p->preset = preset;
    if (preset != PRESET_DEMO) return;
    p->units = 784 + 512;
    p->coupling = 0.5;
    p->kT = 0.1;
    p->J2 = 1.0;
    p->J4 = 1.0;
    p->dt = 1e-3;
    p->steps = 2500;
    p->batch = 16;
}

static void print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo simulate [options]\n"
           "\n"
           "Runs B independent trajectories of N units under overdamped Langevin dynamics\n"
           "(Euler-Maruyama, all units from x = 0) in the potential\n"
           "    V(x) = sum_i (J2 x_i^2 + J4 x_i^4 + bias x_i) + sum_{i<j} J_ij x_i x_j\n"
           "and reports the speed, the final states and the heat given to the bath.\n"
           "Without a preset the units form one group in which every pair couples.\n"
           "\n"
           "options:\n");
    tool_print_options(opts, n_opts);
    printf("\n"
           "presets:\n"
           "  demo   the generative computer of science.md section 2: 784 visible + 512\n"
           "         hidden units, visible-hidden and hidden-hidden couplings (SIGMA 0.5),\n"
           "         kT 0.1, J2 = J4 = 1, dt 1e-3, 2500 steps, 16 trajectories. Other\n"
           "         options override these values; the number of units is fixed.\n"
           "\n"
           "Exit status: 0 on success, 1 when the run fails (a diverging simulation\n"
           "names the step), 2 for a command line that cannot be used.\n");
}

/* J_ij ~ N(0, SIGMA^2 / N) for every pair i < j that the pattern allows, in
 * row order, drawn from the dedicated coupling stream of the seed. */
static int draw_couplings(th_model *m, double sigma, uint64_t seed)
{
    double chunk[COUPLING_CHUNK];
    size_t next = COUPLING_CHUNK;
    uint64_t block = 0;
    double scale = sigma / sqrt((double)m->n);
    for (size_t i = 0; i < m->n; i++) {
        for (size_t j = i + 1; j < m->n; j++) {
            if (!th_model_groups_couple(m, i, j)) continue;
            if (next == COUPLING_CHUNK) {
                th_normal_fill_f64(seed, COUPLING_STREAM, block, chunk, COUPLING_CHUNK);
                block += COUPLING_CHUNK / 4;
                next = 0;
            }
            int rc = th_model_set_coupling(m, i, j, scale * chunk[next++]);
            if (rc != TH_OK) return rc;
        }
    }
    return TH_OK;
}

/* NULL after a library failure; th_last_error() says why. */
static th_model *build_model(const simulate_params *p, const architecture *arch)
{
    th_model *m = th_model_alloc(arch->n_groups, arch->size, (th_dtype)p->precision);
    if (!m) return NULL;
    int rc = TH_OK;
    for (size_t k = 0; k < arch->n_links && rc == TH_OK; k++)
        rc = th_model_couple(m, arch->link[k][0], arch->link[k][1]);
    if (rc == TH_OK) {
        m->kT = p->kT;
        m->mu = p->mu;
        th_model_set_onsite(m, p->J2, p->J4);
        for (size_t i = 0; i < m->n; i++) th_set(m->b, m->dtype, i, p->bias);
        if (p->coupling > 0) rc = draw_couplings(m, p->coupling, p->seed);
    }
    if (rc == TH_OK) rc = th_model_validate(m);
    if (rc != TH_OK) {
        th_model_free(m);
        return NULL;
    }
    return m;
}

/* Runs the batch and fills res; TH_OK or the library's status. */
static int run_batch(const simulate_params *p, const th_model *m, simulate_result *res)
{
    int rc = TH_ENOMEM;
    size_t b = p->batch;
    th_batch *s = th_batch_alloc(m, b, p->seed);
    double *v0 = calloc(b, sizeof *v0); /* (b) V(x0) */
    double *vT = calloc(b, sizeof *vT); /* (b) V(xT) */
    if (!s || !v0 || !vT) goto done;
    th_potential(m, NULL, 0.0, s->x, b, v0);

    tool_progress bar;
    tool_progress_begin(&bar, "steps", p->quiet);
    th_run r = th_run_default();
    r.n_steps = p->steps;
    r.dt = p->dt;
    r.kernel = (th_kernel)p->kernel;
    r.progress = tool_progress_update;
    r.progress_ctx = &bar;
    r.progress_every = p->steps / PROGRESS_CALLS > 0 ? p->steps / PROGRESS_CALLS : 1;
    double t0 = tool_now();
    rc = th_langevin_run(m, s, &r);
    res->wall = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK) goto done;

    th_potential(m, NULL, s->t, s->x, b, vT);

    /* Two passes: sum(x^2)/n - mean^2 would cancel catastrophically when
     * the mean is large against the spread (a strong bias). */
    size_t count = b * m->n;
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += th_get(s->x, s->dtype, i);
    res->x_mean = sum / (double)count;
    double ss = 0;
    for (size_t i = 0; i < count; i++) {
        double d = th_get(s->x, s->dtype, i) - res->x_mean;
        ss += d * d;
    }
    res->x_var = ss / (double)count;

    double hsum = 0;
    res->law_mean = res->law_max = 0;
    for (size_t k = 0; k < b; k++) {
        hsum += s->heat[k];
        double gap = fabs(s->heat[k] - (v0[k] - vT[k]) / m->kT);
        res->law_mean += gap / (double)b;
        if (gap > res->law_max) res->law_max = gap;
    }
    res->heat_mean = hsum / (double)b;
    double hss = 0;
    for (size_t k = 0; k < b; k++) {
        double d = s->heat[k] - res->heat_mean;
        hss += d * d;
    }
    /* Sample standard deviation: the spread of the heat of one trajectory. */
    res->heat_sd = b > 1 ? sqrt(hss / (double)(b - 1)) : 0.0;

done:
    free(vT);
    free(v0);
    th_batch_free(s);
    return rc;
}

static int result_is_finite(const simulate_result *res)
{
    return isfinite(res->x_mean) && isfinite(res->x_var) && isfinite(res->heat_mean) &&
           isfinite(res->heat_sd) && isfinite(res->law_mean) && isfinite(res->law_max);
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_report(const simulate_params *p, const architecture *arch,
                         const th_model *m, const simulate_result *res)
{
    printf("model     %zu %s", m->n, plural(m->n, "unit", "units"));
    if (arch->n_groups > 1) {
        printf(" in %zu groups:", arch->n_groups);
        for (size_t g = 0; g < arch->n_groups; g++)
            printf("%s %s %zu", g ? "," : "", arch->name[g], arch->size[g]);
    }
    printf("\n");
    size_t pairs = th_model_coupling_pairs(m) / 2;
    printf("          %zu coupling %s", pairs, plural(pairs, "pair", "pairs"));
    if (arch->n_groups > 1) {
        printf(" (");
        for (size_t k = 0; k < arch->n_links; k++)
            printf("%s%s-%s", k ? ", " : "", arch->name[arch->link[k][0]],
                   arch->name[arch->link[k][1]]);
        printf(")");
    }
    if (p->coupling > 0) printf(", J_ij ~ N(0, %g^2/%zu)", p->coupling, m->n);
    else printf(", all J_ij = 0");
    printf("\n");
    printf("          kT %g, mu %g, J2 %g, J4 %g, bias %g\n", p->kT, p->mu, p->J2, p->J4,
           p->bias);

    printf("run       %zu %s x %zu %s, dt %g, t_f %g, seed %llu\n", p->batch,
           plural(p->batch, "trajectory", "trajectories"), p->steps,
           plural(p->steps, "step", "steps"), p->dt, (double)p->steps * p->dt, (unsigned long long)p->seed);
    printf("          threads %d (OpenMP), %d (OpenBLAS), kernel %s, precision %s\n",
           omp_get_max_threads(), openblas_get_num_threads(), kernel_names[p->kernel],
           precision_names[p->precision]);

    double updates = (double)p->steps * (double)p->batch * (double)m->n;
    printf("speed     %.3f s wall", res->wall);
    if (res->wall > 0) printf(", %.3g unit-updates/s", updates / res->wall);
    printf("\n");

    printf("state     mean %.6g, variance %.6g over %zu %s x %zu %s at t_f\n",
           res->x_mean, res->x_var, m->n, plural(m->n, "unit", "units"), p->batch,
           plural(p->batch, "trajectory", "trajectories"));
    printf("heat      mean %.6g kT, sd %.6g kT per trajectory (given to the bath)\n",
           res->heat_mean, res->heat_sd);
    printf("check     heat vs V(x0) - V(xT): mean |difference| %.3g kT, max %.3g kT\n",
           res->law_mean, res->law_max);
}

int cmd_simulate(int argc, char **argv)
{
    simulate_params p;
    set_defaults(&p);
    const tool_opt opts[] = {
        {"preset", "NAME", TOOL_OPT_CHOICE, &p.preset, preset_names,
         "start from a named configuration: demo, described below", NULL},
        {"units", "N", TOOL_OPT_COUNT, &p.units, NULL, "number of units", NULL},
        {"coupling", "SIGMA", TOOL_OPT_NONNEG, &p.coupling, NULL,
         "random symmetric couplings J_ij ~ N(0, SIGMA^2/N) on every allowed pair", NULL},
        {"J2", "VALUE", TOOL_OPT_REAL, &p.J2, NULL, "quadratic on-site coefficient", NULL},
        {"J4", "VALUE", TOOL_OPT_NONNEG, &p.J4, NULL, "quartic on-site coefficient", NULL},
        {"bias", "VALUE", TOOL_OPT_REAL, &p.bias, NULL, "bias b_i of every unit", NULL},
        {"kT", "VALUE", TOOL_OPT_POSITIVE, &p.kT, NULL, "bath temperature, in energy units",
         NULL},
        {"mu", "VALUE", TOOL_OPT_POSITIVE, &p.mu, NULL, "mobility; time is in units of 1/mu",
         NULL},
        {"dt", "DT", TOOL_OPT_POSITIVE, &p.dt, NULL, "time step", NULL},
        {"steps", "K", TOOL_OPT_COUNT, &p.steps, NULL, "number of steps; t_f = K dt", NULL},
        {"batch", "B", TOOL_OPT_COUNT, &p.batch, NULL, "number of trajectories", NULL},
        {"seed", "S", TOOL_OPT_U64, &p.seed, NULL, "seed of the noise and the couplings",
         NULL},
        {"threads", "T", TOOL_OPT_COUNT, &p.threads, NULL,
         "threads for OpenMP and OpenBLAS; results do not depend on it",
         "OMP_NUM_THREADS or all cores"},
        {"kernel", "fast|reference", TOOL_OPT_CHOICE, &p.kernel, kernel_names,
         "stepper: matrix-product kernel or its plain-loop reference twin", NULL},
        {"precision", "f32|f64", TOOL_OPT_CHOICE, &p.precision, precision_names,
         "floating-point type of states and parameters", NULL},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL,
         "no progress bar (it is drawn only on a terminal anyway)", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];

    /* First pass: find the preset (and reject a bad command line early).
     * Second pass from the preset's values, so explicit options win
     * wherever they stand. */
    int rc = tool_parse(CMD, opts, n_opts, argc, argv);
    if (rc == TOOL_PARSE_HELP) {
        set_defaults(&p);
        print_help(opts, n_opts);
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    int preset = p.preset;
    set_defaults(&p);
    apply_preset(&p, preset);
    rc = tool_parse(CMD, opts, n_opts, argc, argv);
    if (rc != TOOL_EXIT_OK) return TOOL_EXIT_USAGE;

    architecture arch = {.n_groups = 1, .size = {p.units}, .name = {"units"},
                         .n_links = 1, .link = {{0, 0}}};
    if (p.preset == PRESET_DEMO) {
        arch = demo_architecture;
        if (p.units != 784 + 512) {
            fprintf(stderr, "thermo " CMD ": --units: the demo preset has 1296 units "
                            "(784 visible + 512 hidden), got %zu\n", p.units);
            return TOOL_EXIT_USAGE;
        }
    }
    if (p.threads > MAX_THREADS) {
        fprintf(stderr, "thermo " CMD ": --threads: expected at most %d, got %zu\n",
                MAX_THREADS, p.threads);
        return TOOL_EXIT_USAGE;
    }
    if (p.threads > 0) {
        omp_set_num_threads((int)p.threads);
        openblas_set_num_threads((int)p.threads);
    }

    th_model *m = build_model(&p, &arch);
    if (!m) {
        fprintf(stderr, "thermo " CMD ": %s\n", th_last_error());
        return TOOL_EXIT_FAIL;
    }
    simulate_result res = {0};
    rc = run_batch(&p, m, &res);
    if (rc == TH_OK && !result_is_finite(&res)) {
        /* The library stops a diverging run; this guards the report anyway,
         * since a nan printed as a result is worse than no result. */
        fprintf(stderr, "thermo " CMD ": the run produced non-finite statistics\n");
        rc = TH_EDIVERGED;
    } else if (rc != TH_OK) {
        /* The tool's own allocations leave no library message. */
        const char *why = th_last_error();
        fprintf(stderr, "thermo " CMD ": %s\n", why[0] ? why : th_strerror(rc));
    }
    if (rc == TH_OK) print_report(&p, &arch, m, &res);
    th_model_free(m);
    return rc == TH_OK ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}
