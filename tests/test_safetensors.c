/* test_safetensors.c - safetensors files and model files.
 *
 * Round trips must be bit-identical; the layout is checked against the bytes
 * on disk, against a small reader written here by string search, and against
 * tests/st_independent_reader.py (struct + json + numpy, no thermo code) when
 * a python3 with numpy is at hand. Damaged files, written here byte by byte,
 * must each be rejected with a message naming the file and the problem; a
 * failed write must leave the previous file as it was. */
#include "harness.h"
#include "io/io_internal.h"
#include "thermo.h"

#include <dirent.h>
#include <float.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------- scratch folder */


static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "  cannot write %s\n", path);
        abort();
    }
}

/* The whole file, malloc'd; NULL if it cannot be read. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) abort();
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0) break;
        len += got;
    }
    fclose(f);
    *n = len;
    return buf;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A safetensors file by hand: the header text as given (its length is the
 * header length, no padding), then the data bytes. */
static void write_st_raw(const char *path, const char *header, const void *data, size_t n_data)
{
    size_t n = strlen(header);
    uint8_t *buf = malloc(8 + n + n_data + 1);
    if (!buf) abort();
    for (int k = 0; k < 8; k++) buf[k] = (uint8_t)((uint64_t)n >> (8 * k));
    memcpy(buf + 8, header, n);
    if (n_data) memcpy(buf + 8 + n, data, n_data);
    write_bytes(path, buf, 8 + n + n_data);
    free(buf);
}

static th_tensor make_tensor(const char *name, th_dtype dtype, size_t n_dims, const size_t *shape,
                             void *data)
{
    th_tensor t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.dtype = dtype;
    t.n_dims = n_dims;
    for (size_t k = 0; k < n_dims; k++) t.shape[k] = shape[k];
    t.data.v = data;
    return t;
}

static size_t tensor_count(const th_tensor *t)
{
    size_t c = 1;
    for (size_t k = 0; k < t->n_dims; k++) c *= t->shape[k];
    return c;
}

static size_t tensor_bytes(const th_tensor *t)
{
    return tensor_count(t) * (t->dtype == TH_F32 ? 4 : 8);
}

/* Every field and every data byte of b equal to a. */
static void check_same_tensor(const th_tensor *a, const th_tensor *b)
{
    CHECK(strcmp(a->name, b->name) == 0);
    CHECK_EQ_INT(a->dtype, b->dtype);
    CHECK_EQ_INT(a->n_dims, b->n_dims);
    for (size_t k = 0; k < a->n_dims && k < 4; k++) CHECK_EQ_INT(a->shape[k], b->shape[k]);
    size_t bytes = tensor_bytes(a);
    CHECK(b->data.v != NULL || bytes == 0);
    if (bytes && b->data.v) CHECK(memcmp(a->data.v, b->data.v, bytes) == 0);
}

/* ------------------------------------------------------------ round trip */

/* th_meta_merge: src's entries in its order, an existing key replaced,
 * a NULL destination ignored. */
static void test_st_meta_merge(void)
{
    th_meta a = {0}, b = {0};
    th_meta_set(&a, "x", "1");
    th_meta_set(&a, "y", "2");
    th_meta_set(&b, "y", "20");
    th_meta_set(&b, "z", "30");
    CHECK_EQ_INT(th_meta_merge(&a, &b), TH_OK);
    CHECK_EQ_INT(a.count, 3);
    CHECK_STR_CONTAINS(a.keys[2], "z");
    CHECK(strcmp(th_meta_get(&a, "x"), "1") == 0);
    CHECK(strcmp(th_meta_get(&a, "y"), "20") == 0);
    CHECK(strcmp(th_meta_get(&a, "z"), "30") == 0);
    CHECK_EQ_INT(th_meta_merge(NULL, &b), TH_OK);
    th_meta_clear(&a);
    th_meta_clear(&b);
}

static void test_st_roundtrip_bit_identical(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    const char *path = scratch("round.safetensors");

    /* Values chosen to catch any conversion on the way: negative zero, a
     * subnormal, the largest finite numbers, decimals with no exact binary
     * form. */
    float a[6] = {0.1f, -0.0f, 1e-40f, FLT_MAX, -3.5f, 7.0f};
    double b[12];
    for (int i = 0; i < 12; i++) b[i] = 0.1 * i - 0.55;
    b[3] = DBL_MIN / 4;
    b[7] = -DBL_MAX;
    b[8] = -0.0;
    float s = 42.25f;
    size_t sa[2] = {2, 3}, sb[4] = {2, 1, 3, 2}, se[2] = {0, 5}, sz[1] = {0};
    th_tensor t[5] = {
        make_tensor("a", TH_F32, 2, sa, a),
        make_tensor("b.weight/4d", TH_F64, 4, sb, b),
        make_tensor("scalar", TH_F32, 0, NULL, &s),
        make_tensor("empty64", TH_F64, 2, se, NULL),
        make_tensor("empty32", TH_F32, 1, sz, NULL),
    };
    th_meta meta = {0};
    const char *note_in = "quote \" backslash \\ tab \t caf\xc3\xa9 \xe2\x9c\x93";
    CHECK_EQ_INT(th_meta_set(&meta, "note", note_in), TH_OK);
    CHECK_EQ_INT(th_meta_set(&meta, "empty", ""), TH_OK);

    CHECK_EQ_INT(th_safetensors_write(path, t, 5, &meta), TH_OK);

    /* The bytes on disk, checked against the format description directly:
     * header length little-endian, padded to 8, data area = the tensors'
     * bytes in the given order, contiguous, nothing after. */
    size_t size = 0;
    uint8_t *raw = slurp(path, &size);
    CHECK(raw != NULL && size >= 8);
    if (raw && size >= 8) {
        uint64_t n = 0;
        for (int k = 7; k >= 0; k--) n = n << 8 | raw[k];
        size_t data_bytes = 0;
        for (int i = 0; i < 5; i++) data_bytes += tensor_bytes(&t[i]);
        CHECK_EQ_INT(n % 8, 0);
        CHECK_EQ_INT(size, 8 + n + data_bytes);
        CHECK_EQ_INT(raw[8], '{');
        size_t at = 8 + (size_t)n;
        for (int i = 0; i < 5 && at <= size; i++) {
            size_t bytes = tensor_bytes(&t[i]);
            if (bytes && at + bytes <= size) CHECK(memcmp(raw + at, t[i].data.v, bytes) == 0);
            at += bytes;
        }
    }
    free(raw);

    th_tensor_file *f = NULL;
    CHECK_EQ_INT(th_safetensors_read(path, &f), TH_OK);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(f->count, 5);
        for (size_t i = 0; i < 5 && i < f->count; i++) check_same_tensor(&t[i], &f->tensors[i]);
        /* 0-d: one element */
        const th_tensor *ts = th_tensor_file_find(f, "scalar");
        CHECK(ts != NULL && ts->n_dims == 0 && ts->data.f32[0] == 42.25f);
        CHECK(th_tensor_file_find(f, "missing") == NULL);
        CHECK_EQ_INT(f->meta.count, 2);
        const char *note = th_meta_get(&f->meta, "note");
        CHECK(note && strcmp(note, th_meta_get(&meta, "note")) == 0);
        const char *empty = th_meta_get(&f->meta, "empty");
        CHECK(empty && empty[0] == '\0');
    }
    th_tensor_file_free(f);

    /* No tensors and no metadata: the smallest valid file, "{}" padded. */
    const char *nothing = scratch("nothing.safetensors");
    CHECK_EQ_INT(th_safetensors_write(nothing, NULL, 0, NULL), TH_OK);
    raw = slurp(nothing, &size);
    CHECK(raw && size == 16 && raw[0] == 8 && memcmp(raw + 8, "{}      ", 8) == 0);
    free(raw);
    CHECK_EQ_INT(th_safetensors_read(nothing, &f), TH_OK);
    CHECK(f && f->count == 0 && f->meta.count == 0);
    th_tensor_file_free(f);

    th_meta_clear(&meta);
    scratch_end();
}

/* ---------------------------------------------------- independent readers */

/* The second reader: finds a tensor in a header written by thermo (compact
 * JSON, as cJSON prints it) by plain string search. Enough to locate the
 * bytes; shares no code with the library's reader. */
static int mini_find(const char *header, const char *name, char dtype[4],
                     unsigned long long *begin, unsigned long long *end)
{
    char key[80];
    if (snprintf(key, sizeof key, "\"%s\":{", name) >= (int)sizeof key) return 0;
    const char *entry = strstr(header, key);
    if (!entry) return 0;
    const char *close = strchr(entry, '}');
    const char *d = strstr(entry, "\"dtype\":\"");
    const char *o = strstr(entry, "\"data_offsets\":[");
    if (!close || !d || !o || d > close || o > close) return 0;
    if (sscanf(d + 9, "%3[A-Z0-9]", dtype) != 1) return 0;
    return sscanf(o + 16, "%llu,%llu", begin, end) == 2;
}

/* The python interpreter with numpy, or NULL. */
static const char *python_with_numpy(void)
{
    static const char *const candidates[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < 2; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "%s -c 'import numpy' >/dev/null 2>&1", candidates[i]);
        if (system(cmd) == 0) return candidates[i];
    }
    return NULL;
}

/* "3,4", or "-" for 0-d: how the python reader prints a shape. */
static void shape_text(const th_tensor *t, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < t->n_dims && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", k ? "," : "", t->shape[k]);
    if (t->n_dims == 0) snprintf(buf, size, "-");
}

/* Runs tests/st_independent_reader.py on path and checks its line for each
 * tensor against values computed here. */
static void check_with_python(const char *python, const char *path, const th_tensor *t,
                              size_t count)
{
    char script[512];
    snprintf(script, sizeof script, "%s", __FILE__);
    char *slash = strrchr(script, '/');
    snprintf(slash ? slash + 1 : script, sizeof script - (size_t)(slash ? slash + 1 - script : 0),
             "st_independent_reader.py");
    if (access(script, R_OK) != 0) {
        printf("     (skipped the python reader: %s not found from here)\n", script);
        return;
    }
    char cmd[2048];
    int len = snprintf(cmd, sizeof cmd, "%s %s %s", python, script, path);
    CHECK(len > 0 && len < (int)sizeof cmd);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    char line[1024];
    size_t seen = 0;
    int saw_meta = 0;
    while (fgets(line, sizeof line, p)) {
        char name[64], dtype[8], shape[64];
        size_t n;
        char fsum[64], first[64], middle[64], last[64];
        if (strncmp(line, "meta ", 5) == 0) {
            CHECK_STR_CONTAINS(line, "meta model.kT 0.1");
            saw_meta = 1;
            continue;
        }
        if (sscanf(line, "tensor %63s %7s %63s %zu %63s %63s %63s %63s", name, dtype, shape, &n,
                   fsum, first, middle, last) != 8) {
            CHECK(!"unparsed line from the python reader");
            fprintf(stderr, "  line: %s", line);
            continue;
        }
        const th_tensor *want = NULL;
        for (size_t i = 0; i < count; i++)
            if (strcmp(t[i].name, name) == 0) want = &t[i];
        CHECK(want != NULL);
        if (!want) continue;
        seen++;
        char expect_shape[64];
        shape_text(want, expect_shape, sizeof expect_shape);
        CHECK(strcmp(shape, expect_shape) == 0);
        CHECK(strcmp(dtype, want->dtype == TH_F32 ? "F32" : "F64") == 0);
        size_t c = tensor_count(want);
        CHECK_EQ_INT(n, c);
        double sum = 0;
        for (size_t i = 0; i < c; i++) sum += th_ptr_get(want->data, want->dtype, i);
        /* fsum is correctly rounded, the sum here is not: a few ulps. */
        CHECK_CLOSE(strtod(fsum, NULL), sum, 1e-12 * (1 + fabs(sum)));
        if (c) {
            /* repr() round-trips, so these compare exactly. */
            CHECK(strtod(first, NULL) == th_ptr_get(want->data, want->dtype, 0));
            CHECK(strtod(middle, NULL) == th_ptr_get(want->data, want->dtype, c / 2));
            CHECK(strtod(last, NULL) == th_ptr_get(want->data, want->dtype, c - 1));
        } else {
            CHECK(strcmp(first, "nan") == 0);
        }
    }
    int status = pclose(p);
    CHECK_EQ_INT(status, 0);
    CHECK_EQ_INT(seen, count);
    CHECK(saw_meta);
}

static void test_st_independent_readers(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    const char *path = scratch("indep.safetensors");
    float w[12];
    for (int i = 0; i < 12; i++) w[i] = (float)(0.37 * i - 1.5);
    double v[5];
    for (int i = 0; i < 5; i++) v[i] = 1.0 / (i + 1);
    double pi = 3.14159265358979323846;
    size_t sw[2] = {3, 4}, sv[1] = {5}, se[2] = {2, 0};
    th_tensor t[4] = {
        make_tensor("w", TH_F32, 2, sw, w),
        make_tensor("v", TH_F64, 1, sv, v),
        make_tensor("pi", TH_F64, 0, NULL, &pi),
        make_tensor("e", TH_F32, 2, se, NULL),
    };
    th_meta meta = {0};
    th_meta_set(&meta, "model.kT", "0.1");
    CHECK_EQ_INT(th_safetensors_write(path, t, 4, &meta), TH_OK);
    th_meta_clear(&meta);

    /* The second reader, always. */
    size_t size = 0;
    uint8_t *raw = slurp(path, &size);
    CHECK(raw && size >= 8);
    if (raw && size >= 8) {
        uint64_t n = 0;
        for (int k = 7; k >= 0; k--) n = n << 8 | raw[k];
        CHECK(n <= size - 8);
        char *header = malloc((size_t)n + 1);
        if (!header) abort();
        memcpy(header, raw + 8, (size_t)n);
        header[n] = '\0';
        const uint8_t *data = raw + 8 + n;
        size_t data_size = size - 8 - (size_t)n;
        for (int i = 0; i < 4; i++) {
            char dtype[4] = "";
            unsigned long long begin = 0, end = 0;
            CHECK(mini_find(header, t[i].name, dtype, &begin, &end));
            CHECK(strcmp(dtype, t[i].dtype == TH_F32 ? "F32" : "F64") == 0);
            CHECK_EQ_INT(end - begin, tensor_bytes(&t[i]));
            CHECK(end <= data_size);
            if (end <= data_size && end - begin == tensor_bytes(&t[i]) && end > begin)
                CHECK(memcmp(data + begin, t[i].data.v, (size_t)(end - begin)) == 0);
        }
        free(header);
    }
    free(raw);

    const char *python = python_with_numpy();
    if (python) check_with_python(python, path, t, 4);
    else printf("     (skipped the python reader: no python3 with numpy)\n");
    scratch_end();
}

/* ------------------------------------------------------------ model files */

/* Three groups, couplings 0-1, 1-1, 2-2 (0-2 not), every parameter varied. */
static th_model *sample_model(th_dtype dtype)
{
    size_t sizes[3] = {3, 2, 4};
    th_model *m = th_model_alloc(3, sizes, dtype);
    if (!m) abort();
    th_model_couple(m, 0, 1);
    th_model_couple(m, 1, 1);
    th_model_couple(m, 2, 2);
    m->kT = 0.1;
    m->mu = 1.0 / 3.0;
    for (size_t i = 0; i < m->n; i++) {
        th_ptr_set(m->J2, dtype, i, 0.5 + 0.1 * (double)i);
        th_ptr_set(m->J4, dtype, i, 0.01 * (double)i);
        th_ptr_set(m->b, dtype, i, -0.3 + 0.07 * (double)i);
        for (size_t j = i + 1; j < m->n; j++)
            if (th_model_groups_couple(m, i, j))
                th_model_set_coupling(m, i, j, 0.01 * (double)((i + 1) * (j + 2)) - 0.2);
    }
    return m;
}

static void check_same_model(const th_model *a, const th_model *b)
{
    CHECK_EQ_INT(a->dtype, b->dtype);
    CHECK_EQ_INT(a->n, b->n);
    CHECK_EQ_INT(a->n_groups, b->n_groups);
    CHECK(memcmp(a->group_start, b->group_start, sizeof a->group_start) == 0);
    CHECK(memcmp(a->couples, b->couples, sizeof a->couples) == 0);
    CHECK(memcmp(&a->kT, &b->kT, sizeof a->kT) == 0);
    CHECK(memcmp(&a->mu, &b->mu, sizeof a->mu) == 0);
    if (a->n != b->n || a->dtype != b->dtype) return;
    size_t es = th_dtype_size(a->dtype);
    CHECK(memcmp(a->J2.v, b->J2.v, a->n * es) == 0);
    CHECK(memcmp(a->J4.v, b->J4.v, a->n * es) == 0);
    CHECK(memcmp(a->b.v, b->b.v, a->n * es) == 0);
    CHECK(memcmp(a->J.v, b->J.v, a->n * a->n * es) == 0);
}

static void test_st_model_roundtrip(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    for (int d = 0; d < 2; d++) {
        th_dtype dtype = d ? TH_F64 : TH_F32;
        const char *path = scratch(d ? "model64.safetensors" : "model32.safetensors");
        th_model *m = sample_model(dtype);
        CHECK_EQ_INT(th_model_validate(m), TH_OK);
        th_meta extra = {0};
        th_meta_set(&extra, "train.dt", "0.001");
        th_meta_set(&extra, "model.kT", "999"); /* the model's own value wins */
        CHECK_EQ_INT(th_model_save(path, m, &extra), TH_OK);
        th_meta_clear(&extra);

        th_meta got = {0};
        th_meta_set(&got, "stale", "from before"); /* replaced by the file's metadata */
        th_model *back = NULL;
        CHECK_EQ_INT(th_model_load(path, &back, &got), TH_OK);
        CHECK(back != NULL);
        if (back) check_same_model(m, back);
        /* Expected strings written out by hand: %.17g of 0.1 and of 1/3. */
        const char *kT = th_meta_get(&got, "model.kT");
        const char *mu = th_meta_get(&got, "model.mu");
        const char *groups = th_meta_get(&got, "model.groups");
        const char *couples = th_meta_get(&got, "model.couples");
        const char *version = th_meta_get(&got, "thermo.version");
        const char *dt = th_meta_get(&got, "train.dt");
        CHECK(kT && strcmp(kT, "0.10000000000000001") == 0);
        CHECK(mu && strcmp(mu, "0.33333333333333331") == 0);
        CHECK(groups && strcmp(groups, "3,2,4") == 0);
        CHECK(couples && strcmp(couples, "0-1,1-1,2-2") == 0);
        CHECK(version && strcmp(version, TH_VERSION_STRING) == 0);
        CHECK(dt && strcmp(dt, "0.001") == 0);
        CHECK(th_meta_get(&got, "stale") == NULL);
        th_meta_clear(&got);
        th_model_free(back);

        /* extra_out may be NULL */
        CHECK_EQ_INT(th_model_load(path, &back, NULL), TH_OK);
        if (back) check_same_model(m, back);
        th_model_free(back);
        th_model_free(m);
    }
    scratch_end();
}

/* ------------------------------------------------------------ bad inputs */

typedef struct bad_case {
    const char *label;
    const char *header;
    size_t n_data;      /* zero bytes after the header */
    const char *expect; /* in the message, besides the path */
} bad_case;

static void check_rejected(const char *path, int rc, int want, const char *expect,
                           const char *label)
{
    if (rc != want) fprintf(stderr, "  case: %s\n", label);
    CHECK_EQ_INT(rc, want);
    CHECK_STR_CONTAINS(th_last_error(), path);
    CHECK_STR_CONTAINS(th_last_error(), expect);
}

static void test_st_rejects_bad_files(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    static const bad_case cases[] = {
        {"invalid JSON", "{\"a\": {\"dtype\": \"F32\"", 0, "not valid JSON"},
        {"BF16", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
         "tensor \"w\": dtype BF16 not supported"},
        {"unknown dtype", "{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "unknown dtype \"Q7\""},
        {"offsets outside", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
         8, "outside the data area of 8 bytes"},
        {"overlap",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
         12, "tensor \"b\" at data_offsets [4, 12] overlaps tensor \"a\""},
        {"shape/offset mismatch",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
         "hold 8 bytes, but shape [3] of F32 needs 12"},
        {"gap",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
         12, "bytes [4, 8) of the data area belong to no tensor"},
        {"trailing bytes", "{\"a\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}", 12,
         "4 trailing bytes"},
        {"duplicate name",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, "tensor name \"a\" appears twice"},
        {"long name",
         "{\"0123456789012345678901234567890123456789012345678901234567890123\":"
         "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         4, "has 64 bytes, at most 63"},
        {"field twice",
         "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "tensor \"w\": field \"dtype\" appears twice"},
        {"metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
         "__metadata__ appears twice"},
        {"metadata key twice", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
         "metadata key \"k\" appears twice"},
        {"metadata not string", "{\"__metadata__\":{\"k\":1}}", 0,
         "metadata \"k\" is not a string"},
        {"metadata not object", "{\"__metadata__\":[]}", 0, "not an object of strings"},
        {"header array", "[1, 2]", 0, "not an object"},
        {"negative dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0,
         "shape entry 0 is not a non-negative integer"},
        {"fractional dim",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,1.5],\"data_offsets\":[0,12]}}", 12,
         "shape entry 1 is not a non-negative integer"},
        {"five dims",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
         "5 dimensions, at most 4"},
        {"huge shape",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,0],"
         "\"data_offsets\":[0,0]}}",
         0, "shape too large"},
        {"begin after end", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}",
         8, "end before they begin"},
        {"three offsets",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4,
         "data_offsets must be two non-negative integers"},
        {"no dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "no \"dtype\" field"},
        {"entry not object", "{\"w\":7}", 0, "expected an object"},
        {"garbage after JSON", "{}  x", 0, "characters after the JSON object"},
        {"bad UTF-8", "{\"\xff\":1}", 0, "invalid UTF-8"},
        {"NUL escape",
         "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "\\u0000"},
        {"NUL escape after an escaped quote",
         "{\"a\\\"b\\u0000\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "\\u0000"},
        {"raw control char", "{\"a\nb\":1}", 0, "control character"},
    };
    const char *path = scratch("bad.safetensors");
    static const uint8_t zeros[16];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_st_raw(path, cases[i].header, zeros, cases[i].n_data);
        th_tensor_file *f = (th_tensor_file *)&f; /* must come back NULL */
        int rc = th_safetensors_read(path, &f);
        check_rejected(path, rc, TH_EFORMAT, cases[i].expect, cases[i].label);
        CHECK(f == NULL);
    }

    /* Non-finite values, named with the tensor and the element. */
    float nan_data[3] = {1.0f, NAN, 2.0f};
    write_st_raw(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}",
                 nan_data, sizeof nan_data);
    th_tensor_file *f = NULL;
    check_rejected(path, th_safetensors_read(path, &f), TH_EFORMAT,
                   "tensor \"w\": element 1 is nan", "NaN");
    double inf_data[3] = {1.0, 2.0, -INFINITY};
    {
        uint8_t data[28] = {0};
        memcpy(data + 4, inf_data, sizeof inf_data);
        write_st_raw(path,
                     "{\"ok\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                     "\"x\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[4,28]}}",
                     data, sizeof data);
    }
    check_rejected(path, th_safetensors_read(path, &f), TH_EFORMAT,
                   "tensor \"x\": element 2 is -inf", "-Inf");

    /* Damaged lengths. */
    const uint8_t tiny[5] = {2, 0, 0, 0, 0};
    write_bytes(path, tiny, sizeof tiny);
    check_rejected(path, th_safetensors_read(path, &f), TH_EFORMAT, "truncated: 5 bytes",
                   "5-byte file");
    uint8_t long_header[10] = {0xe8, 0x03, 0, 0, 0, 0, 0, 0, '{', '}'}; /* N = 1000 */
    write_bytes(path, long_header, sizeof long_header);
    check_rejected(path, th_safetensors_read(path, &f), TH_EFORMAT,
                   "header length 1000 exceeds the 2 bytes", "header beyond the file");
    uint8_t huge_header[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'}; /* N = 2^63 */
    write_bytes(path, huge_header, sizeof huge_header);
    check_rejected(path, th_safetensors_read(path, &f), TH_EFORMAT, "exceeds", "N = 2^63");
    uint8_t short_header[10] = {1, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    write_bytes(path, short_header, sizeof short_header);
    check_rejected(path, th_safetensors_read(path, &f), TH_EFORMAT,
                   "header length 1: too short", "N = 1");

    /* A good file cut short, at the end of the data and inside the header. */
    const char *good = scratch("good.safetensors");
    double v[4] = {1, 2, 3, 4};
    size_t sv[1] = {4};
    th_tensor t = make_tensor("v", TH_F64, 1, sv, v);
    CHECK_EQ_INT(th_safetensors_write(good, &t, 1, NULL), TH_OK);
    size_t size = 0;
    uint8_t *raw = slurp(good, &size);
    CHECK(raw && size > 40);
    if (raw && size > 40) {
        write_bytes(path, raw, size - 4);
        check_rejected(path, th_safetensors_read(path, &f), TH_EFORMAT, "truncated file?",
                       "cut data");
        write_bytes(path, raw, 20);
        check_rejected(path, th_safetensors_read(path, &f), TH_EFORMAT, "truncated file",
                       "cut header");
    }
    free(raw);

    /* Not a file at all. */
    const char *missing = scratch("missing.safetensors");
    check_rejected(missing, th_safetensors_read(missing, &f), TH_EIO, "cannot open",
                   "missing file");
    const char *folder = scratch("a-folder");
    CHECK(mkdir(folder, 0755) == 0);
    check_rejected(folder, th_safetensors_read(folder, &f), TH_EIO, "is a directory",
                   "directory");
    scratch_end();
}

/* Writes a model file with the given tensors and metadata as they are, so
 * that each test below can damage one thing. */
static void write_model_variant(const char *path, const th_tensor *t, size_t count,
                                const char *groups, const char *couples, const char *kT,
                                int with_version)
{
    th_meta meta = {0};
    if (with_version) th_meta_set(&meta, "thermo.version", TH_VERSION_STRING);
    if (groups) th_meta_set(&meta, "model.groups", groups);
    if (couples) th_meta_set(&meta, "model.couples", couples);
    th_meta_set(&meta, "model.kT", kT);
    th_meta_set(&meta, "model.mu", "1");
    if (th_safetensors_write(path, t, count, &meta) != TH_OK) {
        fprintf(stderr, "  cannot write %s: %s\n", path, th_last_error());
        abort();
    }
    th_meta_clear(&meta);
}

static void test_st_rejects_bad_models(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    const char *path = scratch("bad-model.safetensors");
    /* 4 units in groups {2, 2} coupled 0-1, J_{0,2} = J_{2,0} = 0.5. */
    double J2[4] = {1, 1, 1, 1}, J4[4] = {1, 1, 1, 1}, b[4] = {0, 0, 0, 0};
    double J[16] = {0}, J_asym[16] = {0}, J43[12] = {0};
    float J32[16] = {0};
    J[0 * 4 + 2] = J[2 * 4 + 0] = 0.5;
    J_asym[0 * 4 + 2] = 0.5;
    J_asym[2 * 4 + 0] = 0.25;
    size_t s4[1] = {4}, s44[2] = {4, 4}, s43[2] = {4, 3};
    th_tensor t[4] = {
        make_tensor("J2", TH_F64, 1, s4, J2),
        make_tensor("J4", TH_F64, 1, s4, J4),
        make_tensor("b", TH_F64, 1, s4, b),
        make_tensor("J", TH_F64, 2, s44, J),
    };
    th_model *m = (th_model *)&m;

    /* The undamaged variant loads: the damage below is what fails. */
    write_model_variant(path, t, 4, "2,2", "0-1", "0.5", 1);
    CHECK_EQ_INT(th_model_load(path, &m, NULL), TH_OK);
    CHECK(m && m->n == 4 && m->couples[0][1] && !m->couples[0][0] && m->kT == 0.5);
    th_model_free(m);

    write_model_variant(path, t, 3, "2,2", "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT, "no tensor \"J\"",
                   "missing J");
    CHECK(m == NULL);
    th_tensor no_b[3] = {t[0], t[1], t[3]};
    write_model_variant(path, no_b, 3, "2,2", "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT, "no tensor \"b\"",
                   "missing b");

    th_tensor wrong_J[4] = {t[0], t[1], t[2], make_tensor("J", TH_F64, 2, s43, J43)};
    write_model_variant(path, wrong_J, 4, "2,2", "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT,
                   "tensor \"J\" has shape (4, 3), expected (n, n) with n = 4", "J (4, 3)");

    write_model_variant(path, t, 4, "2,3", "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT,
                   "tensor \"J2\" has shape (4), expected (n) with n = 5 units (model.groups = "
                   "\"2,3\")", "groups sum to 5");
    write_model_variant(path, t, 4, "2,,2", "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT, "model.groups = \"2,,2\"",
                   "groups syntax");
    write_model_variant(path, t, 4, "4,0", "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT, "model.groups = \"4,0\"",
                   "empty group");
    write_model_variant(path, t, 4, NULL, "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT,
                   "no metadata \"model.groups\"", "no groups");
    write_model_variant(path, t, 4, "2,2", "0-1", "0.5", 0);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT,
                   "no metadata \"thermo.version\"", "no version");
    write_model_variant(path, t, 4, "2,2", "0-2", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT,
                   "pair 0-2 names a group beyond the 2", "couples out of range");
    write_model_variant(path, t, 4, "2,2", "0+1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT, "model.couples = \"0+1\"",
                   "couples syntax");
    write_model_variant(path, t, 4, "2,2", "0-1", "0.5x", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT,
                   "model.kT = \"0.5x\": expected a finite number", "kT syntax");
    write_model_variant(path, t, 4, "2,2", "0-1", "-1", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT, "kT = -1", "kT < 0");

    /* J must fit the coupling pattern and be symmetric: th_model_validate's
     * findings, reported as a malformed file. */
    write_model_variant(path, t, 4, "2,2", "", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT, "not coupled",
                   "J outside pattern");
    th_tensor asym[4] = {t[0], t[1], t[2], make_tensor("J", TH_F64, 2, s44, J_asym)};
    write_model_variant(path, asym, 4, "2,2", "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT, "symmetric", "asymmetric J");
    th_tensor mixed[4] = {t[0], t[1], t[2], make_tensor("J", TH_F32, 2, s44, J32)};
    write_model_variant(path, mixed, 4, "2,2", "0-1", "0.5", 1);
    check_rejected(path, th_model_load(path, &m, NULL), TH_EFORMAT,
                   "tensor \"J\" is F32 but \"J2\" is F64", "mixed dtypes");
    CHECK(m == NULL);
    scratch_end();
}

/* ------------------------------------------------------------ atomic writes */

/* Files in the scratch folder whose name marks a temporary file. */
static int count_temporaries(void)
{
    DIR *d = opendir(scratch_dir);
    if (!d) return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) count++;
    closedir(d);
    return count;
}

static void test_st_atomic_writes(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    double v[4] = {1, 2, 3, 4};
    size_t sv[1] = {4};
    th_tensor t = make_tensor("v", TH_F64, 1, sv, v);

    /* a missing folder is created (mkdir -p); one that cannot be, because a
     * file stands in its place, is an error naming both */
    const char *in_missing = scratch("no-such-folder/x.safetensors");
    CHECK_EQ_INT(th_safetensors_write(in_missing, &t, 1, NULL), TH_OK);
    CHECK(file_exists(in_missing));
    remove(in_missing);
    rmdir(scratch("no-such-folder"));
    const char *a_file = scratch("a-file");
    FILE *af = fopen(a_file, "w");
    CHECK(af != NULL);
    if (af) fclose(af);
    const char *under_file = scratch("a-file/x.safetensors");
    check_rejected(under_file, th_safetensors_write(under_file, &t, 1, NULL), TH_EIO,
                   "is not a folder", "a file where the folder should be");
    CHECK(!file_exists(under_file));
    const char *folder = scratch("a-folder");
    CHECK(mkdir(folder, 0755) == 0);
    check_rejected(folder, th_safetensors_write(folder, &t, 1, NULL), TH_EIO,
                   "is a directory", "directory target");

    /* A previous file survives a write that fails half-way: the file size
     * limit makes the kernel refuse the bytes past 4 KB with EFBIG, a real
     * failure in the middle of the data (SIGXFSZ ignored so that it is an
     * error and not the end of the process). */
    const char *path = scratch("kept.safetensors");
    CHECK_EQ_INT(th_safetensors_write(path, &t, 1, NULL), TH_OK);
    size_t before_size = 0;
    uint8_t *before = slurp(path, &before_size);

    static double big[8192];
    for (size_t i = 0; i < 8192; i++) big[i] = (double)i;
    size_t sbig[1] = {8192};
    th_tensor tb = make_tensor("big", TH_F64, 1, sbig, big);
    struct rlimit old_limit, limit;
    CHECK(getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    limit = old_limit;
    limit.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &limit) == 0);
    int rc = th_safetensors_write(path, &tb, 1, NULL);
    CHECK(setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    signal(SIGXFSZ, old_handler);
    check_rejected(path, rc, TH_EIO, "the previous file, if any, is unchanged", "EFBIG");

    size_t after_size = 0;
    uint8_t *after = slurp(path, &after_size);
    CHECK(before && after && before_size == after_size &&
          memcmp(before, after, before_size) == 0);
    free(after);
    CHECK_EQ_INT(count_temporaries(), 0);

    /* A model that fails validation is not written either. */
    size_t sizes[1] = {2};
    th_model *m = th_model_alloc(1, sizes, TH_F64);
    m->kT = -1;
    check_rejected(path, th_model_save(path, m, NULL), TH_EINVAL, "kT = -1", "invalid model");
    th_model_free(m);
    after = slurp(path, &after_size);
    CHECK(before && after && before_size == after_size &&
          memcmp(before, after, before_size) == 0);
    free(after);
    free(before);

    /* Writing over an existing file replaces it whole. */
    CHECK_EQ_INT(th_safetensors_write(path, &tb, 1, NULL), TH_OK);
    th_tensor_file *f = NULL;
    CHECK_EQ_INT(th_safetensors_read(path, &f), TH_OK);
    CHECK(f && f->count == 1 && memcmp(f->tensors[0].data.v, big, sizeof big) == 0);
    th_tensor_file_free(f);
    CHECK_EQ_INT(count_temporaries(), 0);
    scratch_end();
}

/* The helpers the other writers share, driven directly: a rename that fails
 * after the data is written (the target became a folder meanwhile) and an
 * abandoned write must both leave no temporary file and the old content. */
static void test_st_atomic_helpers(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    char tmp[512];
    const char *path = scratch("target");
    write_bytes(path, "old", 3);
    FILE *f = th__atomic_open(path, tmp, sizeof tmp);
    CHECK(f != NULL);
    if (f) {
        CHECK_STR_CONTAINS(tmp, "target.tmp.");
        fputs("new", f);
        th__atomic_abort(f, tmp);
    }
    size_t n = 0;
    uint8_t *got = slurp(path, &n);
    CHECK(got && n == 3 && memcmp(got, "old", 3) == 0);
    free(got);
    CHECK_EQ_INT(count_temporaries(), 0);

    f = th__atomic_open(path, tmp, sizeof tmp);
    CHECK(f != NULL);
    if (f) {
        fputs("new", f);
        CHECK_EQ_INT(th__atomic_commit(f, tmp, path), TH_OK);
    }
    got = slurp(path, &n);
    CHECK(got && n == 3 && memcmp(got, "new", 3) == 0);
    free(got);

    const char *became_folder = scratch("became-folder");
    f = th__atomic_open(became_folder, tmp, sizeof tmp);
    CHECK(f != NULL);
    if (f) {
        fputs("data", f);
        CHECK(mkdir(became_folder, 0755) == 0);
        check_rejected(became_folder, th__atomic_commit(f, tmp, became_folder), TH_EIO,
                       "renaming the temporary file over it failed", "rename fails");
    }
    CHECK_EQ_INT(count_temporaries(), 0);

    const char *plain = scratch("plain-file");
    FILE *pf = fopen(plain, "w");
    CHECK(pf != NULL);
    if (pf) fclose(pf);
    const char *in_file = scratch("plain-file/target");
    CHECK(th__atomic_open(in_file, tmp, sizeof tmp) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), in_file);
    char small[8];
    CHECK(th__atomic_open(path, small, sizeof small) == NULL);
    CHECK_STR_CONTAINS(th_last_error(), "too long");
    scratch_end();
}

/* mkdir -p: nested folders made, an existing one fine, a file in the way an
 * error naming it; th_mkdir_parent makes the folder of a file path. */
static void test_mkdir_p(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    struct stat st;
    const char *deep = scratch("a/b/c");
    CHECK_EQ_INT(th_mkdir_p(deep), TH_OK);
    CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_EQ_INT(th_mkdir_p(deep), TH_OK); /* again: nothing to do */
    const char *file_path = scratch("d/e/f.png");
    CHECK_EQ_INT(th_mkdir_parent(file_path), TH_OK);
    CHECK(stat(scratch("d/e"), &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_EQ_INT(th_mkdir_parent("bare-name.png"), TH_OK);
    const char *blocker = scratch("a/b/blocker");
    FILE *f = fopen(blocker, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    const char *under = scratch("a/b/blocker/x/y");
    CHECK_EQ_INT(th_mkdir_p(under), TH_EIO);
    CHECK_STR_CONTAINS(th_last_error(), under);
    CHECK_STR_CONTAINS(th_last_error(), "is not a folder");
    remove(blocker);
    rmdir(scratch("d/e"));
    rmdir(scratch("d"));
    rmdir(deep);
    rmdir(scratch("a/b"));
    rmdir(scratch("a"));
    scratch_end();
}

static void test_st_writer_rejects(void)
{
    if (!scratch_begin()) {
        CHECK(!"mkdtemp");
        return;
    }
    const char *path = scratch("never.safetensors");
    float w[3] = {1, 2, NAN};
    size_t s3[1] = {3}, s5[5] = {1, 1, 1, 1, 3};
    th_tensor nan_t = make_tensor("w", TH_F32, 1, s3, w);
    check_rejected(path, th_safetensors_write(path, &nan_t, 1, NULL), TH_EINVAL,
                   "tensor \"w\": element 2 is nan", "NaN");
    w[2] = 3;
    th_tensor twice[2] = {nan_t, nan_t};
    check_rejected(path, th_safetensors_write(path, twice, 2, NULL), TH_EINVAL,
                   "tensor name \"w\" appears twice", "duplicate");
    th_tensor reserved = make_tensor("__metadata__", TH_F32, 1, s3, w);
    check_rejected(path, th_safetensors_write(path, &reserved, 1, NULL), TH_EINVAL,
                   "reserved", "__metadata__");
    th_tensor five = make_tensor("w", TH_F32, 0, NULL, w);
    five.n_dims = 5;
    memcpy(five.shape, s5, sizeof five.shape);
    check_rejected(path, th_safetensors_write(path, &five, 1, NULL), TH_EINVAL,
                   "5 dimensions", "5 dims");
    CHECK(!file_exists(path));
    CHECK_EQ_INT(count_temporaries(), 0);
    scratch_end();
}

/* ---------------------------------------------------------------- metadata */

static void test_st_meta(void)
{
    th_meta m = {0};
    CHECK(th_meta_get(&m, "a") == NULL);
    CHECK_EQ_INT(th_meta_set(&m, "a", "1"), TH_OK);
    CHECK_EQ_INT(th_meta_setf(&m, "b", "%d-%s-%.17g", 7, "x", 0.1), TH_OK);
    CHECK_EQ_INT(th_meta_set(&m, "a", "replaced"), TH_OK);
    CHECK_EQ_INT(m.count, 2);
    CHECK(strcmp(th_meta_get(&m, "a"), "replaced") == 0);
    CHECK(strcmp(th_meta_get(&m, "b"), "7-x-0.10000000000000001") == 0);
    char key[8] = "a";
    CHECK_EQ_INT(th_meta_set(&m, key, "copied"), TH_OK);
    key[0] = 'z'; /* the meta holds its own copy of the key */
    CHECK(strcmp(th_meta_get(&m, "a"), "copied") == 0);
    th_meta_clear(&m);
    CHECK_EQ_INT(m.count, 0);
    CHECK(th_meta_get(&m, "a") == NULL);
    CHECK_EQ_INT(th_meta_set(&m, "again", ""), TH_OK); /* reusable after clear */
    CHECK(th_meta_get(&m, "again") && th_meta_get(&m, "again")[0] == '\0');
    th_meta_clear(&m);
    th_meta_clear(NULL);
}

void suite_safetensors(void);
void suite_safetensors(void)
{
    RUN_TEST(test_st_meta_merge);
    RUN_TEST(test_st_roundtrip_bit_identical);
    RUN_TEST(test_st_independent_readers);
    RUN_TEST(test_st_model_roundtrip);
    RUN_TEST(test_st_rejects_bad_files);
    RUN_TEST(test_st_rejects_bad_models);
    RUN_TEST(test_st_atomic_writes);
    RUN_TEST(test_st_atomic_helpers);
    RUN_TEST(test_mkdir_p);
    RUN_TEST(test_st_writer_rejects);
    RUN_TEST(test_st_meta);
}
