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
 * closer).
 *
 * A second judge (the earlier MLP) sees the same inputs, and its verdict is
 * set beside the first's: a lenient judge shows itself where the two part.
 * Within-class diversity (diversity.c) is measured on the same standardised
 * samples and on the real training images, so the report can say how far a
 * generator is from drawing one template per class. */
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

static int check_judge(const th_judge *judge, const char *which)
{
    if (!judge->cnn && !judge->mlp)
        return th__fail(TH_EINVAL, "the %s judge has no network", which);
    if (judge->mlp && judge->mlp->n_layers < 2)
        return th__fail(TH_EINVAL, "the %s judge has %d layer; the Frechet distance needs a "
                        "hidden layer (at least 2 weight layers)", which, judge->mlp->n_layers);
    if (judge->mlp && judge->mlp->input != TH_INPUT_STANDARDISED)
        return th__fail(TH_EINVAL, "the %s judge takes PNAS inputs (nn.input \"pnas\"); "
                        "generated images are in the standardised scale: use a judge trained "
                        "with --arch judge or judge-mlp", which);
    if (th_judge_classes(judge) > TH_EVAL_MAX_CLASSES)
        return th__fail(TH_EINVAL, "the %s judge has %zu classes; at most %d are supported", which,
                        th_judge_classes(judge), TH_EVAL_MAX_CLASSES);
    return TH_OK;
}

static int check_inputs(const th_judge *judge, const th_samples *s, const th_dataset *train,
                        const th_dataset *test, const th_judge *second)
{
    int rc = check_judge(judge, "first");
    if (rc == TH_OK && second) rc = check_judge(second, "second");
    if (rc != TH_OK) return rc;
    const size_t classes = th_judge_classes(judge);
    if (second && (th_judge_classes(second) != classes || th_judge_inputs(second) != s->n_pix))
        return th__fail(TH_EINVAL, "the second judge takes %zu pixels into %zu classes; the "
                        "first %zu into %zu", th_judge_inputs(second), th_judge_classes(second),
                        th_judge_inputs(judge), classes);
    const size_t pix = th_judge_inputs(judge);
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
    if (judge->cnn && (train->rows != judge->cnn->shape.rows ||
                       test->rows != judge->cnn->shape.rows))
        return th__fail(TH_EINVAL, "images of %zu x %zu pixels; the judge takes %zu x %zu",
                        train->rows, train->cols, judge->cnn->shape.rows, judge->cnn->shape.cols);
    if (!test->labels)
        return th__fail(TH_EINVAL, "the test images have no labels to check the judge against");
    if (s->classes)
        for (size_t i = 0; i < s->count; i++)
            if (s->classes[i] < -1 || s->classes[i] >= (int)classes)
                return th__fail(TH_EINVAL, "sample %zu asks for class %d; the judge has classes "
                                "0 to %zu", i, s->classes[i], classes - 1);
    return TH_OK;
}

/* A judge's verdict on n samples from its classes pred: the histogram and
 * its entropy, and where classes were asked for, the granted counts and
 * the mean over asked classes of the share granted. */
static void verdict(const int *pred, size_t n, size_t classes, const int *asked,
                    size_t *predicted, double *entropy_share, size_t *requested, size_t *granted,
                    double *conditional, size_t *unconditional, int *has_classes)
{
    for (size_t i = 0; i < n; i++) predicted[pred[i]]++;
    *entropy_share = classes > 1 ? th_entropy_counts(predicted, classes) / log((double)classes)
                                 : 0.0;
    if (!asked) return;
    size_t unasked = 0;
    for (size_t i = 0; i < n; i++) {
        if (asked[i] < 0) {
            unasked++;
            continue;
        }
        requested[asked[i]]++;
        granted[asked[i]] += pred[i] == asked[i];
    }
    size_t count = 0;
    double sum = 0;
    for (size_t c = 0; c < classes; c++)
        if (requested[c]) {
            count++;
            sum += (double)granted[c] / (double)requested[c];
        }
    *conditional = count ? sum / (double)count : 0.0;
    if (unconditional) *unconditional = unasked;
    if (has_classes) *has_classes = count > 0;
}

/* The judge's accuracy on the prepared test images Xtest; features (may be
 * NULL) and logits (test->count, classes) are its outputs. */
static int test_accuracy(const th_judge *judge, const float *Xtest, const th_dataset *test,
                         float *features, float *logits, int *pred, double *accuracy)
{
    int rc = th_judge_forward(judge, Xtest, test->count, logits, features);
    if (rc != TH_OK) return rc;
    th_argmax_rows(logits, test->count, th_judge_classes(judge), pred);
    size_t hits = 0;
    for (size_t i = 0; i < test->count; i++) hits += pred[i] == (int)test->labels[i];
    *accuracy = (double)hits / (double)test->count;
    return TH_OK;
}

/* The second judge's verdict beside the first's (pred1). */
static int second_opinion(const th_judge *second, const float *X, const th_samples *s,
                          const float *Xtest, const th_dataset *test, const int *pred1,
                          float *logits, float *tlogits, int *pred, int *tpred,
                          th_eval_report *out)
{
    const size_t n = s->count, classes = out->n_classes;
    int rc = th_judge_forward(second, X, n, logits, NULL);
    if (rc != TH_OK) return rc;
    th_argmax_rows(logits, n, classes, pred);
    size_t requested[TH_EVAL_MAX_CLASSES] = {0}, same = 0;
    verdict(pred, n, classes, s->classes, out->second_predicted, &out->second_entropy_share,
            requested, out->second_granted, &out->second_conditional_accuracy, NULL, NULL);
    for (size_t i = 0; i < n; i++) same += pred[i] == pred1[i];
    out->agreement = (double)same / (double)n;
    if (out->has_classes) {
        out->disagreement =
            100 * fabs(out->conditional_accuracy - out->second_conditional_accuracy);
    } else {
        double tv = 0;
        for (size_t c = 0; c < classes; c++)
            tv += fabs((double)out->predicted[c] - (double)out->second_predicted[c]);
        out->disagreement = 50 * tv / (double)n;
    }
    out->disagree = out->disagreement > TH_EVAL_DISAGREE;
    out->has_second = 1;
    return test_accuracy(second, Xtest, test, NULL, tlogits, tpred, &out->second_accuracy);
}

/* The diversity of the first per_class images of each class of X after
 * th_image_blur3 (only those are blurred: the training set is large). */
static int blurred_diversity(const float *X, size_t n, const int *lab, size_t classes,
                             size_t per_class, size_t rows, size_t cols, double *out)
{
    const size_t pix = rows * cols;
    size_t *taken = th__alloc(classes * sizeof(size_t));
    size_t *pick = th__alloc((n ? n : 1) * sizeof(size_t));
    float *sel = NULL, *blur = NULL;
    int *sel_lab = th__alloc((n ? n : 1) * sizeof(int));
    size_t m = 0;
    int rc = TH_ENOMEM;
    if (!taken || !pick || !sel_lab) goto done;
    memset(taken, 0, classes * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        if (lab[i] >= 0 && (size_t)lab[i] < classes && taken[lab[i]] < per_class) {
            taken[lab[i]]++;
            sel_lab[m] = lab[i];
            pick[m++] = i;
        }
    sel = th__alloc((m ? m : 1) * pix * sizeof(float));
    blur = th__alloc((m ? m : 1) * pix * sizeof(float));
    if (!sel || !blur) goto done;
    for (size_t j = 0; j < m; j++) memcpy(sel + j * pix, X + pick[j] * pix, pix * sizeof(float));
    th_image_blur3(sel, m, rows, cols, blur);
    rc = th_class_diversity(blur, m, pix, sel_lab, classes, per_class, out, NULL);
done:
    if (rc == TH_ENOMEM) th__fail(TH_ENOMEM, "out of memory for the blurred diversity");
    if (rc == TH_EINVAL) *out = NAN;
    th__free(taken);
    th__free(pick);
    th__free(sel_lab);
    th__free(sel);
    th__free(blur);
    return rc == TH_ENOMEM ? rc : TH_OK;
}

/* Diversity of the samples (by the class asked for, else the judge's) and
 * of the real training images, plain and blurred (square images); NaN where
 * no class has two images. */
static int diversities(const float *X, const th_samples *s, const int *pred,
                       const float *Xtrain, const th_dataset *train, size_t per_class,
                       th_eval_report *out)
{
    const size_t n = s->count, pix = s->n_pix, classes = out->n_classes;
    const size_t n_train = train->labels ? train->count : 0;
    int *lab = th__alloc((n > n_train ? n : n_train) * sizeof(int));
    if (!lab) return th__fail(TH_ENOMEM, "out of memory for %zu labels", n);
    out->diversity_count = per_class;
    for (size_t i = 0; i < n; i++) {
        const int asked = s->classes ? s->classes[i] : -1;
        lab[i] = asked >= 0 ? asked : pred[i];
        out->diversity_by_judge |= asked < 0;
    }
    int rc = th_class_diversity(X, n, pix, lab, classes, per_class, &out->diversity,
                                out->class_diversity);
    if (rc == TH_EINVAL) out->diversity = NAN; /* no class with two samples */
    const size_t rows = train->rows, cols = train->cols;
    const int blurs = rows * cols == pix && rows >= 3 && cols >= 3;
    out->diversity_blur = out->diversity_blur_real = NAN;
    if (rc != TH_ENOMEM && blurs)
        rc = blurred_diversity(X, n, lab, classes, per_class, rows, cols, &out->diversity_blur);
    out->diversity_real = NAN;
    for (size_t c = 0; c < classes; c++) out->class_diversity_real[c] = NAN;
    if (rc != TH_ENOMEM && n_train) {
        for (size_t i = 0; i < n_train; i++) lab[i] = train->labels[i];
        rc = th_class_diversity(Xtrain, n_train, pix, lab, classes, per_class,
                                &out->diversity_real, out->class_diversity_real);
        if (rc == TH_EINVAL) out->diversity_real = NAN;
        if (rc != TH_ENOMEM && blurs)
            rc = blurred_diversity(Xtrain, n_train, lab, classes, per_class, rows, cols,
                                   &out->diversity_blur_real);
    }
    th__free(lab);
    return rc == TH_ENOMEM ? rc : TH_OK;
}

int th_eval_samples(const th_judge *judge, const th_samples *s, const th_dataset *train,
                    const th_dataset *test, const th_eval_params *p, th_eval_report *out)
{
    TH_ASSERT(judge && s && train && test && p && out);
    int rc = check_inputs(judge, s, train, test, p->second);
    if (rc != TH_OK) return rc;
    memset(out, 0, sizeof *out);
    const size_t n = s->count, pix = th_judge_inputs(judge);
    const size_t classes = th_judge_classes(judge), fd = th_judge_features(judge);
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
    int *pred = th__alloc(n * sizeof(int)), *pred2 = th__alloc(n * sizeof(int));
    int *tpred = th__alloc(test->count * sizeof(int));
    double *ms = th__alloc(fd * sizeof(double)), *mt = th__alloc(fd * sizeof(double));
    double *mr = th__alloc(fd * sizeof(double));
    double *Ss = th__alloc(fd * fd * sizeof(double)), *St = th__alloc(fd * fd * sizeof(double));
    double *Sr = th__alloc(fd * fd * sizeof(double));
    double *dist = th__alloc(n * sizeof(double)), *rdist = th__alloc(n_ref_test * sizeof(double));
    if (!X || !logits || !Fs || !Ft || !Fr || !Xtrain || !Xtest || !tlogits || !pred || !pred2 ||
        !tpred || !ms || !mt || !mr || !Ss || !St || !Sr || !dist || !rdist) {
        rc = th__fail(TH_ENOMEM, "out of memory evaluating %zu samples against %zu training "
                      "images", n, train->count);
        goto done;
    }

    /* contrast, then the judge's inputs */
    memcpy(X, s->images, n * pix * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        float *x = X + i * pix;
        if (th_image_inverted(x, train->rows, train->cols)) {
            out->inverted++;
            if (p->uninvert)
                for (size_t k = 0; k < pix; k++) x[k] = -x[k];
        }
        th__standardise_floats(x, pix);
    }
    out->inverted_share = (double)out->inverted / (double)n;

    /* what the judge sees */
    rc = th_judge_forward(judge, X, n, logits, Fs);
    if (rc != TH_OK) goto done;
    th_argmax_rows(logits, n, classes, pred);
    verdict(pred, n, classes, s->classes, out->predicted, &out->entropy_share, out->requested,
            out->granted, &out->conditional_accuracy, &out->unconditional, &out->has_classes);
    out->entropy = th_entropy_counts(out->predicted, classes);
    for (size_t i = 0; s->classes && i < n; i++)
        if (s->classes[i] >= 0) out->confusion[s->classes[i]][pred[i]]++;

    /* real images through the same judge */
    th__standardise_images(test, 0, test->count, Xtest);
    th__standardise_images(train, 0, train->count, Xtrain);
    rc = test_accuracy(judge, Xtest, test, Ft, tlogits, tpred, &out->judge_accuracy);
    if (rc == TH_OK) rc = th_judge_forward(judge, Xtrain, n_ref, NULL, Fr);
    if (rc == TH_OK && p->second)
        rc = second_opinion(p->second, X, s, Xtest, test, pred, logits, tlogits, pred2, tpred,
                            out);
    if (rc == TH_OK)
        rc = diversities(X, s, pred, Xtrain, train,
                         p->diversity_count ? p->diversity_count : 100, out);
    if (rc != TH_OK) goto done;

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
    th__free(pred2);
    th__free(tpred);
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
