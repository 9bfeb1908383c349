/* nearest.c - which training image a generated sample resembles: the
 * largest |Pearson correlation|, keeping its sign, because the PRL paper's
 * samples include contrast-inverted digits (science.md section 2). */
#include "gen_internal.h"

#include <math.h>

/* Centres x and scales it to unit norm in place-free form: out = (x - mean)
 * / |x - mean|, or all zeros for a constant x. */
static void normalise(const float *x, size_t n, double *out)
{
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += (double)x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        out[i] = (double)x[i] - mean;
        ss += out[i] * out[i];
    }
    const double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
    for (size_t i = 0; i < n; i++) out[i] *= inv;
}

void th_nearest_by_correlation(const float *samples, size_t count, const float *refs,
                               size_t n_refs, size_t n_pix, size_t *best, double *corr)
{
    TH_ASSERT(samples != NULL && refs != NULL && best != NULL && corr != NULL);
    TH_ASSERT(n_refs > 0 && n_pix > 0);
    double *r = th__alloc(n_refs * n_pix * sizeof(double));
    double *x = th__alloc(n_pix * sizeof(double));
    TH_ASSERT(r != NULL && x != NULL);
    for (size_t j = 0; j < n_refs; j++) normalise(refs + j * n_pix, n_pix, r + j * n_pix);
    for (size_t k = 0; k < count; k++) {
        normalise(samples + k * n_pix, n_pix, x);
        best[k] = 0;
        corr[k] = 0;
        for (size_t j = 0; j < n_refs; j++) {
            double c = 0;
            for (size_t i = 0; i < n_pix; i++) c += x[i] * r[j * n_pix + i];
            if (fabs(c) > fabs(corr[k])) {
                corr[k] = c;
                best[k] = j;
            }
        }
    }
    th__free(r);
    th__free(x);
}
