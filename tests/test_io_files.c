/* test_io_files.c - the chart module (a known point lands on a known pixel,
 * bars, reference lines, text, refusals) and the dataset checks (SHA-256
 * against published vectors, MNIST verification and installation refusing a
 * corrupted file by name, the label statistics). */
#include "harness.h"
#include "thermo.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static int pixel_is(const th_canvas *c, long x, long y, int r, int g, int b)
{
    const uint8_t *p = c->rgb + ((size_t)y * c->width + (size_t)x) * 3;
    return p[0] == r && p[1] == g && p[2] == b;
}

/* ---------------------------------------------------------------- charts */

/* 100 x 100, fixed axes [0, 10], no ticks or text: the plot area is the
 * margins' inside, columns and rows 12 .. 87; the point (5, 5) maps to
 * 12 + 0.5 * 75 = 49.5, rounded to 50, in both directions (rows count
 * down from 87). */
static void test_chart_known_point(void)
{
    const double x = 5.0, y = 5.0;
    th_chart_series s = {.kind = TH_CHART_LINE, .x = &x, .y = &y, .n = 1, .rgb = {200, 30, 30},
                         .markers = 1};
    th_chart ch = {.width = 100, .height = 100,
                   .x = {.scale = TH_CHART_LINEAR, .fixed = 1, .lo = 0, .hi = 10},
                   .y = {.scale = TH_CHART_LINEAR, .fixed = 1, .lo = 0, .hi = 10},
                   .series = &s, .n_series = 1};
    th_chart_frame f;
    CHECK_EQ_INT(th_chart_layout(&ch, &f), TH_OK);
    CHECK_EQ_INT((int)f.left, 12);
    CHECK_EQ_INT((int)f.right, 87);
    CHECK_EQ_INT((int)f.top, 12);
    CHECK_EQ_INT((int)f.bottom, 87);
    CHECK_EQ_INT((int)th_chart_column(&ch, &f, x), 50);
    CHECK_EQ_INT((int)th_chart_row(&ch, &f, y), 50);
    th_canvas *c = th_chart_draw(&ch);
    CHECK(c != NULL);
    if (!c) return;
    CHECK(pixel_is(c, 50, 50, 200, 30, 30));   /* the marker's centre */
    CHECK(pixel_is(c, 47, 53, 200, 30, 30));   /* its corner, 3 off */
    CHECK(pixel_is(c, 46, 50, 255, 255, 255)); /* just outside it */
    CHECK(pixel_is(c, 11, 40, 0, 0, 0));       /* y axis, left of the plot */
    CHECK(pixel_is(c, 40, 88, 0, 0, 0));       /* x axis, below it */
    th_canvas_free(c);
}

/* Log axes map decades linearly; a title, axis titles, numbers and a legend
 * add black text; a horizontal reference line and bars land where the frame
 * says. */
static void test_chart_log_text_and_bars(void)
{
    const double t[3] = {1e-3, 1e-2, 1e-1}, e[3] = {1e-1, 1e-2, 1e-3}, floor_y = 1e-2;
    const double edges[3] = {1e-3, 1e-2, 1e-1}, heights[2] = {1e-1, 1e-2};
    th_chart_series ser[3] = {
        {.kind = TH_CHART_BARS, .x = edges, .y = heights, .n = 2, .rgb = {70, 130, 180}},
        {.kind = TH_CHART_HLINE, .y = &floor_y, .n = 1, .rgb = {120, 120, 120}, .pen = 1},
        {.kind = TH_CHART_LINE, .x = t, .y = e, .n = 3, .rgb = {200, 30, 30}, .label = "error"},
    };
    th_chart ch = {.width = 400, .height = 300, .title = "Error against time",
                   .x = {.scale = TH_CHART_LOG, .numbers = 1, .title = "time (s)"},
                   .y = {.scale = TH_CHART_LOG, .numbers = 1, .title = "error"},
                   .series = ser, .n_series = 3};
    th_chart_frame f;
    CHECK_EQ_INT(th_chart_layout(&ch, &f), TH_OK);
    CHECK_CLOSE(f.x_lo, 1e-3, 1e-15);
    CHECK_CLOSE(f.x_hi, 1e-1, 1e-15);
    /* Two decades: 1e-2 sits halfway. */
    CHECK(labs(th_chart_column(&ch, &f, 1e-2) - (f.left + f.right) / 2) <= 1);
    th_canvas *c = th_chart_draw(&ch);
    CHECK(c != NULL);
    if (!c) return;
    size_t title_black = 0;
    for (long y = 0; y < f.top; y++)
        for (long x = 0; x < (long)c->width; x++) title_black += pixel_is(c, x, y, 0, 0, 0);
    CHECK(title_black > 50);
    size_t label_black = 0; /* y numbers and title, left of the axis and its ticks */
    for (long y = f.top; y <= f.bottom; y++)
        for (long x = 0; x < f.left - 6; x++) label_black += pixel_is(c, x, y, 0, 0, 0);
    CHECK(label_black > 50);
    /* The first bar reaches 1e-1, the top of the range, from the bottom. */
    const long bar_x = f.left + 5;
    CHECK(pixel_is(c, bar_x, f.bottom, 70, 130, 180));
    CHECK(pixel_is(c, bar_x, f.top, 70, 130, 180));
    /* The second bar, 1e-2, is half as tall: white above its middle. */
    const long bar2 = f.right - 10;
    CHECK(pixel_is(c, bar2, f.bottom, 70, 130, 180));
    CHECK(pixel_is(c, bar2, f.top + 10, 255, 255, 255));
    /* The reference line crosses the plot at the row of 1e-2. */
    const long row = th_chart_row(&ch, &f, floor_y);
    CHECK(pixel_is(c, (f.left + f.right) / 2 + 20, row, 120, 120, 120) ||
          pixel_is(c, (f.left + f.right) / 2 + 20, row, 200, 30, 30));
    th_canvas_free(c);
}

static void test_chart_text_and_refusals(void)
{
    th_canvas *c = th_canvas_alloc(20, 10, 255);
    CHECK(c != NULL);
    if (!c) return;
    /* '1': the top row of its glyph is one pixel in the middle column. */
    th_canvas_text(c, 0, 0, "1", 0);
    CHECK(pixel_is(c, 2, 0, 0, 0, 0));
    CHECK(pixel_is(c, 0, 0, 255, 255, 255));
    CHECK(pixel_is(c, 1, 6, 0, 0, 0)); /* its foot, 5 wide */
    CHECK_EQ_INT((int)th_chart_text_width("1e-3"), 23);
    th_canvas_free(c);

    const double x[2] = {1.0, 2.0}, y[2] = {NAN, INFINITY};
    th_chart_series s = {.kind = TH_CHART_LINE, .x = x, .y = y, .n = 2};
    th_chart ch = {.width = 300, .height = 200, .series = &s, .n_series = 1};
    CHECK(th_chart_draw(&ch) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "y axis: no finite value");
    ch.y = (th_chart_axis){.fixed = 1, .lo = 1.0, .hi = 1.0};
    CHECK(th_chart_draw(&ch) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "expected finite lo < hi");
    ch.y.hi = 2.0;
    ch.width = 30;
    CHECK(th_chart_draw(&ch) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "too small");
}

/* -------------------------------------------------------------- datasets */

static void test_sha256_vectors(void)
{
    /* FIPS 180-4 examples, and the empty message; 56 bytes force a second
     * padding block. */
    char hex[65];
    th_sha256("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    th_sha256("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    th_sha256(m, strlen(m), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
    CHECK_EQ_INT(th_sha256_file("/nonexistent/thermo-file", hex), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "/nonexistent/thermo-file");
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static int have_mnist(void)
{
    return access("data/mnist/t10k-labels-idx1-ubyte", R_OK) == 0;
}

/* A copy of MNIST's small test labels with one byte changed; the other three
 * files linked. Verification names the changed file; installation from such
 * a folder refuses it and leaves its target as it was. */
static void test_mnist_verify_rejects_corruption(void)
{
    char root[] = "/tmp/thermo-mnist-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char src[64], dst[64], path[128], target[128];
    snprintf(src, sizeof src, "%s/src", root);
    snprintf(dst, sizeof dst, "%s/dst", root);
    CHECK_EQ_INT(th_mkdir_p(src), TH_OK);
    char hex[TH_MNIST_FILES][65];
    for (int k = 0; k < TH_MNIST_FILES; k++) {
        snprintf(path, sizeof path, "%s/%s", src, th_mnist_files[k].name);
        if (have_mnist() && k < 3) {
            char *cwd = getcwd(NULL, 0);
            snprintf(target, sizeof target, "%s/data/mnist/%s", cwd, th_mnist_files[k].name);
            free(cwd);
            CHECK(symlink(target, path) == 0);
        } else if (have_mnist()) {
            /* the real labels, the first label changed */
            FILE *in = fopen("data/mnist/t10k-labels-idx1-ubyte", "rb");
            FILE *out = fopen(path, "wb");
            CHECK(in && out);
            int ch, at = 0;
            while (in && out && (ch = fgetc(in)) != EOF) fputc(at++ == 8 ? ch ^ 1 : ch, out);
            if (in) fclose(in);
            if (out) fclose(out);
        } else {
            CHECK(write_file(path, "not MNIST") == 0);
        }
    }
    const char *bad = have_mnist() ? "t10k-labels-idx1-ubyte" : "train-images-idx3-ubyte";
    CHECK_EQ_INT(th_mnist_verify(src, hex), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), bad);
    CHECK_STR_CONTAINS(th_last_error(), "expected");
    if (have_mnist()) CHECK(strcmp(hex[0], th_mnist_files[0].sha256) == 0);

    CHECK_EQ_INT(th_mnist_install(src, dst, NULL), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), bad);
    for (int k = 0; k < TH_MNIST_FILES; k++) {
        snprintf(path, sizeof path, "%s/%s", dst, th_mnist_files[k].name);
        CHECK(access(path, F_OK) != 0); /* nothing moved into place */
    }
    /* A missing file: TH_EIO naming it. */
    snprintf(path, sizeof path, "%s/%s", src, th_mnist_files[1].name);
    unlink(path);
    CHECK_EQ_INT(th_mnist_verify(src, NULL), have_mnist() ? TH_EIO : TH_EFORMAT);
    if (have_mnist()) CHECK_STR_CONTAINS(th_last_error(), th_mnist_files[1].name);

    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf -- %s", root);
    CHECK(system(cmd) == 0);
}

/* The real MNIST verifies, and its labels give ten classes. */
static void test_mnist_verify_and_stats(void)
{
    if (!have_mnist()) return;
    char hex[TH_MNIST_FILES][65];
    CHECK_EQ_INT(th_mnist_verify("data/mnist", hex), TH_OK);
    for (int k = 0; k < TH_MNIST_FILES; k++) CHECK(strcmp(hex[k], th_mnist_files[k].sha256) == 0);
    th_dataset *d = NULL;
    CHECK_EQ_INT(th_dataset_load_dir("data/mnist", "t10k", &d), TH_OK);
    if (!d) return;
    th_dataset_stats st;
    th_dataset_stats_compute(d, &st);
    CHECK_EQ_INT((int)st.n_classes, 10);
    size_t total = 0;
    for (int c = 0; c < 256; c++) total += st.label_count[c];
    CHECK_EQ_INT((int)total, 10000);
    CHECK(st.mean_grey > 20.0 && st.mean_grey < 50.0);
    th_dataset_free(d);
}

static void test_dataset_link(void)
{
    char root[] = "/tmp/thermo-link-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char src[64], dst[64], path[128];
    snprintf(src, sizeof src, "%s/src", root);
    snprintf(dst, sizeof dst, "%s/a/b", root);
    CHECK_EQ_INT(th_mkdir_p(src), TH_OK);
    snprintf(path, sizeof path, "%s/one", src);
    CHECK(write_file(path, "1") == 0);
    const char *names[1] = {"one"};
    CHECK_EQ_INT(th_dataset_link(src, dst, names, 1), TH_OK);
    snprintf(path, sizeof path, "%s/one", dst);
    CHECK(access(path, R_OK) == 0);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf -- %s", root);
    CHECK(system(cmd) == 0);
}

void suite_io_files(void)
{
    RUN_TEST(test_chart_known_point);
    RUN_TEST(test_chart_log_text_and_bars);
    RUN_TEST(test_chart_text_and_refusals);
    RUN_TEST(test_sha256_vectors);
    RUN_TEST(test_mnist_verify_rejects_corruption);
    RUN_TEST(test_mnist_verify_and_stats);
    RUN_TEST(test_dataset_link);
}
