/* files.c - the text files the commands write (JSON summaries, reports)
 * through the library's atomic writer, and output folders. */
#include "tool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int tool_write_text(const char *path, const char *text)
{
    return th_write_text_atomic(path, text) == TH_OK ? 0 : -1;
}

int tool_make_folder(const char *cmd, const char *dir)
{
    if (th_mkdir_p(dir) == TH_OK) return TOOL_EXIT_OK;
    fprintf(stderr, "thermo %s: %s\n", cmd, th_last_error());
    return TOOL_EXIT_FAIL;
}
