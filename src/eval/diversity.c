/* diversity.c - two questions about a set of generated images that a class
 * histogram cannot answer: do the images of one class differ from each
 * other as much as real ones do (within-class diversity), and how many are
 * contrast-inverted (a bright ground, a dark figure)?
 *
 * Diversity is 1 - the mean pairwise Pearson correlation of the standardised
 * images of a class, averaged over the classes: a generator that draws one
 * template per class with thermal noise on top scores far below real data
 * (0.556 for the first 100 training images of each MNIST class, 0.396 for
 * Fashion-MNIST), whatever its classifier accuracy.
 *
 * Inversion is read off the border: real images put their figure on a dark
 * ground that reaches the frame, so the border ring is darker than the
 * image on average; an inverted image has it brighter. The earlier criterion,
 * negative pixel skewness, fails on garments that fill the frame. */
#include "eval/eval_internal.h"

#include <math.h>
#include <string.h>

int th_image_inverted(const float *x, size_t rows, size_t cols)
{
    TH_ASSERT(x != NULL);
    if (rows < 3 || cols < 3) return 0;
    double all = 0, border = 0;
    for (size_t i = 0; i < rows * cols; i++) all += (double)x[i];
    for (size_t c = 0; c < cols; c++) border += (double)x[c] + (double)x[(rows - 1) * cols + c];
    for (size_t r = 1; r + 1 < rows; r++)
        border += (double)x[r * cols] + (double)x[r * cols + cols - 1];
    const size_t ring = 2 * (rows + cols) - 4;
    return border / (double)ring > all / (double)(rows * cols);
}

void th_image_blur3(const float *x, size_t n, size_t rows, size_t cols, float *out)
{
    TH_ASSERT((x != NULL && out != NULL && x != out) || n == 0);
    for (size_t k = 0; k < n; k++) {
        const float *im = x + k * rows * cols;
        float *o = out + k * rows * cols;
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++) {
                double sum = 0;
                for (int dr = -1; dr <= 1; dr++)
                    for (int dc = -1; dc <= 1; dc++) {
                        /* the edge repeated: clamp the index */
                        size_t rr = (size_t)((long)r + dr < 0 ? 0 : (long)r + dr);
                        size_t cc = (size_t)((long)c + dc < 0 ? 0 : (long)c + dc);
                        if (rr >= rows) rr = rows - 1;
                        if (cc >= cols) cc = cols - 1;
                        sum += (double)im[rr * cols + cc];
                    }
                o[r * cols + c] = (float)(sum / 9.0);
            }
    }
}

/* 1 - the mean correlation over pairs of the m standardised rows of Z
 * (m, n_pix), m >= 2. */
static double one_class(const float *Z, size_t m, size_t n_pix)
{
    double sum = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++) {
            const float *a = Z + i * n_pix, *b = Z + j * n_pix;
            double dot = 0;
            for (size_t p = 0; p < n_pix; p++) dot += (double)a[p] * (double)b[p];
            sum += dot / (double)n_pix;
        }
    return 1.0 - sum / ((double)m * (double)(m - 1) / 2.0);
}

int th_class_diversity(const float *X, size_t n, size_t n_pix, const int *labels,
                       size_t n_classes, size_t per_class, double *diversity,
                       double *per_class_out)
{
    TH_ASSERT((X != NULL || n == 0) && labels != NULL && diversity != NULL && n_pix > 0);
    if (per_class < 2) return th__fail(TH_EINVAL, "per_class = %zu: pairs need at least 2",
                                       per_class);
    double *d = th__alloc((n_classes ? n_classes : 1) * sizeof(double));
    if (!d) return th__fail(TH_ENOMEM, "out of memory for the diversity of %zu classes", n_classes);
    int failed = 0;
    /* classes in parallel, each with its own sums: the same result for any
     * thread count */
#pragma omp parallel for schedule(dynamic) if (n_classes > 1 && n * n_pix >= 100000)
    for (size_t c = 0; c < n_classes; c++) {
        float *z = th__alloc(per_class * n_pix * sizeof(float)); /* (per_class, n_pix) */
        size_t m = 0;
        for (size_t i = 0; i < n && m < per_class && z; i++) {
            if (labels[i] != (int)c) continue;
            memcpy(z + m * n_pix, X + i * n_pix, n_pix * sizeof(float));
            th__standardise_floats(z + m * n_pix, n_pix);
            m++;
        }
        if (!z) {
#pragma omp atomic write
            failed = 1;
        }
        d[c] = z && m >= 2 ? one_class(z, m, n_pix) : (double)NAN;
        th__free(z);
    }
    if (failed) {
        th__free(d);
        return th__fail(TH_ENOMEM, "out of memory for the diversity of %zu images a class",
                        per_class);
    }
    size_t counted = 0;
    double sum = 0;
    for (size_t c = 0; c < n_classes; c++) {
        if (per_class_out) per_class_out[c] = d[c];
        if (!isnan(d[c])) {
            sum += d[c];
            counted++;
        }
    }
    th__free(d);
    if (!counted)
        return th__fail(TH_EINVAL, "no class has two images: diversity needs pairs");
    *diversity = sum / (double)counted;
    return TH_OK;
}
