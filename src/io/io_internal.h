/* io_internal.h - what the io modules share: the atomic writer.
 *
 * Every writer in thermo goes through these three calls so that a target file
 * is either its old self or the complete new one, never a half-written mix:
 *
 *     char tmp[4096];
 *     FILE *f = th__atomic_open(path, tmp, sizeof tmp);
 *     if (!f) return TH_EIO;                    // message already recorded
 *     if (fwrite(...) != ...) { th__atomic_abort(f, tmp); return th__fail(...); }
 *     return th__atomic_commit(f, tmp, path);   // TH_OK or TH_EIO
 */
#ifndef THERMO_IO_INTERNAL_H
#define THERMO_IO_INTERNAL_H

#include "core/internal.h"

#include <stdio.h>

/* Creates <path>.tmp.<pid> (in the target's folder, so that the final rename
 * never crosses file systems) and opens it for binary writing; its name goes
 * to tmp_path. NULL on failure, with a message naming path and the reason
 * (th_last_error); the caller returns TH_EIO. */
FILE *th__atomic_open(const char *path, char *tmp_path, size_t tmp_size);

/* Flushes f, syncs it to disk, closes it and renames it over path. On any
 * failure removes the temporary file and returns TH_EIO with a message naming
 * path; the previous file at path, if any, is left as it was. f is closed in
 * every case. */
int th__atomic_commit(FILE *f, const char *tmp_path, const char *path);

/* Closes f and removes the temporary file: the write is abandoned and path
 * keeps its previous content. Records no message, so the caller's own stays.
 * f may be NULL. */
void th__atomic_abort(FILE *f, const char *tmp_path);

/* SHA-256 over data fed in pieces (sha256.c): init, update as the bytes
 * pass, then hex writes the 64 lowercase hex digits and a NUL. */
typedef struct th__sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t buf[64];
    size_t fill;
} th__sha256;
void th__sha256_init(th__sha256 *s);
void th__sha256_update(th__sha256 *s, const void *data, size_t n);
void th__sha256_hex(th__sha256 *s, char hex[65]);

/* A settings struct as metadata (meta_fields.c): one table of fields per
 * struct serves writing and reading. */
typedef enum th__field_kind {
    TH__FIELD_SIZE,   /* size_t, decimal */
    TH__FIELD_U64,    /* uint64_t, decimal */
    TH__FIELD_DOUBLE, /* double, %.17g: round-trips exactly */
    TH__FIELD_NAME    /* an enum stored as int, written by name */
} th__field_kind;

typedef struct th__field {
    const char *key;          /* "gen.dt" */
    th__field_kind kind;
    size_t offset;            /* in the struct */
    /* 1: may be absent (files older than the field): keeps its value;
     * TH__FIELD_OMIT_ZERO: also not written when its value is 0 (a size),
     * so that files of settings without the newer feature keep their bytes */
    int optional;
    const char *const *names; /* TH__FIELD_NAME: the names of 0, 1, ... */
    size_t n_names;
} th__field;

#define TH__FIELD_OMIT_ZERO 2

int th__fields_to_meta(const th__field *fields, size_t n, const void *obj, th_meta *meta);
/* TH_EFORMAT naming the key: missing (and not optional), or malformed. obj
 * keeps the values of absent optional fields. */
int th__fields_from_meta(const th__field *fields, size_t n, const th_meta *meta, void *obj);

/* th_model_save with n_more further tensors after the model's own (a
 * generator protocol's segments). */
int th__model_save_more(const char *path, const th_model *m, const th_meta *extra,
                        const th_tensor *more, size_t n_more);
/* th_model_load's work on a file already read (f keeps its tensors; its
 * metadata moves into extra_out when that is non-NULL). */
int th__model_from_file(const char *path, th_tensor_file *f, th_model **out,
                        th_meta *extra_out);
/* The tensor name of f with n_dims dimensions of n each, or TH_EFORMAT
 * naming path, the tensor and the shape found (groups: the metadata's
 * model.groups, quoted in the message). */
int th__model_find_tensor(const char *path, const th_tensor_file *f, const char *name,
                          size_t n_dims, size_t n, const char *groups, const th_tensor **out);

#endif
