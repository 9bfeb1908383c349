/* files.c - the text files the commands write (JSON summaries, reports),
 * atomically: a temporary file beside the target, flushed to disk, then
 * renamed over it, so that a crash never leaves half a file. */
#include "tool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int tool_write_text(const char *path, const char *text)
{
    char tmp[4200];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (th_mkdir_parent(path) != TH_OK) return -1; /* errno tells why */
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    const size_t n = strlen(text);
    int bad = fputs(text, f) < 0 || ((n == 0 || text[n - 1] != '\n') && fputc('\n', f) == EOF);
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    int err = errno;
    bad |= fclose(f) != 0;
    if (!bad && rename(tmp, path) == 0) return 0;
    if (!bad) err = errno;
    remove(tmp);
    errno = err;
    return -1;
}

int tool_make_folder(const char *cmd, const char *dir)
{
    if (th_mkdir_p(dir) == TH_OK) return TOOL_EXIT_OK;
    fprintf(stderr, "thermo %s: %s\n", cmd, th_last_error());
    return TOOL_EXIT_FAIL;
}
