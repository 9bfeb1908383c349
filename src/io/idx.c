/* idx.c - IDX datasets (the MNIST file format), raw or gzip compressed.
 *
 * An IDX file is a 4-byte magic 0x00 0x00 <type> <n_dims>, then n_dims
 * big-endian uint32 sizes, then prod(sizes) elements; thermo reads the
 * unsigned-byte type 0x08 only, the type of every MNIST-like image and label
 * file (LeCun et al., http://yann.lecun.com/exdb/mnist/, "THE IDX FILE
 * FORMAT"). The data must be exactly as long as the header says: a truncated
 * file or trailing bytes mean a damaged download, and reading on would feed
 * shifted pixels to a training run without any visible sign. */
#include "core/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_TYPE_U8 0x08
#define IDX_MAX_DIMS 4
/* The largest data area accepted: 2^31 bytes is 45 times the MNIST training
 * images, and a header declaring more is far likelier damaged than real. */
#define IDX_MAX_BYTES ((uint64_t)1 << 31)
/* Image sides beyond this are no thumbnail dataset; the cap also keeps
 * rows * cols far from overflowing in the callers' loops. */
#define IDX_MAX_SIDE 4096
/* The first allocation for the data; it doubles as data arrives, so that a
 * small damaged file declaring 2 GB does not make us reserve 2 GB. */
#define IDX_FIRST_CHUNK ((size_t)1 << 16)

/* "60000 x 28 x 28" */
static void format_dims(char *buf, size_t size, const size_t *dims, size_t n_dims)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n_dims && used < size; k++) {
        int w = snprintf(buf + used, size - used, "%s%zu", k ? " x " : "", dims[k]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* "60000 x 28 x 28 = 47040000 bytes", or "10000 bytes" for one dimension. */
static void format_size(char *buf, size_t size, const size_t *dims, size_t n_dims,
                        uint64_t total)
{
    char shape[128];
    format_dims(shape, sizeof shape, dims, n_dims);
    if (n_dims == 1) snprintf(buf, size, "%llu bytes", (unsigned long long)total);
    else snprintf(buf, size, "%s = %llu bytes", shape, (unsigned long long)total);
}

/* An open IDX file and what reading it has found out so far. Compressed
 * files go through inflate directly rather than zlib's gzread, which would
 * silently skip bytes that follow the gzip stream (gzip -d warns about
 * them): here they are rejected like any other trailing bytes. */
typedef struct idx_reader {
    int fd;
    const char *path;
    int compressed; /* the file starts with the gzip magic 0x1f 0x8b */
    int cut;        /* the gzip stream ended before its end marker and checksum */
    int done;       /* gzip: the last member and its checksum are read */
    z_stream z;     /* gzip: the decompressor, fed from in */
    int z_live;     /* z needs inflateEnd */
    uint8_t *in;    /* (IDX_IN_SIZE) file bytes not yet consumed */
    size_t in_pos, in_have; /* raw: the unconsumed bytes are in[in_pos, in_have) */
} idx_reader;

#define IDX_IN_SIZE ((size_t)1 << 16)

/* read() that retries on signals; the count, 0 at the end, -1 on error. */
static ssize_t read_fd(int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || errno != EINTR) return r;
    }
}

/* Appends file bytes after the k unconsumed ones at z.next_in, moved to the
 * front of in; returns how many arrived (0 at the end) or a TH_E* status. */
static long long gz_refill(idx_reader *r)
{
    size_t k = r->z.avail_in;
    if (k) memmove(r->in, r->z.next_in, k);
    ssize_t got = read_fd(r->fd, r->in + k, IDX_IN_SIZE - k);
    if (got < 0) return th__fail(TH_EIO, "%s: read failed: %s", r->path, strerror(errno));
    r->z.next_in = r->in;
    r->z.avail_in = (uInt)(k + (size_t)got);
    return got;
}

/* After the end of a gzip member: another member may follow (gzip allows
 * concatenation); anything else is trailing garbage. 0 or a TH_E* status. */
static int gz_next_member(idx_reader *r)
{
    while (r->z.avail_in < 2) {
        long long got = gz_refill(r);
        if (got < 0) return (int)got;
        if (got == 0) break;
    }
    if (r->z.avail_in == 0) {
        r->done = 1;
        return TH_OK;
    }
    if (r->z.avail_in < 2 || r->z.next_in[0] != 0x1f || r->z.next_in[1] != 0x8b)
        return th__fail(TH_EFORMAT, "%s: trailing bytes after the end of the gzip stream",
                        r->path);
    if (inflateReset(&r->z) != Z_OK)
        return th__fail(TH_EFORMAT, "%s: cannot restart the gzip decoder", r->path);
    return TH_OK;
}

static long long gz_read(idx_reader *r, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n && !r->done && !r->cut) {
        size_t want = n - got;
        if (want > ((size_t)1 << 30)) want = (size_t)1 << 30;
        r->z.next_out = buf + got;
        r->z.avail_out = (uInt)want;
        if (r->z.avail_in == 0) {
            long long more = gz_refill(r);
            if (more < 0) return more;
            if (more == 0) {
                /* The file ends inside a member: data, or at least its
                 * checksum, is missing. */
                r->cut = 1;
                break;
            }
        }
        int ret = inflate(&r->z, Z_NO_FLUSH);
        got = (size_t)(r->z.next_out - buf);
        if (ret == Z_STREAM_END) {
            int rc = gz_next_member(r);
            if (rc != TH_OK) return rc;
        } else if (ret == Z_MEM_ERROR) {
            return th__fail(TH_ENOMEM, "%s: out of memory in the gzip decoder", r->path);
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            /* Z_DATA_ERROR (bad data, a wrong checksum) or Z_NEED_DICT,
             * which no gzip file may ask for. */
            return th__fail(TH_EFORMAT, "%s: corrupt gzip stream: %s", r->path,
                            r->z.msg ? r->z.msg : "invalid data");
        }
    }
    return (long long)got;
}

static long long raw_read(idx_reader *r, uint8_t *buf, size_t n)
{
    size_t got = 0;
    size_t pending = r->in_have - r->in_pos;
    if (pending) {
        got = pending < n ? pending : n;
        memcpy(buf, r->in + r->in_pos, got);
        r->in_pos += got;
    }
    while (got < n) {
        ssize_t k = read_fd(r->fd, buf + got, n - got);
        if (k < 0) return th__fail(TH_EIO, "%s: read failed: %s", r->path, strerror(errno));
        if (k == 0) break;
        got += (size_t)k;
    }
    return (long long)got;
}

/* Reads up to n bytes of the (decompressed) content; returns the count,
 * short only at its end, or a negative TH_E* status. */
static long long read_some(idx_reader *r, uint8_t *buf, size_t n)
{
    return r->compressed ? gz_read(r, buf, n) : raw_read(r, buf, n);
}

/* Tells gzip from raw by the first two bytes and sets up the reader; 0 or
 * a TH_E* status. */
static int reader_open(idx_reader *r)
{
    r->in = malloc(IDX_IN_SIZE);
    if (!r->in) return th__fail(TH_ENOMEM, "%s: cannot allocate a read buffer", r->path);
    while (r->in_have < 2) {
        ssize_t k = read_fd(r->fd, r->in + r->in_have, 2 - r->in_have);
        if (k < 0) return th__fail(TH_EIO, "%s: read failed: %s", r->path, strerror(errno));
        if (k == 0) break;
        r->in_have += (size_t)k;
    }
    r->compressed = r->in_have == 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
    if (!r->compressed) return TH_OK;
    /* 16 + MAX_WBITS: a gzip wrapper (not zlib's), with its CRC-32 and
     * length checked by inflate itself. */
    if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
        return th__fail(TH_ENOMEM, "%s: cannot set up the gzip decoder", r->path);
    r->z_live = 1;
    r->z.next_in = r->in;
    r->z.avail_in = 2;
    return TH_OK;
}

static void reader_close(idx_reader *r)
{
    if (r->z_live) inflateEnd(&r->z);
    free(r->in);
    close(r->fd);
}

/* What a truncation message adds about how the bytes were counted. */
static const char *count_note(const idx_reader *r)
{
    if (r->cut) return " after decompression (the gzip stream is cut short)";
    return r->compressed ? " after decompression" : "";
}

/* Reads the magic and the sizes; 0 or a TH_E* status. */
static int read_header(idx_reader *r, size_t dims[4], size_t *n_dims, uint64_t *total)
{
    const char *path = r->path;
    uint8_t magic[4];
    long long got = read_some(r, magic, 4);
    if (got < 0) return (int)got;
    if (got < 4)
        return th__fail(TH_EFORMAT, "%s: %lld bytes%s: too short for an IDX file's 4-byte magic",
                        path, got, count_note(r));
    if (magic[0] != 0 || magic[1] != 0)
        return th__fail(TH_EFORMAT,
                        "%s: not an IDX file: it starts with bytes 0x%02x 0x%02x, expected "
                        "0x00 0x00 (or a gzip stream)",
                        path, magic[0], magic[1]);
    if (magic[2] != IDX_TYPE_U8)
        return th__fail(TH_EFORMAT,
                        "%s: IDX type code 0x%02x, expected 0x08 (unsigned bytes)", path,
                        magic[2]);
    if (magic[3] == 0 || magic[3] > IDX_MAX_DIMS)
        return th__fail(TH_EFORMAT, "%s: IDX header declares %u dimensions, expected 1 to %d",
                        path, (unsigned)magic[3], IDX_MAX_DIMS);
    *n_dims = magic[3];

    uint8_t raw[4 * IDX_MAX_DIMS];
    size_t need = 4 * *n_dims;
    got = read_some(r, raw, need);
    if (got < 0) return (int)got;
    if ((size_t)got < need)
        return th__fail(TH_EFORMAT,
                        "%s: truncated header: %zu dimensions need %zu bytes of sizes, "
                        "found %lld%s",
                        path, *n_dims, need, got, count_note(r));
    *total = 1;
    for (size_t k = 0; k < *n_dims; k++) {
        const uint8_t *p = raw + 4 * k;
        uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        dims[k] = v;
        if (v == 0)
            return th__fail(TH_EFORMAT, "%s: dimension %zu has size 0: the file holds no data",
                            path, k);
        /* Each factor is below 2^32 and the running product stays at most
         * 2^31 (checked below), so the product never overflows 64 bits. */
        *total *= v;
        if (*total > IDX_MAX_BYTES) {
            char shape[128];
            format_dims(shape, sizeof shape, dims, k + 1);
            return th__fail(TH_EFORMAT,
                            "%s: IDX header declares %s%s bytes of data, more than the "
                            "2^31 accepted",
                            path, shape, k + 1 < *n_dims ? " x ..." : "");
        }
    }
    return TH_OK;
}

/* Reads exactly total bytes of data and checks that nothing follows. */
static int read_data(idx_reader *r, uint64_t total, const size_t *dims, size_t n_dims,
                     uint8_t **out)
{
    const char *path = r->path;
    size_t cap = total < IDX_FIRST_CHUNK ? (size_t)total : IDX_FIRST_CHUNK;
    uint8_t *buf = malloc(cap);
    if (!buf) return th__fail(TH_ENOMEM, "%s: cannot allocate %zu bytes", path, cap);
    size_t have = 0;
    for (;;) {
        long long got = read_some(r, buf + have, cap - have);
        if (got < 0) {
            free(buf);
            return (int)got;
        }
        have += (size_t)got;
        if (have < cap || have == total) break;
        size_t next = cap > total / 2 ? (size_t)total : 2 * cap;
        uint8_t *grown = realloc(buf, next);
        if (!grown) {
            free(buf);
            return th__fail(TH_ENOMEM, "%s: cannot allocate %zu bytes", path, next);
        }
        buf = grown;
        cap = next;
    }
    char declared[160];
    format_size(declared, sizeof declared, dims, n_dims, total);
    if (have < total) {
        free(buf);
        return th__fail(TH_EFORMAT,
                        "%s: truncated: the header declares %s of data, the file holds %zu%s",
                        path, declared, have, count_note(r));
    }
    uint8_t extra[1];
    long long more = read_some(r, extra, 1);
    if (more != 0) {
        free(buf);
        if (more < 0) return (int)more;
        return th__fail(TH_EFORMAT,
                        "%s: trailing bytes after the %s of data the header declares%s",
                        path, declared, count_note(r));
    }
    /* All the data arrived but the gzip trailer (its CRC-32 and length) did
     * not: the bytes cannot be checked, so the download is incomplete. */
    if (r->cut) {
        free(buf);
        return th__fail(TH_EFORMAT,
                        "%s: the gzip stream is cut short before its checksum; the file is "
                        "incomplete",
                        path);
    }
    *out = buf;
    return TH_OK;
}

int th_idx_read_u8(const char *path, size_t dims[4], size_t *n_dims, uint8_t **data)
{
    TH_ASSERT(path && dims && n_dims && data);
    *data = NULL;
    *n_dims = 0;
    for (size_t k = 0; k < IDX_MAX_DIMS; k++) dims[k] = 0;

    int fd = open(path, O_RDONLY);
    if (fd < 0) return th__fail(TH_EIO, "%s: cannot open: %s", path, strerror(errno));
    /* fstat on the open descriptor, not stat on the name, so that what we
     * checked is what we read. A directory opens fine and fails only at the
     * first read with a confusing EISDIR. */
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return th__fail(TH_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return th__fail(TH_EIO, "%s: is a directory, expected an IDX file", path);
    }
    /* The format is told from the content (the gzip magic 0x1f 0x8b),
     * never from the name. */
    idx_reader r = {.fd = fd, .path = path};
    size_t d[IDX_MAX_DIMS] = {0};
    size_t nd = 0;
    uint64_t total = 0;
    uint8_t *buf = NULL;
    int rc = reader_open(&r);
    if (rc == TH_OK) rc = read_header(&r, d, &nd, &total);
    if (rc == TH_OK) rc = read_data(&r, total, d, nd, &buf);
    reader_close(&r);
    if (rc != TH_OK) return rc;
    for (size_t k = 0; k < nd; k++) dims[k] = d[k];
    *n_dims = nd;
    *data = buf;
    return TH_OK;
}

void th_dataset_free(th_dataset *d)
{
    if (!d) return;
    free(d->pixels);
    free(d->labels);
    free(d);
}

int th_dataset_load(const char *images_path, const char *labels_path, th_dataset **out)
{
    TH_ASSERT(images_path && out);
    *out = NULL;
    size_t dims[4], n_dims;
    uint8_t *pixels = NULL;
    int rc = th_idx_read_u8(images_path, dims, &n_dims, &pixels);
    if (rc != TH_OK) return rc;
    if (n_dims != 3) {
        char shape[128];
        format_dims(shape, sizeof shape, dims, n_dims);
        free(pixels);
        return th__fail(TH_EFORMAT,
                        "%s: images file has %zu dimension%s (%s), expected 3 "
                        "(count x rows x cols)",
                        images_path, n_dims, n_dims == 1 ? "" : "s", shape);
    }
    if (dims[1] > IDX_MAX_SIDE || dims[2] > IDX_MAX_SIDE) {
        free(pixels);
        return th__fail(TH_EFORMAT, "%s: images of %zu x %zu pixels, more than %d on a side",
                        images_path, dims[1], dims[2], IDX_MAX_SIDE);
    }

    uint8_t *labels = NULL;
    if (labels_path) {
        size_t ldims[4], l_n_dims;
        rc = th_idx_read_u8(labels_path, ldims, &l_n_dims, &labels);
        if (rc != TH_OK) {
            free(pixels);
            return rc;
        }
        if (l_n_dims != 1 || ldims[0] != dims[0]) {
            char shape[128];
            format_dims(shape, sizeof shape, ldims, l_n_dims);
            free(pixels);
            free(labels);
            if (l_n_dims != 1)
                return th__fail(TH_EFORMAT,
                                "%s: labels file has %zu dimensions (%s), expected 1", labels_path,
                                l_n_dims, shape);
            return th__fail(TH_EFORMAT, "%s: labels file has %zu items, images file %s has %zu",
                            labels_path, ldims[0], images_path, dims[0]);
        }
    }

    th_dataset *d = malloc(sizeof *d);
    if (!d) {
        free(pixels);
        free(labels);
        return th__fail(TH_ENOMEM, "%s: cannot allocate the dataset", images_path);
    }
    d->count = dims[0];
    d->rows = dims[1];
    d->cols = dims[2];
    d->pixels = pixels;
    d->labels = labels;
    *out = d;
    return TH_OK;
}

/* Fills buf with <dir>/<split>-<kind>-idx<n>-ubyte[.gz], whichever exists,
 * the uncompressed name first; 0 when found, else a TH_E* status whose
 * message lists both names tried. */
static int find_file(const char *dir, const char *split, const char *kind, char *buf,
                     size_t size)
{
    const char *suffixes[2] = {"", ".gz"};
    char tried[2][4096];
    for (int k = 0; k < 2; k++) {
        int w = snprintf(tried[k], sizeof tried[k], "%s/%s-%s-ubyte%s", dir, split, kind,
                         suffixes[k]);
        if (w < 0 || (size_t)w >= sizeof tried[k] || (size_t)w >= size)
            return th__fail(TH_EINVAL, "%s: folder name too long", dir);
        /* Anything of that name counts, a directory included: the reader
         * then says what is wrong with it instead of "not found". */
        struct stat st;
        if (stat(tried[k], &st) == 0) {
            memcpy(buf, tried[k], (size_t)w + 1);
            return TH_OK;
        }
        if (errno != ENOENT)
            return th__fail(TH_EIO, "%s: cannot stat: %s", tried[k], strerror(errno));
    }
    return th__fail(TH_EIO, "%s: no %s %s file: tried %s and %s", dir, split,
                    strncmp(kind, "images", 6) == 0 ? "images" : "labels", tried[0], tried[1]);
}

int th_dataset_load_dir(const char *dir, const char *split, th_dataset **out)
{
    TH_ASSERT(dir && split && out);
    *out = NULL;
    if (strcmp(split, "train") != 0 && strcmp(split, "t10k") != 0)
        return th__fail(TH_EINVAL, "split '%s': expected train or t10k", split);
    char images[4096], labels[4096];
    int rc = find_file(dir, split, "images-idx3", images, sizeof images);
    if (rc != TH_OK) return rc;
    rc = find_file(dir, split, "labels-idx1", labels, sizeof labels);
    if (rc != TH_OK) return rc;
    return th_dataset_load(images, labels, out);
}

void th_dataset_standardize(const th_dataset *d, size_t k, float *out)
{
    TH_ASSERT(d && out && k < d->count);
    size_t n = d->rows * d->cols;
    const uint8_t *p = d->pixels + k * n;
    /* Two passes in double: exact enough for 0..255 values, and the variance
     * does not suffer the cancellation of sum(x^2) - n mean^2. */
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += p[i];
    double mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double c = p[i] - mean;
        ss += c * c;
    }
    /* Population variance (divide by n), the "unit variance over its
     * pixels" of science.md section 2. A blank image has no scale to divide
     * by; it maps to zeros rather than NaN. */
    double var = ss / (double)n;
    double inv = var > 0 ? 1.0 / sqrt(var) : 0.0;
    for (size_t i = 0; i < n; i++) out[i] = (float)((p[i] - mean) * inv);
}
