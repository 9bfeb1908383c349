/* langevin.c - batched overdamped Euler-Maruyama for thermodynamic computers.
 *
 *     x_{k+1} = x_k - mu dt dV/dx(x_k, t_k) + sqrt(2 mu kT dt) xi_k,
 *     dV/dx_i = 2 J2_i x_i + 3 J3_i x_i^2 + 4 J4_i x_i^3 + b_i + sum_j J_ij x_j
 *
 * (science.md section 1). The fast kernel spends its time in one matrix product
 * per coupled block row per step, F = X J for all B trajectories at once; the
 * on-site force, the update, the heat and the divergence check are fused into
 * one pass over each trajectory. The reference kernel is the same mathematics
 * as plain loops, kept as the twin the tests compare against.
 *
 * Heat and work by Crooks' discrete definition (J. Stat. Phys. 90, 1481
 * (1998)): each step first changes the potential at fixed x, work
 * W_k = V(x_k, t_{k+1}) - V(x_k, t_k), then moves x at fixed t, heat to the
 * bath Q_k = V(x_k, t_{k+1}) - V(x_{k+1}, t_{k+1}). Q_k is Sekimoto's
 * Stratonovich heat -int dV/dx o dx along the straight step from x_k to
 * x_{k+1}, exactly (a midpoint rule would miss it by O(dx^3) a step, O(dt) a
 * path), and the first law W = V_end - V_start + Q holds to rounding. The
 * fast kernel telescopes the heat to two energies a run (run_fast); the
 * reference kernel sums it step by step. */
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* One matrix product F[:, c0:c1] = X[:, k0:k1] J[k0:k1, c0:c1]. */
struct gemm_block {
    size_t c0, c1; /* target units (columns of F) */
    size_t k0, k1; /* source units: the span of every group coupled to the targets */
};

struct block_plan {
    size_t n_blocks;
    struct gemm_block blocks[TH_MAX_GROUPS];
};

/* Everything a run needs besides the model and batch, prepared once per run so
 * that nothing is allocated inside the step loop. */
struct run_setup {
    struct block_plan plan;
    uint64_t blocks_per_step; /* Philox blocks per trajectory and step: ceil(n/4) */
    th_ptr mudt;              /* (n) mu dt, or 0 for a clamped unit */
    th_ptr sigma;             /* (n) sqrt(2 mu kT dt), or 0 for a clamped unit */
    th_ptr field;             /* the drive's field, or (n) zeros without a drive */
    th_ptr zeros;             /* owned storage behind field when there is no drive */
    int field_per_trajectory;
    int cubic;                /* the model has J3 != 0 somewhere (th_model_has_cubic) */
    /* Float32 noise drawn several steps ahead (noise_ahead), or NULL when each
     * step's noise is drawn straight into the state (see noise_row_*). */
    float *noise32;           /* (b, noise_steps, 4 blocks_per_step) */
    uint64_t *noise_first;    /* (b) the first step held for each trajectory */
    size_t noise_steps;       /* steps drawn per fill */
    uint64_t end_step;        /* the batch's step count when the run ends */
    int ledger;               /* heat and work are summed (th__langevin_run_states: not) */
    int by_panels;            /* the run's steps went panel by panel (run_by_panels) */
    double blowup;
    int *row_ok;              /* (b) the last step kept trajectory k bounded */
    double *start_energy;     /* (b) V(x; a) at the start of the run (fast kernel) */
    double *run_work;         /* (b) the work done on it during the run */
    th__packed packed[TH_MAX_GROUPS]; /* the plan's blocks of J (fast kernel) */
    size_t panel_rows;        /* the largest panel of the fused step */
    size_t n_panels;          /* the batch cut into panels (prepare_fused_step) */
    size_t *panel_r0, *panel_len; /* (n_panels) first row and rows of each */
    th_ptr step_work;         /* (threads, step_work_per_thread): a row's work
                                 terms (n), then the product's packing space */
    size_t step_work_per_thread;
    size_t next_snap;
    size_t progress_every;
    /* The device's bath (th_device_bath; NULL: ideal). drift: mudt and sigma
     * change with time and are set again before every step. coloured: the
     * noise is the exact OU integral, with ou's coefficients and a second
     * normal per unit and step in ou_z (b, n). */
    int drift, coloured;
    struct ou_coefs {
        double a;             /* eta's decay over a step, exp(-dt / tau_c) */
        double i_eta, i_z1;   /* I_k / sqrt(dt) = i_eta eta_k + i_z1 z1 */
        double e_z1, e_z2;    /* eta_{k+1} = a eta_k + e_z1 z1 + e_z2 z2 */
        double stationary_sd; /* sqrt(1 / (2 tau_c)) */
    } ou;
    th_ptr ou_z;
};

/* Where the coloured noise's normals sit in each trajectory's stream: the
 * second normal of step s from block TH__OU_BLOCK + s * blocks_per_step, the
 * stationary start of eta from TH__OU_START_BLOCK + s * blocks_per_step (s
 * the step at which it is drawn); both far beyond any white-noise block. */
#define TH__OU_BLOCK ((uint64_t)1 << 62)
/* Lanes of a step's heat sum (langevin_kernel.inc, lane_sum): a whole
 * AVX-512 register of floats. Part of the definition of the heat's bits. */
#define TH__SUM_LANES 16
#define TH__OU_START_BLOCK ((uint64_t)3 << 61)

/* mu dt and sqrt(2 mu kT dt) of every unit for a step that starts at time t
 * (0 for a clamped unit), under the device's bath when the run has one
 * (th_device_bath). A bath of zeros multiplies mu and kT by exactly 1, so
 * that it gives the ideal bath's numbers to the bit. */
static int set_noise_scales(const th_model *m, const th_run *r, struct run_setup *su, double t)
{
    const th_device_bath *d = r->bath;
    const double kT = d ? m->kT * (1.0 + d->kT_offset + d->kT_drift * t) : m->kT;
    if (!(kT > 0) || !isfinite(kT))
        return th__fail(TH_EINVAL, "device temperature %g at t = %g: expected a finite value "
                        "> 0 (kT offset or drift too large)", kT, t);
    for (size_t i = 0; i < m->n; i++) {
        const int held = r->clamped && r->clamped[i];
        const double mu = d && d->mu_scale ? m->mu * d->mu_scale[i] : m->mu;
        th_ptr_set(su->mudt, m->dtype, i, held ? 0.0 : mu * r->dt);
        th_ptr_set(su->sigma, m->dtype, i, held ? 0.0 : sqrt(2.0 * mu * kT * r->dt));
    }
    return TH_OK;
}

/* The exact step of length dt of the pair (eta, I), science.md section 9:
 * with a = exp(-x), x = dt / tau_c, given eta_k the pair is Gaussian with
 * mean (a eta_k, tau_c (1 - a) eta_k), Var eta' = (1 - a^2) / (2 tau_c),
 * Var I = dt - 2 tau_c (1 - a) + (tau_c / 2)(1 - a^2), Cov = (1 - a)^2 / 2.
 * I takes the first normal z1 alone, so that I -> sqrt(dt) z1 (the white
 * noise's own number) as tau_c -> 0; eta' gets the rest of its variance
 * from z2. Var I cancels to tau_c x^3 / 3 for small x: there it is summed
 * as its series, tau_c sum_{k >= 3} (-1)^(k+1) (2^(k-1) - 2) x^k / k!. */
static void ou_coefficients(double tau, double dt, struct ou_coefs *c)
{
    const double x = dt / tau, a = exp(-x);
    const double one_a = -expm1(-x), one_a2 = -expm1(-2.0 * x);
    double var_i;
    if (x < 0.5) {
        double term = x * x / 2.0, sum = 0; /* term = x^k / k! */
        for (int k = 3; k < 40; k++) {
            term *= x / k;
            sum += (k % 2 ? 1.0 : -1.0) * (ldexp(1.0, k - 1) - 2.0) * term;
        }
        var_i = tau * sum;
    } else {
        var_i = dt - 2.0 * tau * one_a + 0.5 * tau * one_a2;
    }
    const double var_e = one_a2 / (2.0 * tau), cov = 0.5 * one_a * one_a;
    c->a = a;
    c->i_eta = tau * one_a / sqrt(dt);
    c->i_z1 = sqrt(var_i / dt);
    c->e_z1 = cov / sqrt(var_i);
    c->e_z2 = sqrt(fmax(0.0, var_e - cov * cov / var_i));
    c->stationary_sd = sqrt(0.5 / tau);
}

/* Builds the plan: for each group of target units, the contiguous span of
 * source units covering all groups it couples to (zeros inside the span cost
 * flops but not correctness); neighbouring target groups with the same span
 * share one product. For an all-to-all model this is a single n x n product;
 * for the PRL architecture (visible-hidden, hidden-hidden) two products with
 * exactly the nonzero blocks. */
static void plan_blocks(const th_model *m, struct block_plan *plan)
{
    plan->n_blocks = 0;
    for (size_t g = 0; g < m->n_groups; g++) {
        size_t k0 = m->n, k1 = 0;
        for (size_t h = 0; h < m->n_groups; h++) {
            if (!m->couples[g][h]) continue;
            if (m->group_start[h] < k0) k0 = m->group_start[h];
            if (m->group_start[h + 1] > k1) k1 = m->group_start[h + 1];
        }
        if (k1 == 0) continue; /* uncoupled group: its force columns stay 0 */
        struct gemm_block *last = plan->n_blocks ? &plan->blocks[plan->n_blocks - 1] : NULL;
        if (last && last->c1 == m->group_start[g] && last->k0 == k0 && last->k1 == k1) {
            last->c1 = m->group_start[g + 1];
            continue;
        }
        plan->blocks[plan->n_blocks++] =
            (struct gemm_block){m->group_start[g], m->group_start[g + 1], k0, k1};
    }
}

static int drive_pair(const th_run *r, double t, double *a_now, double *a_next)
{
    if (!r->drive) {
        *a_now = *a_next = 0;
        return TH_OK;
    }
    *a_now = r->drive->amplitude(t, r->drive->ctx);
    *a_next = r->drive->amplitude(t + r->dt, r->drive->ctx);
    if (!isfinite(*a_now) || !isfinite(*a_next))
        return th__fail(TH_EINVAL, "drive amplitude at t = %g is %g: expected a finite value",
                        isfinite(*a_now) ? t + r->dt : t,
                        isfinite(*a_now) ? *a_next : *a_now);
    return TH_OK;
}

/* After each step: divergence, snapshots, progress. */
static int after_step(th_batch *s, const th_run *r, struct run_setup *su, size_t done)
{
    for (size_t k = 0; k < s->b; k++) {
        if (su->row_ok[k]) continue;
        size_t bad = 0;
        double v = 0;
        for (size_t i = 0; i < s->n; i++) {
            v = th_ptr_get(s->work_next, s->dtype, k * s->n + i);
            if (!(fabs(v) <= su->blowup)) {
                bad = i;
                break;
            }
        }
        return th__fail(TH_EDIVERGED,
                        "simulation diverged at step %llu (t = %g): trajectory %zu, unit %zu "
                        "reached x = %g, beyond the bound %g; the time step dt = %g is probably "
                        "too large for the wells (mu dt times the curvature 2 J2 + 12 J4 x^2 "
                        "must stay well below 1)",
                        (unsigned long long)s->step, s->t, k, bad, v, su->blowup, r->dt);
    }
    size_t es = th_dtype_size(s->dtype);
    while (su->next_snap < r->n_snaps && r->snap_steps[su->next_snap] == done) {
        memcpy((char *)r->snap_out.v + su->next_snap * s->b * s->n * es, s->x.v,
               s->b * s->n * es);
        su->next_snap++;
    }
    if (r->progress && (done % su->progress_every == 0 || done == r->n_steps) &&
        r->progress(done, r->n_steps, r->progress_ctx))
        return th__fail(TH_ECANCELED, "run canceled by its progress callback after %zu of %zu "
                        "steps", done, r->n_steps);
    return TH_OK;
}

/* One step's shared inputs for its panels (th__langevin_step_panel_*). The
 * drive amplitudes stay double here and are rounded to the batch's type in
 * the panel, as the step always rounded them. */
struct th__step_panel_ctx {
    const th_model *m;
    th_batch *s;
    struct run_setup *su;
    double a_now, a_next;
    uint64_t step;
};

/* The heat terms' share of a thread's step workspace, rounded up to 16
 * elements so that the packing space after it keeps the allocation's
 * 64-byte alignment. */
static inline size_t step_terms(size_t n) { return (n + 15) & ~(size_t)15; }

/* Small models draw their noise several steps ahead. The Philox blocks of
 * consecutive steps follow each other in a trajectory's stream (block
 * step * ceil(n/4)), so one fill of S steps gives the same numbers, bit for
 * bit, as S fills of one, and the fill runs several times faster on a few
 * hundred numbers than on the 32 of a small network's step. */
#define NOISE_AHEAD_VALUES 512

/* Trajectory k's float32 normals for `step`, from its fill, refilled with
 * the steps from `step` on (at most to the run's end) when it holds
 * others. */
static const float *noise_ahead(const th_batch *s, const struct run_setup *su, size_t k,
                                uint64_t step)
{
    const size_t stride = 4 * (size_t)su->blocks_per_step, S = su->noise_steps;
    float *z = su->noise32 + k * S * stride;
    uint64_t first = su->noise_first[k];
    if (first == UINT64_MAX || step < first || step - first >= S) {
        const uint64_t left = su->end_step - step;
        const size_t steps = left < S ? (size_t)left : S;
        th_normal_fill_f32(s->seed, s->stream[k], step * su->blocks_per_step, z,
                           steps * stride);
        su->noise_first[k] = first = step;
    }
    return z + (step - first) * stride;
}

/* Trajectory k's noise for step `step`: n standard normals from block
 * step * ceil(n/4) of its stream (rng.c), in the batch's precision, or drawn
 * in float32 and widened (th_run.noise). */
static inline void noise_row_f32(const th_batch *s, const struct run_setup *su, size_t k,
                                 uint64_t step, float *out)
{
    if (su->noise32)
        memcpy(out, noise_ahead(s, su, k, step), s->n * sizeof *out);
    else
        th_normal_fill_f32(s->seed, s->stream[k], step * su->blocks_per_step, out, s->n);
}

static inline void noise_row_f64(const th_batch *s, const struct run_setup *su, size_t k,
                                 uint64_t step, double *out)
{
    if (!su->noise32) {
        th_normal_fill_f64(s->seed, s->stream[k], step * su->blocks_per_step, out, s->n);
        return;
    }
    const float *z = noise_ahead(s, su, k, step);
    for (size_t i = 0; i < s->n; i++) out[i] = (double)z[i];
}

#define REAL float
#define FN(name) name##_f32
#define GEMM_PACKED th__gemm_packed_f32
#define GEMM_PACKED_SERIAL th__gemm_packed_serial_f32
#define PACK th__pack_f32
#define NOISE_ROW noise_row_f32
#define NORMAL_FILL th_normal_fill_f32
#define MEMBER f32
#include "langevin_kernel.inc"
#undef REAL
#undef FN
#undef GEMM_PACKED
#undef GEMM_PACKED_SERIAL
#undef PACK
#undef NOISE_ROW
#undef NORMAL_FILL
#undef MEMBER

#define REAL double
#define FN(name) name##_f64
#define GEMM_PACKED th__gemm_packed_f64
#define GEMM_PACKED_SERIAL th__gemm_packed_serial_f64
#define PACK th__pack_f64
#define NOISE_ROW noise_row_f64
#define NORMAL_FILL th_normal_fill_f64
#define MEMBER f64
#include "langevin_kernel.inc"
#undef REAL
#undef FN
#undef GEMM_PACKED
#undef GEMM_PACKED_SERIAL
#undef PACK
#undef NOISE_ROW
#undef NORMAL_FILL
#undef MEMBER

struct th__force_plan {
    const th_model *m;
    struct block_plan plan;
    th__packed packed[TH_MAX_GROUPS];
};

th__force_plan *th__force_plan_alloc(const th_model *m)
{
    th__force_plan *fp = calloc(1, sizeof *fp);
    if (!fp) {
        th__fail(TH_ENOMEM, "out of memory for a force plan");
        return NULL;
    }
    fp->m = m;
    plan_blocks(m, &fp->plan);
    int rc = m->dtype == TH_F32 ? pack_couplings_f32(&fp->plan, m->n, m->J.f32, fp->packed)
                                : pack_couplings_f64(&fp->plan, m->n, m->J.f64, fp->packed);
    if (rc != TH_OK) {
        th__force_plan_free(fp);
        return NULL;
    }
    return fp;
}

void th__force_plan_free(th__force_plan *fp)
{
    if (!fp) return;
    for (size_t p = 0; p < TH_MAX_GROUPS; p++) th__packed_free(&fp->packed[p]);
    free(fp);
}

void th__coupling_force(const th__force_plan *fp, size_t M, th_ptr X, th_ptr F)
{
    const th_model *m = fp->m;
    /* Each block's product writes its own columns (beta = 0; the blocks'
     * columns are disjoint and in order), so only the columns of groups
     * coupled to nothing are set to zero here: a memset of the whole of F
     * was a serial pass over 1.3 MB for every block of a training path. */
    const size_t n = m->n, es = th_dtype_size(m->dtype);
    for (size_t p = 0, c = 0; p <= fp->plan.n_blocks; p++) {
        const size_t c_end = p < fp->plan.n_blocks ? fp->plan.blocks[p].c0 : n;
        for (size_t row = 0; c < c_end && row < M; row++)
            memset((char *)F.v + (row * n + c) * es, 0, (c_end - c) * es);
        if (p < fp->plan.n_blocks) c = fp->plan.blocks[p].c1;
    }
    if (m->dtype == TH_F32)
        coupling_force_f32(&fp->plan, fp->packed, M, m->n, X.f32, F.f32);
    else
        coupling_force_f64(&fp->plan, fp->packed, M, m->n, X.f64, F.f64);
}

th_run th_run_default(void)
{
    th_run r;
    memset(&r, 0, sizeof r);
    r.n_steps = 1000;
    r.dt = 1e-3;
    r.kernel = TH_KERNEL_FAST;
    r.blowup = 1e6;
    return r;
}

th_batch *th_batch_alloc(const th_model *m, size_t b, uint64_t seed)
{
    TH_ASSERT(m != NULL);
    if (b == 0) {
        th__fail(TH_EINVAL, "batch of 0 trajectories: expected at least 1");
        return NULL;
    }
    if (b > ((size_t)1 << 40) / m->n) {
        th__fail(TH_EINVAL, "batch of %zu trajectories of %zu units is too large", b, m->n);
        return NULL;
    }
    th_batch *s = calloc(1, sizeof *s);
    if (!s) {
        th__fail(TH_ENOMEM, "out of memory allocating a batch");
        return NULL;
    }
    s->dtype = m->dtype;
    s->n = m->n;
    s->b = b;
    s->seed = seed;
    size_t es = th_dtype_size(m->dtype);
    s->x.v = th__calloc(b * m->n, es);
    s->work_force.v = th__calloc(b * m->n, es);
    s->work_next.v = th__calloc(b * m->n, es);
    s->heat = th__calloc(b, sizeof(double));
    s->work = th__calloc(b, sizeof(double));
    s->stream = th__calloc(b, sizeof(uint64_t));
    if (!s->x.v || !s->work_force.v || !s->work_next.v || !s->heat || !s->work || !s->stream) {
        th__fail(TH_ENOMEM, "out of memory allocating %zu trajectories of %zu units", b, m->n);
        th_batch_free(s);
        return NULL;
    }
    for (size_t k = 0; k < b; k++) s->stream[k] = k;
    return s;
}

void th_batch_free(th_batch *s)
{
    if (!s) return;
    th__free(s->x.v);
    th__free(s->work_force.v);
    th__free(s->work_next.v);
    th__free(s->heat);
    th__free(s->work);
    th__free(s->stream);
    th__free(s->eta.v);
    free(s);
}

size_t th_batch_size(const th_batch *s) { return s->b; }
size_t th_batch_units(const th_batch *s) { return s->n; }
th_dtype th_batch_dtype(const th_batch *s) { return s->dtype; }
th_ptr th_batch_states(th_batch *s) { return s->x; }
const double *th_batch_heat(const th_batch *s) { return s->heat; }
const double *th_batch_work(const th_batch *s) { return s->work; }
uint64_t th_batch_seed(const th_batch *s) { return s->seed; }
uint64_t th_batch_step(const th_batch *s) { return s->step; }
double th_batch_time(const th_batch *s) { return s->t; }

uint64_t th_batch_stream(const th_batch *s, size_t k)
{
    TH_ASSERT(s != NULL && k < s->b);
    return s->stream[k];
}

void th_batch_set_stream(th_batch *s, size_t k, uint64_t stream)
{
    TH_ASSERT(s != NULL && k < s->b);
    s->stream[k] = stream;
}

void th_batch_reset(th_batch *s)
{
    TH_ASSERT(s != NULL);
    memset(s->x.v, 0, s->b * s->n * th_dtype_size(s->dtype));
    memset(s->heat, 0, s->b * sizeof(double));
    memset(s->work, 0, s->b * sizeof(double));
    s->step = 0;
    s->t = 0;
    s->eta_tau = 0;
}

static void setup_free(struct run_setup *su)
{
    th__free(su->mudt.v);
    th__free(su->sigma.v);
    th__free(su->zeros.v);
    th__free(su->row_ok);
    th__free(su->panel_r0);
    th__free(su->panel_len);
    th__free(su->start_energy);
    th__free(su->run_work);
    for (size_t p = 0; p < TH_MAX_GROUPS; p++) th__packed_free(&su->packed[p]);
    th__free(su->step_work.v);
    th__free(su->noise32);
    th__free(su->noise_first);
    th__free(su->ou_z.v);
}

/* Float32 noise drawn ahead: for float64 batches with TH_NOISE_F32, and for
 * float32 batches whose steps are too short for the fill to run at speed. */
static int prepare_noise(const th_model *m, const th_batch *s, const th_run *r,
                         struct run_setup *su)
{
    const size_t stride = 4 * (size_t)su->blocks_per_step;
    const size_t S = stride < NOISE_AHEAD_VALUES ? NOISE_AHEAD_VALUES / stride : 1;
    const int f32 = m->dtype == TH_F32 || r->noise == TH_NOISE_F32;
    if (!f32 || (m->dtype == TH_F32 && S < 2)) return TH_OK;
    su->noise_steps = S;
    su->end_step = s->step + r->n_steps;
    su->noise32 = th__alloc(s->b * S * stride * sizeof(float));
    su->noise_first = th__alloc(s->b * sizeof(uint64_t));
    if (!su->noise32 || !su->noise_first)
        return th__fail(TH_ENOMEM, "out of memory for the noise of %zu trajectories", s->b);
    for (size_t k = 0; k < s->b; k++) su->noise_first[k] = UINT64_MAX;
    return TH_OK;
}

/* The fused step's panels and each thread's workspace. */
static int prepare_fused_step(const th_model *m, size_t b, struct run_setup *su)
{
    const int f64 = m->dtype == TH_F64;
    su->panel_rows = th__gemm_rows_per_tile(f64);
    if (su->panel_rows > b) su->panel_rows = b;
    /* The batch in equal parts, one a thread, each cut into panels of
     * panel_rows and one shorter panel for its remainder; the full panels
     * are handed out first and the short ones last, so that threads taking
     * panels as they free up end a step together (256 rows on 2 threads:
     * 20 panels of 12, then 2 of 8, where 21 of 12 and 1 of 4 left one
     * thread most of a panel behind every step). Which thread computes a
     * row does not change its bits (backend.h). */
    const size_t mr = su->panel_rows, T = (size_t)omp_get_max_threads();
    const size_t parts = T < (b + mr - 1) / mr ? T : (b + mr - 1) / mr;
    su->n_panels = 0;
    for (size_t q = 0; q < parts; q++) {
        const size_t len = b * (q + 1) / parts - b * q / parts;
        su->n_panels += (len + mr - 1) / mr;
    }
    su->panel_r0 = th__alloc(su->n_panels * sizeof(size_t));
    su->panel_len = th__alloc(su->n_panels * sizeof(size_t));
    if (!su->panel_r0 || !su->panel_len) return th__fail(TH_ENOMEM, "out of memory preparing a run");
    size_t full = 0, tails = 0, n_full = 0;
    for (size_t q = 0; q < parts; q++) {
        const size_t len = b * (q + 1) / parts - b * q / parts;
        n_full += len / mr;
    }
    for (size_t q = 0; q < parts; q++) {
        const size_t begin = b * q / parts, len = b * (q + 1) / parts - begin;
        for (size_t j = 0; j < len; j += mr) {
            const size_t at = len - j >= mr ? full++ : n_full + tails++;
            su->panel_r0[at] = begin + j;
            su->panel_len[at] = len - j >= mr ? mr : len - j;
        }
    }
    size_t per = 1;
    for (size_t p = 0; p < su->plan.n_blocks; p++) {
        size_t w = f64 ? th__gemm_packed_work_f64(&su->packed[p], su->panel_rows)
                       : th__gemm_packed_work_f32(&su->packed[p], su->panel_rows);
        if (w > per) per = w;
    }
    su->step_work_per_thread = step_terms(m->n) + per;
    su->step_work.v = th__alloc((size_t)omp_get_max_threads() * su->step_work_per_thread *
                                th_dtype_size(m->dtype));
    return su->step_work.v ? TH_OK : th__fail(TH_ENOMEM, "out of memory preparing a run");
}

/* The coloured noise's coefficients and second normals, and each
 * trajectory's eta drawn from its stationary law N(0, 1 / (2 tau_c)) unless
 * the batch carries one for this tau_c from an earlier run. */
static int prepare_coloured_noise(th_batch *s, double tau, double dt, struct run_setup *su)
{
    const size_t bn = s->b * s->n, es = th_dtype_size(s->dtype);
    ou_coefficients(tau, dt, &su->ou);
    su->ou_z.v = th__alloc(bn * es);
    if (!s->eta.v) s->eta.v = th__alloc(bn * es);
    if (!su->ou_z.v || !s->eta.v) return th__fail(TH_ENOMEM, "out of memory for coloured noise");
    if (s->eta_tau == tau) return TH_OK;
    const uint64_t block = TH__OU_START_BLOCK + s->step * su->blocks_per_step;
    for (size_t k = 0; k < s->b; k++) {
        const size_t at = k * s->n;
        if (s->dtype == TH_F32)
            th_normal_fill_f32(s->seed, s->stream[k], block, s->eta.f32 + at, s->n);
        else
            th_normal_fill_f64(s->seed, s->stream[k], block, s->eta.f64 + at, s->n);
    }
    for (size_t i = 0; i < bn; i++)
        th_ptr_set(s->eta, s->dtype, i, su->ou.stationary_sd * th_ptr_get(s->eta, s->dtype, i));
    s->eta_tau = tau;
    return TH_OK;
}

static int check_run(const th_model *m, const th_batch *s, const th_run *r, int check_model)
{
    if (s->n != m->n)
        return th__fail(TH_EINVAL, "batch has %zu units per trajectory but the model has %zu",
                        s->n, m->n);
    if (s->dtype != m->dtype)
        return th__fail(TH_EINVAL, "batch and model differ in precision");
    if (!(r->dt > 0) || !isfinite(r->dt))
        return th__fail(TH_EINVAL, "dt = %g: expected a finite time step > 0", r->dt);
    if (!(r->blowup > 0))
        return th__fail(TH_EINVAL, "blowup = %g: expected a bound > 0", r->blowup);
    if (r->kernel != TH_KERNEL_FAST && r->kernel != TH_KERNEL_REFERENCE)
        return th__fail(TH_EINVAL, "kernel %d: expected TH_KERNEL_FAST or TH_KERNEL_REFERENCE",
                        (int)r->kernel);
    if (r->noise != TH_NOISE_NATIVE && r->noise != TH_NOISE_F32)
        return th__fail(TH_EINVAL, "noise %d: expected TH_NOISE_NATIVE or TH_NOISE_F32",
                        (int)r->noise);
    const int prec = th__precision_check(r->precision, m->dtype == TH_F64,
                                         r->kernel == TH_KERNEL_REFERENCE);
    if (prec != TH_OK) return prec;
    if (r->drive && (!r->drive->amplitude || !r->drive->field.v))
        return th__fail(TH_EINVAL, "drive without an amplitude function or a field");
    if (r->n_snaps && (!r->snap_steps || !r->snap_out.v))
        return th__fail(TH_EINVAL, "%zu snapshots requested without snap_steps or snap_out",
                        r->n_snaps);
    for (size_t j = 0; j < r->n_snaps; j++) {
        if (r->snap_steps[j] > r->n_steps)
            return th__fail(TH_EINVAL, "snapshot %zu at step %zu: the run has %zu steps", j,
                            r->snap_steps[j], r->n_steps);
        if (j && r->snap_steps[j] <= r->snap_steps[j - 1])
            return th__fail(TH_EINVAL, "snapshot steps must ascend: %zu follows %zu",
                            r->snap_steps[j], r->snap_steps[j - 1]);
    }
    if (r->bath) {
        const th_device_bath *d = r->bath;
        if (!isfinite(d->kT_offset) || !(d->kT_offset > -1.0) || !isfinite(d->kT_drift))
            return th__fail(TH_EINVAL, "device bath: kT offset %g, drift %g: expected finite "
                            "values, offset > -1", d->kT_offset, d->kT_drift);
        if (!(d->tau_c >= 0) || !isfinite(d->tau_c) || (d->tau_c > 0 && !isfinite(1 / d->tau_c)))
            return th__fail(TH_EINVAL, "device bath: tau_c = %g: expected 0 (white noise) or a "
                            "finite correlation time > 0", d->tau_c);
        for (size_t i = 0; d->mu_scale && i < m->n; i++)
            if (!(d->mu_scale[i] > 0) || !isfinite(d->mu_scale[i]))
                return th__fail(TH_EINVAL, "device bath: mu_scale[%zu] = %g: expected a finite "
                                "value > 0", i, d->mu_scale[i]);
    }
    if (r->drive) {
        size_t nf = r->drive->per_trajectory ? s->b * s->n : s->n;
        for (size_t i = 0; i < nf; i++)
            if (!isfinite(th_ptr_get(r->drive->field, m->dtype, i)))
                return th__fail(TH_EINVAL, "drive field[%zu] = %g: expected a finite value", i,
                                th_ptr_get(r->drive->field, m->dtype, i));
    }
    return check_model ? th_model_validate(m) : TH_OK;
}

static int langevin_run(const th_model *m, th_batch *s, const th_run *r, int check_model,
                        int ledger)
{
    TH_ASSERT(m != NULL && s != NULL && r != NULL);
    int rc = check_run(m, s, r, check_model);
    if (rc != TH_OK) return rc;

    const size_t n = m->n;
    const size_t es = th_dtype_size(m->dtype);
    struct run_setup su;
    memset(&su, 0, sizeof su);
    plan_blocks(m, &su.plan);
    su.blocks_per_step = (n + 3) / 4;
    su.blowup = r->blowup;
    su.cubic = th_model_has_cubic(m);
    su.ledger = ledger || r->kernel != TH_KERNEL_FAST;
    su.progress_every = r->progress_every ? r->progress_every
                                          : (r->n_steps >= 100 ? r->n_steps / 100 : 1);
    su.mudt.v = th__alloc(n * es);
    su.sigma.v = th__alloc(n * es);
    su.row_ok = th__calloc(s->b, sizeof(int));
    su.start_energy = th__calloc(s->b, sizeof(double));
    su.run_work = th__calloc(s->b, sizeof(double));
    if (r->drive) {
        su.field = r->drive->field;
        su.field_per_trajectory = r->drive->per_trajectory;
    } else {
        su.zeros.v = th__calloc(n, es);
        su.field = su.zeros;
    }
    if (!su.mudt.v || !su.sigma.v || !su.row_ok || !su.start_energy || !su.run_work ||
        !su.field.v ||
        prepare_noise(m, s, r, &su) != TH_OK) {
        setup_free(&su);
        return th__fail(TH_ENOMEM, "out of memory preparing a run");
    }
    su.drift = r->bath && r->bath->kT_drift != 0.0;
    su.coloured = r->bath && r->bath->tau_c > 0.0;
    if ((rc = set_noise_scales(m, r, &su, s->t)) != TH_OK ||
        (su.coloured && (rc = prepare_coloured_noise(s, r->bath->tau_c, r->dt, &su)) != TH_OK)) {
        setup_free(&su);
        return rc;
    }
    while (su.next_snap < r->n_snaps && r->snap_steps[su.next_snap] == 0) {
        memcpy((char *)r->snap_out.v + su.next_snap * s->b * n * es, s->x.v, s->b * n * es);
        su.next_snap++;
    }

    if (r->kernel == TH_KERNEL_FAST)
        rc = m->dtype == TH_F32 ? pack_couplings_f32(&su.plan, n, m->J.f32, su.packed)
                                : pack_couplings_f64(&su.plan, n, m->J.f64, su.packed);
    /* --precision bf16: the same step on couplings in bfloat16 (gemm_bf16.c) */
    for (size_t p = 0; rc == TH_OK && r->precision == TH_PRECISION_BF16 && p < su.plan.n_blocks;
         p++)
        rc = th__packed_use_bf16(&su.packed[p]);
    if (rc == TH_OK && r->kernel == TH_KERNEL_FAST) rc = prepare_fused_step(m, s->b, &su);
    if (rc != TH_OK)
        ;
    else if (m->dtype == TH_F32)
        rc = r->kernel == TH_KERNEL_FAST ? run_fast_f32(m, s, r, &su)
                                         : run_reference_f32(m, s, r, &su);
    else
        rc = r->kernel == TH_KERNEL_FAST ? run_fast_f64(m, s, r, &su)
                                         : run_reference_f64(m, s, r, &su);
    setup_free(&su);
    return rc;
}

int th_langevin_run(const th_model *m, th_batch *s, const th_run *r)
{
    return langevin_run(m, s, r, 1, 1);
}

int th__langevin_run_states(const th_model *m, th_batch *s, const th_run *r)
{
    return langevin_run(m, s, r, 0, 0);
}
