/* report.c - what is made of a trained generator's samples: sampling spread
 * over processes, the heat table, how a sample is drawn (shape and grey range
 * from the model file, or from the samples' own percentiles), which training
 * digit a sample resembles, and the hidden units' strongest fields. */
#include "gen_internal.h"
#include "thermo/dist.h"
#include "thermo/energy.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------- sampling */

/* The snapshots of the first snap_traj samples, drawn on several processes,
 * onto every process: as in th_dist_gather_f32, through a sum of doubles in
 * which only the owner of a value contributes it (x + 0 = x exactly). */
static int share_snapshots(const th_gen_sample_opts *o, size_t first, size_t traj,
                           const float *local, size_t nv)
{
    const size_t n = o->n_snaps * o->snap_traj * nv;
    double *sum = th__calloc(n, sizeof(double));
    int rc = th_dist_any_error(sum ? TH_OK : th__fail(TH_ENOMEM, "out of memory for snapshots"));
    for (size_t j = 0; rc == TH_OK && j < o->n_snaps; j++)
        for (size_t i = 0; i < traj * nv; i++)
            sum[(j * o->snap_traj + first) * nv + i] = (double)local[j * traj * nv + i];
    if (rc == TH_OK) rc = th_dist_sum_f64(sum, n);
    for (size_t i = 0; rc == TH_OK && i < n; i++) o->snap_out[i] = (float)sum[i];
    th__free(sum);
    return rc;
}

int th_gen_sample_dist(const th_model *m, const th_gen_params *p, size_t count,
                       const th_gen_sample_opts *opts, float *out, double *heat)
{
    TH_ASSERT(m != NULL && p != NULL);
    int rc = th__gen_single_segment(p, "th_gen_sample_dist");
    if (rc != TH_OK) return rc;
    th_model *slot;
    const th_gen_protocol view = th__gen_protocol_view(&slot, m);
    return th_gen_protocol_sample_dist(&view, p, count, opts, out, heat);
}

int th_gen_protocol_sample_dist(const th_gen_protocol *pr, const th_gen_params *p,
                                size_t count, const th_gen_sample_opts *opts, float *out,
                                double *heat)
{
    TH_ASSERT(pr != NULL && p != NULL && opts != NULL && out != NULL);
    if (th_dist_size() == 1) return th_gen_protocol_sample(pr, p, count, opts, out, heat);
    if (opts->n_snaps && (opts->snap_traj > opts->batch || opts->snap_traj > count ||
                          !opts->snap_out))
        return th__fail(TH_EINVAL, "%zu snapshot trajectories: at most the batch (%zu) and the "
                        "count (%zu), with a buffer", opts->snap_traj, opts->batch, count);
    const size_t nv = p->n_visible;
    size_t first = 0, mine = 0;
    th_dist_share(count, &first, &mine);
    th_gen_sample_opts so = *opts;
    so.first = opts->first + first;
    so.classes = opts->classes ? opts->classes + first : NULL;
    /* This process's samples among those whose snapshots are asked for. */
    const size_t traj = opts->n_snaps && first < opts->snap_traj
                            ? (opts->snap_traj - first < mine ? opts->snap_traj - first : mine)
                            : 0;
    float *local = traj ? th__alloc(opts->n_snaps * traj * nv * sizeof(float)) : NULL;
    so.n_snaps = traj ? opts->n_snaps : 0;
    so.snap_traj = traj;
    so.snap_out = local;
    so.work = opts->work ? opts->work + first : NULL;
    so.potential_change = opts->potential_change ? opts->potential_change + first : NULL;
    int rc = traj && !local ? th__fail(TH_ENOMEM, "out of memory for snapshots") : TH_OK;
    if (rc == TH_OK && mine)
        rc = th_gen_protocol_sample(pr, p, mine, &so, out + first * nv,
                                    heat ? heat + first : NULL);
    if ((rc = th_dist_any_error(rc)) == TH_OK) rc = th_dist_gather_f32(out, count, nv);
    if (rc == TH_OK && heat) rc = th_dist_gather_f64(heat, count, 1);
    if (rc == TH_OK && opts->work) rc = th_dist_gather_f64(opts->work, count, 1);
    if (rc == TH_OK && opts->potential_change)
        rc = th_dist_gather_f64(opts->potential_change, count, 1);
    if (rc == TH_OK && opts->n_snaps) rc = share_snapshots(opts, first, traj, local, nv);
    th__free(local);
    return rc;
}

int th_gen_heat_csv_write(const char *path, const double *heat, size_t n, uint64_t first)
{
    return th_gen_heat_work_csv_write(path, heat, NULL, n, first);
}

int th_gen_heat_work_csv_write(const char *path, const double *heat, const double *work,
                               size_t n, uint64_t first)
{
    TH_ASSERT(path != NULL && (heat != NULL || n == 0));
    th_atomic_file *a = th_atomic_open(path);
    if (!a) return TH_EIO;
    FILE *f = th_atomic_stream(a);
    fprintf(f, work ? "sample,heat_kT,work_kT\n" : "sample,heat_kT\n");
    for (size_t k = 0; k < n; k++) {
        fprintf(f, "%llu,%.10g", (unsigned long long)(first + k), heat[k]);
        if (work) fprintf(f, ",%.10g", work[k]);
        fputc('\n', f);
    }
    return th_atomic_commit(a); /* a failed write shows as the stream's error */
}

/* ------------------------------------------------------------- pictures */

/* A positive whole number from the metadata into *out, 0 when the key is
 * absent. */
static int meta_size(const char *path, const th_meta *meta, const char *key, size_t *out)
{
    const char *text = th_meta_get(meta, key);
    *out = 0;
    if (!text) return TH_OK;
    char *end = NULL;
    errno = 0;
    unsigned long long v = isdigit((unsigned char)text[0]) ? strtoull(text, &end, 10) : 0;
    if (!end || *end || errno == ERANGE || v == 0 || v > SIZE_MAX)
        return th__fail(TH_EFORMAT, "%s: metadata %s = '%.60s': expected a whole number >= 1",
                        path, key, text);
    *out = (size_t)v;
    return TH_OK;
}

/* A finite float from a whole string; 0 on success. */
static int to_float(const char *text, float *out)
{
    if (!text || !text[0] || isspace((unsigned char)text[0]) || strpbrk(text, "xX")) return -1;
    char *end = NULL;
    errno = 0;
    const double v = strtod(text, &end);
    *out = (float)v;
    return end == text || *end || errno == ERANGE || !isfinite(*out) ? -1 : 0;
}

int th_gen_picture_from_meta(const char *path, const th_meta *meta, size_t n_visible,
                             th_gen_picture *pic)
{
    TH_ASSERT(path != NULL && meta != NULL && pic != NULL);
    memset(pic, 0, sizeof *pic);
    int rc = meta_size(path, meta, "data.rows", &pic->rows);
    if (rc == TH_OK) rc = meta_size(path, meta, "data.cols", &pic->cols);
    if (rc != TH_OK) return rc;
    if (!pic->rows && !pic->cols && n_visible == 784) {
        pic->rows = pic->cols = 28; /* MNIST */
    } else if (!pic->rows || !pic->cols) {
        return th__fail(TH_EFORMAT, "%s: no metadata data.rows and data.cols to draw %zu "
                        "visible units as a picture; add both to the file's metadata", path,
                        n_visible);
    } else if (pic->rows > n_visible / pic->cols || pic->rows * pic->cols != n_visible) {
        return th__fail(TH_EFORMAT, "%s: data.rows x data.cols = %zu x %zu, but the model "
                        "has %zu visible units", path, pic->rows, pic->cols, n_visible);
    }
    const char *lo = th_meta_get(meta, "picture.lo"), *hi = th_meta_get(meta, "picture.hi");
    if (!lo && !hi) return TH_OK;
    if (to_float(lo, &pic->lo) || to_float(hi, &pic->hi) || !(pic->lo < pic->hi)) {
        pic->lo = pic->hi = 0;
        return th__fail(TH_EFORMAT, "%s: metadata picture.lo = '%.40s', picture.hi = '%.40s': "
                        "expected two finite numbers with lo < hi", path,
                        lo ? lo : "(missing)", hi ? hi : "(missing)");
    }
    pic->range_from_file = 1;
    return TH_OK;
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted values (linear between order statistics). */
static double quantile(const float *sorted, size_t count, double q)
{
    double pos = q * (double)(count - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= count) return (double)sorted[count - 1];
    double frac = pos - (double)i;
    return (double)sorted[i] + frac * ((double)sorted[i + 1] - (double)sorted[i]);
}

int th_gen_picture_percentiles(const float *pixels, size_t count, double q_lo, double q_hi,
                               th_gen_picture *pic)
{
    TH_ASSERT(pixels != NULL && count > 0 && pic != NULL);
    float *sorted = malloc(count * sizeof *sorted);
    if (!sorted) return th__fail(TH_ENOMEM, "out of memory for the grey range");
    memcpy(sorted, pixels, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_float);
    double lo = quantile(sorted, count, q_lo);
    double hi = quantile(sorted, count, q_hi);
    free(sorted);
    /* A constant picture still needs lo < hi; it is drawn mid-grey. */
    if (!((float)lo < (float)hi)) {
        double half = fmax(0.5, 0.5 * fabs(lo));
        hi = lo + half;
        lo -= half;
    }
    pic->lo = (float)lo;
    pic->hi = (float)hi;
    pic->range_from_file = 0;
    return TH_OK;
}

int th_gen_prepared_range(const th_gen_params *p, const float *images, const int *classes,
                          size_t n_paths, float *lo, float *hi)
{
    TH_ASSERT(p != NULL && images != NULL && lo != NULL && hi != NULL);
    const size_t nv = p->n_visible;
    float *prepared = malloc((n_paths ? n_paths : 1) * nv * sizeof(float));
    uint64_t *ids = malloc((n_paths ? n_paths : 1) * sizeof(uint64_t));
    *lo = *hi = 0;
    int rc = prepared && ids ? TH_OK : th__fail(TH_ENOMEM, "out of memory for %zu paths",
                                                n_paths);
    for (size_t k = 0; rc == TH_OK && k < n_paths; k++) ids[k] = k;
    const size_t step0 = 0;
    if (rc == TH_OK)
        rc = th_gen_noising_snapshots(p, images, classes, ids, n_paths, &step0, 1, prepared);
    for (size_t i = 0; rc == TH_OK && i < n_paths * nv; i++) {
        *lo = fminf(*lo, prepared[i]);
        *hi = fmaxf(*hi, prepared[i]);
    }
    free(prepared);
    free(ids);
    return rc;
}

/* ----------------------------------------------------- what was learned */

int th_gen_recognise(const float *samples, size_t count, const float *refs, size_t n_refs,
                     size_t n_pix, double threshold, size_t *as_ref, size_t *inverted,
                     size_t *neither)
{
    TH_ASSERT(samples != NULL && refs != NULL && as_ref != NULL && inverted != NULL &&
              neither != NULL);
    memset(as_ref, 0, n_refs * sizeof *as_ref);
    memset(inverted, 0, n_refs * sizeof *inverted);
    *neither = 0;
    size_t *best = malloc((count ? count : 1) * sizeof *best);
    double *corr = malloc((count ? count : 1) * sizeof *corr);
    if (!best || !corr) {
        free(best);
        free(corr);
        return th__fail(TH_ENOMEM, "out of memory for %zu samples' correlations", count);
    }
    th_nearest_by_correlation(samples, count, refs, n_refs, n_pix, best, corr);
    for (size_t k = 0; k < count; k++) {
        if (corr[k] >= threshold) as_ref[best[k]]++;
        else if (corr[k] <= -threshold) inverted[best[k]]++;
        else (*neither)++;
    }
    free(best);
    free(corr);
    return TH_OK;
}

int th_gen_strongest_fields(const th_model *m, const th_gen_params *p, size_t count,
                            float *fields)
{
    TH_ASSERT(m != NULL && p != NULL && fields != NULL && count <= p->n_hidden);
    const size_t n = m->n, nv = p->n_visible, nh = p->n_hidden;
    double *norm = calloc(nh ? nh : 1, sizeof(double));
    int *taken = calloc(nh ? nh : 1, sizeof(int));
    if (!norm || !taken) {
        free(norm);
        free(taken);
        return th__fail(TH_ENOMEM, "out of memory for %zu hidden units", nh);
    }
    for (size_t a = 0; a < nh; a++)
        for (size_t i = 0; i < nv; i++) {
            double v = th_ptr_get(m->J, m->dtype, i * n + nv + a);
            norm[a] += v * v;
        }
    for (size_t f = 0; f < count; f++) {
        size_t pick = 0;
        double best = -1;
        for (size_t a = 0; a < nh; a++)
            if (!taken[a] && norm[a] > best) {
                best = norm[a];
                pick = a;
            }
        taken[pick] = 1;
        for (size_t i = 0; i < nv; i++)
            fields[f * nv + i] = (float)th_ptr_get(m->J, m->dtype, i * n + nv + pick);
    }
    free(norm);
    free(taken);
    return TH_OK;
}

/* ------------------------------------------------------------ showcase */

th_gen_showcase_opts th_gen_showcase_opts_default(void)
{
    return (th_gen_showcase_opts){.samples = 1000, .n_snaps = 10, .trajectories = 10,
                                  .n_fields = 16, .threshold = 0.5};
}

void th_gen_showcase_free(th_gen_showcase *s)
{
    if (!s) return;
    free(s->samples);
    free(s->heat);
    free(s->generation);
    free(s->noising);
    free(s->fields);
    free(s->work);
    free(s);
}

int th_gen_showcase_make(const th_model *m, const th_gen_params *p,
                         const th_gen_training_set *ts, const th_gen_showcase_opts *o,
                         th_gen_showcase **out)
{
    TH_ASSERT(m != NULL && p != NULL && out != NULL);
    *out = NULL;
    int rc = th__gen_single_segment(p, "th_gen_showcase_make");
    if (rc != TH_OK) return rc;
    th_model *slot;
    const th_gen_protocol view = th__gen_protocol_view(&slot, m);
    return th_gen_protocol_showcase_make(&view, p, ts, o, out);
}

int th_gen_protocol_showcase_make(const th_gen_protocol *pr, const th_gen_params *p,
                                  const th_gen_training_set *ts,
                                  const th_gen_showcase_opts *o, th_gen_showcase **out)
{
    TH_ASSERT(pr != NULL && p != NULL && ts != NULL && o != NULL && out != NULL);
    const th_model *m = pr->seg[pr->segments - 1];
    *out = NULL;
    if (o->samples == 0 || o->n_snaps < 2)
        return th__fail(TH_EINVAL, "%zu samples, %zu snapshots: expected at least 1 and 2",
                        o->samples, o->n_snaps);
    const size_t nv = p->n_visible, N = o->samples, steps = th_gen_steps(p);
    th_gen_showcase *s = calloc(1, sizeof *s);
    size_t *snap_steps = malloc(o->n_snaps * sizeof *snap_steps);
    if (s) {
        s->count = N;
        s->n_visible = nv;
        s->n_snaps = o->n_snaps;
        s->trajectories = o->trajectories < N ? o->trajectories : N;
        s->n_paths = 3;
        s->n_fields = o->n_fields < p->n_hidden ? o->n_fields : p->n_hidden;
        s->samples = malloc(N * nv * sizeof(float));
        s->heat = malloc(N * sizeof(double));
        s->generation = malloc((o->n_snaps * s->trajectories * nv + 1) * sizeof(float));
        s->noising = malloc(o->n_snaps * s->n_paths * nv * sizeof(float));
        s->fields = malloc((s->n_fields * nv + 1) * sizeof(float));
        s->work = pr->segments > 1 ? malloc(N * sizeof(double)) : NULL;
    }
    int rc = TH_OK;
    if (!s || !snap_steps || !s->samples || !s->heat || !s->generation || !s->noising ||
        !s->fields || (pr->segments > 1 && !s->work))
        rc = th__fail(TH_ENOMEM, "out of memory for %zu samples", N);
    for (size_t j = 0; rc == TH_OK && j < o->n_snaps; j++)
        snap_steps[j] = j * steps / (o->n_snaps - 1);
    th_gen_sample_opts so = th_gen_sample_opts_default();
    so.snap_steps = snap_steps;
    so.n_snaps = s && s->trajectories ? o->n_snaps : 0;
    so.snap_traj = s ? s->trajectories : 0;
    so.snap_out = s ? s->generation : NULL;
    so.phase1 = o->phase1;
    so.progress = o->progress;
    so.progress_ctx = o->progress_ctx;
    so.precision = o->precision;
    so.readout_window = o->readout_window;
    so.work = s ? s->work : NULL;
    if (rc == TH_OK) rc = th_gen_protocol_sample_dist(pr, p, N, &so, s->samples, s->heat);
    th_heat_stats hs;
    if (rc == TH_OK && (rc = th_heat_stats_compute(s->heat, N, &hs)) == TH_OK) {
        s->heat_mean = hs.mean;
        s->heat_sd = hs.sd;
    }
    if (rc == TH_OK && s->work && (rc = th_heat_stats_compute(s->work, N, &hs)) == TH_OK) {
        s->work_mean = hs.mean;
        s->work_sd = hs.sd;
    }
    if (rc == TH_OK && o->threshold > 0)
        rc = th_gen_recognise(s->samples, N, ts->images, 3, nv, o->threshold, s->recognised,
                              s->inverted, &s->unrecognised);
    const uint64_t ids[3] = {0, 1, 2};
    if (rc == TH_OK)
        rc = th_gen_noising_snapshots(p, ts->images, ts->labels, ids, 3, snap_steps,
                                      o->n_snaps, s->noising);
    if (rc == TH_OK) rc = th_gen_strongest_fields(m, p, s->n_fields, s->fields);
    free(snap_steps);
    if (rc != TH_OK) {
        th_gen_showcase_free(s);
        return rc;
    }
    *out = s;
    return TH_OK;
}
