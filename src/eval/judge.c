/* judge.c - th_eval_samples: every measure of thermo eval in one pass.
 *
 * The samples are generated visible states in the standardised scale
 * (science.md section 2), possibly contrast-inverted: the generator's
 * potential is even in x when the biases vanish, so -s is as likely as s.
 * Each sample is standardised again per image (zero mean, unit variance
 * over its pixels), which is exactly the judge's input preprocessing and
 * makes distances to real images independent of the samples' overall scale.
 *
 * The floors answer "compared with what?": the Frechet distance between as
 * many real training images as there are samples and the test set (the
 * distance a perfect generator would reach with this sample size: the
 * estimate is biased upward by finite samples), and the nearest-training-
 * image distance of real test images (how close unseen digits come to the
 * training set; a generator that copies its training images comes much
 * closer). */
#include "eval/eval_internal.h"

#include <math.h>
#include <string.h>

/* Images judged or compared at once. */
#define CHUNK 512

static const double quantile_levels[TH_EVAL_QUANTILES] = {0.0, 0.1, 0.5, 0.9, 1.0};

th_eval_params th_eval_params_default(void)
{
    th_eval_params p;
    memset(&p, 0, sizeof p);
    return p;
}

/* Zero mean and unit variance over the pixels (population variance, as
 * th_dataset_standardize); a constant image becomes zeros. */
static void standardise(float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m += (double)x[i];
    m /= (double)n;
    double v = 0;
    for (size_t i = 0; i < n; i++) v += ((double)x[i] - m) * ((double)x[i] - m);
    v /= (double)n;
    double inv = v > 0 ? 1.0 / sqrt(v) : 0.0;
    for (size_t i = 0; i < n; i++) x[i] = (float)(((double)x[i] - m) * inv);
}

/* Penultimate features (n, fd) and, when logits is non-NULL, logits (n, k). */
static int judge_features(const th_mlp *judge, const float *X, size_t n, float *features,
                          float *logits)
{
    float *hidden[TH_MLP_MAX_LAYERS] = {NULL};
    hidden[judge->n_layers - 2] = features;
    return th_mlp_forward(judge, X, n, logits, hidden);
}

typedef struct progress_state {
    const th_eval_params *p;
    size_t done, total;
} progress_state;

/* Nearest training distances of the n rows of X, in chunks for progress. */
static int nearest_with_progress(const float *X, size_t n, const float *train, size_t n_train,
                                 size_t pix, double *dist, progress_state *ps)
{
    for (size_t r0 = 0; r0 < n; r0 += CHUNK) {
        const size_t rows = n - r0 < CHUNK ? n - r0 : CHUNK;
        int rc = th_nearest_distances(X + r0 * pix, rows, train, n_train, pix, dist + r0, NULL);
        if (rc != TH_OK) return rc;
        ps->done += rows;
        if (ps->p->progress && ps->p->progress(ps->done, ps->total, ps->p->progress_ctx))
            return th__fail(TH_ECANCELED, "evaluation stopped by its progress callback");
    }
    return TH_OK;
}

static void summarise(const double *v, size_t n, double *mean, double *q)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    *mean = s / (double)n;
    for (int k = 0; k < TH_EVAL_QUANTILES; k++) q[k] = th_stats_quantile(v, n, quantile_levels[k]);
}

static int check_inputs(const th_mlp *judge, const th_samples *s, const th_dataset *train,
                        const th_dataset *test)
{
    if (judge->n_layers < 2)
        return th__fail(TH_EINVAL, "the judge has %d layer; the Frechet distance needs a hidden "
                        "layer (at least 2 weight layers)", judge->n_layers);
    if (judge->input != TH_INPUT_STANDARDISED)
        return th__fail(TH_EINVAL, "the judge takes PNAS inputs (nn.input \"pnas\"); generated "
                        "images are in the standardised scale: use a judge trained with --arch "
                        "judge");
    const size_t classes = judge->width[judge->n_layers];
    if (classes > TH_EVAL_MAX_CLASSES)
        return th__fail(TH_EINVAL, "the judge has %zu classes; at most %d are supported",
                        classes, TH_EVAL_MAX_CLASSES);
    const size_t pix = judge->width[0];
    if (s->n_pix != pix)
        return th__fail(TH_EINVAL, "samples of %zu pixels; the judge takes %zu", s->n_pix, pix);
    if (s->count < 2)
        return th__fail(TH_EINVAL, "%zu sample: the Frechet distance needs at least 2", s->count);
    const th_dataset *sets[2] = {train, test};
    const char *names[2] = {"training", "test"};
    for (int k = 0; k < 2; k++) {
        if (sets[k]->rows * sets[k]->cols != pix)
            return th__fail(TH_EINVAL, "the %s images have %zu x %zu pixels; the judge takes %zu",
                            names[k], sets[k]->rows, sets[k]->cols, pix);
        if (sets[k]->count < 2)
            return th__fail(TH_EINVAL, "%zu %s image: at least 2 are needed", sets[k]->count,
                            names[k]);
    }
    if (!test->labels)
        return th__fail(TH_EINVAL, "the test images have no labels to check the judge against");
    if (s->classes)
        for (size_t i = 0; i < s->count; i++)
            if (s->classes[i] < -1 || s->classes[i] >= (int)classes)
                return th__fail(TH_EINVAL, "sample %zu asks for class %d; the judge has classes "
                                "0 to %zu", i, s->classes[i], classes - 1);
    return TH_OK;
}

int th_eval_samples(const th_mlp *judge, const th_samples *s, const th_dataset *train,
                    const th_dataset *test, const th_eval_params *p, th_eval_report *out)
{
    TH_ASSERT(judge && s && train && test && p && out);
    int rc = check_inputs(judge, s, train, test);
    if (rc != TH_OK) return rc;
    memset(out, 0, sizeof *out);
    const size_t n = s->count, pix = judge->width[0];
    const size_t classes = judge->width[judge->n_layers];
    const size_t fd = judge->width[judge->n_layers - 1];
    size_t n_ref = p->reference_count ? p->reference_count : n;
    if (n_ref > train->count) n_ref = train->count;
    const size_t n_ref_test = n_ref < test->count ? n_ref : test->count;
    out->count = n;
    out->n_classes = classes;
    out->feature_dim = fd;
    out->uninverted = p->uninvert != 0;
    out->reference_count = n_ref_test;
    out->frechet_test_count = test->count;

    float *X = th__alloc(n * pix * sizeof(float));               /* (n, pix) samples */
    float *logits = th__alloc(n * classes * sizeof(float));      /* (n, classes) */
    float *Fs = th__alloc(n * fd * sizeof(float));               /* (n, fd) */
    float *Ft = th__alloc(test->count * fd * sizeof(float));     /* (test, fd) */
    float *Fr = th__alloc(n_ref * fd * sizeof(float));           /* (n_ref, fd) */
    float *Xtrain = th__alloc(train->count * pix * sizeof(float));
    float *Xtest = th__alloc(test->count * pix * sizeof(float));
    float *tlogits = th__alloc(test->count * classes * sizeof(float));
    int *pred = th__alloc((n > test->count ? n : test->count) * sizeof(int));
    double *ms = th__alloc(fd * sizeof(double)), *mt = th__alloc(fd * sizeof(double));
    double *mr = th__alloc(fd * sizeof(double));
    double *Ss = th__alloc(fd * fd * sizeof(double)), *St = th__alloc(fd * fd * sizeof(double));
    double *Sr = th__alloc(fd * fd * sizeof(double));
    double *dist = th__alloc(n * sizeof(double)), *rdist = th__alloc(n_ref_test * sizeof(double));
    if (!X || !logits || !Fs || !Ft || !Fr || !Xtrain || !Xtest || !tlogits || !pred || !ms ||
        !mt || !mr || !Ss || !St || !Sr || !dist || !rdist) {
        rc = th__fail(TH_ENOMEM, "out of memory evaluating %zu samples against %zu training "
                      "images", n, train->count);
        goto done;
    }

    /* contrast, then the judge's inputs */
    memcpy(X, s->images, n * pix * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        float *x = X + i * pix;
        if (th_stats_skewness(x, pix) < 0) {
            out->inverted++;
            if (p->uninvert)
                for (size_t k = 0; k < pix; k++) x[k] = -x[k];
        }
        standardise(x, pix);
    }
    out->inverted_share = (double)out->inverted / (double)n;

    /* what the judge sees */
    rc = judge_features(judge, X, n, Fs, logits);
    if (rc != TH_OK) goto done;
    th_argmax_rows(logits, n, classes, pred);
    for (size_t i = 0; i < n; i++) out->predicted[pred[i]]++;
    out->entropy = th_entropy_counts(out->predicted, classes);
    out->entropy_share = classes > 1 ? out->entropy / log((double)classes) : 0.0;
    if (s->classes) {
        for (size_t i = 0; i < n; i++) {
            if (s->classes[i] < 0) {
                out->unconditional++;
                continue;
            }
            out->requested[s->classes[i]]++;
            out->granted[s->classes[i]] += pred[i] == s->classes[i];
        }
        size_t asked = 0;
        double sum = 0;
        for (size_t c = 0; c < classes; c++)
            if (out->requested[c]) {
                asked++;
                sum += (double)out->granted[c] / (double)out->requested[c];
            }
        out->has_classes = asked > 0;
        out->conditional_accuracy = asked ? sum / (double)asked : 0.0;
    }

    /* real images through the same judge */
    th_mlp probe = *judge; /* the same weights; prepare needs only input and widths */
    rc = th_mlp_prepare(&probe, test, 0, test->count, Xtest);
    if (rc == TH_OK) rc = th_mlp_prepare(&probe, train, 0, train->count, Xtrain);
    if (rc == TH_OK) rc = judge_features(judge, Xtest, test->count, Ft, tlogits);
    if (rc == TH_OK) rc = judge_features(judge, Xtrain, n_ref, Fr, NULL);
    if (rc != TH_OK) goto done;
    th_argmax_rows(tlogits, test->count, classes, pred);
    size_t hits = 0;
    for (size_t i = 0; i < test->count; i++) hits += pred[i] == (int)test->labels[i];
    out->judge_accuracy = (double)hits / (double)test->count;

    /* Frechet distances in the penultimate features */
    rc = th_feature_moments(Fs, n, fd, ms, Ss);
    if (rc == TH_OK) rc = th_feature_moments(Ft, test->count, fd, mt, St);
    if (rc == TH_OK) rc = th_feature_moments(Fr, n_ref, fd, mr, Sr);
    if (rc == TH_OK) rc = th_frechet_distance(ms, Ss, mt, St, fd, &out->frechet);
    if (rc == TH_OK) rc = th_frechet_distance(mr, Sr, mt, St, fd, &out->frechet_floor);
    if (rc != TH_OK) goto done;

    /* memorisation */
    progress_state ps = {p, 0, n + n_ref_test};
    rc = nearest_with_progress(X, n, Xtrain, train->count, pix, dist, &ps);
    if (rc == TH_OK)
        rc = nearest_with_progress(Xtest, n_ref_test, Xtrain, train->count, pix, rdist, &ps);
    if (rc != TH_OK) goto done;
    summarise(dist, n, &out->nearest_mean, out->nearest_q);
    summarise(rdist, n_ref_test, &out->reference_mean, out->reference_q);

    if (s->heat) {
        double h = 0;
        for (size_t i = 0; i < n; i++) h += s->heat[i];
        out->has_heat = 1;
        out->heat_mean = h / (double)n;
    }
done:
    th__free(X);
    th__free(logits);
    th__free(Fs);
    th__free(Ft);
    th__free(Fr);
    th__free(Xtrain);
    th__free(Xtest);
    th__free(tlogits);
    th__free(pred);
    th__free(ms);
    th__free(mt);
    th__free(mr);
    th__free(Ss);
    th__free(St);
    th__free(Sr);
    th__free(dist);
    th__free(rdist);
    return rc;
}
