/* test_eval_metrics.c - the image-quality metrics of thermo eval against
 * independent computations: the Frechet distance against closed forms (1-D
 * Gaussians, commuting covariances) and its invariance under a common
 * rotation, nearest distances against a brute-force double loop, skewness,
 * entropy and quantiles against their textbook formulas; within-class
 * diversity against known answers (identical images 0, independent noise 1,
 * an image and its negative 2) and Pearson's formula; the inversion
 * criterion on drawn figures, a frame-filling one, and real digits when
 * data/mnist is there. */
#include "harness.h"
#include "thermo.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static double frechet(const double *m1, const double *S1, const double *m2, const double *S2,
                      size_t d)
{
    double out = NAN;
    CHECK_EQ_INT(th_frechet_distance(m1, S1, m2, S2, d, &out), TH_OK);
    return out;
}

/* 1-D: (m1 - m2)^2 + (s1 - s2)^2. Diagonal (commuting) covariances: the sum
 * over coordinates of the same. */
static void test_eval_frechet_closed_forms(void)
{
    double m1 = 0.3, m2 = -1.2, v1 = 4.0, v2 = 0.25;
    CHECK_CLOSE(frechet(&m1, &v1, &m2, &v2, 1), pow(m1 - m2, 2) + pow(2.0 - 0.5, 2), 1e-12);
    double a[3] = {1, 2, 3}, b[3] = {0, 2, 5};
    double A[9] = {1, 0, 0, 0, 9, 0, 0, 0, 0.04}, B[9] = {4, 0, 0, 0, 1, 0, 0, 0, 0.01};
    double want = 1 + 0 + 4 + pow(1 - 2, 2) + pow(3 - 1, 2) + pow(0.2 - 0.1, 2);
    CHECK_CLOSE(frechet(a, A, b, B, 3), want, 1e-11);
    CHECK_CLOSE(frechet(a, A, a, A, 3), 0.0, 1e-10);
}

/* A common rotation Q leaves the distance unchanged: FD(Qm1, Q S1 Q^T, Qm2,
 * Q S2 Q^T) = FD(m1, S1, m2, S2), with S1, S2 that do not commute. */
static void test_eval_frechet_rotation_invariant(void)
{
    enum { D = 4 };
    uint64_t seed = 12;
    double L1[D * D], L2[D * D], S1[D * D], S2[D * D], m1[D], m2[D];
    for (int i = 0; i < D * D; i++) {
        L1[i] = test_uniform(&seed, -1, 1);
        L2[i] = test_uniform(&seed, -1, 1);
    }
    for (int i = 0; i < D; i++) {
        m1[i] = test_uniform(&seed, -1, 1);
        m2[i] = test_uniform(&seed, -1, 1);
    }
    for (int i = 0; i < D; i++) /* S = L L^T + 0.1 I: positive definite */
        for (int j = 0; j < D; j++) {
            double s1 = 0, s2 = 0;
            for (int k = 0; k < D; k++) {
                s1 += L1[i * D + k] * L1[j * D + k];
                s2 += L2[i * D + k] * L2[j * D + k];
            }
            S1[i * D + j] = s1 + (i == j ? 0.1 : 0);
            S2[i * D + j] = s2 + (i == j ? 0.1 : 0);
        }
    /* Q: a product of two Givens rotations */
    double Q[D * D] = {0};
    for (int i = 0; i < D; i++) Q[i * D + i] = 1;
    const double c = cos(0.7), s = sin(0.7), c2 = cos(-1.3), s2 = sin(-1.3);
    double G1[D * D] = {c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    double G2[D * D] = {1, 0, 0, 0, 0, c2, 0, -s2, 0, 0, 1, 0, 0, s2, 0, c2};
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double v = 0;
            for (int k = 0; k < D; k++) v += G1[i * D + k] * G2[k * D + j];
            Q[i * D + j] = v;
        }
    double R1[D * D], R2[D * D], r1[D], r2[D];
    for (int i = 0; i < D; i++) {
        r1[i] = r2[i] = 0;
        for (int k = 0; k < D; k++) {
            r1[i] += Q[i * D + k] * m1[k];
            r2[i] += Q[i * D + k] * m2[k];
        }
        for (int j = 0; j < D; j++) {
            double v1 = 0, v2 = 0;
            for (int k = 0; k < D; k++)
                for (int l = 0; l < D; l++) {
                    v1 += Q[i * D + k] * S1[k * D + l] * Q[j * D + l];
                    v2 += Q[i * D + k] * S2[k * D + l] * Q[j * D + l];
                }
            R1[i * D + j] = v1;
            R2[i * D + j] = v2;
        }
    }
    /* symmetrise the rotated matrices exactly (rounding leaves them 1 ulp off) */
    for (int i = 0; i < D; i++)
        for (int j = 0; j < i; j++) {
            R1[i * D + j] = R1[j * D + i];
            R2[i * D + j] = R2[j * D + i];
        }
    const double plain = frechet(m1, S1, m2, S2, D), rotated = frechet(r1, R1, r2, R2, D);
    CHECK(plain > 0.1);
    CHECK_CLOSE(rotated, plain, 1e-9 * plain);
    S1[1] += 1; /* not symmetric */
    double out;
    CHECK_EQ_INT(th_frechet_distance(m1, S1, m2, S2, D, &out), TH_EINVAL);
}

/* Nearest distances against a brute-force double loop. */
static void test_eval_nearest_brute_force(void)
{
    enum { NA = 17, NB = 300, D = 20 };
    uint64_t seed = 5;
    float *A = malloc(NA * D * sizeof(float)), *B = malloc(NB * D * sizeof(float));
    for (int i = 0; i < NA * D; i++) A[i] = (float)test_uniform(&seed, -2, 2);
    for (int i = 0; i < NB * D; i++) B[i] = (float)test_uniform(&seed, -2, 2);
    memcpy(B + 123 * D, A + 4 * D, D * sizeof(float)); /* an exact copy: distance 0 */
    double dist[NA];
    size_t index[NA];
    CHECK_EQ_INT(th_nearest_distances(A, NA, B, NB, D, dist, index), TH_OK);
    for (int a = 0; a < NA; a++) {
        double best = INFINITY;
        size_t bi = 0;
        for (int b = 0; b < NB; b++) {
            double s = 0;
            for (int k = 0; k < D; k++) s += pow((double)A[a * D + k] - (double)B[b * D + k], 2);
            if (s < best) {
                best = s;
                bi = (size_t)b;
            }
        }
        CHECK(index[a] == bi);
        CHECK_CLOSE(dist[a], sqrt(best), 1e-9);
    }
    CHECK(index[4] == 123 && dist[4] == 0.0);
    free(A);
    free(B);
}

/* Skewness m3 / m2^{3/2}, entropy -sum p ln p, type-7 quantiles. */
static void test_eval_small_statistics(void)
{
    const float x[5] = {0, 0, 0, 0, 10};
    double mean = 2, m2 = (4 * 4 + 64) / 5.0, m3 = (4 * -8 + 512) / 5.0;
    CHECK_CLOSE(th_stats_skewness(x, 5), m3 / pow(m2, 1.5), 1e-6);
    const float y[5] = {0, 0, 0, 0, -10};
    CHECK_CLOSE(th_stats_skewness(y, 5), -m3 / pow(m2, 1.5), 1e-6);
    (void)mean;
    const float flat[3] = {1, 1, 1};
    CHECK(th_stats_skewness(flat, 3) == 0.0);
    const size_t counts[4] = {1, 1, 2, 0};
    CHECK_CLOSE(th_entropy_counts(counts, 4), -(2 * 0.25 * log(0.25) + 0.5 * log(0.5)), 1e-12);
    const size_t none[2] = {0, 0};
    CHECK(th_entropy_counts(none, 2) == 0.0);
    const double v[5] = {5, 1, 4, 2, 3};
    CHECK_CLOSE(th_stats_quantile(v, 5, 0.5), 3.0, 1e-12);
    CHECK_CLOSE(th_stats_quantile(v, 5, 0.1), 1.4, 1e-12);
    CHECK_CLOSE(th_stats_quantile(v, 5, 1.0), 5.0, 1e-12);
    CHECK(v[0] == 5 && v[1] == 1); /* left unchanged */
}

/* Pearson's correlation of a and b (n), from its textbook formula. */
static double pearson(const float *a, const float *b, size_t n)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += (double)a[i];
        mb += (double)b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += ((double)a[i] - ma) * ((double)b[i] - mb);
        saa += ((double)a[i] - ma) * ((double)a[i] - ma);
        sbb += ((double)b[i] - mb) * ((double)b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

static void test_eval_diversity_known_answers(void)
{
    const size_t pix = 784, n = 100;
    float *X = malloc(n * pix * sizeof(float));
    int *lab = malloc(n * sizeof(int));
    uint64_t st = 5;
    /* 100 independent noise images in class 0: mean correlation ~0 with
     * spread 1/sqrt(784 * 4950), so diversity 1 within 0.01 */
    for (size_t i = 0; i < n * pix; i++) X[i] = (float)test_uniform(&st, 0, 1);
    for (size_t i = 0; i < n; i++) lab[i] = 0;
    double d = NAN, per[3];
    CHECK_EQ_INT(th_class_diversity(X, n, pix, lab, 1, 100, &d, NULL), TH_OK);
    CHECK_CLOSE(d, 1.0, 0.01);
    /* one image repeated (at another brightness and contrast: the images
     * are standardised first): 0 */
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < pix; j++) X[i * pix + j] = 3.0f * X[j] + (float)i;
    CHECK_EQ_INT(th_class_diversity(X, n, pix, lab, 1, 100, &d, NULL), TH_OK);
    CHECK_CLOSE(d, 0.0, 1e-6);
    /* Pearson by hand: class 0 = images 0, 1, 2; class 1 = image 3 alone
     * (NaN); class 2 = images 4 and its negative 5 (correlation -1: 2);
     * label 7 is outside the classes and skipped */
    for (size_t i = 0; i < 7 * pix; i++) X[i] = (float)test_uniform(&st, -1, 1);
    for (size_t j = 0; j < pix; j++) X[5 * pix + j] = -X[4 * pix + j];
    const int six[7] = {0, 0, 0, 1, 2, 2, 7};
    CHECK_EQ_INT(th_class_diversity(X, 7, pix, six, 3, 100, &d, per), TH_OK);
    const double d0 = 1 - (pearson(X, X + pix, pix) + pearson(X, X + 2 * pix, pix) +
                           pearson(X + pix, X + 2 * pix, pix)) / 3;
    /* the standardised images are float32: agreement to ~1e-7 */
    CHECK_CLOSE(per[0], d0, 1e-6);
    CHECK(isnan(per[1]));
    CHECK_CLOSE(per[2], 2.0, 1e-6);
    CHECK_CLOSE(d, (d0 + 2.0) / 2, 1e-6);
    /* per_class 2 keeps the first two of class 0 only */
    CHECK_EQ_INT(th_class_diversity(X, 7, pix, six, 3, 2, &d, per), TH_OK);
    CHECK_CLOSE(per[0], 1 - pearson(X, X + pix, pix), 1e-6);
    /* no class with two images */
    const int lonely[3] = {0, 1, 2};
    CHECK_EQ_INT(th_class_diversity(X, 3, pix, lonely, 3, 100, &d, NULL), TH_EINVAL);
    free(X);
    free(lab);
}

/* The classes are summed in parallel, each in a fixed order: 1 thread and 2
 * give the same bits. */
static void test_eval_diversity_threads(void)
{
    const size_t pix = 784, n = 400;
    float *X = malloc(n * pix * sizeof(float));
    int *lab = malloc(n * sizeof(int));
    uint64_t st = 9;
    for (size_t i = 0; i < n * pix; i++) X[i] = (float)test_uniform(&st, 0, 1);
    for (size_t i = 0; i < n; i++) lab[i] = (int)(i % 10);
    double a, b, pa[10], pb[10];
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_EQ_INT(th_class_diversity(X, n, pix, lab, 10, 100, &a, pa), TH_OK);
    omp_set_num_threads(2);
    CHECK_EQ_INT(th_class_diversity(X, n, pix, lab, 10, 100, &b, pb), TH_OK);
    omp_set_num_threads(saved);
    CHECK(a == b && memcmp(pa, pb, sizeof pa) == 0);
    free(X);
    free(lab);
}

/* The 3 x 3 blur by hand: a lone bright pixel inside spreads 1/9 over its
 * neighbourhood; at a corner the repeated edge counts it 4 times (4/9); a
 * constant image stays constant. And what the blurred diversity is for:
 * one template with independent pixel noise looks diverse pixel by pixel,
 * but not once blurred. */
static void test_eval_blur_known_answers(void)
{
    float im[2 * 25], out[2 * 25];
    memset(im, 0, sizeof im);
    im[2 * 5 + 2] = 9;            /* image 0: centre of a 5 x 5 */
    im[25 + 0] = 9;               /* image 1: top-left corner */
    th_image_blur3(im, 2, 5, 5, out);
    for (size_t r = 0; r < 5; r++)
        for (size_t c = 0; c < 5; c++) {
            const int near = r >= 1 && r <= 3 && c >= 1 && c <= 3;
            CHECK_CLOSE(out[r * 5 + c], near ? 1.0 : 0.0, 1e-6);
        }
    CHECK_CLOSE(out[25 + 0], 4.0, 1e-6);        /* (0,0) seen 4 times */
    CHECK_CLOSE(out[25 + 1], 2.0, 1e-6);        /* (0,1): rows 0,0,1 x cols 0,1,2 */
    CHECK_CLOSE(out[25 + 5], 2.0, 1e-6);
    CHECK_CLOSE(out[25 + 6], 1.0, 1e-6);
    CHECK_CLOSE(out[25 + 12], 0.0, 1e-6);
    for (size_t i = 0; i < 25; i++) im[i] = 2.5f;
    th_image_blur3(im, 1, 5, 5, out);
    for (size_t i = 0; i < 25; i++) CHECK_CLOSE(out[i], 2.5, 1e-6);

    const size_t n = 50, side = 28, pix = side * side;
    float *X = malloc(n * pix * sizeof(float)), *B = malloc(n * pix * sizeof(float));
    int *lab = calloc(n, sizeof(int));
    uint64_t st = 11;
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < pix; p++) {
            const size_t r = p / side, c = p % side;
            const double bar = (c >= 10 && c < 18 && r >= 4 && r < 24) ? 1.0 : 0.0;
            X[i * pix + p] = (float)(bar + test_uniform(&st, -0.6, 0.6));
        }
    double plain, blurred;
    CHECK_EQ_INT(th_class_diversity(X, n, pix, lab, 1, 100, &plain, NULL), TH_OK);
    th_image_blur3(X, n, side, side, B);
    CHECK_EQ_INT(th_class_diversity(B, n, pix, lab, 1, 100, &blurred, NULL), TH_OK);
    CHECK(plain > 0.3);           /* the noise alone: about 0.4 */
    CHECK(blurred < plain / 3);   /* blurred: about 0.1 */
    free(X);
    free(B);
    free(lab);
}

static void test_eval_inversion(void)
{
    float img[28 * 28];
    /* a bright ring (a zero) on a dark ground: not inverted; negated: inverted */
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            const double r = hypot(y - 13.5, x - 13.5);
            img[y * 28 + x] = r > 5 && r < 8 ? 1.0f : 0.0f;
        }
    CHECK(!th_image_inverted(img, 28, 28));
    for (int i = 0; i < 784; i++) img[i] = -img[i];
    CHECK(th_image_inverted(img, 28, 28));
    /* a garment filling most of the frame on a dark border: not inverted,
     * though its pixel skewness is negative (the earlier criterion) */
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) img[y * 28 + x] = (y >= 2 && y < 26 && x >= 3 && x < 25);
    CHECK(!th_image_inverted(img, 28, 28));
    CHECK(th_stats_skewness(img, 784) < 0);
    /* the border mean equal to the image mean is not above it; too small */
    for (int i = 0; i < 784; i++) img[i] = 0.5f;
    CHECK(!th_image_inverted(img, 28, 28));
    const float tiny[4] = {1, 1, 1, 0};
    CHECK(!th_image_inverted(tiny, 2, 2));
    /* real digits, where present: none inverted, all of their negatives */
    th_dataset *d = NULL;
    if (th_dataset_load_dir("data/mnist", "t10k", &d) != TH_OK) {
        printf("     (skipped the real digits: no data/mnist)\n");
        return;
    }
    size_t plain = 0, negated = 0;
    for (size_t k = 0; k < 2000 && k < d->count; k++) {
        th_dataset_standardize(d, k, img);
        plain += (size_t)th_image_inverted(img, 28, 28);
        for (int i = 0; i < 784; i++) img[i] = -img[i];
        negated += (size_t)th_image_inverted(img, 28, 28);
    }
    CHECK_EQ_INT(plain, 0);
    CHECK_EQ_INT(negated, d->count < 2000 ? d->count : 2000);
    th_dataset_free(d);
}

void suite_eval_metrics(void)
{
    RUN_TEST(test_eval_frechet_closed_forms);
    RUN_TEST(test_eval_frechet_rotation_invariant);
    RUN_TEST(test_eval_nearest_brute_force);
    RUN_TEST(test_eval_small_statistics);
    RUN_TEST(test_eval_diversity_known_answers);
    RUN_TEST(test_eval_diversity_threads);
    RUN_TEST(test_eval_blur_known_answers);
    RUN_TEST(test_eval_inversion);
}
