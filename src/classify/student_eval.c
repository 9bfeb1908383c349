/* student_eval.c - classification by the trained student (science.md
 * section 3): trajectories from 0 with the inputs clamped to the image, the
 * output units read at t_f and averaged over independent trajectories.
 *
 * With the inputs clamped (x_j = s_j, dx_j = 0), their couplings enter the
 * free units' potential only as the linear term sum_{j in, i free} s_j J_ji
 * x_i = h . x_free, h = s J_in. Simulating the free units alone with h as a
 * drive of constant amplitude 1 is therefore the same dynamics; and the same
 * heat, since the clamped units neither move nor take heat, and the drive's
 * term in V, h . x, changes over a step by exactly what the full model's
 * coupling term does. The drive does no work (its amplitude never changes).
 * The full model's step would draw noise for the 784 clamped units and
 * multiply them into the force every step; this one does neither, about ten
 * times less work for the PNAS sizes. */
#include "classify_internal.h"

#include <math.h>
#include <string.h>

th_student_eval_opts th_student_eval_opts_default(void)
{
    th_student_eval_opts o;
    memset(&o, 0, sizeof o);
    o.trajectories = 10;
    o.batch_rows = 2048;
    o.first = 0;
    o.kernel = TH_KERNEL_FAST;
    return o;
}

static double constant_one(double t, void *ctx)
{
    (void)t;
    (void)ctx;
    return 1.0;
}

/* The free units of m (hidden, output) with their couplings, biases and
 * on-site terms: the model th_langevin_run simulates. */
static th_model *free_model(const th_model *m, const th_student_params *p)
{
    const size_t sizes[2] = {p->n_hidden, p->n_output};
    th_model *r = th_model_alloc(2, sizes, m->dtype);
    if (!r) return NULL;
    if (m->couples[1][1]) th_model_couple(r, 0, 0);
    if (m->couples[1][2]) th_model_couple(r, 0, 1);
    if (m->couples[2][2]) th_model_couple(r, 1, 1);
    r->kT = m->kT;
    r->mu = m->mu;
    const size_t n_in = p->n_input, nf = r->n, n = m->n;
    for (size_t i = 0; i < nf; i++) {
        th_ptr_set(r->J2, r->dtype, i, th_ptr_get(m->J2, m->dtype, n_in + i));
        th_ptr_set(r->J3, r->dtype, i, th_ptr_get(m->J3, m->dtype, n_in + i));
        th_ptr_set(r->J4, r->dtype, i, th_ptr_get(m->J4, m->dtype, n_in + i));
        th_ptr_set(r->b, r->dtype, i, th_ptr_get(m->b, m->dtype, n_in + i));
        for (size_t j = 0; j < nf; j++)
            th_ptr_set(r->J, r->dtype, i * nf + j, th_ptr_get(m->J, m->dtype, (n_in + i) * n + n_in + j));
    }
    return r;
}

/* Each of rows trajectories' output units (the last no of its nf) through
 * the readout, in place: what the hardware reads (o->readout, an ADC). */
static void read_outputs(const th_student_eval_opts *o, th_batch *s, size_t rows, size_t nf,
                         size_t no, float *buf)
{
    for (size_t k = 0; k < rows; k++) {
        const size_t at = k * nf + nf - no;
        for (size_t c = 0; c < no; c++) buf[c] = (float)th_ptr_get(s->x, s->dtype, at + c);
        o->readout(buf, no, o->readout_ctx);
        for (size_t c = 0; c < no; c++) th_ptr_set(s->x, s->dtype, at + c, (double)buf[c]);
    }
}

int th_student_classify(const th_model *m, const th_student_params *p, const float *images,
                        size_t count, const th_student_eval_opts *o, float *mean_out,
                        float *first_out, double *heat)
{
    TH_ASSERT(m != NULL && p != NULL && images != NULL && o != NULL && mean_out != NULL);
    int rc = th_student_params_validate(p);
    if (rc == TH_OK) rc = th_student_check_model(m, p);
    if (rc != TH_OK) return rc;
    if (count == 0) return th__fail(TH_EINVAL, "no images to classify");
    if (o->trajectories == 0)
        return th__fail(TH_EINVAL, "trajectories = 0: expected at least 1 per image");
    if (o->trajectories > ((size_t)1 << 20))
        return th__fail(TH_EINVAL, "trajectories = %zu: expected at most 2^20 per image",
                        o->trajectories);
    rc = th_model_validate(m);
    if (rc != TH_OK) return rc;

    const size_t n_in = p->n_input, nf = th__student_free(p), nh = p->n_hidden;
    const size_t no = p->n_output, M = o->trajectories, n = m->n;
    const size_t per_run = o->batch_rows / M ? o->batch_rows / M : 1; /* images per run */
    const size_t imgs = count < per_run ? count : per_run;
    th_model *r = free_model(m, p);
    th_batch *s = r ? th_batch_alloc(r, imgs * M, p->seed) : NULL;
    double *Win = th__alloc(n_in * nf * sizeof(double)); /* (n_in, nf) */
    double *S = th__alloc(imgs * n_in * sizeof(double)); /* (imgs, n_in) */
    double *H = th__alloc(imgs * nf * sizeof(double));   /* (imgs, nf) */
    th_ptr field;
    field.v = th__alloc(imgs * M * nf * th_dtype_size(m->dtype)); /* (imgs M, nf) */
    float *read = th__alloc(no * sizeof(float));                  /* (no) */
    if (!r || !s || !Win || !S || !H || !field.v || !read) {
        if (r && s) rc = th__fail(TH_ENOMEM, "out of memory for classifying %zu images", imgs);
        else rc = TH_ENOMEM;
        goto done;
    }
    for (size_t j = 0; j < n_in; j++)
        for (size_t i = 0; i < nf; i++) Win[j * nf + i] = th_ptr_get(m->J, m->dtype, j * n + n_in + i);

    th_drive drive = {constant_one, NULL, field, 1};
    th_run run = th_run_default();
    run.n_steps = th_student_steps(p);
    run.dt = p->dt;
    run.drive = &drive;
    run.kernel = o->kernel;
    run.bath = o->bath;
    for (size_t q0 = 0; q0 < count; q0 += imgs) {
        const size_t nq = count - q0 < imgs ? count - q0 : imgs;
        for (size_t i = 0; i < nq * n_in; i++) S[i] = (double)images[q0 * n_in + i];
        /* h = s J_in for each image of the run (see the top of this file). */
        th__gemm_f64(TH__N, TH__N, nq, nf,
                    n_in, 1.0, S, n_in, Win, nf, 0.0, H, nf);
        th_batch *sb = s;
        if (nq < imgs) { /* the last, smaller run */
            sb = th_batch_alloc(r, nq * M, p->seed);
            if (!sb) {
                rc = TH_ENOMEM;
                goto done;
            }
        }
        th_batch_reset(sb);
        for (size_t q = 0; q < nq; q++)
            for (size_t j = 0; j < M; j++) {
                const size_t row = q * M + j;
                sb->stream[row] = TH_STUDENT_EVAL_STREAM + (o->first + q0 + q) * M + j;
                for (size_t i = 0; i < nf; i++)
                    th_ptr_set(field, m->dtype, row * nf + i, H[q * nf + i]);
            }
        rc = th_langevin_run(r, sb, &run);
        if (rc == TH_OK && o->readout) read_outputs(o, sb, nq * M, nf, no, read);
        if (rc == TH_OK) {
            for (size_t q = 0; q < nq; q++) {
                float *mo = mean_out + (q0 + q) * no;
                double hsum = 0;
                for (size_t c = 0; c < no; c++) {
                    double v = 0;
                    for (size_t j = 0; j < M; j++)
                        v += th_ptr_get(sb->x, m->dtype, (q * M + j) * nf + nh + c);
                    mo[c] = (float)(v / (double)M);
                    if (first_out)
                        first_out[(q0 + q) * no + c] =
                            (float)th_ptr_get(sb->x, m->dtype, q * M * nf + nh + c);
                }
                for (size_t j = 0; j < M; j++) hsum += sb->heat[q * M + j];
                if (heat) heat[q0 + q] = hsum / (double)M;
            }
        }
        if (sb != s) th_batch_free(sb);
        if (rc != TH_OK) goto done;
        if (o->progress && o->progress(q0 + nq, count, o->progress_ctx)) {
            rc = th__fail(TH_ECANCELED, "classification canceled after %zu of %zu images",
                          q0 + nq, count);
            goto done;
        }
    }
done:
    th_model_free(r);
    th_batch_free(s);
    th__free(Win);
    th__free(S);
    th__free(H);
    th__free(field.v);
    th__free(read);
    return rc;
}
