/* bench_scale.c - conditional exact training against the number of MNIST
 * images: time and peak memory (issue 16: all 60,000 images in at most 10
 * minutes on 2 cores and 2 GB).
 *
 * For each size N it runs, as a user would,
 *     thermo train --preset mnist10-cond --images N --samples 100 --out DIR/N --quiet
 * (one noising path per image, every 10th step, the exact solver; 100
 * samples after it instead of 1000, since sampling is not training) in a
 * child process, and takes from the operating system what /usr/bin/time -v
 * reports: the wall time, the user and system CPU time and the peak
 * resident memory (wait4's ru_maxrss); from the tool's own report the
 * statistics' and the solve's times; and the load average before and after,
 * since on a shared machine the wall time depends on it (CPU time / cores
 * is what a quiet machine would take, roughly). It prints a table and
 * writes DIR/scale.csv and DIR/scale.png (time and memory against images,
 * with the limits).
 *
 * Usage: bench_scale [--sizes N,N,...] [--thermo PATH] [--out DIR]
 *        bench_scale --redraw DIR   (the picture again from DIR/scale.csv)
 * (defaults: 1000,2000; ./build/thermo; runs/scale). Needs data/mnist: it
 * says so and exits 0 without it (make bench on a clean clone). */
/* wait4, for the child's own resource use */
#define _DEFAULT_SOURCE
#include "thermo.h"
#include "bench_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SIZES 16
#define LIMIT_SECONDS 600.0
#define LIMIT_MB 2048.0
#define PANEL_W 620
#define PANEL_H 440

typedef struct measure {
    size_t images;
    double wall, user, sys, peak_mb, stats, solve;
    double load_before, load_after;
} measure;

static double load1(void)
{
    char buf[64];
    return atof(bench_load_average(buf, sizeof buf));
}

/* Runs thermo train for n images; 0, or -1 with a message. */
static int run_one(const char *thermo, const char *out, size_t n, measure *m)
{
    char dir[512], log[600], images[32];
    snprintf(dir, sizeof dir, "%s/%zu", out, n);
    snprintf(log, sizeof log, "%s/%zu.log", out, n);
    snprintf(images, sizeof images, "%zu", n);
    m->images = n;
    m->load_before = load1();
    fflush(stdout); /* or the child would print what is buffered too */
    const double t0 = bench_now_s();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen(log, "w", stdout)) _exit(127);
        execl(thermo, thermo, "train", "--preset", "mnist10-cond", "--images", images,
              "--samples", "100", "--out", dir, "--quiet", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) return -1;
    m->wall = bench_now_s() - t0;
    m->load_after = load1();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_scale: %s train --images %zu failed (status %d); see %s\n",
                thermo, n, status, log);
        return -1;
    }
    m->user = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec;
    m->sys = (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    m->peak_mb = (double)ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
    FILE *f = fopen(log, "r");
    char line[512];
    m->stats = m->solve = NAN;
    while (f && fgets(line, sizeof line, f)) {
        const char *s = strstr(line, "statistics ");
        if (s) sscanf(s, "statistics %lf s, solve %lf s", &m->stats, &m->solve);
    }
    if (f) fclose(f);
    return 0;
}

/* Panel b to the right of panel a on one canvas. */
static th_canvas *side_by_side(const th_canvas *a, const th_canvas *b)
{
    const size_t h = a->height > b->height ? a->height : b->height;
    th_canvas *c = th_canvas_alloc(a->width + b->width, h, 255);
    if (!c) return NULL;
    for (size_t y = 0; y < a->height; y++)
        memcpy(c->rgb + y * c->width * 3, a->rgb + y * a->width * 3, a->width * 3);
    for (size_t y = 0; y < b->height; y++)
        memcpy(c->rgb + (y * c->width + a->width) * 3, b->rgb + y * b->width * 3, b->width * 3);
    return c;
}

static int draw(const measure *m, size_t k, const char *path)
{
    double x[MAX_SIZES], train[MAX_SIZES], cpu[MAX_SIZES], mb[MAX_SIZES];
    for (size_t j = 0; j < k; j++) {
        x[j] = (double)m[j].images;
        train[j] = m[j].stats + m[j].solve;
        cpu[j] = (m[j].user + m[j].sys) / 2;
        mb[j] = m[j].peak_mb;
    }
    const double lim_t[1] = {LIMIT_SECONDS}, lim_m[1] = {LIMIT_MB};
    const th_chart_series ts[3] = {
        {.kind = TH_CHART_LINE, .x = x, .y = train, .n = k, .rgb = {200, 30, 30}, .markers = 1,
         .label = "training (statistics + solve), wall on a shared machine"},
        {.kind = TH_CHART_LINE, .x = x, .y = cpu, .n = k, .rgb = {40, 90, 200}, .markers = 1,
         .dashed = 1, .label = "whole command, CPU time / 2 cores (a quiet machine)"},
        {.kind = TH_CHART_HLINE, .y = lim_t, .n = 1, .rgb = {120, 120, 120}, .dashed = 1,
         .label = "10 minutes"},
    };
    const th_chart_series ms[2] = {
        {.kind = TH_CHART_LINE, .x = x, .y = mb, .n = k, .rgb = {200, 30, 30}, .markers = 1,
         .label = "peak resident memory"},
        {.kind = TH_CHART_HLINE, .y = lim_m, .n = 1, .rgb = {120, 120, 120}, .dashed = 1,
         .label = "2 GB"},
    };
    const th_chart ct = {
        .width = PANEL_W, .height = PANEL_H,
        .title = "mnist10-cond exact training: time",
        .x = {.scale = TH_CHART_LOG, .numbers = 1, .grid = 1, .title = "training images"},
        .y = {.scale = TH_CHART_LOG, .fixed = 1, .lo = 10, .hi = 1e4, .numbers = 1, .grid = 1,
              .title = "seconds"},
        .series = ts, .n_series = 3, .legend = TH_LEGEND_TOP_LEFT,
    };
    const th_chart cm = {
        .width = PANEL_W, .height = PANEL_H,
        .title = "mnist10-cond exact training: memory",
        .x = {.scale = TH_CHART_LOG, .numbers = 1, .grid = 1, .title = "training images"},
        .y = {.scale = TH_CHART_LINEAR, .fixed = 1, .lo = 0, .hi = 2200, .ticks = 12,
              .numbers = 1, .grid = 1, .title = "peak resident memory (MB)"},
        .series = ms, .n_series = 2, .legend = TH_LEGEND_TOP_LEFT,
    };
    th_canvas *a = th_chart_draw(&ct), *b = th_chart_draw(&cm);
    th_canvas *c = a && b ? side_by_side(a, b) : NULL;
    const int rc = c ? th_png_write(path, c, 1) : TH_ENOMEM;
    th_canvas_free(a);
    th_canvas_free(b);
    th_canvas_free(c);
    return rc;
}

int main(int argc, char **argv)
{
    const char *sizes = "1000,2000", *thermo = "./build/thermo", *out = "runs/scale";
    const char *redraw = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char **to = strcmp(argv[i], "--sizes") == 0    ? &sizes
                          : strcmp(argv[i], "--thermo") == 0 ? &thermo
                          : strcmp(argv[i], "--out") == 0    ? &out
                          : strcmp(argv[i], "--redraw") == 0 ? &redraw
                                                             : NULL;
        if (!to || i + 1 >= argc) {
            fprintf(stderr, "usage: bench_scale [--sizes N,N,...] [--thermo PATH] [--out DIR] | "
                            "--redraw DIR\n");
            return 2;
        }
        *to = argv[i + 1];
    }
    if (redraw) {
        char path[600];
        snprintf(path, sizeof path, "%s/scale.csv", redraw);
        FILE *f = fopen(path, "r");
        char line[512];
        size_t k = 0;
        measure m[MAX_SIZES];
        while (f && fgets(line, sizeof line, f) && k < MAX_SIZES) {
            measure *q = &m[k];
            if (sscanf(line, "%zu,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &q->images, &q->stats,
                       &q->solve, &q->wall, &q->user, &q->sys, &q->peak_mb, &q->load_before,
                       &q->load_after) == 9)
                k++;
        }
        if (f) fclose(f);
        snprintf(path, sizeof path, "%s/scale.png", redraw);
        if (k == 0 || draw(m, k, path) != TH_OK) {
            fprintf(stderr, "bench_scale: cannot redraw from %s/scale.csv\n", redraw);
            return 1;
        }
        printf("wrote %s\n", path);
        return 0;
    }
    if (access("data/mnist", R_OK) != 0) {
        printf("bench_scale: data/mnist is absent (make data fetches it): skipped\n");
        return 0;
    }
    measure m[MAX_SIZES];
    size_t k = 0;
    char *list = strdup(sizes);
    if (!list || th_mkdir_p(out) != TH_OK) return 1;
    printf("bench_scale: thermo train --preset mnist10-cond --images N --samples 100 (%s)\n",
           thermo);
    printf("%8s %10s %10s %10s %10s %12s %10s %14s\n", "images", "stats s", "solve s",
           "wall s", "CPU s", "CPU/2 s", "peak MB", "load (1 min)");
    for (char *tok = strtok(list, ","); tok && k < MAX_SIZES; tok = strtok(NULL, ",")) {
        const size_t n = (size_t)strtoull(tok, NULL, 10);
        if (n == 0 || run_one(thermo, out, n, &m[k]) != 0) return 1;
        const measure *q = &m[k++];
        printf("%8zu %10.1f %10.1f %10.1f %10.1f %12.1f %10.0f %6.2f -> %4.2f\n", q->images,
               q->stats, q->solve, q->wall, q->user + q->sys, (q->user + q->sys) / 2,
               q->peak_mb, q->load_before, q->load_after);
        fflush(stdout);
    }
    free(list);
    char path[600];
    snprintf(path, sizeof path, "%s/scale.csv", out);
    th_atomic_file *af = th_atomic_open(path);
    if (!af) return 1;
    FILE *f = th_atomic_stream(af);
    fprintf(f, "images,statistics_s,solve_s,wall_s,user_s,sys_s,peak_mb,load_before,"
               "load_after\n");
    for (size_t j = 0; j < k; j++)
        fprintf(f, "%zu,%.2f,%.2f,%.2f,%.2f,%.2f,%.1f,%.2f,%.2f\n", m[j].images, m[j].stats,
                m[j].solve, m[j].wall, m[j].user, m[j].sys, m[j].peak_mb, m[j].load_before,
                m[j].load_after);
    if (th_atomic_commit(af) != TH_OK) return 1;
    snprintf(path, sizeof path, "%s/scale.png", out);
    if (draw(m, k, path) != TH_OK) {
        fprintf(stderr, "bench_scale: %s: %s\n", path, th_last_error());
        return 1;
    }
    printf("wrote %s/scale.csv and %s\n", out, path);
    return 0;
}
