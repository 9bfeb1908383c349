/* safetensors.c - named tensors with string metadata, and the atomic writer
 * every io module shares.
 *
 * The format (Hugging Face, https://github.com/huggingface/safetensors,
 * "Format"): an 8-byte little-endian unsigned header length N; N bytes of
 * UTF-8 JSON, an object mapping each tensor name to
 *     {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
 * (offsets relative to the start of the data area, end exclusive) plus an
 * optional "__metadata__" object of strings; then the data area, raw
 * little-endian. thermo writes F32 and F64 only, in the caller's order,
 * contiguous, with the header padded by spaces to a multiple of 8 bytes so
 * that the data area starts aligned.
 *
 * The reader follows the reference implementation's strictness: the tensors,
 * sorted by offset, must tile the data area exactly - no overlap, no gap, no
 * trailing bytes - because bytes that belong to no tensor mean a writer bug
 * or a damaged file, and reading on would hand out numbers nobody wrote. On
 * top of that every value must be finite: a model holding NaN would only
 * fail later, far from its cause. Entry fields other than dtype, shape and
 * data_offsets are ignored, so that a later writer may add some. */
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

/* Tensor data goes between memory and the file as raw bytes, which is the
 * format's little-endian layout only on a little-endian host. */
#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__) || \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c copies tensor data as raw memory and needs a little-endian host; \
a big-endian port must byte-swap each element when reading and writing"
#endif

/* The reference implementation's own cap on the header; a larger length is a
 * damaged file, and the cap keeps a 16-byte file from asking for gigabytes. */
#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)
#define ST_MAX_DIMS 4
/* JSON numbers arrive as doubles: integers up to 2^53 are exact, and shapes
 * or offsets beyond that (8 PB) are damage, not data. */
#define ST_MAX_INT ((uint64_t)1 << 53)
#define ST_NAME_MAX (sizeof(((th_tensor *)0)->name) - 1)
#define ST_METADATA "__metadata__"

/* -------------------------------------------------------------- metadata */

static char *copy_string(const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = malloc(len);
    if (p) memcpy(p, s, len);
    return p;
}

const char *th_meta_get(const th_meta *meta, const char *key)
{
    TH_ASSERT(meta != NULL && key != NULL);
    for (size_t i = 0; i < meta->count; i++)
        if (strcmp(meta->keys[i], key) == 0) return meta->values[i];
    return NULL;
}

int th_meta_set(th_meta *meta, const char *key, const char *value)
{
    TH_ASSERT(meta != NULL && key != NULL && value != NULL);
    char *v = copy_string(value);
    if (!v) return th__fail(TH_ENOMEM, "out of memory copying metadata \"%s\"", key);
    for (size_t i = 0; i < meta->count; i++)
        if (strcmp(meta->keys[i], key) == 0) {
            free(meta->values[i]);
            meta->values[i] = v;
            return TH_OK;
        }
    char *k = copy_string(key);
    /* Each array grows on its own; a failure between the two leaves one of
     * them larger than count, which is harmless. */
    char **keys = k ? realloc(meta->keys, (meta->count + 1) * sizeof *keys) : NULL;
    if (keys) meta->keys = keys;
    char **values = keys ? realloc(meta->values, (meta->count + 1) * sizeof *values) : NULL;
    if (!values) {
        free(k);
        free(v);
        return th__fail(TH_ENOMEM, "out of memory adding metadata \"%s\"", key);
    }
    meta->values = values;
    meta->keys[meta->count] = k;
    meta->values[meta->count] = v;
    meta->count++;
    return TH_OK;
}

int th_meta_merge(th_meta *dst, const th_meta *src)
{
    TH_ASSERT(src != NULL);
    int rc = TH_OK;
    for (size_t i = 0; dst && i < src->count && rc == TH_OK; i++)
        rc = th_meta_set(dst, src->keys[i], src->values[i]);
    return rc;
}

int th_meta_setf(th_meta *meta, const char *key, const char *fmt, ...)
{
    TH_ASSERT(fmt != NULL);
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        va_end(ap2);
        return th__fail(TH_EINVAL, "metadata \"%s\": cannot format \"%s\"", key, fmt);
    }
    char *value = malloc((size_t)len + 1);
    if (!value) {
        va_end(ap2);
        return th__fail(TH_ENOMEM, "out of memory formatting metadata \"%s\"", key);
    }
    vsnprintf(value, (size_t)len + 1, fmt, ap2);
    va_end(ap2);
    int rc = th_meta_set(meta, key, value);
    free(value);
    return rc;
}

void th_meta_clear(th_meta *meta)
{
    if (!meta) return;
    for (size_t i = 0; i < meta->count; i++) {
        free(meta->keys[i]);
        free(meta->values[i]);
    }
    free(meta->keys);
    free(meta->values);
    meta->keys = NULL;
    meta->values = NULL;
    meta->count = 0;
}

/* ----------------------------------------------------------- small helpers */

static const char *dtype_name(th_dtype dtype) { return dtype == TH_F32 ? "F32" : "F64"; }

/* "[2, 3]" into buf. */
static void format_shape(char *buf, size_t size, const size_t *shape, size_t n_dims)
{
    size_t used = 0;
    int w = snprintf(buf, size, "[");
    used = w > 0 ? (size_t)w : 0;
    for (size_t k = 0; k < n_dims && used < size; k++) {
        w = snprintf(buf + used, size - used, "%s%zu", k ? ", " : "", shape[k]);
        if (w < 0) return;
        used += (size_t)w;
    }
    if (used < size) snprintf(buf + used, size - used, "]");
}

/* The first non-finite element of a tensor's data, or SIZE_MAX if none. */
static size_t first_non_finite(th_ptr data, th_dtype dtype, size_t count)
{
    if (dtype == TH_F32) {
        for (size_t i = 0; i < count; i++)
            if (!isfinite(data.f32[i])) return i;
    } else {
        for (size_t i = 0; i < count; i++)
            if (!isfinite(data.f64[i])) return i;
    }
    return SIZE_MAX;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A name that appears twice among names[0..count), or NULL; sorts a copy of
 * the pointers so that a file with many names costs n log n, not n^2. */
static const char *find_duplicate(const char *const *names, size_t count, int *no_memory)
{
    *no_memory = 0;
    if (count < 2) return NULL;
    const char **sorted = malloc(count * sizeof *sorted);
    if (!sorted) {
        *no_memory = 1;
        return NULL;
    }
    memcpy(sorted, names, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_strings);
    const char *dup = NULL;
    for (size_t i = 1; i < count && !dup; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0) dup = sorted[i];
    free(sorted);
    return dup;
}

/* ---------------------------------------------------------------- writing */

/* Checks one tensor before anything is written and returns its byte count
 * through *bytes: the reader rejects what this lets through. */
static int check_tensor_for_write(const char *path, const th_tensor *t, size_t index,
                                  uint64_t *bytes)
{
    if (!memchr(t->name, '\0', sizeof t->name))
        return th__fail(TH_EINVAL, "%s: tensor %zu: name not terminated within %zu characters",
                        path, index, ST_NAME_MAX);
    if (strcmp(t->name, ST_METADATA) == 0)
        return th__fail(TH_EINVAL, "%s: tensor %zu: the name \"%s\" is reserved for metadata",
                        path, index, ST_METADATA);
    if (t->dtype != TH_F32 && t->dtype != TH_F64)
        return th__fail(TH_EINVAL, "%s: tensor \"%s\": dtype %d, expected TH_F32 or TH_F64",
                        path, t->name, (int)t->dtype);
    if (t->n_dims > ST_MAX_DIMS)
        return th__fail(TH_EINVAL, "%s: tensor \"%s\": %zu dimensions, at most %d supported",
                        path, t->name, t->n_dims, ST_MAX_DIMS);
    uint64_t count = 1, bound = 1;
    for (size_t k = 0; k < t->n_dims; k++) {
        uint64_t d = t->shape[k];
        /* bound multiplies the nonzero sizes, so that every partial product
         * a caller may form stays exact as well. */
        if (d > ST_MAX_INT || (d && bound > ST_MAX_INT / d)) {
            char shape[160];
            format_shape(shape, sizeof shape, t->shape, t->n_dims);
            return th__fail(TH_EINVAL, "%s: tensor \"%s\": shape %s is too large", path,
                            t->name, shape);
        }
        if (d) bound *= d;
        count *= d;
    }
    if (count && !t->data.v)
        return th__fail(TH_EINVAL, "%s: tensor \"%s\": %llu elements but no data", path,
                        t->name, (unsigned long long)count);
    size_t bad = first_non_finite(t->data, t->dtype, (size_t)count);
    if (bad != SIZE_MAX)
        return th__fail(TH_EINVAL, "%s: tensor \"%s\": element %zu is %g, expected finite "
                        "values", path, t->name, bad, th_ptr_get(t->data, t->dtype, bad));
    *bytes = count * th_dtype_size(t->dtype);
    return TH_OK;
}

/* Adds an exact unsigned integer to a JSON array. cJSON holds numbers as
 * doubles and prints large ones in exponent form, so the digits go in raw. */
static int add_integer(cJSON *array, uint64_t value)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)value);
    cJSON *item = cJSON_CreateRaw(digits);
    if (!item) return 0;
    if (!cJSON_AddItemToArray(array, item)) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}

/* The JSON header for tensors laid out contiguously in order; NULL when out
 * of memory. */
static char *build_header(const th_tensor *tensors, size_t count, const uint64_t *bytes,
                          const th_meta *meta)
{
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok && meta && meta->count) {
        cJSON *md = cJSON_AddObjectToObject(root, ST_METADATA);
        ok = md != NULL;
        for (size_t i = 0; ok && i < meta->count; i++)
            ok = cJSON_AddStringToObject(md, meta->keys[i], meta->values[i]) != NULL;
    }
    uint64_t offset = 0;
    for (size_t i = 0; ok && i < count; i++) {
        const th_tensor *t = &tensors[i];
        cJSON *entry = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = entry ? cJSON_AddArrayToObject(entry, "shape") : NULL;
        cJSON *offsets = shape ? cJSON_AddArrayToObject(entry, "data_offsets") : NULL;
        ok = offsets && cJSON_AddStringToObject(entry, "dtype", dtype_name(t->dtype));
        for (size_t k = 0; ok && k < t->n_dims; k++) ok = add_integer(shape, t->shape[k]);
        ok = ok && add_integer(offsets, offset) && add_integer(offsets, offset + bytes[i]);
        offset += bytes[i];
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

int th_safetensors_write(const char *path, const th_tensor *tensors, size_t count,
                         const th_meta *meta)
{
    TH_ASSERT(path != NULL && (tensors != NULL || count == 0));
    if (meta) {
        for (size_t i = 0; i < meta->count; i++)
            if (!meta->keys[i] || !meta->values[i])
                return th__fail(TH_EINVAL, "%s: metadata entry %zu has no %s", path, i,
                                meta->keys[i] ? "value" : "key");
        int no_memory;
        const char *dup = find_duplicate((const char *const *)meta->keys, meta->count,
                                         &no_memory);
        if (no_memory) return th__fail(TH_ENOMEM, "%s: out of memory", path);
        if (dup) return th__fail(TH_EINVAL, "%s: metadata key \"%s\" appears twice", path, dup);
    }

    uint64_t *bytes = malloc((count ? count : 1) * sizeof *bytes);
    const char **names = malloc((count ? count : 1) * sizeof *names);
    char *header = NULL;
    int rc = TH_OK;
    if (!bytes || !names) {
        rc = th__fail(TH_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if ((rc = check_tensor_for_write(path, &tensors[i], i, &bytes[i]))) goto done;
        names[i] = tensors[i].name;
        total += bytes[i];
        if (total > ST_MAX_INT) {
            rc = th__fail(TH_EINVAL, "%s: the tensors hold more than 2^53 bytes", path);
            goto done;
        }
    }
    int no_memory;
    const char *dup = find_duplicate(names, count, &no_memory);
    if (no_memory || dup) {
        rc = no_memory ? th__fail(TH_ENOMEM, "%s: out of memory", path)
                       : th__fail(TH_EINVAL, "%s: tensor name \"%s\" appears twice", path, dup);
        goto done;
    }

    header = build_header(tensors, count, bytes, meta);
    if (!header) {
        rc = th__fail(TH_ENOMEM, "%s: out of memory building the header", path);
        goto done;
    }
    size_t len = strlen(header);
    size_t padded = (len + 7) / 8 * 8;
    uint8_t prefix[8];
    for (int k = 0; k < 8; k++) prefix[k] = (uint8_t)((uint64_t)padded >> (8 * k));

    char tmp[4096];
    FILE *f = th__atomic_open(path, tmp, sizeof tmp);
    if (!f) {
        rc = TH_EIO; /* th__atomic_open has named the path and the reason */
        goto done;
    }
    int ok = fwrite(prefix, 1, 8, f) == 8 && fwrite(header, 1, len, f) == len;
    for (size_t k = len; ok && k < padded; k++) ok = fputc(' ', f) != EOF;
    for (size_t i = 0; ok && i < count; i++)
        if (bytes[i]) ok = fwrite(tensors[i].data.v, 1, (size_t)bytes[i], f) == bytes[i];
    if (!ok) {
        int err = errno;
        th__atomic_abort(f, tmp);
        rc = th__fail(TH_EIO, "%s: writing failed: %s (the previous file, if any, is "
                      "unchanged)", path, strerror(err));
        goto done;
    }
    rc = th__atomic_commit(f, tmp, path);
done:
    cJSON_free(header);
    free(names);
    free(bytes);
    return rc;
}

/* ---------------------------------------------------------------- reading */

/* Checks the header text before cJSON sees it: valid UTF-8 (the format
 * requires it, and cJSON does not check), no raw control characters inside
 * strings (JSON forbids them) and no \u0000 escape, which would cut a name
 * short in C and make two different names look alike. Returns the offset of
 * the first offending byte, or SIZE_MAX, with the reason in *why. */
static size_t check_header_text(const unsigned char *s, size_t n, const char **why)
{
    int in_string = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) {
            if (in_string && c < 0x20) {
                *why = "a control character inside a string";
                return i;
            }
            if (in_string && c == '\\') {
                if (i + 1 < n && s[i + 1] == 'u' && i + 5 < n && s[i + 2] == '0' &&
                    s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0') {
                    *why = "a \\u0000 escape";
                    return i;
                }
                i += 2; /* the escaped character cannot end the string */
                continue;
            }
            if (c == '"') in_string = !in_string;
            i++;
            continue;
        }
        /* A multi-byte sequence: its length from the lead byte, each
         * continuation 10xxxxxx, and no overlong form, surrogate or code
         * point beyond U+10FFFF (RFC 3629 section 4). */
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            *why = "invalid UTF-8";
            return i;
        }
        if (i + len > n) {
            *why = "invalid UTF-8";
            return i;
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                *why = "invalid UTF-8";
                return i;
            }
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            *why = "invalid UTF-8";
            return i;
        }
        i += len;
    }
    return SIZE_MAX;
}

/* An exact non-negative integer in [0, 2^53]; 0 if item is anything else. */
static int get_integer(const cJSON *item, uint64_t *value)
{
    if (!cJSON_IsNumber(item)) return 0;
    double v = item->valuedouble;
    if (!(v >= 0) || v > (double)ST_MAX_INT || floor(v) != v) return 0;
    *value = (uint64_t)v;
    return 1;
}

/* Where a tensor's bytes lie in the data area. */
typedef struct span {
    uint64_t begin, end;
    size_t index; /* into the file's tensors */
} span;

static int compare_spans(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Dtypes of the format that thermo does not read, so that the message can
 * tell "not supported" from "not a dtype at all". */
static int is_other_dtype(const char *s)
{
    static const char *const other[] = {"BOOL", "U8",  "I8",  "I16", "U16", "F16",
                                        "BF16", "I32", "U32", "I64", "U64", "F8_E4M3",
                                        "F8_E5M2", "F4", "F6_E2M3", "F6_E3M2", "E8M0",
                                        "C64"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (strcmp(s, other[i]) == 0) return 1;
    return 0;
}

/* Parses one tensor entry into t (name, dtype, shape) and its span;
 * data_size is the length of the data area. */
static int parse_entry(const char *path, const cJSON *entry, uint64_t data_size, th_tensor *t,
                       span *where)
{
    const char *name = entry->string;
    size_t name_len = strlen(name);
    if (name_len > ST_NAME_MAX)
        return th__fail(TH_EFORMAT, "%s: tensor name \"%.40s...\" has %zu bytes, at most %zu "
                        "accepted", path, name, name_len, ST_NAME_MAX);
    memcpy(t->name, name, name_len + 1);
    if (!cJSON_IsObject(entry))
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": expected an object with dtype, shape "
                        "and data_offsets", path, name);

    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const cJSON *field = entry->child; field; field = field->next) {
        const cJSON **slot = strcmp(field->string, "dtype") == 0 ? &dtype
                             : strcmp(field->string, "shape") == 0 ? &shape
                             : strcmp(field->string, "data_offsets") == 0 ? &offsets
                             : NULL;
        if (!slot) continue;
        if (*slot)
            return th__fail(TH_EFORMAT, "%s: tensor \"%s\": field \"%s\" appears twice", path,
                            name, field->string);
        *slot = field;
    }
    if (!dtype || !shape || !offsets)
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": no \"%s\" field", path, name,
                        !dtype ? "dtype" : !shape ? "shape" : "data_offsets");

    if (!cJSON_IsString(dtype))
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": dtype is not a string", path, name);
    if (strcmp(dtype->valuestring, "F32") == 0)
        t->dtype = TH_F32;
    else if (strcmp(dtype->valuestring, "F64") == 0)
        t->dtype = TH_F64;
    else if (is_other_dtype(dtype->valuestring))
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": dtype %s not supported (thermo reads "
                        "F32 and F64)", path, name, dtype->valuestring);
    else
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": unknown dtype \"%.32s\"", path, name,
                        dtype->valuestring);

    if (!cJSON_IsArray(shape))
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": shape is not an array", path, name);
    int n_dims = cJSON_GetArraySize(shape);
    if (n_dims > ST_MAX_DIMS)
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": %d dimensions, at most %d supported",
                        path, name, n_dims, ST_MAX_DIMS);
    t->n_dims = (size_t)n_dims;
    uint64_t count = 1, bound = 1;
    size_t k = 0;
    for (const cJSON *d = shape->child; d; d = d->next, k++) {
        uint64_t v;
        if (!get_integer(d, &v))
            return th__fail(TH_EFORMAT, "%s: tensor \"%s\": shape entry %zu is not a "
                            "non-negative integer", path, name, k);
        /* bound multiplies the nonzero sizes: a zero makes the tensor empty
         * but must not hide sizes whose product overflows. */
        if (v && bound > ST_MAX_INT / v)
            return th__fail(TH_EFORMAT, "%s: tensor \"%s\": shape too large (product beyond "
                            "2^53)", path, name);
        if (v) bound *= v;
        count *= v;
        t->shape[k] = (size_t)v;
    }
    char shape_text[160];
    format_shape(shape_text, sizeof shape_text, t->shape, t->n_dims);
    size_t es = th_dtype_size(t->dtype);
    /* count <= 2^53, so count * es < 2^56 */
    uint64_t bytes = count * es;

    uint64_t begin, end;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !get_integer(offsets->child, &begin) || !get_integer(offsets->child->next, &end))
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": data_offsets must be two non-negative "
                        "integers [begin, end]", path, name);
    if (begin > end)
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": data_offsets [%llu, %llu] end before "
                        "they begin", path, name, (unsigned long long)begin,
                        (unsigned long long)end);
    if (end > data_size)
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": data_offsets [%llu, %llu] reach "
                        "outside the data area of %llu bytes (truncated file?)", path, name,
                        (unsigned long long)begin, (unsigned long long)end,
                        (unsigned long long)data_size);
    if (end - begin != bytes)
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": data_offsets [%llu, %llu] hold %llu "
                        "bytes, but shape %s of %s needs %llu", path, name,
                        (unsigned long long)begin, (unsigned long long)end,
                        (unsigned long long)(end - begin), shape_text, dtype_name(t->dtype),
                        (unsigned long long)bytes);
    if (bytes > SIZE_MAX)
        return th__fail(TH_EFORMAT, "%s: tensor \"%s\": %llu bytes do not fit in memory", path,
                        name, (unsigned long long)bytes);
    where->begin = begin;
    where->end = end;
    return TH_OK;
}

/* Fills meta from the "__metadata__" object, whose values must be strings. */
static int parse_metadata(const char *path, const cJSON *md, th_meta *meta)
{
    if (!cJSON_IsObject(md))
        return th__fail(TH_EFORMAT, "%s: %s is not an object of strings", path, ST_METADATA);
    size_t count = (size_t)cJSON_GetArraySize(md);
    if (count == 0) return TH_OK;
    meta->keys = calloc(count, sizeof *meta->keys);
    meta->values = calloc(count, sizeof *meta->values);
    if (!meta->keys || !meta->values) return th__fail(TH_ENOMEM, "%s: out of memory", path);
    for (const cJSON *item = md->child; item; item = item->next) {
        if (!cJSON_IsString(item))
            return th__fail(TH_EFORMAT, "%s: metadata \"%.60s\" is not a string", path,
                            item->string);
        char *k = copy_string(item->string);
        char *v = k ? copy_string(item->valuestring) : NULL;
        if (!v) {
            free(k);
            return th__fail(TH_ENOMEM, "%s: out of memory", path);
        }
        meta->keys[meta->count] = k;
        meta->values[meta->count] = v;
        meta->count++;
    }
    int no_memory;
    const char *dup = find_duplicate((const char *const *)meta->keys, meta->count, &no_memory);
    if (no_memory) return th__fail(TH_ENOMEM, "%s: out of memory", path);
    if (dup) return th__fail(TH_EFORMAT, "%s: metadata key \"%.60s\" appears twice", path, dup);
    return TH_OK;
}

/* Parses the header: tensors (names, dtypes, shapes) and their spans,
 * metadata; then checks that the spans tile the data area. */
static int parse_header(const char *path, const cJSON *root, uint64_t data_size,
                        th_tensor_file *tf, span **spans_out)
{
    size_t n_entries = (size_t)cJSON_GetArraySize(root);
    tf->tensors = calloc(n_entries ? n_entries : 1, sizeof *tf->tensors);
    span *spans = calloc(n_entries ? n_entries : 1, sizeof *spans);
    const char **names = calloc(n_entries ? n_entries : 1, sizeof *names);
    *spans_out = spans;
    int rc = TH_OK;
    if (!tf->tensors || !spans || !names) {
        rc = th__fail(TH_ENOMEM, "%s: out of memory for a header of %zu entries", path,
                      n_entries);
        goto done;
    }
    int seen_metadata = 0;
    for (const cJSON *entry = root->child; entry; entry = entry->next) {
        if (strcmp(entry->string, ST_METADATA) == 0) {
            if (seen_metadata) {
                rc = th__fail(TH_EFORMAT, "%s: %s appears twice", path, ST_METADATA);
                goto done;
            }
            seen_metadata = 1;
            if ((rc = parse_metadata(path, entry, &tf->meta))) goto done;
            continue;
        }
        size_t i = tf->count;
        if ((rc = parse_entry(path, entry, data_size, &tf->tensors[i], &spans[i]))) goto done;
        spans[i].index = i;
        names[i] = tf->tensors[i].name;
        tf->count++;
    }
    int no_memory;
    const char *dup = find_duplicate(names, tf->count, &no_memory);
    if (no_memory || dup) {
        rc = no_memory ? th__fail(TH_ENOMEM, "%s: out of memory", path)
                       : th__fail(TH_EFORMAT, "%s: tensor name \"%s\" appears twice", path, dup);
        goto done;
    }

    qsort(spans, tf->count, sizeof *spans, compare_spans);
    uint64_t covered = 0;
    const char *previous = NULL; /* the tensor that ends at covered */
    for (size_t k = 0; k < tf->count; k++) {
        const char *name = tf->tensors[spans[k].index].name;
        if (spans[k].begin < covered) {
            rc = th__fail(TH_EFORMAT, "%s: tensor \"%s\" at data_offsets [%llu, %llu] overlaps "
                          "tensor \"%s\", which ends at %llu", path, name,
                          (unsigned long long)spans[k].begin, (unsigned long long)spans[k].end,
                          previous, (unsigned long long)covered);
            goto done;
        }
        if (spans[k].begin > covered) {
            rc = th__fail(TH_EFORMAT, "%s: bytes [%llu, %llu) of the data area belong to no "
                          "tensor (a gap before tensor \"%s\")", path,
                          (unsigned long long)covered, (unsigned long long)spans[k].begin,
                          name);
            goto done;
        }
        covered = spans[k].end;
        previous = name;
    }
    if (covered != data_size)
        rc = th__fail(TH_EFORMAT, "%s: %llu trailing bytes after the last tensor (the data "
                      "area holds %llu bytes, the tensors %llu)", path,
                      (unsigned long long)(data_size - covered), (unsigned long long)data_size,
                      (unsigned long long)covered);
done:
    free(names);
    return rc;
}

/* Reads the data of every tensor, in file order: the spans tile the data
 * area, so the reads are sequential. */
static int read_data(const char *path, FILE *f, th_tensor_file *tf, const span *spans)
{
    for (size_t k = 0; k < tf->count; k++) {
        th_tensor *t = &tf->tensors[spans[k].index];
        size_t bytes = (size_t)(spans[k].end - spans[k].begin);
        size_t count = bytes / th_dtype_size(t->dtype);
        t->data.v = th__alloc(bytes);
        if (!t->data.v)
            return th__fail(TH_ENOMEM, "%s: tensor \"%s\": out of memory for %zu bytes", path,
                            t->name, bytes);
        if (fread(t->data.v, 1, bytes, f) != bytes) {
            if (ferror(f))
                return th__fail(TH_EIO, "%s: reading tensor \"%s\" failed: %s", path,
                                t->name, strerror(errno));
            return th__fail(TH_EFORMAT, "%s: the file ended inside tensor \"%s\" (did it "
                            "shrink while being read?)", path, t->name);
        }
        size_t bad = first_non_finite(t->data, t->dtype, count);
        if (bad != SIZE_MAX)
            return th__fail(TH_EFORMAT, "%s: tensor \"%s\": element %zu is %g, expected finite "
                            "values", path, t->name, bad, th_ptr_get(t->data, t->dtype, bad));
    }
    return TH_OK;
}

int th_safetensors_read(const char *path, th_tensor_file **out)
{
    TH_ASSERT(path != NULL && out != NULL);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return th__fail(TH_EIO, "%s: cannot open: %s", path, strerror(errno));

    int rc = TH_OK;
    char *text = NULL;
    cJSON *root = NULL;
    span *spans = NULL;
    th_tensor_file *tf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        rc = th__fail(TH_EIO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = th__fail(TH_EIO, "%s: is a directory, not a safetensors file", path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = th__fail(TH_EIO, "%s: not a regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)st.st_size;
    uint8_t prefix[8];
    if (size < 8 || fread(prefix, 1, 8, f) != 8) {
        rc = th__fail(TH_EFORMAT, "%s: truncated: %llu bytes, too short for the 8-byte header "
                      "length of a safetensors file", path, (unsigned long long)size);
        goto done;
    }
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--) n = n << 8 | prefix[k];
    if (n < 2) {
        rc = th__fail(TH_EFORMAT, "%s: header length %llu: too short for a JSON object", path,
                      (unsigned long long)n);
        goto done;
    }
    if (n > size - 8) {
        rc = th__fail(TH_EFORMAT, "%s: header length %llu exceeds the %llu bytes that follow "
                      "it (truncated file, or not a safetensors file)", path,
                      (unsigned long long)n, (unsigned long long)(size - 8));
        goto done;
    }
    if (n > ST_MAX_HEADER) {
        rc = th__fail(TH_EFORMAT, "%s: header length %llu exceeds the %llu bytes accepted",
                      path, (unsigned long long)n, (unsigned long long)ST_MAX_HEADER);
        goto done;
    }
    text = malloc((size_t)n + 1);
    if (!text) {
        rc = th__fail(TH_ENOMEM, "%s: out of memory for a header of %llu bytes", path,
                      (unsigned long long)n);
        goto done;
    }
    if (fread(text, 1, (size_t)n, f) != n) {
        rc = th__fail(TH_EIO, "%s: reading the header failed", path);
        goto done;
    }
    text[n] = '\0';

    const char *why = NULL;
    size_t bad = check_header_text((const unsigned char *)text, (size_t)n, &why);
    if (bad != SIZE_MAX) {
        rc = th__fail(TH_EFORMAT, "%s: header byte %zu: %s", path, bad, why);
        goto done;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(text, (size_t)n, &end, 0);
    if (!root) {
        size_t at = end ? (size_t)(end - text) : 0;
        rc = th__fail(TH_EFORMAT, "%s: the header is not valid JSON (error near byte %zu of "
                      "%llu)", path, at, (unsigned long long)n);
        goto done;
    }
    /* The writer pads with spaces; anything else after the object is not
     * part of a well-formed header. */
    for (const char *p = end; p < text + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            rc = th__fail(TH_EFORMAT, "%s: header byte %zu: characters after the JSON object",
                          path, (size_t)(p - text));
            goto done;
        }
    if (!cJSON_IsObject(root)) {
        rc = th__fail(TH_EFORMAT, "%s: the header is JSON but not an object", path);
        goto done;
    }

    tf = calloc(1, sizeof *tf);
    if (!tf) {
        rc = th__fail(TH_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((rc = parse_header(path, root, size - 8 - n, tf, &spans))) goto done;
    cJSON_Delete(root);
    root = NULL;
    free(text);
    text = NULL;
    if ((rc = read_data(path, f, tf, spans))) goto done;
    *out = tf;
    tf = NULL;
done:
    th_tensor_file_free(tf);
    free(spans);
    cJSON_Delete(root);
    free(text);
    fclose(f);
    return rc;
}

const th_tensor *th_tensor_file_find(const th_tensor_file *f, const char *name)
{
    TH_ASSERT(f != NULL && name != NULL);
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

void th_tensor_file_free(th_tensor_file *f)
{
    if (!f) return;
    if (f->tensors)
        for (size_t i = 0; i < f->count; i++) th__free(f->tensors[i].data.v);
    free(f->tensors);
    th_meta_clear(&f->meta);
    free(f);
}
