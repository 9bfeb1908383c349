/* data.c - reading back what ngspice wrote: wrdata's columns (set
 * wr_singlescale, wr_vecnames: one line of vector names, the scale "time"
 * first, then a row of numbers per output time), the netlist's saved node
 * voltages picked out by name. */
#include "circuit/circuit_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define NAME_LEN 40

void th_circuit_data_free(th_circuit_data *d)
{
    if (!d) return;
    free(d->time);
    free(d->v);
    free(d);
}

/* Splits line into whitespace-separated words in place; at most max. */
static size_t split(char *line, char **words, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == max) return max + 1;
        words[n++] = w;
    }
    return n;
}

/* col[q] = the column of saved vector q (copies x units, in that order). */
static int map_columns(const char *path, char **words, size_t n_words, const th_circuit *c,
                       size_t *col)
{
    const size_t nv = c->info.copies * c->info.units;
    if (n_words < 1 || strcmp(words[0], "time") != 0)
        return th__fail(TH_EFORMAT, "%s: line 1: expected vector names starting with 'time' "
                        "(ngspice's wrdata with wr_singlescale and wr_vecnames)", path);
    for (size_t q = 0; q < nv; q++) col[q] = SIZE_MAX;
    char name[NAME_LEN];
    size_t found = 0;
    /* wrdata writes the vectors in its own order; match by name. Names of
     * copy k are x<k>.<node>: index by k, then by node. */
    for (size_t w = 1; w < n_words; w++) {
        const char *s = words[w];
        if (s[0] != 'x') continue;
        char *end;
        errno = 0;
        unsigned long long k = strtoull(s + 1, &end, 10);
        if (errno || end == s + 1 || *end != '.' || k >= c->info.copies) continue;
        for (size_t i = 0; i < c->info.units; i++)
            if (strcmp(end + 1, c->unit[i]) == 0 && col[k * c->info.units + i] == SIZE_MAX) {
                col[k * c->info.units + i] = w;
                found++;
                break;
            }
    }
    if (found == nv) return TH_OK;
    for (size_t q = 0; q < nv; q++)
        if (col[q] == SIZE_MAX) {
            th_circuit_vector_name(c, q / c->info.units, q % c->info.units, name);
            return th__fail(TH_EFORMAT, "%s: line 1: no column '%s': expected the node voltages "
                            "of all %zu copies of the netlist (was it written for another one?)",
                            path, name, c->info.copies);
        }
    return TH_OK;
}

static int grow(th_circuit_data *d, size_t *cap)
{
    const size_t n = *cap ? 2 * *cap : 1024;
    double *t = realloc(d->time, n * sizeof *t);
    if (t) d->time = t;
    double *v = t ? realloc(d->v, n * d->n_vectors * sizeof *v) : NULL;
    if (!v) return th__fail(TH_ENOMEM, "ngspice data of %zu rows: out of memory", n);
    d->v = v;
    *cap = n;
    return TH_OK;
}

static int read_rows(FILE *f, const char *path, size_t n_cols, const size_t *col,
                     th_circuit_data *d)
{
    char *line = NULL, **words = malloc((n_cols + 1) * sizeof *words);
    size_t len = 0, cap = 0, lineno = 1;
    int rc = words ? TH_OK : th__fail(TH_ENOMEM, "ngspice data: out of memory");
    while (rc == TH_OK && getline(&line, &len, f) > 0) {
        lineno++;
        const size_t n = split(line, words, n_cols);
        if (n == 0) continue;
        if (n != n_cols) {
            rc = th__fail(TH_EFORMAT, "%s: line %zu: %zu columns, the header names %zu", path,
                          lineno, n, n_cols);
            break;
        }
        if (d->n_rows == cap && (rc = grow(d, &cap)) != TH_OK) break;
        double *row = d->v + d->n_rows * d->n_vectors;
        for (size_t q = 0; q <= d->n_vectors && rc == TH_OK; q++) {
            const size_t w = q == 0 ? 0 : col[q - 1];
            char *end;
            errno = 0;
            const double x = strtod(words[w], &end);
            if (errno == ERANGE || *end || !isfinite(x))
                rc = th__fail(TH_EFORMAT, "%s: line %zu, column %zu: '%.40s' is not a finite "
                              "number", path, lineno, w + 1, words[w]);
            else if (q == 0)
                d->time[d->n_rows] = x;
            else
                row[q - 1] = x;
        }
        if (rc == TH_OK && d->n_rows > 0 && !(d->time[d->n_rows] > d->time[d->n_rows - 1]))
            rc = th__fail(TH_EFORMAT, "%s: line %zu: time %g does not follow %g", path, lineno,
                          d->time[d->n_rows], d->time[d->n_rows - 1]);
        if (rc == TH_OK) d->n_rows++;
    }
    if (rc == TH_OK && ferror(f)) rc = th__fail(TH_EIO, "%s: read error", path);
    if (rc == TH_OK && d->n_rows == 0) rc = th__fail(TH_EFORMAT, "%s: no rows of data", path);
    free(line);
    free(words);
    return rc;
}

/* One file into run r of d: the first straight into d, the others into
 * scratch, checked against d's time grid, then copied in. */
static int read_one(const char *path, const th_circuit *c, size_t r, th_circuit_data *d,
                    th_circuit_data *scratch)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return th__fail(TH_EIO, "%s: cannot open: %s (run ngspice -b on the netlist first)", path,
                        strerror(errno));
    const size_t nv = c->info.copies * c->info.units;
    size_t *col = malloc(nv * sizeof *col);
    char *header = NULL, **words = NULL;
    size_t len = 0;
    int rc = TH_OK;
    if (!col) {
        rc = th__fail(TH_ENOMEM, "ngspice data: out of memory");
        goto done;
    }
    if (getline(&header, &len, f) <= 0) {
        rc = th__fail(TH_EFORMAT, "%s: empty: expected a line of vector names", path);
        goto done;
    }
    /* Every word is at least one character and a space: len / 2 + 1 bound. */
    const size_t max_words = strlen(header) / 2 + 2;
    if (!(words = malloc(max_words * sizeof *words))) {
        rc = th__fail(TH_ENOMEM, "ngspice data: out of memory");
        goto done;
    }
    const size_t n_cols = split(header, words, max_words);
    if ((rc = map_columns(path, words, n_cols, c, col)) != TH_OK) goto done;
    th_circuit_data *dst = r == 0 ? d : scratch;
    dst->n_vectors = nv;
    if ((rc = read_rows(f, path, n_cols, col, dst)) != TH_OK) goto done;
    if (r > 0) {
        /* Same grid as the first run, then appended as run r. */
        int same = scratch->n_rows == d->n_rows;
        for (size_t k = 0; same && k < d->n_rows; k++)
            same = fabs(scratch->time[k] - d->time[k]) <= 1e-9 * fabs(d->time[k]);
        if (!same) {
            rc = th__fail(TH_EFORMAT, "%s: %zu rows on another time grid than the first "
                          "file's %zu: expected runs of the same netlist", path, scratch->n_rows,
                          d->n_rows);
            goto done;
        }
        memcpy(d->v + r * d->n_rows * nv, scratch->v, d->n_rows * nv * sizeof *d->v);
    }
done:
    fclose(f);
    free(header);
    free(words);
    free(col);
    return rc;
}

int th_circuit_data_read(const char *const *paths, size_t n_runs, const th_circuit *c,
                         th_circuit_data **out)
{
    TH_ASSERT(paths && c && out && n_runs > 0);
    *out = NULL;
    th_circuit_data *d = calloc(1, sizeof *d), *run = calloc(1, sizeof *run);
    int rc = d && run ? TH_OK : th__fail(TH_ENOMEM, "ngspice data: out of memory");
    for (size_t r = 0; r < n_runs && rc == TH_OK; r++) {
        if (r == 1) {
            /* Room for every run once the first gave the grid. */
            double *v = realloc(d->v, n_runs * d->n_rows * d->n_vectors * sizeof *v);
            if (!v) {
                rc = th__fail(TH_ENOMEM, "ngspice data of %zu runs: out of memory", n_runs);
                break;
            }
            d->v = v;
        }
        if (run) run->n_rows = 0;
        rc = read_one(paths[r], c, r, d, run);
    }
    th_circuit_data_free(run);
    if (rc != TH_OK) {
        th_circuit_data_free(d);
        return rc;
    }
    d->n_runs = n_runs;
    *out = d;
    return TH_OK;
}
