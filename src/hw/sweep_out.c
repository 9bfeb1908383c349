/* sweep_out.c - a hardware sweep as files: the CSV of every point and the
 * chart of quality and heat against the parameter, with error bars across
 * devices. */
#include "hw/hw_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHART_WIDTH 720
#define CHART_HEIGHT 360

static void write_point(FILE *f, const th_hw_sweep *s, const char *param, double value,
                        size_t device, const th_hw_measure *m, const char *model)
{
    fprintf(f, "%s,%.9g,%zu,%.9g,%.9g", param, value, device, m->quality, m->heat);
    if (s->kind != TH_HW_CLASSIFIER && isfinite(s->ideal.frechet)) fprintf(f, ",%.9g", m->frechet);
    if (s->has_compare) fprintf(f, ",%s", model);
    fputc('\n', f);
}

int th_hw_sweep_write_csv(const char *path, const th_hw_sweep *s)
{
    TH_ASSERT(path != NULL && s != NULL);
    th_atomic_file *a = th_atomic_open(path);
    if (!a) return TH_EIO;
    FILE *f = th_atomic_stream(a);
    const char *param = th_hw_param_names()[s->param];
    fprintf(f, "param,value,device,quality,heat%s%s\n",
            s->kind != TH_HW_CLASSIFIER && isfinite(s->ideal.frechet) ? ",frechet" : "",
            s->has_compare ? ",model" : "");
    for (size_t k = 0; k < s->devices; k++)
        write_point(f, s, "ideal", 0, k, &s->ideal_points[k], "target");
    for (size_t v = 0; v < s->n_values; v++)
        for (size_t k = 0; k < s->devices; k++) {
            write_point(f, s, param, s->values[v], k, &s->points[v * s->devices + k], "target");
            if (s->has_compare)
                write_point(f, s, param, s->values[v], k, &s->compare[v * s->devices + k],
                            "compare");
        }
    return th_atomic_commit(a);
}

void th_hw_sweep_stats(const th_hw_sweep *s, int which, size_t v, th_hw_measure *mean,
                       th_hw_measure *sd)
{
    TH_ASSERT(s != NULL && v < s->n_values && mean != NULL && sd != NULL);
    TH_ASSERT(!which || s->has_compare);
    const size_t D = s->devices;
    const th_hw_measure *p = (which ? s->compare : s->points) + v * D;
    memset(mean, 0, sizeof *mean);
    memset(sd, 0, sizeof *sd);
    for (size_t k = 0; k < D; k++) {
        mean->quality += p[k].quality / (double)D;
        mean->heat += p[k].heat / (double)D;
        mean->frechet += p[k].frechet / (double)D;
    }
    for (size_t k = 0; D > 1 && k < D; k++) {
        sd->quality += (p[k].quality - mean->quality) * (p[k].quality - mean->quality);
        sd->heat += (p[k].heat - mean->heat) * (p[k].heat - mean->heat);
        sd->frechet += (p[k].frechet - mean->frechet) * (p[k].frechet - mean->frechet);
    }
    sd->quality = sqrt(sd->quality / (double)(D > 1 ? D - 1 : 1));
    sd->heat = sqrt(sd->heat / (double)(D > 1 ? D - 1 : 1));
    sd->frechet = sqrt(sd->frechet / (double)(D > 1 ? D - 1 : 1));
}

/* The means and sds of every value, of the quality (heat = 0) or the heat. */
static void summarise(const th_hw_sweep *s, int which, int heat, double *mean, double *sd)
{
    for (size_t v = 0; v < s->n_values; v++) {
        th_hw_measure m, d;
        th_hw_sweep_stats(s, which, v, &m, &d);
        mean[v] = heat ? m.heat : m.quality;
        sd[v] = heat ? d.heat : d.quality;
    }
}

static const char *axis_of(int param)
{
    static const char *const names[] = {"bits of the couplings and biases",
                                        "mismatch (relative sd of every part)",
                                        "noise correlation time tau_c (1/mu)",
                                        "temperature offset (kT_device / kT - 1)",
                                        "bits of the readout ADC"};
    return names[param];
}

/* One panel: quality (heat = 0) or heat (1) of the target and the
 * comparison, with the ideal as a dashed line. */
static th_canvas *panel(const th_hw_sweep *s, int heat, const char *title, double *buf)
{
    const size_t n = s->n_values;
    double *m = buf, *sd = buf + n, *cm = buf + 2 * n, *csd = buf + 3 * n;
    summarise(s, 0, heat, m, sd);
    if (s->has_compare) summarise(s, 1, heat, cm, csd);
    const double ideal = heat ? s->ideal.heat : s->ideal.quality;
    int log_x = 1;
    for (size_t v = 0; v < n; v++) log_x &= s->values[v] > 0;
    log_x &= n > 1 && s->values[n - 1] / s->values[0] >= 100;
    const int classifier = s->kind == TH_HW_CLASSIFIER;
    const th_chart_series ser[3] = {
        {.kind = TH_CHART_HLINE, .y = &ideal, .n = 1, .rgb = {120, 120, 120}, .dashed = 1,
         .label = "ideal computer"},
        {.kind = TH_CHART_LINE, .x = s->values, .y = m, .n = n, .rgb = {40, 90, 200},
         .markers = 1, .err = sd, .label = s->has_compare ? "trained ideal" : "mean of devices"},
        {.kind = TH_CHART_LINE, .x = s->values, .y = cm, .n = n, .rgb = {200, 30, 30},
         .markers = 1, .err = csd, .label = "hardware-aware"},
    };
    const char *quality = classifier                     ? "top-1 accuracy"
                          : s->kind == TH_HW_CONDITIONAL ? "conditional accuracy"
                                                         : "share recognised as a digit";
    const th_chart ch = {
        .width = CHART_WIDTH, .height = CHART_HEIGHT, .title = title,
        .x = {.scale = log_x ? TH_CHART_LOG : TH_CHART_LINEAR, .numbers = 1, .grid = 1,
              .ticks = 5, .pad = 0.05, .title = axis_of(s->param)},
        .y = {.scale = TH_CHART_LINEAR, .numbers = 1, .grid = 1, .ticks = 5, .pad = 0.08,
              .title = heat ? (classifier ? "heat per classification (kT)"
                                          : "heat per sample (kT)")
                            : quality},
        .series = ser, .n_series = s->has_compare ? 3 : 2,
        .legend = heat ? TH_LEGEND_TOP_RIGHT : TH_LEGEND_BOTTOM_RIGHT,
    };
    return th_chart_draw(&ch);
}

int th_hw_sweep_write_png(const char *path, const th_hw_sweep *s, const char *title)
{
    TH_ASSERT(path != NULL && s != NULL && title != NULL);
    double *buf = malloc(4 * s->n_values * sizeof *buf);
    char heat_title[256];
    snprintf(heat_title, sizeof heat_title, "%s: heat", title);
    char quality_title[256];
    snprintf(quality_title, sizeof quality_title, "%s: quality", title);
    th_canvas *top = buf ? panel(s, 0, quality_title, buf) : NULL;
    th_canvas *bottom = top ? panel(s, 1, heat_title, buf) : NULL;
    th_canvas *both = bottom ? th_canvas_alloc(CHART_WIDTH, 2 * CHART_HEIGHT, 255) : NULL;
    int rc = both ? TH_OK : th__fail(TH_ENOMEM, "out of memory drawing %s", path);
    if (rc == TH_OK) {
        const size_t half = (size_t)CHART_WIDTH * CHART_HEIGHT * 3;
        memcpy(both->rgb, top->rgb, half);
        memcpy(both->rgb + half, bottom->rgb, half);
        rc = th_png_write(path, both, 1);
    }
    th_canvas_free(top);
    th_canvas_free(bottom);
    th_canvas_free(both);
    free(buf);
    return rc;
}
