/* test_idx.c - IDX datasets: files written here byte by byte (raw and through
 * zlib's gzip writer) read back exactly; every kind of damage rejected with a
 * message naming the file and the problem; standardisation against values
 * worked out by hand; the embedded PRL digits against the full MNIST. */
#include "harness.h"
#include "thermo.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------- scratch folder */


/* ------------------------------------------------- an IDX writer by hand */

/* The file's bytes: magic 0x00 0x00 type n_dims, big-endian uint32 sizes,
 * then the data as given (the caller decides whether it fits the sizes), then
 * n_extra bytes of 0xAB. Returns the length; buf must be large enough. */
static size_t idx_bytes(uint8_t *buf, uint8_t type, size_t n_dims, const uint32_t *dims,
                        const uint8_t *data, size_t n_data, size_t n_extra)
{
    size_t at = 0;
    buf[at++] = 0;
    buf[at++] = 0;
    buf[at++] = type;
    buf[at++] = (uint8_t)n_dims;
    for (size_t k = 0; k < n_dims; k++) {
        buf[at++] = (uint8_t)(dims[k] >> 24);
        buf[at++] = (uint8_t)(dims[k] >> 16);
        buf[at++] = (uint8_t)(dims[k] >> 8);
        buf[at++] = (uint8_t)dims[k];
    }
    for (size_t i = 0; i < n_data; i++) buf[at++] = data[i];
    for (size_t i = 0; i < n_extra; i++) buf[at++] = 0xAB;
    return at;
}

static void write_raw(const char *path, const uint8_t *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "  cannot write %s\n", path);
        abort();
    }
}

static void write_gz(const char *path, const uint8_t *bytes, size_t n)
{
    gzFile g = gzopen(path, "wb");
    if (!g || (n && gzwrite(g, bytes, (unsigned)n) != (int)n) || gzclose(g) != Z_OK) {
        fprintf(stderr, "  cannot write %s\n", path);
        abort();
    }
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Three 2 x 3 images: pixel (k, i) = 40 k + 7 i + 1, and labels 7, 0, 12
 * (a label above 9 is the dataset's business, not the reader's). */
#define N_IMG 3
#define ROWS 2
#define COLS 3
static uint8_t img_data[N_IMG * ROWS * COLS];
static const uint8_t lab_data[N_IMG] = {7, 0, 12};
static const uint32_t img_dims[3] = {N_IMG, ROWS, COLS};
static const uint32_t lab_dims[1] = {N_IMG};

static void fill_images(void)
{
    for (int k = 0; k < N_IMG; k++)
        for (int i = 0; i < ROWS * COLS; i++)
            img_data[k * ROWS * COLS + i] = (uint8_t)(40 * k + 7 * i + 1);
}

static size_t good_images(uint8_t *buf) { return idx_bytes(buf, 0x08, 3, img_dims, img_data, sizeof img_data, 0); }
static size_t good_labels(uint8_t *buf) { return idx_bytes(buf, 0x08, 1, lab_dims, lab_data, N_IMG, 0); }

/* ---------------------------------------------------------------- tests */

static void check_read(const char *path)
{
    size_t dims[4] = {9, 9, 9, 9}, n_dims = 0;
    uint8_t *data = NULL;
    int rc = th_idx_read_u8(path, dims, &n_dims, &data);
    CHECK_EQ_INT(rc, TH_OK);
    if (rc != TH_OK) {
        fprintf(stderr, "  %s\n", th_last_error());
        return;
    }
    CHECK_EQ_INT(n_dims, 3);
    CHECK_EQ_INT(dims[0], N_IMG);
    CHECK_EQ_INT(dims[1], ROWS);
    CHECK_EQ_INT(dims[2], COLS);
    CHECK_EQ_INT(dims[3], 0);
    CHECK(data && memcmp(data, img_data, sizeof img_data) == 0);
    free(data);
}

static void test_idx_read_raw_and_gzip(void)
{
    fill_images();
    if (!scratch_begin()) { CHECK(!"mkdtemp"); return; }
    uint8_t buf[256];
    size_t n = good_images(buf);
    /* Names that say the opposite of the content: detection is by content. */
    const char *raw = scratch("looks-compressed.gz");
    const char *gz = scratch("looks-raw");
    write_raw(raw, buf, n);
    write_gz(gz, buf, n);
    CHECK_EQ_INT(file_size(raw), 4 + 3 * 4 + N_IMG * ROWS * COLS);
    CHECK(file_size(gz) > 0);
    check_read(raw);
    check_read(gz);
    scratch_end();
}

/* Writes bytes to a file of the given name (raw or gzip) and expects the
 * reader to refuse it with status and a message containing the name and
 * each of the needles. */
static void expect_idx_error(const char *name, const uint8_t *bytes, size_t n, int gz,
                             int status, const char *needle1, const char *needle2)
{
    const char *path = scratch(name);
    if (gz) write_gz(path, bytes, n);
    else write_raw(path, bytes, n);
    size_t dims[4], n_dims = 7;
    uint8_t *data = (uint8_t *)1;
    int rc = th_idx_read_u8(path, dims, &n_dims, &data);
    CHECK_EQ_INT(rc, status);
    CHECK(data == NULL);
    CHECK_EQ_INT(n_dims, 0);
    CHECK_STR_CONTAINS(th_last_error(), path);
    if (needle1) CHECK_STR_CONTAINS(th_last_error(), needle1);
    if (needle2) CHECK_STR_CONTAINS(th_last_error(), needle2);
}

static void test_idx_rejects_bad_headers(void)
{
    fill_images();
    if (!scratch_begin()) { CHECK(!"mkdtemp"); return; }
    uint8_t buf[256];
    size_t n = good_images(buf);

    uint8_t bad[256];
    memcpy(bad, buf, n);
    bad[0] = 0x50; /* "PK": a zip archive, say */
    bad[1] = 0x4b;
    expect_idx_error("zip", bad, n, 0, TH_EFORMAT, "not an IDX file", "0x50 0x4b");

    /* Type 0x0D is IDX's float; it must be named in the message. */
    memcpy(bad, buf, n);
    bad[2] = 0x0d;
    expect_idx_error("float", bad, n, 0, TH_EFORMAT, "type code 0x0d", "0x08");
    expect_idx_error("float.gz", bad, n, 1, TH_EFORMAT, "type code 0x0d", NULL);

    uint8_t zero_dims[4] = {0, 0, 8, 0};
    expect_idx_error("nodims", zero_dims, 4, 0, TH_EFORMAT, "0 dimensions", "1 to 4");
    uint32_t five[5] = {1, 1, 1, 1, 1};
    n = idx_bytes(bad, 0x08, 5, five, img_data, 1, 0);
    expect_idx_error("fivedims", bad, n, 0, TH_EFORMAT, "5 dimensions", NULL);

    uint32_t has_zero[3] = {3, 0, 3};
    n = idx_bytes(bad, 0x08, 3, has_zero, NULL, 0, 0);
    expect_idx_error("zerodim", bad, n, 0, TH_EFORMAT, "dimension 1 has size 0", NULL);

    /* 65536 x 65536 bytes = 2^32: refused from the header alone, before any
     * allocation (under ASan a 4 GiB malloc would fail loudly). */
    uint32_t huge[3] = {65536, 65536, 1};
    n = idx_bytes(bad, 0x08, 3, huge, img_data, 4, 0);
    expect_idx_error("huge", bad, n, 0, TH_EFORMAT, "65536 x 65536", "2^31");
    uint32_t huge2[1] = {0xFFFFFFFFu};
    n = idx_bytes(bad, 0x08, 1, huge2, img_data, 4, 0);
    expect_idx_error("huge1", bad, n, 0, TH_EFORMAT, "4294967295", "2^31");

    expect_idx_error("empty", buf, 0, 0, TH_EFORMAT, "0 bytes", "magic");
    expect_idx_error("shorthdr", buf, 9, 0, TH_EFORMAT, "truncated header", "found 5");
    expect_idx_error("shorthdr.gz", buf, 9, 1, TH_EFORMAT, "truncated header",
                     "after decompression");
    scratch_end();
}

static void test_idx_rejects_bad_data(void)
{
    fill_images();
    if (!scratch_begin()) { CHECK(!"mkdtemp"); return; }
    uint8_t buf[256];
    size_t n = good_images(buf);
    expect_idx_error("short", buf, n - 1, 0, TH_EFORMAT, "truncated", "3 x 2 x 3 = 18 bytes");
    expect_idx_error("short.gz", buf, n - 5, 1, TH_EFORMAT, "holds 13 after decompression",
                     NULL);

    uint8_t longer[256];
    size_t n_long = idx_bytes(longer, 0x08, 3, img_dims, img_data, sizeof img_data, 1);
    expect_idx_error("long", longer, n_long, 0, TH_EFORMAT, "trailing bytes", "18 bytes");
    expect_idx_error("long.gz", longer, n_long, 1, TH_EFORMAT, "trailing bytes",
                     "after decompression");

    /* A gzip download cut off midway: zlib's own stream, its tail removed. */
    const char *whole = scratch("whole.gz");
    write_gz(whole, buf, n);
    long gz_len = file_size(whole);
    FILE *f = fopen(whole, "rb");
    uint8_t gzbuf[512];
    size_t gz_n = f ? fread(gzbuf, 1, sizeof gzbuf, f) : 0;
    if (f) fclose(f);
    CHECK_EQ_INT(gz_n, gz_len);
    /* Without its 8-byte trailer (CRC-32, length) all the data is there but
     * cannot be checked; without more, the data itself is short. */
    expect_idx_error("notrailer.gz", gzbuf, gz_n - 8, 0, TH_EFORMAT, "gzip stream is cut short",
                     NULL);
    expect_idx_error("halfgz.gz", gzbuf, gz_n / 2, 0, TH_EFORMAT, "cut short", NULL);

    /* Bytes after the gzip stream that are no further gzip member. */
    uint8_t tail[600];
    memcpy(tail, gzbuf, gz_n);
    memcpy(tail + gz_n, "junk", 4);
    expect_idx_error("junk.gz", tail, gz_n + 4, 0, TH_EFORMAT,
                     "trailing bytes after the end of the gzip stream", NULL);

    /* Two gzip members back to back are one valid stream (as from
     * cat a.gz b.gz), even when the split falls inside the header. */
    const char *part1 = scratch("part1.gz"), *part2 = scratch("part2.gz");
    write_gz(part1, buf, 6);
    write_gz(part2, buf + 6, n - 6);
    uint8_t two[600];
    size_t n_two = 0;
    const char *parts[2] = {part1, part2};
    for (int k = 0; k < 2; k++) {
        FILE *pf = fopen(parts[k], "rb");
        if (pf) {
            n_two += fread(two + n_two, 1, sizeof two - n_two, pf);
            fclose(pf);
        }
    }
    const char *joined = scratch("joined.gz");
    write_raw(joined, two, n_two);
    check_read(joined);

    /* A flipped bit in the CRC-32 trailer: zlib's check must surface. */
    gzbuf[gz_n - 8] ^= 0x01;
    expect_idx_error("badcrc.gz", gzbuf, gz_n, 0, TH_EFORMAT, "corrupt gzip stream", NULL);
    scratch_end();
}

static void test_idx_rejects_missing_and_directory(void)
{
    if (!scratch_begin()) { CHECK(!"mkdtemp"); return; }
    size_t dims[4], n_dims;
    uint8_t *data = NULL;
    const char *missing = scratch("nothing-here");
    CHECK_EQ_INT(th_idx_read_u8(missing, dims, &n_dims, &data), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), missing);
    CHECK_STR_CONTAINS(th_last_error(), "cannot open");

    const char *dir = scratch("a-folder");
    CHECK(mkdir(dir, 0700) == 0);
    CHECK_EQ_INT(th_idx_read_u8(dir, dims, &n_dims, &data), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), dir);
    CHECK_STR_CONTAINS(th_last_error(), "is a directory");
    CHECK(data == NULL);
    scratch_end();
}

static void test_dataset_load_and_dir(void)
{
    fill_images();
    if (!scratch_begin()) { CHECK(!"mkdtemp"); return; }
    uint8_t ibuf[256], lbuf[64];
    size_t ni = good_images(ibuf), nl = good_labels(lbuf);
    /* train: raw images, gzip labels; t10k: the other way round. */
    const char *train_images = scratch("train-images-idx3-ubyte");
    write_raw(train_images, ibuf, ni);
    write_gz(scratch("train-labels-idx1-ubyte.gz"), lbuf, nl);
    write_gz(scratch("t10k-images-idx3-ubyte.gz"), ibuf, ni);
    write_raw(scratch("t10k-labels-idx1-ubyte"), lbuf, nl);
    const char *splits[2] = {"train", "t10k"};
    for (int s = 0; s < 2; s++) {
        th_dataset *d = NULL;
        int rc = th_dataset_load_dir(scratch_dir, splits[s], &d);
        CHECK_EQ_INT(rc, TH_OK);
        if (rc != TH_OK) {
            fprintf(stderr, "  %s\n", th_last_error());
            continue;
        }
        CHECK_EQ_INT(d->count, N_IMG);
        CHECK_EQ_INT(d->rows, ROWS);
        CHECK_EQ_INT(d->cols, COLS);
        CHECK(memcmp(d->pixels, img_data, sizeof img_data) == 0);
        CHECK(d->labels && memcmp(d->labels, lab_data, N_IMG) == 0);
        th_dataset_free(d);
    }

    /* Images alone. */
    th_dataset *d = NULL;
    CHECK_EQ_INT(th_dataset_load(train_images, NULL, &d), TH_OK);
    CHECK(d && d->labels == NULL && d->count == N_IMG);
    th_dataset_free(d);
    th_dataset_free(NULL);

    d = (th_dataset *)1;
    CHECK_EQ_INT(th_dataset_load_dir(scratch_dir, "test", &d), TH_EINVAL);
    CHECK_STR_CONTAINS(th_last_error(), "'test'");
    CHECK(d == NULL);
    scratch_end();
}

static void test_dataset_rejects_mismatch(void)
{
    fill_images();
    if (!scratch_begin()) { CHECK(!"mkdtemp"); return; }
    uint8_t ibuf[256], lbuf[64];
    size_t ni = good_images(ibuf);
    const char *images = scratch("images");
    write_raw(images, ibuf, ni);

    /* Two labels for three images. */
    uint32_t two[1] = {2};
    size_t nl = idx_bytes(lbuf, 0x08, 1, two, lab_data, 2, 0);
    const char *labels = scratch("labels");
    write_raw(labels, lbuf, nl);
    th_dataset *d = (th_dataset *)1;
    CHECK_EQ_INT(th_dataset_load(images, labels, &d), TH_EFORMAT);
    CHECK(d == NULL);
    CHECK_STR_CONTAINS(th_last_error(), labels);
    CHECK_STR_CONTAINS(th_last_error(), "labels file has 2 items");
    CHECK_STR_CONTAINS(th_last_error(), "has 3");

    /* Labels as a 3 x 1 matrix. */
    uint32_t col[2] = {3, 1};
    nl = idx_bytes(lbuf, 0x08, 2, col, lab_data, 3, 0);
    const char *labels2 = scratch("labels2");
    write_raw(labels2, lbuf, nl);
    CHECK_EQ_INT(th_dataset_load(images, labels2, &d), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), labels2);
    CHECK_STR_CONTAINS(th_last_error(), "2 dimensions (3 x 1), expected 1");

    /* Images with 2 dimensions (a labels file passed as images). */
    CHECK_EQ_INT(th_dataset_load(labels2, NULL, &d), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), labels2);
    CHECK_STR_CONTAINS(th_last_error(), "images file has 2 dimensions");

    /* An image side beyond 4096. */
    uint32_t wide[3] = {1, 1, 5000};
    static uint8_t big[5100];
    uint8_t pix[5000] = {0};
    size_t nw = idx_bytes(big, 0x08, 3, wide, pix, sizeof pix, 0);
    const char *wide_path = scratch("wide");
    write_raw(wide_path, big, nw);
    CHECK_EQ_INT(th_dataset_load(wide_path, NULL, &d), TH_EFORMAT);
    CHECK_STR_CONTAINS(th_last_error(), wide_path);
    CHECK_STR_CONTAINS(th_last_error(), "1 x 5000 pixels");

    /* A folder without the labels: both names tried are listed. */
    const char *sub = scratch("only-images");
    CHECK(mkdir(sub, 0700) == 0);
    char name[160];
    snprintf(name, sizeof name, "only-images/train-images-idx3-ubyte");
    write_raw(scratch(name), ibuf, ni);
    CHECK_EQ_INT(th_dataset_load_dir(sub, "train", &d), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "train-labels-idx1-ubyte and ");
    CHECK_STR_CONTAINS(th_last_error(), "train-labels-idx1-ubyte.gz");

    /* A folder where the images file should be. */
    uint32_t three[1] = {3};
    nl = idx_bytes(lbuf, 0x08, 1, three, lab_data, 3, 0);
    snprintf(name, sizeof name, "only-images/t10k-labels-idx1-ubyte");
    write_raw(scratch(name), lbuf, nl);
    snprintf(name, sizeof name, "only-images/t10k-images-idx3-ubyte");
    const char *imgdir = scratch(name);
    CHECK(mkdir(imgdir, 0700) == 0);
    CHECK_EQ_INT(th_dataset_load_dir(sub, "t10k", &d), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), imgdir);
    CHECK_STR_CONTAINS(th_last_error(), "is a directory");
    scratch_end();
}

static void test_dataset_standardize(void)
{
    /* Image 0: half 0, half 255: mean 127.5, population sd 127.5, so every
     * value is exactly -1 or +1. Image 1: 0, 1, 2, 3: mean 1.5, variance
     * 1.25, values (i - 1.5) / sqrt(1.25). Image 2: blank, maps to zeros. */
    uint8_t pixels[3 * 4] = {0, 255, 255, 0, 0, 1, 2, 3, 9, 9, 9, 9};
    th_dataset d = {.count = 3, .rows = 2, .cols = 2, .pixels = pixels, .labels = NULL};
    float out[4];
    th_dataset_standardize(&d, 0, out);
    const float want0[4] = {-1, 1, 1, -1};
    for (int i = 0; i < 4; i++) CHECK_CLOSE(out[i], want0[i], 1e-7);
    th_dataset_standardize(&d, 1, out);
    for (int i = 0; i < 4; i++) CHECK_CLOSE(out[i], (i - 1.5) / sqrt(1.25), 1e-6);
    th_dataset_standardize(&d, 2, out);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(out[i] == 0.0f, 1);

    /* A 28 x 28 image of an uneven pattern: the mean and the variance of
     * the output, summed here in double, are 0 and 1. */
    uint8_t big[784];
    for (int i = 0; i < 784; i++) big[i] = (uint8_t)((i * i * 37 + 11 * i) % 256);
    th_dataset e = {.count = 1, .rows = 28, .cols = 28, .pixels = big, .labels = NULL};
    float z[784];
    th_dataset_standardize(&e, 0, z);
    double s = 0, ss = 0;
    for (int i = 0; i < 784; i++) s += (double)z[i];
    for (int i = 0; i < 784; i++) ss += ((double)z[i] - s / 784) * ((double)z[i] - s / 784);
    CHECK_CLOSE(s / 784, 0.0, 1e-6);
    CHECK_CLOSE(ss / 784, 1.0, 1e-5);
}

/* Reads image idx of an MNIST images file and its label with plain stdio,
 * independently of the library's reader: the image starts at byte
 * 16 + 784 idx, the label at byte 8 + idx. */
static int mnist_raw(const char *images, const char *labels, long idx, uint8_t img[784],
                     uint8_t *label)
{
    FILE *fi = fopen(images, "rb"), *fl = fopen(labels, "rb");
    int ok = fi && fl && fseek(fi, 16 + 784 * idx, SEEK_SET) == 0 &&
             fread(img, 1, 784, fi) == 784 && fseek(fl, 8 + idx, SEEK_SET) == 0 &&
             fread(label, 1, 1, fl) == 1;
    if (fi) fclose(fi);
    if (fl) fclose(fl);
    return ok;
}

static void test_dataset_embedded_prl_digits(void)
{
    th_dataset *d = NULL;
    int rc = th_dataset_load_dir("data/prl2026", "train", &d);
    CHECK_EQ_INT(rc, TH_OK);
    if (rc != TH_OK) {
        fprintf(stderr, "  %s (run the tests from the repository root)\n", th_last_error());
        return;
    }
    CHECK_EQ_INT(d->count, 3);
    CHECK_EQ_INT(d->rows, 28);
    CHECK_EQ_INT(d->cols, 28);
    CHECK(d->labels != NULL);
    for (size_t k = 0; k < 3 && d->labels; k++) CHECK_EQ_INT(d->labels[k], k);
    /* Real digits, not a blank: MNIST strokes cover about a fifth of the
     * pixels. */
    for (size_t k = 0; k < 3; k++) {
        size_t ink = 0;
        for (size_t i = 0; i < 784; i++) ink += d->pixels[k * 784 + i] > 0;
        CHECK(ink > 50 && ink < 400);
    }

    const char *images = "data/mnist/train-images-idx3-ubyte";
    const char *labels = "data/mnist/train-labels-idx1-ubyte";
    if (access(images, R_OK) != 0 || access(labels, R_OK) != 0) {
        printf("     note: data/mnist absent (make data): embedded digits not compared "
               "with MNIST\n");
        th_dataset_free(d);
        return;
    }
    /* Scan the training labels for the first 0, 1 and 2. */
    long first[3] = {-1, -1, -1};
    FILE *fl = fopen(labels, "rb");
    CHECK(fl != NULL);
    if (fl && fseek(fl, 8, SEEK_SET) == 0) {
        int c;
        for (long i = 0; (c = fgetc(fl)) != EOF && (first[0] < 0 || first[1] < 0 || first[2] < 0);
             i++)
            if (c < 3 && first[c] < 0) first[c] = i;
    }
    if (fl) fclose(fl);
    /* The indices PROVENANCE.md records. */
    CHECK_EQ_INT(first[0], 1);
    CHECK_EQ_INT(first[1], 3);
    CHECK_EQ_INT(first[2], 5);
    for (int k = 0; k < 3; k++) {
        uint8_t img[784], label = 255;
        CHECK(first[k] >= 0 && mnist_raw(images, labels, first[k], img, &label));
        CHECK_EQ_INT(label, k);
        CHECK(memcmp(img, d->pixels + (size_t)k * 784, 784) == 0);
    }
    th_dataset_free(d);
}

void suite_idx(void);
void suite_idx(void)
{
    RUN_TEST(test_idx_read_raw_and_gzip);
    RUN_TEST(test_idx_rejects_bad_headers);
    RUN_TEST(test_idx_rejects_bad_data);
    RUN_TEST(test_idx_rejects_missing_and_directory);
    RUN_TEST(test_dataset_load_and_dir);
    RUN_TEST(test_dataset_rejects_mismatch);
    RUN_TEST(test_dataset_standardize);
    RUN_TEST(test_dataset_embedded_prl_digits);
}
