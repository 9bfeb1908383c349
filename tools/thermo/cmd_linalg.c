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

#include <cblas.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CMD "linalg"
#define CHART_WIDTH 640
#define CHART_HEIGHT 420
#define MAX_POINTS 20
#define MAX_COPIES 4096
/* The default averaging time, in units of the SPU's slowest relaxation
 * time tau. */
#define DEFAULT_TIME_TAU 10000.0

enum { ALG_SAMPLE, ALG_SOLVE, ALG_INV, ALG_LOGDET, ALG_LYAP, N_ALGS };
static const char *const ALG_NAMES[] = {"sample", "solve", "inv", "logdet", "lyap", NULL};
static const char *const MODEL_NAMES[] = {"rlc", "overdamped", NULL};
static const char *const INTEGRATOR_NAMES[] = {"exact", "euler", NULL};
static const char *const MAPPING_NAMES[] = {"direct", "scaled (D A D)", "doubled (signed pairs)"};

typedef struct linalg_params {
    const char *matrix, *rhs, *noise, *out;
    double time;
    size_t bits_plus_one; /* TOOL_OPT_COUNT needs >= 1: bits + 1 */
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

/* ----------------------------------------------------------- references */

static int cholesky_inverse(const double *A, size_t d, double *out)
{
    memcpy(out, A, d * d * sizeof *out);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, out, (lapack_int)d) != 0) return -1;
    if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, out, (lapack_int)d) != 0) return -1;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) out[j * d + i] = out[i * d + j];
    return 0;
}

typedef struct problem {
    int alg;
    size_t d;
    double *A;      /* (d, d) the matrix as given */
    double *prog;   /* (d, d) the matrix programmed: A, or S^-1 for sample */
    double *b;      /* (d) rhs or mean; NULL */
    double *D;      /* (d, d) lyap noise */
    double *ref;    /* LAPACK's answer: (d, d), (d) or (1) */
    size_t ref_n;
    int absolute;   /* logdet: absolute error */
} problem;

static double frob_diff(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(s);
}

static double frob(const double *a, size_t n)
{
    return cblas_dnrm2((int)n, a, 1);
}

static double rel_error(const problem *pb, const double *est)
{
    double e = frob_diff(est, pb->ref, pb->ref_n);
    return pb->absolute ? e : e / frob(pb->ref, pb->ref_n);
}

/* LAPACK's answer and how long it took (s): the best of REF_REPEATS calls
 * after one that warms the library up (its first call starts threads and
 * touches pages, which would be charged to an 8 x 8 solve). 0, or -1 after
 * printing. */
#define REF_REPEATS 5
static int reference_once(problem *pb);
static int reference(problem *pb, double *wall)
{
    if (reference_once(pb) != 0) return -1;
    *wall = INFINITY;
    for (int k = 0; k < REF_REPEATS; k++) {
        double t0 = tool_now();
        if (reference_once(pb) != 0) return -1;
        *wall = fmin(*wall, tool_now() - t0);
    }
    return 0;
}

static int reference_once(problem *pb)
{
    const size_t d = pb->d;
    int bad = 0;
    switch (pb->alg) {
    case ALG_SAMPLE:
        memcpy(pb->ref, pb->A, d * d * sizeof *pb->ref);
        bad = cholesky_inverse(pb->A, d, pb->prog);
        break;
    case ALG_INV:
        bad = cholesky_inverse(pb->A, d, pb->ref);
        break;
    case ALG_SOLVE: {
        double *W = malloc(d * d * sizeof *W);
        if (!W) return -1;
        memcpy(W, pb->A, d * d * sizeof *W);
        memcpy(pb->ref, pb->b, d * sizeof *pb->ref);
        bad = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, 1, W, (lapack_int)d, pb->ref,
                            1) != 0;
        free(W);
        break;
    }
    case ALG_LOGDET: {
        double *W = malloc(d * d * sizeof *W);
        if (!W) return -1;
        memcpy(W, pb->A, d * d * sizeof *W);
        bad = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, W, (lapack_int)d) != 0;
        pb->ref[0] = 0.0;
        for (size_t i = 0; i < d && !bad; i++) pb->ref[0] += 2.0 * log(W[i * d + i]);
        free(W);
        break;
    }
    case ALG_LYAP:
        if (th_lyap_solve(pb->A, pb->D, d, pb->ref) != TH_OK) {
            tool_fail_lib(CMD, TH_EINVAL);
            return -1;
        }
        break;
    }
    if (bad) {
        fprintf(stderr, "thermo " CMD ": %s: the matrix is not symmetric positive definite "
                "(LAPACK's Cholesky factorisation failed)\n", pb->alg == ALG_SAMPLE ?
                "the covariance S" : "matrix A");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- running */

static th_spu *program(const problem *pb, const th_spu_params *hw)
{
    if (pb->alg == ALG_LYAP) return th_spu_alloc_lyap(pb->A, pb->D, pb->d);
    return th_spu_alloc(hw, pb->prog, pb->alg == ALG_SOLVE ? pb->b : NULL, pb->d);
}

/* The infinite-time answer of one programmed copy, into out (ref_n). */
static int hardware_answer(const problem *pb, const th_spu *s, double *out)
{
    const size_t d = pb->d;
    double *cov = malloc(d * d * sizeof *cov), *mean = malloc(d * sizeof *mean);
    int rc = cov && mean ? th_spu_stationary(s, mean, cov) : TH_ENOMEM;
    if (rc == TH_OK) {
        if (pb->alg == ALG_SOLVE && s->params.model == TH_SPU_OVERDAMPED) {
            memcpy(out, mean, d * sizeof *out);
        } else if (pb->alg == ALG_SOLVE) {
            for (size_t i = 0; i < d; i++) {
                double v = 0.0;
                for (size_t j = 0; j < d; j++) v += cov[i * d + j] * pb->b[j];
                out[i] = v / s->cov_scale;
            }
        } else {
            for (size_t k = 0; k < d * d; k++) out[k] = cov[k] / s->cov_scale;
        }
    }
    free(cov);
    free(mean);
    return rc;
}

/* One point: copies runs of the algorithm, merged. samples (n, d) or NULL. */
static int run_point(const problem *pb, const th_spu_params *hw0, const linalg_params *p,
                     double time, uint64_t seed, size_t n_samples, double *samples,
                     th_tla_result *out)
{
    th_tla_result *runs = calloc(p->copies, sizeof *runs);
    if (!runs) return TH_ENOMEM;
    int rc = TH_OK;
    size_t done = 0;
    for (size_t c = 0; c < p->copies && rc == TH_OK; c++) {
        th_spu_params hw = *hw0;
        hw.copy = c;
        th_tla_protocol pr = th_tla_protocol_default();
        pr.time = time;
        pr.seed = seed;
        pr.chains = p->chains;
        pr.batches = p->batches;
        pr.integrator = (th_tla_integrator)p->integrator;
        pr.lambda_nodes = p->nodes;
        if (pb->alg == ALG_LOGDET) {
            rc = th_tla_logdet(&hw, pb->A, pb->d, &pr, &runs[c]);
        } else {
            th_spu *s = program(pb, &hw);
            if (!s) {
                rc = TH_EINVAL;
                break;
            }
            switch (pb->alg) {
            case ALG_SAMPLE:
                rc = th_tla_sample(s, &pr, pb->b, c == 0 ? n_samples : 0, c == 0 ? samples : NULL,
                                   &runs[c]);
                break;
            case ALG_SOLVE: rc = th_tla_solve(s, &pr, &runs[c]); break;
            case ALG_INV: rc = th_tla_inverse(s, &pr, &runs[c]); break;
            default: rc = th_tla_lyap(s, &pr, &runs[c]); break;
            }
            th_spu_free(s);
        }
        if (rc == TH_OK) done++;
    }
    if (rc == TH_OK) rc = th_tla_merge(runs, done, out);
    for (size_t c = 0; c < done; c++) th_tla_result_free(&runs[c]);
    free(runs);
    return rc;
}

/* The floor: error of the copies' merged infinite-time answer; -1 when not
 * computed (logdet with imprecise parts). */
static int hardware_floor(const problem *pb, const th_spu_params *hw0, size_t copies,
                          double *floor_out)
{
    *floor_out = 0.0;
    if (pb->alg == ALG_LYAP || (hw0->bits == 0 && hw0->mismatch == 0.0)) return TH_OK;
    if (pb->alg == ALG_LOGDET) {
        *floor_out = -1.0;
        return TH_OK;
    }
    double *acc = calloc(pb->ref_n, sizeof *acc), *one = malloc(pb->ref_n * sizeof *one);
    int rc = acc && one ? TH_OK : TH_ENOMEM;
    for (size_t c = 0; c < copies && rc == TH_OK; c++) {
        th_spu_params hw = *hw0;
        hw.copy = c;
        th_spu *s = program(pb, &hw);
        if (!s) {
            rc = TH_EINVAL;
            break;
        }
        rc = hardware_answer(pb, s, one);
        th_spu_free(s);
        for (size_t k = 0; k < pb->ref_n && rc == TH_OK; k++) acc[k] += one[k] / (double)copies;
    }
    if (rc == TH_OK) *floor_out = rel_error(pb, acc);
    free(acc);
    free(one);
    return rc;
}

static int write_csv(const char *path, const char *time_name, const double *t, const double *err,
                     const double *est, size_t n, double floor_value)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%s,error,error_estimate,floor\n", time_name);
    for (size_t k = 0; k < n; k++) {
        fprintf(f, "%.6e,%.6e,%.6e,", t[k], err[k], est[k]);
        if (floor_value >= 0.0) fprintf(f, "%.6e", floor_value);
        fputc('\n', f);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

static int draw_chart(const char *path, const double *t, const double *err, const double *est,
                      size_t n, double floor_value)
{
    double guide[MAX_POINTS], flo[2], flt[2] = {t[0], t[n - 1]};
    for (size_t k = 0; k < n; k++) guide[k] = est[0] * sqrt(t[0] / t[k]);
    flo[0] = flo[1] = floor_value;
    th_plot_series ser[4] = {
        {t, guide, n, {60, 160, 60}, 1, 0},
        {t, est, n, {40, 90, 200}, 1, 1},
        {t, err, n, {200, 30, 30}, 0, 1},
        {flt, flo, 2, {120, 120, 120}, 1, 0},
    };
    size_t n_series = floor_value > 0.0 ? 4 : 3;
    th_canvas *c = th_plot_loglog(ser, n_series, CHART_WIDTH, CHART_HEIGHT);
    if (!c) return -1;
    int rc = th_png_write(path, c, 1);
    th_canvas_free(c);
    return rc == TH_OK ? 0 : -1;
}

static int make_folder(const char *dir)
{
    return tool_make_folder(CMD, dir) == TOOL_EXIT_OK ? 0 : -1;
}

static void free_problem(problem *pb)
{
    free(pb->A);
    free(pb->prog);
    free(pb->b);
    free(pb->D);
    free(pb->ref);
}

/* Reads the files and checks their shapes; 0, or an exit status. */
static int load_problem(const linalg_params *p, problem *pb)
{
    size_t r, c;
    if (read_matrix(p->matrix, "--matrix", &pb->A, &r, &c) != 0) return TOOL_EXIT_FAIL;
    if (r != c) {
        fprintf(stderr, "thermo " CMD ": --matrix %s is %zu x %zu: expected a square matrix\n",
                p->matrix, r, c);
        return TOOL_EXIT_FAIL;
    }
    const size_t d = pb->d = r;
    if (pb->alg == ALG_SOLVE && !p->rhs) return tool_usage_error(CMD, "solve needs --rhs b.mtx");
    if (p->rhs && pb->alg != ALG_SOLVE && pb->alg != ALG_SAMPLE)
        return tool_usage_error(CMD, "--rhs is used by solve (b) and sample (the mean m) only");
    if (p->noise && pb->alg != ALG_LYAP)
        return tool_usage_error(CMD, "--noise is used by lyap only");
    if (pb->alg == ALG_LYAP && p->model != TH_SPU_OVERDAMPED)
        return tool_usage_error(CMD, "lyap runs on the overdamped idealisation only: add "
                                "--model overdamped (the RLC board's drift is fixed by its "
                                "circuit)");
    if (p->rhs && read_vector(p->rhs, "--rhs", d, &pb->b) != 0) return TOOL_EXIT_FAIL;
    if (pb->alg == ALG_LYAP) {
        if (p->noise) {
            if (read_matrix(p->noise, "--noise", &pb->D, &r, &c) != 0) return TOOL_EXIT_FAIL;
            if (r != d || c != d) {
                fprintf(stderr, "thermo " CMD ": --noise %s is %zu x %zu: expected %zu x %zu "
                        "like --matrix\n", p->noise, r, c, d, d);
                return TOOL_EXIT_FAIL;
            }
        } else {
            pb->D = calloc(d * d, sizeof *pb->D);
            if (!pb->D) return TOOL_EXIT_FAIL;
            for (size_t i = 0; i < d; i++) pb->D[i * d + i] = 1.0;
        }
    }
    pb->prog = malloc(d * d * sizeof *pb->prog);
    pb->ref_n = pb->alg == ALG_SOLVE ? d : (pb->alg == ALG_LOGDET ? 1 : d * d);
    pb->ref = malloc(pb->ref_n * sizeof *pb->ref);
    if (!pb->prog || !pb->ref) return TOOL_EXIT_FAIL;
    memcpy(pb->prog, pb->A, d * d * sizeof *pb->prog);
    pb->absolute = pb->alg == ALG_LOGDET;
    return TOOL_EXIT_OK;
}

int cmd_linalg(int argc, char **argv)
{
    linalg_params p = {.matrix = NULL, .rhs = NULL, .noise = NULL, .out = "linalg-out",
                       .time = 0.0, .bits_plus_one = 1, .mismatch = 0.0, .copies = 1,
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
        {"bits", "B", TOOL_OPT_COUNT, &p.bits_plus_one, NULL,
         "coupling capacitances rounded to B bits of their range", "exact"},
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
    problem pb;
    memset(&pb, 0, sizeof pb);
    pb.alg = -1;
    for (int k = 0; k < N_ALGS; k++)
        if (strcmp(argv[1], ALG_NAMES[k]) == 0) pb.alg = k;
    if (pb.alg < 0)
        return tool_usage_error(CMD, "unknown algorithm '%s': expected sample, solve, inv, "
                                "logdet or lyap", argv[1]);
    int rc = tool_parse(CMD, opts, n_opts, argc - 1, argv + 1);
    if (rc == TOOL_PARSE_HELP) {
        print_help(opts, n_opts);
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    bits = p.bits_plus_one - 1;
    if (!p.matrix) return tool_usage_error(CMD, "--matrix A.mtx is required");
    if (p.points > MAX_POINTS)
        return tool_usage_error(CMD, "--points %zu: expected at most %d", p.points, MAX_POINTS);
    if (p.copies > MAX_COPIES)
        return tool_usage_error(CMD, "--copies %zu: expected at most %d", p.copies, MAX_COPIES);
    if (p.batches < 2)
        return tool_usage_error(CMD, "--batches %zu: expected at least 2", p.batches);
    if (p.mismatch > 0.5)
        return tool_usage_error(CMD, "--mismatch %g: expected a relative sd in [0, 0.5]",
                                p.mismatch);
    if (pb.alg == ALG_LYAP && (bits || p.mismatch > 0.0 || p.copies > 1))
        return tool_usage_error(CMD, "lyap: --bits, --mismatch and --copies apply to the "
                                "capacitor network, which lyap does not use");
    /* The library checks bits too; the message is clearer here. */
    if (bits > 52) return tool_usage_error(CMD, "--bits %zu: expected 1 to 52", bits);

    rc = load_problem(&p, &pb);
    if (rc != TOOL_EXIT_OK) {
        free_problem(&pb);
        return rc;
    }
    const size_t d = pb.d;
    double lapack_wall = 0.0;
    if (reference(&pb, &lapack_wall) != 0) {
        free_problem(&pb);
        return TOOL_EXIT_FAIL;
    }
    if (make_folder(p.out) != 0) {
        free_problem(&pb);
        return TOOL_EXIT_FAIL;
    }

    th_spu_params hw = th_spu_params_default();
    hw.model = (th_spu_model)p.model;
    hw.bits = (unsigned)bits;
    hw.mismatch = p.mismatch;
    /* Probe the programmed hardware for tau and the mapping. */
    th_spu *probe = pb.alg == ALG_LOGDET ? th_spu_alloc(&hw, pb.A, NULL, d) : program(&pb, &hw);
    if (!probe) {
        free_problem(&pb);
        if (pb.alg == ALG_SAMPLE)
            fprintf(stderr, "thermo " CMD ": sample programs the SPU with the precision S^-1 "
                    "of the covariance S given by --matrix\n");
        return tool_fail_lib(CMD, TH_EINVAL);
    }
    const double tau = probe->tau;
    const char *unit = hw.model == TH_SPU_RLC ? "s" : "1/gamma";
    if (!p.quiet) {
        printf("matrix      %s (%zu x %zu)\n", p.matrix, d, d);
        if (hw.model == TH_SPU_RLC)
            printf("hardware    RLC board, %zu cells, mapping %s, alpha %.3g F per unit\n",
                   probe->cells, MAPPING_NAMES[probe->mapping], probe->alpha);
        else
            printf("hardware    overdamped idealisation, %zu units\n", d);
        printf("tau         %.4g %s (slowest relaxation), fastest %.4g %s\n", tau, unit,
               probe->tau_fast, unit);
        char bits_text[24];
        snprintf(bits_text, sizeof bits_text, bits ? "%zu" : "exact", bits);
        printf("imprecision bits %s, mismatch %g, copies %zu\n", bits_text, p.mismatch,
               p.copies);
    }
    th_spu_free(probe);
    const double T = p.time > 0.0 ? p.time : DEFAULT_TIME_TAU * tau;

    double floor_value = 0.0;
    if (hardware_floor(&pb, &hw, p.copies, &floor_value) != TH_OK) {
        free_problem(&pb);
        return tool_fail_lib(CMD, TH_EINVAL);
    }
    double times[MAX_POINTS], errs[MAX_POINTS], ests[MAX_POINTS], walls[MAX_POINTS];
    double *samples = NULL;
    if (pb.alg == ALG_SAMPLE) {
        samples = malloc(p.samples * d * sizeof *samples);
        if (!samples) {
            free_problem(&pb);
            fprintf(stderr, "thermo " CMD ": out of memory for %zu samples\n", p.samples);
            return TOOL_EXIT_FAIL;
        }
    }
    th_tla_result last;
    memset(&last, 0, sizeof last);
    if (!p.quiet)
        printf("\n%-14s %-12s %-12s %-12s %s\n", unit[0] == 's' ? "time_s" : "time_1/gamma",
               pb.absolute ? "abs_error" : "rel_error", "estimated", "floor", "wall_s");
    for (size_t k = 0; k < p.points; k++) {
        const double t = T / ldexp(1.0, (int)(p.points - 1 - k));
        th_tla_result r;
        const int final_point = k + 1 == p.points;
        double t0 = tool_now();
        rc = run_point(&pb, &hw, &p, t, p.seed + k, final_point ? p.samples : 0,
                       final_point ? samples : NULL, &r);
        walls[k] = tool_now() - t0;
        if (rc != TH_OK) {
            free(samples);
            free_problem(&pb);
            th_tla_result_free(&last);
            return tool_fail_lib(CMD, rc);
        }
        times[k] = r.sim_time;
        errs[k] = rel_error(&pb, r.estimate);
        ests[k] = pb.absolute ? r.error : r.error / frob(pb.ref, pb.ref_n);
        if (!p.quiet) {
            printf("%-14.4e %-12.4e %-12.4e ", times[k], errs[k], ests[k]);
            if (floor_value >= 0.0) printf("%-12.4e ", floor_value);
            else printf("%-12s ", "-");
            printf("%.3f\n", walls[k]);
        }
        if (final_point) last = r;
        else th_tla_result_free(&r);
    }

    char path[4200];
    int bad = 0;
    snprintf(path, sizeof path, "%s/estimate.mtx", p.out);
    if (th_mtx_write(path, last.estimate, last.rows, last.cols, "thermo linalg estimate") !=
        TH_OK) {
        bad = 1;
        tool_fail_lib(CMD, TH_EIO);
    }
    if (!bad && samples) {
        snprintf(path, sizeof path, "%s/samples.mtx", p.out);
        if (th_mtx_write(path, samples, p.samples, d, "thermo linalg samples, one per row") !=
            TH_OK) {
            bad = 1;
            tool_fail_lib(CMD, TH_EIO);
        }
    }
    snprintf(path, sizeof path, "%s/error.csv", p.out);
    if (!bad && write_csv(path, unit[0] == 's' ? "time_s" : "time_1_over_gamma", times, errs, ests,
                          p.points, floor_value) != 0) {
        fprintf(stderr, "thermo " CMD ": %s: cannot write\n", path);
        bad = 1;
    }
    snprintf(path, sizeof path, "%s/error.png", p.out);
    if (!bad && draw_chart(path, times, errs, ests, p.points, floor_value) != 0) {
        tool_fail_lib(CMD, TH_EIO);
        bad = 1;
    }
    if (!bad) {
        const double sim_wall = walls[p.points - 1];
        printf("%s: error %.3e (estimated %.3e) after %.4g %s of simulated time; simulation "
               "took %.3f s of wall time, LAPACK's direct answer %.2e s (the simulation is %.3g "
               "times slower)\n",
               ALG_NAMES[pb.alg], errs[p.points - 1], ests[p.points - 1], times[p.points - 1],
               unit, sim_wall, lapack_wall, lapack_wall > 0 ? sim_wall / lapack_wall : 0.0);
        if (pb.alg == ALG_LOGDET)
            printf("logdet %.10g, LAPACK %.10g\n", last.estimate[0], pb.ref[0]);
    }
    th_tla_result_free(&last);
    free(samples);
    free_problem(&pb);
    return bad ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}
