/* options.c - strict option parsing from a command's option table.
 *
 * Strict because a typo in a physical parameter should stop the run rather
 * than silently become 0 (atof("abc")) or wrap around (strtoull("-1")). */
#include "tool.h"

#include "thermo.h"

#include <cblas.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tool_to_double(const char *text, double *out)
{
    /* strtod would skip leading blanks and read hexadecimal ("0x10" = 16);
     * on a command line either is more likely a mistake than meant. */
    if (text[0] == '\0' || isspace((unsigned char)text[0]) || strpbrk(text, "xX")) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    /* ERANGE covers both overflow and underflow: a value that does not
     * survive the conversion is out of range either way. */
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

const char *const tool_hw_scalings[] = {"block", "row", NULL};

tool_hw tool_hw_default(void)
{
    tool_hw h = {0};
    h.device = 1;
    h.hw = th_hw_ideal();
    return h;
}

int tool_hw_get(const char *cmd, tool_hw *h)
{
    th_hw *hw = &h->hw;
    if (h->bits > TH_HW_MAX_BITS || h->adc_bits > TH_HW_MAX_BITS)
        return tool_usage_error(cmd, "--%s %zu: expected at most %d bits",
                                h->bits > TH_HW_MAX_BITS ? "bits" : "adc-bits",
                                h->bits > TH_HW_MAX_BITS ? h->bits : h->adc_bits, TH_HW_MAX_BITS);
    if (!(h->kT_offset > -1))
        return tool_usage_error(cmd, "--dkT %g: expected an offset > -1 (the device's kT must "
                                "stay positive)", h->kT_offset);
    *hw = th_hw_ideal();
    hw->bits = (unsigned)h->bits;
    hw->scaling = h->scaling;
    hw->mismatch = h->mismatch;
    hw->device = h->device;
    hw->kT_offset = h->kT_offset;
    hw->kT_drift = h->kT_drift;
    hw->tau_c = h->tau_c;
    hw->adc_bits = (unsigned)h->adc_bits;
    hw->adc_range = h->adc_range;
    if (th_hw_validate(hw) != TH_OK)
        return tool_usage_error(cmd, "hardware options: %s", th_last_error());
    return TOOL_EXIT_OK;
}

void tool_hw_print(const char *label, const th_hw *hw, int always)
{
    char text[256];
    th_hw_describe(hw, text, sizeof text);
    if (always || !th_hw_is_ideal(hw)) printf("%s%s\n", label, text);
}

int tool_to_u64(const char *text, uint64_t *out)
{
    /* Requiring a leading digit rejects signs: strtoull accepts "-1" and
     * returns 2^64 - 1. */
    if (!isdigit((unsigned char)text[0])) return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end == '\0') {
        if (errno == ERANGE || v > UINT64_MAX) return -1;
        *out = (uint64_t)v;
        return 0;
    }
    /* Accept exact whole numbers in exponent form, so that --steps 1e6
     * means a million; 1.5 or 1e-3 stay errors. */
    double d;
    if (tool_to_double(text, &d) != 0 || d < 0 || d != floor(d) || d >= 0x1p64) return -1;
    *out = (uint64_t)d;
    return 0;
}

static const char *kind_expectation(tool_opt_kind kind)
{
    switch (kind) {
    case TOOL_OPT_REAL: return "a number";
    case TOOL_OPT_POSITIVE: return "a positive number";
    case TOOL_OPT_NONNEG: return "a number >= 0";
    case TOOL_OPT_COUNT: return "a whole number >= 1";
    case TOOL_OPT_SIZE: return "a whole number >= 0";
    case TOOL_OPT_U64: return "a whole number >= 0";
    case TOOL_OPT_STRING: return "a non-empty value";
    case TOOL_OPT_FLAG:
    case TOOL_OPT_CHOICE: break;
    }
    return "a value";
}

/* Converts text into *o->dest; 0 on success, -1 after printing why not. */
static int set_value(const char *cmd, const tool_opt *o, const char *text)
{
    double d = 0;
    uint64_t u = 0;
    int ok = 0;
    switch (o->kind) {
    case TOOL_OPT_REAL:
    case TOOL_OPT_POSITIVE:
    case TOOL_OPT_NONNEG:
        ok = tool_to_double(text, &d) == 0 &&
             (o->kind != TOOL_OPT_POSITIVE || d > 0) &&
             (o->kind != TOOL_OPT_NONNEG || d >= 0);
        if (ok) *(double *)o->dest = d;
        break;
    case TOOL_OPT_COUNT:
    case TOOL_OPT_SIZE:
        ok = tool_to_u64(text, &u) == 0 && u >= (o->kind == TOOL_OPT_COUNT) && u <= SIZE_MAX;
        if (ok) *(size_t *)o->dest = (size_t)u;
        break;
    case TOOL_OPT_U64:
        ok = tool_to_u64(text, &u) == 0;
        if (ok) *(uint64_t *)o->dest = u;
        break;
    case TOOL_OPT_CHOICE:
        for (int k = 0; o->choices[k]; k++) {
            if (strcmp(o->choices[k], text) == 0) {
                *(int *)o->dest = k;
                return 0;
            }
        }
        fprintf(stderr, "thermo %s: --%s: expected one of", cmd, o->name);
        for (int k = 0; o->choices[k]; k++)
            fprintf(stderr, "%s %s", k ? "," : "", o->choices[k]);
        fprintf(stderr, "; got '%s'\n", text);
        return -1;
    case TOOL_OPT_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case TOOL_OPT_STRING:
        ok = text[0] != '\0';
        if (ok) *(const char **)o->dest = text;
        break;
    }
    if (ok) return 0;
    fprintf(stderr, "thermo %s: --%s: expected %s, got '%s'\n", cmd, o->name,
            kind_expectation(o->kind), text);
    return -1;
}

static int usage_error(const char *cmd)
{
    fprintf(stderr, "Run 'thermo %s --help' for its options.\n", cmd);
    return TOOL_EXIT_USAGE;
}

int tool_parse(const char *cmd, const tool_opt *opts, size_t n_opts,
               int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) return TOOL_PARSE_HELP;
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            fprintf(stderr, "thermo %s: unexpected argument '%s'\n", cmd, arg);
            return usage_error(cmd);
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const tool_opt *o = NULL;
        for (size_t k = 0; k < n_opts && !o; k++)
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0)
                o = &opts[k];
        if (!o) {
            fprintf(stderr, "thermo %s: unknown option '--%.*s'\n", cmd, (int)len, name);
            return usage_error(cmd);
        }
        const char *value;
        if (o->kind == TOOL_OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "thermo %s: --%s takes no value\n", cmd, o->name);
                return usage_error(cmd);
            }
            value = "";
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            /* The next word is the value even when it starts with '-', so
             * that "--dt -1" reports a negative step instead of an unknown
             * option "-1". */
            value = argv[++i];
        } else {
            fprintf(stderr, "thermo %s: --%s: missing value %s\n", cmd, o->name, o->metavar);
            return usage_error(cmd);
        }
        if (set_value(cmd, o, value) != 0) return TOOL_EXIT_USAGE;
    }
    return TOOL_EXIT_OK;
}

/* The default as the user would type it. */
static void format_value(const tool_opt *o, char *buf, size_t size)
{
    if (o->default_text) {
        snprintf(buf, size, "%s", o->default_text);
        return;
    }
    switch (o->kind) {
    case TOOL_OPT_REAL:
    case TOOL_OPT_POSITIVE:
    case TOOL_OPT_NONNEG: snprintf(buf, size, "%g", *(const double *)o->dest); break;
    case TOOL_OPT_COUNT:
    case TOOL_OPT_SIZE: snprintf(buf, size, "%zu", *(const size_t *)o->dest); break;
    case TOOL_OPT_U64: snprintf(buf, size, "%" PRIu64, *(const uint64_t *)o->dest); break;
    case TOOL_OPT_CHOICE: snprintf(buf, size, "%s", o->choices[*(const int *)o->dest]); break;
    case TOOL_OPT_FLAG: buf[0] = '\0'; break;
    case TOOL_OPT_STRING: {
        const char *v = *(const char *const *)o->dest;
        snprintf(buf, size, "%s", v ? v : "none");
        break;
    }
    }
}

/* Help lines fit a classic 80-column terminal. */
#define HELP_WIDTH 79
#define HELP_INDENT 25

/* Prints text starting at column HELP_INDENT, breaking lines between words
 * and indenting the continuation lines to the same column. */
static void print_wrapped(const char *text)
{
    size_t col = HELP_INDENT;
    int first = 1;
    for (;;) {
        while (*text == ' ') text++;
        size_t len = strcspn(text, " ");
        if (len == 0) break;
        if (!first && col + 1 + len > HELP_WIDTH) {
            printf("\n%*s", HELP_INDENT, "");
            col = HELP_INDENT;
        } else if (!first) {
            putchar(' ');
            col++;
        }
        printf("%.*s", (int)len, text);
        col += len;
        text += len;
        first = 0;
    }
    putchar('\n');
}

/* "  --name VALUE" in the left column, or on a line of its own when it
 * does not fit there. */
static void print_option(const char *left, const char *text)
{
    printf("  %s", left);
    size_t col = 2 + strlen(left);
    if (col >= HELP_INDENT) {
        putchar('\n');
        col = 0;
    }
    printf("%*s", (int)(HELP_INDENT - col), "");
    print_wrapped(text);
}

void tool_print_options(const tool_opt *opts, size_t n_opts)
{
    for (size_t k = 0; k < n_opts; k++) {
        const tool_opt *o = &opts[k];
        char left[64], def[64], text[512];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        format_value(o, def, sizeof def);
        if (def[0]) snprintf(text, sizeof text, "%s (default %s)", o->help, def);
        else snprintf(text, sizeof text, "%s", o->help);
        print_option(left, text);
    }
    print_option("-h, --help", "show this help");
}

int tool_parse_or_help(const char *cmd, const tool_opt *opts, size_t n_opts, int argc,
                       char **argv, void (*help)(const tool_opt *, size_t), int *exit_code)
{
    int rc = tool_parse(cmd, opts, n_opts, argc, argv);
    if (rc == TOOL_PARSE_HELP) {
        help(opts, n_opts);
        rc = TOOL_EXIT_OK;
    } else if (rc == TOOL_EXIT_OK) {
        return 1;
    }
    *exit_code = rc;
    return 0;
}

void tool_set_threads(size_t threads)
{
    if (threads == 0) return;
    omp_set_num_threads((int)threads);
    openblas_set_num_threads((int)threads);
}

int tool_use_threads(const char *cmd, size_t threads)
{
    if (threads > TOOL_MAX_THREADS)
        return tool_usage_error(cmd, "--threads: expected at most %d, got %zu", TOOL_MAX_THREADS,
                                threads);
    tool_set_threads(threads);
    return TOOL_EXIT_OK;
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "thermo %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nRun 'thermo %s --help' for its options.\n", cmd);
    va_end(ap);
    return TOOL_EXIT_USAGE;
}

int tool_fail_lib(const char *cmd, int rc)
{
    const char *why = th_last_error();
    fprintf(stderr, "thermo %s: %s\n", cmd, why[0] ? why : th_strerror(rc));
    return TOOL_EXIT_FAIL;
}

int tool_folder_writable(const char *cmd, const char *path)
{
    if (th_mkdir_parent(path) != TH_OK) {
        fprintf(stderr, "thermo %s: %s\n", cmd, th_last_error());
        return -1;
    }
    char dir[4200];
    const char *slash = strrchr(path, '/');
    int len = slash ? snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path)
                    : snprintf(dir, sizeof dir, ".");
    if (len < 0 || (size_t)len >= sizeof dir) {
        fprintf(stderr, "thermo %s: %.80s...: path too long\n", cmd, path);
        return -1;
    }
    if (len == 0) snprintf(dir, sizeof dir, "/");
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "thermo %s: %s: cannot write in the folder %s: %s\n", cmd, path, dir,
                strerror(errno));
        return -1;
    }
    return 0;
}
