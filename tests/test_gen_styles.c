/* Style codes (src/gen/styles.c): balanced k-means clusters of each class
 * that become the computer's label codes, and the style each sample draws. */
#include "harness.h"
#include "thermo.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* A labelled training set by hand: classes c = 0..C-1, each of `per` images
 * around P prototypes (image k of class c is prototype (k mod P) of c plus
 * noise of size `noise`); prototypes far apart (each a random standard
 * image). */
static th_gen_training_set *prototype_set(size_t C, size_t per, size_t P, size_t nv,
                                          double noise, uint64_t seed)
{
    th_gen_training_set *ts = calloc(1, sizeof *ts);
    ts->count = C * per;
    ts->rows = 1;
    ts->cols = nv;
    ts->pool = 1;
    ts->images = malloc(ts->count * nv * sizeof(float));
    ts->labels = malloc(ts->count * sizeof(int));
    ts->n_classes = C;
    float *proto = test_standard_images(C * P, nv, seed);
    uint64_t state = seed ^ 0x5eed;
    for (size_t c = 0; c < C; c++)
        for (size_t k = 0; k < per; k++) {
            const size_t i = c * per + k;
            ts->labels[i] = (int)c;
            for (size_t j = 0; j < nv; j++)
                ts->images[i * nv + j] =
                    proto[(c * P + k % P) * nv + j] + (float)test_uniform(&state, -noise, noise);
        }
    free(proto);
    return ts;
}

/* Well-separated prototypes, as many as styles: every cluster is exactly one
 * prototype's images (the partition is recovered, whatever the numbering),
 * and the codes are c K + s. */
static void test_styles_recover_prototypes(void)
{
    const size_t C = 3, per = 24, K = 4, nv = 50;
    th_gen_training_set *ts = prototype_set(C, per, K, nv, 0.05, 9);
    CHECK_EQ_INT(th_gen_training_set_styles(ts, K, 1), TH_OK);
    CHECK_EQ_INT((long long)ts->n_classes, (long long)(C * K));
    CHECK_EQ_INT((long long)ts->styles, (long long)K);
    for (size_t c = 0; c < C; c++) {
        int code_of_proto[4] = {-1, -1, -1, -1};
        for (size_t k = 0; k < per; k++) {
            const int code = ts->labels[c * per + k];
            CHECK(code >= (int)(c * K) && code < (int)((c + 1) * K));
            if (code_of_proto[k % K] < 0) code_of_proto[k % K] = code;
            CHECK_EQ_INT(code, code_of_proto[k % K]);
        }
        /* the prototypes took different codes */
        for (size_t a = 0; a < K; a++)
            for (size_t b = a + 1; b < K; b++) CHECK(code_of_proto[a] != code_of_proto[b]);
    }
    th_gen_training_set_free(ts);
}

/* On shapeless data (fewer prototypes than styles, much noise) the clusters
 * are still balanced: sizes floor(n_c / K) or one more; the same codes for
 * 1 and 2 threads and for a repeated call; other seeds still balanced. */
static void test_styles_balanced_and_deterministic(void)
{
    const size_t C = 2, per = 23, K = 5, nv = 40;
    const int saved = omp_get_max_threads();
    int *first = NULL;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        th_gen_training_set *ts = prototype_set(C, per, 2, nv, 1.0, 4);
        CHECK_EQ_INT(th_gen_training_set_styles(ts, K, 3), TH_OK);
        for (size_t c = 0; c < C; c++) {
            size_t count[5] = {0};
            for (size_t k = 0; k < per; k++) count[ts->labels[c * per + k] - (int)(c * K)]++;
            for (size_t s = 0; s < K; s++)
                CHECK(count[s] == per / K || count[s] == per / K + 1);
        }
        if (!first) {
            first = malloc(C * per * sizeof *first);
            memcpy(first, ts->labels, C * per * sizeof *first);
        } else {
            CHECK(memcmp(first, ts->labels, C * per * sizeof *first) == 0);
        }
        th_gen_training_set_free(ts);
    }
    omp_set_num_threads(saved);
    free(first);
}

/* Refusals: no labels, a class with fewer images than styles, too many label
 * units, styles twice; styles 0 and 1 change nothing. */
static void test_styles_refusals(void)
{
    th_gen_training_set *ts = prototype_set(2, 6, 2, 10, 0.1, 5);
    CHECK_EQ_INT(th_gen_training_set_styles(ts, 7, 1), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "class 0 has only 6");
    CHECK_EQ_INT(th_gen_training_set_styles(ts, 600, 1), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "label units");
    CHECK_EQ_INT(th_gen_training_set_styles(ts, 1, 1), TH_OK);
    CHECK_EQ_INT(th_gen_training_set_styles(ts, 0, 1), TH_OK);
    CHECK_EQ_INT((long long)ts->n_classes, 2);
    CHECK_EQ_INT(ts->labels[7], 1);
    CHECK_EQ_INT(th_gen_training_set_styles(ts, 2, 1), TH_OK);
    CHECK_EQ_INT(th_gen_training_set_styles(ts, 2, 1), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "already");
    free(ts->labels);
    ts->labels = NULL;
    ts->styles = 0;
    CHECK_EQ_INT(th_gen_training_set_styles(ts, 2, 1), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "labels");
    th_gen_training_set_free(ts);

    th_gen_params p = test_gen_tiny_params(6);
    p.styles = 4; /* 6 label units do not split into 4 styles */
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "styles");
    p.styles = 3;
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_OK);
    CHECK_EQ_INT((long long)th_gen_classes(&p), 2);
}

/* A sample's style: cls K + s with s in 0..K-1, a function of the sample's
 * index alone; uniform over the styles (chi-square over 40,000 draws, 4
 * degrees of freedom, below the 0.1% point 18.5); no styles: the class. */
static void test_style_code_uniform(void)
{
    th_gen_params p = test_gen_tiny_params(15);
    p.styles = 5;
    size_t count[5] = {0};
    const size_t N = 40000;
    for (size_t k = 0; k < N; k++) {
        const int code = th_gen_style_code(&p, 2, k);
        CHECK(code >= 10 && code < 15);
        if (code >= 10 && code < 15) count[code - 10]++;
    }
    double chi2 = 0;
    for (size_t s = 0; s < 5; s++) {
        const double e = (double)N / 5, d = (double)count[s] - e;
        chi2 += d * d / e;
    }
    CHECK(chi2 < 18.5);
    /* the same index, the same style, in any class */
    for (uint64_t k = 0; k < 50; k++)
        CHECK_EQ_INT(th_gen_style_code(&p, 0, k) % 5, th_gen_style_code(&p, 1, k) % 5);
    p.styles = 0;
    CHECK_EQ_INT(th_gen_style_code(&p, 2, 123), 2);
}

/* Sampling a style computer for classes c gives, to the bit, what the same
 * couplings give as a plain conditional computer asked for the codes
 * th_gen_style_code(c, first + k): across batches and a nonzero first. The
 * label-pixel couplings are strong, so a wrong code shows in the images. */
static void test_styles_sampling_uses_codes(void)
{
    th_gen_params p = test_gen_tiny_params(6);
    p.label_visible = 1;
    p.styles = 3;
    CHECK_EQ_INT(th_gen_params_validate(&p), TH_OK);
    th_model *m = th_gen_model_alloc(&p, TH_F32);
    CHECK(m != NULL);
    if (!m) return;
    const size_t n = m->n, nv = p.n_visible, l0 = p.n_visible + p.n_hidden;
    uint64_t state = 77;
    for (size_t c = 0; c < p.n_classes; c++)
        for (size_t i = 0; i < nv; i++) {
            const float v = (float)test_uniform(&state, -3, 3);
            m->J.f32[(l0 + c) * n + i] = v;
            m->J.f32[i * n + l0 + c] = v;
        }
    const size_t N = 13;
    int cls[13], codes[13];
    const uint64_t first = 5;
    for (size_t k = 0; k < N; k++) {
        cls[k] = (int)(k % 2);
        codes[k] = th_gen_style_code(&p, cls[k], first + k);
    }
    float *a = malloc(N * nv * sizeof *a), *b = malloc(N * nv * sizeof *b);
    double *ha = malloc(N * sizeof *ha), *hb = malloc(N * sizeof *hb);
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.first = first;
    so.batch = 4;
    so.classes = cls;
    CHECK_EQ_INT(th_gen_sample(m, &p, N, &so, a, ha), TH_OK);
    th_gen_params plain = p;
    plain.styles = 0;
    so.classes = codes;
    so.batch = 5;
    CHECK_EQ_INT(th_gen_sample(m, &plain, N, &so, b, hb), TH_OK);
    CHECK(memcmp(a, b, N * nv * sizeof *a) == 0);
    CHECK(memcmp(ha, hb, N * sizeof *ha) == 0);
    /* a wrong code would show: the codes one style on */
    for (size_t k = 0; k < N; k++) codes[k] = cls[k] * 3 + (codes[k] % 3 + 1) % 3;
    CHECK_EQ_INT(th_gen_sample(m, &plain, N, &so, b, hb), TH_OK);
    CHECK(memcmp(a, b, N * nv * sizeof *a) != 0);
    /* classes are asked for, not codes: 2 is out of range */
    so.classes = cls;
    cls[3] = 2;
    CHECK_EQ_INT(th_gen_sample(m, &p, N, &so, a, ha), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "expected 0 to 1");
    free(a);
    free(b);
    free(ha);
    free(hb);
    th_model_free(m);
}

/* The model file keeps the styles, and leaves the field out without them. */
static void test_styles_meta_round_trip(void)
{
    th_gen_params p = test_gen_tiny_params(6), q;
    p.styles = 3;
    th_meta meta = {0};
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_OK);
    CHECK(th_meta_get(&meta, "gen.styles") != NULL);
    CHECK_EQ_INT(th_gen_params_from_meta(&meta, &q), TH_OK);
    CHECK_EQ_INT((long long)q.styles, 3);
    th_meta_clear(&meta);
    p.styles = 0;
    CHECK_EQ_INT(th_gen_params_to_meta(&p, &meta), TH_OK);
    CHECK(th_meta_get(&meta, "gen.styles") == NULL);
    th_meta_clear(&meta);
}

void suite_gen_styles(void)
{
    RUN_TEST(test_styles_recover_prototypes);
    RUN_TEST(test_styles_balanced_and_deterministic);
    RUN_TEST(test_styles_refusals);
    RUN_TEST(test_style_code_uniform);
    RUN_TEST(test_styles_sampling_uses_codes);
    RUN_TEST(test_styles_meta_round_trip);
}
