/* simulate.c - a quick simulation of a model built from a few numbers
 * (thermo simulate): random couplings on allowed pairs, a batch of
 * trajectories, and the numbers that say whether the run is sound: the
 * final states' moments, the heat, and the first law along each path. */
#include "core/internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* Normals drawn per call when filling couplings: a multiple of 4, the values
 * per Philox block, so chunk c starts at block c * CHUNK / 4. */
#define COUPLING_CHUNK 1024

static int draw_couplings(th_model *m, double sigma, uint64_t seed)
{
    double chunk[COUPLING_CHUNK];
    size_t next = COUPLING_CHUNK;
    uint64_t block = 0;
    const double scale = sigma / sqrt((double)m->n);
    for (size_t i = 0; i < m->n; i++) {
        for (size_t j = i + 1; j < m->n; j++) {
            if (!th_model_groups_couple(m, i, j)) continue;
            if (next == COUPLING_CHUNK) {
                th_normal_fill_f64(seed, TH_SIM_COUPLING_STREAM, block, chunk, COUPLING_CHUNK);
                block += COUPLING_CHUNK / 4;
                next = 0;
            }
            int rc = th_model_set_coupling(m, i, j, scale * chunk[next++]);
            if (rc != TH_OK) return rc;
        }
    }
    return TH_OK;
}

th_model *th_sim_model(const th_sim_spec *spec)
{
    TH_ASSERT(spec != NULL);
    if (!(spec->coupling >= 0) || !isfinite(spec->coupling)) {
        th__fail(TH_EINVAL, "coupling = %g: expected a finite sigma >= 0", spec->coupling);
        return NULL;
    }
    th_model *m = th_model_alloc(spec->n_groups, spec->size, spec->dtype);
    if (!m) return NULL;
    int rc = TH_OK;
    for (size_t k = 0; k < spec->n_links && rc == TH_OK; k++)
        rc = th_model_couple(m, spec->link[k][0], spec->link[k][1]);
    if (rc == TH_OK) {
        m->kT = spec->kT;
        m->mu = spec->mu;
        th_model_set_onsite(m, spec->J2, spec->J4);
        for (size_t i = 0; i < m->n; i++) th_ptr_set(m->b, m->dtype, i, spec->bias);
        if (spec->coupling > 0) rc = draw_couplings(m, spec->coupling, spec->seed);
    }
    if (rc == TH_OK) rc = th_model_validate(m);
    if (rc != TH_OK) {
        th_model_free(m);
        return NULL;
    }
    return m;
}

/* The moments of the final states (two passes: sum(x^2)/n - mean^2 would
 * cancel catastrophically when the mean is large against the spread) and
 * of the heat, and the first-law gaps. */
static void summarise(const th_model *m, const th_batch *s, size_t b, const double *v0,
                      const double *vT, th_sim_stats *out)
{
    const size_t count = b * m->n;
    double sum = 0, ss = 0;
    for (size_t i = 0; i < count; i++) sum += th_ptr_get(s->x, s->dtype, i);
    out->x_mean = sum / (double)count;
    for (size_t i = 0; i < count; i++) {
        double d = th_ptr_get(s->x, s->dtype, i) - out->x_mean;
        ss += d * d;
    }
    out->x_var = ss / (double)count;
    double hsum = 0, hss = 0;
    for (size_t k = 0; k < b; k++) {
        hsum += s->heat[k];
        double gap = fabs(s->heat[k] - (v0[k] - vT[k]) / m->kT);
        out->law_mean += gap / (double)b;
        if (gap > out->law_max) out->law_max = gap;
    }
    out->heat_mean = hsum / (double)b;
    for (size_t k = 0; k < b; k++) {
        double d = s->heat[k] - out->heat_mean;
        hss += d * d;
    }
    out->heat_sd = b > 1 ? sqrt(hss / (double)(b - 1)) : 0.0;
}

int th_sim_run(const th_model *m, size_t batch, uint64_t seed, const th_run *r,
               th_sim_stats *out)
{
    TH_ASSERT(m != NULL && r != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (batch == 0) return th__fail(TH_EINVAL, "batch = 0: expected at least 1 trajectory");
    int rc = TH_OK;
    th_batch *s = th_batch_alloc(m, batch, seed);
    double *v0 = calloc(batch, sizeof *v0); /* (batch) V(x0) */
    double *vT = calloc(batch, sizeof *vT); /* (batch) V(xT) */
    if (!s || !v0 || !vT) {
        rc = th__fail(TH_ENOMEM, "out of memory for %zu trajectories of %zu units", batch, m->n);
        goto done;
    }
    th_model_potential(m, NULL, 0.0, s->x, batch, v0);
    const double t0 = omp_get_wtime();
    rc = th_langevin_run(m, s, r);
    out->wall = omp_get_wtime() - t0;
    if (rc != TH_OK) goto done;
    th_model_potential(m, NULL, s->t, s->x, batch, vT);
    summarise(m, s, batch, v0, vT, out);
    /* The library stops a diverging run; this guards the summary anyway,
     * since a nan reported as a result is worse than no result. */
    if (!isfinite(out->x_mean) || !isfinite(out->x_var) || !isfinite(out->heat_mean) ||
        !isfinite(out->heat_sd) || !isfinite(out->law_mean) || !isfinite(out->law_max))
        rc = th__fail(TH_EDIVERGED, "the run produced non-finite statistics");
done:
    free(vT);
    free(v0);
    th_batch_free(s);
    return rc;
}
