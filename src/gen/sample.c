/* sample.c - generation: thermal noise in, images out, by the computer's
 * own Langevin dynamics with its trained couplings and no neural network
 * (science.md section 2): time-independent for the paper's computer,
 * piecewise constant over the segments of a time-dependent protocol. The
 * computing phase runs segment after segment on one batch, so the noise
 * streams continue across the switches; the readout may integrate the last
 * steps; the ledger counts the work the switches do. */
#include "gen_internal.h"

#include <string.h>

th_gen_sample_opts th_gen_sample_opts_default(void)
{
    th_gen_sample_opts o;
    memset(&o, 0, sizeof o);
    o.batch = 256; /* larger batches run the products nearer SGEMM's peak */
    return o;
}


/* ------------------------------------------------------------- ledger */

/* Work space of the energy ledger: the states in double, a difference of
 * couplings and its product with the states. */
struct ledger {
    size_t n, B;
    double *X;   /* (B, n) */
    double *D;   /* (n, n) J_to - J_from */
    double *d;   /* (n) b_to - b_from */
    double *F;   /* (B, n) X D */
};

static void ledger_free(struct ledger *L)
{
    th__free(L->X);
    th__free(L->D);
    th__free(L->d);
    th__free(L->F);
}

static int ledger_alloc(struct ledger *L, size_t n, size_t B)
{
    *L = (struct ledger){.n = n, .B = B};
    L->X = th__alloc(B * n * sizeof(double));
    L->D = th__alloc(n * n * sizeof(double));
    L->d = th__alloc(n * sizeof(double));
    L->F = th__alloc(B * n * sizeof(double));
    if (L->X && L->D && L->d && L->F) return TH_OK;
    ledger_free(L);
    return th__fail(TH_ENOMEM, "out of memory for the energy ledger");
}

/* out[k] += (V_to(x_k) - V_from(x_k)) / kT for the batch's states, the two
 * models sharing their on-site terms, so the change is the couplings' and
 * biases': sum_{i<j} D_ij x_i x_j + d . x = x.Dx / 2 + d . x. from NULL:
 * the uncoupled wells (no couplings, no biases). In double; the product is
 * thermo's, whose bits do not depend on the threads. */
static void add_switch_energy(struct ledger *L, const th_model *from, const th_model *to,
                              th_ptr x, th_dtype dtype, double kT, double *out)
{
    const size_t n = L->n, B = L->B;
    for (size_t i = 0; i < B * n; i++) L->X[i] = th_ptr_get(x, dtype, i);
    for (size_t i = 0; i < n * n; i++)
        L->D[i] = th_ptr_get(to->J, dtype, i) - (from ? th_ptr_get(from->J, dtype, i) : 0.0);
    for (size_t i = 0; i < n; i++)
        L->d[i] = th_ptr_get(to->b, dtype, i) - (from ? th_ptr_get(from->b, dtype, i) : 0.0);
    th_matmul_f64(0, 0, B, n, n, 1.0, L->X, n, L->D, n, 0.0, L->F, n);
    for (size_t k = 0; k < B; k++) {
        double pair = 0, lin = 0;
        for (size_t i = 0; i < n; i++) {
            pair += L->X[k * n + i] * L->F[k * n + i];
            lin += L->d[i] * L->X[k * n + i];
        }
        out[k] += (0.5 * pair + lin) / kT;
    }
}

/* out[k] = the on-site energy sum_i J2 x^2 + J3 x^3 + J4 x^4 of state k, in
 * kT (the terms every segment and the wells share). */
static void onsite_energy(const th_model *m, th_ptr x, size_t B, double *out)
{
    const size_t n = m->n;
    for (size_t k = 0; k < B; k++) {
        double v = 0;
        for (size_t i = 0; i < n; i++) {
            const double xi = th_ptr_get(x, m->dtype, k * n + i);
            v += xi * xi * (th_ptr_get(m->J2, m->dtype, i) + th_ptr_get(m->J3, m->dtype, i) * xi +
                            th_ptr_get(m->J4, m->dtype, i) * xi * xi);
        }
        out[k] = v / m->kT;
    }
}

/* ------------------------------------------------------------ readout */

/* The integrating detector: a run's progress callback after each step adds
 * the visible units of the states after the last `window` steps of the
 * phase. */
struct readout {
    th_batch *s;
    size_t nv, n, steps, window;
    size_t offset;   /* generation steps before this run */
    double *sum;     /* (B, nv) */
};

static int readout_step(size_t done, size_t total, void *ctx)
{
    (void)total;
    struct readout *ro = ctx;
    const size_t g = ro->offset + done; /* the state after generation step g (1..K) */
    if (g + ro->window <= ro->steps) return 0;
    th_batch *s = ro->s;
    for (size_t k = 0; k < s->b; k++)
        for (size_t i = 0; i < ro->nv; i++)
            ro->sum[k * ro->nv + i] += th_ptr_get(s->x, s->dtype, k * ro->n + i);
    return 0;
}

/* ------------------------------------------------------------ sampling */

static int check_sample_opts(const th_gen_params *p, size_t count,
                             const th_gen_sample_opts *opts)
{
    int rc = TH_OK;
    if (opts->classes && (rc = th__gen_check_sample_classes(p, opts->classes, count)) != TH_OK)
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
    const size_t steps = th_gen_steps(p);
    for (size_t j = 0; j < opts->n_snaps; j++)
        if (opts->snap_steps[j] > steps || (j && opts->snap_steps[j] <= opts->snap_steps[j - 1]))
            return th__fail(TH_EINVAL, "snapshot step %zu: expected ascending steps up to the %zu "
                            "of the computing phase", opts->snap_steps[j], steps);
    if (opts->readout_window > steps)
        return th__fail(TH_EINVAL, "readout window %zu steps: at most the %zu of the computing "
                        "phase", opts->readout_window, steps);
    return TH_OK;
}

/* Everything one batch of the computing phase needs. */
struct phase2 {
    const th_gen_protocol *pr;
    const th_gen_params *p;
    const th_gen_sample_opts *opts;
    th_run r;               /* the phase's settings (steps and snapshots set per segment) */
    void *snaps;            /* (n_snaps, B, n) or NULL */
    size_t *snap_local;     /* (n_snaps) a segment's snapshot steps */
    struct readout ro;
    struct ledger L;
    double *work, *dV;      /* (B) */
};

/* The computing phase of the batch s, segment after segment. */
static int run_phase2(struct phase2 *ph, th_batch *s, const th_model *wells, int snapshots)
{
    const th_gen_protocol *pr = ph->pr;
    const th_gen_params *p = ph->p;
    const th_gen_sample_opts *o = ph->opts;
    const size_t B = s->b, es = th_dtype_size(s->dtype), S = pr->segments;
    const int ledger = ph->work != NULL;
    if (ledger) {
        onsite_energy(wells, s->x, B, ph->dV);
        for (size_t k = 0; k < B; k++) {
            ph->dV[k] = -ph->dV[k];
            ph->work[k] = 0;
        }
        add_switch_energy(&ph->L, NULL, pr->seg[0], s->x, s->dtype, wells->kT, ph->work);
    }
    if (ph->ro.sum) memset(ph->ro.sum, 0, B * p->n_visible * sizeof(double));
    size_t next_snap = 0;
    for (size_t seg = 0; seg < S; seg++) {
        const size_t g0 = th_gen_segment_begin(p, seg), g1 = th_gen_segment_begin(p, seg + 1);
        th_run r = ph->r;
        r.n_steps = g1 - g0;
        if (snapshots) {
            /* this segment's snapshots: steps g0 < j <= g1 (and 0 in the first) */
            const size_t first = next_snap;
            while (next_snap < o->n_snaps && o->snap_steps[next_snap] <= g1) {
                ph->snap_local[next_snap - first] = o->snap_steps[next_snap] - g0;
                next_snap++;
            }
            r.n_snaps = next_snap - first;
            r.snap_steps = ph->snap_local;
            r.snap_out.v = (char *)ph->snaps + first * B * s->n * es;
        }
        if (ph->ro.sum) {
            ph->ro.offset = g0;
            r.progress = readout_step;
            r.progress_ctx = &ph->ro;
            r.progress_every = 1;
        }
        int rc = th_langevin_run(pr->seg[seg], s, &r);
        if (rc != TH_OK) return rc;
        if (ledger && seg + 1 < S)
            add_switch_energy(&ph->L, pr->seg[seg], pr->seg[seg + 1], s->x, s->dtype,
                              wells->kT, ph->work);
    }
    if (ledger) {
        /* V_end - V_start = U(x_end) - U(x_start) + the last segment's
         * couplings and biases at x_end; F is free until the next switch */
        onsite_energy(wells, s->x, B, ph->L.F);
        for (size_t k = 0; k < B; k++) ph->dV[k] += ph->L.F[k];
        add_switch_energy(&ph->L, NULL, pr->seg[S - 1], s->x, s->dtype, wells->kT, ph->dV);
    }
    return TH_OK;
}

int th_gen_sample(const th_model *m, const th_gen_params *p, size_t count,
                  const th_gen_sample_opts *opts, float *out, double *heat)
{
    TH_ASSERT(m != NULL && p != NULL);
    int rc = th__gen_single_segment(p, "th_gen_sample");
    if (rc != TH_OK) return rc;
    th_model *slot;
    const th_gen_protocol view = th__gen_protocol_view(&slot, m);
    return th_gen_protocol_sample(&view, p, count, opts, out, heat);
}

int th_gen_protocol_sample(const th_gen_protocol *pr, const th_gen_params *p, size_t count,
                           const th_gen_sample_opts *opts, float *out, double *heat)
{
    TH_ASSERT(pr != NULL && p != NULL && opts != NULL && out != NULL);
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    if ((rc = th__gen_protocol_check(pr, p, "the model")) != TH_OK) return rc;
    if ((rc = check_sample_opts(p, count, opts)) != TH_OK) return rc;
    const th_model *m = pr->seg[0];
    if ((rc = th__precision_check(opts->precision, m->dtype == TH_F64, 0)) != TH_OK) return rc;
    for (size_t seg = 0; seg < pr->segments; seg++)
        if ((rc = th_model_validate(pr->seg[seg])) != TH_OK) return rc;

    const size_t n = m->n, nv = p->n_visible, steps = th_gen_steps(p);
    const size_t es = th_dtype_size(m->dtype);
    const size_t B = opts->batch < count ? opts->batch : count;
    const int ledger = opts->work || opts->potential_change;
    struct phase2 ph = {.pr = pr, .p = p, .opts = opts};
    /* The uncoupled wells of the noise phase: same on-site terms, no
     * couplings or biases. */
    th_model *noise = th__gen_uncoupled(p, m->dtype);
    th_batch *s = noise ? th_batch_alloc(m, B, p->seed) : NULL;
    ph.snaps = opts->n_snaps ? th__alloc(opts->n_snaps * B * n * es) : NULL;
    ph.snap_local = opts->n_snaps ? th__alloc(opts->n_snaps * sizeof(size_t)) : NULL;
    ph.ro = (struct readout){.s = s, .nv = nv, .n = n, .steps = steps,
                             .window = opts->readout_window};
    ph.ro.sum = opts->readout_window ? th__alloc(B * nv * sizeof(double)) : NULL;
    if (ledger) {
        ph.work = th__alloc(B * sizeof(double));
        ph.dV = th__alloc(B * sizeof(double));
    }
    unsigned char *clamped = th__alloc(n);
    int *cls = th__alloc(B * sizeof(int));
    if (!noise || !s || (opts->n_snaps && (!ph.snaps || !ph.snap_local)) || !clamped || !cls ||
        (opts->readout_window && !ph.ro.sum) || (ledger && (!ph.work || !ph.dV))) {
        rc = noise && s ? th__fail(TH_ENOMEM, "out of memory for sampling") : TH_ENOMEM;
        goto done;
    }
    if (ledger && (rc = ledger_alloc(&ph.L, n, B)) != TH_OK) goto done;
    memcpy(noise->J2.v, m->J2.v, n * es);
    memcpy(noise->J3.v, m->J3.v, n * es);
    memcpy(noise->J4.v, m->J4.v, n * es);
    noise->kT = m->kT;
    noise->mu = m->mu;

    for (size_t k0 = 0; k0 < count; k0 += B) {
        const size_t nb = count - k0 < B ? count - k0 : B;
        if (nb < s->b) {
            /* The last, partial batch runs only its own trajectories: each
             * sample's noise is its own stream, so the smaller batch changes
             * no bits (1000 samples in batches of 256 ran 1024). */
            th_batch *last = th_batch_alloc(m, nb, p->seed);
            if (!last) {
                rc = TH_ENOMEM;
                goto done;
            }
            th_batch_free(s);
            s = ph.ro.s = last;
            ph.L.B = nb; /* the ledger's rows (its buffers hold B) */
        }
        th_batch_reset(s);
        for (size_t k = 0; k < nb; k++) {
            s->stream[k] = TH_GEN_SAMPLE_STREAM + opts->first + k0 + k;
            const size_t j = k0 + k;
            if (p->n_classes)
                cls[k] = th_gen_style_code(p, opts->classes ? opts->classes[j]
                                              : (int)((opts->first + j) % th_gen_classes(p)),
                                           opts->first + j);
        }
        /* A conditional computer's label units hold the class code in both
         * phases; the noise phase has no couplings, so they act only in the
         * computing phase. */
        th__gen_clamp_labels(p, m->dtype, cls, nb, s->x, clamped);
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
        memset(s->heat, 0, nb * sizeof(double));
        memset(s->work, 0, nb * sizeof(double));
        r.precision = opts->precision; /* the computing phase's products */
        ph.r = r;
        if ((rc = run_phase2(&ph, s, noise, k0 == 0 && opts->n_snaps)) != TH_OK) goto done;
        for (size_t k = 0; k < nb; k++) {
            for (size_t i = 0; i < nv; i++)
                out[(k0 + k) * nv + i] =
                    ph.ro.sum ? (float)(ph.ro.sum[k * nv + i] / (double)opts->readout_window)
                              : (float)th_ptr_get(s->x, m->dtype, k * n + i);
            if (heat) heat[k0 + k] = s->heat[k];
            if (opts->work) opts->work[k0 + k] = ph.work[k];
            if (opts->potential_change) opts->potential_change[k0 + k] = ph.dV[k];
        }
        if (k0 == 0 && opts->n_snaps) {
            th_ptr sp = {.v = ph.snaps};
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
    if (ledger) ledger_free(&ph.L);
    th__free(ph.snaps);
    th__free(ph.snap_local);
    th__free(ph.ro.sum);
    th__free(ph.work);
    th__free(ph.dV);
    th__free(clamped);
    th__free(cls);
    th_batch_free(s);
    th_model_free(noise);
    return rc;
}
