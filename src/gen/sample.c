/* sample.c - generation: thermal noise in, images out, by the computer's
 * own time-independent Langevin dynamics with its trained couplings and no
 * neural network (science.md section 2). */
#include "gen_internal.h"

#include <string.h>

th_gen_sample_opts th_gen_sample_opts_default(void)
{
    th_gen_sample_opts o;
    memset(&o, 0, sizeof o);
    o.batch = 256; /* larger batches run the products nearer SGEMM's peak */
    return o;
}

int th_gen_sample(const th_model *m, const th_gen_params *p, size_t count,
                  const th_gen_sample_opts *opts, float *out, double *heat)
{
    TH_ASSERT(m != NULL && p != NULL && opts != NULL && out != NULL);
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    if ((rc = th__gen_check_architecture(m, p, "the model")) != TH_OK) return rc;
    if (opts->classes && (rc = th__gen_check_classes(p, opts->classes, count)) != TH_OK)
        return rc;
    if (opts->batch == 0) return th__fail(TH_EINVAL, "batch = 0: expected at least 1");
    if (opts->phase1 != TH_GEN_PHASE1_EULER && opts->phase1 != TH_GEN_PHASE1_EXACT)
        return th__fail(TH_EINVAL, "phase1 = %d: expected euler (0) or exact (1)", opts->phase1);
    /* The exact draw is the wells' Boltzmann density at the model's kT, which
     * no mobility changes; a device's temperature or coloured noise is
     * simulated, not drawn. */
    const th_device_bath *bath = opts->bath;
    if (opts->phase1 == TH_GEN_PHASE1_EXACT && bath &&
        (bath->kT_offset != 0 || bath->kT_drift != 0 || bath->tau_c > 0))
        return th__fail(TH_EINVAL, "phase 1 drawn exactly on a device with a temperature offset, "
                        "drift or coloured noise: the exact draw holds for the ideal bath only; "
                        "use the Euler phase (phase1 euler)");
    if (opts->n_snaps && (!opts->snap_steps || !opts->snap_out || opts->snap_traj == 0))
        return th__fail(TH_EINVAL, "snapshots requested without steps, trajectories or buffer");
    if (opts->snap_traj > opts->batch || opts->snap_traj > count)
        return th__fail(TH_EINVAL, "%zu snapshot trajectories: at most the batch (%zu) and the "
                        "count (%zu)", opts->snap_traj, opts->batch, count);
    if ((rc = th__precision_check(opts->precision, m->dtype == TH_F64, 0)) != TH_OK) return rc;
    if ((rc = th_model_validate(m)) != TH_OK) return rc;

    const size_t n = m->n, nv = p->n_visible, steps = th_gen_steps(p);
    const size_t es = th_dtype_size(m->dtype);
    const size_t B = opts->batch < count ? opts->batch : count;
    /* The uncoupled wells of the noise phase: same on-site terms, no
     * couplings or biases. */
    th_model *noise = th__gen_uncoupled(p, m->dtype);
    th_batch *s = noise ? th_batch_alloc(m, B, p->seed) : NULL;
    void *snaps = opts->n_snaps ? th__alloc(opts->n_snaps * B * n * es) : NULL;
    unsigned char *clamped = th__alloc(n);
    int *cls = th__alloc(B * sizeof(int));
    if (!noise || !s || (opts->n_snaps && !snaps) || !clamped || !cls) {
        rc = noise && s ? th__fail(TH_ENOMEM, "out of memory for sampling") : TH_ENOMEM;
        goto done;
    }
    memcpy(noise->J2.v, m->J2.v, n * es);
    memcpy(noise->J3.v, m->J3.v, n * es);
    memcpy(noise->J4.v, m->J4.v, n * es);
    noise->kT = m->kT;
    noise->mu = m->mu;

    for (size_t k0 = 0; k0 < count; k0 += B) {
        const size_t nb = count - k0 < B ? count - k0 : B;
        th_batch_reset(s);
        for (size_t k = 0; k < B; k++) {
            s->stream[k] = TH_GEN_SAMPLE_STREAM + opts->first + k0 + k;
            /* rows beyond the count in a last, partial batch still need a
             * valid class */
            const size_t j = k < nb ? k0 + k : k0;
            if (p->n_classes)
                cls[k] = opts->classes ? opts->classes[j]
                                       : (int)((opts->first + j) % p->n_classes);
        }
        /* A conditional computer's label units hold the class code in both
         * phases; the noise phase has no couplings, so they act only in the
         * computing phase. */
        th__gen_clamp_labels(p, m->dtype, cls, B, s->x, clamped);
        th_run r = th_run_default();
        r.dt = p->dt;
        r.n_steps = steps;
        r.clamped = p->n_classes ? clamped : NULL;
        r.bath = opts->bath;
        if (opts->phase1 == TH_GEN_PHASE1_EXACT) {
            /* The equilibrium the Euler phase approaches, drawn; the
             * computing phase then starts at the same step of the noise
             * streams as after the Euler phase. */
            if ((rc = th_batch_draw_wells(noise, s, r.clamped)) != TH_OK) goto done;
            s->step = steps;
            s->t = (double)steps * p->dt;
        } else if ((rc = th__langevin_run_states(noise, s, &r)) != TH_OK) {
            goto done;
        }
        memset(s->heat, 0, B * sizeof(double));
        memset(s->work, 0, B * sizeof(double));
        r.precision = opts->precision; /* the computing phase's products */
        if (k0 == 0 && opts->n_snaps) {
            r.snap_steps = opts->snap_steps;
            r.n_snaps = opts->n_snaps;
            r.snap_out.v = snaps;
        }
        if ((rc = th_langevin_run(m, s, &r)) != TH_OK) goto done;
        for (size_t k = 0; k < nb; k++) {
            for (size_t i = 0; i < nv; i++)
                out[(k0 + k) * nv + i] = (float)th_ptr_get(s->x, m->dtype, k * n + i);
            if (heat) heat[k0 + k] = s->heat[k];
        }
        if (k0 == 0 && opts->n_snaps) {
            th_ptr sp = {.v = snaps};
            for (size_t j = 0; j < opts->n_snaps; j++)
                for (size_t k = 0; k < opts->snap_traj; k++)
                    for (size_t i = 0; i < nv; i++)
                        opts->snap_out[(j * opts->snap_traj + k) * nv + i] =
                            (float)th_ptr_get(sp, m->dtype, (j * B + k) * n + i);
        }
        if (opts->progress && opts->progress(k0 + nb, count, opts->progress_ctx)) {
            rc = th__fail(TH_ECANCELED, "sampling stopped after %zu of %zu samples", k0 + nb,
                          count);
            goto done;
        }
    }
done:
    th__free(snaps);
    th__free(clamped);
    th__free(cls);
    th_batch_free(s);
    th_model_free(noise);
    return rc;
}
