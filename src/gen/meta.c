/* meta.c - the generator's settings as model-file metadata and back.
 *
 * Each field of th_gen_params is one key "gen.<field>": doubles printed with
 * %.17g (17 significant digits identify every double exactly, so a model
 * reloaded samples with bit-identical settings), sizes and the seed as
 * decimal integers, hidden_drive by name. Reading trusts nothing: each value
 * must be the whole string, finite and in range, and the result must pass
 * th_gen_params_validate; a file that fails any of this is malformed
 * (TH_EFORMAT), and the message names the key. */
#include "gen_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

static const char *const hidden_drive_names[] = {"copy", "projection"};

/* One table drives both directions, so a field cannot be written and then
 * forgotten on reading (or the reverse). */
typedef enum field_kind { FIELD_SIZE, FIELD_U64, FIELD_DOUBLE, FIELD_HIDDEN_DRIVE } field_kind;

typedef struct field {
    const char *key;
    field_kind kind;
    size_t offset; /* in th_gen_params */
    int optional;  /* may be absent (files written before the field existed): 0 */
} field;

#define FIELD(name, kind) {"gen." #name, kind, offsetof(th_gen_params, name), 0}
#define FIELD_OPTIONAL(name, kind) {"gen." #name, kind, offsetof(th_gen_params, name), 1}

static const field fields[] = {
    FIELD(n_visible, FIELD_SIZE),
    FIELD(n_hidden, FIELD_SIZE),
    FIELD(kT, FIELD_DOUBLE),
    FIELD(J2, FIELD_DOUBLE),
    FIELD(J4, FIELD_DOUBLE),
    FIELD(mu, FIELD_DOUBLE),
    FIELD(dt, FIELD_DOUBLE),
    FIELD(t_f, FIELD_DOUBLE),
    FIELD(drive, FIELD_DOUBLE),
    FIELD(ramp_fraction, FIELD_DOUBLE),
    FIELD(hidden_drive, FIELD_HIDDEN_DRIVE),
    FIELD(seed, FIELD_U64),
    FIELD(block_steps, FIELD_SIZE),
    FIELD_OPTIONAL(n_classes, FIELD_SIZE),
    FIELD_OPTIONAL(label_visible, FIELD_SIZE),
};

#define N_FIELDS (sizeof fields / sizeof fields[0])

int th_gen_params_to_meta(const th_gen_params *p, th_meta *meta)
{
    TH_ASSERT(p != NULL && meta != NULL);
    /* Settings that could not be read back must not be written. */
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    for (size_t k = 0; k < N_FIELDS && rc == TH_OK; k++) {
        const field *f = &fields[k];
        const char *at = (const char *)p + f->offset;
        switch (f->kind) {
        case FIELD_SIZE: rc = th_meta_setf(meta, f->key, "%zu", *(const size_t *)at); break;
        case FIELD_U64:
            rc = th_meta_setf(meta, f->key, "%llu",
                              (unsigned long long)*(const uint64_t *)at);
            break;
        case FIELD_DOUBLE: rc = th_meta_setf(meta, f->key, "%.17g", *(const double *)at); break;
        case FIELD_HIDDEN_DRIVE:
            rc = th_meta_set(meta, f->key, hidden_drive_names[*(const th_hidden_drive *)at]);
            break;
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

static int parse_hidden_drive(const char *key, const char *text, th_hidden_drive *out)
{
    for (int d = 0; d < 2; d++)
        if (strcmp(text, hidden_drive_names[d]) == 0) {
            *out = (th_hidden_drive)d;
            return TH_OK;
        }
    return th__fail(TH_EFORMAT, "%s = '%.60s': expected copy or projection", key, text);
}

/* Whether a message of th_gen_params_validate starts with a field's name
 * ("dt = 0: ..."), so that prefixing "gen." turns it into the key. */
static int names_field(const char *why)
{
    for (size_t k = 0; k < N_FIELDS; k++) {
        const char *name = fields[k].key + strlen("gen.");
        size_t len = strlen(name);
        if (strncmp(why, name, len) == 0 && why[len] == ' ') return 1;
    }
    return 0;
}

int th_gen_params_from_meta(const th_meta *meta, th_gen_params *p)
{
    TH_ASSERT(meta != NULL && p != NULL);
    /* Filled in a copy, so that *p changes only on success. */
    th_gen_params q;
    memset(&q, 0, sizeof q);
    for (size_t k = 0; k < N_FIELDS; k++) {
        const field *f = &fields[k];
        const char *text = th_meta_get(meta, f->key);
        if (!text && f->optional) continue; /* stays 0 */
        if (!text) return th__fail(TH_EFORMAT, "%s: missing", f->key);
        char *at = (char *)&q + f->offset;
        uint64_t u = 0;
        int rc = TH_OK;
        switch (f->kind) {
        case FIELD_SIZE:
            rc = parse_unsigned(f->key, text, SIZE_MAX, &u);
            if (rc == TH_OK) *(size_t *)at = (size_t)u;
            break;
        case FIELD_U64:
            rc = parse_unsigned(f->key, text, UINT64_MAX, &u);
            if (rc == TH_OK) *(uint64_t *)at = u;
            break;
        case FIELD_DOUBLE: rc = parse_double(f->key, text, (double *)at); break;
        case FIELD_HIDDEN_DRIVE: rc = parse_hidden_drive(f->key, text, (th_hidden_drive *)at); break;
        }
        if (rc != TH_OK) return rc;
    }
    /* Well-formed numbers can still describe no generator (dt = 0): the
     * file is wrong either way. */
    if (th_gen_params_validate(&q) != TH_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", th_last_error());
        return th__fail(TH_EFORMAT, "%s%s", names_field(why) ? "gen." : "gen settings: ", why);
    }
    *p = q;
    return TH_OK;
}
