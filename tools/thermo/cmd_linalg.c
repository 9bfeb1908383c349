/* cmd_linalg.c - thermo linalg: thermodynamic linear algebra on a simulated
 * stochastic processing unit (science.md section 5).
 *
 * One algorithm per run: the matrix is read from a Matrix Market file,
 * programmed into the SPU (with the chosen component imprecision), and the
 * algorithm is run for a ladder of averaging times T / 2^(P-1), ..., T,
 * each an independent run. Every point is compared with LAPACK's direct
 * answer and with the hardware floor (the infinite-time answer of the
 * imprecise board, from a Lyapunov solve); the error against time goes to
 * error.csv and error.png, the answer at time T to estimate.mtx. */
#include "thermo.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "linalg"
#define CHART_WIDTH 640
#define CHART_HEIGHT 420
#define N_ALGS 5

/* In the order of th_tla_algorithm. */
static const char *const ALG_NAMES[] = {"sample", "solve", "inv", "logdet", "lyap", NULL};
static const char *const MODEL_NAMES[] = {"rlc", "overdamped", NULL};
static const char *const INTEGRATOR_NAMES[] = {"exact", "euler", NULL};
static const char *const MAPPING_NAMES[] = {"direct", "scaled (D A D)", "doubled (signed pairs)"};

typedef struct linalg_params {
    const char *matrix, *rhs, *noise, *out;
    double time;
    size_t bits;          /* 0 = exact */
    double mismatch;
    size_t copies;
    int model, integrator;
    size_t chains, batches, points, samples, nodes;
    uint64_t seed;
    int quiet;
} linalg_params;

static void print_help(const tool_opt *opts, size_t n_opts)
{
    printf("usage: thermo linalg sample|solve|inv|logdet|lyap --matrix A.mtx [options]\n"
           "\n"
           "Runs a thermodynamic linear-algebra algorithm on a simulated stochastic\n"
           "processing unit (Normal Computing's board of RLC cells coupled by capacitors,\n"
           "or its overdamped idealisation) and compares it with LAPACK:\n"
           "  sample  N(m, S): --matrix is the covariance S, --rhs the mean m (optional);\n"
           "          the SPU is programmed with the precision S^-1 (computed digitally)\n"
           "  solve   A x = b: --matrix A (symmetric positive definite), --rhs b\n"
           "  inv     A^-1\n"
           "  logdet  ln det A by thermodynamic integration from a0 I to A\n"
           "  lyap    A S + S A^T = D: --matrix A (eigenvalues with positive real parts),\n"
           "          --noise D (default the identity); overdamped model only\n"
           "\n"
           "Times are simulated hardware time: seconds for --model rlc (with the cell's\n"
           "L = 1 mH, R = 1 kOhm, largest capacitance 1 nF, kappa0 = 1e-14 A^2 s), units\n"
           "of 1/gamma (the cells' relaxation rate) for --model overdamped. The run is\n"
           "repeated for --points averaging times halving from --time; each is compared\n"
           "with LAPACK and with the hardware floor (the answer of the imprecise board\n"
           "after infinite time).\n"
           "\n"
           "options:\n");
    tool_print_options(opts, n_opts);
    printf("\n"
           "Files in --out: estimate.mtx (the answer at --time), samples.mtx (sample),\n"
           "error.csv (time_s or time_1_over_gamma, error, error_estimate, floor: relative\n"
           "Frobenius errors; for logdet absolute errors in nats, floor left empty when the\n"
           "parts are imprecise), error.png (log-log: red = error against LAPACK, blue\n"
           "dashed = the run's own error estimate, grey dashed = hardware floor, green\n"
           "dashed = 1/sqrt(time) through the first estimate).\n"
           "\n"
           "Exit status: 0 on success, 1 when the run fails (a matrix that cannot be used\n"
           "is named), 2 for a command line that cannot be used.\n");
}

/* ------------------------------------------------------------ reading */

static int read_matrix(const char *path, const char *what, double **out, size_t *rows,
                       size_t *cols)
{
    int rc = th_mtx_read(path, out, rows, cols);
    if (rc != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s: %s\n", what, th_last_error());
        return -1;
    }
    return 0;
}

/* A vector file: d x 1 or 1 x d. */
static int read_vector(const char *path, const char *what, size_t d, double **out)
{
    size_t r, c;
    if (read_matrix(path, what, out, &r, &c) != 0) return -1;
    if (!((r == d && c == 1) || (r == 1 && c == d))) {
        fprintf(stderr, "thermo " CMD ": %s: %s is %zu x %zu: expected a vector of %zu entries "
                "(%zu x 1)\n", what, path, r, c, d, d);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* The problem from the files: the matrix, and the vectors and matrices the
 * algorithm reads, their shapes checked. 0, or an exit status after printing. */
typedef struct loaded {
    double *A, *b, *D;
} loaded;

static int load_problem(const linalg_params *p, th_tla_problem *pb, loaded *L)
{
    size_t r, c;
    if (read_matrix(p->matrix, "--matrix", &L->A, &r, &c) != 0) return TOOL_EXIT_FAIL;
    if (r != c) {
        fprintf(stderr, "thermo " CMD ": --matrix %s is %zu x %zu: expected a square matrix\n",
                p->matrix, r, c);
        return TOOL_EXIT_FAIL;
    }
    const size_t d = pb->d = r;
    pb->A = L->A;
    if (pb->alg == TH_TLA_SOLVE && !p->rhs) return tool_usage_error(CMD, "solve needs --rhs b.mtx");
    if (p->rhs && pb->alg != TH_TLA_SOLVE && pb->alg != TH_TLA_SAMPLE)
        return tool_usage_error(CMD, "--rhs is used by solve (b) and sample (the mean m) only");
    if (p->noise && pb->alg != TH_TLA_LYAP)
        return tool_usage_error(CMD, "--noise is used by lyap only");
    if (pb->alg == TH_TLA_LYAP && p->model != TH_SPU_OVERDAMPED)
        return tool_usage_error(CMD, "lyap runs on the overdamped idealisation only: add "
                                "--model overdamped (the RLC board's drift is fixed by its "
                                "circuit)");
    if (p->rhs && read_vector(p->rhs, "--rhs", d, &L->b) != 0) return TOOL_EXIT_FAIL;
    pb->b = L->b;
    if (p->noise) {
        if (read_matrix(p->noise, "--noise", &L->D, &r, &c) != 0) return TOOL_EXIT_FAIL;
        if (r != d || c != d) {
            fprintf(stderr, "thermo " CMD ": --noise %s is %zu x %zu: expected %zu x %zu "
                    "like --matrix\n", p->noise, r, c, d, d);
            return TOOL_EXIT_FAIL;
        }
    }
    pb->D = L->D;
    return TOOL_EXIT_OK;
}

/* What the run prints: the hardware before the first point, then a line per
 * point as it completes. */
typedef struct report {
    const linalg_params *p;
    const char *unit;
} report;

static int print_point(const th_tla_sweep *s, size_t k, void *ctx)
{
    const report *rp = ctx;
    if (rp->p->quiet) return 0;
    printf("%-14.4e %-12.4e %-12.4e ", s->time_sim[k], s->error[k], s->estimate[k]);
    if (s->floor >= 0.0) printf("%-12.4e ", s->floor);
    else printf("%-12s ", "-");
    printf("%.3f\n", s->wall[k]);
    return 0;
}

static void print_header(const linalg_params *p, const th_tla_sweep *s, size_t bits,
                         const char *unit)
{
    printf("matrix      %s (%zu x %zu)\n", p->matrix, s->d, s->d);
    if (s->model == TH_SPU_RLC)
        printf("hardware    RLC board, %zu cells, mapping %s, alpha %.3g F per unit\n", s->cells,
               MAPPING_NAMES[s->mapping], s->alpha);
    else
        printf("hardware    overdamped idealisation, %zu units\n", s->d);
    printf("tau         %.4g %s (slowest relaxation), fastest %.4g %s\n", s->tau, unit,
           s->tau_fast, unit);
    char bits_text[24];
    snprintf(bits_text, sizeof bits_text, bits ? "%zu" : "exact", bits);
    printf("imprecision bits %s, mismatch %g, copies %zu\n", bits_text, p->mismatch, p->copies);
    printf("\n%-14s %-12s %-12s %-12s %s\n", unit[0] == 's' ? "time_s" : "time_1/gamma",
           s->absolute ? "abs_error" : "rel_error", "estimated", "floor", "wall_s");
}

/* estimate.mtx, samples.mtx, error.csv, error.png into p->out; 0, or -1
 * after printing. */
static int write_files(const linalg_params *p, const th_tla_sweep *s)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/estimate.mtx", p->out);
    if (th_mtx_write(path, s->last.estimate, s->last.rows, s->last.cols,
                     "thermo linalg estimate") != TH_OK)
        return tool_fail_lib(CMD, TH_EIO), -1;
    snprintf(path, sizeof path, "%s/samples.mtx", p->out);
    if (s->samples && th_mtx_write(path, s->samples, s->n_samples, s->d,
                                   "thermo linalg samples, one per row") != TH_OK)
        return tool_fail_lib(CMD, TH_EIO), -1;
    snprintf(path, sizeof path, "%s/error.csv", p->out);
    if (th_tla_sweep_write_csv(path, s) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s: cannot write\n", path);
        return -1;
    }
    snprintf(path, sizeof path, "%s/error.png", p->out);
    th_canvas *c = th_tla_sweep_chart(s, CHART_WIDTH, CHART_HEIGHT);
    int rc = c ? th_png_write(path, c, 1) : TH_EIO;
    th_canvas_free(c);
    return rc == TH_OK ? 0 : (tool_fail_lib(CMD, TH_EIO), -1);
}

/* The sweep, printed and written; an exit status. */
static int run(const linalg_params *p, const th_tla_problem *pb, size_t bits, th_tla_sweep *s)
{
    th_tla_sweep_opts o = th_tla_sweep_opts_default();
    o.hw.model = (th_spu_model)p->model;
    o.hw.bits = (unsigned)bits;
    o.hw.mismatch = p->mismatch;
    o.protocol.chains = p->chains;
    o.protocol.batches = p->batches;
    o.protocol.integrator = (th_tla_integrator)p->integrator;
    o.protocol.lambda_nodes = p->nodes;
    o.time = p->time;
    o.points = p->points;
    o.copies = p->copies;
    o.seed = p->seed;
    o.n_samples = p->samples;
    const char *unit = p->model == TH_SPU_RLC ? "s" : "1/gamma";
    report rp = {p, unit};
    o.on_point = print_point;
    o.ctx = &rp;
    int rc = th_tla_sweep_prepare(pb, &o, s);
    if (rc != TH_OK) {
        if (pb->alg == TH_TLA_SAMPLE && s->stage == TH_SWEEP_REFERENCE)
            fprintf(stderr, "thermo " CMD ": sample programs the SPU with the precision S^-1 "
                    "of the covariance S given by --matrix\n");
        return tool_fail_lib(CMD, rc);
    }
    if (tool_make_folder(CMD, p->out) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;
    if (!p->quiet) print_header(p, s, bits, unit);
    rc = th_tla_sweep_points(s, pb, &o);
    if (rc != TH_OK) return tool_fail_lib(CMD, rc);
    if (write_files(p, s) != 0) return TOOL_EXIT_FAIL;
    const size_t n = p->points;
    const double sim_wall = s->wall[n - 1];
    printf("%s: error %.3e (estimated %.3e) after %.4g %s of simulated time; simulation took "
           "%.3f s of wall time, LAPACK's direct answer %.2e s (the simulation is %.3g times "
           "slower)\n", ALG_NAMES[pb->alg], s->error[n - 1], s->estimate[n - 1],
           s->time_sim[n - 1], unit, sim_wall, s->lapack_wall,
           s->lapack_wall > 0 ? sim_wall / s->lapack_wall : 0.0);
    if (pb->alg == TH_TLA_LOGDET)
        printf("logdet %.10g, LAPACK %.10g\n", s->last.estimate[0], s->reference[0]);
    return TOOL_EXIT_OK;
}

int cmd_linalg(int argc, char **argv)
{
    linalg_params p = {.matrix = NULL, .rhs = NULL, .noise = NULL, .out = "linalg-out",
                       .time = 0.0, .bits = 0, .mismatch = 0.0, .copies = 1,
                       .model = TH_SPU_RLC, .integrator = TH_TLA_EXACT, .chains = 4,
                       .batches = 16, .points = 6, .samples = 1000, .nodes = 12, .seed = 1,
                       .quiet = 0};
    size_t bits = 0;
    const tool_opt opts[] = {
        {"matrix", "A.mtx", TOOL_OPT_STRING, &p.matrix, NULL,
         "the matrix (Matrix Market); for sample the covariance S (required)", ""},
        {"rhs", "b.mtx", TOOL_OPT_STRING, &p.rhs, NULL,
         "solve: the right-hand side b; sample: the mean m (d x 1)", "none"},
        {"noise", "D.mtx", TOOL_OPT_STRING, &p.noise, NULL, "lyap: the right-hand side D",
         "the identity"},
        {"time", "T", TOOL_OPT_NONNEG, &p.time, NULL,
         "longest averaging time per chain (s for rlc, 1/gamma for overdamped)",
         "10000 tau (the slowest relaxation time)"},
        {"points", "P", TOOL_OPT_COUNT, &p.points, NULL,
         "averaging times T/2^(P-1) .. T, each an independent run", NULL},
        {"bits", "B", TOOL_OPT_SIZE, &p.bits, NULL,
         "coupling capacitances rounded to B bits of their range (0: exact)", "exact"},
        {"mismatch", "S", TOOL_OPT_NONNEG, &p.mismatch, NULL,
         "relative sd of every component (C, L, R, kappa0)", NULL},
        {"copies", "K", TOOL_OPT_COUNT, &p.copies, NULL,
         "error mitigation: K independently mismatched copies, answers merged", NULL},
        {"model", "M", TOOL_OPT_CHOICE, &p.model, MODEL_NAMES,
         "rlc (the board) or overdamped (the idealisation)", "rlc"},
        {"integrator", "I", TOOL_OPT_CHOICE, &p.integrator, INTEGRATOR_NAMES,
         "exact (OU transitions) or euler (Euler-Maruyama)", "exact"},
        {"chains", "N", TOOL_OPT_COUNT, &p.chains, NULL, "independent chains side by side",
         NULL},
        {"batches", "N", TOOL_OPT_COUNT, &p.batches, NULL,
         "batches of the averaging window for the error estimate (>= 2)", NULL},
        {"nodes", "N", TOOL_OPT_COUNT, &p.nodes, NULL,
         "logdet: Gauss-Legendre nodes in lambda", NULL},
        {"samples", "N", TOOL_OPT_COUNT, &p.samples, NULL, "sample: samples written", NULL},
        {"seed", "S", TOOL_OPT_U64, &p.seed, NULL, "noise seed (mismatch draws use the copy "
         "index)", NULL},
        {"out", "DIR", TOOL_OPT_STRING, &p.out, NULL,
         "folder for estimate.mtx, error.csv, error.png", NULL},
        {"quiet", NULL, TOOL_OPT_FLAG, &p.quiet, NULL, "print only the summary line", NULL},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            print_help(opts, n_opts);
            return TOOL_EXIT_OK;
        }
        return tool_usage_error(CMD, "expected an algorithm first: sample, solve, inv, logdet "
                                "or lyap");
    }
    th_tla_problem pb = {.alg = N_ALGS};
    for (int k = 0; k < N_ALGS; k++)
        if (strcmp(argv[1], ALG_NAMES[k]) == 0) pb.alg = (th_tla_algorithm)k;
    if (pb.alg == N_ALGS)
        return tool_usage_error(CMD, "unknown algorithm '%s': expected sample, solve, inv, "
                                "logdet or lyap", argv[1]);
    int rc;
    if (!tool_parse_or_help(CMD, opts, n_opts, argc - 1, argv + 1, print_help, &rc)) return rc;
    bits = p.bits;
    if (!p.matrix) return tool_usage_error(CMD, "--matrix A.mtx is required");
    if (p.points > TH_TLA_SWEEP_MAX_POINTS)
        return tool_usage_error(CMD, "--points %zu: expected at most %d", p.points, TH_TLA_SWEEP_MAX_POINTS);
    if (p.copies > TH_TLA_SWEEP_MAX_COPIES)
        return tool_usage_error(CMD, "--copies %zu: expected at most %d", p.copies, TH_TLA_SWEEP_MAX_COPIES);
    if (p.batches < 2)
        return tool_usage_error(CMD, "--batches %zu: expected at least 2", p.batches);
    if (p.mismatch > 0.5)
        return tool_usage_error(CMD, "--mismatch %g: expected a relative sd in [0, 0.5]",
                                p.mismatch);
    if (pb.alg == TH_TLA_LYAP && (bits || p.mismatch > 0.0 || p.copies > 1))
        return tool_usage_error(CMD, "lyap: --bits, --mismatch and --copies apply to the "
                                "capacitor network, which lyap does not use");
    /* The library checks bits too; the message is clearer here. */
    if (bits > 52) return tool_usage_error(CMD, "--bits %zu: expected 1 to 52", bits);

    loaded L = {NULL, NULL, NULL};
    th_tla_sweep sw;
    memset(&sw, 0, sizeof sw);
    rc = load_problem(&p, &pb, &L);
    if (rc == TOOL_EXIT_OK) rc = run(&p, &pb, bits, &sw);
    th_tla_sweep_free(&sw);
    free(L.A);
    free(L.b);
    free(L.D);
    return rc;
}
