/* chart.c - a bar chart of a histogram on a th_canvas, without text: the
 * report states the range and the bins in words, the picture shows the
 * shape (one peak or two, a tail, samples below zero).
 *
 * Layout, in pixels: a margin of MARGIN on the left, right and top and of
 * MARGIN + TICK at the bottom; the plot area inside; the y axis one column
 * left of it and the x axis on its bottom row; bin k spans the columns
 * x0 + plot_w * k / n_bins up to (not including) x0 + plot_w * (k + 1) / n_bins,
 * less one column of white between bars when a bar is at least 3 wide. */
#include "core/internal.h"

#include <math.h>

#define MARGIN 12
#define TICK 4
/* A plot must be at least this tall to show bars of different heights. */
#define MIN_PLOT_HEIGHT 8

static const uint8_t BLACK[3] = {0, 0, 0};
static const uint8_t STEEL_BLUE[3] = {70, 130, 180}; /* CSS steelblue, #4682b4 */
static const uint8_t MARK_FIRST[3] = {200, 30, 30};
static const uint8_t MARK_OTHER[3] = {80, 80, 80};

static void put(th_canvas *c, size_t x, size_t y, const uint8_t rgb[3])
{
    uint8_t *p = c->rgb + (y * c->width + x) * 3;
    p[0] = rgb[0];
    p[1] = rgb[1];
    p[2] = rgb[2];
}

/* Column of the left edge of bin k. */
static size_t edge_column(size_t x0, size_t plot_w, size_t k, size_t n_bins)
{
    return x0 + (size_t)((double)plot_w * (double)k / (double)n_bins);
}

th_canvas *th_picture_histogram(const size_t *counts, size_t n_bins, double lo, double hi,
                                const double *marks, size_t n_marks, size_t width,
                                size_t height)
{
    TH_ASSERT(counts != NULL && (marks != NULL || n_marks == 0));
    if (n_bins == 0) {
        th__fail(TH_EINVAL, "histogram of 0 bins: expected at least 1");
        return NULL;
    }
    if (!(isfinite(lo) && isfinite(hi) && lo < hi)) {
        th__fail(TH_EINVAL, "histogram range [%g, %g]: expected finite lo < hi", lo, hi);
        return NULL;
    }
    if (width < 2 * MARGIN + n_bins || height < 2 * MARGIN + TICK + MIN_PLOT_HEIGHT) {
        th__fail(TH_EINVAL, "a %zu x %zu chart cannot show %zu bins: expected at least "
                 "%zu x %d pixels", width, height, n_bins, 2 * MARGIN + n_bins,
                 2 * MARGIN + TICK + MIN_PLOT_HEIGHT);
        return NULL;
    }
    th_canvas *c = th_canvas_alloc(width, height, 255); /* white */
    if (!c) return NULL;

    const size_t x0 = MARGIN, plot_w = width - 2 * MARGIN;
    const size_t y0 = MARGIN, y_axis = height - MARGIN - TICK - 1; /* x axis row */
    const size_t plot_h = y_axis - y0;                              /* rows above it */
    size_t top = 0;
    for (size_t k = 0; k < n_bins; k++) top = counts[k] > top ? counts[k] : top;

    for (size_t k = 0; k < n_bins && top > 0; k++) {
        if (counts[k] == 0) continue;
        size_t a = edge_column(x0, plot_w, k, n_bins), b = edge_column(x0, plot_w, k + 1, n_bins);
        if (b - a >= 3) b--; /* a white column between neighbours */
        /* Rounded to the nearest row, but a bin with any count shows. */
        size_t h = (size_t)((double)counts[k] * (double)plot_h / (double)top + 0.5);
        if (h == 0) h = 1;
        for (size_t y = y_axis - h; y < y_axis; y++)
            for (size_t x = a; x < b; x++) put(c, x, y, STEEL_BLUE);
    }
    for (size_t j = 0; j < n_marks; j++) {
        if (!(marks[j] >= lo && marks[j] <= hi)) continue;
        size_t x = x0 + (size_t)((marks[j] - lo) / (hi - lo) * (double)plot_w);
        if (x >= x0 + plot_w - 1) x = x0 + plot_w - 2;
        for (size_t y = y0; y < y_axis; y++) {
            put(c, x, y, j == 0 ? MARK_FIRST : MARK_OTHER);
            put(c, x + 1, y, j == 0 ? MARK_FIRST : MARK_OTHER);
        }
    }
    for (size_t x = x0 - 1; x < x0 + plot_w; x++) put(c, x, y_axis, BLACK);
    for (size_t y = y0; y <= y_axis; y++) put(c, x0 - 1, y, BLACK);
    for (size_t k = 0; k <= n_bins; k++) {
        size_t x = k == n_bins ? x0 + plot_w - 1 : edge_column(x0, plot_w, k, n_bins);
        for (size_t y = y_axis + 1; y <= y_axis + TICK; y++) put(c, x, y, BLACK);
    }
    return c;
}
