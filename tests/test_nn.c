/* test_nn.c - the digital networks (src/nn/): the forward pass against a plain
 * double-precision loop, the backward pass against float64 central finite
 * differences of that loop, save/load and the rejection of damaged files,
 * thread independence of training, and a training run that must learn. */
#include "harness.h"

#include "thermo.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>

void openblas_set_num_threads(int num_threads);

/* A net with weights uniform in [-scale, scale] and biases in [-0.3, 0.3]
 * from splitmix64, independent of the library's own initialisation. */
static th_mlp *random_net(int L, const size_t *width, th_activation act, double scale,
                          uint64_t seed)
{
    th_mlp *net = th_mlp_alloc(L, width, act);
    if (!net) return NULL;
    uint64_t s = seed;
    for (int l = 0; l < L; l++) {
        for (size_t i = 0; i < width[l + 1] * width[l]; i++)
            net->W[l][i] = (float)test_uniform(&s, -scale, scale);
        for (size_t i = 0; i < width[l + 1]; i++)
            net->b[l][i] = (float)test_uniform(&s, -0.3, 0.3);
    }
    return net;
}

static float *random_inputs(size_t n, size_t d, uint64_t seed)
{
    float *X = malloc(n * d * sizeof *X);
    uint64_t s = seed;
    for (size_t i = 0; i < n * d; i++) X[i] = (float)test_uniform(&s, -1.5, 1.5);
    return X;
}

/* The network as double arrays, so that finite differences can perturb one
 * weight in double precision. Layout as th_mlp: W[l] (width[l+1], width[l]). */
typedef struct ref_net {
    int L;
    size_t width[TH_MLP_MAX_LAYERS + 1];
    th_activation act;
    double *W[TH_MLP_MAX_LAYERS];
    double *b[TH_MLP_MAX_LAYERS];
} ref_net;

static void ref_from(ref_net *r, const th_mlp *net)
{
    r->L = net->n_layers;
    r->act = net->act;
    for (int l = 0; l <= r->L; l++) r->width[l] = net->width[l];
    for (int l = 0; l < r->L; l++) {
        size_t nw = net->width[l + 1] * net->width[l];
        r->W[l] = malloc(nw * sizeof(double));
        r->b[l] = malloc(net->width[l + 1] * sizeof(double));
        for (size_t i = 0; i < nw; i++) r->W[l][i] = net->W[l][i];
        for (size_t i = 0; i < net->width[l + 1]; i++) r->b[l][i] = net->b[l][i];
    }
}

static void ref_free(ref_net *r)
{
    for (int l = 0; l < r->L; l++) {
        free(r->W[l]);
        free(r->b[l]);
    }
}

/* Plain loops in double: the logits of example x into z (width[L]); the
 * hidden activations of layer l into hid[l] when hid is non-NULL. */
static void ref_forward(const ref_net *r, const float *x, double *z, double **hid)
{
    double a[2][1024];
    for (size_t i = 0; i < r->width[0]; i++) a[0][i] = x[i];
    int cur = 0;
    for (int l = 0; l < r->L; l++) {
        const size_t n_in = r->width[l], n_out = r->width[l + 1];
        double *out = l == r->L - 1 ? z : a[1 - cur];
        for (size_t j = 0; j < n_out; j++) {
            double s = r->b[l][j];
            for (size_t i = 0; i < n_in; i++) s += r->W[l][j * n_in + i] * a[cur][i];
            if (l < r->L - 1) s = r->act == TH_ACT_TANH ? tanh(s) : (s > 0 ? s : 0);
            out[j] = s;
            if (hid && l < r->L - 1) hid[l][j] = s;
        }
        cur = 1 - cur;
    }
}

/* Mean softmax cross-entropy, in double, written out from its definition. */
static double ref_loss(const ref_net *r, const float *X, const uint8_t *y, size_t n)
{
    double total = 0;
    double z[64];
    for (size_t k = 0; k < n; k++) {
        ref_forward(r, X + k * r->width[0], z, NULL);
        double s = 0;
        for (size_t j = 0; j < r->width[r->L]; j++) s += exp(z[j]);
        total += -log(exp(z[y[k]]) / s);
    }
    return total / (double)n;
}

static void forward_check(th_activation act, size_t n)
{
    const size_t width[4] = {13, 9, 7, 5};
    th_mlp *net = random_net(3, width, act, 0.6, 11 + (uint64_t)act);
    float *X = random_inputs(n, width[0], 5);
    float *logits = malloc(n * width[3] * sizeof(float));
    float *h0 = malloc(n * width[1] * sizeof(float)), *h1 = malloc(n * width[2] * sizeof(float));
    float *hidden[2] = {h0, h1};
    CHECK_EQ_INT(th_mlp_forward(net, X, n, logits, hidden), TH_OK);
    ref_net r;
    ref_from(&r, net);
    double worst = 0, z[5], hz0[9], hz1[7];
    double *hid[2] = {hz0, hz1};
    for (size_t k = 0; k < n; k++) {
        ref_forward(&r, X + k * width[0], z, hid);
        for (size_t j = 0; j < width[3]; j++) worst = fmax(worst, fabs(z[j] - (double)logits[k * 5 + j]));
        for (size_t j = 0; j < width[1]; j++) worst = fmax(worst, fabs(hz0[j] - (double)h0[k * 9 + j]));
        for (size_t j = 0; j < width[2]; j++) worst = fmax(worst, fabs(hz1[j] - (double)h1[k * 7 + j]));
    }
    /* float32 sums of ~13 terms of size ~1 */
    CHECK_CLOSE(worst, 0.0, 2e-5);
    /* only the logits, no hidden: the same numbers */
    float *logits2 = malloc(n * width[3] * sizeof(float));
    float *only_first[2] = {NULL, NULL};
    CHECK_EQ_INT(th_mlp_forward(net, X, n, logits2, only_first), TH_OK);
    CHECK(memcmp(logits, logits2, n * width[3] * sizeof(float)) == 0);
    ref_free(&r);
    free(logits2);
    free(h0);
    free(h1);
    free(logits);
    free(X);
    th_mlp_free(net);
}

/* 1100 rows: more than one of the forward pass's 512-row blocks. */
static void test_nn_forward_reference_tanh(void) { forward_check(TH_ACT_TANH, 1100); }
static void test_nn_forward_reference_relu(void) { forward_check(TH_ACT_RELU, 37); }

/* The analytic float32 gradient against float64 central differences of the
 * plain double loss. The net is small and well scaled (weights ~0.5, inputs
 * ~1, loss ~1), so float32 rounding in the analytic gradient is ~1e-6 and the
 * double differences are exact to ~1e-9: a wrong term (a missing transpose,
 * the activation derivative taken at the wrong point) is off by O(1). */
static void gradient_check(th_activation act, uint64_t seed)
{
    const size_t width[4] = {6, 5, 4, 3};
    const size_t n = 7;
    th_mlp *net = random_net(3, width, act, 0.7, seed);
    th_mlp *grad = th_mlp_alloc(3, width, act);
    float *X = random_inputs(n, width[0], seed + 1);
    uint8_t y[7] = {0, 1, 2, 2, 1, 0, 1};
    double loss = 0;
    CHECK_EQ_INT(th_mlp_loss_grad(net, X, y, n, &loss, grad), TH_OK);
    ref_net r;
    ref_from(&r, net);
    CHECK_REL(loss, ref_loss(&r, X, y, n), 1e-6);
    const double h = 1e-5;
    double worst = 0, gmax = 0;
    for (int l = 0; l < 3; l++) {
        for (int which = 0; which < 2; which++) {
            double *p = which == 0 ? r.W[l] : r.b[l];
            const float *g = which == 0 ? grad->W[l] : grad->b[l];
            size_t count = which == 0 ? width[l + 1] * width[l] : width[l + 1];
            for (size_t i = 0; i < count; i++) {
                double keep = p[i];
                p[i] = keep + h;
                double up = ref_loss(&r, X, y, n);
                p[i] = keep - h;
                double down = ref_loss(&r, X, y, n);
                p[i] = keep;
                double fd = (up - down) / (2 * h);
                worst = fmax(worst, fabs(fd - (double)g[i]));
                gmax = fmax(gmax, fabs(fd));
            }
        }
    }
    CHECK(gmax > 1e-2); /* the check compares something */
    CHECK_CLOSE(worst / gmax, 0.0, 1e-4);
    /* the loss alone, without a gradient, is the same */
    double loss2 = 0;
    CHECK_EQ_INT(th_mlp_loss_grad(net, X, y, n, &loss2, NULL), TH_OK);
    CHECK(loss2 == loss);
    ref_free(&r);
    free(X);
    th_mlp_free(grad);
    th_mlp_free(net);
}

static void test_nn_gradient_fd_tanh(void) { gradient_check(TH_ACT_TANH, 21); }
static void test_nn_gradient_fd_relu(void) { gradient_check(TH_ACT_RELU, 31); }

/* A gradient over more rows than one block (512) equals the sum of its parts:
 * the chunked accumulation in th_mlp_loss_grad. Compared with the gradient of
 * the halves, weighted by their sizes. */
static void test_nn_gradient_blocks(void)
{
    const size_t width[3] = {4, 6, 3};
    const size_t n = 700, half = 350;
    th_mlp *net = random_net(2, width, TH_ACT_TANH, 0.5, 3);
    th_mlp *g = th_mlp_alloc(2, width, TH_ACT_TANH), *g1 = th_mlp_alloc(2, width, TH_ACT_TANH);
    th_mlp *g2 = th_mlp_alloc(2, width, TH_ACT_TANH);
    float *X = random_inputs(n, 4, 9);
    uint8_t *y = malloc(n);
    for (size_t k = 0; k < n; k++) y[k] = (uint8_t)(k % 3);
    double loss, l1, l2;
    CHECK_EQ_INT(th_mlp_loss_grad(net, X, y, n, &loss, g), TH_OK);
    CHECK_EQ_INT(th_mlp_loss_grad(net, X, y, half, &l1, g1), TH_OK);
    CHECK_EQ_INT(th_mlp_loss_grad(net, X + half * 4, y + half, n - half, &l2, g2), TH_OK);
    CHECK_REL(loss, 0.5 * (l1 + l2), 1e-12);
    double worst = 0;
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < width[l + 1] * width[l]; i++)
            worst = fmax(worst, fabs((double)g->W[l][i] - 0.5 * ((double)g1->W[l][i] + (double)g2->W[l][i])));
        for (size_t i = 0; i < width[l + 1]; i++)
            worst = fmax(worst, fabs((double)g->b[l][i] - 0.5 * ((double)g1->b[l][i] + (double)g2->b[l][i])));
    }
    CHECK_CLOSE(worst, 0.0, 1e-6);
    free(y);
    free(X);
    th_mlp_free(g);
    th_mlp_free(g1);
    th_mlp_free(g2);
    th_mlp_free(net);
}

/* Three Gaussian blobs in the plane, centres 120 degrees apart at radius 2
 * and spread 0.35: separable with margin, so a working trainer reaches
 * (nearly) perfect accuracy, and a broken one (wrong sign, no update) stays
 * near 1/3. */
static void blobs(size_t n, uint64_t seed, float *X, uint8_t *y)
{
    uint64_t s = seed;
    for (size_t k = 0; k < n; k++) {
        int c = (int)(k % 3);
        double ang = 2.0943951023931953 * c;
        double u1 = test_uniform(&s, 1e-12, 1), u2 = test_uniform(&s, 0, 1);
        double r = sqrt(-2 * log(u1)) * 0.35;
        X[2 * k] = (float)(2 * cos(ang) + r * cos(6.283185307179586 * u2));
        X[2 * k + 1] = (float)(2 * sin(ang) + r * sin(6.283185307179586 * u2));
        y[k] = (uint8_t)c;
    }
}

static double accuracy_of(const th_mlp *net, const float *X, const uint8_t *y, size_t n)
{
    float *logits = malloc(n * 3 * sizeof(float));
    th_mlp_forward(net, X, n, logits, NULL);
    double acc = th_topk_accuracy(logits, n, 3, y, 1);
    free(logits);
    return acc;
}

static void learn_check(th_activation act, th_optimizer opt, double lr)
{
    const size_t n = 600, width[3] = {2, 16, 3};
    float *X = malloc(n * 2 * sizeof(float)), *Xt = malloc(n * 2 * sizeof(float));
    uint8_t *y = malloc(n), *yt = malloc(n);
    blobs(n, 1, X, y);
    blobs(n, 2, Xt, yt);
    th_mlp *net = th_mlp_alloc(2, width, act);
    th_mlp_init(net, 4);
    th_mlp_train_params p = th_mlp_train_params_default();
    p.epochs = 8;
    p.batch = 32;
    p.optimizer = opt;
    p.learning_rate = lr;
    double loss[8];
    double before = accuracy_of(net, Xt, yt, n);
    CHECK_EQ_INT(th_mlp_train(net, X, y, n, &p, loss), TH_OK);
    double after = accuracy_of(net, Xt, yt, n);
    CHECK(after >= 0.97);
    CHECK(after > before);
    CHECK(loss[7] < 0.5 * loss[0]);
    CHECK(loss[7] < 0.1);
    free(X);
    free(Xt);
    free(y);
    free(yt);
    th_mlp_free(net);
}

static void test_nn_learns_blobs_adam(void) { learn_check(TH_ACT_TANH, TH_OPT_ADAM, 1e-2); }
static void test_nn_learns_blobs_sgd(void) { learn_check(TH_ACT_RELU, TH_OPT_SGD, 5e-2); }

/* Training with one thread and with two gives the same weights, bit for bit.
 * Sizes above the elementwise threading thresholds and large enough for
 * OpenBLAS to split its products. */
static void train_with_threads(int threads, th_mlp *net, const float *X, const uint8_t *y,
                               size_t n, th_optimizer opt)
{
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    th_mlp_init(net, 8);
    th_mlp_train_params p = th_mlp_train_params_default();
    p.epochs = 2;
    p.batch = 256;
    p.optimizer = opt;
    p.learning_rate = opt == TH_OPT_SGD ? 1e-2 : 1e-3;
    p.seed = 5;
    p.weight_decay = 1e-4;
    CHECK_EQ_INT(th_mlp_train(net, X, y, n, &p, NULL), TH_OK);
}

static void test_nn_train_threads_identical(void)
{
    const size_t n = 1024, width[4] = {120, 300, 200, 10};
    float *X = random_inputs(n, width[0], 17);
    uint8_t *y = malloc(n);
    for (size_t k = 0; k < n; k++) y[k] = (uint8_t)((k * 7) % 10);
    int saved = omp_get_max_threads();
    for (int opt = 0; opt < 2; opt++) {
        th_mlp *a = th_mlp_alloc(3, width, TH_ACT_RELU), *b = th_mlp_alloc(3, width, TH_ACT_RELU);
        train_with_threads(1, a, X, y, n, (th_optimizer)opt);
        train_with_threads(2, b, X, y, n, (th_optimizer)opt);
        for (int l = 0; l < 3; l++) {
            CHECK(memcmp(a->W[l], b->W[l], width[l + 1] * width[l] * sizeof(float)) == 0);
            CHECK(memcmp(a->b[l], b->b[l], width[l + 1] * sizeof(float)) == 0);
        }
        /* and training moved the weights: the comparison is not of two copies
         * of the initialisation */
        th_mlp *init = th_mlp_alloc(3, width, TH_ACT_RELU);
        th_mlp_init(init, 8);
        CHECK(memcmp(a->W[0], init->W[0], width[1] * width[0] * sizeof(float)) != 0);
        th_mlp_free(init);
        th_mlp_free(a);
        th_mlp_free(b);
    }
    omp_set_num_threads(saved);
    openblas_set_num_threads(saved);
    free(y);
    free(X);
}

/* The seed decides everything: the same seed twice gives the same weights,
 * another seed other weights. He initialisation has variance 2 / fan-in. */
static void test_nn_init_seeded(void)
{
    const size_t width[3] = {400, 300, 10};
    th_mlp *a = th_mlp_alloc(2, width, TH_ACT_RELU), *b = th_mlp_alloc(2, width, TH_ACT_RELU);
    th_mlp_init(a, 1);
    th_mlp_init(b, 1);
    CHECK(memcmp(a->W[0], b->W[0], 400 * 300 * sizeof(float)) == 0);
    th_mlp_init(b, 2);
    CHECK(memcmp(a->W[0], b->W[0], 400 * 300 * sizeof(float)) != 0);
    double ss = 0;
    for (size_t i = 0; i < 400 * 300; i++) ss += (double)a->W[0][i] * (double)a->W[0][i];
    /* 120,000 draws: the variance's relative error is ~sqrt(2/120000) = 0.4% */
    CHECK_REL(ss / (400.0 * 300), 2.0 / 400, 0.02);
    th_mlp_free(a);
    th_mlp_free(b);
}

static void test_nn_topk(void)
{
    /* worked by hand: row 0 ranks classes 2 > 0 > 1; row 1 ranks 1 > 2 > 0;
     * row 2 ties 0 and 1 (argmax takes 0) above 2 */
    const float logits[9] = {0.5f, -1.0f, 2.0f, -3.0f, 4.0f, 1.0f, 1.0f, 1.0f, 0.0f};
    const uint8_t y[3] = {0, 1, 1};
    int pred[3];
    th_argmax_rows(logits, 3, 3, pred);
    CHECK_EQ_INT(pred[0], 2);
    CHECK_EQ_INT(pred[1], 1);
    CHECK_EQ_INT(pred[2], 0);
    CHECK_CLOSE(th_topk_accuracy(logits, 3, 3, y, 1), 1.0 / 3, 1e-15);
    CHECK_CLOSE(th_topk_accuracy(logits, 3, 3, y, 2), 1.0, 1e-15);
    const uint8_t y2[3] = {1, 0, 2};
    CHECK_CLOSE(th_topk_accuracy(logits, 3, 3, y2, 2), 0.0, 1e-15);
    CHECK_CLOSE(th_topk_accuracy(logits, 3, 3, y2, 3), 1.0, 1e-15);
}

/* A synthetic 4 x 5 dataset of n images with labels. */
static th_dataset *tiny_dataset(size_t n, uint64_t seed)
{
    th_dataset *d = calloc(1, sizeof *d);
    d->count = n;
    d->rows = 4;
    d->cols = 5;
    d->pixels = malloc(n * 20);
    d->labels = malloc(n);
    uint64_t s = seed;
    for (size_t i = 0; i < n * 20; i++) d->pixels[i] = (uint8_t)(splitmix64(&s) % 256);
    for (size_t k = 0; k < n; k++) d->labels[k] = (uint8_t)(k % 3);
    return d;
}

/* PNAS inputs (science.md section 3) written out by hand: pixel/255, minus
 * 0.13066, over 0.30811, then scaled to the common norm. */
static void test_nn_prepare_pnas(void)
{
    th_dataset *d = tiny_dataset(6, 3);
    const size_t width[2] = {20, 3};
    th_mlp *net = th_mlp_alloc(1, width, TH_ACT_TANH);
    net->input = TH_INPUT_PNAS;
    double best = 0;
    for (size_t k = 0; k < 6; k++) {
        double ss = 0;
        for (size_t i = 0; i < 20; i++) {
            double v = (d->pixels[k * 20 + i] / 255.0 - 0.13066) / 0.30811;
            ss += v * v;
        }
        best = fmax(best, sqrt(ss));
    }
    CHECK_REL(th_mlp_pnas_norm(d), best, 1e-14);
    float X[6 * 20];
    /* no norm yet: refused, naming input_norm */
    CHECK_EQ_INT(th_mlp_prepare(net, d, 0, 6, X), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "input_norm");
    net->input_norm = 7.5;
    CHECK_EQ_INT(th_mlp_prepare(net, d, 1, 5, X), TH_OK);
    for (size_t k = 0; k < 5; k++) {
        double ss = 0, dot = 0, vv = 0;
        for (size_t i = 0; i < 20; i++) {
            double v = (d->pixels[(k + 1) * 20 + i] / 255.0 - 0.13066) / 0.30811;
            ss += (double)X[k * 20 + i] * (double)X[k * 20 + i];
            dot += v * (double)X[k * 20 + i];
            vv += v * v;
        }
        CHECK_REL(sqrt(ss), 7.5, 1e-6);
        CHECK_REL(dot, sqrt(vv) * 7.5, 1e-6); /* same direction */
    }
    /* standardised: zero mean, unit variance per image */
    net->input = TH_INPUT_STANDARDISED;
    CHECK_EQ_INT(th_mlp_prepare(net, d, 0, 6, X), TH_OK);
    for (size_t k = 0; k < 6; k++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < 20; i++) m += (double)X[k * 20 + i];
        m /= 20;
        for (size_t i = 0; i < 20; i++) v += ((double)X[k * 20 + i] - m) * ((double)X[k * 20 + i] - m);
        CHECK_CLOSE(m, 0.0, 1e-6);
        CHECK_CLOSE(v / 20, 1.0, 1e-5);
    }
    /* out of range and wrong width */
    CHECK_EQ_INT(th_mlp_prepare(net, d, 4, 3, X), TH_EINVAL);
    const size_t w2[2] = {784, 3};
    th_mlp *big = th_mlp_alloc(1, w2, TH_ACT_TANH);
    CHECK_EQ_INT(th_mlp_prepare(big, d, 0, 1, X), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "784");
    th_mlp_free(big);
    th_mlp_free(net);
    th_dataset_free(d);
}

/* th_mlp_evaluate against a loop of forward, argmax and counting. */
static void test_nn_evaluate(void)
{
    th_dataset *d = tiny_dataset(1030, 8);
    const size_t width[3] = {20, 8, 3};
    th_mlp *net = random_net(2, width, TH_ACT_TANH, 0.8, 12);
    double acc = 0, top2 = 0;
    size_t conf[9];
    CHECK_EQ_INT(th_mlp_evaluate(net, d, 0, 1030, &acc, &top2, conf), TH_OK);
    float *X = malloc(1030 * 20 * sizeof(float)), *z = malloc(1030 * 3 * sizeof(float));
    CHECK_EQ_INT(th_mlp_prepare(net, d, 0, 1030, X), TH_OK);
    ref_net r;
    ref_from(&r, net);
    size_t hits = 0, hits2 = 0, conf_ref[9] = {0};
    for (size_t k = 0; k < 1030; k++) {
        double zz[3];
        ref_forward(&r, X + k * 20, zz, NULL);
        size_t best = 0;
        for (size_t j = 1; j < 3; j++)
            if (zz[j] > zz[best]) best = j;
        size_t y = d->labels[k], worst = 0;
        for (size_t j = 1; j < 3; j++)
            if (zz[j] < zz[worst]) worst = j;
        hits += best == y;
        hits2 += worst != y;
        conf_ref[y * 3 + best]++;
    }
    CHECK_CLOSE(acc, (double)hits / 1030, 1e-12);
    CHECK_CLOSE(top2, (double)hits2 / 1030, 1e-12);
    for (int i = 0; i < 9; i++) CHECK_EQ_INT(conf[i], conf_ref[i]);
    ref_free(&r);
    free(X);
    free(z);
    th_mlp_free(net);
    th_dataset_free(d);
}

static void test_nn_save_load_roundtrip(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    const size_t width[4] = {7, 6, 5, 4};
    th_mlp *net = random_net(3, width, TH_ACT_RELU, 0.5, 41);
    net->input = TH_INPUT_PNAS;
    net->input_norm = 31.41592653589793;
    th_meta extra = {0};
    th_meta_set(&extra, "train.data", "mnist");
    const char *path = scratch("net.safetensors");
    CHECK_EQ_INT(th_mlp_save_meta(path, net, &extra), TH_OK);
    th_mlp *back = NULL;
    th_meta meta = {0};
    CHECK_EQ_INT(th_mlp_load_meta(path, &back, &meta), TH_OK);
    if (back) {
        CHECK_EQ_INT(back->n_layers, 3);
        for (int l = 0; l <= 3; l++) CHECK_EQ_INT(back->width[l], width[l]);
        CHECK_EQ_INT(back->act, TH_ACT_RELU);
        CHECK_EQ_INT(back->input, TH_INPUT_PNAS);
        CHECK(back->input_norm == net->input_norm);
        for (int l = 0; l < 3; l++) {
            CHECK(memcmp(back->W[l], net->W[l], width[l + 1] * width[l] * sizeof(float)) == 0);
            CHECK(memcmp(back->b[l], net->b[l], width[l + 1] * sizeof(float)) == 0);
        }
        CHECK_STR_CONTAINS(th_meta_get(&meta, "train.data"), "mnist");
        CHECK_STR_CONTAINS(th_meta_get(&meta, "nn.widths"), "7,6,5,4");
    }
    th_meta_clear(&meta);
    th_meta_clear(&extra);
    th_mlp_free(back);
    th_mlp_free(net);
    scratch_end();
}

/* A file written by hand (th_safetensors_write) from a correct network, then
 * damaged in one field at a time: each load fails with TH_EFORMAT and a
 * message naming the file and that field. */
typedef struct bad_case {
    const char *what;
    const char *key, *value;  /* metadata to change (value NULL = remove) */
    int drop_tensor;          /* index of a tensor to leave out, or -1 */
    int reshape_tensor;       /* index of a tensor given a wrong shape, or -1 */
    int extra_tensor;         /* add a tensor "W9" */
    const char *expect;       /* in the message */
} bad_case;

static void write_case(const char *path, const th_mlp *net, const bad_case *c)
{
    const char *keys[5] = {"nn.kind", "nn.widths", "nn.activation", "nn.input", "nn.input_norm"};
    const char *vals[5] = {"mlp", "5,4,3", "tanh", "standardised", "0"};
    th_meta meta = {0};
    for (int i = 0; i < 5; i++) {
        if (c->key && strcmp(c->key, keys[i]) == 0) {
            if (c->value) th_meta_set(&meta, keys[i], c->value);
        } else {
            th_meta_set(&meta, keys[i], vals[i]);
        }
    }
    th_tensor t[5];
    memset(t, 0, sizeof t);
    size_t count = 0;
    for (int l = 0; l < 2; l++) {
        for (int which = 0; which < 2; which++) {
            int idx = 2 * l + which;
            if (idx == c->drop_tensor) continue;
            th_tensor *x = &t[count++];
            snprintf(x->name, sizeof x->name, "%c%d", which ? 'b' : 'W', l);
            x->dtype = TH_F32;
            x->n_dims = which ? 1 : 2;
            x->shape[0] = net->width[l + 1];
            x->shape[1] = net->width[l];
            x->data.f32 = which ? net->b[l] : net->W[l];
            if (idx == c->reshape_tensor) {
                /* same element count, transposed shape */
                if (which) {
                    x->n_dims = 2;
                    x->shape[0] = 1;
                    x->shape[1] = net->width[l + 1];
                } else {
                    x->shape[0] = net->width[l];
                    x->shape[1] = net->width[l + 1];
                }
            }
        }
    }
    if (c->extra_tensor) {
        th_tensor *x = &t[count++];
        snprintf(x->name, sizeof x->name, "W9");
        x->dtype = TH_F32;
        x->n_dims = 1;
        x->shape[0] = 3;
        x->data.f32 = net->b[1];
    }
    CHECK_EQ_INT(th_safetensors_write(path, t, count, &meta), TH_OK);
    th_meta_clear(&meta);
}

static void test_nn_load_rejects_bad_files(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    const size_t width[3] = {5, 4, 3};
    th_mlp *net = random_net(2, width, TH_ACT_TANH, 0.5, 1);
    const bad_case cases[] = {
        {"intact", NULL, NULL, -1, -1, 0, NULL},
        {"no kind", "nn.kind", NULL, -1, -1, 0, "nn.kind"},
        {"other kind", "nn.kind", "generator", -1, -1, 0, "nn.kind"},
        {"no widths", "nn.widths", NULL, -1, -1, 0, "nn.widths"},
        {"bad widths", "nn.widths", "5,0,3", -1, -1, 0, "nn.widths"},
        {"widths disagree", "nn.widths", "5,4,4", -1, -1, 0, "W1"},
        {"widths text", "nn.widths", "5,4,3x", -1, -1, 0, "nn.widths"},
        {"activation", "nn.activation", "sigmoid", -1, -1, 0, "nn.activation"},
        {"input", "nn.input", "raw", -1, -1, 0, "nn.input"},
        {"pnas without norm", "nn.input", "pnas", -1, -1, 0, "nn.input_norm"},
        {"norm text", "nn.input_norm", "abc", -1, -1, 0, "nn.input_norm"},
        {"missing b1", NULL, NULL, 3, -1, 0, "b1"},
        {"missing W0", NULL, NULL, 0, -1, 0, "W0"},
        {"W0 transposed", NULL, NULL, -1, 0, 0, "W0"},
        {"b1 as matrix", NULL, NULL, -1, 3, 0, "b1"},
        {"extra tensor", NULL, NULL, -1, -1, 1, "W9"},
    };
    const char *path = scratch("bad.safetensors");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_case(path, net, &cases[k]);
        th_mlp *out = NULL;
        int rc = th_mlp_load(path, &out);
        if (!cases[k].expect) {
            CHECK_EQ_INT(rc, TH_OK);
            th_mlp_free(out);
            continue;
        }
        if (rc != TH_EFORMAT) fprintf(stderr, "  case: %s\n", cases[k].what);
        CHECK_EQ_INT(rc, TH_EFORMAT);
        CHECK(out == NULL);
        CHECK_STR_CONTAINS(th_last_error(), cases[k].expect);
        CHECK_STR_CONTAINS(th_last_error(), "bad.safetensors");
    }
    th_mlp *out = NULL;
    CHECK_EQ_INT(th_mlp_load(scratch("absent.safetensors"), &out), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "absent.safetensors");
    th_mlp_free(net);
    scratch_end();
}

static void test_nn_bad_arguments(void)
{
    const size_t width[3] = {2, 3, 2};
    CHECK(th_mlp_alloc(0, width, TH_ACT_TANH) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "n_layers");
    const size_t zero[3] = {2, 0, 2};
    CHECK(th_mlp_alloc(2, zero, TH_ACT_TANH) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "width[1]");
    th_mlp *net = th_mlp_alloc(2, width, TH_ACT_TANH);
    float X[4] = {0, 1, 1, 0};
    uint8_t y[2] = {1, 2};
    double loss;
    CHECK_EQ_INT(th_mlp_loss_grad(net, X, y, 2, &loss, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "label 1 = 2");
    th_mlp_train_params p = th_mlp_train_params_default();
    y[1] = 0;
    p.learning_rate = -1;
    CHECK_EQ_INT(th_mlp_train(net, X, y, 2, &p, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "learning_rate");
    p = th_mlp_train_params_default();
    p.batch = 0;
    CHECK_EQ_INT(th_mlp_train(net, X, y, 2, &p, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "batch");
    /* a learning rate far too large diverges and says so, naming the epoch */
    th_mlp_free(net);
    net = th_mlp_alloc(2, width, TH_ACT_RELU);
    th_mlp_init(net, 1);
    p = th_mlp_train_params_default();
    p.optimizer = TH_OPT_SGD;
    p.learning_rate = 1e36;
    p.cosine = 0;
    float Xs[4] = {1e3f, -1e3f, -1e3f, 1e3f};
    int rc = th_mlp_train(net, Xs, y, 2, &p, NULL);
    CHECK_EQ_INT(rc, TH_EDIVERGED);
    CHECK_STR_CONTAINS(th_last_error(), "epoch");
    th_mlp_free(net);
}

static int stop_after(size_t done, size_t total, void *ctx)
{
    (void)total;
    size_t *calls = ctx;
    (*calls)++;
    return done >= 3;
}

/* The progress callback sees every update, with the right total, and can
 * stop training. */
static void test_nn_train_progress(void)
{
    const size_t width[3] = {2, 4, 3};
    float X[60];
    uint8_t y[30];
    blobs(30, 3, X, y);
    th_mlp *net = th_mlp_alloc(2, width, TH_ACT_TANH);
    th_mlp_init(net, 2);
    th_mlp_train_params p = th_mlp_train_params_default();
    p.epochs = 4;
    p.batch = 8; /* 4 updates an epoch, the last of 6 examples */
    size_t calls = 0;
    p.progress = stop_after;
    p.progress_ctx = &calls;
    CHECK_EQ_INT(th_mlp_train(net, X, y, 30, &p, NULL), TH_ECANCELED);
    CHECK_EQ_INT(calls, 3);
    th_mlp_free(net);
}

void suite_nn(void)
{
    RUN_TEST(test_nn_forward_reference_tanh);
    RUN_TEST(test_nn_forward_reference_relu);
    RUN_TEST(test_nn_gradient_fd_tanh);
    RUN_TEST(test_nn_gradient_fd_relu);
    RUN_TEST(test_nn_gradient_blocks);
    RUN_TEST(test_nn_learns_blobs_adam);
    RUN_TEST(test_nn_learns_blobs_sgd);
    RUN_TEST(test_nn_train_threads_identical);
    RUN_TEST(test_nn_init_seeded);
    RUN_TEST(test_nn_topk);
    RUN_TEST(test_nn_prepare_pnas);
    RUN_TEST(test_nn_evaluate);
    RUN_TEST(test_nn_save_load_roundtrip);
    RUN_TEST(test_nn_load_rejects_bad_files);
    RUN_TEST(test_nn_bad_arguments);
    RUN_TEST(test_nn_train_progress);
}
