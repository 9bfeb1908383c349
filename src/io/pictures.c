/* pictures.c - grids of images, trajectory strips, signed fields, and a
 * terminal preview.
 *
 * Every picture is a lattice of equal cells gap pixels apart, with a border
 * of the same width, composed on a th_canvas for th_png_write. The colours:
 *
 * - grey images: value lo is black (0), hi is white (255), linear between,
 *   clipped outside, rounded to the nearest level;
 * - signed fields: ColorBrewer's 9-class RdBu scheme (Harrower & Brewer 2003,
 *   The Cartographic Journal 40(1), colorbrewer2.org), blue for negative,
 *   near-white #f7f7f7 for 0, red for positive, interpolated linearly in sRGB
 *   between its nine stops; Brewer chose the stops to be evenly spaced to the
 *   eye, so the ramp is far more even than one straight line from blue to
 *   white to red, whose middle would wash out;
 * - NaN: magenta, a colour neither map produces, so a diverged or damaged
 *   value is seen at once and never mistaken for data;
 * - the gaps: see GREY_GAP and FIELD_GAP. */
#include "core/internal.h"

#include <math.h>
#include <string.h>

static const uint8_t NAN_RGB[3] = {255, 0, 255};

/* The gap between grey images is a desaturated slate blue, not a grey: any
 * grey is a value the images themselves take, so a grey separator melts into
 * cells whose edge has that value (noisy samples are mostly mid grey), while
 * a tinted one stays visible against black, grey and white cells alike; its
 * middle lightness keeps it apart from MNIST's black background and white
 * strokes, and its low saturation keeps it from pulling the eye. */
static const uint8_t GREY_GAP[3] = {96, 112, 144};

/* The gap between fields is a neutral mid grey: the RdBu ramp never
 * produces a grey (its neutral point is almost white), so the separator
 * cannot be read as a value, and grey adds no third hue to a picture whose
 * hues carry the sign. */
static const uint8_t FIELD_GAP[3] = {128, 128, 128};

/* ColorBrewer RdBu, 9 classes, from most negative to most positive. */
static const uint8_t RDBU_STOPS[9][3] = {
    {33, 102, 172},  /* #2166ac */
    {67, 147, 195},  /* #4393c3 */
    {146, 197, 222}, /* #92c5de */
    {209, 229, 240}, /* #d1e5f0 */
    {247, 247, 247}, /* #f7f7f7 */
    {253, 219, 199}, /* #fddbc7 */
    {244, 165, 130}, /* #f4a582 */
    {214, 96, 77},   /* #d6604d */
    {178, 24, 43},   /* #b2182b */
};

/* No terminal shows 4096 columns, so a larger side is a mistake; the cap
 * also keeps the preview's size (at most 2048 lines of 12289 bytes) far
 * from overflowing even a 32-bit size_t. */
#define PREVIEW_MAX_SIDE ((size_t)4096)

/* A cell layout: n_across x n_down cells of rows x cols pixels. */
typedef struct layout {
    size_t n_across, n_down;
    size_t rows, cols;
    size_t gap;
} layout;

/* gap + n * (cell + gap), the length of a lattice along one axis; 0 when
 * that overflows. */
static size_t lattice_span(size_t n, size_t cell, size_t gap)
{
    const size_t max = (size_t)-1;
    if (cell > max - gap) return 0;
    size_t pitch = cell + gap;
    if (n > max / pitch) return 0;
    if (n * pitch > max - gap) return 0;
    return gap + n * pitch;
}

/* A canvas for the layout, every pixel the background colour. NULL (with the
 * message naming who asked) when the lattice is too large. */
static th_canvas *layout_canvas(const layout *lay, const uint8_t bg[3], const char *who)
{
    size_t width = lattice_span(lay->n_across, lay->cols, lay->gap);
    size_t height = lattice_span(lay->n_down, lay->rows, lay->gap);
    if (width == 0 || height == 0) {
        th__fail(TH_EINVAL, "%s: %zu x %zu cells of %zu x %zu pixels with gap %zu: the "
                 "picture's size overflows", who, lay->n_across, lay->n_down, lay->rows,
                 lay->cols, lay->gap);
        return NULL;
    }
    th_canvas *c = th_canvas_alloc(width, height, 0);
    if (!c) return NULL;
    for (size_t p = 0; p < width * height; p++) memcpy(c->rgb + 3 * p, bg, 3);
    return c;
}

/* The top-left pixel of cell (across, down). */
static uint8_t *cell_origin(const th_canvas *c, const layout *lay, size_t across, size_t down)
{
    size_t x0 = lay->gap + across * (lay->cols + lay->gap);
    size_t y0 = lay->gap + down * (lay->rows + lay->gap);
    return c->rgb + (y0 * c->width + x0) * 3;
}

/* The grey level of v on [lo, hi]: 0 at lo, 255 at hi, clipped. The
 * difference is taken before the division so that v == lo gives exactly 0
 * however narrow the range. */
static uint8_t grey_level(float v, double lo, double hi)
{
    double t = ((double)v - lo) / (hi - lo) * 255.0;
    if (!(t > 0.0)) return 0;
    if (t >= 255.0) return 255;
    return (uint8_t)(t + 0.5);
}

/* Draws one grey image (rows, cols) into the cell whose top-left pixel is
 * at. */
static void draw_grey_cell(const th_canvas *c, uint8_t *at, const float *image, size_t rows,
                           size_t cols, double lo, double hi)
{
    for (size_t y = 0; y < rows; y++) {
        uint8_t *px = at + y * c->width * 3;
        for (size_t x = 0; x < cols; x++, px += 3) {
            float v = image[y * cols + x];
            if (isnan(v)) {
                memcpy(px, NAN_RGB, 3);
            } else {
                uint8_t g = grey_level(v, lo, hi);
                px[0] = px[1] = px[2] = g;
            }
        }
    }
}

/* The colour of t in [-1, 1] on the RdBu ramp: the stops sit at -1, -0.75,
 * ..., 1, so t = 0 and t = +-1 land exactly on white and the two ends. */
static void rdbu_colour(double t, uint8_t rgb[3])
{
    double s = (t + 1.0) * 4.0; /* position in stops, 0..8 */
    if (!(s > 0.0)) s = 0.0;
    if (s > 8.0) s = 8.0;
    size_t i = (size_t)s;
    if (i > 7) i = 7;
    double f = s - (double)i;
    for (int k = 0; k < 3; k++) {
        double a = RDBU_STOPS[i][k], b = RDBU_STOPS[i + 1][k];
        rgb[k] = (uint8_t)(a + (b - a) * f + 0.5);
    }
}

/* Draws one signed field on its own symmetric range [-m, m], m the largest
 * finite |v|: a single infinity would otherwise turn every other value
 * white. Infinities take the end colours; an all-zero field is all white. */
static void draw_field_cell(const th_canvas *c, uint8_t *at, const float *field, size_t rows,
                            size_t cols)
{
    double m = 0.0;
    for (size_t p = 0; p < rows * cols; p++) {
        double a = fabs((double)field[p]);
        if (isfinite(a) && a > m) m = a;
    }
    for (size_t y = 0; y < rows; y++) {
        uint8_t *px = at + y * c->width * 3;
        for (size_t x = 0; x < cols; x++, px += 3) {
            double v = (double)field[y * cols + x];
            if (isnan(v)) {
                memcpy(px, NAN_RGB, 3);
                continue;
            }
            double t;
            if (isinf(v)) t = v > 0 ? 1.0 : -1.0;
            else t = m > 0.0 ? v / m : 0.0;
            rdbu_colour(t, px);
        }
    }
}

/* The checks every grey picture shares; TH_OK or TH_EINVAL. */
static int check_grey_args(const char *who, size_t rows, size_t cols, float lo, float hi)
{
    if (rows == 0 || cols == 0)
        return th__fail(TH_EINVAL, "%s: images of %zu x %zu pixels: expected at least 1 x 1",
                        who, rows, cols);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return th__fail(TH_EINVAL, "%s: lo = %g, hi = %g: expected finite values with "
                        "lo < hi", who, (double)lo, (double)hi);
    return TH_OK;
}

/* Columns in use: grid_cols, or fewer when there are fewer images, so that
 * a handful of images does not sit in a wide empty frame. */
static size_t columns_used(size_t count, size_t grid_cols)
{
    return count < grid_cols ? count : grid_cols;
}

th_canvas *th_picture_grid(const float *images, size_t count, size_t rows, size_t cols,
                           size_t grid_cols, size_t gap, float lo, float hi)
{
    const char *who = "th_picture_grid";
    TH_ASSERT(images != NULL);
    if (count == 0 || grid_cols == 0) {
        th__fail(TH_EINVAL, "%s: count = %zu, grid_cols = %zu: expected at least 1 of each",
                 who, count, grid_cols);
        return NULL;
    }
    if (check_grey_args(who, rows, cols, lo, hi) != TH_OK) return NULL;
    size_t across = columns_used(count, grid_cols);
    layout lay = {across, (count - 1) / across + 1, rows, cols, gap};
    th_canvas *c = layout_canvas(&lay, GREY_GAP, who);
    if (!c) return NULL;
    /* The canvas exists, so rows * cols * count pixels fit in memory and the
     * offsets below cannot overflow. */
    for (size_t k = 0; k < count; k++)
        draw_grey_cell(c, cell_origin(c, &lay, k % across, k / across),
                       images + k * rows * cols, rows, cols, (double)lo, (double)hi);
    return c;
}

th_canvas *th_picture_strips(const float *snaps, size_t n_snaps, size_t n_traj, size_t rows,
                             size_t cols, size_t gap, float lo, float hi)
{
    const char *who = "th_picture_strips";
    TH_ASSERT(snaps != NULL);
    if (n_snaps == 0 || n_traj == 0) {
        th__fail(TH_EINVAL, "%s: n_snaps = %zu, n_traj = %zu: expected at least 1 of each",
                 who, n_snaps, n_traj);
        return NULL;
    }
    if (check_grey_args(who, rows, cols, lo, hi) != TH_OK) return NULL;
    layout lay = {n_snaps, n_traj, rows, cols, gap};
    th_canvas *c = layout_canvas(&lay, GREY_GAP, who);
    if (!c) return NULL;
    for (size_t j = 0; j < n_snaps; j++)
        for (size_t k = 0; k < n_traj; k++)
            draw_grey_cell(c, cell_origin(c, &lay, j, k),
                           snaps + (j * n_traj + k) * rows * cols, rows, cols, (double)lo,
                           (double)hi);
    return c;
}

th_canvas *th_picture_fields(const float *fields, size_t count, size_t rows, size_t cols,
                             size_t grid_cols, size_t gap)
{
    const char *who = "th_picture_fields";
    TH_ASSERT(fields != NULL);
    if (count == 0 || grid_cols == 0 || rows == 0 || cols == 0) {
        th__fail(TH_EINVAL, "%s: count = %zu, grid_cols = %zu, fields of %zu x %zu pixels: "
                 "expected at least 1 of each", who, count, grid_cols, rows, cols);
        return NULL;
    }
    size_t across = columns_used(count, grid_cols);
    layout lay = {across, (count - 1) / across + 1, rows, cols, gap};
    th_canvas *c = layout_canvas(&lay, FIELD_GAP, who);
    if (!c) return NULL;
    for (size_t k = 0; k < count; k++)
        draw_field_cell(c, cell_origin(c, &lay, k % across, k / across),
                        fields + k * rows * cols, rows, cols);
    return c;
}

/* The preview's five shades, darkest first, as UTF-8: space, U+2591 light
 * shade, U+2592 medium shade, U+2593 dark shade, U+2588 full block. Shading
 * (rather than the upper and lower half blocks) is what thermo.h promises:
 * it needs no colour support, and it shows a grey level, where a half block
 * can only show each pixel as on or off. Ink stands for light, as on the
 * usual light-on-dark terminal, so a white stroke on MNIST's black
 * background reads as a solid stroke. */
static const char *const SHADES[5] = {" ", "\xe2\x96\x91", "\xe2\x96\x92", "\xe2\x96\x93",
                                      "\xe2\x96\x88"};

/* The fraction of the way from lo to hi, clipped to [0, 1]. */
static double unit_level(float v, double lo, double hi)
{
    double t = ((double)v - lo) / (hi - lo);
    if (!(t > 0.0)) return 0.0;
    return t < 1.0 ? t : 1.0;
}

char *th_preview_utf8(const float *image, size_t rows, size_t cols, float lo, float hi)
{
    const char *who = "th_preview_utf8";
    TH_ASSERT(image != NULL);
    if (check_grey_args(who, rows, cols, lo, hi) != TH_OK) return NULL;
    if (rows > PREVIEW_MAX_SIDE || cols > PREVIEW_MAX_SIDE) {
        th__fail(TH_EINVAL, "%s: image of %zu x %zu pixels: too large to preview (at most "
                 "%zu a side)", who, rows, cols, PREVIEW_MAX_SIDE);
        return NULL;
    }
    size_t lines = (rows + 1) / 2;
    /* At most 3 bytes a character, a newline a line, and the terminator. */
    size_t size = lines * (cols * 3 + 1) + 1;
    char *out = malloc(size);
    if (!out) {
        th__fail(TH_ENOMEM, "%s: cannot allocate %zu bytes", who, size);
        return NULL;
    }
    char *w = out;
    for (size_t line = 0; line < lines; line++) {
        const float *top = image + 2 * line * cols;
        /* An odd last row stands alone rather than being averaged with an
         * invented black row, which would darken the bottom edge. */
        const float *bottom = 2 * line + 1 < rows ? top + cols : top;
        for (size_t x = 0; x < cols; x++) {
            const char *s;
            if (isnan(top[x]) || isnan(bottom[x])) {
                /* Flagged like the magenta of the PNG pictures: a
                 * diverged value must not pass for a shade. */
                s = "?";
            } else {
                double mean = 0.5 * (unit_level(top[x], (double)lo, (double)hi) +
                                     unit_level(bottom[x], (double)lo, (double)hi));
                /* Five equal bins over [0, 1]; 1 itself joins the top bin. */
                size_t level = (size_t)(mean * 5.0);
                s = SHADES[level > 4 ? 4 : level];
            }
            size_t len = strlen(s);
            memcpy(w, s, len);
            w += len;
        }
        *w++ = '\n';
    }
    *w = '\0';
    return out;
}
