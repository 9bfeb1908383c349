/* internal.h - what the library's modules share and users do not see. */
#ifndef THERMO_INTERNAL_H
#define THERMO_INTERNAL_H

#include "thermo.h"

#include <stdio.h>
#include <stdlib.h>

/* Records a detailed message for th_last_error() and returns code, so that a
 * failure reads: return th__fail(TH_EINVAL, "dt = %g: expected dt > 0", dt); */
int th__fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Contract checks stay on in release builds: a violated contract is a bug in
 * the caller, and continuing would corrupt results silently. */
#define TH_ASSERT(cond)                                                      \
    do {                                                                     \
        if (!(cond)) th__assert_fail(#cond, __FILE__, __LINE__, __func__);   \
    } while (0)
_Noreturn void th__assert_fail(const char *expr, const char *file, int line,
                               const char *func);

/* A function compiled for several instruction sets, the best one for the
 * running processor picked when the library is loaded (GNU ifunc; the build
 * itself stays free of -march flags): for loops the compiler vectorises
 * whose arithmetic is elementwise, or fixed in order, so that every version
 * gives the same bits (no fused multiply-adds: -std=c11 implies
 * -ffp-contract=off). gcc only: clang 14 emits the dispatcher only in
 * translation units that call the function. Define TH_NO_TARGET_CLONES to
 * build the plain version only. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(TH_NO_TARGET_CLONES) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define TH__CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef TH__CLONES
#define TH__CLONES
#endif

/* Allocation aligned for vector loads; sizes in bytes. NULL on failure. */
void *th__alloc(size_t bytes);
void *th__calloc(size_t count, size_t size);
void th__free(void *p);

/* The batch of trajectories, opaque to users (thermo/core.h). */
struct th_batch {
    th_dtype dtype;
    size_t n;          /* units per trajectory */
    size_t b;          /* trajectories */
    th_ptr x;          /* (b, n) current states; initially 0 */
    double *heat;      /* (b) heat given to the bath so far, in units of kT */
    double *work;      /* (b) work done on the system by the drive, in units of kT */
    uint64_t seed;
    uint64_t *stream;  /* (b) noise stream of each trajectory */
    uint64_t step;     /* steps taken so far; the position in every stream */
    double t;          /* time reached */
    th_ptr work_force; /* (b, n) workspace: coupling forces */
    th_ptr work_next;  /* (b, n) workspace: the noise, then the new states of a step */
    /* Coloured noise (th_device_bath): the OU state of every unit of every
     * trajectory, allocated by the first run that needs it; eta_tau is the
     * tau_c it was drawn for, 0 when it must be drawn afresh. */
    th_ptr eta;        /* (b, n) */
    double eta_tau;
};

/* Matrix products (and every other hot operation) go through the backend
 * seam, never through BLAS directly. */
#include "backend.h"

/* The coupling forces F = X J of many batches of states under one model:
 * the model's coupled blocks of J packed once (langevin.c). The model must
 * not change while the plan lives. */
typedef struct th__force_plan th__force_plan;
th__force_plan *th__force_plan_alloc(const th_model *m); /* NULL: TH_ENOMEM */
void th__force_plan_free(th__force_plan *fp);
/* F = X J for M rows of states X (M, n), in the model's dtype: one matrix
 * product per coupled block row; columns of F that no coupled block reaches
 * are set to 0. */
void th__coupling_force(const th__force_plan *fp, size_t M, th_ptr X, th_ptr F);

/* th_langevin_run for runs whose states alone matter (the generator's
 * noising paths and the noise phase of sampling): without th_model_validate,
 * whose O(n^2) scan would dominate many short runs of a model the library
 * built itself and knows to be valid, and without the heat and work, which
 * stay as they were. Without those sums the fused step's row vectorises;
 * the states are the same to the bit as th_langevin_run's. */
int th__langevin_run_states(const th_model *m, th_batch *s, const th_run *r);

/* The exact minimiser of a path objective quadratic in the couplings and
 * biases (pathsolve.c): residual e_i = c_i + a (sum_j J_ij y_j + b_i) on the
 * moving units [move_begin, move_end), summed over rows into the sufficient
 * statistics G = sum y~ y~^T (n+1, n+1, full), H = sum c y~^T (n, n+1; only
 * the moving rows are read) and q = sum |c|^2, y~ = (y, 1). The objective is
 * sum e^2 / (4 a kT). */
typedef struct th__quad_problem {
    size_t n;                     /* units */
    const double *G, *H;
    double q;
    size_t move_begin, move_end;  /* the moving units */
    /* Whether the solve trains b_i of moving unit i; NULL: every one. */
    int (*bias_trained)(const void *ctx, size_t i);
    const void *bias_ctx;
    double a, kT;                 /* mu dt and the temperature */
    int ridge_clamped;            /* the ridge also on moving-clamped pairs */
} th__quad_problem;

/* The objective of m's parameters, from the statistics alone. */
int th__quad_loss(const th__quad_problem *pb, const th_model *m, double *loss);

/* Sets m's couplings between coupled pairs with a moving unit, and its
 * trained biases, to the minimiser (CG from m's values). */
int th__quad_solve(const th__quad_problem *pb, th_model *m, const th_solve_opts *opts,
                   th_solve_result *result);

/* S <= TH__MAX_STACK problems of one pattern (pbs[s] differ only in G, H,
 * q), solved together for models[s] with the ridge opts->ridge times
 * ridge_share[s] on segment s (NULL: 1 each) and the neighbour penalty
 * (penalty/2) sum_s |theta_{s+1} - theta_s|^2 on the parameters (couplings
 * and trained biases), by CG over the stacked system. S = 1 with
 * ridge_share NULL: th__quad_solve. */
#define TH__MAX_STACK 64
int th__quad_solve_stacked(const th__quad_problem *pbs, size_t S, const double *ridge_share,
                           double penalty, th_model *const *models, const th_solve_opts *opts,
                           th_solve_result *result);

/* A copy of m: groups, pattern, constants and every parameter. NULL:
 * TH_ENOMEM (th_last_error). */
th_model *th__model_copy(const th_model *m);

#endif
