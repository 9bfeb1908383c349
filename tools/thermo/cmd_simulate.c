/* cmd_simulate.c - thermo simulate: run a batch of Langevin trajectories of a
 * model built from options (th_sim_model), and report the speed, the final
 * states and the heat (th_sim_run; science.md section 1), ending with the
 * check of the first law: V here does not depend on time, so the heat given
 * to the bath along a path is V(x0) - V(xT) in the continuum limit, and
 * their difference measures the discretisation. */
#include "thermo.h"
#include "tool.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#define CMD "simulate"

/* More threads than this is a typo, and (int) must hold the value. */
/* Progress callbacks per run: enough for a smooth bar, too few to cost. */
#define PROGRESS_CALLS 200

enum { PRESET_NONE = 0, PRESET_DEMO = 1 };
static const char *const preset_names[] = {"none", "demo", NULL};
/* Indexed by th_kernel and th_dtype. */
static const char *const kernel_names[] = {"fast", "reference", NULL};
/* bf16: a float32 model whose coupling products run in bfloat16 (th_run.precision). */
enum { PRECISION_BF16 = 2 };
static const char *const precision_names[] = {"f32", "f64", "bf16", NULL};

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

/* The library's description of the model the options and arch ask for. */
static th_sim_spec sim_spec(const simulate_params *p, const architecture *arch)
{
    th_sim_spec spec = {.n_groups = arch->n_groups, .n_links = arch->n_links,
                        .coupling = p->coupling, .J2 = p->J2, .J4 = p->J4, .bias = p->bias,
                        .kT = p->kT, .mu = p->mu, .seed = p->seed,
                        .dtype = p->precision == PRECISION_BF16 ? TH_F32 : (th_dtype)p->precision};
    memcpy(spec.size, arch->size, sizeof spec.size);
    memcpy(spec.link, arch->link, sizeof spec.link);
    return spec;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_report(const simulate_params *p, const architecture *arch,
                         const th_model *m, const th_sim_stats *res)
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
        TOOL_OPT_THREADS(&p.threads),
        {"kernel", "fast|reference", TOOL_OPT_CHOICE, &p.kernel, kernel_names,
         "stepper: matrix-product kernel or its plain-loop reference twin", NULL},
        {"precision", "f32|f64|bf16", TOOL_OPT_CHOICE, &p.precision, precision_names,
         "floating-point type of states and parameters (bf16: float32, coupling products in "
         "bfloat16)", NULL},
        TOOL_OPT_QUIET(&p.quiet),
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
    if (p.precision == PRECISION_BF16 && p.kernel == TH_KERNEL_REFERENCE) {
        fprintf(stderr, "thermo " CMD ": --precision bf16 runs on --kernel fast\n");
        return TOOL_EXIT_USAGE;
    }
    if (p.threads > TOOL_MAX_THREADS) {
        fprintf(stderr, "thermo " CMD ": --threads: expected at most %d, got %zu\n",
                TOOL_MAX_THREADS, p.threads);
        return TOOL_EXIT_USAGE;
    }
    tool_set_threads(p.threads);

    th_sim_spec spec = sim_spec(&p, &arch);
    th_model *m = th_sim_model(&spec);
    if (!m) {
        fprintf(stderr, "thermo " CMD ": %s\n", th_last_error());
        return TOOL_EXIT_FAIL;
    }
    tool_progress bar;
    tool_progress_begin(&bar, "steps", p.quiet);
    th_run r = th_run_default();
    r.n_steps = p.steps;
    r.dt = p.dt;
    r.kernel = (th_kernel)p.kernel;
    if (p.precision == PRECISION_BF16) r.precision = TH_PRECISION_BF16;
    r.progress = tool_progress_update;
    r.progress_ctx = &bar;
    r.progress_every = p.steps / PROGRESS_CALLS > 0 ? p.steps / PROGRESS_CALLS : 1;
    th_sim_stats res;
    rc = th_sim_run(m, p.batch, p.seed, &r, &res);
    tool_progress_end(&bar);
    if (rc != TH_OK) tool_fail_lib(CMD, rc);
    if (rc == TH_OK) print_report(&p, &arch, m, &res);
    th_model_free(m);
    return rc == TH_OK ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}
