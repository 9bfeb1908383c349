/* test_gen.c - the generative computer's training objective (Whitelam, PRL
 * 2026; science.md section 2): its gradient against float64 central
 * differences, its quadratic form, its size at theta = 0, the fast blocked
 * kernel against its reference twin, the independence of paths, the drive of
 * the noising process, the physics of the preparation phase, and rejected
 * parameters.
 *
 * The objective is a sum of squares of residuals linear in theta = {J, b}, so
 * it is a convex quadratic in theta; several checks lean on that exactly.
 * Statistical checks allow 5 standard errors (SE), estimated from the sample
 * itself (a Gaussian exceeds that with probability 6e-7), plus any known O(dt)
 * bias. Test inputs (couplings, images, directions) come from a private
 * splitmix64, independent of the generator under test. */
#include "harness.h"
#include "thermo.h"
#include "gen/gen_internal.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>



/* The paper's settings at another size, length and blocking. */
static th_gen_params sized_params(size_t n_visible, size_t n_hidden, double t_f,
                                  size_t block_steps, uint64_t seed)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = n_visible;
    p.n_hidden = n_hidden;
    p.t_f = t_f;
    p.block_steps = block_steps;
    p.seed = seed;
    return p;
}

/* The small generator of the gradient checks: 6 visible + 4 hidden units,
 * 50 steps in blocks of 7 (7 blocks of 7 and one of 1, so blocks of several
 * sizes and their shared boundaries are exercised). */
static th_gen_params small_params(void)
{
    th_gen_params p = sized_params(6, 4, 0.05, 7, 11);
    p.dt = 1e-3;
    p.kT = 0.1;
    return p;
}

/* th_gen_path_loss, reporting the library's message on failure. */
static double path_loss(const th_model *m, const th_gen_params *p, const float *images,
                        const uint64_t *ids, size_t B, th_kernel kernel, th_model *grad)
{
    double loss = NAN;
    int rc = th_gen_path_loss(m, p, images, NULL, ids, B, kernel, &loss, grad);
    if (rc != TH_OK)
        fprintf(stderr, "  th_gen_path_loss: %s (%s)\n", th_strerror(rc), th_last_error());
    CHECK_EQ_INT(rc, TH_OK);
    return loss;
}

static void zero_model_params(th_model *g)
{
    memset(g->J.v, 0, g->n * g->n * th_dtype_size(g->dtype));
    memset(g->b.v, 0, g->n * th_dtype_size(g->dtype));
}

/* A trainable parameter: a coupling J_ij = J_ji, or a hidden bias (j = n). */
struct param {
    size_t i, j;
};

static double param_get(const th_model *m, struct param q)
{
    return q.j == m->n ? th_ptr_get(m->b, m->dtype, q.i) : th_model_get_coupling(m, q.i, q.j);
}

static void param_set(th_model *m, struct param q, double v)
{
    if (q.j == m->n)
        th_ptr_set(m->b, m->dtype, q.i, v);
    else
        th_model_set_coupling(m, q.i, q.j, v);
}

/* The gradient (both kernels, float64) against central differences
 * (L(theta + eps) - L(theta - eps)) / (2 eps). L is quadratic in theta, so the
 * difference quotient equals the derivative exactly for any eps and only
 * rounding separates them; eps = 1e-3 keeps that rounding small: L ~ 500 is a
 * sum of ~1000 terms with relative rounding ~1e-14 each (residuals ~1e-2 are
 * differences of states ~1), so each L is good to ~1e-11 and the quotient to
 * ~1e-8 at worst (5e-11 seen); 1e-7 allows ten times that. A real error (a
 * missing term or factor) is of the size of the gradient itself, 0.05 to 0.4
 * here. */
static void test_gen_gradient_finite_differences(void)
{
    th_gen_params p = small_params();
    th_model *m = test_gen_random_model(&p, TH_F64, 0.3, 101);
    th_model *grad = th_gen_model_alloc(&p, TH_F64);
    float *img = test_standard_images(2, p.n_visible, 202);
    const uint64_t ids[2] = {3, 4};
    const size_t n = m->n, nv = p.n_visible;
    /* visible-hidden, hidden-hidden couplings and hidden biases */
    const struct param params[] = {{0, 6}, {2, 7}, {5, 9}, {1, 8}, {9, 3},
                                   {6, 7}, {7, 9}, {8, 9}, {6, n}, {8, n},
                                   {9, n}};
    const size_t n_params = sizeof params / sizeof params[0];
    const double eps = 1e-3;

    for (int kernel = 0; kernel < 2; kernel++) {
        zero_model_params(grad);
        const double l0 = path_loss(m, &p, img, ids, 2, (th_kernel)kernel, grad);
        CHECK(l0 > 0);
        double max_g = 0;
        for (size_t q = 0; q < n_params; q++) {
            const double theta = param_get(m, params[q]);
            param_set(m, params[q], theta + eps);
            const double lp = path_loss(m, &p, img, ids, 2, (th_kernel)kernel, NULL);
            param_set(m, params[q], theta - eps);
            const double lm = path_loss(m, &p, img, ids, 2, (th_kernel)kernel, NULL);
            param_set(m, params[q], theta);
            const double fd = (lp - lm) / (2 * eps);
            const double g = param_get(grad, params[q]);
            max_g = fmax(max_g, fabs(g));
            CHECK_CLOSE(g, fd, 1e-7 + 1e-8 * fabs(fd));
        }
        /* The check is only meaningful if the gradient is far above the
         * tolerance. */
        CHECK(max_g > 0.1);

        /* Untrained parameters get no gradient: visible biases (fixed at 0 in
         * the PRL), visible-visible pairs (no such couplings), the diagonal. */
        for (size_t i = 0; i < nv; i++) CHECK_EQ_INT(th_ptr_get(grad->b, TH_F64, i) == 0, 1);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                const double gij = th_ptr_get(grad->J, TH_F64, i * n + j);
                if (i == j || (i < nv && j < nv)) CHECK_EQ_INT(gij == 0, 1);
                CHECK_EQ_INT(gij == th_ptr_get(grad->J, TH_F64, j * n + i), 1);
            }
    }
    free(img);
    th_model_free(grad);
    th_model_free(m);
}

/* Every trainable parameter: the coupled pairs i < j and the hidden biases. */
static size_t all_params(const th_model *m, size_t nv, struct param *out)
{
    size_t count = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (i >= nv) out[count++] = (struct param){i, m->n};
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j)) out[count++] = (struct param){i, j};
    }
    return count;
}

/* Along a random direction d over every trainable parameter, L(theta + t d) is
 * a parabola in t (V is linear in theta, each residual is linear, the loss a
 * sum of squares): the third difference at t = -1, 0, 1, 2 vanishes up to
 * rounding (~1e-14 relative per evaluation, so 1e-10 of L is generous), the
 * second is positive (convexity), and the central difference
 * (L(1) - L(-1)) / 2 is exactly the directional derivative grad . d, which
 * ties the whole gradient, not only sampled entries, to the loss. */
static void test_gen_loss_is_quadratic(void)
{
    th_gen_params p = small_params();
    th_model *m = test_gen_random_model(&p, TH_F64, 0.3, 303);
    th_model *grad = th_gen_model_alloc(&p, TH_F64);
    float *img = test_standard_images(2, p.n_visible, 404);
    const uint64_t ids[2] = {7, 8};
    struct param *params = malloc(m->n * m->n * sizeof *params);
    const size_t count = all_params(m, p.n_visible, params);
    double *theta = malloc(count * sizeof *theta), *d = malloc(count * sizeof *d);
    uint64_t seed = 505;
    for (size_t q = 0; q < count; q++) {
        theta[q] = param_get(m, params[q]);
        d[q] = test_uniform(&seed, -1, 1);
    }

    for (int kernel = 0; kernel < 2; kernel++) {
        double l[4];
        for (int t = -1; t <= 2; t++) {
            for (size_t q = 0; q < count; q++) param_set(m, params[q], theta[q] + t * d[q]);
            l[t + 1] = path_loss(m, &p, img, ids, 2, (th_kernel)kernel, NULL);
        }
        for (size_t q = 0; q < count; q++) param_set(m, params[q], theta[q]);
        const double scale = fmax(fmax(l[0], l[1]), fmax(l[2], l[3]));
        CHECK_CLOSE(l[3] - 3 * l[2] + 3 * l[1] - l[0], 0, 1e-10 * scale);
        const double second = l[2] - 2 * l[1] + l[0];
        CHECK(second > 1e-3 * scale);

        zero_model_params(grad);
        const double l0 = path_loss(m, &p, img, ids, 2, (th_kernel)kernel, grad);
        CHECK_REL(l0, l[1], 1e-14);
        double gd = 0;
        for (size_t q = 0; q < count; q++) gd += param_get(grad, params[q]) * d[q];
        CHECK_CLOSE((l[2] - l[0]) / 2, gd, 1e-10 * scale);
    }
    free(theta);
    free(d);
    free(params);
    free(img);
    th_model_free(grad);
    th_model_free(m);
}

/* At theta = 0 the residual of a step is dominated by the noise,
 * -sqrt(2 mu kT dt) xi, whose square over 4 mu kT dt is xi^2 / 2: about 1/2 per
 * step and unit (science.md section 2: "the loss per step is about N/2"). The
 * drift adds O(mu dt V'^2 / kT) ~ 1e-2 per term. 12000 terms put the SE near
 * 0.007, so [0.45, 0.55] holds the drift's shift with room. */
static void test_gen_loss_at_zero_is_half_per_unit_step(void)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 20;
    p.n_hidden = 10;
    p.t_f = 0.2;
    p.block_steps = 64;
    th_model *m = th_gen_model_alloc(&p, TH_F64);
    float *img = test_standard_images(2, p.n_visible, 606);
    const uint64_t ids[2] = {0, 1};
    const size_t steps = th_gen_steps(&p);
    CHECK_EQ_INT(steps, 200);
    const double per = path_loss(m, &p, img, ids, 2, TH_KERNEL_FAST, NULL) /
                       ((double)steps * (double)m->n * 2.0);
    CHECK(per >= 0.45 && per <= 0.55);
    if (!(per >= 0.45 && per <= 0.55)) fprintf(stderr, "  loss per unit step %g\n", per);
    free(img);
    th_model_free(m);
}

static double max_abs(th_ptr a, th_dtype dtype, size_t count)
{
    double v = 0;
    for (size_t i = 0; i < count; i++) v = fmax(v, fabs(th_ptr_get(a, dtype, i)));
    return v;
}

static double max_abs_diff(th_ptr a, th_ptr b, th_dtype dtype, size_t count)
{
    double v = 0;
    for (size_t i = 0; i < count; i++)
        v = fmax(v, fabs(th_ptr_get(a, dtype, i) - th_ptr_get(b, dtype, i)));
    return v;
}

/* The blocked matrix-product kernel against the plain twin on 12 + 8 units,
 * B = 3 paths, 50 steps in blocks of 16 (16, 16, 16, 2).
 * float64: the two differ only in summation order, ~1e-16 per operation over
 * sums of ~1e3 terms, so 1e-10 relative is tight yet safe.
 * float32: both read the same float paths and parameters; the twin then
 * works in double while the fast kernel rounds to float (unit roundoff
 * 6e-8) in its products and sums: the loss sums rows of 20 squares, the
 * gradient sums 150 rows in SGEMM, so a linear bound on the relative error
 * is ~150 * 6e-8 ~ 1e-5 (Dx itself is exact in float for states within a
 * factor 2 of each other, Sterbenz). 1e-4 relative on the loss and on the
 * gradient (against its largest entry: single entries near 0 have no
 * relative accuracy) is ten times that bound; ~2e-7 is typical. */
static void test_gen_fast_matches_reference(void)
{
    const th_gen_params p = sized_params(12, 8, 0.05, 16, 77);
    float *img = test_standard_images(3, p.n_visible, 707);
    const uint64_t ids[3] = {10, 11, 12};
    const th_dtype dtypes[2] = {TH_F64, TH_F32};
    const double rtol[2] = {1e-10, 1e-4};
    for (int d = 0; d < 2; d++) {
        th_model *m = test_gen_random_model(&p, dtypes[d], 0.3, 808);
        th_model *gf = th_gen_model_alloc(&p, dtypes[d]);
        th_model *gr = th_gen_model_alloc(&p, dtypes[d]);
        const size_t n = m->n;
        const double lf = path_loss(m, &p, img, ids, 3, TH_KERNEL_FAST, gf);
        const double lr = path_loss(m, &p, img, ids, 3, TH_KERNEL_REFERENCE, gr);
        CHECK_REL(lf, lr, rtol[d]);
        const double scale_J = max_abs(gr->J, dtypes[d], n * n);
        const double scale_b = max_abs(gr->b, dtypes[d], n);
        CHECK(scale_J > 0.1 && scale_b > 0.1);
        CHECK_CLOSE(max_abs_diff(gf->J, gr->J, dtypes[d], n * n), 0, rtol[d] * scale_J);
        CHECK_CLOSE(max_abs_diff(gf->b, gr->b, dtypes[d], n), 0, rtol[d] * scale_b);
        /* Asking for the gradient does not change the loss. */
        CHECK_EQ_INT(path_loss(m, &p, img, ids, 3, TH_KERNEL_FAST, NULL) == lf, 1);
        CHECK_EQ_INT(path_loss(m, &p, img, ids, 3, TH_KERNEL_REFERENCE, NULL) == lr, 1);
        th_model_free(gr);
        th_model_free(gf);
        th_model_free(m);
    }
    free(img);
}

/* The parallel paths of an update at a size that takes them (n = 416: the
 * gradient's A + A^T in 32 x 32 tiles shared among the threads, the descent
 * over n^2 >= 65536 couplings, the noising path cut into units at 16-unit
 * boundaries): the fast gradient against the reference twin, as above, and
 * two training updates with 1 and 2 threads to the same bits in both
 * precisions, the diagonal left at 0. Then a learning rate of 1e308 makes
 * the training blow up: TH_EDIVERGED, naming the update. */
static void test_gen_train_parallel_paths(void)
{
    const th_gen_params p = sized_params(300, 116, 0.01, 4, 78);
    float *img = test_standard_images(3, p.n_visible, 709);
    const uint64_t ids[2] = {3, 4};
    const th_dtype dtypes[2] = {TH_F64, TH_F32};
    const double rtol[2] = {1e-10, 1e-4};
    const int saved = omp_get_max_threads();
    for (int d = 0; d < 2; d++) {
        th_model *m = test_gen_random_model(&p, dtypes[d], 0.05, 810);
        th_model *gf = th_gen_model_alloc(&p, dtypes[d]);
        th_model *gr = th_gen_model_alloc(&p, dtypes[d]);
        const size_t n = m->n, es = th_dtype_size(dtypes[d]);
        omp_set_num_threads(2);
        path_loss(m, &p, img, ids, 2, TH_KERNEL_FAST, gf);
        path_loss(m, &p, img, ids, 2, TH_KERNEL_REFERENCE, gr);
        const double scale_J = max_abs(gr->J, dtypes[d], n * n);
        CHECK(scale_J > 0.1);
        CHECK_CLOSE(max_abs_diff(gf->J, gr->J, dtypes[d], n * n), 0, rtol[d] * scale_J);

        th_model *trained[2];
        for (int t = 0; t < 2; t++) {
            omp_set_num_threads(t + 1);
            trained[t] = test_gen_random_model(&p, dtypes[d], 0.05, 810); /* m again */
            double loss[2] = {0};
            th_gen_train_opts o = th_gen_train_opts_default();
            o.updates = 2;
            CHECK_EQ_INT(th_gen_train(trained[t], &p, img, NULL, 3, &o, 0, loss), TH_OK);
        }
        CHECK_EQ_INT(memcmp(trained[0]->J.v, trained[1]->J.v, n * n * es), 0);
        CHECK_EQ_INT(memcmp(trained[0]->b.v, trained[1]->b.v, n * es), 0);
        CHECK_EQ_INT(memcmp(trained[0]->J.v, m->J.v, n * n * es) != 0, 1);
        for (size_t i = 0; i < n; i++) CHECK_EQ_INT(th_ptr_get(trained[0]->J, dtypes[d],
                                                               i * n + i) == 0, 1);

        double loss[2] = {0};
        th_gen_train_opts o = th_gen_train_opts_default();
        o.updates = 2;
        o.learning_rate = 1e308;
        CHECK_EQ_INT(th_gen_train(trained[1], &p, img, NULL, 3, &o, 0, loss), TH_EDIVERGED);
        CHECK_STR_CONTAINS(th_last_error(), "training diverged at update");
        for (int t = 0; t < 2; t++) th_model_free(trained[t]);
        th_model_free(gr);
        th_model_free(gf);
        th_model_free(m);
    }
    omp_set_num_threads(saved);
    free(img);
}

/* Collects whole paths (steps + 1, B, n) in double from the block callback,
 * checking that blocks arrive in order and share their boundary state. */
struct collect {
    double *out;    /* (steps + 1, B, n) */
    size_t n, next; /* next: the first step the next block must start at */
    int bad_order;
};

static int collect_block(th_ptr states, size_t T, size_t B, size_t first_step, void *vctx)
{
    struct collect *c = vctx;
    if (first_step != c->next) c->bad_order = 1;
    const size_t row = B * c->n;
    for (size_t k = 0; k <= T; k++)
        for (size_t q = 0; q < row; q++) {
            const double v = states.f32[k * row + q];
            double *dst = &c->out[(first_step + k) * row + q];
            /* The boundary state was delivered as the last of the previous
             * block; it must come again unchanged. */
            if (k == 0 && first_step > 0 && *dst != v) c->bad_order = 1;
            *dst = v;
        }
    c->next = first_step + T;
    return TH_OK;
}

static double *noising_paths(const th_gen_params *p, const float *img, const uint64_t *ids,
                             size_t B)
{
    const size_t n = p->n_visible + p->n_hidden, steps = th_gen_steps(p);
    struct collect c = {.out = calloc((steps + 1) * B * n, sizeof(double)), .n = n};
    CHECK_EQ_INT(th__gen_noising_paths(p, img, NULL, ids, B, TH_F32, collect_block, &c), TH_OK);
    CHECK_EQ_INT(c.bad_order, 0);
    CHECK_EQ_INT(c.next, steps);
    return c.out;
}

/* A path depends only on its id (its noise stream) and its image, never on
 * the batch around it or on how the steps are blocked, so the loss of a batch
 * is the sum of its paths' losses. */
static void test_gen_paths_depend_only_on_ids(void)
{
    th_gen_params p = small_params();
    th_model *m = test_gen_random_model(&p, TH_F64, 0.3, 909);
    float *img = test_standard_images(2, p.n_visible, 1010);
    const size_t n = m->n, nv = p.n_visible, steps = th_gen_steps(&p);
    const uint64_t ids59[2] = {5, 9}, id5 = 5, id9 = 9, ids12[2] = {1, 2};

    const double l_a = path_loss(m, &p, img, ids59, 2, TH_KERNEL_FAST, NULL);
    const double l_b = path_loss(m, &p, img, ids59, 2, TH_KERNEL_FAST, NULL);
    CHECK_EQ_INT(memcmp(&l_a, &l_b, sizeof l_a), 0);
    const double l_other = path_loss(m, &p, img, ids12, 2, TH_KERNEL_FAST, NULL);
    CHECK(l_other != l_a);
    for (int kernel = 0; kernel < 2; kernel++) {
        const double l5 = path_loss(m, &p, img, &id5, 1, (th_kernel)kernel, NULL);
        const double l9 = path_loss(m, &p, img + nv, &id9, 1, (th_kernel)kernel, NULL);
        const double l59 = path_loss(m, &p, img, ids59, 2, (th_kernel)kernel, NULL);
        CHECK_REL(l5 + l9, l59, 1e-13);
    }

    /* The paths themselves: path 9 alone equals path 9 inside the pair, and
     * blocks of 7 steps give the same paths as one block of all 50. */
    double *pair = noising_paths(&p, img, ids59, 2);
    double *alone = noising_paths(&p, img + nv, &id9, 1);
    th_gen_params one_block = p;
    one_block.block_steps = 1000;
    double *pair_whole = noising_paths(&one_block, img, ids59, 2);
    int same_alone = 1, same_blocked = 1;
    for (size_t k = 0; k <= steps; k++)
        for (size_t i = 0; i < n; i++)
            same_alone &= pair[(k * 2 + 1) * n + i] == alone[k * n + i];
    for (size_t q = 0; q < (steps + 1) * 2 * n; q++) same_blocked &= pair[q] == pair_whole[q];
    CHECK(same_alone);
    CHECK(same_blocked);
    free(pair);
    free(alone);
    free(pair_whole);
    free(img);
    th_model_free(m);
}

/* a(t) = drive (1 - t / (ramp_fraction t_f)), 0 from ramp_fraction t_f on
 * (science.md section 2: a(t) = 2 (1 - t / (0.75 t_f))). */
static void test_gen_ramp(void)
{
    th_gen_params p = th_gen_params_default();
    const double t_ramp = p.ramp_fraction * p.t_f;
    CHECK_CLOSE(th_gen_ramp(&p, 0), p.drive, 1e-15);
    CHECK_CLOSE(th_gen_ramp(&p, t_ramp / 2), p.drive / 2, 1e-14);
    CHECK_CLOSE(th_gen_ramp(&p, 0.25 * t_ramp), 0.75 * p.drive, 1e-14);
    CHECK_CLOSE(th_gen_ramp(&p, t_ramp * (1 - 1e-9)), 0, 1e-8);
    CHECK_EQ_INT(th_gen_ramp(&p, t_ramp) == 0, 1);
    CHECK_EQ_INT(th_gen_ramp(&p, t_ramp + 1e-9) == 0, 1);
    CHECK_EQ_INT(th_gen_ramp(&p, p.t_f) == 0, 1);
    p.drive = 3;
    p.ramp_fraction = 1;
    CHECK_CLOSE(th_gen_ramp(&p, p.t_f / 2), 1.5, 1e-14);
}

/* The copy variant (default): out = -s on visible unit i and -s_{a mod nv} on
 * hidden unit a, so that a(t) out . x is the force +a(t) s. */
static void test_gen_drive_field_copy(void)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 5;
    p.n_hidden = 7;
    CHECK_EQ_INT(p.hidden_drive, TH_HIDDEN_COPY);
    const size_t nv = 5, n = 12, B = 2;
    float *img = test_standard_images(B, nv, 1111);
    double out64[2 * 12];
    float out32[2 * 12];
    CHECK_EQ_INT(th_gen_drive_field(&p, img, B, (th_ptr){.f64 = out64}, TH_F64), TH_OK);
    CHECK_EQ_INT(th_gen_drive_field(&p, img, B, (th_ptr){.f32 = out32}, TH_F32), TH_OK);
    for (size_t k = 0; k < B; k++)
        for (size_t i = 0; i < n; i++) {
            const double want = -(double)img[k * nv + (i < nv ? i : (i - nv) % nv)];
            CHECK_EQ_INT(out64[k * n + i] == want, 1);
            CHECK_EQ_INT((double)out32[k * n + i] == want, 1);
        }
    free(img);
}

/* The projection variant: hidden = -(P^T s) with a fixed P_ia ~ N(0, 1/nv).
 * Unit images e_i recover row i of P, so P's statistics are checked directly:
 * its 131072 entries have mean 0 (SE sqrt(1/nv / count)) and mean square
 * 1/nv (relative SE sqrt(2 / count) for Gaussian entries). A standardised s
 * then gets exactly -P^T s, whose entries have mean square |s|^2 / nv = 1
 * (relative SE sqrt(2 / nh) = 0.03 over nh = 2048 hidden units). The same seed
 * gives the same P; another seed another. */
static void test_gen_drive_field_projection(void)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 64;
    p.n_hidden = 2048;
    p.hidden_drive = TH_HIDDEN_PROJECTION;
    const size_t nv = 64, nh = 2048, n = nv + nh;
    float *unit = calloc(nv * nv, sizeof *unit);
    for (size_t i = 0; i < nv; i++) unit[i * nv + i] = 1;
    double *out = malloc(nv * n * sizeof *out);
    CHECK_EQ_INT(th_gen_drive_field(&p, unit, nv, (th_ptr){.f64 = out}, TH_F64), TH_OK);
    double *P = malloc(nv * nh * sizeof *P); /* (nv, nh) */
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < nv; i++)
        for (size_t a = 0; a < nh; a++) {
            P[i * nh + a] = -out[i * n + nv + a];
            sum += P[i * nh + a];
            sum2 += P[i * nh + a] * P[i * nh + a];
        }
    const double count = (double)(nv * nh), var = 1.0 / (double)nv;
    CHECK_CLOSE(sum / count, 0, 5 * sqrt(var / count));
    CHECK_CLOSE(sum2 / count, var, 5 * var * sqrt(2 / count));

    float *s = test_standard_images(1, nv, 1212);
    double *h1 = malloc(n * sizeof *h1), *h2 = malloc(n * sizeof *h2);
    CHECK_EQ_INT(th_gen_drive_field(&p, s, 1, (th_ptr){.f64 = h1}, TH_F64), TH_OK);
    CHECK_EQ_INT(th_gen_drive_field(&p, s, 1, (th_ptr){.f64 = h2}, TH_F64), TH_OK);
    CHECK_EQ_INT(memcmp(h1, h2, n * sizeof *h1), 0);
    double ms = 0, err = 0;
    for (size_t i = 0; i < nv; i++) CHECK_EQ_INT(h1[i] == -(double)s[i], 1);
    for (size_t a = 0; a < nh; a++) {
        double want = 0;
        for (size_t i = 0; i < nv; i++) want -= P[i * nh + a] * (double)s[i];
        err = fmax(err, fabs(h1[nv + a] - want));
        ms += h1[nv + a] * h1[nv + a];
    }
    CHECK_CLOSE(err, 0, 1e-12);
    CHECK_CLOSE(ms / (double)nh, 1, 5 * sqrt(2.0 / (double)nh));

    p.seed += 1;
    CHECK_EQ_INT(th_gen_drive_field(&p, s, 1, (th_ptr){.f64 = h2}, TH_F64), TH_OK);
    CHECK(memcmp(h1 + nv, h2 + nv, nh * sizeof *h1) != 0);
    free(s);
    free(h1);
    free(h2);
    free(P);
    free(out);
    free(unit);
}

/* Moments of the tilted Boltzmann weight exp(-(J2 x^2 + J4 x^4 - f x) / kT) by
 * composite Simpson on [-4, 4] (the weight is below e^-2000 at the ends). */
static void tilted_moments(double J2, double J4, double f, double kT, double *m1, double *m2)
{
    const int N = 20000;
    const double lo = -4, hi = 4, h = (hi - lo) / N;
    double z = 0, s1 = 0, s2 = 0;
    for (int k = 0; k <= N; k++) {
        const double x = lo + k * h;
        const double w = (k == 0 || k == N) ? 1 : (k % 2 ? 4 : 2);
        const double e = w * exp(-(J2 * x * x + J4 * x * x * x * x - f * x) / kT);
        z += e;
        s1 += e * x;
        s2 += e * x * x;
    }
    *m1 = s1 / z;
    *m2 = s2 / z;
}

#define STOP_AFTER_FIRST_BLOCK 12345

struct prepared {
    double *x0; /* (B, n) the first state of the first block */
    size_t n;
};

static int read_prepared(th_ptr states, size_t T, size_t B, size_t first_step, void *vctx)
{
    (void)T;
    struct prepared *c = vctx;
    if (first_step != 0) return TH_OK;
    for (size_t q = 0; q < B * c->n; q++) c->x0[q] = states.f64[q];
    return STOP_AFTER_FIRST_BLOCK;
}

/* The preparation phase (science.md section 2: t_f under the constant force
 * drive * s from x = 0) must end in the tilted equilibrium of the uncoupled
 * wells, exp(-(J2 x^2 + J4 x^4 - drive s x) / kT). Two pixels s = (+1, -1)
 * and two hidden units copying them (a mod 2), 2000 independent paths: each
 * unit's mean and mean square against quadrature. The relaxation time at the
 * tilted minimum (x ~ 0.59, V'' ~ 6) is ~0.17, far below t_f = 2.5. The
 * Euler-Maruyama stationary law is off by O(mu dt V'') ~ 0.6% in the
 * variance (~1e-4 in the moments here); 2e-3 covers it. */
static void test_gen_preparation_equilibrium(void)
{
    th_gen_params p = th_gen_params_default();
    p.n_visible = 2;
    p.n_hidden = 2;
    p.block_steps = 4;
    p.seed = 2026;
    const size_t B = 2000, n = 4;
    float *img = malloc(B * 2 * sizeof *img);
    uint64_t *ids = malloc(B * sizeof *ids);
    for (size_t k = 0; k < B; k++) {
        img[2 * k] = 1;
        img[2 * k + 1] = -1;
        ids[k] = k;
    }
    struct prepared c = {.x0 = malloc(B * n * sizeof(double)), .n = n};
    CHECK_EQ_INT(th__gen_noising_paths(&p, img, NULL, ids, B, TH_F64, read_prepared, &c),
                 STOP_AFTER_FIRST_BLOCK);
    const double s_unit[4] = {1, -1, 1, -1};
    for (size_t i = 0; i < n; i++) {
        double m1, m2;
        tilted_moments(p.J2, p.J4, p.drive * s_unit[i], p.kT, &m1, &m2);
        double a1 = 0, a2 = 0, q1 = 0, q2 = 0;
        for (size_t k = 0; k < B; k++) {
            const double x = c.x0[k * n + i];
            a1 += x;
            a2 += x * x;
        }
        a1 /= (double)B;
        a2 /= (double)B;
        for (size_t k = 0; k < B; k++) {
            const double x = c.x0[k * n + i];
            q1 += (x - a1) * (x - a1);
            q2 += (x * x - a2) * (x * x - a2);
        }
        const double se1 = sqrt(q1 / (double)(B - 1) / (double)B);
        const double se2 = sqrt(q2 / (double)(B - 1) / (double)B);
        CHECK_CLOSE(a1, m1, 5 * se1 + 2e-3);
        CHECK_CLOSE(a2, m2, 5 * se2 + 2e-3);
    }
    free(c.x0);
    free(ids);
    free(img);
}

/* A parameter set that must be rejected, by the validator and by the
 * objective, with a message naming the field. */
static void expect_rejected(const th_gen_params *p, const char *field, const th_model *m,
                            const float *img)
{
    const uint64_t id = 0;
    double loss = 0;
    CHECK_EQ_INT(th_gen_params_validate(p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), field);
    CHECK_EQ_INT(th_gen_path_loss(m, p, img, NULL, &id, 1, TH_KERNEL_FAST, &loss, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), field);
}

/* Each bad parameter is rejected with a message naming it; so are models and
 * gradients of the wrong shape or precision, an empty batch and a non-finite
 * pixel. */
static void test_gen_rejects_bad_parameters(void)
{
    const th_gen_params good = small_params();
    CHECK_EQ_INT(th_gen_params_validate(&good), TH_OK);
    th_model *m = test_gen_random_model(&good, TH_F64, 0.3, 1313);
    float *img = test_standard_images(1, good.n_visible, 1414);
    th_gen_params p;

    p = good, p.dt = 0;
    expect_rejected(&p, "dt", m, img);
    p = good, p.dt = -1e-3;
    expect_rejected(&p, "dt", m, img);
    p = good, p.dt = NAN;
    expect_rejected(&p, "dt", m, img);
    p = good, p.t_f = 0.5e-3;
    expect_rejected(&p, "t_f", m, img);
    p = good, p.n_visible = 0;
    expect_rejected(&p, "n_visible", m, img);
    p = good, p.kT = 0;
    expect_rejected(&p, "kT", m, img);
    p = good, p.kT = -0.1;
    expect_rejected(&p, "kT", m, img);
    p = good, p.ramp_fraction = 0;
    expect_rejected(&p, "ramp_fraction", m, img);
    p = good, p.ramp_fraction = 1.5;
    expect_rejected(&p, "ramp_fraction", m, img);
    p = good, p.block_steps = 0;
    expect_rejected(&p, "block_steps", m, img);
    /* The edges of the allowed ranges. */
    p = good, p.ramp_fraction = 1;
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_OK);
    p = good, p.t_f = p.dt;
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_OK);

    p = good, p.n_hidden = 5;
    th_model *wrong_size = th_gen_model_alloc(&p, TH_F64);
    th_model *wrong_dtype = th_gen_model_alloc(&good, TH_F32);
    const uint64_t id = 0;
    double loss = 0;
    CHECK_EQ_INT(th_gen_path_loss(wrong_size, &good, img, NULL, &id, 1, TH_KERNEL_FAST, &loss, NULL),
                 TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "model");
    CHECK_EQ_INT(th_gen_path_loss(m, &good, img, NULL, &id, 1, TH_KERNEL_FAST, &loss, wrong_size),
                 TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "gradient");
    CHECK_EQ_INT(th_gen_path_loss(m, &good, img, NULL, &id, 1, TH_KERNEL_REFERENCE, &loss, wrong_dtype),
                 TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "gradient");
    CHECK_EQ_INT(th_gen_path_loss(m, &good, img, NULL, &id, 0, TH_KERNEL_FAST, &loss, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "paths");
    img[2] = NAN;
    CHECK_EQ_INT(th_gen_path_loss(m, &good, img, NULL, &id, 1, TH_KERNEL_FAST, &loss, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "pixel");
    th_model_free(wrong_dtype);
    th_model_free(wrong_size);
    free(img);
    th_model_free(m);
}

/* ------------------------------------------------------------ noiser twin */

/* The noising paths of the integrator itself, one path at a time: the
 * uncoupled wells under th_langevin_run for t_f at the constant drive, then
 * t_f of the ramp from the preparation's end, every state kept:
 * out (steps + 1, n) per path, in double. The twin of the noiser's own
 * float32 loop over units (noising.c). */
struct twin_amp {
    const th_gen_params *p;
    double t0;
    int ramp;
};

static double twin_amplitude(double t, void *ctx)
{
    const struct twin_amp *a = ctx;
    return a->ramp ? th_gen_ramp(a->p, t - a->t0) : a->p->drive;
}

static void twin_path(const th_gen_params *p, const float *image, const int *cls, uint64_t id,
                      double *out)
{
    const size_t n = th_gen_units(p), steps = th_gen_steps(p);
    th_model *ref = th__gen_uncoupled(p, TH_F32);
    th_batch *s = th_batch_alloc(ref, 1, p->seed);
    float *field = malloc(n * sizeof *field), *snaps = malloc((steps + 1) * n * sizeof *snaps);
    size_t *at = malloc((steps + 1) * sizeof *at);
    unsigned char *clamped = malloc(n);
    for (size_t j = 0; j <= steps; j++) at[j] = j;
    th_batch_set_stream(s, 0, TH_GEN_PATH_STREAM + id);
    CHECK_EQ_INT(th_gen_drive_field(p, image, 1, (th_ptr){.f32 = field}, TH_F32), TH_OK);
    th__gen_clamp_labels(p, TH_F32, cls, 1, th_batch_states(s), clamped);
    struct twin_amp amp = {p, 0, 0};
    th_drive drive = {.amplitude = twin_amplitude, .ctx = &amp, .field = {.f32 = field},
                      .per_trajectory = 1};
    th_run r = th_run_default();
    r.dt = p->dt;
    r.n_steps = steps;
    r.drive = &drive;
    r.clamped = p->n_classes ? clamped : NULL;
    CHECK_EQ_INT(th_langevin_run(ref, s, &r), TH_OK);
    amp.ramp = 1;
    amp.t0 = th_batch_time(s);
    r.snap_steps = at;
    r.n_snaps = steps + 1;
    r.snap_out = (th_ptr){.f32 = snaps};
    CHECK_EQ_INT(th_langevin_run(ref, s, &r), TH_OK);
    for (size_t q = 0; q < (steps + 1) * n; q++) out[q] = snaps[q];
    free(clamped);
    free(at);
    free(snaps);
    free(field);
    th_batch_free(s);
    th_model_free(ref);
}

/* Rows from th__gen_noiser_rows, checked on arrival against the twin's
 * paths: row r of a call is path r % B at noising step
 * first_step + (r / B) * stride, y one step after x. */
struct rows_check {
    const double *twin; /* (B, steps + 1, n) */
    size_t n, steps, rows_seen, stride;
    int same, bad_step;
};

static int check_rows(th_ptr x, th_ptr y, size_t rows, size_t B, size_t first_step,
                      size_t step_stride, void *vctx)
{
    struct rows_check *c = vctx;
    const size_t n = c->n;
    if (step_stride != c->stride || first_step % c->stride) c->bad_step = 1;
    for (size_t r = 0; r < rows; r++) {
        const size_t k = r % B, step = first_step + (r / B) * step_stride;
        const double *path = c->twin + k * (c->steps + 1) * n;
        for (size_t i = 0; i < n; i++)
            c->same &= (double)x.f32[r * n + i] == path[step * n + i] &&
                       (double)y.f32[r * n + i] == path[(step + 1) * n + i];
    }
    c->rows_seen += rows;
    return TH_OK;
}

/* The float32 noiser cuts the units of its paths among the threads (a
 * single path keeps both cores busy): its states must be the integrator's
 * to the bit for 1, 2 and 3 threads and 1 to 3 paths, with units that do
 * not fill the last Philox block (n = 67 and 70, cut after 64), clamped
 * label units, hidden double wells, whole paths by blocks and a strided
 * noiser's rows. */
static void test_gen_noiser_units_match_integrator(void)
{
    const int saved = omp_get_max_threads();
    for (int conditional = 0; conditional < 2; conditional++) {
        th_gen_params p = small_params();
        p.n_visible = 37;
        p.n_hidden = 30;
        p.n_classes = conditional ? 3 : 0;
        p.hidden_double_well = (size_t)conditional;
        p.t_f = 0.03;
        const size_t n = th_gen_units(&p), steps = th_gen_steps(&p), Bmax = 3;
        float *img = test_standard_images(Bmax, p.n_visible, 4242);
        const uint64_t ids[3] = {7, 3, 12};
        const int cls[3] = {2, 0, 1};
        double *twin = malloc(Bmax * (steps + 1) * n * sizeof *twin);
        for (size_t k = 0; k < Bmax; k++)
            twin_path(&p, img + k * p.n_visible, conditional ? cls + k : NULL, ids[k],
                      twin + k * (steps + 1) * n);
        int same = 1, same_rows = 1;
        for (int threads = 1; threads <= 3; threads++) {
            omp_set_num_threads(threads);
            for (size_t B = 1; B <= Bmax; B++) {
                struct collect c = {.out = calloc((steps + 1) * B * n, sizeof(double)), .n = n};
                CHECK_EQ_INT(th__gen_noising_paths(&p, img, conditional ? cls : NULL, ids, B,
                                                   TH_F32, collect_block, &c),
                             TH_OK);
                CHECK_EQ_INT(c.bad_order, 0);
                for (size_t j = 0; j <= steps; j++)
                    for (size_t k = 0; k < B; k++)
                        for (size_t i = 0; i < n; i++)
                            same &= c.out[(j * B + k) * n + i] ==
                                    twin[(k * (steps + 1) + j) * n + i];
                free(c.out);
            }
            th__noiser *z = th__gen_noiser_alloc(&p, 2, 3, TH_F32);
            CHECK(z != NULL);
            struct rows_check rc = {.twin = twin, .n = n, .steps = steps, .stride = 3,
                                    .same = 1};
            CHECK_EQ_INT(th__gen_noiser_rows(z, img, conditional ? cls : NULL, ids, check_rows,
                                             &rc),
                         TH_OK);
            CHECK_EQ_INT(rc.bad_step, 0);
            CHECK_EQ_INT((long long)rc.rows_seen, (long long)(2 * ((steps + 2) / 3)));
            same_rows &= rc.same;
            th__gen_noiser_free(z);
        }
        CHECK(same);
        CHECK(same_rows);
        free(twin);
        free(img);
    }
    omp_set_num_threads(saved);
}

/* A noising path that leaves the wells' bound (dt far too large for the
 * quartic) fails with TH_EDIVERGED and says so, in float32 (the unit split,
 * whichever thread's units blow up first) and float64 (the integrator),
 * for one path and several. */
static void test_gen_noising_divergence_reported(void)
{
    th_gen_params p = small_params();
    p.dt = 0.5;
    p.t_f = 10;
    float *img = test_standard_images(3, p.n_visible, 77);
    const uint64_t ids[3] = {0, 1, 2};
    struct collect c = {.out = calloc((th_gen_steps(&p) + 1) * 3 * th_gen_units(&p),
                                      sizeof(double)),
                        .n = th_gen_units(&p)};
    for (int f64 = 0; f64 < 2; f64++)
        for (size_t B = 1; B <= 3; B += 2) {
            CHECK_EQ_INT(th__gen_noising_paths(&p, img, NULL, ids, B, f64 ? TH_F64 : TH_F32,
                                               collect_block, &c),
                         TH_EDIVERGED);
            CHECK_STR_CONTAINS(th_last_error(), "diverged");
            CHECK_STR_CONTAINS(th_last_error(), "unit");
        }
    free(c.out);
    free(img);
}

void suite_gen(void)
{
    RUN_TEST(test_gen_gradient_finite_differences);
    RUN_TEST(test_gen_loss_is_quadratic);
    RUN_TEST(test_gen_loss_at_zero_is_half_per_unit_step);
    RUN_TEST(test_gen_fast_matches_reference);
    RUN_TEST(test_gen_train_parallel_paths);
    RUN_TEST(test_gen_paths_depend_only_on_ids);
    RUN_TEST(test_gen_ramp);
    RUN_TEST(test_gen_drive_field_copy);
    RUN_TEST(test_gen_drive_field_projection);
    RUN_TEST(test_gen_preparation_equilibrium);
    RUN_TEST(test_gen_noiser_units_match_integrator);
    RUN_TEST(test_gen_noising_divergence_reported);
    RUN_TEST(test_gen_rejects_bad_parameters);
}
