/* test_mtx.c - Matrix Market files: exact round trips, each format the
 * reader accepts against values written by hand, and malformed files that
 * must fail with a message naming the file and what was wrong. */
#include "harness.h"

#include "thermo.h"

#include <stdlib.h>

static const char *write_text(const char *name, const char *text)
{
    const char *path = scratch(name);
    FILE *f = fopen(path, "w");
    if (!f) return path;
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_mtx_round_trip(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    /* Values that need all 17 digits, and a non-square shape. */
    const double A[6] = {0.1, -1.0 / 3.0, 6.02214076e23, 1e-300, -0.0, 2.0 / 7.0};
    const char *path = scratch("a.mtx");
    CHECK_EQ_INT(th_mtx_write(path, A, 2, 3, "a test matrix"), TH_OK);
    double *B = NULL;
    size_t r = 0, c = 0;
    CHECK_EQ_INT(th_mtx_read(path, &B, &r, &c), TH_OK);
    CHECK_EQ_INT(r, 2);
    CHECK_EQ_INT(c, 3);
    if (B) CHECK(memcmp(A, B, sizeof A) == 0);
    free(B);
    double bad[1] = {NAN};
    CHECK_EQ_INT(th_mtx_write(scratch("nan.mtx"), bad, 1, 1, NULL), TH_EINVAL);
    CHECK_EQ_INT(th_mtx_write(scratch("c.mtx"), A, 1, 1, "two\nlines"), TH_EINVAL);
    scratch_end();
}

static void test_mtx_formats(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    double *A = NULL;
    size_t r, c;
    /* Symmetric array: the lower triangle column by column. */
    const char *p = write_text("sym.mtx", "%%MatrixMarket matrix array real symmetric\n"
                                          "% comment\n\n2 2\n4\n-1\n3\n");
    CHECK_EQ_INT(th_mtx_read(p, &A, &r, &c), TH_OK);
    if (A) {
        CHECK_CLOSE(A[0], 4, 0);
        CHECK_CLOSE(A[1], -1, 0);
        CHECK_CLOSE(A[2], -1, 0);
        CHECK_CLOSE(A[3], 3, 0);
    }
    free(A);
    /* General array is column-major. */
    p = write_text("gen.mtx", "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n");
    CHECK_EQ_INT(th_mtx_read(p, &A, &r, &c), TH_OK);
    if (A) {
        CHECK_CLOSE(A[0], 1, 0);
        CHECK_CLOSE(A[1], 3, 0);
        CHECK_CLOSE(A[2], 2, 0);
        CHECK_CLOSE(A[3], 4, 0);
    }
    free(A);
    /* Coordinate symmetric, integer field, CRLF line ends. */
    p = write_text("coo.mtx", "%%MatrixMarket matrix coordinate integer symmetric\r\n"
                              "3 3 3\r\n1 1 5\r\n3 1 -2\r\n2 2 7\r\n");
    CHECK_EQ_INT(th_mtx_read(p, &A, &r, &c), TH_OK);
    if (A) {
        CHECK_CLOSE(A[0], 5, 0);
        CHECK_CLOSE(A[2], -2, 0);
        CHECK_CLOSE(A[6], -2, 0);
        CHECK_CLOSE(A[4], 7, 0);
        CHECK_CLOSE(A[8], 0, 0);
    }
    free(A);
    /* Skew-symmetric and pattern. */
    p = write_text("skew.mtx", "%%MatrixMarket matrix coordinate real skew-symmetric\n"
                               "2 2 1\n2 1 1.5\n");
    CHECK_EQ_INT(th_mtx_read(p, &A, &r, &c), TH_OK);
    if (A) {
        CHECK_CLOSE(A[2], 1.5, 0);
        CHECK_CLOSE(A[1], -1.5, 0);
    }
    free(A);
    p = write_text("pat.mtx",
                   "%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 3\n2 1\n");
    CHECK_EQ_INT(th_mtx_read(p, &A, &r, &c), TH_OK);
    if (A) {
        CHECK_CLOSE(A[2], 1, 0);
        CHECK_CLOSE(A[3], 1, 0);
        CHECK_CLOSE(A[0], 0, 0);
    }
    free(A);
    scratch_end();
}

static void test_mtx_malformed(void)
{
    if (!scratch_begin()) {
        CHECK(0);
        return;
    }
    struct {
        const char *text, *message;
    } cases[] = {
        {"", "empty"},
        {"%%MatrixMarket tensor array real general\n1 1\n1\n", "banner"},
        {"%%MatrixMarket matrix array complex general\n1 1\n1 0\n", "complex"},
        {"%%MatrixMarket matrix array real hermitian\n1 1\n1\n", "hermitian"},
        {"%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n", "ends before"},
        {"%%MatrixMarket matrix array real general\n1 1\n1\n2\n", "more entries"},
        {"%%MatrixMarket matrix array real general\n1 1\nnan\n", "finite"},
        {"%%MatrixMarket matrix array real general\n1 1\n1e999\n", "finite"},
        {"%%MatrixMarket matrix array real general\n-1 2\n", "whole numbers"},
        {"%%MatrixMarket matrix array real general\n0 2\n", "entries"},
        {"%%MatrixMarket matrix array real general\n100000 100000\n", "entries"},
        {"%%MatrixMarket matrix array real symmetric\n2 3\n", "square"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n", "out of range"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n1 1 2\n", "duplicate"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 2 1\n", "lower triangle"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 5\n", "at most"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n", "ends after"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1\n", "i j value"},
        {"%%MatrixMarket matrix array pattern general\n1 1\n", "coordinate"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.mtx", k);
        const char *p = write_text(name, cases[k].text);
        double *A = (double *)1;
        size_t r = 9, c = 9;
        int rc = th_mtx_read(p, &A, &r, &c);
        if (rc != TH_EFORMAT) fprintf(stderr, "  case %zu: status %d\n", k, rc);
        CHECK_EQ_INT(rc, TH_EFORMAT);
        CHECK(A == NULL && r == 0 && c == 0);
        CHECK_STR_CONTAINS(th_last_error(), cases[k].message);
        CHECK_STR_CONTAINS(th_last_error(), name);
    }
    double *A;
    size_t r, c;
    CHECK_EQ_INT(th_mtx_read(scratch("missing.mtx"), &A, &r, &c), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), "missing.mtx");
    scratch_end();
}

void suite_mtx(void)
{
    RUN_TEST(test_mtx_round_trip);
    RUN_TEST(test_mtx_formats);
    RUN_TEST(test_mtx_malformed);
}
