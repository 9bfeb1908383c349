/* test_cnn.c - the convolutional judge (src/nn/cnn*.c, judge_net.c): the
 * forward pass against a plain double-precision loop of direct convolution,
 * ReLU, max pooling and dense layers written here from the definitions; the
 * float32 gradient against float64 central finite differences of that loop;
 * thread independence of training with augmentation and dropout; a short
 * training run on a few hundred synthetic images that must learn; the
 * augmentation against shifted copies standardised by the dataset reader;
 * save and load, and the rejection of damaged files; the judge wrapper over
 * both kinds; thermo eval's report on real images (known answers). */
#include "harness.h"

#include "thermo.h"
#include "nn/nn_internal.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Two blocks on odd sides (9 x 7: the pool drops a row and a column), 3 x 3
 * kernels; pool after the first block or the second. */
static th_cnn_shape small_shape(int pool_first)
{
    th_cnn_shape s;
    memset(&s, 0, sizeof s);
    s.rows = 9;
    s.cols = 7;
    s.kernel = 3;
    s.n_conv = 2;
    s.channels[0] = 3;
    s.channels[1] = 4;
    s.pool[0] = pool_first;
    s.pool[1] = !pool_first;
    s.hidden = 5;
    s.classes = 3;
    return s;
}

/* Parameters uniform in +-1.7/sqrt(fan-in) (weights) and +-0.1 (biases),
 * from splitmix64: independent of th_cnn_init. */
static th_cnn *random_cnn(const th_cnn_shape *s, uint64_t seed)
{
    th_cnn *net = th_cnn_alloc(s);
    if (!net) return NULL;
    uint64_t st = seed;
    const size_t kk = s->kernel * s->kernel;
    size_t fan[TH_CNN_MAX_CONV + 2], cin = 1;
    for (int l = 0; l < s->n_conv; l++) {
        fan[l] = kk * cin;
        cin = s->channels[l];
    }
    fan[s->n_conv] = th_cnn_flat_width(s, NULL, NULL);
    fan[s->n_conv + 1] = s->hidden;
    for (int l = 0; l < s->n_conv + 2; l++) {
        const int conv = l < s->n_conv;
        float *W = conv ? net->conv_W[l] : net->fc_W[l - s->n_conv];
        float *b = conv ? net->conv_b[l] : net->fc_b[l - s->n_conv];
        const size_t out = conv ? s->channels[l] : (l == s->n_conv ? s->hidden : s->classes);
        const double a = 1.7 / sqrt((double)fan[l]);
        for (size_t i = 0; i < out * fan[l]; i++) W[i] = (float)test_uniform(&st, -a, a);
        for (size_t i = 0; i < out; i++) b[i] = (float)test_uniform(&st, -0.1, 0.1);
    }
    return net;
}

static float *random_images(size_t n, size_t pix, uint64_t seed)
{
    float *X = malloc(n * pix * sizeof *X);
    uint64_t s = seed;
    for (size_t i = 0; i < n * pix; i++) X[i] = (float)test_uniform(&s, -1.5, 1.5);
    return X;
}

/* ----------------------------------------------- the reference in double */

/* The parameters as doubles in th_cnn's params order (so that finite
 * differences perturb one in double), with the shape. */
typedef struct ref_cnn {
    th_cnn_shape s;
    size_t n;
    double *p;
} ref_cnn;

static void ref_from(ref_cnn *r, const th_cnn *net)
{
    r->s = net->shape;
    r->n = net->n_params;
    r->p = malloc(r->n * sizeof(double));
    for (size_t i = 0; i < r->n; i++) r->p[i] = net->params[i];
}

/* Logits z (classes) and features hid (hidden) of one image x, by direct
 * convolution: out(y, x, o) = b_o + sum_{dy, dx, i} W(o, dy, dx, i)
 * in(y + dy - k/2, x + dx - k/2, i), zero outside. */
static void ref_forward(const ref_cnn *r, const float *x, double *z, double *hid)
{
    const th_cnn_shape *s = &r->s;
    const size_t k = s->kernel, pad = k / 2;
    size_t h = s->rows, w = s->cols, c = 1;
    double *a = malloc(h * w * sizeof(double));
    for (size_t i = 0; i < h * w; i++) a[i] = x[i];
    const double *p = r->p;
    for (int l = 0; l < s->n_conv; l++) {
        const size_t co = s->channels[l];
        const double *W = p, *b = p + co * k * k * c;
        p = b + co;
        double *o = malloc(h * w * co * sizeof(double));
        for (size_t y = 0; y < h; y++)
            for (size_t xx = 0; xx < w; xx++)
                for (size_t oc = 0; oc < co; oc++) {
                    double sum = b[oc];
                    for (size_t dy = 0; dy < k; dy++)
                        for (size_t dx = 0; dx < k; dx++)
                            for (size_t i = 0; i < c; i++) {
                                long yy = (long)y + (long)dy - (long)pad;
                                long xs = (long)xx + (long)dx - (long)pad;
                                if (yy < 0 || xs < 0 || yy >= (long)h || xs >= (long)w) continue;
                                sum += W[((oc * k + dy) * k + dx) * c + i] *
                                       a[((size_t)yy * w + (size_t)xs) * c + i];
                            }
                    o[(y * w + xx) * co + oc] = sum > 0 ? sum : 0;
                }
        free(a);
        a = o;
        c = co;
        if (s->pool[l]) {
            const size_t oh = h / 2, ow = w / 2;
            double *q = malloc(oh * ow * c * sizeof(double));
            for (size_t y = 0; y < oh; y++)
                for (size_t xx = 0; xx < ow; xx++)
                    for (size_t i = 0; i < c; i++) {
                        double m = a[((2 * y) * w + 2 * xx) * c + i];
                        m = fmax(m, a[((2 * y) * w + 2 * xx + 1) * c + i]);
                        m = fmax(m, a[((2 * y + 1) * w + 2 * xx) * c + i]);
                        m = fmax(m, a[((2 * y + 1) * w + 2 * xx + 1) * c + i]);
                        q[(y * ow + xx) * c + i] = m;
                    }
            free(a);
            a = q;
            h = oh;
            w = ow;
        }
    }
    const size_t flat = h * w * c;
    const double *W0 = p, *b0 = W0 + s->hidden * flat, *W1 = b0 + s->hidden,
                 *b1 = W1 + s->classes * s->hidden;
    for (size_t j = 0; j < s->hidden; j++) {
        double sum = b0[j];
        for (size_t i = 0; i < flat; i++) sum += W0[j * flat + i] * a[i];
        hid[j] = sum > 0 ? sum : 0;
    }
    for (size_t j = 0; j < s->classes; j++) {
        double sum = b1[j];
        for (size_t i = 0; i < s->hidden; i++) sum += W1[j * s->hidden + i] * hid[i];
        z[j] = sum;
    }
    free(a);
}

static double ref_loss(const ref_cnn *r, const float *X, const uint8_t *y, size_t n)
{
    const size_t pix = r->s.rows * r->s.cols;
    double total = 0, z[16], hid[64];
    for (size_t k = 0; k < n; k++) {
        ref_forward(r, X + k * pix, z, hid);
        double s = 0;
        for (size_t j = 0; j < r->s.classes; j++) s += exp(z[j]);
        total += -log(exp(z[y[k]]) / s);
    }
    return total / (double)n;
}

/* ------------------------------------------------------------- forward */

/* 70 images: more than one of th_cnn_forward's 64-image blocks. */
static void forward_check(int pool_first)
{
    const th_cnn_shape s = small_shape(pool_first);
    const size_t n = 70, pix = s.rows * s.cols;
    th_cnn *net = random_cnn(&s, 11 + (uint64_t)pool_first);
    CHECK(net != NULL);
    if (!net) return;
    float *X = random_images(n, pix, 5);
    float *logits = malloc(n * s.classes * sizeof(float));
    float *feat = malloc(n * s.hidden * sizeof(float));
    CHECK_EQ_INT(th_cnn_forward(net, X, n, logits, feat), TH_OK);
    ref_cnn r;
    ref_from(&r, net);
    double worst = 0, z[3], hid[5], zmax = 0;
    for (size_t k = 0; k < n; k++) {
        ref_forward(&r, X + k * pix, z, hid);
        for (size_t j = 0; j < s.classes; j++) {
            worst = fmax(worst, fabs(z[j] - (double)logits[k * s.classes + j]));
            zmax = fmax(zmax, fabs(z[j]));
        }
        for (size_t j = 0; j < s.hidden; j++)
            worst = fmax(worst, fabs(hid[j] - (double)feat[k * s.hidden + j]));
    }
    CHECK(zmax > 0.1); /* a comparison of something */
    CHECK_CLOSE(worst, 0.0, 1e-5);
    /* logits alone: the same numbers */
    float *logits2 = malloc(n * s.classes * sizeof(float));
    CHECK_EQ_INT(th_cnn_forward(net, X, n, logits2, NULL), TH_OK);
    CHECK(memcmp(logits, logits2, n * s.classes * sizeof(float)) == 0);
    free(r.p);
    free(logits2);
    free(feat);
    free(logits);
    free(X);
    th_cnn_free(net);
}

static void test_cnn_forward_reference_pool_first(void) { forward_check(1); }
static void test_cnn_forward_reference_pool_last(void) { forward_check(0); }

/* The judge's own shape on 28 x 28 images against the loop, on a few. */
static void test_cnn_forward_reference_judge_shape(void)
{
    const th_cnn_shape s = th_cnn_judge_shape(28, 28);
    th_cnn *net = th_cnn_alloc(&s);
    th_cnn_init(net, 3);
    for (size_t i = 0; i < s.channels[0]; i++) net->conv_b[0][i] = 0.05f * (float)i;
    const size_t n = 3, pix = 784;
    float *X = random_images(n, pix, 8);
    float logits[30], feat[3 * 256];
    CHECK_EQ_INT(th_cnn_forward(net, X, n, logits, feat), TH_OK);
    ref_cnn r;
    ref_from(&r, net);
    double worst = 0, z[10], hid[256];
    for (size_t k = 0; k < n; k++) {
        ref_forward(&r, X + k * pix, z, hid);
        for (size_t j = 0; j < 10; j++)
            worst = fmax(worst, fabs(z[j] - (double)logits[k * 10 + j]));
        for (size_t j = 0; j < 256; j++)
            worst = fmax(worst, fabs(hid[j] - (double)feat[k * 256 + j]));
    }
    /* float32 sums of up to 3136 terms of size ~1 */
    CHECK_CLOSE(worst, 0.0, 2e-4);
    free(r.p);
    free(X);
    th_cnn_free(net);
}

/* ------------------------------------------------------------ gradient */

/* Every one of the analytic float32 gradient's entries against a float64
 * central difference of the plain double loss: a wrong term (a transposed
 * kernel, col2im adding to the wrong pixel, the pool's gradient sent to the
 * wrong place) is off by O(1). Random inputs put the ReLU and pool kinks
 * far from every evaluation point at step 1e-5. */
static void gradient_check(int pool_first, uint64_t seed)
{
    const th_cnn_shape s = small_shape(pool_first);
    const size_t n = 5, pix = s.rows * s.cols;
    th_cnn *net = random_cnn(&s, seed), *grad = th_cnn_alloc(&s);
    float *X = random_images(n, pix, seed + 1);
    const uint8_t y[5] = {0, 1, 2, 2, 1};
    double loss = 0;
    CHECK_EQ_INT(th_cnn_loss_grad(net, X, y, n, &loss, grad), TH_OK);
    ref_cnn r;
    ref_from(&r, net);
    CHECK_REL(loss, ref_loss(&r, X, y, n), 1e-5);
    const double h = 1e-5;
    double worst = 0, gmax = 0;
    for (size_t i = 0; i < r.n; i++) {
        const double keep = r.p[i];
        r.p[i] = keep + h;
        const double up = ref_loss(&r, X, y, n);
        r.p[i] = keep - h;
        const double down = ref_loss(&r, X, y, n);
        r.p[i] = keep;
        const double fd = (up - down) / (2 * h);
        worst = fmax(worst, fabs(fd - (double)grad->params[i]));
        gmax = fmax(gmax, fabs(fd));
    }
    CHECK(gmax > 1e-2);
    CHECK_CLOSE(worst / gmax, 0.0, 1e-4);
    /* the first convolution's kernels have a gradient: the backward pass
     * reached the first block */
    double first = 0;
    for (size_t i = 0; i < s.channels[0] * 9; i++) first = fmax(first, fabs(grad->conv_W[0][i]));
    CHECK(first > 1e-4);
    /* the loss alone is the same */
    double loss2 = 0;
    CHECK_EQ_INT(th_cnn_loss_grad(net, X, y, n, &loss2, NULL), TH_OK);
    CHECK(loss2 == loss);
    free(r.p);
    free(X);
    th_cnn_free(grad);
    th_cnn_free(net);
}

static void test_cnn_gradient_fd_pool_first(void) { gradient_check(1, 21); }
static void test_cnn_gradient_fd_pool_last(void) { gradient_check(0, 31); }

static void test_cnn_rejects_bad_input(void)
{
    th_cnn_shape s = small_shape(1);
    th_cnn *net = random_cnn(&s, 2), *other;
    float *X = random_images(2, s.rows * s.cols, 1);
    const uint8_t bad[2] = {0, 3};
    double loss;
    CHECK_EQ_INT(th_cnn_loss_grad(net, X, bad, 2, &loss, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "label 1 = 3");
    s.kernel = 4;
    CHECK(th_cnn_alloc(&s) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "kernel 4");
    s = small_shape(1);
    s.n_conv = 4;
    s.channels[2] = s.channels[3] = 2;
    s.pool[1] = s.pool[2] = 1; /* 9 x 7 -> 4 x 3 -> 2 x 1: a third pool has no 2 x 2 */
    CHECK((other = th_cnn_alloc(&s)) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "block 2");
    free(X);
    th_cnn_free(net);
}

/* ------------------------------------------------------------ training */

/* Three classes of 12 x 12 images: a horizontal bar, a vertical bar and a
 * square outline, at a random place, grey 200 on black, with speckle. */
static th_dataset *shapes_dataset(size_t n, uint64_t seed)
{
    th_dataset *d = calloc(1, sizeof *d);
    d->count = n;
    d->rows = d->cols = 12;
    d->pixels = calloc(n * 144, 1);
    d->labels = malloc(n);
    uint64_t s = seed;
    for (size_t k = 0; k < n; k++) {
        const int c = (int)(k % 3);
        uint8_t *img = d->pixels + k * 144;
        const int y0 = 2 + (int)test_uniform(&s, 0, 5), x0 = 2 + (int)test_uniform(&s, 0, 5);
        for (int i = 0; i < 5; i++) {
            if (c == 0) img[(y0 + 2) * 12 + x0 + i] = 200;
            if (c == 1) img[(y0 + i) * 12 + x0 + 2] = 200;
            if (c == 2) {
                img[y0 * 12 + x0 + i] = img[(y0 + 4) * 12 + x0 + i] = 200;
                img[(y0 + i) * 12 + x0] = img[(y0 + i) * 12 + x0 + 4] = 200;
            }
        }
        for (int i = 0; i < 144; i++)
            if (test_uniform(&s, 0, 1) < 0.05) img[i] = (uint8_t)test_uniform(&s, 0, 120);
        d->labels[k] = (uint8_t)c;
    }
    return d;
}

static th_cnn_shape shapes_net(void)
{
    th_cnn_shape s;
    memset(&s, 0, sizeof s);
    s.rows = s.cols = 12;
    s.kernel = 3;
    s.n_conv = 2;
    s.channels[0] = 6;
    s.channels[1] = 8;
    s.pool[0] = s.pool[1] = 1;
    s.hidden = 16;
    s.classes = 3;
    return s;
}

static void free_dataset(th_dataset *d)
{
    free(d->pixels);
    free(d->labels);
    free(d);
}

/* 300 images, 6 epochs: the loss falls, held-out images are recognised. */
static void test_cnn_learns_shapes(void)
{
    th_dataset *train = shapes_dataset(300, 1), *test = shapes_dataset(150, 2);
    const th_cnn_shape s = shapes_net();
    th_cnn *net = th_cnn_alloc(&s);
    th_cnn_init(net, 4);
    th_cnn_train_params p = th_cnn_train_params_default();
    p.opt.epochs = 6;
    p.opt.batch = 10;
    p.opt.learning_rate = 1e-2;
    p.shift = 1;
    double loss[6], before = 0, after = 0;
    CHECK_EQ_INT(th_cnn_evaluate(net, test, 0, test->count, &before, NULL, NULL), TH_OK);
    CHECK_EQ_INT(th_cnn_train(net, train, &p, loss), TH_OK);
    CHECK_EQ_INT(th_cnn_evaluate(net, test, 0, test->count, &after, NULL, NULL), TH_OK);
    CHECK(loss[5] < 0.3 * loss[0]);
    CHECK(after >= 0.95);
    CHECK(after > before);
    th_cnn_free(net);
    free_dataset(train);
    free_dataset(test);
}

static void train_threads(int threads, th_cnn *net, const th_dataset *d)
{
    omp_set_num_threads(threads);
    th_cnn_init(net, 8);
    th_cnn_train_params p = th_cnn_train_params_default();
    p.opt.epochs = 2;
    p.opt.batch = 100;
    p.opt.weight_decay = 1e-4;
    p.opt.seed = 5;
    p.dropout = 0.3;
    p.noise_share = 0.7;
    CHECK_EQ_INT(th_cnn_train(net, d, &p, NULL), TH_OK);
}

/* One thread and two: the same weights, bit for bit, with augmentation and
 * dropout on (their streams are per image) and products large enough to be
 * split among threads. */
static void test_cnn_train_threads_identical(void)
{
    th_dataset *d = shapes_dataset(400, 3);
    th_cnn_shape s = shapes_net();
    s.channels[0] = 16;
    s.channels[1] = 32;
    s.hidden = 64;
    th_cnn *a = th_cnn_alloc(&s), *b = th_cnn_alloc(&s), *init = th_cnn_alloc(&s);
    const int saved = omp_get_max_threads();
    train_threads(1, a, d);
    train_threads(2, b, d);
    omp_set_num_threads(saved);
    CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
    th_cnn_init(init, 8);
    CHECK(memcmp(a->params, init->params, a->n_params * sizeof(float)) != 0);
    th_cnn_free(a);
    th_cnn_free(b);
    th_cnn_free(init);
    free_dataset(d);
}

static void test_cnn_train_rejects_bad_params(void)
{
    th_dataset *d = shapes_dataset(30, 3);
    const th_cnn_shape s = shapes_net();
    th_cnn *net = th_cnn_alloc(&s);
    th_cnn_train_params p = th_cnn_train_params_default();
    p.dropout = 1.0;
    CHECK_EQ_INT(th_cnn_train(net, d, &p, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "dropout");
    p = th_cnn_train_params_default();
    p.shift = 12;
    CHECK_EQ_INT(th_cnn_train(net, d, &p, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "shift");
    p = th_cnn_train_params_default();
    d->labels[4] = 7;
    CHECK_EQ_INT(th_cnn_train(net, d, &p, NULL), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "label 4");
    th_cnn_free(net);
    free_dataset(d);
}

/* Without noise an augmented image is the image moved by some (dy, dx)
 * within the shift, standardised exactly as th_dataset_standardize does;
 * over 200 epochs every one of the 25 moves of shift 2 occurs; the draws
 * are a function of (seed, epoch, image) alone. With noise the result is
 * standardised and close to, but not equal to, a moved copy. */
static void test_cnn_augment_shifts_and_noise(void)
{
    th_dataset *d = shapes_dataset(4, 9);
    const size_t pix = 144;
    th_cnn_train_params p = th_cnn_train_params_default();
    p.noise_share = 0;
    float x[2 * 144], again[2 * 144], moved[144];
    th_dataset one = *d;
    one.count = 1;
    one.pixels = malloc(pix);
    int seen[25] = {0}, matched_all = 1;
    for (size_t e = 0; e < 200; e++) {
        th__cnn_augment(d, 3, &p, e, x);
        int found = -1;
        for (int m = 0; m < 25 && found < 0; m++) {
            const int dy = m / 5 - 2, dx = m % 5 - 2;
            for (int y = 0; y < 12; y++)
                for (int c = 0; c < 12; c++) {
                    const int yy = y - dy, xx = c - dx;
                    one.pixels[y * 12 + c] = yy >= 0 && yy < 12 && xx >= 0 && xx < 12
                                                 ? d->pixels[3 * pix + (size_t)(yy * 12 + xx)]
                                                 : 0;
                }
            th_dataset_standardize(&one, 0, moved);
            if (memcmp(moved, x, pix * sizeof(float)) == 0) found = m;
        }
        matched_all &= found >= 0;
        if (found >= 0) seen[found] = 1;
    }
    CHECK(matched_all);
    int all = 1;
    for (int m = 0; m < 25; m++) all &= seen[m];
    CHECK(all);
    th__cnn_augment(d, 3, &p, 7, x);
    th__cnn_augment(d, 3, &p, 7, again);
    CHECK(memcmp(x, again, pix * sizeof(float)) == 0);
    /* with noise on every image: standardised, near a moved copy, not one */
    p.noise_share = 1;
    p.noise = 0.5;
    p.shift = 0;
    th__cnn_augment(d, 3, &p, 1, x);
    th_dataset_standardize(d, 3, moved);
    double m = 0, v = 0, dot = 0;
    for (size_t i = 0; i < pix; i++) m += (double)x[i];
    m /= (double)pix;
    for (size_t i = 0; i < pix; i++) v += ((double)x[i] - m) * ((double)x[i] - m);
    for (size_t i = 0; i < pix; i++) dot += (double)x[i] * (double)moved[i];
    CHECK_CLOSE(m, 0.0, 1e-6);
    CHECK_CLOSE(v / (double)pix, 1.0, 1e-5);
    CHECK(dot / (double)pix > 0.7 && dot / (double)pix < 0.9999);
    free(one.pixels);
    free_dataset(d);
}

/* thermo eval's report where the answers are known: the samples are the
 * real training images themselves (the first 40 of each class, asked for
 * their own labels), so the diversity equals the real data's exactly, the
 * conditional accuracy is the judge's on those images, nothing is
 * inverted, and a second judge identical to the first agrees on every
 * sample. Negated, every sample counts as inverted, and --uninvert gives
 * back the same verdict. */
static void test_cnn_eval_report_known_answers(void)
{
    /* more test images than samples: buffers of either size are exercised */
    th_dataset *train = shapes_dataset(240, 1), *test = shapes_dataset(200, 2);
    const th_cnn_shape sh = shapes_net();
    th_judge judge = {.cnn = th_cnn_alloc(&sh)}, mlp = {0};
    th_cnn_init(judge.cnn, 4);
    th_cnn_train_params tp = th_cnn_train_params_default();
    tp.opt.epochs = 6;
    tp.opt.batch = 10;
    tp.opt.learning_rate = 1e-2;
    CHECK_EQ_INT(th_cnn_train(judge.cnn, train, &tp, NULL), TH_OK);
    const size_t per = 40, n = 3 * per, pix = 144;
    th_samples s = {.count = n, .n_pix = pix};
    s.images = malloc(n * pix * sizeof(float));
    s.classes = malloc(n * sizeof(int));
    size_t got[3] = {0, 0, 0}, k = 0;
    for (size_t i = 0; i < train->count && k < n; i++) {
        const int c = train->labels[i];
        if (got[c] == per) continue;
        got[c]++;
        for (size_t j = 0; j < pix; j++) s.images[k * pix + j] = train->pixels[i * pix + j];
        s.classes[k++] = c;
    }
    th_eval_params p = th_eval_params_default();
    p.second = &judge;
    p.diversity_count = per;
    th_eval_report r;
    CHECK_EQ_INT(th_eval_samples(&judge, &s, train, test, &p, &r), TH_OK);
    CHECK_CLOSE(r.diversity, r.diversity_real, 1e-12);
    CHECK(r.diversity > 0.3 && r.diversity < 1.0);
    CHECK(r.inverted == 0 && !r.diversity_by_judge);
    CHECK(r.has_second && r.agreement == 1.0 && r.disagreement == 0.0 && !r.disagree);
    CHECK(r.second_accuracy == r.judge_accuracy);
    /* the conditional accuracy from the judge's own forward pass */
    float *X = malloc(n * pix * sizeof(float)), logits[3];
    double share[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        memcpy(X, s.images + i * pix, pix * sizeof(float));
        th__standardise_floats(X, pix);
        th_judge_forward(&judge, X, 1, logits, NULL);
        int best = 0;
        for (int c = 1; c < 3; c++)
            if (logits[c] > logits[best]) best = c;
        share[s.classes[i]] += (best == s.classes[i]) / (double)per;
    }
    CHECK_CLOSE(r.conditional_accuracy, (share[0] + share[1] + share[2]) / 3, 1e-12);
    CHECK(r.conditional_accuracy > 0.9);
    /* negated: all inverted; un-inverted: the same verdict */
    for (size_t i = 0; i < n * pix; i++) s.images[i] = -s.images[i];
    th_eval_report neg;
    p.uninvert = 1;
    CHECK_EQ_INT(th_eval_samples(&judge, &s, train, test, &p, &neg), TH_OK);
    CHECK(neg.inverted == n && neg.uninverted);
    CHECK_CLOSE(neg.conditional_accuracy, r.conditional_accuracy, 1e-12);
    /* an untrained MLP as the second judge: it disagrees, and says so */
    const size_t width[3] = {pix, 8, 3};
    mlp.mlp = th_mlp_alloc(2, width, TH_ACT_RELU);
    p.second = &mlp;
    p.uninvert = 0;
    for (size_t i = 0; i < n * pix; i++) s.images[i] = -s.images[i];
    CHECK_EQ_INT(th_eval_samples(&judge, &s, train, test, &p, &r), TH_OK);
    /* all-zero weights: every logit ties, class 0 always: a third granted */
    CHECK_CLOSE(r.second_conditional_accuracy, 1.0 / 3.0, 1e-12);
    CHECK_CLOSE(r.disagreement, 100 * (r.conditional_accuracy - 1.0 / 3.0), 1e-9);
    CHECK(r.disagree);
    free(X);
    free(s.images);
    free(s.classes);
    th_judge_free(&judge);
    th_judge_free(&mlp);
    free_dataset(train);
    free_dataset(test);
}

/* ---------------------------------------------------------------- files */

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/thermo_test_cnn_%ld_%s", (long)getpid(), name);
}

static void test_cnn_save_load_round_trip(void)
{
    const th_cnn_shape s = small_shape(1);
    th_cnn *net = random_cnn(&s, 7);
    char path[256];
    tmp_path(path, sizeof path, "net.safetensors");
    th_meta extra = {0};
    th_meta_set(&extra, "test.accuracy", "0.5");
    CHECK_EQ_INT(th_cnn_save_meta(path, net, &extra), TH_OK);
    th_cnn *back = NULL;
    th_meta meta = {0};
    CHECK_EQ_INT(th_cnn_load_meta(path, &back, &meta), TH_OK);
    if (back) {
        CHECK(back->n_params == net->n_params);
        CHECK(memcmp(back->params, net->params, net->n_params * sizeof(float)) == 0);
        CHECK(back->shape.pool[0] == 1 && back->shape.pool[1] == 0 && back->shape.kernel == 3);
    }
    CHECK_STR_CONTAINS(th_meta_get(&meta, "test.accuracy"), "0.5");
    CHECK_STR_CONTAINS(th_meta_get(&meta, "cnn.channels"), "3,4");
    /* the judge wrapper reads it as a CNN */
    th_judge j;
    CHECK_EQ_INT(th_judge_load(path, &j, NULL), TH_OK);
    CHECK(j.cnn != NULL && j.mlp == NULL);
    CHECK(strcmp(th_judge_kind(&j), "cnn") == 0);
    CHECK_EQ_INT(th_judge_inputs(&j), 63);
    CHECK_EQ_INT(th_judge_classes(&j), 3);
    CHECK_EQ_INT(th_judge_features(&j), 5);
    th_judge_free(&j);
    th_meta_clear(&meta);
    th_meta_clear(&extra);
    th_cnn_free(back);
    th_cnn_free(net);
    unlink(path);
}

/* Files written with one field wrong are refused, naming the field. */
static void test_cnn_load_rejects_damaged(void)
{
    const th_cnn_shape s = small_shape(1);
    th_cnn *net = random_cnn(&s, 7);
    char path[256];
    tmp_path(path, sizeof path, "bad.safetensors");
    static const char *const keys[] = {"cnn.kernel", "cnn.channels", "cnn.pool", "cnn.classes",
                                       "cnn.channels"};
    static const char *const values[] = {"4", "3,x", "1", "1", "3,5"};
    for (int k = 0; k < 5; k++) {
        /* a good file with one metadata entry patched */
        CHECK_EQ_INT(th_cnn_save_meta(path, net, NULL), TH_OK);
        th_tensor_file *f = NULL;
        CHECK_EQ_INT(th_safetensors_read(path, &f), TH_OK);
        if (!f) continue;
        th_meta_set(&f->meta, keys[k], values[k]);
        CHECK_EQ_INT(th_safetensors_write(path, f->tensors, f->count, &f->meta), TH_OK);
        th_tensor_file_free(f);
        th_cnn *back = NULL;
        CHECK_EQ_INT(th_cnn_load_meta(path, &back, NULL), TH_EFORMAT);
        CHECK(back == NULL);
        /* the last one (5 channels where the tensors have 4) names a tensor */
        CHECK_STR_CONTAINS(th_last_error(), k == 4 ? "conv_W1" : keys[k]);
    }
    /* an MLP is not a CNN, and a PNAS MLP is not a judge */
    const size_t width[3] = {63, 4, 3};
    th_mlp *m = th_mlp_alloc(2, width, TH_ACT_RELU);
    m->input = TH_INPUT_PNAS;
    m->input_norm = 1.0;
    CHECK_EQ_INT(th_mlp_save(path, m), TH_OK);
    th_cnn *back = NULL;
    CHECK_EQ_INT(th_cnn_load_meta(path, &back, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "thermo.kind");
    th_judge j;
    CHECK_EQ_INT(th_judge_load(path, &j, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), "standardised");
    m->input = TH_INPUT_STANDARDISED;
    CHECK_EQ_INT(th_mlp_save(path, m), TH_OK);
    CHECK_EQ_INT(th_judge_load(path, &j, NULL), TH_OK);
    CHECK(j.mlp != NULL && j.cnn == NULL && strcmp(th_judge_kind(&j), "mlp") == 0);
    CHECK_EQ_INT(th_judge_features(&j), 4);
    th_judge_free(&j);
    th_mlp_free(m);
    th_cnn_free(net);
    unlink(path);
}

void suite_cnn(void)
{
    RUN_TEST(test_cnn_forward_reference_pool_first);
    RUN_TEST(test_cnn_forward_reference_pool_last);
    RUN_TEST(test_cnn_forward_reference_judge_shape);
    RUN_TEST(test_cnn_gradient_fd_pool_first);
    RUN_TEST(test_cnn_gradient_fd_pool_last);
    RUN_TEST(test_cnn_rejects_bad_input);
    RUN_TEST(test_cnn_learns_shapes);
    RUN_TEST(test_cnn_train_threads_identical);
    RUN_TEST(test_cnn_train_rejects_bad_params);
    RUN_TEST(test_cnn_augment_shifts_and_noise);
    RUN_TEST(test_cnn_eval_report_known_answers);
    RUN_TEST(test_cnn_save_load_round_trip);
    RUN_TEST(test_cnn_load_rejects_damaged);
}
