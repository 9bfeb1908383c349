/* cmd_neuron.c - thermo neuron: networks of thermodynamic neurons trained by
 * a genetic algorithm to compute cos(2 pi z) at a chosen observation time
 * (Whitelam & Casert, Nat. Commun. 2026; science.md section 4).
 *
 *     thermo neuron train --tf 1 --out DIR   evolve a network, then evaluate it
 *     thermo neuron curve --model FILE --out DIR   evaluate a saved network
 *
 * Both write, in DIR:
 *     network.safetensors   the network and its settings (train only)
 *     ga.csv                best and median loss per generation (train only)
 *     loss_vs_time.csv      the loss of the network observed at t = 0.1 .. 3 t_f
 *     loss_vs_time.png      the same curve, the trained t_f dashed
 *     fit.csv, fit.png      y(z) at t_f against cos(2 pi z)
 * and print the loss at 0.5 t_f, t_f and 2 t_f and where the curve is lowest. */
#include "thermo.h"
#include "tool.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD "neuron"
#define MAX_THREADS 4096
/* The loss curve: t = k t_f / CURVE_DIV for k = CURVE_FIRST .. CURVE_LAST,
 * that is 0.1 t_f to 3 t_f in steps of 0.05 t_f; 0.5, 1 and 2 t_f are on it. */
#define CURVE_DIV 20
#define CURVE_FIRST 2
#define CURVE_LAST 60
#define N_CURVE (CURVE_LAST - CURVE_FIRST + 1)
#define CHART_WIDTH 640
#define CHART_HEIGHT 400
/* The evaluation's noise is its own: another seed than the training's. */
#define EVAL_SEED_OFFSET 0x5eedULL

typedef struct neuron_opts {
    const char *out;
    const char *model;      /* curve */
    const char *seed_text;  /* curve: NULL = the network's ga.seed */
    th_neuron_params p;
    th_ga_opts ga;
    size_t eval_replicas;
    size_t threads;
    int quiet;
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

static int join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* text to path atomically (tool_write_text). 0, or -1 after printing. */
static int write_text(const char *path, const char *text)
{
    if (tool_write_text(path, text) == 0) return 0;
    fprintf(stderr, "thermo " CMD ": %s\n", th_last_error());
    return -1;
}

/* A growing text buffer for the CSV files. */
typedef struct text {
    char *buf;
    size_t len, cap;
    int failed;
} text;

__attribute__((format(printf, 2, 3))) static void add(text *t, const char *fmt, ...)
{
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? 2 * t->cap : 4096;
        while (cap <= t->len + (size_t)n) cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

static int save_text(const char *dir, const char *name, text *t)
{
    char path[4200];
    int rc = -1;
    if (t->failed) fprintf(stderr, "thermo " CMD ": out of memory for %s\n", name);
    else if (join(path, sizeof path, dir, name) != 0)
        fprintf(stderr, "thermo " CMD ": %.80s...: path too long\n", dir);
    else rc = write_text(path, t->buf ? t->buf : "");
    free(t->buf);
    *t = (text){0};
    return rc;
}

static int save_png(const char *dir, const char *name, th_canvas *c)
{
    char path[4200];
    int rc = TH_EINVAL;
    if (!c) {
        tool_fail_lib(CMD, TH_EINVAL); /* the chart's own message */
        return -1;
    }
    if (join(path, sizeof path, dir, name) == 0) rc = th_png_write(path, c, 1);
    th_canvas_free(c);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------- evaluation */

/* The loss curve and the fit at t_f of a network, written and reported.
 * 0, or -1 after printing. */
static int evaluate(const neuron_opts *o, const th_neuron_params *p, const th_neuron_net *net,
                    uint64_t seed)
{
    th_neuron_params q = *p;
    q.replicas = o->eval_replicas;
    if (th_neuron_params_validate(&q) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": --eval-replicas %zu: %s\n", o->eval_replicas,
                th_last_error());
        return -1;
    }
    double times[N_CURVE], loss[N_CURVE];
    for (int k = 0; k < N_CURVE; k++) times[k] = p->t_f * (double)(CURVE_FIRST + k) / CURVE_DIV;
    const uint64_t eval_seed = seed + EVAL_SEED_OFFSET;
    double t0 = tool_now();
    int rc = th_neuron_loss_curve(&q, net, q.replicas, eval_seed, times, N_CURVE, loss);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        return -1;
    }
    double *y = malloc(2 * q.n_z * sizeof *y), *zs = malloc(q.n_z * sizeof *zs);
    double fit_loss = 0;
    if (!y || !zs) {
        free(y);
        free(zs);
        fprintf(stderr, "thermo " CMD ": out of memory\n");
        return -1;
    }
    /* The same seed and streams as the curve: y here is the curve's y at t_f. */
    rc = th_neuron_loss(&q, net, eval_seed, 0, &fit_loss, y);
    if (rc != TH_OK) {
        free(y);
        free(zs);
        tool_fail_lib(CMD, rc);
        return -1;
    }
    const double wall = tool_now() - t0;

    size_t best = 0;
    for (int k = 1; k < N_CURVE; k++)
        if (loss[k] < loss[best]) best = (size_t)k;
    text t = {0};
    add(&t, "t,t_over_tf,loss\n");
    for (int k = 0; k < N_CURVE; k++)
        add(&t, "%.9g,%.4g,%.9g\n", times[k], times[k] / p->t_f, loss[k]);
    if (save_text(o->out, "loss_vs_time.csv", &t) != 0) goto fail;
    const double mark = p->t_f;
    if (save_png(o->out, "loss_vs_time.png",
                 th_picture_curves(times, loss, 1, N_CURVE, &mark, 1, CHART_WIDTH,
                                   CHART_HEIGHT)) != 0)
        goto fail;

    add(&t, "z,y,cos_2pi_z\n");
    double *curves = y; /* (2, n_z): y, then the target */
    for (size_t j = 0; j < q.n_z; j++) {
        zs[j] = th_neuron_input(&q, j);
        curves[q.n_z + j] = th_neuron_target(zs[j]);
        add(&t, "%.9g,%.9g,%.9g\n", zs[j], y[j], curves[q.n_z + j]);
    }
    if (save_text(o->out, "fit.csv", &t) != 0) goto fail;
    if (q.n_z >= 2 && save_png(o->out, "fit.png",
                               th_picture_curves(zs, curves, 2, q.n_z, NULL, 0, CHART_WIDTH,
                                                 CHART_HEIGHT)) != 0)
        goto fail;

    printf("evaluated %zu replicas per input (seed %llu) in %.3g s\n", q.replicas,
           (unsigned long long)eval_seed, wall);
    printf("loss      at 0.5 t_f = %.4g: %.5g\n", 0.5 * p->t_f, loss[10 - CURVE_FIRST]);
    printf("          at     t_f = %.4g: %.5g\n", p->t_f, loss[20 - CURVE_FIRST]);
    printf("          at   2 t_f = %.4g: %.5g\n", 2 * p->t_f, loss[40 - CURVE_FIRST]);
    printf("minimum   %.5g at t = %.4g (%.3g t_f) over t = 0.1 .. 3 t_f in steps of 0.05 t_f\n",
           loss[best], times[best], times[best] / p->t_f);
    printf("files     %s/loss_vs_time.csv, loss_vs_time.png, fit.csv%s\n", o->out,
           q.n_z >= 2 ? ", fit.png" : "");
    free(y);
    free(zs);
    return 0;
fail:
    free(y);
    free(zs);
    return -1;
}

/* ------------------------------------------------------------ train */

typedef struct ga_progress {
    tool_progress bar;
    size_t total;
    int quiet;
    text *csv;
} ga_progress;

static int on_generation(size_t g, double best, double median, void *ctx)
{
    ga_progress *gp = ctx;
    add(gp->csv, "%zu,%.9g,%.9g\n", g, best, median);
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
    h.best = malloc(ga->generations * sizeof *h.best);
    h.median = malloc(ga->generations * sizeof *h.median);
    h.diverged = malloc(ga->generations * sizeof *h.diverged);
    int exit_code = TOOL_EXIT_FAIL;
    text csv = {0};
    if (!net || !h.best || !h.median || !h.diverged) {
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
    ga_progress gp = {.total = ga->generations, .quiet = o->quiet, .csv = &csv};
    add(&csv, "generation,best_loss,median_loss\n");
    tool_progress_begin(&gp.bar, "generations", o->quiet);
    th_ga_opts run = *ga;
    run.on_generation = on_generation;
    run.ctx = &gp;
    double t0 = tool_now();
    int rc = th_ga_train(p, &run, net, &h);
    double wall = tool_now() - t0;
    tool_progress_end(&gp.bar);
    if (rc != TH_OK) {
        free(csv.buf);
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

    char path[4200];
    th_meta meta = {0};
    th_meta_setf(&meta, "ga.population", "%zu", ga->population);
    th_meta_setf(&meta, "ga.elite", "%zu", ga->elite);
    th_meta_setf(&meta, "ga.generations", "%zu", ga->generations);
    th_meta_setf(&meta, "ga.init_sd", "%.17g", ga->init_sd);
    th_meta_setf(&meta, "ga.mutation_sd", "%.17g", ga->mutation_sd);
    th_meta_setf(&meta, "ga.seed", "%llu", (unsigned long long)ga->seed);
    th_meta_setf(&meta, "ga.final_best_loss", "%.9g", h.best[ga->generations - 1]);
    if (join(path, sizeof path, o->out, "network.safetensors") != 0) {
        th_meta_clear(&meta);
        free(csv.buf);
        fprintf(stderr, "thermo " CMD ": %.80s...: path too long\n", o->out);
        goto done;
    }
    rc = th_neuron_save(path, net, p, &meta);
    th_meta_clear(&meta);
    if (rc != TH_OK) {
        free(csv.buf);
        tool_fail_lib(CMD, rc);
        goto done;
    }
    if (save_text(o->out, "ga.csv", &csv) != 0) goto done;
    printf("network   %s; ga.csv has the loss of every generation\n", path);
    if (evaluate(o, p, net, ga->seed) != 0) goto done;
    exit_code = TOOL_EXIT_OK;
done:
    th_neuron_net_free(net);
    free(h.best);
    free(h.median);
    free(h.diverged);
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
                     .eval_replicas = 1024};
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
    if (o.threads > MAX_THREADS)
        return tool_usage_error(name, "--threads: expected at most %d, got %zu", MAX_THREADS,
                                o.threads);
    if (train && (th_neuron_params_validate(&o.p) != TH_OK || th_ga_opts_validate(&o.ga) != TH_OK))
        return tool_usage_error(name, "%s: %s", option_of(th_last_error()), th_last_error());
    if (o.threads) {
        omp_set_num_threads((int)o.threads);
        openblas_set_num_threads((int)o.threads);
    }
    if (tool_make_folder(name, o.out) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;
    char probe[4200];
    if (join(probe, sizeof probe, o.out, "x") != 0 || tool_folder_writable(name, probe) != 0)
        return TOOL_EXIT_FAIL;
    return train ? run_train(&o) : run_curve(&o);
}
