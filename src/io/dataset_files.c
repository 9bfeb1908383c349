/* dataset_files.c - putting a published dataset in place and checking it:
 * MNIST's IDX files against their published SHA-256 (science.md section 7),
 * which is the check that the bytes are the real dataset whatever a package
 * manager or a proxy did to them; links to a packaged dataset; a split's
 * label counts for a report. */
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define PATH_LEN 4096

const th_dataset_file th_mnist_files[TH_MNIST_FILES] = {
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
};

/* dir/name into buf (PATH_LEN), refusing a path that would not fit rather
 * than truncating it. */
static int join(char *buf, const char *dir, const char *name, const char *suffix)
{
    int w = snprintf(buf, PATH_LEN, "%s/%s%s", dir, name, suffix);
    if (w < 0 || w >= PATH_LEN)
        return th__fail(TH_EIO, "%.80s/%s%s: a path longer than %d bytes", dir, name, suffix,
                        PATH_LEN - 1);
    return TH_OK;
}

static int hash_mismatch(const char *path, const char *got, const char *expected)
{
    return th__fail(TH_EFORMAT, "%s: SHA-256 %s, expected %s (the published MNIST)", path, got,
                    expected);
}

int th_mnist_verify(const char *dir, char hex[][65])
{
    TH_ASSERT(dir != NULL);
    for (int k = 0; k < TH_MNIST_FILES; k++) {
        char path[PATH_LEN], h[65];
        int rc = join(path, dir, th_mnist_files[k].name, "");
        if (rc == TH_OK) rc = th_sha256_file(path, h);
        if (rc != TH_OK) return rc;
        if (hex) memcpy(hex[k], h, sizeof h);
        if (strcmp(h, th_mnist_files[k].sha256) != 0)
            return hash_mismatch(path, h, th_mnist_files[k].sha256);
    }
    return TH_OK;
}

/* Copies src, uncompressed when it is gzip (zlib reads a plain file as it
 * is), into the open temporary out, hashing the bytes as they pass. */
static int copy_hashing(const char *src, FILE *out, const char *dst, char hex[65])
{
    gzFile in = gzopen(src, "rb");
    if (!in) return th__fail(TH_EIO, "%s: cannot open: %s", src, strerror(errno));
    static _Thread_local unsigned char buf[1 << 16];
    th__sha256 s;
    th__sha256_init(&s);
    int rc = TH_OK;
    for (;;) {
        int r = gzread(in, buf, sizeof buf);
        if (r <= 0) {
            int zerr = Z_OK;
            const char *zmsg = gzerror(in, &zerr);
            if (r < 0 || zerr != Z_OK) rc = th__fail(TH_EFORMAT, "%s: %s", src, zmsg);
            break;
        }
        th__sha256_update(&s, buf, (size_t)r);
        if (fwrite(buf, 1, (size_t)r, out) != (size_t)r) {
            rc = th__fail(TH_EIO, "%s: write failed: %s", dst, strerror(errno));
            break;
        }
    }
    gzclose_r(in);
    if (rc == TH_OK) th__sha256_hex(&s, hex);
    return rc;
}

int th_mnist_install(const char *src, const char *dir, char hex[][65])
{
    TH_ASSERT(src != NULL && dir != NULL);
    int rc = th_mkdir_p(dir);
    th_atomic_file *tmp[TH_MNIST_FILES] = {NULL};
    for (int k = 0; k < TH_MNIST_FILES && rc == TH_OK; k++) {
        const char *name = th_mnist_files[k].name;
        char from[PATH_LEN], to[PATH_LEN], h[65];
        rc = join(from, src, name, "");
        if (rc == TH_OK && access(from, R_OK) != 0) rc = join(from, src, name, ".gz");
        if (rc == TH_OK && access(from, R_OK) != 0)
            rc = th__fail(TH_EIO, "%s/%s (or .gz): not there", src, name);
        if (rc == TH_OK) rc = join(to, dir, name, "");
        if (rc == TH_OK && !(tmp[k] = th_atomic_open(to))) rc = TH_EIO;
        if (rc == TH_OK) rc = copy_hashing(from, th_atomic_stream(tmp[k]), to, h);
        if (rc == TH_OK && hex) memcpy(hex[k], h, sizeof h);
        if (rc == TH_OK && strcmp(h, th_mnist_files[k].sha256) != 0)
            rc = hash_mismatch(from, h, th_mnist_files[k].sha256);
    }
    /* All four verified before any is moved. */
    for (int k = 0; k < TH_MNIST_FILES; k++) {
        if (!tmp[k]) continue;
        if (rc == TH_OK) rc = th_atomic_commit(tmp[k]);
        else th_atomic_abort(tmp[k]);
    }
    return rc;
}

/* A copy of from at the temporary path tmp, for file systems without
 * symbolic links. */
static int copy_file(const char *from, const char *tmp)
{
    FILE *in = fopen(from, "rb");
    if (!in) return th__fail(TH_EIO, "%s: cannot open: %s", from, strerror(errno));
    FILE *out = fopen(tmp, "wb");
    if (!out) {
        fclose(in);
        return th__fail(TH_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    }
    static _Thread_local unsigned char buf[1 << 16];
    size_t r;
    int bad = 0;
    while (!bad && (r = fread(buf, 1, sizeof buf, in)) > 0) bad = fwrite(buf, 1, r, out) != r;
    bad |= ferror(in);
    fclose(in);
    bad |= fflush(out) != 0 || fsync(fileno(out)) != 0;
    bad |= fclose(out) != 0;
    return bad ? th__fail(TH_EIO, "%s: cannot copy %s there", tmp, from) : TH_OK;
}

int th_dataset_link(const char *src, const char *dir, const char *const *names, size_t n)
{
    TH_ASSERT(src != NULL && dir != NULL && (names != NULL || n == 0));
    int rc = th_mkdir_p(dir);
    for (size_t k = 0; k < n && rc == TH_OK; k++) {
        char from[PATH_LEN], to[PATH_LEN], tmp[PATH_LEN + 32];
        if ((rc = join(from, src, names[k], "")) != TH_OK) break;
        if ((rc = join(to, dir, names[k], "")) != TH_OK) break;
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", to, (long)getpid());
        unlink(tmp);
        /* A symbolic link costs no space and follows package upgrades. */
        if (symlink(from, tmp) != 0) rc = copy_file(from, tmp);
        if (rc == TH_OK && rename(tmp, to) != 0)
            rc = th__fail(TH_EIO, "%s: cannot move into place: %s", to, strerror(errno));
        if (rc != TH_OK) unlink(tmp);
    }
    /* The renames made durable; best effort, as some file systems refuse
     * fsync on a folder. */
    int fd = rc == TH_OK ? open(dir, O_RDONLY) : -1;
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    return rc;
}

void th_dataset_stats_compute(const th_dataset *d, th_dataset_stats *out)
{
    TH_ASSERT(d != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; d->labels && i < d->count; i++) out->label_count[d->labels[i]]++;
    for (int c = 0; c < 256; c++) out->n_classes += out->label_count[c] > 0;
    double sum = 0;
    const size_t n_pix = d->count * d->rows * d->cols;
    for (size_t i = 0; i < n_pix; i++) sum += d->pixels[i];
    out->mean_grey = n_pix ? sum / (double)n_pix : 0.0;
}
