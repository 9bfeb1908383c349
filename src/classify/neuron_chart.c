/* neuron_chart.c - loss and fit curves as a chart of the io chart module
 * (th_chart_draw), without text: the tool states the ranges in words; the
 * picture shows the shape (where a loss curve has its minimum, how a
 * network's output follows its target). */
#include "core/internal.h"

#include <math.h>
#include <stdlib.h>

#define N_TICKS 5
#define N_COLOURS 5

/* Steel blue, red, green, orange, purple: told apart also by most readers
 * with red-green colour blindness through their lightness. */
static const uint8_t COLOURS[N_COLOURS][3] = {
    {70, 130, 180}, {200, 30, 30}, {30, 140, 60}, {240, 150, 20}, {120, 60, 160}};
static const uint8_t ZERO_LINE[3] = {150, 150, 150};
static const uint8_t MARK[3] = {110, 110, 110};

th_canvas *th_picture_curves(const double *x, const double *ys, size_t n_curves,
                             size_t n_points, const double *marks, size_t n_marks,
                             size_t width, size_t height)
{
    TH_ASSERT(x != NULL && ys != NULL && (marks != NULL || n_marks == 0));
    if (n_curves == 0 || n_points < 2) {
        th__fail(TH_EINVAL, "a chart of %zu curves of %zu points: expected at least 1 curve "
                 "of 2 points", n_curves, n_points);
        return NULL;
    }
    for (size_t k = 0; k < n_points; k++)
        if (!isfinite(x[k]) || (k > 0 && !(x[k] > x[k - 1]))) {
            th__fail(TH_EINVAL, "chart x[%zu] = %g: expected finite, ascending values", k, x[k]);
            return NULL;
        }
    /* Curves, then the zero line and the marks behind them. */
    th_chart_series *ser = calloc(n_curves + 2, sizeof *ser);
    if (!ser) {
        th__fail(TH_ENOMEM, "a chart of %zu curves: out of memory", n_curves);
        return NULL;
    }
    const double zero = 0.0;
    ser[0] = (th_chart_series){.kind = TH_CHART_HLINE, .y = &zero, .n = 1, .pen = 1,
                               .rgb = {ZERO_LINE[0], ZERO_LINE[1], ZERO_LINE[2]}};
    ser[1] = (th_chart_series){.kind = TH_CHART_VLINE, .x = marks, .n = n_marks, .dashed = 1,
                               .rgb = {MARK[0], MARK[1], MARK[2]}};
    for (size_t s = 0; s < n_curves; s++) {
        const uint8_t *rgb = COLOURS[s % N_COLOURS];
        ser[s + 2] = (th_chart_series){.kind = TH_CHART_LINE, .x = x, .y = ys + s * n_points,
                                       .n = n_points, .rgb = {rgb[0], rgb[1], rgb[2]}};
    }
    const th_chart ch = {
        .width = width, .height = height,
        .x = {.scale = TH_CHART_LINEAR, .fixed = 1, .lo = x[0], .hi = x[n_points - 1],
              .ticks = N_TICKS},
        .y = {.scale = TH_CHART_LINEAR, .pad = 0.05, .ticks = N_TICKS},
        .series = ser, .n_series = n_curves + 2,
    };
    th_canvas *c = th_chart_draw(&ch);
    free(ser);
    return c;
}
