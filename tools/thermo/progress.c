/* progress.c - a one-line progress bar on stderr, driven by the library's
 * progress callback (the library itself never prints). */
#include "tool.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
/* Redrawing more often than this only costs time: a person cannot read it. */
#define REDRAW_SECONDS 0.1

double tool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tool_progress_begin(tool_progress *p, const char *what, int quiet)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->start = tool_now();
    p->last_draw = -1.0;
    p->what = what;
    p->drawn = 0;
}

/* 12345.6 -> "12.3k": rates span many decades, three digits are enough. */
static void format_rate(double rate, char *buf, size_t size)
{
    static const char prefix[] = {' ', 'k', 'M', 'G', 'T'};
    size_t k = 0;
    while (rate >= 1000.0 && k + 1 < sizeof prefix) {
        rate /= 1000.0;
        k++;
    }
    if (k == 0) snprintf(buf, size, "%.3g", rate);
    else snprintf(buf, size, "%.3g%c", rate, prefix[k]);
}

static void format_duration(double seconds, char *buf, size_t size)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

int tool_progress_update(size_t done, size_t total, void *ctx)
{
    tool_progress *p = ctx;
    if (!p->enabled || total == 0) return 0;
    double now = tool_now();
    if (p->last_draw >= 0 && now - p->last_draw < REDRAW_SECONDS && done < total) return 0;
    p->last_draw = now;

    double frac = (double)done / (double)total;
    if (frac > 1) frac = 1;
    int filled = (int)(frac * BAR_WIDTH);
    char bar[BAR_WIDTH + 1];
    for (int k = 0; k < BAR_WIDTH; k++)
        bar[k] = k < filled ? '=' : (k == filled ? '>' : ' ');
    bar[BAR_WIDTH] = '\0';

    double elapsed = now - p->start;
    char rate[32] = "-", eta[32] = "-";
    if (elapsed > 0 && done > 0) {
        double per_second = (double)done / elapsed;
        format_rate(per_second, rate, sizeof rate);
        size_t left = done < total ? total - done : 0;
        format_duration((double)left / per_second, eta, sizeof eta);
    }
    /* \033[K clears what a longer previous line left behind. */
    fprintf(stderr, "\r[%s] %3d%%  %s %s/s  ETA %s\033[K", bar, (int)(100 * frac), rate,
            p->what, eta);
    fflush(stderr);
    p->drawn = 1;
    return 0;
}

void tool_progress_end(tool_progress *p)
{
    if (p->drawn) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
    p->drawn = 0;
}
