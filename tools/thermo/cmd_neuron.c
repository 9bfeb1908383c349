/* cmd_neuron.c - thermo neuron: networks of thermodynamic neurons trained by
 * a genetic algorithm to compute cos(2 pi z) at a chosen observation time
 * (Whitelam & Casert, Nat. Commun. 2026; science.md section 4).
 *
 *     thermo neuron train --tf 1 --out DIR   evolve a network (th_ga_train), save
 *         it with ga.csv, then evaluate it as curve does
 *     thermo neuron curve --model FILE --out DIR   evaluate a saved network:
 *         th_neuron_evaluate and th_neuron_eval_write (loss_vs_time, fit) */
#include "thermo.h"
#include "tool.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "neuron"

typedef struct neuron_opts {
    const char *out;
    const char *model;      /* curve */
    const char *seed_text;  /* curve: NULL = the network's ga.seed */
    th_neuron_params p;
    th_ga_opts ga;
    size_t eval_replicas;
    size_t threads;
    int quiet;
    tool_hw hwo;            /* curve: the hardware options; hwo.hw what they say */
} neuron_opts;

static void print_help(const tool_opt *opts, size_t n_opts, int train)
{
    if (train)
        printf("usage: thermo neuron train --out DIR [options]\n"
               "\n"
               "Evolves a layered network of thermodynamic neurons (Whitelam & Casert, Nat.\n"
               "Commun. 2026) to compute y(z) = cos(2 pi z) for z in [0, 1] at the observation\n"
               "time --tf, then measures its loss at other times. A neuron is a unit in the\n"
               "well J2 x^2 + J3 x^3 + J4 x^4 - I x under overdamped Langevin dynamics at kT;\n"
               "the input field W z acts on the first layer, couplings join adjacent layers,\n"
               "every neuron has a bias, and y = sum_i f_i <x_i(t)> over the last layer, <.>\n"
               "the average over --replicas runs from x = 0. The loss is the mean over --nz\n"
               "inputs z_j = j / (nz - 1) of (y(z_j) - cos(2 pi z_j))^2.\n"
               "\n"
               "The genetic algorithm: --population networks with every parameter drawn from\n"
               "N(0, init-sd^2) (0.1: variance 1e-2); each generation evaluates all of them\n"
               "(in parallel; fresh noise for each generation and network), keeps the --elite\n"
               "best unchanged and replaces the others by copies of an elite parent chosen at\n"
               "random, each parameter mutated by N(0, mutation^2 / fan-in): fan-in 1 for\n"
               "the input field and the biases, the layer width for couplings and readout.\n"
               "The result does not depend on --threads.\n"
               "\n"
               "options:\n");
    else
        printf("usage: thermo neuron curve --model FILE --out DIR [options]\n"
               "\n"
               "Evaluates a network written by 'thermo neuron train': its loss against the\n"
               "observation time (0.1 to 3 times the trained t_f) and its output at t_f.\n"
               "\n"
               "options:\n");
    tool_print_options(opts, n_opts);
    printf("\n"
           "Writes DIR/%sloss_vs_time.csv and .png (loss against t, the trained t_f\n"
           "dashed), fit.csv and fit.png (y(z) in blue against cos(2 pi z) in red at t_f).\n"
           "Exit status: 0 on success, 1 when the run fails, 2 for a command line that\n"
           "cannot be used.\n", train ? "network.safetensors, ga.csv, " : "");
}

/* ------------------------------------------------------------ files */

/* DIR/NAME into buf; 0, or -1 after printing. */
static int out_path(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n > 0 && (size_t)n < size) return 0;
    fprintf(stderr, "thermo " CMD ": %.80s...: path too long\n", dir);
    return -1;
}

/* ------------------------------------------------------- evaluation */

/* The loss curve and the fit at t_f of a network (th_neuron_evaluate),
 * written (th_neuron_eval_write) and reported. 0, or -1 after printing. */
static int evaluate(const neuron_opts *o, const th_neuron_params *p, const th_neuron_net *net,
                    uint64_t seed)
{
    th_neuron_eval e;
    double t0 = tool_now();
    int rc = th_hw_neuron_evaluate(&o->hwo.hw, p, net, o->eval_replicas, seed, &e);
    const double wall = tool_now() - t0;
    if (rc == TH_EINVAL) {
        fprintf(stderr, "thermo " CMD ": --eval-replicas %zu: %s\n", o->eval_replicas,
                th_last_error());
        return -1;
    }
    if (rc == TH_OK) rc = th_neuron_eval_write(o->out, &e);
    if (rc != TH_OK) {
        th_neuron_eval_free(&e);
        tool_fail_lib(CMD, rc);
        return -1;
    }
    printf("evaluated %zu replicas per input (seed %llu) in %.3g s\n", e.replicas,
           (unsigned long long)e.seed, wall);
    tool_hw_print("hardware  ", &o->hwo.hw, 0);
    printf("loss      at 0.5 t_f = %.4g: %.5g\n", 0.5 * p->t_f, e.loss_half);
    printf("          at     t_f = %.4g: %.5g\n", p->t_f, e.loss_tf);
    printf("          at   2 t_f = %.4g: %.5g\n", 2 * p->t_f, e.loss_double);
    printf("minimum   %.5g at t = %.4g (%.3g t_f) over t = 0.1 .. 3 t_f in steps of 0.05 t_f\n",
           e.loss[e.best], e.times[e.best], e.times[e.best] / p->t_f);
    printf("files     %s/loss_vs_time.csv, loss_vs_time.png, fit.csv%s\n", o->out,
           e.n_z >= 2 ? ", fit.png" : "");
    th_neuron_eval_free(&e);
    return 0;
}

/* ------------------------------------------------------------ train */

typedef struct ga_progress {
    tool_progress bar;
    size_t total;
    int quiet;
} ga_progress;

static int on_generation(size_t g, double best, double median, void *ctx)
{
    ga_progress *gp = ctx;
    tool_progress_update(g + 1, gp->total, &gp->bar);
    /* A line for logs every tenth of the run, when no bar is drawn. */
    size_t every = gp->total >= 10 ? gp->total / 10 : 1;
    if (!gp->quiet && !gp->bar.enabled && ((g + 1) % every == 0 || g + 1 == gp->total)) {
        printf("generation %zu/%zu: best loss %.5g, median %.5g\n", g + 1, gp->total, best,
               median);
        fflush(stdout);
    }
    return 0;
}

static int run_train(neuron_opts *o)
{
    const th_neuron_params *p = &o->p;
    const th_ga_opts *ga = &o->ga;
    th_neuron_net *net = th_neuron_net_alloc(p->n_layers, p->width);
    th_ga_history h = {0};
    th_meta meta = {0};
    int exit_code = TOOL_EXIT_FAIL;
    if (!net || th_ga_history_alloc(&h, ga->generations) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": out of memory\n");
        goto done;
    }
    printf("network   %zu layers of %zu neurons, %zu parameters; kT %g, mu %g, J2 %g, J3 %g, "
           "J4 %g\n", p->n_layers, p->width, net->n_params, p->kT, p->mu, p->J2, p->J3, p->J4);
    printf("task      y(z) = cos(2 pi z) on %zu inputs z in [0, 1] at t_f = %g (%zu steps of "
           "dt %g), %zu replicas each\n", p->n_z, p->t_f, th_neuron_steps(p, p->t_f), p->dt,
           p->replicas);
    printf("GA        population %zu, elite %zu, %zu generations, init N(0, %g^2), mutation "
           "%g / sqrt(fan-in), seed %llu, %d threads\n", ga->population, ga->elite,
           ga->generations, ga->init_sd, ga->mutation_sd, (unsigned long long)ga->seed,
           omp_get_max_threads());
    fflush(stdout);

    size_t diverged_total = 0;
    ga_progress gp = {.total = ga->generations, .quiet = o->quiet};
    tool_progress_begin(&gp.bar, "generations", o->quiet);
    th_ga_opts run = *ga;
    run.on_generation = on_generation;
    run.ctx = &gp;
    double t0 = tool_now();
    int rc = th_ga_train(p, &run, net, &h);
    double wall = tool_now() - t0;
    tool_progress_end(&gp.bar);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    for (size_t g = 0; g < ga->generations; g++) diverged_total += h.diverged[g];
    printf("trained   in %.3g s (%.3g s a generation): best loss %.5g in generation 0, %.5g in "
           "the last (%zu replicas)\n", wall, wall / (double)ga->generations, h.best[0],
           h.best[ga->generations - 1], p->replicas);
    if (diverged_total)
        printf("          %zu evaluations diverged (|x| > %g) and were ranked last\n",
               diverged_total, p->blowup);

    char path[4200], csv[4200];
    if (out_path(path, sizeof path, o->out, "network.safetensors") != 0 ||
        out_path(csv, sizeof csv, o->out, "ga.csv") != 0)
        goto done;
    if ((rc = th_ga_to_meta(ga, &h, &meta)) != TH_OK ||
        (rc = th_neuron_save(path, net, p, &meta)) != TH_OK ||
        (rc = th_ga_history_write_csv(csv, &h, ga->generations)) != TH_OK) {
        tool_fail_lib(CMD, rc);
        goto done;
    }
    printf("network   %s; ga.csv has the loss of every generation\n", path);
    if (evaluate(o, p, net, ga->seed) != 0) goto done;
    exit_code = TOOL_EXIT_OK;
done:
    th_meta_clear(&meta);
    th_neuron_net_free(net);
    th_ga_history_free(&h);
    return exit_code;
}

static int run_curve(neuron_opts *o)
{
    th_neuron_net *net = NULL;
    th_neuron_params p;
    th_meta meta = {0};
    int rc = th_neuron_load(o->model, &net, &p, &meta);
    if (rc != TH_OK) {
        th_meta_clear(&meta);
        return tool_fail_lib(CMD, rc);
    }
    /* The training's seed by default, so that the curve after training is
     * reproduced exactly. */
    uint64_t seed = 1;
    const char *seed_text = o->seed_text ? o->seed_text : th_meta_get(&meta, "ga.seed");
    if (seed_text && tool_to_u64(seed_text, &seed) != 0) {
        th_meta_clear(&meta);
        th_neuron_net_free(net);
        if (o->seed_text)
            return tool_usage_error(CMD " curve", "--seed: expected a whole number >= 0, got "
                                    "'%s'", o->seed_text);
        fprintf(stderr, "thermo " CMD ": %s: metadata ga.seed = '%.40s': expected a whole "
                        "number\n", o->model, seed_text);
        return TOOL_EXIT_FAIL;
    }
    printf("network   %s: %zu layers of %zu neurons, trained for t_f = %g (dt %g, kT %g)\n",
           o->model, p.n_layers, p.width, p.t_f, p.dt, p.kT);
    int bad = evaluate(o, &p, net, seed);
    th_meta_clear(&meta);
    th_neuron_net_free(net);
    return bad ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* ----------------------------------------------------------- command */

/* The option behind a library message that starts with a field's name
 * ("t_f = 0: ..."), so that the user reads what to change. */
static const char *option_of(const char *why)
{
    static const char *const map[][2] = {
        {"n_layers", "--layers"}, {"width", "--width"},     {"kT", "--kT"},
        {"J2", "--J2"},           {"J3", "--J3"},           {"J4", "--J4"},
        {"dt", "--dt"},           {"t_f", "--tf"},          {"n_z", "--nz"},
        {"replicas", "--replicas"}, {"population", "--population"}, {"elite", "--elite"},
        {"generations", "--generations"}, {"init_sd", "--init-sd"},
        {"mutation_sd", "--mutation"},
    };
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        size_t len = strlen(map[k][0]);
        if (strncmp(why, map[k][0], len) == 0 && why[len] == ' ') return map[k][1];
    }
    return "settings";
}

int cmd_neuron(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: thermo neuron train --out DIR [options]\n"
                     "       thermo neuron curve --model FILE --out DIR [options]\n"
                     "\n"
                     "Networks of thermodynamic neurons (Whitelam & Casert, Nat. Commun. 2026)\n"
                     "trained by a genetic algorithm to compute cos(2 pi z) at an observation\n"
                     "time. Run 'thermo neuron train --help' for the settings.\n");
        return argc < 2 ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
    }
    int train = strcmp(argv[1], "train") == 0;
    if (!train && strcmp(argv[1], "curve") != 0) {
        fprintf(stderr, "thermo " CMD ": unknown subcommand '%s': expected train or curve\n"
                        "Run 'thermo neuron --help' for its use.\n", argv[1]);
        return TOOL_EXIT_USAGE;
    }
    neuron_opts o = {.p = th_neuron_params_default(), .ga = th_ga_opts_default(),
                     .eval_replicas = 1024, .hwo = tool_hw_default()};
    const tool_opt train_opts[] = {
        {"out", "DIR", TOOL_OPT_STRING, &o.out, NULL, "folder for the results (required)", ""},
        {"tf", "T", TOOL_OPT_POSITIVE, &o.p.t_f, NULL,
         "observation time the network is trained for (units of 1/mu)", NULL},
        {"generations", "G", TOOL_OPT_COUNT, &o.ga.generations, NULL,
         "generations of the genetic algorithm", NULL},
        {"population", "P", TOOL_OPT_COUNT, &o.ga.population, NULL,
         "networks in each generation", NULL},
        {"elite", "E", TOOL_OPT_COUNT, &o.ga.elite, NULL,
         "best networks kept unchanged as the parents of the next generation", NULL},
        {"mutation", "S", TOOL_OPT_POSITIVE, &o.ga.mutation_sd, NULL,
         "mutation scale: a parameter with fan-in n changes by N(0, S^2 / n)", NULL},
        {"init-sd", "S", TOOL_OPT_NONNEG, &o.ga.init_sd, NULL,
         "standard deviation of the initial parameters (0.1: variance 1e-2)", NULL},
        {"seed", "S", TOOL_OPT_U64, &o.ga.seed, NULL, "seed of every random number", NULL},
        {"replicas", "R", TOOL_OPT_COUNT, &o.p.replicas, NULL,
         "runs averaged for each input while training", NULL},
        {"eval-replicas", "R", TOOL_OPT_COUNT, &o.eval_replicas, NULL,
         "runs averaged for each input in the loss curve and the fit", NULL},
        {"nz", "N", TOOL_OPT_COUNT, &o.p.n_z, NULL, "inputs z_j = j / (N - 1) in [0, 1]", NULL},
        {"layers", "L", TOOL_OPT_COUNT, &o.p.n_layers, NULL, "layers of neurons", NULL},
        {"width", "W", TOOL_OPT_COUNT, &o.p.width, NULL, "neurons a layer", NULL},
        {"kT", "E", TOOL_OPT_POSITIVE, &o.p.kT, NULL, "temperature of the bath", NULL},
        {"J2", "J", TOOL_OPT_REAL, &o.p.J2, NULL, "quadratic coefficient of every neuron", NULL},
        {"J3", "J", TOOL_OPT_REAL, &o.p.J3, NULL, "cubic coefficient of every neuron", NULL},
        {"J4", "J", TOOL_OPT_POSITIVE, &o.p.J4, NULL, "quartic coefficient (> 0: confines)",
         NULL},
        {"dt", "DT", TOOL_OPT_POSITIVE, &o.p.dt, NULL, "Euler-Maruyama time step", NULL},
        {"threads", "T", TOOL_OPT_COUNT, &o.threads, NULL,
         "OpenMP threads; results do not depend on it", "OMP_NUM_THREADS or all cores"},
        {"quiet", NULL, TOOL_OPT_FLAG, &o.quiet, NULL,
         "no progress bar or progress lines", NULL},
    };
    const tool_opt curve_opts[] = {
        {"model", "FILE", TOOL_OPT_STRING, &o.model, NULL,
         "network written by thermo neuron train (required)", ""},
        {"out", "DIR", TOOL_OPT_STRING, &o.out, NULL, "folder for the results (required)", ""},
        {"eval-replicas", "R", TOOL_OPT_COUNT, &o.eval_replicas, NULL,
         "runs averaged for each input", NULL},
        {"seed", "S", TOOL_OPT_STRING, &o.seed_text, NULL,
         "seed of the evaluation (the noise uses seed + 0x5eed, as after training)",
         "the network's ga.seed"},
        {"threads", "T", TOOL_OPT_COUNT, &o.threads, NULL,
         "OpenMP threads; results do not depend on it", "OMP_NUM_THREADS or all cores"},
        TOOL_OPTS_HW(&o.hwo),
    };
    const tool_opt *opts = train ? train_opts : curve_opts;
    const size_t n_opts = train ? sizeof train_opts / sizeof train_opts[0]
                                : sizeof curve_opts / sizeof curve_opts[0];
    char name[32];
    snprintf(name, sizeof name, CMD " %s", argv[1]);
    int rc = tool_parse(name, opts, n_opts, argc - 1, argv + 1);
    if (rc == TOOL_PARSE_HELP) {
        print_help(opts, n_opts, train);
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    if (!o.out) return tool_usage_error(name, "--out DIR is required");
    if (!train && !o.model) return tool_usage_error(name, "--model FILE is required");
    if ((rc = tool_use_threads(name, o.threads)) != TOOL_EXIT_OK ||
        (rc = tool_hw_get(name, &o.hwo)) != TOOL_EXIT_OK)
        return rc;
    if (o.hwo.hw.kT_drift != 0 || o.hwo.hw.tau_c != 0)
        return tool_usage_error(name, "--kT-drift, --tau-c: neurons run their own Euler loop "
                                "(white noise at a fixed kT) until they move onto the core");
    if (train && (th_neuron_params_validate(&o.p) != TH_OK || th_ga_opts_validate(&o.ga) != TH_OK))
        return tool_usage_error(name, "%s: %s", option_of(th_last_error()), th_last_error());
    if (tool_make_folder(name, o.out) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;
    char probe[4200];
    if (out_path(probe, sizeof probe, o.out, "x") != 0 || tool_folder_writable(name, probe) != 0)
        return TOOL_EXIT_FAIL;
    return train ? run_train(&o) : run_curve(&o);
}
