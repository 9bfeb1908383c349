/* error.c - status codes, the per-thread detailed message, contract checks. */
#include "internal.h"

#include <stdarg.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *th_strerror(int status)
{
    switch (status) {
    case TH_OK: return "success";
    case TH_EINVAL: return "invalid argument";
    case TH_ENOMEM: return "out of memory";
    case TH_EDIVERGED: return "simulation diverged";
    case TH_ECANCELED: return "canceled";
    case TH_EIO: return "input/output error";
    case TH_EFORMAT: return "malformed file";
    default: return "unknown error";
    }
}

const char *th_last_error(void) { return last_error; }

const char *th_version(void) { return TH_VERSION_STRING; }

int th__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

void th__assert_fail(const char *expr, const char *file, int line, const char *func)
{
    /* The one place the library writes to stderr: a broken contract is a
     * programming error and the process is about to abort. */
    fprintf(stderr, "thermo: contract violated in %s (%s:%d): %s\n", func, file, line, expr);
    abort();
}

/* 64-byte alignment: a cache line, and a full AVX-512 register. */
void *th__alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded < bytes) return NULL;
    p = aligned_alloc(64, rounded);
    return p;
}

void *th__calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size) return NULL;
    void *p = th__alloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void th__free(void *p) { free(p); }
