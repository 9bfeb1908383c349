/* folder.c - output folders: every command that writes creates the folder it
 * writes into, with any missing parents, so that a fresh clone runs
 * "thermo train --out runs/x" with no runs/ yet. */
#include "core/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* One component: created, or already a folder. */
static int make_one(const char *dir, const char *whole)
{
    if (mkdir(dir, 0777) == 0) return TH_OK;
    const int err = errno;
    struct stat st;
    if (err == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return TH_OK;
    /* errno stays mkdir's, for callers that report strerror(errno) */
    const int rc = err == EEXIST ? th__fail(TH_EIO, "%s: cannot create the folder %s: it "
                                                    "exists and is not a folder", whole, dir)
                                 : th__fail(TH_EIO, "%s: cannot create the folder %s: %s",
                                            whole, dir, strerror(err));
    errno = err == EEXIST ? ENOTDIR : err;
    return rc;
}

/* mkdir -p path; messages name whole (the path, or the file to be written
 * in it). */
static int make_path(const char *path, const char *whole)
{
    const size_t len = strlen(path);
    if (len == 0) return th__fail(TH_EINVAL, "empty folder name");
    char *buf = th__alloc(len + 1);
    if (!buf) return th__fail(TH_ENOMEM, "out of memory");
    memcpy(buf, path, len + 1);
    int rc = TH_OK;
    /* every prefix that ends before a '/', then the whole path */
    for (size_t i = 1; i <= len && rc == TH_OK; i++) {
        if (i < len && buf[i] != '/') continue;
        if (buf[i - 1] == '/') continue; /* "a//b": the empty part */
        const char saved = buf[i];
        buf[i] = '\0';
        rc = make_one(buf, whole);
        buf[i] = saved;
    }
    th__free(buf);
    return rc;
}

int th_mkdir_p(const char *path)
{
    TH_ASSERT(path != NULL);
    return make_path(path, path);
}

int th_mkdir_parent(const char *path)
{
    TH_ASSERT(path != NULL);
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return TH_OK; /* "x.png" or "/x.png" */
    const size_t len = (size_t)(slash - path);
    char *dir = th__alloc(len + 1);
    if (!dir) return th__fail(TH_ENOMEM, "out of memory");
    memcpy(dir, path, len);
    dir[len] = '\0';
    int rc = make_path(dir, path);
    th__free(dir);
    return rc;
}
