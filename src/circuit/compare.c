/* compare.c - ngspice's run against thermo's own simulation of the same
 * computer: the statistics of both sides with their standard errors, and
 * the verdict. The SPU's comparison is in compare_spu.c.
 *
 * thermo simulates at the netlist's noise step NT (the model's dt unless the
 * export chose another), so that both sides discretise the same dynamics at
 * the same resolution: Euler-Maruyama overestimates a unit's variance by
 * about a dt / 2 (a its relaxation rate), and TRNOISE's interpolated noise
 * underestimates it by about (7/15) a NT (docs/spice.md); at the defaults
 * both are below 1%, inside the error bars of a few hundred copies. */
#include "circuit/circuit_internal.h"

#include <math.h>
#include <string.h>

th_circuit_compare_opts th_circuit_compare_opts_default(void)
{
    th_circuit_compare_opts o;
    memset(&o, 0, sizeof o);
    o.trajectories = 4096;
    o.spu_time = 0.0;
    o.seed = 1;
    o.threshold = 4.5;
    o.chi2_limit = 3.0;
    return o;
}

void th__circuit_sample_of(const double *x, size_t n, size_t stride, th__circuit_sample *s)
{
    TH_ASSERT(x && s && n >= 2);
    double m = 0.0;
    for (size_t k = 0; k < n; k++) m += x[k * stride];
    m /= (double)n;
    double m2 = 0.0, m4 = 0.0;
    for (size_t k = 0; k < n; k++) {
        const double e = x[k * stride] - m, e2 = e * e;
        m2 += e2;
        m4 += e2 * e2;
    }
    const double N = (double)n;
    s->n = n;
    s->mean = m;
    s->var = m2 / (N - 1.0);
    s->m4 = m4 / N;
    s->mean_se = sqrt(s->var / N);
    /* Var(s^2) = (mu4 - sigma^4 (n - 3) / (n - 1)) / n, with the sample
     * moments in place of the true ones. */
    s->var_se = sqrt(fmax(0.0, s->m4 - s->var * s->var * (N - 3.0) / (N - 1.0)) / N);
}

th_circuit_report *th__circuit_report_new(const th_circuit *c, const char *model, size_t n)
{
    th_circuit_report *r = calloc(1, sizeof *r);
    if (r) r->q = calloc(n ? n : 1, sizeof *r->q);
    if (!r || !r->q) {
        th_circuit_report_free(r);
        th__fail(TH_ENOMEM, "comparison of %zu quantities: out of memory", n);
        return NULL;
    }
    r->info = c->info;
    snprintf(r->model, sizeof r->model, "%s", model);
    r->n = n;
    for (size_t k = 0; k < n; k++) {
        r->q[k].ideal = r->q[k].expected = NAN;
        r->q[k].z = r->q[k].z_thermo = NAN;
    }
    r->heat_balance = NAN;
    return r;
}

void th_circuit_report_free(th_circuit_report *r)
{
    if (!r) return;
    free(r->q);
    free(r);
}

/* Quantities with no exact value: ngspice's sample of Q copies against
 * thermo's of many more trajectories. Each side shows its own standard
 * error; z asks whether ngspice's sample could come from thermo's
 * distribution, so its error is the one thermo's moments predict for a
 * sample of ngspice's size (ngspice's own estimate of its spread, from a few
 * dozen copies, is itself too noisy: a low variance would come with a low
 * error bar and a large |z|). */
static void set_name(th_circuit_quantity *q, const char *name, double t, double t_se, double s,
                     double s_se, double null_se)
{
    snprintf(q->name, sizeof q->name, "%s", name);
    q->thermo = t;
    q->thermo_se = t_se;
    q->spice = s;
    q->spice_se = s_se;
    const double se = sqrt(t_se * t_se + null_se * null_se);
    q->z = se > 0 ? (s - t) / se : (s == t ? 0.0 : HUGE_VAL);
}

/* The variance a sample of n values of thermo's distribution would have. */
static double null_var_se(const th__circuit_sample *t, size_t n)
{
    const double N = (double)n;
    return sqrt(fmax(0.0, t->m4 - t->var * t->var * (N - 3.0) / (N - 1.0)) / N);
}

static void compare_means(th_circuit_quantity *q, const char *name, const th__circuit_sample *t,
                          const th__circuit_sample *s)
{
    set_name(q, name, t->mean, t->mean_se, s->mean, s->mean_se, sqrt(t->var / (double)s->n));
}

static void compare_variances(th_circuit_quantity *q, const char *name,
                              const th__circuit_sample *t, const th__circuit_sample *s)
{
    set_name(q, name, t->var, t->var_se, s->var, s->var_se, null_var_se(t, s->n));
}

/* Standard deviations, their errors by the delta method, sd_se = var_se / 2 sd. */
static void compare_sds(th_circuit_quantity *q, const char *name, const th__circuit_sample *t,
                        const th__circuit_sample *s)
{
    const double tsd = sqrt(t->var), ssd = sqrt(s->var);
    set_name(q, name, tsd, tsd > 0 ? t->var_se / (2 * tsd) : 0, ssd,
             ssd > 0 ? s->var_se / (2 * ssd) : 0, tsd > 0 ? null_var_se(t, s->n) / (2 * tsd) : 0);
}

static void add_z(th_circuit_report *r, double z)
{
    if (isnan(z)) return;
    r->chi2 += z * z;
    r->max_abs_z = fmax(r->max_abs_z, fabs(z));
    r->within_2se += fabs(z) <= 2.0;
    r->n_z++;
}

void th__circuit_report_finish(th_circuit_report *r, const th_circuit_compare_opts *co)
{
    r->chi2 = r->max_abs_z = 0.0;
    r->within_2se = r->n_z = 0;
    for (size_t k = 0; k < r->n; k++) {
        add_z(r, r->q[k].z);
        add_z(r, r->q[k].z_thermo);
    }
    r->chi2 = r->n_z ? r->chi2 / (double)r->n_z : 0.0;
    r->threshold = co->threshold;
    r->chi2_limit = co->chi2_limit;
    r->agree = r->n_z > 0 && r->max_abs_z <= co->threshold && r->chi2 <= co->chi2_limit;
}

/* ------------------------------------------------- rows of ngspice data */

/* The row at time t (on the output grid), or TH_EFORMAT. */
static int row_at(const th_circuit_data *d, double t, double tol, const char *what, size_t *row)
{
    for (size_t k = 0; k < d->n_rows; k++)
        if (fabs(d->time[k] - t) <= tol) {
            *row = k;
            return TH_OK;
        }
    return th__fail(TH_EFORMAT, "ngspice data: no row at the %s, t = %g s (rows from %g to %g s)",
                    what, t, d->time[0], d->time[d->n_rows - 1]);
}

/* The model state x (n) of copy q (over all runs) at row k: moving units
 * from the data, clamped ones from the netlist's sources. */
static void state_at(const th_circuit *c, const th_circuit_data *d, size_t q, size_t k, double *x)
{
    const th_circuit_info *I = &c->info;
    const size_t run = q / I->copies, copy = q % I->copies;
    const double *v = d->v + (run * d->n_rows + k) * d->n_vectors + copy * I->units;
    for (size_t u = 0; u < I->units; u++) x[c->unit_index[u]] = v[u] / I->v0;
    for (size_t j = 0; j < I->clamped; j++)
        x[c->clamp_index[j]] = c->clamp_volts[copy * I->clamped + j] / I->v0;
}

/* dV/dx (n) and V at x, in double (the circuit's F / V0, science.md
 * section 10). */
static double force(const th_model *m, const double *x, double *F)
{
    const size_t n = m->n;
    double V = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double J2 = th_ptr_get(m->J2, m->dtype, i), J3 = th_ptr_get(m->J3, m->dtype, i);
        const double J4 = th_ptr_get(m->J4, m->dtype, i), b = th_ptr_get(m->b, m->dtype, i);
        const double xi = x[i];
        double pair = 0.0;
        for (size_t j = 0; j < n; j++) pair += th_ptr_get(m->J, m->dtype, i * n + j) * x[j];
        F[i] = 2 * J2 * xi + 3 * J3 * xi * xi + 4 * J4 * xi * xi * xi + b + pair;
        V += J2 * xi * xi + J3 * xi * xi * xi + J4 * xi * xi * xi * xi + b * xi + 0.5 * xi * pair;
    }
    return V;
}

/* --------------------------------------------------------------- generator */

/* thermo's side: B trajectories of th_gen_sample's protocol at step dt:
 * the uncoupled wells (no couplings, no biases) for `steps`, then the model
 * for `steps`. x_end (B, n), heat (B) of the second phase in kT. */
static int thermo_generator(const th__circuit_source *src, const th_circuit_opts *o,
                            const th_circuit_compare_opts *co, double dt, size_t steps,
                            double *x_end, double *heat)
{
    const th_model *m = src->model;
    const size_t n = m->n, B = co->trajectories, C = src->gp.n_classes;
    size_t sizes[TH_MAX_GROUPS];
    for (size_t g = 0; g < m->n_groups; g++) sizes[g] = m->group_start[g + 1] - m->group_start[g];
    th_model *noise = th_model_alloc(m->n_groups, sizes, m->dtype);
    th_batch *s = noise ? th_batch_alloc(m, B, co->seed) : NULL;
    unsigned char *clamped = calloc(n, 1);
    double *h0 = malloc(B * sizeof *h0);
    int rc = TH_OK;
    if (!noise || !s || !clamped || !h0) {
        rc = th__fail(TH_ENOMEM, "thermo's %zu trajectories: out of memory", B);
        goto done;
    }
    const size_t es = th_dtype_size(m->dtype);
    memcpy(noise->J2.v, m->J2.v, n * es);
    memcpy(noise->J3.v, m->J3.v, n * es);
    memcpy(noise->J4.v, m->J4.v, n * es);
    noise->kT = m->kT;
    noise->mu = m->mu;
    const size_t first_label = src->gp.n_visible + src->gp.n_hidden;
    th_ptr x = th_batch_states(s);
    for (size_t k = 0; k < B; k++) {
        /* the sampler's streams: the visible units are th_gen_sample's */
        th_batch_set_stream(s, k, TH_GEN_SAMPLE_STREAM + k);
        if (C) th_ptr_set(x, m->dtype, k * n + first_label + o->label, 1.0);
    }
    for (size_t c = 0; c < C; c++) clamped[first_label + c] = 1;
    th_run r = th_run_default();
    r.dt = dt;
    r.n_steps = steps;
    r.clamped = C ? clamped : NULL;
    if ((rc = th_langevin_run(noise, s, &r)) != TH_OK) goto done;
    memcpy(h0, th_batch_heat(s), B * sizeof *h0);
    if ((rc = th_langevin_run(m, s, &r)) != TH_OK) goto done;
    for (size_t k = 0; k < B; k++) {
        heat[k] = th_batch_heat(s)[k] - h0[k];
        for (size_t i = 0; i < n; i++) x_end[k * n + i] = th_ptr_get(x, m->dtype, k * n + i);
    }
done:
    th_batch_free(s);
    th_model_free(noise);
    free(clamped);
    free(h0);
    return rc;
}

/* ngspice's side: the end states x_end (Q, n) of the Q copies and the heat
 * of the computing phase, by the trapezoidal (Stratonovich) path integral
 * -sum (F(x_a) + F(x_b)) / 2 . (x_b - x_a) over the rows and by the energy
 * balance V(x_switch) - V(x_end), both in kT. */
static int spice_generator(const th_model *m, const th_circuit *c, const th_circuit_data *d,
                           double *x_end, double *heat, double *balance)
{
    const th_circuit_info *I = &c->info;
    const size_t n = m->n, Q = d->n_runs * I->copies;
    size_t k0 = 0, k1 = 0;
    int rc = row_at(d, I->t_switch, 1e-3 * I->noise_step, "switch-on", &k0);
    if (rc == TH_OK) rc = row_at(d, I->t_stop, 1e-3 * I->noise_step, "end", &k1);
    if (rc != TH_OK) return rc;
    double *xa = malloc(4 * n * sizeof *xa);
    if (!xa) return th__fail(TH_ENOMEM, "ngspice's heat: out of memory");
    double *xb = xa + n, *Fa = xb + n, *Fb = Fa + n;
    for (size_t q = 0; q < Q; q++) {
        state_at(c, d, q, k0, xa);
        const double V0 = force(m, xa, Fa);
        double path = 0.0, V1 = V0;
        for (size_t k = k0 + 1; k <= k1; k++) {
            state_at(c, d, q, k, xb);
            V1 = force(m, xb, Fb);
            for (size_t i = 0; i < n; i++) path -= 0.5 * (Fa[i] + Fb[i]) * (xb[i] - xa[i]);
            memcpy(xa, xb, n * sizeof *xa);
            memcpy(Fa, Fb, n * sizeof *Fa);
        }
        heat[q] = path / m->kT;
        balance[q] = (V0 - V1) / m->kT;
        memcpy(x_end + q * n, xa, n * sizeof *xa);
    }
    free(xa);
    return TH_OK;
}

static int compare_generator(const th__circuit_source *src, const th_circuit_opts *o,
                             const th_circuit *c, const th_circuit_data *d,
                             const th_circuit_compare_opts *co, th_circuit_report **out)
{
    const th_circuit_info *I = &c->info;
    const th_model *m = src->model;
    const size_t n = m->n, B = co->trajectories, Q = d->n_runs * I->copies;
    if (Q < 2 || B < 2)
        return th__fail(TH_EINVAL, "%zu ngspice copies and %zu thermo trajectories: expected at "
                        "least 2 of each for error bars", Q, B);
    const double dt = I->noise_step / I->tau0;
    const size_t steps = (size_t)nearbyint((I->t_stop - I->t_switch) / I->noise_step);
    double *tx = malloc((B * n + B + Q * n + 2 * Q) * sizeof *tx);
    th_circuit_report *r = th__circuit_report_new(c, src->path, 3 + 2 * I->units);
    int rc = tx && r ? TH_OK : th__fail(TH_ENOMEM, "comparison: out of memory");
    double *th = tx + B * n, *sx = th + B, *sh = sx + Q * n, *sb = sh + Q;
    if (rc == TH_OK) rc = thermo_generator(src, o, co, dt, steps, tx, th);
    if (rc == TH_OK) rc = spice_generator(m, c, d, sx, sh, sb);
    if (rc != TH_OK) {
        free(tx);
        th_circuit_report_free(r);
        return rc;
    }
    th__circuit_sample ts, ss;
    th__circuit_sample_of(th, B, 1, &ts);
    th__circuit_sample_of(sh, Q, 1, &ss);
    compare_means(&r->q[0], "heat, computing phase (kT)", &ts, &ss);
    th__circuit_sample_of(sb, Q, 1, &ss);
    r->heat_balance = ss.mean;
    /* Pooled over the moving units, per trajectory: the mean state and the
     * mean square, whose standard errors come from their spread. */
    for (size_t pass = 0; pass < 2; pass++) {
        double *pt = malloc((B + Q) * sizeof *pt);
        if (!pt) {
            rc = th__fail(TH_ENOMEM, "comparison: out of memory");
            break;
        }
        for (size_t k = 0; k < B + Q; k++) {
            const double *x = k < B ? tx + k * n : sx + (k - B) * n;
            double acc = 0.0;
            for (size_t u = 0; u < I->units; u++) {
                const double xi = x[c->unit_index[u]];
                acc += pass ? xi * xi : xi;
            }
            pt[k] = acc / (double)I->units;
        }
        th__circuit_sample_of(pt, B, 1, &ts);
        th__circuit_sample_of(pt + B, Q, 1, &ss);
        compare_means(&r->q[1 + pass],
                      pass ? "mean of x^2 over the units" : "mean of x over the units", &ts, &ss);
        free(pt);
    }
    for (size_t u = 0; u < I->units && rc == TH_OK; u++) {
        const size_t i = c->unit_index[u];
        char name[48];
        th__circuit_sample_of(tx + i, B, n, &ts);
        th__circuit_sample_of(sx + i, Q, n, &ss);
        snprintf(name, sizeof name, "mean u%zu", i);
        compare_means(&r->q[3 + 2 * u], name, &ts, &ss);
        snprintf(name, sizeof name, "variance u%zu", i);
        compare_variances(&r->q[4 + 2 * u], name, &ts, &ss);
    }
    free(tx);
    if (rc != TH_OK) {
        th_circuit_report_free(r);
        return rc;
    }
    r->n_main = 3;
    r->spice_samples = Q;
    r->thermo_samples = B;
    r->thermo_dt = dt;
    *out = r;
    return TH_OK;
}

/* ----------------------------------------------------------------- neurons */

static int compare_neuron(const th__circuit_source *src, const th_circuit_opts *o,
                          const th_circuit *c, const th_circuit_data *d,
                          const th_circuit_compare_opts *co, th_circuit_report **out)
{
    const th_circuit_info *I = &c->info;
    const double *z;
    size_t nz;
    th__circuit_inputs(o, &z, &nz);
    const size_t B = co->trajectories, K = o->copies, Q = d->n_runs * K;
    const size_t W = src->np.width, L = src->np.n_layers;
    if (Q < 2 || B < 2)
        return th__fail(TH_EINVAL, "%zu ngspice copies and %zu thermo runs per input: expected "
                        "at least 2 of each for error bars", Q, B);
    th_neuron_params p = src->np;
    p.dt = I->noise_step / I->tau0;
    const size_t steps = th_neuron_steps(&p, p.t_f);
    size_t k_end = 0;
    int rc = row_at(d, I->t_stop, 1e-3 * I->noise_step, "end", &k_end);
    if (rc != TH_OK) return rc;
    th_circuit_report *r = th__circuit_report_new(c, src->path, 2 * nz);
    double *ty = malloc((nz * B + nz * Q + nz * W + src->model->n) * sizeof *ty);
    if (!r || !ty) {
        th_circuit_report_free(r);
        free(ty);
        return th__fail(TH_ENOMEM, "comparison: out of memory");
    }
    double *sy = ty + nz * B, *means = sy + nz * Q, *x = means + nz * W;
    /* thermo: one run per call and input, run b on streams b nz .. */
    for (size_t b = 0; b < B && rc == TH_OK; b++) {
        rc = th_neuron_run(&p, src->net, z, nz, 1, co->seed, (uint64_t)b * nz, &steps, 1,
                           TH_KERNEL_FAST, means);
        double y[TH__CIRCUIT_MAX_INPUTS];
        if (rc == TH_OK) th_neuron_readout(src->net, means, nz, y);
        for (size_t j = 0; j < nz && rc == TH_OK; j++) ty[j * B + b] = y[j];
    }
    /* ngspice: copy k of a run holds input k / K; y from the last layer,
     * model units 1 + (L - 1) W .. */
    for (size_t q = 0; q < d->n_runs * I->copies && rc == TH_OK; q++) {
        const size_t copy = q % I->copies, j = copy / K, slot = (q / I->copies) * K + copy % K;
        state_at(c, d, q, k_end, x);
        double y = 0.0;
        for (size_t i = 0; i < W; i++) y += src->net->f[i] * x[1 + (L - 1) * W + i];
        sy[j * Q + slot] = y;
    }
    for (size_t j = 0; j < nz && rc == TH_OK; j++) {
        th__circuit_sample ts, ss;
        char name[48];
        th__circuit_sample_of(ty + j * B, B, 1, &ts);
        th__circuit_sample_of(sy + j * Q, Q, 1, &ss);
        snprintf(name, sizeof name, "output y, mean (z = %g)", z[j]);
        compare_means(&r->q[2 * j], name, &ts, &ss);
        snprintf(name, sizeof name, "output y, sd (z = %g)", z[j]);
        compare_sds(&r->q[2 * j + 1], name, &ts, &ss);
    }
    free(ty);
    if (rc != TH_OK) {
        th_circuit_report_free(r);
        return rc;
    }
    r->n_main = 2 * nz;
    r->spice_samples = Q;
    r->thermo_samples = B;
    r->thermo_dt = p.dt;
    *out = r;
    return TH_OK;
}

int th_circuit_compare(const char *model_path, const th_circuit_opts *o, const th_circuit *c,
                       const th_circuit_data *d, const th_circuit_compare_opts *co,
                       th_circuit_report **out)
{
    TH_ASSERT(model_path && o && c && d && co && out);
    *out = NULL;
    if (d->n_vectors != c->info.copies * c->info.units)
        return th__fail(TH_EINVAL, "ngspice data of %zu vectors for a netlist of %zu: read it "
                        "with this netlist", d->n_vectors, c->info.copies * c->info.units);
    if (!(co->threshold > 0) || !(co->chi2_limit > 0))
        return th__fail(TH_EINVAL, "threshold %g, chi2 limit %g: expected both > 0",
                        co->threshold, co->chi2_limit);
    th__circuit_source src;
    int rc = th__circuit_source_load(model_path, o, &src);
    if (rc != TH_OK) return rc;
    if (src.kind != c->info.kind) {
        rc = th__fail(TH_EINVAL, "%s holds a %s, the netlist a %s", model_path,
                      th_circuit_kind_name(src.kind), th_circuit_kind_name(c->info.kind));
    } else if (src.kind == TH_CIRCUIT_GENERATOR) {
        rc = compare_generator(&src, o, c, d, co, out);
    } else if (src.kind == TH_CIRCUIT_NEURON) {
        rc = compare_neuron(&src, o, c, d, co, out);
    } else {
        th_circuit_report *r = th__circuit_report_new(c, model_path, src.d * (src.d + 1) / 2);
        rc = r ? th__circuit_compare_spu(&src, c, d, co, r) : TH_ENOMEM;
        if (rc == TH_OK)
            *out = r;
        else
            th_circuit_report_free(r);
    }
    if (rc == TH_OK) th__circuit_report_finish(*out, co);
    th__circuit_source_clear(&src);
    return rc;
}
