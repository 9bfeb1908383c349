/* png.c - the RGB canvas and its PNG writer.
 *
 * Pictures are composed on a plain 8-bit RGB canvas (pictures.c) and written
 * here as an 8-bit RGB PNG, non-interlaced, each canvas pixel repeated as a
 * magnify x magnify block so that a 28 x 28 digit stays legible on a screen
 * without the viewer's blurring interpolation. The writer streams one output
 * row at a time, so magnifying costs one row of memory, not a second canvas. */
#include "core/internal.h"
#include "io/io_internal.h"

#include <png.h>
#include <string.h>

/* The widest and tallest picture thermo makes: libpng's default user limit
 * (PNG_USER_WIDTH_MAX and PNG_USER_HEIGHT_MAX, 1,000,000), beyond which a
 * default-configured libpng reader refuses the file, so a picture thermo
 * writes is always one that ordinary viewers open. */
#define CANVAS_MAX_SIDE ((size_t)1000000)
/* 2^28 pixels (768 MiB of RGB, a 16384 x 16384 square) bound a canvas and a
 * magnified picture: a grid of all 70000 MNIST digits at 30 x 30 pixels per
 * cell is 63 million pixels, and a size beyond this is a mistake (a count and
 * a side swapped, a wrapped negative number) to report rather than try. */
#define CANVAS_MAX_PIXELS ((size_t)1 << 28)

/* Whether width x height is within both limits (without overflowing). */
static int canvas_size_ok(size_t width, size_t height)
{
    return width <= CANVAS_MAX_SIDE && height <= CANVAS_MAX_SIDE &&
           width <= CANVAS_MAX_PIXELS / height;
}

th_canvas *th_canvas_alloc(size_t width, size_t height, uint8_t grey)
{
    if (width == 0 || height == 0) {
        th__fail(TH_EINVAL, "canvas of %zu x %zu pixels: expected a width and a height of "
                 "at least 1", width, height);
        return NULL;
    }
    if (!canvas_size_ok(width, height)) {
        th__fail(TH_EINVAL, "canvas of %zu x %zu pixels: too large (at most %zu pixels a "
                 "side and %zu in all)", width, height, CANVAS_MAX_SIDE, CANVAS_MAX_PIXELS);
        return NULL;
    }
    size_t bytes = width * height * 3;
    th_canvas *c = malloc(sizeof *c);
    uint8_t *rgb = th__alloc(bytes);
    if (!c || !rgb) {
        free(c);
        th__free(rgb);
        th__fail(TH_ENOMEM, "canvas of %zu x %zu pixels: cannot allocate %zu bytes", width,
                 height, bytes);
        return NULL;
    }
    memset(rgb, grey, bytes);
    c->width = width;
    c->height = height;
    c->rgb = rgb;
    return c;
}

void th_canvas_free(th_canvas *c)
{
    if (!c) return;
    th__free(c->rgb);
    free(c);
}

/* What libpng's callbacks need to report a failure. */
typedef struct png_context {
    const char *path;
} png_context;

/* libpng's default handlers print to stderr, which the library must never
 * do; this one records the message for th_last_error() and jumps back to
 * th_png_write's setjmp, the only way out of libpng after an error. */
static void on_png_error(png_structp png, png_const_charp msg)
{
    const png_context *ctx = png_get_error_ptr(png);
    th__fail(TH_EIO, "%s: writing the PNG failed: %s", ctx->path, msg);
    png_longjmp(png, 1);
}

/* Warnings (for example about a chunk thermo does not write) say nothing
 * the caller could act on, and printing them is not the library's to do. */
static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

int th_png_write(const char *path, const th_canvas *c, size_t magnify)
{
    TH_ASSERT(path != NULL);
    TH_ASSERT(c != NULL);
    /* The struct is public, so its fields are checked rather than trusted. */
    if (c->width == 0 || c->height == 0 || c->rgb == NULL)
        return th__fail(TH_EINVAL, "%s: the canvas is empty (%zu x %zu pixels%s)", path,
                        c->width, c->height, c->rgb ? "" : ", no pixel buffer");
    if (magnify == 0)
        return th__fail(TH_EINVAL, "%s: magnify = 0: expected a factor of at least 1", path);
    if (!canvas_size_ok(c->width, c->height) || c->width > CANVAS_MAX_SIDE / magnify ||
        c->height > CANVAS_MAX_SIDE / magnify ||
        !canvas_size_ok(c->width * magnify, c->height * magnify))
        return th__fail(TH_EINVAL, "%s: a %zu x %zu canvas magnified %zu times is too large "
                        "(at most %zu pixels a side and %zu in all)", path, c->width,
                        c->height, magnify, CANVAS_MAX_SIDE, CANVAS_MAX_PIXELS);

    size_t out_width = c->width * magnify;
    size_t out_height = c->height * magnify;
    uint8_t *row = th__alloc(out_width * 3); /* (out_width, 3) one magnified row */
    if (!row)
        return th__fail(TH_ENOMEM, "%s: cannot allocate a row of %zu pixels", path,
                        out_width);

    char tmp_path[4096];
    FILE *f = th__atomic_open(path, tmp_path, sizeof tmp_path);
    if (!f) {
        th__free(row);
        return TH_EIO; /* th__atomic_open has named the path and the reason */
    }

    png_context ctx = {path};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error,
                                              on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        th__atomic_abort(f, tmp_path);
        th__free(row);
        return th__fail(TH_ENOMEM, "%s: cannot allocate libpng's writer", path);
    }
    /* Every object cleaned up here was created before setjmp and is not
     * reassigned after it, so its value is still valid after the jump. */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        th__atomic_abort(f, tmp_path);
        th__free(row);
        return TH_EIO; /* on_png_error has recorded the message */
    }

    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)out_width, (png_uint_32)out_height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t y = 0; y < c->height; y++) {
        const uint8_t *src = c->rgb + y * c->width * 3;
        for (size_t x = 0; x < c->width; x++)
            for (size_t k = 0; k < magnify; k++)
                memcpy(row + (x * magnify + k) * 3, src + x * 3, 3);
        for (size_t k = 0; k < magnify; k++) png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    th__free(row);
    return th__atomic_commit(f, tmp_path, path);
}
