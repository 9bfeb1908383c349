/* neuron_chart.c - a line chart on a th_canvas, without text (the tool
 * states the ranges in words; the picture shows the shape: where a loss
 * curve has its minimum, how a network's output follows its target).
 *
 * Layout, in pixels: a margin of MARGIN on the right and top and of
 * MARGIN + TICK on the left and bottom; the plot area inside it; the axes one
 * pixel outside the plot area. Curves are drawn 2 pixels thick by stepping
 * along each segment in sub-pixel steps. */
#include "core/internal.h"

#include <math.h>

#define MARGIN 14
#define TICK 4
#define N_TICKS 5
#define MIN_PLOT 16

static const uint8_t BLACK[3] = {0, 0, 0};
static const uint8_t ZERO_LINE[3] = {150, 150, 150};
static const uint8_t MARK[3] = {110, 110, 110};
/* Steel blue, red, green, orange, purple: told apart also by most readers
 * with red-green colour blindness through their lightness. */
static const uint8_t COLOURS[5][3] = {
    {70, 130, 180}, {200, 30, 30}, {30, 140, 60}, {240, 150, 20}, {120, 60, 160}};

static void put(th_canvas *c, long x, long y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || (size_t)x >= c->width || (size_t)y >= c->height) return;
    uint8_t *p = c->rgb + ((size_t)y * c->width + (size_t)x) * 3;
    p[0] = rgb[0];
    p[1] = rgb[1];
    p[2] = rgb[2];
}

typedef struct frame {
    double x_lo, x_hi, y_lo, y_hi;
    long left, right, top, bottom; /* plot area, inclusive */
} frame;

static double col(const frame *f, double x)
{
    return (double)f->left + (x - f->x_lo) / (f->x_hi - f->x_lo) * (double)(f->right - f->left);
}

static double row(const frame *f, double y)
{
    return (double)f->bottom - (y - f->y_lo) / (f->y_hi - f->y_lo) * (double)(f->bottom - f->top);
}

/* A 2-pixel line from (x0, y0) to (x1, y1) in canvas coordinates. */
static void segment(th_canvas *c, double x0, double y0, double x1, double y1,
                    const uint8_t rgb[3])
{
    const double len = fmax(fabs(x1 - x0), fabs(y1 - y0));
    const long n = (long)ceil(len * 2) + 1;
    for (long k = 0; k <= n; k++) {
        const double t = (double)k / (double)n;
        const long x = lround(x0 + t * (x1 - x0)), y = lround(y0 + t * (y1 - y0));
        put(c, x, y, rgb);
        put(c, x + 1, y, rgb);
        put(c, x, y + 1, rgb);
    }
}

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
    if (width < 2 * MARGIN + TICK + MIN_PLOT || height < 2 * MARGIN + TICK + MIN_PLOT) {
        th__fail(TH_EINVAL, "a %zu x %zu chart: expected at least %d x %d pixels", width, height,
                 2 * MARGIN + TICK + MIN_PLOT, 2 * MARGIN + TICK + MIN_PLOT);
        return NULL;
    }
    for (size_t k = 0; k < n_points; k++)
        if (!isfinite(x[k]) || (k > 0 && !(x[k] > x[k - 1]))) {
            th__fail(TH_EINVAL, "chart x[%zu] = %g: expected finite, ascending values", k, x[k]);
            return NULL;
        }
    frame f = {.x_lo = x[0], .x_hi = x[n_points - 1], .y_lo = INFINITY, .y_hi = -INFINITY};
    for (size_t k = 0; k < n_curves * n_points; k++)
        if (isfinite(ys[k])) {
            f.y_lo = fmin(f.y_lo, ys[k]);
            f.y_hi = fmax(f.y_hi, ys[k]);
        }
    if (!(f.y_lo <= f.y_hi)) {
        th__fail(TH_EINVAL, "a chart of curves without a finite value");
        return NULL;
    }
    if (f.y_hi - f.y_lo < 1e-12 * fmax(1.0, fabs(f.y_hi))) {
        f.y_lo -= 0.5;
        f.y_hi += 0.5;
    }
    const double pad = 0.05 * (f.y_hi - f.y_lo);
    f.y_lo -= pad;
    f.y_hi += pad;
    f.left = MARGIN + TICK + 1;
    f.right = (long)width - MARGIN - 1;
    f.top = MARGIN;
    f.bottom = (long)height - MARGIN - TICK - 2;

    th_canvas *c = th_canvas_alloc(width, height, 255);
    if (!c) return NULL;
    if (f.y_lo < 0 && f.y_hi > 0) {
        const long y0 = lround(row(&f, 0.0));
        for (long xx = f.left; xx <= f.right; xx++) put(c, xx, y0, ZERO_LINE);
    }
    for (size_t m = 0; m < n_marks; m++) {
        if (!(marks[m] >= f.x_lo && marks[m] <= f.x_hi)) continue;
        const long xm = lround(col(&f, marks[m]));
        for (long yy = f.top; yy <= f.bottom; yy++)
            if ((yy / 4) % 2 == 0) { /* dashes of 4 pixels */
                put(c, xm, yy, MARK);
                put(c, xm + 1, yy, MARK);
            }
    }
    for (size_t s = 0; s < n_curves; s++) {
        const double *y = ys + s * n_points;
        for (size_t k = 0; k + 1 < n_points; k++) {
            if (!isfinite(y[k]) || !isfinite(y[k + 1])) continue;
            segment(c, col(&f, x[k]), row(&f, y[k]), col(&f, x[k + 1]), row(&f, y[k + 1]),
                    COLOURS[s % 5]);
        }
    }
    /* Axes and ticks last, so that no curve hides them. */
    for (long xx = f.left - 1; xx <= f.right; xx++) put(c, xx, f.bottom + 1, BLACK);
    for (long yy = f.top; yy <= f.bottom + 1; yy++) put(c, f.left - 1, yy, BLACK);
    for (int k = 0; k < N_TICKS; k++) {
        const long xt = f.left + (f.right - f.left) * k / (N_TICKS - 1);
        const long yt = f.bottom - (f.bottom - f.top) * k / (N_TICKS - 1);
        for (long d = 1; d <= TICK; d++) {
            put(c, xt, f.bottom + 1 + d, BLACK);
            put(c, f.left - 1 - d, yt, BLACK);
        }
    }
    return c;
}
