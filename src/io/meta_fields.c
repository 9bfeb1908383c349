/* meta_fields.c - settings structs as file metadata and back, through one
 * table of fields per struct (io_internal.h): the generator's gen.*, the
 * student's student.* and the neurons' neuron.* all read and write here.
 *
 * Doubles are written with %.17g (17 significant digits identify every
 * double exactly, so reloaded settings are bit-identical), sizes and seeds as
 * decimal integers, enumerations by name. Reading trusts nothing: each value
 * must be the whole string, finite and in range; the message names the key.
 * One table drives both directions, so a field cannot be written and then
 * forgotten on reading, or the reverse. */
#include "io/io_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

int th__fields_to_meta(const th__field *fields, size_t n, const void *obj, th_meta *meta)
{
    int rc = TH_OK;
    for (size_t k = 0; k < n && rc == TH_OK; k++) {
        const th__field *f = &fields[k];
        const char *at = (const char *)obj + f->offset;
        if (f->optional == TH__FIELD_OMIT_ZERO && f->kind == TH__FIELD_SIZE &&
            *(const size_t *)at == 0)
            continue;
        switch (f->kind) {
        case TH__FIELD_SIZE: rc = th_meta_setf(meta, f->key, "%zu", *(const size_t *)at); break;
        case TH__FIELD_U64:
            rc = th_meta_setf(meta, f->key, "%llu", (unsigned long long)*(const uint64_t *)at);
            break;
        case TH__FIELD_DOUBLE:
            rc = th_meta_setf(meta, f->key, "%.17g", *(const double *)at);
            break;
        case TH__FIELD_NAME: {
            const int v = *(const int *)at;
            TH_ASSERT(v >= 0 && (size_t)v < f->n_names);
            rc = th_meta_set(meta, f->key, f->names[v]);
            break;
        }
        }
    }
    return rc;
}

/* A whole, unsigned decimal integer up to limit. strtoull alone would skip
 * blanks and accept a sign ("-1" becomes 2^64 - 1), hence the leading digit
 * check. */
static int parse_unsigned(const char *key, const char *text, uint64_t limit, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v = 0;
    errno = 0;
    if (isdigit((unsigned char)text[0])) v = strtoull(text, &end, 10);
    if (!end || *end != '\0' || errno == ERANGE || v > limit)
        return th__fail(TH_EFORMAT, "%s = '%.60s': expected a whole number from 0 to %llu", key,
                        text, (unsigned long long)limit);
    *out = (uint64_t)v;
    return TH_OK;
}

/* A whole, finite decimal number. Blanks, hexadecimal, nan and inf are never
 * written by %.17g, so they mean a damaged or hand-edited file. Underflow is
 * an error only when it lost the value entirely: a subnormal is the exact
 * double that was written. */
static int parse_double(const char *key, const char *text, double *out)
{
    char *end = NULL;
    double v = 0;
    errno = 0;
    if (text[0] && !isspace((unsigned char)text[0]) && !strpbrk(text, "xX"))
        v = strtod(text, &end);
    if (!end || end == text || *end != '\0' || !isfinite(v) || (errno == ERANGE && v == 0))
        return th__fail(TH_EFORMAT, "%s = '%.60s': expected a number", key, text);
    *out = v;
    return TH_OK;
}

static int parse_name(const th__field *f, const char *text, int *out)
{
    for (size_t d = 0; d < f->n_names; d++)
        if (strcmp(text, f->names[d]) == 0) {
            *out = (int)d;
            return TH_OK;
        }
    char list[256] = "";
    for (size_t d = 0; d < f->n_names; d++) {
        if (d) strncat(list, d + 1 == f->n_names ? " or " : ", ", sizeof list - strlen(list) - 1);
        strncat(list, f->names[d], sizeof list - strlen(list) - 1);
    }
    return th__fail(TH_EFORMAT, "%s = '%.60s': expected %s", f->key, text, list);
}

int th__fields_from_meta(const th__field *fields, size_t n, const th_meta *meta, void *obj)
{
    for (size_t k = 0; k < n; k++) {
        const th__field *f = &fields[k];
        const char *text = th_meta_get(meta, f->key);
        if (!text && f->optional) continue; /* keeps its value */
        if (!text) return th__fail(TH_EFORMAT, "%s: missing", f->key);
        char *at = (char *)obj + f->offset;
        uint64_t u = 0;
        int rc = TH_OK;
        switch (f->kind) {
        case TH__FIELD_SIZE:
            rc = parse_unsigned(f->key, text, SIZE_MAX, &u);
            if (rc == TH_OK) *(size_t *)at = (size_t)u;
            break;
        case TH__FIELD_U64:
            rc = parse_unsigned(f->key, text, UINT64_MAX, &u);
            if (rc == TH_OK) *(uint64_t *)at = u;
            break;
        case TH__FIELD_DOUBLE: rc = parse_double(f->key, text, (double *)at); break;
        case TH__FIELD_NAME: rc = parse_name(f, text, (int *)at); break;
        }
        if (rc != TH_OK) return rc;
    }
    return TH_OK;
}
