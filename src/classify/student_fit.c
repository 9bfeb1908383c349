/* student_fit.c - a student trained from its teacher end to end: the
 * teacher's prepared images and targets, then the exact solve (sufficient
 * statistics and CG) or Adam, into a th_student ready to save.
 *
 * The exact solve's ridge is taken per path and scaled by the number of
 * paths here: the data term is a sum over paths, so a ridge per path keeps
 * its weight against the data whatever the number of images or epochs, as
 * the generator's --ridge does. */
#include "classify_internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

th_student_fit_opts th_student_fit_opts_default(void)
{
    th_student_fit_opts o;
    memset(&o, 0, sizeof o);
    o.solver = TH_STUDENT_EXACT;
    /* Exactly 1000 once multiplied by 60000 paths: the absolute ridge the
     * solve was tuned with on full MNIST, so its students are unchanged. */
    o.ridge = 1000.0 / 60000.0;
    o.stats_batch = 128;
    o.train = th_student_train_opts_default();
    o.solve = th_solve_opts_default();
    return o;
}

int th_student_params_for_teacher(const th_mlp *teacher, th_student_params *p)
{
    TH_ASSERT(teacher != NULL && p != NULL);
    if (teacher->input != TH_INPUT_PNAS)
        return th__fail(TH_EINVAL, "the teacher takes standardised inputs: expected a network "
                        "trained on TH_INPUT_PNAS inputs (thermo classifier train --arch "
                        "teacher)");
    p->n_input = teacher->width[0];
    p->n_output = teacher->width[teacher->n_layers];
    return th_student_params_validate(p);
}

static int fit_exact(const th_student_params *p, const th_student_fit_opts *o, th_model *m,
                     const float *X, const float *A, size_t count, th_student_fit_report *r)
{
    th_student_stats *stats = NULL;
    const double t0 = omp_get_wtime();
    int rc = th_student_stats_accumulate(p, X, A, count, o->train.epochs * count,
                                         o->stats_batch, o->on_paths, o->ctx, &stats);
    if (rc != TH_OK) return rc;
    const double t1 = omp_get_wtime();
    const size_t paths = th_student_stats_paths(stats);
    th_solve_opts so = o->solve;
    so.ridge = o->ridge * (double)paths;
    so.progress = o->on_iteration;
    so.progress_ctx = o->ctx;
    double before = 0, after = 0;
    if ((rc = th_student_stats_loss(stats, m, &before)) == TH_OK &&
        (rc = th_student_stats_solve(stats, m, &so, &r->solve)) == TH_OK &&
        (rc = th_student_stats_loss(stats, m, &after)) == TH_OK) {
        r->paths = paths;
        r->objective_zero = before / (double)paths;
        r->objective = after / (double)paths;
        r->accumulate_seconds = t1 - t0;
        r->solve_seconds = omp_get_wtime() - t1;
    }
    th_student_stats_free(stats);
    return rc;
}

int th_student_fit(const th_mlp *teacher, const th_dataset *d, const th_student_params *p,
                   const th_student_fit_opts *o, th_student *out, th_student_fit_report *report,
                   double *epoch_loss)
{
    TH_ASSERT(teacher != NULL && d != NULL && p != NULL && o != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    th_student_fit_report r;
    memset(&r, 0, sizeof r);
    th_student_params sp = *p;
    int rc = th_student_params_for_teacher(teacher, &sp);
    if (rc != TH_OK) return rc;
    if (sp.n_input != p->n_input || sp.n_output != p->n_output)
        return th__fail(TH_EINVAL, "settings of %zu inputs and %zu outputs: the teacher has %zu "
                        "and %zu (th_student_params_for_teacher)", p->n_input, p->n_output,
                        sp.n_input, sp.n_output);
    if (o->solver != TH_STUDENT_EXACT && o->solver != TH_STUDENT_ADAM)
        return th__fail(TH_EINVAL, "solver %d: expected TH_STUDENT_EXACT or TH_STUDENT_ADAM",
                        (int)o->solver);
    if (!(o->ridge >= 0) || !isfinite(o->ridge))
        return th__fail(TH_EINVAL, "ridge = %g per path: expected a finite value >= 0",
                        o->ridge);
    if (o->train.epochs == 0)
        return th__fail(TH_EINVAL, "epochs = 0: expected at least 1");
    const size_t count = d->count, nf = th__student_free(p);
    r.images = count;
    float *X = malloc((count ? count : 1) * p->n_input * sizeof *X); /* (count, n_input) */
    float *A = malloc((count ? count : 1) * nf * sizeof *A);         /* (count, n_free) */
    double *loss = calloc(o->train.epochs, sizeof *loss);
    out->model = th_student_model_alloc(p, TH_F32);
    if (!X || !A || !loss || !out->model) {
        rc = th__fail(TH_ENOMEM, "out of memory for %zu training images", count);
        goto done;
    }
    if ((rc = th_mlp_prepare(teacher, d, 0, count, X)) != TH_OK ||
        (rc = th_student_targets(p, teacher, X, count, A)) != TH_OK)
        goto done;
    if (o->solver == TH_STUDENT_EXACT) {
        rc = fit_exact(p, o, out->model, X, A, count, &r);
        for (size_t e = 0; e < o->train.epochs && rc == TH_OK; e++) loss[e] = r.objective;
    } else {
        rc = th_student_train(out->model, p, X, A, count, &o->train, loss);
        if (rc == TH_OK) r.objective = loss[o->train.epochs - 1];
    }
    if (rc != TH_OK) goto done;
    out->params = *p;
    out->input_norm = teacher->input_norm;
    out->n_widths = (size_t)teacher->n_layers + 1;
    for (size_t l = 0; l < out->n_widths; l++) out->widths[l] = teacher->width[l];
    if (epoch_loss) memcpy(epoch_loss, loss, o->train.epochs * sizeof *loss);
    if (report) *report = r;
done:
    free(X);
    free(A);
    free(loss);
    if (rc != TH_OK) th_student_clear(out);
    return rc;
}

int th_student_fit_meta(const th_student_fit_opts *o, const th_student_fit_report *r,
                        th_meta *meta)
{
    TH_ASSERT(o != NULL && r != NULL && meta != NULL);
    const th_student_train_opts *t = &o->train;
    int rc = o->solver == TH_STUDENT_EXACT
                 ? th_meta_setf(meta, "student.train", "images %zu, paths per image %zu, exact "
                                "(normal equations), ridge %g per path", r->images, t->epochs,
                                o->ridge)
                 : th_meta_setf(meta, "student.train", "images %zu, epochs %zu, batch %zu, lr "
                                "%g (Adam, half-cosine)", r->images, t->epochs, t->batch,
                                t->learning_rate);
    if (rc == TH_OK) rc = th_meta_setf(meta, "student.final_objective", "%.17g", r->objective);
    return rc;
}
