/* test_gen_solve.c - exact least-squares training and class-conditional
 * generators: the sufficient statistics against the objective evaluated
 * path by path, the conjugate-gradient minimiser against a dense LAPACK
 * least-squares solve built independently from the raw noising paths, the
 * fast objective of a conditional model against its reference twin, and
 * class handling in sampling. */
#include "harness.h"
#include "thermo.h"
#include "gen/gen_internal.h"

#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The generator is test_gen_tiny_params (harness.h): its 40 steps in blocks
 * of 9 cross block boundaries. */
static th_gen_stats *accumulate(const th_gen_params *p, th_dtype dtype, const float *img,
                                const int *cls, size_t count, size_t paths, size_t batch,
                                size_t stride)
{
    th_gen_stats *s = NULL;
    int rc = th_gen_stats_accumulate(p, dtype, img, cls, count, paths, batch, stride, NULL, NULL,
                                     &s);
    if (rc != TH_OK) fprintf(stderr, "  accumulate: %s\n", th_last_error());
    CHECK_EQ_INT(rc, TH_OK);
    return s;
}

/* The loss of equation (1) from the statistics equals the objective summed
 * path by path by the reference loops (float64), for a conditional and an
 * unconditional generator, with batches that split the paths unevenly. */
static void test_stats_loss_matches_objective(void)
{
    for (size_t C = 0; C <= 2; C += 2) {
        th_gen_params p = test_gen_tiny_params(C);
        const size_t count = 3, paths = 5;
        float *img = test_standard_images(count, p.n_visible, 31);
        int cls[3] = {1, 0, 1};
        th_model *m = test_gen_random_model(&p, TH_F64, 0.5, 77 + C);
        th_gen_stats *s = accumulate(&p, TH_F64, img, C ? cls : NULL, count, paths, 2, 1);
        CHECK(th_gen_stats_paths(s) == paths);
        CHECK(th_gen_stats_rows(s) == paths * th_gen_steps(&p));
        double from_stats = NAN;
        CHECK_EQ_INT(th_gen_stats_loss(s, m, &from_stats), TH_OK);
        /* the same paths, one call each with its id and class */
        double direct = 0;
        for (size_t q = 0; q < paths; q++) {
            uint64_t id = q;
            int c = cls[q % count];
            double l = 0;
            CHECK_EQ_INT(th_gen_path_loss(m, &p, img + (q % count) * p.n_visible,
                                          C ? &c : NULL, &id, 1, TH_KERNEL_REFERENCE, &l, NULL),
                         TH_OK);
            direct += l;
        }
        CHECK_REL(from_stats, direct, 1e-10);
        th_gen_stats_free(s);
        th_model_free(m);
        free(img);
    }
}

/* The minimiser against an independent dense least-squares solve: the
 * residuals e = c + D theta are written out row by row from the raw states
 * (one row per step, path and moving unit; one column per coupled pair and
 * trained bias) and LAPACK's dgels minimises |c + D theta|^2. */
struct design {
    const th_gen_params *p;
    const th_model *pattern;
    size_t n_params, n_rows, row;
    size_t stride;       /* steps k with k mod stride = 0 */
    size_t *pi, *pj;     /* parameter k: pair (pi, pj), or bias of pi when pj == n */
    double *D;           /* (n_rows, n_params), column-major for LAPACK */
    double *c;           /* (n_rows) */
};

static int design_block(th_ptr states, size_t T, size_t B, size_t first_step, void *vctx)
{
    struct design *d = vctx;
    const th_gen_params *p = d->p;
    const size_t n = th_gen_units(p), n_moving = p->n_visible + p->n_hidden;
    const double a = p->mu * p->dt;
    for (size_t k = 0; k < T; k++)
        for (size_t b = 0; (first_step + k) % d->stride == 0 && b < B; b++) {
            const double *x = states.f64 + (k * B + b) * n, *y = states.f64 + ((k + 1) * B + b) * n;
            for (size_t i = 0; i < n_moving; i++) {
                const size_t row = d->row++;
                /* the well of unit i as the model holds it (double wells on
                 * hidden units when the settings say so) */
                const double J2 = th_ptr_get(d->pattern->J2, d->pattern->dtype, i);
                d->c[row] = -(y[i] - x[i]) + a * (2 * J2 * y[i] + 4 * p->J4 * pow(y[i], 3));
                for (size_t q = 0; q < d->n_params; q++) {
                    double v = 0;
                    if (d->pj[q] == n)
                        v = d->pi[q] == i ? a : 0;
                    else if (d->pi[q] == i)
                        v = a * y[d->pj[q]];
                    else if (d->pj[q] == i)
                        v = a * y[d->pi[q]];
                    d->D[q * d->n_rows + row] = v;
                }
            }
        }
    return TH_OK;
}

/* With class_ridge > 0 the label couplings (a moving unit and a clamped
 * label) get their own penalty rows; with visible_bias the pixels' biases
 * are parameters too. */
static void check_against_dense_with(size_t C, size_t stride, double ridge, size_t label_visible,
                                     double class_ridge, size_t visible_bias, double bias_ridge,
                                     size_t double_well)
{
    th_gen_params p = test_gen_tiny_params(C);
    p.label_visible = label_visible;
    p.visible_bias = visible_bias;
    p.hidden_double_well = double_well;
    const size_t count = 2, paths = 3, n = th_gen_units(&p);
    const size_t n_moving = p.n_visible + p.n_hidden;
    float *img = test_standard_images(count, p.n_visible, 8);
    int cls[2] = {1, 0};
    th_model *m = th_gen_model_alloc(&p, TH_F64);

    struct design d = {.p = &p, .pattern = m, .stride = stride};
    d.pi = malloc(n * n * sizeof(size_t));
    d.pj = malloc(n * n * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (th_model_groups_couple(m, i, j)) {
                d.pi[d.n_params] = i;
                d.pj[d.n_params++] = j;
            }
    for (size_t i = 0; i < n; i++)
        if (th__gen_bias_trained(&p, i)) {
            d.pi[d.n_params] = i;
            d.pj[d.n_params++] = n;
        }
    const size_t n_data_rows = paths * ((th_gen_steps(&p) + stride - 1) / stride) * n_moving;
    /* the ridge as extra rows sqrt(2 a kT lambda) theta_q = 0 on the
     * penalised couplings (those between moving units) */
    size_t n_pen = 0;
    for (size_t q = 0; q < d.n_params; q++)
        n_pen += (ridge > 0 && d.pj[q] < n_moving) ||
                 (class_ridge > 0 && d.pj[q] >= n_moving && d.pj[q] < n) ||
                 (bias_ridge > 0 && d.pj[q] == n);
    d.n_rows = n_data_rows + n_pen;
    d.D = calloc(d.n_rows * d.n_params, sizeof(double));
    d.c = calloc(d.n_rows, sizeof(double));
    for (size_t q = 0; q < paths; q++) {
        uint64_t id = q;
        int c = cls[q % count];
        CHECK_EQ_INT(th__gen_noising_paths(&p, img + (q % count) * p.n_visible, C ? &c : NULL,
                                           &id, 1, TH_F64, design_block, &d),
                     TH_OK);
    }
    CHECK(d.row == n_data_rows);
    for (size_t q = 0; q < d.n_params; q++)
        if (ridge > 0 && d.pj[q] < n_moving)
            d.D[q * d.n_rows + d.row++] = sqrt(2 * p.mu * p.dt * p.kT * ridge);
        else if (class_ridge > 0 && d.pj[q] >= n_moving && d.pj[q] < n)
            d.D[q * d.n_rows + d.row++] = sqrt(2 * p.mu * p.dt * p.kT * class_ridge);
        else if (bias_ridge > 0 && d.pj[q] == n)
            d.D[q * d.n_rows + d.row++] = sqrt(2 * p.mu * p.dt * p.kT * bias_ridge);
    /* minimise |D theta + c|: solve D theta = -c in the least-squares sense */
    double *rhs = malloc(d.n_rows * sizeof(double));
    for (size_t r = 0; r < d.n_rows; r++) rhs[r] = -d.c[r];
    CHECK_EQ_INT(LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)d.n_rows,
                               (lapack_int)d.n_params, 1, d.D, (lapack_int)d.n_rows, rhs,
                               (lapack_int)d.n_rows),
                 0);

    th_gen_stats *s = accumulate(&p, TH_F64, img, C ? cls : NULL, count, paths, 2, stride);
    CHECK(th_gen_stats_rows(s) * n_moving == n_data_rows);
    th_solve_opts o = th_solve_opts_default();
    o.tolerance = 1e-13;
    o.ridge = ridge;
    o.clamped_ridge = class_ridge;
    o.bias_ridge = bias_ridge;
    th_solve_result res;
    CHECK_EQ_INT(th_gen_stats_solve(s, m, &o, &res), TH_OK);
    CHECK(res.converged);
    double worst = 0, scale = 0;
    for (size_t q = 0; q < d.n_params; q++) {
        const double got = d.pj[q] == n ? th_ptr_get(m->b, TH_F64, d.pi[q])
                                        : th_model_get_coupling(m, d.pi[q], d.pj[q]);
        worst = fmax(worst, fabs(got - rhs[q]));
        scale = fmax(scale, fabs(rhs[q]));
    }
    if (worst > 1e-6 * scale)
        fprintf(stderr, "  %zu classes: CG differs from dgels by %g (scale %g)\n", C, worst,
                scale);
    CHECK(scale > 0);
    CHECK(worst <= 1e-6 * scale);
    /* The minimum itself: the objective at the solution is the dense
     * residual sum of squares over 4 mu kT dt. */
    double rss = 0;
    for (size_t r = d.n_params; r < d.n_rows; r++) rss += rhs[r] * rhs[r];
    double at_min = NAN;
    CHECK_EQ_INT(th_gen_stats_loss(s, m, &at_min), TH_OK);
    if (ridge == 0 && class_ridge == 0 && bias_ridge == 0) CHECK_REL(at_min, rss / (4 * p.mu * p.kT * p.dt), 1e-8);
    /* Untrained biases stay 0 (the pixels' unless visible_bias; the hidden
     * ones when the labels are there). */
    for (size_t i = 0; i < n; i++)
        if (!th__gen_bias_trained(&p, i)) CHECK(th_ptr_get(m->b, TH_F64, i) == 0.0);

    th_gen_stats_free(s);
    th_model_free(m);
    free(rhs);
    free(d.D);
    free(d.c);
    free(d.pi);
    free(d.pj);
    free(img);
}

static void check_against_dense(size_t C, size_t stride, double ridge, size_t label_visible)
{
    check_against_dense_with(C, stride, ridge, label_visible, 0.0, 0, 0.0, 0);
}

static void test_solve_matches_dense_unconditional(void) { check_against_dense(0, 1, 0.0, 0); }
/* the ridge penalises the couplings between moving units only */
static void test_solve_matches_dense_ridge(void) { check_against_dense(2, 1, 0.7, 0); }
/* stride 3 over blocks of 9 steps from 40: the chosen steps fall at
 * different places in each block */
static void test_solve_matches_dense_conditional(void) { check_against_dense(2, 3, 0.0, 0); }
/* labels coupled to the pixels as well */
static void test_solve_matches_dense_label_visible(void) { check_against_dense(2, 2, 0.3, 1); }
/* a ridge of their own on the class biases (label-hidden and label-pixel) */
static void test_solve_matches_dense_class_ridge(void)
{
    check_against_dense_with(2, 2, 0.3, 1, 2.5, 0, 0.0, 0);
}
/* the pixels' biases trained (unconditional), then with a ridge on every
 * trained bias */
static void test_solve_matches_dense_visible_bias(void)
{
    check_against_dense_with(0, 1, 0.2, 0, 0.0, 1, 0.0, 0);
    check_against_dense_with(0, 1, 0.2, 0, 0.0, 1, 40.0, 0);
}
/* hidden units in double wells: the model's wells -J2 x^2 + J4 x^4 in the
 * dense rows, conditional and not */
static void test_solve_matches_dense_double_well(void)
{
    check_against_dense_with(0, 1, 0.2, 0, 0.0, 0, 0.0, 1);
    check_against_dense_with(2, 2, 0.3, 1, 0.5, 0, 0.0, 1);
}

/* The statistics are the same bits for 1, 2 and 3 threads (the noiser
 * splits a batch's paths into one group per thread: 3 threads cut a batch
 * of 5 into 2 + 2 + 1), in float32 with a stride and float64 without:
 * the loss of a random model from them and the solved model agree to the
 * bit. */
static void test_stats_same_bits_for_any_threads(void)
{
    th_gen_params p = test_gen_tiny_params(2);
    const size_t count = 3, paths = 7;
    float *img = test_standard_images(count, p.n_visible, 41);
    int cls[3] = {1, 0, 1};
    const int saved = omp_get_max_threads();
    for (int prec = 0; prec < 2; prec++) {
        const th_dtype dt = prec ? TH_F64 : TH_F32;
        const size_t stride = prec ? 1 : 3;
        th_model *m = test_gen_random_model(&p, dt, 0.5, 5);
        double loss[3];
        th_model *solved[3];
        for (int t = 0; t < 3; t++) {
            omp_set_num_threads(t + 1);
            th_gen_stats *s = accumulate(&p, dt, img, cls, count, paths, 5, stride);
            CHECK_EQ_INT(th_gen_stats_loss(s, m, &loss[t]), TH_OK);
            solved[t] = th_gen_model_alloc(&p, dt);
            th_solve_opts o = th_solve_opts_default();
            o.ridge = 0.1;
            CHECK_EQ_INT(th_gen_stats_solve(s, solved[t], &o, NULL), TH_OK);
            th_gen_stats_free(s);
        }
        const size_t bytes = m->n * m->n * th_dtype_size(dt);
        for (int t = 1; t < 3; t++) {
            CHECK(memcmp(&loss[0], &loss[t], sizeof(double)) == 0);
            CHECK(memcmp(solved[0]->J.v, solved[t]->J.v, bytes) == 0);
        }
        for (int t = 0; t < 3; t++) th_model_free(solved[t]);
        th_model_free(m);
    }
    omp_set_num_threads(saved);
    free(img);
}

/* The exact solution's loss is no higher than gradient descent's on the
 * same paths, and the objective's gradient vanishes there. */
static void test_solve_beats_gradient_descent(void)
{
    th_gen_params p = test_gen_tiny_params(2);
    const size_t count = 4, paths = 4;
    float *img = test_standard_images(count, p.n_visible, 12);
    int cls[4] = {0, 1, 1, 0};
    th_model *gd = th_gen_model_alloc(&p, TH_F64), *ex = th_gen_model_alloc(&p, TH_F64);
    th_gen_train_opts to = th_gen_train_opts_default();
    to.updates = 20;
    to.batch = paths;
    to.learning_rate = 0.05;
    double loss[20];
    CHECK_EQ_INT(th_gen_train(gd, &p, img, cls, count, &to, 0, loss), TH_OK);
    th_gen_stats *s = accumulate(&p, TH_F64, img, cls, count, paths, 3, 1);
    th_solve_opts o = th_solve_opts_default();
    o.tolerance = 1e-10;
    CHECK_EQ_INT(th_gen_stats_solve(s, ex, &o, NULL), TH_OK);
    double l_zero = NAN, l_gd = NAN, l_ex = NAN;
    th_model *zero = th_gen_model_alloc(&p, TH_F64);
    CHECK_EQ_INT(th_gen_stats_loss(s, zero, &l_zero), TH_OK);
    CHECK_EQ_INT(th_gen_stats_loss(s, gd, &l_gd), TH_OK);
    CHECK_EQ_INT(th_gen_stats_loss(s, ex, &l_ex), TH_OK);
    CHECK(l_gd < l_zero); /* descent did learn something */
    CHECK(l_ex <= l_gd);

    /* gradient at the solution, path by path (fast kernel), against the
     * gradient at zero */
    th_model *g_ex = th_gen_model_alloc(&p, TH_F64), *g_zero = th_gen_model_alloc(&p, TH_F64);
    for (size_t q = 0; q < paths; q++) {
        uint64_t id = q;
        double l;
        CHECK_EQ_INT(th_gen_path_loss(ex, &p, img + q * p.n_visible, &cls[q], &id, 1,
                                      TH_KERNEL_FAST, &l, g_ex), TH_OK);
        CHECK_EQ_INT(th_gen_path_loss(zero, &p, img + q * p.n_visible, &cls[q], &id, 1,
                                      TH_KERNEL_FAST, &l, g_zero), TH_OK);
    }
    double n_ex = 0, n_zero = 0;
    for (size_t i = 0; i < g_ex->n * g_ex->n; i++) {
        n_ex += pow(th_ptr_get(g_ex->J, TH_F64, i), 2);
        n_zero += pow(th_ptr_get(g_zero->J, TH_F64, i), 2);
    }
    CHECK(n_zero > 0);
    CHECK(sqrt(n_ex) <= 1e-6 * sqrt(n_zero));
    th_model_free(g_ex);
    th_model_free(g_zero);
    th_model_free(zero);
    th_model_free(gd);
    th_model_free(ex);
    th_gen_stats_free(s);
    free(img);
}

/* A conditional generator's fast objective and gradient against the
 * reference loops; the label units carry no residual, so moving a label
 * unit's own bias changes nothing. */
static void test_conditional_objective_twins(void)
{
    th_gen_params p = test_gen_tiny_params(3);
    const size_t count = 3;
    float *img = test_standard_images(count, p.n_visible, 3);
    int cls[3] = {2, 0, 1};
    uint64_t ids[3] = {4, 5, 6};
    th_model *m = test_gen_random_model(&p, TH_F64, 0.4, 9);
    th_model *gf = th_gen_model_alloc(&p, TH_F64), *gr = th_gen_model_alloc(&p, TH_F64);
    double lf = 0, lr = 0;
    CHECK_EQ_INT(th_gen_path_loss(m, &p, img, cls, ids, 3, TH_KERNEL_FAST, &lf, gf), TH_OK);
    CHECK_EQ_INT(th_gen_path_loss(m, &p, img, cls, ids, 3, TH_KERNEL_REFERENCE, &lr, gr), TH_OK);
    CHECK_REL(lf, lr, 1e-12);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < m->n * m->n; i++) {
        worst = fmax(worst, fabs(th_ptr_get(gf->J, TH_F64, i) - th_ptr_get(gr->J, TH_F64, i)));
        scale = fmax(scale, fabs(th_ptr_get(gr->J, TH_F64, i)));
    }
    CHECK(worst <= 1e-10 * scale);
    /* label-hidden gradient present, label-visible absent */
    const size_t l0 = p.n_visible + p.n_hidden;
    CHECK(th_ptr_get(gr->J, TH_F64, l0 * m->n + p.n_visible) != 0.0);
    CHECK(th_ptr_get(gr->J, TH_F64, l0 * m->n + 0) == 0.0);
    double before = lf, after = 0;
    th_ptr_set(m->b, TH_F64, l0, 3.0);
    CHECK_EQ_INT(th_gen_path_loss(m, &p, img, cls, ids, 3, TH_KERNEL_FAST, &after, NULL), TH_OK);
    CHECK(after == before);
    th_model_free(m);
    th_model_free(gf);
    th_model_free(gr);
    free(img);
}

/* Sample k is a function of the model, the seed and k alone: 9 samples in
 * batches of 9, of 4 and of 1, and samples 5..8 asked for on their own
 * (first = 5), are the same bits, states and heat. */
static void test_sampling_batch_invariant(void)
{
    th_gen_params p = test_gen_tiny_params(0);
    th_model *m = test_gen_random_model(&p, TH_F32, 0.8, 22);
    const size_t count = 9, nv = p.n_visible;
    float *x[4];
    double *q[4];
    static const size_t batches[3] = {9, 4, 1};
    th_gen_sample_opts so = th_gen_sample_opts_default();
    for (int v = 0; v < 4; v++) {
        x[v] = malloc(count * nv * sizeof(float));
        q[v] = malloc(count * sizeof(double));
        so.batch = v < 3 ? batches[v] : 3;
        so.first = v < 3 ? 0 : 5;
        CHECK_EQ_INT(th_gen_sample(m, &p, v < 3 ? count : 4, &so, x[v], q[v]), TH_OK);
    }
    for (int v = 1; v < 3; v++) {
        CHECK(memcmp(x[0], x[v], count * nv * sizeof(float)) == 0);
        CHECK(memcmp(q[0], q[v], count * sizeof(double)) == 0);
    }
    CHECK(memcmp(x[0] + 5 * nv, x[3], 4 * nv * sizeof(float)) == 0);
    CHECK(memcmp(q[0] + 5, q[3], 4 * sizeof(double)) == 0);
    for (int v = 0; v < 4; v++) free(x[v]), free(q[v]);
    th_model_free(m);
}

/* With the noise phase drawn exactly, the computing phase starts from
 * th_batch_draw_wells's states on the samples' streams (the snapshot at its
 * step 0), the label units at their class code; samples stay functions of
 * k alone (batches of 5 and 2); the default, Euler, differs from it; and a
 * phase1 out of range is refused. */
static void test_sampling_phase1_exact(void)
{
    th_gen_params p = test_gen_tiny_params(2);
    th_model *m = test_gen_random_model(&p, TH_F32, 0.8, 23);
    const size_t count = 5, nv = p.n_visible, n = m->n, snap0 = 0;
    float *x[3], snaps[5 * 5];
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.phase1 = TH_GEN_PHASE1_EXACT;
    so.snap_steps = &snap0;
    so.n_snaps = 1;
    so.snap_traj = count;
    so.snap_out = snaps;
    for (int v = 0; v < 3; v++) {
        x[v] = malloc(count * nv * sizeof(float));
        so.batch = v == 1 ? 2 : count;
        if (v == 1) so.n_snaps = 0, so.snap_traj = 0;
        if (v == 2) so.phase1 = TH_GEN_PHASE1_EULER;
        CHECK_EQ_INT(th_gen_sample(m, &p, count, &so, x[v], NULL), TH_OK);
    }
    CHECK(memcmp(x[0], x[1], count * nv * sizeof(float)) == 0);
    CHECK(memcmp(x[0], x[2], count * nv * sizeof(float)) != 0);
    /* the same draws by hand: the uncoupled wells, labels clamped */
    th_model *wells = th_gen_model_alloc(&p, TH_F32);
    th_batch *b = th_batch_alloc(wells, count, p.seed);
    unsigned char clamped[64];
    int cls[5];
    for (size_t k = 0; k < count; k++) {
        th_batch_set_stream(b, k, TH_GEN_SAMPLE_STREAM + k);
        cls[k] = (int)(k % p.n_classes);
    }
    th__gen_clamp_labels(&p, TH_F32, cls, count, th_batch_states(b), clamped);
    CHECK_EQ_INT(th_batch_draw_wells(wells, b, clamped), TH_OK);
    int same = 1;
    for (size_t k = 0; k < count; k++)
        for (size_t i = 0; i < nv; i++) same &= snaps[k * nv + i] == th_batch_states(b).f32[k * n + i];
    CHECK(same);
    so.phase1 = 2;
    CHECK_EQ_INT(th_gen_sample(m, &p, count, &so, x[0], NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "phase1");
    th_batch_free(b);
    th_model_free(wells);
    for (int v = 0; v < 3; v++) free(x[v]);
    th_model_free(m);
}

/* Conditional sampling: an explicit class list equal to the default mixture
 * (first + k) mod C gives the same samples; a different class gives
 * different samples; classes out of range are refused. */
static void test_conditional_sampling_classes(void)
{
    th_gen_params p = test_gen_tiny_params(2);
    th_model *m = test_gen_random_model(&p, TH_F32, 0.8, 21);
    /* strong class biases so the class shows in the samples */
    const size_t l0 = p.n_visible + p.n_hidden;
    for (size_t a = 0; a < p.n_hidden; a++) {
        th_model_set_coupling(m, l0, p.n_visible + a, 3.0);
        th_model_set_coupling(m, l0 + 1, p.n_visible + a, -3.0);
    }
    const size_t count = 6, nv = p.n_visible;
    float *x_default = malloc(count * nv * sizeof(float));
    float *x_listed = malloc(count * nv * sizeof(float));
    float *x_other = malloc(count * nv * sizeof(float));
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.batch = 4;
    so.first = 3;
    CHECK_EQ_INT(th_gen_sample(m, &p, count, &so, x_default, NULL), TH_OK);
    int listed[6], other[6];
    for (int k = 0; k < 6; k++) {
        listed[k] = (3 + k) % 2;
        other[k] = 1 - listed[k];
    }
    so.classes = listed;
    CHECK_EQ_INT(th_gen_sample(m, &p, count, &so, x_listed, NULL), TH_OK);
    CHECK(memcmp(x_default, x_listed, count * nv * sizeof(float)) == 0);
    so.classes = other;
    CHECK_EQ_INT(th_gen_sample(m, &p, count, &so, x_other, NULL), TH_OK);
    CHECK(memcmp(x_default, x_other, count * nv * sizeof(float)) != 0);
    int bad[6] = {0, 1, 2, 0, 1, 0};
    so.classes = bad;
    CHECK_EQ_INT(th_gen_sample(m, &p, count, &so, x_other, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "class 2");
    th_model_free(m);
    free(x_default);
    free(x_listed);
    free(x_other);
}

/* Bad settings are refused with a message. */
static void test_solve_rejects_bad_input(void)
{
    th_gen_params p = test_gen_tiny_params(2);
    float *img = test_standard_images(2, p.n_visible, 1);
    th_gen_stats *s = NULL;
    CHECK_EQ_INT(th_gen_stats_accumulate(&p, TH_F64, img, NULL, 2, 2, 1, 1, NULL, NULL, &s),
                 TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "class");
    int cls[2] = {0, 5};
    CHECK_EQ_INT(th_gen_stats_accumulate(&p, TH_F64, img, cls, 2, 2, 1, 1, NULL, NULL, &s),
                 TH_EINVAL);
    cls[1] = 1;
    CHECK_EQ_INT(th_gen_stats_accumulate(&p, TH_F64, img, cls, 2, 0, 1, 1, NULL, NULL, &s),
                 TH_EINVAL);
    CHECK_EQ_INT(th_gen_stats_accumulate(&p, TH_F64, img, cls, 2, 2, 1, 0, NULL, NULL, &s),
                 TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "stride");
    CHECK(s == NULL);
    s = accumulate(&p, TH_F64, img, cls, 2, 2, 1, 1);
    th_gen_params other = test_gen_tiny_params(0);
    th_model *wrong = th_gen_model_alloc(&other, TH_F64);
    th_solve_opts o = th_solve_opts_default();
    CHECK_EQ_INT(th_gen_stats_solve(s, wrong, &o, NULL), TH_EINVAL);
    th_model *m = th_gen_model_alloc(&p, TH_F64);
    o.ridge = -1;
    CHECK_EQ_INT(th_gen_stats_solve(s, m, &o, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "ridge");
    th_model_free(m);
    th_model_free(wrong);
    th_gen_stats_free(s);
    free(img);
}

void suite_gen_solve(void)
{
    RUN_TEST(test_stats_loss_matches_objective);
    RUN_TEST(test_solve_matches_dense_unconditional);
    RUN_TEST(test_solve_matches_dense_conditional);
    RUN_TEST(test_solve_matches_dense_ridge);
    RUN_TEST(test_solve_matches_dense_class_ridge);
    RUN_TEST(test_solve_matches_dense_visible_bias);
    RUN_TEST(test_solve_matches_dense_double_well);
    RUN_TEST(test_solve_matches_dense_label_visible);
    RUN_TEST(test_stats_same_bits_for_any_threads);
    RUN_TEST(test_solve_beats_gradient_descent);
    RUN_TEST(test_conditional_objective_twins);
    RUN_TEST(test_conditional_sampling_classes);
    RUN_TEST(test_sampling_batch_invariant);
    RUN_TEST(test_sampling_phase1_exact);
    RUN_TEST(test_solve_rejects_bad_input);
}
