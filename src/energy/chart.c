/* chart.c - the heat histogram as a chart of the io chart module
 * (th_chart_draw): bars over the bins, the marks as vertical lines, a tick at
 * every bin edge and no text, since the report states the range and the bins
 * in words and the picture shows the shape (one peak or two, a tail, samples
 * below zero). */
#include "core/internal.h"

#include <math.h>
#include <stdlib.h>

/* The chart module's margins (12) on both sides: each bin needs a column. */
#define SIDE_MARGINS 24

static const uint8_t STEEL_BLUE[3] = {70, 130, 180}; /* CSS steelblue, #4682b4 */
static const uint8_t MARK_FIRST[3] = {200, 30, 30};
static const uint8_t MARK_OTHER[3] = {80, 80, 80};

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
    if (width < SIDE_MARGINS + n_bins) {
        th__fail(TH_EINVAL, "a %zu x %zu chart cannot show %zu bins: expected at least %zu "
                 "pixels across", width, height, n_bins, SIDE_MARGINS + n_bins);
        return NULL;
    }
    double *edges = malloc((n_bins + 1) * sizeof *edges), *heights = malloc(n_bins * sizeof *heights);
    th_chart_series *ser = malloc((n_marks + 1) * sizeof *ser);
    th_canvas *c = NULL;
    if (!edges || !heights || !ser) {
        th__fail(TH_ENOMEM, "histogram of %zu bins: out of memory", n_bins);
        goto done;
    }
    double top = 1.0; /* all bins empty: an empty plot, not a zero range */
    for (size_t k = 0; k < n_bins; k++) {
        heights[k] = (double)counts[k];
        top = fmax(top, heights[k]);
    }
    for (size_t k = 0; k <= n_bins; k++) edges[k] = lo + (hi - lo) * (double)k / (double)n_bins;
    ser[0] = (th_chart_series){.kind = TH_CHART_BARS, .x = edges, .y = heights, .n = n_bins,
                               .rgb = {STEEL_BLUE[0], STEEL_BLUE[1], STEEL_BLUE[2]}};
    for (size_t j = 0; j < n_marks; j++) {
        const uint8_t *rgb = j == 0 ? MARK_FIRST : MARK_OTHER;
        ser[j + 1] = (th_chart_series){.kind = TH_CHART_VLINE, .x = &marks[j], .n = 1,
                                       .rgb = {rgb[0], rgb[1], rgb[2]}};
    }
    const th_chart ch = {
        .width = width, .height = height,
        .x = {.scale = TH_CHART_LINEAR, .fixed = 1, .lo = lo, .hi = hi, .ticks = n_bins + 1},
        .y = {.scale = TH_CHART_LINEAR, .fixed = 1, .lo = 0.0, .hi = top},
        .series = ser, .n_series = n_marks + 1,
    };
    c = th_chart_draw(&ch);
done:
    free(edges);
    free(heights);
    free(ser);
    return c;
}
