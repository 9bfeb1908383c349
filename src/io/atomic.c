/* atomic.c - the one atomic file writer: every file thermo writes (models,
 * pictures, matrices, reports, CSV tables) is written to a temporary file
 * beside the target, flushed to disk, and renamed over it, so that a crash or
 * a full disk never leaves a half-written file under the target's name and
 * never loses the previous one. Missing output folders are created
 * (th_mkdir_parent). */
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------- atomic writing */

FILE *th__atomic_open(const char *path, char *tmp_path, size_t tmp_size)
{
    TH_ASSERT(path != NULL && tmp_path != NULL && tmp_size > 0);
    tmp_path[0] = '\0';
    if (!path[0]) {
        th__fail(TH_EIO, "cannot write a file with an empty name");
        return NULL;
    }
    /* Fail before writing anything when the target is a folder: the final
     * rename would refuse, after all the work. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        th__fail(TH_EIO, "%s: is a directory, cannot write a file there", path);
        return NULL;
    }
    /* Output folders are created as needed (mkdir -p), as every writer's. */
    if (th_mkdir_parent(path) != TH_OK) return NULL;
    int w = snprintf(tmp_path, tmp_size, "%s.tmp.%ld", path, (long)getpid());
    if (w < 0 || (size_t)w >= tmp_size) {
        tmp_path[0] = '\0';
        th__fail(TH_EIO, "%s: path too long to name its temporary file", path);
        return NULL;
    }
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int err = errno;
        th__fail(TH_EIO, "%s: cannot create the temporary file %s: %s", path, tmp_path,
                 strerror(err));
        tmp_path[0] = '\0';
        return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int err = errno;
        close(fd);
        unlink(tmp_path);
        th__fail(TH_EIO, "%s: cannot open a stream on %s: %s", path, tmp_path, strerror(err));
        tmp_path[0] = '\0';
        return NULL;
    }
    return f;
}

/* Makes the rename itself durable. Best effort: some file systems refuse to
 * sync a folder, and the data is already safe under one name or the other. */
static void sync_parent_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash) {
        dir = malloc(2);
        if (dir) memcpy(dir, ".", 2);
    } else {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(len + 1);
        if (dir) {
            memcpy(dir, path, len);
            dir[len] = '\0';
        }
    }
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int th__atomic_commit(FILE *f, const char *tmp_path, const char *path)
{
    TH_ASSERT(f != NULL && tmp_path != NULL && path != NULL);
    const char *failed = NULL;
    int err = 0;
    if (ferror(f)) {
        failed = "writing the temporary file";
        err = EIO;
    } else if (fflush(f) != 0) {
        failed = "writing the temporary file";
        err = errno;
    } else if (fsync(fileno(f)) != 0) {
        failed = "syncing the temporary file to disk";
        err = errno;
    }
    if (fclose(f) != 0 && !failed) {
        failed = "closing the temporary file";
        err = errno;
    }
    if (!failed && rename(tmp_path, path) != 0) {
        failed = "renaming the temporary file over it";
        err = errno;
    }
    if (failed) {
        unlink(tmp_path);
        return th__fail(TH_EIO, "%s: %s failed: %s (the previous file, if any, is unchanged)",
                        path, failed, strerror(err));
    }
    sync_parent_folder(path);
    return TH_OK;
}

void th__atomic_abort(FILE *f, const char *tmp_path)
{
    if (f) fclose(f);
    if (tmp_path && tmp_path[0]) unlink(tmp_path);
}

/* ----------------------------------------------------------- public face */

struct th_atomic_file {
    FILE *f;
    char path[4096];
    char tmp[4200];
};

th_atomic_file *th_atomic_open(const char *path)
{
    TH_ASSERT(path != NULL);
    th_atomic_file *a = calloc(1, sizeof *a);
    if (!a) {
        th__fail(TH_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    if (strlen(path) >= sizeof a->path) {
        free(a);
        th__fail(TH_EIO, "%.80s...: path too long", path);
        return NULL;
    }
    memcpy(a->path, path, strlen(path) + 1);
    a->f = th__atomic_open(path, a->tmp, sizeof a->tmp);
    if (!a->f) {
        free(a);
        return NULL;
    }
    return a;
}

FILE *th_atomic_stream(th_atomic_file *a)
{
    TH_ASSERT(a != NULL);
    return a->f;
}

int th_atomic_commit(th_atomic_file *a)
{
    TH_ASSERT(a != NULL);
    int rc = th__atomic_commit(a->f, a->tmp, a->path);
    free(a);
    return rc;
}

void th_atomic_abort(th_atomic_file *a)
{
    if (!a) return;
    th__atomic_abort(a->f, a->tmp);
    free(a);
}

int th_write_text_atomic(const char *path, const char *text)
{
    TH_ASSERT(path != NULL && text != NULL);
    th_atomic_file *a = th_atomic_open(path);
    if (!a) return TH_EIO;
    const size_t n = strlen(text);
    FILE *f = th_atomic_stream(a);
    if (fwrite(text, 1, n, f) != n || ((n == 0 || text[n - 1] != '\n') && fputc('\n', f) == EOF)) {
        th_atomic_abort(a);
        return th__fail(TH_EIO, "%s: writing failed", path);
    }
    return th_atomic_commit(a);
}
