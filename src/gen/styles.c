/* styles.c - style codes: each class of a conditional generator split into K
 * styles, each with its own label unit.
 *
 * Why (issue 18, README "Style codes"): a conditional computer with one label
 * unit per class samples around one class template; its samples vary only
 * along the directions the couplings open and do not choose among the
 * distinct ways a digit is written, so their Frechet distance stayed 15x its
 * floor. Splitting every class into K clusters of its training images, each
 * with its own clamped code, lets the same physics hold K templates per
 * class, and sampling first draws a style, then runs the computer: a mixture
 * of conditional computers sharing their couplings.
 *
 * The clusters are balanced k-means (sizes floor(n_c / K) or that plus one),
 * so that the mixture's prior over styles is uniform and matches the
 * training images; a sample's style is then one Philox word of its own index,
 * the same for any batch, thread or rank. Everything is in double, in a fixed
 * order: the clusters, and hence the model, are the same bits on any machine
 * and thread count. */
#include "gen_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lloyd iterations at most; the assignments usually settle within 20. */
#define STYLE_MAX_ITERATIONS 50

size_t th_gen_classes(const th_gen_params *p)
{
    TH_ASSERT(p != NULL);
    return p->styles > 1 ? p->n_classes / p->styles : p->n_classes;
}

int th_gen_style_code(const th_gen_params *p, int cls, uint64_t sample)
{
    TH_ASSERT(p != NULL);
    if (p->styles <= 1) return cls;
    const uint32_t ctr[4] = {(uint32_t)sample, (uint32_t)(sample >> 32),
                             (uint32_t)TH_GEN_STYLE_STREAM,
                             (uint32_t)(TH_GEN_STYLE_STREAM >> 32)};
    const uint32_t key[2] = {(uint32_t)p->seed, (uint32_t)(p->seed >> 32)};
    uint32_t w[4];
    th_philox4x32_10(ctr, key, w);
    /* floor(w K / 2^32): uniform over 0..K-1 up to K / 2^32 */
    const uint32_t style = (uint32_t)(((uint64_t)w[0] * p->styles) >> 32);
    return cls * (int)p->styles + (int)style;
}

/* One candidate pairing of image i with cluster k, ordered by distance, then
 * image, then cluster: a total order, so the greedy assignment below does not
 * depend on qsort's treatment of ties. */
typedef struct style_pair {
    double d;
    uint32_t i, k;
} style_pair;

static int pair_order(const void *a, const void *b)
{
    const style_pair *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

/* Squared distances of the n images of a class (rows of Xc, double, with
 * their squared norms xx) to the K centres: |x|^2 + |c|^2 - 2 x.c, the
 * products by th_matmul_f64 (fixed sums: the same bits for any thread
 * count), into the pairs. G: (n, K) scratch. */
static void style_distances(const double *Xc, const double *xx, size_t nv, size_t n,
                            const double *centre, size_t K, double *G, style_pair *pairs)
{
    th_matmul_f64(0, 1, n, K, nv, 1.0, Xc, nv, centre, nv, 0.0, G, K);
    for (size_t k = 0; k < K; k++) {
        double cc = 0;
        for (size_t j = 0; j < nv; j++) cc += centre[k * nv + j] * centre[k * nv + j];
        for (size_t i = 0; i < n; i++)
            pairs[i * K + k] = (style_pair){xx[i] + cc - 2 * G[i * K + k], (uint32_t)i,
                                            (uint32_t)k};
    }
}

/* k-means++ seeding (Arthur and Vassilvitskii 2007): the first centre a
 * uniformly drawn image, each next one an image drawn with probability
 * proportional to its squared distance to the nearest centre so far. */
static void style_seed(const double *Xc, size_t nv, size_t n, size_t K, th_rng *rng,
                       double *centre, double *nearest)
{
    size_t pick = (size_t)(th_rng_uniform(rng) * (double)n);
    for (size_t k = 0; k < K; k++) {
        if (pick >= n) pick = n - 1;
        for (size_t j = 0; j < nv; j++) centre[k * nv + j] = Xc[pick * nv + j];
        double total = 0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < nv; j++) {
                const double e = Xc[i * nv + j] - centre[k * nv + j];
                s += e * e;
            }
            if (k == 0 || s < nearest[i]) nearest[i] = s;
            total += nearest[i];
        }
        /* the next centre: the image where the running sum of the squared
         * distances passes a uniform fraction of the total */
        const double target = th_rng_uniform(rng) * total;
        double run = 0;
        pick = n - 1;
        for (size_t i = 0; i < n; i++) {
            run += nearest[i];
            if (run > target) {
                pick = i;
                break;
            }
        }
    }
}

/* Balanced Lloyd iterations for the n images of one class (rows of Xc):
 * each round assigns the pairs greedily from the nearest, every cluster
 * taking at most its capacity (n / K, the first n mod K clusters one more),
 * then moves the centres to their clusters' means; stops when no assignment
 * changes. */
static void style_cluster(const double *Xc, const double *xx, size_t nv, size_t n, size_t K,
                          double *centre, double *G, style_pair *pairs, size_t *cap,
                          int *assign)
{
    for (size_t i = 0; i < n; i++) assign[i] = -1;
    for (int it = 0; it < STYLE_MAX_ITERATIONS; it++) {
        style_distances(Xc, xx, nv, n, centre, K, G, pairs);
        qsort(pairs, n * K, sizeof *pairs, pair_order);
        for (size_t k = 0; k < K; k++) cap[k] = n / K + (k < n % K);
        int changed = 0;
        size_t placed = 0;
        /* this round's assignments, in the second half of assign's
         * storage, so that a change can be seen */
        int *next = assign + n;
        for (size_t i = 0; i < n; i++) next[i] = -1;
        for (size_t q = 0; q < n * K && placed < n; q++) {
            const style_pair *e = &pairs[q];
            if (next[e->i] >= 0 || cap[e->k] == 0) continue;
            next[e->i] = (int)e->k;
            cap[e->k]--;
            placed++;
        }
        for (size_t i = 0; i < n; i++) {
            changed |= next[i] != assign[i];
            assign[i] = next[i];
        }
        memset(centre, 0, K * nv * sizeof *centre);
        for (size_t k = 0; k < K; k++) cap[k] = 0;
        for (size_t i = 0; i < n; i++) {
            double *c = centre + (size_t)assign[i] * nv;
            for (size_t j = 0; j < nv; j++) c[j] += Xc[i * nv + j];
            cap[assign[i]]++;
        }
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < nv; j++) centre[k * nv + j] /= (double)cap[k];
        if (!changed) break;
    }
}

int th_gen_training_set_styles(th_gen_training_set *ts, size_t styles, uint64_t seed)
{
    TH_ASSERT(ts != NULL);
    if (styles <= 1) return TH_OK;
    if (!ts->labels || !ts->n_classes)
        return th__fail(TH_EINVAL, "styles = %zu: style codes need a conditional training set "
                        "(labels)", styles);
    if (ts->styles > 1)
        return th__fail(TH_EINVAL, "styles = %zu: the training set already has %zu styles a "
                        "class", styles, ts->styles);
    if (styles > TH_GEN_MAX_LABELS / ts->n_classes)
        return th__fail(TH_EINVAL, "styles = %zu: %zu classes x %zu styles exceeds the %d "
                        "label units supported", styles, ts->n_classes, styles,
                        TH_GEN_MAX_LABELS);
    const size_t n = ts->count, nv = ts->rows * ts->cols, C = ts->n_classes, K = styles;
    size_t *idx = th__alloc(n * sizeof *idx);
    int *assign = th__alloc(2 * n * sizeof *assign);
    int *codes = th__alloc(n * sizeof *codes);
    style_pair *pairs = th__alloc(n * K * sizeof *pairs);
    double *centre = th__alloc(K * nv * sizeof *centre);
    double *nearest = th__alloc(n * sizeof *nearest);
    size_t *cap = th__alloc(K * sizeof *cap);
    size_t largest = 0; /* the most images of one class */
    for (size_t c = 0; c < C; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) m += (size_t)ts->labels[i] == c;
        if (m > largest) largest = m;
    }
    double *Xc = th__alloc(largest * nv * sizeof *Xc);
    double *xx = th__alloc(largest * sizeof *xx);
    double *G = th__alloc(largest * K * sizeof *G);
    int rc = TH_OK;
    if (!idx || !assign || !codes || !pairs || !centre || !nearest || !cap || !Xc || !xx || !G) {
        rc = th__fail(TH_ENOMEM, "out of memory for %zu styles of %zu images", K, n);
        goto done;
    }
    for (size_t c = 0; c < C; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)ts->labels[i] == c) idx[m++] = i;
        if (m < K) {
            rc = th__fail(TH_EINVAL, "styles = %zu: class %zu has only %zu training images; "
                          "expected at least one a style", K, c, m);
            goto done;
        }
        for (size_t i = 0; i < m; i++) {
            double q = 0;
            for (size_t j = 0; j < nv; j++) {
                Xc[i * nv + j] = (double)ts->images[idx[i] * nv + j];
                q += Xc[i * nv + j] * Xc[i * nv + j];
            }
            xx[i] = q;
        }
        th_rng rng;
        th_rng_init(&rng, seed, TH_GEN_STYLE_STREAM + c);
        style_seed(Xc, nv, m, K, &rng, centre, nearest);
        style_cluster(Xc, xx, nv, m, K, centre, G, pairs, cap, assign);
        for (size_t i = 0; i < m; i++) codes[idx[i]] = (int)(c * K) + assign[i];
    }
    memcpy(ts->labels, codes, n * sizeof *codes);
    ts->n_classes = C * K;
    ts->styles = K;
done:
    th__free(idx);
    th__free(assign);
    th__free(codes);
    th__free(pairs);
    th__free(centre);
    th__free(nearest);
    th__free(cap);
    th__free(Xc);
    th__free(xx);
    th__free(G);
    return rc;
}
