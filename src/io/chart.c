/* chart.c - the one chart module: every chart thermo draws (error against
 * time, heat histograms, loss and fit curves) is laid out and drawn here, so
 * that they share one font, one pen, one set of axes.
 *
 * Layout, in pixels: a margin of MARGIN around everything; on the left, from
 * the outside in, the y axis title (rotated), the y numbers and the y ticks;
 * below the plot the x ticks, numbers and title; the title above. The axes
 * lie one pixel outside the plot area, so that a bar or a line at the
 * range's edge never covers them; they are drawn last for the same reason. */
#include "core/internal.h"

#include <math.h>
#include <string.h>

#define MARGIN 12
#define TICK 4
#define MINOR_TICK 2
#define GLYPH_W 5
#define GLYPH_H 7
#define ADVANCE 6 /* glyph and one column of space */
#define DESCENT 2
#define DESCENDERS "gpqy"
#define MIN_PLOT 8
#define MAX_DECADES 40
#define MAX_TICKS 64
#define LABEL_LEN 24
#define DASH_ON 8
#define DASH_PERIOD 14
#define LEGEND_SAMPLE 24

static const uint8_t BLACK[3] = {0, 0, 0};
static const uint8_t WHITE[3] = {255, 255, 255};
static const uint8_t GRID[3] = {225, 225, 225};
static const uint8_t FRAME_GREY[3] = {160, 160, 160};

/* ----------------------------------------------------------------- font */

/* 5 x 7 glyphs, one byte per row, bit 4 the leftmost column, for the
 * characters in GLYPH_CHARS; others leave a blank cell. The letters with a
 * descender (DESCENDERS) are drawn DESCENT rows lower, so that g and q do
 * not read as 9. */
static const char GLYPH_CHARS[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-.,:+()/=_%^*'[]<>!?";
static const uint8_t GLYPHS[][GLYPH_H] = {
    {14, 17, 19, 21, 25, 17, 14}, {4, 12, 4, 4, 4, 4, 14},      {14, 17, 1, 2, 4, 8, 31},
    {31, 2, 4, 2, 1, 17, 14},     {2, 6, 10, 18, 31, 2, 2},     {31, 16, 30, 1, 1, 17, 14},
    {6, 8, 16, 30, 17, 17, 14},   {31, 1, 2, 4, 8, 8, 8},       {14, 17, 17, 14, 17, 17, 14},
    {14, 17, 17, 15, 1, 2, 12},
    /* A-Z */
    {14, 17, 17, 17, 31, 17, 17}, {30, 17, 17, 30, 17, 17, 30}, {14, 17, 16, 16, 16, 17, 14},
    {28, 18, 17, 17, 17, 18, 28}, {31, 16, 16, 30, 16, 16, 31}, {31, 16, 16, 30, 16, 16, 16},
    {14, 17, 16, 23, 17, 17, 15}, {17, 17, 17, 31, 17, 17, 17}, {14, 4, 4, 4, 4, 4, 14},
    {7, 2, 2, 2, 2, 18, 12},      {17, 18, 20, 24, 20, 18, 17}, {16, 16, 16, 16, 16, 16, 31},
    {17, 27, 21, 21, 17, 17, 17}, {17, 17, 25, 21, 19, 17, 17}, {14, 17, 17, 17, 17, 17, 14},
    {30, 17, 17, 30, 16, 16, 16}, {14, 17, 17, 17, 21, 18, 13}, {30, 17, 17, 30, 20, 18, 17},
    {15, 16, 16, 14, 1, 1, 30},   {31, 4, 4, 4, 4, 4, 4},       {17, 17, 17, 17, 17, 17, 14},
    {17, 17, 17, 17, 17, 10, 4},  {17, 17, 17, 21, 21, 21, 10}, {17, 17, 10, 4, 10, 17, 17},
    {17, 17, 17, 10, 4, 4, 4},    {31, 1, 2, 4, 8, 16, 31},
    /* a-z */
    {0, 0, 14, 1, 15, 17, 15},    {16, 16, 22, 25, 17, 17, 30}, {0, 0, 14, 16, 16, 17, 14},
    {1, 1, 13, 19, 17, 17, 15},   {0, 0, 14, 17, 31, 16, 14},   {6, 9, 8, 28, 8, 8, 8},
    {15, 17, 17, 15, 1, 17, 14},  {16, 16, 22, 25, 17, 17, 17}, {4, 0, 12, 4, 4, 4, 14},
    {2, 0, 6, 2, 2, 18, 12},      {16, 16, 18, 20, 24, 20, 18}, {12, 4, 4, 4, 4, 4, 14},
    {0, 0, 26, 21, 21, 17, 17},   {0, 0, 22, 25, 17, 17, 17},   {0, 0, 14, 17, 17, 17, 14},
    {30, 17, 17, 30, 16, 16, 16}, {15, 17, 17, 15, 1, 1, 1},     {0, 0, 22, 25, 16, 16, 16},
    {0, 0, 14, 16, 14, 1, 30},    {8, 8, 28, 8, 8, 9, 6},       {0, 0, 17, 17, 17, 19, 13},
    {0, 0, 17, 17, 17, 10, 4},    {0, 0, 17, 17, 21, 21, 10},   {0, 0, 17, 10, 4, 10, 17},
    {17, 17, 17, 15, 1, 17, 14},  {0, 0, 31, 2, 4, 8, 31},
    /* - . , : + ( ) / = _ % ^ * ' [ ] < > ! ? */
    {0, 0, 0, 14, 0, 0, 0},       {0, 0, 0, 0, 0, 12, 12},      {0, 0, 0, 0, 12, 4, 8},
    {0, 12, 12, 0, 12, 12, 0},    {0, 4, 4, 31, 4, 4, 0},       {2, 4, 8, 8, 8, 4, 2},
    {8, 4, 2, 2, 2, 4, 8},        {0, 1, 2, 4, 8, 16, 0},       {0, 0, 31, 0, 31, 0, 0},
    {0, 0, 0, 0, 0, 0, 31},       {24, 25, 2, 4, 8, 19, 3},     {4, 10, 17, 0, 0, 0, 0},
    {0, 4, 21, 14, 21, 4, 0},     {4, 4, 8, 0, 0, 0, 0},        {14, 8, 8, 8, 8, 8, 14},
    {14, 2, 2, 2, 2, 2, 14},      {2, 4, 8, 16, 8, 4, 2},       {8, 4, 2, 1, 2, 4, 8},
    {4, 4, 4, 4, 4, 0, 4},        {14, 17, 1, 2, 4, 0, 4},
};

static void put(th_canvas *c, long x, long y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || (size_t)x >= c->width || (size_t)y >= c->height) return;
    memcpy(c->rgb + ((size_t)y * c->width + (size_t)x) * 3, rgb, 3);
}

long th_chart_text_width(const char *text)
{
    size_t n = strlen(text);
    return n ? (long)n * ADVANCE - 1 : 0;
}

void th_canvas_text(th_canvas *c, long x, long y, const char *text, int rotated)
{
    TH_ASSERT(c != NULL && text != NULL);
    for (long k = 0; text[k]; k++) {
        const char *at = strchr(GLYPH_CHARS, text[k]);
        if (!at) continue;
        const uint8_t *g = GLYPHS[at - GLYPH_CHARS];
        const int drop = strchr(DESCENDERS, text[k]) ? DESCENT : 0;
        for (int row = 0; row < GLYPH_H; row++)
            for (int col = 0; col < GLYPH_W; col++) {
                if (!(g[row] & (16 >> col))) continue;
                /* Turned a quarter counter-clockwise: the glyph's columns
                 * run up the canvas, its rows to the right. */
                if (rotated) put(c, x + row + drop, y - k * ADVANCE - col, BLACK);
                else put(c, x + k * ADVANCE + col, y + row + drop, BLACK);
            }
    }
}

/* ----------------------------------------------------------------- axes */

/* One axis as laid out: its range in plot units (log10 for log axes), its
 * major ticks and their numbers. */
typedef struct axis_plan {
    double lo, hi; /* plot units */
    size_t n_ticks;
    double ticks[MAX_TICKS]; /* plot units */
    char labels[MAX_TICKS][LABEL_LEN];
    long label_width; /* widest number, pixels */
} axis_plan;

static int shown(const th_chart_axis *a, double v)
{
    return isfinite(v) && (a->scale == TH_CHART_LINEAR || v > 0.0);
}

static double unit(const th_chart_axis *a, double v)
{
    return a->scale == TH_CHART_LOG ? log10(v) : v;
}

static void widen(const th_chart_axis *a, double v, double *lo, double *hi)
{
    if (!shown(a, v)) return;
    *lo = fmin(*lo, unit(a, v));
    *hi = fmax(*hi, unit(a, v));
}

/* The data range of one axis in plot units over the lines and bars;
 * reference lines are drawn where they fall (a zero line only when 0 is in
 * range) and never stretch it. *lo > *hi when there is no value. */
static void data_range(const th_chart *ch, int is_x, double *lo, double *hi)
{
    const th_chart_axis *a = is_x ? &ch->x : &ch->y;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t s = 0; s < ch->n_series; s++) {
        const th_chart_series *S = &ch->series[s];
        if (S->kind == TH_CHART_HLINE || S->kind == TH_CHART_VLINE) continue;
        const double *v = is_x ? S->x : S->y;
        size_t n = is_x && S->kind == TH_CHART_BARS ? S->n + 1 : S->n;
        for (size_t k = 0; k < n; k++) {
            widen(a, v[k], lo, hi);
            if (!is_x && S->kind == TH_CHART_LINE && S->err && isfinite(S->err[k])) {
                widen(a, v[k] - S->err[k], lo, hi);
                widen(a, v[k] + S->err[k], lo, hi);
            }
        }
    }
}

static void format_number(double v, char *buf)
{
    if (fabs(v) < 1e-12) v = 0.0; /* no "-0" or "1e-17" at an axis crossing */
    snprintf(buf, LABEL_LEN, "%.3g", v);
}

static int plan_axis(const th_chart *ch, int is_x, axis_plan *p)
{
    const th_chart_axis *a = is_x ? &ch->x : &ch->y;
    const char *name = is_x ? "x" : "y";
    memset(p, 0, sizeof *p);
    if (a->fixed) {
        if (!(shown(a, a->lo) && shown(a, a->hi) && a->lo < a->hi))
            return th__fail(TH_EINVAL, "chart %s axis range [%g, %g]: expected finite lo < hi%s",
                            name, a->lo, a->hi, a->scale == TH_CHART_LOG ? ", both > 0" : "");
        p->lo = unit(a, a->lo);
        p->hi = unit(a, a->hi);
    } else {
        data_range(ch, is_x, &p->lo, &p->hi);
        if (!(p->lo <= p->hi))
            return th__fail(TH_EINVAL, "chart %s axis: no finite value%s to show", name,
                            a->scale == TH_CHART_LOG ? " > 0" : "");
        if (a->scale == TH_CHART_LOG) {
            p->lo = floor(p->lo);
            p->hi = ceil(p->hi);
            if (p->hi == p->lo) p->hi += 1.0;
        } else {
            if (p->hi - p->lo < 1e-12 * fmax(1.0, fabs(p->hi))) {
                p->lo -= 0.5;
                p->hi += 0.5;
            }
            const double pad = a->pad * (p->hi - p->lo);
            p->lo -= pad;
            p->hi += pad;
        }
    }
    if (a->scale == TH_CHART_LOG) {
        if (p->hi - p->lo > MAX_DECADES)
            return th__fail(TH_EINVAL, "chart %s axis: the data span more than %d decades",
                            name, MAX_DECADES);
        for (double e = ceil(p->lo); e <= p->hi; e += 1.0) {
            p->ticks[p->n_ticks] = e;
            snprintf(p->labels[p->n_ticks++], LABEL_LEN, "1e%d", (int)e);
        }
    } else if (a->ticks >= 2) {
        const size_t n = a->ticks < MAX_TICKS ? a->ticks : MAX_TICKS;
        for (size_t k = 0; k < n; k++) {
            p->ticks[k] = p->lo + (p->hi - p->lo) * (double)k / (double)(n - 1);
            format_number(p->ticks[k], p->labels[k]);
        }
        p->n_ticks = n;
    }
    for (size_t k = 0; k < p->n_ticks && a->numbers; k++) {
        const long w = th_chart_text_width(p->labels[k]);
        if (w > p->label_width) p->label_width = w;
    }
    return TH_OK;
}

/* Both axes and the plot area. */
static int plan(const th_chart *ch, axis_plan *xp, axis_plan *yp, th_chart_frame *f)
{
    TH_ASSERT(ch != NULL && (ch->series != NULL || ch->n_series == 0));
    int rc = plan_axis(ch, 1, xp);
    if (rc == TH_OK) rc = plan_axis(ch, 0, yp);
    if (rc != TH_OK) return rc;
    const long w = (long)ch->width, h = (long)ch->height;
    f->top = MARGIN + (ch->title ? GLYPH_H + 8 : 0);
    f->left = MARGIN + (yp->n_ticks ? TICK + 1 : 0) + (ch->y.numbers ? yp->label_width + 3 : 0) +
              (ch->y.title ? GLYPH_H + 6 : 0);
    f->bottom = h - 1 - MARGIN - (xp->n_ticks ? TICK + 1 : 0) -
                (ch->x.numbers && xp->n_ticks ? GLYPH_H + 3 : 0) - (ch->x.title ? GLYPH_H + 6 : 0);
    /* Room for half of the last x number, centred on its tick. */
    f->right = w - 1 - MARGIN - (ch->x.numbers ? xp->label_width / 2 : 0);
    if (ch->y.numbers && yp->n_ticks && f->top < MARGIN + GLYPH_H / 2)
        f->top = MARGIN + GLYPH_H / 2;
    if (f->right - f->left + 1 < MIN_PLOT || f->bottom - f->top + 1 < MIN_PLOT)
        return th__fail(TH_EINVAL, "chart of %zu x %zu pixels: too small for its axes and "
                        "text (a plot area of at least %d x %d pixels expected)", ch->width,
                        ch->height, MIN_PLOT, MIN_PLOT);
    f->x_lo = ch->x.scale == TH_CHART_LOG ? pow(10.0, xp->lo) : xp->lo;
    f->x_hi = ch->x.scale == TH_CHART_LOG ? pow(10.0, xp->hi) : xp->hi;
    f->y_lo = ch->y.scale == TH_CHART_LOG ? pow(10.0, yp->lo) : yp->lo;
    f->y_hi = ch->y.scale == TH_CHART_LOG ? pow(10.0, yp->hi) : yp->hi;
    return TH_OK;
}

int th_chart_layout(const th_chart *chart, th_chart_frame *frame)
{
    axis_plan xp, yp;
    return plan(chart, &xp, &yp, frame);
}

/* Position in plot units u of [lo, hi] on the pixel span [a, b]. */
static double span(double u, double lo, double hi, long a, long b)
{
    return (double)a + (u - lo) / (hi - lo) * (double)(b - a);
}

static double fx(const th_chart *ch, const th_chart_frame *f, double x)
{
    return span(unit(&ch->x, x), unit(&ch->x, f->x_lo), unit(&ch->x, f->x_hi), f->left, f->right);
}

static double fy(const th_chart *ch, const th_chart_frame *f, double y)
{
    return span(unit(&ch->y, y), unit(&ch->y, f->y_lo), unit(&ch->y, f->y_hi), f->bottom, f->top);
}

long th_chart_column(const th_chart *chart, const th_chart_frame *f, double x)
{
    return lround(fx(chart, f, x));
}

long th_chart_row(const th_chart *chart, const th_chart_frame *f, double y)
{
    return lround(fy(chart, f, y));
}

/* ---------------------------------------------------------------- pens */

typedef struct pen {
    th_canvas *c;
    const th_chart_frame *f;
    const uint8_t *rgb;
    long size;
    int dashed;
    long phase;
} pen;

/* One pen-sized square, clipped to the plot area. */
static void dab(const pen *p, long x, long y)
{
    for (long a = 0; a < p->size; a++)
        for (long b = 0; b < p->size; b++) {
            long px = x + b, py = y + a;
            if (px >= p->f->left && px <= p->f->right && py >= p->f->top && py <= p->f->bottom)
                put(p->c, px, py, p->rgb);
        }
}

/* Bresenham's line; dashes continue their phase across segments. */
static void stroke(pen *p, long x0, long y0, long x1, long y1)
{
    long dx = labs(x1 - x0), dy = -labs(y1 - y0);
    long sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        if (!p->dashed || p->phase % DASH_PERIOD < DASH_ON) dab(p, x0, y0);
        p->phase++;
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

static int point_shown(const th_chart *ch, double x, double y)
{
    return shown(&ch->x, x) && shown(&ch->y, y);
}

static void draw_line_series(const th_chart *ch, const th_chart_frame *f, const th_chart_series *S,
                             pen *p)
{
    long px = 0, py = 0;
    int have = 0;
    for (size_t k = 0; k < S->n; k++) {
        if (!point_shown(ch, S->x[k], S->y[k])) {
            have = 0;
            continue;
        }
        /* The pen's square is centred on the point. */
        long x = th_chart_column(ch, f, S->x[k]) - (p->size - 1) / 2;
        long y = th_chart_row(ch, f, S->y[k]) - (p->size - 1) / 2;
        if (have) stroke(p, px, py, x, y);
        px = x;
        py = y;
        have = 1;
    }
    for (size_t k = 0; k < S->n; k++) {
        if (!point_shown(ch, S->x[k], S->y[k])) continue;
        const long x = th_chart_column(ch, f, S->x[k]), y = th_chart_row(ch, f, S->y[k]);
        if (S->markers) {
            pen m = {p->c, f, S->rgb, 7, 0, 0};
            dab(&m, x - 3, y - 3);
        }
        if (S->err && isfinite(S->err[k])) {
            const double lo = S->y[k] - fabs(S->err[k]), hi = S->y[k] + fabs(S->err[k]);
            /* On a log axis a bar reaching 0 or below runs to the bottom. */
            const long ylo = shown(&ch->y, lo) ? th_chart_row(ch, f, lo) : f->bottom;
            const long yhi = th_chart_row(ch, f, hi);
            pen e = {p->c, f, S->rgb, 1, 0, 0};
            stroke(&e, x, ylo, x, yhi);
            stroke(&e, x - 3, ylo, x + 3, ylo);
            stroke(&e, x - 3, yhi, x + 3, yhi);
        }
    }
}

/* The left column of a bar edge: the plot's columns shared out among the
 * range, so that equal bins get equal widths to within a pixel. */
static long bar_edge(const th_chart *ch, const th_chart_frame *f, double x)
{
    double t = span(unit(&ch->x, x), unit(&ch->x, f->x_lo), unit(&ch->x, f->x_hi), 0,
                    f->right - f->left + 1);
    long e = f->left + lround(t);
    return e < f->left ? f->left : (e > f->right + 1 ? f->right + 1 : e);
}

static void draw_bars(const th_chart *ch, const th_chart_frame *f, const th_chart_series *S,
                      th_canvas *c)
{
    const double rows = (double)(f->bottom - f->top + 1);
    const double ylo = unit(&ch->y, f->y_lo), yhi = unit(&ch->y, f->y_hi);
    for (size_t k = 0; k < S->n; k++) {
        if (!shown(&ch->x, S->x[k]) || !shown(&ch->x, S->x[k + 1]) || !shown(&ch->y, S->y[k]))
            continue;
        long a = bar_edge(ch, f, S->x[k]), b = bar_edge(ch, f, S->x[k + 1]);
        if (b - a >= 3) b--;
        const double u = unit(&ch->y, S->y[k]);
        if (!(u > ylo)) continue;
        long h = lround((fmin(u, yhi) - ylo) / (yhi - ylo) * rows);
        if (h < 1) h = 1;
        for (long y = f->bottom - h + 1; y <= f->bottom; y++)
            for (long x = a; x < b; x++) put(c, x, y, S->rgb);
    }
}

static void draw_reference_lines(const th_chart *ch, const th_chart_frame *f,
                                 const th_chart_series *S, pen *p)
{
    const int vertical = S->kind == TH_CHART_VLINE;
    const th_chart_axis *a = vertical ? &ch->x : &ch->y;
    const double lo = vertical ? f->x_lo : f->y_lo, hi = vertical ? f->x_hi : f->y_hi;
    for (size_t k = 0; k < S->n; k++) {
        const double v = vertical ? S->x[k] : S->y[k];
        if (!shown(a, v) || v < lo || v > hi) continue;
        p->phase = 0;
        /* Kept whole inside the plot: a line on the range's edge shows its
         * full width rather than half of it. */
        if (vertical) {
            long x = th_chart_column(ch, f, v);
            if (x > f->right - p->size + 1) x = f->right - p->size + 1;
            stroke(p, x, f->top, x, f->bottom);
        } else {
            long y = th_chart_row(ch, f, v);
            if (y > f->bottom - p->size + 1) y = f->bottom - p->size + 1;
            stroke(p, f->left, y, f->right, y);
        }
    }
}

/* ----------------------------------------------------------- decoration */

static void draw_axes(const th_chart *ch, const th_chart_frame *f, const axis_plan *xp,
                      const axis_plan *yp, th_canvas *c)
{
    for (long x = f->left - 1; x <= f->right; x++) put(c, x, f->bottom + 1, BLACK);
    for (long y = f->top; y <= f->bottom + 1; y++) put(c, f->left - 1, y, BLACK);
    for (size_t k = 0; k < xp->n_ticks; k++) {
        const long x = lround(span(xp->ticks[k], xp->lo, xp->hi, f->left, f->right));
        for (long d = 1; d <= TICK; d++) put(c, x, f->bottom + 1 + d, BLACK);
        if (ch->x.numbers)
            th_canvas_text(c, x - th_chart_text_width(xp->labels[k]) / 2, f->bottom + TICK + 4,
                           xp->labels[k], 0);
    }
    for (size_t k = 0; k < yp->n_ticks; k++) {
        const long y = lround(span(yp->ticks[k], yp->lo, yp->hi, f->bottom, f->top));
        for (long d = 1; d <= TICK; d++) put(c, f->left - 1 - d, y, BLACK);
        if (ch->y.numbers)
            th_canvas_text(c, f->left - TICK - 4 - th_chart_text_width(yp->labels[k]),
                           y - GLYPH_H / 2, yp->labels[k], 0);
    }
    /* Log axes: short ticks at 2..9 times each decade. */
    for (double e = floor(xp->lo); ch->x.scale == TH_CHART_LOG && e < xp->hi; e += 1.0)
        for (int m = 2; m <= 9; m++) {
            const double u = e + log10(m);
            if (u < xp->lo || u > xp->hi) continue;
            const long x = lround(span(u, xp->lo, xp->hi, f->left, f->right));
            for (long d = 1; d <= MINOR_TICK; d++) put(c, x, f->bottom + 1 + d, BLACK);
        }
    for (double e = floor(yp->lo); ch->y.scale == TH_CHART_LOG && e < yp->hi; e += 1.0)
        for (int m = 2; m <= 9; m++) {
            const double u = e + log10(m);
            if (u < yp->lo || u > yp->hi) continue;
            const long y = lround(span(u, yp->lo, yp->hi, f->bottom, f->top));
            for (long d = 1; d <= MINOR_TICK; d++) put(c, f->left - 1 - d, y, BLACK);
        }
}

static void draw_grid(const th_chart *ch, const th_chart_frame *f, const axis_plan *xp,
                      const axis_plan *yp, th_canvas *c)
{
    for (size_t k = 0; k < xp->n_ticks && ch->x.grid; k++) {
        const long x = lround(span(xp->ticks[k], xp->lo, xp->hi, f->left, f->right));
        for (long y = f->top; y <= f->bottom; y++) put(c, x, y, GRID);
    }
    for (size_t k = 0; k < yp->n_ticks && ch->y.grid; k++) {
        const long y = lround(span(yp->ticks[k], yp->lo, yp->hi, f->bottom, f->top));
        for (long x = f->left; x <= f->right; x++) put(c, x, y, GRID);
    }
}

static void draw_titles(const th_chart *ch, const th_chart_frame *f, th_canvas *c)
{
    const long mid_x = (f->left + f->right) / 2, mid_y = (f->top + f->bottom) / 2;
    if (ch->title)
        th_canvas_text(c, mid_x - th_chart_text_width(ch->title) / 2, MARGIN, ch->title, 0);
    if (ch->x.title)
        th_canvas_text(c, mid_x - th_chart_text_width(ch->x.title) / 2,
                       (long)ch->height - MARGIN - GLYPH_H, ch->x.title, 0);
    if (ch->y.title)
        th_canvas_text(c, MARGIN, mid_y + th_chart_text_width(ch->y.title) / 2, ch->y.title, 1);
}

/* A white box with a grey frame in one corner of the plot: per labelled
 * series a sample of its line (a square for bars) and its label. */
static void draw_legend(const th_chart *ch, const th_chart_frame *f, th_canvas *c)
{
    size_t n = 0;
    long text_w = 0;
    for (size_t s = 0; s < ch->n_series; s++)
        if (ch->series[s].label) {
            const long tw = th_chart_text_width(ch->series[s].label);
            n++;
            if (tw > text_w) text_w = tw;
        }
    if (n == 0) return;
    const long w = 6 + LEGEND_SAMPLE + 6 + text_w + 6, h = 4 + (long)n * (GLYPH_H + 5) + 1;
    const int right = ch->legend == TH_LEGEND_TOP_RIGHT || ch->legend == TH_LEGEND_BOTTOM_RIGHT;
    const int top = ch->legend == TH_LEGEND_TOP_RIGHT || ch->legend == TH_LEGEND_TOP_LEFT;
    const long x0 = right ? f->right - 6 - w : f->left + 6, y0 = top ? f->top + 6 : f->bottom - 6 - h;
    for (long y = y0; y <= y0 + h; y++)
        for (long x = x0; x <= x0 + w; x++)
            put(c, x, y, y == y0 || y == y0 + h || x == x0 || x == x0 + w ? FRAME_GREY : WHITE);
    th_chart_frame box = {x0 + 1, x0 + w - 1, y0 + 1, y0 + h - 1, 0, 0, 0, 0};
    long y = y0 + 5;
    for (size_t s = 0; s < ch->n_series; s++) {
        const th_chart_series *S = &ch->series[s];
        if (!S->label) continue;
        const long mid = y + GLYPH_H / 2;
        if (S->kind == TH_CHART_BARS) {
            pen sq = {c, &box, S->rgb, GLYPH_H, 0, 0};
            dab(&sq, x0 + 6 + LEGEND_SAMPLE / 2 - GLYPH_H / 2, y);
        } else {
            pen p = {c, &box, S->rgb, S->pen ? (long)S->pen : 2, S->dashed, 0};
            stroke(&p, x0 + 6, mid - (p.size - 1) / 2, x0 + 6 + LEGEND_SAMPLE - 1,
                   mid - (p.size - 1) / 2);
            if (S->markers) {
                pen m = {c, &box, S->rgb, 5, 0, 0};
                dab(&m, x0 + 6 + LEGEND_SAMPLE / 2 - 2, mid - 2);
            }
        }
        th_canvas_text(c, x0 + 6 + LEGEND_SAMPLE + 6, y, S->label, 0);
        y += GLYPH_H + 5;
    }
}

th_canvas *th_chart_draw(const th_chart *chart)
{
    axis_plan xp, yp;
    th_chart_frame f;
    if (plan(chart, &xp, &yp, &f) != TH_OK) return NULL;
    th_canvas *c = th_canvas_alloc(chart->width, chart->height, 255);
    if (!c) return NULL;
    draw_grid(chart, &f, &xp, &yp, c);
    for (size_t s = 0; s < chart->n_series; s++) {
        const th_chart_series *S = &chart->series[s];
        pen p = {c, &f, S->rgb, S->pen ? (long)S->pen : 2, S->dashed, 0};
        if (S->kind == TH_CHART_LINE) draw_line_series(chart, &f, S, &p);
        else if (S->kind == TH_CHART_BARS) draw_bars(chart, &f, S, c);
        else draw_reference_lines(chart, &f, S, &p);
    }
    draw_axes(chart, &f, &xp, &yp, c);
    draw_titles(chart, &f, c);
    draw_legend(chart, &f, c);
    return c;
}
