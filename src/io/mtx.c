/* mtx.c - Matrix Market files (NIST, "The Matrix Market Exchange Formats:
 * Initial Design", Boisvert, Pozo and Remington, 1996): the dense "array"
 * and sparse "coordinate" formats of real, integer or pattern matrices,
 * general, symmetric or skew-symmetric, read into dense row-major arrays.
 *
 * Layout of a file: a banner "%%MatrixMarket matrix <format> <field>
 * <symmetry>" (case-insensitive), comment lines starting with '%', a size
 * line ("rows cols" for array, "rows cols entries" for coordinate), then
 * the entries: array values column by column (only the lower triangle,
 * diagonal included, for symmetric; strictly below for skew-symmetric),
 * coordinate entries "i j value" with 1-based indices ("i j" for pattern).
 * Symmetric files hold the lower triangle only; the reader mirrors it. */
#include "io/io_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The largest matrix read: 2^26 entries = 512 MiB of doubles. */
#define MTX_MAX_ENTRIES ((size_t)1 << 26)

typedef enum { SYM_GENERAL, SYM_SYMMETRIC, SYM_SKEW } mtx_symmetry;

typedef struct mtx_reader {
    FILE *f;
    const char *path;
    char *line;
    size_t cap;
    size_t lineno;
} mtx_reader;

/* The next line that is not a comment and not blank, with its newline
 * removed; NULL at the end of the file. */
static char *next_line(mtx_reader *r)
{
    for (;;) {
        ssize_t len = getline(&r->line, &r->cap, r->f);
        if (len < 0) return NULL;
        r->lineno++;
        while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
            r->line[--len] = '\0';
        if (r->line[0] == '%') continue;
        const char *p = r->line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p) return r->line;
    }
}

/* Splits a line into at most max whitespace-separated words; returns the
 * count (max + 1 when there are more). */
static size_t split(char *line, char **words, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (n == max) return max + 1;
        words[n++] = w;
    }
    return n;
}

static int parse_size(const char *text, size_t *out)
{
    if (!text || !*text || *text == '-' || *text == '+') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v > (unsigned long long)SIZE_MAX) return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_real(const char *text, double *out)
{
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int fail_at(const mtx_reader *r, const char *fmt, const char *detail)
{
    return th__fail(TH_EFORMAT, "%s, line %zu: %s%s", r->path, r->lineno, fmt, detail);
}

int th_mtx_read(const char *path, double **data, size_t *rows, size_t *cols)
{
    TH_ASSERT(path && data && rows && cols);
    *data = NULL;
    *rows = *cols = 0;
    mtx_reader r = {fopen(path, "r"), path, NULL, 0, 0};
    if (!r.f) return th__fail(TH_EIO, "%s: cannot open: %s", path, strerror(errno));
    int rc = TH_OK;
    double *A = NULL;
    unsigned char *seen = NULL;
    char *words[5];

    /* The banner is the very first line. */
    ssize_t len = getline(&r.line, &r.cap, r.f);
    r.lineno = 1;
    if (len < 0) {
        rc = th__fail(TH_EFORMAT, "%s: empty file: expected a %%%%MatrixMarket banner", path);
        goto done;
    }
    while (len > 0 && (r.line[len - 1] == '\n' || r.line[len - 1] == '\r')) r.line[--len] = '\0';
    if (split(r.line, words, 5) != 5 || strcmp(words[0], "%%MatrixMarket") != 0 ||
        strcasecmp(words[1], "matrix") != 0) {
        rc = fail_at(&r, "expected the banner '%MatrixMarket matrix <array|coordinate> "
                     "<real|integer|pattern> <general|symmetric|skew-symmetric>'", "");
        goto done;
    }
    int coordinate;
    if (strcasecmp(words[2], "coordinate") == 0) {
        coordinate = 1;
    } else if (strcasecmp(words[2], "array") == 0) {
        coordinate = 0;
    } else {
        rc = fail_at(&r, "format: expected 'array' or 'coordinate', got ", words[2]);
        goto done;
    }
    int pattern = 0;
    if (strcasecmp(words[3], "pattern") == 0) {
        pattern = 1;
    } else if (strcasecmp(words[3], "real") != 0 && strcasecmp(words[3], "integer") != 0 &&
               strcasecmp(words[3], "double") != 0) {
        rc = fail_at(&r, "field: expected 'real', 'integer' or 'pattern' (complex is not "
                     "supported), got ", words[3]);
        goto done;
    }
    if (pattern && !coordinate) {
        rc = fail_at(&r, "a 'pattern' matrix must be in 'coordinate' format", "");
        goto done;
    }
    mtx_symmetry sym;
    if (strcasecmp(words[4], "general") == 0) {
        sym = SYM_GENERAL;
    } else if (strcasecmp(words[4], "symmetric") == 0) {
        sym = SYM_SYMMETRIC;
    } else if (strcasecmp(words[4], "skew-symmetric") == 0) {
        sym = SYM_SKEW;
    } else {
        rc = fail_at(&r, "symmetry: expected 'general', 'symmetric' or 'skew-symmetric' "
                     "(hermitian is not supported), got ", words[4]);
        goto done;
    }

    char *line = next_line(&r);
    if (!line) {
        rc = th__fail(TH_EFORMAT, "%s: no size line after the banner", path);
        goto done;
    }
    size_t want = coordinate ? 3 : 2;
    size_t sz[3] = {0, 0, 0};
    if (split(line, words, 3) != want) {
        rc = fail_at(&r, coordinate ? "expected a size line 'rows cols entries'"
                                    : "expected a size line 'rows cols'", "");
        goto done;
    }
    for (size_t k = 0; k < want; k++)
        if (parse_size(words[k], &sz[k]) != 0) {
            rc = fail_at(&r, "size line: expected whole numbers >= 0, got ", words[k]);
            goto done;
        }
    const size_t m = sz[0], n = sz[1];
    if (m == 0 || n == 0 || m > MTX_MAX_ENTRIES || n > MTX_MAX_ENTRIES / m) {
        rc = th__fail(TH_EFORMAT, "%s, line %zu: %zu x %zu matrix: expected 1 to %zu entries",
                      path, r.lineno, m, n, MTX_MAX_ENTRIES);
        goto done;
    }
    if (sym != SYM_GENERAL && m != n) {
        rc = th__fail(TH_EFORMAT, "%s, line %zu: a %s matrix must be square, got %zu x %zu",
                      path, r.lineno, sym == SYM_SKEW ? "skew-symmetric" : "symmetric", m, n);
        goto done;
    }
    A = calloc(m * n, sizeof *A);
    if (!A) {
        rc = th__fail(TH_ENOMEM, "%s: out of memory for %zu x %zu", path, m, n);
        goto done;
    }
    const double mirror = sym == SYM_SKEW ? -1.0 : 1.0;
    if (coordinate) {
        const size_t entries = sz[2];
        size_t cap = sym == SYM_GENERAL ? m * n : (sym == SYM_SYMMETRIC ? n * (n + 1) / 2
                                                                           : n * (n - 1) / 2);
        if (entries > cap) {
            rc = th__fail(TH_EFORMAT, "%s, line %zu: %zu entries: a %zu x %zu matrix of this "
                          "symmetry has at most %zu", path, r.lineno, entries, m, n, cap);
            goto done;
        }
        seen = calloc(m * n, 1);
        if (!seen) {
            rc = th__fail(TH_ENOMEM, "%s: out of memory for %zu x %zu", path, m, n);
            goto done;
        }
        for (size_t e = 0; e < entries; e++) {
            line = next_line(&r);
            if (!line) {
                rc = th__fail(TH_EFORMAT, "%s: %zu entries declared, the file ends after %zu",
                              path, entries, e);
                goto done;
            }
            size_t i, j;
            double v = 1.0;
            size_t nw = split(line, words, 3);
            if (nw != (pattern ? 2u : 3u)) {
                rc = fail_at(&r, pattern ? "expected an entry 'i j'" : "expected an entry "
                             "'i j value'", "");
                goto done;
            }
            if (parse_size(words[0], &i) != 0 || parse_size(words[1], &j) != 0 || i < 1 ||
                j < 1 || i > m || j > n) {
                char where[96];
                snprintf(where, sizeof where, "(%s, %s) of a %zu x %zu matrix", words[0],
                         words[1], m, n);
                rc = fail_at(&r, "index out of range (1-based): ", where);
                goto done;
            }
            if (!pattern && parse_real(words[2], &v) != 0) {
                rc = fail_at(&r, "expected a finite number, got ", words[2]);
                goto done;
            }
            i--;
            j--;
            if ((sym == SYM_SYMMETRIC && j > i) || (sym == SYM_SKEW && j >= i)) {
                rc = fail_at(&r, sym == SYM_SKEW ? "a skew-symmetric file holds entries "
                             "strictly below the diagonal (i > j)" : "a symmetric file holds "
                             "the lower triangle only (i >= j)", "");
                goto done;
            }
            if (seen[i * n + j]) {
                rc = fail_at(&r, "duplicate entry", "");
                goto done;
            }
            seen[i * n + j] = 1;
            A[i * n + j] = v;
            if (sym != SYM_GENERAL && i != j) A[j * n + i] = mirror * v;
        }
    } else {
        for (size_t j = 0; j < n; j++) {
            size_t i0 = sym == SYM_GENERAL ? 0 : (sym == SYM_SYMMETRIC ? j : j + 1);
            for (size_t i = i0; i < m; i++) {
                line = next_line(&r);
                if (!line) {
                    rc = th__fail(TH_EFORMAT, "%s: the file ends before entry (%zu, %zu) of "
                                  "the %zu x %zu array", path, i + 1, j + 1, m, n);
                    goto done;
                }
                double v;
                if (split(line, words, 1) != 1 || parse_real(words[0], &v) != 0) {
                    rc = fail_at(&r, "expected one finite number per line", "");
                    goto done;
                }
                A[i * n + j] = v;
                if (sym != SYM_GENERAL && i != j) A[j * n + i] = mirror * v;
            }
        }
    }
    if (next_line(&r)) {
        rc = fail_at(&r, "more entries than the size line declares", "");
        goto done;
    }
    if (ferror(r.f)) {
        rc = th__fail(TH_EIO, "%s: read error", path);
        goto done;
    }
    *data = A;
    *rows = m;
    *cols = n;
    A = NULL;
done:
    free(A);
    free(seen);
    free(r.line);
    fclose(r.f);
    return rc;
}

int th_mtx_write(const char *path, const double *data, size_t rows, size_t cols,
                 const char *comment)
{
    TH_ASSERT(path && data && rows > 0 && cols > 0);
    if (comment && strpbrk(comment, "\r\n"))
        return th__fail(TH_EINVAL, "%s: the comment must be one line", path);
    for (size_t k = 0; k < rows * cols; k++)
        if (!isfinite(data[k]))
            return th__fail(TH_EINVAL, "%s: entry (%zu, %zu) is not finite", path, k / cols + 1,
                            k % cols + 1);
    char tmp[4096];
    FILE *f = th__atomic_open(path, tmp, sizeof tmp);
    if (!f) return TH_EIO;
    int bad = fprintf(f, "%%%%MatrixMarket matrix array real general\n") < 0;
    if (comment) bad |= fprintf(f, "%% %s\n", comment) < 0;
    bad |= fprintf(f, "%zu %zu\n", rows, cols) < 0;
    for (size_t j = 0; j < cols && !bad; j++)
        for (size_t i = 0; i < rows && !bad; i++)
            bad |= fprintf(f, "%.17g\n", data[i * cols + j]) < 0;
    if (bad) {
        th__atomic_abort(f, tmp);
        return th__fail(TH_EIO, "%s: write failed", path);
    }
    return th__atomic_commit(f, tmp, path);
}
