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

int tool_readout_window(const char *cmd, const char *model, const th_meta *meta,
                        const char *text, size_t steps, size_t *out)
{
    const char *from = text ? "--readout-window" : "sample.readout_window";
    const char *value = text ? text : th_meta_get(meta, "sample.readout_window");
    uint64_t w = 0;
    if (value && tool_to_u64(value, &w) != 0) {
        fprintf(stderr, "thermo %s: %s%s%s = '%s': expected a whole number >= 0\n", cmd,
                text ? "" : model, text ? "" : ": ", from, value);
        return -1;
    }
    if (w > steps) {
        fprintf(stderr, "thermo %s: %s %llu: at most the %zu steps of %s's computing phase\n",
                cmd, from, (unsigned long long)w, steps, model);
        return -1;
    }
    *out = (size_t)w;
    return 0;
}
