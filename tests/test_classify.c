/* test_classify.c - the PNAS 2026 student (science.md section 3): the
 * gradient of its Onsager-Machlup objective against float64 central
 * differences, the fast objective against its plain-loop twin and against
 * closed forms built from the noise itself, the idealised trajectories
 * against their definition and their stationary moments against quadrature
 * of the Boltzmann law, the teacher's targets against a hand-written forward
 * pass, training that lowers the objective and does not depend on the
 * number of threads, classification with the inputs folded into a drive
 * against the full model with its inputs clamped, a separable toy problem
 * end to end, metadata, and rejected inputs.
 *
 * Test inputs come from the harness's splitmix64, independent of the
 * Philox streams under test. */
#include "harness.h"
#include "thermo.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 6 inputs, 3 hidden, 2 outputs, 20 steps: the FD-sized student. */
static th_student_params tiny_params(void)
{
    th_student_params p = th_student_params_default();
    p.n_input = 6;
    p.n_hidden = 3;
    p.n_output = 2;
    p.t_f = 0.02;
    p.seed = 5;
    return p;
}

static void random_fill(float *v, size_t n, double lo, double hi, uint64_t *st)
{
    for (size_t i = 0; i < n; i++) v[i] = (float)test_uniform(st, lo, hi);
}

/* Every allowed coupling and every free bias uniform in [-scale, scale). */
static void randomize(th_model *m, const th_student_params *p, double scale, uint64_t seed)
{
    for (size_t i = p->n_input; i < m->n; i++)
        th_ptr_set(m->b, m->dtype, i, test_uniform(&seed, -scale, scale));
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j))
                th_model_set_coupling(m, i, j, test_uniform(&seed, -scale, scale));
}

static double loss_of(const th_model *m, const th_student_params *p, const float *img,
                      const float *tgt, const uint64_t *ids, size_t B, th_kernel k,
                      th_model *grad)
{
    double loss = NAN;
    int rc = th_student_path_loss(m, p, img, tgt, ids, B, k, &loss, grad);
    if (rc != TH_OK) fprintf(stderr, "  path_loss: %s\n", th_last_error());
    CHECK_EQ_INT(rc, TH_OK);
    return loss;
}

/* The objective is an exact quadratic in theta, so a central difference is
 * exact but for rounding: every trainable parameter, float64. */
static void test_student_gradient_fd(void)
{
    th_student_params p = tiny_params();
    uint64_t st = 101;
    const size_t B = 3, nf = p.n_hidden + p.n_output;
    float img[3 * 6], tgt[3 * 5];
    random_fill(img, sizeof img / sizeof img[0], -1.5, 1.5, &st);
    random_fill(tgt, sizeof tgt / sizeof tgt[0], -1, 1, &st);
    const uint64_t ids[3] = {0, 7, 12};
    th_model *m = th_student_model_alloc(&p, TH_F64);
    th_model *g = th_student_model_alloc(&p, TH_F64);
    randomize(m, &p, 0.5, 202);
    loss_of(m, &p, img, tgt, ids, B, TH_KERNEL_FAST, g);
    const double h = 1e-3;
    size_t checked = 0;
    double worst = 0;
    for (size_t i = p.n_input; i < m->n; i++) {
        /* bias */
        const double b0 = th_ptr_get(m->b, TH_F64, i);
        th_ptr_set(m->b, TH_F64, i, b0 + h);
        double up = loss_of(m, &p, img, tgt, ids, B, TH_KERNEL_FAST, NULL);
        th_ptr_set(m->b, TH_F64, i, b0 - h);
        double dn = loss_of(m, &p, img, tgt, ids, B, TH_KERNEL_FAST, NULL);
        th_ptr_set(m->b, TH_F64, i, b0);
        double fd = (up - dn) / (2 * h), an = th_ptr_get(g->b, TH_F64, i);
        CHECK_CLOSE(an, fd, 1e-6 * (1 + fabs(fd)));
        worst = fmax(worst, fabs(an - fd));
        checked++;
        /* couplings of unit i with every unit before it (each pair once) */
        for (size_t j = 0; j < i; j++) {
            if (!th_model_groups_couple(m, i, j)) continue;
            const double J0 = th_model_get_coupling(m, i, j);
            th_model_set_coupling(m, i, j, J0 + h);
            up = loss_of(m, &p, img, tgt, ids, B, TH_KERNEL_FAST, NULL);
            th_model_set_coupling(m, i, j, J0 - h);
            dn = loss_of(m, &p, img, tgt, ids, B, TH_KERNEL_FAST, NULL);
            th_model_set_coupling(m, i, j, J0);
            fd = (up - dn) / (2 * h);
            an = th_ptr_get(g->J, TH_F64, i * m->n + j);
            CHECK_CLOSE(an, fd, 1e-6 * (1 + fabs(fd)));
            CHECK_CLOSE(th_ptr_get(g->J, TH_F64, j * m->n + i), an, 0);
            worst = fmax(worst, fabs(an - fd));
            checked++;
        }
    }
    /* 5 biases, 6*5 input couplings, 5*4/2 free pairs */
    CHECK_EQ_INT(checked, nf + p.n_input * nf + nf * (nf - 1) / 2);
    /* the input-input block is not trainable and gets no gradient */
    CHECK_CLOSE(th_ptr_get(g->J, TH_F64, 0 * m->n + 1), 0, 0);
    CHECK(worst < 1e-6);
    th_model_free(m);
    th_model_free(g);
}

/* Fast (matrix products over paths x steps, chunks of 32 paths) against the
 * plain-loop twin; 40 paths so that two chunks of different sizes run. */
static void test_student_fast_matches_reference(void)
{
    th_student_params p = tiny_params();
    p.n_input = 9;
    p.n_hidden = 4;
    p.n_output = 3;
    p.t_f = 0.013;
    uint64_t st = 7;
    const size_t B = 40, nf = 7;
    float *img = malloc(B * p.n_input * sizeof *img), *tgt = malloc(B * nf * sizeof *tgt);
    uint64_t ids[40];
    random_fill(img, B * p.n_input, -2, 2, &st);
    random_fill(tgt, B * nf, -1, 1, &st);
    for (size_t k = 0; k < B; k++) ids[k] = 3 * k + 1;
    for (int d = 0; d < 2; d++) {
        th_dtype dt = d ? TH_F64 : TH_F32;
        th_model *m = th_student_model_alloc(&p, dt);
        randomize(m, &p, 0.4, 99);
        th_model *gf = th_student_model_alloc(&p, dt), *gr = th_student_model_alloc(&p, dt);
        double lf = loss_of(m, &p, img, tgt, ids, B, TH_KERNEL_FAST, gf);
        double lr = loss_of(m, &p, img, tgt, ids, B, TH_KERNEL_REFERENCE, gr);
        const double tol = d ? 1e-11 : 1e-5;
        CHECK_REL(lf, lr, tol);
        double gmax = 0, diff = 0;
        for (size_t i = 0; i < m->n * m->n; i++) {
            gmax = fmax(gmax, fabs(th_ptr_get(gr->J, dt, i)));
            diff = fmax(diff, fabs(th_ptr_get(gf->J, dt, i) - th_ptr_get(gr->J, dt, i)));
        }
        for (size_t i = 0; i < m->n; i++)
            diff = fmax(diff, fabs(th_ptr_get(gf->b, dt, i) - th_ptr_get(gr->b, dt, i)));
        CHECK(gmax > 0);
        CHECK_CLOSE(diff, 0, tol * gmax);
        th_model_free(m);
        th_model_free(gf);
        th_model_free(gr);
    }
    free(img);
    free(tgt);
}

/* The noise xi of path `id`, step s, free unit i, drawn the documented way. */
static void path_noise(const th_student_params *p, uint64_t id, size_t K, double *xi)
{
    const size_t nf = p->n_hidden + p->n_output;
    const uint64_t bps = (nf + 3) / 4;
    for (size_t s = 0; s < K; s++)
        th_normal_fill_f64(p->seed, TH_STUDENT_PATH_STREAM + id, s * bps, xi + s * nf, nf);
}

/* The idealised path against a loop written from its definition; then the
 * objective in two closed forms built from the same noise: at theta = 0,
 * D = mu dt g a + sigma xi; and with the biases b = -g a (one image, no
 * couplings) the student's force is the ideal one, so D = sigma xi and the
 * objective is sum xi^2 / 2 exactly. */
static void test_student_paths_and_closed_forms(void)
{
    th_student_params p = tiny_params();
    p.t_f = 0.05;
    p.kT = 0.7;
    p.mu = 1.3;
    const size_t K = 50, nf = 5;
    float img[6] = {0.5f, -1, 2, 0, 0.25f, -0.75f};
    float tgt[5] = {0.9f, -0.3f, 0.1f, 1, -1};
    const uint64_t id = 42;
    double *path = malloc((K + 1) * nf * sizeof *path), *xi = malloc(K * nf * sizeof *xi);
    CHECK_EQ_INT(th_student_ideal_paths(&p, tgt, &id, 1, path), TH_OK);
    path_noise(&p, id, K, xi);
    const double g = th_student_gain(&p), mudt = p.mu * p.dt;
    const double sigma = sqrt(2 * p.mu * p.kT * p.dt);
    double x[5] = {0}, err = 0;
    for (size_t s = 0; s < K; s++)
        for (size_t i = 0; i < nf; i++) {
            x[i] += -mudt * (2 * x[i] + 4 * x[i] * x[i] * x[i] - g * (double)tgt[i]) +
                    sigma * xi[s * nf + i];
            err = fmax(err, fabs(x[i] - path[(s + 1) * nf + i]));
        }
    CHECK_CLOSE(err, 0, 1e-14);

    th_model *m = th_student_model_alloc(&p, TH_F64);
    double zero_form = 0, exact_form = 0;
    for (size_t s = 0; s < K; s++)
        for (size_t i = 0; i < nf; i++) {
            const double D = mudt * g * (double)tgt[i] + sigma * xi[s * nf + i];
            zero_form += D * D / (4 * p.mu * p.kT * p.dt);
            exact_form += 0.5 * xi[s * nf + i] * xi[s * nf + i];
        }
    CHECK_REL(loss_of(m, &p, img, tgt, &id, 1, TH_KERNEL_FAST, NULL), zero_form, 1e-12);
    for (size_t i = 0; i < nf; i++) th_ptr_set(m->b, TH_F64, p.n_input + i, -g * (double)tgt[i]);
    CHECK_REL(loss_of(m, &p, img, tgt, &id, 1, TH_KERNEL_FAST, NULL), exact_form, 1e-11);
    CHECK_REL(loss_of(m, &p, img, tgt, &id, 1, TH_KERNEL_REFERENCE, NULL), exact_form, 1e-11);
    th_model_free(m);
    free(path);
    free(xi);
}

/* <x^k> under exp(-(x^2 + x^4 - f x)/kT) by the trapezoid rule on [-6, 6]. */
static double boltzmann_moment(double f, double kT, int k)
{
    double z = 0, s = 0;
    const int n = 120000;
    for (int q = 0; q <= n; q++) {
        const double x = -6 + 12.0 * q / n, w = (q == 0 || q == n) ? 0.5 : 1;
        const double e = w * exp(-(x * x + x * x * x * x - f * x) / kT);
        z += e;
        s += e * pow(x, k);
    }
    return s / z;
}

/* A long idealised path relaxes to the Boltzmann law of its tilted well:
 * mean and second moment over the second half of 20 paths of t = 20, against
 * quadrature. Tolerance: 5 standard errors with a correlation time of 0.25
 * (1/curvature), plus the O(dt) bias of Euler-Maruyama. */
static void test_student_paths_stationary(void)
{
    th_student_params p = tiny_params();
    p.n_hidden = 4;
    p.n_output = 2;
    p.t_f = 20;
    p.gain = 2;
    const size_t K = th_student_steps(&p), nf = 6, B = 20;
    float *tgt = malloc(B * nf * sizeof *tgt);
    uint64_t ids[20];
    for (size_t k = 0; k < B; k++) ids[k] = k;
    for (size_t i = 0; i < B * nf; i++) tgt[i] = 0.5f; /* force f = 1 */
    double *paths = malloc(B * (K + 1) * nf * sizeof *paths);
    CHECK_EQ_INT(th_student_ideal_paths(&p, tgt, ids, B, paths), TH_OK);
    double m1 = 0, m2 = 0;
    size_t count = 0;
    for (size_t k = 0; k < B; k++)
        for (size_t s = K / 2; s <= K; s++)
            for (size_t i = 0; i < nf; i++) {
                const double v = paths[(k * (K + 1) + s) * nf + i];
                m1 += v;
                m2 += v * v;
                count++;
            }
    m1 /= (double)count;
    m2 /= (double)count;
    const double e1 = boltzmann_moment(1, 1, 1), e2 = boltzmann_moment(1, 1, 2);
    const double n_eff = (double)(B * nf) * (p.t_f / 2) / (2 * 0.25);
    const double se1 = sqrt((e2 - e1 * e1) / n_eff), se2 = sqrt(boltzmann_moment(1, 1, 4) / n_eff);
    CHECK_CLOSE(m1, e1, 5 * se1 + 0.01);
    CHECK_CLOSE(m2, e2, 5 * se2 + 0.01);
    free(tgt);
    free(paths);
}

/* The automatic gain ends a noise-free path at x(t_f) = 1. */
static void test_student_gain(void)
{
    th_student_params p = th_student_params_default();
    CHECK_CLOSE(th_student_gain(&p), 200, 0); /* the preset */
    p.gain = 0;
    const double g = th_student_gain(&p);
    double x = 0;
    for (size_t s = 0; s < th_student_steps(&p); s++) x -= p.dt * (2 * x + 4 * x * x * x - g);
    CHECK_CLOSE(x, 1, 1e-9);
    p.gain = 3.5;
    CHECK_CLOSE(th_student_gain(&p), 3.5, 0);
}

/* Targets against a hand-written forward pass of a random 6-4-3-2 tanh
 * teacher: hidden unit h <- concatenated activation h mod 7, outputs
 * 2 softmax - 1. */
/* The teacher's forward pass by hand: the activations of image X (6). */
static void hand_forward(const th_mlp *net, const size_t *w, const float *X, double act[3][4])
{
    double in[6];
    for (size_t i = 0; i < 6; i++) in[i] = (double)X[i];
    const double *prev = in;
    for (int l = 0; l < 3; l++) {
        for (size_t o = 0; o < w[l + 1]; o++) {
            double z = (double)net->b[l][o];
            for (size_t i = 0; i < w[l]; i++) z += (double)net->W[l][o * w[l] + i] * prev[i];
            act[l][o] = l < 2 ? tanh(z) : z;
        }
        prev = act[l];
    }
}

static void test_student_targets(void)
{
    const size_t w[4] = {6, 4, 3, 2};
    th_mlp *net = th_mlp_alloc(3, w, TH_ACT_TANH);
    uint64_t st = 3;
    for (int l = 0; l < 3; l++) {
        random_fill(net->W[l], w[l + 1] * w[l], -1, 1, &st);
        random_fill(net->b[l], w[l + 1], -0.5, 0.5, &st);
    }
    th_student_params p = tiny_params();
    p.n_hidden = 9; /* 7 teacher activations, so units 7 and 8 wrap around */
    const size_t B = 4, nf = 11;
    float X[4 * 6], A[4 * 11];
    random_fill(X, B * 6, -1, 1, &st);
    double err = 0;
    /* the paper's softmax (T = 1), then the softened default */
    const double temperatures[2] = {1.0, 4.0};
    for (int t = 0; t < 2; t++) {
        const double T = temperatures[t];
        p.output_temperature = T;
        CHECK_EQ_INT(th_student_targets(&p, net, X, B, A), TH_OK);
        for (size_t k = 0; k < B; k++) {
            double act[3][4];
            hand_forward(net, w, X + k * 6, act);
            const double hid[7] = {act[0][0], act[0][1], act[0][2], act[0][3],
                                   act[1][0], act[1][1], act[1][2]};
            for (size_t h = 0; h < 9; h++)
                err = fmax(err, fabs((double)A[k * nf + h] - hid[h % 7]));
            const double p1 = 1 / (1 + exp((act[2][0] - act[2][1]) / T));
            err = fmax(err, fabs((double)A[k * nf + 9] - (2 * (1 - p1) - 1)));
            err = fmax(err, fabs((double)A[k * nf + 10] - (2 * p1 - 1)));
        }
    }
    CHECK_CLOSE(err, 0, 1e-5);
    p.output_temperature = 0;
    CHECK_EQ_INT(th_student_targets(&p, net, X, B, A), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "output_temperature");
    p.output_temperature = 4;
    p.n_output = 3;
    CHECK_EQ_INT(th_student_targets(&p, net, X, B, A), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "outputs");
    th_mlp_free(net);
}

/* ------------------------------------------------------------ exact solve */

/* The statistics' objective against th_student_path_loss summed over the
 * same paths (ids 0..n-1, image q mod count), for random parameters; 50
 * paths over 20 images, so images repeat and the batches (16) end short. */
static void test_student_stats_loss_matches_objective(void)
{
    th_student_params p = tiny_params();
    const size_t count = 20, n_paths = 50, nf = 5;
    uint64_t st = 31;
    float img[20 * 6], tgt[20 * 5], bimg[50 * 6], btgt[50 * 5];
    random_fill(img, sizeof img / sizeof img[0], -1.5, 1.5, &st);
    random_fill(tgt, sizeof tgt / sizeof tgt[0], -1, 1, &st);
    uint64_t ids[50];
    for (size_t q = 0; q < n_paths; q++) {
        ids[q] = q;
        memcpy(bimg + q * 6, img + (q % count) * 6, 6 * sizeof(float));
        memcpy(btgt + q * nf, tgt + (q % count) * nf, nf * sizeof(float));
    }
    th_student_stats *s = NULL;
    CHECK_EQ_INT(th_student_stats_accumulate(&p, img, tgt, count, n_paths, 16, NULL, NULL, &s),
                 TH_OK);
    if (!s) return;
    CHECK_EQ_INT(th_student_stats_paths(s), n_paths);
    th_model *m = th_student_model_alloc(&p, TH_F64);
    for (int trial = 0; trial < 2; trial++) {
        if (trial) randomize(m, &p, 0.7, 303);
        const double direct = loss_of(m, &p, bimg, btgt, ids, n_paths, TH_KERNEL_REFERENCE,
                                      NULL);
        double from_stats = NAN;
        CHECK_EQ_INT(th_student_stats_loss(s, m, &from_stats), TH_OK);
        CHECK_REL(from_stats, direct, 1e-9);
    }
    th_model_free(m);
    th_student_stats_free(s);
}

/* The solve's minimiser is a stationary point of the penalised objective:
 * the gradient of th_student_path_loss (tested against finite differences
 * above) plus ridge J vanishes on every trained coupling and bias, and the
 * objective there is below that of nearby perturbed parameters. */
static void test_student_solve_stationary(void)
{
    th_student_params p = tiny_params();
    const size_t count = 30, nf = 5;
    uint64_t st = 41;
    float img[30 * 6], tgt[30 * 5];
    random_fill(img, sizeof img / sizeof img[0], -1.5, 1.5, &st);
    random_fill(tgt, sizeof tgt / sizeof tgt[0], -1, 1, &st);
    uint64_t ids[30];
    for (size_t q = 0; q < count; q++) ids[q] = q;
    th_student_stats *s = NULL;
    CHECK_EQ_INT(th_student_stats_accumulate(&p, img, tgt, count, count, 7, NULL, NULL, &s),
                 TH_OK);
    if (!s) return;
    const double ridges[2] = {0.0, 3.0};
    for (int t = 0; t < 2; t++) {
        const double ridge = ridges[t];
        th_model *m = th_student_model_alloc(&p, TH_F64);
        th_model *g = th_student_model_alloc(&p, TH_F64);
        th_solve_opts o = th_solve_opts_default();
        o.ridge = ridge;
        o.tolerance = 1e-12;
        th_solve_result res;
        CHECK_EQ_INT(th_student_stats_solve(s, m, &o, &res), TH_OK);
        CHECK(res.converged);
        const double at_min = loss_of(m, &p, img, tgt, ids, count, TH_KERNEL_REFERENCE, g);
        double gmax = 0, scale = 0;
        size_t checked = 0;
        for (size_t i = p.n_input; i < m->n; i++) {
            gmax = fmax(gmax, fabs(th_ptr_get(g->b, TH_F64, i)));
            checked++;
            for (size_t j = 0; j < m->n; j++) {
                if (j == i || !th_model_groups_couple(m, i, j)) continue;
                const double J = th_model_get_coupling(m, i, j);
                gmax = fmax(gmax, fabs(th_ptr_get(g->J, TH_F64, i * m->n + j) + ridge * J));
                scale = fmax(scale, fabs(J));
                checked++;
            }
        }
        CHECK(scale > 0.1); /* the solve moved the parameters */
        CHECK(checked > nf * p.n_input);
        CHECK(gmax < 1e-6 * at_min);
        /* nearby parameters do worse on the penalised objective */
        for (int k = 0; k < 3; k++) {
            th_model *q = th_student_model_alloc(&p, TH_F64);
            memcpy(q->J.v, m->J.v, m->n * m->n * sizeof(double));
            memcpy(q->b.v, m->b.v, m->n * sizeof(double));
            uint64_t seed = 500 + (uint64_t)k;
            double pen_m = 0, pen_q = 0;
            for (size_t i = p.n_input; i < q->n; i++) {
                th_ptr_set(q->b, TH_F64, i, th_ptr_get(q->b, TH_F64, i) + test_uniform(&seed, -0.01, 0.01));
                for (size_t j = 0; j < i; j++) {
                    if (!th_model_groups_couple(q, i, j)) continue;
                    const double J = th_model_get_coupling(q, i, j);
                    const double Jq = J + test_uniform(&seed, -0.01, 0.01);
                    th_model_set_coupling(q, i, j, Jq);
                    pen_m += 0.5 * ridge * J * J;
                    pen_q += 0.5 * ridge * Jq * Jq;
                }
            }
            const double lq = loss_of(q, &p, img, tgt, ids, count, TH_KERNEL_REFERENCE, NULL);
            CHECK(lq + pen_q > at_min + pen_m);
            th_model_free(q);
        }
        th_model_free(m);
        th_model_free(g);
    }
    th_student_stats_free(s);
}

/* Exact training on the separable toy: the minimiser classifies fresh toy
 * images by its own noisy dynamics, like gradient descent does. */
static void toy_problem(const th_student_params *p, size_t count, uint64_t seed, float *img,
                        float *tgt, uint8_t *labels);

static void test_student_solve_toy(void)
{
    th_student_params p = th_student_params_default();
    p.n_input = 12;
    p.n_hidden = 6;
    p.n_output = 2;
    p.seed = 9;
    const size_t count = 200, nf = 8, nt = 100;
    float *img = malloc(count * p.n_input * sizeof *img), *tgt = malloc(count * nf * sizeof *tgt);
    float *ti = malloc(nt * p.n_input * sizeof *ti), *tt = malloc(nt * nf * sizeof *tt);
    uint8_t labels[200], tl[100];
    toy_problem(&p, count, 77, img, tgt, labels);
    toy_problem(&p, nt, 555, ti, tt, tl);
    th_student_stats *s = NULL;
    CHECK_EQ_INT(th_student_stats_accumulate(&p, img, tgt, count, count, 64, NULL, NULL, &s),
                 TH_OK);
    th_model *m = th_student_model_alloc(&p, TH_F32);
    th_solve_opts o = th_solve_opts_default();
    o.ridge = 1.0;
    CHECK_EQ_INT(th_student_stats_solve(s, m, &o, NULL), TH_OK);
    float out[100 * 2];
    th_student_eval_opts eo = th_student_eval_opts_default();
    CHECK_EQ_INT(th_student_classify(m, &p, ti, nt, &eo, out, NULL, NULL), TH_OK);
    CHECK(th_topk_accuracy(out, nt, 2, tl, 1) >= 0.95);
    /* a model of another architecture is refused, naming the mismatch */
    th_student_params p2 = p;
    p2.n_hidden = 5;
    th_model *other = th_student_model_alloc(&p2, TH_F32);
    CHECK_EQ_INT(th_student_stats_solve(s, other, &o, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "group 1");
    th_model_free(other);
    th_student_stats_free(s);
    CHECK_EQ_INT(th_student_stats_accumulate(&p, img, tgt, 0, 10, 4, NULL, NULL, &s), TH_EINVAL);
    CHECK(s == NULL);
    th_model_free(m);
    free(img);
    free(tgt);
    free(ti);
    free(tt);
}

/* A separable toy: class c of 2 has inputs +-u plus noise, targets +-1 on
 * the outputs and a random tanh projection on the hidden units. */
static void toy_problem(const th_student_params *p, size_t count, uint64_t seed, float *img,
                        float *tgt, uint8_t *labels)
{
    const size_t n_in = p->n_input, nf = p->n_hidden + p->n_output;
    for (size_t k = 0; k < count; k++) {
        const int c = (int)(k % 2);
        labels[k] = (uint8_t)c;
        double proj = 0;
        for (size_t i = 0; i < n_in; i++) {
            const double u = (i % 2 ? 1.0 : -0.5) * (c ? 1 : -1);
            img[k * n_in + i] = (float)(u + test_uniform(&seed, -0.5, 0.5));
            proj += (double)img[k * n_in + i] * (i % 3 ? 0.3 : -0.2);
        }
        for (size_t h = 0; h < p->n_hidden; h++)
            tgt[k * nf + h] = (float)tanh(proj * (h % 2 ? 1 : -1));
        for (size_t o = 0; o < p->n_output; o++)
            tgt[k * nf + p->n_hidden + o] = (o == (size_t)c) ? 1.0f : -1.0f;
    }
}

/* Training lowers the objective on fresh paths, gives the same parameters
 * for 1 and 2 threads, and the trained student separates the toy classes
 * by its own noisy dynamics. */
static void test_student_train_toy(void)
{
    th_student_params p = th_student_params_default();
    p.n_input = 12;
    p.n_hidden = 6;
    p.n_output = 2;
    p.seed = 9;
    const size_t count = 200, nf = 8;
    float *img = malloc(count * p.n_input * sizeof *img), *tgt = malloc(count * nf * sizeof *tgt);
    uint8_t *labels = malloc(count);
    toy_problem(&p, count, 77, img, tgt, labels);
    uint64_t ids[20];
    for (size_t k = 0; k < 20; k++) ids[k] = 1000000 + k; /* paths no epoch uses */
    th_model *m = th_student_model_alloc(&p, TH_F32);
    const double before = loss_of(m, &p, img, tgt, ids, 20, TH_KERNEL_FAST, NULL);
    th_student_train_opts o = th_student_train_opts_default();
    o.epochs = 4;
    o.batch = 20;
    o.learning_rate = 0.02;
    double epoch_loss[4];
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_EQ_INT(th_student_train(m, &p, img, tgt, count, &o, epoch_loss), TH_OK);
    th_model *m2 = th_student_model_alloc(&p, TH_F32);
    omp_set_num_threads(2);
    CHECK_EQ_INT(th_student_train(m2, &p, img, tgt, count, &o, NULL), TH_OK);
    omp_set_num_threads(threads);
    CHECK(memcmp(m->J.v, m2->J.v, m->n * m->n * sizeof(float)) == 0);
    CHECK(memcmp(m->b.v, m2->b.v, m->n * sizeof(float)) == 0);
    const double after = loss_of(m, &p, img, tgt, ids, 20, TH_KERNEL_FAST, NULL);
    CHECK(after < before);
    CHECK(epoch_loss[3] < epoch_loss[0]);

    /* fresh toy images, classified by 10 trajectories each */
    const size_t nt = 100;
    float *ti = malloc(nt * p.n_input * sizeof *ti), *tt = malloc(nt * nf * sizeof *tt);
    float out[100 * 2], first[100 * 2];
    double heat[100];
    uint8_t tl[100];
    toy_problem(&p, nt, 555, ti, tt, tl);
    th_student_eval_opts eo = th_student_eval_opts_default();
    eo.batch_rows = 64; /* several runs, the last one smaller */
    CHECK_EQ_INT(th_student_classify(m, &p, ti, nt, &eo, out, first, heat), TH_OK);
    CHECK(th_topk_accuracy(out, nt, 2, tl, 1) >= 0.95);
    CHECK(th_topk_accuracy(first, nt, 2, tl, 1) >= 0.85);
    for (size_t k = 0; k < nt; k++) CHECK(isfinite(heat[k]));
    free(ti);
    free(tt);
    free(img);
    free(tgt);
    free(labels);
    th_model_free(m);
    th_model_free(m2);
}

/* The drive-folded simulation of th_student_classify against the full
 * three-group model with its inputs clamped, run by th_langevin_run
 * directly. The noise streams differ, so both run at kT = 1e-14, where the
 * noise is negligible: states agree to the noise's size, and the heat (an
 * energy, kT times the reported value) agrees too. */
static void test_student_clamped_equivalence(void)
{
    th_student_params p = tiny_params();
    p.kT = 1e-14;
    p.t_f = 0.2;
    th_model *m = th_student_model_alloc(&p, TH_F64);
    randomize(m, &p, 1.5, 4242);
    const size_t n = m->n, nf = 5;
    float img[6] = {1, -0.5f, 0.25f, 2, -1.5f, 0.75f};
    float out[2];
    double heat;
    th_student_eval_opts eo = th_student_eval_opts_default();
    eo.trajectories = 1;
    CHECK_EQ_INT(th_student_classify(m, &p, img, 1, &eo, out, NULL, &heat), TH_OK);

    th_batch *s = th_batch_alloc(m, 1, 3);
    unsigned char clamped[11] = {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    for (size_t j = 0; j < 6; j++) th_ptr_set(th_batch_states(s), TH_F64, j, (double)img[j]);
    th_run r = th_run_default();
    r.n_steps = th_student_steps(&p);
    r.dt = p.dt;
    r.clamped = clamped;
    r.kernel = TH_KERNEL_REFERENCE;
    CHECK_EQ_INT(th_langevin_run(m, s, &r), TH_OK);
    for (size_t c = 0; c < 2; c++) CHECK_CLOSE(out[c], th_ptr_get(th_batch_states(s), TH_F64, n - 2 + c), 1e-6);
    CHECK(fabs(out[0]) + fabs(out[1]) > 0.05); /* the outputs did move */
    CHECK_REL(heat * p.kT, th_batch_heat(s)[0] * p.kT, 1e-4);
    CHECK(fabs(heat * p.kT) > 1e-3);
    (void)nf;
    th_batch_free(s);
    th_model_free(m);
}

static void test_student_meta_roundtrip(void)
{
    th_student_params p = th_student_params_default(), q;
    p.n_hidden = 128;
    p.t_f = 0.3;
    p.gain = 0.1 + 0.2; /* not exactly representable in few digits */
    p.seed = UINT64_C(18446744073709551615);
    th_meta meta = {0};
    CHECK_EQ_INT(th_student_params_to_meta(&p, &meta), TH_OK);
    CHECK_EQ_INT(th_student_params_from_meta(&meta, &q), TH_OK);
    CHECK(memcmp(&p, &q, sizeof p) == 0);
    /* A file from before output_temperature existed: the paper's T = 1. */
    for (size_t k = 0; k < meta.count; k++)
        if (strcmp(meta.keys[k], "student.output_temperature") == 0) {
            free(meta.keys[k]);
            free(meta.values[k]);
            meta.keys[k] = meta.keys[meta.count - 1];
            meta.values[k] = meta.values[meta.count - 1];
            meta.count--;
            break;
        }
    CHECK(th_meta_get(&meta, "student.output_temperature") == NULL);
    CHECK_EQ_INT(th_student_params_from_meta(&meta, &q), TH_OK);
    CHECK_CLOSE(q.output_temperature, 1.0, 0);
    th_meta_set(&meta, "student.dt", "-1");
    CHECK_EQ_INT(th_student_params_from_meta(&meta, &q), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "dt");
    th_meta_set(&meta, "student.dt", "0.001x");
    CHECK_EQ_INT(th_student_params_from_meta(&meta, &q), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "student.dt");
    th_meta_clear(&meta);
    CHECK_EQ_INT(th_student_params_from_meta(&meta, &q), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "missing");
}

static void test_student_rejects(void)
{
    th_student_params p = th_student_params_default();
    p.dt = 0;
    CHECK_EQ_INT(th_student_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "dt");
    p = th_student_params_default();
    p.n_output = 1;
    CHECK_EQ_INT(th_student_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "n_output");
    p = th_student_params_default();
    p.gain = -1;
    CHECK_EQ_INT(th_student_params_validate(&p), TH_EINVAL);
    CHECK(th_student_model_alloc(&p, TH_F32) == NULL);

    th_student_params t = tiny_params();
    th_model *m = th_student_model_alloc(&t, TH_F32);
    th_student_params other = t;
    other.n_hidden = 4;
    CHECK_EQ_INT(th_student_check_model(m, &other), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "group 1");
    float img[6] = {0}, tgt[5] = {0}, out[2];
    uint64_t id = 0;
    double loss;
    CHECK_EQ_INT(th_student_path_loss(m, &other, img, tgt, &id, 1, TH_KERNEL_FAST, &loss, NULL),
                 TH_EINVAL);
    CHECK_EQ_INT(th_student_path_loss(m, &t, img, tgt, &id, 0, TH_KERNEL_FAST, &loss, NULL),
                 TH_EINVAL);
    th_student_eval_opts eo = th_student_eval_opts_default();
    eo.trajectories = 0;
    CHECK_EQ_INT(th_student_classify(m, &t, img, 1, &eo, out, NULL, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "trajectories");
    th_student_train_opts o = th_student_train_opts_default();
    o.learning_rate = 0;
    CHECK_EQ_INT(th_student_train(m, &t, img, tgt, 1, &o, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "learning rate");
    /* a diverging run stops with a message rather than NaN */
    o = th_student_train_opts_default();
    o.learning_rate = 1e300;
    o.cosine = 0;
    o.epochs = 3;
    o.batch = 1;
    float tg[5] = {1, 1, 1, 1, 1};
    float ones[6] = {1, 1, 1, 1, 1, 1};
    CHECK_EQ_INT(th_student_train(m, &t, ones, tg, 1, &o, NULL), TH_EDIVERGED);
    CHECK_STR_CONTAINS(th_last_error(), "diverged at update");
    th_model_free(m);
}

/* ------------------------------------------------ the student's file */

/* The bytes of a file; NULL when it cannot be read. *n receives the size. */
static unsigned char *file_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(size > 0 ? (size_t)size : 1);
    *n = b && size > 0 ? fread(b, 1, (size_t)size, f) : 0;
    fclose(f);
    return b;
}

/* A tiny student with random parameters and a 6-4-2 teacher's metadata. */
static th_student tiny_student(void)
{
    th_student s;
    memset(&s, 0, sizeof s);
    s.params = tiny_params();
    s.model = th_student_model_alloc(&s.params, TH_F32);
    if (s.model) randomize(s.model, &s.params, 0.7, 99);
    s.input_norm = 0.1 + 0.2; /* not exactly representable in few digits */
    s.n_widths = 3;
    s.widths[0] = 6;
    s.widths[1] = 4;
    s.widths[2] = 2;
    return s;
}

/* Save then load gives the same student bit for bit, and saving the loaded
 * one writes the same bytes; the caller's entries cannot override the
 * student's own, and a file from before the kind marker still loads. */
static void test_student_file_roundtrip(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    th_student s = tiny_student(), back;
    th_meta extra = {0}, got = {0};
    th_meta_set(&extra, "student.teacher", "t.safetensors");
    th_meta_set(&extra, "thermo.kind", "mlp");
    const char *a = scratch("a.safetensors"), *b = scratch("b.safetensors");
    CHECK_EQ_INT(th_student_save(a, &s, &extra), TH_OK);
    CHECK_EQ_INT(th_student_load(a, &back, &got), TH_OK);
    if (!back.model) {
        scratch_end();
        return;
    }
    const size_t n = s.model->n;
    CHECK(memcmp(&back.params, &s.params, sizeof s.params) == 0);
    CHECK(memcmp(back.model->J.v, s.model->J.v, n * n * sizeof(float)) == 0);
    CHECK(memcmp(back.model->b.v, s.model->b.v, n * sizeof(float)) == 0);
    CHECK(memcmp(&back.input_norm, &s.input_norm, sizeof s.input_norm) == 0);
    CHECK_EQ_INT(back.n_widths, 3);
    CHECK(memcmp(back.widths, s.widths, sizeof s.widths) == 0);
    CHECK_STR_CONTAINS(th_meta_get(&got, "thermo.kind"), TH_STUDENT_KIND);
    CHECK_STR_CONTAINS(th_meta_get(&got, "student.teacher"), "t.safetensors");
    CHECK(th_student_meta_is(&got));
    CHECK_EQ_INT(th_student_save(b, &back, &got), TH_OK);
    size_t na = 0, nb = 0;
    unsigned char *ba = file_bytes(a, &na), *bb = file_bytes(b, &nb);
    CHECK(ba && bb && na > 0 && na == nb && memcmp(ba, bb, na) == 0);
    free(ba);
    free(bb);

    /* Before the marker: the same entries without thermo.kind. */
    th_meta old = {0};
    for (size_t k = 0; k < got.count; k++)
        if (strcmp(got.keys[k], "thermo.kind") != 0) th_meta_set(&old, got.keys[k], got.values[k]);
    const char *o = scratch("old.safetensors");
    CHECK_EQ_INT(th_model_save(o, s.model, &old), TH_OK);
    th_student again;
    CHECK_EQ_INT(th_student_load(o, &again, NULL), TH_OK);
    CHECK(again.model && memcmp(again.model->J.v, s.model->J.v, n * n * sizeof(float)) == 0);
    th_student_clear(&again);
    /* A malformed teacher entry is named. */
    th_meta_set(&old, "student.teacher_widths", "6,4,3");
    CHECK_EQ_INT(th_model_save(o, s.model, &old), TH_OK);
    CHECK_EQ_INT(th_student_load(o, &again, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "student.teacher_widths");
    CHECK(again.model == NULL);
    th_meta_clear(&old);
    th_meta_clear(&extra);
    th_meta_clear(&got);
    th_student_clear(&back);
    th_student_clear(&s);
    scratch_end();
}

/* Another kind of file is refused as such, naming the file and the kind
 * expected: a neuron network, a plain model, and the student's own file
 * read as a network of neurons or as a digital network. */
static void test_student_file_kind(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    th_neuron_params np = th_neuron_params_default();
    np.n_layers = 2;
    np.width = 3;
    th_neuron_net *net = th_neuron_net_alloc(2, 3);
    const char *neuron = scratch("neuron.safetensors");
    CHECK_EQ_INT(th_neuron_save(neuron, net, &np, NULL), TH_OK);
    th_student s;
    CHECK_EQ_INT(th_student_load(neuron, &s, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), neuron);
    CHECK_STR_CONTAINS(th_last_error(), "'" TH_STUDENT_KIND "'");
    CHECK_STR_CONTAINS(th_last_error(), "'neuron'");
    CHECK(s.model == NULL);

    const size_t sizes[1] = {3};
    th_model *m = th_model_alloc(1, sizes, TH_F32);
    const char *plain = scratch("plain.safetensors");
    CHECK_EQ_INT(th_model_save(plain, m, NULL), TH_OK);
    CHECK_EQ_INT(th_student_load(plain, &s, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), plain);
    CHECK_STR_CONTAINS(th_last_error(), "thermo.kind");

    th_student st = tiny_student();
    const char *student = scratch("student.safetensors");
    CHECK_EQ_INT(th_student_save(student, &st, NULL), TH_OK);
    th_neuron_net *bad = NULL;
    CHECK_EQ_INT(th_neuron_load(student, &bad, &np, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "'neuron'");
    th_mlp *mlp = NULL;
    CHECK_EQ_INT(th_mlp_load(student, &mlp), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "thermo.kind");
    CHECK_STR_CONTAINS(th_last_error(), "\"mlp\"");
    CHECK(bad == NULL && mlp == NULL);
    th_student_clear(&st);
    th_model_free(m);
    th_neuron_net_free(net);
    scratch_end();
}

/* A labelled 2 x 3 dataset of count images. */
static th_dataset *tiny_images(size_t count, uint64_t seed)
{
    th_dataset *d = calloc(1, sizeof *d);
    d->count = count;
    d->rows = 2;
    d->cols = 3;
    d->pixels = malloc(count * 6);
    d->labels = malloc(count);
    for (size_t k = 0; k < count; k++) {
        d->labels[k] = (uint8_t)(k % 2);
        for (size_t i = 0; i < 6; i++)
            d->pixels[k * 6 + i] = (uint8_t)(test_uniform(&seed, 0, 256));
    }
    return d;
}

/* --ridge is per path: th_student_fit with ridge r over P paths gives the
 * bits of the absolute solve with r P on the same statistics, and the
 * student's inputs are the teacher's. */
static void test_student_fit_ridge_per_path(void)
{
    const size_t w[3] = {6, 4, 2};
    th_mlp *teacher = th_mlp_alloc(2, w, TH_ACT_TANH);
    th_dataset *d = tiny_images(15, 5);
    teacher->input = TH_INPUT_PNAS;
    teacher->input_norm = th_mlp_pnas_norm(d);
    th_mlp_init(teacher, 3);
    th_student_params p = tiny_params();
    CHECK_EQ_INT(th_student_params_for_teacher(teacher, &p), TH_OK);
    th_student_fit_opts o = th_student_fit_opts_default();
    o.ridge = 0.25;
    o.train.epochs = 2;
    o.stats_batch = 4;
    th_student s;
    th_student_fit_report r;
    double loss[2];
    CHECK_EQ_INT(th_student_fit(teacher, d, &p, &o, &s, &r, loss), TH_OK);
    CHECK_EQ_INT(r.paths, 30);
    CHECK(r.solve.converged && r.objective < r.objective_zero);
    CHECK(loss[0] == r.objective && loss[1] == r.objective);

    const size_t count = d->count;
    float X[15 * 6], A[15 * 5], Y[15 * 6];
    CHECK_EQ_INT(th_mlp_prepare(teacher, d, 0, count, X), TH_OK);
    CHECK_EQ_INT(th_student_prepare(&s, d, 0, count, Y), TH_OK);
    CHECK(memcmp(X, Y, sizeof X) == 0);
    CHECK_EQ_INT(th_student_targets(&p, teacher, X, count, A), TH_OK);
    th_student_stats *st = NULL;
    CHECK_EQ_INT(th_student_stats_accumulate(&p, X, A, count, 2 * count, 4, NULL, NULL, &st),
                 TH_OK);
    th_model *m = th_student_model_alloc(&p, TH_F32);
    th_solve_opts so = th_solve_opts_default();
    so.ridge = 0.25 * 30;
    CHECK_EQ_INT(th_student_stats_solve(st, m, &so, NULL), TH_OK);
    if (s.model && m) {
        const size_t n = m->n;
        CHECK(memcmp(m->J.v, s.model->J.v, n * n * sizeof(float)) == 0);
        CHECK(memcmp(m->b.v, s.model->b.v, n * sizeof(float)) == 0);
    }
    /* The same per-path ridge on twice the paths: twice the absolute one. */
    th_student_clear(&s);
    o.train.epochs = 4;
    CHECK_EQ_INT(th_student_fit(teacher, d, &p, &o, &s, &r, NULL), TH_OK);
    th_student_stats_free(st);
    CHECK_EQ_INT(th_student_stats_accumulate(&p, X, A, count, 4 * count, 4, NULL, NULL, &st),
                 TH_OK);
    so.ridge = 0.25 * 60;
    th_model_free(m);
    m = th_student_model_alloc(&p, TH_F32); /* CG starts from zero, as the fit's */
    CHECK_EQ_INT(th_student_stats_solve(st, m, &so, NULL), TH_OK);
    if (s.model && m)
        CHECK(memcmp(m->J.v, s.model->J.v, m->n * m->n * sizeof(float)) == 0);
    /* The tool's default: exactly 1000 in all over MNIST's 60000 paths. */
    CHECK(th_student_fit_opts_default().ridge * 60000.0 == 1000.0);
    th_model_free(m);
    th_student_stats_free(st);
    th_student_clear(&s);
    th_dataset_free(d);
    th_mlp_free(teacher);
}

void suite_classify(void)
{
    RUN_TEST(test_student_gradient_fd);
    RUN_TEST(test_student_fast_matches_reference);
    RUN_TEST(test_student_paths_and_closed_forms);
    RUN_TEST(test_student_paths_stationary);
    RUN_TEST(test_student_gain);
    RUN_TEST(test_student_targets);
    RUN_TEST(test_student_train_toy);
    RUN_TEST(test_student_stats_loss_matches_objective);
    RUN_TEST(test_student_solve_stationary);
    RUN_TEST(test_student_solve_toy);
    RUN_TEST(test_student_clamped_equivalence);
    RUN_TEST(test_student_meta_roundtrip);
    RUN_TEST(test_student_rejects);
    RUN_TEST(test_student_file_roundtrip);
    RUN_TEST(test_student_file_kind);
    RUN_TEST(test_student_fit_ridge_per_path);
}
