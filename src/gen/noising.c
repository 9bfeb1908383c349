/* noising.c - the generator's parameters and architecture, and its noising
 * process: the reference process whose time reverse the computer learns
 * (Whitelam, PRL 2026; science.md section 2).
 *
 * Each path starts at x = 0 and is prepared for t_f under the constant force
 * drive * s (an image-tilted equilibrium of the uncoupled wells), then noised
 * for t_f under the force a(t) s, with a(t) falling linearly from drive to 0
 * at ramp_fraction * t_f; in the last part the units relax freely into the
 * thermal noise of their wells. Couplings play no part. */
#include "gen_internal.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

th_gen_params th_gen_params_default(void)
{
    th_gen_params p;
    memset(&p, 0, sizeof p);
    p.n_visible = 784;
    p.n_hidden = 512;
    p.kT = 0.1;
    p.J2 = 1;
    p.J4 = 1;
    p.mu = 1;
    p.dt = 1e-3;
    p.t_f = 2.5;
    p.drive = 2;
    p.ramp_fraction = 0.75;
    p.hidden_drive = TH_HIDDEN_COPY;
    p.seed = 1;
    p.block_steps = 250;
    p.segments = 1;
    return p;
}

int th_gen_params_validate(const th_gen_params *p)
{
    TH_ASSERT(p != NULL);
    if (p->n_visible == 0) return th__fail(TH_EINVAL, "n_visible = 0: expected at least 1 unit");
    if (p->n_hidden == 0) return th__fail(TH_EINVAL, "n_hidden = 0: expected at least 1 unit");
    if (p->n_visible + p->n_hidden > 65536)
        return th__fail(TH_EINVAL, "%zu units: at most 65536 supported",
                        p->n_visible + p->n_hidden);
    if (!(p->kT > 0) || !isfinite(p->kT))
        return th__fail(TH_EINVAL, "kT = %g: expected a finite temperature > 0", p->kT);
    if (!(p->mu > 0) || !isfinite(p->mu))
        return th__fail(TH_EINVAL, "mu = %g: expected a finite mobility > 0", p->mu);
    if (!(p->J2 >= 0) || !isfinite(p->J2) || !(p->J4 >= 0) || !isfinite(p->J4) ||
        !(p->J2 > 0 || p->J4 > 0))
        return th__fail(TH_EINVAL, "J2 = %g, J4 = %g: expected finite values >= 0, not both 0",
                        p->J2, p->J4);
    if (!(p->dt > 0) || !isfinite(p->dt))
        return th__fail(TH_EINVAL, "dt = %g: expected a finite time step > 0", p->dt);
    if (!(p->t_f >= p->dt) || !isfinite(p->t_f))
        return th__fail(TH_EINVAL, "t_f = %g: expected a finite time of at least dt = %g", p->t_f,
                        p->dt);
    if (p->t_f / p->dt > 1e8)
        return th__fail(TH_EINVAL, "t_f / dt = %g steps: at most 1e8 supported", p->t_f / p->dt);
    if (!isfinite(p->drive))
        return th__fail(TH_EINVAL, "drive = %g: expected a finite value", p->drive);
    if (!(p->ramp_fraction > 0 && p->ramp_fraction <= 1))
        return th__fail(TH_EINVAL, "ramp_fraction = %g: expected a value in (0, 1]",
                        p->ramp_fraction);
    if (p->hidden_drive != TH_HIDDEN_COPY && p->hidden_drive != TH_HIDDEN_PROJECTION)
        return th__fail(TH_EINVAL, "hidden_drive = %d: expected copy or projection",
                        (int)p->hidden_drive);
    if (p->block_steps == 0) return th__fail(TH_EINVAL, "block_steps = 0: expected at least 1");
    if (p->label_visible > 1)
        return th__fail(TH_EINVAL, "label_visible = %zu: expected 0 or 1", p->label_visible);
    if (p->label_visible && !p->n_classes)
        return th__fail(TH_EINVAL, "label_visible = 1 needs a conditional generator (n_classes > 0)");
    if (p->hidden_double_well > 1)
        return th__fail(TH_EINVAL, "hidden_double_well = %zu: expected 0 or 1",
                        p->hidden_double_well);
    if (p->hidden_double_well && !(p->J4 > 0))
        return th__fail(TH_EINVAL, "hidden_double_well = 1 needs J4 > 0 to confine the "
                        "double well (J4 = %g)", p->J4);
    if (p->visible_bias > 1)
        return th__fail(TH_EINVAL, "visible_bias = %zu: expected 0 or 1", p->visible_bias);
    if (p->visible_bias && p->label_visible)
        return th__fail(TH_EINVAL, "visible_bias = 1 with label_visible = 1: the per-class "
                        "pixel biases already hold the pixel biases; expected one of them");
    if (p->n_classes > 1000)
        return th__fail(TH_EINVAL, "n_classes = %zu: at most 1000 supported", p->n_classes);
    if (p->segments < 1 || p->segments > TH_GEN_MAX_SEGMENTS ||
        p->segments > th_gen_steps(p))
        return th__fail(TH_EINVAL, "segments = %zu: expected 1 to %d, and at most the %zu steps "
                        "of generation", p->segments, TH_GEN_MAX_SEGMENTS, th_gen_steps(p));
    if (p->n_visible + p->n_hidden + p->n_classes > 65536)
        return th__fail(TH_EINVAL, "%zu units with the labels: at most 65536 supported",
                        p->n_visible + p->n_hidden + p->n_classes);
    return TH_OK;
}

size_t th_gen_steps(const th_gen_params *p) { return (size_t)llround(p->t_f / p->dt); }

size_t th_gen_units(const th_gen_params *p) { return p->n_visible + p->n_hidden + p->n_classes; }

double th_gen_ramp(const th_gen_params *p, double t)
{
    /* the path lasts th_gen_steps(p) steps of dt, which may differ from t_f
     * by rounding; the ramp follows the path */
    const double t_ramp = p->ramp_fraction * (double)th_gen_steps(p) * p->dt;
    return t < t_ramp ? p->drive * (1.0 - t / t_ramp) : 0.0;
}

th_model *th__gen_uncoupled(const th_gen_params *p, th_dtype dtype)
{
    size_t sizes[3] = {p->n_visible, p->n_hidden, p->n_classes};
    th_model *m = th_model_alloc(p->n_classes ? 3 : 2, sizes, dtype);
    if (!m) return NULL;
    m->kT = p->kT;
    m->mu = p->mu;
    th_model_set_onsite(m, p->J2, p->J4);
    if (p->hidden_double_well)
        for (size_t a = p->n_visible; a < p->n_visible + p->n_hidden; a++)
            th_ptr_set(m->J2, dtype, a, -p->J2);
    return m;
}

th_model *th_gen_model_alloc(const th_gen_params *p, th_dtype dtype)
{
    if (th_gen_params_validate(p) != TH_OK) return NULL;
    th_model *m = th__gen_uncoupled(p, dtype);
    if (!m) return NULL;
    th_model_couple(m, 0, 1); /* visible-hidden */
    th_model_couple(m, 1, 1); /* hidden-hidden; no visible-visible */
    if (p->n_classes) th_model_couple(m, 2, 1); /* label-hidden: the class biases */
    if (p->n_classes && p->label_visible) th_model_couple(m, 2, 0); /* per-class pixel biases */
    return m;
}

/* The projection's noise stream, far from the paths' and the samples'. */
#define PROJECTION_STREAM ((uint64_t)1 << 62)

int th_gen_drive_field(const th_gen_params *p, const float *images, size_t B, th_ptr out,
                       th_dtype dtype)
{
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    TH_ASSERT(images != NULL && out.v != NULL);
    const size_t nv = p->n_visible, nh = p->n_hidden, n = th_gen_units(p);
    for (size_t k = 0; k < B; k++) {
        for (size_t c = 0; c < p->n_classes; c++) th_ptr_set(out, dtype, k * n + nv + nh + c, 0.0);
        const float *s = images + k * nv;
        for (size_t i = 0; i < nv; i++) {
            if (!isfinite(s[i]))
                return th__fail(TH_EINVAL, "image %zu, pixel %zu = %g: expected a finite value",
                                k, i, (double)s[i]);
            th_ptr_set(out, dtype, k * n + i, -(double)s[i]);
        }
        if (p->hidden_drive == TH_HIDDEN_COPY)
            for (size_t a = 0; a < nh; a++) th_ptr_set(out, dtype, k * n + nv + a, -(double)s[a % nv]);
    }
    if (p->hidden_drive == TH_HIDDEN_PROJECTION) {
        /* P (nv, nh), P_ia ~ N(0, 1/nv): row i from blocks i * ceil(nh/4) of
         * the projection stream, so P is fixed by the seed alone. */
        float *row = th__alloc(nh * sizeof(float));
        double *h = th__calloc(B * nh, sizeof(double));
        if (!row || !h) {
            th__free(row);
            th__free(h);
            return th__fail(TH_ENOMEM, "out of memory for the hidden projection");
        }
        const double scale = 1.0 / sqrt((double)nv);
        for (size_t i = 0; i < nv; i++) {
            th_normal_fill_f32(p->seed, PROJECTION_STREAM, (uint64_t)i * ((nh + 3) / 4), row, nh);
            for (size_t k = 0; k < B; k++) {
                const double si = (double)images[k * nv + i] * scale;
                for (size_t a = 0; a < nh; a++) h[k * nh + a] += si * (double)row[a];
            }
        }
        for (size_t k = 0; k < B; k++)
            for (size_t a = 0; a < nh; a++) th_ptr_set(out, dtype, k * n + nv + a, -h[k * nh + a]);
        th__free(row);
        th__free(h);
    }
    return TH_OK;
}

struct phase {
    const th_gen_params *p;
    double t0;   /* time at which the phase began */
    int ramp;    /* 0: constant drive (preparation), 1: the ramp a(t - t0) */
};

static double phase_amplitude(double t, void *ctx)
{
    const struct phase *ph = ctx;
    return ph->ramp ? th_gen_ramp(ph->p, t - ph->t0) : ph->p->drive;
}

int th__gen_check_classes(const th_gen_params *p, const int *classes, size_t B)
{
    if (p->n_classes == 0) return TH_OK;
    if (!classes)
        return th__fail(TH_EINVAL, "a conditional generator (%zu classes) needs the class of "
                        "each path", p->n_classes);
    for (size_t k = 0; k < B; k++)
        if (classes[k] < 0 || (size_t)classes[k] >= p->n_classes)
            return th__fail(TH_EINVAL, "class %d of path %zu: expected 0 to %zu", classes[k], k,
                            p->n_classes - 1);
    return TH_OK;
}

void th__gen_clamp_labels(const th_gen_params *p, th_dtype dtype, const int *classes,
                          size_t B, th_ptr x, unsigned char *clamped)
{
    const size_t n = th_gen_units(p), l0 = p->n_visible + p->n_hidden;
    for (size_t k = 0; k < B && p->n_classes; k++)
        for (size_t c = 0; c < p->n_classes; c++)
            th_ptr_set(x, dtype, k * n + l0 + c, (size_t)classes[k] == c ? 1.0 : 0.0);
    if (clamped)
        for (size_t i = 0; i < n; i++) clamped[i] = i >= l0;
}

/* The paths are independent, so a noiser splits them into contiguous
 * groups, one per thread, each advanced by its own batch through the
 * preparation and then a whole block of steps at a time: one meeting of the
 * threads per block instead of one per step, and a batch smaller than the
 * fused step's panel (the exact solver's 8 paths) still keeps every core
 * busy. Path k's noise comes from its own stream at the step's blocks and
 * its drive from its own row of the field, so a path's states are the same
 * to the bit in whichever group, and with however many groups, it runs. */
struct path_group {
    th_batch *s;        /* this group's paths */
    size_t k0, b;       /* paths k0 .. k0 + b - 1 of the batch */
    th_ptr snaps;       /* (snapshots of a block, b, n): the group's states */
    th_drive drive;     /* the field's rows of the group's paths */
    int rc;
    char why[512];      /* th_last_error of a failure in the group's thread */
};

struct th__noiser {
    th_gen_params p;
    th_dtype dtype;
    size_t B, n, steps, block, stride;
    size_t rows_max;            /* stride > 1: chosen steps of a block, at most */
    th_model *ref;              /* the uncoupled wells */
    size_t n_groups;
    struct path_group *groups;
    th_ptr field;               /* (B, n) drive fields */
    th_ptr states;              /* stride 1: (block+1, B, n); else (2, rows_max, B, n) */
    size_t *snap_steps;         /* (block + 1) */
    unsigned char *clamped;     /* (n) the label units */
};

void th__gen_noiser_free(th__noiser *z)
{
    if (!z) return;
    for (size_t j = 0; z->groups && j < z->n_groups; j++) {
        th_batch_free(z->groups[j].s);
        th__free(z->groups[j].snaps.v);
    }
    free(z->groups);
    th__free(z->clamped);
    th__free(z->snap_steps);
    th__free(z->states.v);
    th__free(z->field.v);
    th_model_free(z->ref);
    free(z);
}

th__noiser *th__gen_noiser_alloc(const th_gen_params *p, size_t B, size_t stride,
                                 th_dtype dtype)
{
    if (th_gen_params_validate(p) != TH_OK) return NULL;
    if (B == 0 || stride == 0) {
        th__fail(TH_EINVAL, "%zu paths, stride %zu: expected at least 1 of each", B, stride);
        return NULL;
    }
    th__noiser *z = calloc(1, sizeof *z);
    if (!z) {
        th__fail(TH_ENOMEM, "out of memory for %zu noising paths", B);
        return NULL;
    }
    z->p = *p;
    z->dtype = dtype;
    z->B = B;
    z->n = th_gen_units(p);
    z->steps = th_gen_steps(p);
    z->block = p->block_steps < z->steps ? p->block_steps : z->steps;
    z->stride = stride;
    z->rows_max = (z->block + stride - 1) / stride;
    const size_t threads = (size_t)omp_get_max_threads();
    z->n_groups = B < threads ? B : threads;
    /* The snapshots of a block: every state, or a chosen step and the next */
    const size_t snaps = stride == 1 ? z->block + 1 : 2 * z->rows_max;
    const size_t n = z->n, es = th_dtype_size(dtype);
    /* The reference process has no couplings at all, so the integrator's
     * plan has no matrix product to do. */
    z->ref = th__gen_uncoupled(p, dtype);
    z->groups = calloc(z->n_groups, sizeof *z->groups);
    z->field.v = th__alloc(B * n * es);
    z->states.v = th__alloc(snaps * B * n * es);
    z->snap_steps = th__alloc((z->block + 1) * sizeof(size_t));
    z->clamped = th__alloc(n);
    int ok = z->ref && z->groups && z->field.v && z->states.v && z->snap_steps && z->clamped;
    for (size_t j = 0, k0 = 0; ok && j < z->n_groups; j++) {
        struct path_group *g = &z->groups[j];
        g->k0 = k0;
        g->b = B / z->n_groups + (j < B % z->n_groups);
        k0 += g->b;
        g->s = th_batch_alloc(z->ref, g->b, p->seed);
        g->snaps.v = th__alloc(snaps * g->b * n * es);
        ok = g->s && g->snaps.v;
    }
    if (!ok) {
        th__gen_noiser_free(z);
        th__fail(TH_ENOMEM, "out of memory for %zu noising paths", B);
        return NULL;
    }
    return z;
}

static int run_group(const th_model *ref, struct path_group *g, const th_run *base, size_t steps)
{
    th_run r = *base;
    r.drive = &g->drive;
    r.n_steps = steps;
    if (r.n_snaps) r.snap_out = g->snaps;
    int rc = th__langevin_run_states(ref, g->s, &r);
    if (rc != TH_OK) snprintf(g->why, sizeof g->why, "%s", th_last_error());
    return rc;
}

/* Runs every group for steps steps (in parallel); the first failure in
 * group order is returned with its message. */
static int run_groups(th__noiser *z, const th_run *r, size_t steps)
{
#pragma omp parallel for schedule(dynamic) if (z->n_groups > 1)
    for (size_t j = 0; j < z->n_groups; j++)
        z->groups[j].rc = run_group(z->ref, &z->groups[j], r, steps);
    for (size_t j = 0; j < z->n_groups; j++) {
        const struct path_group *g = &z->groups[j];
        if (g->rc != TH_OK)
            return th__fail(g->rc, "paths %zu to %zu: %s", g->k0, g->k0 + g->b - 1, g->why);
    }
    return TH_OK;
}

/* The groups' snapshot j (b, n) to row block `to` (B, n) of the batch. */
static void gather_snapshot(th__noiser *z, size_t j, size_t to)
{
    const size_t n = z->n, es = th_dtype_size(z->dtype);
    for (size_t q = 0; q < z->n_groups; q++) {
        const struct path_group *g = &z->groups[q];
        memcpy((char *)z->states.v + (to * z->B + g->k0) * n * es,
               (char *)g->snaps.v + j * g->b * n * es, g->b * n * es);
    }
}

/* Prepares and noises the z->B paths, handing each block to fn_block
 * (stride 1: all its states) or its chosen transitions to fn_rows. */
static int noiser_run(th__noiser *z, const float *images, const int *classes,
                      const uint64_t *path_ids, th__path_block_fn fn_block,
                      th__path_rows_fn fn_rows, void *ctx)
{
    const th_gen_params *p = &z->p;
    int rc = th__gen_check_classes(p, classes, z->B);
    if (rc != TH_OK) return rc;
    TH_ASSERT(images != NULL && path_ids != NULL);
    const size_t n = z->n, B = z->B, es = th_dtype_size(z->dtype);
    if ((rc = th_gen_drive_field(p, images, B, z->field, z->dtype)) != TH_OK) return rc;

    struct phase ph = {p, 0.0, 0};
    for (size_t j = 0; j < z->n_groups; j++) {
        struct path_group *g = &z->groups[j];
        th_batch_reset(g->s);
        for (size_t k = 0; k < g->b; k++)
            g->s->stream[k] = TH_GEN_PATH_STREAM + path_ids[g->k0 + k];
        /* The label units sit at the class code along the whole path. */
        th__gen_clamp_labels(p, z->dtype, classes ? classes + g->k0 : NULL, g->b, g->s->x,
                             z->clamped);
        g->drive = (th_drive){.amplitude = phase_amplitude, .ctx = &ph,
                              .field = {.v = (char *)z->field.v + g->k0 * n * es},
                              .per_trajectory = 1};
    }
    th_run r = th_run_default();
    r.dt = p->dt;
    r.clamped = p->n_classes ? z->clamped : NULL;
    if ((rc = run_groups(z, &r, z->steps)) != TH_OK) return rc; /* preparation */

    ph.ramp = 1;
    ph.t0 = z->groups[0].s->t;
    r.snap_steps = z->snap_steps;
    for (size_t k0 = 0; k0 < z->steps; k0 += z->block) {
        const size_t T = z->steps - k0 < z->block ? z->steps - k0 : z->block;
        size_t chosen = 0;
        if (z->stride == 1) {
            for (size_t j = 0; j <= T; j++) z->snap_steps[j] = j;
            r.n_snaps = T + 1;
        } else {
            /* steps k0 + o with (k0 + o) mod stride = 0: x at o, y at o + 1 */
            for (size_t o = 0; o < T; o++)
                if ((k0 + o) % z->stride == 0) {
                    z->snap_steps[2 * chosen] = o;
                    z->snap_steps[2 * chosen + 1] = o + 1;
                    chosen++;
                }
            r.n_snaps = 2 * chosen;
        }
        if ((rc = run_groups(z, &r, T)) != TH_OK) return rc;
        if (z->stride == 1) {
            for (size_t j = 0; j <= T; j++) gather_snapshot(z, j, j);
            rc = fn_block ? fn_block(z->states, T, B, k0, ctx)
                          : fn_rows(z->states, (th_ptr){.v = (char *)z->states.v + B * n * es},
                                    T * B, B, k0, 1, ctx);
        } else if (chosen) {
            const size_t first_chosen = k0 + z->snap_steps[0];
            for (size_t j = 0; j < chosen; j++) {
                gather_snapshot(z, 2 * j, j);
                gather_snapshot(z, 2 * j + 1, chosen + j);
            }
            rc = fn_rows(z->states, (th_ptr){.v = (char *)z->states.v + chosen * B * n * es},
                         chosen * B, B, first_chosen, z->stride, ctx);
        }
        if (rc != TH_OK) return rc;
    }
    return TH_OK;
}

int th__gen_noiser_rows(th__noiser *z, const float *images, const int *classes,
                        const uint64_t *path_ids, th__path_rows_fn fn, void *ctx)
{
    TH_ASSERT(z != NULL && fn != NULL);
    return noiser_run(z, images, classes, path_ids, NULL, fn, ctx);
}

int th__gen_noising_paths(const th_gen_params *p, const float *images, const int *classes,
                          const uint64_t *path_ids, size_t B, th_dtype dtype,
                          th__path_block_fn fn, void *ctx)
{
    TH_ASSERT(fn != NULL);
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    if (B == 0) return th__fail(TH_EINVAL, "0 paths: expected at least 1");
    if ((rc = th__gen_check_classes(p, classes, B)) != TH_OK) return rc;
    th__noiser *z = th__gen_noiser_alloc(p, B, 1, dtype);
    if (!z) return TH_ENOMEM;
    rc = noiser_run(z, images, classes, path_ids, fn, NULL, ctx);
    th__gen_noiser_free(z);
    return rc;
}

struct snap_ctx {
    const th_gen_params *p;
    const size_t *snap_steps;
    size_t n_snaps, next;
    float *out;
};

static int collect_snapshots(th_ptr states, size_t T, size_t B, size_t first_step, void *vctx)
{
    struct snap_ctx *c = vctx;
    const size_t n = th_gen_units(c->p), nv = c->p->n_visible;
    while (c->next < c->n_snaps && c->snap_steps[c->next] <= first_step + T) {
        const size_t j = c->snap_steps[c->next] - first_step;
        for (size_t k = 0; k < B; k++)
            for (size_t i = 0; i < nv; i++)
                c->out[(c->next * B + k) * nv + i] = states.f32[(j * B + k) * n + i];
        c->next++;
    }
    return TH_OK;
}

int th_gen_noising_snapshots(const th_gen_params *p, const float *images,
                             const int *classes, const uint64_t *path_ids, size_t B, const size_t *snap_steps,
                             size_t n_snaps, float *out)
{
    TH_ASSERT(snap_steps != NULL && out != NULL);
    int rc = th_gen_params_validate(p);
    if (rc != TH_OK) return rc;
    for (size_t j = 0; j < n_snaps; j++)
        if (snap_steps[j] > th_gen_steps(p) || (j && snap_steps[j] <= snap_steps[j - 1]))
            return th__fail(TH_EINVAL, "snapshot step %zu: expected ascending steps up to %zu",
                            snap_steps[j], th_gen_steps(p));
    struct snap_ctx c = {p, snap_steps, n_snaps, 0, out};
    return th__gen_noising_paths(p, images, classes, path_ids, B, TH_F32, collect_snapshots, &c);
}
