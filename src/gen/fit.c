/* fit.c - training runs around the optimisers: checkpoints of gradient
 * descent and resuming from them (bit-identical to a run never interrupted,
 * since update u depends only on the model and u), the loss curve as a CSV
 * table, and the exact solver's fit with its losses before and after. */
#include "gen_internal.h"
#include "thermo/dist.h"

#include <math.h>
#include <string.h>

double th_gen_loss_per_unit(const th_gen_params *p, double loss)
{
    TH_ASSERT(p != NULL);
    return loss / (double)(th_gen_steps(p) * (p->n_visible + p->n_hidden));
}

int th_gen_loss_csv_write(const char *path, const th_gen_params *p, const double *loss,
                          size_t n)
{
    TH_ASSERT(path != NULL && p != NULL && (loss != NULL || n == 0));
    th_atomic_file *a = th_atomic_open(path);
    if (!a) return TH_EIO;
    FILE *f = th_atomic_stream(a);
    fprintf(f, "update,loss,loss_per_step_and_unit\n");
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%zu,%.9g,%.9g\n", k, loss[k], th_gen_loss_per_unit(p, loss[k]));
    return th_atomic_commit(a); /* a failed write shows as the stream's error */
}

/* ---------------------------------------------------------- checkpoints */

#define KEY_DONE "train.done"
#define KEY_LOSS "train.loss"

/* The checkpoint's metadata: the settings, train.done and train.loss. */
static int checkpoint_meta(const char *path, const th_meta *settings, size_t done,
                           const double *loss, th_meta *meta)
{
    int rc = TH_OK;
    for (size_t k = 0; k < settings->count && rc == TH_OK; k++)
        rc = th_meta_set(meta, settings->keys[k], settings->values[k]);
    if (rc == TH_OK) rc = th_meta_setf(meta, KEY_DONE, "%zu", done);
    /* %.17g identifies every double, so the resumed curve is exact. */
    char *text = rc == TH_OK ? malloc(done * 26 + 1) : NULL;
    if (rc == TH_OK && !text) rc = th__fail(TH_ENOMEM, "%s: out of memory for the losses", path);
    if (rc == TH_OK) {
        size_t len = 0;
        text[0] = '\0';
        for (size_t k = 0; k < done; k++)
            len += (size_t)sprintf(text + len, "%s%.17g", k ? "," : "", loss[k]);
        rc = th_meta_set(meta, KEY_LOSS, text);
    }
    free(text);
    return rc;
}

int th_gen_checkpoint_save(const char *path, const th_model *m, const th_meta *settings,
                           size_t done, const double *loss)
{
    TH_ASSERT(path != NULL && m != NULL && settings != NULL && (loss != NULL || done == 0));
    th_meta meta = {0};
    int rc = checkpoint_meta(path, settings, done, loss, &meta);
    if (rc == TH_OK) rc = th_model_save(path, m, &meta);
    th_meta_clear(&meta);
    return rc;
}

int th_gen_protocol_checkpoint_save(const char *path, const th_gen_protocol *pr,
                                    const th_meta *settings, size_t done, const double *loss)
{
    TH_ASSERT(path != NULL && pr != NULL && settings != NULL && (loss != NULL || done == 0));
    th_meta meta = {0};
    int rc = checkpoint_meta(path, settings, done, loss, &meta);
    if (rc == TH_OK) rc = th_gen_protocol_save(path, pr, &meta);
    th_meta_clear(&meta);
    return rc;
}

/* The checkpoint's own entries: its settings must equal the run's, and
 * train.done and train.loss must be a count and that many finite numbers. */
static int read_state(const char *path, const th_meta *meta, const th_meta *settings,
                      size_t updates, size_t *done, double *loss)
{
    for (size_t k = 0; k < settings->count; k++) {
        const char *have = th_meta_get(meta, settings->keys[k]);
        if (!have || strcmp(have, settings->values[k]) != 0)
            return th__fail(TH_EINVAL, "%s: was written with %s = %s, this run has %s: resume "
                            "with the same settings", path, settings->keys[k],
                            have ? have : "(missing)", settings->values[k]);
    }
    const char *d = th_meta_get(meta, KEY_DONE), *l = th_meta_get(meta, KEY_LOSS);
    char *end = NULL;
    unsigned long long n = d ? strtoull(d, &end, 10) : 0;
    if (!d || *end || n > updates || !l)
        return th__fail(TH_EFORMAT, "%s: " KEY_DONE " or " KEY_LOSS " missing or malformed",
                        path);
    for (size_t k = 0; k < n; k++) {
        loss[k] = strtod(l, &end);
        if (end == l || (*end != ',' && *end != '\0') || !isfinite(loss[k]))
            return th__fail(TH_EFORMAT, "%s: " KEY_LOSS " is malformed", path);
        l = *end ? end + 1 : end;
    }
    *done = (size_t)n;
    return TH_OK;
}

int th_gen_checkpoint_load(const char *path, const th_meta *settings, size_t updates,
                           th_model **m, size_t *done, double *loss)
{
    TH_ASSERT(path != NULL && settings != NULL && m != NULL && done != NULL &&
              (loss != NULL || updates == 0));
    *m = NULL;
    *done = 0;
    th_meta meta = {0};
    int rc = th_model_load(path, m, &meta);
    if (rc == TH_OK) rc = read_state(path, &meta, settings, updates, done, loss);
    th_meta_clear(&meta);
    if (rc != TH_OK) {
        th_model_free(*m);
        *m = NULL;
        *done = 0;
    }
    return rc;
}

int th_gen_protocol_checkpoint_load(const char *path, const th_meta *settings, size_t updates,
                                    th_gen_protocol **pr, size_t *done, double *loss)
{
    TH_ASSERT(path != NULL && settings != NULL && pr != NULL && done != NULL &&
              (loss != NULL || updates == 0));
    *pr = NULL;
    *done = 0;
    th_meta meta = {0};
    th_gen_params p;
    int rc = th_gen_protocol_load(path, pr, &p, &meta);
    if (rc == TH_OK) rc = read_state(path, &meta, settings, updates, done, loss);
    th_meta_clear(&meta);
    if (rc != TH_OK) {
        th_gen_protocol_free(*pr);
        *pr = NULL;
        *done = 0;
    }
    return rc;
}

/* What the update hook of th_gen_train_checkpointed carries. */
typedef struct checkpoint_run {
    const th_gen_train_opts *opts;
    const th_gen_checkpoint_opts *ck;
    const double *loss;
    int failed; /* the checkpoint after update `failed_at` could not be written */
    size_t failed_at;
    char why[512]; /* why not: th_gen_train's own message replaces it */
} checkpoint_run;

static int after_update(size_t u, double loss, const th_gen_protocol *pr, void *ctx)
{
    (void)loss;
    checkpoint_run *run = ctx;
    const th_gen_train_opts *o = run->opts;
    if ((u + 1) % run->ck->every != 0 || u + 1 >= o->updates) return 0;
    /* The first process writes; every process learns whether it could, so
     * that all stop together when it could not. A one-segment protocol is
     * written as the plain model file it is. */
    int rc = TH_OK;
    if (th_dist_rank() == 0)
        rc = pr->segments == 1 ? th_gen_checkpoint_save(run->ck->path, pr->seg[0],
                                                        run->ck->settings, u + 1, run->loss)
                               : th_gen_protocol_checkpoint_save(run->ck->path, pr,
                                                                 run->ck->settings, u + 1,
                                                                 run->loss);
    if (th_dist_any_error(rc) != TH_OK) {
        run->failed = 1;
        run->failed_at = u;
        snprintf(run->why, sizeof run->why, "%s", th_last_error());
        return 1;
    }
    return run->ck->written ? run->ck->written(u + 1, run->ck->ctx) : 0;
}

int th_gen_train_checkpointed(th_model *m, const th_gen_params *p, const float *images,
                              const int *classes, size_t count,
                              const th_gen_train_opts *opts,
                              const th_gen_checkpoint_opts *ck, size_t first_update,
                              double *loss)
{
    TH_ASSERT(m != NULL && p != NULL);
    int rc = th__gen_single_segment(p, "th_gen_train_checkpointed");
    if (rc != TH_OK) return rc;
    th_model *slot;
    th_gen_protocol view = th__gen_protocol_view(&slot, m);
    return th_gen_protocol_train_checkpointed(&view, p, images, classes, count, opts, ck,
                                              first_update, loss);
}

int th_gen_protocol_train_checkpointed(th_gen_protocol *pr, const th_gen_params *p,
                                       const float *images, const int *classes, size_t count,
                                       const th_gen_train_opts *opts,
                                       const th_gen_checkpoint_opts *ck, size_t first_update,
                                       double *loss)
{
    TH_ASSERT(opts != NULL && ck != NULL && ck->path != NULL && ck->settings != NULL);
    if (ck->every == 0)
        return th__fail(TH_EINVAL, "checkpoint every 0 updates: expected at least 1");
    checkpoint_run run = {.opts = opts, .ck = ck, .loss = loss};
    int rc = th__gen_protocol_train(pr, p, images, classes, count, opts, first_update, loss,
                                    after_update, &run);
    if (rc != TH_OK && run.failed)
        rc = th__fail(TH_EIO, "writing the checkpoint failed: training stopped after update "
                      "%zu: %s", run.failed_at, run.why);
    return rc;
}

/* ------------------------------------------------------- the exact fit */

/* Loss per step and moving unit over the statistics' paths: of the
 * protocol pr, or of the one model m held over every segment. */
static int per_unit_loss(const th_gen_stats *s, const th_gen_params *p,
                         const th_gen_protocol *pr, const th_model *m, double *out)
{
    double loss = 0;
    int rc = TH_OK;
    if (pr) {
        rc = th_gen_stats_protocol_loss(s, pr, &loss);
    } else {
        for (size_t k = 0; rc == TH_OK && k < th_gen_stats_segments(s); k++) {
            double l = 0;
            if ((rc = th_gen_stats_segment_loss(s, k, m, &l)) == TH_OK) loss = k ? loss + l : l;
        }
    }
    *out = loss / ((double)th_gen_stats_rows(s) * (double)(p->n_visible + p->n_hidden));
    return rc;
}

int th_gen_stats_fit(const th_gen_stats *s, const th_gen_params *p, double ridge_per_path,
                     const char *compare, const th_solve_opts *opts, th_model *m,
                     th_gen_exact_report *r)
{
    TH_ASSERT(s != NULL && p != NULL && m != NULL);
    int rc = th__gen_single_segment(p, "th_gen_stats_fit");
    if (rc != TH_OK) return rc;
    th_model *slot;
    th_gen_protocol view = th__gen_protocol_view(&slot, m);
    return th_gen_stats_protocol_fit(s, p, ridge_per_path, 0.0, compare, opts, &view, r);
}

int th_gen_stats_protocol_fit(const th_gen_stats *s, const th_gen_params *p,
                              double ridge_per_path, double penalty_per_path,
                              const char *compare, const th_solve_opts *opts,
                              th_gen_protocol *pr, th_gen_exact_report *r)
{
    TH_ASSERT(s != NULL && p != NULL && opts != NULL && pr != NULL && r != NULL);
    memset(r, 0, sizeof *r);
    r->paths = th_gen_stats_paths(s);
    r->loss_compare = NAN;
    int rc = per_unit_loss(s, p, pr, NULL, &r->loss_zero);
    th_solve_opts so = *opts;
    so.ridge = ridge_per_path * (double)r->paths;
    so.clamped_ridge = opts->clamped_ridge * (double)r->paths;
    so.bias_ridge = opts->bias_ridge * (double)r->paths;
    th_solve_result res = {0};
    if (rc == TH_OK)
        rc = th_gen_stats_protocol_solve(s, pr, penalty_per_path * (double)r->paths, &so, &res);
    r->iterations = res.iterations;
    r->residual = res.residual;
    r->converged = res.converged;
    if (rc == TH_OK) rc = per_unit_loss(s, p, pr, NULL, &r->loss_solved);
    if (rc == TH_OK && compare) {
        th_gen_protocol *other = NULL;
        th_gen_params q;
        rc = th_gen_protocol_load(compare, &other, &q, NULL);
        if (rc == TH_OK && other->segments == 1)
            rc = per_unit_loss(s, p, NULL, other->seg[0], &r->loss_compare);
        else if (rc == TH_OK)
            rc = per_unit_loss(s, p, other, NULL, &r->loss_compare);
        th_gen_protocol_free(other);
    }
    return rc;
}
