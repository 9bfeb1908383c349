/* test_pictures.c - canvases, PNG files, picture layouts, colour maps, the
 * terminal preview.
 *
 * Written files are read back with libpng's reading API (png_create_read_struct
 * and png_read_image), a separate code path from the writer, and compared
 * pixel by pixel with pictures whose values are derived by hand here from the
 * documented layout and colour rules. */
#include "harness.h"
#include "thermo.h"

#include <dirent.h>
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The colours pictures.c documents. */
static const uint8_t NAN_RGB[3] = {255, 0, 255};
static const uint8_t GREY_GAP[3] = {96, 112, 144};
static const uint8_t FIELD_GAP[3] = {128, 128, 128};
/* ColorBrewer RdBu (colorbrewer2.org): #2166ac, #f7f7f7, #b2182b and the
 * 9-class stops at -+0.5, #92c5de and #f4a582. */
static const uint8_t BLUE_END[3] = {33, 102, 172};
static const uint8_t WHITE[3] = {247, 247, 247};
static const uint8_t RED_END[3] = {178, 24, 43};
static const uint8_t BLUE_HALF[3] = {146, 197, 222};
static const uint8_t RED_HALF[3] = {244, 165, 130};

/* A PNG as libpng's reader sees it. */
typedef struct png_read_back {
    png_uint_32 width, height;
    int bit_depth, colour_type, interlace;
    uint8_t *rgb; /* (height, width, 3) when colour_type is RGB and depth 8 */
} png_read_back;

/* Reads path with the classic libpng reading API; 0 on success. */
static int read_png(const char *path, png_read_back *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        return -1;
    }
    /* rows changes after setjmp, so it must be volatile to be freed after
     * a jump. */
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        free(out->rgb);
        out->rgb = NULL;
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    png_get_IHDR(png, info, &out->width, &out->height, &out->bit_depth, &out->colour_type,
                 &out->interlace, NULL, NULL);
    if (out->bit_depth == 8 && out->colour_type == PNG_COLOR_TYPE_RGB) {
        out->rgb = malloc((size_t)out->width * out->height * 3);
        rows = malloc(out->height * sizeof *rows);
        if (out->rgb && rows) {
            for (png_uint_32 y = 0; y < out->height; y++)
                rows[y] = out->rgb + (size_t)y * out->width * 3;
            png_read_image(png, rows);
            png_read_end(png, NULL);
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    fclose(f);
    return 0;
}

static int same_rgb(const uint8_t *a, const uint8_t *b)
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

/* Checks one pixel and, on failure, says which and what it held. */
#define CHECK_PIXEL(px, want, where_x, where_y)                                   \
    do {                                                                          \
        const uint8_t *p_ = (px), *w_ = (want);                                   \
        if (!same_rgb(p_, w_)) {                                                  \
            fprintf(stderr, "  %s:%d: pixel (%zu, %zu) is (%d, %d, %d), expected " \
                    "(%d, %d, %d)\n", __FILE__, __LINE__, (size_t)(where_x),      \
                    (size_t)(where_y), p_[0], p_[1], p_[2], w_[0], w_[1], w_[2]); \
            th_test_check_failed++;                                               \
        }                                                                         \
    } while (0)

/* A fresh empty folder for files; removed by remove_scratch. */
static char *make_scratch(char *buf, size_t size)
{
    snprintf(buf, size, "/tmp/thermo_test_pictures_XXXXXX");
    return mkdtemp(buf);
}

static int folder_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void remove_scratch(const char *dir, const char *const *names, size_t n)
{
    char path[512];
    for (size_t k = 0; k < n; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        unlink(path);
    }
    rmdir(dir);
}

/* Two 2 x 5 images, lo = -2, hi = 2, side by side with a 1-pixel gap:
 * canvas 13 x 4, written magnified 3 times. The expected grey levels follow
 * from 255 (v - lo) / (hi - lo) rounded half up and clipped: -2 -> 0,
 * 0 -> 127.5 -> 128, 2 -> 255, -1 -> 63.75 -> 64, 1 -> 191.25 -> 191. */
static void test_png_grid_roundtrip(void)
{
    const float inf = INFINITY;
    const float images[2 * 10] = {
        -2.0f, 0.0f, 2.0f, -7.0f, 7.0f,    /* lo, mid, hi, clipped low, clipped high */
        NAN, -inf, inf, -1.0f, 1.0f,       /* NaN, infinities, quarter points */
        2.0f, 2.0f, 2.0f, 2.0f, 2.0f,      /* the second image: all white */
        2.0f, 2.0f, 2.0f, 2.0f, 2.0f,
    };
    const int levels[2][10] = {{0, 128, 255, 0, 255, -1, 0, 255, 64, 191},
                               {255, 255, 255, 255, 255, 255, 255, 255, 255, 255}};
    /* The expected canvas, every pixel the gap colour except the cells. */
    uint8_t want[4][13][3];
    for (size_t y = 0; y < 4; y++)
        for (size_t x = 0; x < 13; x++) memcpy(want[y][x], GREY_GAP, 3);
    for (size_t k = 0; k < 2; k++)
        for (size_t r = 0; r < 2; r++)
            for (size_t col = 0; col < 5; col++) {
                uint8_t *px = want[1 + r][1 + k * 6 + col];
                int g = levels[k][r * 5 + col];
                if (g < 0) memcpy(px, NAN_RGB, 3);
                else px[0] = px[1] = px[2] = (uint8_t)g;
            }

    th_canvas *c = th_picture_grid(images, 2, 2, 5, 4, 1, -2.0f, 2.0f);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(c->width, 13);
    CHECK_EQ_INT(c->height, 4);
    for (size_t y = 0; y < 4; y++)
        for (size_t x = 0; x < 13; x++) CHECK_PIXEL(c->rgb + (y * 13 + x) * 3, want[y][x], x, y);

    char dir[64], path[128];
    CHECK(make_scratch(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/grid.png", dir);
    CHECK_EQ_INT(th_png_write(path, c, 3), TH_OK);
    th_canvas_free(c);

    png_read_back png;
    CHECK_EQ_INT(read_png(path, &png), 0);
    CHECK_EQ_INT(png.width, 39);
    CHECK_EQ_INT(png.height, 12);
    CHECK_EQ_INT(png.bit_depth, 8);
    CHECK_EQ_INT(png.colour_type, PNG_COLOR_TYPE_RGB);
    CHECK_EQ_INT(png.interlace, PNG_INTERLACE_NONE);
    CHECK(png.rgb != NULL);
    if (png.rgb) {
        /* Every output pixel is its canvas pixel: a 3 x 3 block each. */
        int bad = 0;
        for (size_t y = 0; y < 12; y++)
            for (size_t x = 0; x < 39; x++)
                if (!same_rgb(png.rgb + (y * 39 + x) * 3, want[y / 3][x / 3]) && bad++ < 5)
                    CHECK_PIXEL(png.rgb + (y * 39 + x) * 3, want[y / 3][x / 3], x, y);
        CHECK_EQ_INT(bad, 0);
    }
    free(png.rgb);
    /* Only the target is left: the temporary file was renamed over it. */
    CHECK_EQ_INT(folder_entries(dir), 1);
    const char *names[] = {"grid.png"};
    remove_scratch(dir, names, 1);
}

/* magnify 1 writes the canvas as is; writing again replaces the file. */
static void test_png_plain_and_replace(void)
{
    char dir[64], path[128];
    CHECK(make_scratch(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/plain.png", dir);
    th_canvas *c = th_canvas_alloc(3, 2, 200);
    CHECK(c != NULL);
    if (!c) return;
    for (size_t k = 0; k < 18; k++) CHECK_EQ_INT(c->rgb[k], 200);
    CHECK_EQ_INT(th_png_write(path, c, 1), TH_OK);
    c->rgb[(1 * 3 + 2) * 3 + 0] = 10; /* pixel (2, 1) */
    c->rgb[(1 * 3 + 2) * 3 + 1] = 20;
    c->rgb[(1 * 3 + 2) * 3 + 2] = 30;
    CHECK_EQ_INT(th_png_write(path, c, 1), TH_OK);
    th_canvas_free(c);

    png_read_back png;
    CHECK_EQ_INT(read_png(path, &png), 0);
    CHECK_EQ_INT(png.width, 3);
    CHECK_EQ_INT(png.height, 2);
    if (png.rgb) {
        const uint8_t grey[3] = {200, 200, 200}, mark[3] = {10, 20, 30};
        CHECK_PIXEL(png.rgb, grey, 0, 0);
        CHECK_PIXEL(png.rgb + (1 * 3 + 1) * 3, grey, 1, 1);
        CHECK_PIXEL(png.rgb + (1 * 3 + 2) * 3, mark, 2, 1);
    }
    free(png.rgb);
    CHECK_EQ_INT(folder_entries(dir), 1);
    const char *names[] = {"plain.png"};
    remove_scratch(dir, names, 1);
}

/* Strips: snapshot j of trajectory k sits in column j, row k. With 1 x 1
 * images of value (2j + k) / 5 on [0, 1], cell (j, k) has grey
 * 255 (2j + k) / 5 = 51 (2j + k), exact. */
static void test_picture_strips_layout(void)
{
    float snaps[3 * 2]; /* (n_snaps 3, n_traj 2, 1, 1) */
    for (size_t j = 0; j < 3; j++)
        for (size_t k = 0; k < 2; k++) snaps[j * 2 + k] = (float)(2 * j + k) / 5.0f;
    th_canvas *c = th_picture_strips(snaps, 3, 2, 1, 1, 2, 0.0f, 1.0f);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(c->width, 2 + 3 * 3);  /* gap + 3 cells of (1 + gap) */
    CHECK_EQ_INT(c->height, 2 + 2 * 3);
    for (size_t j = 0; j < 3; j++)
        for (size_t k = 0; k < 2; k++) {
            size_t x = 2 + 3 * j, y = 2 + 3 * k;
            uint8_t g = (uint8_t)(51 * (2 * j + k));
            const uint8_t want[3] = {g, g, g};
            CHECK_PIXEL(c->rgb + (y * c->width + x) * 3, want, x, y);
        }
    CHECK_PIXEL(c->rgb, GREY_GAP, 0, 0);
    CHECK_PIXEL(c->rgb + (3 * c->width + 3) * 3, GREY_GAP, 3, 3); /* between cells */
    th_canvas_free(c);
}

/* Fewer images than grid columns use only as many columns as images; a last
 * row that is not full leaves its empty cells in the gap colour. */
static void test_picture_grid_shape(void)
{
    const float two[2] = {1.0f, 1.0f};
    th_canvas *c = th_picture_grid(two, 2, 1, 1, 8, 1, 0.0f, 1.0f);
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ_INT(c->width, 1 + 2 * 2);
        CHECK_EQ_INT(c->height, 1 + 1 * 2);
    }
    th_canvas_free(c);

    const float five[5] = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    c = th_picture_grid(five, 5, 1, 1, 3, 0, 0.0f, 1.0f); /* 3 + 2 cells, no gap */
    CHECK(c != NULL);
    if (c) {
        const uint8_t white[3] = {255, 255, 255};
        CHECK_EQ_INT(c->width, 3);
        CHECK_EQ_INT(c->height, 2);
        CHECK_PIXEL(c->rgb + (1 * 3 + 1) * 3, white, 1, 1);
        CHECK_PIXEL(c->rgb + (1 * 3 + 2) * 3, GREY_GAP, 2, 1);
    }
    th_canvas_free(c);
}

/* Three 1 x 5 fields. Field 0 spans [-2, 2], so its values sit on the RdBu
 * stops -1, -0.5, 0, 0.5, 1. Field 1 is all zero: white. Field 2 holds NaN,
 * infinities and a finite maximum of 3. */
static void test_picture_fields_colours(void)
{
    const float inf = INFINITY;
    const float fields[3 * 5] = {-2.0f, -1.0f, 0.0f, 1.0f, 2.0f, 0.0f, 0.0f, 0.0f,
                                 0.0f,  0.0f,  NAN,  0.0f, 3.0f, inf,  -inf};
    const uint8_t *want[3][5] = {{BLUE_END, BLUE_HALF, WHITE, RED_HALF, RED_END},
                                 {WHITE, WHITE, WHITE, WHITE, WHITE},
                                 {NAN_RGB, WHITE, RED_END, RED_END, BLUE_END}};
    th_canvas *c = th_picture_fields(fields, 3, 1, 5, 3, 1);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(c->width, 1 + 3 * 6);
    CHECK_EQ_INT(c->height, 3);
    for (size_t k = 0; k < 3; k++)
        for (size_t x = 0; x < 5; x++) {
            size_t cx = 1 + 6 * k + x;
            CHECK_PIXEL(c->rgb + (c->width + cx) * 3, want[k][x], cx, 1);
        }
    CHECK_PIXEL(c->rgb, FIELD_GAP, 0, 0);
    CHECK_PIXEL(c->rgb + (c->width + 6) * 3, FIELD_GAP, 6, 1);
    th_canvas_free(c);
}

/* Each field has its own range, so scaling a field by 1000 changes nothing;
 * and the lightness (Rec. 709 luma of the sRGB values) falls steadily from
 * the white middle towards both ends, so larger |v| always reads darker. */
static void test_picture_fields_ramp(void)
{
    enum { N = 201 };
    float ramp[2 * N]; /* field 0: -1..1, field 1: the same times 1000 */
    for (size_t i = 0; i < N; i++) {
        ramp[i] = (float)((double)i / 100.0 - 1.0);
        ramp[N + i] = 1000.0f * ramp[i];
    }
    th_canvas *c = th_picture_fields(ramp, 2, 1, N, 1, 0);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(c->width, N);
    CHECK_EQ_INT(c->height, 2);
    CHECK(memcmp(c->rgb, c->rgb + N * 3, N * 3) == 0);
    double luma[N];
    for (size_t i = 0; i < N; i++) {
        const uint8_t *p = c->rgb + i * 3;
        luma[i] = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
    }
    CHECK_CLOSE(luma[100], 247.0, 1e-9);
    for (size_t i = 100; i + 1 < N; i++) CHECK(luma[i + 1] < luma[i]);
    for (size_t i = 100; i > 0; i--) CHECK(luma[i - 1] < luma[i]);
    th_canvas_free(c);
}

/* UTF-8 well formed (no overlong forms, surrogates or values past U+10FFFF),
 * every line ending in '\n' and holding exactly cols characters. */
static int preview_well_formed(const char *s, size_t cols)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    while (*p) {
        if (*p == '\n') {
            if (chars != cols) return 0;
            chars = 0;
            p++;
            continue;
        }
        size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
                   : (*p & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0) return 0;
        uint32_t cp = len == 1 ? *p : *p & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (p[k] & 0x3f);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        p += len;
        chars++;
    }
    return chars == 0 && p > (const unsigned char *)s && p[-1] == '\n';
}

/* A 4 x 2 pattern on [0, 1]; each character shows the mean of two pixels
 * one above the other, in five equal bins [0, .2) ' ', [.2, .4) light,
 * [.4, .6) medium, [.6, .8) dark, [.8, 1] full block:
 *     rows 0-1, column 0: 0 and 0        -> 0   ' '
 *     rows 0-1, column 1: 1 and 1        -> 1   full block
 *     rows 2-3, column 0: 0.4 and 0.6    -> 0.5 medium shade
 *     rows 2-3, column 1: 1 and 0.4      -> 0.7 dark shade */
static void test_preview_pattern(void)
{
    const float pattern[4 * 2] = {0.0f, 1.0f, 0.0f, 1.0f, 0.4f, 1.0f, 0.6f, 0.4f};
    const char *want = " \xe2\x96\x88\n\xe2\x96\x92\xe2\x96\x93\n";
    char *s = th_preview_utf8(pattern, 4, 2, 0.0f, 1.0f);
    CHECK(s != NULL && strcmp(s, want) == 0);
    if (s && strcmp(s, want) != 0) fprintf(stderr, "  got \"%s\"\n", s);
    CHECK(s && preview_well_formed(s, 2));
    free(s);

    /* The same picture on [-1, 3]: v -> 4 v - 1 keeps every fraction. */
    float moved[8];
    for (size_t k = 0; k < 8; k++) moved[k] = 4.0f * pattern[k] - 1.0f;
    s = th_preview_utf8(moved, 4, 2, -1.0f, 3.0f);
    CHECK(s != NULL && strcmp(s, want) == 0);
    free(s);

    /* Either side of the bin edges 0.2 and 0.8 (rounding 4 x mean to the
     * nearest shade instead would draw 0.19 as light shade). */
    const float edges[2 * 4] = {0.19f, 0.21f, 0.79f, 0.81f, 0.19f, 0.21f, 0.79f, 0.81f};
    s = th_preview_utf8(edges, 2, 4, 0.0f, 1.0f);
    CHECK(s != NULL && strcmp(s, " \xe2\x96\x91\xe2\x96\x93\xe2\x96\x88\n") == 0);
    free(s);

    /* Light shade: 0.3 and 0.3; an odd last row stands alone; NaN is '?'. */
    const float odd[3 * 2] = {0.3f, NAN, 0.3f, 0.0f, 1.0f, 0.1f};
    s = th_preview_utf8(odd, 3, 2, 0.0f, 1.0f);
    CHECK(s != NULL && strcmp(s, "\xe2\x96\x91?\n\xe2\x96\x88 \n") == 0);
    CHECK(s && preview_well_formed(s, 2));
    free(s);
}

/* All black and all white, 3 x 4 (two lines, the second from one row). */
static void test_preview_black_white(void)
{
    float black[12], white[12];
    for (size_t k = 0; k < 12; k++) {
        black[k] = -5.0f; /* below lo: clipped to black */
        white[k] = 1.0f;
    }
    char *s = th_preview_utf8(black, 3, 4, 0.0f, 1.0f);
    CHECK(s != NULL && strcmp(s, "    \n    \n") == 0);
    free(s);
    s = th_preview_utf8(white, 3, 4, 0.0f, 1.0f);
    const char *full = "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\n";
    char want[64];
    snprintf(want, sizeof want, "%s%s", full, full);
    CHECK(s != NULL && strcmp(s, want) == 0);
    CHECK(s && preview_well_formed(s, 4));
    free(s);
}

/* Writing where no file can be: under a file that stands where a folder
 * should be, and a path that is a folder. Both fail with TH_EIO naming the
 * path and leave nothing behind. (A missing folder is created.) */
static void test_png_write_bad_paths(void)
{
    char dir[64], path[128];
    CHECK(make_scratch(dir, sizeof dir) != NULL);
    th_canvas *c = th_canvas_alloc(2, 2, 0);
    CHECK(c != NULL);
    if (!c) return;

    snprintf(path, sizeof path, "%s/a_file", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/a_file/out.png", dir);
    CHECK_EQ_INT(th_png_write(path, c, 1), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), path);
    snprintf(path, sizeof path, "%s/a_file", dir);
    remove(path);

    snprintf(path, sizeof path, "%s/a_folder", dir);
    CHECK_EQ_INT(mkdir(path, 0700), 0);
    CHECK_EQ_INT(th_png_write(path, c, 2), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), path);
    CHECK_EQ_INT(folder_entries(dir), 1); /* a_folder, and no temporary file */
    CHECK_EQ_INT(folder_entries(path), 0);
    rmdir(path);
    th_canvas_free(c);
    remove_scratch(dir, NULL, 0);
}

/* Sizes and arguments that must be refused before anything is allocated or
 * written: the messages say "too large" or name the argument, never an
 * allocation failure. */
static void test_pictures_bad_arguments(void)
{
    CHECK(th_canvas_alloc(0, 5, 0) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "0 x 5");
    CHECK(th_canvas_alloc(5, 0, 0) == NULL);
    CHECK(th_canvas_alloc((size_t)1 << 40, (size_t)1 << 40, 0) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "too large");
    CHECK(th_canvas_alloc(20000, 20000, 0) == NULL); /* each side fine, 4e8 pixels not */
    CHECK_STR_CONTAINS(th_last_error(), "too large");

    char dir[64], path[128];
    CHECK(make_scratch(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/never.png", dir);
    th_canvas empty = {0, 0, NULL};
    CHECK_EQ_INT(th_png_write(path, &empty, 1), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), path);
    th_canvas *c = th_canvas_alloc(4, 4, 0);
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ_INT(th_png_write(path, c, 0), TH_EINVAL);
        CHECK_STR_CONTAINS(th_last_error(), "magnify");
        CHECK_EQ_INT(th_png_write(path, c, (size_t)1 << 62), TH_EINVAL);
        CHECK_STR_CONTAINS(th_last_error(), "too large");
        CHECK_EQ_INT(th_png_write(path, c, 300000), TH_EINVAL); /* 1.2e6 a side */
    }
    th_canvas_free(c);
    CHECK_EQ_INT(folder_entries(dir), 0);
    remove_scratch(dir, NULL, 0);

    /* The buffer holds one value: a picture that would read more must be
     * refused from its sizes alone. */
    const float one = 0.5f;
    CHECK(th_picture_grid(&one, (size_t)1 << 40, 28, 28, 10, 1, 0.0f, 1.0f) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "too large");
    CHECK(th_picture_grid(&one, 1, (size_t)-1, 1, 1, 1, 0.0f, 1.0f) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "overflows");
    CHECK(th_picture_strips(&one, (size_t)1 << 62, (size_t)1 << 62, 1, 1, 0, 0.0f, 1.0f) ==
          NULL);
    CHECK(th_picture_fields(&one, 1, 1, 1, 0, 1) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "grid_cols");
    CHECK(th_picture_fields(&one, (size_t)1 << 50, 1, 1, (size_t)1 << 25, 0) == NULL);
    CHECK(th_picture_grid(&one, 1, 1, 1, 1, 1, 1.0f, 1.0f) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "lo < hi");
    CHECK(th_picture_grid(&one, 1, 1, 1, 1, 1, NAN, 1.0f) == NULL);
    CHECK(th_picture_strips(&one, 1, 1, 1, 1, 1, 0.0f, INFINITY) == NULL);
    CHECK(th_preview_utf8(&one, 0, 1, 0.0f, 1.0f) == NULL);
    CHECK(th_preview_utf8(&one, (size_t)1 << 40, 1, 0.0f, 1.0f) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "too large");
}

void suite_pictures(void);
void suite_pictures(void)
{
    RUN_TEST(test_png_grid_roundtrip);
    RUN_TEST(test_png_plain_and_replace);
    RUN_TEST(test_picture_strips_layout);
    RUN_TEST(test_picture_grid_shape);
    RUN_TEST(test_picture_fields_colours);
    RUN_TEST(test_picture_fields_ramp);
    RUN_TEST(test_preview_pattern);
    RUN_TEST(test_preview_black_white);
    RUN_TEST(test_png_write_bad_paths);
    RUN_TEST(test_pictures_bad_arguments);
}
