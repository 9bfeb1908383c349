/* test_neuron.c - thermodynamic neurons and the genetic algorithm
 * (Whitelam & Casert, Nat. Commun. 2026; science.md section 4).
 *
 * Checked against things the code under test did not produce: a neuron's
 * long-time mean <x> against the Boltzmann average of its well by Simpson
 * quadrature; the fast kernel against the plain reference twin and, with
 * J3 = 0, against the core's th_langevin_run on the same network written as
 * a th_model with the same noise streams; the loss of the zero network
 * against mean cos^2 computed here. The genetic algorithm must give the same
 * bits for any number of threads and for the same seed, must lower the loss
 * of a small problem, and every bad input must be refused with a message
 * naming the field. */
#include "harness.h"
#include "thermo.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static th_neuron_params small_params(size_t layers, size_t width, size_t n_z, size_t replicas,
                                     double t_f)
{
    th_neuron_params p = th_neuron_params_default();
    p.n_layers = layers;
    p.width = width;
    p.n_z = n_z;
    p.replicas = replicas;
    p.t_f = t_f;
    return p;
}

/* Parameters from splitmix64, independent of the generator under test. */
static void random_net(th_neuron_net *net, uint64_t seed, double scale)
{
    for (size_t k = 0; k < net->n_params; k++)
        net->theta[k] = test_uniform(&seed, -scale, scale);
}

/* <x> = int x e^{-U/kT} dx / int e^{-U/kT} dx for U = J2 x^2 + J3 x^3 +
 * J4 x^4 - I x, by Simpson's rule on [-8, 8] (the weight there is below
 * e^{-4000/kT}). */
static double boltzmann_mean(double J2, double J3, double J4, double I, double kT)
{
    const int n = 8000; /* even */
    const double a = -8, h = 16.0 / n;
    double num = 0, den = 0;
    for (int k = 0; k <= n; k++) {
        const double x = a + h * k;
        const double u = J2 * x * x + J3 * x * x * x + J4 * x * x * x * x - I * x;
        const double wk = (k == 0 || k == n) ? 1 : (k % 2 ? 4 : 2);
        const double e = exp(-u / kT);
        num += wk * x * e;
        den += wk * e;
    }
    return num / den;
}

/* Eight uncoupled neurons with inputs I from -3 to 3 (biases), run long
 * enough to forget x = 0: the time average over the second half of the run
 * and over replicas must match the Boltzmann integral. */
static void test_neuron_boltzmann_mean(void)
{
    th_neuron_params p = small_params(1, 8, 1, 1024, 4.0);
    p.kT = 1.0; /* thermal smoothing well visible against the T = 0 response */
    p.dt = 0.002;
    th_neuron_net *net = th_neuron_net_alloc(1, 8);
    CHECK(net != NULL);
    if (!net) return;
    for (size_t i = 0; i < 8; i++) net->b[i] = -3.0 + 6.0 * (double)i / 7.0;
    enum { N_SNAPS = 51 };
    size_t snaps[N_SNAPS];
    for (size_t s = 0; s < N_SNAPS; s++) snaps[s] = 1000 + 20 * s;
    double *means = malloc(N_SNAPS * 8 * sizeof *means);
    const double z = 0;
    CHECK_EQ_INT(th_neuron_run(&p, net, &z, 1, p.replicas, 11, 0, snaps, N_SNAPS,
                               TH_KERNEL_FAST, means),
                 TH_OK);
    for (size_t i = 0; i < 8; i++) {
        double avg = 0;
        for (size_t s = 0; s < N_SNAPS; s++) avg += means[s * 8 + i];
        avg /= N_SNAPS;
        const double exact = boltzmann_mean(p.J2, p.J3, p.J4, net->b[i], p.kT);
        /* Standard error about 0.008 (1024 replicas, about 8 correlation
         * times), Euler bias at dt = 0.002 well below that. */
        CHECK_CLOSE(avg, exact, 0.03);
    }
    /* The response is not linear: with J3 = 0.5 the well is softer on the
     * negative side, so <x>(-3) = -0.70 against <x>(3) = 0.52 (quadrature
     * here); a linear unit would give opposite values. The simulation shows
     * it too (neurons 0 and 7 have I = -3 and 3). */
    const double up = boltzmann_mean(p.J2, p.J3, p.J4, 3.0, p.kT);
    const double down = boltzmann_mean(p.J2, p.J3, p.J4, -3.0, p.kT);
    CHECK(up + down < -0.15);
    double sim_up = 0, sim_down = 0;
    for (size_t s = 0; s < N_SNAPS; s++) {
        sim_up += means[s * 8 + 7] / N_SNAPS;
        sim_down += means[s * 8 + 0] / N_SNAPS;
    }
    CHECK(sim_up + sim_down < -0.1);
    free(means);
    th_neuron_net_free(net);
}

/* The block kernel against the dense reference twin: same noise, so the
 * means agree to rounding. 40 replicas: a full batch of 32 and a part. */
static void test_neuron_fast_matches_reference(void)
{
    th_neuron_params p = small_params(4, 8, 3, 40, 0.5);
    th_neuron_net *net = th_neuron_net_alloc(4, 8);
    if (!net) {
        CHECK(net != NULL);
        return;
    }
    random_net(net, 5, 1.0);
    const double z[3] = {0.0, 0.4, 1.0};
    const size_t snaps[4] = {0, 1, 17, 50};
    double fast[4 * 3 * 8], ref[4 * 3 * 8];
    CHECK_EQ_INT(th_neuron_run(&p, net, z, 3, 40, 9, 100, snaps, 4, TH_KERNEL_FAST, fast), TH_OK);
    CHECK_EQ_INT(th_neuron_run(&p, net, z, 3, 40, 9, 100, snaps, 4, TH_KERNEL_REFERENCE, ref),
                 TH_OK);
    double worst = 0, size = 0;
    for (size_t k = 0; k < 4 * 3 * 8; k++) {
        worst = fmax(worst, fabs(fast[k] - ref[k]));
        size = fmax(size, fabs(ref[k]));
    }
    CHECK(worst <= 1e-12 * fmax(size, 1.0));
    CHECK(size > 0.05); /* the network did something */
    for (size_t k = 0; k < 3 * 8; k++) CHECK_CLOSE(fast[k], 0.0, 0.0); /* snapshot 0: x = 0 */
    th_neuron_net_free(net);
}

/* With J3 = 0 the network is a th_model: biases b -> -b, couplings w -> -w
 * (science.md writes + J x x), the input field W z a per-trajectory drive
 * -W z. The core's f64 kernel draws the same Philox words (f64 Box-Muller),
 * so the means agree to float rounding of the noise. */
static double unit_amplitude(double t, void *ctx)
{
    (void)t;
    (void)ctx;
    return 1.0;
}

static void test_neuron_matches_core_langevin(void)
{
    const size_t L = 3, w = 4, N = 12, R = 24, steps = 60;
    th_neuron_params p = small_params(L, w, 2, R, 0.6);
    th_neuron_net *net = th_neuron_net_alloc(L, w);
    const size_t sizes[3] = {4, 4, 4};
    th_model *m = th_model_alloc(3, sizes, TH_F64);
    if (!net || !m) {
        CHECK(net && m);
        th_neuron_net_free(net);
        th_model_free(m);
        return;
    }
    random_net(net, 21, 1.5);
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 2);
    m->kT = p.kT;
    m->mu = p.mu;
    th_model_set_onsite3(m, p.J2, p.J3, p.J4);
    for (size_t i = 0; i < N; i++) m->b.f64[i] = -net->b[i];
    for (size_t l = 0; l + 1 < L; l++)
        for (size_t i = 0; i < w; i++)
            for (size_t j = 0; j < w; j++)
                th_model_set_coupling(m, l * w + i, (l + 1) * w + j, -net->w[(l * w + i) * w + j]);
    const double z[2] = {0.25, 0.8};
    /* Trajectory k = j R + r of the batch is input j, replica r: streams
     * 0 .. 2R - 1, as th_neuron_run numbers them from stream_base 0. */
    double *field = calloc(2 * R * N, sizeof *field); /* (2R, N) */
    th_batch *s = th_batch_alloc(m, 2 * R, 77);
    if (!field || !s) {
        CHECK(field && s);
        free(field);
        th_batch_free(s);
        th_neuron_net_free(net);
        th_model_free(m);
        return;
    }
    for (size_t k = 0; k < 2 * R; k++)
        for (size_t i = 0; i < w; i++) field[k * N + i] = -net->W[i] * z[k / R];
    th_drive drive = {.amplitude = unit_amplitude, .field.f64 = field, .per_trajectory = 1};
    th_run run = th_run_default();
    run.n_steps = steps;
    run.dt = p.dt;
    run.drive = &drive;
    run.noise = TH_NOISE_F32;
    CHECK_EQ_INT(th_langevin_run(m, s, &run), TH_OK);
    double core[2 * 4] = {0};
    const double *x = th_batch_states(s).f64;
    for (size_t k = 0; k < 2 * R; k++)
        for (size_t i = 0; i < w; i++) core[(k / R) * w + i] += x[k * N + 8 + i];
    for (size_t k = 0; k < 2 * w; k++) core[k] /= (double)R; /* summed, then divided, as there */
    double mine[2 * 4];
    CHECK_EQ_INT(th_neuron_run(&p, net, z, 2, R, 77, 0, &steps, 1, TH_KERNEL_FAST, mine), TH_OK);
    CHECK(p.J3 != 0);
    for (size_t k = 0; k < 2 * w; k++) CHECK_CLOSE(mine[k], core[k], 0.0);
    free(field);
    th_batch_free(s);
    th_neuron_net_free(net);
    th_model_free(m);
}

/* The zero network outputs y = 0, so its loss is mean_j cos^2(2 pi z_j)
 * whatever the noise. */
static void test_neuron_zero_network_loss(void)
{
    th_neuron_params p = small_params(2, 3, 7, 4, 0.3);
    th_neuron_net *net = th_neuron_net_alloc(2, 3);
    if (!net) {
        CHECK(net != NULL);
        return;
    }
    double loss = -1, y[7];
    CHECK_EQ_INT(th_neuron_loss(&p, net, 3, 0, &loss, y), TH_OK);
    double expect = 0;
    for (int j = 0; j < 7; j++) {
        const double c = cos(2 * PI * j / 6.0);
        expect += c * c / 7;
        CHECK_CLOSE(y[j], 0.0, 0.0);
    }
    CHECK_CLOSE(loss, expect, 1e-14);
    CHECK_EQ_INT(th_neuron_fan_in(net, 0), 1);                   /* W */
    CHECK_EQ_INT(th_neuron_fan_in(net, 3 + 5), 1);               /* a bias */
    CHECK_EQ_INT(th_neuron_fan_in(net, 3 + 6), 3);               /* the first coupling */
    CHECK_EQ_INT(th_neuron_fan_in(net, net->n_params - 1), 3);   /* a readout weight */
    th_neuron_net_free(net);
}

/* ------------------------------------------------------------ the GA */

static int run_ga(const th_neuron_params *p, th_ga_opts o, int threads, th_neuron_net *net,
                  double *best)
{
    th_ga_history h = {best, malloc(o.generations * sizeof(double)),
                       malloc(o.generations * sizeof(size_t))};
    int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    int rc = th_ga_train(p, &o, net, &h);
    omp_set_num_threads(saved);
    free(h.median);
    free(h.diverged);
    return rc;
}

static void test_ga_same_for_any_threads_and_seed(void)
{
    th_neuron_params p = small_params(2, 3, 4, 4, 0.2);
    th_ga_opts o = th_ga_opts_default();
    o.population = 9;
    o.elite = 2;
    o.generations = 4;
    o.mutation_sd = 0.5;
    th_neuron_net *a = th_neuron_net_alloc(2, 3), *b = th_neuron_net_alloc(2, 3),
                  *c = th_neuron_net_alloc(2, 3);
    if (!a || !b || !c) {
        CHECK(a && b && c);
        goto done;
    }
    double ha[4], hb[4], hc[4];
    CHECK_EQ_INT(run_ga(&p, o, 1, a, ha), TH_OK);
    CHECK_EQ_INT(run_ga(&p, o, 3, b, hb), TH_OK);
    CHECK(memcmp(a->theta, b->theta, a->n_params * sizeof(double)) == 0);
    CHECK(memcmp(ha, hb, sizeof ha) == 0);
    CHECK_EQ_INT(run_ga(&p, o, 2, c, hc), TH_OK); /* the same seed again */
    CHECK(memcmp(a->theta, c->theta, a->n_params * sizeof(double)) == 0);
    o.seed = 2;
    CHECK_EQ_INT(run_ga(&p, o, 2, c, hc), TH_OK);
    CHECK(memcmp(a->theta, c->theta, a->n_params * sizeof(double)) != 0);
done:
    th_neuron_net_free(a);
    th_neuron_net_free(b);
    th_neuron_net_free(c);
}

/* A small problem: the evolved network, judged on fresh noise with many
 * replicas, must beat the zero network (y = 0, loss mean cos^2) clearly. */
static void test_ga_lowers_the_loss(void)
{
    /* One layer of 4: the input field reaches the readout directly, so 40
     * generations suffice (4 layers take hundreds, see the demo). */
    th_neuron_params p = small_params(1, 4, 8, 64, 0.5);
    th_ga_opts o = th_ga_opts_default();
    o.population = 24;
    o.elite = 4;
    o.generations = 40;
    o.mutation_sd = 1.0;
    o.seed = 3;
    th_neuron_net *net = th_neuron_net_alloc(1, 4);
    if (!net) {
        CHECK(net != NULL);
        return;
    }
    double best[40];
    CHECK_EQ_INT(run_ga(&p, o, 2, net, best), TH_OK);
    double zero = 0;
    for (int j = 0; j < 8; j++) zero += pow(cos(2 * PI * j / 7.0), 2) / 8;
    th_neuron_params judge = p;
    judge.replicas = 512;
    double loss = 1e9;
    CHECK_EQ_INT(th_neuron_loss(&judge, net, 99, 0, &loss, NULL), TH_OK);
    CHECK(loss < 0.6 * zero);
    CHECK(best[39] < 0.6 * best[0]);
    th_neuron_net_free(net);
}

/* ------------------------------------------------------------- files */

static void test_neuron_save_load(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    th_neuron_params p = small_params(3, 5, 6, 7, 0.37);
    p.kT = 1.0 / 3.0;
    p.J3 = -nextafter(0.2, 1.0);
    th_neuron_net *net = th_neuron_net_alloc(3, 5), *back = NULL;
    if (!net) {
        CHECK(net != NULL);
        scratch_end();
        return;
    }
    random_net(net, 8, 2.0);
    th_meta extra = {0};
    th_meta_set(&extra, "ga.population", "17");
    const char *path = scratch("net.safetensors");
    CHECK_EQ_INT(th_neuron_save(path, net, &p, &extra), TH_OK);
    th_neuron_params q;
    th_meta got = {0};
    CHECK_EQ_INT(th_neuron_load(path, &back, &q, &got), TH_OK);
    if (back) {
        CHECK(memcmp(net->theta, back->theta, net->n_params * sizeof(double)) == 0);
        CHECK(memcmp(&p.kT, &q.kT, sizeof p.kT) == 0);
        CHECK(memcmp(&p.J3, &q.J3, sizeof p.J3) == 0);
        CHECK(memcmp(&p.t_f, &q.t_f, sizeof p.t_f) == 0);
        CHECK_EQ_INT(q.n_layers, 3);
        CHECK_EQ_INT(q.width, 5);
        CHECK_EQ_INT(q.replicas, 7);
        CHECK_STR_CONTAINS(th_meta_get(&got, "ga.population"), "17");
        double l1 = 0, l2 = 1;
        CHECK_EQ_INT(th_neuron_loss(&p, net, 4, 0, &l1, NULL), TH_OK);
        CHECK_EQ_INT(th_neuron_loss(&q, back, 4, 0, &l2, NULL), TH_OK);
        CHECK(memcmp(&l1, &l2, sizeof l1) == 0);
    }
    /* Another kind of model file is refused with a reason. */
    const size_t sizes[1] = {3};
    th_model *m = th_model_alloc(1, sizes, TH_F32);
    const char *other = scratch("model.safetensors");
    CHECK_EQ_INT(th_model_save(other, m, NULL), TH_OK);
    th_neuron_net *bad = NULL;
    CHECK_EQ_INT(th_neuron_load(other, &bad, &q, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "not a network of thermodynamic neurons");
    CHECK(bad == NULL);
    /* A network whose settings are broken: t_f missing. */
    th_tensor t[1] = {{.name = "W", .dtype = TH_F64, .n_dims = 1, .shape = {5},
                       .data.f64 = net->W}};
    th_meta meta = {0};
    th_meta_set(&meta, "thermo.kind", "neuron-network");
    const char *broken = scratch("broken.safetensors");
    CHECK_EQ_INT(th_safetensors_write(broken, t, 1, &meta), TH_OK);
    CHECK_EQ_INT(th_neuron_load(broken, &bad, &q, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "neuron.n_layers");
    CHECK_STR_CONTAINS(th_last_error(), broken);
    th_meta_clear(&meta);
    th_meta_clear(&extra);
    th_meta_clear(&got);
    th_model_free(m);
    th_neuron_net_free(net);
    th_neuron_net_free(back);
    scratch_end();
}

/* ------------------------------------------------------- bad inputs */

static void test_neuron_bad_inputs(void)
{
    th_neuron_params p = th_neuron_params_default();
    p.kT = 0;
    CHECK_EQ_INT(th_neuron_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "kT");
    p = th_neuron_params_default();
    p.J4 = 0;
    CHECK_EQ_INT(th_neuron_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "J4");
    p = th_neuron_params_default();
    p.t_f = 0.001; /* a tenth of a step */
    CHECK_EQ_INT(th_neuron_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "t_f");
    p = th_neuron_params_default();
    p.replicas = (size_t)1 << 20;
    CHECK_EQ_INT(th_neuron_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "replicas");
    p = th_neuron_params_default();
    p.J2 = NAN;
    CHECK_EQ_INT(th_neuron_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "J2");

    th_ga_opts o = th_ga_opts_default();
    o.elite = o.population;
    CHECK_EQ_INT(th_ga_opts_validate(&o), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "elite");
    o = th_ga_opts_default();
    o.mutation_sd = 0;
    CHECK_EQ_INT(th_ga_opts_validate(&o), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "mutation_sd");

    /* A network of the wrong size, a NaN parameter, a NaN input, snapshot
     * steps out of order. */
    p = small_params(2, 3, 2, 2, 0.1);
    th_neuron_net *net = th_neuron_net_alloc(2, 4);
    double loss, means[2 * 2 * 3];
    CHECK_EQ_INT(th_neuron_loss(&p, net, 1, 0, &loss, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "expected 2 layers of 3");
    th_neuron_net_free(net);
    net = th_neuron_net_alloc(2, 3);
    net->f[1] = NAN;
    CHECK_EQ_INT(th_neuron_loss(&p, net, 1, 0, &loss, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "finite");
    net->f[1] = 0;
    const double z[2] = {0, NAN};
    const size_t snaps[2] = {5, 2};
    CHECK_EQ_INT(th_neuron_run(&p, net, z, 2, 2, 1, 0, snaps, 1, TH_KERNEL_FAST, means),
                 TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "z[1]");
    const double z_ok[2] = {0, 1};
    CHECK_EQ_INT(th_neuron_run(&p, net, z_ok, 2, 2, 1, 0, snaps, 2, TH_KERNEL_FAST, means),
                 TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "ascending");
    const double times[2] = {0.2, 0.1};
    double curve[2];
    CHECK_EQ_INT(th_neuron_loss_curve(&p, net, 2, 1, times, 2, curve), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "ascending");

    /* Couplings far too strong for dt: the run stops with a message, and a
     * population of such networks fails the GA rather than returning one. */
    p.dt = 0.05;
    p.t_f = 2;
    for (size_t k = 0; k < net->n_params; k++) net->theta[k] = 40.0;
    CHECK_EQ_INT(th_neuron_loss(&p, net, 1, 0, &loss, NULL), TH_EDIVERGED);
    CHECK_STR_CONTAINS(th_last_error(), "beyond the bound");
    th_ga_opts wild = th_ga_opts_default();
    wild.population = 4;
    wild.elite = 1;
    wild.generations = 1;
    wild.init_sd = 1e3;
    CHECK_EQ_INT(th_ga_train(&p, &wild, net, NULL), TH_EDIVERGED);
    CHECK_STR_CONTAINS(th_last_error(), "diverged");

    /* Charts: too few points, too small a canvas, no finite value. */
    const double x[2] = {0, 1}, ys[2] = {NAN, NAN};
    CHECK(th_picture_curves(x, ys, 1, 1, NULL, 0, 200, 200) == NULL);
    CHECK(th_picture_curves(x, z_ok, 1, 2, NULL, 0, 20, 20) == NULL);
    CHECK(th_picture_curves(x, ys, 1, 2, NULL, 0, 200, 200) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "finite");
    th_neuron_net_free(net);
}

/* A straight line from (0, 0) to (1, 1) and a mark at x = 0.5: the line's
 * ends sit at the plot's corners, the mark is dashed. */
static void test_picture_curves_draws(void)
{
    const double x[2] = {0, 1}, y[2] = {0, 1}, mark = 0.5;
    th_canvas *c = th_picture_curves(x, y, 1, 2, &mark, 1, 200, 100);
    CHECK(c != NULL);
    if (!c) return;
    size_t blue = 0, grey_col = 0;
    for (size_t r = 0; r < c->height; r++)
        for (size_t q = 0; q < c->width; q++) {
            const uint8_t *px = c->rgb + (r * c->width + q) * 3;
            if (px[0] == 70 && px[1] == 130 && px[2] == 180) blue++;
            if (px[0] == 110 && px[1] == 110 && px[2] == 110) grey_col = q;
        }
    CHECK(blue > 150);                             /* a line across the plot */
    CHECK(grey_col > 95 && grey_col < 115);        /* the mark near the middle */
    th_canvas_free(c);
}

/* ------------------------------------------------- evaluation and files */

/* The lines of a text file, or -1 when it cannot be read; first (size
 * bytes) receives the first line without its newline. */
static int text_lines(const char *path, char *first, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int lines = 0;
    char buf[256];
    first[0] = '\0';
    while (fgets(buf, sizeof buf, f)) {
        if (lines++ == 0) {
            buf[strcspn(buf, "\n")] = '\0';
            snprintf(first, size, "%s", buf);
        }
    }
    fclose(f);
    return lines;
}

/* th_neuron_evaluate: the curve at k t_f / 20, its values at 0.5, 1 and
 * 2 t_f, and the fit at t_f from the curve's own noise; the files it writes
 * and the GA record; a file marked with the older kind still loads. */
static void test_neuron_evaluate_and_files(void)
{
    th_neuron_params p = th_neuron_params_default();
    p.n_layers = 2;
    p.width = 3;
    p.n_z = 5;
    p.t_f = 0.2;
    th_neuron_net *net = th_neuron_net_alloc(2, 3);
    uint64_t st = 17;
    for (size_t k = 0; k < net->n_params; k++) net->theta[k] = test_uniform(&st, -0.5, 0.5);
    th_neuron_eval e;
    CHECK_EQ_INT(th_neuron_evaluate(&p, net, 0, 3, &e), TH_EINVAL);
    CHECK_EQ_INT(th_neuron_evaluate(&p, net, 8, 3, &e), TH_OK);
    CHECK(e.seed == 3 + TH_NEURON_EVAL_SEED_OFFSET && e.replicas == 8 && e.n_z == 5);
    for (size_t k = 0; k < TH_NEURON_CURVE_POINTS; k++) {
        CHECK_CLOSE(e.times[k], p.t_f * (double)(k + 2) / 20, 1e-15);
        CHECK(e.loss[e.best] <= e.loss[k]);
    }
    CHECK(e.loss_half == e.loss[8] && e.loss_tf == e.loss[18] && e.loss_double == e.loss[38]);
    th_neuron_params q = p;
    q.replicas = 8;
    double y[5], fit = 0, curve = 0;
    CHECK_EQ_INT(th_neuron_loss(&q, net, e.seed, 0, &fit, y), TH_OK);
    CHECK(memcmp(y, e.y, sizeof y) == 0);
    CHECK_EQ_INT(th_neuron_loss_curve(&q, net, 8, e.seed, &p.t_f, 1, &curve), TH_OK);
    CHECK(curve == e.loss_tf);
    for (size_t j = 0; j < 5; j++) {
        CHECK_CLOSE(e.z[j], 0.25 * (double)j, 1e-15);
        CHECK(e.target[j] == th_neuron_target(e.z[j]));
    }
    if (!scratch_begin()) {
        CHECK(0);
        th_neuron_eval_free(&e);
        th_neuron_net_free(net);
        return;
    }
    const char *dir = scratch("eval");
    CHECK_EQ_INT(th_mkdir_p(dir), TH_OK);
    const char *curve_csv = scratch("eval/loss_vs_time.csv"), *fit_csv = scratch("eval/fit.csv");
    const char *curve_png = scratch("eval/loss_vs_time.png"), *fit_png = scratch("eval/fit.png");
    CHECK_EQ_INT(th_neuron_eval_write(dir, &e), TH_OK);
    char first[256];
    CHECK_EQ_INT(text_lines(curve_csv, first, sizeof first), TH_NEURON_CURVE_POINTS + 1);
    CHECK_STR_CONTAINS(first, "t,t_over_tf,loss");
    CHECK_EQ_INT(text_lines(fit_csv, first, sizeof first), 6);
    CHECK_STR_CONTAINS(first, "z,y,cos_2pi_z");
    FILE *f1 = fopen(curve_png, "rb"), *f2 = fopen(fit_png, "rb");
    CHECK(f1 != NULL && f2 != NULL);
    if (f1) fclose(f1);
    if (f2) fclose(f2);
    /* a folder that cannot exist: its parent is a file */
    const char *blocker = scratch("blocker");
    CHECK_EQ_INT(th_write_text_atomic(blocker, "x"), TH_OK);
    CHECK_EQ_INT(th_neuron_eval_write(scratch("blocker/eval"), &e), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "blocker");

    th_ga_opts ga = th_ga_opts_default();
    ga.generations = 2;
    th_ga_history h;
    CHECK_EQ_INT(th_ga_history_alloc(&h, 2), TH_OK);
    h.best[0] = 0.5;
    h.best[1] = 0.25;
    h.median[0] = h.median[1] = 1;
    const char *ga_csv = scratch("ga.csv");
    CHECK_EQ_INT(th_ga_history_write_csv(ga_csv, &h, 2), TH_OK);
    CHECK_EQ_INT(text_lines(ga_csv, first, sizeof first), 3);
    CHECK_STR_CONTAINS(first, "generation,best_loss,median_loss");
    th_meta meta = {0};
    CHECK_EQ_INT(th_ga_to_meta(&ga, &h, &meta), TH_OK);
    CHECK_STR_CONTAINS(th_meta_get(&meta, "ga.final_best_loss"), "0.25");
    CHECK_STR_CONTAINS(th_meta_get(&meta, "ga.generations"), "2");

    /* The file kind: "neuron" now, "neuron-network" from older files. */
    const char *path = scratch("net.safetensors");
    th_neuron_params pp = p;
    pp.replicas = 4;
    CHECK_EQ_INT(th_neuron_save(path, net, &pp, &meta), TH_OK);
    th_tensor_file *tf = NULL;
    CHECK_EQ_INT(th_safetensors_read(path, &tf), TH_OK);
    if (tf) {
        CHECK_STR_CONTAINS(th_meta_get(&tf->meta, "thermo.kind"), "neuron");
        th_meta_set(&tf->meta, "thermo.kind", "neuron-network");
        CHECK_EQ_INT(th_safetensors_write(path, tf->tensors, tf->count, &tf->meta), TH_OK);
        th_tensor_file_free(tf);
    }
    th_neuron_net *back = NULL;
    CHECK_EQ_INT(th_neuron_load(path, &back, &q, NULL), TH_OK);
    CHECK(back && memcmp(back->theta, net->theta, net->n_params * sizeof(double)) == 0);
    th_neuron_net_free(back);
    th_meta_clear(&meta);
    th_ga_history_free(&h);
    th_neuron_eval_free(&e);
    th_neuron_net_free(net);
    scratch_end();
}

void suite_neuron(void)
{
    RUN_TEST(test_neuron_boltzmann_mean);
    RUN_TEST(test_neuron_fast_matches_reference);
    RUN_TEST(test_neuron_matches_core_langevin);
    RUN_TEST(test_neuron_zero_network_loss);
    RUN_TEST(test_ga_same_for_any_threads_and_seed);
    RUN_TEST(test_ga_lowers_the_loss);
    RUN_TEST(test_neuron_save_load);
    RUN_TEST(test_neuron_bad_inputs);
    RUN_TEST(test_picture_curves_draws);
    RUN_TEST(test_neuron_evaluate_and_files);
}
