/* meta.c - the generator's settings as model-file metadata and back.
 *
 * Each field of th_gen_params is one key "gen.<field>" of the shared field
 * table (io/meta_fields.c: doubles exact, sizes and the seed as integers,
 * hidden_drive by name); the result must also pass th_gen_params_validate,
 * and a file that fails any of this is malformed (TH_EFORMAT), the message
 * naming the key. */
#include "gen_internal.h"
#include "io/io_internal.h"

#include <string.h>

static const char *const hidden_drive_names[] = {"copy", "projection"};

#define FIELD(name, kind) {"gen." #name, kind, offsetof(th_gen_params, name), 0, NULL, 0}
#define FIELD_OPTIONAL(name, kind) {"gen." #name, kind, offsetof(th_gen_params, name), 1, NULL, 0}

static const th__field fields[] = {
    FIELD(n_visible, TH__FIELD_SIZE),
    FIELD(n_hidden, TH__FIELD_SIZE),
    FIELD(kT, TH__FIELD_DOUBLE),
    FIELD(J2, TH__FIELD_DOUBLE),
    FIELD(J4, TH__FIELD_DOUBLE),
    FIELD(mu, TH__FIELD_DOUBLE),
    FIELD(dt, TH__FIELD_DOUBLE),
    FIELD(t_f, TH__FIELD_DOUBLE),
    FIELD(drive, TH__FIELD_DOUBLE),
    FIELD(ramp_fraction, TH__FIELD_DOUBLE),
    {"gen.hidden_drive", TH__FIELD_NAME, offsetof(th_gen_params, hidden_drive), 0,
     hidden_drive_names, 2},
    FIELD(seed, TH__FIELD_U64),
    FIELD(block_steps, TH__FIELD_SIZE),
    FIELD_OPTIONAL(n_classes, TH__FIELD_SIZE),
    FIELD_OPTIONAL(label_visible, TH__FIELD_SIZE),
    /* written only when set: the paper's files keep their bytes */
    {"gen.visible_bias", TH__FIELD_SIZE, offsetof(th_gen_params, visible_bias),
     TH__FIELD_OMIT_ZERO, NULL, 0},
    {"gen.hidden_double_well", TH__FIELD_SIZE, offsetof(th_gen_params, hidden_double_well),
     TH__FIELD_OMIT_ZERO, NULL, 0},
    {"gen.styles", TH__FIELD_SIZE, offsetof(th_gen_params, styles), TH__FIELD_OMIT_ZERO, NULL,
     0},
};

#define N_FIELDS (sizeof fields / sizeof fields[0])

/* Absent: one segment. */
static const th__field segments_field = FIELD_OPTIONAL(segments, TH__FIELD_SIZE);

int th_gen_params_to_meta(const th_gen_params *p, th_meta *meta)
{
    TH_ASSERT(p != NULL && meta != NULL);
    /* Settings that could not be read back must not be written. */
    int rc = th_gen_params_validate(p);
    if (rc == TH_OK) rc = th__fields_to_meta(fields, N_FIELDS, p, meta);
    /* Written only for a time-dependent protocol, so that the paper's
     * one-segment models keep their bytes. */
    if (rc == TH_OK && p->segments > 1)
        rc = th__fields_to_meta(&segments_field, 1, p, meta);
    return rc;
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
    return strncmp(why, "segments ", 9) == 0;
}

int th_gen_params_from_meta(const th_meta *meta, th_gen_params *p)
{
    TH_ASSERT(meta != NULL && p != NULL);
    /* Filled in a copy, so that *p changes only on success. */
    th_gen_params q;
    memset(&q, 0, sizeof q);
    q.segments = 1;
    int rc = th__fields_from_meta(fields, N_FIELDS, meta, &q);
    if (rc == TH_OK) rc = th__fields_from_meta(&segments_field, 1, meta, &q);
    if (rc != TH_OK) return rc;
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
