/* plot.c - a log-log line chart on a th_canvas, with decade labels in a
 * 3 x 5 pixel font drawn at twice its size: enough text to read an error
 * against time off a picture, no font library needed.
 *
 * Layout, in pixels: LEFT columns for the y labels, BOTTOM rows for the x
 * labels, PAD elsewhere; both axes span whole decades around the data, with
 * a light grid line at every decade and short ticks at 2..9 times it. */
#include "core/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEFT 56
#define BOTTOM 28
#define PAD 14
/* Room on the right for half of the last x label. */
#define RIGHT 26
#define GLYPH_SCALE 2
#define MIN_PLOT 40
/* More decades than this would crowd the labels into each other. */
#define MAX_DECADES 40

static const uint8_t BLACK[3] = {0, 0, 0};
static const uint8_t GRID[3] = {225, 225, 225};

/* Glyph rows, 3 bits each, most significant bit on the left. */
static const char GLYPH_CHARS[] = "0123456789e-.+";
static const uint8_t GLYPHS[][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
    {0, 3, 7, 4, 3}, {0, 0, 7, 0, 0}, {0, 0, 0, 0, 2}, {0, 2, 7, 2, 0},
};

static void put(th_canvas *c, long x, long y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || (size_t)x >= c->width || (size_t)y >= c->height) return;
    memcpy(c->rgb + ((size_t)y * c->width + (size_t)x) * 3, rgb, 3);
}

/* Text whose top-left corner is (x, y); unknown characters leave a gap. */
static void draw_text(th_canvas *c, long x, long y, const char *text)
{
    for (const char *p = text; *p; p++, x += 4 * GLYPH_SCALE) {
        const char *at = strchr(GLYPH_CHARS, *p);
        if (!at) continue;
        const uint8_t *g = GLYPHS[at - GLYPH_CHARS];
        for (int row = 0; row < 5; row++)
            for (int col = 0; col < 3; col++)
                if (g[row] & (4 >> col))
                    for (int a = 0; a < GLYPH_SCALE; a++)
                        for (int b = 0; b < GLYPH_SCALE; b++)
                            put(c, x + col * GLYPH_SCALE + b, y + row * GLYPH_SCALE + a, BLACK);
    }
}

static long text_width(const char *text)
{
    return (long)strlen(text) * 4 * GLYPH_SCALE - GLYPH_SCALE;
}

/* A 2 x 2 pen along the segment; dashed: 8 pixels on, 6 off. */
static void draw_line(th_canvas *c, long x0, long y0, long x1, long y1, const uint8_t rgb[3],
                      int dashed, long *dash_phase)
{
    long dx = labs(x1 - x0), dy = -labs(y1 - y0);
    long sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        if (!dashed || (*dash_phase % 14) < 8) {
            put(c, x0, y0, rgb);
            put(c, x0 + 1, y0, rgb);
            put(c, x0, y0 + 1, rgb);
            put(c, x0 + 1, y0 + 1, rgb);
        }
        (*dash_phase)++;
        if (x0 == x1 && y0 == y1) break;
        long e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

static int usable(double x, double y)
{
    return isfinite(x) && isfinite(y) && x > 0.0 && y > 0.0;
}

static void decade_label(int e, char *buf, size_t size)
{
    snprintf(buf, size, "1e%d", e);
}

th_canvas *th_plot_loglog(const th_plot_series *series, size_t n_series, size_t width,
                          size_t height)
{
    TH_ASSERT(series || n_series == 0);
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t s = 0; s < n_series; s++)
        for (size_t k = 0; k < series[s].n; k++) {
            double x = series[s].x[k], y = series[s].y[k];
            if (!usable(x, y)) continue;
            xlo = fmin(xlo, log10(x));
            xhi = fmax(xhi, log10(x));
            ylo = fmin(ylo, log10(y));
            yhi = fmax(yhi, log10(y));
        }
    if (!(xlo <= xhi)) {
        th__fail(TH_EINVAL, "log-log chart: no point with both coordinates finite and > 0");
        return NULL;
    }
    if (width < LEFT + RIGHT + MIN_PLOT || height < BOTTOM + PAD + MIN_PLOT) {
        th__fail(TH_EINVAL, "log-log chart of %zu x %zu pixels: expected at least %d x %d",
                 width, height, LEFT + RIGHT + MIN_PLOT, BOTTOM + PAD + MIN_PLOT);
        return NULL;
    }
    int ex0 = (int)floor(xlo), ex1 = (int)ceil(xhi), ey0 = (int)floor(ylo), ey1 = (int)ceil(yhi);
    if (ex1 == ex0) ex1++;
    if (ey1 == ey0) ey1++;
    if (ex1 - ex0 > MAX_DECADES || ey1 - ey0 > MAX_DECADES) {
        th__fail(TH_EINVAL, "log-log chart: the data span more than %d decades", MAX_DECADES);
        return NULL;
    }
    th_canvas *c = th_canvas_alloc(width, height, 255);
    if (!c) return NULL;
    const long px0 = LEFT, px1 = (long)width - RIGHT, py0 = PAD, py1 = (long)height - BOTTOM;
    const double xs = (double)(px1 - px0) / (ex1 - ex0), ys = (double)(py1 - py0) / (ey1 - ey0);
#define XPIX(lx) (px0 + (long)lround(((lx) - ex0) * xs))
#define YPIX(ly) (py1 - (long)lround(((ly) - ey0) * ys))
    char label[16];
    for (int e = ex0; e <= ex1; e++) {
        long x = XPIX(e);
        for (long y = py0; y <= py1; y++) put(c, x, y, GRID);
        decade_label(e, label, sizeof label);
        draw_text(c, x - text_width(label) / 2, py1 + 8, label);
        for (int m = 2; m <= 9 && e < ex1; m++) {
            long xm = XPIX(e + log10(m));
            for (long y = py1 - 4; y <= py1; y++) put(c, xm, y, BLACK);
        }
    }
    for (int e = ey0; e <= ey1; e++) {
        long y = YPIX(e);
        for (long x = px0; x <= px1; x++) put(c, x, y, GRID);
        decade_label(e, label, sizeof label);
        draw_text(c, px0 - 6 - text_width(label), y - 5, label);
        for (int m = 2; m <= 9 && e < ey1; m++) {
            long ym = YPIX(e + log10(m));
            for (long x = px0; x <= px0 + 4; x++) put(c, x, ym, BLACK);
        }
    }
    for (long y = py0; y <= py1; y++) put(c, px0, y, BLACK);
    for (long x = px0; x <= px1; x++) put(c, x, py1, BLACK);
    for (size_t s = 0; s < n_series; s++) {
        const th_plot_series *S = &series[s];
        long prev_x = 0, prev_y = 0, phase = 0;
        int have_prev = 0;
        for (size_t k = 0; k < S->n; k++) {
            if (!usable(S->x[k], S->y[k])) {
                have_prev = 0;
                continue;
            }
            long x = XPIX(log10(S->x[k])), y = YPIX(log10(S->y[k]));
            if (have_prev) draw_line(c, prev_x, prev_y, x, y, S->rgb, S->dashed, &phase);
            if (S->markers)
                for (long a = -3; a <= 3; a++)
                    for (long b = -3; b <= 3; b++) put(c, x + b, y + a, S->rgb);
            prev_x = x;
            prev_y = y;
            have_prev = 1;
        }
    }
#undef XPIX
#undef YPIX
    return c;
}
