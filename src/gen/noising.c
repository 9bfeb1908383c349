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
    if (p->n_classes > TH_GEN_MAX_LABELS)
        return th__fail(TH_EINVAL, "n_classes = %zu: at most %d supported", p->n_classes,
                        TH_GEN_MAX_LABELS);
    if (p->styles > 1 && (!p->n_classes || p->n_classes % p->styles))
        return th__fail(TH_EINVAL, "styles = %zu: expected a divisor of n_classes (%zu) on a "
                        "conditional generator", p->styles, p->n_classes);
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

/* Classes below `limit`, each of the B paths or samples (`what`). */
static int check_classes_below(const int *classes, size_t B, size_t limit, const char *what)
{
    if (!classes)
        return th__fail(TH_EINVAL, "a conditional generator (%zu classes) needs the class of "
                        "each %s", limit, what);
    for (size_t k = 0; k < B; k++)
        if (classes[k] < 0 || (size_t)classes[k] >= limit)
            return th__fail(TH_EINVAL, "class %d of %s %zu: expected 0 to %zu", classes[k], what,
                            k, limit - 1);
    return TH_OK;
}

int th__gen_check_classes(const th_gen_params *p, const int *classes, size_t B)
{
    /* training paths carry label codes: with styles, class x K + style */
    return p->n_classes ? check_classes_below(classes, B, p->n_classes, "path") : TH_OK;
}

int th__gen_check_sample_classes(const th_gen_params *p, const int *classes, size_t B)
{
    /* samples are asked for classes; their styles are drawn */
    return p->n_classes ? check_classes_below(classes, B, th_gen_classes(p), "sample") : TH_OK;
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

/* One task of the unit split: units u0 .. u1 - 1 of one path, and where
 * it stopped if they left the bound (bad_step: 1 + the step of the run). */
struct unit_task {
    size_t bad_step, bad_unit;
    float bad_x;
};

struct th__noiser {
    th_gen_params p;
    th_dtype dtype;
    size_t B, n, steps, block, stride;
    size_t rows_max;            /* stride > 1: chosen steps of a block, at most */
    th_model *ref;              /* the uncoupled wells */
    size_t n_groups, threads;
    struct path_group *groups;
    th_ptr field;               /* (B, n) drive fields */
    th_ptr states;              /* stride 1: (block+1, B, n); else (2, rows_max, B, n) */
    size_t *snap_steps;         /* (block + 1) */
    unsigned char *clamped;     /* (n) the label units */
    /* float32: the unit split (see units_run), in place of the groups */
    int by_units;
    size_t unit_chunk;          /* units per task, a multiple of 4 */
    size_t n_tasks;             /* B * ceil(n / unit_chunk) */
    struct unit_task *tasks;
    float *x, *mudt, *sigma;    /* (B, n) states; (n) mu dt, sqrt(2 mu kT dt), 0 if clamped */
    float *J2, *J4, *bias;      /* (n) the wells of th__gen_uncoupled, without its n^2 J */
    float *amp;                 /* (steps) a(t) of each step of a run, rounded to float */
    size_t *row_of_step;        /* (block + 1) the states row a step's state goes to */
    float *noise;               /* (threads, n) each thread's normals of a step */
    uint64_t step;              /* steps run since the paths started */
    double t;                   /* their time, summed step by step as th_batch's */
};

void th__gen_noiser_free(th__noiser *z)
{
    if (!z) return;
    for (size_t j = 0; z->groups && j < z->n_groups; j++) {
        th_batch_free(z->groups[j].s);
        th__free(z->groups[j].snaps.v);
    }
    free(z->groups);
    free(z->tasks);
    th__free(z->x);
    th__free(z->J2);
    th__free(z->J4);
    th__free(z->bias);
    th__free(z->mudt);
    th__free(z->sigma);
    th__free(z->amp);
    th__free(z->row_of_step);
    th__free(z->noise);
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
    z->threads = threads;
    z->by_units = dtype == TH_F32;
    z->n_groups = z->by_units ? 0 : B < threads ? B : threads;
    /* The snapshots of a block: every state, or a chosen step and the next */
    const size_t snaps = stride == 1 ? z->block + 1 : 2 * z->rows_max;
    const size_t n = z->n, es = th_dtype_size(dtype);
    /* The reference process has no couplings at all, so the integrator's
     * plan has no matrix product to do (float32 needs only its wells). */
    z->ref = z->by_units ? NULL : th__gen_uncoupled(p, dtype);
    z->groups = calloc(z->n_groups, sizeof *z->groups);
    z->field.v = th__alloc(B * n * es);
    z->states.v = th__alloc(snaps * B * n * es);
    z->snap_steps = th__alloc((z->block + 1) * sizeof(size_t));
    z->clamped = th__alloc(n);
    int ok = (z->ref || z->by_units) && (z->groups || !z->n_groups) && z->field.v &&
             z->states.v && z->snap_steps && z->clamped;
    if (ok && z->by_units) {
        /* Whole paths when there are enough for the threads; else each
         * path's units in about 2 threads / B pieces (two per thread, so that
         * a core that another program holds slows only its share), at
         * least 64 units each, cut at multiples of 16 units: Philox
         * blocks of 4 units, and whole 64-byte cache lines, so that no two
         * threads write the same line of the states every step (cut at 4,
         * the noising path on 2 threads was no faster than on 1). */
        const size_t pieces = B >= threads ? 1 : (2 * threads + B - 1) / B;
        size_t chunk = ((n + pieces - 1) / pieces + 15) & ~(size_t)15;
        if (chunk < 64) chunk = 64;
        z->unit_chunk = chunk;
        z->n_tasks = B * ((n + chunk - 1) / chunk);
        z->tasks = calloc(z->n_tasks, sizeof *z->tasks);
        z->x = th__alloc(B * n * sizeof(float));
        z->mudt = th__alloc(n * sizeof(float));
        z->sigma = th__alloc(n * sizeof(float));
        z->amp = th__alloc(z->steps * sizeof(float));
        z->row_of_step = th__alloc((z->block + 1) * sizeof(size_t));
        z->noise = th__alloc(threads * n * sizeof(float));
        z->J2 = th__alloc(n * sizeof(float));
        z->J4 = th__alloc(n * sizeof(float));
        z->bias = th__calloc(n, sizeof(float));
        ok = z->tasks && z->x && z->mudt && z->sigma && z->amp && z->row_of_step && z->noise &&
             z->J2 && z->J4 && z->bias;
        for (size_t i = 0; ok && i < n; i++) {
            const int double_well = p->hidden_double_well && i >= p->n_visible &&
                                    i < p->n_visible + p->n_hidden;
            z->J2[i] = (float)(double_well ? -p->J2 : p->J2);
            z->J4[i] = (float)p->J4;
        }
    }
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

/* The float32 noiser splits the units, not only the paths. The reference
 * process has no couplings, so every unit of every path moves on its own:
 * a task (units u0 .. u1 - 1 of path k) runs a whole block of steps with no
 * meeting of the threads, and writes each chosen state straight into its
 * row of the block's states. A single path (the published recipe's one path
 * per update) then keeps both cores busy. Each unit's arithmetic is
 * th__langevin_run_states' fused row with no coupling force (F = +0, as
 * the integrator's zeroed force buffer holds), term for term, and its noise
 * is normal i of the step's Philox blocks (rng.c: block b gives normals
 * 4b .. 4b + 3), drawn from block step * ceil(n/4) + u0 / 4 since u0 is a
 * multiple of 4: the states are those of the integrator to the bit, however
 * the units are cut. */
TH__CLONES
static int unit_steps(size_t len, float *restrict x, const float *restrict xi,
                      const float *restrict J2, const float *restrict J4,
                      const float *restrict bias, const float *restrict h, float a,
                      const float *restrict mudt, const float *restrict sigma, float blowup,
                      float *restrict snap)
{
    int ok = 1;
    for (size_t i = 0; i < len; i++) {
        const float xo = x[i];
        const float f = (float)0 + (float)2 * J2[i] * xo + (float)4 * J4[i] * xo * xo * xo +
                        bias[i] + a * h[i];
        const float xnew = xo - mudt[i] * f + sigma[i] * xi[i];
        ok &= (xnew <= blowup) & (xnew >= -blowup);
        x[i] = xnew;
        /* the state also to its row of the block (NULL: none), in the same
         * pass; the test is the same for every i, so the compiler takes it
         * out of the loop */
        if (snap) snap[i] = xnew;
    }
    return ok;
}

/* Where units u0.. of path k go in row `row` of the block's states. */
static float *unit_row(th__noiser *z, size_t row, size_t k, size_t u0)
{
    return z->states.f32 + (row * z->B + k) * z->n + u0;
}

/* x of units u0 .. u1 - 1 of path k to row `row` of the block's states. */
static void unit_snapshot(th__noiser *z, size_t row, size_t k, size_t u0, size_t u1)
{
    memcpy(unit_row(z, row, k, u0), z->x + k * z->n + u0, (u1 - u0) * sizeof(float));
}

/* Task q for T steps from step z->step, amplitudes z->amp; rows: the row of
 * the state after each step 0 .. T (SIZE_MAX: none), or NULL. */
static void unit_task_run(th__noiser *z, size_t q, const uint64_t *path_ids, size_t T,
                          const size_t *rows, float *xi)
{
    const size_t n = z->n, per_path = (n + z->unit_chunk - 1) / z->unit_chunk;
    const size_t k = q / per_path, u0 = (q % per_path) * z->unit_chunk;
    const size_t u1 = u0 + z->unit_chunk < n ? u0 + z->unit_chunk : n;
    const uint64_t stream = TH_GEN_PATH_STREAM + path_ids[k], blocks_per_step = (n + 3) / 4;
    const float blowup = (float)th_run_default().blowup;
    struct unit_task *tk = &z->tasks[q];
    float *x = z->x + k * n + u0;
    tk->bad_step = 0;
    if (rows && rows[0] != SIZE_MAX) unit_snapshot(z, rows[0], k, u0, u1);
    for (size_t o = 0; o < T; o++) {
        const uint64_t step = z->step + o;
        th_normal_fill_f32(z->p.seed, stream, step * blocks_per_step + u0 / 4, xi, u1 - u0);
        float *snap = rows && rows[o + 1] != SIZE_MAX ? unit_row(z, rows[o + 1], k, u0) : NULL;
        if (!unit_steps(u1 - u0, x, xi, z->J2 + u0, z->J4 + u0, z->bias + u0,
                        z->field.f32 + k * n + u0, z->amp[o], z->mudt + u0, z->sigma + u0,
                        blowup, snap)) {
            size_t i = 0;
            while (i + 1 < u1 - u0 && fabsf(x[i]) <= blowup) i++;
            *tk = (struct unit_task){o + 1, u0 + i, x[i]};
            return;
        }
    }
}

/* Runs every task for T steps with the amplitudes of the next T steps (the
 * constant drive, or the ramp from t0); the first failure (by step, then
 * path, then unit) is returned. */
static int units_steps(th__noiser *z, const uint64_t *path_ids, size_t T, const size_t *rows,
                       int ramp, double t0)
{
    const th_gen_params *p = &z->p;
    const double t_start = z->t;
    for (size_t o = 0; o < T; o++) {
        z->amp[o] = (float)(ramp ? th_gen_ramp(p, z->t - t0) : p->drive);
        z->t += p->dt;
    }
#pragma omp parallel for schedule(dynamic) num_threads(z->threads) if (z->n_tasks > 1)
    for (size_t q = 0; q < z->n_tasks; q++)
        unit_task_run(z, q, path_ids, T, rows, z->noise + (size_t)omp_get_thread_num() * z->n);
    const struct unit_task *bad = NULL;
    for (size_t q = 0; q < z->n_tasks; q++) {
        const struct unit_task *tk = &z->tasks[q];
        if (tk->bad_step && (!bad || tk->bad_step < bad->bad_step)) bad = tk;
    }
    if (bad) {
        const size_t per_path = (z->n + z->unit_chunk - 1) / z->unit_chunk;
        const size_t k = (size_t)(bad - z->tasks) / per_path;
        double t = t_start;
        for (size_t o = 0; o + 1 < bad->bad_step; o++) t += p->dt;
        return th__fail(TH_EDIVERGED, "path %zu: simulation diverged at step %llu (t = %g): "
                        "unit %zu reached x = %g, beyond the bound %g; the time step dt = %g is "
                        "probably too large for the wells (mu dt times the curvature 2 J2 + "
                        "12 J4 x^2 must stay well below 1)", k,
                        (unsigned long long)(z->step + bad->bad_step), t + p->dt, bad->bad_unit,
                        (double)bad->bad_x, th_run_default().blowup, p->dt);
    }
    z->step += T;
    return TH_OK;
}

/* noiser_run for float32, by units (above). */
static int units_run(th__noiser *z, const float *images, const int *classes,
                     const uint64_t *path_ids, th__path_block_fn fn_block,
                     th__path_rows_fn fn_rows, void *ctx)
{
    const th_gen_params *p = &z->p;
    const size_t n = z->n, B = z->B;
    int rc = th__gen_check_classes(p, classes, B);
    if (rc != TH_OK) return rc;
    TH_ASSERT(images != NULL && path_ids != NULL);
    if ((rc = th_gen_drive_field(p, images, B, z->field, TH_F32)) != TH_OK) return rc;
    memset(z->x, 0, B * n * sizeof(float));
    th__gen_clamp_labels(p, TH_F32, classes, B, (th_ptr){.f32 = z->x}, z->clamped);
    /* mu dt and sqrt(2 mu kT dt) as the integrator sets them (0: clamped) */
    for (size_t i = 0; i < n; i++) {
        const int held = p->n_classes && z->clamped[i];
        z->mudt[i] = held ? 0.0f : (float)(p->mu * p->dt);
        z->sigma[i] = held ? 0.0f : (float)sqrt(2.0 * p->mu * p->kT * p->dt);
    }
    z->step = 0;
    z->t = 0;
    if ((rc = units_steps(z, path_ids, z->steps, NULL, 0, 0.0)) != TH_OK) return rc;

    const double t0 = z->t;
    for (size_t k0 = 0; k0 < z->steps; k0 += z->block) {
        const size_t T = z->steps - k0 < z->block ? z->steps - k0 : z->block;
        size_t chosen = 0;
        for (size_t o = 0; o <= T; o++) z->row_of_step[o] = z->stride == 1 ? o : SIZE_MAX;
        if (z->stride > 1) {
            /* steps k0 + o with (k0 + o) mod stride = 0: x at o, y at o + 1 */
            for (size_t o = 0; o < T; o++)
                if ((k0 + o) % z->stride == 0) z->snap_steps[chosen++] = o;
            for (size_t c = 0; c < chosen; c++) {
                z->row_of_step[z->snap_steps[c]] = c;
                z->row_of_step[z->snap_steps[c] + 1] = chosen + c;
            }
        }
        if ((rc = units_steps(z, path_ids, T, z->row_of_step, 1, t0)) != TH_OK) return rc;
        if (z->stride == 1)
            rc = fn_block ? fn_block(z->states, T, B, k0, ctx)
                          : fn_rows(z->states, (th_ptr){.f32 = z->states.f32 + B * n}, T * B,
                                    B, k0, 1, ctx);
        else if (chosen)
            rc = fn_rows(z->states, (th_ptr){.f32 = z->states.f32 + chosen * B * n},
                         chosen * B, B, k0 + z->snap_steps[0], z->stride, ctx);
        if (rc != TH_OK) return rc;
    }
    return TH_OK;
}

/* Prepares and noises the z->B paths, handing each block to fn_block
 * (stride 1: all its states) or its chosen transitions to fn_rows. */
static int noiser_run(th__noiser *z, const float *images, const int *classes,
                      const uint64_t *path_ids, th__path_block_fn fn_block,
                      th__path_rows_fn fn_rows, void *ctx)
{
    if (z->by_units) return units_run(z, images, classes, path_ids, fn_block, fn_rows, ctx);
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
