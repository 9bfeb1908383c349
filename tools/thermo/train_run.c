/* train_run.c - the two long stages of thermo train that are more than one
 * library call: the exact solver (statistics, then the solve of every
 * segment, with progress bars) and the generation after training (the
 * showcase, the samples file and four pictures). cmd_train.c parses the
 * options and runs the stages in order. */
#include "thermo.h"
#include "tool.h"
#include "train_report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int train_join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The solve's bar counts decades of the residual from 1 down to 1e-6. */
static int solve_progress(size_t iteration, double residual, void *ctx)
{
    (void)iteration;
    double decades = residual > 0 ? -log10(residual) : 6;
    return tool_progress_update((size_t)fmax(0, fmin(6, decades)), 6, ctx);
}

int train_exact(const train_params *p, const th_gen_params *gp, const th_gen_training_set *ts,
                th_gen_protocol *pr, run_report *g)
{
    th_gen_stats *s = NULL;
    tool_progress bar;
    tool_progress_begin(&bar, "paths", p->quiet);
    double t0 = tool_now();
    int rc = th_gen_stats_accumulate(gp, TH_F32, ts->images, ts->labels, ts->count,
                                     p->r.paths ? p->r.paths : ts->count,
                                     p->r.batch > 1 ? p->r.batch : 8, p->r.stride,
                                     tool_progress_update, &bar, &s);
    tool_progress_end(&bar);
    g->stats_s = tool_now() - t0;
    if (rc != TH_OK) return rc;
    th_solve_opts so = th_solve_opts_default();
    so.progress = solve_progress;
    so.progress_ctx = &bar;
    so.clamped_ridge = p->r.class_ridge;
    so.bias_ridge = p->r.bias_ridge;
    tool_progress_begin(&bar, "solve (decades of residual)", p->quiet);
    t0 = tool_now();
    rc = th_gen_stats_protocol_fit(s, gp, p->r.ridge, p->r.segment_penalty, p->compare, &so, pr,
                                   &g->exact);
    g->solve_s = tool_now() - t0;
    tool_progress_end(&bar);
    th_gen_stats_free(s);
    return rc;
}

static int save_png(const char *dir, const char *name, th_canvas *c)
{
    char path[4200];
    int rc = !c || train_join(path, sizeof path, dir, name) ? TH_EINVAL
                                                            : th_png_write(path, c, 3);
    th_canvas_free(c);
    return rc;
}

int train_generate(const train_params *p, const th_gen_params *gp,
                   const th_gen_training_set *ts, const th_gen_protocol *pr, float lo, float hi,
                   run_report *g)
{
    const size_t rows = ts->rows, cols = ts->cols, N = p->r.samples;
    th_gen_showcase_opts so = th_gen_showcase_opts_default();
    so.samples = N;
    /* Larger training sets are judged by thermo eval's classifier instead. */
    so.threshold = p->r.images ? 0 : RECOGNISED_CORR;
    so.precision = p->precision;
    so.phase1 = p->phase1;
    so.readout_window = p->r.readout_window;
    tool_progress bar;
    so.progress = tool_progress_update;
    so.progress_ctx = &bar;
    th_gen_showcase *s = NULL;
    tool_progress_begin(&bar, "samples", p->quiet);
    double t0 = tool_now();
    int rc = th_gen_protocol_showcase_make(pr, gp, ts, &so, &s);
    g->sample_s = tool_now() - t0;
    tool_progress_end(&bar);
    if (rc != TH_OK || th_dist_rank() != 0) goto done; /* only rank 0 writes */
    g->heat_mean = s->heat_mean;
    g->heat_sd = s->heat_sd;
    g->work_mean = s->work_mean;
    g->work_sd = s->work_sd;
    memcpy(g->recognised, s->recognised, sizeof g->recognised);
    memcpy(g->inverted, s->inverted, sizeof g->inverted);
    g->unrecognised = s->unrecognised;
    char path[4200];
    if (train_join(path, sizeof path, p->out, "samples.safetensors") ||
        (rc = tool_save_samples(path, gp, s->samples, N, 0, NULL, s->heat,
                                   p->r.latent_classes)) != TH_OK)
        goto done;
    /* strips want (n_snaps, n_traj, rows, cols), the snapshots' layout */
    rc = save_png(p->out, "noising.png", th_picture_strips(s->noising, s->n_snaps, s->n_paths,
                                                           rows, cols, 2, lo, hi));
    if (rc == TH_OK)
        rc = save_png(p->out, "denoising.png",
                      th_picture_strips(s->generation, s->n_snaps, s->trajectories, rows, cols,
                                        2, lo, hi));
    if (rc == TH_OK)
        rc = save_png(p->out, "samples.png",
                      th_picture_grid(s->samples, N < 100 ? N : 100, rows, cols, 10, 2, lo, hi));
    if (rc == TH_OK)
        rc = save_png(p->out, "fields.png",
                      th_picture_fields(s->fields, s->n_fields, rows, cols, 4, 2));
done:
    th_gen_showcase_free(s);
    return rc;
}
